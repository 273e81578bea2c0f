//! The bodies of the fuzz targets (`fuzz/fuzz_targets/`), kept in the
//! library so that the test suite runs each over its seed corpus with the
//! stable toolchain (`tests/fuzz_corpus.rs`). Each takes any bytes and must
//! return, without panicking, in a time in proportion to their length.

use std::io::Write;
use std::sync::LazyLock;

use time::macros::datetime;

use crate::engine::evaluate::{ChunkedEvaluation, evaluate};
use crate::engine::source::replay_in_chunks;
use crate::facts::Facts;
use crate::facts::dns::{DnsFact, DnsIndex, DnsView, RecordKind};
use crate::facts::in_file::FactsInFile;
use crate::facts::srv::{Srv, followed_targets};
use crate::probe::dns::answer_of;
use crate::rules::{Profile, RuleSet, RuleSource, Scope, Selection, builtin_sources, load_rules};

/// A fuzz target: any bytes in, nothing out, no panic.
pub type Target = fn(&[u8]);

/// Every target, by the name of its directory under `fuzz/corpus/`.
pub const TARGETS: [(&str, Target); 9] = [
    ("snapshot", snapshot),
    ("rules", rules),
    ("facts", facts),
    ("certificate", certificate),
    ("legacy_tls", legacy_tls),
    ("sip_response", sip_response),
    ("dns_answer", dns_answer),
    ("sip_trace", sip_trace),
    ("zone", zone),
];

/// A planned zone (`--zone`) in any of its formats, read with and without
/// an origin given, then asked what the DNS rules ask. Its `$INCLUDE`s name
/// files of a directory that does not exist.
pub fn zone(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let path = std::path::Path::new("/nonexistent-fuzz-directory/fuzz.test.zone");
    for origin in [None, Some("fuzz.test")] {
        let Ok(zone) = crate::facts::zone::parse_zone(path, &text, origin) else { continue };
        let origin = zone.origin_name();
        let dns = crate::probe::zone::PlannedDns::new(vec![zone]);
        for (name, kind) in [
            (format!("_sipfederationtls._tcp.{origin}"), RecordKind::Srv),
            (format!("sip.{origin}"), RecordKind::A),
            (format!("lyncdiscover.{origin}"), RecordKind::Aaaa),
            (format!("no.such.{origin}"), RecordKind::A),
        ] {
            let _ = dns.answer(DnsView::External, &name, kind);
        }
    }
}

/// A SIP trace given to `fedscan diagnose`, diagnosed and reported.
pub fn sip_trace(data: &[u8]) {
    if let Ok(diagnosis) = crate::diagnose::diagnose(data, "fuzz.log", &["contoso.com".to_string()]) {
        let _ = crate::report::diagnosis::text(&diagnosis);
        let _ = crate::report::diagnosis::json(&diagnosis);
    }
}

/// A configuration snapshot, read as Format-List text and as JSON.
pub fn snapshot(data: &[u8]) {
    for name in ["fuzz.txt", "fuzz.json", "Get-CsAccessEdgeConfiguration.txt"] {
        let _ = crate::facts::snapshot::parse_snapshot_bytes(data, name);
    }
}

/// A rule file, loaded on its own (its references to built-in rules are then
/// errors, which the loader must report like any other).
pub fn rules(data: &[u8]) {
    let source = RuleSource { name: "fuzz.toml".into(), text: String::from_utf8_lossy(data).into_owned() };
    if let Err(problems) = load_rules(&[source]) {
        for problem in problems {
            let _ = problem.render(false);
        }
    }
}

static BUILT_IN: LazyLock<RuleSet> = LazyLock::new(|| load_rules(&builtin_sources()).expect("the built-in rules load"));

/// A facts file, read as a replay reads it (its handshakes and exchanges
/// left in the file) and compared with the document parsed whole; and when
/// it loads, every built-in rule judged over it, whole and in the chunks of
/// a batch's replay.
pub fn facts(data: &[u8]) {
    let Ok(mut file) = tempfile::NamedTempFile::new() else { return };
    if file.write_all(data).and_then(|()| file.flush()).is_err() {
        return;
    }
    let whole = Facts::load(file.path());
    let read = FactsInFile::load(file.path());
    let (facts, read) = match (whole, read) {
        (Ok(facts), Ok(read)) => (facts, read),
        (Err(whole), Err(read)) => return assert_eq!(whole, read),
        (whole, read) => {
            panic!("read whole: {whole:?}\nread leaving the probes in the file: {:?}", read.map(|r| r.facts))
        }
    };
    let lists = &read.lists;
    assert_eq!(Ok(&facts.dns), lists.answers(&lists.dns).as_ref());
    assert_eq!(Ok(&facts.tls), lists.handshakes(&lists.tls).as_ref());
    assert_eq!(Ok(&facts.sip), lists.exchanges(&lists.sip).as_ref());
    assert_eq!(Facts { dns: Vec::new(), tls: Vec::new(), sip: Vec::new(), ..facts.clone() }, read.facts);
    let now = datetime!(2026-06-01 0:00 UTC);
    let scope = Scope::new(Selection::default(), &Profile::ALL, now);
    let _ = evaluate(&BUILT_IN, &scope, &facts, now, None);
    // And as a batch's replay hands them out, two domains a chunk.
    let mut judged = ChunkedEvaluation::default();
    let replayed = replay_in_chunks(&BUILT_IN, &scope, read.facts, lists, 2, |part| {
        let _ = judged.evaluate(&BUILT_IN, &scope, &part, now, None);
    });
    assert!(replayed.is_ok(), "{replayed:?}");
    let _ = judged.scan_level();
}

/// A certificate file (PEM or DER), each certificate read and its chain
/// validated as the chain rule does.
pub fn certificate(data: &[u8]) {
    let Ok(chain) = crate::facts::certs::read_certificates(data, "fuzz.pem") else {
        let _ = crate::facts::x509::cert_info(data);
        return;
    };
    for der in &chain {
        let _ = crate::facts::x509::cert_info(der);
    }
    let _ = crate::facts::chain::validate(&chain, &[], datetime!(2026-06-01 0:00 UTC));
}

/// The bytes a server sends to the legacy ClientHello, fed as they come and
/// in small pieces.
pub fn legacy_tls(data: &[u8]) {
    for piece in [data.len().max(1), 7] {
        let mut reader = crate::probe::tls::legacy::Reader::default();
        let mut buffer = Vec::new();
        for chunk in data.chunks(piece) {
            buffer.extend_from_slice(chunk);
            let used = reader.feed(&buffer);
            buffer.drain(..used);
            if reader.done {
                break;
            }
        }
    }
}

/// A SIP response head.
pub fn sip_response(data: &[u8]) {
    let _ = crate::facts::sip::parse_response(data);
}

/// A DNS message, its answers made into facts as the probe makes them, and
/// read back as the rules and the plan read them.
pub fn dns_answer(data: &[u8]) {
    let Ok(message) = hickory_proto::op::Message::from_vec(data) else { return };
    let Some(question) = message.queries.first() else { return };
    let name = question.name().to_ascii().to_ascii_lowercase();
    let name = name.trim_end_matches('.').to_string();
    let facts: Vec<DnsFact> = [RecordKind::Srv, RecordKind::A, RecordKind::Aaaa]
        .into_iter()
        .map(|rtype| DnsFact {
            view: DnsView::External,
            name: name.clone(),
            rtype,
            resolver: "fuzz".into(),
            source: None,
            outcome: answer_of(&name, &message.answers),
        })
        .collect();
    let index = DnsIndex::new(&facts);
    let _ = index.host(DnsView::External, &name).all().count();
    let srvs: Vec<Srv> = facts[0].records().into_iter().filter_map(|r| Srv::from_data(&r.data)).collect();
    let _ = followed_targets(&srvs);
}

//! Every built-in rule has at least one fixture where it passes and one where
//! it fails (`fixtures/rule_cases.toml`), and each fixture gives the verdict
//! it states. A rule added to rules/ without both fails this test.

use std::collections::{BTreeMap, BTreeSet};

use std::sync::Arc;

use fedscan::engine::evaluate::evaluate;
use fedscan::engine::gather;
use fedscan::engine::plan::{self, NamedEdges, ScanPlan};
use fedscan::facts::snapshot::parse_snapshot_bytes;
use fedscan::facts::{Facts, Inputs};
use fedscan::findings::Status;
use fedscan::rules::{RuleSet, Scope, Selection, builtin_sources, load_rules};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    rule: String,
    /// pass, fail, error or skip.
    expect: String,
    /// What the case shows (shown when it fails).
    about: String,
    /// Snapshot text, JSON or Format-List (may be empty for DNS cases).
    #[serde(default)]
    snapshot: String,
    /// DNS as partners see it, one record per line: `name TYPE data`
    /// (`sip.contoso.com A 52.1.2.3`, `_sipfederationtls._tcp.contoso.com SRV
    /// 0 0 5061 sip.contoso.com`, `www.contoso.com CNAME web.contoso.com`), or
    /// `name TYPE SERVFAIL|REFUSED|TIMEOUT` for a question that fails. A case
    /// with `dns` is a live scan of `domains` (and `edges`).
    #[serde(default)]
    dns: Option<String>,
    /// The internal view, for split-brain cases.
    #[serde(default)]
    internal_dns: Option<String>,
    #[serde(default)]
    edges: Vec<String>,
    /// A certificate file (PEM), audited as with --cert-file.
    #[serde(default)]
    cert_file: Option<String>,
    /// Trust stores as with --trust (default: mozilla).
    #[serde(default)]
    trust: Vec<String>,
    /// TLS handshake facts (JSON list, as in a facts file); their chain is
    /// read from `tls_chain_from`.
    #[serde(default)]
    tls: Option<String>,
    #[serde(default)]
    tls_chain_from: Option<String>,
    /// SIP OPTIONS exchanges (JSON list, as in a facts file).
    #[serde(default)]
    sip: Option<String>,
    /// Partner domains whose path was probed (as with --partner in a live scan).
    #[serde(default)]
    probed_partners: Vec<String>,
    #[serde(default)]
    partners: Vec<String>,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    now: Option<String>,
}

fn rules() -> RuleSet {
    load_rules(&builtin_sources()).expect("built-in rules load")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/rule_cases.toml")).unwrap();
    toml::from_str::<Cases>(&text).unwrap_or_else(|e| panic!("fixtures/rule_cases.toml: {e}")).case
}

fn statuses(rules: &RuleSet, case: &Case) -> Vec<Status> {
    let rule = rules.get(&case.rule).unwrap_or_else(|| panic!("case for unknown rule {}", case.rule));
    let now = case.now.as_deref().map_or(OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_600), |t| {
        OffsetDateTime::parse(t, &Rfc3339).expect("RFC 3339 now")
    });
    let inputs = Inputs {
        domains: case.domains.clone(),
        partners: case.partners.clone(),
        config: vec!["case".into()],
        edges: case.edges.clone(),
        shard: None,
    };
    let mut facts = Facts::new(inputs, now);
    if !case.snapshot.trim().is_empty() {
        let snapshot = parse_snapshot_bytes(case.snapshot.as_bytes(), "case.json")
            .unwrap_or_else(|e| panic!("{} ({}): snapshot does not parse: {e}", case.rule, case.about));
        facts.snapshots.push(snapshot);
    }
    let fixture = |path: &str| format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let trust = if case.trust.is_empty() { vec!["mozilla".to_string()] } else { case.trust.clone() };
    facts.trust = trust
        .iter()
        .map(|t| if t == "mozilla" { t.clone() } else { fixture(t) })
        .map(|t| fedscan::facts::certs::load_trust(&t).unwrap_or_else(|e| panic!("{}: {e}", case.rule)))
        .collect();
    if let Some(path) = &case.cert_file {
        let mut file = fedscan::facts::certs::read_cert_file(std::path::Path::new(&fixture(path)))
            .unwrap_or_else(|e| panic!("{}: {e}", case.rule));
        file.path = path.clone();
        facts.cert_files.push(file);
    }
    if let Some(tls) = &case.tls {
        let mut handshakes: Vec<fedscan::facts::tls::TlsFact> =
            serde_json::from_str(tls).unwrap_or_else(|e| panic!("{} ({}): tls: {e}", case.rule, case.about));
        if let Some(path) = &case.tls_chain_from {
            let chain = fedscan::facts::certs::read_cert_file(std::path::Path::new(&fixture(path)))
                .unwrap_or_else(|e| panic!("{}: {e}", case.rule))
                .chain;
            for handshake in handshakes.iter_mut().filter(|h| h.chain.is_empty()) {
                handshake.chain = chain.clone();
            }
        }
        facts.tls = handshakes;
    }
    // As the scanner does: the targets always, and the DNS questions the
    // plan asks for this rule, answered from the case's zone. The facts were
    // recorded by a scan that probed `probed_partners`.
    let scope = Scope::new(Selection::new(&[rule.id.to_string()], &[], rules).unwrap(), &rule.profiles, now);
    let edges = NamedEdges { fqdns: case.edges.clone(), port: None };
    let mut plan = ScanPlan::new(rules, &scope, plan::targets(&facts, &edges), &[]);
    plan.targets.partners = case.probed_partners.clone();
    if let Some(zone) = &case.dns {
        let zones = Arc::new(zone::Zones {
            external: zone::Zone::parse(zone),
            internal: case.internal_dns.as_deref().map(zone::Zone::parse),
        });
        let internal = zones.internal.is_some();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        facts.dns = runtime.block_on(gather::dns(
            &plan,
            &zones,
            internal,
            &gather::Limits::concurrency(8),
            &gather::Stop::never(),
            &Default::default(),
        ));
    }
    facts.targets = plan.targets;
    if let Some(sip) = &case.sip {
        facts.sip = serde_json::from_str(sip).unwrap_or_else(|e| panic!("{} ({}): sip: {e}", case.rule, case.about));
    }
    evaluate(rules, &scope, &facts, now, None).iter().map(|f| f.status).collect()
}

/// Answers DNS questions from a case's zone text, as an authoritative
/// server would: records, CNAME chains, NXDOMAIN and NODATA, or the failure
/// the text asks for.
mod zone {
    use std::collections::BTreeMap;

    use fedscan::engine::gather::Resolve;
    use fedscan::engine::plan::Question;
    use fedscan::facts::dns::{DnsFact, DnsOutcome, DnsRecord, DnsView, RecordData, RecordKind};

    pub struct Zone(BTreeMap<(String, String), Vec<String>>);

    /// The case's DNS, as the scan's resolvers would answer it.
    pub struct Zones {
        pub external: Zone,
        pub internal: Option<Zone>,
    }

    impl Resolve for Zones {
        async fn query(&self, question: &Question) -> DnsFact {
            answer(question, &self.external, self.internal.as_ref())
        }

        fn resolver(&self, _view: DnsView) -> String {
            "case".into()
        }
    }

    impl Zone {
        pub fn parse(text: &str) -> Zone {
            let mut map: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
                let mut parts = line.splitn(3, char::is_whitespace);
                let name = parts.next().unwrap().trim_end_matches('.').to_ascii_lowercase();
                let rtype = parts.next().unwrap_or_else(|| panic!("no type: {line}")).to_ascii_uppercase();
                let data = parts.next().unwrap_or("").trim().to_string();
                map.entry((name, rtype)).or_default().push(data);
            }
            Zone(map)
        }

        fn get(&self, name: &str, rtype: &str) -> Option<&Vec<String>> {
            self.0.get(&(name.to_string(), rtype.to_string()))
        }

        fn exists(&self, name: &str) -> bool {
            self.0.keys().any(|(n, _)| n == name)
        }
    }

    fn record(name: &str, rtype: &str, data: &str) -> DnsRecord {
        let fields: Vec<&str> = data.split_whitespace().collect();
        let host = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
        let data = match rtype {
            "SRV" => RecordData::Srv {
                priority: fields[0].parse().unwrap(),
                weight: fields[1].parse().unwrap(),
                port: fields[2].parse().unwrap(),
                target: if fields[3] == "." { ".".into() } else { host(fields[3]) },
            },
            "A" => RecordData::A { address: data.parse().unwrap() },
            "AAAA" => RecordData::Aaaa { address: data.parse().unwrap() },
            "CNAME" => RecordData::Cname { target: host(data) },
            other => panic!("type {other} is not supported in case zones"),
        };
        DnsRecord { name: name.to_string(), ttl: 300, data, source: None }
    }

    fn answer((view, name, kind): &Question, external: &Zone, internal: Option<&Zone>) -> DnsFact {
        let zone = match view {
            DnsView::External => external,
            DnsView::Internal => internal.expect("internal zone"),
        };
        let rtype = kind.name();
        let outcome = (|| {
            let mut chain = Vec::new();
            let mut current = name.clone();
            for _ in 0..8 {
                if let Some(special) = zone
                    .get(&current, rtype)
                    .and_then(|d| d.first())
                    .filter(|d| d.chars().all(|c| c.is_ascii_uppercase()))
                {
                    return match special.as_str() {
                        "SERVFAIL" => DnsOutcome::ServerFailure,
                        "REFUSED" => DnsOutcome::Refused,
                        "TIMEOUT" => DnsOutcome::Timeout,
                        other => panic!("unknown outcome {other}"),
                    };
                }
                if let Some(data) = zone.get(&current, rtype) {
                    chain.extend(data.iter().map(|d| record(&current, rtype, d)));
                    return DnsOutcome::Answer { records: chain };
                }
                match (kind, zone.get(&current, "CNAME")) {
                    (RecordKind::A | RecordKind::Aaaa, Some(data)) => {
                        chain.push(record(&current, "CNAME", &data[0]));
                        current = data[0].trim_end_matches('.').to_ascii_lowercase();
                    }
                    _ if zone.exists(&current) => return DnsOutcome::NoData { negative_ttl: Some(300) },
                    _ => return DnsOutcome::NxDomain { negative_ttl: Some(300), ignored_answers: None },
                }
            }
            DnsOutcome::Failed { message: "CNAME chain too long".into() }
        })();
        DnsFact { view: *view, name: name.clone(), rtype: *kind, resolver: "case".into(), source: None, outcome }
    }
}

#[test]
fn every_case_gives_its_verdict() {
    let rules = rules();
    let mut wrong = Vec::new();
    for case in cases() {
        let got = statuses(&rules, &case);
        let ok = match case.expect.as_str() {
            "pass" => !got.is_empty() && got.iter().all(|s| *s == Status::Pass),
            "fail" => got.contains(&Status::Fail),
            "error" => got.contains(&Status::Error) && !got.contains(&Status::Fail),
            "skip" => !got.is_empty() && got.iter().all(|s| *s == Status::Skip),
            other => panic!("{}: expect must be pass, fail, error or skip, not {other}", case.rule),
        };
        if !ok {
            wrong.push(format!("{} ({}): expected {}, got {:?}", case.rule, case.about, case.expect, got));
        }
    }
    assert!(wrong.is_empty(), "cases with the wrong verdict:\n{}", wrong.join("\n"));
}

#[test]
fn every_rule_has_a_passing_and_a_failing_case() {
    let rules = rules();
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for case in cases() {
        seen.entry(case.rule.to_ascii_uppercase()).or_default().insert(case.expect.clone());
    }
    let missing: Vec<String> = rules
        .rules
        .iter()
        .filter_map(|rule| {
            let have = seen.get(&*rule.id).cloned().unwrap_or_default();
            let lacking: Vec<&str> = ["pass", "fail"].into_iter().filter(|s| !have.contains(*s)).collect();
            (!lacking.is_empty()).then(|| format!("{} lacks a {} case", rule.id, lacking.join(" and a ")))
        })
        .collect();
    assert!(missing.is_empty(), "fixtures/rule_cases.toml:\n{}", missing.join("\n"));
}

//! Hostile DNS servers: answers that carry what was not asked. Each scan
//! runs the real binary against a purpose-built responder on loopback and
//! must keep its verdicts, its time bound and its output inert.

use crate::common;
use crate::peers;
use std::time::{Duration, Instant};

use common::{assert_inert, fedscan, json_of, read_json, statuses};
use peers::dns::{Behaviour, Responder};
use peers::sip::{self, SipServer};
use peers::tls::{LeafSpec, Pki};

const TIMEOUT: u64 = 2;

/// Two rounds of DNS, then one endpoint's deadline (three timeouts), and
/// 10 % for the machine.
const SCAN_BOUND: Duration = Duration::from_millis(TIMEOUT * 1000 * (2 + 3) * 11 / 10);

/// An Access Edge that answers OPTIONS with 200 OK.
fn edge() -> SipServer {
    let pki = Pki::new("Contoso");
    let answer = b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    SipServer::start(&pki.leaf(&LeafSpec::default()), sip::Behaviour::Answer(answer))
}

struct Scan {
    report: serde_json::Value,
    facts: serde_json::Value,
    code: Option<i32>,
    stderr: String,
}

/// Scans contoso.com through `resolver` with the rules `only`, saving the
/// facts; asserts the time bound and an inert report.
fn scan(resolver: &str, only: &str) -> Scan {
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let started = Instant::now();
    let output = fedscan()
        .args(["scan", "contoso.com", "--format", "json", "--timeout", &TIMEOUT.to_string(), "--dns-attempts", "1"])
        .args(["--resolver", resolver, "--only", only, "--save-facts"])
        .arg(&facts)
        .output()
        .unwrap();
    assert!(started.elapsed() < SCAN_BOUND, "the scan took {:?} (bound {SCAN_BOUND:?})", started.elapsed());
    assert_inert("the JSON report", &String::from_utf8_lossy(&output.stdout));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_inert("stderr", &stderr);
    Scan { report: json_of(&output), facts: read_json(&facts), code: output.status.code(), stderr }
}

/// A response whose code is NXDOMAIN says the name does not exist, whatever
/// its answer section holds: the federation record fails as missing (never a
/// pass on the records beside it), and the facts say the message
/// contradicted itself.
#[test]
fn an_nxdomain_that_carries_an_answer_is_nxdomain() {
    let edge = edge();
    let dns = Responder::start(Behaviour::NxDomainWithAnswer { port: edge.addr.port() });
    let scan = scan(&dns.addr.to_string(), "DNS-FED-01");
    assert_eq!(statuses(&scan.report, "DNS-FED-01", "contoso.com"), ["fail"], "{:#}", scan.report);
    assert_eq!(scan.code, Some(1), "{}", scan.stderr);
    let srv = scan.facts["dns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "_sipfederationtls._tcp.contoso.com")
        .unwrap_or_else(|| panic!("{:#}", scan.facts));
    assert_eq!(srv["outcome"], "nx_domain", "{srv:#}");
    assert_eq!(srv["ignored_answers"], 1, "{srv:#}");
    let message = common::findings(&scan.report, "DNS-FED-01")[0]["message"].as_str().unwrap().to_string();
    assert!(message.contains("NXDOMAIN") && message.contains("contradicts itself"), "{message}");
}

/// Records of other names in an answer are not the name's: a stray AAAA does
/// not make the Edge dual-stacked (DNS-IPV6-01), a stray A is not one of its
/// addresses (no TLS endpoint is made of it), and a stray SRV record is not
/// the domain's federation record.
#[test]
fn records_of_names_not_asked_are_not_read_as_the_answer() {
    let edge = edge();
    let dns = Responder::start(Behaviour::ForeignRecords { port: edge.addr.port() });
    let Scan { report, facts, code, stderr } = scan(&dns.addr.to_string(), "DNS-IPV6-01,DNS-FED-05,TLS-CON-01");
    assert_eq!(statuses(&report, "DNS-IPV6-01", "contoso.com"), ["pass"], "{report:#}");
    assert_eq!(statuses(&report, "DNS-FED-05", "contoso.com"), ["pass"], "{report:#}");
    let probed: Vec<&str> = facts["tls"].as_array().unwrap().iter().map(|t| t["address"].as_str().unwrap()).collect();
    assert_eq!(probed, ["127.0.0.1"], "{:#}", facts["tls"]);
    for fact in facts["dns"].as_array().unwrap() {
        for record in fact["records"].as_array().into_iter().flatten() {
            assert_eq!(record["name"], fact["name"], "a record of another name was kept: {fact:#}");
        }
    }
    assert_eq!(code, Some(0), "{stderr}");
}

/// A record set longer than the scan follows is cut in the order partners
/// try it, not in the order the server lists it: the target partners try
/// first is followed and probed even when 39 others come before it, and the
/// cut is reported as an error (those targets were not checked), exit 3.
#[test]
fn a_capped_record_set_keeps_the_target_partners_try_first_and_says_what_it_cut() {
    let edge = edge();
    let dns = Responder::start(Behaviour::LowPriorityFirst { port: edge.addr.port() });
    let Scan { report, facts, code, stderr } = scan(&dns.addr.to_string(), "DNS-FED-05,TLS-CON-01");
    let resolves = statuses(&report, "DNS-FED-05", "contoso.com");
    assert_eq!(resolves.iter().filter(|s| *s == "pass").count(), 32, "{resolves:?} {report:#}");
    let cut: Vec<&serde_json::Value> =
        common::findings(&report, "DNS-FED-05").into_iter().filter(|f| f["status"] == "error").collect();
    assert_eq!(cut.len(), 1, "{report:#}");
    let message = cut[0]["message"].as_str().unwrap();
    assert!(message.contains("names 40 targets") && message.contains("did not check b"), "{message}");
    assert!(!message.contains("sip.contoso.com"), "the first target was followed: {message}");
    let asked = |name: &str| facts["dns"].as_array().unwrap().iter().any(|f| f["name"] == name);
    assert!(asked("sip.contoso.com"), "{:#}", facts["dns"]);
    let probed = facts["tls"].as_array().unwrap().iter().any(|t| t["host"] == "sip.contoso.com");
    assert!(probed, "{:#}", facts["tls"]);
    assert_eq!(code, Some(3), "{stderr}");
}

/// A target name that carries terminal escapes, a link, BEL, BS, DEL and a
/// line feed stays inert in the table (live and replayed), the JSON report
/// and stderr, wherever it is shown: the path view, the findings, the
/// resolver's error text.
#[test]
fn control_bytes_in_a_dns_name_stay_inert_everywhere() {
    let dns = Responder::start(Behaviour::HostileTarget);
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let base = ["scan", "contoso.com", "--timeout", "1", "--dns-attempts", "1", "--color", "never", "--skip", "TLS-*"];
    let started = Instant::now();
    let table = fedscan().args(base).args(["--resolver", &dns.addr.to_string(), "--save-facts"]).arg(&facts).output();
    let table = table.unwrap();
    assert!(started.elapsed() < Duration::from_secs(4) + Duration::from_millis(500));
    let table_text = String::from_utf8_lossy(&table.stdout);
    assert!(table_text.contains("DNS path for contoso.com"), "{table_text}");
    assert_inert("the table", &table_text);
    assert_inert("stderr", &String::from_utf8_lossy(&table.stderr));
    let json = fedscan().args(base).args(["--resolver", &dns.addr.to_string(), "--format", "json"]).output().unwrap();
    assert_inert("the JSON report", &String::from_utf8_lossy(&json.stdout));
    let replay = fedscan().args(["scan", "--color", "never", "--facts"]).arg(&facts).output().unwrap();
    assert_inert("the replayed table", &String::from_utf8_lossy(&replay.stdout));
    assert_inert("stderr", &String::from_utf8_lossy(&replay.stderr));
}

/// A name with a thousand addresses costs the scan sixteen probes, and the
/// rules say which addresses were not checked (an error, not a pass).
#[test]
fn a_thousand_addresses_for_one_name_are_capped_and_reported() {
    let mut body = String::from("_sipfederationtls._tcp 300 IN SRV 0 0 5061 sip.contoso.com.\n");
    for i in 0..1000 {
        body.push_str(&format!("sip 300 IN A 127.0.{}.{}\n", i / 250, i % 250 + 1));
    }
    let dns = peers::dns::DnsServer::start(&[("contoso.com", &peers::dns::zone("contoso.com", &body))]);
    let Scan { report, facts, code, stderr } = scan(&dns.resolver_arg(), "TLS-CON-01");
    let probed = facts["tls"].as_array().unwrap().len();
    assert_eq!(probed, 16, "one probe per address, sixteen addresses");
    let errors: Vec<&serde_json::Value> =
        common::findings(&report, "TLS-CON-01").into_iter().filter(|f| f["status"] == "error").collect();
    assert_eq!(errors.len(), 1, "{report:#}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("has 1000 addresses; the scan probes the first 16"), "{message}");
    assert_eq!(errors[0]["target"], "sip.contoso.com:5061");
    assert_eq!(code, Some(1), "nothing listens on the sixteen addresses probed: TLS-CON-01 fails; {stderr}");
}

/// Ctrl-C during a live scan stops it at once and keeps what was gathered:
/// with --save-facts the facts are saved, marked incomplete (the probes it
/// cancelled say so), and a replay of them says they are incomplete and
/// cannot exit 0.
#[test]
fn ctrl_c_during_a_scan_saves_what_was_gathered_marked_incomplete() {
    let dns = Responder::start(Behaviour::Silent);
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let (saved, _) = interrupt_a_scan(&dns, &["contoso.com"], "json", &[], &facts);
    let replay = fedscan().args(["scan", "--format", "json", "--facts"]).arg(&facts).output().unwrap();
    assert_eq!(replay.status.code(), Some(3), "{}", String::from_utf8_lossy(&replay.stderr));
    let report = json_of(&replay);
    let notes = report["notes"].as_array().unwrap();
    assert!(notes.iter().any(|n| n["message"].as_str().unwrap().contains("was interrupted")), "{notes:#?}");
    assert!(!saved["dns"].as_array().unwrap().is_empty());
}

/// Questions still waiting for a place when Ctrl-C comes (one place, three
/// domains) are in the saved facts as cancelled, not missing: each domain's
/// federation SRV question is there.
#[test]
fn ctrl_c_records_the_questions_that_never_had_a_place_as_cancelled() {
    let dns = Responder::start(Behaviour::Silent);
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let domains = ["contoso.com", "fabrikam.com", "tailspin.com"];
    let (saved, _) = interrupt_a_scan(&dns, &domains, "json", &["--concurrency", "1"], &facts);
    for domain in domains {
        let name = format!("_sipfederationtls._tcp.{domain}");
        let fact = saved["dns"].as_array().unwrap().iter().find(|f| f["name"] == name.as_str());
        let message = fact.and_then(|f| f["message"].as_str()).unwrap_or_default();
        assert!(message.contains("was cancelled"), "{name}: {:#}", saved["dns"]);
    }
}

/// A streamed batch (NDJSON) saves its facts chunk by chunk: Ctrl-C leaves
/// them saved, marked incomplete, and no spill file behind; its summary
/// record, the last line, says it was interrupted.
#[test]
fn ctrl_c_during_a_streamed_batch_saves_its_facts_marked_incomplete() {
    let dns = Responder::start(Behaviour::Silent);
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let (saved, stdout) = interrupt_a_scan(&dns, &["contoso.com", "fabrikam.com"], "ndjson", &[], &facts);
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["record"], "summary", "{stdout}");
    assert_eq!(summary["interrupted"], true, "{summary:#}");
    let domains = saved["targets"]["domains"].as_array().unwrap();
    assert_eq!(domains.len(), 2, "{saved:#}");
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["facts.json"]);
}

/// Starts a scan of `domains` against a silent resolver, sends it SIGINT
/// after 1.5 s, checks that it stopped at once with exit code 130 and saved
/// facts marked interrupted, with at least one cancelled probe; the facts
/// and what it wrote on standard output.
fn interrupt_a_scan(
    dns: &Responder,
    domains: &[&str],
    format: &str,
    extra: &[&str],
    facts: &std::path::Path,
) -> (serde_json::Value, String) {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_fedscan"))
        .arg("scan")
        .args(domains)
        .args(["--format", format, "--timeout", "20", "--dns-attempts", "1"])
        .args(["--resolver", &dns.addr.to_string(), "--skip", "TLS-*", "--save-facts"])
        .arg(facts)
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let interrupted = Instant::now();
    // SAFETY: kill(2) on the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
    let output = child.wait_with_output().unwrap();
    assert!(interrupted.elapsed() < Duration::from_secs(3), "stopping took {:?}", interrupted.elapsed());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted; the facts gathered so far were saved to"), "{stderr}");
    assert_inert("stderr", &stderr);
    let saved = read_json(facts);
    assert_eq!(saved["interrupted"], true);
    let cancelled = saved["dns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["message"].as_str().is_some_and(|m| m.contains("was cancelled")));
    assert!(cancelled.count() > 0, "{saved:#}");
    (saved, String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs a JSON scan with `args` through `resolver`; the report and exit code.
fn scan_args(resolver: &str, args: &[&str]) -> (serde_json::Value, Option<i32>, String) {
    let output = fedscan()
        .args(["scan", "--format", "json", "--timeout", &TIMEOUT.to_string(), "--dns-attempts", "1"])
        .args(["--resolver", resolver])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (json_of(&output), output.status.code(), stderr)
}

/// An Edge the user named is a target: when its name does not exist, the
/// connection rule fails on it with the DNS answer (never 62 skips and a
/// clean exit), and the other TLS rules say why they have nothing to judge.
#[test]
fn a_named_edge_that_does_not_resolve_fails_the_connection_rule() {
    let dns = peers::dns::DnsServer::start(&[("contoso.com", &peers::dns::zone("contoso.com", ""))]);
    let (report, code, stderr) = scan_args(&dns.resolver_arg(), &["--edge", "nosuch.contoso.com"]);
    let target = "nosuch.contoso.com:5061";
    assert_eq!(statuses(&report, "TLS-CON-01", target), ["fail"], "{report:#}");
    let message = common::findings(&report, "TLS-CON-01")[0]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("nosuch.contoso.com has no address (A NXDOMAIN") && message.contains("AAAA NXDOMAIN"),
        "{message}"
    );
    assert_eq!(statuses(&report, "TLS-MTLS-01", target), ["skip"]);
    assert_eq!(code, Some(1), "{stderr}");
}

/// When the named Edge's questions go unanswered, whether it can be reached
/// is unknown: the TLS, certificate and SIP rules are errors about it, and
/// a scan that judged nothing exits 3, never 0.
#[test]
fn a_named_edge_whose_dns_goes_unanswered_is_an_error_and_no_clean_exit() {
    let dns = Responder::start(Behaviour::Silent);
    let (report, code, stderr) = scan_args(&dns.addr.to_string(), &["--edge", "sip.contoso.com"]);
    let target = "sip.contoso.com:5061";
    for rule in ["TLS-CON-01", "TLS-MTLS-01", "TLS-NAME-01", "SIP-OPT-01"] {
        assert_eq!(statuses(&report, rule, target), ["error"], "{rule}: {:#}", common::findings(&report, rule)[0]);
    }
    assert_eq!(report["summary"]["by_status"]["pass"], 0);
    assert_eq!(report["summary"]["by_status"]["fail"], 0);
    assert_eq!(code, Some(3), "{stderr}");
}

/// A suppression accepts a known failure, not what was never seen: errors
/// under `DNS-*`, `TLS-*` and `SIP-*` entries still make the exit code 3,
/// and the report's notes say which entries covered them. An entry with
/// `accept_errors = true` accepts them.
#[test]
fn suppressions_do_not_accept_errors_unless_they_say_so() {
    let dns = Responder::start(Behaviour::Silent);
    let dir = tempfile::tempdir().unwrap();
    let entries = |extra: &str| {
        ["DNS-*", "TLS-*", "SIP-*"]
            .map(|rule| format!("[[ignore]]\nrule = \"{rule}\"\nreason = \"known outage\"\n{extra}\n"))
            .join("\n")
    };
    let plain = common::write(dir.path(), "plain.toml", &entries(""));
    let (report, code, stderr) =
        scan_args(&dns.addr.to_string(), &["contoso.com", "--ignore-file", plain.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{stderr}");
    assert_eq!(report["summary"]["suppressed"], 0, "{:#}", report["summary"]);
    let notes: Vec<&str> = report["notes"].as_array().unwrap().iter().filter_map(|n| n["message"].as_str()).collect();
    assert!(notes.iter().any(|n| n.contains("could not be checked (error): they still count")), "{notes:#?}");

    // Accepted, yet nothing passed or failed: still no clean bill.
    let accepting = common::write(dir.path(), "accepting.toml", &entries("accept_errors = true"));
    let (report, code, stderr) =
        scan_args(&dns.addr.to_string(), &["contoso.com", "--ignore-file", accepting.to_str().unwrap()]);
    assert!(report["summary"]["suppressed"].as_u64().unwrap() > 0, "{:#}", report["summary"]);
    assert_eq!(code, Some(3), "{stderr}");

    // With a snapshot, the configuration rules are judged (their failures
    // not counted under --fail-on none): the DNS, TLS and SIP errors decide.
    let snapshot = common::root("fixtures/sample/contoso-lync2013.txt");
    for (file, expected) in [(&plain, 3), (&accepting, 0)] {
        let (report, code, stderr) = scan_args(
            &dns.addr.to_string(),
            &["--config", snapshot.to_str().unwrap(), "--fail-on", "none", "--ignore-file", file.to_str().unwrap()],
        );
        assert_eq!(code, Some(expected), "{}: {:#}\n{stderr}", file.display(), report["summary"]);
    }
}

//! The SIP OPTIONS probe and its rules (SIP-OPT-01, SIP-OPT-03) against
//! purpose-built SIP-over-TLS responders on loopback: an answer with
//! ms-diagnostics, folded and compact headers, silence, an endless head and a
//! connection closed after the handshake. The scanner finds each responder
//! the way a partner does: the federation SRV record (served by an
//! in-process DNS server) points at sip.contoso.com on the responder's port,
//! and sip.contoso.com is 127.0.0.1. Every scan runs the real binary and
//! must end in a time bounded by its timeout, without panicking.

use crate::common;
use crate::peers;
use std::time::{Duration, Instant};

use common::{assert_inert, fedscan, findings, json_of, read_json};
use peers::dns::{DnsServer, federation_zone};
use peers::sip::{Behaviour, FloodEnd, SipServer};
use peers::tls::{LeafSpec, Pki};
use serde_json::Value;

/// The probe's timeout (`--timeout`), in seconds.
const TIMEOUT: u64 = 2;
/// How long a scan may take: two rounds of DNS questions, then one
/// endpoint's deadline (three timeouts for its TLS and SIP probes), each
/// bounded by the timeout, and 10 % for the machine.
const SCAN_BOUND: Duration = Duration::from_millis(TIMEOUT * 1000 * (2 + 3) * 11 / 10);
/// Killed after this, so a hang fails the test instead of stalling it.
const HARD_STOP: Duration = Duration::from_secs(60);
const TEN_MB: usize = 10 * 1024 * 1024;

struct Scan {
    report: Value,
    facts: Value,
    code: Option<i32>,
    elapsed: Duration,
}

/// Scans contoso.com (and any `partners`) with `pki`'s root as the trust
/// store; asserts the bounds every scan must keep.
fn scan(pki: &Pki, dns: &DnsServer, partners: &[&str]) -> Scan {
    scan_with(pki, dns, partners, &[])
}

/// [`scan`] with more arguments (`--sip-own-connection`).
fn scan_with(pki: &Pki, dns: &DnsServer, partners: &[&str], extra: &[&str]) -> Scan {
    let dir = tempfile::tempdir().unwrap();
    let root = pki.write_root(dir.path());
    let facts_path = dir.path().join("facts.json");
    let mut command = fedscan();
    command
        .args(["scan", "contoso.com", "--resolver", &dns.resolver_arg(), "--trust"])
        .arg(&root)
        .args(["--format", "json", "--timeout", &TIMEOUT.to_string(), "--dns-attempts", "1", "--save-facts"])
        .arg(&facts_path)
        .timeout(HARD_STOP);
    for partner in partners {
        command.args(["--partner", partner]);
    }
    command.args(extra);
    let started = Instant::now();
    let output = command.output().unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(elapsed < SCAN_BOUND, "the scan took {elapsed:?} (bound {SCAN_BOUND:?}); stderr: {stderr}");
    assert!(
        matches!(output.status.code(), Some(0 | 1 | 3)),
        "exit {:?} (101 is a panic); stderr: {stderr}",
        output.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_inert("the JSON report", &String::from_utf8_lossy(&output.stdout));
    assert_inert("stderr", &stderr);
    let table = fedscan().args(["scan", "--color", "never", "--facts"]).arg(&facts_path).output().unwrap();
    assert_inert("the table of the replayed facts", &String::from_utf8_lossy(&table.stdout));
    let facts = read_json(&facts_path);
    Scan { report: json_of(&output), facts, code: output.status.code(), elapsed }
}

/// Serves `behaviour` as contoso.com's Access Edge and scans contoso.com.
fn scan_responder(behaviour: Behaviour) -> (Scan, SipServer) {
    scan_server(|leaf| SipServer::start(leaf, behaviour))
}

/// Scans contoso.com with `start`'s server as its Access Edge.
fn scan_server(start: impl FnOnce(&peers::tls::Leaf) -> SipServer) -> (Scan, SipServer) {
    scan_server_with(start, &[])
}

fn scan_server_with(start: impl FnOnce(&peers::tls::Leaf) -> SipServer, extra: &[&str]) -> (Scan, SipServer) {
    let pki = Pki::new("Contoso");
    let server = start(&pki.leaf(&LeafSpec::default()));
    let port = server.addr.port();
    let dns = DnsServer::start(&[("contoso.com", &federation_zone("contoso.com", port))]);
    (scan_with(&pki, &dns, &[], extra), server)
}

/// OPTIONS on a connection of its own, as with a client certificate.
const OWN_CONNECTION: &[&str] = &["--sip-own-connection"];

/// The endpoint label the SIP rules use as target.
fn endpoint(server: &SipServer) -> String {
    format!("sip.contoso.com:{} (127.0.0.1)", server.addr.port())
}

/// The one finding of `rule` for `target`.
fn finding<'a>(report: &'a Value, rule: &str, target: &str) -> &'a Value {
    let all = findings(report, rule);
    let mine: Vec<&Value> = all.iter().copied().filter(|f| f["target"] == target).collect();
    assert_eq!(mine.len(), 1, "{rule} for {target}: {all:#?}");
    mine[0]
}

fn status_and_message(finding: &Value) -> (&str, &str) {
    (finding["status"].as_str().unwrap(), finding["message"].as_str().unwrap())
}

/// The SIP exchange recorded in the facts file for the responder's port.
fn sip_fact<'a>(facts: &'a Value, server: &SipServer) -> &'a Value {
    let port = server.addr.port();
    let exchanges: Vec<&Value> =
        facts["sip"].as_array().expect("a sip list in the facts").iter().filter(|s| s["port"] == port).collect();
    assert_eq!(exchanges.len(), 1, "{:#?}", facts["sip"]);
    exchanges[0]
}

/// The probe's request reached the responder, well formed.
fn assert_options_received(server: &SipServer) {
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("OPTIONS sip:contoso.com SIP/2.0\r\n") && r.contains("\r\nCSeq: 1 OPTIONS\r\n")),
        "{requests:#?}"
    );
}

#[test]
fn a_504_with_ms_diagnostics_proves_the_listener_is_alive() {
    let answer = b"SIP/2.0 504 Server time-out\r\n\
        Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKtest\r\n\
        CSeq: 1 OPTIONS\r\n\
        ms-diagnostics: 1009;reason=\"Conflicting SRV and host domains in DNS\";source=\"sip.contoso.com\"\r\n\
        ms-diagnostics: 1008;reason=\"Some reason this table does not know\";source=\"sip.contoso.com\"\r\n\
        Server: RTC/6.0\r\n\
        Content-Length: 0\r\n\r\n";
    let (scan, server) = scan_responder(Behaviour::Answer(answer.to_vec()));
    assert_options_received(&server);
    let found = finding(&scan.report, "SIP-OPT-01", &endpoint(&server));
    let (status, message) = status_and_message(found);
    assert_eq!(status, "pass", "{message}");
    assert!(message.starts_with("SIP/2.0 504 Server time-out from RTC/6.0"), "{message}");
    assert!(message.contains("ms-diagnostics: 1009"), "the code is named: {message}");
    assert!(message.contains("\"Conflicting SRV and host domains in DNS\""), "the reason is shown: {message}");
    assert!(message.contains("points at a host outside the domain"), "the code is explained: {message}");
    assert!(message.contains("see DNS-FED-04, DNS-FED-01"), "{message}");
    // A code sent with another reason than the documented one (real servers
    // word some codes their own way) keeps the server's words and is still
    // explained by its code.
    assert!(message.contains("1008 \"Some reason this table does not know\" (The Edge looked up"), "{message}");
    assert!(message.ends_with("see DNS-FED-01)"), "{message}");
    let diagnostics = &found["evidence"]["diagnostics"];
    assert_eq!(diagnostics[0]["code"], 1009, "{diagnostics}");
    assert_eq!(diagnostics[0]["parameters"]["source"], "sip.contoso.com", "{diagnostics}");
}

#[test]
fn folded_and_compact_headers_are_read() {
    let answer = b"SIP/2.0 200 OK\r\n\
        v: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKtest\r\n\
        i: {call-id}\r\n\
        k: ms-diagnostics,\r\n \
        ms-dialog-route-set-update\r\n\
        Allow: INVITE, OPTIONS\r\n\
        Allow: MESSAGE\r\n\
        Server: RTC/6.0\r\n\
        \tAccessEdge\r\n\
        l: 0\r\n\r\n";
    let (scan, server) = scan_responder(Behaviour::Answer(answer.to_vec()));
    assert_options_received(&server);
    let exchange = sip_fact(&scan.facts, &server);
    assert_eq!(exchange["outcome"], "response", "{exchange:#}");
    assert_eq!(exchange["domain"], "contoso.com");
    assert_eq!(exchange["host"], "sip.contoso.com");
    assert_eq!(exchange["response"]["status"], 200);
    assert_eq!(exchange["response"]["reason"], "OK");
    let headers: Vec<(String, String)> = serde_json::from_value(exchange["response"]["headers"].clone()).unwrap();
    let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    // The responder echoed the request's Call-ID, as `i:`.
    let requests = server.requests();
    let call_id = requests[0].lines().find_map(|l| l.strip_prefix("Call-ID: ")).unwrap();
    assert_eq!(
        pairs,
        [
            ("Via", "SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKtest"),
            ("Call-ID", call_id),
            ("Supported", "ms-diagnostics, ms-dialog-route-set-update"),
            ("Allow", "INVITE, OPTIONS"),
            ("Allow", "MESSAGE"),
            ("Server", "RTC/6.0 AccessEdge"),
            ("Content-Length", "0"),
        ],
        "compact names expanded, folded values joined, repeated headers kept"
    );
    let found = finding(&scan.report, "SIP-OPT-01", &endpoint(&server));
    let (status, message) = status_and_message(found);
    assert_eq!(status, "pass", "{message}");
    assert_eq!(message, "SIP/2.0 200 OK from RTC/6.0 AccessEdge");
    assert_eq!(found["evidence"]["supported"], "ms-diagnostics, ms-dialog-route-set-update");
    assert_eq!(found["evidence"]["allow"], "INVITE, OPTIONS, MESSAGE");
}

#[test]
fn silence_fails_as_no_response_within_the_timeout() {
    let (scan, server) = scan_responder(Behaviour::Silent);
    assert_options_received(&server);
    let (status, message) = status_and_message(finding(&scan.report, "SIP-OPT-01", &endpoint(&server)));
    assert_eq!(status, "fail", "{message}");
    assert_eq!(message, "no response within the timeout");
    assert_eq!(sip_fact(&scan.facts, &server)["outcome"], "timeout");
    assert!(scan.elapsed >= Duration::from_secs(TIMEOUT), "the probe waited for the timeout: {:?}", scan.elapsed);
}

#[test]
fn a_head_that_stops_halfway_fails_as_incomplete_within_the_timeout() {
    // A status line and one header, then nothing: the connection stays open.
    let partial = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1:5061\r\n".to_vec();
    let sent = partial.len();
    let (scan, server) = scan_responder(Behaviour::Answer(partial));
    assert_options_received(&server);
    let (status, message) = status_and_message(finding(&scan.report, "SIP-OPT-01", &endpoint(&server)));
    assert_eq!(status, "fail", "{message}");
    let exchange = sip_fact(&scan.facts, &server);
    assert_eq!(exchange["outcome"], "timeout", "{exchange:#}");
    // What came before the silence is kept: the Edge spoke, then stalled.
    assert_eq!(exchange["bytes"], sent, "{exchange:#}");
    assert_eq!(message, format!("no complete response within the timeout ({sent} bytes)"));
}

#[test]
fn ten_megabytes_of_headers_fail_as_not_sip_without_being_read() {
    let (scan, server) = scan_responder(Behaviour::Flood { total: TEN_MB });
    assert_options_received(&server);
    let (status, message) = status_and_message(finding(&scan.report, "SIP-OPT-01", &endpoint(&server)));
    assert_eq!(status, "fail", "{message}");
    assert_eq!(message, "not a SIP response: more than 64 KiB without the end of the headers");
    assert_eq!(sip_fact(&scan.facts, &server)["outcome"], "malformed");
    // The probe stopped at its bound and went away: the responder could not
    // write its 10 MB. With the responder's small send buffer, what it wrote
    // is what the probe read (at most 72 KiB) plus the socket buffers
    // (200-300 KiB on loopback); a probe that kept reading would take all.
    let ends = server.flood_ends(Duration::from_secs(5));
    match ends.as_slice() {
        [FloodEnd::ClientGone { sent }] => {
            assert!(*sent < 2 * 1024 * 1024, "the probe took in {sent} bytes of a 10 MB head");
            eprintln!("the flood stopped after {sent} bytes, {:?} into the scan", scan.elapsed);
        }
        other => panic!("the client should have gone away before 10 MB (sent {}): {other:?}", server.flood_sent()),
    }
    // Not read until the timeout either: the bound cut it short.
    assert!(scan.elapsed < SCAN_BOUND);
}

#[test]
fn a_connection_closed_after_the_handshake_fails_as_closed() {
    // OPTIONS on the TLS probe's connection meets the close as one of its own does.
    let (reused, server) = scan_responder(Behaviour::CloseAfterHandshake);
    let reused_sip = status_and_message(finding(&reused.report, "SIP-OPT-01", &endpoint(&server))).0.to_string();
    let (scan, server) =
        scan_server_with(|leaf| SipServer::start(leaf, Behaviour::CloseAfterHandshake), OWN_CONNECTION);
    assert!(server.handshakes() >= 2, "the TLS probe and the SIP probe both completed a handshake");
    assert_eq!(status_and_message(finding(&scan.report, "SIP-OPT-01", &endpoint(&server))).0, reused_sip);
    assert_eq!(findings(&scan.report, "TLS-CON-01").iter().filter(|f| f["status"] == "pass").count(), 1);
    let (status, message) = status_and_message(finding(&scan.report, "SIP-OPT-01", &endpoint(&server)));
    assert_eq!(status, "fail", "{message}");
    assert_eq!(message, "the connection closed without a response");
    let exchange = sip_fact(&scan.facts, &server);
    assert_eq!((exchange["outcome"].as_str(), exchange["bytes"].as_u64()), (Some("closed"), Some(0)), "{exchange:#}");
}

#[test]
fn a_partner_path_is_probed_but_its_edge_is_not_judged_as_ours() {
    let contoso = Pki::new("Contoso");
    let fabrikam = Pki::new("Fabrikam");
    let ok = b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    let ours = SipServer::start(&contoso.leaf(&LeafSpec::default()), Behaviour::Answer(ok.clone()));
    let partner_leaf = LeafSpec {
        common_name: "sip.fabrikam.com".into(),
        sans: vec!["sip.fabrikam.com".into()],
        ..Default::default()
    };
    let theirs = SipServer::start(&fabrikam.leaf(&partner_leaf), Behaviour::Answer(ok));
    let dns = DnsServer::start(&[
        ("contoso.com", &federation_zone("contoso.com", ours.addr.port())),
        ("fabrikam.com", &federation_zone("fabrikam.com", theirs.addr.port())),
    ]);
    let scan = scan(&contoso, &dns, &["fabrikam.com"]);
    let report = &scan.report;

    let (status, message) = status_and_message(finding(report, "SIP-OPT-03", "fabrikam.com"));
    assert_eq!(status, "pass", "{message}");
    let path = format!("0 0 {} sip.fabrikam.com → 127.0.0.1 → TLS", theirs.addr.port());
    assert!(message.starts_with(&path), "{message}");
    assert!(message.ends_with("; SIP: SIP/2.0 200 OK from RTC/6.0"), "{message}");
    assert!(
        theirs.requests().iter().any(|r| r.starts_with("OPTIONS sip:fabrikam.com SIP/2.0\r\n")
            && r.contains("\r\nFrom: <sip:fedscan@contoso.com>;")),
        "the partner was asked about its own domain, from ours: {:#?}",
        theirs.requests()
    );

    // Our Edge is judged; the partner's is not, by any TLS or SIP-OPT-01 rule.
    let ours_label = endpoint(&ours);
    assert_eq!(status_and_message(finding(report, "TLS-CON-01", &ours_label)).0, "pass");
    assert_eq!(status_and_message(finding(report, "SIP-OPT-01", &ours_label)).0, "pass");
    let theirs_label = format!("sip.fabrikam.com:{}", theirs.addr.port());
    let judged: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("TLS-") || r == "SIP-OPT-01"))
        .filter(|f| {
            f["target"].as_str().is_some_and(|t| t.contains("fabrikam"))
                || f["message"].as_str().is_some_and(|m| m.contains(&theirs_label))
        })
        .collect();
    assert!(judged.is_empty(), "the partner's Edge was judged as the organization's: {judged:#?}");
}

/// A scan that names only an Edge (no SIP domain) with a partner: the
/// partner's silent Edge is SIP-OPT-03's to report, never SIP-OPT-01's.
#[test]
fn a_partner_is_not_judged_as_ours_when_only_an_edge_is_named() {
    let contoso = Pki::new("Contoso");
    let ok = b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    let ours = SipServer::start(&contoso.leaf(&LeafSpec::default()), Behaviour::Answer(ok));
    let partner_leaf = LeafSpec {
        common_name: "sip.fabrikam.com".into(),
        sans: vec!["sip.fabrikam.com".into()],
        ..Default::default()
    };
    let theirs = SipServer::start(&Pki::new("Fabrikam").leaf(&partner_leaf), Behaviour::Silent);
    let dns = DnsServer::start(&[
        ("contoso.com", &federation_zone("contoso.com", ours.addr.port())),
        ("fabrikam.com", &federation_zone("fabrikam.com", theirs.addr.port())),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let root = contoso.write_root(dir.path());
    let started = Instant::now();
    let output = fedscan()
        .args(["scan", "--edge", &format!("sip.contoso.com:{}", ours.addr.port()), "--partner", "fabrikam.com"])
        .args(["--resolver", &dns.resolver_arg(), "--trust"])
        .arg(&root)
        .args(["--format", "json", "--timeout", &TIMEOUT.to_string(), "--dns-attempts", "1"])
        .timeout(HARD_STOP)
        .output()
        .unwrap();
    assert!(started.elapsed() < SCAN_BOUND);
    assert!(matches!(output.status.code(), Some(0 | 1 | 3)), "{:?}", output.status);
    let report = json_of(&output);
    let (status, message) = status_and_message(finding(&report, "SIP-OPT-03", "fabrikam.com"));
    assert_eq!(status, "fail", "the partner's silence is SIP-OPT-03's: {message}");
    let sip: Vec<(&str, &str)> = findings(&report, "SIP-OPT-01").iter().map(|f| status_and_message(f)).collect();
    let targets: Vec<&str> = findings(&report, "SIP-OPT-01").iter().map(|f| f["target"].as_str().unwrap()).collect();
    assert_eq!(targets, [endpoint(&ours)], "SIP-OPT-01 judges only our Edge: {sip:?}");
    assert_eq!(sip[0].0, "pass");
}

/// Header text from the network reaches the terminal without its control
/// characters: a Server header that would clear the screen and retitle the
/// window is shown inert, in the table and in the path line.
#[test]
fn a_hostile_server_header_is_escaped_in_the_table() {
    let pki = Pki::new("Contoso");
    let response = "SIP/2.0 200 OK\r\nServer: \u{1b}[2J\u{1b}]0;owned\u{7}RTC/6.0\r\nContent-Length: 0\r\n\r\n";
    let server = SipServer::start(&pki.leaf(&LeafSpec::default()), Behaviour::Answer(response.as_bytes().to_vec()));
    let dns = DnsServer::start(&[("contoso.com", &federation_zone("contoso.com", server.addr.port()))]);
    let dir = tempfile::tempdir().unwrap();
    let root = pki.write_root(dir.path());
    let output = fedscan()
        .args(["scan", "contoso.com", "--resolver", &dns.resolver_arg(), "--color", "never", "--trust"])
        .arg(&root)
        .args(["--timeout", &TIMEOUT.to_string(), "--dns-attempts", "1"])
        .timeout(HARD_STOP)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("SIP OPTIONS → SIP/2.0 200 OK from "), "{table}");
    assert!(table.contains("RTC/6.0"), "{table}");
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{7}'),
        "control characters reached the terminal:\n{table:?}"
    );
}

/// An Edge that answers the OPTIONS connection with a fatal TLS alert,
/// having never asked for a client certificate, refuses the request: that is
/// no mutual TLS, and SIP-OPT-01 fails, in TLS 1.3 (handshake_failure after
/// the handshake) as in TLS 1.2 (bad_certificate).
#[test]
fn an_alert_without_a_certificate_request_is_a_refusal_not_mutual_tls() {
    for (version, description, start) in [
        ("TLS 1.3", 40, SipServer::start as fn(&peers::tls::Leaf, Behaviour) -> SipServer),
        ("TLS 1.2", 42, SipServer::start_tls12),
    ] {
        let (scan, server) = scan_server(|leaf| start(leaf, Behaviour::AlertAfterRequest { description }));
        assert_options_received(&server);
        let target = endpoint(&server);
        assert_eq!(status_and_message(finding(&scan.report, "TLS-MTLS-01", &target)).0, "fail", "{version}");
        let (status, message) = status_and_message(finding(&scan.report, "SIP-OPT-01", &target));
        assert_eq!(status, "fail", "{version}: {message}");
        assert!(message.contains("TLS alert") && message.contains("never asked for a client certificate"), "{message}");
        assert_eq!(sip_fact(&scan.facts, &server)["outcome"], "alert", "{version}");
        assert_eq!(scan.code, Some(1), "{version}: failures at high and above (the Edge certificate's names)");
    }
}

/// The TLS probe's handshake works, the OPTIONS connection is reset: the
/// SIP service was not observed, so SIP-OPT-01 is an error (exit 3), neither
/// a pass nor "not applicable". (OPTIONS has a connection of its own when a
/// client certificate is offered; on the TLS probe's, there is none to reset.)
#[test]
fn an_options_connection_reset_after_a_working_handshake_is_an_error() {
    let (scan, server) =
        scan_server_with(|leaf| SipServer::start(leaf, Behaviour::ResetAfterFirstHandshake), OWN_CONNECTION);
    let target = endpoint(&server);
    assert_eq!(status_and_message(finding(&scan.report, "TLS-CON-01", &target)).0, "pass");
    let (status, message) = status_and_message(finding(&scan.report, "SIP-OPT-01", &target));
    assert_eq!(status, "error", "{message}");
    assert!(message.contains("although the TLS probe's handshake with this endpoint succeeded"), "{message}");
    assert_eq!(sip_fact(&scan.facts, &server)["outcome"], "no_connection");
    assert_eq!(scan.code, Some(1), "TLS-MTLS-01 fails at high: the Edge asks for no client certificate");
}

/// A server that answers every step just within the timeout (each handshake
/// and the SIP answer 0.9 timeouts late) costs one endpoint deadline (three
/// timeouts), not the sum of its steps; what the deadline cut is an error,
/// not a failure of the server.
#[test]
fn a_server_slow_at_every_step_costs_one_endpoint_deadline() {
    let delay = Duration::from_millis(TIMEOUT * 900);
    // OPTIONS on the TLS probe's connection, beside the version probes:
    // the slow answer still comes within the deadline.
    let (reused, server) = scan_responder(Behaviour::Slow { delay });
    let bound = Duration::from_secs(TIMEOUT * 3) + Duration::from_millis(TIMEOUT * 300);
    assert!(reused.elapsed < bound, "the scan took {:?} (bound {bound:?})", reused.elapsed);
    assert_eq!(status_and_message(finding(&reused.report, "SIP-OPT-01", &endpoint(&server))).0, "pass");
    // On a connection of its own, after the TLS probe: the deadline cuts it.
    let (scan, server) = scan_server_with(|leaf| SipServer::start(leaf, Behaviour::Slow { delay }), OWN_CONNECTION);
    // DNS (two rounds, fast), then the endpoint: at most three timeouts.
    let bound = Duration::from_secs(TIMEOUT * 3) + Duration::from_millis(TIMEOUT * 300);
    assert!(scan.elapsed < bound, "the scan took {:?} (bound {bound:?})", scan.elapsed);
    let (status, message) = status_and_message(finding(&scan.report, "SIP-OPT-01", &endpoint(&server)));
    assert_eq!(status, "error", "{message}");
    assert!(message.contains("the endpoint's deadline"), "{message}");
    assert_eq!(status_and_message(finding(&scan.report, "TLS-CON-01", &endpoint(&server))).0, "pass");
    assert_eq!(scan.code, Some(1), "TLS-MTLS-01 fails at high: the Edge asks for no client certificate");
}

/// Every responder whose behaviour does not depend on which connection
/// carries OPTIONS gives the same findings whether OPTIONS rides on the TLS
/// probe's connection or on one of its own.
#[test]
fn the_same_findings_with_and_without_connection_reuse() {
    let diagnosed = b"SIP/2.0 403 Forbidden\r\nms-diagnostics: 1034;reason=\"Previous hop federated peer did not report diagnostic information\"\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n";
    type Make = Box<dyn Fn() -> Behaviour>;
    let behaviours: Vec<(&str, Make)> = vec![
        (
            "answer",
            Box::new(|| Behaviour::Answer(b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec())),
        ),
        ("refusal with ms-diagnostics", Box::new(move || Behaviour::Answer(diagnosed.to_vec()))),
        ("silent", Box::new(|| Behaviour::Silent)),
        ("close after the handshake", Box::new(|| Behaviour::CloseAfterHandshake)),
        ("alert after the request", Box::new(|| Behaviour::AlertAfterRequest { description: 116 })),
    ];
    // The two runs differ in their temporary directories (the trust store's path).
    let temporary = regex::Regex::new(r"/tmp/\.tmp[A-Za-z0-9]+").unwrap();
    for (name, behaviour) in behaviours {
        let findings_of = |extra: &[&str]| {
            let (scan, server) = scan_server_with(|leaf| SipServer::start(leaf, behaviour()), extra);
            let port = server.addr.port().to_string();
            // The two runs have servers on different ports: compare without them.
            common::finding_keys(&scan.report, &|text| temporary.replace_all(text, "/TMP").replace(&port, "PORT"))
        };
        let (reused, own) = (findings_of(&[]), findings_of(OWN_CONNECTION));
        let differ: Vec<_> = reused.iter().zip(&own).filter(|(a, b)| a != b).collect();
        assert!(differ.is_empty() && reused.len() == own.len(), "{name}: {differ:#?}");
    }
}

/// A status code is exactly three digits (RFC 3261 §7.2): a 33-digit number
/// that parses to 200 is not a SIP response, never `SIP/2.0 200 OK`.
#[test]
fn a_status_code_of_more_than_three_digits_is_not_sip() {
    let answer = b"SIP/2.0 000000000000000000000000000000200 OK\r\nCall-ID: {call-id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    let (scan, server) = scan_responder(Behaviour::Answer(answer.to_vec()));
    assert_options_received(&server);
    let (status, message) = status_and_message(finding(&scan.report, "SIP-OPT-01", &endpoint(&server)));
    assert_eq!(status, "fail", "{message}");
    assert!(message.starts_with("not a SIP response: status \"000000000000000000000000000000200\""), "{message}");
    assert_eq!(sip_fact(&scan.facts, &server)["outcome"], "malformed");
}

/// A final response that names another request (another Call-ID, or
/// another CSeq) is not the answer to our OPTIONS: it is dropped, as a
/// partner's Edge drops it, and the wait for ours goes on to the timeout.
#[test]
fn a_response_to_another_request_is_not_our_answer() {
    for (named, answer) in [
        (
            "Call-ID someone-else@elsewhere",
            "SIP/2.0 200 OK\r\nCall-ID: someone-else@elsewhere\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        ),
        ("CSeq 7 INVITE", "SIP/2.0 200 OK\r\nCall-ID: {call-id}\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n"),
    ] {
        let (scan, server) = scan_responder(Behaviour::Answer(answer.as_bytes().to_vec()));
        assert_options_received(&server);
        let (status, message) = status_and_message(finding(&scan.report, "SIP-OPT-01", &endpoint(&server)));
        assert_eq!(status, "fail", "{named}: {message}");
        assert!(message.contains("only a response to another request") && message.contains(named), "{message}");
        assert_eq!(sip_fact(&scan.facts, &server)["outcome"], "not_ours");
        assert!(scan.elapsed >= Duration::from_secs(TIMEOUT), "it waited for ours: {:?}", scan.elapsed);
        assert_eq!(scan.code, Some(1));
    }
}

/// `100 Trying`, then nothing: the request arrived, its answer never came.
/// Whether the service answers was not seen: `error` (exit 3 when the SIP
/// rule is the one asked for), never a pass on the provisional response,
/// nor a failure as if it were silent.
#[test]
fn a_provisional_response_then_silence_is_an_error() {
    let answer = b"SIP/2.0 100 Trying\r\nCall-ID: {call-id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n".to_vec();
    let (scan, server) =
        scan_server_with(|leaf| SipServer::start(leaf, Behaviour::Answer(answer)), &["--only", "SIP-OPT-01"]);
    let (status, message) = status_and_message(finding(&scan.report, "SIP-OPT-01", &endpoint(&server)));
    assert_eq!(status, "error", "{message}");
    assert_eq!(message, "only a provisional response (SIP/2.0 100 Trying), no final one within the timeout");
    assert_eq!(sip_fact(&scan.facts, &server)["outcome"], "no_final_response");
    let failed: Vec<&Value> =
        scan.report["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "fail").collect();
    assert_eq!(scan.code, Some(3), "{failed:#?}");
}

/// A provisional response, another request's response with a body, then
/// ours, all in one write: ours is found past the others and their bodies.
#[test]
fn our_final_response_is_read_past_provisional_and_foreign_ones() {
    let answer = "SIP/2.0 100 Trying\r\nCall-ID: {call-id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n\
                  SIP/2.0 486 Busy Here\r\nCall-ID: other@x\r\nCSeq: 2 INVITE\r\nContent-Length: 30\r\n\r\n\
                  SIP/2.0 999 not a head in here\
                  SIP/2.0 200 OK\r\nCall-ID: {call-id}\r\nCSeq: 1 OPTIONS\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n";
    let (scan, server) = scan_responder(Behaviour::Answer(answer.as_bytes().to_vec()));
    let (status, message) = status_and_message(finding(&scan.report, "SIP-OPT-01", &endpoint(&server)));
    assert_eq!((status, message), ("pass", "SIP/2.0 200 OK from RTC/6.0"));
}

/// An Edge that asks for a client certificate but goes on without one: it
/// asks (TLS-MTLS-01 passes: a partner that has one is authenticated), and
/// the OPTIONS sent without a certificate is answered (SIP-OPT-01 passes on
/// that answer).
#[test]
fn an_edge_that_asks_for_a_client_certificate_without_requiring_one_is_judged_on_its_answer() {
    let answer = b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    let partners = Pki::new("Partners");
    let (scan, server) =
        scan_server(|leaf| SipServer::start_asking_for_client_certificate(leaf, &partners, Behaviour::Answer(answer)));
    let (status, message) = status_and_message(finding(&scan.report, "TLS-MTLS-01", &endpoint(&server)));
    assert_eq!(status, "pass", "{message}");
    assert!(message.starts_with("asks for a client certificate"), "{message}");
    let (status, message) = status_and_message(finding(&scan.report, "SIP-OPT-01", &endpoint(&server)));
    assert_eq!((status, message), ("pass", "SIP/2.0 200 OK from RTC/6.0"));
    assert_eq!(sip_fact(&scan.facts, &server)["client_certificate"], false);
}

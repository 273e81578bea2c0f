//! The live TLS probe and the certificate rules, against tokio-rustls
//! servers on loopback with a PKI made by rcgen for each test. The scanner
//! finds them the way a partner does: the federation SRV record (served by
//! an in-process DNS server) points at sip.contoso.com on the server's port,
//! and sip.contoso.com is 127.0.0.1.

use crate::common;
use crate::peers;
use common::{fedscan, findings, json_of, statuses};
use peers::dns::{DnsServer, federation_zone};
use peers::tls::{LeafSpec, Pki, TlsServer, pem};
use serde_json::Value;
use time::macros::datetime;

const NOW: &str = "2026-06-01T00:00:00Z";

/// Serves `leaf` and scans contoso.com with `pki`'s root as the trust store.
fn scan_edge(pki: &Pki, trusted: &Pki, spec: &LeafSpec, client_ca: Option<&Pki>) -> Value {
    let server = TlsServer::start(&pki.leaf(spec), client_ca);
    let port = server.addr.port();
    let dns = DnsServer::start(&[("contoso.com", &federation_zone("contoso.com", port))]);
    let dir = tempfile::tempdir().unwrap();
    let root = trusted.write_root(dir.path());
    let output = fedscan()
        .args(["scan", "contoso.com", "--format", "json", "--timeout", "2", "--dns-attempts", "1", "--now", NOW])
        .args(["--resolver", &dns.resolver_arg(), "--edge", &format!("sip.contoso.com:{port}"), "--trust"])
        .arg(&root)
        .output()
        .unwrap();
    json_of(&output)
}

const EDGE: &str = "sip.contoso.com:";

fn verdict(report: &Value, rule: &str) -> Vec<String> {
    findings(report, rule)
        .iter()
        .filter(|f| f["target"].as_str().is_some_and(|t| t.starts_with(EDGE)))
        .map(|f| f["status"].as_str().unwrap().to_string())
        .collect()
}

fn message(report: &Value, rule: &str) -> String {
    findings(report, rule).iter().map(|f| f["message"].as_str().unwrap()).collect::<Vec<_>>().join(" | ")
}

#[test]
fn a_good_edge_certificate_passes() {
    let pki = Pki::new("Contoso");
    let report = scan_edge(&pki, &pki, &LeafSpec::default(), None);
    for rule in [
        "TLS-CON-01",
        "TLS-CHAIN-01",
        "TLS-NAME-01",
        "TLS-NAME-02",
        "TLS-NAME-03",
        "TLS-NAME-05",
        "TLS-EKU-01",
        "TLS-KEY-01",
        "TLS-SIG-01",
        "TLS-CDP-01",
        "TLS-EXP-01",
        "TLS-POOL-01",
        "TLS-VER-01",
    ] {
        assert_eq!(verdict(&report, rule), ["pass"], "{rule}: {}", message(&report, rule));
    }
    assert!(message(&report, "TLS-VER-01").contains("TLS 1.2, TLS 1.3"), "{}", message(&report, "TLS-VER-01"));
    assert_eq!(verdict(&report, "TLS-MTLS-01"), ["fail"], "no client certificate was requested");
    let chain = findings(&report, "TLS-CHAIN-01")[0]["evidence"]["certificate"].clone();
    assert_eq!(chain["san"], serde_json::json!(["sip.contoso.com", "sip.contoso.net"]));
    assert_eq!(chain["days_left"], 214);
}

#[test]
fn expiry_is_judged_once_by_the_validity_rule() {
    let pki = Pki::new("Contoso");
    let expired = LeafSpec {
        not_before: datetime!(2025-01-01 0:00 UTC),
        not_after: datetime!(2026-02-01 0:00 UTC),
        ..Default::default()
    };
    let report = scan_edge(&pki, &pki, &expired, None);
    assert_eq!(verdict(&report, "TLS-EXP-01"), ["fail"]);
    assert!(message(&report, "TLS-EXP-01").contains("expired on 2026-02-01"), "{}", message(&report, "TLS-EXP-01"));
    assert_eq!(findings(&report, "TLS-EXP-01")[0]["severity"], "critical");
    assert_eq!(verdict(&report, "TLS-CHAIN-01"), ["pass"], "the chain itself is trusted");

    let early = LeafSpec {
        not_before: datetime!(2026-09-01 0:00 UTC),
        not_after: datetime!(2027-09-01 0:00 UTC),
        ..Default::default()
    };
    let report = scan_edge(&pki, &pki, &early, None);
    assert!(message(&report, "TLS-EXP-01").contains("not yet valid"));

    let soon = LeafSpec { not_after: datetime!(2026-06-20 0:00 UTC), ..Default::default() };
    let report = scan_edge(&pki, &pki, &soon, None);
    assert_eq!(verdict(&report, "TLS-EXP-01"), ["fail"]);
    assert_eq!(findings(&report, "TLS-EXP-01")[0]["severity"], "medium");
}

#[test]
fn names_on_the_certificate() {
    let pki = Pki::new("Contoso");
    let wrong = LeafSpec {
        common_name: "other.contoso.com".into(),
        sans: vec!["other.contoso.com".into()],
        ..Default::default()
    };
    let report = scan_edge(&pki, &pki, &wrong, None);
    assert_eq!(verdict(&report, "TLS-NAME-01"), ["fail"]);
    assert!(message(&report, "TLS-NAME-01").contains("lacks sip.contoso.com"), "{}", message(&report, "TLS-NAME-01"));
    assert_eq!(verdict(&report, "TLS-NAME-02"), ["fail"]);

    let cn_only = LeafSpec { sans: vec!["sip.contoso.net".into()], ..Default::default() };
    let report = scan_edge(&pki, &pki, &cn_only, None);
    assert_eq!(verdict(&report, "TLS-NAME-03"), ["fail"]);

    let wildcard =
        LeafSpec { common_name: "*.contoso.com".into(), sans: vec!["*.contoso.com".into()], ..Default::default() };
    let report = scan_edge(&pki, &pki, &wildcard, None);
    assert_eq!(verdict(&report, "TLS-NAME-05"), ["fail"]);
    assert_eq!(verdict(&report, "TLS-NAME-02"), ["fail"]);
    assert!(message(&report, "TLS-NAME-01").contains("covered only by the wildcard *.contoso.com"));
}

#[test]
fn chains_that_do_not_reach_a_trusted_root() {
    let pki = Pki::new("Contoso");
    let leaf_only = LeafSpec { leaf_only: true, ..Default::default() };
    let report = scan_edge(&pki, &pki, &leaf_only, None);
    assert_eq!(verdict(&report, "TLS-CHAIN-01"), ["fail"]);
    assert_eq!(findings(&report, "TLS-CHAIN-01")[0]["severity"], "medium", "a missing intermediate");
    assert!(message(&report, "TLS-CHAIN-01").contains("the chain is incomplete"));

    // An issuing CA named inside an Active Directory domain is private:
    // no partner will ever hold its root, so the rule fails at its severity.
    let enterprise = Pki::enterprise("Contoso", "corp.contoso.com");
    let report = scan_edge(&enterprise, &Pki::new("Public"), &leaf_only, None);
    assert_eq!(verdict(&report, "TLS-CHAIN-01"), ["fail"]);
    assert_eq!(findings(&report, "TLS-CHAIN-01")[0]["severity"], "critical", "a private CA");
    assert!(message(&report, "TLS-CHAIN-01").contains("private CA"), "{}", message(&report, "TLS-CHAIN-01"));

    let self_signed = LeafSpec { self_signed: true, ..Default::default() };
    let report = scan_edge(&pki, &pki, &self_signed, None);
    assert_eq!(verdict(&report, "TLS-CHAIN-01"), ["fail"]);
    assert_eq!(findings(&report, "TLS-CHAIN-01")[0]["severity"], "critical");
    assert!(message(&report, "TLS-CHAIN-01").contains("self-signed"));

    let stranger = Pki::new("Litware");
    let report = scan_edge(&stranger, &pki, &LeafSpec::default(), None);
    assert_eq!(verdict(&report, "TLS-CHAIN-01"), ["fail"], "{}", message(&report, "TLS-CHAIN-01"));
    // The handshake still completes and the certificate is still read.
    assert_eq!(verdict(&report, "TLS-CON-01"), ["pass"]);
    assert_eq!(verdict(&report, "TLS-NAME-01"), ["pass"]);

    let no_server_auth = LeafSpec { server_auth: false, ..Default::default() };
    let report = scan_edge(&pki, &pki, &no_server_auth, None);
    assert_eq!(verdict(&report, "TLS-EKU-01"), ["fail"]);
    // A validator's refusal is explained, not named.
    let ca = LeafSpec { ca: true, ..Default::default() };
    let ca_report = scan_edge(&pki, &pki, &ca, None);
    assert_eq!(verdict(&ca_report, "TLS-CHAIN-01"), ["fail"]);
    let refused = message(&ca_report, "TLS-CHAIN-01");
    assert!(refused.contains("is a CA certificate") && !refused.contains("CaUsedAsEndEntity"), "{refused}");

    // The missing usage is reported once: the chain itself is sound.
    assert_eq!(verdict(&report, "TLS-CHAIN-01"), ["pass"]);
    let chain = message(&report, "TLS-CHAIN-01");
    assert!(chain.contains("TLS-EKU-01") && !chain.contains("Eku"), "{chain}");
}

#[test]
fn a_server_that_requires_a_client_certificate_is_reported_as_such() {
    let pki = Pki::new("Contoso");
    let partners = Pki::new("Partner CA");
    let report = scan_edge(&pki, &pki, &LeafSpec::default(), Some(&partners));
    assert_eq!(verdict(&report, "TLS-MTLS-01"), ["pass"]);
    let said = message(&report, "TLS-MTLS-01");
    assert!(said.contains("CN=Partner CA Root"), "{said}");
    assert_eq!(verdict(&report, "TLS-CHAIN-01"), ["pass"], "the certificate is read before the client is refused");
}

#[test]
fn a_closed_port_fails_the_connection_rule_and_nothing_else() {
    let port = peers::free_port();
    let dns = DnsServer::start(&[("contoso.com", &federation_zone("contoso.com", port))]);
    let output = fedscan()
        .args(["scan", "contoso.com", "--format", "json", "--timeout", "2", "--resolver", &dns.resolver_arg()])
        .output()
        .unwrap();
    let report = json_of(&output);
    assert_eq!(verdict(&report, "TLS-CON-01"), ["fail"]);
    assert!(message(&report, "TLS-CON-01").contains("connection refused"));
    for rule in ["TLS-CHAIN-01", "TLS-EXP-01", "TLS-VER-01"] {
        assert!(findings(&report, rule).iter().all(|f| f["status"] == "skip"), "{rule}: {}", message(&report, rule));
    }
}

#[test]
fn a_certificate_file_is_audited_without_connecting() {
    let pki = Pki::new("Contoso");
    let leaf = pki.leaf(&LeafSpec::default());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("edge.pem");
    std::fs::write(&file, leaf.chain_pem()).unwrap();
    pki.write_root(dir.path());
    let output = fedscan()
        .args(["scan", "--offline", "--format", "json", "--now", NOW, "--edge", "sip.contoso.com", "--cert-file"])
        .arg(&file)
        .arg("--trust")
        .arg(dir.path().join("root.pem"))
        .output()
        .unwrap();
    let report = json_of(&output);
    let target = format!("file {}", file.display());
    for rule in ["TLS-CHAIN-01", "TLS-NAME-01", "TLS-NAME-02", "TLS-EXP-01", "TLS-KEY-01"] {
        assert_eq!(statuses(&report, rule, &target), ["pass"], "{rule}: {}", message(&report, rule));
    }
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n").unwrap();
    fedscan().args(["scan", "--offline", "--cert-file"]).arg(&bad).assert().code(2);
}

#[test]
fn certificate_facts_are_shown_and_hostile_names_escaped() {
    let pki = Pki::new("Contoso");
    let hostile = LeafSpec {
        common_name: "sip.contoso.com\u{1b}[2J\u{1b}[31m<script>alert(1)</script>".into(),
        sans: vec!["sip.contoso.com".into(), "\u{1b}]0;owned\u{7}.contoso.com".into()],
        ..Default::default()
    };
    let server = TlsServer::start(&pki.leaf(&hostile), None);
    let port = server.addr.port();
    let dns = DnsServer::start(&[("contoso.com", &federation_zone("contoso.com", port))]);
    let dir = tempfile::tempdir().unwrap();
    let root = pki.write_root(dir.path());
    let run = |format: &str| {
        fedscan()
            .args(["scan", "contoso.com", "--timeout", "2", "--now", NOW, "--format", format])
            .args(["--resolver", &dns.resolver_arg(), "--trust"])
            .arg(&root)
            .output()
            .unwrap()
    };
    let table = String::from_utf8(run("table").stdout).unwrap();
    assert!(!table.contains('\u{1b}') && !table.contains('\u{7}'), "raw control characters reached the terminal");
    assert!(table.contains("CN=sip.contoso.com\\u{1b}[2J\\u{1b}[31m<script>"), "{table}");
    assert!(table.contains("SAN sip.contoso.com, \\u{1b}]0;owned\\u{7}.contoso.com"), "{table}");
    assert!(table.contains("issued by CN=Contoso Intermediate; valid 2026-01-01 to 2027-01-01 (214 days left); EC P-256; ecdsa-with-SHA256"), "{table}");
    let json = String::from_utf8(run("json").stdout).unwrap();
    assert!(!json.contains('\u{1b}'), "JSON must escape control characters");
    assert!(json.contains("\\u001b[2J"));
}

#[test]
fn a_certificate_whose_validity_ends_before_it_starts_is_judged_not_fatal() {
    let pki = Pki::new("Contoso");
    let inverted = LeafSpec {
        not_before: datetime!(2027-01-01 0:00 UTC),
        not_after: datetime!(2026-01-01 0:00 UTC),
        ..Default::default()
    };
    let leaf = pki.leaf(&inverted);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inverted.pem"), pem("CERTIFICATE", leaf.chain[0].as_ref())).unwrap();
    let output = fedscan()
        .args(["scan", "--offline", "--format", "json", "--now", NOW, "--edge", "sip.contoso.com", "--cert-file"])
        .arg(dir.path().join("inverted.pem"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let report = json_of(&output);
    assert!(findings(&report, "TLS-EXP-01").iter().all(|f| f["status"] == "fail"));
    assert!(!findings(&report, "TLS-CHAIN-01").is_empty());
}

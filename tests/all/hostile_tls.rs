//! Hostile TLS servers: what a real Edge should never send, each served on
//! loopback and scanned by the real binary, which must say what happened,
//! keep its time bound and keep its output inert.

use crate::common;
use crate::peers;
use std::time::{Duration, Instant};

use common::{assert_inert, fedscan, findings, json_of, read_json};
use peers::dns::{DnsServer, federation_zone};
use peers::tls::{LeafSpec, Pki, TlsServer};

const TIMEOUT: u64 = 2;

/// A certificate message over the 64 KiB a TLS client accepts (a chain of
/// hundreds of certificates) is reported as such: not as an Edge that speaks
/// only old protocols, and TLS 1.3 is not reported as refused.
#[test]
fn a_certificate_message_over_64_kib_is_named_as_such() {
    let pki = Pki::new("Contoso");
    let mut leaf = pki.leaf(&LeafSpec::default());
    let intermediate = leaf.chain[1].clone();
    while leaf.chain.iter().map(|c| c.len() + 3).sum::<usize>() <= 70 * 1024 {
        leaf.chain.push(intermediate.clone());
    }
    let server = TlsServer::start(&leaf, None);
    let port = server.addr.port();
    let dns = DnsServer::start(&[("contoso.com", &federation_zone("contoso.com", port))]);
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let started = Instant::now();
    let output = fedscan()
        .args(["scan", "contoso.com", "--format", "json", "--timeout", &TIMEOUT.to_string(), "--dns-attempts", "1"])
        .args(["--resolver", &dns.resolver_arg(), "--only", "TLS-CON-01,TLS-VER-01", "--save-facts"])
        .arg(&facts)
        .output()
        .unwrap();
    // DNS, then the handshake and the version probes at once.
    assert!(started.elapsed() < Duration::from_secs(TIMEOUT * 3) + Duration::from_secs(TIMEOUT) / 2);
    let report = json_of(&output);
    assert_inert("the JSON report", &String::from_utf8_lossy(&output.stdout));
    let connect = &findings(&report, "TLS-CON-01")[0];
    let message = connect["message"].as_str().unwrap();
    assert_eq!(connect["status"], "fail", "{message}");
    assert!(message.contains("larger than the 64 KiB a TLS client accepts"), "{message}");
    assert!(!message.contains("older protocols"), "{message}");
    let facts = read_json(&facts);
    let tls13 = facts["tls"][0]["versions"].as_array().unwrap().iter().find(|v| v["version"] == "TLS 1.3").unwrap();
    assert!(tls13["accepted"].is_null(), "no conclusive answer, not a refusal: {tls13}");
    assert_eq!(output.status.code(), Some(1), "TLS-CON-01 fails at its severity");
}

/// Names in the certificate and headers in the SIP answer that carry line
/// feeds, escapes, C1 controls, DEL, zero-width characters and bidi
/// overrides stay inert in the table (live and replayed), the JSON report
/// and stderr; the JSON keeps them faithfully, as `\u` escapes.
#[test]
fn hostile_text_in_certificates_and_sip_headers_stays_inert_everywhere() {
    let pki = Pki::new("Contoso");
    let spec = LeafSpec {
        common_name:
            "sip.contoso.com\n      TLS 127.0.0.1: TLS 1.3, FAKE-OK\u{202e}<img src=x onerror=alert(1)>[x](http://e)"
                .into(),
        sans: vec!["sip.contoso.com".into(), "evil\n        SIP OPTIONS -> SIP/2.0 200 OK\x1b[2J.contoso.com".into()],
        ..LeafSpec::default()
    };
    let answer = "SIP/2.0 200 OK\r\nServer: RTC\u{9b}31m\u{7f}\u{2066}\u{200b}/6.0\x07\r\nContent-Length: 0\r\n\r\n";
    let server = peers::sip::SipServer::start(&pki.leaf(&spec), peers::sip::Behaviour::Answer(answer.into()));
    let port = server.addr.port();
    let dns = DnsServer::start(&[("contoso.com", &federation_zone("contoso.com", port))]);
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let base = ["scan", "contoso.com", "--timeout", "2", "--dns-attempts", "1", "--color", "never"];
    // Every other format beside the JSON report: a live batch keeps its
    // findings on disk, rendered for each as its chunk is judged.
    let other = ["html", "markdown", "sarif", "junit", "csv", "ndjson"];
    let reports: Vec<String> =
        other.iter().map(|f| format!("{f}={}", dir.path().join(format!("report.{f}")).display())).collect();
    let json = fedscan()
        .args(base)
        .args(["--resolver", &dns.resolver_arg(), "--format", "json", "--save-facts"])
        .arg(&facts)
        .args(reports.iter().flat_map(|r| ["--report", r.as_str()]))
        .output()
        .unwrap();
    for format in other {
        let text = std::fs::read_to_string(dir.path().join(format!("report.{format}"))).unwrap();
        // CSV ends its records with CRLF (RFC 4180); a CR anywhere else is raw.
        let text = if format == "csv" { text.replace("\r\n", "\n") } else { text };
        assert_inert(format, &text);
        assert!(text.contains("FAKE-OK"), "{format} names the certificate: {text}");
        // Markup from the certificate is text in HTML; in Markdown a link too.
        if matches!(format, "html" | "markdown") {
            assert!(!text.contains("<img"), "{format}: markup passed on: {text}");
        }
        if format == "markdown" {
            assert!(!text.contains("[x](http"), "a link passed on: {text}");
        }
    }
    let json_text = String::from_utf8_lossy(&json.stdout).into_owned();
    assert_inert("the JSON report", &json_text);
    assert_inert("stderr", &String::from_utf8_lossy(&json.stderr));
    assert!(json_text.contains(r"RTC\u009b31m\u007f\u2066\u200b/6.0\u0007"), "faithful, escaped: {json_text}");
    let report = json_of(&json);
    assert!(!findings(&report, "SIP-OPT-01").is_empty(), "{report:#}");

    let table = fedscan().args(base).args(["--resolver", &dns.resolver_arg()]).output().unwrap();
    let table_text = String::from_utf8_lossy(&table.stdout);
    assert_inert("the table", &table_text);
    assert_inert("stderr", &String::from_utf8_lossy(&table.stderr));
    for forged in ["\n      TLS 127.0.0.1: TLS 1.3, FAKE-OK", "\n        SIP OPTIONS -> SIP/2.0 200 OK"] {
        assert!(!table_text.contains(forged), "a forged line: {table_text}");
    }
    let replay = fedscan().args(["scan", "--color", "never", "--facts"]).arg(&facts).output().unwrap();
    assert_inert("the replayed table", &String::from_utf8_lossy(&replay.stdout));
    let replay_json = fedscan().args(["scan", "--format", "json", "--facts"]).arg(&facts).output().unwrap();
    assert_inert("the replayed JSON", &String::from_utf8_lossy(&replay_json.stdout));
}

/// A server that announces a 16 MiB Certificate message and streams it
/// without end costs the scan at most the timeout and a bounded read: the
/// certificate reader gives up long before the message would end.
#[test]
fn an_endless_certificate_message_is_not_read_to_its_end() {
    let server = peers::tls::EndlessCertificate::start();
    let port = server.addr.port();
    let dns = DnsServer::start(&[("contoso.com", &federation_zone("contoso.com", port))]);
    let started = Instant::now();
    let output = fedscan()
        .args(["scan", "contoso.com", "--format", "json", "--timeout", &TIMEOUT.to_string(), "--dns-attempts", "1"])
        .args(["--resolver", &dns.resolver_arg(), "--only", "TLS-CON-01,TLS-VER-01"])
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(TIMEOUT * 3) + Duration::from_secs(TIMEOUT) / 2);
    let report = json_of(&output);
    assert_inert("the JSON report", &String::from_utf8_lossy(&output.stdout));
    assert_eq!(findings(&report, "TLS-CON-01")[0]["status"], "fail", "{report:#}");
    assert_eq!(output.status.code(), Some(1));
    let sent = server.most_sent();
    assert!(sent < 16 * 1024 * 1024, "the reader took {sent} bytes of a message it could never use");
}

//! Hostile TLS servers: what a real Edge should never send, each served on
//! loopback and scanned by the real binary, which must say what happened,
//! keep its time bound and keep its output inert.

mod common;
mod peers;

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
}

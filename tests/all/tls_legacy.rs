//! Access Edges that only old clients can talk to, served by `openssl
//! s_server` on loopback with the RSA-1024, SHA-1 certificate of
//! `fixtures/certs/legacy/`: one that speaks only TLS 1.0, and one that
//! speaks TLS 1.2 but only with RSA key exchange and CBC. rustls cannot
//! complete a handshake with either; the scan must still capture the chain
//! (from the cleartext Certificate message of fedscan's own ClientHello),
//! fail TLS-CON-01 for the right reason, list the versions accepted, and
//! judge the certificate.

use crate::common;
use crate::peers;
use common::{fedscan, findings, json_of, root};
use peers::dns::{DnsServer, federation_zone};
use peers::openssl::OpensslServer;
use serde_json::Value;

const HOST: &str = "sip.legacy.test";

/// One legacy server: the s_server arguments beyond certificate and key, and
/// which versions it accepts (TLS 1.0, 1.1, 1.2, 1.3).
struct Legacy {
    name: &'static str,
    args: &'static [&'static str],
    versions: [(&'static str, bool); 4],
}

const TLS10_ONLY: Legacy = Legacy {
    name: "TLS 1.0 only",
    args: &["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"],
    versions: [("TLS 1.0", true), ("TLS 1.1", false), ("TLS 1.2", false), ("TLS 1.3", false)],
};

const RSA_KX_CBC_ONLY: Legacy = Legacy {
    name: "TLS 1.2 with RSA key exchange and CBC only",
    args: &["-tls1_2", "-cipher", "AES128-SHA256:AES128-SHA:@SECLEVEL=0"],
    versions: [("TLS 1.0", false), ("TLS 1.1", false), ("TLS 1.2", true), ("TLS 1.3", false)],
};

fn fixture(name: &str) -> String {
    root(&format!("fixtures/certs/legacy/{name}")).display().to_string()
}

/// The base64 body of a one-certificate PEM file: the DER as the facts file
/// encodes it (standard alphabet, padded).
fn pem_base64(name: &str) -> String {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    text.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect()
}

/// Starts the server and a zone pointing the federation SRV record at it,
/// scans legacy.test with the real binary, and returns the JSON report, the
/// saved facts, the exit code and the server's log; `None` when openssl is
/// missing (outside CI).
fn scan(legacy: &Legacy) -> Option<(Value, Value, Option<i32>, String)> {
    let ca = fixture("ca.pem");
    let mut args = vec!["-cert_chain", ca.as_str()];
    args.extend(legacy.args);
    let server =
        OpensslServer::start(&root("fixtures/certs/legacy/leaf.pem"), &root("fixtures/certs/legacy/leaf.key"), &args)?;
    let dns = DnsServer::start(&[("legacy.test", &federation_zone("legacy.test", server.port()))]);
    let facts_file = tempfile::NamedTempFile::new().unwrap();
    let output = fedscan()
        .args(["scan", "legacy.test", "--format", "json", "--timeout", "2", "--dns-attempts", "1"])
        .args(["--resolver", &dns.resolver_arg(), "--trust", &ca, "--save-facts"])
        .arg(facts_file.path())
        .output()
        .unwrap();
    let report = json_of(&output);
    let facts: Value = serde_json::from_str(&std::fs::read_to_string(facts_file.path()).unwrap())
        .unwrap_or_else(|e| panic!("{}: facts file: {e}", legacy.name));
    drop(dns);
    let log = server.log();
    drop(server);
    Some((report, facts, output.status.code(), log))
}

/// The one finding of `rule` for the legacy endpoint.
fn finding<'a>(report: &'a Value, rule: &str, context: &str) -> &'a Value {
    let found: Vec<&Value> = findings(report, rule)
        .into_iter()
        .filter(|f| f["target"].as_str().is_some_and(|t| t.starts_with(HOST)))
        .collect();
    assert_eq!(found.len(), 1, "{rule}: {found:?}\n{context}");
    found[0]
}

fn check(legacy: &Legacy) {
    let Some((report, facts, code, log)) = scan(legacy) else { return };
    let name = legacy.name;
    let tls = facts["tls"].as_array().unwrap_or_else(|| panic!("{name}: no TLS facts: {facts}"));
    assert_eq!(tls.len(), 1, "{name}: one endpoint, the SRV target: {tls:?}");
    let fact = &tls[0];
    let context = format!("{name}\nTLS fact: {fact:#}\nopenssl s_server said:\n{log}");
    assert_eq!((fact["host"].as_str(), fact["address"].as_str()), (Some(HOST), Some("127.0.0.1")), "{context}");

    // rustls could not complete a handshake, but the chain was captured from
    // the legacy ClientHello's answer: the RSA-1024 leaf, then the CA.
    assert_eq!(fact["outcome"], "rejected", "{context}");
    let chain: Vec<&str> =
        fact["chain"].as_array().map(|c| c.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    assert!(!chain.is_empty(), "no chain captured: {context}");
    assert_eq!(fact["chain_source"], "legacy", "{context}");
    assert_eq!(chain[0], pem_base64("leaf.pem"), "the leaf is the RSA-1024 one: {context}");
    assert_eq!(chain, [pem_base64("leaf.pem"), pem_base64("ca.pem")], "{context}");

    // Each version: accepted or refused, never inconclusive.
    let versions: Vec<(String, Option<bool>)> = fact["versions"]
        .as_array()
        .unwrap_or_else(|| panic!("no versions: {context}"))
        .iter()
        .map(|v| (v["version"].as_str().unwrap().to_string(), v["accepted"].as_bool()))
        .collect();
    let expected: Vec<(String, Option<bool>)> =
        legacy.versions.iter().map(|(v, accepted)| (v.to_string(), Some(*accepted))).collect();
    assert_eq!(versions, expected, "{context}");

    let context = format!("{context}\nreport: {report:#}");
    let connect = finding(&report, "TLS-CON-01", &context);
    let message = connect["message"].as_str().unwrap();
    assert_eq!(connect["status"], "fail", "{context}");
    assert!(
        message.contains("a modern TLS client") && message.contains("cannot complete a handshake"),
        "TLS-CON-01: {message}\n{context}"
    );

    let accepted: Vec<&str> = legacy.versions.iter().filter(|(_, a)| *a).map(|(v, _)| *v).collect();
    let version = finding(&report, "TLS-VER-01", &context);
    let message = version["message"].as_str().unwrap();
    if accepted.contains(&"TLS 1.2") {
        assert_eq!(version["status"], "pass", "{context}");
        assert_eq!(message, format!("accepts {}", accepted.join(", ")), "{context}");
    } else {
        assert_eq!(version["status"], "fail", "{context}");
        assert_eq!(message, format!("does not accept TLS 1.2 (accepts: {})", accepted.join(", ")), "{context}");
    }

    let key = finding(&report, "TLS-KEY-01", &context);
    assert_eq!(key["status"], "fail", "{context}");
    assert!(key["message"].as_str().unwrap().contains("RSA 1024 bits"), "TLS-KEY-01: {key}");

    let signature = finding(&report, "TLS-SIG-01", &context);
    assert_eq!(signature["status"], "fail", "{context}");
    assert!(signature["message"].as_str().unwrap().contains("SHA-1"), "TLS-SIG-01: {signature}");

    // A critical rule failed.
    assert_eq!(code, Some(1), "{context}");
}

#[test]
fn a_tls_1_0_only_edge() {
    check(&TLS10_ONLY);
}

#[test]
fn a_tls_1_2_edge_with_only_rsa_key_exchange_and_cbc() {
    check(&RSA_KX_CBC_ONLY);
}

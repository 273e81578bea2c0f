//! The SIP probe against a real SIP server: Kamailio with its TLS module on
//! loopback, found through the federation SRV record of an in-process DNS
//! server, with and without a required client certificate.

use crate::common;
use crate::peers;
use common::{fedscan, findings, json_of, read_json};
use peers::dns::{DnsServer, federation_zone};
use peers::kamailio::Kamailio;
use peers::tls::{LeafSpec, Pki};
use serde_json::Value;

struct Deployment {
    kamailio: Kamailio,
    dns: DnsServer,
    dir: tempfile::TempDir,
}

fn deploy(pki: &Pki, client_ca: Option<&Pki>) -> Option<Deployment> {
    deploy_with_method(pki, client_ca, "TLSv1.2+")
}

fn deploy_with_method(pki: &Pki, client_ca: Option<&Pki>, method: &str) -> Option<Deployment> {
    let kamailio = Kamailio::start_with_method(
        &pki.leaf(&LeafSpec::default()),
        client_ca.map(|ca| ca.root_pem()).as_deref(),
        method,
    )?;
    let port = kamailio.addr.port();
    let dns = DnsServer::start(&[("contoso.com", &federation_zone("contoso.com", port))]);
    let dir = tempfile::tempdir().unwrap();
    pki.write_root(dir.path());
    Some(Deployment { kamailio, dns, dir })
}

fn scan(deployment: &Deployment, extra: &[&str]) -> (Value, Value) {
    let facts = deployment.dir.path().join("facts.json");
    let output = fedscan()
        .args(["scan", "contoso.com", "--format", "json", "--timeout", "3", "--now", "2026-06-01T00:00:00Z"])
        .args(["--resolver", &deployment.dns.resolver_arg(), "--trust"])
        .arg(deployment.dir.path().join("root.pem"))
        .args(extra)
        .arg("--save-facts")
        .arg(&facts)
        .output()
        .unwrap();
    let facts = read_json(&facts);
    (json_of(&output), facts)
}

fn sip_finding(report: &Value) -> Value {
    let found = findings(report, "SIP-OPT-01");
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

#[test]
fn kamailio_answers_options_with_200() {
    let pki = Pki::new("Contoso");
    let Some(deployment) = deploy(&pki, None) else { return };
    let (report, facts) = scan(&deployment, &[]);
    let finding = sip_finding(&report);
    assert_eq!(finding["status"], "pass", "{finding}");
    let message = finding["message"].as_str().unwrap();
    assert!(message.starts_with("SIP/2.0 200 OK from kamailio"), "{message}");
    let exchange = &facts["sip"][0];
    assert_eq!(exchange["port"], deployment.kamailio.addr.port());
    assert_eq!(exchange["domain"], "contoso.com");
    let headers = exchange["response"]["headers"].as_array().unwrap();
    assert!(headers.iter().any(|h| h[0] == "Allow" && h[1].as_str().unwrap().contains("OPTIONS")), "{headers:?}");
    assert!(headers.iter().any(|h| h[0] == "CSeq" && h[1] == "1 OPTIONS"));
    assert_eq!(findings(&report, "TLS-CON-01")[0]["status"], "pass");
}

#[test]
fn a_required_client_certificate_is_reported_then_satisfied() {
    let pki = Pki::new("Contoso");
    let partners = Pki::new("Partner CA");
    let Some(deployment) = deploy(&pki, Some(&partners)) else { return };

    let (report, facts) = scan(&deployment, &[]);
    let finding = sip_finding(&report);
    assert_eq!(finding["status"], "pass", "an Access Edge behaves so: {finding}");
    assert!(finding["message"].as_str().unwrap().contains("a client certificate is required"), "{finding}");
    assert_eq!(facts["sip"][0]["outcome"], "client_certificate_required");
    assert_eq!(facts["sip"][0]["client_certificate"], false);
    assert_eq!(findings(&report, "TLS-MTLS-01")[0]["status"], "pass");

    // With the organization's own certificate (here, one the Edge trusts).
    let client = partners.leaf(&LeafSpec {
        common_name: "sip.fabrikam.com".into(),
        sans: vec!["sip.fabrikam.com".into()],
        ..Default::default()
    });
    let cert = deployment.dir.path().join("client.pem");
    let key = deployment.dir.path().join("client.key");
    std::fs::write(&cert, client.chain_pem()).unwrap();
    std::fs::write(&key, client.key_pem()).unwrap();
    let (report, facts) =
        scan(&deployment, &["--client-cert", cert.to_str().unwrap(), "--client-key", key.to_str().unwrap()]);
    let finding = sip_finding(&report);
    assert!(finding["message"].as_str().unwrap().starts_with("SIP/2.0 200 OK"), "{finding}");
    assert_eq!(facts["sip"][0]["client_certificate"], true);
}

/// On TLS 1.2 the Edge ends the handshake itself when no client certificate
/// comes: the handshake, the certificate rules and the SIP probe all say so
/// instead of calling the Edge broken.
#[test]
fn a_tls12_edge_that_requires_a_client_certificate_is_not_called_broken() {
    let pki = Pki::new("Contoso");
    let partners = Pki::new("Partner CA");
    let Some(deployment) = deploy_with_method(&pki, Some(&partners), "TLSv1.2") else { return };
    let (report, facts) = scan(&deployment, &[]);
    assert_eq!(facts["tls"][0]["outcome"], "client_certificate_required", "{}", facts["tls"]);
    let connect = &findings(&report, "TLS-CON-01")[0];
    assert_eq!(connect["status"], "pass", "{connect}");
    assert!(connect["message"].as_str().unwrap().contains("request for a client certificate"), "{connect}");
    for rule in ["TLS-MTLS-01", "TLS-NAME-01", "TLS-CHAIN-01"] {
        assert_eq!(findings(&report, rule)[0]["status"], "pass", "{rule}: {:?}", findings(&report, rule));
    }
    let finding = sip_finding(&report);
    assert_eq!(finding["status"], "pass", "{finding}");
    assert_eq!(facts["sip"][0]["outcome"], "client_certificate_required");
}

/// Stopping Kamailio stops every process it forked (its workers outlived the
/// main process before): nothing of a stopped peer keeps running after the
/// test suite.
#[test]
fn a_stopped_kamailio_leaves_no_process_behind() {
    let pki = Pki::new("Contoso");
    let Some(kamailio) = Kamailio::start(&pki.leaf(&LeafSpec::default()), None) else { return };
    let group = kamailio.group();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while peers::group_members(group).len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(peers::group_members(group).len() > 1, "Kamailio forks its workers");
    drop(kamailio);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !peers::group_members(group).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(peers::group_members(group), Vec::<u32>::new(), "processes of the stopped peer remain");
}

/// OPTIONS on the TLS probe's own connection or on one of its own: Kamailio,
/// with and without a required client certificate, on TLS 1.2 and 1.3, gives
/// the same findings either way.
#[test]
fn the_same_findings_with_and_without_connection_reuse() {
    let pki = Pki::new("Contoso");
    let partners = Pki::new("Partner CA");
    for (name, client_ca, method) in [
        ("open", None, "TLSv1.2+"),
        ("mutual TLS", Some(&partners), "TLSv1.2+"),
        ("mutual TLS 1.2", Some(&partners), "TLSv1.2"),
    ] {
        let Some(deployment) = deploy_with_method(&pki, client_ca, method) else { return };
        let brief = |report: &Value| common::finding_keys(report, &str::to_string);
        let (reused, _) = scan(&deployment, &[]);
        let (own, _) = scan(&deployment, &["--sip-own-connection"]);
        let (reused, own) = (brief(&reused), brief(&own));
        assert!(reused.iter().any(|f| f.0 == "SIP-OPT-01" && f.2 == "pass"), "{name}: {reused:#?}");
        let differ: Vec<_> = reused.iter().zip(&own).filter(|(a, b)| a != b).collect();
        assert!(differ.is_empty() && reused.len() == own.len(), "{name}: {differ:#?}");
    }
}

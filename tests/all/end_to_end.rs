//! One scan the way an administrator runs it: the sample deployment's
//! configuration snapshot, its public DNS (an in-process DNS server), its
//! Access Edge (Kamailio with TLS, asking for a client certificate) and a
//! partner whose Edge does not answer, audited by the real binary in one
//! command. The facts it saves then replay to the same findings.

use crate::common;
use crate::peers;
use std::collections::BTreeSet;
use std::net::TcpListener;

use common::{fedscan, json_of, read_json, root};
use peers::dns::{DnsServer, zone};
use peers::kamailio::Kamailio;
use peers::tls::{LeafSpec, Pki};
use serde_json::Value;

const NOW: &str = "2026-06-01T00:00:00Z";

/// A loopback port on 127.0.0.2 that nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.2:0").unwrap().local_addr().unwrap().port()
}

/// (rule, target, status) of every finding that is not a pass, with the
/// ports the test picked replaced by what they stand for.
fn problems(report: &Value, ports: &[(u16, &str)]) -> BTreeSet<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] != "pass" && f["status"] != "skip")
        .map(|f| {
            let mut target = f["target"].as_str().unwrap_or_default().to_string();
            for (port, name) in ports {
                target = target.replace(&format!(":{port}"), &format!(":{name}"));
            }
            (f["rule"].as_str().unwrap().to_string(), target, f["status"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn the_whole_federation_path_in_one_scan_then_replayed() {
    let pki = Pki::new("Contoso");
    let partners = Pki::new("Partner CA");
    let Some(edge) = Kamailio::start(&pki.leaf(&LeafSpec::default()), Some(&partners.root_pem())) else { return };
    let port = edge.addr.port();
    let partner_port = closed_port();
    let dns = DnsServer::start(&[
        (
            "contoso.com",
            &zone(
                "contoso.com",
                &format!(
                    "_sipfederationtls._tcp 300 IN SRV 0 0 {port} sip.contoso.com.\n\
                     _sip._tls 300 IN SRV 0 0 443 sip.contoso.com.\n\
                     sip 300 IN A 127.0.0.1\n\
                     lyncdiscover 300 IN A 127.0.0.1"
                ),
            ),
        ),
        (
            // The federation record points at another domain's host and the
            // client record is missing.
            "contoso.net",
            &zone(
                "contoso.net",
                &format!(
                    "_sipfederationtls._tcp 300 IN SRV 0 0 {port} sip.contoso.com.\n\
                     lyncdiscover 300 IN A 127.0.0.1"
                ),
            ),
        ),
        (
            "fabrikam.com",
            &zone(
                "fabrikam.com",
                &format!(
                    "_sipfederationtls._tcp 300 IN SRV 0 0 {partner_port} sip.fabrikam.com.\nsip 300 IN A 127.0.0.2"
                ),
            ),
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let trust = pki.write_root(dir.path());
    let saved = dir.path().join("facts.json");

    let live = fedscan()
        .args(["scan", "--config"])
        .arg(root("fixtures/sample/contoso-lync2013.txt"))
        .args(["--resolver", &dns.resolver_arg(), "--edge", &format!("sip.contoso.com:{port}")])
        .args(["--partner", "fabrikam.com", "--timeout", "3", "--dns-attempts", "1", "--now", NOW])
        .arg("--trust")
        .arg(&trust)
        .args(["--format", "json", "--save-facts"])
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(live.status.code(), Some(1), "failures exit 1: {}", String::from_utf8_lossy(&live.stderr));
    let report = json_of(&live);
    let ports = [(port, "EDGE"), (partner_port, "PARTNER")];

    // Every kind of fact was gathered in the one run.
    let facts = read_json(&saved);
    for kind in ["dns", "tls", "sip"] {
        assert!(facts[kind].as_array().is_some_and(|a| !a.is_empty()), "no {kind} facts: {facts}");
    }

    let pass = |rule: &str, target: &str| {
        let found = report["findings"].as_array().unwrap().iter().any(|f| {
            f["rule"] == rule && f["status"] == "pass" && f["target"].as_str().is_some_and(|t| t.starts_with(target))
        });
        assert!(found, "{rule} does not pass for {target}");
    };
    // The healthy steps of contoso.com's path.
    pass("DNS-FED-01", "contoso.com");
    pass("TLS-CON-01", "sip.contoso.com:");
    pass("TLS-MTLS-01", "sip.contoso.com:");
    pass("SIP-OPT-01", "sip.contoso.com:");
    // The partner's failure names the step that broke.
    let partner = common::findings(&report, "SIP-OPT-03");
    let message = partner.iter().find(|f| f["target"] == "fabrikam.com").unwrap()["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("TLS: sip.fabrikam.com:{partner_port}")), "{message}");

    let expected: BTreeSet<(String, String, String)> = EXPECTED
        .iter()
        .map(|(rule, target, status)| (rule.to_string(), target.to_string(), status.to_string()))
        .collect();
    let found = problems(&report, &ports);
    assert_eq!(
        found,
        expected,
        "missing: {:#?}\nunexpected: {:#?}",
        expected.difference(&found).collect::<Vec<_>>(),
        found.difference(&expected).collect::<Vec<_>>()
    );

    // The saved facts, scanned without any network, give the same findings.
    drop(edge);
    drop(dns);
    let replay = fedscan().args(["scan", "--facts"]).arg(&saved).args(["--format", "json"]).output().unwrap();
    assert_eq!(replay.status.code(), Some(1), "{}", String::from_utf8_lossy(&replay.stderr));
    assert_eq!(json_of(&replay)["findings"], report["findings"]);
}

/// What is wrong with the sample deployment as served above (skipped rules
/// left out): its configuration's own mistakes, contoso.net's DNS, the
/// loopback addresses (not public, as partners need) and the silent partner.
const EXPECTED: &[(&str, &str, &str)] = &[
    ("CFG-VER-02", "Lync Server 2013", "fail"),
    ("DNS-CLI-01", "contoso.net", "fail"),
    ("DNS-CLI-02", "contoso.net", "fail"),
    ("DNS-FED-04", "contoso.net", "fail"),
    ("DNS-FED-09", "contoso.com", "fail"),
    ("DNS-FED-09", "contoso.net", "fail"),
    ("PROV-DOM-06", "AllowedDomain[fabrikam.com]", "fail"),
    ("PROV-HP-09", "HostingProvider[LyncOnline]", "fail"),
    ("PROV-PIC-09", "PublicProvider[Yahoo]", "fail"),
    ("PROV-PIC-10", "PublicProvider[Skype]", "fail"),
    ("SIP-OPT-03", "fabrikam.com", "fail"),
];

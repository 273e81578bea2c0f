//! Batches of domains: the rules that compare domains with each other judge
//! each organization (the domains that share an Edge) apart, so a batch gives
//! the findings that separate scans give.

mod common;
mod peers;

use std::collections::BTreeSet;

use common::{fedscan, json_of};
use peers::dns::{DnsServer, zone};
use peers::tls::{LeafSpec, Pki, TlsServer};
use serde_json::Value;

/// (rule, target, status, message) of every finding of the rules that ran.
fn findings_of(report: &Value) -> BTreeSet<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("not_run").is_none())
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap_or("").to_string();
            (text("rule"), text("target"), text("status"), text("message"))
        })
        .collect()
}

#[test]
fn two_organizations_in_one_batch_get_the_findings_of_two_scans() {
    // Contoso's Edge serves contoso.test and contoso.net.test but names only
    // the first; it has A and AAAA records. Fabrikam's Edge names its one
    // domain and has only an A record. In one batch, Fabrikam must not be
    // asked to name Contoso's domains, nor Contoso's IPv6 be compared with
    // Fabrikam's IPv4.
    let pki = Pki::new("Batch");
    let contoso_leaf = pki.leaf(&LeafSpec {
        common_name: "sip.contoso.test".into(),
        sans: vec!["sip.contoso.test".into()],
        ..LeafSpec::default()
    });
    let fabrikam_leaf = pki.leaf(&LeafSpec {
        common_name: "sip.fabrikam.test".into(),
        sans: vec!["sip.fabrikam.test".into()],
        ..LeafSpec::default()
    });
    let contoso_edge = TlsServer::start(&contoso_leaf, None);
    let fabrikam_edge = TlsServer::start(&fabrikam_leaf, None);
    let (c, f) = (contoso_edge.addr.port(), fabrikam_edge.addr.port());
    let zones = [
        (
            "contoso.test",
            zone(
                "contoso.test",
                &format!(
                    "_sipfederationtls._tcp 300 IN SRV 0 0 {c} sip.contoso.test.\nsip 300 IN A 127.0.0.1\nsip 300 IN AAAA ::1"
                ),
            ),
        ),
        (
            "contoso.net.test",
            zone("contoso.net.test", &format!("_sipfederationtls._tcp 300 IN SRV 0 0 {c} sip.contoso.test.")),
        ),
        (
            "fabrikam.test",
            zone(
                "fabrikam.test",
                &format!("_sipfederationtls._tcp 300 IN SRV 0 0 {f} sip.fabrikam.test.\nsip 300 IN A 127.0.0.1"),
            ),
        ),
    ];
    let pairs: Vec<(&str, &str)> = zones.iter().map(|(name, text)| (*name, text.as_str())).collect();
    let dns = DnsServer::start(&pairs);
    let dir = tempfile::tempdir().unwrap();
    let root = pki.write_root(dir.path());
    let scan = |domains: &[&str]| -> Value {
        let output = fedscan()
            .arg("scan")
            .args(domains)
            .args(["--resolver", &dns.addr.to_string(), "--timeout", "2", "--format", "json", "--trust"])
            .arg(&root)
            .output()
            .unwrap();
        json_of(&output)
    };
    let batch = scan(&["contoso.test", "contoso.net.test", "fabrikam.test"]);
    let contoso = scan(&["contoso.test", "contoso.net.test"]);
    let fabrikam = scan(&["fabrikam.test"]);
    let apart: BTreeSet<_> = findings_of(&contoso).union(&findings_of(&fabrikam)).cloned().collect();
    let together = findings_of(&batch);
    let only_batch: Vec<_> = together.difference(&apart).collect();
    let only_apart: Vec<_> = apart.difference(&together).collect();
    assert!(only_batch.is_empty() && only_apart.is_empty(), "batch only: {only_batch:#?}\napart only: {only_apart:#?}");
    // And the findings say what they should.
    let status = |rule: &str, target: &str| -> Vec<String> {
        together.iter().filter(|f| f.0 == rule && f.1 == target).map(|f| f.2.clone()).collect()
    };
    assert_eq!(status("TLS-NAME-04", &format!("sip.contoso.test:{c}")), ["fail"], "contoso.net.test is not named");
    assert_eq!(status("TLS-NAME-04", &format!("sip.fabrikam.test:{f}")), ["pass"]);
    // Judged under each organization's first domain (in the scan's order).
    assert_eq!(status("DNS-IPV6-01", "contoso.net.test"), ["pass"], "Contoso's one Edge host is dual-stacked");
    assert_eq!(status("DNS-IPV6-01", "fabrikam.test"), ["pass"], "Fabrikam is IPv4 only, consistently");
}

//! Live DNS discovery and the DNS rules, against real authoritative servers
//! on loopback: hickory-server in process for most scenarios, Knot DNS for
//! the same scenario from an independent implementation, and purpose-built
//! hostile responders.

use crate::common;
use crate::peers;
use std::time::{Duration, Instant};

use common::{fedscan, findings, json_of, read_json, statuses};
use peers::dns::{Behaviour, DnsServer, Responder, microsoft_zone, zone};
use peers::knot::Knot;
use serde_json::Value;

/// A deployment that does everything right: contoso.com's Edge is
/// sip.contoso.com at a public address, with A and AAAA.
fn contoso_zone() -> String {
    zone(
        "contoso.com",
        "_sipfederationtls._tcp 300 IN SRV 0 0 5061 sip.contoso.com.
_sip._tls 300 IN SRV 0 0 443 sip.contoso.com.
sip 300 IN A 52.160.10.20
sip 300 IN AAAA 2603:1030:10::20
lyncdiscover 300 IN A 52.160.10.30
lyncdiscover 300 IN AAAA 2603:1030:10::30",
    )
}

/// The zones' addresses are public ones, which no test may connect to: these
/// scans deselect the TLS rules, so nothing beyond DNS is probed.
const NO_TLS: [&str; 2] = ["--skip", "TLS-*"];

fn scan(resolver: &str, args: &[&str]) -> (Value, Option<i32>) {
    let output = fedscan()
        .args(["scan", "--format", "json", "--timeout", "1", "--dns-attempts", "1", "--resolver", resolver])
        .args(NO_TLS)
        .args(args)
        .output()
        .unwrap();
    (json_of(&output), output.status.code())
}

/// Runs `check` against each authoritative implementation serving `zones`:
/// hickory-server in process, then Knot DNS.
fn on_each_server(zones: &[(&str, &str)], check: impl Fn(&str, &str)) {
    let hickory = DnsServer::start(zones);
    check("hickory-server", &hickory.resolver_arg());
    drop(hickory);
    if let Some(knot) = Knot::start(zones) {
        check("knot", &knot.resolver_arg());
    }
}

fn rule_statuses(report: &Value, rules: &[&str], target: &str) -> Vec<(String, Vec<String>)> {
    rules.iter().map(|r| (r.to_string(), statuses(report, r, target))).collect()
}

const FEDERATION_RULES: &[&str] = &[
    "DNS-FED-01",
    "DNS-FED-02",
    "DNS-FED-03",
    "DNS-FED-04",
    "DNS-FED-05",
    "DNS-FED-06",
    "DNS-FED-09",
    "DNS-CLI-01",
    "DNS-CLI-02",
    "DNS-CLI-03",
];

#[test]
fn a_correct_deployment_passes_every_dns_rule() {
    on_each_server(&[("contoso.com", &contoso_zone())], |server, resolver| {
        let (report, code) = scan(resolver, &["contoso.com", "--edge", "sip.contoso.com"]);
        for (rule, got) in rule_statuses(&report, FEDERATION_RULES, "contoso.com") {
            assert_eq!(got, ["pass"], "{server} {rule}: {:?}", findings(&report, &rule));
        }
        assert_eq!(statuses(&report, "DNS-IPV6-01", "contoso.com"), ["pass"], "{server}");
        assert_eq!(code, Some(0), "{server}: {}", report["summary"]);
    });
    let server = DnsServer::start(&[("contoso.com", &contoso_zone())]);
    // Each question once: the SRV target sip.contoso.com is also sip.<domain>.
    let facts_file = tempfile::NamedTempFile::new().unwrap();
    fedscan()
        .args([
            "scan",
            "--timeout",
            "1",
            "--resolver",
            &server.resolver_arg(),
            "contoso.com",
            "--skip",
            "TLS-*",
            "--save-facts",
        ])
        .arg(facts_file.path())
        .assert()
        .code(0);
    let facts = read_json(facts_file.path());
    let questions: Vec<(String, String)> = facts["dns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap().to_string(), f["type"].as_str().unwrap().to_string()))
        .collect();
    let mut unique = questions.clone();
    unique.dedup();
    assert_eq!(questions, unique);
    assert!(questions.contains(&("sip.contoso.com".into(), "AAAA".into())));
    let srv = facts["dns"].as_array().unwrap().iter().find(|f| f["type"] == "SRV").unwrap();
    assert_eq!(srv["records"][0]["ttl"], 300, "TTLs are reported as served");
}

#[test]
fn the_port_given_with_edge_is_the_expected_federation_port() {
    let server = DnsServer::start(&[("contoso.com", &contoso_zone())]);
    let (report, _) = scan(&server.resolver_arg(), &["contoso.com", "--edge", "sip.contoso.com:5062"]);
    assert_eq!(statuses(&report, "DNS-FED-02", "contoso.com"), ["fail"]);
    let message = findings(&report, "DNS-FED-02")[0]["message"].as_str().unwrap().to_string();
    assert!(message.contains("the port given with --edge (5062)"), "{message}");
}

#[test]
fn the_target_must_be_directly_inside_the_sip_domain() {
    let zones = [
        (
            "contoso.com",
            zone(
                "contoso.com",
                "_sipfederationtls._tcp 300 IN SRV 0 0 5061 sip.it.contoso.com.
sip.it 300 IN A 52.160.10.21",
            ),
        ),
        ("fabrikam.com", zone("fabrikam.com", "_sipfederationtls._tcp 300 IN SRV 0 0 5061 sip.fabrikam-edge.com.")),
        ("fabrikam-edge.com", zone("fabrikam-edge.com", "sip 300 IN A 52.160.10.22")),
        (
            "litware.com",
            zone(
                "litware.com",
                "_sipfederationtls._tcp 300 IN SRV 0 0 5061 sip.litware.com.\nsip 300 IN A 52.160.10.23",
            ),
        ),
    ];
    let zones: Vec<(&str, &str)> = zones.iter().map(|(o, z)| (*o, z.as_str())).collect();
    let server = DnsServer::start(&zones);
    let (report, code) = scan(&server.resolver_arg(), &["contoso.com", "fabrikam.com", "litware.com"]);
    assert_eq!(statuses(&report, "DNS-FED-04", "contoso.com"), ["fail"]);
    assert_eq!(statuses(&report, "DNS-FED-04", "fabrikam.com"), ["fail"]);
    assert_eq!(statuses(&report, "DNS-FED-04", "litware.com"), ["pass"]);
    assert_eq!(code, Some(1));
    let message =
        findings(&report, "DNS-FED-04").iter().find(|f| f["target"] == "fabrikam.com").unwrap()["message"].clone();
    assert!(message.as_str().unwrap().contains("sip.fabrikam-edge.com"), "{message}");
}

#[test]
fn missing_records_fail_and_dependent_rules_skip_once() {
    on_each_server(&[("contoso.com", &zone("contoso.com", "www 300 IN A 52.160.10.40"))], |server, resolver| {
        let (report, code) = scan(resolver, &["contoso.com"]);
        assert_eq!(statuses(&report, "DNS-FED-01", "contoso.com"), ["fail"], "{server}");
        let message = &findings(&report, "DNS-FED-01")[0]["message"];
        assert!(message.as_str().unwrap().contains("NXDOMAIN (negative TTL 300 s)"), "{server}: {message}");
        for rule in ["DNS-FED-02", "DNS-FED-04", "DNS-FED-05", "DNS-FED-09"] {
            assert_eq!(statuses(&report, rule, "contoso.com"), ["skip"], "{server} {rule}");
        }
        assert_eq!(code, Some(1), "{server}");
    });
}

#[test]
fn non_public_and_alias_targets() {
    let text = zone(
        "contoso.com",
        "_sipfederationtls._tcp 300 IN SRV 0 0 5061 sip.contoso.com.
_sipfederationtls._tcp 300 IN SRV 10 0 5061 edge2.contoso.com.
sip 300 IN A 127.0.0.1
edge2 300 IN CNAME edge3.contoso.com.
edge3 300 IN A 10.0.0.1",
    );
    on_each_server(&[("contoso.com", &text)], |server, resolver| {
        let (report, _) = scan(resolver, &["contoso.com"]);
        let public = findings(&report, "DNS-FED-09");
        assert!(public.iter().all(|f| f["status"] == "fail"), "{server}: {public:?}");
        assert!(public.iter().any(|f| f["message"].as_str().unwrap().contains("127.0.0.1")));
        assert!(public.iter().any(|f| f["message"].as_str().unwrap().contains("10.0.0.1")));
        let resolves = findings(&report, "DNS-FED-05");
        let alias = resolves.iter().find(|f| f["message"].as_str().unwrap().contains("edge2.contoso.com")).unwrap();
        assert_eq!(
            (alias["status"].as_str(), alias["severity"].as_str()),
            (Some("fail"), Some("medium")),
            "{server}: {alias}"
        );
    });
}

#[test]
fn microsoft_365_domains_of_a_real_zone_pass_the_online_profile() {
    // ministryofjustice/dns-iac's records. Route53 takes record values as
    // absolute names, so targets written without a trailing dot are served
    // as the absolute names they are.
    let text = std::fs::read_to_string(common::root("tests/data/dns-iac/moj_dns-iac_sfb_records.zone")).unwrap();
    let mut zones: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("; ---- zone ") {
            zones.push((name.trim().to_string(), String::new()));
        } else if !line.starts_with(';') && !line.trim().is_empty() {
            let mut fields: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            let names_a_host = matches!(fields.get(3).map(String::as_str), Some("CNAME" | "SRV" | "MX" | "NS"));
            let last = fields.last_mut().unwrap();
            if names_a_host && !last.ends_with('.') {
                last.push('.');
            }
            zones.last_mut().unwrap().1.push_str(&format!("{}\n", fields.join(" ")));
        }
    }
    let mut served: Vec<(String, String)> = zones.iter().map(|(o, body)| (o.clone(), zone(o, body))).collect();
    served.push(("online.lync.com".into(), microsoft_zone()));
    let refs: Vec<(&str, &str)> = served.iter().map(|(o, z)| (o.as_str(), z.as_str())).collect();
    let server = DnsServer::start(&refs);

    let online = ["devl.justice.gov.uk", "hmiprisons.gov.uk", "hmiprobation.gov.uk", "judicialappointments.gov.uk"];
    let mut args: Vec<&str> = online.to_vec();
    args.extend(["test.digital.justice.gov.uk", "--profile", "online"]);
    let (report, code) = scan(&server.resolver_arg(), &args);
    for domain in online {
        for rule in ["DNS-FED-01", "DNS-FED-08", "DNS-ONL-01", "DNS-ONL-02", "DNS-ONL-03"] {
            assert_eq!(statuses(&report, rule, domain), ["pass"], "{rule} {domain}: {:?}", findings(&report, rule));
        }
    }
    // Its record is misspelt `_sipfederationtls.tcp`: the domain has none.
    assert_eq!(statuses(&report, "DNS-FED-01", "test.digital.justice.gov.uk"), ["fail"]);
    assert_eq!(statuses(&report, "DNS-ONL-01", "test.digital.justice.gov.uk"), ["pass"]);
    assert_eq!(code, Some(1));

    // The domains that federate through their own Edge, judged by their
    // targets: the SIP domain is the owner name without the service labels.
    let mut own: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for line in text.lines().filter(|l| l.starts_with("_sipfederationtls._tcp.")) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let target = fields.last().unwrap().trim_end_matches('.').to_string();
        if target != "sipfed.online.lync.com" {
            let domain = fields[0].trim_start_matches("_sipfederationtls._tcp.").trim_end_matches('.').to_string();
            own.entry(domain).or_default().push(target);
        }
    }
    assert!(!own.is_empty());
    for (domain, targets) in &own {
        let (report, _) = scan(&server.resolver_arg(), &[domain.as_str()]);
        let inside = targets.iter().all(|t| {
            t.strip_suffix(domain.as_str()).and_then(|l| l.strip_suffix('.')).is_some_and(|l| !l.contains('.'))
        });
        let expected = if inside { "pass" } else { "fail" };
        assert_eq!(statuses(&report, "DNS-FED-04", domain), [expected], "{domain}: {targets:?}");
        assert_eq!(statuses(&report, "DNS-FED-01", domain), ["pass"], "{domain}");
    }
}

#[test]
fn hostile_resolvers_end_in_error_within_the_timeout() {
    for behaviour in [Behaviour::ServFail, Behaviour::Refused, Behaviour::Silent] {
        let responder = Responder::start(behaviour);
        let started = Instant::now();
        let (report, code) = scan(&responder.addr.to_string(), &["contoso.com"]);
        let elapsed = started.elapsed();
        assert_eq!(statuses(&report, "DNS-FED-01", "contoso.com"), ["error"], "{behaviour:?}");
        assert_eq!(code, Some(3), "{behaviour:?}: {}", report["summary"]);
        // One attempt of one second per question, all asked concurrently.
        assert!(elapsed < Duration::from_secs(6), "{behaviour:?} took {elapsed:?}");
        let message = findings(&report, "DNS-FED-01")[0]["message"].as_str().unwrap().to_string();
        let expected = match behaviour {
            Behaviour::ServFail => "SERVFAIL",
            Behaviour::Refused => "REFUSED",
            _ => "no answer (timeout)",
        };
        assert!(message.contains(expected), "{behaviour:?}: {message}");
    }
}

#[test]
fn truncated_answers_are_asked_again_over_tcp() {
    let responder = Responder::start(Behaviour::Truncating);
    let (report, _) = scan(&responder.addr.to_string(), &["contoso.com"]);
    assert_eq!(statuses(&report, "DNS-FED-01", "contoso.com"), ["pass"], "{:?}", findings(&report, "DNS-FED-01"));
    assert_eq!(statuses(&report, "DNS-FED-05", "contoso.com"), ["pass"]);
}

#[test]
fn a_cname_loop_is_reported_not_followed_forever() {
    let responder = Responder::start(Behaviour::CnameLoop);
    let started = Instant::now();
    let (report, _) = scan(&responder.addr.to_string(), &["a.loop.test"]);
    assert!(started.elapsed() < Duration::from_secs(6));
    let host = findings(&report, "DNS-CLI-02");
    assert!(host.iter().all(|f| f["status"] == "error" || f["status"] == "fail"), "{host:?}");
}

#[test]
fn an_srv_set_of_500_records_is_bounded() {
    let mut body = String::new();
    for i in 0..500 {
        body.push_str(&format!(
            "_sipfederationtls._tcp 300 IN SRV {} 1 5061 e{i}.big.com.\ne{i} 300 IN A 52.160.{}.{}\n",
            i % 7,
            i / 250,
            i % 250 + 1
        ));
    }
    let server = DnsServer::start(&[("big.com", &zone("big.com", &body))]);
    let started = Instant::now();
    let facts = tempfile::NamedTempFile::new().unwrap();
    let output = fedscan()
        .args([
            "scan",
            "--format",
            "json",
            "--timeout",
            "2",
            "--resolver",
            &server.resolver_arg(),
            "big.com",
            "--skip",
            "TLS-*",
            "--save-facts",
        ])
        .arg(facts.path())
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(20));
    let report = json_of(&output);
    let present = &findings(&report, "DNS-FED-01")[0];
    assert_eq!(present["status"], "pass");
    assert_eq!(present["evidence"]["answer"]["records"].as_array().unwrap().len(), 500);
    let facts = read_json(facts.path());
    let followed =
        facts["dns"].as_array().unwrap().iter().filter(|f| f["name"].as_str().unwrap().starts_with('e')).count();
    assert_eq!(followed, 2 * 32, "A and AAAA for the first 32 targets only");
    assert_eq!(statuses(&report, "DNS-FED-06", "big.com"), ["fail"], "ties on priority and weight");
}

#[test]
fn split_brain_views_are_compared() {
    let outside = DnsServer::start(&[("contoso.com", &contoso_zone())]);
    let inside = DnsServer::start(&[(
        "contoso.com",
        &zone(
            "contoso.com",
            "_sipfederationtls._tcp 300 IN SRV 0 0 5061 edge-int.contoso.com.\nlyncdiscover 300 IN A 10.1.1.1",
        ),
    )]);
    let (report, _) = scan(&outside.resolver_arg(), &["contoso.com", "--internal-resolver", &inside.resolver_arg()]);
    assert_eq!(statuses(&report, "DNS-SPLIT-01", "contoso.com"), ["fail"]);
    assert_eq!(statuses(&report, "DNS-SPLIT-02", "contoso.com"), ["fail"]);
    let (report, _) = scan(&outside.resolver_arg(), &["contoso.com"]);
    assert_eq!(statuses(&report, "DNS-SPLIT-01", "DNS"), ["skip"]);
}

#[test]
fn recorded_dns_facts_replay_to_identical_findings() {
    let server = DnsServer::start(&[("contoso.com", &contoso_zone())]);
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let first = fedscan()
        .args([
            "scan",
            "--format",
            "json",
            "--resolver",
            &server.resolver_arg(),
            "contoso.com",
            "--skip",
            "TLS-*",
            "--save-facts",
        ])
        .arg(&facts)
        .output()
        .unwrap();
    drop(server);
    let replay =
        fedscan().args(["scan", "--format", "json", "--skip", "TLS-*", "--facts"]).arg(&facts).output().unwrap();
    assert_eq!(first.status.code(), replay.status.code());
    assert_eq!(json_of(&first)["findings"], json_of(&replay)["findings"]);
}

#[test]
fn knot_serves_the_same_verdicts_as_hickory() {
    let text = contoso_zone();
    let Some(knot) = Knot::start(&[("contoso.com", &text)]) else { return };
    let hickory = DnsServer::start(&[("contoso.com", &text)]);
    let (from_knot, code_knot) = scan(&knot.resolver_arg(), &["contoso.com", "--edge", "sip.contoso.com"]);
    let (from_hickory, code_hickory) = scan(&hickory.resolver_arg(), &["contoso.com", "--edge", "sip.contoso.com"]);
    let verdicts = |report: &Value| -> Vec<(String, String, String)> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"].as_str().unwrap().starts_with("DNS-"))
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().into(),
                    f["status"].as_str().unwrap().into(),
                    f["message"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    assert_eq!(verdicts(&from_knot), verdicts(&from_hickory));
    assert_eq!(code_knot, code_hickory);
    let missing = Knot::start(&[("contoso.com", &zone("contoso.com", "www 300 IN A 52.160.10.40"))]).unwrap();
    let (report, _) = scan(&missing.resolver_arg(), &["contoso.com"]);
    let message = findings(&report, "DNS-FED-01")[0]["message"].as_str().unwrap().to_string();
    assert!(message.contains("NXDOMAIN"), "{message}");
}

/// A user's rules about names the built-in pack never asks for: each name
/// is asked once, and judged.
const ORG_RULES: &str = r#"
[[rule]]
id = "ORG-DNS-01"
title = "The meeting simple URL resolves"
severity = "medium"
profiles = ["federation"]
rationale = "Invitations carry https://meet.<domain>/ links."
remediation = "Publish meet.{domain} A and AAAA records for the reverse proxy"
references = ["https://intranet.example/uc/meet"]
[rule.check]
kind = "host_resolves"
host = "meet"

[[rule]]
id = "ORG-DNS-02"
title = "Internal SIP clients find the pool"
severity = "medium"
profiles = ["federation"]
rationale = "Clients sign in through the internal TLS service record."
remediation = "Publish _sipinternaltls._tcp.{domain} SRV 0 0 5061 pool.{domain}"
references = ["https://intranet.example/uc/srv"]
[rule.check]
kind = "srv_present"
service = "_sipinternaltls._tcp"
port = 5061
"#;

#[test]
fn a_users_dns_rules_on_any_name_are_asked_once_and_judged() {
    let dir = tempfile::tempdir().unwrap();
    common::write(dir.path(), "org.toml", ORG_RULES);
    let contoso = zone(
        "contoso.com",
        "meet 300 IN A 52.160.10.40\n_sipinternaltls._tcp 300 IN SRV 0 0 5061 pool.contoso.com.\npool 300 IN A 10.0.0.5",
    );
    let fabrikam = zone("fabrikam.com", "sip 300 IN A 52.170.1.5");
    let server = DnsServer::start(&[("contoso.com", &contoso), ("fabrikam.com", &fabrikam)]);
    let facts = dir.path().join("facts.json");
    let output = fedscan()
        .args(["scan", "contoso.com", "fabrikam.com", "--format", "json", "--timeout", "1", "--dns-attempts", "1"])
        .args(["--resolver", &server.resolver_arg(), "--only", "ORG-DNS-01,ORG-DNS-02", "--rules"])
        .arg(dir.path())
        .arg("--save-facts")
        .arg(&facts)
        .output()
        .unwrap();
    let report = json_of(&output);
    assert_eq!(statuses(&report, "ORG-DNS-01", "contoso.com"), ["pass"], "{report:#}");
    assert_eq!(statuses(&report, "ORG-DNS-01", "fabrikam.com"), ["fail"], "{report:#}");
    assert_eq!(statuses(&report, "ORG-DNS-02", "contoso.com"), ["pass"], "{report:#}");
    assert_eq!(statuses(&report, "ORG-DNS-02", "fabrikam.com"), ["fail"], "{report:#}");

    // What was asked: the users' names, each once, the SRV target the
    // report's path follows, and nothing the selected rules do not read.
    let mut asked: Vec<String> = read_json(&facts)["dns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["name"].as_str().unwrap(), f["type"].as_str().unwrap()))
        .collect();
    asked.sort();
    assert_eq!(
        asked,
        [
            "_sipinternaltls._tcp.contoso.com SRV",
            "_sipinternaltls._tcp.fabrikam.com SRV",
            "meet.contoso.com A",
            "meet.contoso.com AAAA",
            "meet.fabrikam.com A",
            "meet.fabrikam.com AAAA",
            "pool.contoso.com A",
            "pool.contoso.com AAAA",
        ]
    );
}

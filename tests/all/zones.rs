//! Planned zones (`--zone`): the fixture zone files (`fixtures/zones/`),
//! each accepted by BIND's `named-checkzone`, judged offline from the files
//! and live from Knot DNS serving the same files, with the same findings:
//! only where the answers came from differs.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::common::{self, fedscan, findings, json_of, root};
use crate::peers;
use peers::knot::Knot;
use serde_json::Value;

const NOW: &str = "2026-12-06T00:00:00Z";

/// Each fixture zone: its origin and file. An on-premises federated domain
/// (contoso.com), a broken one (fabrikam.com, pointing into
/// fabrikam-edge.net), a Teams-only one (northwind.com) and the stand-in
/// for Microsoft 365's hosts, and one answered by a wildcard, with an
/// IPv6-only host and an empty non-terminal (litware.com).
const ZONES: &[(&str, &str)] = &[
    ("contoso.com", "fixtures/zones/contoso.com.zone"),
    ("fabrikam.com", "fixtures/zones/fabrikam.com.zone"),
    ("fabrikam-edge.net", "fixtures/zones/fabrikam-edge.net.zone"),
    ("northwind.com", "fixtures/zones/northwind.com.zone"),
    ("online.lync.com", "fixtures/zones/online.lync.com.zone"),
    ("litware.com", "fixtures/zones/litware.com.zone"),
];

/// The SIP domains the zones plan.
const DOMAINS: &[&str] = &["contoso.com", "fabrikam.com", "northwind.com", "litware.com"];

fn named_checkzone() -> Option<PathBuf> {
    ["/usr/bin/named-checkzone", "/usr/sbin/named-checkzone"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// Every zone given with `--zone`.
fn zone_args() -> Vec<String> {
    ZONES.iter().flat_map(|(_, file)| ["--zone".to_string(), root(file).display().to_string()]).collect()
}

/// (rule, target, status, message) of every finding of a JSON report.
fn verdicts(report: &Value) -> BTreeSet<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |key: &str| f[key].as_str().unwrap_or_default().to_string();
            (text("rule"), text("target"), text("status"), text("message"))
        })
        .collect()
}

fn scan(args: &[String]) -> (Value, Option<i32>) {
    let output = fedscan()
        .args(["scan", "--now", NOW, "--only", "DNS-*", "--format", "json", "--timeout", "2"])
        .args(args)
        .output()
        .unwrap();
    (json_of(&output), output.status.code())
}

#[test]
fn every_fixture_zone_is_a_zone_bind_loads() {
    let Some(checker) = named_checkzone() else {
        assert!(!peers::required(), "named-checkzone is not installed; scripts/test.sh installs bind9-utils");
        eprintln!("named-checkzone is not installed: the zone files were not checked by BIND");
        return;
    };
    for (origin, file) in ZONES.iter().chain(INTERNAL_ZONES) {
        let output = std::process::Command::new(&checker).arg(origin).arg(root(file)).output().unwrap();
        assert!(output.status.success(), "{file}: {}", String::from_utf8_lossy(&output.stdout));
    }
}

#[test]
fn planned_zones_give_the_findings_of_the_same_zones_served_live() {
    let texts = served(ZONES);
    let Some(knot) = Knot::start(&borrowed(&texts)) else { return };
    for domain in DOMAINS {
        let mut planned_args = vec!["--offline".to_string(), domain.to_string()];
        planned_args.extend(zone_args());
        let (planned, planned_code) = scan(&planned_args);
        let (live, live_code) = scan(&[domain.to_string(), "--resolver".into(), knot.resolver_arg()]);
        let (planned_verdicts, live_verdicts) = (verdicts(&planned), verdicts(&live));
        assert!(planned_verdicts.iter().any(|v| v.0 == "DNS-FED-01"), "{domain}: {planned_verdicts:#?}");
        let only_planned: Vec<_> = planned_verdicts.difference(&live_verdicts).collect();
        let only_live: Vec<_> = live_verdicts.difference(&planned_verdicts).collect();
        assert!(
            only_planned.is_empty() && only_live.is_empty(),
            "{domain}: planned only {only_planned:#?}\nlive only {only_live:#?}"
        );
        assert_eq!(planned_code, live_code, "{domain}");
        // The answers say where they came from.
        let resolvers: BTreeSet<&str> =
            findings(&planned, "DNS-FED-01").iter().filter_map(|f| f["evidence"]["resolver"].as_str()).collect();
        assert!(resolvers.iter().all(|r| r.starts_with("zone file ") && r.ends_with(".zone")), "{resolvers:?}");
    }
}

#[test]
fn the_broken_zone_fails_on_each_of_its_mistakes_and_the_good_one_passes_them() {
    let mut args = vec!["--offline".to_string(), "contoso.com".into(), "fabrikam.com".into(), "northwind.com".into()];
    args.extend(zone_args());
    let (report, _) = scan(&args);
    let status = |rule: &str, domain: &str| -> BTreeSet<String> {
        common::statuses(&report, rule, domain).into_iter().collect()
    };
    for rule in ["DNS-FED-01", "DNS-FED-02", "DNS-FED-04", "DNS-FED-06", "DNS-CLI-01"] {
        assert_eq!(status(rule, "contoso.com"), BTreeSet::from(["pass".to_string()]), "{rule} contoso.com");
    }
    // Wrong port, a target in another domain, tied priorities, the alias
    // target, the missing client record.
    for rule in ["DNS-FED-02", "DNS-FED-04", "DNS-FED-06", "DNS-FED-05", "DNS-CLI-01"] {
        assert!(
            status(rule, "fabrikam.com").contains("fail"),
            "{rule} fabrikam.com: {:?}",
            status(rule, "fabrikam.com")
        );
    }
    // Teams only: the records point at Microsoft 365 and pass.
    for rule in ["DNS-FED-01", "DNS-CLI-01", "DNS-CLI-02", "DNS-CLI-03"] {
        assert_eq!(status(rule, "northwind.com"), BTreeSet::from(["pass".to_string()]), "{rule} northwind.com");
    }
}

#[test]
fn a_name_outside_the_planned_zones_is_an_error_offline_never_an_absence() {
    // fabrikam.com's federation record points into fabrikam-edge.net,
    // whose zone is not given.
    let (report, code) =
        scan(&["--offline".into(), "--zone".into(), root("fixtures/zones/fabrikam.com.zone").display().to_string()]);
    let outside: Vec<&Value> = findings(&report, "DNS-FED-05")
        .into_iter()
        .filter(|f| f["message"].as_str().unwrap().contains("sip.fabrikam-edge.net"))
        .collect();
    assert!(!outside.is_empty(), "{:#}", report["findings"]);
    for finding in outside {
        assert_eq!(finding["status"], "error", "{finding:#}");
        assert!(finding["message"].as_str().unwrap().contains("outside the planned zones"), "{finding:#}");
    }
    // Without a domain named, the zone's origin is the domain judged.
    assert_eq!(report["inputs"]["domains"], serde_json::json!(["fabrikam.com"]));
    assert_eq!(code, Some(1), "failures at or above high");
}

#[test]
fn a_zone_file_that_cannot_be_read_is_named_and_the_others_are_judged() {
    let dir = tempfile::tempdir().unwrap();
    let including = common::write(
        dir.path(),
        "including.zone",
        "$ORIGIN including.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n$INCLUDE /etc/passwd\n",
    );
    let garbage = common::write(dir.path(), "garbage.zone", "this is not\x1b[31m a zone ((\n");
    let (report, code) = scan(&[
        "--offline".into(),
        "--zone".into(),
        including.display().to_string(),
        "--zone".into(),
        garbage.display().to_string(),
        "--zone".into(),
        root("fixtures/zones/contoso.com.zone").display().to_string(),
    ]);
    let errors = report["input_errors"].as_array().unwrap();
    let of = |name: &str| errors.iter().find(|e| e["path"].as_str().unwrap().ends_with(name));
    let include = of("including.zone").expect("the $INCLUDE is an input error");
    assert_eq!(include["line"], 4, "{include:#}");
    assert!(include["message"].as_str().unwrap().contains("$INCLUDE"), "{include:#}");
    assert!(of("garbage.zone").is_some(), "{errors:#?}");
    common::assert_inert("the report", &report.to_string());
    assert_eq!(common::statuses(&report, "DNS-FED-01", "contoso.com"), ["pass"]);
    assert_ne!(code, Some(0), "input errors are never all clear");
}

#[test]
fn planned_answers_are_saved_with_the_file_they_came_from_and_replay_to_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("planned.facts.json");
    let mut args = vec!["--offline".to_string(), "--save-facts".into(), saved.display().to_string()];
    args.extend(zone_args());
    let (planned, planned_code) = scan(&args);
    let facts = common::read_json(&saved);
    let resolvers: BTreeSet<&str> =
        facts["dns"].as_array().unwrap().iter().filter_map(|f| f["resolver"].as_str()).collect();
    assert!(!resolvers.is_empty() && resolvers.iter().all(|r| r.starts_with("zone file ")), "{resolvers:?}");
    let (replayed, replayed_code) = scan(&["--facts".into(), saved.display().to_string()]);
    assert_eq!(verdicts(&planned), verdicts(&replayed));
    assert_eq!(planned_code, replayed_code);
}

/// The internal view's fixture zones (split-brain DNS): contoso.com's
/// agrees with the outside, fabrikam.com's does not and publishes
/// lyncdiscover inside.
const INTERNAL_ZONES: &[(&str, &str)] = &[
    ("contoso.com", "fixtures/zones/internal/contoso.com.zone"),
    ("fabrikam.com", "fixtures/zones/internal/fabrikam.com.zone"),
];

/// Each zone's origin and text, as a DNS server is given them.
fn served(zones: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    zones.iter().map(|(origin, file)| (*origin, std::fs::read_to_string(root(file)).unwrap())).collect()
}

fn borrowed<'a>(zones: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    zones.iter().map(|(origin, text)| (*origin, text.as_str())).collect()
}

#[test]
fn planned_internal_zones_give_the_split_brain_findings_of_the_same_views_served_live() {
    let (external, internal) = (served(ZONES), served(INTERNAL_ZONES));
    let Some(outside) = Knot::start(&borrowed(&external)) else { return };
    let Some(inside) = Knot::start(&borrowed(&internal)) else { return };
    let mut planned_args = vec!["--offline".to_string(), "contoso.com".into(), "fabrikam.com".into()];
    planned_args.extend(zone_args());
    for (_, file) in INTERNAL_ZONES {
        planned_args.extend(["--internal-zone".to_string(), root(file).display().to_string()]);
    }
    let (planned, _) = scan(&planned_args);
    let (live, _) = scan(&[
        "contoso.com".into(),
        "fabrikam.com".into(),
        "--resolver".into(),
        outside.resolver_arg(),
        "--internal-resolver".into(),
        inside.resolver_arg(),
    ]);
    let split = |report: &Value| -> BTreeSet<(String, String, String, String)> {
        verdicts(report).into_iter().filter(|v| v.0.starts_with("DNS-SPLIT-")).collect()
    };
    assert_eq!(split(&planned), split(&live));
    let statuses: BTreeSet<(String, String, String)> =
        split(&planned).into_iter().map(|(rule, target, status, _)| (rule, target, status)).collect();
    let expected: BTreeSet<(String, String, String)> = [
        ("DNS-SPLIT-01", "contoso.com", "pass"),
        ("DNS-SPLIT-02", "contoso.com", "pass"),
        ("DNS-SPLIT-01", "fabrikam.com", "fail"),
        ("DNS-SPLIT-02", "fabrikam.com", "fail"),
    ]
    .into_iter()
    .map(|(r, t, s)| (r.to_string(), t.to_string(), s.to_string()))
    .collect();
    assert_eq!(statuses, expected);
}

/// Runs an offline scan of the broken planned zone into `format`, from the
/// repository's root (so the file's path is relative, as in a checkout).
fn broken_zone_report(dir: &std::path::Path, format: &str) -> PathBuf {
    let path = dir.join(format!("report.{format}"));
    let output = fedscan()
        .args(["scan", "--offline", "--now", NOW, "--only", "DNS-*", "--format", format, "-o"])
        .arg(&path)
        .args([
            "fabrikam.com",
            "--zone",
            "fixtures/zones/fabrikam.com.zone",
            "--zone",
            "fixtures/zones/fabrikam-edge.net.zone",
        ])
        .current_dir(root(""))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    path
}

#[test]
fn a_finding_on_a_planned_record_names_its_file_and_line_in_json_table_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let zone = "fixtures/zones/fabrikam.com.zone";
    let text = std::fs::read_to_string(root(zone)).unwrap();
    // The line of the record each finding is about, found in the file.
    let line_of = |start: &str| text.lines().position(|l| l.starts_with(start)).unwrap() + 1;
    let (srv, soa) = (line_of("_sipfederationtls._tcp"), line_of("@                           IN SOA"));

    let json = common::read_json(broken_zone_report(dir.path(), "json"));
    let parts = |rule: &str| findings(&json, rule)[0]["target_parts"].clone();
    assert_eq!(
        parts("DNS-FED-02"),
        serde_json::json!({ "kind": "domain", "domain": "fabrikam.com", "file": zone, "line": srv })
    );
    // A record that is missing points at the zone's SOA record.
    assert_eq!(parts("DNS-CLI-01")["line"], soa, "{:#}", parts("DNS-CLI-01"));
    let schema = common::python_consumer(
        "validate_json.py",
        &[root("schemas/report.schema.json").as_os_str(), broken_zone_report(dir.path(), "json").as_os_str()],
    );
    common::assert_ran(&schema, "the schema check of a report with planned zone lines");

    let table = std::fs::read_to_string(broken_zone_report(dir.path(), "table")).unwrap();
    assert!(table.contains(&format!("At: {zone}:{srv}")), "{table}");

    let sarif_path = broken_zone_report(dir.path(), "sarif");
    crate::reports::assert_valid_sarif(&sarif_path, dir.path());
    let sarif = common::read_json(&sarif_path);
    let result =
        sarif["runs"][0]["results"].as_array().unwrap().iter().find(|r| r["ruleId"] == "DNS-FED-02").unwrap().clone();
    let physical = &result["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], zone, "{physical:#}");
    assert_eq!(physical["region"]["startLine"], srv, "{physical:#}");
}

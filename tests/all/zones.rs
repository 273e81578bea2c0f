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
/// for Microsoft 365's hosts, one answered by a wildcard, with an
/// IPv6-only host and an empty non-terminal (litware.com), a hybrid split
/// domain (tailspin.com) and a broken one (adatum.com, its federation
/// record moved online), and a broken Teams-only one (woodgrove.com, its
/// on-premises records left behind).
const ZONES: &[(&str, &str)] = &[
    ("contoso.com", "fixtures/zones/contoso.com.zone"),
    ("contoso.net", "fixtures/zones/contoso.net.zone"),
    ("fabrikam.com", "fixtures/zones/fabrikam.com.zone"),
    ("fabrikam-edge.net", "fixtures/zones/fabrikam-edge.net.zone"),
    ("northwind.com", "fixtures/zones/northwind.com.zone"),
    ("online.lync.com", "fixtures/zones/online.lync.com.zone"),
    ("litware.com", "fixtures/zones/litware.com.zone"),
    ("tailspin.com", "fixtures/zones/tailspin.com.zone"),
    ("adatum.com", "fixtures/zones/adatum.com.zone"),
    ("woodgrove.com", "fixtures/zones/woodgrove.com.zone"),
];

/// The SIP domains the zones plan.
const DOMAINS: &[&str] = &[
    "contoso.com",
    "contoso.net",
    "fabrikam.com",
    "northwind.com",
    "litware.com",
    "tailspin.com",
    "adatum.com",
    "woodgrove.com",
];

/// Every profile: the hybrid and online rules judge the split and
/// Teams-only domains.
const ALL_PROFILES: &[&str] = &["--profile", "federation", "--profile", "hybrid", "--profile", "online"];

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
        let profiles = ALL_PROFILES.iter().map(|p| p.to_string());
        let mut planned_args = vec!["--offline".to_string(), domain.to_string()];
        planned_args.extend(zone_args());
        planned_args.extend(profiles.clone());
        let (planned, planned_code) = scan(&planned_args);
        let mut live_args = vec![domain.to_string(), "--resolver".into(), knot.resolver_arg()];
        live_args.extend(profiles);
        let (live, live_code) = scan(&live_args);
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

    // Hybrid split domains: the federation record stays on premises.
    let mut args = vec!["--offline".to_string(), "--profile".into(), "hybrid".into()];
    args.extend(["tailspin.com".into(), "adatum.com".into()]);
    args.extend(zone_args());
    let (hybrid, _) = scan(&args);
    assert_eq!(common::statuses(&hybrid, "DNS-FED-07", "tailspin.com"), ["pass"]);
    assert_eq!(common::statuses(&hybrid, "DNS-FED-07", "adatum.com"), ["fail"], "moved online too early");
    for rule in ["DNS-FED-01", "DNS-FED-04", "DNS-CLI-01", "DNS-CLI-03"] {
        assert_eq!(common::statuses(&hybrid, rule, "tailspin.com"), ["pass"], "{rule} tailspin.com");
    }

    // Teams only: every record at Microsoft 365, none left on premises.
    let mut args = vec!["--offline".to_string(), "--profile".into(), "online".into()];
    args.extend(["northwind.com".into(), "woodgrove.com".into()]);
    args.extend(zone_args());
    let (online, _) = scan(&args);
    for rule in ["DNS-FED-08", "DNS-ONL-01", "DNS-ONL-02", "DNS-ONL-03"] {
        assert_eq!(common::statuses(&online, rule, "northwind.com"), ["pass"], "{rule} northwind.com");
    }
    // The old Edge, the missing client record, lyncdiscover's own address.
    for rule in ["DNS-FED-08", "DNS-ONL-01", "DNS-ONL-03"] {
        assert_eq!(common::statuses(&online, rule, "woodgrove.com"), ["fail"], "{rule} woodgrove.com");
    }
    assert_eq!(common::statuses(&online, "DNS-ONL-02", "woodgrove.com"), ["pass"], "sip is already Microsoft's");
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
    let elsewhere = tempfile::tempdir().unwrap();
    let secret = common::write(elsewhere.path(), "secret.zone", "secret IN A 192.0.2.1\n");
    let including = common::write(
        dir.path(),
        "including.zone",
        &format!(
            "$ORIGIN including.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n$INCLUDE {}\n",
            secret.display()
        ),
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

    // The internal view as Azure lists a private zone judges the same.
    let mut private_args = vec!["--offline".to_string(), "fabrikam.com".into()];
    private_args.extend(zone_args());
    private_args.extend([
        "--internal-zone".into(),
        root("fixtures/zones/formats/azure/fabrikam.com.private.json").display().to_string(),
    ]);
    let (private, _) = scan(&private_args);
    let fabrikam = |report: &Value| -> BTreeSet<(String, String, String, String)> {
        split(report).into_iter().filter(|v| v.1 == "fabrikam.com").collect()
    };
    assert_eq!(private["input_errors"], serde_json::json!([]));
    assert_eq!(fabrikam(&private), fabrikam(&planned));
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

/// Runs a scan that must end by itself, whatever the file: a FIFO, a loop
/// or an expansion of millions must cost a bounded time, not hang.
fn scan_bounded(args: &[String]) -> (Value, Option<i32>, String) {
    let output = fedscan()
        .args(["scan", "--now", NOW, "--only", "DNS-*", "--format", "json", "--timeout", "2"])
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (json_of(&output), output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn includes_and_generates_are_read_in_place_and_each_record_keeps_its_own_file_and_line() {
    let main = root("fixtures/zones/include/contoso.com.zone");
    if let Some(checker) = named_checkzone() {
        // BIND reads an include relative to its working directory; fedscan
        // relative to the including file's, which is the same here.
        let status = std::process::Command::new(checker)
            .current_dir(main.parent().unwrap())
            .args(["-q", "contoso.com", "contoso.com.zone"])
            .status()
            .unwrap();
        assert!(status.success(), "named-checkzone refuses the split zone");
    } else {
        assert!(!peers::required(), "named-checkzone is not installed; scripts/test.sh installs bind9-utils");
    }
    let split = ["--offline".to_string(), "contoso.com".into(), "--zone".into(), main.display().to_string()];
    let whole = [
        "--offline".to_string(),
        "contoso.com".into(),
        "--zone".into(),
        root("fixtures/zones/contoso.com.zone").display().to_string(),
    ];
    let ((split_report, split_code), (whole_report, whole_code)) = (scan(&split), scan(&whole));
    assert_eq!(verdicts(&split_report), verdicts(&whole_report), "an include changes no verdict");
    assert_eq!(split_code, whole_code);
    let at = |rule: &str| {
        let finding = findings(&split_report, rule)[0];
        let parts = &finding["target_parts"];
        (parts["file"].as_str().unwrap().rsplit('/').next().unwrap().to_string(), parts["line"].as_u64().unwrap())
    };
    assert_eq!(at("DNS-FED-01"), ("lync-records.inc".to_string(), 5), "the included file's own line");
    assert_eq!(at("DNS-CLI-03"), ("lync-discover.inc".to_string(), 2), "included with its own origin");
    // $GENERATE writes a hosting provider's many SIP domains: each is
    // judged, its records found at the $GENERATE line.
    let dir = tempfile::tempdir().unwrap();
    let generated = common::write(
        dir.path(),
        "gen.test.zone",
        "$ORIGIN gen.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n\
         $GENERATE 1-3 _sipfederationtls._tcp.d$ SRV 0 0 5061 sip.d$.gen.test.\n$GENERATE 1-3 sip.d$ A 192.0.2.${10}\n",
    );
    let domains = ["d1.gen.test", "d2.gen.test", "d3.gen.test"].map(String::from);
    let mut args = vec!["--offline".to_string(), "--zone".into(), generated.display().to_string()];
    args.extend(domains.iter().cloned());
    let (report, _) = scan(&args);
    for domain in &domains {
        assert_eq!(common::statuses(&report, "DNS-FED-04", domain), ["pass"], "{domain}: {:#}", report["findings"]);
    }
    let d3 =
        findings(&report, "DNS-FED-05").into_iter().find(|f| f["target"].as_str().unwrap().contains("d3")).unwrap();
    assert!(d3["message"].as_str().unwrap().contains("192.0.2.13"), "{d3:#}");
    assert_eq!(d3["target_parts"]["line"], 7, "the $GENERATE line: {d3:#}");
}

#[test]
fn hostile_zone_files_are_named_errors_at_a_bounded_cost_and_nothing_raw_reaches_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let head = |origin: &str| format!("$ORIGIN {origin}.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n");
    let outside = common::write(elsewhere.path(), "outside.inc", "sip IN A 192.0.2.1\n");
    std::os::unix::fs::symlink(&outside, dir.path().join("link.inc")).unwrap();
    common::make_fifo(&dir.path().join("fifo.inc"));
    let mut cases: Vec<(&str, String, &str)> = vec![
        (
            "escape.zone",
            format!("{}$INCLUDE {}\n", head("escape.test"), outside.display()),
            "outside the zone's directory",
        ),
        (
            "dotdot.zone",
            format!("{}$INCLUDE ../{}\n", head("dotdot.test"), relative_to(&outside, dir.path())),
            "outside the zone's directory",
        ),
        ("link.zone", format!("{}$INCLUDE link.inc\n", head("link.test")), "outside the zone's directory"),
        ("self.zone", format!("{}$INCLUDE self.zone\n", head("self.test")), "a loop"),
        ("ping.zone", format!("{}$INCLUDE pong.inc\n", head("ping.test")), "a loop"),
        ("fifo.zone", format!("{}$INCLUDE fifo.inc\n", head("fifo.test")), "not a regular file"),
        ("million.zone", format!("{}$GENERATE 1-5000000 host$ A 192.0.2.1\n", head("million.test")), "5000000 records"),
    ];
    common::write(dir.path(), "pong.inc", "$INCLUDE ping.zone\n");
    let mut args = vec!["--offline".to_string(), "contoso.com".into()];
    for (name, text, _) in &cases {
        let path = common::write(dir.path(), name, text);
        args.extend(["--zone".into(), path.display().to_string()]);
    }
    // A gigabyte (sparse: no disk is used) is refused before it is read.
    let huge = dir.path().join("huge.zone");
    std::fs::File::create(&huge).unwrap().set_len(1 << 30).unwrap();
    args.extend(["--zone".into(), huge.display().to_string()]);
    cases.push(("huge.zone", String::new(), "at most"));
    args.extend(["--zone".into(), root("fixtures/zones/contoso.com.zone").display().to_string()]);
    let (report, code, stderr) = scan_bounded(&args);
    let errors = report["input_errors"].as_array().unwrap();
    for (name, _, says) in &cases {
        let error = errors
            .iter()
            .find(|e| e["path"].as_str().unwrap().ends_with(name) || e["message"].as_str().unwrap().contains(name))
            .unwrap_or_else(|| panic!("{name} is not named among the input errors: {errors:#?}"));
        assert!(error["message"].as_str().unwrap().contains(says), "{name}: {error:#}");
    }
    assert!(
        !errors.iter().any(|e| e["message"].as_str().unwrap().contains("192.0.2.1")),
        "nothing of a file outside is read"
    );
    assert_eq!(common::statuses(&report, "DNS-FED-01", "contoso.com"), ["pass"], "the good zone is still judged");
    assert_ne!(code, Some(0));
    common::assert_inert("stderr", &stderr);
}

/// `path` written relative to `from`'s parent, for a `../` include.
fn relative_to(path: &std::path::Path, from: &std::path::Path) -> String {
    let parent = from.parent().unwrap();
    path.strip_prefix(parent).map(|p| p.display().to_string()).unwrap_or_else(|_| path.display().to_string())
}

#[test]
fn a_cname_loop_is_an_error_and_a_name_with_control_characters_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let looped = common::write(
        dir.path(),
        "loop.test.zone",
        "$ORIGIN loop.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n\
         _sipfederationtls._tcp IN SRV 0 0 5061 sip.loop.test.\nsip IN CNAME a\na IN CNAME b\nb IN CNAME sip\n",
    );
    let (report, _) = scan(&["--offline".into(), "--zone".into(), looped.display().to_string()]);
    let judged = findings(&report, "DNS-FED-05");
    assert!(!judged.is_empty());
    for finding in judged {
        assert_eq!(finding["status"], "error", "a CNAME loop is not an answer: {finding:#}");
    }
    // Escapes and raw bytes that would drive a terminal, in names of a
    // zone: refused at their line, nothing raw in any output.
    for (name, owner) in [("escaped.test.zone", "sip\\027[2J\\007"), ("raw.test.zone", "sip\u{1b}[2J\u{7}")] {
        let zone = common::write(
            dir.path(),
            name,
            &format!(
                "$ORIGIN ctrl.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\n\
                 {owner} IN A 192.0.2.1\n_sipfederationtls._tcp IN SRV 0 0 5061 {owner}.ctrl.test.\n"
            ),
        );
        let output = fedscan()
            .args(["scan", "--now", NOW, "--only", "DNS-*", "--offline", "--format", "table", "--color", "never"])
            .args(["--zone", zone.to_str().unwrap(), "ctrl.test"])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(stderr.contains(&format!("{name}:5:")), "{name}: refused at its line: {stderr}");
        common::assert_inert("the table", &stdout);
        common::assert_inert("stderr", &stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: an input error");
    }
}

/// The fixture zone fabrikam.com (broken) in each listing format fedscan
/// reads, as its tool prints it.
const LISTINGS: &[&str] = &[
    "fixtures/zones/formats/octodns/fabrikam.com.yaml",
    "fixtures/zones/formats/azure/fabrikam.com.json",
    "fixtures/zones/formats/route53/fabrikam.com.json",
    "fixtures/zones/formats/clouddns/fabrikam.com.json",
    "fixtures/zones/formats/clouddns/fabrikam.com.yaml",
];

/// Verdicts without the negative TTL, which octoDNS files do not hold
/// (their provider writes the SOA) and fedscan therefore does not state.
fn verdicts_but_negative_ttl(report: &Value) -> BTreeSet<(String, String, String, String)> {
    let ttl = regex::Regex::new(r" \(negative TTL \d+ s\)").unwrap();
    verdicts(report).into_iter().map(|(r, t, s, m)| (r, t, s, ttl.replace_all(&m, "").into_owned())).collect()
}

#[test]
fn the_same_zone_in_every_listing_format_gives_the_findings_of_its_bind_file() {
    let octodns = root("fixtures/zones/formats/octodns");
    let output = std::process::Command::new(common::test_tool("venv/bin/octodns-validate"))
        .current_dir(&octodns)
        .args(["--config-file", "config.yaml"])
        .output()
        .unwrap();
    assert!(output.status.success(), "octodns-validate: {}", String::from_utf8_lossy(&output.stderr));
    let edge = ["--zone".to_string(), root("fixtures/zones/fabrikam-edge.net.zone").display().to_string()];
    let with = |zone: &str| {
        let mut args =
            vec!["--offline".to_string(), "fabrikam.com".into(), "--zone".into(), root(zone).display().to_string()];
        args.extend(edge.clone());
        scan(&args)
    };
    let (bind, bind_code) = with("fixtures/zones/fabrikam.com.zone");
    assert!(findings(&bind, "DNS-FED-06").iter().any(|f| f["status"] == "fail"), "the fixture has failures to compare");
    let line = |report: &Value, rule: &str| findings(report, rule)[0]["target_parts"]["line"].clone();
    assert_eq!(line(&bind, "DNS-FED-02"), 13, "the record on the wrong port");
    assert_eq!(line(&bind, "DNS-FED-04"), 14, "the record whose target is in another domain, not its set's first");
    for listing in LISTINGS {
        let (report, code) = with(listing);
        assert_eq!(report["input_errors"], serde_json::json!([]), "{listing}");
        assert_eq!(verdicts_but_negative_ttl(&report), verdicts_but_negative_ttl(&bind), "{listing}");
        assert_eq!(code, bind_code, "{listing}");
        // Each finding on a record of the listing names the listing and a
        // line of it that holds the record's data.
        let text = std::fs::read_to_string(root(listing)).unwrap();
        let tied = findings(&report, "DNS-FED-06")[0];
        assert!(tied["target_parts"]["file"].as_str().unwrap().ends_with(listing), "{tied:#}");
        let line = tied["target_parts"]["line"].as_u64().unwrap() as usize;
        let shown = text.lines().nth(line - 1).unwrap();
        assert!(
            shown.contains("5062") || shown.contains("_sipfederationtls") || shown.contains("SRV"),
            "{listing}:{line}: {shown}"
        );
        // A finding about one record of a set is on that record's own line:
        // the target in another domain is the second record.
        let at = |rule: &str| findings(&report, rule)[0]["target_parts"]["line"].as_u64().unwrap() as usize;
        let (port, outside) = (at("DNS-FED-02"), at("DNS-FED-04"));
        assert_ne!(port, outside, "{listing}: two records, two lines");
        let around: String = text.lines().skip(outside - 1).take(4).collect();
        assert!(around.contains("fabrikam-edge.net"), "{listing}:{outside}: {around}");
    }
    let (octo, _) = scan(&[
        "--offline".into(),
        "--zone".into(),
        root("fixtures/zones/formats/octodns/contoso.com.yaml").display().to_string(),
    ]);
    let (zone, _) =
        scan(&["--offline".into(), "--zone".into(), root("fixtures/zones/contoso.com.zone").display().to_string()]);
    assert_eq!(verdicts_but_negative_ttl(&octo), verdicts_but_negative_ttl(&zone), "contoso.com as octoDNS YAML");
}

#[test]
fn records_the_provider_answers_for_are_unknown_never_absent() {
    let dir = tempfile::tempdir().unwrap();
    let octodns = common::write(
        dir.path(),
        "alias.test.yaml",
        "'':\n  type: NS\n  value: ns1.alias.test.\n_sipfederationtls._tcp:\n  type: SRV\n  value:\n    port: 5061\n    priority: 0\n    target: sip.alias.test.\n    weight: 0\nsip:\n  type: ALIAS\n  value: edge.cloud.example.\n",
    );
    let route53 = common::write(
        dir.path(),
        "route53.json",
        r#"{"ResourceRecordSets": [
  {"Name": "r53.test.", "Type": "SOA", "TTL": 900, "ResourceRecords": [{"Value": "ns-1.awsdns-1.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}]},
  {"Name": "_sipfederationtls._tcp.r53.test.", "Type": "SRV", "TTL": 300, "ResourceRecords": [{"Value": "0 0 5061 sip.r53.test."}]},
  {"Name": "sip.r53.test.", "Type": "A", "AliasTarget": {"HostedZoneId": "Z2", "DNSName": "lb.example.", "EvaluateTargetHealth": false}},
  {"Name": "\\052.r53.test.", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.9"}]}
]}"#,
    );
    let (report, code) = scan(&[
        "--offline".into(),
        "--zone".into(),
        octodns.display().to_string(),
        "--zone".into(),
        route53.display().to_string(),
    ]);
    assert_eq!(report["input_errors"], serde_json::json!([]));
    for domain in ["alias.test", "r53.test"] {
        let found = common::statuses(&report, "DNS-FED-05", domain);
        assert_eq!(found, ["error"], "{domain}: {:#}", report["findings"]);
    }
    let unknown = findings(&report, "DNS-FED-05");
    assert!(unknown.iter().all(|f| f["message"].as_str().unwrap().contains("not known")), "{unknown:#?}");
    // Route 53's octal escape is a wildcard: lyncdiscover.r53.test exists.
    assert_eq!(common::statuses(&report, "DNS-CLI-03", "r53.test"), ["pass"]);
    assert_ne!(code, Some(0));
}

/// The CI jobs shipped in `deploy/ci/`: each a valid workflow for its CI
/// (the schemas check-jsonschema carries), whose scan runs as its CI would
/// run it in a repository keeping zones under `dns/`, and fails the job on
/// the broken zone with a report its consumer reads.
#[test]
fn the_shipped_pull_request_jobs_are_valid_and_fail_on_the_broken_zone_with_its_line() {
    let checker = common::test_tool("venv/bin/check-jsonschema");
    let jobs = [
        ("deploy/ci/github-dns-pull-request.yml", "vendor.github-workflows", "github"),
        ("deploy/ci/gitlab-dns-merge-request.yml", "vendor.gitlab-ci", "gitlab"),
    ];
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_fedscan")).parent().unwrap().to_path_buf();
    for (file, schema, ci) in jobs {
        let checked =
            std::process::Command::new(&checker).args(["--builtin-schema", schema]).arg(root(file)).output().unwrap();
        assert!(checked.status.success(), "{file}: {}", String::from_utf8_lossy(&checked.stdout));
        let printed = common::python_consumer("ci_job_script.py", &[root(file).as_os_str(), ci.as_ref()]);
        assert!(printed.status.success(), "{}", String::from_utf8_lossy(&printed.stderr));
        let script = String::from_utf8(printed.stdout).unwrap();

        let repo = tempfile::tempdir().unwrap();
        let dns = repo.path().join("dns");
        std::fs::create_dir(&dns).unwrap();
        for zone in ["contoso.com.zone", "fabrikam.com.zone", "fabrikam-edge.net.zone"] {
            std::fs::copy(root("fixtures/zones").join(zone), dns.join(zone)).unwrap();
        }
        std::fs::copy(root("fixtures/zones/formats/octodns/contoso.com.yaml"), dns.join("contoso.net.yaml")).unwrap();
        // An octoDNS configuration beside the zones names them; it is not one.
        std::fs::copy(root("fixtures/zones/formats/octodns/config.yaml"), dns.join("config.yaml")).unwrap();
        // fabrikam-edge.net holds only the partner-facing host: not a SIP domain.
        std::fs::write(dns.join("sip-domains.txt"), "contoso.com\nfabrikam.com\ncontoso.net\n").unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        let run = assert_cmd::Command::new("sh")
            .args(["-e", "-c", &script])
            .current_dir(repo.path())
            .env("PATH", path)
            .env("GITHUB_OUTPUT", repo.path().join("github-output"))
            .env("GITHUB_STEP_SUMMARY", repo.path().join("summary.md"))
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        if ci == "github" {
            assert!(run.status.success(), "the step records the status for a later one: {stderr}");
            let output = std::fs::read_to_string(repo.path().join("github-output")).unwrap();
            assert_eq!(output.trim(), "status=1", "a high failure fails the check: {stderr}");
            let sarif = repo.path().join("fedscan.sarif");
            crate::reports::assert_valid_sarif(&sarif, repo.path());
            let log = common::read_json(&sarif);
            let port = log["runs"][0]["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["ruleId"] == "DNS-FED-02" && r["level"] == "error")
                .expect("fabrikam.com's federation record on the wrong port");
            let physical = &port["locations"][0]["physicalLocation"];
            assert_eq!(physical["artifactLocation"]["uri"], "dns/fabrikam.com.zone", "relative to the repository");
            assert_eq!(physical["region"]["startLine"], 13, "{port:#}");
            let judged: BTreeSet<&str> = log["runs"][0]["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|r| r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].as_str())
                .collect();
            assert!(judged.contains("contoso.net") && !judged.contains("fabrikam-edge.net"), "{judged:?}");
            let summary = std::fs::read_to_string(repo.path().join("summary.md")).unwrap();
            assert!(summary.contains("contoso.net"), "the octoDNS zone is judged too");
        } else {
            assert_eq!(run.status.code(), Some(1), "the job fails on a high failure: {stderr}");
            let parsed = common::python_consumer("junit_counts.py", &[repo.path().join("fedscan.xml").as_os_str()]);
            assert!(parsed.status.success(), "{}", String::from_utf8_lossy(&parsed.stderr));
            let counts: Value = serde_json::from_slice(&parsed.stdout).unwrap();
            assert!(counts["totals"]["failures"].as_u64().unwrap() > 0, "{counts}");
            assert!(repo.path().join("fedscan.html").exists());
        }
    }
}

/// The whole pre-deployment bundle, offline: the planned zones, the
/// certificate to be installed and the planned topology judged together.
#[test]
fn planned_zones_certificate_and_topology_are_judged_together_before_anything_is_published() {
    let bundle = |cert: &str, net_zone: &str| {
        let output = fedscan()
            .args(["scan", "--now", NOW, "--offline", "--format", "json"])
            .args(["--zone", root("fixtures/zones/contoso.com.zone").to_str().unwrap()])
            .args(["--zone", net_zone])
            .args(["--cert-file", root(cert).to_str().unwrap()])
            .args(["--trust", root("fixtures/certs/root.pem").to_str().unwrap()])
            .args(["--config", root("fixtures/sample/contoso-lync2013.txt").to_str().unwrap()])
            .output()
            .unwrap();
        json_of(&output)
    };
    let planned = root("fixtures/zones/contoso.net.zone").display().to_string();
    let report = bundle("fixtures/certs/good.pem", &planned);
    assert_eq!(report["input_errors"], serde_json::json!([]));
    // The certificate names sip.<domain> for each SIP domain of the
    // topology and the zones.
    let names = findings(&report, "TLS-NAME-04");
    assert_eq!(names.len(), 1);
    assert_eq!(names[0]["status"], "pass", "{:#}", names[0]);
    assert!(names[0]["message"].as_str().unwrap().contains("sip.contoso.net"));
    // Each domain's federation record reaches the topology's Access Edge:
    // contoso.com's by its FQDN, contoso.net's by sip.contoso.net at the
    // Edge's address; and the Edge FQDN is inside a SIP domain.
    for domain in ["contoso.com", "contoso.net"] {
        assert_eq!(common::statuses(&report, "DNS-FED-03", domain), ["pass"], "{domain}");
        assert_eq!(common::statuses(&report, "DNS-FED-04", domain), ["pass"], "{domain}");
        assert_eq!(common::statuses(&report, "DNS-FED-02", domain), ["pass"], "{domain}: the topology's port");
    }
    assert_eq!(findings(&report, "CFG-TOP-03")[0]["status"], "pass");
    assert!(
        report["findings"].as_array().unwrap().iter().all(|f| f["status"] != "error"),
        "everything the bundle holds is judged: {:#}",
        report["findings"]
    );

    // The same bundle with the mistakes a pull request could bring: a
    // certificate without the second domain's name, and contoso.net's
    // record pointing at another host.
    let dir = tempfile::tempdir().unwrap();
    let moved = std::fs::read_to_string(&planned)
        .unwrap()
        .replace("5061 sip.contoso.net.", "5061 sipfed.contoso.net.")
        .replace("lyncdiscover ", "sipfed                      IN A    198.51.100.99\nlyncdiscover ");
    let moved = common::write(dir.path(), "contoso.net.zone", &moved);
    let broken = bundle("fixtures/certs/cn-not-in-san.pem", moved.to_str().unwrap());
    assert_eq!(findings(&broken, "TLS-NAME-04")[0]["status"], "fail", "sip.contoso.com is missing from the SAN");
    assert_eq!(common::statuses(&broken, "DNS-FED-03", "contoso.com"), ["pass"]);
    let elsewhere = findings(&broken, "DNS-FED-03")
        .into_iter()
        .find(|f| f["target"] == "contoso.net")
        .expect("contoso.net is judged");
    assert_eq!(elsewhere["status"], "fail", "{elsewhere:#}");
    assert_eq!(elsewhere["target_parts"]["line"], 11, "the SRV record's line in the planned file: {elsewhere:#}");
}

#[test]
fn an_offline_scan_of_planned_zones_says_it_probed_nothing_and_saves_that() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("facts.json");
    let zone = root("fixtures/zones/contoso.com.zone").display().to_string();
    let run = |args: &[&str]| {
        let output = fedscan().args(["scan", "--now", NOW, "--format", "json"]).args(args).output().unwrap();
        json_of(&output)
    };
    let planned = run(&["--offline", "--zone", &zone, "--save-facts", saved.to_str().unwrap()]);
    let replayed = run(&["--facts", saved.to_str().unwrap()]);
    for report in [&planned, &replayed] {
        for (rule, says) in
            [("TLS-CON-01", "offline audit"), ("SIP-OPT-01", "offline audit"), ("DNS-SPLIT-01", "--internal-zone")]
        {
            let finding = findings(report, rule)[0];
            assert_eq!(finding["status"], "skip", "{finding:#}");
            assert!(finding["message"].as_str().unwrap().contains(says), "{finding:#}");
        }
    }
    assert_eq!(common::read_json(&saved)["offline"], true);
}

/// A zone as Windows DNS Server keeps it (`C:\\Windows\\System32\\dns\\contoso.com.dns`,
/// what `dnscmd /ZoneExport` writes): CRLF lines, no `$ORIGIN` (the zone is
/// the file's name), no `$TTL` (records take the SOA's minimum) and an
/// aging stamp on a dynamic record. BIND does not read the stamp, so
/// `named-checkzone` is not the referee here: the same zone's BIND file is.
#[test]
fn a_windows_dns_server_zone_file_is_judged_as_the_same_zone_written_for_bind() {
    let text = std::fs::read_to_string(root("fixtures/zones/windows/contoso.com.dns")).unwrap();
    assert!(text.contains("\r\n") && text.contains("[AGE:") && !text.contains("$TTL") && !text.contains("$ORIGIN"));
    let args = |file: &str| vec!["--offline".to_string(), "--zone".into(), root(file).display().to_string()];
    let (windows, windows_code) = scan(&args("fixtures/zones/windows/contoso.com.dns"));
    let (bind, bind_code) = scan(&args("fixtures/zones/contoso.com.zone"));
    assert_eq!(windows["input_errors"], serde_json::json!([]));
    assert_eq!(windows["inputs"]["domains"], serde_json::json!(["contoso.com"]), "the zone is named by its file");
    assert_eq!(verdicts(&windows), verdicts(&bind));
    assert_eq!(windows_code, bind_code);
    let sip = findings(&windows, "DNS-CLI-02")[0];
    assert_eq!(sip["target_parts"]["line"], 28, "the aged record's own line");
}

/// Mangled zone files, same verdict or none: every fixture zone and
/// listing as a ticket, an e-mail, a mail client, a web page or a log would
/// pass it on (`common::transports`), judged beside the untouched other
/// zones. A pass or a fail it gives must be the clean file's; anything else
/// must be `error` or a refused file, never a flipped verdict.
#[test]
fn mangled_zone_files_give_the_clean_verdicts_or_none() {
    let listings = LISTINGS.iter().map(|file| ("fabrikam.com", *file));
    let others = [("contoso.com", "fixtures/zones/windows/contoso.com.dns")];
    let fixtures: Vec<(&str, &str)> = ZONES.iter().copied().chain(listings).chain(others).collect();
    let dir = tempfile::tempdir().unwrap();
    let (mut identical, mut refused_or_error, mut wrong) = (0, 0, Vec::new());
    for (index, (origin, file)) in fixtures.iter().enumerate() {
        let clean_file = root(file);
        let others: Vec<String> = ZONES
            .iter()
            .filter(|(o, _)| o != origin)
            .flat_map(|(_, f)| ["--zone".to_string(), root(f).display().to_string()])
            .collect();
        let run = |zone: &std::path::Path| {
            let mut args = vec!["--offline".to_string(), origin.to_string(), "--zone".into()];
            args.push(format!("{origin}={}", zone.display()));
            args.extend(others.clone());
            scan(&args).0
        };
        let judged = |report: &Value| -> BTreeSet<(String, String, String)> {
            verdicts(report)
                .into_iter()
                .filter(|(_, target, status, _)| target == origin && (status == "pass" || status == "fail"))
                .map(|(rule, target, status, _)| (rule, target, status))
                .collect()
        };
        let clean = judged(&run(&clean_file));
        assert!(!clean.is_empty(), "{file}: the clean file is judged");
        let text = std::fs::read_to_string(&clean_file).unwrap();
        let name = clean_file.file_name().unwrap().to_string_lossy().into_owned();
        for (transport, mangle) in common::transports::TRANSPORTS {
            let mangled = dir.path().join(format!("{index}-{transport}-{name}"));
            std::fs::write(&mangled, mangle(&text)).unwrap();
            let report = run(&mangled);
            let seen = judged(&report);
            if seen == clean {
                identical += 1;
            } else if seen.is_subset(&clean) {
                refused_or_error += 1;
            } else {
                wrong.push(format!("{file} {transport}: {:?}", seen.difference(&clean).collect::<Vec<_>>()));
            }
        }
    }
    eprintln!(
        "mangled zones: {} fixtures × {} transports: {identical} identical, {refused_or_error} refused or error, {} wrong",
        fixtures.len(),
        common::transports::TRANSPORTS.len(),
        wrong.len()
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// `--zone DIR`: the zone files of a directory, each on its own lines; an
/// octoDNS configuration and other files beside them left out; and no
/// output written over a file a zone reads, included ones too.
#[test]
fn a_zone_directory_is_read_file_by_file_and_no_output_replaces_a_file_a_zone_includes() {
    let repo = tempfile::tempdir().unwrap();
    let dns = repo.path().join("dns");
    std::fs::create_dir(&dns).unwrap();
    for file in ["contoso.com.zone", "lync-records.inc", "lync-discover.inc"] {
        std::fs::copy(root("fixtures/zones/include").join(file), dns.join(file)).unwrap();
    }
    std::fs::copy(root("fixtures/zones/formats/octodns/fabrikam.com.yaml"), dns.join("fabrikam.com.yaml")).unwrap();
    std::fs::copy(root("fixtures/zones/fabrikam-edge.net.zone"), dns.join("db.fabrikam-edge.net")).unwrap();
    std::fs::copy(root("fixtures/zones/formats/octodns/config.yaml"), dns.join("config.yaml")).unwrap();
    std::fs::write(dns.join("README.md"), "# our zones\n").unwrap();
    // What else a Windows DNS server's directory holds: a reverse zone and
    // Active Directory's _msdcs zone, never SIP domains.
    let soa = "@ IN SOA ns1.contoso.com. hostmaster.contoso.com. 1 3600 600 86400 300\n@ IN NS ns1.contoso.com.\n";
    std::fs::write(dns.join("100.51.198.in-addr.arpa.dns"), format!("$TTL 3600\n{soa}10 IN PTR sip.contoso.com.\n"))
        .unwrap();
    std::fs::write(dns.join("_msdcs.contoso.com.dns"), format!("$TTL 3600\n{soa}")).unwrap();
    // Without a domain named, the zones' origins are the SIP domains, the
    // reverse and _msdcs zones left out.
    let origins = fedscan()
        .args(["scan", "--now", NOW, "--offline", "--only", "DNS-FED-01", "--format", "json", "--zone", "dns"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let judged = json_of(&origins)["inputs"]["domains"].clone();
    assert_eq!(judged, serde_json::json!(["contoso.com", "fabrikam-edge.net", "fabrikam.com"]));
    let scan_dir = |extra: &[&str]| {
        fedscan()
            .args(["scan", "--now", NOW, "--offline", "--only", "DNS-*", "--format", "json", "--zone", "dns"])
            .args(["contoso.com", "fabrikam.com"])
            .args(extra)
            .current_dir(repo.path())
            .output()
            .unwrap()
    };
    let output = scan_dir(&[]);
    let report = json_of(&output);
    assert_eq!(report["input_errors"], serde_json::json!([]), "README.md and config.yaml are passed over");
    let file_of = |rule: &str, domain: &str| {
        let finding = findings(&report, rule).into_iter().find(|f| f["target"] == domain).unwrap().clone();
        finding["target_parts"]["file"].as_str().unwrap().to_string()
    };
    assert_eq!(file_of("DNS-FED-01", "contoso.com"), "dns/lync-records.inc");
    assert_eq!(file_of("DNS-FED-01", "fabrikam.com"), "dns/fabrikam.com.yaml");
    let edge =
        findings(&report, "DNS-FED-09").into_iter().find(|f| f["message"].as_str().unwrap().contains("fabrikam-edge"));
    assert_eq!(edge.unwrap()["target_parts"]["file"], "dns/db.fabrikam-edge.net", "db.* is a zone file");

    // An output over a file a zone includes is refused before anything is
    // written; the file is untouched.
    let before = std::fs::read(dns.join("lync-records.inc")).unwrap();
    let refused = scan_dir(&["-o", "dns/lync-records.inc"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not overwrite its inputs"));
    assert_eq!(std::fs::read(dns.join("lync-records.inc")).unwrap(), before);

    // A link that leads out of the directory is not read.
    let elsewhere = tempfile::tempdir().unwrap();
    let secret = common::write(elsewhere.path(), "secret", "not a zone: a secret\n");
    let linked = repo.path().join("linked");
    std::fs::create_dir(&linked).unwrap();
    std::os::unix::fs::symlink(&secret, linked.join("evil.zone")).unwrap();
    let (report, _) = scan(&["--offline".into(), "contoso.com".into(), "--zone".into(), linked.display().to_string()]);
    let errors = report["input_errors"].to_string();
    assert!(errors.contains("leads out of the directory") && !errors.contains("a secret"), "{errors}");

    // A directory without zone files, and ORIGIN= on a directory, are named.
    let empty = repo.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (report, code) = scan(&[
        "--offline".into(),
        "contoso.com".into(),
        "--zone".into(),
        empty.display().to_string(),
        "--zone".into(),
        format!("contoso.com={}", dns.display()),
    ]);
    let errors = report["input_errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["message"].as_str().unwrap().contains("no zone files")), "{errors:#?}");
    assert!(errors.iter().any(|e| e["message"].as_str().unwrap().contains("ORIGIN=")), "{errors:#?}");
    assert_eq!(code, Some(2));
}

#[test]
fn when_no_planned_zone_can_be_read_the_dns_rules_are_errors_not_an_offline_skip() {
    let dir = tempfile::tempdir().unwrap();
    let broken = common::write(dir.path(), "contoso.com.zone", "$ORIGIN contoso.com.\n@ IN SOA ((\n");
    let (report, code) = scan(&["--offline".into(), "--zone".into(), broken.display().to_string()]);
    assert_eq!(report["input_errors"].as_array().unwrap().len(), 1);
    let judged: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["not_run"].is_null()).collect();
    let dns: Vec<&&Value> = judged.iter().filter(|f| f["rule"].as_str().unwrap().starts_with("DNS-FED-0")).collect();
    assert!(!dns.is_empty());
    for finding in dns {
        assert_eq!(finding["status"], "error", "{finding:#}");
        assert!(finding["message"].as_str().unwrap().contains("no planned zone could be read"), "{finding:#}");
    }
    assert_eq!(code, Some(2));
}

/// A planned zone in front of the live DNS: its names are answered from
/// the file even where the published zone says otherwise, and the names
/// outside it are asked of the resolver — the same verdicts as when every
/// zone is planned.
#[test]
fn a_planned_zone_in_front_of_live_dns_answers_its_names_and_leaves_the_rest_to_the_resolver() {
    // Published today: fabrikam.com as it was before the change (one
    // record, on the right port), and the partner-facing fabrikam-edge.net.
    let published = "$ORIGIN fabrikam.com.\n$TTL 3600\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\n\
                     ns1 IN A 198.51.100.53\n_sipfederationtls._tcp IN SRV 0 0 5061 sip.fabrikam-edge.net.\n";
    let edge = std::fs::read_to_string(root("fixtures/zones/fabrikam-edge.net.zone")).unwrap();
    let Some(knot) = Knot::start(&[("fabrikam.com", published), ("fabrikam-edge.net", &edge)]) else { return };
    let planned = root("fixtures/zones/fabrikam.com.zone").display().to_string();
    let (mixed, mixed_code) =
        scan(&["fabrikam.com".into(), "--zone".into(), planned.clone(), "--resolver".into(), knot.resolver_arg()]);
    let (offline, offline_code) = scan(&[
        "--offline".into(),
        "fabrikam.com".into(),
        "--zone".into(),
        planned,
        "--zone".into(),
        root("fixtures/zones/fabrikam-edge.net.zone").display().to_string(),
    ]);
    assert_eq!(verdicts(&mixed), verdicts(&offline));
    assert_eq!(mixed_code, offline_code);
    // The planned record on the wrong port is judged, not the published one.
    assert_eq!(common::statuses(&mixed, "DNS-FED-02", "fabrikam.com"), ["fail"]);
    let resolvers = |rule: &str| -> BTreeSet<String> {
        findings(&mixed, rule).iter().filter_map(|f| f["evidence"]["resolver"].as_str().map(str::to_string)).collect()
    };
    assert!(resolvers("DNS-FED-02").iter().all(|r| r.starts_with("zone file ")), "{:?}", resolvers("DNS-FED-02"));
    // sip.fabrikam-edge.net is outside the planned zone: asked live.
    let edge_answer = findings(&mixed, "DNS-FED-09")
        .into_iter()
        .find(|f| f["message"].as_str().unwrap().contains("fabrikam-edge"))
        .expect("the edge host is judged");
    let resolver = edge_answer["evidence"].to_string();
    assert!(resolver.contains(&knot.resolver_arg()), "asked of the resolver: {resolver}");
}

/// Without --offline, the Edge the planned records point at is probed:
/// a DNS change checked against an Edge that already runs.
#[test]
fn a_live_scan_with_a_planned_zone_probes_the_edge_its_records_point_at() {
    let pki = peers::tls::Pki::new("Contoso");
    let answer = b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    let edge = peers::sip::SipServer::start(
        &pki.leaf(&peers::tls::LeafSpec::default()),
        peers::sip::Behaviour::Answer(answer),
    );
    let dir = tempfile::tempdir().unwrap();
    let zone = common::write(
        dir.path(),
        "contoso.com.zone",
        &format!(
            "$ORIGIN contoso.com.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\n\
             ns1 IN A 127.0.0.1\nsip IN A 127.0.0.1\n_sipfederationtls._tcp IN SRV 0 0 {} sip.contoso.com.\n",
            edge.addr.port()
        ),
    );
    // Nothing answers on the resolver's port: every answer the scan needs
    // is in the planned zone.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let output = fedscan()
        .args(["scan", "contoso.com", "--now", NOW, "--format", "json", "--timeout", "2"])
        .args(["--only", "TLS-CON-01", "--only", "SIP-OPT-01", "--zone", zone.to_str().unwrap()])
        .args(["--resolver", &silent.local_addr().unwrap().to_string()])
        .output()
        .unwrap();
    let report = json_of(&output);
    for rule in ["TLS-CON-01", "SIP-OPT-01"] {
        let found = findings(&report, rule);
        assert_eq!(found.len(), 1, "{rule}: {:#}", report["findings"]);
        assert_eq!(found[0]["status"], "pass", "{:#}", found[0]);
        assert!(found[0]["target"].as_str().unwrap().contains(&edge.addr.port().to_string()), "{:#}", found[0]);
    }
}

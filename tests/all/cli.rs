//! The real binary, as a user or a CI job runs it: each exit code, each
//! format, broken rule files, record and replay.

use crate::common;
use common::{fedscan, json_of, make_char_device, make_fifo, node_kind, read_json, root, write};
use predicates::prelude::*;
use serde_json::Value;

const SAMPLE: &str = "fixtures/sample/contoso-lync2013.txt";
const NOW: &str = "2026-11-20T09:31:40Z";

#[test]
fn exit_1_when_a_failure_reaches_the_threshold() {
    fedscan()
        .args(["scan", "--offline", "--config", SAMPLE, "--partner", "it.litwareinc.com", "--now", NOW])
        .current_dir(root(""))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("PROV-HP-09"))
        .stdout(predicate::str::contains(
            "Fix: Set-CsHostingProvider -Identity LyncOnline -EnabledSharedAddressSpace $False",
        ))
        .stdout(predicate::str::contains("Fix: Remove-CsBlockedDomain -Identity litwareinc.com"))
        .stdout(predicate::str::contains("exit 1: failures at or above high"));
}

#[test]
fn exit_0_when_nothing_fails_at_the_threshold() {
    fedscan()
        .args(["scan", "--offline", "--config", SAMPLE, "--now", NOW, "--fail-on", "critical"])
        .current_dir(root(""))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("exit 0"));
}

#[test]
fn exit_3_when_a_check_could_not_be_evaluated() {
    // Audited as of before Skype's retirement, PROV-PIC-07 cannot judge the
    // sample's name decoration list: the console cut it short.
    fedscan()
        .args(["scan", "--offline", "--config", SAMPLE, "--now", "2025-03-01T00:00:00Z", "--fail-on", "critical"])
        .current_dir(root(""))
        .assert()
        .code(3)
        .stdout(predicate::str::contains("PROV-PIC-07"))
        .stdout(predicate::str::contains(
            "exit 3: no failure at or above critical, but some checks could not be evaluated",
        ));
    let dir = tempfile::tempdir().unwrap();
    let snapshot = write(dir.path(), "aec.json", r#"{"Get-CsAccessEdgeConfiguration": null}"#);
    let output = fedscan()
        .args(["scan", "--offline", "--only", "CFG-AEC-01", "--format", "json", "--config"])
        .arg(&snapshot)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let report = json_of(&output);
    assert_eq!(report["findings"][0]["status"], "error");
    assert_eq!(report["summary"]["exit_code"], 3);
}

#[test]
fn exit_2_for_usage_and_input_errors() {
    fedscan().args(["scan", "--offline"]).assert().code(2).stderr(predicate::str::contains("nothing to audit"));
    fedscan().args(["scan", "--bogus-flag"]).assert().code(2);
    fedscan()
        .args(["scan", "--offline", "contoso.com"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing to audit offline"));
    fedscan()
        .args(["scan", "--resolver", "dns.example", "contoso.com"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--resolver: \"dns.example\" is not an IP address"));
    fedscan()
        .args(["scan", "--resolver", "127.0.0.1", "contoso..com"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a valid domain name"));
    fedscan()
        .args(["scan", "--offline", "--config", "no/such/file.txt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/file.txt: no such file or directory"));
    fedscan()
        .args(["scan", "--offline", "--config", SAMPLE, "--only", "CFG-NOPE-99"])
        .current_dir(root(""))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--only CFG-NOPE-99"));
    fedscan()
        .args(["scan", "--offline", "--config", SAMPLE, "--now", "yesterday"])
        .current_dir(root(""))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("RFC 3339"));
}

#[test]
fn a_broken_snapshot_is_named_and_the_others_are_still_audited() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "aec.txt",
        "Identity : Global\nAllowFederatedUsers : True\nRoutingMethod : UseDnsSrvRouting\n",
    );
    let bad = write(
        dir.path(),
        "providers.json",
        "{\n  \"Get-CsPublicProvider\": [\n    {\"Identity\": \"Skype\",,}\n  ]\n}\n",
    );
    let output = fedscan()
        .args(["scan", "--offline", "--format", "json", "--config"])
        .arg(&good)
        .arg("--config")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("providers.json:3:"), "{stderr}");
    let report = json_of(&output);
    let passed: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "CFG-AEC-01").collect();
    assert_eq!(passed[0]["status"], "pass", "the good file was audited");
    assert_eq!(report["input_errors"][0]["line"], 3);
}

/// A user's own rule, as the README shows one.
const USER_RULE: &str = r#"[[rule]]
id = "ORG-CFG-01"
title = "Anonymous users are not allowed"
severity = "high"
profiles = ["federation"]
rationale = "Our policy forbids anonymous meeting join."
remediation = "Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $False"
references = ["https://example.org/policy"]
[rule.check]
kind = "config_field"
object = "AccessEdgeConfiguration"
expect = { AllowAnonymousUsers = false }
"#;

#[test]
fn a_broken_rule_file_is_named_with_line_and_column_and_nothing_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mine.toml", &USER_RULE.replace("\"high\"", "\"serious\""));
    fedscan()
        .args(["scan", "--offline", "--config", SAMPLE, "--rules"])
        .arg(dir.path())
        .current_dir(root(""))
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("mine.toml:4:12: unknown variant `serious`"))
        .stderr(predicate::str::contains("nothing was scanned"));
    fedscan()
        .args(["rules", "validate"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("mine.toml:4:12"));
}

#[test]
fn a_user_rule_runs_beside_the_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mine.toml", USER_RULE);
    fedscan()
        .args(["rules", "validate"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("1 rule(s): no problems"));
    fedscan().args(["rules", "validate", "rules"]).current_dir(root("")).assert().code(0);
    fedscan()
        .args(["scan", "--offline", "--config", SAMPLE, "--only", "ORG-CFG-01", "--rules"])
        .arg(dir.path())
        .current_dir(root(""))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("AllowAnonymousUsers is True, expected False"));
}

#[test]
fn json_report_has_the_contract_fields_in_a_stable_order() {
    let output = fedscan()
        .args(["scan", "--offline", "--config", SAMPLE, "--now", NOW, "--format", "json"])
        .current_dir(root(""))
        .output()
        .unwrap();
    let report = json_of(&output);
    assert_eq!(report["schema"], "fedscan.report/1");
    assert_eq!(report["tool"]["name"], "fedscan");
    assert_eq!(report["evaluated_at"], NOW);
    assert_eq!(report["profiles"], serde_json::json!(["federation", "skype"]));
    for key in ["started_at", "finished_at", "inputs", "summary", "findings"] {
        assert!(report.get(key).is_some(), "{key}");
    }
    let findings = report["findings"].as_array().unwrap();
    for field in ["rule", "title", "severity", "status", "target", "message", "evidence", "remediation", "references"] {
        assert!(findings.iter().all(|f| f.get(field).is_some()), "{field}");
    }
    let order: Vec<(bool, String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["target"].is_null(),
                f["target"].as_str().unwrap_or("").to_string(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    let by_status = &report["summary"]["by_status"];
    let run: u64 = ["pass", "fail", "error", "skip"].iter().map(|s| by_status[s].as_u64().unwrap()).sum();
    let not_run = report["summary"]["not_run"].as_u64().unwrap();
    assert_eq!(not_run as usize, findings.iter().filter(|f| f.get("not_run").is_some()).count());
    assert_eq!((run + not_run) as usize, findings.len(), "the rules run and those not run are every finding");
    assert_eq!(report["summary"]["total"].as_u64(), Some(findings.len() as u64));
    // Severity counts are the failures'.
    let by_severity: u64 =
        report["summary"]["by_severity"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(by_severity, by_status["fail"].as_u64().unwrap());
    assert_eq!(report["summary"]["exit_code"], output.status.code().unwrap());
}

#[test]
fn saved_facts_replay_to_identical_findings() {
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let first = fedscan()
        .args([
            "scan",
            "--offline",
            "--config",
            SAMPLE,
            "--partner",
            "fabrikam.com",
            "--format",
            "json",
            "--save-facts",
        ])
        .arg(&facts)
        .current_dir(root(""))
        .output()
        .unwrap();
    let replay = fedscan().args(["scan", "--format", "json", "--facts"]).arg(&facts).output().unwrap();
    assert_eq!(first.status.code(), replay.status.code());
    let (a, b) = (json_of(&first), json_of(&replay));
    assert_eq!(a["findings"], b["findings"]);
    assert_eq!(a["evaluated_at"], b["evaluated_at"], "a replay is judged as of the recording");
    assert_eq!(b["inputs"]["partners"], serde_json::json!(["fabrikam.com"]));
    // The facts file is the one document: it round-trips through a second save.
    let again = dir.path().join("again.json");
    fedscan()
        .args(["scan", "--format", "json", "--facts"])
        .arg(&facts)
        .arg("--save-facts")
        .arg(&again)
        .assert()
        .code(1);
    assert_eq!(std::fs::read_to_string(&facts).unwrap(), std::fs::read_to_string(&again).unwrap());
    fedscan()
        .args(["scan", "--facts"])
        .arg(write(dir.path(), "not-facts.json", "{\"schema\": 1}"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a fedscan facts file"));
}

#[test]
fn table_colour_only_when_asked_or_on_a_terminal() {
    let plain = fedscan().args(["scan", "--offline", "--config", SAMPLE]).current_dir(root("")).output().unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains('\x1b'));
    let forced = fedscan()
        .args(["scan", "--offline", "--color", "always", "--config", SAMPLE])
        .current_dir(root(""))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&forced.stdout).contains("\x1b["));
}

#[test]
fn text_from_the_snapshot_is_escaped_for_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = write(
        dir.path(),
        "policy.json",
        "{\"Get-CsExternalAccessPolicy\": [{\"Identity\": \"Tag:\\u001b[2J\\u001b[31mEVIL\", \"EnablePublicCloudAccess\": true, \"EnablePublicCloudAudioVideoAccess\": false}]}",
    );
    let output = fedscan()
        .args(["scan", "--offline", "--only", "CFG-EAP-03", "--now", "2025-03-01T00:00:00Z", "--config"])
        .arg(&snapshot)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains('\x1b'), "raw escape reached the terminal: {stdout}");
    assert!(stdout.contains("Tag:\\u{1b}[2J\\u{1b}[31mEVIL"), "{stdout}");
    // The suggested command quotes the hostile identity for PowerShell.
    let json = fedscan()
        .args([
            "scan",
            "--offline",
            "--only",
            "CFG-EAP-03",
            "--now",
            "2025-03-01T00:00:00Z",
            "--format",
            "json",
            "--config",
        ])
        .arg(&snapshot)
        .output()
        .unwrap();
    let remediation = json_of(&json)["findings"][0]["remediation"].as_str().unwrap().to_string();
    assert!(
        remediation.starts_with("Set-CsExternalAccessPolicy -Identity \"Tag:\u{1b}[2J\u{1b}[31mEVIL\""),
        "{remediation}"
    );
}

#[test]
fn output_file_and_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    fedscan()
        .args(["scan", "--offline", "--config", SAMPLE, "--profile", "hybrid", "--format", "json", "--output"])
        .arg(&out)
        .current_dir(root(""))
        .assert()
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("report written to"));
    let report = read_json(&out);
    assert_eq!(report["profiles"], serde_json::json!(["hybrid"]));
    let hp09 = report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "PROV-HP-09").unwrap();
    assert_eq!(hp09["status"], "skip", "the non-hybrid rule gives way to the hybrid one");
}

#[test]
fn rules_list_and_explain() {
    fedscan()
        .args(["rules", "list"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("CFG-AEC-01").and(predicate::str::contains("PROV-DOM-06")));
    let output = fedscan().args(["rules", "list", "--profile", "push", "--format", "json"]).output().unwrap();
    let rules = json_of(&output);
    assert!(rules.as_array().unwrap().iter().all(|r| r["profiles"].as_array().unwrap().contains(&"push".into())));
    fedscan()
        .args(["rules", "explain", "prov-pic-02"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Enable-CsPublicProvider"))
        .stdout(predicate::str::contains("kind = \"config_field\""));
    fedscan().args(["rules", "explain", "NOPE-01"]).assert().code(2);
}

#[test]
fn the_readme_demo_replays_the_recorded_sample() {
    let output = fedscan()
        .args(["scan", "--facts", "fixtures/sample/contoso.facts.json"])
        .current_dir(root(""))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let table = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "DNS path for contoso.net",
        "_sipfederationtls._tcp.contoso.net SRV 0 0 5061 sip.contoso.com (TTL 300) → 52.160.10.20",
        "_sip._tls.contoso.net SRV → NXDOMAIN (negative TTL 300 s)",
        "Fix: Publish _sip._tls.contoso.net. SRV 0 0 443 sip.contoso.com.",
        "Fix: Remove-CsBlockedDomain -Identity litwareinc.com",
        "      TLS 52.160.10.20: TLS 1.3",
        "valid 2025-12-15 to 2026-12-15 (24 days left)",
        "        SIP OPTIONS → SIP/2.0 200 OK from RTC/5.0",
        "expires on 2026-12-15, in 24 days (less than 45)",
        "Federation path of partner it.litwareinc.com",
        "TLS: sip.it.litwareinc.com:5061 (52.170.1.5): connection refused",
    ] {
        assert!(table.contains(expected), "missing {expected:?} in\n{table}");
    }
    let json = fedscan()
        .args(["scan", "--facts", "fixtures/sample/contoso.facts.json", "--format", "json"])
        .current_dir(root(""))
        .output()
        .unwrap();
    let report = json_of(&json);
    let fed04: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "DNS-FED-04").collect();
    assert!(fed04.iter().any(|f| f["target"] == "contoso.net" && f["status"] == "fail" && f["severity"] == "critical"));
    assert_eq!(report["discovery"][1]["domain"], "contoso.net");
}

#[test]
fn skipped_rules_are_listed_once_per_reason_after_the_tables() {
    let output = fedscan()
        .args(["scan", "--offline", "--config", "fixtures/sample/contoso-lync2013.txt", "--color", "never"])
        .current_dir(root(""))
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(!table.contains("│ SKIP"), "no skip rows in the tables:\n{table}");
    let (_, skipped) = table.split_once("\nNot checked (skip):\n").expect("a Not checked section");
    let reason = "no partner domains were given (--partner DOMAIN)";
    let lines: Vec<&str> = skipped.lines().filter(|l| l.ends_with(reason)).collect();
    assert_eq!(lines, [format!("  CFG-AEC-09, PROV-DOM-02, PROV-DOM-03, SIP-OPT-03: {reason}")], "{skipped}");
    // Every skipped rule is still in the JSON report, one finding each.
    let json = fedscan()
        .args(["scan", "--offline", "--config", "fixtures/sample/contoso-lync2013.txt", "--format", "json"])
        .current_dir(root(""))
        .output()
        .unwrap();
    let report = json_of(&json);
    let skips = report["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "skip").count();
    let not_run = report["summary"]["not_run"].as_u64().unwrap() as usize;
    assert!(skips >= 30, "{skips}");
    // "skip" is "not applicable"; the rules not run are counted apart, in the
    // JSON as in the table's summary line.
    let applicable_skips = skips - not_run;
    assert_eq!(report["summary"]["by_status"]["skip"].as_u64(), Some(applicable_skips as u64));
    assert!(table.contains(&format!(", {applicable_skips} skip, {not_run} not run")), "{table}");
}

/// The bundled sample's table and JSON report, byte for byte (the report's
/// start and end times masked): a change to either is deliberate, and shows
/// in the diff of `fixtures/sample/expected/`.
#[test]
fn the_sample_reports_match_their_recorded_text() {
    let table = fedscan()
        .args(["scan", "--facts", "fixtures/sample/contoso.facts.json", "--color", "never"])
        .current_dir(root(""))
        .output()
        .unwrap();
    let expected = std::fs::read_to_string(root("fixtures/sample/expected/contoso.table.txt")).unwrap();
    assert_eq!(String::from_utf8_lossy(&table.stdout), expected);

    let json = fedscan()
        .args(["scan", "--facts", "fixtures/sample/contoso.facts.json", "--format", "json"])
        .current_dir(root(""))
        .output()
        .unwrap();
    let times = regex::Regex::new(r#""(started_at|finished_at)": "[^"]*""#).unwrap();
    let masked = times.replace_all(std::str::from_utf8(&json.stdout).unwrap(), r#""$1": "-""#);
    let expected = std::fs::read_to_string(root("fixtures/sample/expected/contoso.report.json")).unwrap();
    assert_eq!(masked, expected);
}

/// Five different mistakes in one rule file: one run names all five, each
/// at its line and column, and shows the line.
#[test]
fn rules_validate_reports_every_mistake_in_one_run() {
    let file = r#"[[rule]]
id = "ORG-CFG-01"
title = "Anonymous users are not allowed"
severity = "serious"
profiles = ["federation"]
rationale = "Our policy forbids anonymous meeting join."
remediation = "Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $False"
references = ["https://intranet.example/policy/uc-7"]
owner = "uc-team"
[rule.check]
kind = "config_field"
object = "AccessEdgeConfiguration"
expect = { AllowAnonymousUsers = [false] }

[[rule]]
id = "ORG-TLS-01"
title = "Edges accept TLS 1.2"
severity = "high"
profiles = ["federation"]
rationale = "Partners negotiate TLS 1.2."
remediation = "Enable TLS 1.2 on {fqdn}"
references = ["https://intranet.example/policy/uc-8"]
effective_date = 2026-13-01
[rule.check]
kind = "tls_versions"
connection_rule = "TLS-CON-99"
"#;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "mine.toml", file);
    let output = fedscan().args(["rules", "validate"]).arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let name = path.display().to_string();
    for (place, says) in [
        ("4:12", "unknown variant `serious`"),
        ("9:1", "unknown field `owner`"),
        ("13:34", "expected a value"),
        ("23:18", "invalid date"),
        ("26:19", "check: `connection_rule` names rule TLS-CON-99, which is not defined"),
    ] {
        let headline = format!("fedscan: error: {name}:{place}: {says}");
        assert!(stderr.contains(&headline), "no {headline:?} in\n{stderr}");
    }
    assert_eq!(stderr.matches("fedscan: error: ").count(), 5, "{stderr}");
    assert!(stderr.contains("5 problem(s) in the rule files"), "{stderr}");
    // Each diagnostic shows the offending line.
    assert!(stderr.contains("4 | severity = \"serious\""), "{stderr}");
}

/// A pattern is compiled when a rule first compares with it, but `rules
/// validate` compiles every one: a pattern of valid syntax that is past the
/// engine's size limit is refused at its place, as a syntax error is.
#[test]
fn rules_validate_refuses_a_pattern_too_large_to_compile() {
    let rule = |id: &str, pattern: &str| {
        format!(
            r#"[[rule]]
id = "{id}"
title = "Providers are named"
severity = "low"
profiles = ["federation"]
rationale = "A provider is recognised by its name."
remediation = "Rename the provider."
references = ["https://intranet.example/policy/uc-11"]
[rule.check]
kind = "config_field"
object = "PublicProvider"
expect = {{ Identity = {{ matches = '{pattern}' }} }}
"#
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "patterns.toml",
        &(rule("ORG-PRV-01", r"(?:\w{1000}){1000}") + "\n" + &rule("ORG-PRV-02", "(yahoo")),
    );
    let output = fedscan().args(["rules", "validate"]).arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let name = path.display().to_string();
    for (line, says) in [(12, "size limit"), (25, "unclosed group")] {
        let found = stderr.lines().any(|l| {
            l.starts_with(&format!("fedscan: error: {name}:{line}:")) && l.contains("`matches`") && l.contains(says)
        });
        assert!(found, "no error at line {line} saying {says:?} in\n{stderr}");
    }
    // Elsewhere (a scan, `rules list`) patterns are read without being
    // compiled: a syntax error is still refused, the large pattern loads.
    let broken = fedscan().args(["rules", "list", "--rules"]).arg(&path).output().unwrap();
    assert_eq!(broken.status.code(), Some(2), "a syntax error is refused everywhere");
    let valid = write(dir.path(), "large.toml", &rule("ORG-PRV-01", r"(?:\w{1000}){1000}"));
    let listed = fedscan().args(["rules", "list", "--rules"]).arg(&valid).output().unwrap();
    assert_eq!(listed.status.code(), Some(0), "{}", String::from_utf8_lossy(&listed.stderr));
}

/// Every parameter that names a rule is checked, whatever the kind: a rule
/// file naming rules that do not exist is refused at each one's place.
#[test]
fn rule_references_are_checked_for_every_kind() {
    let file = r#"[[rule]]
id = "ORG-DNS-01"
title = "Federation SRV targets are public"
severity = "high"
profiles = ["federation"]
rationale = "Partners resolve the target from the Internet."
remediation = "Publish the target's A record."
references = ["https://intranet.example/policy/uc-9"]
[rule.check]
kind = "srv_target_public"
service = "_sipfederationtls._tcp"
existence_rule = "DNS-FED-99"
resolution_rule = "NO-SUCH-RULE"

[[rule]]
id = "ORG-TLS-02"
title = "The Edge chain is trusted"
severity = "high"
profiles = ["federation"]
rationale = "Partners check the chain."
remediation = "Send the intermediates."
references = ["https://intranet.example/policy/uc-10"]
[rule.check]
kind = "cert_chain"
algorithm_rules = ["TLS-SIG-01", "TLS-SIG-99"]
incomplete_severity = "medium"
"#;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "refs.toml", file);
    let output = fedscan().args(["rules", "validate"]).arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let name = path.display().to_string();
    for (place, says) in [
        ("12:18", "check: `existence_rule` names rule DNS-FED-99, which is not defined"),
        ("13:19", "check: `resolution_rule` names rule NO-SUCH-RULE, which is not defined"),
        ("25:34", "check: `algorithm_rules` names rule TLS-SIG-99, which is not defined"),
    ] {
        let headline = format!("fedscan: error: {name}:{place}: {says}");
        assert!(stderr.contains(&headline), "no {headline:?} in\n{stderr}");
    }
    assert_eq!(stderr.matches("fedscan: error: ").count(), 3, "{stderr}");
}

/// The convention the reference check relies on: in the built-in rules,
/// every check parameter whose value is a rule ID is named `*_rule` or
/// `*_rules`.
#[test]
fn built_in_rules_name_rules_only_in_rule_parameters() {
    let id = regex::Regex::new(r"^[A-Z]{2,6}-[A-Z0-9]{2,8}-\d{2}$").unwrap();
    for entry in std::fs::read_dir(root("rules")).unwrap() {
        let path = entry.unwrap().path();
        let file: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for rule in file["rule"].as_array().unwrap() {
            let check = rule["check"].as_table().unwrap();
            for (param, value) in check {
                let values: Vec<&toml::Value> = match value {
                    toml::Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                let names_rule = values.iter().any(|v| v.as_str().is_some_and(|s| id.is_match(s)));
                assert!(
                    !names_rule || param.ends_with("_rule") || param.ends_with("_rules"),
                    "{} {}: `{param}` names a rule but does not end in _rule(s)",
                    path.display(),
                    rule["id"]
                );
            }
        }
    }
}

/// Numeric flags are bounded: a value past the bound is a usage error that
/// says the range, not a scan that never ends or a panic in the runtime.
#[test]
fn numeric_flags_outside_their_range_are_usage_errors() {
    for (flag, value, range) in [
        ("--concurrency", "2305843009213693952", "1..=4096"),
        ("--concurrency", "0", "1..=4096"),
        ("--dns-attempts", "18446744073709551615", "1..=10"),
        ("--expiry-warn-days", "99999", "0..=3650"),
        ("--timeout", "NaN", "between 0 and 600"),
        ("--timeout", "1e9", "between 0 and 600"),
    ] {
        let output = fedscan().args(["scan", "contoso.com", flag, value]).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(range) && !stderr.contains("panicked"), "{flag} {value}: {stderr}");
    }
}

/// A reader that goes away (`| head -1`, `| true`) or a closed stderr ends
/// the output quietly: the exit code is the command's own, never a panic.
#[test]
fn closed_pipes_end_the_output_quietly() {
    use std::process::{Command, Stdio};
    let binary = env!("CARGO_BIN_EXE_fedscan");
    for (args, code) in every_command() {
        for closed in ["stdout", "stderr"] {
            let mut command = Command::new(binary);
            command.args(&args).current_dir(root("")).stdin(Stdio::null());
            let (out, err) =
                if closed == "stdout" { (Stdio::piped(), Stdio::piped()) } else { (Stdio::null(), Stdio::piped()) };
            let mut child = command.stdout(out).stderr(err).spawn().unwrap();
            // Close our end before the command writes: its writes fail.
            let mut kept = String::new();
            if closed == "stdout" {
                drop(child.stdout.take());
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut kept).unwrap();
            } else {
                drop(child.stderr.take());
            }
            let status = child.wait().unwrap();
            assert_eq!(status.code(), Some(code), "{args:?} with a closed {closed}: {kept}");
            assert!(!kept.contains("panicked"), "{kept}");
        }
    }
}

/// One run of every command that writes to standard output, with its exit
/// code when the output is written whole.
fn every_command() -> Vec<(Vec<&'static str>, i32)> {
    let mut commands: Vec<(Vec<&str>, i32)> = vec![
        (vec!["rules", "explain", "DNS-FED-01"], 0),
        (vec!["rules", "list"], 0),
        (vec!["rules", "list", "--format", "json"], 0),
        (vec!["rules", "validate", "rules"], 0),
        (vec!["scan", "--facts", "fixtures/sample/contoso.facts.json"], 1),
        (vec!["scan", "--facts", "no-such.facts.json"], 2),
        (vec!["diagnose", "fixtures/traces/sfb-edge.log"], 1),
        (vec!["diagnose", "--format", "json", "fixtures/traces/sfb-edge.log"], 1),
        (vec!["man"], 0),
        (vec!["--help"], 0),
        (vec!["scan", "--help"], 0),
        (vec!["--version"], 0),
    ];
    for format in ["json", "ndjson", "sarif", "junit", "markdown", "html", "csv"] {
        commands.push((vec!["scan", "--facts", "fixtures/sample/contoso.facts.json", "--format", format], 1));
    }
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        commands.push((vec!["completions", shell], 0));
    }
    commands
}

/// Standard output on a full device (a look-alike of `/dev/full`, made in
/// the test's directory): every command that prints says it could not
/// write and why, exit 2, never a clean or failed exit with part of the
/// output missing.
#[test]
fn a_full_standard_output_is_exit_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    make_char_device(&full, 1, 7);
    for (args, code) in every_command() {
        let out = std::fs::OpenOptions::new().write(true).open(&full).unwrap();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_fedscan"))
            .args(&args)
            .current_dir(root(""))
            .stdout(out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        // An input error is said before anything is written.
        let expected = if code == 2 { "no-such.facts.json" } else { "standard output: No space left on device" };
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    // The same through --output and the other output flags.
    let facts = root("fixtures/sample/contoso.facts.json");
    for flags in [vec!["-o"], vec!["--report", "json="], vec!["--save-facts"]] {
        let (flag, path) = match flags.as_slice() {
            [flag] => (flag.to_string(), full.display().to_string()),
            [flag, prefix] => (flag.to_string(), format!("{prefix}{}", full.display())),
            _ => unreachable!(),
        };
        let output =
            fedscan().args(["scan", "--format", "csv", "--facts"]).arg(&facts).arg(&flag).arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag}: {stderr}");
        assert!(stderr.contains("No space left on device"), "{flag}: {stderr}");
        assert_eq!(node_kind(&full), "char device");
    }
}

/// The arguments that send one output to a path.
type OutputArgs = fn(&str) -> Vec<String>;

/// Each output flag writes into what its path leads to and replaces only a
/// regular file: a device stays a device, a FIFO's reader gets the whole
/// output, a symbolic link keeps pointing where it did and the file it names
/// (made when missing) holds the output, and `-` is standard output.
#[test]
fn outputs_write_into_devices_fifos_and_links_without_replacing_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    make_char_device(&d.join("null"), 1, 3);
    std::os::unix::fs::symlink("null", d.join("link-to-device")).unwrap();
    let facts = root("fixtures/sample/contoso.facts.json");
    let trace = root("fixtures/traces/sfb-edge.log");
    // How each output flag is given a path; each writes JSON there.
    let flags: [(&str, OutputArgs); 4] = [
        ("--output", |p| vec!["--format".into(), "json".into(), "--output".into(), p.into()]),
        ("--report", |p| vec!["--format".into(), "csv".into(), "--report".into(), format!("json={p}")]),
        ("--save-facts", |p| vec!["--format".into(), "csv".into(), "--save-facts".into(), p.into()]),
        ("diagnose --output", |p| vec!["--format".into(), "json".into(), "--output".into(), p.into()]),
    ];
    for (index, (flag, args)) in flags.into_iter().enumerate() {
        let run = |path: &std::path::Path| {
            let mut command = fedscan();
            match flag {
                "diagnose --output" => command.arg("diagnose").arg(&trace),
                _ => command.args(["scan", "--facts"]).arg(&facts),
            };
            command.args(args(&path.display().to_string())).current_dir(d).output().unwrap()
        };
        // A character device: written, still a device.
        for device in ["null", "link-to-device"] {
            let output = run(&d.join(device));
            assert!(
                matches!(output.status.code(), Some(0 | 1)),
                "{flag} {device}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert_eq!(node_kind(&d.join("null")), "char device", "{flag}");
        assert_eq!(node_kind(&d.join("link-to-device")), "symlink", "{flag}");

        // A symbolic link to a file, and one to nothing yet.
        let target = d.join(format!("target-{index}"));
        std::fs::write(&target, "old").unwrap();
        std::os::unix::fs::symlink(target.file_name().unwrap(), d.join(format!("link-{index}"))).unwrap();
        std::os::unix::fs::symlink(format!("made-{index}"), d.join(format!("dangling-{index}"))).unwrap();
        for link in [format!("link-{index}"), format!("dangling-{index}")] {
            let output = run(&d.join(&link));
            assert!(
                matches!(output.status.code(), Some(0 | 1)),
                "{flag} {link}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(node_kind(&d.join(&link)), "symlink", "{flag} {link}");
            let written = std::fs::read_to_string(d.join(&link)).unwrap();
            serde_json::from_str::<Value>(&written).unwrap_or_else(|e| panic!("{flag} {link}: not JSON ({e})"));
        }
        assert_eq!(node_kind(&d.join(format!("made-{index}"))), "file");

        // A FIFO: its reader gets the whole output; it stays a FIFO.
        let fifo = d.join(format!("fifo-{index}"));
        make_fifo(&fifo);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        let output = run(&fifo);
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{flag} fifo: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let read = reader.join().unwrap();
        serde_json::from_str::<Value>(&read).unwrap_or_else(|e| panic!("{flag} fifo: not whole JSON ({e})"));
        assert_eq!(node_kind(&fifo), "fifo", "{flag}");

        // `-`: standard output (the report goes to a file then), and no
        // file named `-`.
        let mut command = fedscan();
        match flag {
            "diagnose --output" => command.arg("diagnose").arg(&trace),
            "--output" => command.args(["scan", "--facts"]).arg(&facts),
            _ => command.args(["scan", "--facts"]).arg(&facts).arg("-o").arg(d.join("report.csv")),
        };
        let output = command.args(args("-")).current_dir(d).output().unwrap();
        serde_json::from_slice::<Value>(&output.stdout).unwrap_or_else(|e| panic!("{flag} -: not JSON ({e})"));
        assert!(!d.join("-").exists(), "{flag} - made a file named -");
    }
    // A Unix socket: connected to and written; it stays a socket.
    let socket = d.join("report.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let reader = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stream, &mut text).unwrap();
        text
    });
    let output =
        fedscan().args(["scan", "--format", "json", "--facts"]).arg(&facts).arg("-o").arg(&socket).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str::<Value>(&reader.join().unwrap()).expect("the whole report through the socket");
    assert_eq!(node_kind(&socket), "socket");

    // Two outputs on standard output are a usage error; any number on a
    // device is fine; two on one FIFO are not.
    let output = fedscan().args(["scan", "--facts"]).arg(&facts).args(["--report", "json=-"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("both write to standard output"));
    let null = d.join("null").display().to_string();
    let output = fedscan()
        .args(["scan", "--facts"])
        .arg(&facts)
        .args(["-o", &null, "--report", &format!("sarif={null}"), "--save-facts", &null])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(node_kind(&d.join("null")), "char device");
}

/// `--quiet` says nothing on standard error about reports written to files.
#[test]
fn quiet_writes_reports_without_a_word() {
    let dir = tempfile::tempdir().unwrap();
    let output = fedscan()
        .args(["scan", "--quiet", "--facts", "fixtures/sample/contoso.facts.json", "-o"])
        .arg(dir.path().join("report.txt"))
        .arg("--report")
        .arg(format!("json={}", dir.path().join("report.json").display()))
        .current_dir(root(""))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert!(dir.path().join("report.json").exists() && dir.path().join("report.txt").exists());
}

/// `--color auto` follows the ecosystem's variables: `CLICOLOR_FORCE`
/// colours a report that is not on a terminal, `NO_COLOR` wins over it.
#[test]
fn colour_follows_no_color_and_clicolor_force() {
    let run = |vars: &[(&str, &str)]| {
        let mut command = fedscan();
        command.args(["scan", "--facts", "fixtures/sample/contoso.facts.json"]).current_dir(root(""));
        for (name, value) in vars {
            command.env(name, value);
        }
        String::from_utf8_lossy(&command.output().unwrap().stdout).contains("\x1b[")
    };
    assert!(!run(&[]));
    assert!(run(&[("CLICOLOR_FORCE", "1")]));
    assert!(!run(&[("CLICOLOR_FORCE", "0")]));
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
}

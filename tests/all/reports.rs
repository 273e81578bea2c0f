//! The report formats, each read by the program that consumes it in CI:
//! Microsoft's SARIF validator and the official SARIF 2.1.0 schema, a JUnit
//! parser, a JSON Schema validator, GitHub's Markdown renderer, a CSV reader
//! and headless Chromium. Then baselines, suppressions and the exit codes
//! they lead to, several reports from one run, progress on a terminal, shell
//! completions and the manual page.

use crate::common;
use crate::peers;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_inert, fedscan, json_of, python_consumer, read_json, root, test_tool, write};
use peers::tls::{LeafSpec, Pki};
use serde_json::Value;

const SAMPLE_FACTS: &str = "fixtures/sample/contoso.facts.json";
const NOW: &str = "2026-11-20T00:00:00Z";

/// The sample's replayed report in `format`, written to `dir`; and the JSON
/// report of the same run, to compare counts with.
fn sample_reports(dir: &Path, format: &str) -> (PathBuf, Value) {
    let path = dir.join(format!("report.{format}"));
    let json = dir.join("report.json");
    let output = fedscan()
        .args(["scan", "--facts", SAMPLE_FACTS, "--format", "json", "-o"])
        .arg(&json)
        .arg("--report")
        .arg(format!("{format}={}", path.display()))
        .current_dir(root(""))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    (path, read_json(&json))
}

/// A payload for every output kind: HTML and script, a Markdown link and
/// mention, a formula, terminal escapes, a bidirectional override, and the
/// noncharacters XML 1.0 forbids.
const HOSTILE: &str = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">\
                       [click](https://evil.example) @admins =cmd|'/c calc'!A1 \u{1b}[31mred\u{1b}[0m \u{202e}txt\u{fffe}\u{ffff}";

/// Saved facts whose Edge refuses OPTIONS with [`HOSTILE`] in the reason
/// phrase, the Server header and an ms-diagnostics reason, as a hostile peer
/// would send them. (A refusal is still a SIP answer: SIP-OPT-01 passes and
/// shows it.)
fn hostile_facts(dir: &Path) -> PathBuf {
    let mut facts: Value = serde_json::from_str(&std::fs::read_to_string(root(SAMPLE_FACTS)).unwrap()).unwrap();
    let response = &mut facts["sip"][0]["response"];
    response["status"] = Value::from(403);
    response["reason"] = Value::from(HOSTILE);
    for header in response["headers"].as_array_mut().unwrap() {
        if header[0] == "Server" {
            header[1] = Value::from(HOSTILE);
        }
    }
    response["headers"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!(["ms-diagnostics", format!("1034;reason=\"{HOSTILE}\"")]));
    let path = dir.join("hostile.facts.json");
    std::fs::write(&path, serde_json::to_string_pretty(&facts).unwrap()).unwrap();
    path
}

/// The report of [`hostile_facts`] in `format`, written to `dir`; the run
/// fails (exit 1) on the sample's own failures.
fn hostile_report(dir: &Path, format: &str) -> PathBuf {
    let path = dir.join(format!("hostile.{format}"));
    let output = fedscan()
        .args(["scan", "--now", NOW, "--format", format, "-o"])
        .arg(&path)
        .arg("--facts")
        .arg(hostile_facts(dir))
        .current_dir(root(""))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    path
}

/// A certificate file whose subject carries [`HOSTILE`].
fn hostile_certificate(dir: &Path) -> PathBuf {
    let leaf = Pki::new("Hostile").leaf(&LeafSpec { common_name: HOSTILE.to_string(), ..LeafSpec::default() });
    write(dir, "hostile.pem", &leaf.chain_pem())
}

fn run_multitool(sarif: &Path, dir: &Path) -> Vec<Value> {
    let log = dir.join("validation.sarif");
    let output = Command::new(test_tool("node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"))
        .args([OsStr::new("validate"), sarif.as_os_str(), OsStr::new("--output"), log.as_os_str()])
        .args(["--log", "ForceOverwrite", "--rule-kind", "Sarif;Gh", "--level", "Error;Warning;Note"])
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .unwrap();
    common::assert_ran(&output, "the SARIF validator");
    let validation = read_json(&log);
    validation["runs"][0]["results"].as_array().cloned().unwrap_or_default()
}

pub(crate) fn assert_valid_sarif(sarif: &Path, dir: &Path) {
    let problems: Vec<String> = run_multitool(sarif, dir)
        .iter()
        .filter(|r| matches!(r["level"].as_str(), Some("error") | Some("warning") | None))
        .map(|r| format!("{} {}", r["ruleId"], r["message"]))
        .collect();
    assert!(problems.is_empty(), "the SARIF validator objects: {problems:#?}");
    // GitHub code scanning rejects an upload in which a result has no
    // physical location.
    let log = read_json(sarif);
    for run in log["runs"].as_array().unwrap() {
        for result in run["results"].as_array().unwrap() {
            let uri = &result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
            assert!(uri.as_str().is_some_and(|u| !u.is_empty()), "a result without a file: {result:#}");
        }
        assert!(run["automationDetails"]["id"].as_str().is_some_and(|id| id.starts_with("fedscan/")), "{run:#}");
        assert!(run["tool"]["driver"]["informationUri"].as_str().is_some(), "{:#}", run["tool"]);
    }
    let schema = python_consumer(
        "validate_json.py",
        &[root("tests/consumers/sarif-schema-2.1.0.json").as_os_str(), sarif.as_os_str()],
    );
    assert!(
        schema.status.success(),
        "not valid against the SARIF 2.1.0 schema:\n{}",
        String::from_utf8_lossy(&schema.stdout)
    );
}

#[test]
fn sarif_report_passes_microsofts_validator_and_the_official_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (sarif, json) = sample_reports(dir.path(), "sarif");
    assert_valid_sarif(&sarif, dir.path());
    let log = read_json(&sarif);
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    let problems =
        json["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "fail" || f["status"] == "error");
    assert_eq!(results.len(), problems.count(), "one result per failure and error");
    // A configuration finding points at its snapshot line; a finding on the
    // path has its logical location under its domain.
    let config = results.iter().find(|r| r["ruleId"] == "PROV-HP-09").expect("PROV-HP-09 in the sample");
    let physical = &config["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "fixtures/sample/contoso-lync2013.txt");
    assert!(physical["region"]["startLine"].as_u64().unwrap() > 1);
    let expiry = results.iter().find(|r| r["ruleId"] == "TLS-EXP-01").unwrap();
    assert_eq!(
        expiry["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "contoso.com/sip.contoso.com/sip.contoso.com:5061"
    );
    // Every result's rule is described, with its fix.
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(rules[index]["help"]["text"].as_str().unwrap().contains("How to fix"));
    }
    // The same findings give the same fingerprints on another run.
    let (again, _) = sample_reports(&dir.path().join("again").tap_mkdir(), "sarif");
    let prints = |log: &Value| -> Vec<Value> {
        log["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["partialFingerprints"].clone()).collect()
    };
    assert_eq!(prints(&log), prints(&read_json(&again)));
}

/// After a merge no domain has a line of a domain list to point at: every
/// result still has a file (the rule's definition), and the log passes the
/// validator's GitHub rules.
#[test]
fn sarif_of_a_merge_gives_every_result_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("merged.sarif");
    let output = fedscan()
        .args(["merge", "--now", NOW, "--format", "sarif", "-o"])
        .arg(&sarif)
        .arg(root(SAMPLE_FACTS))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    assert_valid_sarif(&sarif, dir.path());
    let log = read_json(&sarif);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let on_rules = results
        .iter()
        .filter(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "FEDSCAN_RULES")
        .count();
    assert!(on_rules > 0, "the findings off the snapshot point at their rule's definition");
}

#[test]
fn sarif_with_errors_baseline_and_suppressions_is_still_valid() {
    let dir = tempfile::tempdir().unwrap();
    let facts = hostile_facts(dir.path());
    // A baseline in which the certificate's expiry was not yet a failure
    // (so it is new now) and a pass was a failure (so it is fixed now).
    let mut previous = read_json(root("fixtures/sample/expected/contoso.report.json"));
    for finding in previous["findings"].as_array_mut().unwrap() {
        if finding["rule"] == "TLS-EXP-01" {
            finding["status"] = Value::from("pass");
        }
        if finding["rule"] == "TLS-CHAIN-01" {
            finding["status"] = Value::from("fail");
        }
    }
    let baseline = write(dir.path(), "baseline.json", &previous.to_string());
    let ignore = write(
        dir.path(),
        "ignore.toml",
        "[[ignore]]\nrule = \"PROV-PIC-*\"\nreason = \"Public IM is being retired; accepted until then\"\nexpires = 2027-06-30\n",
    );
    let sarif = dir.path().join("out.sarif");
    let output = fedscan()
        .args(["scan", "--now", NOW, "--facts"])
        .arg(&facts)
        .arg("--baseline")
        .arg(&baseline)
        .arg("--ignore-file")
        .arg(&ignore)
        .args(["--format", "sarif", "-o"])
        .arg(&sarif)
        .current_dir(root(""))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    assert_valid_sarif(&sarif, dir.path());
    let text = std::fs::read_to_string(&sarif).unwrap();
    assert_inert("SARIF", &text);
    let log: Value = serde_json::from_str(&text).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let state = |rule: &str| -> Vec<&str> {
        results.iter().filter(|r| r["ruleId"] == rule).filter_map(|r| r["baselineState"].as_str()).collect()
    };
    assert_eq!(state("TLS-EXP-01"), ["new"]);
    assert_eq!(state("TLS-CHAIN-01"), ["absent"], "fixed since the baseline");
    assert_eq!(state("PROV-HP-09"), ["unchanged"]);
    let suppressed: Vec<&Value> = results.iter().filter(|r| r.get("suppressions").is_some()).collect();
    assert_eq!(suppressed.len(), 2, "PROV-PIC-09 and PROV-PIC-10");
    assert_eq!(suppressed[0]["suppressions"][0]["status"], "accepted");
}

/// A small extension so that a nested temporary directory reads in one line.
trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

#[test]
fn junit_report_is_read_by_a_junit_parser_with_the_reports_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (junit, json) = sample_reports(dir.path(), "junit");
    let parsed = python_consumer("junit_counts.py", &[junit.as_os_str()]);
    assert!(parsed.status.success(), "{}", String::from_utf8_lossy(&parsed.stderr));
    let counts: Value = serde_json::from_slice(&parsed.stdout).unwrap();
    let summary = &json["summary"];
    let by_status = |s: &str| summary["by_status"][s].as_u64().unwrap();
    let totals = &counts["totals"];
    assert_eq!(totals["tests"].as_u64(), summary["total"].as_u64());
    assert_eq!(totals["failures"].as_u64(), Some(by_status("fail")));
    assert_eq!(totals["errors"].as_u64(), Some(by_status("error")));
    assert_eq!(totals["skipped"].as_u64(), Some(by_status("skip") + summary["not_run"].as_u64().unwrap()));
    for suite in counts["suites"].as_array().unwrap() {
        assert_eq!(suite["tests"], suite["cases"], "{suite}");
        assert_eq!(suite["failures"], suite["failed_cases"], "{suite}");
        assert_eq!(suite["skipped"], suite["skipped_cases"], "{suite}");
    }
    // One suite per scanned domain, one test case per rule and target.
    let suite = counts["suites"].as_array().unwrap().iter().find(|s| s["name"] == "contoso.com").unwrap();
    assert!(suite["case_names"].as_array().unwrap().contains(&Value::from("TLS-EXP-01 sip.contoso.com:5061")));
}

/// The JUnit report of a hostile peer's answer is well-formed XML that a
/// strict parser reads (no raw U+FFFE or U+FFFF, which XML 1.0 forbids),
/// and a failure's text keeps its own line break before the fix, never a
/// literal `\u{a}`.
#[test]
fn junit_with_hostile_text_is_well_formed_and_keeps_its_line_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let junit = hostile_report(dir.path(), "junit");
    let parsed = python_consumer("junit_counts.py", &[junit.as_os_str()]);
    assert!(parsed.status.success(), "{}", String::from_utf8_lossy(&parsed.stderr));
    let text = std::fs::read_to_string(&junit).unwrap();
    assert_inert("the JUnit report", &text);
    assert!(!text.contains("\\u{a}"), "a literal \\u{{a}} where a line break belongs");
    assert!(text.contains("\nFix: "), "the fix on a line of its own");
}

#[test]
fn json_and_ndjson_reports_validate_against_the_published_schema() {
    let dir = tempfile::tempdir().unwrap();
    let schema = root("schemas/report.schema.json");
    for (facts, extra) in [
        (root(SAMPLE_FACTS), vec![]),
        (
            hostile_facts(dir.path()),
            vec!["--baseline".to_string(), root("fixtures/sample/expected/contoso.report.json").display().to_string()],
        ),
    ] {
        for format in ["json", "ndjson"] {
            let path = dir.path().join(format!("report.{format}"));
            let output = fedscan()
                .args(["scan", "--now", NOW, "--facts"])
                .arg(&facts)
                .args(&extra)
                .args(["--format", format, "-o"])
                .arg(&path)
                .current_dir(root(""))
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
            let mut args = vec![schema.as_os_str(), path.as_os_str()];
            if format == "ndjson" {
                args.push(OsStr::new("--ndjson"));
            }
            let checked = python_consumer("validate_json.py", &args);
            common::assert_ran(&checked, &format!("the schema check of {format} with {extra:?}"));
        }
    }
    // The NDJSON report has the JSON report's findings, one per line.
    let ndjson = std::fs::read_to_string(dir.path().join("report.ndjson")).unwrap();
    let report = read_json(hostile_report(dir.path(), "json"));
    let lines: Vec<Value> = ndjson.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let findings: Vec<&Value> = lines.iter().filter(|l| l["record"] == "finding").collect();
    assert_eq!(findings.len(), report["findings"].as_array().unwrap().len());
    assert_eq!(lines.first().unwrap()["record"], "scan");
    assert_eq!(lines.last().unwrap()["record"], "summary");
    assert_inert("NDJSON", &ndjson);
}

#[test]
fn markdown_report_renders_on_github_without_links_mentions_or_html_from_values() {
    let dir = tempfile::tempdir().unwrap();
    let markdown = hostile_report(dir.path(), "markdown");
    let text = std::fs::read_to_string(&markdown).unwrap();
    assert_inert("Markdown", &text);
    let rendered = python_consumer("render_markdown.py", &[markdown.as_os_str()]);
    assert!(rendered.status.success());
    let html = String::from_utf8(rendered.stdout).unwrap();
    // Failures first, with their fixes, in tables.
    let to_fix = html.find("To fix").expect("a To fix section");
    let passed = html.find("Passed").expect("a Passed section");
    assert!(to_fix < passed, "failures come before passes");
    assert!(html.contains("<table>") && html.contains("<details>"));
    assert!(html.contains("SIP/2.0 403 &lt;script&gt;"), "the hostile answer is shown, as text");
    // Nothing from a value became markup: no script, image, link or mention.
    for markup in ["<script", "<img", "<a ", "href="] {
        assert!(!html.contains(markup), "{markup} in the rendered summary:\n{html}");
    }
    assert!(html.contains("&lt;script&gt;"), "the payload is shown as text");
}

#[test]
fn csv_report_is_read_back_whole_and_no_cell_is_a_formula() {
    let dir = tempfile::tempdir().unwrap();
    let csv = hostile_report(dir.path(), "csv");
    let read = python_consumer("read_csv.py", &[csv.as_os_str()]);
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    let rows: Vec<Vec<String>> = serde_json::from_slice(&read.stdout).unwrap();
    let json = read_json(hostile_report(dir.path(), "json"));
    assert_eq!(rows.len(), json["findings"].as_array().unwrap().len() + 1, "a header and one row per finding");
    assert_eq!(rows[0][..3], ["status", "severity", "rule"]);
    for row in &rows {
        for cell in row {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "a spreadsheet would run {cell:?}");
        }
    }
    assert!(rows.iter().any(|r| r.iter().any(|c| c.contains("<script>"))), "the payload is kept, as text");
    // Records end in CR LF (RFC 4180); nothing else is a control character.
    assert_inert("CSV", &std::fs::read_to_string(&csv).unwrap().replace("\r\n", "\n"));
}

/// Chromium, headless, as this machine allows it: no sandbox (root), no
/// background connections, a fresh profile.
fn chromium(profile: &Path) -> Command {
    let mut command = Command::new("chromium");
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,2400",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

#[test]
fn html_report_in_chromium_shows_the_failures_and_runs_nothing_from_a_peer() {
    let dir = tempfile::tempdir().unwrap();
    let html = hostile_report(dir.path(), "html");
    // A certificate file's subject too.
    let cert_html = dir.path().join("certificate.html");
    let cert = fedscan()
        .args(["scan", "--offline", "--now", NOW, "--format", "html", "-o"])
        .arg(&cert_html)
        .arg("--cert-file")
        .arg(hostile_certificate(dir.path()))
        .output()
        .unwrap();
    assert!(matches!(cert.status.code(), Some(1) | Some(3)), "{}", String::from_utf8_lossy(&cert.stderr));
    for (name, page) in [("facts", &html), ("certificate", &cert_html)] {
        let text = std::fs::read_to_string(page).unwrap();
        assert_inert("HTML", &text);
        for tag in ["<script", "<img", "<link", "<iframe", "url("] {
            assert!(!text.contains(tag), "{name}: {tag} in a self-contained page");
        }
        let url = format!("file://{}", page.display());
        let dom = chromium(&dir.path().join(format!("profile-{name}"))).arg("--dump-dom").arg(&url).output().unwrap();
        assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
        let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
        assert!(dom.contains("<title>fedscan report"), "the title is the report's, not the payload's:\n{dom}");
        assert!(!dom.contains("pwned</title>"));
        for element in ["<script", "<img", "<a ", "<link"] {
            assert!(!dom.contains(element), "{name}: {element} in the page as Chromium built it");
        }
        assert!(dom.contains("&lt;script&gt;document.title"), "{name}: the payload is text on the page");
        assert!(dom.contains("\\u{1b}[31m"), "{name}: the terminal escape is shown, not sent");
        assert!(dom.contains("id=\"to-fix\""), "{name}: the failures are listed");
        let screenshot = dir.path().join(format!("{name}.png"));
        let shot = chromium(&dir.path().join(format!("profile-shot-{name}")))
            .arg(format!("--screenshot={}", screenshot.display()))
            .arg(&url)
            .output()
            .unwrap();
        assert!(shot.status.success(), "{}", String::from_utf8_lossy(&shot.stderr));
        let png = std::fs::read(&screenshot).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{name}: a screenshot of the page");
    }
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("SIP OPTIONS → SIP/2.0 403 &lt;script&gt;"), "the path shows the hostile answer as text");
}

/// The sample snapshot with one defect fixed (Yahoo's public provider
/// disabled) and one added (outgoing messages no longer marked
/// source-verifiable).
fn changed_snapshot(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root("fixtures/sample/contoso-lync2013.txt")).unwrap();
    let yahoo = text.find("Identity                         : Yahoo").unwrap();
    let enabled = yahoo + text[yahoo..].find("Enabled                          : True").unwrap();
    let mut changed = text.clone();
    changed.replace_range(enabled..enabled + 39, "Enabled                          : False");
    let changed = changed
        .replace("MarkSourceVerifiableOnOutgoingMessages : True", "MarkSourceVerifiableOnOutgoingMessages : False");
    assert_ne!(changed, text);
    write(dir, "after.txt", &changed)
}

fn offline_scan(dir: &Path, snapshot: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let out = dir.join("scan.json");
    let output = fedscan()
        .args(["scan", "--offline", "--now", NOW, "--format", "json", "-c"])
        .arg(snapshot)
        .args(args)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    (output.status.code(), read_json(&out))
}

#[test]
fn a_baseline_marks_one_new_and_one_fixed_and_fail_on_new_counts_only_the_new() {
    let dir = tempfile::tempdir().unwrap();
    let before = root("fixtures/sample/contoso-lync2013.txt");
    let baseline = dir.path().join("baseline.json");
    let (code, report) = offline_scan(dir.path(), &before, &[]);
    assert_eq!(code, Some(1), "the sample has high failures");
    std::fs::write(&baseline, serde_json::to_string(&report).unwrap()).unwrap();
    let after = changed_snapshot(dir.path());
    let baseline_arg = baseline.to_str().unwrap();

    let (_, report) = offline_scan(dir.path(), &after, &["--baseline", baseline_arg]);
    let counts = &report["summary"]["baseline"];
    assert_eq!(counts["new"], 1, "{counts}");
    assert_eq!(counts["fixed"], 1, "{counts}");
    let new: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["baseline_state"] == "new").collect();
    assert_eq!(new[0]["rule"], "CFG-AEC-06");
    assert_eq!(report["baseline"]["fixed"][0]["rule"], "PROV-PIC-09");
    assert_eq!(report["baseline"]["fixed"][0]["target"], "PublicProvider[Yahoo]");

    // The same deployment again: nothing new, so --fail-on-new passes where
    // the plain scan fails; the changed one has a new failure of severity
    // medium, which fails at --fail-on medium and passes at high.
    let (code, _) = offline_scan(dir.path(), &before, &["--baseline", baseline_arg]);
    assert_eq!(code, Some(1));
    let (code, report) = offline_scan(dir.path(), &before, &["--baseline", baseline_arg, "--fail-on-new"]);
    assert_eq!(code, Some(0), "{}", report["summary"]);
    let severity = new[0]["severity"].as_str().unwrap().to_string();
    let (code, _) =
        offline_scan(dir.path(), &after, &["--baseline", baseline_arg, "--fail-on-new", "--fail-on", &severity]);
    assert_eq!(code, Some(1), "the new {severity} failure fails the run");
    let (code, _) =
        offline_scan(dir.path(), &after, &["--baseline", baseline_arg, "--fail-on-new", "--fail-on", "critical"]);
    assert_eq!(code, Some(0), "below the threshold it does not");
    // Soft fail: every failure reported, none fails the run.
    let (code, report) = offline_scan(dir.path(), &after, &["--fail-on", "none"]);
    assert_eq!(code, Some(0));
    assert!(report["summary"]["by_status"]["fail"].as_u64().unwrap() > 0);
    // --fail-on-new without a baseline is a usage error.
    let output = fedscan().args(["scan", "--offline", "-c"]).arg(&after).arg("--fail-on-new").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_suppression_hides_a_failure_until_it_expires_then_it_fails_again() {
    let dir = tempfile::tempdir().unwrap();
    let after = changed_snapshot(dir.path());
    let ignore = write(
        dir.path(),
        ".fedscan-ignore.toml",
        "# accepted findings\n[[ignore]]\nrule = \"CFG-AEC-06\"\ntarget = \"AccessEdgeConfiguration*\"\n\
         reason = \"The Edge pool is being replaced in December\"\nexpires = 2026-12-31\n\n\
         [[ignore]]\nrule = \"PROV-*\"\nreason = \"Providers are reviewed quarterly\"\n\n\
         [[ignore]]\nrule = \"CFG-VER-02\"\nreason = \"Migration planned\"\n\n\
         [[ignore]]\nrule = \"PROV-DOM-03\"\nreason = \"Blocked on purpose\"\n",
    );
    let ignore_arg = ignore.to_str().unwrap();
    let (code, report) = offline_scan(dir.path(), &after, &["--ignore-file", ignore_arg, "--fail-on", "info"]);
    let suppressed: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f.get("suppressed").is_some()).collect();
    let fails = report["summary"]["by_status"]["fail"].as_u64().unwrap();
    assert_eq!(suppressed.len() as u64, report["summary"]["suppressed"].as_u64().unwrap());
    assert_eq!(suppressed.len() as u64, fails, "every failure is accepted: {suppressed:#?}");
    assert_eq!(code, Some(0), "accepted failures do not fail the run: {}", report["summary"]);
    let accepted = suppressed.iter().find(|f| f["rule"] == "CFG-AEC-06").unwrap();
    assert_eq!(accepted["suppressed"]["reason"], "The Edge pool is being replaced in December");
    assert_eq!(accepted["suppressed"]["line"], 2);
    assert_eq!(accepted["status"], "fail", "a suppressed failure is still a failure");

    // After the expiry date the failure counts again, and a note says why.
    let output = fedscan()
        .args(["scan", "--offline", "--now", "2027-01-05T00:00:00Z", "--fail-on", "info", "-c"])
        .arg(&after)
        .args(["--ignore-file", ignore_arg, "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("the suppression of CFG-AEC-06 expired on 2026-12-31"), "{table}");
    let to_fix = table.split_once("To fix").expect("a To fix list").1;
    assert!(to_fix.contains("CFG-AEC-06"), "{to_fix}");

    // The file is read from the current directory by default.
    let output = fedscan()
        .args(["scan", "--offline", "--now", NOW, "--fail-on", "info", "--format", "json", "-c"])
        .arg(&after)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(json_of(&output)["suppressions"], ".fedscan-ignore.toml");

    // An entry naming no rule, or without a reason, is an input error at its line.
    let bad = write(
        dir.path(),
        "bad.toml",
        "[[ignore]]\nrule = \"TLS-NOPE-01\"\nreason = \"x\"\n\n[[ignore]]\nrule = \"TLS-EXP-01\"\n",
    );
    let output =
        fedscan().args(["scan", "--offline", "-c"]).arg(&after).arg("--ignore-file").arg(&bad).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.toml:2:") && stderr.contains("no rule TLS-NOPE-01"), "{stderr}");
    assert!(stderr.contains("bad.toml:6:") && stderr.contains("give a `reason`"), "{stderr}");
    assert!(stderr.contains("2 problem(s) in the suppressions file; nothing was scanned"), "{stderr}");
    // A target too long to match (400,000 wildcards): an error at its line,
    // not a crash.
    let huge = write(
        dir.path(),
        "huge.toml",
        &format!("[[ignore]]\nrule = \"TLS-CON-01\"\nreason = \"x\"\ntarget = \"{}\"\n", "a?".repeat(400_000)),
    );
    let output =
        fedscan().args(["scan", "--offline", "-c"]).arg(&after).arg("--ignore-file").arg(&huge).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("huge.toml:4:") && stderr.contains("this target cannot be matched"), "{stderr}");
    // Bytes that are no text: named, exit 2, nothing scanned.
    let garbage = dir.path().join("garbage.toml");
    std::fs::write(&garbage, common::garbage(3000, 7)).unwrap();
    for flag in ["--ignore-file", "--baseline"] {
        let output = fedscan().args(["scan", "--offline", "-c"]).arg(&after).arg(flag).arg(&garbage).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{flag}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("garbage.toml"), "{flag}");
    }
}

#[test]
fn several_reports_from_one_run_are_checked_before_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let reports: Vec<(String, PathBuf)> = ["sarif", "junit", "markdown", "html", "csv", "ndjson", "json"]
        .iter()
        .map(|f| (f.to_string(), dir.path().join(format!("out.{f}"))))
        .collect();
    let mut command = fedscan();
    command.args(["scan", "--facts", SAMPLE_FACTS, "--color", "never"]).current_dir(root(""));
    for (format, path) in &reports {
        command.arg("--report").arg(format!("{format}={}", path.display()));
    }
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("To fix"), "the table still goes to standard output");
    for (format, path) in &reports {
        assert!(std::fs::metadata(path).unwrap().len() > 1000, "{format}");
    }
    // A directory that does not exist, an output that is an input, two
    // outputs on one path: refused before anything is scanned.
    for (args, said) in [
        (
            vec!["--report".to_string(), format!("sarif={}", dir.path().join("missing/out.sarif").display())],
            "cannot write there",
        ),
        (vec!["--report".to_string(), format!("csv={SAMPLE_FACTS}")], "is the file given to --facts"),
        (
            vec![
                "--report".to_string(),
                format!("csv={}", dir.path().join("x").display()),
                "--report".to_string(),
                format!("html={}", dir.path().join("x").display()),
            ],
            "name the same file",
        ),
        (vec!["--report".to_string(), "pdf=out.pdf".to_string()], "not a report format"),
    ] {
        let saved = dir.path().join("facts-saved.json");
        let output = fedscan()
            .args(["scan", "--facts", SAMPLE_FACTS, "--save-facts"])
            .arg(&saved)
            .args(&args)
            .current_dir(root(""))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(said),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!saved.exists(), "{args:?}: nothing was scanned");
    }
}

#[test]
fn the_terminal_puts_what_to_fix_above_the_summary_and_hides_passes_on_request() {
    let output = fedscan()
        .args(["scan", "--facts", SAMPLE_FACTS, "--color", "never", "--show", "fail,error"])
        .current_dir(root(""))
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(!table.contains("│ PASS"), "{table}");
    assert!(table.contains("│ FAIL"));
    let (before, summary) = table.rsplit_once("\nSummary: ").unwrap();
    let to_fix = before.rsplit_once("\nTo fix (11 failure(s), most severe first):\n").expect("To fix right above").1;
    let first = to_fix.lines().next().unwrap();
    assert!(first.starts_with("  1. CRITICAL DNS-FED-04"), "most severe first: {first}");
    assert!(to_fix.contains("Fix: Remove-CsBlockedDomain -Identity litwareinc.com"), "{to_fix}");
    assert!(summary.starts_with("56 pass, 11 fail"));
    let quiet = fedscan()
        .args(["scan", "--facts", SAMPLE_FACTS, "--color", "never", "--quiet"])
        .current_dir(root(""))
        .output()
        .unwrap();
    let quiet = String::from_utf8_lossy(&quiet.stdout);
    assert!(!quiet.contains("│ PASS") && !quiet.contains("Not checked (skip)"), "{quiet}");
}

#[test]
fn shell_completions_load_in_bash_and_the_manual_page_reads_in_groff() {
    let completions = fedscan().args(["completions", "bash"]).output().unwrap();
    assert!(completions.status.success());
    let dir = tempfile::tempdir().unwrap();
    let script = write(dir.path(), "fedscan.bash", &String::from_utf8(completions.stdout).unwrap());
    let loaded = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p fedscan", script.display()))
        .output()
        .unwrap();
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
    assert!(String::from_utf8_lossy(&loaded.stdout).contains("fedscan"));

    let man = fedscan().arg("man").output().unwrap();
    assert!(man.status.success());
    let page = write(dir.path(), "fedscan.1", &String::from_utf8(man.stdout).unwrap());
    let rendered = Command::new("groff").args(["-k", "-man", "-Tutf8", "-ww", "-z"]).arg(&page).output().unwrap();
    assert!(rendered.status.success());
    assert!(rendered.stderr.is_empty(), "groff warns: {}", String::from_utf8_lossy(&rendered.stderr));
    let text = Command::new("groff").args(["-k", "-man", "-Tutf8"]).arg(&page).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("completions") && text.contains("diagnose"), "{text}");

    // One page per command, into a directory that does not exist yet (a
    // fresh home), each read by groff without a warning; the pages the
    // top-level one refers to exist, and each command's page has every flag
    // its --help has.
    let pages = dir.path().join("share/man/man1");
    let made = fedscan().args(["man", "--dir"]).arg(&pages).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let top = groff_text(&pages.join("fedscan.1"));
    for (command, page) in [
        (vec!["scan"], "fedscan-scan.1"),
        (vec!["diagnose"], "fedscan-diagnose.1"),
        (vec!["merge"], "fedscan-merge.1"),
        (vec!["rules", "list"], "fedscan-rules-list.1"),
        (vec!["rules", "explain"], "fedscan-rules-explain.1"),
        (vec!["rules", "validate"], "fedscan-rules-validate.1"),
        (vec!["completions"], "fedscan-completions.1"),
        (vec!["man"], "fedscan-man.1"),
    ] {
        let name = page.trim_end_matches(".1");
        if command.len() == 1 {
            assert!(top.contains(&format!("{name}(1)")), "fedscan(1) does not refer to {name}(1)");
        }
        let text = groff_text(&pages.join(page));
        let help = fedscan().args(&command).arg("--help").output().unwrap();
        let help = String::from_utf8_lossy(&help.stdout);
        let flags: std::collections::BTreeSet<&str> = help
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .collect();
        assert!(!flags.is_empty() || command == ["completions"], "{command:?}: {help}");
        let missing: Vec<&&str> = flags.iter().filter(|flag| !text.contains(**flag)).collect();
        assert!(missing.is_empty(), "{page} lacks {missing:?}");
    }
}

/// A manual page as groff renders it, asserting it renders without a warning.
fn groff_text(page: &Path) -> String {
    let checked = Command::new("groff").args(["-k", "-man", "-Tutf8", "-ww", "-z"]).arg(page).output().unwrap();
    assert!(
        checked.status.success() && checked.stderr.is_empty(),
        "{}: {}",
        page.display(),
        String::from_utf8_lossy(&checked.stderr)
    );
    // Plain text: no overstriking for bold and underline.
    let text = Command::new("groff").args(["-k", "-man", "-Tutf8", "-P-cbou"]).arg(page).output().unwrap();
    // groff uses Unicode hyphens and minus signs; read it as typed.
    String::from_utf8_lossy(&text.stdout).replace(['\u{2010}', '\u{2212}'], "-")
}

#[test]
fn progress_shows_on_a_terminal_and_nowhere_else() {
    // A resolver that never answers keeps the scan busy for a second, long
    // enough for the bar to be drawn, and is reported early.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let resolver = silent.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let domains = write(dir.path(), "domains.txt", "contoso.com\nfabrikam.com\nlitwareinc.com\n");
    let scan = |extra: &str| {
        format!(
            "{} scan --domains-file {} --resolver {resolver} --timeout 1 --dns-attempts 1 --format json -o {} {extra}",
            assert_cmd::cargo::cargo_bin("fedscan").display(),
            domains.display(),
            dir.path().join("report.json").display()
        )
    };
    // `script` runs the command on a pseudo-terminal and copies what it
    // writes there.
    let on_terminal = |command: String| -> String {
        let typescript = dir.path().join("typescript");
        let output = Command::new("script").args(["-qfec", &command]).arg(&typescript).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let shown = on_terminal(scan(""));
    assert!(shown.contains("/3 domains · DNS "), "the bar: {shown:?}");
    assert!(shown.contains("has answered none of the first"), "the early warning: {shown:?}");
    let quiet = on_terminal(scan("--quiet"));
    assert!(!quiet.contains("domains · DNS") && !quiet.contains("answered none"), "--quiet: {quiet:?}");

    // Piped, with a resolver that answers: not a byte of progress.
    let dns = peers::dns::DnsServer::start(&[("contoso.com", &peers::dns::federation_zone("contoso.com", 9))]);
    let output = fedscan()
        .args(["scan", "contoso.com", "--resolver", &dns.addr.to_string(), "--timeout", "1", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.stderr.is_empty(), "stderr: {:?}", String::from_utf8_lossy(&output.stderr));
    json_of(&output);
    drop(silent);
}

#[test]
fn many_domains_get_one_line_each_and_sarif_points_at_the_domains_file() {
    // Twelve domains, every third without a federation record.
    let names: Vec<String> = (1..=12).map(|i| format!("org{i}.test")).collect();
    let zones: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            if i % 3 == 2 {
                peers::dns::zone(name, "www 300 IN A 127.0.0.1")
            } else {
                peers::dns::federation_zone(name, 9)
            }
        })
        .collect();
    let pairs: Vec<(&str, &str)> = names.iter().map(String::as_str).zip(zones.iter().map(String::as_str)).collect();
    let dns = peers::dns::DnsServer::start(&pairs);
    let dir = tempfile::tempdir().unwrap();
    let domains = write(dir.path(), "domains.txt", &format!("# partners\n{}\n", names.join("\n")));
    let sarif = dir.path().join("out.sarif");
    let output = fedscan()
        .args([
            "scan",
            "--only",
            "DNS-FED-01",
            "--color",
            "never",
            "--resolver",
            &dns.addr.to_string(),
            "--domains-file",
        ])
        .arg(&domains)
        .arg("--report")
        .arg(format!("sarif={}", sarif.display()))
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{table}");
    assert!(table.contains("12 domains (one line each"), "{table}");
    assert!(!table.contains("DNS path for"), "no path blocks: {table}");
    let lines: Vec<&str> = table.lines().filter(|l| l.contains(".test ")).collect();
    assert_eq!(lines.len(), 12, "{table}");
    let failing: Vec<&&str> = lines.iter().filter(|l| l.trim_start().starts_with("FAIL")).collect();
    assert_eq!(failing.len(), 4, "{table}");
    for name in ["org3.test", "org6.test", "org9.test", "org12.test"] {
        assert!(
            failing.iter().any(|l| l.contains(&format!(" {name} ")) && l.contains("DNS-FED-01")),
            "{name}: {table}"
        );
    }
    assert!(lines.iter().all(|l| l.chars().count() <= 120), "one line of at most 120 columns each: {table}");
    // --layout paths shows each path again.
    let paths = fedscan()
        .args([
            "scan",
            "--only",
            "DNS-FED-01",
            "--layout",
            "paths",
            "--resolver",
            &dns.addr.to_string(),
            "--domains-file",
        ])
        .arg(&domains)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&paths.stdout).matches("DNS path for").count(), 12);
    // Code scanning needs a file: a domain's alert points at its line.
    let log = read_json(&sarif);
    let result = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "org3.test")
        .expect("org3.test fails DNS-FED-01");
    let physical = &result["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], format!("file://{}", domains.display()));
    assert_eq!(physical["region"]["startLine"], 4, "after the comment line");
}

/// The README's CI snippets: each a valid workflow for its CI (the
/// schemas check-jsonschema carries), and each `fedscan scan` command in
/// them runs as written, writing every report it names.
#[test]
fn the_readmes_ci_snippets_are_valid_workflows_whose_scan_commands_run() {
    let readme = std::fs::read_to_string(root("README.md")).unwrap();
    let snippets: Vec<&str> = readme.split("```yaml\n").skip(1).map(|rest| rest.split("```").next().unwrap()).collect();
    assert_eq!(snippets.len(), 2, "a GitHub Actions and a GitLab CI snippet");
    let dir = tempfile::tempdir().unwrap();
    let checker = test_tool("venv/bin/check-jsonschema");
    for (snippet, schema) in snippets.iter().zip(["vendor.github-workflows", "vendor.gitlab-ci"]) {
        let file = write(dir.path(), "workflow.yml", snippet);
        let checked = Command::new(&checker).args(["--builtin-schema", schema]).arg(&file).output().unwrap();
        assert!(checked.status.success(), "{schema}: {}", String::from_utf8_lossy(&checked.stdout));
    }

    // A repository laid out as the snippets expect, and DNS for its domain.
    let dns = peers::dns::DnsServer::start(&[("contoso.com", &peers::dns::federation_zone("contoso.com", 9))]);
    for (n, snippet) in snippets.iter().enumerate() {
        let work = dir.path().join(format!("repo{n}")).tap_mkdir();
        let federation = work.join("federation").tap_mkdir();
        write(&federation, "domains.txt", "contoso.com\n");
        let baseline = fedscan()
            .args(["scan", "--offline", "--format", "json", "-o", "federation/baseline.json", "-c"])
            .arg(root("fixtures/sample/contoso-lync2013.txt"))
            .current_dir(&work)
            .output()
            .unwrap();
        assert!(federation.join("baseline.json").exists(), "{}", String::from_utf8_lossy(&baseline.stderr));
        let summary = work.join("step-summary.md");
        let command = snippet[snippet.find("fedscan scan").expect("a scan command")..]
            .lines()
            .map(str::trim)
            .take_while(|l| !l.is_empty() && !l.starts_with("- uses") && !l.ends_with(':'))
            .collect::<Vec<_>>()
            .join(" ")
            .replace("\"$GITHUB_STEP_SUMMARY\"", &summary.display().to_string());
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        let output = fedscan()
            .args(&args)
            .args(["--resolver", &dns.addr.to_string(), "--timeout", "1"])
            .current_dir(&work)
            .output()
            .unwrap();
        assert!(
            matches!(output.status.code(), Some(0) | Some(1) | Some(3)),
            "{command}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        for written in args.iter().filter_map(|a| a.split_once('=').map(|(_, path)| path)) {
            assert!(work.join(written).exists(), "{command}: no {written}");
        }
        if command.contains("GITHUB_STEP_SUMMARY") || n == 0 {
            assert!(std::fs::read_to_string(&summary).unwrap().starts_with("## fedscan: "));
        }
    }
}

#[test]
fn a_silent_resolver_reads_as_a_few_problems_not_dozens_of_rows() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let resolver = silent.local_addr().unwrap().to_string();
    let output = fedscan()
        .args(["scan", "contoso.com", "--resolver", &resolver, "--timeout", "0.5", "--dns-attempts", "1"])
        .args(["--color", "never"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "nothing could be checked, nothing failed");
    let table = String::from_utf8_lossy(&output.stdout);
    let summary = table.rsplit_once("\nSummary: ").unwrap().1;
    let errors: usize = summary.split(", ").find_map(|p| p.strip_suffix(" error")).unwrap().parse().unwrap();
    assert!(errors >= 10, "{summary}");
    // In the domain's table, the errors with the same message are one row
    // naming each rule: fewer rows than errors.
    let rows = table.lines().filter(|l| l.starts_with("│ ERROR")).count();
    assert!(rows > 0 && rows < errors, "{rows} rows for {errors} errors:\n{table}");
    // And each reason once in the list of what could not be checked.
    let could_not = table.split_once("\nCould not check (error):\n").expect("the list").1;
    let reasons: Vec<&str> = could_not.lines().take_while(|l| l.starts_with("  ")).collect();
    assert!(reasons.len() < errors, "{reasons:#?}");
    let mut seen = std::collections::HashSet::new();
    for reason in &reasons {
        let message = reason.split_once(": ").unwrap().1;
        assert!(seen.insert(message), "{message} listed twice");
    }
    drop(silent);
}

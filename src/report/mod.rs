//! Reports: the findings and the scan's context, for people (table) and
//! machines (JSON). The JSON fields and the exit codes are a contract.

pub mod diagnosis;
pub mod discovery;
pub mod json;
pub mod table;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::facts::{Facts, InputError};
use crate::findings::Severity;
use crate::findings::{Finding, Status};
use crate::rules::Profile;

pub const REPORT_SCHEMA: &str = "fedscan.report/1";

/// Exit codes of `fedscan scan`.
pub mod exit {
    /// Every selected check evaluated; none failed at or above `--fail-on`.
    pub const CLEAN: u8 = 0;
    /// At least one check failed at or above `--fail-on`.
    pub const FAILED: u8 = 1;
    /// Usage or input error.
    pub const INPUT: u8 = 2;
    /// No failure at the threshold, but some checks could not be evaluated.
    pub const INCOMPLETE: u8 = 3;
    /// A live scan stopped by Ctrl-C (128 + SIGINT, as shells report it).
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ReportInputs {
    pub domains: Vec<String>,
    pub partners: Vec<String>,
    pub config: Vec<String>,
    pub facts: Option<String>,
    pub rules: Vec<String>,
}

/// A note from a parser: something passed over in an input file.
#[derive(Debug, Serialize)]
pub struct InputNote {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub total: usize,
    pub by_status: Map<String, Value>,
    pub by_severity: Map<String, Value>,
    pub failed_by_severity: Map<String, Value>,
    /// Rules not run at all (profile not selected, not yet in effect).
    pub not_run: usize,
    pub exit_code: u8,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    pub started_at: String,
    pub finished_at: String,
    /// The clock the rules were evaluated with (`--now`).
    pub evaluated_at: String,
    pub profiles: Vec<Profile>,
    pub fail_on: Severity,
    pub inputs: ReportInputs,
    pub input_errors: Vec<InputError>,
    pub notes: Vec<InputNote>,
    /// Per SIP domain scanned live: the records a partner follows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub discovery: Vec<discovery::DomainDiscovery>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificate_files: Vec<discovery::CertificateFile>,
    pub summary: Summary,
    pub findings: Vec<Finding>,
}

pub fn exit_code(findings: &[Finding], input_errors: &[InputError], fail_on: Severity) -> u8 {
    if !input_errors.is_empty() {
        exit::INPUT
    } else if findings.iter().any(|f| f.status == Status::Fail && f.severity >= fail_on) {
        exit::FAILED
    } else if findings.iter().any(|f| f.status == Status::Error) {
        exit::INCOMPLETE
    } else {
        exit::CLEAN
    }
}

fn counts<T: Copy + PartialEq>(
    items: impl Iterator<Item = T>,
    keys: &[T],
    name: impl Fn(T) -> &'static str,
) -> Map<String, Value> {
    let items: Vec<T> = items.collect();
    keys.iter().map(|&k| (name(k).to_string(), Value::from(items.iter().filter(|&&i| i == k).count()))).collect()
}

pub fn summarize(findings: &[Finding], input_errors: &[InputError], fail_on: Severity) -> Summary {
    Summary {
        total: findings.len(),
        by_status: counts(findings.iter().map(|f| f.status), &Status::ALL, Status::name),
        by_severity: counts(findings.iter().map(|f| f.severity), &Severity::ALL, Severity::name),
        failed_by_severity: counts(
            findings.iter().filter(|f| f.status == Status::Fail).map(|f| f.severity),
            &Severity::ALL,
            Severity::name,
        ),
        not_run: findings.iter().filter(|f| is_not_run(f)).count(),
        exit_code: exit_code(findings, input_errors, fail_on),
    }
}

pub fn notes(facts: &Facts, replayed: Option<&str>) -> Vec<InputNote> {
    let mut notes: Vec<InputNote> = facts
        .snapshots
        .iter()
        .flat_map(|s| {
            s.notes.iter().map(|n| InputNote { path: s.path.clone(), line: n.line, message: n.message.clone() })
        })
        .collect();
    if facts.interrupted {
        notes.push(InputNote {
            path: replayed.unwrap_or("the scan").to_string(),
            line: None,
            message: "the scan that gathered these facts was interrupted: what it had not yet asked is missing, so the checks that need it are not complete".into(),
        });
    }
    notes
}

/// One line: "12 pass, 3 fail (1 critical, 2 high), 1 error, 4 skip".
pub fn summary_line(summary: &Summary) -> String {
    let count = |map: &Map<String, Value>, key: &str| map.get(key).and_then(Value::as_u64).unwrap_or(0);
    let failed: Vec<String> = Severity::ALL
        .iter()
        .filter(|s| count(&summary.failed_by_severity, s.name()) > 0)
        .map(|s| format!("{} {}", count(&summary.failed_by_severity, s.name()), s.name()))
        .collect();
    let fail = count(&summary.by_status, "fail");
    let mut line = format!("{} pass, {fail} fail", count(&summary.by_status, "pass"));
    if !failed.is_empty() {
        line.push_str(&format!(" ({})", failed.join(", ")));
    }
    let skip = count(&summary.by_status, "skip") as usize - summary.not_run;
    line.push_str(&format!(", {} error, {skip} skip", count(&summary.by_status, "error")));
    if summary.not_run > 0 {
        line.push_str(&format!(", {} not run (other profiles, or outside the rule's dates)", summary.not_run));
    }
    line
}

pub fn exit_meaning(code: u8, fail_on: Severity) -> String {
    match code {
        exit::CLEAN => format!("exit 0: no failure at or above {fail_on}"),
        exit::FAILED => format!("exit 1: failures at or above {fail_on}"),
        exit::INPUT => "exit 2: some input could not be read (see above); the rest was audited".into(),
        _ => format!("exit 3: no failure at or above {fail_on}, but some checks could not be evaluated"),
    }
}

/// Whether a finding is a rule that was not run at all, which the table
/// leaves out (the JSON keeps them).
pub fn is_not_run(finding: &Finding) -> bool {
    finding.not_run.is_some()
}

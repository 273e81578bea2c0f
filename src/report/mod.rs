//! Reports: the findings and the scan's context, for people (table) and
//! machines (JSON). The JSON fields and the exit codes are a contract.

pub mod csv;
pub mod diagnosis;
pub mod discovery;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod metrics;
pub mod ndjson;
pub mod sarif;
pub mod sink;
pub mod spill;
pub mod table;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::facts::{Facts, InputError};
use crate::findings::{BaselineState, Finding, Severity, Status};
use crate::rules::Profile;
use crate::triage::BaselineProblem;

pub use crate::findings::REPORT_SCHEMA;

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

/// `--fail-on`: the lowest severity of a failure that makes the exit code 1,
/// or `none` (soft fail: failures are reported, the exit code ignores them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
    None,
}

impl FailOn {
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Info => Some(Severity::Info),
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::None => None,
        }
    }
}

/// What makes the exit code 1 or 3: failures at the threshold, errors; never
/// a suppressed finding, and with `--fail-on-new` only what the baseline did
/// not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExitPolicy {
    pub fail_on: FailOn,
    pub only_new: bool,
}

impl ExitPolicy {
    /// Whether a finding can change the exit code.
    pub fn counts(&self, finding: &Finding) -> bool {
        finding.suppressed.is_none() && !(self.only_new && finding.baseline == Some(BaselineState::Unchanged))
    }

    /// Whether a failure makes the exit code 1.
    pub fn fails(&self, finding: &Finding) -> bool {
        finding.status == Status::Fail
            && self.counts(finding)
            && self.fail_on.threshold().is_some_and(|threshold| finding.severity >= threshold)
    }
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

/// A suppression that covered a problem without accepting it, as the
/// report's note.
impl From<crate::triage::NotAccepted> for InputNote {
    fn from(entry: crate::triage::NotAccepted) -> Self {
        InputNote { message: entry.message(), path: entry.file, line: Some(entry.line) }
    }
}

/// The counts the table's summary line and the JSON report share.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Every finding: the rules run (`by_status`) and those not run.
    pub total: usize,
    /// The findings of the rules that ran; `skip` is "not applicable".
    pub by_status: Map<String, Value>,
    /// The failures, by severity (suppressed ones included).
    pub by_severity: Map<String, Value>,
    /// Rules not run at all (profile not selected, not yet or no longer in effect).
    pub not_run: usize,
    /// Failures and errors accepted in the suppressions file.
    pub suppressed: usize,
    /// Against `--baseline`: failures and errors new, unchanged or with another
    /// status, and the baseline's that are gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineCounts>,
    /// The network work of a live scan (not of a replay).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work: Option<WorkDone>,
    /// The scan was stopped (Ctrl-C) before it ended: what it judged is a
    /// part, and no clean bill. Absent when it ran to its end.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// What a merged set of shards lacks, when it was judged anyway
    /// (`--allow-partial`): the findings are a part of the batch's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<String>,
    pub exit_code: u8,
}

/// What a live scan asked of the network.
#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
pub struct WorkDone {
    pub domains: usize,
    /// DNS questions asked (each once, whatever the attempts).
    pub dns_questions: usize,
    /// Endpoints (address and port) probed.
    pub endpoints: usize,
    /// TCP connections opened or tried.
    pub connections: usize,
    /// Full TLS handshakes tried (the version probes' hellos are not).
    pub full_handshakes: usize,
}

#[derive(Debug, Serialize, Default)]
pub struct BaselineCounts {
    pub new: usize,
    pub unchanged: usize,
    pub updated: usize,
    pub fixed: usize,
}

/// The previous report the findings were compared with.
#[derive(Debug, Serialize)]
pub struct BaselineReport {
    pub path: String,
    /// Its failures and errors that this scan no longer has.
    pub fixed: Vec<FixedProblem>,
}

#[derive(Debug, Serialize)]
pub struct FixedProblem {
    pub rule: String,
    pub target: String,
    pub severity: String,
    pub status: Status,
    pub message: String,
    pub fingerprint: String,
}

impl From<BaselineProblem> for FixedProblem {
    fn from(problem: BaselineProblem) -> FixedProblem {
        FixedProblem {
            fingerprint: crate::findings::fingerprint(&problem.rule, &problem.target),
            rule: problem.rule,
            target: problem.target,
            severity: problem.severity,
            status: problem.status,
            message: problem.message,
        }
    }
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
    pub fail_on: FailOn,
    /// `--fail-on-new`: only failures and errors the baseline did not have count.
    pub fail_on_new: bool,
    pub inputs: ReportInputs,
    pub input_errors: Vec<InputError>,
    pub notes: Vec<InputNote>,
    /// Per SIP domain scanned live: the records a partner follows.
    #[serde(skip_serializing_if = "discovery::Discovery::is_empty")]
    pub discovery: discovery::Discovery,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificate_files: Vec<discovery::CertificateFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineReport>,
    /// The suppressions file read, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressions: Option<String>,
    pub summary: Summary,
    #[serde(serialize_with = "json::findings_written_after_the_rest")]
    pub findings: Vec<Finding>,
    /// Where each domain of `--domains-file` was read: file and line (for
    /// SARIF's physical locations).
    #[serde(skip)]
    pub domain_lines: std::collections::HashMap<String, (String, usize)>,
    /// A batch's findings kept on disk in place of `findings`, rendered for
    /// each format that keeps them there (see `sink::Spilled`).
    #[serde(skip)]
    pub spilled_findings: spill::SpilledFindings,
}

impl Report {
    pub fn policy(&self) -> ExitPolicy {
        ExitPolicy { fail_on: self.fail_on, only_new: self.fail_on_new }
    }
}

pub fn summarize(
    findings: &[Finding],
    input_errors: &[InputError],
    policy: ExitPolicy,
    fixed: Option<usize>,
) -> Summary {
    let mut tally = Tally::default();
    for finding in findings {
        tally.add(finding, policy);
    }
    tally.summary(input_errors, fixed)
}

/// The summary's counts, taken one finding at a time: a streamed report
/// counts its findings as it writes them and keeps none.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    total: usize,
    by_status: [usize; 4],
    failed_by_severity: [usize; 5],
    not_run: usize,
    suppressed: usize,
    baseline: [usize; 3],
    fails: bool,
    errors: bool,
}

impl Tally {
    pub fn add(&mut self, finding: &Finding, policy: ExitPolicy) {
        self.total += 1;
        if is_not_run(finding) {
            self.not_run += 1;
        } else {
            let status = Status::ALL.iter().position(|s| *s == finding.status).unwrap_or(0);
            self.by_status[status] += 1;
            if finding.status == Status::Fail {
                let severity = Severity::ALL.iter().position(|s| *s == finding.severity).unwrap_or(0);
                self.failed_by_severity[severity] += 1;
            }
        }
        if finding.suppressed.is_some() {
            self.suppressed += 1;
        }
        match finding.baseline {
            Some(BaselineState::New) => self.baseline[0] += 1,
            Some(BaselineState::Unchanged) => self.baseline[1] += 1,
            Some(BaselineState::Updated) => self.baseline[2] += 1,
            None => {}
        }
        self.fails |= policy.fails(finding);
        self.errors |= finding.status == Status::Error && policy.counts(finding);
    }

    /// Whether no rule passed or failed: everything selected was skipped,
    /// could not be checked, or did not run.
    fn nothing_judged(&self) -> bool {
        self.by_status[0] + self.by_status[1] == 0
    }

    /// The summary; `fixed`: how many of the baseline's problems are gone.
    pub fn summary(&self, input_errors: &[InputError], fixed: Option<usize>) -> Summary {
        let named = |names: &[&'static str], counts: &[usize]| -> Map<String, Value> {
            names.iter().zip(counts).map(|(n, c)| (n.to_string(), Value::from(*c))).collect()
        };
        let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.name()).collect();
        let severities: Vec<&str> = Severity::ALL.iter().map(|s| s.name()).collect();
        let exit_code = if !input_errors.is_empty() {
            exit::INPUT
        } else if self.fails {
            exit::FAILED
        } else if self.errors || self.nothing_judged() {
            // Nothing passed or failed: whatever the reasons, nothing was
            // verified, and that is no clean bill.
            exit::INCOMPLETE
        } else {
            exit::CLEAN
        };
        Summary {
            total: self.total,
            by_status: named(&statuses, &self.by_status),
            by_severity: named(&severities, &self.failed_by_severity),
            not_run: self.not_run,
            suppressed: self.suppressed,
            baseline: fixed.map(|fixed| BaselineCounts {
                new: self.baseline[0],
                unchanged: self.baseline[1],
                updated: self.baseline[2],
                fixed,
            }),
            work: None,
            interrupted: false,
            partial: None,
            exit_code,
        }
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

/// One line: "12 pass, 3 fail (1 critical, 2 high), 1 error, 4 skip, 20 not run".
pub fn summary_line(summary: &Summary) -> String {
    let count = |map: &Map<String, Value>, key: &str| map.get(key).and_then(Value::as_u64).unwrap_or(0);
    let failed: Vec<String> = Severity::ALL
        .iter()
        .filter(|s| count(&summary.by_severity, s.name()) > 0)
        .map(|s| format!("{} {}", count(&summary.by_severity, s.name()), s.name()))
        .collect();
    let mut line = format!("{} pass, {} fail", count(&summary.by_status, "pass"), count(&summary.by_status, "fail"));
    if !failed.is_empty() {
        line.push_str(&format!(" ({})", failed.join(", ")));
    }
    line.push_str(&format!(
        ", {} error, {} skip",
        count(&summary.by_status, "error"),
        count(&summary.by_status, "skip")
    ));
    if summary.not_run > 0 {
        line.push_str(&format!(", {} not run (other profiles, or outside the rule's dates)", summary.not_run));
    }
    if summary.suppressed > 0 {
        line.push_str(&format!("; {} suppressed (accepted, not counted)", summary.suppressed));
    }
    if let Some(b) = &summary.baseline {
        line.push_str(&format!(
            "; against the baseline: {} new, {} unchanged, {} changed status, {} fixed",
            b.new, b.unchanged, b.updated, b.fixed
        ));
    }
    if let Some(partial) = &summary.partial {
        line.push_str(&format!("; PARTIAL: {partial}"));
    }
    if count(&summary.by_status, "pass") + count(&summary.by_status, "fail") == 0 {
        line.push_str("; nothing was judged: no rule could pass or fail, so this is no clean bill (exit 3)");
    }
    line
}

pub fn exit_meaning(code: u8, policy: ExitPolicy) -> String {
    let counted = match (policy.fail_on.threshold(), policy.only_new) {
        (Some(threshold), false) => format!("failure at or above {threshold}"),
        (Some(threshold), true) => format!("new failure at or above {threshold}"),
        (None, _) => "failure counted (--fail-on none)".to_string(),
    };
    match code {
        exit::CLEAN => format!("exit 0: no {counted}"),
        exit::FAILED => match (policy.fail_on.threshold(), policy.only_new) {
            (Some(threshold), true) => format!("exit 1: new failures at or above {threshold}"),
            (threshold, _) => format!("exit 1: failures at or above {}", threshold.unwrap_or(Severity::Info)),
        },
        exit::INPUT => "exit 2: some input could not be read (see above); the rest was audited".into(),
        _ => format!("exit 3: no {counted}, but some checks could not be evaluated"),
    }
}

/// Whether a finding is a rule that was not run at all, which the table
/// leaves out (the JSON keeps them).
pub fn is_not_run(finding: &Finding) -> bool {
    finding.not_run.is_some()
}

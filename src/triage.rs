//! Between the findings and the reports: what a previous report (the
//! baseline) says about each problem, and which problems a team has accepted
//! (a suppressions file, `.fedscan-ignore.toml`). Neither changes a finding's
//! status: a suppressed failure is still a failure, shown as accepted and not
//! counted; a problem the baseline already had is `unchanged`.

use std::collections::HashMap;
use std::path::Path;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use toml::Spanned;

use crate::files::{MAX_FACTS_FILE, MAX_RULE_FILE, read_text_bounded};
use crate::findings::{BaselineState, Finding, Status, Suppressed, fingerprint};
use crate::rules::{Diagnostic, RuleSet, SourceMap, plain_date};

/// The file a scan reads its suppressions from when `--ignore-file` is not given.
pub const DEFAULT_IGNORE_FILE: &str = ".fedscan-ignore.toml";

/// The problems (failures and errors) of a previous report, by fingerprint.
#[derive(Debug, Default)]
pub struct Baseline {
    problems: HashMap<String, BaselineProblem>,
}

/// A failure or error of the baseline, as it was reported.
#[derive(Debug, Clone)]
pub struct BaselineProblem {
    pub rule: String,
    pub target: String,
    pub severity: String,
    pub status: Status,
    pub message: String,
}

impl Baseline {
    /// Reads a previous report: the JSON report (`--format json`) or the
    /// NDJSON one, as fedscan wrote it.
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let text = read_text_bounded(path, MAX_FACTS_FILE)?;
        let findings: Vec<Value> = match serde_json::from_str::<Value>(&text) {
            Ok(report) => {
                if report.get("schema").and_then(Value::as_str) != Some(crate::report::REPORT_SCHEMA) {
                    return Err(format!(
                        "not a fedscan report (no \"schema\": \"{}\"): give the JSON or NDJSON report of an earlier scan",
                        crate::report::REPORT_SCHEMA
                    ));
                }
                report.get("findings").and_then(Value::as_array).cloned().unwrap_or_default()
            }
            Err(_) => {
                let mut findings = Vec::new();
                for (index, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                    let record: Value = serde_json::from_str(line).map_err(|e| {
                        format!("line {}: neither a JSON report nor NDJSON report lines ({e})", index + 1)
                    })?;
                    if record.get("record").and_then(Value::as_str) == Some("finding") {
                        findings.push(record);
                    }
                }
                findings
            }
        };
        let mut problems = HashMap::new();
        for (index, finding) in findings.iter().enumerate() {
            let text = |key: &str| finding.get(key).and_then(Value::as_str);
            let status = match text("status") {
                Some("fail") => Status::Fail,
                Some("error") => Status::Error,
                Some("pass" | "skip") => continue,
                Some(other) => return Err(format!("finding {index}: status {other:?} is not one fedscan writes")),
                None => return Err(format!("finding {index} has no status")),
            };
            let rule = text("rule").ok_or_else(|| format!("finding {index} has no rule"))?;
            let target = text("target").unwrap_or("");
            let problem = BaselineProblem {
                rule: rule.to_string(),
                target: target.to_string(),
                severity: text("severity").unwrap_or("").to_string(),
                status,
                message: text("message").unwrap_or("").to_string(),
            };
            problems.insert(fingerprint(rule, target), problem);
        }
        Ok(Baseline { problems })
    }

    /// Marks each problem new, unchanged or updated; returns the baseline's
    /// problems that are gone (fixed, or no longer checked).
    pub fn compare(&self, findings: &mut [Finding]) -> Vec<BaselineProblem> {
        let mut seen = std::collections::HashSet::new();
        for finding in findings.iter_mut().filter(|f| f.is_problem()) {
            let key = finding.fingerprint();
            finding.baseline = Some(match self.problems.get(&key) {
                None => BaselineState::New,
                Some(before) if before.status == finding.status => BaselineState::Unchanged,
                Some(_) => BaselineState::Updated,
            });
            seen.insert(key);
        }
        let mut fixed: Vec<BaselineProblem> =
            self.problems.iter().filter(|(key, _)| !seen.contains(*key)).map(|(_, p)| p.clone()).collect();
        fixed.sort_by(|a, b| (&a.target, &a.rule).cmp(&(&b.target, &b.rule)));
        fixed
    }
}

/// One entry of a suppressions file.
#[derive(Debug)]
struct Suppression {
    /// A rule ID, or a prefix ending in `*`.
    rule: String,
    /// The targets it covers (`*` and `?` wildcards, any case); all when absent.
    target: Option<Regex>,
    reason: String,
    expires: Option<time::Date>,
    /// `accept_errors = true`: the entry also accepts findings that could
    /// not be checked. Without it an `error` it covers still counts: a
    /// suppression accepts a known failure, not what was never seen.
    accept_errors: bool,
    line: usize,
}

/// The accepted findings of a suppressions file.
#[derive(Debug, Default)]
pub struct Suppressions {
    file: String,
    entries: Vec<Suppression>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuppressionsFile {
    #[serde(default)]
    ignore: Vec<Spanned<EntryFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    rule: Spanned<String>,
    target: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
    expires: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    accept_errors: bool,
}

/// An entry that covered a problem and did not accept it, for the report's
/// notes: it has expired, or the problem is an `error` and the entry does
/// not accept errors.
#[derive(Debug, Clone)]
pub struct NotAccepted {
    pub file: String,
    pub line: usize,
    pub rule: String,
    pub why: Unaccepted,
}

#[derive(Debug, Clone)]
pub enum Unaccepted {
    /// It expired on this date.
    Expired(String),
    /// It covers this many errors and has no `accept_errors = true`.
    Errors(usize),
}

impl NotAccepted {
    /// What the report's note says.
    pub fn message(&self) -> String {
        match &self.why {
            Unaccepted::Expired(date) => {
                format!("the suppression of {} expired on {date}: what it covered counts again", self.rule)
            }
            Unaccepted::Errors(count) => format!(
                "the suppression of {} covers {count} finding(s) that could not be checked (error): they still count, \
                 as a suppression accepts known failures; add `accept_errors = true` to the entry to accept them too",
                self.rule
            ),
        }
    }
}

impl Suppressions {
    /// Reads and checks a suppressions file: every entry names a known rule
    /// and gives a reason; each problem is reported at its line.
    pub fn load(path: &Path, rules: &RuleSet) -> Result<Suppressions, Vec<Diagnostic>> {
        let name = path.display().to_string();
        let text = read_text_bounded(path, MAX_RULE_FILE).map_err(|e| vec![Diagnostic::whole_file(name.clone(), e)])?;
        let map = SourceMap::new(&name, &text);
        let file: SuppressionsFile = toml::from_str(&text).map_err(|e| vec![map.error(&e, &(0..0))])?;
        let mut errors = Vec::new();
        let mut entries = Vec::new();
        for entry in &file.ignore {
            let line = map.line_col(entry.span().start).0;
            let entry = entry.get_ref();
            let rule = entry.rule.get_ref().trim().to_uppercase();
            let known = match rule.strip_suffix('*') {
                Some(prefix) => rules.rules.iter().any(|r| r.id.starts_with(prefix)),
                None => rules.get(&rule).is_some(),
            };
            if !known {
                errors.push(map.diagnostic(
                    entry.rule.span(),
                    format!("no rule {rule} (see `fedscan rules list`); a suppression must name a rule or a prefix such as TLS-*"),
                ));
            }
            let reason = entry.reason.as_ref().map(|r| r.get_ref().trim().to_string()).unwrap_or_default();
            if reason.is_empty() {
                let span = entry.reason.as_ref().map_or_else(|| entry.rule.span(), |r| r.span());
                errors.push(
                    map.diagnostic(span, "give a `reason`: why this finding is accepted, for the next person to read"),
                );
            }
            let expires = plain_date(&entry.expires, "expires", &map, &mut errors);
            let target = match entry.target.as_ref().map(|t| (t, wildcard(t.get_ref()))) {
                Some((_, Ok(pattern))) => Some(pattern),
                Some((written, Err(e))) => {
                    errors.push(map.diagnostic(written.span(), format!("this target cannot be matched: {e}")));
                    None
                }
                None => None,
            };
            entries.push(Suppression { rule, target, reason, expires, accept_errors: entry.accept_errors, line });
        }
        if errors.is_empty() { Ok(Suppressions { file: name, entries }) } else { Err(errors) }
    }

    /// Marks the findings that an entry in force covers; returns the entries
    /// that covered a problem without accepting it (expired, or an error
    /// without `accept_errors`), so that the report says why it counts.
    pub fn apply(&self, findings: &mut [Finding], now: OffsetDateTime) -> Vec<NotAccepted> {
        let today = now.date();
        let mut unaccepted: Vec<NotAccepted> = Vec::new();
        let mut note = |entry: &Suppression, why: Unaccepted| match unaccepted.iter_mut().find(|n| n.line == entry.line)
        {
            Some(NotAccepted { why: Unaccepted::Errors(count), .. }) if matches!(why, Unaccepted::Errors(_)) => {
                *count += 1
            }
            Some(_) => {}
            None => unaccepted.push(NotAccepted {
                file: self.file.clone(),
                line: entry.line,
                rule: entry.rule.clone(),
                why,
            }),
        };
        for finding in findings.iter_mut().filter(|f| f.is_problem()) {
            let target = finding.target.as_ref().map(|t| t.to_string()).unwrap_or_default();
            for entry in self.entries.iter().filter(|e| e.covers(&finding.rule, &target)) {
                match entry.expires {
                    Some(date) if date < today => note(entry, Unaccepted::Expired(date.to_string())),
                    _ if finding.status == Status::Error && !entry.accept_errors => {
                        note(entry, Unaccepted::Errors(1));
                        break;
                    }
                    _ => {
                        finding.suppressed = Some(Suppressed {
                            reason: entry.reason.clone(),
                            expires: entry.expires.map(|d| d.to_string()),
                            file: self.file.clone(),
                            line: entry.line,
                        });
                        break;
                    }
                }
            }
        }
        unaccepted
    }
}

impl Suppression {
    fn covers(&self, rule: &str, target: &str) -> bool {
        let rule_matches = match self.rule.strip_suffix('*') {
            Some(prefix) => rule.starts_with(prefix),
            None => rule == self.rule,
        };
        rule_matches && self.target.as_ref().is_none_or(|pattern| pattern.is_match(target))
    }
}

/// A whole-target pattern from `*` (any run of characters) and `?` (one),
/// matched without regard to case; everything else is literal.
/// Too long a pattern (millions of wildcards) is an error, not a panic.
fn wildcard(pattern: &str) -> Result<Regex, regex::Error> {
    let mut expression = String::from("(?i)^");
    for c in pattern.chars() {
        match c {
            '*' => expression.push_str(".*"),
            '?' => expression.push('.'),
            c => expression.push_str(&regex::escape(&c.to_string())),
        }
    }
    expression.push('$');
    Regex::new(&expression)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_whole_targets_in_any_case() {
        let pattern = wildcard("sip.*.com:5061*").unwrap();
        assert!(pattern.is_match("SIP.contoso.com:5061 (192.0.2.1)"));
        assert!(!pattern.is_match("x.sip.contoso.com:5061"));
        assert!(wildcard("a?c").unwrap().is_match("abc"));
        assert!(!wildcard("a.c").unwrap().is_match("abc"), "a dot is literal");
    }
}

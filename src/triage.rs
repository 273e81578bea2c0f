//! Between the findings and the reports: what a previous report (the
//! baseline) says about each problem, and which problems a team has accepted
//! (a suppressions file, `.fedscan-ignore.toml`). Neither changes a finding's
//! status: a suppressed failure is still a failure, shown as accepted and not
//! counted; a problem the baseline already had is `unchanged`.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
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

/// The fields of a report's finding that a baseline keeps; the rest of a
/// finding (its evidence, references, fix) is skipped as it is read.
#[derive(Deserialize)]
struct BaselineRecord {
    #[serde(default)]
    record: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// A JSON report as a baseline reads it: its schema and its findings.
#[derive(Deserialize)]
struct BaselineReport {
    #[serde(default)]
    schema: Option<String>,
    #[serde(default)]
    findings: Vec<BaselineRecord>,
}

impl Baseline {
    /// Reads a previous report: the JSON report (`--format json`) or the
    /// NDJSON one, as fedscan wrote it. Only what comparison needs is kept
    /// (a problem's rule, target, severity, status and message, by
    /// fingerprint), read straight from the file: a report of 100,000
    /// findings is not held as a document.
    pub fn load(path: &Path) -> Result<Baseline, String> {
        use std::io::{BufRead, Read};
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
        if !meta.is_file() {
            return Err("not a regular file (a directory, a device or a pipe cannot be read as one)".into());
        }
        if meta.len() > MAX_FACTS_FILE {
            return Err(format!("the file is {} bytes; at most {MAX_FACTS_FILE} are read from it", meta.len()));
        }
        let open = || -> Result<_, String> {
            let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
            Ok(std::io::BufReader::with_capacity(256 * 1024, file.take(MAX_FACTS_FILE)))
        };
        // NDJSON starts with a whole record on its first line; a JSON report
        // (pretty-printed) does not.
        let mut first = String::new();
        open()?.read_line(&mut first).map_err(|e| format!("cannot read: {e}"))?;
        let ndjson = serde_json::from_str::<BaselineRecord>(first.trim()).is_ok_and(|r| r.record.is_some());
        let mut problems = HashMap::new();
        let mut keep = |index: usize, record: BaselineRecord| -> Result<(), String> {
            let status = match record.status.as_deref() {
                Some("fail") => Status::Fail,
                Some("error") => Status::Error,
                Some("pass" | "skip") => return Ok(()),
                Some(other) => return Err(format!("finding {index}: status {other:?} is not one fedscan writes")),
                None => return Err(format!("finding {index} has no status")),
            };
            let rule = record.rule.ok_or_else(|| format!("finding {index} has no rule"))?;
            let target = record.target.unwrap_or_default();
            let key = fingerprint(&rule, &target);
            let severity = record.severity.unwrap_or_default();
            let message = record.message.unwrap_or_default();
            problems.insert(key, BaselineProblem { rule, target, severity, status, message });
            Ok(())
        };
        if ndjson {
            let mut index = 0;
            for (number, line) in open()?.lines().enumerate() {
                let line = line.map_err(|e| format!("line {}: {e}", number + 1))?;
                if line.trim().is_empty() {
                    continue;
                }
                let record: BaselineRecord = serde_json::from_str(&line)
                    .map_err(|e| format!("line {}: neither a JSON report nor NDJSON report lines ({e})", number + 1))?;
                if record.record.as_deref() == Some("finding") {
                    keep(index, record)?;
                    index += 1;
                }
            }
        } else {
            let report: BaselineReport = serde_json::from_reader(open()?)
                .map_err(|e| format!("line {}: neither a JSON report nor NDJSON report lines ({e})", e.line()))?;
            if report.schema.as_deref() != Some(crate::findings::REPORT_SCHEMA) {
                return Err(format!(
                    "not a fedscan report (no \"schema\": \"{}\"): give the JSON or NDJSON report of an earlier scan",
                    crate::findings::REPORT_SCHEMA
                ));
            }
            for (index, record) in report.findings.into_iter().enumerate() {
                keep(index, record)?;
            }
        }
        Ok(Baseline { problems })
    }

    /// Marks each problem new, unchanged or updated; returns the baseline's
    /// problems that are gone (fixed, or no longer checked).
    pub fn compare(&self, findings: &mut [Finding]) -> Vec<BaselineProblem> {
        let mut seen = std::collections::HashSet::new();
        self.mark(findings, &mut seen);
        self.fixed(&seen)
    }

    /// Marks each problem among `findings` as new, unchanged or updated,
    /// adding its fingerprint to `seen`: a batch's findings, a chunk at a time.
    pub fn mark(&self, findings: &mut [Finding], seen: &mut std::collections::HashSet<String>) {
        for finding in findings.iter_mut().filter(|f| f.is_problem()) {
            let key = finding.fingerprint();
            finding.baseline = Some(match self.problems.get(&key) {
                None => BaselineState::New,
                Some(before) if before.status == finding.status => BaselineState::Unchanged,
                Some(_) => BaselineState::Updated,
            });
            seen.insert(key);
        }
    }

    /// The baseline's problems none of the findings marked had: fixed.
    pub fn fixed(&self, seen: &std::collections::HashSet<String>) -> Vec<BaselineProblem> {
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
    target: Option<Wildcard>,
    reason: String,
    expires: Option<time::Date>,
    /// `accept_errors = true`: the entry also accepts findings that could
    /// not be checked. Without it an `error` it covers still counts: a
    /// suppression accepts a known failure, not what was never seen.
    accept_errors: bool,
    line: usize,
}

/// The accepted findings of a suppressions file, with the entries indexed
/// for matching: by exact rule ID (or rule prefix), then by exact target,
/// so that thousands of entries cost a hash look-up per finding, not a
/// compiled pattern each and a match against every one.
#[derive(Debug, Default)]
pub struct Suppressions {
    file: String,
    entries: Vec<Suppression>,
    by_rule: HashMap<String, EntryIndex>,
    by_prefix: Vec<(String, EntryIndex)>,
}

/// Entries of one rule (or prefix), by what their target is.
#[derive(Debug, Default)]
struct EntryIndex {
    /// A target without wildcards, lowercased.
    exact: HashMap<String, Vec<usize>>,
    /// No target, or one with wildcards: matched one by one.
    others: Vec<usize>,
}

impl EntryIndex {
    fn add(&mut self, index: usize, entry: &Suppression) {
        match entry.target.as_ref().and_then(Wildcard::literal) {
            Some(literal) => self.exact.entry(literal).or_default().push(index),
            None => self.others.push(index),
        }
    }

    /// The entries that cover `target` (lowercased, as characters).
    fn covering<'a>(
        &'a self,
        entries: &'a [Suppression],
        lower: &'a str,
        chars: &'a [char],
    ) -> impl Iterator<Item = usize> + 'a {
        let exact = self.exact.get(lower).into_iter().flatten().copied();
        let others = self
            .others
            .iter()
            .copied()
            .filter(move |&i| entries[i].target.as_ref().is_none_or(|pattern| pattern.matches(chars)));
        exact.chain(others)
    }
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

/// Adds the entries one part of a batch did not accept to those of the
/// parts before: one note per entry, its errors counted over all parts.
pub fn merge_unaccepted(all: &mut Vec<NotAccepted>, more: Vec<NotAccepted>) {
    for entry in more {
        match all.iter_mut().find(|e| e.file == entry.file && e.line == entry.line) {
            Some(NotAccepted { why: Unaccepted::Errors(count), .. }) => {
                if let Unaccepted::Errors(more) = entry.why {
                    *count += more;
                }
            }
            Some(_) => {}
            None => all.push(entry),
        }
    }
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
            let target = match entry.target.as_ref().map(|t| (t, Wildcard::new(t.get_ref()))) {
                Some((_, Ok(pattern))) => Some(pattern),
                Some((written, Err(e))) => {
                    errors.push(map.diagnostic(written.span(), format!("this target cannot be matched: {e}")));
                    None
                }
                None => None,
            };
            entries.push(Suppression { rule, target, reason, expires, accept_errors: entry.accept_errors, line });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut suppressions = Suppressions { file: name, ..Suppressions::default() };
        for (index, entry) in entries.iter().enumerate() {
            match entry.rule.strip_suffix('*') {
                Some(prefix) => match suppressions.by_prefix.iter_mut().find(|(p, _)| p == prefix) {
                    Some((_, entries)) => entries.add(index, entry),
                    None => {
                        let mut entries = EntryIndex::default();
                        entries.add(index, entry);
                        suppressions.by_prefix.push((prefix.to_string(), entries));
                    }
                },
                None => suppressions.by_rule.entry(entry.rule.clone()).or_default().add(index, entry),
            }
        }
        suppressions.entries = entries;
        Ok(suppressions)
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
            let lower = finding.target.as_ref().map(|t| t.to_string()).unwrap_or_default().to_lowercase();
            let chars: Vec<char> = lower.chars().collect();
            // The entries that cover it, in the file's order.
            let mut covering: Vec<usize> = self
                .by_rule
                .get(&*finding.rule)
                .into_iter()
                .chain(self.by_prefix.iter().filter(|(p, _)| finding.rule.starts_with(p.as_str())).map(|(_, e)| e))
                .flat_map(|index| index.covering(&self.entries, &lower, &chars))
                .collect();
            covering.sort_unstable();
            for entry in covering.into_iter().map(|i| &self.entries[i]) {
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

/// A whole-target pattern: `*` any run of characters, `?` one, everything
/// else literal, without regard to case. Matched directly (no compiled
/// expression), in time proportional to the target times the pattern at
/// worst.
#[derive(Debug)]
struct Wildcard {
    /// Lowercased.
    pattern: Vec<char>,
}

/// The longest target pattern: far past any target's length (a DNS name
/// is at most 253 characters), short of a pattern meant to exhaust memory.
const MAX_PATTERN: usize = 4096;

impl Wildcard {
    fn new(pattern: &str) -> Result<Wildcard, String> {
        let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
        if pattern.len() > MAX_PATTERN {
            return Err(format!("it has {} characters; a target pattern has at most {MAX_PATTERN}", pattern.len()));
        }
        Ok(Wildcard { pattern })
    }

    /// The pattern as a plain (lowercased) target, when it has no wildcard.
    fn literal(&self) -> Option<String> {
        (!self.pattern.iter().any(|c| matches!(c, '*' | '?'))).then(|| self.pattern.iter().collect())
    }

    /// Whether the whole of `target` (lowercased characters) matches: each
    /// `*` absorbs as little as it can, and more only when what follows fails.
    fn matches(&self, target: &[char]) -> bool {
        let (pattern, mut p, mut t) = (&self.pattern, 0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < target.len() {
            match pattern.get(p) {
                Some('*') => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(&c) if c == '?' || c == target[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((star_p, star_t)) => {
                        p = star_p + 1;
                        t = star_t + 1;
                        star = Some((star_p, star_t + 1));
                    }
                    None => return false,
                },
            }
        }
        pattern[p..].iter().all(|c| *c == '*')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, target: &str) -> bool {
        Wildcard::new(pattern).unwrap().matches(&target.to_lowercase().chars().collect::<Vec<_>>())
    }

    #[test]
    fn wildcards_match_whole_targets_in_any_case() {
        assert!(matches("sip.*.com:5061*", "SIP.contoso.com:5061 (192.0.2.1)"));
        assert!(!matches("sip.*.com:5061*", "x.sip.contoso.com:5061"));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a.c", "abc"), "a dot is literal");
        assert!(!matches("a?c", "ac") && !matches("abc", "abcd") && !matches("abcd", "abc"));
        assert!(matches("*", "") && matches("**", "x") && matches("*a*b*", "xxaxxbxx") && !matches("*a*b", "ba"));
        assert!(matches("a*b*c", "aXbYbZc") && !matches("a*b*c", "aXbYbZ"));
        assert!(matches("[x]{y}\\(z)+", "[X]{Y}\\(Z)+"), "nothing but * and ? is special");
        assert_eq!(Wildcard::new("Sip.Contoso.com:5061").unwrap().literal().as_deref(), Some("sip.contoso.com:5061"));
        assert!(Wildcard::new("a*").unwrap().literal().is_none());
        assert!(Wildcard::new(&"a?".repeat(4000)).is_err());
    }
}

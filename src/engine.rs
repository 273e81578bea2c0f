//! The scan: gather the facts (concurrently, each input once), then evaluate
//! the selected rules over them. Gathering is the only place with I/O;
//! evaluation is a pure function of the facts, the rules and the clock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use tokio::task::JoinSet;

use crate::checks::EvalContext;
use crate::facts::config_view::ConfigView;
use crate::facts::snapshot::read_snapshot;
use crate::facts::{Facts, InputError, Inputs};
use crate::findings::{Finding, NotRun, Status};
use crate::rules::{Profile, Rule, RuleSet, Selection};
use crate::text::powershell_quote;

/// File extensions read from a directory given to `--config`.
const SNAPSHOT_EXTENSIONS: [&str; 5] = ["txt", "json", "log", "out", "fl"];

/// Expands `--config` arguments: files as given, directories for the
/// snapshot files inside them (recursively, in name order).
pub fn expand_config_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<InputError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            walk(path, &mut files, &mut errors);
            if files.len() == before {
                errors.push(InputError {
                    path: path.display().to_string(),
                    line: None,
                    column: None,
                    message: format!("no snapshot files (*.{}) in this directory", SNAPSHOT_EXTENSIONS.join(", *.")),
                });
            }
        } else if path.exists() {
            files.push(path.clone());
        } else {
            errors.push(InputError {
                path: path.display().to_string(),
                line: None,
                column: None,
                message: "no such file or directory".into(),
            });
        }
    }
    let mut seen = Vec::new();
    files.retain(|f| {
        let key = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
        let fresh = !seen.contains(&key);
        seen.push(key);
        fresh
    });
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(InputError {
                path: dir.display().to_string(),
                line: None,
                column: None,
                message: format!("cannot read directory: {e}"),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, files, errors);
        } else if path.extension().is_some_and(|x| SNAPSHOT_EXTENSIONS.iter().any(|e| x.eq_ignore_ascii_case(e))) {
            files.push(path);
        }
    }
}

/// Reads every snapshot, in parallel; a file that cannot be read becomes an
/// input error and the others are still read.
pub async fn gather(inputs: Inputs, files: Vec<PathBuf>, mut errors: Vec<InputError>, now: OffsetDateTime) -> Facts {
    let mut facts = Facts::new(inputs, now);
    let mut tasks = JoinSet::new();
    for (index, path) in files.into_iter().enumerate() {
        tasks.spawn_blocking(move || {
            let display = path.display().to_string();
            (index, read_snapshot(&path, &display))
        });
    }
    let mut results = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, result)) => {
                results.insert(index, result);
            }
            Err(e) => errors.push(InputError {
                path: "(snapshot reader)".into(),
                line: None,
                column: None,
                message: e.to_string(),
            }),
        }
    }
    for result in results.into_values() {
        match result {
            Ok(snapshot) => facts.snapshots.push(snapshot),
            Err(error) => errors.push(error),
        }
    }
    facts.input_errors = errors;
    facts
}

/// Evaluates the selected rules over the facts.
pub fn evaluate(
    rules: &RuleSet,
    selection: &Selection,
    facts: &Facts,
    profiles: &[Profile],
    now: OffsetDateTime,
) -> Vec<Finding> {
    let active = Profile::expand(profiles);
    let view = ConfigView::new(facts);
    let ctx = EvalContext { config: &view, now, partners: &facts.inputs.partners };
    let mut findings = Vec::new();
    for rule in rules.rules.iter().filter(|r| selection.includes(r)) {
        if let Some(reason) = not_applicable(rule, selection, &active, now) {
            findings.push(reason);
            continue;
        }
        for outcome in rule.check.evaluate(&ctx) {
            let severity = outcome.severity.map_or(rule.severity, |s| s.min(rule.severity));
            findings.push(Finding {
                rule: rule.id.clone(),
                title: rule.title.clone(),
                severity,
                status: outcome.status,
                target: Some(outcome.target),
                message: outcome.message,
                evidence: outcome.evidence,
                remediation: fill_placeholders(&rule.remediation, &outcome.vars),
                references: rule.references.clone(),
                not_run: None,
            });
        }
    }
    // Stable: by target, then rule ID; findings without a target last.
    findings.sort_by(|a, b| (a.target.is_none(), &a.target, &a.rule).cmp(&(b.target.is_none(), &b.target, &b.rule)));
    findings
}

fn not_applicable(rule: &Rule, selection: &Selection, active: &[Profile], now: OffsetDateTime) -> Option<Finding> {
    let skip = |message: String, why: NotRun| Finding {
        rule: rule.id.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        status: Status::Skip,
        target: None,
        message,
        evidence: serde_json::Value::Null,
        remediation: rule.remediation.clone(),
        references: rule.references.clone(),
        not_run: Some(why),
    };
    let names = |profiles: &[Profile]| profiles.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ");
    if !selection.names(rule) && !rule.profiles.iter().any(|p| active.contains(p)) {
        return Some(skip(
            format!(
                "profile not selected: the rule belongs to {}; the scan ran {}",
                names(&rule.profiles),
                names(active)
            ),
            NotRun::ProfileNotSelected,
        ));
    }
    if let Some(p) = rule.unless_profiles.iter().find(|p| active.contains(p)) {
        return Some(skip(
            format!("does not apply with the {p} profile, whose own rule covers it"),
            NotRun::ProfileNotSelected,
        ));
    }
    if let Some(date) = rule.effective_date.filter(|d| now.date() < *d) {
        return Some(skip(format!("not yet in effect: applies from {date}"), NotRun::NotYetEffective));
    }
    if let Some(date) = rule.ineffective_date.filter(|d| now.date() >= *d) {
        return Some(skip(
            format!("no longer in effect since {date}; to audit as of an earlier date, use --now"),
            NotRun::NoLongerEffective,
        ));
    }
    None
}

fn fill_placeholders(template: &str, vars: &BTreeMap<&'static str, String>) -> String {
    let mut out = template.to_string();
    for name in ["identity", "domain", "fqdn"] {
        let key = format!("{{{name}}}");
        if out.contains(&key) {
            let value = match vars.get(name) {
                Some(v) if name == "identity" => powershell_quote(v),
                Some(v) => v.clone(),
                None => format!("<{name}>"),
            };
            out = out.replace(&key, &value);
        }
    }
    out
}

/// Rules are judged as of `--now`, or else as of the moment the facts were
/// gathered: a live scan and any later replay of its facts agree.
pub fn evaluation_time(requested: Option<OffsetDateTime>, facts: &Facts) -> OffsetDateTime {
    requested.unwrap_or(facts.gathered_at)
}

//! `--only` and `--skip`: by rule ID, by ID prefix (`CFG-AEC-*`), or by
//! profile name; and the scope of a scan, the rules it runs.

use std::fmt;

use time::{Date, OffsetDateTime};

use super::{Profile, Rule, RuleSet};
use crate::findings::NotRun;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Id(String),
    Prefix(String),
    Profile(Profile),
}

impl Pattern {
    fn matches(&self, rule: &Rule) -> bool {
        match self {
            Pattern::Id(id) => rule.id.eq_ignore_ascii_case(id),
            Pattern::Prefix(prefix) => rule.id.to_ascii_uppercase().starts_with(prefix),
            Pattern::Profile(profile) => rule.profiles.contains(profile),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Selection {
    only: Vec<Pattern>,
    skip: Vec<Pattern>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionError(pub String);

impl fmt::Display for SelectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Selection {
    /// Builds a selection; a pattern that matches no rule is an error, as it
    /// is almost always a typo that would silently select nothing.
    pub fn new(only: &[String], skip: &[String], rules: &RuleSet) -> Result<Selection, SelectionError> {
        let parse = |flag: &str, raw: &String| -> Result<Pattern, SelectionError> {
            let token = raw.trim();
            let pattern = if let Some(profile) = Profile::parse(token) {
                Pattern::Profile(profile)
            } else if let Some(prefix) = token.strip_suffix('*') {
                Pattern::Prefix(prefix.to_ascii_uppercase())
            } else {
                Pattern::Id(token.to_string())
            };
            if rules.rules.iter().any(|r| pattern.matches(r)) {
                Ok(pattern)
            } else {
                Err(SelectionError(format!(
                    "{flag} {token}: no rule has this ID, ID prefix or profile (see `fedscan rules list`)"
                )))
            }
        };
        Ok(Selection {
            only: only.iter().map(|t| parse("--only", t)).collect::<Result<_, _>>()?,
            skip: skip.iter().map(|t| parse("--skip", t)).collect::<Result<_, _>>()?,
        })
    }

    pub fn includes(&self, rule: &Rule) -> bool {
        (self.only.is_empty() || self.only.iter().any(|p| p.matches(rule)))
            && !self.skip.iter().any(|p| p.matches(rule))
    }

    /// Whether `--only` named this rule by its exact ID: the user asked for it
    /// whatever the profiles.
    pub fn names(&self, rule: &Rule) -> bool {
        self.only.iter().any(|p| matches!(p, Pattern::Id(_)) && p.matches(rule))
    }
}

/// Which rules a scan runs, and why the others do not: selected by `--only`
/// and `--skip`, of the profiles in force, and in effect on the evaluation
/// date. The plan asks only what the running rules read; the evaluation
/// reports the others as not run.
#[derive(Debug, Clone)]
pub struct Scope {
    selection: Selection,
    active: Vec<Profile>,
    date: Date,
}

impl Scope {
    pub fn new(selection: Selection, profiles: &[Profile], now: OffsetDateTime) -> Scope {
        Scope { selection, active: Profile::expand(profiles), date: now.date() }
    }

    /// The profiles in force.
    pub fn profiles(&self) -> &[Profile] {
        &self.active
    }

    /// Whether `--only` and `--skip` select the rule.
    pub fn selects(&self, rule: &Rule) -> bool {
        self.selection.includes(rule)
    }

    /// Whether the rule is selected and applies.
    pub fn runs(&self, rule: &Rule) -> bool {
        self.selects(rule) && self.not_applicable(rule).is_none()
    }

    /// Why a selected rule does not apply to this scan, if it does not.
    pub fn not_applicable(&self, rule: &Rule) -> Option<(String, NotRun)> {
        let names = |profiles: &[Profile]| profiles.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ");
        if !self.selection.names(rule) && !rule.profiles.iter().any(|p| self.active.contains(p)) {
            return Some((
                format!(
                    "profile not selected: the rule belongs to {}; the scan ran {}",
                    names(&rule.profiles),
                    names(&self.active)
                ),
                NotRun::ProfileNotSelected,
            ));
        }
        if let Some(p) = rule.unless_profiles.iter().find(|p| self.active.contains(p)) {
            return Some((
                format!("does not apply with the {p} profile, whose own rule covers it"),
                NotRun::ProfileNotSelected,
            ));
        }
        if let Some(date) = rule.effective_date.filter(|d| self.date < *d) {
            return Some((format!("not yet in effect: applies from {date}"), NotRun::NotYetEffective));
        }
        if let Some(date) = rule.ineffective_date.filter(|d| self.date >= *d) {
            return Some((
                format!("no longer in effect since {date}; to audit as of an earlier date, use --now"),
                NotRun::NoLongerEffective,
            ));
        }
        None
    }
}

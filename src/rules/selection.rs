//! `--only` and `--skip`: by rule ID, by ID prefix (`CFG-AEC-*`), or by
//! profile name.

use std::fmt;

use super::{Profile, Rule, RuleSet};

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

//! What a check kind is: typed parameters (from a rule's `[rule.check]`)
//! that declare the facts they read, say where on a partner's path they
//! look, and turn facts into outcomes without I/O.

use crate::facts::Targets;
use crate::facts::need::Need;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Step};

pub trait Check: Send + Sync {
    /// Judges the facts: one outcome per target, never I/O.
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome>;

    /// The facts this check reads for these targets; a scan gathers only
    /// what its selected rules need. Configuration is always read.
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        Vec::new()
    }

    /// Where on a partner's path this check looks.
    fn step(&self) -> Step {
        Step::Configuration
    }

    /// Problems with the parameters that their types cannot express (empty
    /// lists, contradictory options); reported when the rule file is loaded.
    fn validate(&self) -> Vec<Problem> {
        Vec::new()
    }

    /// The rules this check's messages point to, by the parameter that names
    /// them; each must exist when the rules are loaded.
    fn references(&self) -> Vec<Reference<'_>> {
        Vec::new()
    }
}

/// A problem with a check's parameters, and the parameter it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub param: Option<&'static str>,
    pub message: String,
}

impl Problem {
    pub fn at(param: &'static str, message: impl Into<String>) -> Self {
        Problem { param: Some(param), message: message.into() }
    }

    pub fn general(message: impl Into<String>) -> Self {
        Problem { param: None, message: message.into() }
    }
}

/// A rule ID a check's parameter names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference<'a> {
    pub param: &'static str,
    pub rule: &'a str,
}

impl<'a> Reference<'a> {
    /// One reference per rule a parameter names.
    pub fn all(param: &'static str, rules: impl IntoIterator<Item = &'a String>) -> Vec<Reference<'a>> {
        rules.into_iter().map(|rule| Reference { param, rule }).collect()
    }
}

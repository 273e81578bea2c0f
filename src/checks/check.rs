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

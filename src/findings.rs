//! Findings: what the rules concluded, the report's unit.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::rules::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Checked and fine.
    Pass,
    /// Checked and wrong; the severity says how much it matters.
    Fail,
    /// Could not be checked: the input to judge was unreadable or ambiguous.
    Error,
    /// Not applicable: no input for it, profile not selected, precondition unmet.
    Skip,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Pass, Status::Fail, Status::Error, Status::Skip];

    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skip => "skip",
        }
    }
}

/// Why a rule was not run at all (rather than run and found not applicable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotRun {
    ProfileNotSelected,
    NotYetEffective,
    NoLongerEffective,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    /// The domain, host:port or configuration object the finding is about.
    pub target: Option<String>,
    pub message: String,
    pub evidence: Value,
    pub remediation: String,
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_run: Option<NotRun>,
}

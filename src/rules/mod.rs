//! Rules: TOML entries that give a check kind its parameters and say what a
//! failure means (severity, rationale, remediation, references).

mod load;
mod selection;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::checks::CheckSpec;
use crate::findings::Severity;

pub use load::{Diagnostic, RuleSource, builtin_sources, load_rules, sources_from_paths};
pub(crate) use load::{SourceMap, plain_date};
pub use selection::{Scope, Selection, SelectionError};

/// Deployment scenarios a rule belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// On-premises SIP federation through the Edge.
    Federation,
    /// Lync–Skype connectivity (public IM connectivity); implies federation.
    Skype,
    /// Split domain with Skype for Business Online.
    Hybrid,
    /// Domain homed in Microsoft 365.
    Online,
    /// Lync mobility push notifications.
    Push,
}

impl Profile {
    pub const ALL: [Profile; 5] =
        [Profile::Federation, Profile::Skype, Profile::Hybrid, Profile::Online, Profile::Push];
    pub const DEFAULT: [Profile; 2] = [Profile::Federation, Profile::Skype];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Federation => "federation",
            Profile::Skype => "skype",
            Profile::Hybrid => "hybrid",
            Profile::Online => "online",
            Profile::Push => "push",
        }
    }

    pub fn parse(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// The profiles in force when `selected` are chosen: Skype connectivity
    /// runs over federation, so it brings the federation rules with it.
    pub fn expand(selected: &[Profile]) -> Vec<Profile> {
        let mut out: Vec<Profile> = selected.to_vec();
        if out.contains(&Profile::Skype) && !out.contains(&Profile::Federation) {
            out.push(Profile::Federation);
        }
        out.sort();
        out.dedup();
        out
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a rule was defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug)]
pub struct Rule {
    pub id: Arc<str>,
    pub title: Arc<str>,
    pub severity: Severity,
    pub profiles: Vec<Profile>,
    /// Profiles under which another rule takes this one's place.
    pub unless_profiles: Vec<Profile>,
    pub rationale: String,
    pub remediation: Arc<str>,
    pub references: Arc<[String]>,
    /// Before this date the rule does not apply (a service that had not yet
    /// ended, say).
    pub effective_date: Option<Date>,
    /// From this date the rule no longer applies (the service it serves was
    /// retired, say).
    pub ineffective_date: Option<Date>,
    pub check: CheckSpec,
    pub origin: Origin,
    /// The rule's TOML as written, for `rules explain`.
    pub source_text: String,
}

/// Every loaded rule, in load order.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

impl RuleSet {
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id.eq_ignore_ascii_case(id))
    }
}

//! `srv_target`: the service's SRV records point (or do not point) at a
//! given host, e.g. Microsoft 365's `sipfed.online.lync.com`.
//!
//! ```toml
//! kind = "srv_target"
//! service = "_sipfederationtls._tcp"
//! equals = "sipfed.online.lync.com"   # or not_equals = "..."
//! port = 5061                         # optional, with equals
//! existence_rule = "DNS-FED-01"      # optional: without it, a missing record fails this rule
//! ```

use serde::Deserialize;

use super::dns::{
    SrvSet, describe_set, evidence, or_outcome, per_domain, service_step, show_srv, srv_need, srv_records, srv_set,
};
use super::{Check, Problem};
use crate::facts::Targets;
use crate::facts::dns::srv_name;
use crate::facts::names::canonical;
use crate::facts::need::Need;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Step, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SrvTarget {
    service: String,
    #[serde(default)]
    equals: Option<String>,
    #[serde(default)]
    not_equals: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    /// The rule that reports a missing record; without one, this rule fails it.
    #[serde(default)]
    existence_rule: Option<String>,
}

impl Check for SrvTarget {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![srv_need(&self.service)]
    }

    fn step(&self) -> Step {
        service_step(&self.service)
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        per_domain(ctx, |domain| {
            let name = srv_name(&self.service, domain);
            let (records, fact) = match &self.existence_rule {
                Some(rule) => or_outcome!(srv_records(ctx, domain, &self.service, rule)),
                None => match or_outcome!(srv_set(ctx, domain, &self.service)) {
                    SrvSet::Records(records, fact) => (records, fact),
                    SrvSet::Absent(fact) | SrvSet::NotOffered(fact) => {
                        return vec![
                            Outcome::fail(Target::domain(domain), format!("{name}: {}", describe_set(fact)))
                                .evidence(evidence(fact))
                                .var(Placeholder::Domain, domain),
                        ];
                    }
                },
            };
            let shown: Vec<String> = records.iter().map(show_srv).collect();
            let matches = |target: &str, host: &Option<String>| {
                host.as_deref().is_some_and(|h| canonical(h) == canonical(target))
            };
            let outcome = if let Some(host) = &self.equals {
                let wrong: Vec<String> = records
                    .iter()
                    .filter(|r| !matches(&r.target, &self.equals) || self.port.is_some_and(|p| p != r.port))
                    .map(show_srv)
                    .collect();
                let expected = match self.port {
                    Some(port) => format!("{host} port {port}"),
                    None => host.clone(),
                };
                if wrong.is_empty() {
                    Outcome::pass(
                        Target::domain(domain),
                        format!("{name} SRV {} points at {expected}", shown.join("; ")),
                    )
                } else {
                    Outcome::fail(
                        Target::domain(domain),
                        format!("{name} SRV {}: expected {expected}", wrong.join("; ")),
                    )
                }
            } else {
                let host = self.not_equals.clone().unwrap_or_default();
                let wrong: Vec<String> =
                    records.iter().filter(|r| matches(&r.target, &self.not_equals)).map(show_srv).collect();
                if wrong.is_empty() {
                    Outcome::pass(
                        Target::domain(domain),
                        format!("{name} SRV {} does not point at {host}", shown.join("; ")),
                    )
                } else {
                    Outcome::fail(Target::domain(domain), format!("{name} SRV {} points at {host}", wrong.join("; ")))
                }
            };
            vec![outcome.evidence(evidence(fact)).var(Placeholder::Domain, domain)]
        })
    }

    fn validate(&self) -> Vec<Problem> {
        match (&self.equals, &self.not_equals) {
            (Some(_), None) | (None, Some(_)) => Vec::new(),
            _ => vec![Problem::general("give exactly one of `equals` and `not_equals`")],
        }
    }
}

//! `split_brain`: the internal DNS view of the federation SRV record agrees
//! with the external one, or has none (then the external answer is used).
//! Two different answers send the Edge one way and partners another.
//!
//! ```toml
//! kind = "split_brain"
//! service = "_sipfederationtls._tcp"
//! ```

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::json;

use super::Check;
use super::dns::{answer, evidence, or_outcome, per_domain_internal, srv_need};
use crate::facts::Targets;
use crate::facts::dns::srv_name;
use crate::facts::dns::{DnsFact, DnsOutcome, DnsView, RecordData, RecordKind};
use crate::facts::need::Need;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Step, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitBrain {
    service: String,
}

/// (target, port) of an SRV answer; `None` when the name has no record.
fn endpoints(fact: &DnsFact) -> Option<BTreeSet<(String, u16)>> {
    match &fact.outcome {
        DnsOutcome::Answer { .. } => Some(
            fact.records()
                .into_iter()
                .filter_map(|r| match &r.data {
                    RecordData::Srv { target, port, .. } => Some((target.clone(), *port)),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    }
}

fn show(set: &BTreeSet<(String, u16)>) -> String {
    set.iter().map(|(t, p)| format!("{t}:{p}")).collect::<Vec<_>>().join(", ")
}

impl Check for SplitBrain {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![srv_need(&self.service), Need::Srv { view: DnsView::Internal, service: self.service.clone() }]
    }

    fn step(&self) -> Step {
        Step::Dns
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        per_domain_internal(ctx, |domain| {
            let name = srv_name(&self.service, domain);
            let external = or_outcome!(answer(ctx, domain, DnsView::External, &name, RecordKind::Srv));
            let internal = or_outcome!(answer(ctx, domain, DnsView::Internal, &name, RecordKind::Srv));
            let evidence = json!({ "external": evidence(external), "internal": evidence(internal) });
            let outcome = match (endpoints(external), endpoints(internal)) {
                (_, None) => Outcome::pass(
                    Target::domain(domain),
                    format!(
                        "internal DNS has no {name} ({}); the external answer applies",
                        internal.outcome.describe()
                    ),
                ),
                (Some(outside), Some(inside)) if outside == inside => Outcome::pass(
                    Target::domain(domain),
                    format!("{name}: internal and external DNS agree ({})", show(&inside)),
                ),
                (Some(outside), Some(inside)) => Outcome::fail(
                    Target::domain(domain),
                    format!("{name}: internal DNS answers {} but external DNS {}", show(&inside), show(&outside)),
                ),
                (None, Some(inside)) => Outcome::fail(
                    Target::domain(domain),
                    format!(
                        "{name} exists only inside ({}); partners find nothing ({})",
                        show(&inside),
                        external.outcome.describe()
                    ),
                ),
            };
            vec![outcome.evidence(evidence).var(Placeholder::Domain, domain)]
        })
    }
}

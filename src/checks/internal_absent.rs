//! `internal_absent`: a host that must be resolved only externally has no
//! record in the internal DNS view (split-brain DNS is not supported for
//! `lyncdiscover`).
//!
//! ```toml
//! kind = "internal_absent"
//! host = "lyncdiscover"
//! ```

use serde::Deserialize;

use serde_json::json;

use super::Check;
use super::dns::{answer, evidence, per_domain_internal};
use crate::facts::Targets;
use crate::facts::dns::{DnsView, RecordKind};
use crate::facts::need::Need;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Status, Step, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InternalAbsent {
    host: String,
}

impl Check for InternalAbsent {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![Need::Host { view: DnsView::Internal, label: self.host.clone() }]
    }

    fn step(&self) -> Step {
        Step::Dns
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        per_domain_internal(ctx, |domain| {
            let name = format!("{}.{domain}", self.host);
            let mut present = 0;
            let mut seen = Vec::new();
            for kind in [RecordKind::A, RecordKind::Aaaa] {
                let fact = match answer(ctx, domain, DnsView::Internal, &name, kind) {
                    Ok(fact) => fact,
                    Err(outcome) if outcome.status == Status::Skip => continue,
                    Err(outcome) => return vec![outcome],
                };
                present += fact.records().len();
                seen.push(evidence(fact));
            }
            if seen.is_empty() {
                return vec![Outcome::skip(
                    Target::domain(domain),
                    format!("{name} was not asked of the internal resolver"),
                )];
            }
            let outcome = if present > 0 {
                Outcome::fail(
                    Target::domain(domain),
                    format!("{name} has {present} record(s) in the internal DNS view"),
                )
            } else {
                Outcome::pass(Target::domain(domain), format!("{name} is not in the internal DNS view"))
            };
            vec![outcome.evidence(json!({ "queries": seen })).var(Placeholder::Domain, domain)]
        })
    }
}

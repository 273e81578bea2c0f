//! `srv_target_public`: the SRV targets' addresses are reachable from the
//! internet: not private, loopback, link-local or otherwise reserved.
//!
//! ```toml
//! kind = "srv_target_public"
//! service = "_sipfederationtls._tcp"
//! existence_rule = "DNS-FED-01"
//! resolution_rule = "DNS-FED-05"   # the rule that reports targets without an address
//! ```

use serde::Deserialize;
use serde_json::json;

use super::Check;
use super::dns::{addresses, followed, is_public, or_outcome, per_domain, queries, service_step, srv_records};
use crate::facts::Targets;
use crate::facts::dns::srv_name;
use crate::facts::need::Need;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Step, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SrvTargetPublic {
    service: String,
    existence_rule: String,
    resolution_rule: String,
}

impl Check for SrvTargetPublic {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![Need::SrvTargets { service: self.service.clone() }]
    }

    fn step(&self) -> Step {
        service_step(&self.service)
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        per_domain(ctx, |domain| {
            let (records, _) = or_outcome!(srv_records(ctx, domain, &self.service, &self.existence_rule));
            let name = srv_name(&self.service, domain);
            let (targets, cut) = followed(domain, &name, &records);
            let mut outcomes: Vec<Outcome> = targets
                .into_iter()
                .filter_map(|target| {
                    let found = match addresses(ctx, domain, target) {
                        Ok(found) => found,
                        Err(outcome) => return Some(outcome),
                    };
                    // No address at all is the resolution rule's finding.
                    found.all().next()?;
                    let private: Vec<String> = found.all().filter(|a| !is_public(a)).map(|a| a.to_string()).collect();
                    let evidence = json!({ "target": target, "queries": queries(&found) });
                    let outcome = if private.is_empty() {
                        Outcome::pass(Target::domain(domain), format!("{target} has only public addresses"))
                    } else {
                        Outcome::fail(
                            Target::domain(domain),
                            format!("{target} resolves to {}: not reachable from the internet", private.join(", ")),
                        )
                    };
                    Some(outcome.evidence(evidence).var(Placeholder::Domain, domain).var(Placeholder::Fqdn, target))
                })
                .collect();
            outcomes.extend(cut);
            if outcomes.is_empty() {
                return vec![Outcome::skip(
                    Target::domain(domain),
                    format!("no SRV target has an address; see {}", self.resolution_rule),
                )];
            }
            outcomes
        })
    }
}

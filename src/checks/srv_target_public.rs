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

use super::dns::{addresses, is_public, or_outcome, per_domain, srv_records};
use super::{Check, EvalContext, Needs, Outcome};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SrvTargetPublic {
    service: String,
    existence_rule: String,
    resolution_rule: String,
}

impl Check for SrvTargetPublic {
    fn needs(&self) -> Needs {
        Needs::Dns
    }

    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        per_domain(ctx, |domain| {
            let (records, _) = or_outcome!(srv_records(ctx, domain, &self.service, &self.existence_rule));
            let mut targets: Vec<&str> = records.iter().map(|r| r.target.as_str()).collect();
            targets.dedup();
            let outcomes: Vec<Outcome> = targets
                .into_iter()
                .filter_map(|target| {
                    let found = match addresses(ctx, domain, target) {
                        Ok(found) => found,
                        Err(outcome) => return Some(outcome),
                    };
                    // No address at all is the resolution rule's finding.
                    found.all().next()?;
                    let private: Vec<String> = found.all().filter(|a| !is_public(a)).map(|a| a.to_string()).collect();
                    let evidence = json!({ "target": target, "queries": found.evidence });
                    let outcome = if private.is_empty() {
                        Outcome::pass(domain, format!("{target} has only public addresses"))
                    } else {
                        Outcome::fail(
                            domain,
                            format!("{target} resolves to {}: not reachable from the internet", private.join(", ")),
                        )
                    };
                    Some(outcome.evidence(evidence).var("domain", domain).var("fqdn", target))
                })
                .collect();
            if outcomes.is_empty() {
                return vec![Outcome::skip(
                    domain,
                    format!("no SRV target has an address; see {}", self.resolution_rule),
                )];
            }
            outcomes
        })
    }
}

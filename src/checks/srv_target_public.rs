//! `srv_target_public`: the SRV targets' addresses are reachable from the
//! internet: not private, loopback, link-local or otherwise reserved.
//!
//! ```toml
//! kind = "srv_target_public"
//! service = "_sipfederationtls._tcp"
//! existence_rule = "DNS-FED-01"
//! resolution_rule = "DNS-FED-05"   # the rule that reports targets without an address
//! ```

use super::dns::Queries;
use serde::Deserialize;

use super::dns::{Found, Service, ServiceRecords, ServiceRecordsCheck, addresses, followed, is_public, queries};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetPublic {
    service: String,
    existence_rule: String,
    resolution_rule: String,
}

pub type SrvTargetPublic = ServiceRecords<TargetPublic>;

impl ServiceRecordsCheck for TargetPublic {
    const READS_TARGETS: bool = true;

    fn service(&self) -> Service<'_> {
        Service { name: &self.service, existence_rule: &self.existence_rule }
    }

    fn judge(&self, ctx: &FactView, srv: &Found) -> Vec<Outcome> {
        let &Found { domain, ref name, ref records, .. } = srv;
        let (targets, cut) = followed(domain, name, records);
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
                let evidence = Queries { target: Some(target), queries: queries(&found) };
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
    }
}

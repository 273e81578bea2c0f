//! `srv_target_edge`: the service's SRV targets are the Access Edge's
//! external FQDN (from `--edge` or the snapshot's Edge services).
//!
//! ```toml
//! kind = "srv_target_edge"
//! service = "_sipfederationtls._tcp"
//! existence_rule = "DNS-FED-01"
//! ```

use serde::Deserialize;

use super::Check;
use super::dns::{evidence, or_outcome, per_domain, service_step, show_srv, srv_need, srv_records};
use crate::facts::Targets;
use crate::facts::dns::srv_name;
use crate::facts::need::Need;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Step, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SrvTargetEdge {
    service: String,
    existence_rule: String,
}

impl Check for SrvTargetEdge {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![srv_need(&self.service)]
    }

    fn step(&self) -> Step {
        service_step(&self.service)
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        if ctx.dns.gathered && ctx.targets.edges.is_empty() {
            return vec![Outcome::skip(
                Target::area("DNS"),
                "the Access Edge FQDN is not known: give --edge FQDN or a snapshot with `Get-CsService -EdgeServer`",
            )];
        }
        let edges = ctx.targets.edges.join(", ");
        per_domain(ctx, |domain| {
            let (records, fact) = or_outcome!(srv_records(ctx, domain, &self.service, &self.existence_rule));
            let name = srv_name(&self.service, domain);
            let elsewhere: Vec<String> =
                records.iter().filter(|r| !ctx.targets.edges.contains(&r.target)).map(show_srv).collect();
            let outcome = if elsewhere.is_empty() {
                Outcome::pass(Target::domain(domain), format!("{name} points at the Access Edge ({edges})"))
            } else {
                Outcome::fail(
                    Target::domain(domain),
                    format!("{name} SRV {} is not the Access Edge ({edges})", elsewhere.join("; ")),
                )
            };
            vec![
                outcome
                    .evidence(evidence(fact))
                    .var(Placeholder::Domain, domain)
                    .var(Placeholder::Fqdn, ctx.targets.edges[0].clone()),
            ]
        })
    }
}

//! `srv_target_edge`: the service's SRV targets are the Access Edge's
//! external FQDN (from `--edge` or the snapshot's Edge services).
//!
//! ```toml
//! kind = "srv_target_edge"
//! service = "_sipfederationtls._tcp"
//! existence_rule = "DNS-FED-01"
//! ```

use serde::Deserialize;

use super::dns::{Found, Service, ServiceRecords, ServiceRecordsCheck, evidence, show_srv};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetEdge {
    service: String,
    existence_rule: String,
}

pub type SrvTargetEdge = ServiceRecords<TargetEdge>;

impl ServiceRecordsCheck for TargetEdge {
    fn service(&self) -> Service<'_> {
        Service { name: &self.service, existence_rule: &self.existence_rule }
    }

    fn cannot_compare(&self, ctx: &FactView) -> Option<Outcome> {
        (ctx.dns.gathered && ctx.targets.edges.is_empty()).then(|| {
            Outcome::skip(
                Target::area("DNS"),
                "the Access Edge FQDN is not known: give --edge FQDN or a snapshot with `Get-CsService -EdgeServer`",
            )
        })
    }

    fn judge(&self, ctx: &FactView, found: &Found) -> Vec<Outcome> {
        let &Found { domain, ref name, ref records, fact } = found;
        let edges = ctx.targets.edges.join(", ");
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
    }
}

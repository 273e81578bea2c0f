//! `srv_target_edge`: the service's SRV targets are the Access Edge's
//! external FQDN (from `--edge` or the snapshot's Edge services), or a name
//! of the same Edge: with several SIP domains, each domain's record points
//! at a host inside that domain (`sip.contoso.net`, as partner discovery
//! requires), whose addresses are the Access Edge's.
//!
//! ```toml
//! kind = "srv_target_edge"
//! service = "_sipfederationtls._tcp"
//! existence_rule = "DNS-FED-01"
//! ```

use serde::Deserialize;

use super::dns::{
    Found, Service, ServiceRecords, ServiceRecordsCheck, evidence, evidence_at, queries, show_srv, unanswered,
};
use crate::facts::dns::DnsView;
use crate::facts::need::Need;
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

    const READS_TARGETS: bool = true;

    fn also_needs(&self) -> Vec<Need> {
        vec![Need::EdgeAddresses]
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
        let label = Target::domain(domain);
        let mut aliases = Vec::new();
        let mut elsewhere = Vec::new();
        let mut looked_up = Vec::new();
        for record in records.iter().filter(|r| !ctx.targets.edges.contains(&r.target)) {
            // Another name is the same Edge when every address it has is
            // one of an Access Edge FQDN's: both answers must be in.
            let target = ctx.dns.host(DnsView::External, &record.target);
            let read: Vec<_> = target
                .facts
                .iter()
                .copied()
                .chain(ctx.targets.edges.iter().flat_map(|edge| ctx.dns.host(DnsView::External, edge).facts))
                .collect();
            if let Some(why) = read.iter().find_map(|f| unanswered(domain, f)) {
                return vec![Outcome::error(
                    &label,
                    format!(
                        "{name} points at {}, not the Access Edge FQDN ({edges}); whether it is the same Edge is not known: {}",
                        record.target,
                        why.message
                    ),
                )
                .evidence(evidence(fact).with_addresses(read.iter().map(|f| evidence(f)).collect()))];
            }
            looked_up.extend(queries(&target));
            let same = ctx.targets.edges.iter().find(|edge| {
                let edge = ctx.dns.host(DnsView::External, edge);
                let theirs: Vec<_> = edge.all().collect();
                target.all().next().is_some() && target.all().all(|a| theirs.contains(&a))
            });
            match same {
                Some(edge) => aliases.push(format!(
                    "{} ({} is {edge}'s)",
                    record.target,
                    target.all().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                )),
                None => elsewhere.push(record),
            }
        }
        let located = evidence_at(fact, &elsewhere);
        let elsewhere: Vec<String> = elsewhere.into_iter().map(show_srv).collect();
        let outcome = match (elsewhere.is_empty(), aliases.is_empty()) {
            (true, true) => Outcome::pass(&label, format!("{name} points at the Access Edge ({edges})")),
            (true, false) => Outcome::pass(
                &label,
                format!("{name} points at the Access Edge ({edges}) by another of its names: {}", aliases.join("; ")),
            ),
            (false, _) => Outcome::fail(
                &label,
                format!(
                    "{name} SRV {} is not the Access Edge ({edges}) nor resolves to its addresses",
                    elsewhere.join("; ")
                ),
            ),
        };
        let outcome = outcome.evidence(located.with_addresses(looked_up));
        vec![outcome.var(Placeholder::Domain, domain).var(Placeholder::Fqdn, ctx.targets.edges[0].clone())]
    }
}

//! `srv_port`: every record of the service uses the Access Edge's federation
//! port (a backup on another port fails exactly when it is needed): the port
//! given with `--edge FQDN:PORT`, else the snapshot's AccessEdgeExternalSipPort,
//! else `port`.
//!
//! ```toml
//! kind = "srv_port"
//! service = "_sipfederationtls._tcp"
//! port = 5061
//! existence_rule = "DNS-FED-01"
//! ```

use std::collections::BTreeSet;

use serde::Deserialize;

use super::dns::{Found, Service, ServiceRecords, ServiceRecordsCheck, evidence_at, show_srv};
use crate::facts::config_view::Objects;
use crate::facts::snapshot::ObjectKind;
use crate::facts::srv::Srv;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    service: String,
    port: u16,
    existence_rule: String,
}

pub type SrvPort = ServiceRecords<Port>;

impl Port {
    /// The port to expect, and where it comes from.
    fn expected(&self, ctx: &FactView) -> (u16, String) {
        if let Some(port) = ctx.targets.edge_port {
            return (port, format!("the port given with --edge ({port})"));
        }
        if let Objects::Captured(edges) = ctx.config.objects(ObjectKind::EdgeService) {
            let ports: BTreeSet<u16> = edges
                .iter()
                // A port the console cut short is no port.
                .filter(|l| l.object.doubt("AccessEdgeExternalSipPort").is_none())
                .filter_map(|l| l.object.get("AccessEdgeExternalSipPort"))
                .filter_map(|(_, v)| v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())))
                .filter_map(|p| u16::try_from(p).ok())
                .collect();
            if ports.len() == 1 {
                let port = *ports.iter().next().expect("one port");
                return (port, format!("the Edge's AccessEdgeExternalSipPort ({port})"));
            }
        }
        (self.port, format!("the federation port {}", self.port))
    }
}

impl ServiceRecordsCheck for Port {
    fn service(&self) -> Service<'_> {
        Service { name: &self.service, existence_rule: &self.existence_rule }
    }

    fn judge(&self, ctx: &FactView, found: &Found) -> Vec<Outcome> {
        let &Found { domain, ref name, ref records, fact } = found;
        let (port, source) = self.expected(ctx);
        let wrong: Vec<&Srv> = records.iter().filter(|r| r.port != port).collect();
        let evidence = evidence_at(fact, &wrong);
        let wrong: Vec<String> = wrong.into_iter().map(show_srv).collect();
        let outcome = if wrong.is_empty() {
            Outcome::pass(Target::domain(domain), format!("{name}: every record uses port {port}, {source}"))
        } else {
            Outcome::fail(
                Target::domain(domain),
                format!("{name} SRV {}: partners will connect there, not to {source}", wrong.join("; ")),
            )
        };
        vec![outcome.evidence(evidence).var(Placeholder::Domain, domain)]
    }
}

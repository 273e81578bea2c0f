//! The TLS endpoints the DNS facts lead to, as a partner's Edge finds them:
//! every address of every federation SRV target on the record's port, and
//! every address of each Access Edge FQDN on the federation port. The scan
//! probes them; the rules and reports read them back from the same facts.

use std::collections::BTreeMap;

use super::Facts;
use super::dns::{DnsIndex, DnsView, RecordKind, srv_name};
use super::srv::{Srv, followed_targets};
use super::tls::Endpoint;

/// The federation SRV service partners look up.
pub const FEDERATION_SERVICE: &str = "_sipfederationtls._tcp";

/// The port of an Access Edge named without one.
pub const FEDERATION_PORT: u16 = 5061;

/// A federation endpoint and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederationEndpoint {
    pub endpoint: Endpoint,
    /// The SIP domain that led to it (the request URI of a SIP probe).
    pub domain: String,
    /// The partner it belongs to (`--partner`), or `None` for the
    /// organization's own.
    pub partner: Option<String>,
}

/// Every federation endpoint, own and partners', each (SNI, address, port)
/// once, in that order.
pub fn federation_endpoints(facts: &Facts) -> Vec<FederationEndpoint> {
    let dns = DnsIndex::new(&facts.dns);
    let mut endpoints: BTreeMap<Endpoint, (String, Option<String>)> = BTreeMap::new();
    let own = facts.targets.domains.iter().map(|d| (d, None));
    let partners = facts.targets.partner_domains().map(|p| (p, Some(p.clone())));
    for (domain, partner) in own.chain(partners) {
        let srv = dns.get(DnsView::External, &srv_name(FEDERATION_SERVICE, domain), RecordKind::Srv);
        let Some(srv) = srv else { continue };
        let records: Vec<Srv> = srv.records().into_iter().filter_map(|r| Srv::from_data(&r.data)).collect();
        let (followed, _) = followed_targets(&records);
        for Srv { target, port, .. } in records.iter().filter(|r| followed.contains(&r.target.as_str())) {
            for address in dns.host(DnsView::External, target).all() {
                endpoints
                    .entry(Endpoint { host: target.clone(), address: *address, port: *port })
                    .or_insert_with(|| (domain.clone(), partner.clone()));
            }
        }
    }
    let port = facts.targets.edge_port.unwrap_or(FEDERATION_PORT);
    let first_domain = facts.targets.domains.first().cloned();
    for edge in &facts.targets.edges {
        let domain =
            first_domain.clone().or_else(|| edge.split_once('.').map(|(_, d)| d.to_string())).unwrap_or_default();
        for address in dns.host(DnsView::External, edge).all() {
            endpoints
                .entry(Endpoint { host: edge.clone(), address: *address, port })
                .or_insert_with(|| (domain.clone(), None));
        }
    }
    endpoints
        .into_iter()
        .map(|(endpoint, (domain, partner))| FederationEndpoint { endpoint, domain, partner })
        .collect()
}

/// The organization's own federation endpoints.
pub fn own_endpoints(facts: &Facts) -> Vec<Endpoint> {
    federation_endpoints(facts).into_iter().filter(|e| e.partner.is_none()).map(|e| e.endpoint).collect()
}

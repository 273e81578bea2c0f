//! The TLS endpoints the DNS facts lead to, as a partner's Edge finds them:
//! every address of every federation SRV target on the record's port, and
//! every address of each Access Edge FQDN on the federation port. The scan
//! probes them; the rules and reports read them back from the same facts.

use std::collections::BTreeMap;

use super::Facts;
use super::dns::{DnsFact, DnsIndex, DnsOutcome, DnsView, RecordKind, srv_name};
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

/// The addresses probed per name and port: a name with a thousand
/// addresses must not cost a thousand handshakes.
pub const MAX_ADDRESSES_PER_HOST: usize = 16;

/// The endpoints of a name on a port beyond [`MAX_ADDRESSES_PER_HOST`]:
/// not probed, so not judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unprobed {
    pub host: String,
    pub port: u16,
    /// The partner it belongs to, or `None` for the organization's own.
    pub partner: Option<String>,
    pub addresses: Vec<std::net::IpAddr>,
    /// How many addresses the name has in all.
    pub total: usize,
}

/// Where DNS leads: the endpoints to probe, and those left out.
#[derive(Debug, Default)]
pub struct FederationEndpoints {
    pub endpoints: Vec<FederationEndpoint>,
    pub unprobed: Vec<Unprobed>,
}

/// Every federation endpoint, own and partners', each (SNI, address, port)
/// once, in that order; at most [`MAX_ADDRESSES_PER_HOST`] addresses of a
/// name on a port, in the order DNS gave them.
pub fn federation_endpoints(facts: &Facts) -> FederationEndpoints {
    let dns = DnsIndex::new(&facts.dns);
    // (host, port) → the domain and partner it is found for, and its
    // addresses in DNS order.
    type Whose = (String, Option<String>, Vec<std::net::IpAddr>);
    let mut hosts: BTreeMap<(String, u16), Whose> = BTreeMap::new();
    let mut add = |host: &str, port: u16, domain: &String, partner: &Option<String>| {
        let entry =
            hosts.entry((host.to_string(), port)).or_insert_with(|| (domain.clone(), partner.clone(), Vec::new()));
        for address in dns.host(DnsView::External, host).all() {
            if !entry.2.contains(address) {
                entry.2.push(*address);
            }
        }
    };
    let own = facts.targets.domains.iter().map(|d| (d, None));
    let partners = facts.targets.partner_domains().map(|p| (p, Some(p.clone())));
    for (domain, partner) in own.chain(partners) {
        let srv = dns.get(DnsView::External, &srv_name(FEDERATION_SERVICE, domain), RecordKind::Srv);
        let Some(srv) = srv else { continue };
        let records: Vec<Srv> = srv.records().into_iter().filter_map(|r| Srv::from_data(&r.data)).collect();
        let (followed, _) = followed_targets(&records);
        for Srv { target, port, .. } in records.iter().filter(|r| followed.contains(&r.target.as_str())) {
            add(target, *port, domain, &partner);
        }
    }
    let port = facts.targets.edge_port.unwrap_or(FEDERATION_PORT);
    let first_domain = facts.targets.domains.first().cloned();
    for edge in &facts.targets.edges {
        let domain =
            first_domain.clone().or_else(|| edge.split_once('.').map(|(_, d)| d.to_string())).unwrap_or_default();
        add(edge, port, &domain, &None);
    }
    let mut out = FederationEndpoints::default();
    for ((host, port), (domain, partner, mut addresses)) in hosts {
        let total = addresses.len();
        let left_out = addresses.split_off(total.min(MAX_ADDRESSES_PER_HOST));
        for address in addresses {
            let endpoint = Endpoint { host: host.clone(), address, port };
            out.endpoints.push(FederationEndpoint { endpoint, domain: domain.clone(), partner: partner.clone() });
        }
        if !left_out.is_empty() {
            out.unprobed.push(Unprobed { host, port, partner, addresses: left_out, total });
        }
    }
    out.endpoints.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    out
}

/// The organization's own federation endpoints.
pub fn own_endpoints(facts: &Facts) -> Vec<Endpoint> {
    federation_endpoints(facts).endpoints.into_iter().filter(|e| e.partner.is_none()).map(|e| e.endpoint).collect()
}

/// An Access Edge named to the scan (`--edge`, the snapshot's Edge
/// services) that DNS gave no address to probe: a target the user asked
/// about, so judged (it cannot be connected to, or whether it can is
/// unknown), never passed over.
#[derive(Debug)]
pub struct UnresolvedEdge<'a> {
    pub host: String,
    pub port: u16,
    /// Its A and AAAA answers.
    pub answers: Vec<&'a DnsFact>,
}

impl UnresolvedEdge<'_> {
    /// Why its addresses are unknown, when a question got no usable answer
    /// (a timeout, SERVFAIL, …): `the addresses of X are unknown (A no
    /// answer (timeout) from 192.0.2.53)`.
    pub fn unknown(&self) -> Option<String> {
        let fact = self.answers.iter().find(|f| {
            !matches!(f.outcome, DnsOutcome::Answer { .. } | DnsOutcome::NxDomain { .. } | DnsOutcome::NoData { .. })
        })?;
        Some(format!(
            "the addresses of {} are unknown ({} {} from {})",
            self.host,
            fact.rtype.name(),
            fact.outcome.describe(),
            fact.resolver
        ))
    }

    /// The answers, as messages show them: `A NXDOMAIN; AAAA NXDOMAIN`.
    pub fn describe(&self) -> String {
        let answers: Vec<String> = self
            .answers
            .iter()
            .map(|f| match &f.outcome {
                DnsOutcome::Answer { .. } => format!("{} no address", f.rtype.name()),
                outcome => format!("{} {}", f.rtype.name(), outcome.describe()),
            })
            .collect();
        format!("{} has no address ({})", self.host, answers.join("; "))
    }
}

/// The organization's named Access Edges that DNS gave no address, each
/// with the port it would be probed on; none when DNS was not gathered or
/// their addresses were not asked.
pub fn unresolved_edges<'a>(facts: &'a Facts, dns: &DnsIndex<'a>) -> Vec<UnresolvedEdge<'a>> {
    if !dns.gathered {
        return Vec::new();
    }
    let port = facts.targets.edge_port.unwrap_or(FEDERATION_PORT);
    facts
        .targets
        .edges
        .iter()
        .filter_map(|edge| {
            let found = dns.host(DnsView::External, edge);
            (found.all().next().is_none() && !found.facts.is_empty()).then(|| UnresolvedEdge {
                host: edge.clone(),
                port,
                answers: found.facts,
            })
        })
        .collect()
}

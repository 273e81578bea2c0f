//! The path a partner follows, per SIP domain, as the DNS facts show it:
//! service record → target → addresses. Reading, not judging: the rules say
//! what is wrong, this shows the way there.

use serde::Serialize;

use time::OffsetDateTime;

use crate::checks::x509::cert_info;
use crate::facts::Facts;
use crate::facts::dns::{DnsFact, DnsOutcome, DnsView, RecordData, RecordKind};
use crate::facts::tls::decode_der;
use crate::srv_order::{Srv, display_order};

/// The services shown for each domain; for a partner, only the first.
const SERVICES: [&str; 3] = ["_sipfederationtls._tcp", "_sip._tls", "_xmpp-server._tcp"];
const HOSTS: [&str; 2] = ["sip", "lyncdiscover"];

#[derive(Debug, Serialize)]
pub struct Host {
    pub name: String,
    /// CNAMEs followed, in order.
    pub aliases: Vec<String>,
    pub addresses: Vec<String>,
    /// The answer when there is no address: "NXDOMAIN", "SERVFAIL", ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SrvTarget {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub ttl: u32,
    pub target: Host,
    /// The TLS handshakes with the target's addresses on this port.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tls: Vec<Handshake>,
}

/// One handshake, and the certificate it showed.
#[derive(Debug, Serialize)]
pub struct Handshake {
    pub address: String,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate_requested_from: Option<Vec<String>>,
    /// What the SIP OPTIONS request got.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip: Option<String>,
}

/// A certificate file given with --cert-file.
#[derive(Debug, Serialize)]
pub struct CertificateFile {
    pub path: String,
    pub certificate: String,
}

/// "CN=sip.contoso.com; SAN sip.contoso.com, sip.contoso.net; issued by
/// CN=...; valid 2026-01-01 to 2027-01-01 (214 days left); EC P-256;
/// ecdsa-with-SHA256"
pub fn certificate_line(der: &[u8], now: OffsetDateTime) -> String {
    match cert_info(der) {
        Err(e) => e,
        Ok(info) => {
            let days = (info.not_after - now).whole_days();
            let left = if days >= 0 { format!("{days} days left") } else { format!("expired {} days ago", -days) };
            let key = match (info.key_bits, &info.curve) {
                (_, Some(curve)) => format!("{} {curve}", info.key_algorithm),
                (Some(bits), None) => format!("{} {bits}", info.key_algorithm),
                (None, None) => info.key_algorithm.clone(),
            };
            format!(
                "{}; SAN {}; issued by {}; valid {} to {} ({left}); {key}; {}",
                info.subject,
                if info.dns_names.is_empty() { "none".to_string() } else { info.dns_names.join(", ") },
                info.issuer,
                info.not_before.date(),
                info.not_after.date(),
                info.signature
            )
        }
    }
}

fn handshakes(facts: &Facts, host: &str, port: u16, now: OffsetDateTime) -> Vec<Handshake> {
    facts
        .tls
        .iter()
        .filter(|t| t.endpoint.host == host && t.endpoint.port == port)
        .map(|t| Handshake {
            address: t.endpoint.address.to_string(),
            outcome: t.outcome.describe(),
            certificate: t.chain_der().first().map(|der| certificate_line(der, now)),
            client_certificate_requested_from: t.client_auth.as_ref().map(|c| c.ca_names.clone()),
            sip: facts.sip.iter().find(|s| s.endpoint == t.endpoint).map(|s| crate::checks::sip_options::describe(s).0),
        })
        .collect()
}

pub fn certificate_files(facts: &Facts, now: OffsetDateTime) -> Vec<CertificateFile> {
    facts
        .cert_files
        .iter()
        .map(|file| {
            let leaf = decode_der(file.chain.first()).pop().unwrap_or_default();
            CertificateFile { path: file.path.clone(), certificate: certificate_line(&leaf, now) }
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub struct Service {
    pub name: String,
    /// Set when there is no record: "NXDOMAIN (negative TTL 300 s)", ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    pub records: Vec<SrvTarget>,
}

#[derive(Debug, Serialize)]
pub struct DomainDiscovery {
    pub domain: String,
    /// A partner's domain (--partner): only its federation record is asked.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partner: bool,
    pub services: Vec<Service>,
    pub hosts: Vec<Host>,
}

fn find<'a>(facts: &'a Facts, name: &str, kind: RecordKind) -> Option<&'a DnsFact> {
    facts.dns.iter().find(|f| f.view == DnsView::External && f.name == name && f.rtype == kind)
}

fn host(facts: &Facts, name: &str) -> Host {
    let mut out = Host { name: name.to_string(), aliases: Vec::new(), addresses: Vec::new(), outcome: None };
    let mut outcomes = Vec::new();
    for kind in [RecordKind::A, RecordKind::Aaaa] {
        let Some(fact) = find(facts, name, kind) else { continue };
        match &fact.outcome {
            DnsOutcome::Answer { records } => {
                for record in records {
                    match &record.data {
                        RecordData::A { address } => out.addresses.push(address.to_string()),
                        RecordData::Aaaa { address } => out.addresses.push(address.to_string()),
                        RecordData::Cname { target } if !out.aliases.contains(target) => {
                            out.aliases.push(target.clone())
                        }
                        _ => {}
                    }
                }
            }
            other => outcomes.push(other.describe()),
        }
    }
    if out.addresses.is_empty() {
        outcomes.dedup();
        out.outcome = Some(if outcomes.is_empty() { "not asked".into() } else { outcomes.join(" / ") });
    }
    out
}

pub fn discovery(facts: &Facts, now: OffsetDateTime) -> Vec<DomainDiscovery> {
    let own = facts.targets.domains.iter().map(|d| (d, false));
    let partners = facts.targets.partners.iter().filter(|p| !facts.targets.domains.contains(p)).map(|p| (p, true));
    own.chain(partners)
        .map(|(domain, partner)| {
            let services = SERVICES
                .iter()
                .take(if partner { 1 } else { SERVICES.len() })
                .filter_map(|service| {
                    let name = format!("{service}.{domain}");
                    let fact = find(facts, &name, RecordKind::Srv)?;
                    let (records, outcome) = match &fact.outcome {
                        DnsOutcome::Answer { records } => {
                            let ttl = |srv: &Srv| {
                                records
                                    .iter()
                                    .find(|r| Srv::from_data(&r.data).as_ref() == Some(srv))
                                    .map_or(0, |r| r.ttl)
                            };
                            let srvs: Vec<Srv> = records.iter().filter_map(|r| Srv::from_data(&r.data)).collect();
                            let shown = display_order(&srvs)
                                .into_iter()
                                .map(|srv| SrvTarget {
                                    priority: srv.priority,
                                    weight: srv.weight,
                                    port: srv.port,
                                    ttl: ttl(&srv),
                                    tls: handshakes(facts, &srv.target, srv.port, now),
                                    target: host(facts, &srv.target),
                                })
                                .collect();
                            (shown, None)
                        }
                        other => (Vec::new(), Some(other.describe())),
                    };
                    Some(Service { name, outcome, records })
                })
                .collect();
            let hosts = if partner {
                Vec::new()
            } else {
                HOSTS.iter().map(|h| host(facts, &format!("{h}.{domain}"))).collect()
            };
            DomainDiscovery { domain: domain.clone(), partner, services, hosts }
        })
        .collect()
}

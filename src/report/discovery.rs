//! The path a partner follows, per SIP domain, as the DNS facts show it:
//! service record → target → addresses. Reading, not judging: the rules say
//! what is wrong, this shows the way there.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::facts::Facts;
use crate::facts::dns::{DnsFact, DnsIndex, DnsOutcome, DnsView, RecordKind, srv_name};
use crate::facts::endpoints::FEDERATION_SERVICE;
use crate::facts::sip::SipFact;
use crate::facts::srv::{Srv, display_order};
use crate::facts::tls::{Endpoint, TlsFact, decode_der, decode_one};
use crate::facts::x509::cert_info;

/// The services shown for each domain; for a partner, only the first.
const SERVICES: [&str; 3] = [FEDERATION_SERVICE, "_sip._tls", "_xmpp-server._tcp"];
const HOSTS: [&str; 2] = ["sip", "lyncdiscover"];

#[derive(Debug, Serialize, Deserialize)]
pub struct Host {
    pub name: String,
    /// CNAMEs followed, in order.
    pub aliases: Vec<String>,
    pub addresses: Vec<String>,
    /// The answer when there is no address: "NXDOMAIN", "SERVFAIL", ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SrvTarget {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub ttl: u32,
    pub target: Host,
    /// The TLS handshakes with the target's addresses on this port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls: Vec<Handshake>,
}

/// One handshake, and the certificate it showed.
#[derive(Debug, Serialize, Deserialize)]
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
            format!(
                "{}; SAN {}; issued by {}; valid {} to {} ({left}); {}; {}",
                info.subject,
                if info.dns_names.is_empty() { "none".to_string() } else { info.dns_names.join(", ") },
                info.issuer,
                info.not_before.date(),
                info.not_after.date(),
                info.key_description(),
                info.signature
            )
        }
    }
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

#[derive(Debug, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    /// Set when there is no record: "NXDOMAIN (negative TTL 300 s)", ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    pub records: Vec<SrvTarget>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DomainDiscovery {
    pub domain: String,
    /// A partner's domain (--partner): only its federation record is asked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partner: bool,
    pub services: Vec<Service>,
    pub hosts: Vec<Host>,
}

/// The facts a path is read from, indexed once: a report of thousands of
/// domains would otherwise search every fact for each name it shows.
struct Paths<'a> {
    dns: DnsIndex<'a>,
    tls: HashMap<(&'a str, u16), Vec<&'a TlsFact>>,
    sip: HashMap<&'a Endpoint, &'a SipFact>,
    now: OffsetDateTime,
    /// Each leaf certificate's line by its text in the facts: many domains'
    /// Edges present one certificate (a hosting provider's, Microsoft's).
    certificate_lines: RefCell<HashMap<&'a str, String>>,
}

impl<'a> Paths<'a> {
    fn new(facts: &'a Facts, now: OffsetDateTime) -> Self {
        let mut tls: HashMap<(&str, u16), Vec<&TlsFact>> = HashMap::new();
        for fact in &facts.tls {
            tls.entry((&fact.endpoint.host, fact.endpoint.port)).or_default().push(fact);
        }
        // The first exchange with an endpoint, as the facts list them.
        let sip = facts.sip.iter().rev().map(|s| (&s.endpoint, s)).collect();
        Paths { dns: DnsIndex::new(&facts.dns), tls, sip, now, certificate_lines: RefCell::default() }
    }

    fn find(&self, name: &str, kind: RecordKind) -> Option<&'a DnsFact> {
        self.dns.get(DnsView::External, name, kind)
    }

    fn handshakes(&self, host: &str, port: u16) -> Vec<Handshake> {
        let Some(facts) = self.tls.get(&(host, port)) else { return Vec::new() };
        facts
            .iter()
            .map(|t| Handshake {
                address: t.endpoint.address.to_string(),
                outcome: t.outcome.describe(),
                certificate: t
                    .chain
                    .iter()
                    .find_map(|c| Some((c, decode_one(c)?)))
                    .map(|(leaf, der)| self.certificate_line(leaf, &der)),
                client_certificate_requested_from: t.client_auth.as_ref().map(|c| c.ca_names.clone()),
                sip: self.sip.get(&t.endpoint).map(|s| s.describe()),
            })
            .collect()
    }

    /// [`certificate_line`] of a leaf, read once per certificate.
    fn certificate_line(&self, leaf: &'a str, der: &[u8]) -> String {
        self.certificate_lines.borrow_mut().entry(leaf).or_insert_with(|| certificate_line(der, self.now)).clone()
    }

    /// Whether an address of `name` was asked.
    fn asked(&self, name: &str) -> bool {
        [RecordKind::A, RecordKind::Aaaa].into_iter().any(|kind| self.find(name, kind).is_some())
    }

    fn host(&self, name: &str) -> Host {
        let found = self.dns.host(DnsView::External, name);
        let mut outcomes: Vec<String> = found
            .facts
            .iter()
            .filter(|f| !matches!(f.outcome, DnsOutcome::Answer { .. }))
            .map(|f| f.outcome.describe())
            .collect();
        let addresses: Vec<String> = found.all().map(|a| a.to_string()).collect();
        let outcome = addresses.is_empty().then(|| {
            outcomes.dedup();
            match (found.facts.is_empty(), outcomes.is_empty()) {
                (true, _) => "not asked".to_string(),
                (false, true) => "no address record".to_string(),
                (false, false) => outcomes.join(" / "),
            }
        });
        Host { name: name.to_string(), aliases: found.aliases, addresses, outcome }
    }

    /// One service record of a domain and where its targets lead; `None`
    /// when it was not asked.
    fn service(&self, service: &str, domain: &str) -> Option<Service> {
        let name = srv_name(service, domain);
        let fact = self.find(&name, RecordKind::Srv)?;
        if !matches!(fact.outcome, DnsOutcome::Answer { .. }) {
            return Some(Service { name, outcome: Some(fact.outcome.describe()), records: Vec::new() });
        }
        let records = fact.records();
        let ttl =
            |srv: &Srv| records.iter().find(|r| Srv::from_data(&r.data).as_ref() == Some(srv)).map_or(0, |r| r.ttl);
        let srvs: Vec<Srv> = records.iter().filter_map(|r| Srv::from_data(&r.data)).collect();
        let records = display_order(&srvs)
            .into_iter()
            .map(|srv| SrvTarget {
                priority: srv.priority,
                weight: srv.weight,
                port: srv.port,
                ttl: ttl(&srv),
                tls: self.handshakes(&srv.target, srv.port),
                target: self.host(&srv.target),
            })
            .collect();
        Some(Service { name, outcome: None, records })
    }
}

/// Each domain's path, when DNS was asked (not in an offline audit).
pub fn discovery(facts: &Facts, now: OffsetDateTime) -> Vec<DomainDiscovery> {
    if facts.dns.is_empty() {
        return Vec::new();
    }
    let paths = Paths::new(facts, now);
    let own = facts.targets.domains.iter().map(|d| (d, false));
    let partners = facts.targets.partner_domains().map(|p| (p, true));
    own.chain(partners)
        .map(|(domain, partner)| {
            let services = SERVICES
                .iter()
                .take(if partner { 1 } else { SERVICES.len() })
                .filter_map(|service| paths.service(service, domain))
                .collect();
            // The hosts a selected rule asked about.
            let hosts = match partner {
                true => Vec::new(),
                false => HOSTS
                    .iter()
                    .map(|h| format!("{h}.{domain}"))
                    .filter(|name| paths.asked(name))
                    .map(|name| paths.host(&name))
                    .collect(),
            };
            DomainDiscovery { domain: domain.clone(), partner, services, hosts }
        })
        .collect()
}

fn host_line(host: &Host, shown: &dyn Fn(&str) -> String) -> String {
    let mut line = String::new();
    for alias in &host.aliases {
        line.push_str(&format!(" → CNAME {}", shown(alias)));
    }
    match &host.outcome {
        Some(outcome) => line.push_str(&format!(" → {}", shown(outcome))),
        None => line.push_str(&format!(" → {}", shown(&host.addresses.join(", ")))),
    }
    line
}

/// A domain's path as lines of text, each value from the network through
/// `shown` (the escaping of the report being written): "DNS path for
/// contoso.com", "  _sipfederationtls._tcp SRV 0 0 5061 sip.contoso.com →
/// 52.160.10.20", its handshakes and SIP answers.
pub fn path_lines(domain: &DomainDiscovery, shown: &dyn Fn(&str) -> String) -> Vec<String> {
    let heading = if domain.partner { "Federation path of partner" } else { "DNS path for" };
    let mut out = format!("{heading} {}\n", shown(&domain.domain));
    for service in &domain.services {
        match &service.outcome {
            Some(outcome) => out.push_str(&format!("  {} SRV → {}\n", shown(&service.name), shown(outcome))),
            None => {
                for record in &service.records {
                    out.push_str(&format!(
                        "  {} SRV {} {} {} {} (TTL {}){}\n",
                        shown(&service.name),
                        record.priority,
                        record.weight,
                        record.port,
                        shown(&record.target.name),
                        record.ttl,
                        host_line(&record.target, shown)
                    ));
                    for handshake in &record.tls {
                        out.push_str(&format!(
                            "      TLS {}: {}\n",
                            shown(&handshake.address),
                            shown(&handshake.outcome)
                        ));
                        if let Some(certificate) = &handshake.certificate {
                            out.push_str(&format!("        certificate {}\n", shown(certificate)));
                        }
                        if let Some(cas) = &handshake.client_certificate_requested_from {
                            out.push_str(&format!(
                                "        asks for a client certificate from {}\n",
                                shown(&cas.join("; "))
                            ));
                        }
                        if let Some(sip) = &handshake.sip {
                            out.push_str(&format!("        SIP OPTIONS → {}\n", shown(sip)));
                        }
                    }
                }
            }
        }
    }
    for host in &domain.hosts {
        out.push_str(&format!("  {}{}\n", shown(&host.name), host_line(host, shown)));
    }
    out.lines().map(str::to_string).collect()
}

/// Which scanned domain each finding belongs to: the domain it is about, or
/// the first whose SRV targets include the host of the endpoint or service it
/// is about. Shared by every report that groups findings by domain.
pub struct DomainIndex<'a> {
    domains: HashMap<&'a str, usize>,
    hosts: HashMap<&'a str, usize>,
}

impl<'a> DomainIndex<'a> {
    pub fn new(discovery: &'a [DomainDiscovery]) -> DomainIndex<'a> {
        DomainIndex::of_domains(discovery.iter().map(|domain| {
            let hosts = domain.services.iter().flat_map(|s| &s.records).map(|r| r.target.name.as_str());
            (domain.domain.as_str(), hosts)
        }))
    }

    /// Of the domains, each with the SRV targets of its services, in order.
    fn of_domains<H: Iterator<Item = &'a str>>(domains: impl Iterator<Item = (&'a str, H)>) -> DomainIndex<'a> {
        let mut index = DomainIndex { domains: HashMap::new(), hosts: HashMap::new() };
        for (i, (domain, hosts)) in domains.enumerate() {
            index.domains.entry(domain).or_insert(i);
            for host in hosts {
                index.hosts.entry(host).or_insert(i);
            }
        }
        index
    }

    /// The index in the discovery list of the finding's domain, if it has one.
    pub fn of(&self, finding: &crate::findings::Finding) -> Option<usize> {
        match finding.target.as_ref()? {
            crate::findings::Target::Domain(domain) => self.domains.get(domain.as_str()).copied(),
            target => self.hosts.get(target.host()?).copied(),
        }
    }
}

/// The scanned domains' discovery, in the scan's order: held, or, for a
/// batch, kept on disk a record a domain as each chunk is judged (100,000
/// domains' paths are some 200 MB in memory), with the little that says
/// which findings are whose held beside it.
#[derive(Debug)]
pub enum Discovery {
    Held(Vec<DomainDiscovery>),
    Kept(KeptDiscovery),
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery::Held(Vec::new())
    }
}

impl Discovery {
    pub fn len(&self) -> usize {
        match self {
            Discovery::Held(held) => held.len(),
            Discovery::Kept(kept) => kept.domains.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The domains' names, in order.
    pub fn domains(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match self {
            Discovery::Held(held) => Box::new(held.iter().map(|d| d.domain.as_str())),
            Discovery::Kept(kept) => Box::new(kept.domains.iter().map(|d| d.domain.as_str())),
        }
    }

    /// Which domain each finding belongs to (see [`DomainIndex`]).
    pub fn index(&self) -> DomainIndex<'_> {
        match self {
            Discovery::Held(held) => DomainIndex::new(held),
            Discovery::Kept(kept) => kept.index(),
        }
    }

    /// The discovery held: a report rendered whole holds its own.
    pub fn held(&self) -> &[DomainDiscovery] {
        match self {
            Discovery::Held(held) => held,
            Discovery::Kept(_) => &[],
        }
    }

    /// The name of the `index`th domain.
    pub fn domain(&self, index: usize) -> Option<&str> {
        match self {
            Discovery::Held(held) => held.get(index).map(|d| d.domain.as_str()),
            Discovery::Kept(kept) => kept.domain(index),
        }
    }

    /// Each domain's discovery in turn, read back when it was kept on disk.
    pub fn for_each(&self, mut each: impl FnMut(&DomainDiscovery) -> io::Result<()>) -> io::Result<()> {
        match self {
            Discovery::Held(held) => held.iter().try_for_each(each),
            Discovery::Kept(kept) => {
                let mut bytes = Vec::new();
                for domain in &kept.domains {
                    bytes.resize(domain.len as usize, 0);
                    kept.file.read_exact_at(&mut bytes, domain.offset)?;
                    each(&serde_json::from_slice(&bytes).map_err(io::Error::other)?)?;
                }
                Ok(())
            }
        }
    }
}

impl Serialize for Discovery {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        let mut failed = None;
        let read = self.for_each(|domain| {
            seq.serialize_element(domain).map_err(|e| {
                failed = Some(e);
                io::Error::other("not serialized")
            })
        });
        if let Some(e) = failed {
            return Err(e);
        }
        read.map_err(S::Error::custom)?;
        seq.end()
    }
}

/// A batch's discovery on disk: each domain's record, compact JSON, in an
/// anonymous temporary file, found by its place.
#[derive(Debug)]
pub struct KeptDiscovery {
    file: std::fs::File,
    out: Option<io::BufWriter<std::fs::File>>,
    written: u64,
    domains: Vec<KeptDomain>,
}

#[derive(Debug)]
struct KeptDomain {
    domain: String,
    /// The SRV targets of its services (see [`DomainIndex`]).
    hosts: Vec<String>,
    offset: u64,
    len: u32,
}

impl KeptDiscovery {
    pub fn new() -> io::Result<KeptDiscovery> {
        let file = tempfile::tempfile()?;
        let out = Some(io::BufWriter::with_capacity(crate::files::WRITE_BUFFER, file.try_clone()?));
        Ok(KeptDiscovery { file, out, written: 0, domains: Vec::new() })
    }

    /// Keeps a chunk's domains' discovery.
    pub fn add(&mut self, chunk: Vec<DomainDiscovery>) -> io::Result<()> {
        let out = self.out.as_mut().ok_or_else(|| io::Error::other("the discovery was already read"))?;
        let mut record = Vec::new();
        for domain in chunk {
            record.clear();
            serde_json::to_writer(&mut record, &domain)?;
            out.write_all(&record)?;
            let hosts = domain.services.iter().flat_map(|s| &s.records).map(|r| r.target.name.clone()).collect();
            self.domains.push(KeptDomain {
                domain: domain.domain,
                hosts,
                offset: self.written,
                len: record.len() as u32,
            });
            self.written += record.len() as u64;
        }
        Ok(())
    }

    /// Which domain each finding belongs to (see [`DomainIndex`]).
    pub fn index(&self) -> DomainIndex<'_> {
        DomainIndex::of_domains(self.domains.iter().map(|d| (d.domain.as_str(), d.hosts.iter().map(String::as_str))))
    }

    /// The name of the `index`th domain.
    pub fn domain(&self, index: usize) -> Option<&str> {
        self.domains.get(index).map(|d| d.domain.as_str())
    }

    /// Done adding: the domains put in the order `place` gives them.
    pub fn finish(&mut self, place: impl Fn(&str) -> usize) -> io::Result<()> {
        if let Some(mut out) = self.out.take() {
            out.flush()?;
        }
        self.domains.sort_by_key(|d| place(&d.domain));
        Ok(())
    }
}

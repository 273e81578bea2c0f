//! DNS facts and the probe that gathers them. A fact is what one resolver
//! answered to one (name, type) question: the records with their TTLs as
//! served, or NXDOMAIN / NODATA with the negative TTL, or the failure. Only
//! "no answer at all" (timeout, unreachable resolver) means it could not be
//! observed; NXDOMAIN is an observation like any other.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::{Resolver, TokioResolver};
use serde::{Deserialize, Serialize};

/// Which side of a split-brain DNS answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DnsView {
    /// The resolver partners see (`--resolver`, or the system's).
    External,
    /// The organization's own resolver (`--internal-resolver`).
    Internal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RecordKind {
    #[serde(rename = "SRV")]
    Srv,
    A,
    #[serde(rename = "AAAA")]
    Aaaa,
}

impl RecordKind {
    fn record_type(self) -> RecordType {
        match self {
            RecordKind::Srv => RecordType::SRV,
            RecordKind::A => RecordType::A,
            RecordKind::Aaaa => RecordType::AAAA,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Srv => "SRV",
            RecordKind::A => "A",
            RecordKind::Aaaa => "AAAA",
        }
    }
}

/// One resource record of an answer, CNAMEs of the chain included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    pub name: String,
    pub ttl: u32,
    #[serde(flatten)]
    pub data: RecordData,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RecordData {
    #[serde(rename = "SRV")]
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    A {
        address: Ipv4Addr,
    },
    #[serde(rename = "AAAA")]
    Aaaa {
        address: Ipv6Addr,
    },
    #[serde(rename = "CNAME")]
    Cname {
        target: String,
    },
    #[serde(rename = "OTHER")]
    Other {
        rtype: String,
        data: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DnsOutcome {
    Answer {
        records: Vec<DnsRecord>,
    },
    /// The name does not exist.
    NxDomain {
        negative_ttl: Option<u32>,
        /// Records the same response carried in its answer section anyway:
        /// NXDOMAIN says the name does not exist, whatever else the message
        /// holds (a partner's resolver takes it so), and they are not kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ignored_answers: Option<usize>,
    },
    /// The name exists but has no record of this type.
    NoData {
        negative_ttl: Option<u32>,
    },
    ServerFailure,
    Refused,
    OtherResponse {
        rcode: String,
    },
    /// No answer within the timeout, after every attempt.
    Timeout,
    /// The query could not be made or the answer could not be read.
    Failed {
        message: String,
    },
}

impl DnsOutcome {
    /// Whether the resolver gave no usable answer, so nothing can be judged.
    pub fn is_unobserved(&self) -> bool {
        matches!(self, DnsOutcome::Timeout | DnsOutcome::Failed { .. })
    }

    /// One line for messages: "NXDOMAIN (negative TTL 300 s)".
    pub fn describe(&self) -> String {
        let negative = |ttl: &Option<u32>| ttl.map(|t| format!(" (negative TTL {t} s)")).unwrap_or_default();
        match self {
            DnsOutcome::Answer { records } => format!("{} record(s)", records.len()),
            DnsOutcome::NxDomain { negative_ttl, ignored_answers } => format!(
                "NXDOMAIN{}{}",
                negative(negative_ttl),
                ignored_answers
                    .map(|n| format!(
                        " (the response also carried {n} answer record(s), ignored: it contradicts itself)"
                    ))
                    .unwrap_or_default()
            ),
            DnsOutcome::NoData { negative_ttl } => format!("no record of this type (NODATA){}", negative(negative_ttl)),
            DnsOutcome::ServerFailure => "SERVFAIL".into(),
            DnsOutcome::Refused => "REFUSED".into(),
            DnsOutcome::OtherResponse { rcode } => rcode.clone(),
            DnsOutcome::Timeout => "no answer (timeout)".into(),
            DnsOutcome::Failed { message } => format!("query failed: {message}"),
        }
    }
}

/// What one resolver said about one (name, type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsFact {
    pub view: DnsView,
    /// Lower case, without the trailing dot.
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: RecordKind,
    /// `system`, or the resolver addresses asked.
    pub resolver: String,
    #[serde(flatten)]
    pub outcome: DnsOutcome,
}

impl DnsFact {
    /// The records of the answer that belong to the question: those of the
    /// name asked, and of the aliases its CNAME records lead to. A server
    /// may add records of other names (glue, or a hostile extra); they say
    /// nothing about this name and are never read as its. Empty for an
    /// answer that is not one.
    pub fn records(&self) -> Vec<&DnsRecord> {
        match &self.outcome {
            DnsOutcome::Answer { records } => belonging(&self.name, records).collect(),
            _ => Vec::new(),
        }
    }
}

/// The records of `answer` whose owner is `name` or on its CNAME chain.
fn belonging<'r>(name: &str, answer: &'r [DnsRecord]) -> impl Iterator<Item = &'r DnsRecord> {
    let mut chain = vec![name.to_ascii_lowercase()];
    // Follow the chain whatever the order of the records; each name once.
    let mut grew = true;
    while grew {
        grew = false;
        for record in answer {
            if let RecordData::Cname { target } = &record.data
                && chain.iter().any(|n| n.eq_ignore_ascii_case(&record.name))
                && !chain.iter().any(|n| n.eq_ignore_ascii_case(target))
            {
                chain.push(target.to_ascii_lowercase());
                grew = true;
            }
        }
    }
    answer.iter().filter(move |r| chain.iter().any(|n| n.eq_ignore_ascii_case(&r.name)))
}

/// Resolver settings from the command line.
#[derive(Debug, Clone)]
pub struct ResolverSettings {
    /// Empty: the system's resolver configuration.
    pub servers: Vec<SocketAddr>,
    /// Per attempt.
    pub timeout: Duration,
    /// Tries in all (at least 1).
    pub attempts: usize,
}

pub struct DnsProbe {
    resolver: TokioResolver,
    view: DnsView,
    label: String,
    /// The most one query may take, whatever the resolver library does.
    deadline: Duration,
}

/// Parses `IP` or `IP:PORT` (`[v6]:PORT` for IPv6); port 53 by default.
pub fn parse_resolver(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("{text:?} is not an IP address or IP:PORT"))
}

impl DnsProbe {
    pub fn new(view: DnsView, settings: &ResolverSettings) -> Result<DnsProbe, String> {
        let mut builder = if settings.servers.is_empty() {
            Resolver::builder_tokio().map_err(|e| format!("cannot read the system resolver configuration: {e}"))?
        } else {
            let servers = settings
                .servers
                .iter()
                .map(|addr| {
                    let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                    for connection in &mut ns.connections {
                        connection.port = addr.port();
                    }
                    ns
                })
                .collect();
            Resolver::builder_with_config(
                ResolverConfig::from_parts(None, vec![], servers),
                TokioRuntimeProvider::default(),
            )
        };
        let options = builder.options_mut();
        options.timeout = settings.timeout;
        // hickory counts retries: attempts = 1 means two tries.
        options.attempts = settings.attempts.saturating_sub(1);
        // The facts are the cache: TTLs are reported as served.
        options.cache_size = 0;
        options.use_hosts_file = ResolveHosts::Never;
        options.ndots = 0;
        let resolver = builder.build().map_err(|e| format!("cannot set up the resolver: {e}"))?;
        let label = if settings.servers.is_empty() {
            "system".to_string()
        } else {
            settings.servers.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
        };
        let servers = settings.servers.len().max(1) as u32;
        let deadline = settings.timeout * (settings.attempts.max(1) as u32) * servers + Duration::from_millis(500);
        Ok(DnsProbe { resolver, view, label, deadline })
    }

    /// The resolver asked, as the facts name it: `system`, or its addresses.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub async fn query(&self, name: &str, rtype: RecordKind) -> DnsFact {
        let fact =
            |outcome| DnsFact { view: self.view, name: name.to_string(), rtype, resolver: self.label.clone(), outcome };
        let fqdn = match Name::from_ascii(format!("{name}.")) {
            Ok(fqdn) => fqdn,
            Err(e) => return fact(DnsOutcome::Failed { message: format!("not a DNS name: {e}") }),
        };
        let lookup = self.resolver.lookup(fqdn, rtype.record_type());
        let outcome = match tokio::time::timeout(self.deadline, lookup).await {
            Err(_) => DnsOutcome::Timeout,
            Ok(Ok(answer)) => match answer.message().metadata.response_code {
                ResponseCode::NoError => answer_of(name, answer.answers()),
                // Records beside an error code are not an answer.
                code => refusal(code, None, Some(answer.answers().len())),
            },
            Ok(Err(error)) => classify(error),
        };
        fact(outcome)
    }
}

fn classify(error: NetError) -> DnsOutcome {
    match error {
        NetError::Dns(DnsError::NoRecordsFound(none)) => refusal(none.response_code, none.negative_ttl, None),
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => DnsOutcome::ServerFailure,
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => DnsOutcome::Refused,
        NetError::Dns(DnsError::ResponseCode(code)) => DnsOutcome::OtherResponse { rcode: code.to_string() },
        NetError::Timeout => DnsOutcome::Timeout,
        other => DnsOutcome::Failed { message: other.to_string() },
    }
}

/// A response without an answer: what its code says, with the records it
/// carried anyway (`ignored`) when it carried some.
fn refusal(code: ResponseCode, negative_ttl: Option<u32>, ignored: Option<usize>) -> DnsOutcome {
    match code {
        ResponseCode::NXDomain => DnsOutcome::NxDomain { negative_ttl, ignored_answers: ignored.filter(|&n| n > 0) },
        ResponseCode::NoError => DnsOutcome::NoData { negative_ttl },
        ResponseCode::ServFail => DnsOutcome::ServerFailure,
        ResponseCode::Refused => DnsOutcome::Refused,
        other => DnsOutcome::OtherResponse { rcode: other.to_string() },
    }
}

/// The answer to a question about `name`, from the records a resolver
/// returned: only those of the name and its CNAME chain are kept.
pub fn answer_of(name: &str, records: &[hickory_proto::rr::Record]) -> DnsOutcome {
    let all: Vec<DnsRecord> = records.iter().map(record).collect();
    DnsOutcome::Answer { records: belonging(name, &all).cloned().collect() }
}

fn host(name: &Name) -> String {
    let text = name.to_ascii().to_ascii_lowercase();
    match text.strip_suffix('.') {
        Some(stripped) if !stripped.is_empty() => stripped.to_string(),
        _ => text,
    }
}

fn record(r: &hickory_proto::rr::Record) -> DnsRecord {
    let data = match &r.data {
        RData::SRV(srv) => {
            RecordData::Srv { priority: srv.priority, weight: srv.weight, port: srv.port, target: host(&srv.target) }
        }
        RData::A(a) => RecordData::A { address: a.0 },
        RData::AAAA(aaaa) => RecordData::Aaaa { address: aaaa.0 },
        RData::CNAME(cname) => RecordData::Cname { target: host(&cname.0) },
        other => RecordData::Other { rtype: other.record_type().to_string(), data: other.to_string() },
    };
    DnsRecord { name: host(&r.name), ttl: r.ttl, data }
}

/// The DNS facts, indexed by question: what checks, the engine and reports
/// read them through.
pub struct DnsIndex<'a> {
    answers: HashMap<(DnsView, &'a str, RecordKind), &'a DnsFact>,
    /// Whether DNS was gathered at all (not an offline audit).
    pub gathered: bool,
    internal: bool,
}

impl<'a> DnsIndex<'a> {
    pub fn new(facts: &'a [DnsFact]) -> Self {
        DnsIndex {
            answers: facts.iter().map(|f| ((f.view, f.name.as_str(), f.rtype), f)).collect(),
            gathered: !facts.is_empty(),
            internal: facts.iter().any(|f| f.view == DnsView::Internal),
        }
    }

    pub fn get(&self, view: DnsView, name: &str, kind: RecordKind) -> Option<&'a DnsFact> {
        self.answers.get(&(view, name, kind)).copied()
    }

    /// Whether an internal resolver was asked (--internal-resolver).
    pub fn has_internal(&self) -> bool {
        self.internal
    }

    /// A host's addresses and aliases, from its A and AAAA answers (those
    /// that were asked).
    pub fn host(&self, view: DnsView, name: &str) -> HostAddresses<'a> {
        let mut host = HostAddresses::default();
        for kind in [RecordKind::A, RecordKind::Aaaa] {
            let Some(fact) = self.get(view, name, kind) else { continue };
            host.facts.push(fact);
            for record in fact.records() {
                match &record.data {
                    RecordData::A { address } => host.v4.push(IpAddr::V4(*address)),
                    RecordData::Aaaa { address } => host.v6.push(IpAddr::V6(*address)),
                    RecordData::Cname { target } if !host.aliases.contains(target) => host.aliases.push(target.clone()),
                    _ => {}
                }
            }
        }
        host
    }
}

/// A host as the DNS facts show it.
#[derive(Debug, Default)]
pub struct HostAddresses<'a> {
    pub v4: Vec<IpAddr>,
    pub v6: Vec<IpAddr>,
    /// CNAME targets, in chain order.
    pub aliases: Vec<String>,
    /// The A and AAAA facts read, in that order; empty when neither was asked.
    pub facts: Vec<&'a DnsFact>,
}

impl HostAddresses<'_> {
    /// IPv4 addresses, then IPv6.
    pub fn all(&self) -> impl Iterator<Item = &IpAddr> {
        self.v4.iter().chain(self.v6.iter())
    }
}

/// The name of a service's SRV record under a domain:
/// `_sipfederationtls._tcp.contoso.com`.
pub fn srv_name(service: &str, domain: &str) -> String {
    format!("{service}.{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_addresses() {
        assert_eq!(parse_resolver("127.0.0.1").unwrap(), "127.0.0.1:53".parse().unwrap());
        assert_eq!(parse_resolver("127.0.0.1:5353").unwrap(), "127.0.0.1:5353".parse().unwrap());
        assert_eq!(parse_resolver("[::1]:5353").unwrap(), "[::1]:5353".parse().unwrap());
        assert_eq!(parse_resolver("::1").unwrap(), "[::1]:53".parse().unwrap());
        assert!(parse_resolver("dns.google").is_err());
    }

    #[test]
    fn only_the_records_of_the_name_and_its_aliases_are_read() {
        let record = |name: &str, data: RecordData| DnsRecord { name: name.into(), ttl: 60, data };
        let fact = DnsFact {
            view: DnsView::External,
            name: "sip.contoso.com".into(),
            rtype: RecordKind::A,
            resolver: "test".into(),
            outcome: DnsOutcome::Answer {
                records: vec![
                    // The chain in any order; strays anywhere.
                    record("edge.contoso.net", RecordData::A { address: Ipv4Addr::new(52, 1, 2, 3) }),
                    record("ghost.example", RecordData::Aaaa { address: Ipv6Addr::LOCALHOST }),
                    record("SIP.contoso.com", RecordData::Cname { target: "edge.contoso.net".into() }),
                    record("unrelated.example", RecordData::A { address: Ipv4Addr::new(127, 0, 0, 77) }),
                ],
            },
        };
        let kept: Vec<&str> = fact.records().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(kept, ["edge.contoso.net", "SIP.contoso.com"]);
    }

    #[test]
    fn facts_round_trip_through_json() {
        let fact = DnsFact {
            view: DnsView::External,
            name: "_sipfederationtls._tcp.contoso.com".into(),
            rtype: RecordKind::Srv,
            resolver: "127.0.0.1:53".into(),
            outcome: DnsOutcome::Answer {
                records: vec![DnsRecord {
                    name: "_sipfederationtls._tcp.contoso.com".into(),
                    ttl: 300,
                    data: RecordData::Srv { priority: 0, weight: 0, port: 5061, target: "sip.contoso.com".into() },
                }],
            },
        };
        let text = serde_json::to_string(&fact).unwrap();
        assert!(text.contains(r#""outcome":"answer""#) && text.contains(r#""type":"SRV""#), "{text}");
        assert_eq!(serde_json::from_str::<DnsFact>(&text).unwrap(), fact);
    }
}

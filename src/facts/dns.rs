//! DNS facts (gathered by `probe::dns`). A fact is what one resolver
//! answered to one (name, type) question: the records with their TTLs as
//! served, or NXDOMAIN / NODATA with the negative TTL, or the failure. Only
//! "no answer at all" (timeout, unreachable resolver) means it could not be
//! observed; NXDOMAIN is an observation like any other.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::rr::RecordType;
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
    pub(crate) fn record_type(self) -> RecordType {
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
    /// Where a planned zone writes this record: a finding about the record
    /// points there, not at its set's first line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<RecordSource>,
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

/// Where in a planned zone file an answer comes from: the line of its
/// record (the first of the set), or, for a name or type the zone lacks,
/// of the zone's SOA record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSource {
    pub file: String,
    pub line: usize,
}

/// What one resolver said about one (name, type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsFact {
    pub view: DnsView,
    /// Lower case, without the trailing dot.
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: RecordKind,
    /// `system`, or the resolver addresses asked, or `zone file PATH`:
    /// one text shared by a batch's hundreds of thousands of answers.
    pub resolver: std::sync::Arc<str>,
    /// For an answer from a planned zone: the line it comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<RecordSource>,
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

    /// The hosts its SRV records name, lower case without the trailing dot;
    /// none for an answer of another kind.
    pub fn srv_hosts(&self) -> Vec<String> {
        if self.rtype != RecordKind::Srv {
            return Vec::new();
        }
        self.records()
            .iter()
            .filter_map(|r| super::srv::Srv::from_data(&r.data))
            .map(|srv| srv.target.trim_end_matches('.').to_ascii_lowercase())
            .collect()
    }
}

/// The records of `answer` whose owner is `name` or on its CNAME chain.
pub(crate) fn belonging<'r>(name: &str, answer: &'r [DnsRecord]) -> impl Iterator<Item = &'r DnsRecord> {
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
        let record = |name: &str, data: RecordData| DnsRecord { name: name.into(), ttl: 60, data, source: None };
        let fact = DnsFact {
            view: DnsView::External,
            name: "sip.contoso.com".into(),
            rtype: RecordKind::A,
            resolver: "test".into(),
            source: None,
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
            source: None,
            outcome: DnsOutcome::Answer {
                records: vec![DnsRecord {
                    name: "_sipfederationtls._tcp.contoso.com".into(),
                    ttl: 300,
                    data: RecordData::Srv { priority: 0, weight: 0, port: 5061, target: "sip.contoso.com".into() },
                    source: Some(RecordSource { file: "dns/contoso.com.zone".into(), line: 12 }),
                }],
            },
        };
        let text = serde_json::to_string(&fact).unwrap();
        assert!(text.contains(r#""outcome":"answer""#) && text.contains(r#""type":"SRV""#), "{text}");
        assert_eq!(serde_json::from_str::<DnsFact>(&text).unwrap(), fact);
    }
}

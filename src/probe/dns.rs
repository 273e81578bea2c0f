//! The DNS probe: each question asked of the configured resolvers (external
//! and, for split-brain checks, internal), the answer kept as it came —
//! records, NXDOMAIN, NODATA, a refusal or a timeout — as a [`DnsFact`].
//! Probes never judge.

use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData};
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::{Resolver, TokioResolver};

use crate::facts::dns::{DnsFact, DnsOutcome, DnsRecord, DnsView, RecordData, RecordKind, ResolverSettings, belonging};

pub struct DnsProbe {
    resolver: TokioResolver,
    view: DnsView,
    label: std::sync::Arc<str>,
    /// The most one query may take, whatever the resolver library does.
    deadline: Duration,
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
        Ok(DnsProbe { resolver, view, label: label.into(), deadline })
    }

    /// The resolver asked, as the facts name it: `system`, or its addresses.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub async fn query(&self, name: &str, rtype: RecordKind) -> DnsFact {
        let fact = |outcome| DnsFact {
            view: self.view,
            name: name.to_string(),
            rtype,
            resolver: self.label.clone(),
            source: None,
            outcome,
        };
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
    answer_from(name, records.iter().map(record).collect())
}

/// [`answer_of`], from records already read.
pub(crate) fn answer_from(name: &str, all: Vec<DnsRecord>) -> DnsOutcome {
    let mut records: Vec<DnsRecord> = belonging(name, &all).cloned().collect();
    // A batch holds hundreds of thousands of answers, most of one record:
    // not the four places a vector grows to first.
    records.shrink_to_fit();
    DnsOutcome::Answer { records }
}

fn host(name: &Name) -> String {
    let text = name.to_ascii().to_ascii_lowercase();
    match text.strip_suffix('.') {
        Some(stripped) if !stripped.is_empty() => stripped.to_string(),
        _ => text,
    }
}

pub(crate) fn record(r: &hickory_proto::rr::Record) -> DnsRecord {
    let data = match &r.data {
        RData::SRV(srv) => {
            RecordData::Srv { priority: srv.priority, weight: srv.weight, port: srv.port, target: host(&srv.target) }
        }
        RData::A(a) => RecordData::A { address: a.0 },
        RData::AAAA(aaaa) => RecordData::Aaaa { address: aaaa.0 },
        RData::CNAME(cname) => RecordData::Cname { target: host(&cname.0) },
        other => RecordData::Other { rtype: other.record_type().to_string(), data: other.to_string() },
    };
    DnsRecord { name: host(&r.name), ttl: r.ttl, data, source: None }
}

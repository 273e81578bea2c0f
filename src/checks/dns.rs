//! Reading DNS facts for the DNS check kinds (not a kind itself): the answer
//! to a question, a domain's SRV set, a host's addresses and alias chain. A
//! missing or unanswered question becomes the outcome that says so.

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::{Value, json};

use super::{EvalContext, Outcome};
use crate::facts::dns::{DnsFact, DnsOutcome, DnsView, RecordData, RecordKind};
use crate::srv_order::{Availability, Srv, availability};

/// The DNS facts, indexed by question.
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
}

/// The evidence of one question and its answer.
pub fn evidence(fact: &DnsFact) -> Value {
    json!({
        "query": format!("{} {}", fact.name, fact.rtype.name()),
        "resolver": fact.resolver,
        "view": fact.view,
        "answer": fact.outcome,
    })
}

/// The answer to a question, or the outcome that says it cannot be judged:
/// no DNS gathered (skip), or no answer at all (error).
pub fn answer<'a>(
    ctx: &EvalContext<'a>,
    target: &str,
    view: DnsView,
    name: &str,
    kind: RecordKind,
) -> Result<&'a DnsFact, Outcome> {
    if !ctx.dns.gathered {
        return Err(Outcome::skip(
            target,
            "no DNS facts: this was an offline audit (scan the domains live to check DNS)",
        ));
    }
    let Some(fact) = ctx.dns.get(view, name, kind) else {
        return Err(Outcome::skip(target, format!("{name} {} was not asked", kind.name())));
    };
    let unanswered = |why: String| Err(Outcome::error(target, why).evidence(evidence(fact)));
    match &fact.outcome {
        DnsOutcome::Timeout | DnsOutcome::Failed { .. } => {
            unanswered(format!("{name} {}: {} from {}", kind.name(), fact.outcome.describe(), fact.resolver))
        }
        DnsOutcome::ServerFailure | DnsOutcome::Refused | DnsOutcome::OtherResponse { .. } => unanswered(format!(
            "{name} {}: the resolver ({}) answered {} instead of the records; partners' resolvers may fail the same way",
            kind.name(),
            fact.resolver,
            fact.outcome.describe()
        )),
        _ => Ok(fact),
    }
}

/// A domain's SRV records for one service.
pub enum SrvSet<'a> {
    Records(Vec<Srv>, &'a DnsFact),
    /// The only record is the `.` target: the service is declared not offered.
    NotOffered(&'a DnsFact),
    /// NXDOMAIN or NODATA.
    Absent(&'a DnsFact),
}

pub fn srv_name(service: &str, domain: &str) -> String {
    format!("{service}.{domain}")
}

pub fn srv_set<'a>(ctx: &EvalContext<'a>, domain: &str, service: &str) -> Result<SrvSet<'a>, Outcome> {
    let name = srv_name(service, domain);
    let fact = answer(ctx, domain, DnsView::External, &name, RecordKind::Srv)?;
    let records: Vec<Srv> = match &fact.outcome {
        DnsOutcome::Answer { records } => records.iter().filter_map(|r| Srv::from_data(&r.data)).collect(),
        _ => return Ok(SrvSet::Absent(fact)),
    };
    Ok(match availability(records) {
        Availability::Absent => SrvSet::Absent(fact),
        Availability::NotOffered => SrvSet::NotOffered(fact),
        Availability::Offered(records) => SrvSet::Records(records, fact),
    })
}

/// The records of an SRV set that rules about its targets judge, or the skip
/// that points back at the rule about the set itself.
pub fn srv_records<'a>(
    ctx: &EvalContext<'a>,
    domain: &str,
    service: &str,
    existence_rule: &str,
) -> Result<(Vec<Srv>, &'a DnsFact), Outcome> {
    let name = srv_name(service, domain);
    match srv_set(ctx, domain, service)? {
        SrvSet::Records(records, fact) => Ok((records, fact)),
        SrvSet::NotOffered(fact) | SrvSet::Absent(fact) => Err(Outcome::skip(
            domain,
            format!("{name} has no usable SRV record ({}); see {existence_rule}", describe_set(fact)),
        )
        .evidence(evidence(fact))),
    }
}

pub fn describe_set(fact: &DnsFact) -> String {
    match &fact.outcome {
        DnsOutcome::Answer { .. } => "only the \".\" target: the service is declared not offered".into(),
        other => other.describe(),
    }
}

/// "0 0 5061 sip.contoso.com"
pub fn show_srv(srv: &Srv) -> String {
    format!("{} {} {} {}", srv.priority, srv.weight, srv.port, srv.target)
}

/// A host's addresses and the aliases its name went through.
#[derive(Debug, Default)]
pub struct Addresses {
    pub v4: Vec<IpAddr>,
    pub v6: Vec<IpAddr>,
    /// CNAME targets, in chain order.
    pub aliases: Vec<String>,
    /// Each question asked and its answer.
    pub evidence: Vec<Value>,
}

impl Addresses {
    pub fn all(&self) -> impl Iterator<Item = &IpAddr> {
        self.v4.iter().chain(self.v6.iter())
    }
}

/// The A and AAAA answers for `host` (a question not asked counts as empty;
/// an unanswered one is an error).
pub fn addresses(ctx: &EvalContext, target: &str, host: &str) -> Result<Addresses, Outcome> {
    let mut out = Addresses::default();
    let mut asked = false;
    for kind in [RecordKind::A, RecordKind::Aaaa] {
        let fact = match answer(ctx, target, DnsView::External, host, kind) {
            Ok(fact) => fact,
            Err(outcome) if outcome.status == crate::findings::Status::Skip && ctx.dns.gathered => continue,
            Err(outcome) => return Err(outcome),
        };
        asked = true;
        out.evidence.push(evidence(fact));
        if let DnsOutcome::Answer { records } = &fact.outcome {
            for record in records {
                match &record.data {
                    RecordData::A { address } => out.v4.push(IpAddr::V4(*address)),
                    RecordData::Aaaa { address } => out.v6.push(IpAddr::V6(*address)),
                    RecordData::Cname { target } if !out.aliases.contains(target) => out.aliases.push(target.clone()),
                    _ => {}
                }
            }
        }
    }
    if !asked {
        return Err(Outcome::skip(target, format!("{host} A/AAAA was not asked")));
    }
    Ok(out)
}

/// Whether an address is reachable from the internet: not private,
/// loopback, link-local, shared, documentation, benchmarking or reserved.
pub fn is_public(address: &IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240
                || (o[0] == 192 && o[1] == 0 && o[2] == 0))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(&IpAddr::V4(v4));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0))
        }
    }
}

/// Runs `judge` for every scanned SIP domain, or says why none can be judged.
pub fn per_domain(ctx: &EvalContext, judge: impl Fn(&str) -> Vec<Outcome>) -> Vec<Outcome> {
    if !ctx.dns.gathered {
        return vec![Outcome::skip(
            "DNS",
            "no DNS facts: this was an offline audit (scan the domains live to check DNS)",
        )];
    }
    if ctx.targets.domains.is_empty() {
        return vec![Outcome::skip("DNS", "no SIP domain was scanned (name one: fedscan scan DOMAIN)")];
    }
    ctx.targets.domains.iter().flat_map(|domain| judge(domain)).collect()
}

/// As [`per_domain`], for rules about the internal view: none can be judged
/// either when no internal resolver was given.
pub fn per_domain_internal(ctx: &EvalContext, judge: impl Fn(&str) -> Vec<Outcome>) -> Vec<Outcome> {
    if ctx.dns.gathered && !ctx.dns.has_internal() {
        return vec![Outcome::skip("DNS", "no internal resolver was given (--internal-resolver IP)")];
    }
    per_domain(ctx, judge)
}

/// Unwraps a lookup helper's result inside a `per_domain` closure.
macro_rules! or_outcome {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(outcome) => return vec![outcome],
        }
    };
}
pub(crate) use or_outcome;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_addresses() {
        for private in [
            "10.0.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "172.16.5.4",
            "192.168.1.1",
            "100.64.0.1",
            "198.18.0.1",
            "0.1.2.3",
            "240.0.0.1",
            "::1",
            "fe80::1",
            "fec0::5",
            "fd00::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(&private.parse().unwrap()), "{private}");
        }
        for public in ["52.112.0.1", "8.8.8.8", "2603:1027::1", "::ffff:52.112.0.1"] {
            assert!(is_public(&public.parse().unwrap()), "{public}");
        }
    }
}

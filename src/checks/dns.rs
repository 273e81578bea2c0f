//! Reading DNS facts for the DNS check kinds (not a kind itself): the answer
//! to a question, a domain's SRV set, a host's addresses and alias chain,
//! each about a SIP domain. A missing or unanswered question becomes the
//! outcome that says so.

use std::net::IpAddr;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::Check;
use crate::facts::Targets;

use crate::facts::dns::{
    DnsFact, DnsOutcome, DnsRecord, DnsView, HostAddresses, RecordData, RecordKind, RecordSource, srv_name,
};
use crate::facts::endpoints::FEDERATION_SERVICE;
use crate::facts::need::Need;
use crate::facts::srv::{Availability, MAX_SRV_TARGETS, Srv, availability, followed_targets};
use crate::facts::view::FactView;
use crate::findings::{AsEvidence, Outcome, SOURCE, Source, Step, Target};

/// The evidence of one question and its answer: `{query, resolver, view,
/// answer, source}`, written straight to JSON (a batch writes one per
/// finding).
#[derive(Debug, Clone)]
pub struct DnsEvidence<'a> {
    fact: &'a DnsFact,
    /// The line of the record the finding is about, when not the set's first.
    at: Option<&'a RecordSource>,
    /// The address answers read beside it (to tell whether a target is the Edge).
    addresses: Vec<DnsEvidence<'a>>,
}

pub fn evidence(fact: &DnsFact) -> DnsEvidence<'_> {
    DnsEvidence { fact, at: None, addresses: Vec::new() }
}

/// The evidence of an SRV answer, located at the first of `about` (the
/// records a finding is about) whose line a planned zone gives: a fix goes
/// on that record's line, not its set's first.
pub fn evidence_at<'a>(fact: &'a DnsFact, about: &[&Srv]) -> DnsEvidence<'a> {
    let at = fact
        .records()
        .into_iter()
        .filter(|r| Srv::from_data(&r.data).is_some_and(|srv| about.contains(&&srv)))
        .find_map(|r| r.source.as_ref());
    DnsEvidence { at, ..evidence(fact) }
}

impl<'a> DnsEvidence<'a> {
    /// With the address answers read beside the SRV answer.
    pub fn with_addresses(self, addresses: Vec<DnsEvidence<'a>>) -> DnsEvidence<'a> {
        DnsEvidence { addresses, ..self }
    }

    /// The line the answer was read from, or the record's it is about.
    fn source(&self) -> Option<&'a RecordSource> {
        self.at.or(self.fact.source.as_ref())
    }
}

impl Serialize for DnsEvidence<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fact = self.fact;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("query", &format_args!("{} {}", fact.name, fact.rtype.name()))?;
        map.serialize_entry("resolver", &fact.resolver)?;
        map.serialize_entry("view", &fact.view)?;
        match (&fact.outcome, &fact.source) {
            // Each record's own line is for the finding's location (see
            // `evidence_at`), not repeated in every finding's evidence.
            (DnsOutcome::Answer { records }, Some(_)) => map.serialize_entry("answer", &Unplaced(records))?,
            (outcome, _) => map.serialize_entry("answer", outcome)?,
        }
        if let Some(source) = self.source() {
            map.serialize_entry(SOURCE, source)?;
        }
        if !self.addresses.is_empty() {
            map.serialize_entry("addresses", &self.addresses)?;
        }
        map.end()
    }
}

impl AsEvidence for DnsEvidence<'_> {
    fn location(&self) -> Option<Source> {
        let placed = |s: &RecordSource| Source { file: s.file.clone(), line: Some(s.line), pointer: None };
        if let Some(source) = self.source() {
            return Some(placed(source));
        }
        // Records keep their lines in the evidence when the answer names none.
        let records = match &self.fact.outcome {
            DnsOutcome::Answer { records } => records.as_slice(),
            _ => &[],
        };
        records
            .iter()
            .find_map(|r| r.source.as_ref())
            .map(placed)
            .or_else(|| self.addresses.iter().find_map(AsEvidence::location))
    }
}

/// An answer's records without their lines.
struct Unplaced<'a>(&'a [DnsRecord]);

impl Serialize for Unplaced<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Record<'a> {
            name: &'a str,
            ttl: u32,
            #[serde(flatten)]
            data: &'a RecordData,
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("outcome", "answer")?;
        let records: Vec<Record> = self.0.iter().map(|r| Record { name: &r.name, ttl: r.ttl, data: &r.data }).collect();
        map.serialize_entry("records", &records)?;
        map.end()
    }
}

/// The evidence of the questions a host's addresses were read from, and
/// of the SRV target they were asked for.
#[derive(Debug, Serialize)]
pub struct Queries<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<&'a str>,
    pub queries: Vec<DnsEvidence<'a>>,
}

impl AsEvidence for Queries<'_> {
    fn location(&self) -> Option<Source> {
        self.queries.iter().find_map(AsEvidence::location)
    }
}

/// Why a scan without DNS facts judges no DNS rule: an offline audit asks
/// no DNS (not applicable), but planned zones that could not be read are
/// DNS the scan was given and could not read (an error).
pub fn without_dns_facts(ctx: &FactView, target: Target) -> Outcome {
    if ctx.facts.planned_zones {
        Outcome::error(target, "no planned zone could be read (see the input errors): its records were not judged")
    } else {
        Outcome::skip(target, "no DNS facts: this was an offline audit (scan the domains live to check DNS)")
    }
}

/// The answer to a question about `domain`, or the outcome that says it
/// cannot be judged: no DNS gathered (skip), or no answer at all (error).
pub fn answer<'a>(
    ctx: &FactView<'a>,
    domain: &str,
    view: DnsView,
    name: &str,
    kind: RecordKind,
) -> Result<&'a DnsFact, Outcome> {
    if !ctx.dns.gathered {
        return Err(without_dns_facts(ctx, Target::domain(domain)));
    }
    let Some(fact) = ctx.dns.get(view, name, kind) else {
        return Err(Outcome::skip(Target::domain(domain), format!("{name} {} was not asked", kind.name())));
    };
    match unanswered(domain, fact) {
        Some(outcome) => Err(outcome),
        None => Ok(fact),
    }
}

/// The error of a question the resolver gave no usable answer to.
pub fn unanswered(domain: &str, fact: &DnsFact) -> Option<Outcome> {
    let (name, kind) = (&fact.name, fact.rtype.name());
    let why = match &fact.outcome {
        DnsOutcome::Timeout | DnsOutcome::Failed { .. } => {
            format!("{name} {kind}: {} from {}", fact.outcome.describe(), fact.resolver)
        }
        DnsOutcome::ServerFailure | DnsOutcome::Refused | DnsOutcome::OtherResponse { .. } => format!(
            "{name} {kind}: the resolver ({}) answered {} instead of the records; partners' resolvers may fail the same way",
            fact.resolver,
            fact.outcome.describe()
        ),
        _ => return None,
    };
    Some(Outcome::error(Target::domain(domain), why).evidence(evidence(fact)))
}

/// A domain's SRV records for one service.
pub enum SrvSet<'a> {
    Records(Vec<Srv>, &'a DnsFact),
    /// The only record is the `.` target: the service is declared not offered.
    NotOffered(&'a DnsFact),
    /// NXDOMAIN or NODATA.
    Absent(&'a DnsFact),
}

pub fn srv_set<'a>(ctx: &FactView<'a>, domain: &str, service: &str) -> Result<SrvSet<'a>, Outcome> {
    let name = srv_name(service, domain);
    let fact = answer(ctx, domain, DnsView::External, &name, RecordKind::Srv)?;
    let records: Vec<Srv> = match &fact.outcome {
        DnsOutcome::Answer { .. } => fact.records().iter().filter_map(|r| Srv::from_data(&r.data)).collect(),
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
    ctx: &FactView<'a>,
    domain: &str,
    service: &str,
    existence_rule: &str,
) -> Result<(Vec<Srv>, &'a DnsFact), Outcome> {
    let name = srv_name(service, domain);
    match srv_set(ctx, domain, service)? {
        SrvSet::Records(records, fact) => Ok((records, fact)),
        SrvSet::NotOffered(fact) | SrvSet::Absent(fact) => Err(Outcome::skip(
            Target::domain(domain),
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

/// The distinct targets of a domain's record set that the scan followed, in
/// the answer's order, and the error that names those it left out (see
/// [`followed_targets`]): their rules could not be checked.
pub fn followed<'r>(domain: &str, name: &str, records: &'r [Srv]) -> (Vec<&'r str>, Option<Outcome>) {
    let (kept, left_out) = followed_targets(records);
    let mut targets: Vec<&str> = Vec::new();
    for record in records {
        if kept.contains(&record.target.as_str()) && !targets.contains(&record.target.as_str()) {
            targets.push(&record.target);
        }
    }
    let cut = (!left_out.is_empty()).then(|| {
        Outcome::error(
            Target::domain(domain),
            format!(
                "{name} names {} targets; the scan follows the first {MAX_SRV_TARGETS} in the order partners try them and did not check {}",
                kept.len() + left_out.len(),
                left_out.join(", ")
            ),
        )
    });
    (targets, cut)
}

/// "0 0 5061 sip.contoso.com"
pub fn show_srv(srv: &Srv) -> String {
    format!("{} {} {} {}", srv.priority, srv.weight, srv.port, srv.target)
}

/// The addresses of `host`, found for `domain` (a question not asked counts
/// as empty; an unanswered one is an error).
pub fn addresses<'a>(ctx: &FactView<'a>, domain: &str, host: &str) -> Result<HostAddresses<'a>, Outcome> {
    if !ctx.dns.gathered {
        return Err(without_dns_facts(ctx, Target::domain(domain)));
    }
    let found = ctx.dns.host(DnsView::External, host);
    if let Some(outcome) = found.facts.iter().find_map(|fact| unanswered(domain, fact)) {
        return Err(outcome);
    }
    if found.facts.is_empty() {
        return Err(Outcome::skip(Target::domain(domain), format!("{host} A/AAAA was not asked")));
    }
    Ok(found)
}

/// The evidence of the questions a host's addresses were read from.
pub fn queries<'a>(found: &HostAddresses<'a>) -> Vec<DnsEvidence<'a>> {
    found.facts.iter().map(|fact| evidence(fact)).collect()
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
pub fn per_domain(ctx: &FactView, judge: impl Fn(&str) -> Vec<Outcome>) -> Vec<Outcome> {
    if !ctx.dns.gathered {
        return vec![without_dns_facts(ctx, Target::area("DNS"))];
    }
    if ctx.targets.domains.is_empty() {
        return vec![Outcome::skip(Target::area("DNS"), "no SIP domain was scanned (name one: fedscan scan DOMAIN)")];
    }
    ctx.targets.domains.iter().flat_map(|domain| judge(domain)).collect()
}

/// As [`per_domain`], for rules about the internal view: none can be judged
/// either when no internal resolver was given.
pub fn per_domain_internal(ctx: &FactView, judge: impl Fn(&str) -> Vec<Outcome>) -> Vec<Outcome> {
    if ctx.dns.gathered && !ctx.dns.has_internal() {
        return vec![Outcome::skip(
            Target::area("DNS"),
            "no internal DNS view was given (--internal-resolver IP, or --internal-zone FILE)",
        )];
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

/// Where on the path a rule about a service's records looks: the
/// federation record is the partner's first step, the others come after.
pub fn service_step(service: &str) -> Step {
    if service == FEDERATION_SERVICE { Step::FederationDns } else { Step::Dns }
}

/// The need for a service's SRV record as partners see it.
pub fn srv_need(service: &str) -> Need {
    Need::Srv { view: DnsView::External, service: service.to_string() }
}

/// A kind that judges one service's SRV records domain by domain, once
/// they are there: their absence is `existence_rule`'s finding, and each
/// such domain is a skip here that names it. Registered as
/// [`ServiceRecords`] of its parameters.
pub trait ServiceRecordsCheck: Send + Sync {
    /// Whose records the kind judges.
    fn service(&self) -> Service<'_>;

    /// Whether the kind reads the addresses of the records' targets too,
    /// not only the records as partners see them.
    const READS_TARGETS: bool = false;

    /// Facts the kind reads beside the records and their targets.
    fn also_needs(&self) -> Vec<Need> {
        Vec::new()
    }

    /// The one outcome of a scan that lacks what the kind compares the
    /// records with, instead of one per domain.
    fn cannot_compare(&self, _ctx: &FactView) -> Option<Outcome> {
        None
    }

    /// Judges a domain's records.
    fn judge(&self, ctx: &FactView, found: &Found) -> Vec<Outcome>;
}

/// A service whose records a [`ServiceRecordsCheck`] judges, and the rule
/// that reports a domain without them.
pub struct Service<'a> {
    /// `_service._proto`.
    pub name: &'a str,
    pub existence_rule: &'a str,
}

/// A domain's records of the service, as [`ServiceRecordsCheck::judge`]
/// reads them.
pub struct Found<'a> {
    pub domain: &'a str,
    /// The record's name (`_service._proto.domain`).
    pub name: String,
    pub records: Vec<Srv>,
    pub fact: &'a DnsFact,
}

/// A [`ServiceRecordsCheck`] kind, its parameters read as written.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct ServiceRecords<T>(T);

impl<T: ServiceRecordsCheck> Check for ServiceRecords<T> {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        let service = self.0.service().name;
        let mut needs = match T::READS_TARGETS {
            true => vec![Need::SrvTargets { service: service.to_string() }],
            false => vec![srv_need(service)],
        };
        needs.extend(self.0.also_needs());
        needs
    }

    fn step(&self) -> Step {
        service_step(self.0.service().name)
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        if let Some(outcome) = self.0.cannot_compare(ctx) {
            return vec![outcome];
        }
        let Service { name: service, existence_rule } = self.0.service();
        per_domain(ctx, |domain| {
            let (records, fact) = or_outcome!(srv_records(ctx, domain, service, existence_rule));
            self.0.judge(ctx, &Found { domain, name: srv_name(service, domain), records, fact })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(line: usize) -> Option<RecordSource> {
        Some(RecordSource { file: "dns/contoso.com.zone".into(), line })
    }

    fn srv_answer() -> DnsFact {
        let record = |port, line| DnsRecord {
            name: "_sipfederationtls._tcp.contoso.com".into(),
            ttl: 3600,
            data: RecordData::Srv { priority: 0, weight: 0, port, target: "sip.contoso.com".into() },
            source: placed(line),
        };
        DnsFact {
            view: DnsView::External,
            name: "_sipfederationtls._tcp.contoso.com".into(),
            rtype: RecordKind::Srv,
            resolver: "zone file dns/contoso.com.zone".into(),
            source: placed(7),
            outcome: DnsOutcome::Answer { records: vec![record(5061, 7), record(443, 9)] },
        }
    }

    #[test]
    fn a_planned_answer_is_evidence_at_its_line_and_its_records_without_theirs() {
        let fact = srv_answer();
        let json = serde_json::to_string(&evidence(&fact)).unwrap();
        assert_eq!(
            json,
            r#"{"query":"_sipfederationtls._tcp.contoso.com SRV","resolver":"zone file dns/contoso.com.zone","view":"external","answer":{"outcome":"answer","records":[{"name":"_sipfederationtls._tcp.contoso.com","ttl":3600,"type":"SRV","priority":0,"weight":0,"port":5061,"target":"sip.contoso.com"},{"name":"_sipfederationtls._tcp.contoso.com","ttl":3600,"type":"SRV","priority":0,"weight":0,"port":443,"target":"sip.contoso.com"}]},"source":{"file":"dns/contoso.com.zone","line":7}}"#
        );
        assert_eq!(evidence(&fact).location().and_then(|s| s.line), Some(7));
        // About the second record: located at its own line, and said so.
        let wrong = Srv { priority: 0, weight: 0, port: 443, target: "sip.contoso.com".into() };
        let at = evidence_at(&fact, &[&wrong]);
        assert_eq!(at.location().and_then(|s| s.line), Some(9));
        assert!(serde_json::to_string(&at).unwrap().ends_with(r#""source":{"file":"dns/contoso.com.zone","line":9}}"#));
        // Composed into a tree (split-brain, internal queries): the same text.
        assert_eq!(serde_json::to_value(evidence(&fact)).unwrap().to_string(), json);
    }

    #[test]
    fn a_live_answer_names_no_line() {
        let mut fact = srv_answer();
        fact.source = None;
        if let DnsOutcome::Answer { records } = &mut fact.outcome {
            records.iter_mut().for_each(|r| r.source = None);
        }
        let json = serde_json::to_string(&evidence(&fact)).unwrap();
        assert!(!json.contains("source") && !json.contains("line"), "{json}");
        assert_eq!(evidence(&fact).location(), None);
    }

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

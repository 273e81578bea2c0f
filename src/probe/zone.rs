//! Planned zones answering as their authoritative server would once they
//! are published: the records of a name, a CNAME chain followed within and
//! across the loaded zones, a wildcard's records, NODATA for a name that
//! exists without the type, NXDOMAIN with the SOA's negative TTL. A name
//! outside every loaded zone, or below a delegation to other servers, is
//! not theirs to answer. The answer is built by the same code as a live
//! one (`answer_from`), so that planned and published zones read alike.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinEncodable;

use super::dns::{answer_from, record};
use crate::facts::dns::{DnsFact, DnsOutcome, DnsRecord, DnsView, RecordKind, RecordSource};
use crate::facts::zone::{PlannedZone, Unknown};

/// How many CNAME records an answer follows, as resolvers bound them.
const MAX_CHAIN: usize = 16;

struct Indexed {
    origin: String,
    path: String,
    by_owner: HashMap<String, Vec<Record>>,
    /// Every owner and every name between it and the origin: the names
    /// that exist (an empty non-terminal exists without records).
    existing: HashSet<String>,
    /// Names below the origin with NS records: the zone delegates them.
    cuts: HashSet<String>,
    /// min(SOA TTL, SOA minimum), the TTL of a negative answer.
    negative_ttl: Option<u32>,
    /// Where each (owner, type)'s records are written, in set order.
    sources: HashMap<(String, RecordType), Vec<RecordSource>>,
    /// Names the provider answers for, not the file.
    unknown: HashMap<String, Unknown>,
}

impl Indexed {
    /// Where an answer from this zone comes from: the line of `owner`'s
    /// records of `rtype`, or of the SOA for what the zone lacks.
    fn source(&self, owner: &str, rtype: RecordType) -> Option<RecordSource> {
        self.sources.get(&(owner.to_string(), rtype))?.first().cloned()
    }

    /// Where each of `owner`'s `count` records of `rtype` is written, in
    /// set order; each at the set's first line when the lines and the
    /// records do not pair up (a record written twice is one record).
    fn record_sources(&self, owner: &str, rtype: RecordType, count: usize) -> Vec<Option<RecordSource>> {
        match self.sources.get(&(owner.to_string(), rtype)) {
            Some(lines) if lines.len() == count => lines.iter().cloned().map(Some).collect(),
            _ => vec![self.source(owner, rtype); count],
        }
    }

    fn soa_source(&self) -> Option<RecordSource> {
        self.source(&self.origin, RecordType::SOA)
    }
}

/// The DNS of a set of planned zones, for one view.
pub struct PlannedDns {
    zones: Vec<Indexed>,
}

fn lower(name: &Name) -> String {
    let text = name.to_ascii().to_ascii_lowercase();
    match text.strip_suffix('.') {
        Some(stripped) if !stripped.is_empty() => stripped.to_string(),
        _ => text,
    }
}

/// `name` and its ancestors, nearest first.
fn ancestors(name: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(name), |n| n.split_once('.').map(|(_, rest)| rest))
}

fn is_within(name: &str, origin: &str) -> bool {
    name == origin || name.ends_with(&format!(".{origin}"))
}

impl PlannedDns {
    /// The zones, indexed for answering; taken whole, so that nothing read
    /// is copied again.
    pub fn new(zones: Vec<PlannedZone>) -> PlannedDns {
        let zones = zones
            .into_iter()
            .map(|zone| {
                let origin = zone.origin_name();
                let negative_ttl = zone.soa().filter(|_| !zone.soa_assumed).and_then(|soa| match &soa.data {
                    RData::SOA(data) => Some(soa.ttl.min(data.minimum)),
                    _ => None,
                });
                let PlannedZone { path, records, sources, unknown, .. } = zone;
                let mut by_owner: HashMap<String, Vec<Record>> = HashMap::new();
                for record in records {
                    by_owner.entry(lower(&record.name)).or_default().push(record);
                }
                let unknown: HashMap<String, Unknown> = unknown.into_iter().map(|u| (u.name.clone(), u)).collect();
                let mut existing = HashSet::new();
                for owner in by_owner.keys().chain(unknown.keys()) {
                    for name in ancestors(owner) {
                        if !is_within(name, &origin) || !existing.insert(name.to_string()) {
                            break;
                        }
                    }
                }
                let cuts = by_owner
                    .iter()
                    .filter(|(owner, records)| {
                        **owner != origin && records.iter().any(|r| r.record_type() == RecordType::NS)
                    })
                    .map(|(owner, _)| owner.clone())
                    .collect();
                Indexed { origin, path, by_owner, existing, cuts, negative_ttl, sources, unknown }
            })
            .collect();
        PlannedDns { zones }
    }

    /// The loaded zone that answers for `name`: the one of the longest
    /// origin it is within, unless that zone delegates it.
    fn zone_of(&self, name: &str) -> Option<&Indexed> {
        let zone = self.zones.iter().filter(|z| is_within(name, &z.origin)).max_by_key(|z| z.origin.len())?;
        let delegated = ancestors(name).take_while(|n| *n != zone.origin).any(|n| zone.cuts.contains(n));
        (!delegated).then_some(zone)
    }

    /// What the zone's records hold at `name`: its own, or a wildcard's
    /// made its own, with the owner they are written under; `None` for a
    /// name that does not exist.
    fn records_at<'z>(zone: &'z Indexed, name: &str) -> Option<(Cow<'z, [Record]>, String)> {
        if let Some(records) = zone.by_owner.get(name) {
            return Some((Cow::Borrowed(records.as_slice()), name.to_string()));
        }
        if zone.existing.contains(name) {
            return Some((Cow::Borrowed(&[]), name.to_string()));
        }
        // The closest encloser's wildcard (RFC 4592).
        let encloser = ancestors(name).skip(1).find(|n| zone.existing.contains(*n))?;
        let written = format!("*.{encloser}");
        let wildcard = zone.by_owner.get(&written)?;
        let owner = Name::from_ascii(format!("{name}.")).ok()?;
        let made: Vec<Record> =
            wildcard.iter().map(|r| Record::from_rdata(owner.clone(), r.ttl, r.data.clone())).collect();
        Some((Cow::Owned(made), written))
    }

    /// The answer to a question, as the zones' server would give it, or
    /// `None` when no loaded zone answers for the name.
    pub fn answer(&self, view: DnsView, name: &str, kind: RecordKind) -> Option<DnsFact> {
        let first = self.zone_of(name)?;
        let fact = |outcome, source| DnsFact {
            view,
            name: name.to_string(),
            rtype: kind,
            resolver: format!("zone file {}", first.path).into(),
            source,
            outcome,
        };
        // The line of the question's own record: where a fix goes.
        let mut source = None;
        let wanted = kind.record_type();
        let mut answer: Vec<Record> = Vec::new();
        // Where each record of `answer` is written.
        let mut placed: Vec<Option<RecordSource>> = Vec::new();
        let mut current = name.to_string();
        let mut followed = HashSet::new();
        let mut zone = first;
        loop {
            if let Some(unknown) = zone.unknown.get(&current) {
                let message = format!(
                    "{current} is {} in {}: its answer is not written in the file, so it is not known",
                    unknown.what, unknown.at.file
                );
                return Some(fact(DnsOutcome::Failed { message }, Some(unknown.at.clone())));
            }
            let Some((records, written)) = Self::records_at(zone, &current) else {
                if answer.is_empty() {
                    let outcome = DnsOutcome::NxDomain { negative_ttl: zone.negative_ttl, ignored_answers: None };
                    return Some(fact(outcome, zone.soa_source()));
                }
                break;
            };
            let alias = records.iter().find(|r| r.record_type() == RecordType::CNAME);
            match alias {
                Some(alias) if wanted != RecordType::CNAME => {
                    if answer.is_empty() {
                        source = zone.source(&written, RecordType::CNAME);
                    }
                    answer.push(alias.clone());
                    placed.push(zone.source(&written, RecordType::CNAME));
                    let RData::CNAME(target) = &alias.data else { break };
                    let target = lower(&target.0);
                    if !followed.insert(current.clone()) || followed.len() > MAX_CHAIN {
                        return Some(fact(DnsOutcome::ServerFailure, source));
                    }
                    // A target outside the loaded zones is another server's:
                    // the chain as far as these zones go is their answer.
                    match self.zone_of(&target) {
                        Some(next) => {
                            zone = next;
                            current = target;
                        }
                        None => break,
                    }
                }
                _ => {
                    let matching: Vec<Record> = records.iter().filter(|r| r.record_type() == wanted).cloned().collect();
                    let lines = zone.record_sources(&written, wanted, matching.len());
                    let mut matching: Vec<(Record, Option<RecordSource>)> = matching.into_iter().zip(lines).collect();
                    // A set's records in the canonical order (RFC 4034,
                    // section 6.3), as Knot serves them: one order, whatever
                    // the order of the file's lines.
                    matching.sort_by_cached_key(|(r, _)| r.data.to_bytes().unwrap_or_default());
                    if matching.is_empty() && answer.is_empty() {
                        return Some(fact(DnsOutcome::NoData { negative_ttl: zone.negative_ttl }, zone.soa_source()));
                    }
                    if answer.is_empty() {
                        source = zone.source(&written, wanted);
                    }
                    for (record, line) in matching {
                        answer.push(record);
                        placed.push(line);
                    }
                    break;
                }
            }
        }
        Some(fact(placed_answer(name, &answer, &placed), source))
    }
}

/// The answer as a live one reads it ([`answer_from`]), each record with
/// where it is written.
fn placed_answer(name: &str, answer: &[Record], placed: &[Option<RecordSource>]) -> DnsOutcome {
    let all = answer.iter().zip(placed).map(|(r, source)| DnsRecord { source: source.clone(), ..record(r) }).collect();
    answer_from(name, all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(text: &str) -> PlannedDns {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.zone");
        std::fs::write(&path, text).unwrap();
        PlannedDns::new(vec![crate::facts::zone::read_zone(&path, None).unwrap()])
    }

    const ZONE: &str = "$ORIGIN example.test.\n$TTL 3600\n@ IN SOA ns1 hostmaster 1 3600 600 86400 120\n@ IN NS ns1\nns1 IN A 192.0.2.53\nedge IN NS ns.elsewhere.test.\nloop1 IN CNAME loop2\nloop2 IN CNAME loop1\nalias IN CNAME out.other.test.\n";

    #[test]
    fn a_delegated_name_and_a_name_outside_are_not_the_zones_to_answer() {
        let dns = planned(ZONE);
        assert!(dns.answer(DnsView::External, "sip.edge.example.test", RecordKind::A).is_none());
        assert!(dns.answer(DnsView::External, "edge.example.test", RecordKind::A).is_none());
        assert!(dns.answer(DnsView::External, "example.other", RecordKind::A).is_none());
        let own = dns.answer(DnsView::External, "ns1.example.test", RecordKind::A).unwrap();
        assert!(matches!(own.outcome, DnsOutcome::Answer { ref records } if records.len() == 1), "{own:?}");
    }

    #[test]
    fn negative_answers_carry_the_soa_negative_ttl() {
        let dns = planned(ZONE);
        let missing = dns.answer(DnsView::External, "nothing.example.test", RecordKind::A).unwrap();
        assert_eq!(missing.outcome, DnsOutcome::NxDomain { negative_ttl: Some(120), ignored_answers: None });
        let no_type = dns.answer(DnsView::External, "ns1.example.test", RecordKind::Srv).unwrap();
        assert_eq!(no_type.outcome, DnsOutcome::NoData { negative_ttl: Some(120) });
    }

    #[test]
    fn a_cname_loop_is_a_server_failure_and_a_chain_leaving_the_zones_stops_there() {
        let dns = planned(ZONE);
        let looping = dns.answer(DnsView::External, "loop1.example.test", RecordKind::A).unwrap();
        assert_eq!(looping.outcome, DnsOutcome::ServerFailure);
        let leaving = dns.answer(DnsView::External, "alias.example.test", RecordKind::A).unwrap();
        let DnsOutcome::Answer { records } = leaving.outcome else { panic!("{leaving:?}") };
        assert_eq!(records.len(), 1, "the CNAME alone: {records:?}");
    }
}

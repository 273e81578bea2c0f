//! Facts: everything fedscan observed, as one document that serializes
//! (`--save-facts`) and loads back (`--facts`). Facts are observations, never
//! verdicts; rules judge them.

pub mod cert_listing;
pub mod certs;
pub mod chain;
pub mod chunked_file;
mod chunks;
pub use chunks::split_answers;
pub mod config_view;
pub mod dns;
pub mod encoding;
pub mod endpoints;
pub mod in_file;
pub mod ms_diagnostics;
pub mod names;
pub mod need;
pub mod organizations;
pub mod paste;
pub mod sip;
pub mod sip_text;
pub mod snapshot;
pub mod srv;
pub mod tls;
pub mod values;
pub mod view;
pub mod x509;
pub mod zone;

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use snapshot::SnapshotFact;

pub const FACTS_SCHEMA: &str = "fedscan.facts/1";

/// A file fedscan could not use, with the place that made it unusable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputError {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub message: String,
}

impl InputError {
    /// An error about a whole file (no line).
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        InputError { path: path.display().to_string(), line: None, column: None, message: message.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// What the user asked to be looked at; recorded so that a replay evaluates
/// the same question.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub partners: Vec<String>,
    #[serde(default)]
    pub config: Vec<String>,
    /// `--edge` arguments, as given.
    #[serde(default)]
    pub edges: Vec<String>,
    /// The part of a sharded batch these facts are (`--shard K/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardOf>,
}

/// Which part of a batch split with `--shard K/N` a scan was: what a merge
/// checks so that it judges a whole set of shards of one scan, never a part
/// as if it were the whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardOf {
    pub index: u32,
    pub count: u32,
    /// SHA-256 (hex) of the whole domain list before it was split: the
    /// domains normalized, sorted and deduplicated, one per line.
    pub domains_digest: String,
}

impl ShardOf {
    pub fn new(index: u32, count: u32, domains: &[String]) -> ShardOf {
        let mut sorted: Vec<&str> = domains.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let digest = ring::digest::digest(&ring::digest::SHA256, sorted.join("\n").as_bytes());
        let domains_digest = crate::text::hex(digest.as_ref());
        ShardOf { index, count, domains_digest }
    }
}

/// What is wrong with a set of facts files as one scan's, if anything: a
/// shard missing or given twice, or shards of different scans (another N,
/// another domain list, or facts saved without --shard among them).
pub fn shard_set_problem(set: &[(String, Option<&ShardOf>)]) -> Option<String> {
    let sharded: Vec<(&String, &ShardOf)> = set.iter().filter_map(|(path, shard)| Some((path, (*shard)?))).collect();
    let &(first_path, first) = sharded.first()?;
    if let Some((path, _)) = set.iter().find(|(_, shard)| shard.is_none()) {
        return Some(format!(
            "{path} was saved without --shard, {first_path} as shard {}/{}: the set mixes scans",
            first.index, first.count
        ));
    }
    if let Some((path, other)) = sharded.iter().find(|(_, s)| s.count != first.count) {
        return Some(format!(
            "{first_path} is shard {}/{} and {path} shard {}/{}: the set mixes scans split differently",
            first.index, first.count, other.index, other.count
        ));
    }
    if let Some((path, _)) = sharded.iter().find(|(_, s)| s.domains_digest != first.domains_digest) {
        return Some(format!("{first_path} and {path} are shards of different domain lists: the set mixes scans"));
    }
    let mut seen: Vec<Vec<&String>> = vec![Vec::new(); first.count as usize];
    for (path, shard) in &sharded {
        if let Some(paths) = seen.get_mut(shard.index as usize) {
            paths.push(path);
        }
    }
    if let Some((index, paths)) = seen.iter().enumerate().find(|(_, paths)| paths.len() > 1) {
        let paths: Vec<&str> = paths.iter().map(|p| p.as_str()).collect();
        return Some(format!("shard {index}/{} is given twice ({})", first.count, paths.join(", ")));
    }
    let missing: Vec<String> =
        seen.iter().enumerate().filter(|(_, paths)| paths.is_empty()).map(|(i, _)| i.to_string()).collect();
    (!missing.is_empty()).then(|| {
        format!(
            "shard(s) {} of {} missing: only {} of the batch's {} shards were given",
            missing.join(", "),
            first.count,
            first.count as usize - missing.len(),
            first.count
        )
    })
}

/// What the live probes were pointed at: the user's domains and Edges with
/// those of the snapshots, normalized.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    /// SIP domains.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Access Edge external FQDNs.
    #[serde(default)]
    pub edges: Vec<String>,
    /// Whether a snapshot enables XMPP federation (then XMPP SRV records are asked).
    #[serde(default)]
    pub xmpp: bool,
    /// Partner domains (`--partner`), whose federation path is probed too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partners: Vec<String>,
    /// The federation port given with `--edge FQDN:PORT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_port: Option<u16>,
}

impl Targets {
    /// The partners that are not also the organization's own domains: those
    /// whose path is followed as a partner's.
    pub fn partner_domains(&self) -> impl Iterator<Item = &String> {
        self.partners.iter().filter(|p| !self.domains.contains(p))
    }

    /// Whether `domain` is a partner's and not also the organization's own.
    pub fn is_partner_domain(&self, domain: &str) -> bool {
        self.partner_domains().any(|p| p == domain)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub schema: String,
    pub tool_version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub gathered_at: OffsetDateTime,
    pub inputs: Inputs,
    #[serde(default)]
    pub snapshots: Vec<SnapshotFact>,
    /// Empty when nothing was probed live (an offline audit).
    #[serde(default, skip_serializing_if = "is_default")]
    pub targets: Targets,
    /// DNS answers, one per (view, name, type), in that order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<dns::DnsFact>,
    /// TLS handshakes, one per (SNI, address, port).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls: Vec<tls::TlsFact>,
    /// SIP OPTIONS exchanges, one per TLS endpoint that accepted a connection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sip: Vec<sip::SipFact>,
    /// `--cert-file` certificates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cert_files: Vec<certs::CertFile>,
    /// The trust stores chains are judged against (`--trust`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust: Vec<certs::TrustStore>,
    /// Inputs that could not be read; kept so a replay reports them too.
    #[serde(default)]
    pub input_errors: Vec<InputError>,
    /// The scan was stopped (Ctrl-C) before it gathered all it planned: the
    /// probes it cancelled say so, the questions it never asked are absent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// The scan asked nothing of the network (`--offline`): whatever DNS it
    /// holds came from planned zones, and no endpoint was probed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub offline: bool,
    /// Planned zones (`--zone`) were the scan's DNS, whether or not any
    /// could be read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub planned_zones: bool,
    /// For a chunk of a batch: the last `shared_dns` answers of `dns` are
    /// copies of answers another chunk holds (an Edge named in the zone of
    /// a domain of another chunk): read here, saved and kept with the other.
    #[serde(skip)]
    pub shared_dns: usize,
}

/// DNS answers (or where a facts file keeps them, by the question) in the
/// order one gathering gives them: by view, name and type.
fn sort_answers<T>(list: &mut [T], question: impl Fn(&T) -> (dns::DnsView, &String, dns::RecordKind)) {
    list.sort_by(|a, b| question(a).cmp(&question(b)));
}

/// DNS answers as merged scans keep them: sorted, one per question.
fn keep_answers_once<T>(list: &mut Vec<T>, question: impl Fn(&T) -> (dns::DnsView, &String, dns::RecordKind)) {
    sort_answers(list, &question);
    list.dedup_by(|a, b| question(a) == question(b));
}

/// Handshakes (or where a facts file keeps them, by what tells one from
/// another) in the order one gathering gives them: by endpoint.
fn sort_handshakes<T>(list: &mut [T], key: impl Fn(&T) -> (&tls::Endpoint, &Option<String>)) {
    list.sort_by(|a, b| key(a).0.cmp(key(b).0));
}

/// Handshakes as merged scans keep them: sorted, each once (an endpoint
/// probed as the organization's and as a partner's is two).
fn keep_handshakes_once<T>(list: &mut Vec<T>, key: impl Fn(&T) -> (&tls::Endpoint, &Option<String>)) {
    sort_handshakes(list, &key);
    list.dedup_by(|a, b| key(a) == key(b));
}

/// Exchanges in the order one gathering gives them: by endpoint, then the
/// domain asked.
fn sort_exchanges<T>(list: &mut [T], key: impl Fn(&T) -> (&tls::Endpoint, &String)) {
    list.sort_by(|a, b| key(a).cmp(&key(b)));
}

/// Exchanges as merged scans keep them: sorted, one per endpoint.
fn keep_exchanges_once<T>(list: &mut Vec<T>, key: impl Fn(&T) -> (&tls::Endpoint, &String)) {
    sort_exchanges(list, &key);
    list.dedup_by(|a, b| key(a).0 == key(b).0);
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl Facts {
    pub fn new(inputs: Inputs, gathered_at: OffsetDateTime) -> Self {
        Facts {
            schema: FACTS_SCHEMA.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            gathered_at,
            inputs,
            snapshots: Vec::new(),
            targets: Targets::default(),
            dns: Vec::new(),
            tls: Vec::new(),
            sip: Vec::new(),
            cert_files: Vec::new(),
            trust: Vec::new(),
            input_errors: Vec::new(),
            interrupted: false,
            offline: false,
            planned_zones: false,
            shared_dns: 0,
        }
    }

    /// Adds the facts of another scan of the same deployment (a shard of a
    /// batch): the domains and what was asked about them. A question asked
    /// by both (an Edge two shards share) is kept once, as one scan keeps
    /// it; the configuration and trust stores are the first scan's, with the
    /// other's snapshots added when they are other files.
    pub fn merge(&mut self, other: Facts) {
        fn union(into: &mut Vec<String>, from: Vec<String>) {
            into.extend(from);
            into.sort();
            into.dedup();
        }
        self.gathered_at = self.gathered_at.min(other.gathered_at);
        union(&mut self.inputs.domains, other.inputs.domains);
        union(&mut self.inputs.partners, other.inputs.partners);
        union(&mut self.inputs.config, other.inputs.config);
        union(&mut self.inputs.edges, other.inputs.edges);
        // Shards merged are no longer one shard.
        if self.inputs.shard != other.inputs.shard {
            self.inputs.shard = None;
        }
        for snapshot in other.snapshots {
            if !self.snapshots.iter().any(|s| s.path == snapshot.path) {
                self.snapshots.push(snapshot);
            }
        }
        union(&mut self.targets.domains, other.targets.domains);
        union(&mut self.targets.edges, other.targets.edges);
        union(&mut self.targets.partners, other.targets.partners);
        self.targets.xmpp |= other.targets.xmpp;
        self.targets.edge_port = self.targets.edge_port.or(other.targets.edge_port);
        self.dns.extend(other.dns);
        self.tls.extend(other.tls);
        self.sip.extend(other.sip);
        keep_answers_once(&mut self.dns, |f| (f.view, &f.name, f.rtype));
        keep_handshakes_once(&mut self.tls, |f| (&f.endpoint, &f.partner));
        keep_exchanges_once(&mut self.sip, |f| (&f.endpoint, &f.domain));
        for file in other.cert_files {
            if !self.cert_files.contains(&file) {
                self.cert_files.push(file);
            }
        }
        for error in other.input_errors {
            if !self.input_errors.contains(&error) {
                self.input_errors.push(error);
            }
        }
        self.interrupted |= other.interrupted;
    }

    /// The order one gathering gives the answers and probes.
    pub(crate) fn sort_lists(&mut self) {
        sort_answers(&mut self.dns, |f| (f.view, &f.name, f.rtype));
        sort_handshakes(&mut self.tls, |f| (&f.endpoint, &f.partner));
        sort_exchanges(&mut self.sip, |f| (&f.endpoint, &f.domain));
    }

    pub fn load(path: &Path) -> Result<Facts, InputError> {
        let display = path.display().to_string();
        let text = crate::files::read_text_bounded(path, crate::files::MAX_FACTS_FILE)
            .map_err(|message| InputError { path: display.clone(), line: None, column: None, message })?;
        Facts::parse(&text, &display)
    }

    /// Reads a facts document; `display` names it in errors.
    pub fn parse(text: &str, display: &str) -> Result<Facts, InputError> {
        let error = |line, column, message| InputError { path: display.to_string(), line, column, message };
        let facts: Facts = serde_json::from_str(text).map_err(|e| {
            let full = e.to_string();
            let message = full.rfind(" at line ").map_or(full.as_str(), |i| &full[..i]).to_string();
            error(Some(e.line()), Some(e.column()), format!("not a fedscan facts file: {message}"))
        })?;
        if facts.schema != FACTS_SCHEMA {
            return Err(error(
                None,
                None,
                format!("facts schema {:?} is not supported (expected {FACTS_SCHEMA:?})", facts.schema),
            ));
        }
        if let Some(problem) = facts.undecodable_certificate() {
            return Err(error(None, None, format!("{problem}: the facts file is damaged, nothing was judged")));
        }
        Ok(facts)
    }

    /// The first certificate held in a form that does not decode, named by
    /// the fact that holds it: a chain judged without it would be judged as
    /// something it is not (its issuer taken for the leaf, say).
    fn undecodable_certificate(&self) -> Option<String> {
        let chains = self
            .tls
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("tls[{i}] ({})", t.endpoint.label()), &t.chain))
            .chain(self.cert_files.iter().enumerate().map(|(i, f)| (format!("cert_files[{i}] ({})", f.path), &f.chain)))
            .chain(self.trust.iter().enumerate().map(|(i, t)| (format!("trust[{i}] ({})", t.name), &t.anchors)));
        for (fact, chain) in chains {
            for (index, encoded) in chain.iter().enumerate() {
                if tls::decode_one(encoded).is_none() {
                    return Some(format!("{fact}: certificate {} is not base64-encoded DER", index + 1));
                }
            }
        }
        None
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        crate::files::write_output_with(path, |out| {
            crate::text::write_json(out, self)?;
            out.write_all(b"\n")
        })
        .map(drop)
    }
}

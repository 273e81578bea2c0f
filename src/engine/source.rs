//! Where a scan's facts come from: gathered now — the local inputs, then
//! what the running rules need of the network, whole or a batch chunk by
//! chunk — or replayed from facts files, a set of shards merged into one,
//! a batch's handed out chunk by chunk as it was gathered.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use time::OffsetDateTime;

use super::gather::{self, LiveNetwork};
use super::plan::{self, ScanPlan};
use super::{NetworkSettings, ScanError, ScanRequest};
use crate::facts::certs::TrustStore;
use crate::facts::in_file::{FactsInFile, ListsInFile};
use crate::facts::tls::Endpoint;
use crate::facts::zone::{PlannedZone, read_zone, zone_paths};
use crate::facts::{Facts, InputError, ShardOf, Targets, shard_set_problem, split_answers};
use crate::probe::zone::PlannedDns;
use crate::rules::{RuleSet, Scope};

/// Where the facts come from.
pub enum Source {
    /// Gathered now; a batch `in_chunks` of this many domains (whole
    /// organizations), each judged while the next are probed.
    Gather { request: Box<ScanRequest>, in_chunks: Option<usize> },
    /// Replayed from facts already gathered, read.
    Replay(Box<Replay>),
}

impl Source {
    /// The domains a chunk of a batch holds, when the facts are judged a
    /// chunk at a time.
    pub fn in_chunks(&self) -> Option<usize> {
        match self {
            Source::Gather { in_chunks, .. } => *in_chunks,
            Source::Replay(replay) => replay.in_chunks.as_ref().map(|chunks| chunks.domains),
        }
    }

    /// The time the rules are judged as of: `--now`, else the start of a
    /// live scan, or the gathering of the facts replayed.
    pub fn judged_as_of(&self, requested: Option<OffsetDateTime>, started_at: OffsetDateTime) -> OffsetDateTime {
        match self {
            Source::Gather { .. } => requested.unwrap_or(started_at),
            Source::Replay(replay) => super::evaluate::evaluation_time(requested, &replay.facts),
        }
    }
}

/// Facts files to replay (merged when several), with what the command line
/// puts in place of what they recorded.
pub struct ReplayFiles {
    pub paths: Vec<PathBuf>,
    pub partners: Vec<String>,
    pub domains: Vec<String>,
    pub trust: Option<Vec<TrustStore>>,
    /// `--allow-partial`: a set of shards that is not whole is judged,
    /// marked partial, instead of refused.
    pub allow_partial: bool,
    /// The domains of a chunk, should the facts be a batch's.
    pub chunk_domains: usize,
}

/// Facts read to be judged again.
pub struct Replay {
    /// How the report names the replayed files.
    pub names: String,
    /// The facts; a batch's without its lists, which `in_chunks` leaves in
    /// their files.
    pub facts: Facts,
    /// What a set of shards that is not whole lacks (`--allow-partial`).
    pub partial: Option<String>,
    /// The facts of a batch without the organization's own context, judged
    /// in chunks as the live batch was: a replay of a large batch, or the
    /// merge of its shards, then holds the findings and the probes of one
    /// chunk at a time, not of every domain.
    pub in_chunks: Option<ReplayChunks>,
}

/// How a batch's facts are replayed chunk by chunk.
pub struct ReplayChunks {
    /// The domains of a chunk.
    pub domains: usize,
    /// The DNS answers, handshakes and exchanges, read as each chunk is
    /// judged.
    pub lists: ListsInFile,
}

impl ReplayFiles {
    /// Every file read, a set of shards checked whole (or, with
    /// `allow_partial`, what it lacks), merged into one, with the command
    /// line's partners, domains and trust stores in place of those recorded.
    pub fn read(self) -> Result<Replay, ScanError> {
        let names = self.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        let mut partial = None;
        let loaded = self
            .paths
            .iter()
            .map(|path| FactsInFile::load(path).map_err(ScanError::Facts))
            .collect::<Result<Vec<_>, _>>()?;
        let set: Vec<(String, Option<&ShardOf>)> = self
            .paths
            .iter()
            .zip(&loaded)
            .map(|(p, f)| (p.display().to_string(), f.facts.inputs.shard.as_ref()))
            .collect();
        if let Some(problem) = shard_set_problem(&set) {
            if !self.allow_partial {
                return Err(ScanError::IncompleteShards(problem));
            }
            partial = Some(problem);
        }
        let mut merged: Option<FactsInFile> = None;
        for shard in loaded {
            match &mut merged {
                Some(read) => read.merge(shard),
                None => merged = Some(shard),
            }
        }
        let Some(FactsInFile { mut facts, lists }) = merged else { return Err(ScanError::NoFactsFile) };
        if !self.partners.is_empty() {
            facts.inputs.partners = self.partners;
        }
        if !self.domains.is_empty() {
            facts.inputs.domains = self.domains;
        }
        if let Some(trust) = self.trust {
            facts.trust = trust;
        }
        // What makes a live scan a batch (see `app::job`): probed, and
        // nothing of the organization's own.
        let batch = !facts.offline
            && facts.inputs.config.is_empty()
            && facts.snapshots.is_empty()
            && facts.inputs.edges.is_empty()
            && facts.targets.edges.is_empty()
            && facts.cert_files.is_empty()
            && facts.inputs.partners.is_empty();
        if batch {
            let in_chunks = Some(ReplayChunks { domains: self.chunk_domains, lists });
            return Ok(Replay { names, facts, partial, in_chunks });
        }
        let facts = FactsInFile { facts, lists }.whole().map_err(ScanError::Facts)?;
        Ok(Replay { names, facts, partial, in_chunks: None })
    }
}

/// A batch's facts replayed chunk by chunk as they were gathered: each
/// chunk with its DNS answers (see [`split_answers`]) and the handshakes
/// and exchanges of the endpoints its plan probes, read from their files,
/// handed to `on_chunk` in turn; the facts returned are the scan's context.
/// A chunk's answers are read twice, to plan it and to judge it, so that
/// no more than one chunk's are held.
pub fn replay_in_chunks(
    rules: &RuleSet,
    scope: &Scope,
    facts: Facts,
    lists: &ListsInFile,
    chunk_domains: usize,
    mut on_chunk: impl FnMut(Facts),
) -> Result<Facts, InputError> {
    let groups = gather::chunks_of(lists.organizations(&facts).groups(), chunk_domains);
    let (answers, unclaimed) =
        split_answers(lists.dns.iter().collect(), &groups, |a| &a.key.name, |a| a.key.srv_hosts.clone());
    let part_of = |domains: &[String], (answers, shared): &(Vec<_>, usize)| -> Result<Facts, InputError> {
        let mut part = facts.chunk(domains, (lists.answers(answers.iter().copied())?, *shared));
        part.interrupted = facts.interrupted;
        Ok(part)
    };
    let mut probed_by: HashMap<Endpoint, Vec<usize>> = HashMap::new();
    for (i, (domains, answers)) in groups.iter().zip(&answers).enumerate() {
        let part = part_of(domains, answers)?;
        let plan = ScanPlan::new(rules, scope, part.targets.clone(), &facts.inputs.partners);
        for target in plan.endpoints(&part) {
            let chunks = probed_by.entry(target.endpoint).or_default();
            if chunks.last() != Some(&i) {
                chunks.push(i);
            }
        }
    }
    // Each handshake and exchange to every chunk that probed its endpoint;
    // `None` when one went to none.
    fn hand_out<'a, T>(
        entries: &'a [T],
        endpoint: impl Fn(&T) -> &Endpoint,
        probed_by: &HashMap<Endpoint, Vec<usize>>,
        chunks: usize,
    ) -> Option<Vec<Vec<&'a T>>> {
        let mut handed = vec![Vec::new(); chunks];
        for entry in entries {
            for &i in probed_by.get(endpoint(entry))? {
                handed[i].push(entry);
            }
        }
        Some(handed)
    }
    let tls = hand_out(&lists.tls, |e| &e.key.endpoint, &probed_by, groups.len());
    let sip = hand_out(&lists.sip, |e| &e.key.endpoint, &probed_by, groups.len());
    if let (Some(tls), Some(sip), true) = (tls, sip, unclaimed.is_empty()) {
        for (((domains, answers), tls), sip) in groups.iter().zip(&answers).zip(tls).zip(sip) {
            let mut part = part_of(domains, answers)?;
            part.tls = lists.handshakes(tls)?;
            part.sip = lists.exchanges(sip)?;
            on_chunk(part);
        }
        return Ok(facts);
    }
    // Facts that no chunk's plan accounts for (a file written by hand or
    // by another version): the whole is judged as one chunk rather than
    // any of them left unjudged.
    let mut whole = facts.clone();
    (whole.dns, whole.tls, whole.sip) =
        (lists.answers(&lists.dns)?, lists.handshakes(&lists.tls)?, lists.exchanges(&lists.sip)?);
    whole.sort_lists();
    on_chunk(whole);
    Ok(facts)
}

fn read_zones(files: &[(Option<String>, PathBuf)], facts: &mut Facts) -> Vec<PlannedZone> {
    let mut zones = Vec::new();
    for (origin, path) in files {
        let paths = match zone_paths(path) {
            Ok(paths) => paths,
            Err(error) => {
                facts.input_errors.push(error);
                continue;
            }
        };
        if path.is_dir() && origin.is_some() {
            facts.input_errors.push(InputError::file(
                path,
                "ORIGIN= names one zone, and a directory holds several: give ORIGIN=FILE for the file that needs it",
            ));
            continue;
        }
        for file in paths {
            match read_zone(&file, origin.as_deref()) {
                Ok(zone) => zones.push(zone),
                Err(error) => facts.input_errors.push(error),
            }
        }
    }
    zones
}

/// Whether a zone's origin could be a SIP domain: a host name of two labels
/// or more, outside the reverse trees.
fn could_be_sip_domain(origin: &str) -> bool {
    let labels: Vec<&str> = origin.split('.').collect();
    labels.len() >= 2
        && !labels.iter().any(|l| l.starts_with('_'))
        && !(origin.ends_with(".in-addr.arpa") || origin.ends_with(".ip6.arpa"))
}

/// The planned zones of both views, as the DNS in front of `beyond`.
struct PlannedViews {
    external: PlannedDns,
    internal: Option<PlannedDns>,
}

impl PlannedViews {
    fn in_front_of<N>(self, beyond: Option<N>, beyond_internal: bool) -> gather::Planned<N> {
        gather::Planned { external: self.external, internal: self.internal, beyond, beyond_internal }
    }
}

/// What every scan starts with: a runtime, the local facts (snapshots,
/// certificate files, trust stores), the planned zones and the targets
/// they and the command line give.
fn local(
    request: &ScanRequest,
    now: OffsetDateTime,
) -> Result<(tokio::runtime::Runtime, Facts, PlannedViews, Targets), ScanError> {
    // A worker per core, as tokio's default, but counted once for the
    // process (tokio would read the cgroup files again).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(crate::cores())
        .enable_all()
        .build()
        .map_err(ScanError::Runtime)?;
    let mut facts = runtime.block_on(gather::local(request.inputs.clone(), &request.config, &request.cert_files, now));
    facts.trust = request.trust.clone();
    facts.planned_zones = !request.zones.is_empty() || !request.internal_zones.is_empty();
    let external = read_zones(&request.zones, &mut facts);
    let internal = read_zones(&request.internal_zones, &mut facts);
    // Planned zones alone: their origins are the SIP domains to judge, but
    // for zones that cannot be one (a reverse zone, Active Directory's
    // `_msdcs`, Windows DNS Server's single-label `TrustAnchors`), which a
    // directory of a DNS server's zones holds beside them.
    if facts.inputs.domains.is_empty() && facts.snapshots.is_empty() && request.edges.fqdns.is_empty() {
        let mut origins: Vec<String> =
            external.iter().map(|z| z.origin_name()).filter(|o| could_be_sip_domain(o)).collect();
        origins.sort();
        origins.dedup();
        facts.inputs.domains = origins;
    }
    let targets = plan::targets(&facts, &request.edges);
    let views = PlannedViews {
        external: PlannedDns::new(external),
        internal: (!request.internal_zones.is_empty()).then(|| PlannedDns::new(internal)),
    };
    Ok((runtime, facts, views, targets))
}

/// The network as the plan probes it.
fn live_network(settings: &NetworkSettings, plan: &ScanPlan) -> Result<LiveNetwork, ScanError> {
    Ok(LiveNetwork::new(&settings.external, settings.internal.as_ref(), settings.timeout, settings.identity.clone())
        .map_err(ScanError::Resolver)?
        .probing_versions(plan.version_questions())
        .own_sip_connection(settings.own_sip_connection))
}

/// Gathers the facts of a scan: the local inputs, then, for a live scan,
/// what the running rules need of the network — of the whole scan, or, for
/// a batch `in_chunks` of so many domains, chunk by chunk, each chunk's
/// facts handed to `on_chunk` as soon as they are in and then dropped.
/// `on_chunk` runs on a thread of its own, so judging and writing a chunk
/// overlaps probing the next ones; one chunk at most waits for it. (A batch
/// that is one chunk is judged on this thread once it is probed.) Chunks
/// are for a batch without the organization's own context (no snapshot,
/// Edge, certificate file or partner), where every cross-domain rule
/// compares domains within one organization only.
pub fn gather(
    rules: &RuleSet,
    scope: &Scope,
    request: ScanRequest,
    now: OffsetDateTime,
    in_chunks: Option<usize>,
    mut on_chunk: impl FnMut(Facts) + Send,
) -> Result<Facts, ScanError> {
    // A batch that is one chunk is judged on this thread once it is probed:
    // there is nothing to overlap, and a thread to hand it to is a thread's
    // start and a wake-up on the way to the report.
    let alone = in_chunks.is_some_and(|chunk_domains| request.is_one_chunk(chunk_domains));
    let (runtime, mut facts, zones, targets) = local(&request, now)?;
    let Some(settings) = request.network else {
        if in_chunks.is_some() {
            return Err(ScanError::ChunksOffline);
        }
        facts.offline = true;
        if !request.zones.is_empty() {
            // Offline, planned zones are the DNS: asked as a live scan
            // would ask them, nothing beyond them.
            let plan = ScanPlan::new(rules, scope, targets, &request.inputs.partners);
            let internal = zones.internal.is_some();
            let planned = Arc::new(zones.in_front_of(None::<LiveNetwork>, false));
            facts.dns = runtime.block_on(gather::dns(
                &plan,
                &planned,
                internal,
                &gather::Limits::concurrency(64),
                // Answered from memory: nothing to stop.
                &gather::Stop::never(),
                &Default::default(),
            ));
            facts.targets = plan.targets;
            return Ok(facts);
        }
        facts.targets = targets;
        return Ok(facts);
    };
    let plan = ScanPlan::new(rules, scope, targets, &request.inputs.partners);
    facts.targets = plan.targets.clone();
    // A batch's chunks are judged even when no rule asks the network
    // anything: its domains are read into organizations all the same.
    if plan.is_empty() && in_chunks.is_none() {
        return Ok(facts);
    }
    let network = live_network(&settings, &plan)?;
    let beyond_internal = network.has_internal();
    let internal = beyond_internal || zones.internal.is_some();
    let net = Arc::new(zones.in_front_of(Some(network), beyond_internal));
    // Judged only once the probing ends, one chunk waits whole: its
    // channel holds whatever comes.
    let held = if alone { tokio::sync::Semaphore::MAX_PERMITS } else { 1 };
    let (ready, mut judged) = tokio::sync::mpsc::channel::<Facts>(held);
    let probe = || {
        runtime.block_on(async {
            let stop = gather::Stop::on_ctrl_c();
            let chunks = in_chunks.map(|domains| gather::Chunks {
                domains,
                rules,
                scope,
                partners: &request.inputs.partners,
                ready,
            });
            gather::network(&plan, &mut facts, net, internal, &settings.limits, &stop, &settings.progress, chunks).await
        });
        // Every task has ended (a stop leaves none running either): the
        // worker threads need not be waited for, and they stop while the
        // last chunk is judged rather than after.
        runtime.shutdown_background();
    };
    if alone {
        probe();
        while let Ok(part) = judged.try_recv() {
            on_chunk(part);
        }
        return Ok(facts);
    }
    std::thread::scope(|threads| {
        let judge = threads.spawn(move || {
            while let Some(part) = judged.blocking_recv() {
                on_chunk(part);
            }
        });
        probe();
        if let Err(panic) = judge.join() {
            std::panic::resume_unwind(panic);
        }
    });
    Ok(facts)
}

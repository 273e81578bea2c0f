//! The scan, owned here: [`plan`] works out what to ask from the rules that
//! run, [`gather`] asks it (the only I/O), [`evaluate`] judges the facts.

pub mod evaluate;
pub mod gather;
pub mod plan;
pub mod progress;
pub mod scan;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::facts::certs::TrustStore;
use crate::facts::dns::ResolverSettings;
use crate::facts::{Facts, Inputs, Targets};
use crate::rules::{RuleSet, Scope};
use gather::LiveNetwork;
use plan::{Aim, ScanPlan};

/// What to scan, checked: the arguments of `fedscan scan` made into values.
pub struct ScanRequest {
    /// What the user asked, as the facts record it.
    pub inputs: Inputs,
    pub aim: Aim,
    /// `--config` files and directories.
    pub config: Vec<PathBuf>,
    pub cert_files: Vec<PathBuf>,
    pub trust: Vec<TrustStore>,
    /// How to reach the network; `None` for an offline audit.
    pub network: Option<NetworkSettings>,
}

pub struct NetworkSettings {
    pub external: ResolverSettings,
    pub internal: Option<ResolverSettings>,
    /// Each network step's timeout.
    pub timeout: Duration,
    /// Questions and endpoints in flight at once, DNS rate, cap per address.
    pub limits: gather::Limits,
    /// The client certificate of `--client-cert`, for the SIP probe.
    pub identity: Option<Arc<rustls::sign::CertifiedKey>>,
    /// OPTIONS on a connection of its own (`--sip-own-connection`).
    pub own_sip_connection: bool,
    /// Counted as the scan goes, for a progress display.
    pub progress: Arc<progress::Progress>,
}

/// What every scan starts with: a runtime, the local facts (snapshots,
/// certificate files, trust stores) and the targets they and the command
/// line give.
fn local(request: &ScanRequest, now: OffsetDateTime) -> Result<(tokio::runtime::Runtime, Facts, Targets), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let mut facts = runtime.block_on(gather::local(request.inputs.clone(), &request.config, &request.cert_files, now));
    facts.trust = request.trust.clone();
    let targets = plan::targets(&facts, &request.aim);
    Ok((runtime, facts, targets))
}

/// The network as the plan probes it.
fn live_network(settings: &NetworkSettings, plan: &ScanPlan) -> Result<LiveNetwork, String> {
    Ok(LiveNetwork::new(&settings.external, settings.internal.as_ref(), settings.timeout, settings.identity.clone())?
        .probing_versions(plan.probes_versions())
        .own_sip_connection(settings.own_sip_connection))
}

/// Gathers the facts of a scan: the local inputs, then, for a live scan,
/// what the running rules need of the network.
pub fn gather(rules: &RuleSet, scope: &Scope, request: ScanRequest, now: OffsetDateTime) -> Result<Facts, String> {
    let (runtime, mut facts, targets) = local(&request, now)?;
    let Some(settings) = request.network else {
        facts.targets = targets;
        return Ok(facts);
    };
    let plan = ScanPlan::new(rules, scope, targets, &request.aim.partners);
    facts.targets = plan.targets.clone();
    if !plan.is_empty() {
        let network = live_network(&settings, &plan)?;
        let internal = network.has_internal();
        runtime.block_on(async {
            let stop = gather::Stop::on_ctrl_c();
            let net = Arc::new(network);
            gather::network(&plan, &mut facts, net, internal, &settings.limits, &stop, &settings.progress).await
        });
    }
    Ok(facts)
}

/// Chunks probed side by side: while the last endpoints of one chunk are
/// still in flight, the next chunk's fill the free places.
const CHUNKS_IN_FLIGHT: usize = 2;

/// A batch gathered in chunks of whole organizations: the DNS of every
/// domain first (the organizations are read from it), then the TLS and SIP
/// of the chunks' endpoints, each chunk's facts handed to `on_chunk` as soon
/// as they are in and then dropped. `on_chunk` runs on a thread of its own,
/// so judging and writing a chunk overlaps probing the next ones; one chunk
/// at most waits for it. For a batch without the organization's own context
/// (no snapshot, Edge, certificate file or partner), where every
/// cross-domain rule compares domains within one organization only.
pub fn gather_in_chunks(
    rules: &RuleSet,
    scope: &Scope,
    request: ScanRequest,
    now: OffsetDateTime,
    chunk_domains: usize,
    mut on_chunk: impl FnMut(Facts) + Send,
) -> Result<Facts, String> {
    use futures_util::StreamExt;

    let (runtime, mut facts, targets) = local(&request, now)?;
    let Some(settings) = request.network else {
        return Err("a chunked scan is a live scan".into());
    };
    let plan = ScanPlan::new(rules, scope, targets, &request.aim.partners);
    facts.targets = plan.targets.clone();
    let network = live_network(&settings, &plan)?;
    let internal = network.has_internal();
    let net = Arc::new(network);
    let progress = &settings.progress;
    let gate = gather::Gate::new(&settings.limits);
    progress::Progress::add(&progress.domains, facts.targets.domains.len());
    let (ready, mut judged) = tokio::sync::mpsc::channel::<Facts>(1);
    let interrupted = std::thread::scope(|threads| {
        let judge = threads.spawn(move || {
            while let Some(part) = judged.blocking_recv() {
                on_chunk(part);
            }
        });
        let interrupted = runtime.block_on(async {
            let stop = gather::Stop::on_ctrl_c();
            facts.dns = gather::dns(&plan, &net, internal, &settings.limits, &stop, progress).await;
            let chunks = chunks_of(&facts, chunk_domains);
            let answers = facts.split_dns(&chunks);
            let (facts, stop) = (&facts, &stop);
            let mut parts = futures_util::stream::iter(chunks.iter().zip(answers))
                .map(|(domains, dns)| async {
                    let mut part = facts.chunk(domains, dns);
                    if !stop.is_requested() {
                        let chunk_plan = ScanPlan::new(rules, scope, part.targets.clone(), &request.aim.partners);
                        let (tls, sip) = gather::endpoints(&chunk_plan, &part, &net, &gate, stop, progress).await;
                        part.tls = tls;
                        part.sip = sip;
                    }
                    part.interrupted = stop.is_requested();
                    part
                })
                .buffered(CHUNKS_IN_FLIGHT);
            while let Some(part) = parts.next().await {
                if ready.send(part).await.is_err() {
                    // The judging thread has ended (it panicked): its
                    // panic is raised below.
                    break;
                }
            }
            stop.is_requested()
        });
        drop(ready);
        if let Err(panic) = judge.join() {
            std::panic::resume_unwind(panic);
        }
        interrupted
    });
    facts.interrupted = interrupted;
    // What is left is the scan's context: inputs, trust stores, input errors.
    Ok(facts)
}

/// The batch's domains in chunks of whole organizations, at least
/// `chunk_domains` domains a chunk (but the last), each sorted.
fn chunks_of(facts: &Facts, chunk_domains: usize) -> Vec<Vec<String>> {
    let groups = crate::facts::organizations::Organizations::new(facts, &crate::facts::dns::DnsIndex::new(&facts.dns))
        .groups()
        .to_vec();
    let mut chunks: Vec<Vec<String>> = Vec::new();
    let mut chunk: Vec<String> = Vec::new();
    for group in groups {
        chunk.extend(group);
        if chunk.len() >= chunk_domains.max(1) {
            chunks.push(std::mem::take(&mut chunk));
        }
    }
    // The rest, or one empty chunk for a scan of no domain: its scan-level
    // findings are still judged once.
    if !chunk.is_empty() || chunks.is_empty() {
        chunks.push(chunk);
    }
    for chunk in &mut chunks {
        chunk.sort();
    }
    chunks
}

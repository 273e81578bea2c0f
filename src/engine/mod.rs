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
use plan::{NamedEdges, ScanPlan};

/// What to scan, checked: the arguments of `fedscan scan` made into values.
pub struct ScanRequest {
    /// What the user asked, as the facts record it.
    pub inputs: Inputs,
    /// `--edge`, checked.
    pub edges: NamedEdges,
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
    let targets = plan::targets(&facts, &request.edges);
    Ok((runtime, facts, targets))
}

/// The network as the plan probes it.
fn live_network(settings: &NetworkSettings, plan: &ScanPlan) -> Result<LiveNetwork, String> {
    Ok(LiveNetwork::new(&settings.external, settings.internal.as_ref(), settings.timeout, settings.identity.clone())?
        .probing_versions(plan.probes_versions())
        .own_sip_connection(settings.own_sip_connection))
}

/// Gathers the facts of a scan: the local inputs, then, for a live scan,
/// what the running rules need of the network — of the whole scan, or, for
/// a batch `in_chunks` of so many domains, chunk by chunk, each chunk's
/// facts handed to `on_chunk` as soon as they are in and then dropped.
/// `on_chunk` runs on a thread of its own, so judging and writing a chunk
/// overlaps probing the next ones; one chunk at most waits for it. Chunks
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
) -> Result<Facts, String> {
    let (runtime, mut facts, targets) = local(&request, now)?;
    let Some(settings) = request.network else {
        if in_chunks.is_some() {
            return Err("a chunked scan is a live scan".into());
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
    let internal = network.has_internal();
    let net = Arc::new(network);
    let (ready, mut judged) = tokio::sync::mpsc::channel::<Facts>(1);
    std::thread::scope(|threads| {
        let judge = threads.spawn(move || {
            while let Some(part) = judged.blocking_recv() {
                on_chunk(part);
            }
        });
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
        if let Err(panic) = judge.join() {
            std::panic::resume_unwind(panic);
        }
    });
    Ok(facts)
}

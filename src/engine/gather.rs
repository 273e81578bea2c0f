//! Gathering: the one place with I/O. It reads the snapshots and
//! certificate files, then carries out the plan on the network: the DNS
//! questions in two rounds (the records, then where their targets lead),
//! then a TLS handshake with each endpoint and, where TLS was spoken, a SIP
//! OPTIONS exchange; all of it concurrently, at most `concurrency` at a time.
//! A probe that panics or is cancelled leaves a fact that says so, naming
//! the probe and its target, so its rules end as `error`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio::task::{JoinError, JoinSet};

use super::progress::{InFlight, Progress};

use super::plan::{Question, ScanPlan};
use crate::facts::certs::read_cert_file;
use crate::facts::dns::{DnsFact, DnsOutcome, DnsView, ResolverSettings};
use crate::facts::endpoints::FederationEndpoint;
use crate::facts::organizations::Organizations;
use crate::facts::sip::{SipFact, SipOutcome};
use crate::facts::snapshot::{MAX_SNAPSHOT_BYTES, parse_snapshot_bytes, read_snapshot};
use crate::probe::dns::DnsProbe;

/// How a snapshot read from standard input (`--config -`) is named.
const STDIN_NAME: &str = "<stdin>";
use crate::facts::tls::{Endpoint, TlsFact, TlsOutcome};
use crate::facts::{Facts, InputError, Inputs};
use crate::probe::tls::{Budget, VersionQuestions};
use crate::rules::{RuleSet, Scope};

/// The DNS as a scan asks it: one question at a time. [`LiveNetwork`] asks
/// the real resolvers; the rule cases answer from a zone written in the case.
pub trait Resolve: Send + Sync + 'static {
    fn query(&self, question: &Question) -> impl Future<Output = DnsFact> + Send;

    /// The resolver a view's questions go to, as the facts name it.
    fn resolver(&self, view: DnsView) -> String;

    /// The answer when it is known without asking anyone (a planned
    /// zone's): given at once rather than as a task, since a batch of a
    /// planned zone asks a hundred thousand questions that cost microseconds.
    fn known(&self, _question: &Question) -> Option<DnsFact> {
        None
    }
}

/// The endpoints as a scan probes them: one TLS probe, one SIP exchange,
/// both within the endpoint's budget.
pub trait Probe: Send + Sync + 'static {
    /// The budget of an endpoint whose probes start now.
    fn budget(&self) -> Budget;

    fn tls(&self, endpoint: &Endpoint, budget: Budget) -> impl Future<Output = TlsFact> + Send;

    /// OPTIONS for `domain`, from `sender` (the organization's own SIP
    /// domain, when probing a partner).
    fn sip(
        &self,
        endpoint: &Endpoint,
        domain: &str,
        sender: Option<&str>,
        budget: Budget,
    ) -> impl Future<Output = SipFact> + Send;

    /// The TLS probe, then OPTIONS where TLS was spoken. By default on a
    /// connection of its own; [`LiveNetwork`] uses the TLS probe's.
    fn tls_with_sip(
        &self,
        endpoint: &Endpoint,
        domain: &str,
        sender: Option<&str>,
        budget: Budget,
    ) -> impl Future<Output = (TlsFact, Option<SipFact>)> + Send {
        async move {
            let fact = self.tls(endpoint, budget).await;
            let exchange =
                if spoke_tls(&fact.outcome) { Some(self.sip(endpoint, domain, sender, budget).await) } else { None };
            (fact, exchange)
        }
    }
}

/// Whether the server answered in TLS (a handshake, or its refusal): then
/// OPTIONS is worth sending.
fn spoke_tls(outcome: &TlsOutcome) -> bool {
    matches!(
        outcome,
        TlsOutcome::Established { .. } | TlsOutcome::Rejected { .. } | TlsOutcome::ClientCertificateRequired { .. }
    )
}

/// The network itself: the resolvers given (or the system's), and the TLS
/// and SIP probes with the user's timeout and client certificate.
pub struct LiveNetwork {
    external: DnsProbe,
    internal: Option<DnsProbe>,
    timeout: Duration,
    identity: Option<Arc<rustls::sign::CertifiedKey>>,
    /// The protocol versions to ask each endpoint about (those a selected
    /// rule reads).
    versions: VersionQuestions,
    /// Send OPTIONS on a connection of its own even without a client
    /// certificate (`--sip-own-connection`, to compare with the reuse).
    own_sip_connection: bool,
}

impl LiveNetwork {
    /// Asks each endpoint about these protocol versions (by default all).
    pub fn probing_versions(mut self, versions: VersionQuestions) -> LiveNetwork {
        self.versions = versions;
        self
    }

    /// OPTIONS on a connection of its own (else on the TLS probe's, when no
    /// client certificate is to be offered).
    pub fn own_sip_connection(mut self, own: bool) -> LiveNetwork {
        self.own_sip_connection = own;
        self
    }

    pub fn new(
        external: &ResolverSettings,
        internal: Option<&ResolverSettings>,
        timeout: Duration,
        identity: Option<Arc<rustls::sign::CertifiedKey>>,
    ) -> Result<LiveNetwork, String> {
        Ok(LiveNetwork {
            external: DnsProbe::new(DnsView::External, external)?,
            internal: internal.map(|s| DnsProbe::new(DnsView::Internal, s)).transpose()?,
            timeout,
            identity,
            versions: VersionQuestions::ALL,
            own_sip_connection: false,
        })
    }

    /// Whether an internal resolver was given.
    pub fn has_internal(&self) -> bool {
        self.internal.is_some()
    }

    fn dns_probe(&self, view: DnsView) -> &DnsProbe {
        match (view, &self.internal) {
            (DnsView::Internal, Some(internal)) => internal,
            _ => &self.external,
        }
    }
}

impl Resolve for LiveNetwork {
    async fn query(&self, (view, name, kind): &Question) -> DnsFact {
        self.dns_probe(*view).query(name, *kind).await
    }

    fn resolver(&self, view: DnsView) -> String {
        self.dns_probe(view).label().to_string()
    }
}

/// Planned zones in front of the network: a question a loaded zone of its
/// view answers for is answered from it; any other goes to the network's
/// resolver for that view, or, offline or without one, is an answer not
/// had — judged `error`, never taken for an absence.
pub struct Planned<N> {
    pub external: crate::probe::zone::PlannedDns,
    /// `--internal-zone`: the internal view's planned zones.
    pub internal: Option<crate::probe::zone::PlannedDns>,
    pub beyond: Option<N>,
    /// Whether the network has a resolver of the internal view.
    pub beyond_internal: bool,
}

impl<N> Planned<N> {
    /// The answer the planned zones give, or that the scan cannot have one
    /// (offline, or no resolver of the view); else the network to ask.
    fn settled(&self, (view, name, kind): &Question) -> Result<DnsFact, &N> {
        let zones = match view {
            DnsView::External => Some(&self.external),
            DnsView::Internal => self.internal.as_ref(),
        };
        if let Some(fact) = zones.and_then(|zones| zones.answer(*view, name, *kind)) {
            return Ok(fact);
        }
        let unknown = |message: &str| DnsFact {
            view: *view,
            name: name.clone(),
            rtype: *kind,
            resolver: "planned zones".into(),
            source: None,
            outcome: DnsOutcome::Failed { message: message.into() },
        };
        match (&self.beyond, view) {
            (None, _) => Ok(unknown("outside the planned zones, and this scan is offline: not known")),
            (Some(_), DnsView::Internal) if !self.beyond_internal => {
                Ok(unknown("outside the planned internal zones, and no internal resolver was given: not known"))
            }
            (Some(net), _) => Err(net),
        }
    }
}

impl<N: Resolve> Resolve for Planned<N> {
    fn known(&self, question: &Question) -> Option<DnsFact> {
        self.settled(question).ok()
    }

    async fn query(&self, question: &Question) -> DnsFact {
        match self.settled(question) {
            Ok(fact) => fact,
            Err(net) => net.query(question).await,
        }
    }

    fn resolver(&self, view: DnsView) -> String {
        match &self.beyond {
            Some(net) => net.resolver(view),
            None => "planned zones".into(),
        }
    }
}

impl<N: Probe> Probe for Planned<N> {
    fn budget(&self) -> Budget {
        match &self.beyond {
            Some(net) => net.budget(),
            None => Budget::for_endpoint(Duration::ZERO),
        }
    }

    async fn tls(&self, endpoint: &Endpoint, budget: Budget) -> TlsFact {
        match &self.beyond {
            Some(net) => net.tls(endpoint, budget).await,
            None => TlsFact::unobserved(endpoint.clone(), None, "an offline scan probes no endpoint".into()),
        }
    }

    async fn sip(&self, endpoint: &Endpoint, domain: &str, sender: Option<&str>, budget: Budget) -> SipFact {
        match &self.beyond {
            Some(net) => net.sip(endpoint, domain, sender, budget).await,
            None => SipFact {
                endpoint: endpoint.clone(),
                domain: domain.to_string(),
                sender: sender.map(str::to_string),
                client_certificate: false,
                outcome: SipOutcome::Unobserved { reason: "an offline scan probes no endpoint".into() },
            },
        }
    }

    async fn tls_with_sip(
        &self,
        endpoint: &Endpoint,
        domain: &str,
        sender: Option<&str>,
        budget: Budget,
    ) -> (TlsFact, Option<SipFact>) {
        match &self.beyond {
            Some(net) => net.tls_with_sip(endpoint, domain, sender, budget).await,
            None => (self.tls(endpoint, budget).await, None),
        }
    }
}

impl Probe for LiveNetwork {
    fn budget(&self) -> Budget {
        Budget::for_endpoint(self.timeout)
    }

    async fn tls(&self, endpoint: &Endpoint, budget: Budget) -> TlsFact {
        let started = std::time::Instant::now();
        let fact = crate::probe::tls::probe(endpoint.clone(), budget, self.versions).await;
        crate::probe::tls::took(|w| &w.tls_micros, started.elapsed());
        fact
    }

    async fn sip(&self, endpoint: &Endpoint, domain: &str, sender: Option<&str>, budget: Budget) -> SipFact {
        crate::probe::sip::probe(endpoint, domain, sender, self.identity.clone(), budget).await
    }

    /// OPTIONS on the TLS probe's own connection, alongside its version
    /// probes: one connection and one handshake fewer, and no wait for the
    /// version probes. A client certificate to offer changes the handshake
    /// itself, so then OPTIONS has a connection of its own.
    async fn tls_with_sip(
        &self,
        endpoint: &Endpoint,
        domain: &str,
        sender: Option<&str>,
        budget: Budget,
    ) -> (TlsFact, Option<SipFact>) {
        use crate::probe::tls::took;
        if self.identity.is_some() || self.own_sip_connection {
            let fact = self.tls(endpoint, budget).await;
            let exchange = if spoke_tls(&fact.outcome) {
                let started = std::time::Instant::now();
                let exchange = self.sip(endpoint, domain, sender, budget).await;
                took(|w| &w.sip_micros, started.elapsed());
                Some(exchange)
            } else {
                None
            };
            return (fact, exchange);
        }
        let started = std::time::Instant::now();
        let (fact, exchanged) = crate::probe::tls::probe_then(
            endpoint.clone(),
            budget,
            self.versions,
            |established, client_auth| async move {
                took(|w| &w.tls_micros, started.elapsed());
                let mut stream = established?;
                let local = stream.get_ref().0.local_addr().map_or_else(|_| "0.0.0.0:0".to_string(), |a| a.to_string());
                let asked = move || client_auth.is_some();
                let exchanging = std::time::Instant::now();
                let exchange =
                    crate::probe::sip::exchange(&mut stream, &local, domain, sender, &asked, false, budget).await;
                took(|w| &w.sip_micros, exchanging.elapsed());
                Some(exchange)
            },
        )
        .await;
        // No connection to reuse: what the handshake's refusal says is what
        // OPTIONS on a new connection would have met.
        let outcome = exchanged.or_else(|| match &fact.outcome {
            TlsOutcome::ClientCertificateRequired { alert } => {
                Some(SipOutcome::ClientCertificateRequired { alert: alert.clone() })
            }
            TlsOutcome::Rejected { reason } => Some(SipOutcome::NoConnection { reason: reason.clone() }),
            _ => None,
        });
        let exchange = outcome.map(|outcome| SipFact {
            endpoint: endpoint.clone(),
            domain: domain.to_string(),
            sender: sender.map(str::to_string),
            client_certificate: false,
            outcome,
        });
        (fact, exchange)
    }
}

/// File extensions read from a directory given to `--config`.
const SNAPSHOT_EXTENSIONS: [&str; 5] = ["txt", "json", "log", "out", "fl"];

/// Expands `--config` arguments: files as given, directories for the
/// snapshot files inside them (recursively, in name order).
pub fn expand_config_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<InputError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut visited = HashSet::new();
    for path in paths {
        if crate::files::is_stdin(path) {
            // Standard input is read by `local`, not walked.
            continue;
        }
        if path.is_dir() {
            let before = files.len();
            walk(path, &mut files, &mut errors, &mut visited);
            if files.len() == before {
                errors.push(InputError::file(
                    path,
                    format!("no snapshot files (*.{}) in this directory", SNAPSHOT_EXTENSIONS.join(", *.")),
                ));
            }
        } else if path.exists() {
            files.push(path.clone());
        } else {
            errors.push(InputError::file(path, "no such file or directory"));
        }
    }
    let mut seen = HashSet::new();
    files.retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    (files, errors)
}

/// Collects the snapshot files below `dir`, each directory once: a link
/// back to a directory already walked (a loop) is passed over.
fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<InputError>, visited: &mut HashSet<PathBuf>) {
    let Ok(canonical) = std::fs::canonicalize(dir) else {
        errors.push(InputError::file(dir, "cannot read directory: it cannot be resolved"));
        return;
    };
    if !visited.insert(canonical) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(InputError::file(dir, format!("cannot read directory: {e}")));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, files, errors, visited);
        } else if path.extension().is_some_and(|x| SNAPSHOT_EXTENSIONS.iter().any(|e| x.eq_ignore_ascii_case(e))) {
            files.push(path);
        }
    }
}

/// Reads the local inputs: every snapshot under `config`, in parallel, and
/// every certificate file. A file that cannot be read becomes an input error
/// and the others are still read.
pub async fn local(inputs: Inputs, config: &[PathBuf], cert_files: &[PathBuf], now: OffsetDateTime) -> Facts {
    let (files, mut errors) = expand_config_paths(config);
    let mut facts = Facts::new(inputs, now);
    let mut tasks = JoinSet::new();
    let mut names = HashMap::new();
    for (index, path) in files.into_iter().enumerate() {
        let display = path.display().to_string();
        let handle = tasks.spawn_blocking(move || (index, read_snapshot(&path, &path.display().to_string())));
        names.insert(handle.id(), display);
    }
    if config.iter().any(|p| crate::files::is_stdin(p)) {
        let read = crate::files::read_stdin_bounded(MAX_SNAPSHOT_BYTES)
            .map_err(|message| InputError { path: STDIN_NAME.into(), line: None, column: None, message })
            .and_then(|bytes| parse_snapshot_bytes(&bytes, STDIN_NAME));
        match read {
            Ok(snapshot) => facts.snapshots.push(snapshot),
            Err(error) => errors.push(error),
        }
    }
    let mut results = BTreeMap::new();
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((_, (index, result))) => {
                results.insert(index, result);
            }
            Err(error) => errors.push(InputError {
                path: names.get(&error.id()).cloned().unwrap_or_default(),
                line: None,
                column: None,
                message: format!("the snapshot reader {}", crashed(error)),
            }),
        }
    }
    for result in results.into_values() {
        match result {
            Ok(snapshot) => facts.snapshots.push(snapshot),
            Err(error) => errors.push(error),
        }
    }
    for path in cert_files {
        match read_cert_file(path) {
            Ok(file) => facts.cert_files.push(file),
            Err(error) => errors.push(error),
        }
    }
    facts.input_errors = errors;
    facts
}

/// "crashed: <what the panic said>", or "was cancelled".
fn crashed(error: JoinError) -> String {
    if error.is_cancelled() {
        return "was cancelled".into();
    }
    crashed_with(&*error.into_panic())
}

/// "crashed: <what the panic said>".
fn crashed_with(payload: &(dyn std::any::Any + Send)) -> String {
    let said = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    format!("crashed: {said}")
}

/// A request to stop the scan (Ctrl-C). The probe loops watch it: the
/// probes still running are cancelled, and each leaves a fact that says so.
#[derive(Clone)]
pub struct Stop(Option<watch::Receiver<bool>>);

impl Stop {
    /// A scan nothing stops.
    pub fn never() -> Stop {
        Stop(None)
    }

    /// Stopped by Ctrl-C (SIGINT); in a runtime.
    pub fn on_ctrl_c() -> Stop {
        let (sender, receiver) = watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = sender.send(true);
            }
        });
        Stop(Some(receiver))
    }

    pub fn is_requested(&self) -> bool {
        self.0.as_ref().is_some_and(|r| *r.borrow())
    }

    /// Returns when a stop is requested (never, for [`Stop::never`]).
    async fn requested(&mut self) {
        if let Some(receiver) = &mut self.0
            && receiver.wait_for(|stop| *stop).await.is_ok()
        {
            return;
        }
        std::future::pending::<()>().await
    }
}

/// How much the scan may ask at once, and how fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Questions, and endpoints, in flight at once (`--concurrency`).
    pub concurrency: usize,
    /// DNS questions per second, over the whole scan (`--qps`).
    pub qps: Option<u32>,
    /// Probes in flight at once to one address (`--max-per-address`).
    pub per_address: Option<usize>,
}

impl Limits {
    /// Only a concurrency: no rate, no cap per address.
    pub fn concurrency(concurrency: usize) -> Limits {
        Limits { concurrency, qps: None, per_address: None }
    }

    /// The largest concurrency whose sockets fit within `open_files`
    /// descriptors: an endpoint in flight holds up to
    /// [`FILES_PER_PROBE`] sockets at once, and [`FILES_KEPT`] are the
    /// process's own. Run out of descriptors, the scan would fail its own
    /// connections and learn nothing of the peers.
    pub fn fitting(open_files: u64) -> usize {
        (open_files.saturating_sub(FILES_KEPT) / FILES_PER_PROBE).max(1) as usize
    }
}

/// The sockets one endpoint in flight may hold at once: its handshake's
/// connection (kept for OPTIONS) and the first flights of the TLS 1.0, 1.1,
/// 1.2 and 1.3 probes beside it.
pub const FILES_PER_PROBE: u64 = 5;

/// Descriptors left for the process itself: standard streams, the runtime,
/// the files it reads and writes.
pub const FILES_KEPT: u64 = 32;

/// Raises the soft limit on open files to the hard limit (a batch needs a
/// socket per question and probe in flight; the soft limit is often 1,024
/// while the hard one is far higher); the soft limit now in force, if known.
pub fn raise_open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    // rlim_t is narrower than u64 on some targets.
    #[allow(clippy::unnecessary_cast)]
    Some(limit.rlim_cur as u64)
}

/// Spaces DNS questions evenly at a rate: each takes the next free slot, so
/// a shared resolver sees at most `qps` questions a second from the scan.
struct Pacer {
    interval: Option<Duration>,
    next: std::sync::Mutex<tokio::time::Instant>,
}

impl Pacer {
    fn new(qps: Option<u32>) -> Pacer {
        Pacer {
            interval: qps.filter(|q| *q > 0).map(|q| Duration::from_secs_f64(1.0 / f64::from(q))),
            next: std::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    async fn wait(&self) {
        let Some(interval) = self.interval else { return };
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let slot = (*next).max(tokio::time::Instant::now());
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// Counts an endpoint done when its probe ends, however it ends (a panic
/// or a cancel included), and its domain when that was its last.
struct EndpointDone<'a> {
    progress: &'a Progress,
    remaining: &'a std::sync::Mutex<HashMap<String, usize>>,
    domain: String,
}

impl Drop for EndpointDone<'_> {
    fn drop(&mut self) {
        Progress::add(&self.progress.endpoints_done, 1);
        let mut remaining = self.remaining.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(left) = remaining.get_mut(&self.domain) {
            *left -= 1;
            if *left == 0 {
                Progress::add(&self.progress.domains_done, 1);
            }
        }
    }
}

/// Joins every task; when a stop is requested, cancels those not done, which
/// are then joined as cancelled.
async fn join_all<T: 'static>(mut tasks: JoinSet<T>, stop: &Stop) -> Vec<Result<T, JoinError>> {
    let mut stop = stop.clone();
    let mut stopping = false;
    let mut joined = Vec::new();
    loop {
        tokio::select! {
            _ = stop.requested(), if !stopping => {
                tasks.abort_all();
                stopping = true;
            }
            next = tasks.join_next() => match next {
                Some(result) => joined.push(result),
                None => return joined,
            },
        }
    }
}

/// A batch taken in chunks of whole organizations: at least `domains`
/// domains a chunk, each chunk's facts sent to `ready` once its endpoints
/// are probed, then dropped here.
pub struct Chunks<'a> {
    pub domains: usize,
    /// What a chunk's own plan is made of.
    pub rules: &'a RuleSet,
    pub scope: &'a Scope,
    pub partners: &'a [String],
    pub ready: mpsc::Sender<Facts>,
}

/// Chunks probed side by side: while the last endpoints of one chunk are
/// still in flight, the next chunk's fill the free places (they queue for
/// the gate once every endpoint of the chunk before is let through, so
/// the chunks end one after the other and are judged while the later ones
/// are probed, not side by side at the end). No more: a chunk probed is
/// held until it is judged, and what judging has yet to take when the
/// last probe ends is judged then, on one core (four in flight were no
/// faster, 20,000 domains in one round beside two).
const CHUNKS_IN_FLIGHT: usize = 2;

/// Carries out the plan's network part, the one sequence of every live
/// scan: the DNS of every domain, then TLS and SIP — of the whole scan, or
/// chunk by chunk (the organizations read from the DNS answers); what a
/// stop leaves undone is not started, and the facts say they are
/// incomplete.
#[allow(clippy::too_many_arguments)]
pub async fn network<N: Resolve + Probe>(
    plan: &ScanPlan,
    facts: &mut Facts,
    net: Arc<N>,
    internal: bool,
    limits: &Limits,
    stop: &Stop,
    progress: &Arc<Progress>,
    chunks: Option<Chunks<'_>>,
) {
    let domains = plan.targets.domains.len() + plan.targets.partners.len();
    Progress::add(&progress.domains, domains);
    let asking = std::time::Instant::now();
    facts.dns = dns(plan, &net, internal, limits, stop, progress).await;
    progress
        .dns_micros
        .store(u64::try_from(asking.elapsed().as_micros()).unwrap_or(u64::MAX), std::sync::atomic::Ordering::Relaxed);
    facts.targets = plan.targets.clone();
    let gate = Arc::new(Gate::new(limits));
    match chunks {
        Some(chunks) => in_chunks(facts, &net, chunks, &gate, stop, progress).await,
        None if !stop.is_requested() => {
            let (tls, sip) = endpoints(plan, facts, &net, &gate, stop, progress, None).await;
            facts.tls = tls;
            facts.sip = sip;
        }
        None => {}
    }
    facts.interrupted = stop.is_requested();
}

/// Probes a batch's endpoints chunk by chunk, `CHUNKS_IN_FLIGHT` at a
/// time, and sends each chunk's facts on as soon as they are in; what is
/// left in `facts` is the scan's context (inputs, trust, the answers no
/// chunk claims).
async fn in_chunks<N: Probe>(
    facts: &mut Facts,
    net: &Arc<N>,
    chunks: Chunks<'_>,
    gate: &Arc<Gate>,
    stop: &Stop,
    progress: &Arc<Progress>,
) {
    use futures_util::StreamExt;

    let organizations = Organizations::new(facts, &crate::facts::dns::DnsIndex::new(&facts.dns));
    let groups = chunks_of(organizations.groups(), chunks.domains);
    let answers = facts.split_dns(&groups);
    let facts = &*facts;
    let chunks = &chunks;
    let groups = &groups;
    // What each chunk waits for before its endpoints queue: the one
    // before let through whole.
    let mut before: Option<oneshot::Receiver<()>> = None;
    let mut parts = futures_util::stream::iter(answers.into_iter().enumerate())
        .map(|(i, dns)| {
            let part = facts.chunk(&groups[i], dns);
            let plan = (!stop.is_requested())
                .then(|| ScanPlan::new(chunks.rules, chunks.scope, part.targets.clone(), chunks.partners));
            let (net, gate, stop, progress) = (Arc::clone(net), Arc::clone(gate), stop.clone(), Arc::clone(progress));
            let (admitted, next) = oneshot::channel();
            let turn = Turn { after: before.replace(next), admitted };
            // A task of the runtime: its probes end on the runtime's
            // workers, which would otherwise wake this thread for each.
            tokio::spawn(probe_chunk(part, plan, net, gate, stop, progress, turn))
        })
        .buffered(CHUNKS_IN_FLIGHT);
    while let Some(probed) = parts.next().await {
        let part = match probed {
            Ok(part) => part,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // Cancelled: only by the runtime's end, which is not before this.
            Err(_) => break,
        };
        if chunks.ready.send(part).await.is_err() {
            // The judging thread has ended (it panicked): its caller
            // raises that panic.
            break;
        }
    }
}

/// A chunk's turn at the gate: after the chunk before it (whose endpoints
/// were all let through, or which ended, when `after` is answered or
/// dropped), and `admitted` told once its own endpoints are let through.
struct Turn {
    after: Option<oneshot::Receiver<()>>,
    admitted: oneshot::Sender<()>,
}

/// Probes a chunk's endpoints, as `plan` says (none when the scan was
/// stopped before it), into its facts.
async fn probe_chunk<N: Probe>(
    mut part: Facts,
    plan: Option<ScanPlan>,
    net: Arc<N>,
    gate: Arc<Gate>,
    stop: Stop,
    progress: Arc<Progress>,
    turn: Turn,
) -> Facts {
    if let Some(after) = turn.after {
        // An error is the chunk before ended without saying so: its turn is over all the same.
        let _ = after.await;
    }
    if let Some(plan) = plan
        && !stop.is_requested()
    {
        let (tls, sip) = endpoints(&plan, &part, &net, &gate, &stop, &progress, Some(turn.admitted)).await;
        part.tls = tls;
        part.sip = sip;
    }
    part.interrupted = stop.is_requested();
    part
}

/// The batch's domains in chunks of whole organizations, each sorted:
/// `chunk_domains` domains a chunk (or more, to keep an organization
/// whole), but for the batch's last `2 × chunk_domains` domains, taken in
/// chunks of half what is left, down to an eighth of `chunk_domains`.
/// What is judged after the last endpoint is probed is the last chunks,
/// which end together: small, they leave little to do then.
pub(super) fn chunks_of(groups: &[Vec<String>], chunk_domains: usize) -> Vec<Vec<String>> {
    let most = chunk_domains.max(1);
    let least = least_chunk(chunk_domains);
    let mut left: usize = groups.iter().map(Vec::len).sum();
    let mut chunks: Vec<Vec<String>> = Vec::new();
    let mut chunk: Vec<String> = Vec::new();
    let mut size = (left / 2).clamp(least, most);
    for group in groups {
        chunk.extend(group.iter().cloned());
        if chunk.len() >= size && left - chunk.len() >= least {
            left -= chunk.len();
            chunks.push(std::mem::take(&mut chunk));
            size = (left / 2).clamp(least, most);
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

/// The fewest domains [`chunks_of`] puts in a chunk, but in the last.
fn least_chunk(chunk_domains: usize) -> usize {
    (chunk_domains.max(1) / 8).max(1)
}

/// Whether a batch of `domains` domains is one chunk however its
/// organizations fall: [`chunks_of`] cuts a chunk only when at least
/// [`least_chunk`] domains are left after it.
pub fn is_one_chunk(domains: usize, chunk_domains: usize) -> bool {
    domains <= least_chunk(chunk_domains)
}

/// Asks the plan's questions: the first round, then the targets the answers
/// lead to; each question once.
pub async fn dns<N: Resolve>(
    plan: &ScanPlan,
    net: &Arc<N>,
    internal: bool,
    limits: &Limits,
    stop: &Stop,
    progress: &Arc<Progress>,
) -> Vec<DnsFact> {
    let pacer = Arc::new(Pacer::new(limits.qps));
    let mut facts = ask(plan.first_questions(internal), net, limits.concurrency, &pacer, stop, progress).await;
    if !stop.is_requested() {
        let follow_up = plan.follow_up_questions(&facts);
        let answers = ask(follow_up, net, limits.concurrency, &pacer, stop, progress).await;
        facts.reserve_exact(answers.len());
        facts.extend(answers);
    }
    // Each question is asked once, so no two answers are equal in this
    // order: an unstable sort gives the one order, without the stable
    // sort's copy of half a batch's answers.
    facts.sort_unstable_by(|a, b| (a.view, &a.name, a.rtype).cmp(&(b.view, &b.name, b.rtype)));
    facts
}

/// Asks `questions`, `concurrency` at a time: that many askers, tasks of
/// the runtime, each taking the next question when it has its answer. (A
/// task a question, started from here when a place was free, woke this
/// thread for every answer: 200 domains' DNS alone took 1,650 context
/// switches instead of 730, 76 ms of CPU instead of 67 and 53 ms instead of
/// 49.) Each question leaves a fact: its answer, or why it has none (a
/// probe that crashed, a stop).
async fn ask<N: Resolve>(
    questions: Vec<Question>,
    net: &Arc<N>,
    concurrency: usize,
    pacer: &Arc<Pacer>,
    stop: &Stop,
    progress: &Arc<Progress>,
) -> Vec<DnsFact> {
    use futures_util::FutureExt;
    use std::sync::{Mutex, PoisonError};

    Progress::add(&progress.questions, questions.len());
    let (known, questions) = known_answers(questions, &**net);
    Progress::add(&progress.responses, known.len());
    Progress::add(&progress.questions_done, known.len());
    let resolver = |view| net.resolver(view);
    let failed = move |(view, name, rtype): Question, why: String| DnsFact {
        view,
        resolver: resolver(view).into(),
        name,
        rtype,
        source: None,
        outcome: DnsOutcome::Failed { message: why },
    };
    let asking = questions.len();
    // An answer per question: the list never grows twice over.
    let facts = Arc::new(Mutex::new(known));
    facts.lock().unwrap_or_else(PoisonError::into_inner).reserve_exact(asking);
    let waiting = Arc::new(Mutex::new(questions.into_iter()));
    let mut askers = JoinSet::new();
    let mut asked = HashMap::new();
    for _ in 0..concurrency.max(1).min(asking) {
        // The question an asker is asking, for the fact it leaves if the
        // asker itself ends abnormally.
        let asking_now: Arc<Mutex<Option<Question>>> = Arc::default();
        let (net, pacer, progress) = (Arc::clone(net), Arc::clone(pacer), Arc::clone(progress));
        let (waiting, facts, now) = (Arc::clone(&waiting), Arc::clone(&facts), Arc::clone(&asking_now));
        let mut stopping = stop.clone();
        let handle = askers.spawn(async move {
            // What this asker could not answer: a probe that crashed, the
            // question a stop cut short.
            let mut undone = Vec::new();
            while !stopping.is_requested() {
                let Some(question) = waiting.lock().unwrap_or_else(PoisonError::into_inner).next() else { break };
                *now.lock().unwrap_or_else(PoisonError::into_inner) = Some(question.clone());
                let answer = async {
                    pacer.wait().await;
                    let _in_flight = InFlight::start(&progress.questions_in_flight);
                    net.query(&question).await
                };
                let fact = tokio::select! {
                    answered = std::panic::AssertUnwindSafe(answer).catch_unwind() => match answered {
                        Ok(fact) => {
                            if !fact.outcome.is_unobserved() {
                                Progress::add(&progress.responses, 1);
                            }
                            Progress::add(&progress.questions_done, 1);
                            Some(fact)
                        }
                        Err(panic) => {
                            undone.push((question, crashed_with(&*panic)));
                            None
                        }
                    },
                    () = stopping.requested() => {
                        undone.push((question, "was cancelled".to_string()));
                        None
                    }
                };
                let mut facts = facts.lock().unwrap_or_else(PoisonError::into_inner);
                *now.lock().unwrap_or_else(PoisonError::into_inner) = None;
                facts.extend(fact);
            }
            undone
        });
        asked.insert(handle.id(), asking_now);
    }
    let mut undone = Vec::new();
    while let Some(ended) = askers.join_next_with_id().await {
        match ended {
            Ok((_, not_answered)) => undone.extend(not_answered),
            Err(error) => {
                let question =
                    asked.get(&error.id()).and_then(|q| q.lock().unwrap_or_else(PoisonError::into_inner).take());
                if let Some(question) = question {
                    undone.push((question, crashed(error)));
                }
            }
        }
    }
    // What no asker took: a stop came first (or, were it ever so, every
    // asker ended abnormally).
    let left = std::mem::replace(&mut *waiting.lock().unwrap_or_else(PoisonError::into_inner), Vec::new().into_iter());
    let why = if stop.is_requested() { "was cancelled" } else { "was not asked: every DNS asker crashed" };
    undone.extend(left.map(|question| (question, why.to_string())));
    let mut facts = std::mem::take(&mut *facts.lock().unwrap_or_else(PoisonError::into_inner));
    facts.extend(undone.into_iter().map(|(question, why)| {
        let why = format!("the DNS probe of {} {} {why}", question.1, question.2.name());
        failed(question, why)
    }));
    facts
}

/// The answers known without asking anyone ([`Resolve::known`]), found on
/// every core, and the questions left to ask, in their order.
fn known_answers<N: Resolve>(questions: Vec<Question>, net: &N) -> (Vec<DnsFact>, Vec<Question>) {
    /// Below this, threads cost more than they save.
    const SHARE: usize = 4096;
    let sort = |share: Vec<Question>| {
        let (mut known, mut rest) = (Vec::new(), Vec::new());
        for question in share {
            match net.known(&question) {
                Some(fact) => known.push(fact),
                None => rest.push(question),
            }
        }
        (known, rest)
    };
    let cores = crate::cores().min(8);
    if cores == 1 || questions.len() <= SHARE {
        return sort(questions);
    }
    let per_core = questions.len().div_ceil(cores);
    let mut questions = questions.into_iter();
    let shares: Vec<Vec<Question>> =
        std::iter::from_fn(|| Some(questions.by_ref().take(per_core).collect::<Vec<_>>()).filter(|s| !s.is_empty()))
            .collect();
    std::thread::scope(|threads| {
        let running: Vec<_> = shares.into_iter().map(|share| threads.spawn(move || sort(share))).collect();
        let (mut known, mut rest) = (Vec::new(), Vec::new());
        for thread in running {
            let (k, r) = thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            known.extend(k);
            rest.extend(r);
        }
        (known, rest)
    })
}

/// How many endpoints are probed at once: over the whole scan, and on one
/// address (one Edge hosting many domains). One per scan, shared by every
/// call to [`endpoints`], so that chunks probed side by side keep the limits.
pub struct Gate {
    all: Arc<Semaphore>,
    per_address: usize,
    /// A semaphore per address, made as addresses appear.
    addresses: std::sync::Mutex<HashMap<std::net::IpAddr, Arc<Semaphore>>>,
}

impl Gate {
    pub fn new(limits: &Limits) -> Gate {
        Gate {
            all: Arc::new(Semaphore::new(limits.concurrency.max(1))),
            per_address: limits.per_address.unwrap_or(usize::MAX >> 4).max(1),
            addresses: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn address(&self, address: std::net::IpAddr) -> Arc<Semaphore> {
        let mut addresses = self.addresses.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(addresses.entry(address).or_insert_with(|| Arc::new(Semaphore::new(self.per_address))))
    }
}

/// Probes every endpoint of the plan (TLS, with SIP OPTIONS on the same
/// connection where TLS was spoken), as many at a time as the gate lets;
/// `admitted` is told once every one is let through (or has ended).
/// OPTIONS to a partner come from the organization's first SIP domain.
pub async fn endpoints<N: Probe>(
    plan: &ScanPlan,
    facts: &Facts,
    net: &Arc<N>,
    gate: &Gate,
    stop: &Stop,
    progress: &Arc<Progress>,
    admitted: Option<oneshot::Sender<()>>,
) -> (Vec<TlsFact>, Vec<SipFact>) {
    let own_domain = plan.targets.domains.first().cloned();
    let mut tasks = JoinSet::new();
    let mut probed = HashMap::new();
    let targets = plan.endpoints(facts);
    // A domain is done when its last endpoint is; one without any, now.
    let mut remaining: HashMap<String, usize> = HashMap::new();
    for target in &targets {
        *remaining.entry(target.domain.clone()).or_default() += 1;
    }
    let domains = plan.targets.domains.len() + plan.targets.partners.len();
    Progress::add(&progress.domains_done, domains.saturating_sub(remaining.len()));
    let remaining = Arc::new(std::sync::Mutex::new(remaining));
    Progress::add(&progress.endpoints, targets.len());
    // Told when the last endpoint is let through (none: at once, below).
    let admission = Arc::new(Admission(admitted));
    for target in targets {
        let sip = plan.sends_options(&target);
        let sender = if target.partner.is_some() { own_domain.clone() } else { None };
        let (net, limit, task_target, task_sender) =
            (Arc::clone(net), Arc::clone(&gate.all), target.clone(), sender.clone());
        let (progress, remaining) = (Arc::clone(progress), Arc::clone(&remaining));
        let address_limit = gate.address(target.endpoint.address);
        let work = Arc::clone(&progress.work);
        let admission = Arc::clone(&admission);
        let handle = tasks.spawn(crate::probe::tls::WORK.scope(work, async move {
            let FederationEndpoint { endpoint, domain, partner } = task_target;
            // The gate's semaphores are never closed: acquiring cannot fail.
            let _address_permit = address_limit.acquire_owned().await.expect("the semaphore is never closed");
            let _permit = limit.acquire_owned().await.expect("the semaphore is never closed");
            drop(admission);
            let _in_flight = InFlight::start(&progress.handshakes_in_flight);
            let _done = EndpointDone { progress: &progress, remaining: &remaining, domain: domain.clone() };
            let budget = net.budget();
            let (mut fact, exchange) = if sip {
                net.tls_with_sip(&endpoint, &domain, task_sender.as_deref(), budget).await
            } else {
                (net.tls(&endpoint, budget).await, None)
            };
            fact.partner = partner;
            (fact, exchange)
        }));
        probed.insert(handle.id(), (target, sip, sender));
    }
    drop(admission);
    let mut handshakes = Vec::new();
    let mut exchanges = Vec::new();
    for joined in join_all(tasks, stop).await {
        match joined {
            Ok((fact, exchange)) => {
                handshakes.push(fact);
                exchanges.extend(exchange);
            }
            Err(error) => {
                let Some((target, sip, sender)) = probed.remove(&error.id()) else { continue };
                let message = format!("the TLS and SIP probe of {} {}", target.endpoint.label(), crashed(error));
                handshakes.push(TlsFact::unobserved(target.endpoint.clone(), target.partner.clone(), message.clone()));
                if sip {
                    exchanges.push(SipFact {
                        endpoint: target.endpoint,
                        domain: target.domain,
                        sender,
                        client_certificate: false,
                        outcome: SipOutcome::Unobserved { reason: message },
                    });
                }
            }
        }
    }
    handshakes.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    exchanges.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    (handshakes, exchanges)
}

/// Tells the chunk after this one, when dropped, that this one's turn is
/// over: each endpoint's task holds it until the gate lets the endpoint
/// through (or the task ends), so the last to drop it is the last through.
struct Admission(Option<oneshot::Sender<()>>);

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some(admitted) = self.0.take() {
            // Refused only when the chunk after is gone: nobody to tell.
            let _ = admitted.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::dns::{DnsRecord, RecordData, RecordKind};

    fn sizes(groups: &[usize], chunk_domains: usize) -> Vec<usize> {
        let mut n = 0;
        let groups: Vec<Vec<String>> = groups
            .iter()
            .map(|size| {
                (0..*size)
                    .map(|_| {
                        n += 1;
                        format!("d{n}.test")
                    })
                    .collect()
            })
            .collect();
        let chunks = chunks_of(&groups, chunk_domains);
        let mut all: Vec<String> = chunks.iter().flatten().cloned().collect();
        all.sort();
        let mut listed: Vec<String> = groups.into_iter().flatten().collect();
        listed.sort();
        assert_eq!(all, listed, "every domain in one chunk");
        chunks.iter().map(Vec::len).collect()
    }

    #[test]
    fn a_batch_ends_in_smaller_chunks_and_organizations_stay_whole() {
        assert_eq!(sizes(&[1; 200], 64), [64, 64, 36, 18, 9, 9]);
        assert_eq!(sizes(&[1; 1000], 64), [[64; 14].as_slice(), &[52, 26, 13, 13]].concat());
        // Too few to taper.
        assert_eq!(sizes(&[1; 10], 64), [10]);
        assert_eq!(sizes(&[1; 3], 1), [1, 1, 1]);
        // An organization of 100 domains is one chunk, larger than the rest.
        assert_eq!(sizes(&[1, 100, 1, 1], 8), [101, 1, 1]);
        assert_eq!(sizes(&[], 64), [0]);
    }

    /// A batch said to be one chunk is one chunk however its domains fall
    /// into organizations; beyond that, a batch can be more.
    #[test]
    fn a_batch_said_to_be_one_chunk_is_one() {
        for chunk_domains in [1, 2, 7, 8, 9, 16, 64, 100] {
            let mut two_seen = false;
            for domains in 0..=3 * chunk_domains {
                for organization in [1, 2, 3, domains.max(1)] {
                    let mut groups = vec![organization; domains / organization];
                    groups.extend((domains % organization > 0).then_some(domains % organization));
                    let chunks = sizes(&groups, chunk_domains).len();
                    if is_one_chunk(domains, chunk_domains) {
                        assert_eq!(chunks, 1, "{domains} domains, organizations of {organization}, {chunk_domains}");
                    } else {
                        two_seen |= chunks > 1;
                    }
                }
            }
            assert!(two_seen, "{chunk_domains}: no batch over the bound was two chunks");
        }
    }

    /// Gives each `dN.test` a federation SRV record to `sip.dN.test`, at an
    /// address of its own, and no other record; its TLS probe notes the
    /// order the endpoints start in and takes a moment.
    #[derive(Default)]
    struct OneEdgeEach {
        started: std::sync::Mutex<Vec<String>>,
    }

    impl Resolve for OneEdgeEach {
        async fn query(&self, (view, name, rtype): &Question) -> DnsFact {
            let record = |data| DnsRecord { name: name.clone(), ttl: 300, data, source: None };
            let srv = name.strip_prefix("_sipfederationtls._tcp.");
            let number = |host: &str| host.trim_start_matches("sip.d").trim_end_matches(".test").parse::<u8>().ok();
            let outcome = match (rtype, srv) {
                (RecordKind::Srv, Some(domain)) => DnsOutcome::Answer {
                    records: vec![record(RecordData::Srv {
                        priority: 0,
                        weight: 0,
                        port: 5061,
                        target: format!("sip.{domain}"),
                    })],
                },
                (RecordKind::A, None) if number(name).is_some() => DnsOutcome::Answer {
                    records: vec![record(RecordData::A {
                        address: std::net::Ipv4Addr::new(127, 0, 1, number(name).unwrap_or_default()),
                    })],
                },
                _ => DnsOutcome::NxDomain { negative_ttl: None, ignored_answers: None },
            };
            DnsFact { view: *view, name: name.clone(), rtype: *rtype, resolver: "test".into(), source: None, outcome }
        }

        fn resolver(&self, _view: DnsView) -> String {
            "test".into()
        }
    }

    impl Probe for OneEdgeEach {
        fn budget(&self) -> Budget {
            Budget::for_endpoint(Duration::from_secs(5))
        }

        async fn tls(&self, endpoint: &Endpoint, _budget: Budget) -> TlsFact {
            self.started.lock().unwrap().push(endpoint.host.clone());
            tokio::time::sleep(Duration::from_millis(3)).await;
            TlsFact::unobserved(endpoint.clone(), None, "not probed: a test".into())
        }

        async fn sip(&self, endpoint: &Endpoint, domain: &str, sender: Option<&str>, _budget: Budget) -> SipFact {
            SipFact {
                endpoint: endpoint.clone(),
                domain: domain.to_string(),
                sender: sender.map(str::to_string),
                client_certificate: false,
                outcome: SipOutcome::Unobserved { reason: "not probed: a test".into() },
            }
        }
    }

    /// A batch's chunks take their turns at the gate: every endpoint of a
    /// chunk starts before any of the next chunk's, however many chunks are
    /// in flight, so the chunks end one after the other (and are judged
    /// while the later ones are probed), not all together at the end.
    #[test]
    fn a_chunks_endpoints_all_start_before_the_next_chunks() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let rules = crate::rules::load_rules(&crate::rules::builtin_sources()).unwrap();
        let now = time::macros::datetime!(2026-06-01 0:00 UTC);
        let scope = Scope::new(crate::rules::Selection::default(), &crate::rules::Profile::ALL, now);
        let domains: Vec<String> = (10..50).map(|i| format!("d{i}.test")).collect();
        let targets = crate::facts::Targets { domains: domains.clone(), ..Default::default() };
        let plan = ScanPlan::new(&rules, &scope, targets, &[]);
        let net = Arc::new(OneEdgeEach::default());
        let (ready, mut parts) = mpsc::channel(64);
        let chunks = Chunks { domains: 8, rules: &rules, scope: &scope, partners: &[], ready };
        let mut facts = Facts::new(Inputs::default(), now);
        runtime.block_on(network(
            &plan,
            &mut facts,
            Arc::clone(&net),
            false,
            &Limits::concurrency(3),
            &Stop::never(),
            &Arc::new(Progress::default()),
            Some(chunks),
        ));
        let mut chunk_of = HashMap::new();
        let mut probed = 0;
        for (i, part) in std::iter::from_fn(|| parts.try_recv().ok()).enumerate() {
            for domain in &part.targets.domains {
                chunk_of.insert(format!("sip.{domain}"), i);
            }
            probed += part.tls.len();
        }
        assert_eq!(probed, domains.len(), "every endpoint probed once");
        let started: Vec<usize> = net.started.lock().unwrap().iter().map(|host| chunk_of[host]).collect();
        assert!(started.iter().max() > Some(&2), "several chunks: {started:?}");
        assert!(started.is_sorted(), "the endpoints started, by chunk: {started:?}");
    }

    /// Knows the answers to names ending in an even digit; the others are
    /// to be asked.
    struct HalfKnown;

    impl Resolve for HalfKnown {
        fn known(&self, (view, name, rtype): &Question) -> Option<DnsFact> {
            name.ends_with(['0', '2', '4', '6', '8']).then(|| DnsFact {
                view: *view,
                name: name.clone(),
                rtype: *rtype,
                resolver: "known".into(),
                source: None,
                outcome: DnsOutcome::NxDomain { negative_ttl: None, ignored_answers: None },
            })
        }

        async fn query(&self, (view, name, rtype): &Question) -> DnsFact {
            DnsFact {
                view: *view,
                name: name.clone(),
                rtype: *rtype,
                resolver: "asked".into(),
                source: None,
                outcome: DnsOutcome::Timeout,
            }
        }

        fn resolver(&self, _view: DnsView) -> String {
            "asked".into()
        }
    }

    /// Panics when asked a name that starts with "crash"; asks the others
    /// as [`HalfKnown`] does (a timeout).
    struct CrashingOnSome;

    impl Resolve for CrashingOnSome {
        async fn query(&self, question: &Question) -> DnsFact {
            if question.1.starts_with("crash") {
                panic!("asked {}", question.1);
            }
            HalfKnown.query(question).await
        }

        fn resolver(&self, _view: DnsView) -> String {
            "asked".into()
        }
    }

    /// A question whose probe panics leaves a fact that says so and its
    /// asker goes on: every question has its one fact, however few the
    /// askers.
    #[test]
    fn a_dns_probe_that_panics_leaves_its_fact_and_the_other_questions_are_still_asked() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let questions: Vec<Question> = (0..20)
            .map(|i| {
                let name = if i % 3 == 0 { format!("crash{i}.example") } else { format!("h{i}.example") };
                (DnsView::External, name, RecordKind::A)
            })
            .collect();
        for concurrency in [1, 2, 32] {
            let facts = runtime.block_on(ask(
                questions.clone(),
                &Arc::new(CrashingOnSome),
                concurrency,
                &Arc::new(Pacer::new(None)),
                &Stop::never(),
                &Arc::new(Progress::default()),
            ));
            assert_eq!(facts.len(), questions.len(), "{concurrency} askers: {facts:#?}");
            for (_, name, _) in &questions {
                let fact = facts.iter().find(|f| &f.name == name).unwrap_or_else(|| panic!("no fact for {name}"));
                match &fact.outcome {
                    DnsOutcome::Failed { message } if name.starts_with("crash") => {
                        assert_eq!(message, &format!("the DNS probe of {name} A crashed: asked {name}"));
                    }
                    DnsOutcome::Timeout if !name.starts_with("crash") => {}
                    other => panic!("{concurrency} askers, {name}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn answers_known_without_asking_are_all_found_and_the_rest_keep_their_order() {
        for count in [10, 20_001] {
            let questions: Vec<Question> =
                (0..count).map(|i| (DnsView::External, format!("h{i}.example"), RecordKind::A)).collect();
            let (known, rest) = known_answers(questions.clone(), &HalfKnown);
            let mut known_names: Vec<&str> = known.iter().map(|f| f.name.as_str()).collect();
            known_names.sort();
            let mut even: Vec<&str> =
                questions.iter().map(|q| q.1.as_str()).filter(|n| n.ends_with(['0', '2', '4', '6', '8'])).collect();
            even.sort();
            assert_eq!(known_names, even, "{count} questions");
            let odd: Vec<&Question> = questions.iter().filter(|q| !q.1.ends_with(['0', '2', '4', '6', '8'])).collect();
            assert_eq!(rest.iter().collect::<Vec<_>>(), odd, "{count} questions: the rest, in order");
        }
    }
}

//! `fedscan serve`: a Prometheus exporter of the federation path, in the
//! multi-target pattern of the blackbox exporter. `/probe?target=DOMAIN&
//! module=NAME` scans one allowed SIP domain with the module's scan flags
//! (the one scan sequence, its findings collected) and answers with the
//! metrics of [`crate::report::metrics`]; `/metrics` gives the exporter's
//! own counters, `/-/healthy` says it is up.
//!
//! Safe to expose: only targets the configuration allows are probed
//! (anything else is 400 without a probe), a target's result is reused for
//! `min_interval_seconds` and concurrent scrapes of it wait for one probe,
//! probes in flight are capped (503 beyond), and each probe ends within the
//! scraper's timeout (`X-Prometheus-Scrape-Timeout-Seconds`) less a margin.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::{Args, FromArgMatches};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::Deserialize;
use time::OffsetDateTime;

use super::{Failure, check_scan_args, usage_error};
use crate::cli::{ScanArgs, ServeArgs};
use crate::engine;
use crate::report::metrics::{ProbeRun, render};
use crate::report::sink::Collect;
use crate::text::escape_terminal;

/// `serve.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeConfig {
    /// Where to listen; loopback unless told otherwise.
    #[serde(default = "default_listen")]
    listen: SocketAddr,
    /// The SIP domains that may be probed: a domain, or `*.suffix` for the
    /// domains below it.
    targets: Vec<String>,
    /// A target's metrics are reused for this long.
    #[serde(default = "default_min_interval")]
    min_interval_seconds: f64,
    /// Probes running at once, over every target.
    #[serde(default = "default_in_flight")]
    max_probes_in_flight: usize,
    /// The longest a probe may take, whatever the scraper allows.
    #[serde(default = "default_max_deadline")]
    max_probe_seconds: f64,
    modules: BTreeMap<String, ModuleConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleConfig {
    /// `fedscan scan` flags: profiles, --only/--skip, partners, trust
    /// stores, resolvers, timeouts, expiry warning days.
    #[serde(default)]
    args: Vec<String>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9787))
}
fn default_min_interval() -> f64 {
    60.0
}
fn default_in_flight() -> usize {
    4
}
fn default_max_deadline() -> f64 {
    30.0
}

/// The longest `max_probe_seconds` may be.
const MAX_PROBE_SECONDS_CAP: f64 = 300.0;

/// The time kept back from the scraper's timeout, to write the answer.
const MARGIN: Duration = Duration::from_millis(500);

/// Targets remembered at most; beyond, results older than the interval go.
const MAX_REMEMBERED: usize = 4096;

pub(super) fn serve(args: ServeArgs) -> Result<u8, Failure> {
    let name = args.config.display().to_string();
    let text = crate::files::read_text_bounded(&args.config, 1 << 20)
        .map_err(|e| usage_error(format!("{}: {e}", escape_terminal(&name))))?;
    let config: ServeConfig = toml::from_str(&text)
        .map_err(|e| usage_error(format!("{}: {}", escape_terminal(&name), escape_terminal(&e.to_string()))))?;
    let modules = config
        .modules
        .iter()
        .map(|(module, settings)| {
            module_args(&settings.args)
                .map(|_| (module.clone(), settings.args.clone()))
                .map_err(|e| usage_error(format!("{}: module {module:?}: {e}", escape_terminal(&name))))
        })
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    if modules.is_empty() {
        return Err(usage_error(format!(
            "{}: no module: give [modules.NAME] with its scan flags",
            escape_terminal(&name)
        )));
    }
    let targets = config
        .targets
        .iter()
        .map(|t| Allowed::parse(t).map_err(|e| usage_error(format!("{}: targets: {e}", escape_terminal(&name)))))
        .collect::<Result<Vec<_>, _>>()?;
    let exporter = Arc::new(Exporter::new(&config, modules, targets));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(usage_error)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| usage_error(format!("cannot listen on {}: {e}", config.listen)))?;
        let bound = listener.local_addr().map_err(usage_error)?;
        err!("fedscan serve: listening on http://{bound}");
        let app = axum::Router::new()
            .route("/probe", get(probe))
            .route("/metrics", get(own_metrics))
            .route("/-/healthy", get(|| async { "OK\n" }))
            .with_state(exporter);
        accept(listener, app).await;
        Ok::<(), Failure>(())
    })?;
    Ok(0)
}

/// Connections open at once; beyond, new ones wait to be accepted.
const MAX_CONNECTIONS: usize = 256;

/// How long a client may take to send its request's head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// The most a request's head may be: a scrape's is a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;

/// Serves connections until interrupted, each bounded: the request head
/// within [`HEAD_TIMEOUT`] and [`MAX_HEAD`] bytes, the whole connection
/// within the longest a probe may take and a margin, [`MAX_CONNECTIONS`]
/// at once; a slow or oversized client costs a connection slot for
/// seconds, never the exporter.
async fn accept(listener: tokio::net::TcpListener, app: axum::Router) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let connection_time = Duration::from_secs_f64(MAX_PROBE_SECONDS_CAP) + Duration::from_secs(30);
    loop {
        // The semaphore is never closed: acquiring cannot fail.
        let slot = Arc::clone(&slots).acquire_owned().await.expect("the semaphore is never closed");
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A failed accept (out of descriptors, say) is the
                // connection's, not the server's.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = tokio::signal::ctrl_c() => return,
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(HEAD_TIMEOUT).max_buf_size(MAX_HEAD);
            let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let _ = tokio::time::timeout(connection_time, connection).await;
        });
    }
}

/// A module's flags as `fedscan scan` reads them, or why they cannot serve:
/// a module judges the domain it is given and writes nothing.
fn module_args(flags: &[String]) -> Result<ScanArgs, String> {
    let command = ScanArgs::augment_args(clap::Command::new("scan").no_binary_name(true));
    let matches = command.try_get_matches_from(flags).map_err(|e| e.render().to_string().trim().to_string())?;
    let args = ScanArgs::from_arg_matches(&matches).map_err(|e| e.to_string())?;
    let mut refused = Vec::new();
    if !args.domains.is_empty() || args.domains_file.is_some() {
        refused.push("domains (the target is the scrape's)");
    }
    if args.report.output.is_some() || !args.report.extra_reports.is_empty() || args.save_facts.is_some() {
        refused.push("outputs (-o, --report, --save-facts)");
    }
    if !args.facts.is_empty() || args.shard.is_some() || args.offline {
        refused.push("--facts, --shard, --offline (a probe is a live scan)");
    }
    match refused.is_empty() {
        true => Ok(args),
        false => Err(format!("these flags have no place in a module: {}", refused.join("; "))),
    }
}

/// An allowed target: a domain, or every domain below a suffix.
#[derive(Debug)]
enum Allowed {
    Domain(String),
    Below(String),
}

impl Allowed {
    fn parse(text: &str) -> Result<Allowed, String> {
        let (below, name) = match text.strip_prefix("*.") {
            Some(suffix) => (true, suffix),
            None => (false, text),
        };
        let name = crate::facts::names::parse_fqdn(name)?;
        Ok(if below { Allowed::Below(name) } else { Allowed::Domain(name) })
    }

    fn allows(&self, domain: &str) -> bool {
        match self {
            Allowed::Domain(name) => domain == name,
            Allowed::Below(suffix) => {
                domain.strip_suffix(suffix.as_str()).is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
            }
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProbeLabels {
    module: String,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedLabels {
    reason: &'static str,
}

/// The exporter's own counters.
struct OwnMetrics {
    probes: Family<ProbeLabels, Counter>,
    reused: Counter,
    refused: Family<RefusedLabels, Counter>,
}

struct Exporter {
    modules: BTreeMap<String, Vec<String>>,
    targets: Vec<Allowed>,
    min_interval: Duration,
    max_probe: Duration,
    in_flight: Arc<tokio::sync::Semaphore>,
    /// Each (module, target)'s last metrics; its lock held while it is
    /// probed, so that concurrent scrapes wait for one probe.
    results: std::sync::Mutex<HashMap<(String, String), KeptSlot>>,
    own: OwnMetrics,
    registry: Registry,
}

/// A target's last metrics, locked while it is probed.
type KeptSlot = Arc<tokio::sync::Mutex<Option<Kept>>>;

struct Kept {
    at: Instant,
    text: Arc<String>,
}

impl Exporter {
    fn new(config: &ServeConfig, modules: BTreeMap<String, Vec<String>>, targets: Vec<Allowed>) -> Exporter {
        let own = OwnMetrics { probes: Family::default(), reused: Counter::default(), refused: Family::default() };
        let mut registry = Registry::with_prefix("fedscan_exporter");
        registry.register("probes", "Probes run, by module and result", own.probes.clone());
        registry.register(
            "reused",
            "Scrapes answered with a target's recent metrics, without a probe",
            own.reused.clone(),
        );
        registry.register("refused", "Scrapes refused without a probe, by reason", own.refused.clone());
        Exporter {
            modules,
            targets,
            min_interval: Duration::from_secs_f64(config.min_interval_seconds.max(0.0)),
            max_probe: Duration::from_secs_f64(config.max_probe_seconds.clamp(1.0, MAX_PROBE_SECONDS_CAP)),
            in_flight: Arc::new(tokio::sync::Semaphore::new(config.max_probes_in_flight.max(1))),
            results: std::sync::Mutex::new(HashMap::new()),
            own,
            registry,
        }
    }

    fn kept(&self, key: (String, String)) -> KeptSlot {
        let mut results = self.results.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if results.len() >= MAX_REMEMBERED {
            let interval = self.min_interval;
            results
                .retain(|_, kept| kept.try_lock().is_ok_and(|k| k.as_ref().is_some_and(|k| k.at.elapsed() < interval)));
        }
        Arc::clone(results.entry(key).or_default())
    }

    fn refuse(&self, status: StatusCode, reason: &'static str, message: String) -> Response {
        self.own.refused.get_or_create(&RefusedLabels { reason }).inc();
        (status, message).into_response()
    }
}

#[derive(Deserialize)]
struct ProbeQuery {
    target: Option<String>,
    module: Option<String>,
}

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

async fn probe(State(exporter): State<Arc<Exporter>>, Query(query): Query<ProbeQuery>, headers: HeaderMap) -> Response {
    let module_name = query.module.unwrap_or_else(|| "default".to_string());
    let Some(flags) = exporter.modules.get(&module_name) else {
        return exporter.refuse(StatusCode::BAD_REQUEST, "unknown_module", "unknown module\n".into());
    };
    let target = match query.target.as_deref().map(crate::facts::names::parse_fqdn) {
        Some(Ok(target)) if exporter.targets.iter().any(|a| a.allows(&target)) => target,
        Some(Ok(_)) => {
            return exporter.refuse(StatusCode::BAD_REQUEST, "target_not_allowed", "target not allowed\n".into());
        }
        Some(Err(_)) | None => {
            return exporter.refuse(StatusCode::BAD_REQUEST, "bad_target", "give target=DOMAIN\n".into());
        }
    };
    let scrape_timeout = headers
        .get("x-prometheus-scrape-timeout-seconds")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(exporter.max_probe);
    let deadline = scrape_timeout.min(exporter.max_probe).saturating_sub(MARGIN).max(Duration::from_millis(500));
    let kept = exporter.kept((module_name.clone(), target.clone()));
    let mut kept = kept.lock().await;
    if let Some(recent) = kept.as_ref().filter(|k| k.at.elapsed() < exporter.min_interval) {
        exporter.own.reused.inc();
        return metrics_response(Arc::clone(&recent.text));
    }
    let Ok(permit) = Arc::clone(&exporter.in_flight).try_acquire_owned() else {
        return exporter.refuse(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many probes in flight\n".into());
    };
    let (send, receive) = tokio::sync::oneshot::channel();
    let flags = flags.clone();
    let scanned = target.clone();
    // The scan runs its own runtime: on a thread of its own, never on the
    // server's.
    std::thread::spawn(move || {
        let _permit = permit;
        let _ = send.send(run_probe(&flags, &scanned, deadline));
    });
    let started = Instant::now();
    let (text, result) = match tokio::time::timeout(deadline, receive).await {
        Ok(Ok(text)) => text,
        _ => {
            let run = ProbeRun::failed("the probe did not end within the scrape's deadline", started.elapsed());
            (render(&run, OffsetDateTime::now_utc()), "deadline")
        }
    };
    exporter.own.probes.get_or_create(&ProbeLabels { module: module_name, result }).inc();
    let text = Arc::new(text);
    *kept = Some(Kept { at: Instant::now(), text: Arc::clone(&text) });
    metrics_response(text)
}

fn metrics_response(text: Arc<String>) -> Response {
    ([(header::CONTENT_TYPE, OPENMETRICS)], text.as_str().to_owned()).into_response()
}

async fn own_metrics(State(exporter): State<Arc<Exporter>>) -> Response {
    let mut text = String::new();
    let _ = prometheus_client::encoding::text::encode(&mut text, &exporter.registry);
    ([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response()
}

/// One probe: the module's scan of `target`, each network step given at
/// most a third of the deadline (a probe is three steps in a row: the SRV
/// record, the Edge's address, the Edge). The metrics, and how it ended.
fn run_probe(flags: &[String], target: &str, deadline: Duration) -> (String, &'static str) {
    let started = Instant::now();
    let ended = (|| {
        let mut args = module_args(flags)?;
        args.domains = vec![target.to_string()];
        args.timeout = args.timeout.min(deadline.as_secs_f64() / 3.0);
        args.report.quiet = true;
        args.report.no_ignore_file = args.report.ignore_file.is_none();
        let (job, source) = check_scan_args(args).map_err(|e| e.message())?;
        let progress = match &source {
            engine::source::Source::Gather { request, .. } => request.network.as_ref().map(|n| Arc::clone(&n.progress)),
            engine::source::Source::Replay(_) => None,
        };
        let mut sink = Collect::new(None);
        let now = OffsetDateTime::now_utc();
        let ended = engine::scan::run(&job.judging(), source, now, &mut sink).map_err(|e| e.to_string())?;
        // Judged as a batch of one: its chunk's facts are the sink's.
        let mut facts = ended.facts;
        facts.absorb(sink.parts);
        let summary = crate::report::summarize(&sink.findings, &facts.input_errors, job.policy, None);
        let clean = summary.exit_code == crate::report::exit::CLEAN;
        let phases = progress.as_deref().map(phases).unwrap_or_default();
        Ok::<_, String>((sink.findings, facts, ended.evaluated_at, clean, phases))
    })();
    match ended {
        Ok((findings, facts, evaluated_at, clean, phases)) => {
            let run = ProbeRun {
                findings: &findings,
                facts: Some(&facts),
                duration: started.elapsed(),
                phases,
                clean,
                failure: None,
            };
            let result = if crate::report::metrics::succeeded(&run) { "success" } else { "failure" };
            (render(&run, evaluated_at), result)
        }
        Err(why) => {
            // Said where the operator looks: the metrics carry no text.
            err!("fedscan serve: the probe of {} could not run: {}", escape_terminal(target), escape_terminal(&why));
            let run = ProbeRun::failed(&why, started.elapsed());
            (render(&run, OffsetDateTime::now_utc()), "error")
        }
    }
}

/// How long each phase of a probe took, as its scan counted: every DNS
/// question, the longest handshake, the longest OPTIONS exchange.
fn phases(progress: &engine::progress::Progress) -> Vec<(&'static str, Duration)> {
    use std::sync::atomic::Ordering::Relaxed;
    let micros = |n: u64| Duration::from_micros(n);
    let mut phases = vec![("dns", micros(progress.dns_micros.load(Relaxed)))];
    for (phase, took) in
        [("tls", progress.work.tls_micros.load(Relaxed)), ("sip", progress.work.sip_micros.load(Relaxed))]
    {
        if took > 0 {
            phases.push((phase, micros(took)));
        }
    }
    phases
}

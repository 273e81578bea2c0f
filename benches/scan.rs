//! How long a whole live scan takes, side by side: many SIP domains, each
//! with its federation SRV record (an in-process DNS server) and its own
//! Edge name on a SIP-over-TLS responder, scanned through DNS, TLS and SIP
//! by the release binary with the default concurrency and one at a time;
//! then the same facts replayed without network.
//!
//!   cargo bench --bench scan            # 200 domains
//!   FEDSCAN_BENCH_DOMAINS=1000 cargo bench --bench scan
//!   FEDSCAN_BENCH_FACTS=/tmp/bench.facts.json cargo bench --bench scan
//!   FEDSCAN_BENCH_ONLY=SIP-OPT-01 cargo bench --bench scan   # --only for every scan
//!   FEDSCAN_BENCH_SERVE=1 cargo bench --bench scan   # only the fleet, for a profiler
//!   FEDSCAN_BENCH_SSLYZE="/path/to/venv/bin/python -m sslyze" cargo bench --bench scan
//!       # also sslyze --certinfo on the same endpoints (pip install sslyze)
//!
//! Everything runs on loopback, so the figures are the scanner's own cost
//! (handshakes, parsing, judging), not network latency, which concurrency
//! hides far better still.
//!
//! Beside it, in the same run, a bare floor written here with the same
//! crates (hickory-resolver, rustls, tokio) and the same concurrency, doing
//! exactly the network work the scan reports in its summary: the same DNS
//! questions (read from the saved facts), and per endpoint as many
//! connections and full TLS handshakes as the scan made, the SIP OPTIONS
//! exchange on one of them — and nothing else: no facts, no rules, no
//! report. The ratio scan ÷ floor is what fedscan costs above the network
//! work itself; the work per domain says whether that work is the least.

#[path = "../tests/all/peers/mod.rs"]
mod peers;

use std::process::Command;
use std::time::{Duration, Instant};

use peers::dns::{DnsServer, federation_zone};
use peers::sip::{Behaviour, SipServer};
use peers::tls::{LeafSpec, Pki};

const RUNS: usize = 3;

/// Set in the environment of this benchmark run again as a launcher of one
/// scan (see [`launch_and_report`]): the file its peak RSS is written to.
const MEASURE_ENV: &str = "FEDSCAN_BENCH_PEAK_RSS_TO";

fn main() {
    if let Some(report) = std::env::var_os(MEASURE_ENV) {
        launch_and_report(report.into());
    }
    let domains: usize = std::env::var("FEDSCAN_BENCH_DOMAINS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let pki = Pki::new("Bench");
    let answer = b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    let edge = SipServer::start(&pki.leaf(&LeafSpec::default()), Behaviour::Answer(answer));
    let port = edge.addr.port();
    let names: Vec<String> = (0..domains).map(|i| format!("d{i}.test")).collect();
    let zones: Vec<(String, String)> = names.iter().map(|d| (d.clone(), federation_zone(d, port))).collect();
    let zone_refs: Vec<(&str, &str)> = zones.iter().map(|(d, z)| (d.as_str(), z.as_str())).collect();
    let dns = DnsServer::start(&zone_refs);

    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("domains.txt");
    std::fs::write(&list, names.join("\n")).unwrap();
    let root = pki.write_root(dir.path());
    // FEDSCAN_BENCH_FACTS=PATH keeps the facts, e.g. to profile a replay.
    let facts = std::env::var_os("FEDSCAN_BENCH_FACTS").map_or_else(|| dir.path().join("facts.json"), Into::into);

    let binary = env!("CARGO_BIN_EXE_fedscan");
    let live = |concurrency: &str| {
        let mut command = Command::new(binary);
        command
            .args(["scan", "--format", "json", "--timeout", "5", "--concurrency", concurrency])
            .arg("--domains-file")
            .arg(&list)
            .args(["--resolver", &dns.resolver_arg(), "--trust"])
            .arg(&root)
            .arg("--save-facts")
            .arg(&facts);
        if let Ok(only) = std::env::var("FEDSCAN_BENCH_ONLY") {
            command.args(["--only", &only]);
        }
        command
    };
    let mut replay = Command::new(binary);
    replay.args(["scan", "--format", "json", "--facts"]).arg(&facts);

    println!("fedscan scan of {domains} domains (DNS + TLS + SIP per domain, loopback), best of {RUNS}:");
    // Streamed first: the children's peak RSS read after it is its own (and
    // after the run with facts, the larger of the two).
    let mut streamed = Command::new(binary);
    streamed
        .args(["scan", "--format", "ndjson", "--quiet", "--timeout", "5", "--domains-file"])
        .arg(&list)
        .args(["--resolver", &dns.resolver_arg(), "--trust"])
        .arg(&root)
        .arg("--output")
        .arg(dir.path().join("streamed.ndjson"));
    if std::env::var_os("FEDSCAN_BENCH_SERVE").is_some() {
        // The fleet stays up for a profiler until standard input closes.
        println!("the fleet is up until standard input closes; the streamed scan is:\n{streamed:?}");
        std::io::copy(&mut std::io::stdin(), &mut std::io::sink()).ok();
        return;
    }
    let streamed_took = best(&streamed);
    let mut streamed_with_facts = streamed;
    streamed_with_facts.arg("--save-facts").arg(dir.path().join("streamed.facts.json"));
    let streamed_facts_took = best(&streamed_with_facts);
    let concurrent = best(&live("32"));
    let sequential = best(&live("1"));
    let replayed = best(&replay);
    // The work the scan did, from its own report, and the same work bare.
    let report: serde_json::Value =
        serde_json::from_slice(&live("32").output().expect("run fedscan").stdout).expect("a JSON report");
    let work = report["summary"]["work"].clone();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&facts).expect("the saved facts")).expect("facts JSON");
    let floor_work = floor::Work::of(&work, &saved);
    let floor = measure(|| floor::run(&floor_work, dns.addr, &root, 32));
    row("live, --concurrency 32 (default)", concurrent, domains);
    row("live, NDJSON streamed chunk by chunk", streamed_took, domains);
    row("live, streamed, with --save-facts", streamed_facts_took, domains);
    row("live, --concurrency 1", sequential, domains);
    row("replay of the saved facts (--facts)", replayed, domains);
    row("bare floor: the same network work", floor, domains);
    if let Ok(sslyze) = std::env::var("FEDSCAN_BENCH_SSLYZE") {
        let took = measure(|| sslyze_certinfo(&sslyze, &saved, dir.path()));
        row("sslyze --certinfo, same endpoints", took, domains);
        println!(
            "  sslyze's certificate scan takes {:.1}x the time of fedscan's whole scan (DNS, TLS, SIP, every rule)",
            took.wall.as_secs_f64() / concurrent.wall.as_secs_f64()
        );
    }
    println!(
        "peak RSS: {:.0} MB streamed (NDJSON), {:.0} MB streamed with --save-facts, \
         {:.0} MB with the JSON report and --save-facts",
        streamed_took.peak_rss_mb, streamed_facts_took.peak_rss_mb, concurrent.peak_rss_mb
    );
    let per = |key: &str| work[key].as_f64().unwrap_or(0.0) / domains as f64;
    println!(
        "work per domain: {:.1} DNS questions, {:.1} connections, {:.1} full TLS handshakes",
        per("dns_questions"),
        per("connections"),
        per("full_handshakes")
    );
    println!(
        "concurrency 32 is {:.1}x faster than 1; replay is {:.0}x faster than the live scan;\n\
         against the floor: {:.2}x the JSON scan, {:.2}x the streamed scan",
        sequential.wall.as_secs_f64() / concurrent.wall.as_secs_f64(),
        concurrent.wall.as_secs_f64() / replayed.wall.as_secs_f64(),
        concurrent.wall.as_secs_f64() / floor.wall.as_secs_f64(),
        streamed_took.wall.as_secs_f64() / floor.wall.as_secs_f64()
    );
}

/// Run as a launcher (with [`MEASURE_ENV`] set): runs the command of its
/// arguments, writes that child's peak RSS in KB to the file named, and
/// exits with the child's code. A child of this benchmark itself would
/// report the benchmark's own size as its peak (Linux counts the memory a
/// process had before exec), and the fleet is large; the launcher is small.
fn launch_and_report(report: std::path::PathBuf) -> ! {
    let mut args = std::env::args_os().skip(1);
    let program = args.next().expect("a command to run");
    let status = Command::new(program).args(args).env_remove(MEASURE_ENV).status().expect("run the command");
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    std::fs::write(report, usage.ru_maxrss.to_string()).expect("write the peak RSS");
    std::process::exit(status.code().unwrap_or(125))
}

/// sslyze's certificate scan of the endpoints the scan probed (no DNS, no
/// SIP), run once: its wall time.
fn sslyze_certinfo(command: &str, facts: &serde_json::Value, dir: &std::path::Path) -> Duration {
    let targets: Vec<String> = facts["tls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| Some(format!("{}:{}{{{}}}", t["host"].as_str()?, t["port"].as_u64()?, t["address"].as_str()?)))
        .collect();
    let list = dir.join("sslyze-targets.txt");
    std::fs::write(&list, targets.join("\n")).expect("write the targets");
    let mut words = command.split_whitespace();
    let mut sslyze = Command::new(words.next().expect("a command"));
    sslyze.args(words).args(["--certinfo", "--quiet", "--targets_in"]).arg(&list);
    let started = Instant::now();
    let output = sslyze.output().expect("run sslyze");
    assert!(output.status.success(), "sslyze failed: {}", String::from_utf8_lossy(&output.stderr));
    started.elapsed()
}

/// The same network work as the scan, and nothing else.
mod floor {
    use std::net::SocketAddr;
    use std::path::Path;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use hickory_resolver::Resolver;
    use hickory_resolver::config::{NameServerConfig, ResolverConfig};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    use rustls::pki_types::{CertificateDer, ServerName};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::Semaphore;

    pub struct Work {
        /// (name, record type) of every question the scan asked.
        questions: Vec<(String, String)>,
        /// (host, address, port) of every endpoint the scan probed.
        endpoints: Vec<(String, SocketAddr)>,
        /// Per endpoint: full handshakes, first-flight hellos, and whether
        /// one handshake carries SIP OPTIONS.
        handshakes: usize,
        hellos: usize,
        sip: bool,
    }

    impl Work {
        pub fn of(work: &serde_json::Value, facts: &serde_json::Value) -> Work {
            let questions = facts["dns"]
                .as_array()
                .map(|all| {
                    all.iter()
                        .map(|q| {
                            (
                                q["name"].as_str().unwrap_or("").to_string(),
                                q["type"].as_str().unwrap_or("A").to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let endpoints: Vec<(String, SocketAddr)> = facts["tls"]
                .as_array()
                .map(|all| {
                    all.iter()
                        .filter_map(|t| {
                            let address = t["address"].as_str()?.parse().ok()?;
                            let port = t["port"].as_u64()? as u16;
                            Some((t["host"].as_str()?.to_string(), SocketAddr::new(address, port)))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let n = endpoints.len().max(1);
            let count = |key: &str| work[key].as_u64().unwrap_or(0) as usize;
            let handshakes = count("full_handshakes") / n;
            let hellos = (count("connections") / n).saturating_sub(handshakes);
            let sip = facts["sip"].as_array().is_some_and(|s| !s.is_empty());
            Work { questions, endpoints, handshakes, hellos, sip }
        }
    }

    pub fn run(work: &Work, resolver: SocketAddr, root: &Path, concurrency: usize) -> Duration {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
        let mut roots = rustls::RootCertStore::empty();
        let pem = std::fs::read(root).expect("the root");
        for cert in rustls_pemfile_certs(&pem) {
            roots.add(cert).expect("a root certificate");
        }
        let config = Arc::new(
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_root_certificates(roots)
                .with_no_client_auth(),
        );
        let started = Instant::now();
        runtime.block_on(async {
            let mut ns = NameServerConfig::udp_and_tcp(resolver.ip());
            for connection in &mut ns.connections {
                connection.port = resolver.port();
            }
            let mut builder = Resolver::builder_with_config(
                ResolverConfig::from_parts(None, vec![], vec![ns]),
                TokioRuntimeProvider::default(),
            );
            builder.options_mut().cache_size = 0;
            let resolver = Arc::new(builder.build().expect("a resolver"));
            let limit = Arc::new(Semaphore::new(concurrency));
            let mut tasks = tokio::task::JoinSet::new();
            // A task is made when a place is free, as the scan does.
            for (name, kind) in work.questions.clone() {
                let permit = Arc::clone(&limit).acquire_owned().await.expect("open");
                while tasks.try_join_next().is_some() {}
                let resolver = Arc::clone(&resolver);
                tasks.spawn(async move {
                    let _permit = permit;
                    let kind = kind.parse().unwrap_or(hickory_proto::rr::RecordType::A);
                    let _ = resolver.lookup(format!("{name}."), kind).await;
                });
            }
            while tasks.join_next().await.is_some() {}
            for (host, address) in work.endpoints.clone() {
                let permit = Arc::clone(&limit).acquire_owned().await.expect("open");
                while tasks.try_join_next().is_some() {}
                let config = Arc::clone(&config);
                let (handshakes, hellos, sip) = (work.handshakes, work.hellos, work.sip);
                tasks.spawn(async move {
                    let _permit = permit;
                    for i in 0..handshakes {
                        let options = sip && i == handshakes - 1;
                        let _ = handshake(&config, &host, address, options).await;
                    }
                    for _ in 0..hellos {
                        let _ = first_flight(&config, &host, address).await;
                    }
                });
            }
            while tasks.join_next().await.is_some() {}
        });
        started.elapsed()
    }

    fn rustls_pemfile_certs(pem: &[u8]) -> Vec<CertificateDer<'static>> {
        use rustls::pki_types::pem::PemObject;
        CertificateDer::pem_slice_iter(pem).filter_map(Result::ok).collect()
    }

    /// A full handshake, and an OPTIONS exchange on it when asked.
    async fn handshake(
        config: &Arc<rustls::ClientConfig>,
        host: &str,
        address: SocketAddr,
        options: bool,
    ) -> std::io::Result<()> {
        let stream = TcpStream::connect(address).await?;
        let name = ServerName::try_from(host.to_string()).map_err(std::io::Error::other)?;
        let mut tls = tokio_rustls::TlsConnector::from(Arc::clone(config)).connect(name, stream).await?;
        if options {
            let request = format!(
                "OPTIONS sip:{host} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKfloor\r\nMax-Forwards: 70\r\n\
                 From: <sip:floor@{host}>;tag=1\r\nTo: <sip:{host}>\r\nCall-ID: floor@{host}\r\nCSeq: 1 OPTIONS\r\n\
                 Content-Length: 0\r\n\r\n"
            );
            tls.write_all(request.as_bytes()).await?;
            let mut buffer = vec![0u8; 8192];
            let mut read = 0;
            while !buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                let n = tls.read(&mut buffer[read..]).await?;
                if n == 0 || read + n >= buffer.len() {
                    break;
                }
                read += n;
            }
        }
        Ok(())
    }

    /// A ClientHello, and the server's first flight read back: what a version
    /// probe costs.
    async fn first_flight(config: &Arc<rustls::ClientConfig>, host: &str, address: SocketAddr) -> std::io::Result<()> {
        let name = ServerName::try_from(host.to_string()).map_err(std::io::Error::other)?;
        let mut client = rustls::ClientConnection::new(Arc::clone(config), name).map_err(std::io::Error::other)?;
        let mut hello = Vec::new();
        client.write_tls(&mut hello)?;
        let mut stream = TcpStream::connect(address).await?;
        stream.write_all(&hello).await?;
        let mut header = [0u8; 5];
        stream.read_exact(&mut header).await?;
        let mut body = vec![0u8; u16::from_be_bytes([header[3], header[4]]) as usize];
        stream.read_exact(&mut body).await?;
        Ok(())
    }
}

/// A measured way of running: the shortest wall time of its runs, and the
/// CPU time per run of the scanner (the child) and of this process, where
/// the DNS and TLS peers (and the floor) run.
#[derive(Clone, Copy)]
struct Measured {
    wall: Duration,
    scanner_cpu: f64,
    peers_cpu: f64,
    /// The scanner's largest peak RSS over the runs, in MB (0 if not measured).
    peak_rss_mb: f64,
}

/// CPU time (user + system) used so far by `who` (RUSAGE_SELF or
/// RUSAGE_CHILDREN, the latter counting children waited for), in s.
fn cpu(who: libc::c_int) -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    unsafe { libc::getrusage(who, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Runs `run` `RUNS` times, each returning its wall time.
fn measure(mut run: impl FnMut() -> Duration) -> Measured {
    let (scanner, peers) = (cpu(libc::RUSAGE_CHILDREN), cpu(libc::RUSAGE_SELF));
    let wall = (0..RUNS).map(|_| run()).min().expect("at least one run");
    Measured {
        wall,
        scanner_cpu: (cpu(libc::RUSAGE_CHILDREN) - scanner) / RUNS as f64,
        peers_cpu: (cpu(libc::RUSAGE_SELF) - peers) / RUNS as f64,
        peak_rss_mb: 0.0,
    }
}

/// The scanner run `RUNS` times; a run that fails to produce a report stops
/// the benchmark.
fn best(command: &Command) -> Measured {
    let report = tempfile::NamedTempFile::new().expect("a file for the peak RSS");
    let mut peak_kb: u64 = 0;
    let mut measured = measure(|| {
        let mut launcher = Command::new(std::env::current_exe().expect("this benchmark"));
        launcher.env(MEASURE_ENV, report.path()).arg(command.get_program()).args(command.get_args());
        let started = Instant::now();
        let output = launcher.output().expect("run fedscan");
        let elapsed = started.elapsed();
        assert!(
            matches!(output.status.code(), Some(0 | 1 | 3)),
            "fedscan failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let kb = std::fs::read_to_string(report.path()).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0);
        peak_kb = peak_kb.max(kb);
        elapsed
    });
    measured.peak_rss_mb = peak_kb as f64 / 1024.0;
    measured
}

fn row(what: &str, took: Measured, domains: usize) {
    println!(
        "  {what:<40} {:>8.3} s  {:>6.2} ms/domain  CPU {:>6.2} s scanner, {:>5.2} s peers (+ floor)",
        took.wall.as_secs_f64(),
        took.wall.as_secs_f64() * 1000.0 / domains as f64,
        took.scanner_cpu,
        took.peers_cpu
    );
}

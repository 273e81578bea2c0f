//! The single-domain critical path under latency: one domain, its resolver
//! and its Access Edge each one round trip away, the default rules, and the
//! wall time of the scan beside the least it can take — the round trips that
//! depend on each other, times the delay.
//!
//!   cargo bench --bench latency                       # 50 ms round trips
//!   FEDSCAN_BENCH_RTT_MS=20 cargo bench --bench latency
//!   FEDSCAN_BENCH_FEDSCAN=target/release/fedscan cargo bench --bench latency
//!       # the build users run rather than the benchmark's own
//!   FEDSCAN_BENCH_ROUNDS=21 cargo bench --bench latency
//!
//! The delay is put in from user space, as this machine's kernel has no
//! netem: the resolver answers each question a round trip late, and a delay
//! line in front of the Edge holds every chunk of bytes half a round trip in
//! each direction. The kernel completes a TCP handshake with the delay line
//! at once, so the line holds a connection's first bytes from the client a
//! round trip more: on a link they could leave only once the SYN had been
//! answered. The minimum is then: the SRV question, then the question for
//! its target's address (`edge.<domain>`, known only from the SRV answer),
//! the TCP handshake, the TLS 1.3 handshake and the OPTIONS exchange — five
//! round trips. A connection opened only after another's handshake costs
//! its own round trip on top, as it would on a link.

#[path = "../tests/all/peers/mod.rs"]
mod peers;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use fedscan::facts::tls::Endpoint;
use fedscan::probe::tls::{Budget, legacy};
use peers::dns::{Behaviour as DnsBehaviour, Responder};
use peers::sip::{Behaviour, SipServer};
use peers::tls::{LeafSpec, Pki};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// Rounds (`FEDSCAN_BENCH_ROUNDS`), each running the scan, the scan with
/// OPTIONS on a connection of its own and the floor once, in that order one
/// round and in reverse the next; medians are printed, with the spread.
const ROUNDS: usize = 11;

/// An Access Edge the bench scans, one round trip away.
struct Edge {
    title: &'static str,
    /// The dependent round trips on its shortest path, and what they are.
    round_trips: u32,
    path: &'static str,
    _server: SipServer,
    proxy: SocketAddr,
    dns: Responder,
}

fn main() {
    let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let rtt = Duration::from_millis(number("FEDSCAN_BENCH_RTT_MS").unwrap_or(50));
    let rounds = number("FEDSCAN_BENCH_ROUNDS").map_or(ROUNDS, |n| n.max(1) as usize);
    let pki = Pki::new("Latency");
    let answer = b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    let leaf = pki.leaf(&LeafSpec {
        common_name: "edge.contoso.com".into(),
        sans: vec!["edge.contoso.com".into(), "sip.contoso.com".into()],
        ..LeafSpec::default()
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let edge = |title, round_trips, path, server: SipServer| {
        let proxy = runtime.block_on(delay_line(server.addr, rtt / 2));
        let dns = Responder::start(DnsBehaviour::Delayed { port: proxy.port(), delay_ms: rtt.as_millis() as u64 });
        Edge { title, round_trips, path, _server: server, proxy, dns }
    };
    let edges = [
        edge(
            "an Edge that settles TLS 1.2 (as Lync Server 2013 and Skype for Business Server on Windows Server 2019 and before)",
            6,
            "the SRV question, its target's address, TCP, the TLS 1.2 handshake's two, OPTIONS",
            SipServer::start_tls12(&leaf, Behaviour::Answer(answer.clone())),
        ),
        edge(
            "an Edge that settles TLS 1.3",
            6,
            "the SRV question, its target's address, TCP, the TLS 1.3 handshake, then TCP and the TLS 1.2 hello \
             that only a TLS 1.3 handshake calls for (OPTIONS beside them)",
            SipServer::start(&leaf, Behaviour::Answer(answer)),
        ),
    ];
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = pki.write_root(dir.path());
    // The build users run when given (`cargo build --release`), as in the
    // scan bench: the one cargo builds for a benchmark has its
    // dev-dependencies' features.
    let user_build = std::env::var("FEDSCAN_BENCH_FEDSCAN").ok();
    let binary = user_build.as_deref().unwrap_or(env!("CARGO_BIN_EXE_fedscan"));
    let scan = |edge: &Edge, extra: &[&str]| {
        let started = Instant::now();
        let output = peers::installed(binary)
            .args(["scan", "contoso.com", "--quiet", "--format", "json", "--resolver", &edge.dns.addr.to_string()])
            .arg("--trust")
            .arg(&root)
            .args(extra)
            .output()
            .expect("run fedscan");
        let elapsed = started.elapsed();
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
        let status = |rule: &str| {
            let finding = report["findings"].as_array().into_iter().flatten().find(|f| f["rule"] == rule);
            finding.map(|f| f["status"].clone())
        };
        assert_eq!(status("SIP-OPT-01"), Some("pass".into()), "the Edge answered: {report:#}");
        assert_eq!(status("TLS-VER-01"), Some("pass".into()), "TLS 1.2 was judged: {report:#}");
        elapsed
    };
    use rustls::pki_types::pem::PemObject as _;
    let trusted = rustls::pki_types::CertificateDer::from_pem_slice(pki.root_pem().as_bytes()).expect("the root");
    // For each Edge: the scan; OPTIONS on a connection of its own, after
    // the version probes; the floor.
    let mut times: [[Vec<Duration>; 3]; 2] = Default::default();
    for round in 0..rounds {
        let mut ways: Vec<(usize, usize)> = (0..2).flat_map(|edge| (0..3).map(move |way| (edge, way))).collect();
        if round % 2 == 1 {
            ways.reverse();
        }
        for (at, way) in ways {
            let edge = &edges[at];
            times[at][way].push(match way {
                0 => scan(edge, &[]),
                1 => scan(edge, &["--sip-own-connection"]),
                _ => runtime.block_on(floor(edge.dns.addr, edge.proxy.port(), trusted.clone())),
            });
        }
    }
    let median = |way: &[Duration]| way[way.len() / 2];
    let row = |way: &mut Vec<Duration>| {
        way.sort();
        format!(
            "{:>9.4} s [{:.4}–{:.4}]",
            median(way).as_secs_f64(),
            way[0].as_secs_f64(),
            way[way.len() - 1].as_secs_f64()
        )
    };
    let build = match &user_build {
        Some(path) => format!("the build at {path}"),
        None => "as built for this benchmark".to_string(),
    };
    println!(
        "one domain, default rules, round trip {} ms, fedscan {build}, {rounds} interleaved rounds, medians [min–max]:",
        rtt.as_millis()
    );
    for (edge, times) in edges.iter().zip(&mut times) {
        let minimum = rtt * edge.round_trips;
        println!("{}:", edge.title);
        println!("  fedscan scan                                 {}", row(&mut times[0]));
        println!("  the same, OPTIONS on a connection of its own {}", row(&mut times[1]));
        println!("  floor: the dependent work alone, in-process  {}", row(&mut times[2]));
        println!(
            "  critical path: {} dependent round trips x {} ms {:>9.4} s\n    ({})",
            edge.round_trips,
            rtt.as_millis(),
            minimum.as_secs_f64(),
            edge.path
        );
        let took = median(&times[0]);
        let of_critical_path = took.as_secs_f64() / minimum.as_secs_f64();
        println!(
            "  the scan takes {of_critical_path:.3}x the critical path ({:.2} round trips' worth; goal ≤ 1.05x: {}), \
             {:.3}x the floor",
            took.as_secs_f64() / rtt.as_secs_f64(),
            if of_critical_path <= 1.05 { "met" } else { "NOT met" },
            took.as_secs_f64() / median(&times[2]).as_secs_f64(),
        );
    }
    println!("(the floor pays the same delays and timers as the scan, but no process start, rule loading or report)");
}

/// The scan's dependent work and nothing else, through the same delays: the
/// SRV question, then its target's address, then a TLS handshake with the
/// Edge (the test root trusted) and OPTIONS on it — and beside OPTIONS, if
/// the handshake settled TLS 1.3, the TLS 1.2 hello that TLS-VER-01 then
/// asks for (the scan's own, on a connection of its own).
async fn floor(resolver: SocketAddr, edge_port: u16, root: rustls::pki_types::CertificateDer<'static>) -> Duration {
    use hickory_resolver::config::{NameServerConfig, ResolverConfig};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(root).expect("a root");
    let config = std::sync::Arc::new(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let mut ns = NameServerConfig::udp_and_tcp(resolver.ip());
    for connection in &mut ns.connections {
        connection.port = resolver.port();
    }
    let mut builder = hickory_resolver::Resolver::builder_with_config(
        ResolverConfig::from_parts(None, vec![], vec![ns]),
        TokioRuntimeProvider::default(),
    );
    builder.options_mut().cache_size = 0;
    let dns = builder.build().expect("a resolver");
    let started = Instant::now();
    dns.lookup("_sipfederationtls._tcp.contoso.com.", hickory_proto::rr::RecordType::SRV).await.expect("the SRV");
    dns.lookup("edge.contoso.com.", hickory_proto::rr::RecordType::A).await.expect("the address");
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", edge_port)).await.expect("a connection");
    // As the scan's: a small write is not held back for the previous one's acknowledgement.
    stream.set_nodelay(true).expect("no delay");
    let name = rustls::pki_types::ServerName::try_from("edge.contoso.com").expect("a name");
    let mut tls = tokio_rustls::TlsConnector::from(config).connect(name, stream).await.expect("a handshake");
    let request = "OPTIONS sip:edge.contoso.com SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKfloor\r\n\
                   Max-Forwards: 70\r\nFrom: <sip:floor@contoso.com>;tag=1\r\nTo: <sip:edge.contoso.com>\r\n\
                   Call-ID: floor@contoso.com\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    let settled_tls13 = tls.get_ref().1.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3);
    let options = async {
        tls.write_all(request.as_bytes()).await.expect("OPTIONS sent");
        let mut answer = Vec::new();
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            assert!(tls.read_buf(&mut answer).await.expect("an answer") > 0, "the Edge answered OPTIONS");
        }
    };
    let tls12_hello = async {
        if settled_tls13 {
            let edge =
                Endpoint { host: "edge.contoso.com".into(), address: Ipv4Addr::LOCALHOST.into(), port: edge_port };
            let answer = legacy::hello(&edge, 0x0303, Budget::for_endpoint(Duration::from_secs(5))).await;
            assert_eq!(answer.accepted, Some(true), "the Edge accepted TLS 1.2");
        }
    };
    tokio::join!(options, tls12_hello);
    started.elapsed()
}

/// A TCP relay to `backend` that holds every chunk `one_way` in each
/// direction, as a link with that latency would (chunks keep their order and
/// are not slowed by each other), and the client's bytes until the TCP
/// handshake a link would have made first (SYN, SYN-ACK: a round trip from
/// the connection's start) was over.
async fn delay_line(backend: SocketAddr, one_way: Duration) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let handshake_over = Instant::now() + 2 * one_way;
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(backend).await else { return };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::join!(
                    relay(client_read, server_write, one_way, handshake_over),
                    relay(server_read, client_write, one_way, Instant::now())
                );
            });
        }
    });
    addr
}

/// Relays `from` to `to`, each chunk `delay` after it was read and not
/// before `delay` after `open`.
async fn relay(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
    open: Instant,
) {
    let (sender, mut receiver) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buffer = vec![0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buffer).await {
            if n == 0 || sender.send((Instant::now().max(open) + delay, buffer[..n].to_vec())).is_err() {
                break;
            }
        }
    };
    let writer = async move {
        while let Some((due, bytes)) = receiver.recv().await {
            peers::sleep_until_exactly(due).await;
            if to.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

//! How long a whole live scan takes, side by side: many SIP domains, each
//! with its federation SRV record (an in-process DNS server) and its own
//! Edge name on a SIP-over-TLS responder, scanned through DNS, TLS and SIP
//! by the release binary with the default concurrency and one at a time;
//! then the same facts replayed without network.
//!
//!   cargo bench --bench scan            # 200 domains
//!   FEDSCAN_BENCH_DOMAINS=1000 cargo bench --bench scan
//!   FEDSCAN_BENCH_FACTS=/tmp/bench.facts.json cargo bench --bench scan
//!
//! Everything runs on loopback, so the figures are the scanner's own cost
//! (handshakes, parsing, judging), not network latency, which concurrency
//! hides far better still.

#[path = "../tests/peers/mod.rs"]
mod peers;

use std::process::Command;
use std::time::{Duration, Instant};

use peers::dns::{DnsServer, federation_zone};
use peers::sip::{Behaviour, SipServer};
use peers::tls::{LeafSpec, Pki};

const RUNS: usize = 3;

fn main() {
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
        command
    };
    let mut replay = Command::new(binary);
    replay.args(["scan", "--format", "json", "--facts"]).arg(&facts);

    println!("fedscan scan of {domains} domains (DNS + TLS + SIP per domain, loopback), best of {RUNS}:");
    let concurrent = best(&mut live("32"));
    let sequential = best(&mut live("1"));
    let replayed = best(&mut replay);
    row("live, --concurrency 32 (default)", concurrent, domains);
    row("live, --concurrency 1", sequential, domains);
    row("replay of the saved facts (--facts)", replayed, domains);
    println!(
        "concurrency 32 is {:.1}x faster than 1; replay is {:.0}x faster than the live scan",
        sequential.as_secs_f64() / concurrent.as_secs_f64(),
        concurrent.as_secs_f64() / replayed.as_secs_f64()
    );
}

/// The shortest of `RUNS` runs; a run that fails to produce a report stops
/// the benchmark.
fn best(command: &mut Command) -> Duration {
    (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let output = command.output().expect("run fedscan");
            let elapsed = started.elapsed();
            assert!(
                matches!(output.status.code(), Some(0 | 1 | 3)),
                "fedscan failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            elapsed
        })
        .min()
        .expect("at least one run")
}

fn row(what: &str, took: Duration, domains: usize) {
    println!(
        "  {what:<40} {:>8.3} s  {:>8.2} ms per domain",
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / domains as f64
    );
}

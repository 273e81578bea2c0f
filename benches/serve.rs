//! `fedscan serve` under a scrape storm: 10,000 scrapes over 100 allowed
//! domains, 4 scrapers at once, every scrape a probe (no reuse interval);
//! the exporter's resident memory printed as the scrapes go, beside the
//! blackbox exporter (Debian's prometheus-blackbox-exporter) taking the same
//! storm of TCP probes, when installed. Each probe asks a resolver of the
//! benchmark's that says NXDOMAIN to everything, so it runs the whole scan
//! sequence (plan, DNS, judging, metrics) in milliseconds without an Edge.
//!
//!   cargo bench --bench serve
//!   FEDSCAN_BENCH_SCRAPES=50000 cargo bench --bench serve

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const SCRAPERS: usize = 4;
const DOMAINS: usize = 100;

fn get(addr: SocketAddr, path: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Resident and peak resident memory of a process, in MB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Scrapes `path_of(i)` `total` times from `SCRAPERS` threads; the memory
/// of `pid` after each tenth of them.
fn storm(name: &str, pid: u32, addr: SocketAddr, total: usize, path_of: impl Fn(usize) -> String + Sync) {
    println!("{name}");
    println!("  {:>8}  {:>9}  {:>9}  {:>8}", "scrapes", "RSS MB", "peak MB", "seconds");
    let (rss, peak) = memory(pid);
    println!("  {:>8}  {rss:>9.1}  {peak:>9.1}  {:>8.2}", 0, 0.0);
    let started = Instant::now();
    let step = total / 10;
    let mut failed = 0;
    for tenth in 0..10 {
        let failures: usize = std::thread::scope(|threads| {
            let running: Vec<_> = (0..SCRAPERS)
                .map(|scraper| {
                    let path_of = &path_of;
                    threads.spawn(move || {
                        (0..step / SCRAPERS)
                            .filter(|i| get(addr, &path_of(tenth * step + i * SCRAPERS + scraper)) != 200)
                            .count()
                    })
                })
                .collect();
            running.into_iter().map(|t| t.join().unwrap()).sum()
        });
        failed += failures;
        let (rss, peak) = memory(pid);
        println!("  {:>8}  {rss:>9.1}  {peak:>9.1}  {:>8.2}", (tenth + 1) * step, started.elapsed().as_secs_f64());
    }
    println!("  {failed} scrapes not answered 200");
}

struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A resolver on loopback that answers every question NXDOMAIN, the
/// question echoed; its address.
fn nxdomain_resolver() -> SocketAddr {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 1500];
        while let Ok((len, from)) = socket.recv_from(&mut buffer) {
            let query = &buffer[..len];
            // The question: its name's labels up to the root, type, class.
            let mut end = 12;
            while end < len && query[end] != 0 {
                end += 1 + usize::from(query[end]);
            }
            end += 5;
            if len < 12 || end > len {
                continue;
            }
            let mut answer = Vec::with_capacity(end);
            answer.extend_from_slice(&query[..2]);
            answer.extend_from_slice(&[0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0]);
            answer.extend_from_slice(&query[12..end]);
            let _ = socket.send_to(&answer, from);
        }
    });
    addr
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn main() {
    let total: usize = std::env::var("FEDSCAN_BENCH_SCRAPES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let targets: Vec<String> = (0..DOMAINS).map(|i| format!("\"d{i}.example\"")).collect();
    let config = dir.path().join("serve.toml");
    let resolver = nxdomain_resolver();
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ntargets = [{}]\nmin_interval_seconds = 0\nmax_probes_in_flight = 8\n\
             [modules.federation]\nargs = [\"--resolver\", \"{resolver}\", \"--timeout\", \"1\", \"--dns-attempts\", \"1\"]\n",
            targets.join(", ")
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fedscan"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let addr: SocketAddr = line.trim().rsplit("http://").next().unwrap().parse().unwrap();
    let fedscan = Stopped(child);
    storm(
        &format!("fedscan serve: {total} scrapes of /probe, {DOMAINS} domains, {SCRAPERS} at once, each a probe"),
        fedscan.0.id(),
        addr,
        total,
        |i| format!("/probe?target=d{}.example&module=federation", i % DOMAINS),
    );

    let blackbox = ["/usr/bin/prometheus-blackbox-exporter", "/usr/local/bin/blackbox_exporter"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(blackbox) = blackbox else {
        println!("the blackbox exporter is not installed (prometheus-blackbox-exporter): no comparison");
        return;
    };
    let blackbox_yml = dir.path().join("blackbox.yml");
    std::fs::write(&blackbox_yml, "modules:\n  tcp:\n    prober: tcp\n    timeout: 1s\n").unwrap();
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = Command::new(blackbox)
        .arg(format!("--config.file={}", blackbox_yml.display()))
        .arg(format!("--web.listen-address={listen}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let peer = Stopped(child);
    while TcpStream::connect(listen).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    storm(
        &format!(
            "the blackbox exporter: {total} scrapes of a TCP probe to a closed port (the same storm, a lighter probe)"
        ),
        peer.0.id(),
        listen,
        total,
        |_| "/probe?target=127.0.0.1:9&module=tcp".to_string(),
    );
}

//! How long `fedscan scan --offline --zone` takes to judge every DNS rule
//! for a planned zone of many SIP domains (a hosting provider's zone, each
//! domain with its federation and client records), beside BIND's
//! `named-checkzone` loading and checking the same file.
//!
//!   cargo bench --bench zone                      # 10,000 SIP domains
//!   FEDSCAN_BENCH_ZONE_DOMAINS=50000 cargo bench --bench zone

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Rounds: every command runs once a round, in turn, so that a slow moment
/// of the machine falls on all of them; each figure is the median.
const ROUNDS: usize = 7;

/// The median and the spread of a command's times over the rounds.
struct Times(Vec<Duration>);

impl Times {
    fn median(&self) -> f64 {
        let mut times = self.0.clone();
        times.sort();
        times[times.len() / 2].as_secs_f64()
    }

    fn spread(&self) -> String {
        let (min, max) = (self.0.iter().min().unwrap(), self.0.iter().max().unwrap());
        format!("{:.3}-{:.3}", min.as_secs_f64(), max.as_secs_f64())
    }
}

fn timed(run: &mut dyn FnMut()) -> Duration {
    let started = Instant::now();
    run();
    started.elapsed()
}

/// The zone `hoster.test` with `domains` SIP domains below it, and the
/// list of those domains.
fn write_zone(dir: &Path, domains: usize) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut zone = String::from(
        "$ORIGIN hoster.test.\n$TTL 3600\n@ IN SOA ns1 hostmaster 2026120601 3600 600 1209600 300\n@ IN NS ns1\nns1 IN A 198.51.100.53\n",
    );
    let mut list = String::new();
    for i in 0..domains {
        let d = format!("d{i}");
        let address = format!("198.51.{}.{}", 100 + (i / 250) % 100, 1 + i % 250);
        writeln!(zone, "_sipfederationtls._tcp.{d} IN SRV 0 0 5061 sip.{d}.hoster.test.").unwrap();
        writeln!(zone, "_sip._tls.{d} IN SRV 0 0 443 sip.{d}.hoster.test.").unwrap();
        writeln!(zone, "sip.{d} IN A {address}").unwrap();
        writeln!(zone, "lyncdiscover.{d} IN A {address}").unwrap();
        writeln!(list, "{d}.hoster.test").unwrap();
    }
    let (zone_path, list_path) = (dir.join("hoster.test.zone"), dir.join("domains.txt"));
    std::fs::write(&zone_path, zone).unwrap();
    std::fs::write(&list_path, list).unwrap();
    (zone_path, list_path)
}

fn main() {
    let domains: usize =
        std::env::var("FEDSCAN_BENCH_ZONE_DOMAINS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let (zone, list) = write_zone(dir.path(), domains);
    let facts = dir.path().join("facts.json");
    let fedscan = |args: &[&std::ffi::OsStr], format: &str, accepted: &[i32]| {
        let report = dir.path().join(format!("report.{format}"));
        let output = Command::new(env!("CARGO_BIN_EXE_fedscan"))
            .args(["scan", "--quiet", "--format", format, "--now", "2026-12-06T00:00:00Z"])
            .args(args)
            .arg("-o")
            .arg(&report)
            .output()
            .unwrap();
        let code = output.status.code().unwrap_or(-1);
        assert!(accepted.contains(&code), "exit {code}: {}", String::from_utf8_lossy(&output.stderr));
        report
    };
    let planned: Vec<&std::ffi::OsStr> = vec![
        "--offline".as_ref(),
        "--only".as_ref(),
        "DNS-*".as_ref(),
        "--zone".as_ref(),
        zone.as_os_str(),
        "--domains-file".as_ref(),
        list.as_os_str(),
    ];
    // The facts a replay judges, saved once.
    let mut saving = planned.clone();
    saving.extend(["--save-facts".as_ref(), facts.as_os_str()]);
    fedscan(&saving, "ndjson", &[0, 1]);
    let report = fedscan(&planned, "ndjson", &[0, 1]);
    let findings = std::fs::read_to_string(&report).unwrap().lines().filter(|l| l.contains("\"finding\"")).count();

    let checker = ["/usr/bin/named-checkzone", "/usr/sbin/named-checkzone"].into_iter().find(|p| Path::new(p).exists());
    type Case<'a> = (&'a str, Box<dyn FnMut() + 'a>);
    let mut cases: Vec<Case> = vec![
        ("fedscan, every finding as NDJSON", Box::new(|| drop(fedscan(&planned, "ndjson", &[0, 1])))),
        ("fedscan, the table (failures and errors)", Box::new(|| drop(fedscan(&planned, "table", &[0, 1])))),
        ("fedscan, SARIF for code scanning", Box::new(|| drop(fedscan(&planned, "sarif", &[0, 1])))),
        // Where the time goes: the zone read and answered with a rule that
        // judges nothing (exit 3: a scan that judged nothing says so, never
        // 2, a zone that could not be read), and the judging and writing
        // alone (a replay of the same facts).
        (
            "  of which reading the zone",
            Box::new(|| {
                let only_read: Vec<&std::ffi::OsStr> = vec![
                    "--offline".as_ref(),
                    "--only".as_ref(),
                    "DNS-XMPP-01".as_ref(),
                    "--zone".as_ref(),
                    zone.as_os_str(),
                ];
                drop(fedscan(&only_read, "ndjson", &[0, 1, 3]));
            }),
        ),
        (
            "  judging and writing alone (a replay)",
            Box::new(|| {
                drop(fedscan(
                    &["--only".as_ref(), "DNS-*".as_ref(), "--facts".as_ref(), facts.as_os_str()],
                    "ndjson",
                    &[0, 1],
                ))
            }),
        ),
    ];
    if let Some(checker) = checker {
        let zone = &zone;
        cases.push((
            "named-checkzone, load and check the same file",
            Box::new(move || {
                let output = Command::new(checker).arg("hoster.test").arg(zone).output().unwrap();
                assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
            }),
        ));
    }
    let mut times: Vec<Times> = cases.iter().map(|_| Times(Vec::new())).collect();
    for _ in 0..ROUNDS {
        for ((_, run), times) in cases.iter_mut().zip(&mut times) {
            times.0.push(timed(run.as_mut()));
        }
    }
    let bytes = std::fs::metadata(dir.path().join("hoster.test.zone")).unwrap().len();
    println!(
        "a planned zone of {domains} SIP domains ({} KB, {} records, {findings} findings), \
         `fedscan scan --offline --only 'DNS-*' --zone FILE --domains-file LIST`; \
         median of {ROUNDS} interleaved rounds (min-max):",
        bytes >> 10,
        5 + 4 * domains
    );
    for ((name, _), times) in cases.iter().zip(&times) {
        println!("  {name:<48} {:>7.3} s   ({} s)", times.median(), times.spread());
    }
    match checker {
        Some(_) => {
            let check = times.last().unwrap().median();
            for ((name, _), times) in cases.iter().zip(&times).take(3) {
                println!("{name}: {:.1}x named-checkzone's time", times.median() / check);
            }
        }
        None => println!("named-checkzone is not installed (bind9-utils): no comparison"),
    }
    if domains == 10_000 {
        let slowest = times.iter().take(3).map(Times::median).fold(0.0, f64::max);
        let verdict = if slowest <= 1.0 { "met" } else { "NOT met" };
        println!("goal: 10,000 SIP domains judged in at most 1 s in every format above: {verdict} ({slowest:.3} s)");
    }
}

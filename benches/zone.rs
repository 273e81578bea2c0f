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

const RUNS: usize = 3;

fn best(mut run: impl FnMut()) -> Duration {
    (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .min()
        .unwrap()
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
    let report = dir.path().join("report.ndjson");
    let mut findings = 0;
    let scan = best(|| {
        let output = Command::new(env!("CARGO_BIN_EXE_fedscan"))
            .args([
                "scan",
                "--offline",
                "--quiet",
                "--only",
                "DNS-*",
                "--format",
                "ndjson",
                "--now",
                "2026-12-06T00:00:00Z",
            ])
            .arg("--zone")
            .arg(&zone)
            .arg("--domains-file")
            .arg(&list)
            .arg("-o")
            .arg(&report)
            .output()
            .unwrap();
        assert!(output.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&output.stderr));
        findings = std::fs::read_to_string(&report).unwrap().lines().filter(|l| l.contains("\"finding\"")).count();
    });
    // Where the time goes: the zone read alone (a rule that asks nothing),
    // and the judging and writing alone (a replay of the same facts).
    let run = |args: &[&std::ffi::OsStr]| {
        let output = Command::new(env!("CARGO_BIN_EXE_fedscan"))
            .args(["scan", "--quiet", "--format", "ndjson", "--now", "2026-12-06T00:00:00Z"])
            .args(args)
            .arg("-o")
            .arg(&report)
            .output()
            .unwrap();
        // A rule asking nothing judges nothing: exit 3, as a scan that
        // could not judge says; never 2, a zone that could not be read.
        assert!(matches!(output.status.code(), Some(0 | 1 | 3)), "{}", String::from_utf8_lossy(&output.stderr));
    };
    let (zone_arg, list_arg) = (zone.as_os_str(), list.as_os_str());
    let read_only =
        best(|| run(&["--offline".as_ref(), "--only".as_ref(), "DNS-XMPP-01".as_ref(), "--zone".as_ref(), zone_arg]));
    let facts = dir.path().join("facts.json");
    run(&[
        "--offline".as_ref(),
        "--only".as_ref(),
        "DNS-*".as_ref(),
        "--zone".as_ref(),
        zone_arg,
        "--domains-file".as_ref(),
        list_arg,
        "--save-facts".as_ref(),
        facts.as_os_str(),
    ]);
    let replay = best(|| run(&["--only".as_ref(), "DNS-*".as_ref(), "--facts".as_ref(), facts.as_os_str()]));
    let bytes = std::fs::metadata(&zone).unwrap().len();
    println!(
        "a planned zone of {domains} SIP domains ({} KB, {} records), best of {RUNS}:",
        bytes >> 10,
        5 + 4 * domains
    );
    println!("  fedscan scan --offline --zone, every DNS rule   {:>8.3} s   {findings} findings", scan.as_secs_f64());
    println!("    of which reading the zone (a rule asking nothing) {:>6.3} s", read_only.as_secs_f64());
    println!("    judging and writing alone (a replay of its facts) {:>6.3} s", replay.as_secs_f64());
    let checker = ["/usr/bin/named-checkzone", "/usr/sbin/named-checkzone"].into_iter().find(|p| Path::new(p).exists());
    match checker {
        Some(checker) => {
            let check = best(|| {
                let output = Command::new(checker).arg("hoster.test").arg(&zone).output().unwrap();
                assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
            });
            println!("  named-checkzone (load and check the same file) {:>8.3} s", check.as_secs_f64());
            println!(
                "fedscan judging the zone is {:.1}x named-checkzone's time",
                scan.as_secs_f64() / check.as_secs_f64()
            );
        }
        None => println!("  named-checkzone is not installed (bind9-utils): no comparison"),
    }
}

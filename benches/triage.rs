//! What a large baseline and a large suppressions file cost a scan, beside
//! the same scan without them (the floor: replaying the bundled sample's
//! facts to a JSON report). Each run's wall time and peak RSS are the
//! fedscan process's own (wait4), measured from a small process: a child
//! forked from the one that built the files would count their memory too.
//!
//!   cargo bench --bench triage                       # 100,000 findings, 36,500 entries
//!   FEDSCAN_BENCH_FINDINGS=300000 FEDSCAN_BENCH_SUPPRESSIONS=100000 cargo bench --bench triage

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

const RUNS: usize = 3;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs fedscan with `args`: its best wall time and its largest peak RSS
/// (KiB) over [`RUNS`] runs, and its exit code.
fn measure(args: &[OsString]) -> (Duration, i64, Option<i32>) {
    let (mut best, mut peak, mut code) = (Duration::MAX, 0, None);
    for _ in 0..RUNS {
        let started = Instant::now();
        // Reaped by wait4 below, which also gives its resource usage.
        #[allow(clippy::zombie_processes)]
        let child = Command::new(env!("CARGO_BIN_EXE_fedscan")).args(args).spawn().expect("run fedscan");
        let mut status = 0;
        // SAFETY: wait4 on the child just spawned, writing into the structs given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
        assert_eq!(waited, child.id() as libc::pid_t, "wait4: {}", std::io::Error::last_os_error());
        best = best.min(started.elapsed());
        peak = peak.max(usage.ru_maxrss);
        code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    }
    (best, peak, code)
}

/// Set when this benchmark runs again to measure, in a process of its own.
const MEASURE_IN: &str = "FEDSCAN_BENCH_TRIAGE_DIR";

fn main() {
    if let Ok(dir) = std::env::var(MEASURE_IN) {
        return measure_all(Path::new(&dir));
    }
    let findings = env_or("FEDSCAN_BENCH_FINDINGS", 100_000);
    let entries = env_or("FEDSCAN_BENCH_SUPPRESSIONS", 36_500);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let facts = root.join("fixtures/sample/contoso.facts.json");
    let dir = tempfile::tempdir().unwrap();

    // A baseline of `findings` problems: the sample's own report, its
    // findings repeated with targets of their own (evidence and all).
    let sample = Command::new(env!("CARGO_BIN_EXE_fedscan"))
        .args(["scan", "--format", "json", "--facts"])
        .arg(&facts)
        .output()
        .unwrap();
    let mut report: Value = serde_json::from_slice(&sample.stdout).unwrap();
    let originals: Vec<Value> = report["findings"].as_array().unwrap().clone();
    let mut many = Vec::with_capacity(findings);
    for i in 0..findings {
        let mut finding = originals[i % originals.len()].clone();
        finding["status"] = Value::from(if i % 7 == 0 { "error" } else { "fail" });
        finding["target"] = Value::from(format!("sip{i}.d{}.example:5061 (192.0.2.{})", i / 250, i % 250));
        many.push(finding);
    }
    report["findings"] = Value::Array(many);
    let baseline = dir.path().join("baseline.json");
    std::fs::write(&baseline, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    let baseline_mb = std::fs::metadata(&baseline).unwrap().len() as f64 / 1e6;

    // `entries` suppressions: wildcard targets over rule prefixes and IDs,
    // a quarter of them exact targets.
    let rules = ["TLS-*", "DNS-FED-01", "SIP-*", "CFG-AEC-01", "PROV-*"];
    let mut text = String::new();
    for i in 0..entries {
        let target = match i % 4 {
            0 => format!("sip{i}.d{}.example:5061 (192.0.2.{})", i / 250, i % 250),
            1 => format!("sip{i}.*.example:5061*"),
            2 => format!("*.d{i}.example*"),
            _ => format!("sip?{i}*"),
        };
        text.push_str(&format!(
            "[[ignore]]\nrule = \"{}\"\ntarget = \"{target}\"\nreason = \"accepted in CHG-{i}\"\n\n",
            rules[i % rules.len()]
        ));
    }
    std::fs::write(dir.path().join("ignore.toml"), text).unwrap();
    std::fs::write(dir.path().join("sizes"), format!("{findings} {entries} {baseline_mb:.0}")).unwrap();
    drop(report);
    let measured = Command::new(std::env::current_exe().unwrap()).env(MEASURE_IN, dir.path()).status().unwrap();
    assert!(measured.success());
}

fn measure_all(dir: &Path) {
    let sizes = std::fs::read_to_string(dir.join("sizes")).unwrap();
    let [findings, entries, baseline_mb]: [&str; 3] = sizes.split(' ').collect::<Vec<_>>().try_into().unwrap();
    let facts = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/contoso.facts.json");
    let (baseline, ignore, out) = (dir.join("baseline.json"), dir.join("ignore.toml"), dir.join("report.json"));
    let base: Vec<OsString> = ["scan", "--quiet", "--format", "json", "-o"]
        .iter()
        .map(OsString::from)
        .chain([out.into_os_string(), "--facts".into(), facts.into_os_string()])
        .collect();
    let with = |flag: &str, path: &Path| {
        let mut args = base.clone();
        args.extend([flag.into(), path.as_os_str().to_owned()]);
        if flag != "--ignore-file" {
            args.push("--no-ignore-file".into());
        }
        args
    };
    let mut floor_args = base.clone();
    floor_args.push("--no-ignore-file".into());
    let (floor, floor_rss, _) = measure(&floor_args);
    let (with_baseline, baseline_rss, code) = measure(&with("--baseline", &baseline));
    assert!(matches!(code, Some(0 | 1 | 3)), "the scan with the baseline failed: {code:?}");
    let (with_ignore, ignore_rss, code) = measure(&with("--ignore-file", &ignore));
    assert!(matches!(code, Some(0 | 1 | 3)), "the scan with the suppressions failed: {code:?}");
    let row = |what: &str, time: Duration, rss: i64| {
        println!("  {what:<52} {:>8.3} s  {:>7.1} MB peak RSS", time.as_secs_f64(), rss as f64 / 1024.0);
    };
    println!("the bundled sample's facts replayed to a JSON report (best of {RUNS}):");
    row("floor: no baseline, no suppressions", floor, floor_rss);
    row(&format!("with a baseline of {findings} problems ({baseline_mb} MB)"), with_baseline, baseline_rss);
    row(&format!("with {entries} suppressions"), with_ignore, ignore_rss);
}

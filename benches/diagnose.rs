//! How long `fedscan diagnose` takes on a large trace, beside the floor of
//! the same work: reading the same file line by line and finding the lines
//! with an `ms-diagnostics` header, which any diagnosis must at least do.
//!
//!   cargo bench --bench diagnose        # a 50 MB trace
//!   FEDSCAN_BENCH_TRACE_MB=200 cargo bench --bench diagnose

#[path = "../tests/all/common/traces.rs"]
mod traces;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

const RUNS: usize = 3;

fn best(mut run: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut result = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        result = run();
        best = best.min(started.elapsed());
    }
    (best, result)
}

fn main() {
    let megabytes: usize = std::env::var("FEDSCAN_BENCH_TRACE_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.log");
    let (written, copies) = traces::write_large_trace(&path, megabytes);

    let (floor, found) = best(|| {
        let reader = BufReader::with_capacity(64 * 1024, std::fs::File::open(&path).unwrap());
        reader.split(b'\n').map(Result::unwrap).filter(|l| l.windows(14).any(|w| w == b"ms-diagnostics")).count()
    });
    let (diagnosis, kept) = best(|| {
        let reader = BufReader::with_capacity(64 * 1024, std::fs::File::open(&path).unwrap());
        let diagnosis = fedscan::diagnose::diagnose(reader, "bench", &["contoso.com".into()]).unwrap();
        diagnosis.transactions.len() + diagnosis.transactions_not_kept
    });
    let mb = written as f64 / (1024.0 * 1024.0);
    println!("trace: {mb:.1} MiB, {copies} copies of fixtures/traces/sfb-edge.log (best of {RUNS})");
    println!(
        "  floor (read lines, find ms-diagnostics): {:>7.3} s  {:>6.0} MiB/s  {found} header lines",
        floor.as_secs_f64(),
        mb / floor.as_secs_f64()
    );
    println!(
        "  fedscan diagnose:                        {:>7.3} s  {:>6.0} MiB/s  {kept} failed transactions",
        diagnosis.as_secs_f64(),
        mb / diagnosis.as_secs_f64()
    );
}

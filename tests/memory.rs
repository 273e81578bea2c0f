//! What a run of fedscan costs in memory, measured on its own: the one test
//! binary beside `tests/all/`. A child's peak resident memory, as Linux
//! counts it, includes the memory of the process that started it, so these
//! tests run from a small process of their own, not from the binary that
//! holds every other test and its peers.

#[path = "all/common/traces.rs"]
mod traces;

use serde_json::Value;

/// Peak resident memory of the children this test process has waited for.
fn children_peak_kib() -> i64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct it is given.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) }, 0);
    usage.ru_maxrss
}

/// A 50 MB trace with tens of thousands of failures: read to its end with
/// bounded memory, the failures kept up to the cap and the rest counted.
#[test]
fn a_fifty_megabyte_trace_is_read_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let (_, copies) = traces::write_large_trace(&path, 50);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fedscan"))
        .args(["diagnose", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let diagnosis: Value = serde_json::from_slice(&output.stdout).unwrap();
    let kept = diagnosis["transactions"].as_array().unwrap().len();
    assert_eq!(kept, fedscan::diagnose::MAX_TRANSACTIONS);
    assert_eq!(diagnosis["transactions_not_kept"].as_u64().unwrap() as usize, copies * 3 - kept);
    assert_eq!(diagnosis["messages"].as_u64().unwrap() as usize, copies * 5);
    let peak_mib = children_peak_kib() / 1024;
    assert!(peak_mib < 200, "diagnosing a 50 MB trace peaked at {peak_mib} MiB");
}

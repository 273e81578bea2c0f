//! What a run of fedscan costs in memory, measured on its own: the one test
//! binary beside `tests/all/`. A child's peak resident memory, as Linux
//! counts it, includes the memory of the process that started it, so each
//! run is started by GNU time, which reports the peak of that run alone.

#[path = "all/common/traces.rs"]
mod traces;

use serde_json::Value;

/// A 50 MB trace with tens of thousands of failures: read to its end with
/// bounded memory, the failures kept up to the cap and the rest counted.
#[test]
fn a_fifty_megabyte_trace_is_read_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let (_, copies) = traces::write_large_trace(&path, 50);
    let json = dir.path().join("diagnosis.json");
    let mut diagnose = std::process::Command::new(env!("CARGO_BIN_EXE_fedscan"));
    diagnose.args(["diagnose", "--format", "json", "--output"]).arg(&json).arg(&path);
    let (code, peak_mib) = peak_mib_of(&diagnose);
    assert_eq!(code, 1);
    let diagnosis: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let kept = diagnosis["transactions"].as_array().unwrap().len();
    assert_eq!(kept, fedscan::diagnose::MAX_TRANSACTIONS);
    assert_eq!(diagnosis["transactions_not_kept"].as_u64().unwrap() as usize, copies * 3 - kept);
    assert_eq!(diagnosis["messages"].as_u64().unwrap() as usize, copies * 5);
    assert!(peak_mib < 200, "diagnosing a 50 MB trace peaked at {peak_mib} MiB");
}

#[path = "all/peers/mod.rs"]
mod peers;

/// Runs `command` to its end under GNU time and gives its exit code and its
/// own peak resident memory in MiB. Measured from this process, a child
/// would carry this process's size at the time it was started (Linux counts
/// the memory a process had before exec), and the other tests of this
/// binary make it large.
fn peak_mib_of(command: &std::process::Command) -> (i32, i64) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("peak");
    let status = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&report)
        .arg(command.get_program())
        .args(command.get_args())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("GNU time (scripts/test.sh installs it)");
    let kib: i64 = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("a peak in KiB");
    (status.code().unwrap_or(-1), kib / 1024)
}

/// A live batch of 2,000 SIP domains (Knot DNS and Kamailio, separate
/// processes) with its facts saved stays within 64 MiB in every report
/// format as it does streamed: their findings wait on disk, not in memory.
#[test]
fn a_batch_of_two_thousand_domains_is_scanned_in_64_mib_in_every_format() {
    let pki = peers::tls::Pki::new("Memory");
    let Some(edge) = peers::kamailio::Kamailio::start(&pki.leaf(&peers::tls::LeafSpec::default()), None) else {
        return;
    };
    let names: Vec<String> = (0..2000).map(|i| format!("m{i}.test")).collect();
    let records: String = names
        .iter()
        .map(|d| {
            let label = d.trim_end_matches(".test");
            format!(
                "_sipfederationtls._tcp.{label} 300 IN SRV 0 0 {} sip.{d}.\nsip.{label} 300 IN A 127.0.0.1\n",
                edge.addr.port()
            )
        })
        .collect();
    let Some(knot) = peers::knot::Knot::start(&[("test", &peers::dns::zone("test", &records))]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("domains.txt");
    std::fs::write(&list, names.join("\n")).unwrap();
    let root = pki.write_root(dir.path());
    let summary = regex::Regex::new(r"(?:Summary: |\*\*)(\d+) pass, (\d+) fail").unwrap();
    for format in ["json", "csv", "junit", "sarif", "ndjson", "table", "html", "markdown"] {
        let mut scan = std::process::Command::new(env!("CARGO_BIN_EXE_fedscan"));
        scan.args(["scan", "--quiet", "--format", format, "--resolver", &knot.resolver_arg(), "--domains-file"])
            .arg(&list)
            .arg("--trust")
            .arg(&root)
            .arg("--output")
            .arg(dir.path().join(format!("report.{format}")))
            .arg("--save-facts")
            .arg(dir.path().join(format!("{format}.facts.json")));
        let (code, peak) = peak_mib_of(&scan);
        assert_eq!(code, 1, "{format}");
        let written = std::fs::read_to_string(dir.path().join(format!("report.{format}"))).unwrap();
        let findings = match format {
            "json" => serde_json::from_str::<Value>(&written).unwrap()["findings"].as_array().unwrap().len(),
            "csv" => written.lines().count() - 1,
            "junit" => written.matches("<testcase ").count(),
            // SARIF has a result per problem, not per finding: the run's
            // summary counts them all.
            "sarif" => serde_json::from_str::<Value>(&written).unwrap()["runs"][0]["properties"]["summary"]["total"]
                .as_u64()
                .unwrap() as usize,
            "ndjson" => written.lines().filter(|l| l.starts_with(r#"{"record":"finding""#)).count(),
            "html" => {
                assert!(written.ends_with("</body></html>\n"));
                written.matches("<tr><td>").count()
            }
            // GitHub's limit leaves out the passes; the failures are all there.
            "markdown" => {
                assert!(written.contains("passes are left out") && !written.contains("### Passed\n\n<details>"));
                let summary = summary.captures(&written).expect("a summary");
                summary[1].parse::<usize>().unwrap() + summary[2].parse::<usize>().unwrap()
            }
            // One line per domain, and the summary's counts.
            _ => {
                let lines = written.lines().filter(|l| l.starts_with("  FAIL ") && l.contains(".test ")).count();
                assert_eq!(lines, 2000, "{written}");
                let counts = summary.captures(&written).expect("a summary");
                counts[1].parse::<usize>().unwrap() + counts[2].parse::<usize>().unwrap()
            }
        };
        assert!(findings > 50_000, "{format}: {findings} findings");
        assert!(peak < 64, "a batch of 2,000 domains as {format} peaked at {peak} MiB");
    }
    // Its saved facts replayed are judged in chunks as the scan was: the
    // same findings, in as little memory, whatever the reports.
    let live: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    let mut replay = std::process::Command::new(env!("CARGO_BIN_EXE_fedscan"));
    replay.args(["scan", "--quiet", "--format", "json", "--facts"]).arg(dir.path().join("json.facts.json"));
    replay.arg("--output").arg(dir.path().join("replay.json"));
    for format in ["sarif", "junit", "html"] {
        replay.arg("--report").arg(format!("{format}={}", dir.path().join(format!("replay.{format}")).display()));
    }
    let (code, peak) = peak_mib_of(&replay);
    assert_eq!(code, 1);
    let replayed: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("replay.json")).unwrap()).unwrap();
    assert_eq!(replayed["findings"], live["findings"]);
    assert_eq!(replayed["summary"]["by_status"], live["summary"]["by_status"]);
    assert!(peak < 64, "the replay of a batch of 2,000 domains peaked at {peak} MiB");
}

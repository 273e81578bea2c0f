//! Batches of domains: the rules that compare domains with each other judge
//! each organization (the domains that share an Edge) apart, so a batch gives
//! the findings that separate scans give.

use crate::common;
use crate::peers;
use std::collections::BTreeSet;

use common::{fedscan, json_of};
use peers::dns::{DnsServer, zone};
use peers::tls::{LeafSpec, Pki, TlsServer};
use serde_json::Value;

/// (rule, target, status, message) of every finding of the rules that ran.
fn findings_of(report: &Value) -> BTreeSet<common::FindingKey> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("not_run").is_none())
        .map(|f| common::finding_key(f, &str::to_string))
        .collect()
}

#[test]
fn two_organizations_in_one_batch_get_the_findings_of_two_scans() {
    // Contoso's Edge serves contoso.test and contoso.net.test but names only
    // the first; it has A and AAAA records. Fabrikam's Edge names its one
    // domain and has only an A record. In one batch, Fabrikam must not be
    // asked to name Contoso's domains, nor Contoso's IPv6 be compared with
    // Fabrikam's IPv4.
    let pki = Pki::new("Batch");
    let contoso_leaf = pki.leaf(&LeafSpec {
        common_name: "sip.contoso.test".into(),
        sans: vec!["sip.contoso.test".into()],
        ..LeafSpec::default()
    });
    let fabrikam_leaf = pki.leaf(&LeafSpec {
        common_name: "sip.fabrikam.test".into(),
        sans: vec!["sip.fabrikam.test".into()],
        ..LeafSpec::default()
    });
    let contoso_edge = TlsServer::start(&contoso_leaf, None);
    let fabrikam_edge = TlsServer::start(&fabrikam_leaf, None);
    let (c, f) = (contoso_edge.addr.port(), fabrikam_edge.addr.port());
    let zones = [
        (
            "contoso.test",
            zone(
                "contoso.test",
                &format!(
                    "_sipfederationtls._tcp 300 IN SRV 0 0 {c} sip.contoso.test.\nsip 300 IN A 127.0.0.1\nsip 300 IN AAAA ::1"
                ),
            ),
        ),
        (
            "contoso.net.test",
            zone("contoso.net.test", &format!("_sipfederationtls._tcp 300 IN SRV 0 0 {c} sip.contoso.test.")),
        ),
        (
            "fabrikam.test",
            zone(
                "fabrikam.test",
                &format!("_sipfederationtls._tcp 300 IN SRV 0 0 {f} sip.fabrikam.test.\nsip 300 IN A 127.0.0.1"),
            ),
        ),
    ];
    let pairs: Vec<(&str, &str)> = zones.iter().map(|(name, text)| (*name, text.as_str())).collect();
    let dns = DnsServer::start(&pairs);
    let dir = tempfile::tempdir().unwrap();
    let root = pki.write_root(dir.path());
    let scan = |domains: &[&str]| json_scan(&dns, &root, domains, &[]);
    let batch = scan(&["contoso.test", "contoso.net.test", "fabrikam.test"]);
    let contoso = scan(&["contoso.test", "contoso.net.test"]);
    let fabrikam = scan(&["fabrikam.test"]);
    let apart: BTreeSet<_> = findings_of(&contoso).union(&findings_of(&fabrikam)).cloned().collect();
    let together = findings_of(&batch);
    let only_batch: Vec<_> = together.difference(&apart).collect();
    let only_apart: Vec<_> = apart.difference(&together).collect();
    assert!(only_batch.is_empty() && only_apart.is_empty(), "batch only: {only_batch:#?}\napart only: {only_apart:#?}");
    // And the findings say what they should.
    let status = |rule: &str, target: &str| -> Vec<String> {
        together.iter().filter(|f| f.0 == rule && f.1 == target).map(|f| f.2.clone()).collect()
    };
    assert_eq!(status("TLS-NAME-04", &format!("sip.contoso.test:{c}")), ["fail"], "contoso.net.test is not named");
    assert_eq!(status("TLS-NAME-04", &format!("sip.fabrikam.test:{f}")), ["pass"]);
    // Judged under each organization's first domain (in the scan's order).
    assert_eq!(status("DNS-IPV6-01", "contoso.net.test"), ["pass"], "Contoso's one Edge host is dual-stacked");
    assert_eq!(status("DNS-IPV6-01", "fabrikam.test"), ["pass"], "Fabrikam is IPv4 only, consistently");
}

/// The JSON report of a live scan of `domains` through `dns`, trusting
/// `root`, with `extra` arguments.
fn json_scan(dns: &DnsServer, root: &std::path::Path, domains: &[&str], extra: &[&str]) -> Value {
    let output = fedscan()
        .arg("scan")
        .args(domains)
        .args(extra)
        .args(["--resolver", &dns.addr.to_string(), "--timeout", "2", "--format", "json", "--trust"])
        .arg(root)
        .output()
        .unwrap();
    json_of(&output)
}

/// A customer's SRV record names its provider's Edge, sip.hoster.test, a
/// name in the zone of another domain of the batch (the provider's own,
/// which publishes no SRV record and so is an organization apart). Judged a
/// domain at a time (chunks of one), each gets the findings of its own scan:
/// the Edge's address answer serves both chunks.
#[test]
fn a_batch_in_chunks_gives_each_domain_the_answers_its_path_crosses() {
    let pki = Pki::new("Hosted");
    let leaf = pki.leaf(&LeafSpec {
        common_name: "sip.hoster.test".into(),
        sans: vec!["sip.hoster.test".into(), "sip.customer.test".into()],
        ..LeafSpec::default()
    });
    let edge = TlsServer::start(&leaf, None);
    let port = edge.addr.port();
    let zones = [
        ("hoster.test", zone("hoster.test", "sip 300 IN A 127.0.0.1")),
        (
            "customer.test",
            zone("customer.test", &format!("_sipfederationtls._tcp 300 IN SRV 0 0 {port} sip.hoster.test.")),
        ),
    ];
    let pairs: Vec<(&str, &str)> = zones.iter().map(|(name, text)| (*name, text.as_str())).collect();
    let dns = DnsServer::start(&pairs);
    let dir = tempfile::tempdir().unwrap();
    let root = pki.write_root(dir.path());
    let scan = |domains: &[&str], facts: &str| {
        let facts = dir.path().join(facts);
        json_scan(
            &dns,
            &root,
            domains,
            &["--now", NOW, "--chunk-domains", "1", "--save-facts", facts.to_str().unwrap()],
        )
    };
    // About a domain or an endpoint: what is said of the scan as a whole
    // (no Edge reached, in the provider's lone scan) is the batch's to say.
    let of_domains = |report: &Value| -> BTreeSet<common::FindingKey> {
        findings_of(report).into_iter().filter(|f| f.1.contains(".test")).collect()
    };
    let batch = scan(&["hoster.test", "customer.test"], "batch.json");
    let apart: BTreeSet<_> = of_domains(&scan(&["customer.test"], "customer.json"))
        .union(&of_domains(&scan(&["hoster.test"], "hoster.json")))
        .cloned()
        .collect();
    let together = of_domains(&batch);
    let only_batch: Vec<_> = together.difference(&apart).collect();
    let only_apart: Vec<_> = apart.difference(&together).collect();
    assert!(only_batch.is_empty() && only_apart.is_empty(), "batch only: {only_batch:#?}\napart only: {only_apart:#?}");
    let handshake = format!("sip.hoster.test:{port} (127.0.0.1)");
    assert!(together.iter().any(|f| f.0 == "TLS-CON-01" && f.1 == handshake && f.2 == "pass"), "{together:#?}");
    // The answer both chunks read is saved once.
    let saved = common::read_json(dir.path().join("batch.json"));
    let edge_answers =
        saved["dns"].as_array().unwrap().iter().filter(|f| f["name"] == "sip.hoster.test" && f["type"] == "A");
    assert_eq!(edge_answers.count(), 1, "{:#}", saved["dns"]);
}

/// A fleet of `count` domains, each with its own Edge name, all on one
/// SIP-over-TLS responder; its DNS server, the domains file, the trust root.
struct Fleet {
    _edge: peers::sip::SipServer,
    dns: DnsServer,
    list: std::path::PathBuf,
    root: std::path::PathBuf,
    names: Vec<String>,
}

fn fleet(count: usize, dir: &std::path::Path) -> Fleet {
    fleet_of("d", count, None, dir)
}

/// `count` domains `{prefix}N.test` whose federation records name one Edge,
/// but for every `apart`-th, which publishes none (an organization of its own).
fn fleet_of(prefix: &str, count: usize, apart: Option<usize>, dir: &std::path::Path) -> Fleet {
    let pki = Pki::new("Fleet");
    let answer = b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    let edge = peers::sip::SipServer::start(&pki.leaf(&LeafSpec::default()), peers::sip::Behaviour::Answer(answer));
    let names: Vec<String> = (0..count).map(|i| format!("{prefix}{i}.test")).collect();
    let zones: Vec<(String, String)> = names
        .iter()
        .enumerate()
        .map(|(i, d)| match apart {
            Some(n) if i % n == n - 1 => (d.clone(), zone(d, "www 300 IN A 127.0.0.1")),
            _ => (d.clone(), peers::dns::federation_zone(d, edge.addr.port())),
        })
        .collect();
    let pairs: Vec<(&str, &str)> = zones.iter().map(|(d, z)| (d.as_str(), z.as_str())).collect();
    let dns = DnsServer::start(&pairs);
    let list = common::write(dir, "domains.txt", &names.join("\n"));
    let root = pki.write_root(dir);
    Fleet { _edge: edge, dns, list, root, names }
}

const NOW: &str = "2026-11-20T00:00:00Z";

#[test]
fn four_shards_run_by_gnu_parallel_merge_to_the_findings_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = fleet(1000, dir.path());
    let binary = assert_cmd::cargo::cargo_bin("fedscan");
    let one = dir.path().join("one.json");
    let single = std::process::Command::new(&binary)
        .args(["scan", "--now", NOW, "--quiet", "--format", "json", "--resolver", &fleet.dns.resolver_arg()])
        .arg("--domains-file")
        .arg(&fleet.list)
        .arg("--trust")
        .arg(&fleet.root)
        .arg("-o")
        .arg(&one)
        .output()
        .unwrap();
    assert!(one.exists(), "{}", String::from_utf8_lossy(&single.stderr));

    // GNU parallel runs the four shards, as the README shows.
    let shards = dir.path().join("shards");
    std::fs::create_dir(&shards).unwrap();
    let parallel = std::process::Command::new("parallel")
        .args(["--will-cite", "--halt", "never"])
        .arg(binary.as_os_str())
        .args(["scan", "--shard", "{}/4", "--now", NOW, "--quiet", "--resolver", &fleet.dns.resolver_arg()])
        .arg("--domains-file")
        .arg(&fleet.list)
        .arg("--trust")
        .arg(&fleet.root)
        .arg("--save-facts")
        .arg(shards.join("shard-{}.facts.json"))
        .args(["--format", "ndjson", "--output"])
        .arg(shards.join("shard-{}.ndjson"))
        .args([":::", "0", "1", "2", "3"])
        .output()
        .unwrap();
    let facts: Vec<std::path::PathBuf> = (0..4).map(|k| shards.join(format!("shard-{k}.facts.json"))).collect();
    for path in &facts {
        assert!(path.exists(), "{}: {}", path.display(), String::from_utf8_lossy(&parallel.stderr));
    }
    // Each domain in exactly one shard, and every shard has some.
    let mut seen = BTreeSet::new();
    for path in &facts {
        let shard = common::read_json(path);
        let domains = shard["inputs"]["domains"].as_array().unwrap();
        assert!(domains.len() > 150, "{}: {} domains", path.display(), domains.len());
        for domain in domains {
            assert!(seen.insert(domain.as_str().unwrap().to_string()), "{domain} in two shards");
        }
    }
    assert_eq!(seen, fleet.names.iter().cloned().collect::<BTreeSet<_>>());

    let merged = dir.path().join("merged.json");
    let merge = fedscan()
        .arg("merge")
        .args(&facts)
        .args(["--now", NOW, "--format", "json", "-o"])
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(
        merge.status.code(),
        single.status.code(),
        "the same exit code: {}",
        String::from_utf8_lossy(&merge.stderr)
    );
    let (one, merged) = (common::read_json(&one), common::read_json(&merged));
    let (a, b) = (findings_of(&one), findings_of(&merged));
    let only_one: Vec<_> = a.difference(&b).take(5).collect();
    let only_merged: Vec<_> = b.difference(&a).take(5).collect();
    assert!(
        only_one.is_empty() && only_merged.is_empty(),
        "one run only: {only_one:#?}\nmerged only: {only_merged:#?}"
    );
    // The same counts; only the live run did network work.
    let mut summary = one["summary"].clone();
    assert!(summary.as_object_mut().unwrap().remove("work").is_some());
    assert_eq!(summary, merged["summary"]);
    // A shard's own NDJSON report is whole too.
    let ndjson = std::fs::read_to_string(shards.join("shard-0.ndjson")).unwrap();
    assert_eq!(
        ndjson.lines().last().map(|l| serde_json::from_str::<Value>(l).unwrap()["record"].clone()),
        Some(Value::from("summary"))
    );
}

#[test]
fn the_kubernetes_indexed_job_is_valid_and_its_command_runs_a_shard() {
    let manifest = common::root("deploy/kubernetes/fedscan-shards.yaml");
    let checked = std::process::Command::new(common::test_tool("venv/bin/kubernetes-validate"))
        .arg("--strict")
        .arg(&manifest)
        .output()
        .unwrap();
    common::assert_ran(&checked, "kubernetes-validate");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("completionMode: Indexed"));
    let command = job_part(&manifest, "fedscan-shards", "main");
    assert!(command.contains("--shard \"${JOB_COMPLETION_INDEX}/4\""), "{command}");

    // The pod's command, as the cluster runs it for index 2, with the
    // volumes as directories and a resolver of the test's.
    let dir = tempfile::tempdir().unwrap();
    let fleet = fleet(40, dir.path());
    let config = dir.path().join("config");
    let results = dir.path().join("results");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::create_dir_all(&results).unwrap();
    std::fs::copy(&fleet.list, config.join("domains.txt")).unwrap();
    let command = command
        .replace("/config/", &format!("{}/", config.display()))
        .replace("/results/", &format!("{}/", results.display()))
        .replace(
            "fedscan scan",
            &format!("fedscan scan --resolver {} --trust {}", fleet.dns.resolver_arg(), fleet.root.display()),
        );
    let binary = assert_cmd::cargo::cargo_bin("fedscan");
    let path = format!("{}:{}", binary.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let pod = std::process::Command::new("/bin/sh")
        .args(["-c", &command])
        .env("JOB_COMPLETION_INDEX", "2")
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(
        pod.status.code(),
        Some(0),
        "the pod succeeds whatever the findings: {}",
        String::from_utf8_lossy(&pod.stderr)
    );
    let facts = common::read_json(results.join("shard-2.facts.json"));
    let expected: Vec<&String> = fleet.names.iter().filter(|d| fedscan::facts::names::shard_of(d, 4) == 2).collect();
    assert_eq!(facts["inputs"]["domains"].as_array().unwrap().len(), expected.len());
    assert!(results.join("shard-2.ndjson").exists());
}

/// A part of a Job in the manifest, as `job_command.py` prints it.
fn job_part(manifest: &std::path::Path, job: &str, part: &str) -> String {
    let printed = common::python_consumer("job_command.py", &[manifest.as_os_str(), job.as_ref(), part.as_ref()]);
    assert!(printed.status.success(), "{}", String::from_utf8_lossy(&printed.stderr));
    String::from_utf8(printed.stdout).unwrap()
}

/// Runs a Job's container command with a stand-in `fedscan` that exits with
/// `code`; the pod's exit code.
fn pod_exit_with_fedscan_exiting(command: &str, code: i32, dir: &std::path::Path) -> Option<i32> {
    let bin = dir.join(format!("stand-in-{code}"));
    std::fs::create_dir_all(&bin).unwrap();
    let fedscan = common::write(&bin, "fedscan", &format!("#!/bin/sh\nexit {code}\n"));
    std::fs::set_permissions(&fedscan, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let pod = std::process::Command::new("/bin/sh")
        .args(["-c", command])
        .env("JOB_COMPLETION_INDEX", "1")
        .env("PATH", path)
        .output()
        .unwrap();
    pod.status.code()
}

/// A cluster run fails on what retrying cannot fix: in both Jobs an input
/// error (exit 2) or a crash fails the pod, and the pod failure policy
/// fails the index (the merge Job) at once; findings (1) and errors (3)
/// are the report's business and the pod succeeds. The merge waits for
/// every shard's facts, and merges the four.
#[test]
fn the_kubernetes_jobs_fail_on_input_errors_and_merge_after_every_shard() {
    let manifest = common::root("deploy/kubernetes/fedscan-shards.yaml");
    let dir = tempfile::tempdir().unwrap();
    for job in ["fedscan-shards", "fedscan-merge"] {
        let command = job_part(&manifest, job, "main");
        for (fedscan_exit, pod_exit) in [(0, 0), (1, 0), (3, 0), (2, 2), (101, 101), (130, 130)] {
            assert_eq!(
                pod_exit_with_fedscan_exiting(&command, fedscan_exit, dir.path()),
                Some(pod_exit),
                "{job}: fedscan exits {fedscan_exit}"
            );
        }
        let policy: Value = serde_json::from_str(&job_part(&manifest, job, "--policy")).unwrap();
        let rules = policy["podFailurePolicy"]["rules"].as_array().unwrap();
        let on_2 = rules.iter().find(|r| r["onExitCodes"]["values"] == serde_json::json!([2])).unwrap();
        assert_eq!(on_2["onExitCodes"]["containerName"], "fedscan");
        assert_eq!(on_2["onExitCodes"]["operator"], "In");
        let expected = if job == "fedscan-shards" { "FailIndex" } else { "FailJob" };
        assert_eq!(on_2["action"], expected, "{job}");
        if job == "fedscan-shards" {
            assert_eq!(policy["maxFailedIndexes"], 0, "a failed index fails the Job");
        }
    }
    let merge = job_part(&manifest, "fedscan-merge", "main");
    for k in 0..4 {
        assert!(merge.contains(&format!("/results/shard-{k}.facts.json")), "{merge}");
    }
    // The wait ends when the four facts files are there, not before.
    let wait = job_part(&manifest, "fedscan-merge", "init");
    let results = dir.path().join("results");
    std::fs::create_dir_all(&results).unwrap();
    let wait = wait.replace("/results/", &format!("{}/", results.display()));
    let waiting = std::process::Command::new("/bin/sh").args(["-c", &wait]).spawn().unwrap();
    for k in 0..3 {
        std::fs::write(results.join(format!("shard-{k}.facts.json")), "{}").unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut waiting = waiting;
    assert!(waiting.try_wait().unwrap().is_none(), "the merge started with a shard missing");
    std::fs::write(results.join("shard-3.facts.json"), "{}").unwrap();
    let ended = std::time::Instant::now();
    while waiting.try_wait().unwrap().is_none() {
        assert!(ended.elapsed() < std::time::Duration::from_secs(30), "the wait did not end");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn qps_spaces_the_dns_questions() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = fleet(6, dir.path());
    let facts = dir.path().join("facts.json");
    let started = std::time::Instant::now();
    let output = fedscan()
        .args([
            "scan",
            "--only",
            "DNS-FED-01",
            "--qps",
            "20",
            "--quiet",
            "--format",
            "json",
            "--resolver",
            &fleet.dns.resolver_arg(),
        ])
        .arg("--domains-file")
        .arg(&fleet.list)
        .arg("--save-facts")
        .arg(&facts)
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let questions = common::read_json(&facts)["dns"].as_array().unwrap().len();
    assert!(questions >= 6, "{questions}");
    // n questions at 20 a second cannot all be asked in less than (n-1)/20 s.
    let floor = std::time::Duration::from_secs_f64((questions - 1) as f64 / 20.0);
    assert!(elapsed >= floor, "{questions} questions in {elapsed:?}, under the {floor:?} that 20 a second allows");
}

#[test]
fn a_lync_2013_edge_costs_one_connection_for_tls_1_2_and_one_more_per_legacy_version() {
    // As every Lync Server 2013 Edge: its full handshake settles TLS 1.2,
    // which also says TLS 1.3 is refused, since the handshake offered it.
    let pki = Pki::new("Contoso");
    let answer = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec();
    let edge =
        peers::sip::SipServer::start_tls12(&pki.leaf(&LeafSpec::default()), peers::sip::Behaviour::Answer(answer));
    let dns = DnsServer::start(&[("contoso.com", &peers::dns::federation_zone("contoso.com", edge.addr.port()))]);
    let dir = tempfile::tempdir().unwrap();
    let root = pki.write_root(dir.path());
    let scan = |only: &str| {
        let output = fedscan()
            .args(["scan", "contoso.com", "--quiet", "--format", "json", "--resolver", &dns.resolver_arg()])
            .args(["--only", only, "--now", "2026-06-01T00:00:00Z", "--trust"])
            .arg(&root)
            .output()
            .unwrap();
        json_of(&output)
    };
    let endpoint = format!("sip.contoso.com:{} (127.0.0.1)", edge.addr.port());
    // TLS 1.2 and 1.3: the handshake alone, no hello beside it.
    let report = scan("TLS-VER-01");
    let work = &report["summary"]["work"];
    assert_eq!(work["connections"], 1, "{work}");
    assert_eq!(work["full_handshakes"], 1, "{work}");
    assert_eq!(common::statuses(&report, "TLS-VER-01", &endpoint), ["pass"], "{report}");
    let verdict = report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "TLS-VER-01").unwrap();
    assert!(verdict["message"].as_str().unwrap().ends_with("accepts TLS 1.2"), "{verdict}");
    // TLS 1.0 and 1.1: a hello each, refused by this Edge.
    let report = scan("TLS-VER-02");
    let work = &report["summary"]["work"];
    assert_eq!(work["connections"], 3, "{work}");
    assert_eq!(work["full_handshakes"], 1, "{work}");
    assert_eq!(common::statuses(&report, "TLS-VER-02", &endpoint), ["pass"], "{report}");
    // Both rules: the same three connections.
    let report = scan("TLS-VER-01,TLS-VER-02");
    assert_eq!(report["summary"]["work"]["connections"], 3, "{report}");
}

#[test]
fn the_summary_counts_the_network_work_and_only_what_the_rules_read_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = fleet(3, dir.path());
    let work_with = |flag: &str, rules: &[&str]| -> Value {
        let mut command = fedscan();
        command
            .args(["scan", "--quiet", "--format", "json", "--resolver", &fleet.dns.resolver_arg()])
            .arg("--domains-file")
            .arg(&fleet.list)
            .arg("--trust")
            .arg(&fleet.root);
        if !rules.is_empty() {
            command.arg(flag).arg(rules.join(","));
        }
        let output = command.output().unwrap();
        json_of(&output)["summary"]["work"].clone()
    };
    let work = |only: &[&str]| work_with("--only", only);
    // The certificate only: one connection and one handshake per endpoint.
    let certificate = work(&["TLS-NAME-01"]);
    assert_eq!(certificate["domains"], 3);
    assert_eq!(certificate["endpoints"], 3, "{certificate}");
    assert_eq!(certificate["connections"], 3, "no version hello, no SIP: {certificate}");
    assert_eq!(certificate["full_handshakes"], 3, "{certificate}");
    // TLS 1.2 beside the TLS 1.3 the handshake settled: one first-flight
    // hello more, no extra full handshake.
    let versions = work(&["TLS-VER-01"]);
    assert_eq!(versions["connections"], 3 * 2, "{versions}");
    assert_eq!(versions["full_handshakes"], 3, "{versions}");
    // TLS 1.0 and 1.1: a hello each.
    let legacy = work(&["TLS-VER-02"]);
    assert_eq!(legacy["connections"], 3 * 3, "{legacy}");
    assert_eq!(legacy["full_handshakes"], 3, "{legacy}");
    // SIP OPTIONS rides on the TLS probe's connection: nothing more.
    let sip = work(&["SIP-OPT-01"]);
    assert_eq!(sip["connections"], 3, "{sip}");
    assert_eq!(sip["full_handshakes"], 3, "{sip}");
    // The default rules: one full handshake and three version hellos per
    // endpoint; without the legacy-version rule, one hello.
    let all = work(&[]);
    assert_eq!(all["full_handshakes"], 3, "{all}");
    assert_eq!(all["connections"], 3 * 4, "{all}");
    let modern = work_with("--skip", &["TLS-VER-02"]);
    assert_eq!(modern["full_handshakes"], 3, "{modern}");
    assert_eq!(modern["connections"], 3 * 2, "{modern}");
    // DNS only: no connection at all.
    let dns = work(&["DNS-FED-01"]);
    assert_eq!(dns["connections"], 0, "{dns}");
    assert!(dns["dns_questions"].as_u64().unwrap() >= 3, "{dns}");
    // A replay did no network work and says none.
    let replay = fedscan()
        .args(["scan", "--format", "json", "--facts", "fixtures/sample/contoso.facts.json"])
        .current_dir(common::root(""))
        .output()
        .unwrap();
    assert!(json_of(&replay)["summary"].get("work").is_none());
}

#[test]
fn max_per_address_probes_one_address_at_most_so_many_at_a_time() {
    // Four domains whose Edges share one address, on a server that takes
    // 0.2 s to finish a handshake and 0.2 s to answer OPTIONS.
    let pki = Pki::new("Shared");
    let delay = std::time::Duration::from_millis(200);
    let edge = peers::sip::SipServer::start(&pki.leaf(&LeafSpec::default()), peers::sip::Behaviour::Slow { delay });
    let names: Vec<String> = (0..4).map(|i| format!("shared{i}.test")).collect();
    let zones: Vec<(String, String)> =
        names.iter().map(|d| (d.clone(), peers::dns::federation_zone(d, edge.addr.port()))).collect();
    let pairs: Vec<(&str, &str)> = zones.iter().map(|(d, z)| (d.as_str(), z.as_str())).collect();
    let dns = DnsServer::start(&pairs);
    let started = std::time::Instant::now();
    let output = fedscan()
        .arg("scan")
        .args(&names)
        .args(["--only", "SIP-OPT-01", "--max-per-address", "1", "--timeout", "2", "--quiet", "--format", "json"])
        // A chunk a domain, two chunks probed side by side: the cap is the
        // scan's, not each chunk's.
        .args(["--chunk-domains", "1"])
        .args(["--resolver", &dns.resolver_arg()])
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let report = json_of(&output);
    assert_eq!(report["summary"]["by_status"]["pass"], 4, "{}", report["summary"]);
    // One at a time: four probes of at least 0.4 s each, one after another.
    assert!(elapsed >= delay * 8, "four probes of one address in {elapsed:?}: not one at a time");
}

#[test]
fn a_streamed_batch_writes_as_it_goes_and_equals_the_json_report_and_its_saved_facts() {
    // 2,000 domains on one Edge, every fifth without a federation record.
    let pki = Pki::new("Stream");
    let answer = b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    let edge = peers::sip::SipServer::start(&pki.leaf(&LeafSpec::default()), peers::sip::Behaviour::Answer(answer));
    let names: Vec<String> = (0..2000).map(|i| format!("s{i}.test")).collect();
    let zones: Vec<(String, String)> = names
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let text = if i % 5 == 4 {
                zone(d, "www 300 IN A 127.0.0.1")
            } else {
                peers::dns::federation_zone(d, edge.addr.port())
            };
            (d.clone(), text)
        })
        .collect();
    let pairs: Vec<(&str, &str)> = zones.iter().map(|(d, z)| (d.as_str(), z.as_str())).collect();
    let dns = DnsServer::start(&pairs);
    let dir = tempfile::tempdir().unwrap();
    let list = common::write(dir.path(), "domains.txt", &names.join("\n"));
    let root = pki.write_root(dir.path());
    let args = |format: &str| -> Vec<String> {
        let mut args: Vec<String> =
            ["scan", "--now", NOW, "--quiet", "--format", format, "--resolver"].map(String::from).to_vec();
        args.push(dns.resolver_arg());
        args.extend([
            "--domains-file".to_string(),
            list.display().to_string(),
            "--trust".into(),
            root.display().to_string(),
        ]);
        args
    };

    // Streamed, in chunks of 10 domains, with its facts saved: the first
    // finding is read while the scan is still running.
    let streamed_facts = dir.path().join("streamed.facts.json");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fedscan"))
        .args(args("ndjson"))
        .args(["--chunk-domains", "10", "--save-facts"])
        .arg(&streamed_facts)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines: Vec<Value> = Vec::new();
    let mut running_at_first_finding = None;
    let mut line = String::new();
    while std::io::BufRead::read_line(&mut reader, &mut line).unwrap() > 0 {
        let record: Value = serde_json::from_str(&line).unwrap();
        if record["record"] == "finding" && running_at_first_finding.is_none() {
            running_at_first_finding = Some(child.try_wait().unwrap().is_none());
        }
        lines.push(record);
        line.clear();
    }
    let status = child.wait().unwrap();
    assert_eq!(running_at_first_finding, Some(true), "the first finding came only after the scan ended");

    // The same findings and summary as the JSON report of one run judging
    // every domain at once (one chunk).
    let whole_facts = dir.path().join("whole.facts.json");
    let json = fedscan()
        .args(args("json"))
        .args(["--chunk-domains", "100000", "--save-facts"])
        .arg(&whole_facts)
        .output()
        .unwrap();
    let report = json_of(&json);
    assert_eq!(status.code(), json.status.code());
    let streamed = BTreeSet::from_iter(
        lines.iter().filter(|l| l["record"] == "finding").map(|f| common::finding_key(f, &str::to_string)),
    );
    let whole = findings_of(&report);
    let whole_with_not_run = BTreeSet::from_iter(common::finding_keys(&report, &str::to_string));
    assert!(whole.is_subset(&whole_with_not_run));
    let only_streamed: Vec<_> = streamed.difference(&whole_with_not_run).take(5).collect();
    let only_whole: Vec<_> = whole_with_not_run.difference(&streamed).take(5).collect();
    assert!(
        only_streamed.is_empty() && only_whole.is_empty(),
        "streamed only: {only_streamed:#?}\nreport only: {only_whole:#?}"
    );
    let count = lines.iter().filter(|l| l["record"] == "finding").count();
    assert_eq!(count, report["findings"].as_array().unwrap().len(), "each finding once");
    let mut tail = lines.last().unwrap().clone();
    for key in ["record", "finished_at", "work"] {
        tail.as_object_mut().unwrap().remove(key);
    }
    let mut summary = report["summary"].clone();
    summary.as_object_mut().unwrap().remove("work");
    assert_eq!(tail, summary);

    // The facts saved chunk by chunk hold what the whole scan's hold (the
    // same answers, handshakes and exchanges, in chunk order), and judging
    // them again gives the streamed findings.
    let (streamed_saved, whole_saved) = (common::read_json(&streamed_facts), common::read_json(&whole_facts));
    for list in ["dns", "tls", "sip"] {
        let entries = |facts: &Value| -> BTreeSet<String> {
            facts[list].as_array().unwrap().iter().map(|entry| entry.to_string()).collect()
        };
        assert_eq!(
            streamed_saved[list].as_array().unwrap().len(),
            whole_saved[list].as_array().unwrap().len(),
            "{list}"
        );
        assert_eq!(entries(&streamed_saved), entries(&whole_saved), "{list}");
    }
    assert_eq!(streamed_saved["targets"], whole_saved["targets"]);
    assert_eq!(streamed_saved["inputs"], whole_saved["inputs"]);
    let replay =
        fedscan().args(["scan", "--now", NOW, "--format", "json", "--facts"]).arg(&streamed_facts).output().unwrap();
    assert_eq!(replay.status.code(), status.code());
    let replayed = BTreeSet::from_iter(common::finding_keys(&json_of(&replay), &str::to_string));
    let differ: Vec<_> = replayed.symmetric_difference(&streamed).take(5).collect();
    assert!(differ.is_empty(), "{differ:#?}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn bad_shards_and_damaged_shard_facts_are_input_errors() {
    for shard in ["4/4", "1/0", "x", "1/two", "-1/4"] {
        let output = fedscan().args(["scan", "contoso.test", &format!("--shard={shard}")]).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "--shard {shard}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("K/N"), "--shard {shard}");
    }
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("shard-1.facts.json");
    std::fs::write(&damaged, common::garbage(4000, 3)).unwrap();
    let output =
        fedscan().arg("merge").arg(common::root("fixtures/sample/contoso.facts.json")).arg(&damaged).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("shard-1.facts.json"));
    common::assert_inert("stderr", &String::from_utf8_lossy(&output.stderr));
}

/// A hostile Edge in a streamed batch with its facts saved chunk by chunk:
/// its answer's control characters, bidirectional overrides and escape
/// sequences reach neither the NDJSON lines nor the facts file raw, and the
/// facts file replays to the same findings.
#[test]
fn a_streamed_batch_keeps_a_hostile_answer_inert_in_its_lines_and_its_facts() {
    let pki = Pki::new("Hostile stream");
    let answer = "SIP/2.0 403 \u{1b}[31mForbidden\u{202e}\r\nServer: \u{7}RTC\u{200b}/6.0\u{85}\r\n\
                  ms-diagnostics: 1034;reason=\"\u{1b}]0;owned\u{7}\"\r\nContent-Length: 0\r\n\r\n";
    let edge = peers::sip::SipServer::start(
        &pki.leaf(&LeafSpec::default()),
        peers::sip::Behaviour::Answer(answer.as_bytes().to_vec()),
    );
    let names: Vec<String> = (0..5).map(|i| format!("h{i}.test")).collect();
    let zones: Vec<(String, String)> =
        names.iter().map(|d| (d.clone(), peers::dns::federation_zone(d, edge.addr.port()))).collect();
    let pairs: Vec<(&str, &str)> = zones.iter().map(|(d, z)| (d.as_str(), z.as_str())).collect();
    let dns = DnsServer::start(&pairs);
    let dir = tempfile::tempdir().unwrap();
    let root = pki.write_root(dir.path());
    let (lines_path, facts_path) = (dir.path().join("out.ndjson"), dir.path().join("facts.json"));
    let output = fedscan()
        .args(["scan", "--now", NOW, "--quiet", "--format", "ndjson", "--chunk-domains", "2", "--resolver"])
        .arg(dns.resolver_arg())
        .args(&names)
        .arg("--trust")
        .arg(&root)
        .arg("--output")
        .arg(&lines_path)
        .arg("--save-facts")
        .arg(&facts_path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let lines = std::fs::read_to_string(&lines_path).unwrap();
    let facts = std::fs::read_to_string(&facts_path).unwrap();
    common::assert_inert("NDJSON", &lines);
    common::assert_inert("facts", &facts);
    assert!(lines.contains(r"\u202e") && facts.contains(r"\u202e"), "the override is kept, escaped");
    let streamed: BTreeSet<common::FindingKey> = lines
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["record"] == "finding")
        .map(|f| common::finding_key(&f, &str::to_string))
        .collect();
    // The answer is judged, its text carried (escaped on the line, whole
    // once decoded).
    assert!(streamed.iter().any(|f| f.0 == "SIP-OPT-01" && f.3.contains("Forbidden\u{202e}")), "{streamed:#?}");
    let replay =
        fedscan().args(["scan", "--now", NOW, "--format", "json", "--facts"]).arg(&facts_path).output().unwrap();
    let replayed = BTreeSet::from_iter(common::finding_keys(&json_of(&replay), &str::to_string));
    let differ: Vec<_> = replayed.symmetric_difference(&streamed).take(5).collect();
    assert!(differ.is_empty(), "{differ:#?}");
}

/// A streamed batch whose reader goes away after the first line (`| head
/// -1`) ends quietly with the scan's own exit code, and still saves its
/// facts whole.
#[test]
fn a_streamed_batch_into_a_closed_pipe_ends_quietly_and_keeps_its_facts() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = fleet(40, dir.path());
    let facts = dir.path().join("facts.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fedscan"))
        .args(["scan", "--now", NOW, "--quiet", "--format", "ndjson", "--chunk-domains", "4", "--resolver"])
        .arg(fleet.dns.resolver_arg())
        .arg("--domains-file")
        .arg(&fleet.list)
        .arg("--trust")
        .arg(&fleet.root)
        .arg("--save-facts")
        .arg(&facts)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    assert!(first.contains("\"record\":\"scan\""), "{first}");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr, "", "a closed pipe is not worth a word");
    // The exit code is the scan's own, as a run read to its end gives.
    let whole = fedscan()
        .args(["scan", "--now", NOW, "--quiet", "--format", "ndjson", "--resolver"])
        .arg(fleet.dns.resolver_arg())
        .arg("--domains-file")
        .arg(&fleet.list)
        .arg("--trust")
        .arg(&fleet.root)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), whole.status.code());
    let saved = common::read_json(&facts);
    assert_eq!(saved["targets"]["domains"].as_array().unwrap().len(), fleet.names.len());
}

/// Under a low open-file limit, `--concurrency 4096` is lowered to what the
/// limit allows (and said so), and running out of descriptors is never
/// judged as the peers' failure: the findings are those of a run without
/// the limit.
#[test]
fn a_low_open_file_limit_lowers_the_concurrency_and_never_fails_the_peers() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let fleet = fleet(200, dir.path());
    let run = |limit: Option<u64>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fedscan"));
        command
            .args(["scan", "--now", NOW, "--format", "json", "--concurrency", "4096", "--resolver"])
            .arg(fleet.dns.resolver_arg())
            .arg("--domains-file")
            .arg(&fleet.list)
            .arg("--trust")
            .arg(&fleet.root);
        if let Some(limit) = limit {
            // SAFETY: setrlimit in the child before exec, nothing else.
            unsafe {
                command.pre_exec(move || {
                    let low = libc::rlimit { rlim_cur: limit, rlim_max: limit };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &low) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        command.output().unwrap()
    };
    let limited = run(Some(64));
    let stderr = String::from_utf8_lossy(&limited.stderr);
    assert!(stderr.contains("open-file limit (64)") && stderr.contains("scanning 6 at a time"), "{stderr}");
    let unlimited = run(None);
    assert_eq!(limited.status.code(), unlimited.status.code(), "{stderr}");
    assert_eq!(findings_of(&json_of(&limited)), findings_of(&json_of(&unlimited)));
}

/// A merge judges one whole scan or refuses: each shard records which part
/// of which domain list it is; a set with a shard missing, a shard twice,
/// shards split differently or of another list, or facts saved without
/// --shard among them is an input error naming what is wrong. With
/// --allow-partial the part is judged and every format says it is partial.
#[test]
fn merge_refuses_incomplete_and_mixed_sets_of_shards() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = fleet(24, dir.path());
    let other_list = common::write(dir.path(), "other.txt", &fleet.names[..12].join("\n"));
    let shard = |list: &std::path::Path, shard: &str, name: &str| {
        let facts = dir.path().join(name);
        let output = fedscan()
            .args(["scan", "--now", NOW, "--quiet", "--format", "json", "--shard", shard, "--resolver"])
            .arg(fleet.dns.resolver_arg())
            .arg("--domains-file")
            .arg(list)
            .arg("--trust")
            .arg(&fleet.root)
            .arg("--save-facts")
            .arg(&facts)
            .output()
            .unwrap();
        assert!(matches!(output.status.code(), Some(0 | 1 | 3)), "{}", String::from_utf8_lossy(&output.stderr));
        facts
    };
    let quarters: Vec<std::path::PathBuf> =
        (0..4).map(|k| shard(&fleet.list, &format!("{k}/4"), &format!("q{k}.json"))).collect();
    let half = shard(&fleet.list, "0/2", "h0.json");
    let other = shard(&other_list, "3/4", "other3.json");
    let unsharded = common::root("fixtures/sample/contoso.facts.json");
    let merge = |files: &[&std::path::Path], extra: &[&str]| {
        fedscan().args(["merge", "--now", NOW]).args(files).args(extra).output().unwrap()
    };
    let q: Vec<&std::path::Path> = quarters.iter().map(|p| p.as_path()).collect();
    for (files, said) in [
        (vec![q[0], q[1], q[2]], "shard(s) 3 of 4 missing"),
        (vec![q[0], half.as_path()], "split differently"),
        (vec![q[0], q[1], q[2], other.as_path()], "different domain lists"),
        (vec![q[0], q[1], q[2], q[3], q[1]], "shard 1/4 is given twice"),
        (vec![q[0], q[1], q[2], q[3], unsharded.as_path()], "saved without --shard"),
        (vec![q[2]], "shard(s) 0, 1, 3 of 4 missing"),
    ] {
        let output = merge(&files, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{said}: {stderr}");
        assert!(stderr.contains(said) && stderr.contains("--allow-partial"), "{said}: {stderr}");
        assert!(output.stdout.is_empty(), "nothing is judged");
    }
    // The whole set is judged as one scan.
    let whole = merge(&q, &["--format", "json"]);
    assert!(matches!(whole.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&whole.stderr));
    assert!(json_of(&whole)["summary"].get("partial").is_none());

    // Partial, on request: marked so in every format, and no clean bill.
    let part = [q[0], q[1], q[2]];
    let json = json_of(&merge(&part, &["--allow-partial", "--format", "json"]));
    assert!(json["summary"]["partial"].as_str().unwrap().contains("shard(s) 3 of 4 missing"), "{:#}", json["summary"]);
    assert!(json["summary"]["exit_code"].as_u64().unwrap() >= 1);
    for (format, mark) in [
        ("table", "PARTIAL: shard(s) 3 of 4 missing"),
        ("markdown", "PARTIAL\\: shard(s) 3 of 4 missing"),
        ("html", "PARTIAL: shard(s) 3 of 4 missing"),
        ("ndjson", "\"partial\":\"shard(s) 3 of 4 missing"),
        ("sarif", "a partial set of shards was judged"),
        ("junit", "only part of the batch was judged"),
        ("csv", "only part of the batch was judged"),
    ] {
        let output = merge(&part, &["--allow-partial", "--color", "never", "--format", format]);
        assert_ne!(output.status.code(), Some(0), "{format}");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains(mark), "{format} does not say it is partial:\n{text}");
    }
}

/// The container build: the Containerfile passes hadolint, and the context
/// that .dockerignore lets through (everything excluded, then what the
/// build reads let back in) holds what `cargo` needs to build the binary and
/// nothing of target/ or .git.
#[test]
fn the_container_build_is_lint_clean_and_its_context_builds() {
    let linted = std::process::Command::new(common::test_tool("venv/bin/hadolint"))
        .arg(common::root("deploy/Containerfile"))
        .output()
        .unwrap();
    common::assert_ran(&linted, "hadolint");

    let ignore = std::fs::read_to_string(common::root(".dockerignore")).unwrap();
    let patterns: Vec<&str> = ignore.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    assert_eq!(patterns.first(), Some(&"*"), "everything is excluded first");
    let kept: Vec<&str> = patterns[1..]
        .iter()
        .map(|p| p.strip_prefix('!').unwrap_or_else(|| panic!("{p}: only exceptions follow `*`")).trim_end_matches('/'))
        .collect();
    assert!(!kept.iter().any(|k| k.starts_with("target") || k.starts_with(".git")), "{kept:?}");
    let context = tempfile::tempdir().unwrap();
    for entry in &kept {
        let copied = std::process::Command::new("cp")
            .arg("-r")
            .arg(common::root(entry))
            .arg(context.path().join(entry))
            .output()
            .unwrap();
        common::assert_ran(&copied, "cp");
    }
    let checked = std::process::Command::new(env!("CARGO"))
        .args(["check", "--locked", "--offline", "--quiet", "--bin", "fedscan"])
        .current_dir(context.path())
        // The project's own target directory: the dependencies are checked already.
        .env("CARGO_TARGET_DIR", common::root("target"))
        .output()
        .unwrap();
    common::assert_ran(&checked, "cargo check in the build context");
}

/// A streamed batch carries the notes the buffered report of the same scan
/// gives: a suppression that expired, over findings of several chunks, is
/// one `note` record before the summary, as it is one of the JSON report's
/// notes.
#[test]
fn a_streamed_batch_says_which_suppression_expired_as_the_report_does() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = fleet(6, dir.path());
    let scan = |format: &str, extra: &[&std::ffi::OsStr]| {
        fedscan()
            .args(["scan", "--now", NOW, "--quiet", "--format", format, "--chunk-domains", "2", "--resolver"])
            .arg(fleet.dns.resolver_arg())
            .arg("--domains-file")
            .arg(&fleet.list)
            .arg("--trust")
            .arg(&fleet.root)
            .args(extra)
            .output()
            .unwrap()
    };
    // A rule with problems in this fleet, suppressed until a day passed.
    let report = json_of(&scan("json", &[]));
    let problem = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "fail" || f["status"] == "error")
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .expect("the fleet has a problem to suppress");
    let ignore = common::write(
        dir.path(),
        "ignore.toml",
        &format!("[[ignore]]\nrule = \"{problem}\"\nreason = \"accepted until the migration\"\nexpires = 2026-01-31\n"),
    );
    let ignore_args = [std::ffi::OsStr::new("--ignore-file"), ignore.as_os_str()];
    let buffered = json_of(&scan("json", &ignore_args));
    let expected: Vec<&Value> = buffered["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["message"].as_str().unwrap().contains("expired on 2026-01-31"))
        .collect();
    assert_eq!(expected.len(), 1, "{}", buffered["notes"]);
    let streamed = scan("ndjson", &ignore_args);
    let records: Vec<Value> =
        String::from_utf8_lossy(&streamed.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let notes: Vec<Value> = records
        .iter()
        .filter(|r| r["record"] == "note")
        .map(|r| {
            let mut note = r.clone();
            note.as_object_mut().unwrap().remove("record");
            note
        })
        .collect();
    assert_eq!(notes.iter().collect::<Vec<_>>(), expected, "the streamed notes are the report's");
    assert_eq!(records.last().unwrap()["record"], "summary");
    assert_eq!(streamed.status.code(), Some(1), "what it covered counts again");
    // Every record, the note included, is valid against the report schema.
    let lines = common::write(dir.path(), "streamed.ndjson", &String::from_utf8_lossy(&streamed.stdout));
    let schema = common::root("schemas/report.schema.json");
    let checked = common::python_consumer(
        "validate_json.py",
        &[schema.as_os_str(), lines.as_os_str(), std::ffi::OsStr::new("--ndjson")],
    );
    common::assert_ran(&checked, "the schema check of the streamed NDJSON");
}

/// A batch whose reports are JSON, CSV, JUnit and SARIF keeps its findings
/// (and every report its domains' discovery) on disk as each chunk is judged
/// and merges them back in the report's order: byte
/// for byte the reports held whole in memory (the same scan with a Markdown
/// report besides), with a baseline whose problems are new, unchanged and
/// fixed across chunks, domains without records, and chunks of seven.
#[test]
fn a_batch_report_kept_on_disk_is_the_report_held_in_memory_in_every_format() {
    use std::path::Path;
    let dir = tempfile::tempdir().unwrap();
    let Fleet { dns, list, root, names, .. } = &fleet_of("k", 120, Some(4), dir.path());
    let scan = |output: &Path, extra: &[&str]| {
        let status = fedscan()
            .args(["scan", "--now", NOW, "--quiet", "--format", "json", "--chunk-domains", "7", "--resolver"])
            .arg(dns.resolver_arg())
            .arg("--domains-file")
            .arg(list)
            .arg("--trust")
            .arg(root)
            .arg("--output")
            .arg(output)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(status.status.code(), Some(1), "{}", String::from_utf8_lossy(&status.stderr));
        let times = regex::Regex::new(r#""(started_at|finished_at)": "[^"]*""#).unwrap();
        times.replace_all(&std::fs::read_to_string(output).unwrap(), r#""$1": "-""#).into_owned()
    };
    // A baseline: a first report, less two of its problems (new now) and
    // with one problem the scan will not find (fixed).
    let first = dir.path().join("first.json");
    let mut baseline: Value = serde_json::from_str(&scan(&first, &[])).unwrap();
    let findings = baseline["findings"].as_array_mut().unwrap();
    let problems: Vec<usize> =
        (0..findings.len()).filter(|&i| findings[i]["status"] == "fail" || findings[i]["status"] == "error").collect();
    assert!(problems.len() > 100, "{}", problems.len());
    let mut gone = findings[problems[10]].clone();
    gone["target"] = "gone.test".into();
    findings.remove(problems[40]);
    findings.remove(problems[5]);
    findings.push(gone);
    let baseline_path = common::write(dir.path(), "baseline.json", &baseline.to_string());
    let baseline_arg = baseline_path.display().to_string();

    // Every format keeps its findings on disk; --hold-findings holds them
    // in memory, for every format.
    let report_arg = |format: &str, name: &str| format!("{format}={}", dir.path().join(name).display());
    let kept_on_disk = scan(
        &dir.path().join("spilled.json"),
        &[
            "--baseline",
            &baseline_arg,
            "--report",
            &report_arg("csv", "spilled.csv"),
            "--report",
            &report_arg("junit", "spilled.xml"),
            "--report",
            &report_arg("sarif", "spilled.sarif"),
            "--report",
            &report_arg("table", "spilled.txt"),
            "--report",
            &report_arg("html", "spilled.html"),
            "--report",
            &report_arg("markdown", "spilled.md"),
            "--report",
            &report_arg("ndjson", "spilled.ndjson"),
        ],
    );
    let held = scan(
        &dir.path().join("held.json"),
        &[
            "--baseline",
            &baseline_arg,
            "--report",
            &report_arg("csv", "held.csv"),
            "--report",
            &report_arg("junit", "held.xml"),
            "--report",
            &report_arg("sarif", "held.sarif"),
            "--report",
            &report_arg("table", "held.txt"),
            "--report",
            &report_arg("html", "held.html"),
            "--report",
            &report_arg("markdown", "held.md"),
            "--report",
            &report_arg("ndjson", "held.ndjson"),
            "--hold-findings",
        ],
    );
    assert!(kept_on_disk == held, "the JSON report kept on disk differs from the one held in memory");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert!(read("spilled.csv") == read("held.csv"), "the CSV report kept on disk differs from the one held in memory");
    assert!(read("held.csv").lines().count() > 2000);
    assert!(
        read("spilled.xml") == read("held.xml"),
        "the JUnit report kept on disk differs from the one held in memory:\n{}",
        read("spilled.xml").lines().take(5).collect::<Vec<_>>().join("\n")
    );
    assert!(read("held.xml").matches("<testsuite ").count() > 100);
    // The times, and the run's automation ID that names its start.
    let times = regex::Regex::new(r#""(startTimeUtc|endTimeUtc)": "[^"]*"|"id": "fedscan/[^"]*""#).unwrap();
    let sarif = |name: &str| times.replace_all(&read(name), "-").into_owned();
    assert!(
        sarif("spilled.sarif") == sarif("held.sarif"),
        "the SARIF report kept on disk differs from the one held in memory"
    );
    let held_sarif: Value = serde_json::from_str(&read("held.sarif")).unwrap();
    let results = held_sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() > 500, "{}", results.len());
    assert!(results.iter().any(|r| r["baselineState"] == "absent"), "the fixed problem is a result");
    let report: Value = serde_json::from_str(&held).unwrap();
    let states: Vec<&str> =
        report["findings"].as_array().unwrap().iter().filter_map(|f| f["baseline_state"].as_str()).collect();
    assert_eq!(states.iter().filter(|s| **s == "new").count(), 2, "{states:?}");
    assert!(states.iter().filter(|s| **s == "unchanged").count() > 100);
    assert_eq!(report["baseline"]["fixed"].as_array().unwrap().len(), 1, "{}", report["baseline"]);
    assert_eq!(report["discovery"].as_array().unwrap().len(), 120);
    assert!(
        read("spilled.txt") == read("held.txt"),
        "the table kept on disk differs from the one held in memory:\n{}",
        read("spilled.txt")
    );
    let table = read("held.txt");
    assert!(table.contains("120 domains (one line each") && table.contains("To fix ("), "{table}");
    assert!(
        read("spilled.html") == read("held.html"),
        "the HTML report kept on disk differs from the one held in memory"
    );
    assert!(
        read("spilled.md") == read("held.md"),
        "the Markdown report kept on disk differs from the one held in memory"
    );
    let summary = read("held.md");
    assert!(
        summary.contains("### To fix") && summary.contains("**new**") && summary.contains("### Passed"),
        "{summary}"
    );
    let page = read("held.html");
    assert!(page.matches("<tr>").count() > 2000 && page.contains("id=\"to-fix\"") && page.contains("Not applicable ("));
    let verdicts = ["  FAIL ", "  ERROR ", "  PASS ", "  SKIP "];
    assert_eq!(table.lines().filter(|l| verdicts.iter().any(|v| l.starts_with(v))).count(), 120, "{table}");

    // Each domain's path and every row, a suppressed problem's too.
    let problem = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "fail" && f["target"] == "k5.test")
        .expect("k5.test has a failure to accept");
    let rule = problem["rule"].as_str().unwrap();
    let ignore = common::write(
        dir.path(),
        "ignore.toml",
        &format!("[[ignore]]\nrule = \"{rule}\"\ntarget = \"k5.test\"\nreason = \"being moved\"\n"),
    );
    let ignore = ignore.display().to_string();
    let paths = |name: &str, extra: &[&str]| {
        let table = report_arg("table", name);
        let page = report_arg("html", &format!("{name}.html"));
        let summary = report_arg("markdown", &format!("{name}.md"));
        let mut args = vec!["--layout", "paths", "--show", "pass,fail,error,skip", "--ignore-file", &ignore];
        args.extend(["--report", &table, "--report", &page, "--report", &summary]);
        args.extend(extra);
        scan(&dir.path().join(format!("{name}.json")), &args);
        read(name)
    };
    let spilled = paths("spilled-paths.txt", &[]);
    let held = paths("held-paths.txt", &["--hold-findings"]);
    assert!(spilled == held, "the table kept on disk differs from the one held in memory:\n{spilled}");
    assert!(held.contains("Accepted: being moved"), "{held}");
    let (spilled_page, held_page) = (read("spilled-paths.txt.html"), read("held-paths.txt.html"));
    assert!(spilled_page == held_page, "the HTML report kept on disk differs from the one held in memory");
    assert!(held_page.contains("<b>Accepted:</b> being moved"), "{held_page}");
    let (spilled_summary, held_summary) = (read("spilled-paths.txt.md"), read("held-paths.txt.md"));
    assert!(spilled_summary == held_summary, "the Markdown report kept on disk differs from the one held in memory");
    assert!(held_summary.contains("### Accepted (suppressed)"), "{held_summary}");
    assert!(names.iter().all(|d| held.contains(&format!("\n{d}\n")) || held.contains(d.as_str())), "{held}");
}

/// A batch's saved facts replayed are judged a chunk at a time, as the
/// scan was, and as of the time they were gathered: the report of a replay
/// (chunked otherwise than the scan) is the report of the same replay with
/// `--now` set to that time, in every format kept on disk; and a fact no
/// chunk's plan accounts for is judged all the same.
#[test]
fn a_batch_replayed_is_judged_in_chunks_as_of_its_facts_time() {
    let dir = tempfile::tempdir().unwrap();
    let Fleet { dns, list, root, .. } = &fleet_of("r", 30, Some(5), dir.path());
    let facts = dir.path().join("facts.json");
    let live = fedscan()
        .args(["scan", "--quiet", "--format", "json", "--chunk-domains", "7", "--resolver"])
        .arg(dns.resolver_arg())
        .arg("--domains-file")
        .arg(list)
        .arg("--trust")
        .arg(root)
        .arg("--save-facts")
        .arg(&facts)
        .output()
        .unwrap();
    assert_eq!(live.status.code(), Some(1), "{}", String::from_utf8_lossy(&live.stderr));
    let live: Value = serde_json::from_slice(&live.stdout).unwrap();
    // Facts gathered months ago: the certificates had more days left then.
    let mut saved: Value = serde_json::from_str(&std::fs::read_to_string(&facts).unwrap()).unwrap();
    saved["gathered_at"] = "2026-03-01T00:00:00Z".into();
    std::fs::write(&facts, saved.to_string()).unwrap();
    let replay = |name: &str, extra: &[&str]| {
        let output = |extension: &str| dir.path().join(format!("{name}.{extension}"));
        let report = |format: &str, extension: &str| format!("{format}={}", output(extension).display());
        let run = fedscan()
            .args(["scan", "--quiet", "--format", "json", "--chunk-domains", "4", "--facts"])
            .arg(&facts)
            .arg("--output")
            .arg(output("json"))
            .args(["--report", &report("sarif", "sarif"), "--report", &report("table", "txt")])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
        // When each run started and ended, which names the SARIF run too.
        let times = regex::Regex::new(r#""(started_at|finished_at|startTimeUtc|endTimeUtc|id)": "[^"]*""#).unwrap();
        let read = |extension: &str| {
            let text = std::fs::read_to_string(output(extension)).unwrap();
            times.replace_all(&text, r#""$1": "-""#).into_owned()
        };
        (read("json"), read("sarif"), read("txt"))
    };
    let as_gathered = replay("replayed", &[]);
    let as_of_then = replay("then", &["--now", "2026-03-01T00:00:00Z"]);
    assert!(as_gathered.0 == as_of_then.0, "the JSON report of a replay is not judged as of its facts' time");
    assert!(as_gathered.1 == as_of_then.1, "the SARIF report of a replay is not judged as of its facts' time");
    assert!(as_gathered.2 == as_of_then.2, "the table of a replay is not judged as of its facts' time");
    let replayed: Value = serde_json::from_str(&as_gathered.0).unwrap();
    assert!(replayed["discovery"].to_string().contains("(306 days left)"), "{}", replayed["discovery"]);
    // Every rule judged every target the scan judged.
    let judged = |report: &Value| -> BTreeSet<(String, String)> {
        let findings = report["findings"].as_array().unwrap().iter();
        findings.map(|f| (f["rule"].to_string(), f["target"].to_string())).collect()
    };
    assert!(judged(&replayed).len() > 100);
    assert_eq!(judged(&replayed), judged(&live));
    // An exchange no chunk's plan accounts for (added by hand here) is
    // still judged, the facts then taken whole, never left out.
    let mut stray = saved["sip"][0].clone();
    stray["host"] = "stray.elsewhere.test".into();
    stray["address"] = "127.0.0.9".into();
    stray["domain"] = "elsewhere.test".into();
    saved["sip"].as_array_mut().unwrap().push(stray);
    std::fs::write(&facts, saved.to_string()).unwrap();
    let with_stray: Value = serde_json::from_str(&replay("stray", &[]).0).unwrap();
    let on_stray = with_stray["findings"].as_array().unwrap().iter().filter(|f| {
        f["rule"] == "SIP-OPT-01" && f["target"].as_str().is_some_and(|t| t.contains("stray.elsewhere.test"))
    });
    assert_eq!(on_stray.count(), 1, "{}", with_stray["findings"]);
    assert_eq!(judged(&with_stray).len(), judged(&replayed).len() + 1);
}

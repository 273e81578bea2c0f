//! `fedscan serve`, the Prometheus exporter, against real peers: an
//! in-test DNS server and an Edge answering TLS and SIP OPTIONS, scraped
//! over HTTP as Prometheus scrapes it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::common::{fedscan, write};
use crate::peers::Group;
use crate::peers::dns::{DnsServer, federation_zone};
use crate::peers::sip::{Behaviour, SipServer};
use crate::peers::tls::{LeafSpec, Pki};

/// A running `fedscan serve`, stopped when dropped.
struct Exporter {
    addr: SocketAddr,
    _process: Group,
}

fn start(config: &std::path::Path) -> Exporter {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("fedscan"));
    command
        .args(["serve", "--config"])
        .arg(config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut process = Group::spawn(&mut command).unwrap();
    let stderr = process.child().stderr.take().unwrap();
    let mut line = String::new();
    BufReader::new(stderr).read_line(&mut line).unwrap();
    let addr =
        line.trim().rsplit("http://").next().unwrap().parse().unwrap_or_else(|_| panic!("no address in {line:?}"));
    Exporter { addr, _process: process }
}

/// A GET as a scraper sends it: the status and the body.
fn get(addr: SocketAddr, path: &str, timeout_header: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let extra = timeout_header.map(|t| format!("X-Prometheus-Scrape-Timeout-Seconds: {t}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// The value of the one sample whose name and labels start with `series`.
fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with([' ', '{', ',', '}']))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// One Edge behind the federation records of `domains`, and an exporter
/// whose one module, `federation`, scans with the in-test resolver, the
/// Edge's trust root and `flags`; `settings` are serve.toml's lines before
/// the module (the targets among them).
/// Every part held to the end of the test (a pattern's `..` would drop the
/// servers and the directory at once).
struct Site {
    edge: SipServer,
    exporter: Exporter,
    _dns: DnsServer,
    _dir: tempfile::TempDir,
}

fn site(behaviour: Behaviour, domains: &[&str], settings: &str, flags: &[&str]) -> Site {
    let pki = Pki::new("Contoso");
    let edge = SipServer::start(&pki.leaf(&LeafSpec::default()), behaviour);
    let zones: Vec<String> = domains.iter().map(|d| federation_zone(d, edge.addr.port())).collect();
    let served: Vec<(&str, &str)> = domains.iter().copied().zip(zones.iter().map(String::as_str)).collect();
    let dns = DnsServer::start(&served);
    let dir = tempfile::tempdir().unwrap();
    let root = pki.write_root(dir.path()).display().to_string();
    let resolver = dns.resolver_arg();
    let args: Vec<String> = ["--resolver", resolver.as_str(), "--trust", root.as_str()]
        .iter()
        .chain(flags)
        .map(|f| format!("{f:?}"))
        .collect();
    let config = write(
        dir.path(),
        "serve.toml",
        &format!("listen = \"127.0.0.1:0\"\n{settings}\n[modules.federation]\nargs = [{}]\n", args.join(", ")),
    );
    let exporter = start(&config);
    Site { edge, exporter, _dns: dns, _dir: dir }
}

fn answers_ok() -> Behaviour {
    Behaviour::Answer(b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec())
}

#[test]
fn serve_probes_an_allowed_domain_once_per_interval_and_refuses_the_rest_without_a_probe() {
    let Site { edge, exporter, _dns, _dir } = site(
        answers_ok(),
        &["contoso.com", "contoso.net"],
        "targets = [\"contoso.com\", \"contoso.net\", \"*.example.org\"]\nmin_interval_seconds = 300",
        &["--timeout", "5", "--dns-attempts", "1", "--now", "2026-06-01T00:00:00Z"]
            .into_iter()
            .chain(["DNS-FED-01", "TLS-CON-01", "TLS-EXP-01", "SIP-OPT-01"].into_iter().flat_map(|r| ["--only", r]))
            .collect::<Vec<_>>(),
    );

    // Refused without a probe: a target the configuration does not allow,
    // an unknown module, no target.
    let long = "a".repeat(5000);
    for path in [
        "/probe?target=%1b%5b2J.contoso.com&module=federation",
        "/probe?target=contoso.com%00.evil&module=federation",
        &format!("/probe?target={long}.contoso.com&module=federation"),
        "/probe?target=contoso.com&module=%1b%5b2J",
        "/probe?target=fabrikam.com&module=federation",
        "/probe?target=contoso.com&module=other",
        "/probe?module=federation",
        "/probe?target=example.org&module=federation",
    ] {
        assert_eq!(get(exporter.addr, path, None).0, 400, "{path}");
    }
    assert_eq!(edge.handshakes(), 0, "a refused scrape probed the Edge");

    let (status, metrics) = get(exporter.addr, "/probe?target=contoso.com&module=federation", Some("10"));
    assert_eq!(status, 200, "{metrics}");
    assert_eq!(value(&metrics, "fedscan_probe_success"), Some(1.0), "{metrics}");
    for rule in ["DNS-FED-01", "TLS-CON-01", "TLS-EXP-01", "SIP-OPT-01"] {
        let series = format!("fedscan_rule_status{{rule=\"{rule}\"");
        let line = metrics.lines().find(|l| l.starts_with(&series)).unwrap_or_else(|| panic!("no {rule}: {metrics}"));
        assert!(line.contains("status=\"pass\"") && line.ends_with(" 1"), "{line}");
    }
    assert_eq!(value(&metrics, "fedscan_findings{severity=\"critical\",status=\"pass\""), Some(3.0), "{metrics}");
    assert_eq!(value(&metrics, "fedscan_tls_version_info{version=\"TLS 1.3\""), Some(1.0), "{metrics}");
    // The leaf's notAfter (2027-01-01), and the chain's earliest.
    assert_eq!(value(&metrics, "fedscan_cert_not_after_seconds"), Some(1_798_761_600.0), "{metrics}");
    assert_eq!(value(&metrics, "fedscan_cert_not_before_seconds"), Some(1_767_225_600.0), "{metrics}");
    assert!(value(&metrics, "fedscan_cert_chain_earliest_expiry_seconds").is_some_and(|v| v <= 1_798_761_600.0));
    assert_eq!(value(&metrics, "fedscan_tls_client_certificate_requested"), Some(0.0), "{metrics}");
    assert_eq!(value(&metrics, "fedscan_sip_options_status_code"), Some(200.0), "{metrics}");
    assert_eq!(value(&metrics, "fedscan_sip_options_diagnostic_code"), Some(0.0), "{metrics}");
    assert!(metrics.ends_with("# EOF\n"), "OpenMetrics text ends with # EOF");
    // Each phase timed, within the whole probe.
    let phase =
        |name: &str| value(&metrics, &format!("fedscan_probe_phase_duration_seconds{{phase=\"{name}\"")).unwrap();
    let total = value(&metrics, "fedscan_probe_duration_seconds").unwrap();
    assert!(phase("dns") > 0.0 && phase("tls") > 0.0 && phase("sip") > 0.0, "{metrics}");
    assert!(phase("dns") + phase("tls") + phase("sip") <= total, "{metrics}");
    let one_probe = edge.handshakes();
    assert!(one_probe >= 1, "the probe reached the Edge");

    // Scraped again within the interval: the same metrics, no new probe.
    let (_, again) = get(exporter.addr, "/probe?target=contoso.com&module=federation", None);
    assert_eq!(again, metrics);
    assert_eq!(edge.handshakes(), one_probe);

    // Two hundred scrapes of a new target at once: one probe, two hundred
    // answers.
    let scrapes: Vec<_> = (0..200)
        .map(|_| {
            let addr = exporter.addr;
            std::thread::spawn(move || get(addr, "/probe?target=contoso.net&module=federation", Some("10")))
        })
        .collect();
    let answers: Vec<(u16, String)> = scrapes.into_iter().map(|s| s.join().unwrap()).collect();
    assert!(answers.iter().all(|(status, body)| *status == 200 && body == &answers[0].1));
    assert_eq!(edge.handshakes(), 2 * one_probe, "two hundred concurrent scrapes made more than one probe");

    let (status, own) = get(exporter.addr, "/metrics", None);
    assert_eq!(status, 200);
    assert_eq!(
        value(&own, "fedscan_exporter_probes_total{module=\"federation\",result=\"success\""),
        Some(2.0),
        "{own}"
    );
    assert_eq!(value(&own, "fedscan_exporter_reused_total"), Some(200.0), "{own}");
    assert_eq!(value(&own, "fedscan_exporter_refused_total{reason=\"target_not_allowed\""), Some(2.0), "{own}");
    assert_eq!(get(exporter.addr, "/-/healthy", None), (200, "OK\n".to_string()));
}

#[test]
fn a_module_that_would_write_files_or_name_its_own_domains_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    for (flags, said) in [
        ("\"-o\", \"/tmp/x.json\"", "outputs"),
        ("\"--save-facts\", \"f.json\"", "outputs"),
        ("\"contoso.com\"", "domains"),
        ("\"--offline\"", "--offline"),
        ("\"--no-such-flag\"", "--no-such-flag"),
    ] {
        let config = write(
            dir.path(),
            "serve.toml",
            &format!("targets = [\"contoso.com\"]\n[modules.federation]\nargs = [{flags}]\n"),
        );
        let output = fedscan().args(["serve", "--config"]).arg(&config).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags}: {stderr}");
        assert!(stderr.contains("module \"federation\"") && stderr.contains(said), "{flags}: {stderr}");
    }
    // A misspelt setting is named with its line.
    let config =
        write(dir.path(), "serve.toml", "targets = [\"contoso.com\"]\nmin_intervall = 5\n[modules.a]\nargs = []\n");
    let output = fedscan().args(["serve", "--config"]).arg(&config).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 2") && stderr.contains("min_intervall"), "{stderr}");
}

/// A program the test needs from the system: missing, the test fails under
/// CI (the README's test command installs it) and is passed over elsewhere.
fn program(names: &[&str]) -> Option<std::path::PathBuf> {
    let found = names
        .iter()
        .flat_map(|name| ["/usr/bin", "/usr/sbin", "/usr/local/bin"].map(|dir| std::path::Path::new(dir).join(name)))
        .find(|path| path.exists());
    if found.is_none() {
        assert!(!crate::peers::required(), "{names:?} is not installed: scripts/test.sh installs it");
        eprintln!("skipping: {names:?} is not installed");
    }
    found
}

/// Prometheus's HTTP API: a query's result vector.
fn query(prometheus: SocketAddr, promql: &str) -> Vec<serde_json::Value> {
    let encoded: String = promql
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let (status, body) = get(prometheus, &format!("/api/v1/query?query={encoded}"), None);
    // Chunked transfer: the JSON document is the part between the first
    // '{' and the last '}'.
    let json = &body[body.find('{').unwrap_or(0)..=body.rfind('}').unwrap_or(0)];
    let answer: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{status} {e}: {body}"));
    assert_eq!(answer["status"], "success", "{promql}: {answer}");
    answer["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// The one value of a query that must give exactly one series.
fn single(prometheus: SocketAddr, promql: &str) -> f64 {
    let result = query(prometheus, promql);
    assert_eq!(result.len(), 1, "{promql}: {result:?}");
    result[0]["value"][1].as_str().unwrap().parse().unwrap()
}

/// Waits until `done` holds, for at most a minute.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(std::time::Instant::now() < until, "{what}: not within a minute");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The shipped Prometheus configuration with only what a test must change
/// replaced (each replacement checked, so a change to the shipped file is
/// seen here): intervals of seconds, the test's domains, its exporter.
fn shipped_prometheus_config(exporter: SocketAddr, domains: &[&str], alerts: &std::path::Path) -> String {
    let mut text = std::fs::read_to_string(crate::common::root("deploy/prometheus/prometheus.yml")).unwrap();
    let targets: String = domains.iter().map(|d| format!("          - {d}\n")).collect();
    for (from, to) in [
        ("  scrape_interval: 5m\n", "  scrape_interval: 2s\n".to_string()),
        ("  scrape_timeout: 30s\n", "  scrape_timeout: 2s\n".to_string()),
        ("  evaluation_interval: 1m\n", "  evaluation_interval: 1s\n".to_string()),
        (
            "    scrape_interval: 1m\n    scrape_timeout: 10s\n",
            "    scrape_interval: 2s\n    scrape_timeout: 2s\n".to_string(),
        ),
        ("          - contoso.com\n          - contoso.net\n", targets),
        ("        replacement: 127.0.0.1:9787\n", format!("        replacement: {exporter}\n")),
        ("      - targets: [127.0.0.1:9787]\n", format!("      - targets: ['{exporter}']\n")),
        ("  - fedscan-alerts.yml\n", format!("  - {}\n", alerts.display())),
    ] {
        assert!(text.contains(from), "the shipped prometheus.yml no longer has {from:?}");
        text = text.replace(from, &to);
    }
    text
}

#[test]
fn a_real_prometheus_scrapes_serve_with_the_shipped_configuration_and_sees_each_failure() {
    let Some(prometheus_bin) = program(&["prometheus"]) else { return };
    let Some(promtool) = program(&["promtool"]) else { return };
    let domains = ["healthy.test", "nosrv.test", "expired.test", "mtls.test", "forbidden.test"];
    let pki = Pki::new("Contoso");
    let names: Vec<String> = domains.iter().map(|d| format!("sip.{d}")).collect();
    let leaf = |not_after| {
        pki.leaf(&LeafSpec { common_name: names[0].clone(), sans: names.clone(), not_after, ..LeafSpec::default() })
    };
    let valid = time::macros::datetime!(2027-01-01 0:00 UTC);
    let ok = || Behaviour::Answer(b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec());
    let healthy = SipServer::start(&leaf(valid), ok());
    let expired = SipServer::start(&leaf(time::macros::datetime!(2026-03-01 0:00 UTC)), ok());
    let partners = Pki::new("Partner CA");
    let mtls = SipServer::start_asking_for_client_certificate(&leaf(valid), &partners, ok());
    let forbidden = SipServer::start(
        &leaf(valid),
        Behaviour::Answer(
            b"SIP/2.0 403 Forbidden\r\nms-diagnostics: 1034;reason=\"Previous hop federated peer did not report diagnostic information\";source=\"sip.forbidden.test\"\r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
        ),
    );
    let zones: Vec<String> = vec![
        federation_zone("healthy.test", healthy.addr.port()),
        crate::peers::dns::zone("nosrv.test", "sip 300 IN A 127.0.0.1"),
        federation_zone("expired.test", expired.addr.port()),
        federation_zone("mtls.test", mtls.addr.port()),
        federation_zone("forbidden.test", forbidden.addr.port()),
    ];
    let served: Vec<(&str, &str)> = domains.iter().copied().zip(zones.iter().map(String::as_str)).collect();
    let dns = DnsServer::start(&served);
    let dir = tempfile::tempdir().unwrap();
    let root = pki.write_root(dir.path());
    let config = write(
        dir.path(),
        "serve.toml",
        &format!(
            "listen = \"127.0.0.1:0\"\ntargets = [{}]\nmin_interval_seconds = 1\n\n\
             [modules.federation]\nargs = [\"--resolver\", \"{}\", \"--trust\", {:?}, \"--timeout\", \"1\", \"--dns-attempts\", \"1\", \
             \"--now\", \"2026-06-01T00:00:00Z\", \"--fail-on\", \"low\", \"--only\", \"DNS-FED-01\", \"--only\", \"TLS-*\", \"--only\", \"SIP-OPT-01\", \
             \"--skip\", \"TLS-NAME-*\", \"--skip\", \"TLS-CHAIN-01\", \"--skip\", \"TLS-CDP-01\", \"--skip\", \"TLS-USE-01\", \"--skip\", \"TLS-POOL-01\", \"--skip\", \"TLS-EKU-02\"]\n",
            domains.map(|d| format!("{d:?}")).join(", "),
            dns.resolver_arg(),
            root.display().to_string(),
        ),
    );
    let exporter = start(&config);

    // One /probe response as Prometheus reads it: promtool's own check.
    let (_, probe) = get(exporter.addr, "/probe?target=healthy.test&module=federation", Some("5"));
    let mut check = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    check.stdin.take().unwrap().write_all(probe.as_bytes()).unwrap();
    let checked = check.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool check metrics: {}{}\n{probe}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    let alerts = crate::common::root("deploy/prometheus/fedscan-alerts.yml");
    let prometheus_yml =
        write(dir.path(), "prometheus.yml", &shipped_prometheus_config(exporter.addr, &domains, &alerts));
    let checked =
        std::process::Command::new(&promtool).args(["check", "config"]).arg(&prometheus_yml).output().unwrap();
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stdout));
    let port = crate::peers::free_port();
    let prometheus_addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut command = std::process::Command::new(&prometheus_bin);
    command
        .arg(format!("--config.file={}", prometheus_yml.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address={prometheus_addr}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let _prometheus = Group::spawn(&mut command).unwrap();
    eventually("every domain scraped", || {
        TcpStream::connect(prometheus_addr).is_ok()
            && query(prometheus_addr, "fedscan_probe_success").len() == domains.len()
    });
    eventually("the exporter's own metrics scraped", || {
        !query(prometheus_addr, "fedscan_exporter_probes_total{job=\"fedscan_exporter\"}").is_empty()
    });

    let at = |domain: &str, series: &str| single(prometheus_addr, &series.replace("DOMAIN", domain));
    // The healthy Edge: every rule passes, and its values.
    assert_eq!(
        at("healthy.test", "fedscan_probe_success{instance=\"DOMAIN\",job=\"fedscan\"}"),
        1.0,
        "{:?}",
        query(prometheus_addr, "fedscan_rule_status{instance=\"healthy.test\",status!=\"pass\"}")
    );
    assert_eq!(at("healthy.test", "fedscan_tls_client_certificate_requested{instance=\"DOMAIN\"}"), 0.0);
    assert_eq!(at("healthy.test", "fedscan_sip_options_status_code{instance=\"DOMAIN\"}"), 200.0);
    assert_eq!(at("healthy.test", "fedscan_cert_not_after_seconds{instance=\"DOMAIN\"}"), 1_798_761_600.0);
    assert_eq!(at("healthy.test", "fedscan_tls_version_info{instance=\"DOMAIN\",version=\"TLS 1.3\"}"), 1.0);
    for domain in ["nosrv.test", "expired.test"] {
        assert_eq!(at(domain, "fedscan_probe_success{instance=\"DOMAIN\"}"), 0.0, "{domain}");
    }
    // Each failure, named by its rule.
    assert_eq!(at("nosrv.test", "fedscan_rule_status{instance=\"DOMAIN\",rule=\"DNS-FED-01\",status=\"fail\"}"), 1.0);
    assert!(
        query(prometheus_addr, "fedscan_tls_handshake_success{instance=\"nosrv.test\"}").is_empty(),
        "no Edge, no TLS series"
    );
    assert_eq!(at("expired.test", "fedscan_rule_status{instance=\"DOMAIN\",rule=\"TLS-EXP-01\",status=\"fail\"}"), 1.0);
    assert!(at("expired.test", "fedscan_cert_chain_expires_in_seconds{instance=\"DOMAIN\"}") < 0.0);
    assert_eq!(at("mtls.test", "fedscan_tls_client_certificate_requested{instance=\"DOMAIN\"}"), 1.0);
    assert_eq!(at("mtls.test", "fedscan_rule_status{instance=\"DOMAIN\",rule=\"TLS-MTLS-01\",status=\"pass\"}"), 1.0);
    assert_eq!(at("forbidden.test", "fedscan_sip_options_status_code{instance=\"DOMAIN\"}"), 403.0);
    assert_eq!(at("forbidden.test", "fedscan_sip_options_diagnostic_code{instance=\"DOMAIN\"}"), 1034.0);
    // A refusal with ms-diagnostics is an answer (SIP-OPT-01 passes): the
    // code says why, for a dashboard or an alert of the user's.
    assert_eq!(
        at("forbidden.test", "fedscan_rule_status{instance=\"DOMAIN\",rule=\"SIP-OPT-01\",status=\"pass\"}"),
        1.0
    );
    // Bounded: no probe gives more than ~150 series.
    for domain in domains {
        assert!(at(domain, "count({job=\"fedscan\",instance=\"DOMAIN\"})") <= 150.0, "{domain}");
    }

    // The shipped alerts, as the real Prometheus evaluates them: the
    // expired certificate at once, the missing record pending its `for`.
    eventually("the alerts evaluated", || {
        !query(
            prometheus_addr,
            "ALERTS{alertname=\"EdgeCertificateExpired\",instance=\"expired.test\",alertstate=\"firing\"}",
        )
        .is_empty()
            && !query(prometheus_addr, "ALERTS{alertname=\"FederationSrvRecordMissing\",instance=\"nosrv.test\"}")
                .is_empty()
    });
    assert!(query(prometheus_addr, "ALERTS{instance=\"healthy.test\"}").is_empty(), "an alert on the healthy Edge");

    // Every expression of the shipped Grafana dashboard runs on it.
    let dashboard = crate::common::read_json(crate::common::root("deploy/grafana/fedscan-dashboard.json"));
    let mut expressions = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap().replace("$domain", ".*");
            query(prometheus_addr, &expr);
            expressions += 1;
        }
    }
    assert!(expressions >= 9, "{expressions}");
}

#[test]
fn every_shipped_monitoring_file_passes_its_checker() {
    let Some(promtool) = program(&["promtool"]) else { return };
    let deploy = crate::common::root("deploy");
    for args in [
        vec!["check", "config", "prometheus/prometheus.yml"],
        vec!["check", "rules", "prometheus/fedscan-alerts.yml"],
        // Each alert fires on the series that should fire it and no other.
        vec!["test", "rules", "prometheus/fedscan-alerts.test.yml"],
    ] {
        let output = std::process::Command::new(&promtool).args(&args).current_dir(deploy.join("")).output().unwrap();
        assert!(
            output.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    // The Kubernetes manifest, against the API's schemas.
    let checked = std::process::Command::new(crate::common::test_tool("venv/bin/kubernetes-validate"))
        .arg("--strict")
        .arg(deploy.join("kubernetes/fedscan-serve.yaml"))
        .output()
        .unwrap();
    crate::common::assert_ran(&checked, "kubernetes-validate");

    // The systemd unit, as systemd reads it, run as it would be: the binary
    // in its place, the configuration the ConfigMap holds.
    let dir = tempfile::tempdir().unwrap();
    if let Some(analyze) = program(&["systemd-analyze"]) {
        let unit = std::fs::read_to_string(deploy.join("systemd/fedscan-serve.service")).unwrap();
        assert!(unit.contains("ExecStart=/usr/local/bin/fedscan serve --config /etc/fedscan/serve.toml"));
        let binary = assert_cmd::cargo::cargo_bin("fedscan");
        let unit = unit.replace("/usr/local/bin/fedscan", &binary.display().to_string());
        let path = write(dir.path(), "fedscan-serve.service", &unit);
        let output = std::process::Command::new(analyze).arg("verify").arg(&path).output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        // A unit systemd reads with a problem is named with its line.
        assert!(output.status.success() && !said.contains("fedscan-serve.service:"), "systemd-analyze verify: {said}");
    }

    // The example configurations start the exporter (on a free port).
    let manifest = std::fs::read_to_string(deploy.join("kubernetes/fedscan-serve.yaml")).unwrap();
    let from_configmap: String = manifest
        .split("serve.toml: |\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("    ") || l.is_empty())
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    let example = std::fs::read_to_string(deploy.join("prometheus/serve.toml")).unwrap();
    for (name, text, listen) in [
        ("serve.toml", example, "listen = \"127.0.0.1:9787\""),
        ("configmap.toml", from_configmap, "listen = \"0.0.0.0:9787\""),
    ] {
        assert!(text.contains(listen), "{name}");
        let config = write(dir.path(), name, &text.replace(listen, "listen = \"127.0.0.1:0\""));
        let exporter = start(&config);
        assert_eq!(get(exporter.addr, "/-/healthy", None).0, 200, "{name}");
        assert_eq!(get(exporter.addr, "/probe?target=fabrikam.com&module=federation", None).0, 400, "{name}");
    }
}

#[test]
fn certificate_expiry_and_tls_version_agree_with_the_blackbox_exporter_on_the_same_edge() {
    let Some(blackbox) = program(&["prometheus-blackbox-exporter"]) else { return };
    let Site { edge, exporter, _dns, _dir: dir } = site(
        answers_ok(),
        &["contoso.com"],
        "targets = [\"contoso.com\"]",
        &["--timeout", "3", "--only", "TLS-CON-01"],
    );
    let root = dir.path().join("root.pem");
    let (status, ours) = get(exporter.addr, "/probe?target=contoso.com&module=federation", Some("10"));
    assert_eq!(status, 200, "{ours}");

    let blackbox_yml = write(
        dir.path(),
        "blackbox.yml",
        &format!(
            "modules:\n  edge_tls:\n    prober: tcp\n    timeout: 5s\n    tcp:\n      tls: true\n      preferred_ip_protocol: ip4\n      \
             tls_config:\n        ca_file: {}\n        server_name: sip.contoso.com\n",
            root.display()
        ),
    );
    let port = crate::peers::free_port();
    let listen: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut command = std::process::Command::new(blackbox);
    command
        .arg(format!("--config.file={}", blackbox_yml.display()))
        .arg(format!("--web.listen-address={listen}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let _blackbox = Group::spawn(&mut command).unwrap();
    eventually("the blackbox exporter listening", || TcpStream::connect(listen).is_ok());
    let (status, theirs) = get(listen, &format!("/probe?target={}&module=edge_tls", edge.addr), None);
    assert_eq!(status, 200, "{theirs}");
    assert_eq!(value(&theirs, "probe_success"), Some(1.0), "{theirs}");

    let earliest = value(&ours, "fedscan_cert_chain_earliest_expiry_seconds").unwrap();
    assert_eq!(Some(earliest), value(&theirs, "probe_ssl_earliest_cert_expiry"), "ours:\n{ours}\ntheirs:\n{theirs}");
    assert_eq!(value(&ours, "fedscan_tls_version_info{version=\"TLS 1.3\""), Some(1.0), "{ours}");
    assert_eq!(value(&theirs, "probe_tls_version_info{version=\"TLS 1.3\""), Some(1.0), "{theirs}");
}

#[test]
fn a_slow_or_oversized_request_is_cut_and_the_exporter_keeps_answering() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "serve.toml",
        "listen = \"127.0.0.1:0\"\ntargets = [\"contoso.com\"]\n[modules.federation]\nargs = [\"--timeout\", \"1\"]\n",
    );
    let exporter = start(&config);
    let started = std::time::Instant::now();
    // Half a request head, then nothing: cut after the head timeout (5 s).
    let mut slow = TcpStream::connect(exporter.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    slow.write_all(b"GET /probe?target=contoso.com HTTP/1.1\r\nHost: x\r\n").unwrap();
    // Meanwhile the exporter answers others.
    assert_eq!(get(exporter.addr, "/-/healthy", None), (200, "OK\n".to_string()));
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(15), "a stalled client held its connection {waited:?}");
    assert!(!String::from_utf8_lossy(&rest).contains("fedscan_"), "a half request was answered with metrics");

    // A head of 100 KB: refused, not buffered.
    let mut big = TcpStream::connect(exporter.addr).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let padding = "a".repeat(100 * 1024);
    let _ = write!(big, "GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Padding: {padding}\r\n\r\n");
    let mut answer = String::new();
    let _ = big.read_to_string(&mut answer);
    assert!(!answer.contains("200 OK"), "an oversized head was served: {}", &answer[..answer.len().min(200)]);
    assert_eq!(get(exporter.addr, "/-/healthy", None).0, 200);
}

#[test]
fn a_slow_edge_shows_in_the_phase_it_is_slow_in() {
    let delay = Duration::from_millis(400);
    let Site { exporter, _dns, _dir, edge: _edge } = site(
        Behaviour::Slow { delay },
        &["contoso.com"],
        "targets = [\"contoso.com\"]",
        &["--timeout", "3", "--only", "SIP-OPT-01"],
    );
    let (status, metrics) = get(exporter.addr, "/probe?target=contoso.com&module=federation", Some("20"));
    assert_eq!(status, 200, "{metrics}");
    let phase = |name: &str| {
        value(&metrics, &format!("fedscan_probe_phase_duration_seconds{{phase=\"{name}\""))
            .unwrap_or_else(|| panic!("{metrics}"))
    };
    // The Edge waits before its handshake and before its answer; DNS does not.
    assert!(phase("tls") >= delay.as_secs_f64(), "{metrics}");
    assert!(phase("sip") >= delay.as_secs_f64(), "{metrics}");
    assert!(phase("dns") < delay.as_secs_f64(), "{metrics}");
    assert_eq!(value(&metrics, "fedscan_sip_options_status_code"), Some(200.0), "{metrics}");
}

#[test]
fn a_probe_ends_within_the_scrapers_timeout_and_probes_beyond_the_cap_are_refused() {
    // An Edge that completes the handshake and never answers OPTIONS.
    let Site { exporter, _dns, _dir, edge: _edge } = site(
        Behaviour::Silent,
        &["contoso.com", "contoso.net"],
        "targets = [\"contoso.com\", \"contoso.net\"]\nmax_probes_in_flight = 1",
        &["--timeout", "20", "--only", "SIP-OPT-01"],
    );
    let addr = exporter.addr;
    // The scraper allows 3 s: the module's 20 s timeout gives way, and the
    // answer comes before the scraper gives up.
    let started = std::time::Instant::now();
    let first = std::thread::spawn(move || get(addr, "/probe?target=contoso.com&module=federation", Some("3")));
    std::thread::sleep(Duration::from_millis(500));
    // Meanwhile the one place for a probe is taken: another target waits
    // for no one.
    let (status, _) = get(addr, "/probe?target=contoso.net&module=federation", Some("3"));
    assert_eq!(status, 503, "a probe beyond max_probes_in_flight");
    let (status, metrics) = first.join().unwrap();
    let took = started.elapsed();
    assert_eq!(status, 200, "{metrics}");
    assert!(took < Duration::from_secs(3), "the probe took {took:?} against a 3 s scrape timeout");
    assert_eq!(value(&metrics, "fedscan_probe_success"), Some(0.0), "{metrics}");
    let (_, own) = get(addr, "/metrics", None);
    assert_eq!(value(&own, "fedscan_exporter_refused_total{reason=\"busy\""), Some(1.0), "{own}");
}

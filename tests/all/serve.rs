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

#[test]
fn serve_probes_an_allowed_domain_once_per_interval_and_refuses_the_rest_without_a_probe() {
    let pki = Pki::new("Contoso");
    let answer = b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    let edge = SipServer::start(&pki.leaf(&LeafSpec::default()), Behaviour::Answer(answer));
    let port = edge.addr.port();
    let contoso = federation_zone("contoso.com", port);
    let net = federation_zone("contoso.net", port);
    let dns = DnsServer::start(&[("contoso.com", &contoso), ("contoso.net", &net)]);
    let dir = tempfile::tempdir().unwrap();
    let root = pki.write_root(dir.path());
    let config = write(
        dir.path(),
        "serve.toml",
        &format!(
            "listen = \"127.0.0.1:0\"\ntargets = [\"contoso.com\", \"contoso.net\", \"*.example.org\"]\nmin_interval_seconds = 300\n\n\
             [modules.federation]\nargs = [\"--resolver\", \"{}\", \"--trust\", {:?}, \"--timeout\", \"5\", \"--dns-attempts\", \"1\", \
             \"--now\", \"2026-06-01T00:00:00Z\", \"--only\", \"DNS-FED-01\", \"--only\", \"TLS-CON-01\", \"--only\", \"TLS-EXP-01\", \"--only\", \"SIP-OPT-01\"]\n",
            dns.resolver_arg(),
            root.display().to_string(),
        ),
    );
    let exporter = start(&config);

    // Refused without a probe: a target the configuration does not allow,
    // an unknown module, no target.
    for path in [
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
    assert_eq!(value(&metrics, "fedscan_sip_ms_diagnostics_code"), Some(0.0), "{metrics}");
    assert!(metrics.ends_with("# EOF\n"), "OpenMetrics text ends with # EOF");
    let one_probe = edge.handshakes();
    assert!(one_probe >= 1, "the probe reached the Edge");

    // Scraped again within the interval: the same metrics, no new probe.
    let (_, again) = get(exporter.addr, "/probe?target=contoso.com&module=federation", None);
    assert_eq!(again, metrics);
    assert_eq!(edge.handshakes(), one_probe);

    // Twenty scrapes of a new target at once: one probe, twenty answers.
    let scrapes: Vec<_> = (0..20)
        .map(|_| {
            let addr = exporter.addr;
            std::thread::spawn(move || get(addr, "/probe?target=contoso.net&module=federation", Some("10")))
        })
        .collect();
    let answers: Vec<(u16, String)> = scrapes.into_iter().map(|s| s.join().unwrap()).collect();
    assert!(answers.iter().all(|(status, body)| *status == 200 && body == &answers[0].1));
    assert_eq!(edge.handshakes(), 2 * one_probe, "twenty concurrent scrapes made more than one probe");

    let (status, own) = get(exporter.addr, "/metrics", None);
    assert_eq!(status, 200);
    assert_eq!(
        value(&own, "fedscan_exporter_probes_total{module=\"federation\",result=\"success\""),
        Some(2.0),
        "{own}"
    );
    assert_eq!(value(&own, "fedscan_exporter_reused_total"), Some(20.0), "{own}");
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

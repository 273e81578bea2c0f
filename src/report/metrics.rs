//! Prometheus metrics of one probe of one SIP domain (`fedscan serve`'s
//! `/probe`): whether every rule that ran passed, each rule's status, the
//! findings counted, and what the Edge showed (certificate dates, TLS
//! version, client-certificate request, the OPTIONS answer). Written with
//! `prometheus-client` in the OpenMetrics text format.
//!
//! No label takes text from a peer: rule IDs, severities and statuses are
//! fedscan's own, a TLS version one of four names; a certificate's subject
//! or a SIP reason phrase never appear. A probe gives at most one series
//! per selected rule, twenty finding counts and a dozen single values.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use time::OffsetDateTime;

use crate::facts::Facts;
use crate::facts::sip::SipOutcome;
use crate::facts::tls::TlsOutcome;
use crate::findings::{Finding, Severity, Status};

type FloatGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: String,
    severity: &'static str,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CountLabels {
    severity: &'static str,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    phase: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: &'static str,
}

/// Registers a gauge of one value.
fn gauge(registry: &mut Registry, name: &str, help: &str, value: f64) {
    let metric = FloatGauge::default();
    metric.set(value);
    registry.register(name, help, metric);
}

/// How one probe went, beside its findings and facts.
pub struct ProbeRun<'a> {
    pub findings: &'a [Finding],
    pub facts: Option<&'a Facts>,
    pub duration: std::time::Duration,
    /// How long each phase took: the DNS questions, the longest TLS
    /// handshake, the longest OPTIONS exchange (those that happened).
    pub phases: Vec<(&'static str, std::time::Duration)>,
    /// Whether the scan's exit would be 0: no failure at or above the
    /// module's `--fail-on`, nothing that could not be judged.
    pub clean: bool,
    /// Why the probe gave no findings at all (the deadline passed, the scan
    /// could not start): success is then 0.
    pub failure: Option<&'a str>,
}

impl<'a> ProbeRun<'a> {
    /// A probe that gave no findings at all, and why.
    pub fn failed(why: &'a str, duration: std::time::Duration) -> ProbeRun<'a> {
        ProbeRun { findings: &[], facts: None, duration, phases: Vec::new(), clean: false, failure: Some(why) }
    }
}

/// The worse of two statuses for a rule with several findings: an error
/// or failure anywhere is the rule's.
fn rank(status: Status) -> u8 {
    match status {
        Status::Fail => 3,
        Status::Error => 2,
        Status::Pass => 1,
        Status::Skip => 0,
    }
}

/// Whether the probe is a success: findings were judged and the scan
/// would have exited 0.
pub fn succeeded(run: &ProbeRun) -> bool {
    run.failure.is_none() && run.clean && run.findings.iter().any(|f| f.status == Status::Pass)
}

/// The probe's metrics in the OpenMetrics text format.
pub fn render(run: &ProbeRun, now: OffsetDateTime) -> String {
    let mut registry = Registry::with_prefix("fedscan");
    gauge(
        &mut registry,
        "probe_success",
        "1 when the scan would exit 0: no failure at or above --fail-on, nothing unjudged",
        f64::from(u8::from(succeeded(run))),
    );
    gauge(&mut registry, "probe_duration_seconds", "How long the probe took", run.duration.as_secs_f64());
    if !run.phases.is_empty() {
        let phases = Family::<PhaseLabels, FloatGauge>::default();
        for (phase, took) in &run.phases {
            phases.get_or_create(&PhaseLabels { phase }).set(took.as_secs_f64());
        }
        registry.register(
            "probe_phase_duration_seconds",
            "How long each phase took: dns (every question), tls (the longest handshake), sip (the longest OPTIONS exchange)",
            phases,
        );
    }

    // One series per rule that ran: its worst status.
    let rules = Family::<RuleLabels, Gauge>::default();
    let mut worst: Vec<(&str, Severity, Status)> = Vec::new();
    for finding in run.findings.iter().filter(|f| f.not_run.is_none()) {
        match worst.iter_mut().find(|(rule, _, _)| *rule == &*finding.rule) {
            Some(entry) if rank(finding.status) > rank(entry.2) => {
                *entry = (&finding.rule, finding.severity, finding.status)
            }
            Some(_) => {}
            None => worst.push((&finding.rule, finding.severity, finding.status)),
        }
    }
    for (rule, severity, status) in &worst {
        let labels = RuleLabels { rule: rule.to_string(), severity: severity.name(), status: status.name() };
        rules.get_or_create(&labels).set(1);
    }
    registry.register("rule_status", "Each rule that ran, labelled with its worst status and its severity", rules);

    let counts = Family::<CountLabels, Gauge>::default();
    for severity in Severity::ALL {
        for status in Status::ALL {
            let n = run.findings.iter().filter(|f| f.severity == severity && f.status == status).count();
            counts
                .get_or_create(&CountLabels { severity: severity.name(), status: status.name() })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
    registry.register("findings", "Findings of the probe by severity and status", counts);

    if let Some(facts) = run.facts {
        edge_metrics(&mut registry, facts, now);
    }
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut text, &registry);
    text
}

/// What the federation Edge showed: the first endpoint the organization's
/// own federation record leads to (partners' endpoints aside).
fn edge_metrics(registry: &mut Registry, facts: &Facts, now: OffsetDateTime) {
    let Some(tls) = facts.tls.iter().find(|t| t.partner.is_none()) else { return };
    let established = match &tls.outcome {
        TlsOutcome::Established { version, .. } => {
            let versions = Family::<VersionLabels, Gauge>::default();
            versions.get_or_create(&VersionLabels { version: version.name() }).set(1);
            registry.register("tls_version_info", "The TLS version the Edge negotiated", versions);
            true
        }
        _ => false,
    };
    gauge(
        registry,
        "tls_handshake_success",
        "1 when the TLS handshake with the Edge completed",
        f64::from(u8::from(established)),
    );
    let asked = tls.client_auth.is_some() || matches!(tls.outcome, TlsOutcome::ClientCertificateRequired { .. });
    gauge(
        registry,
        "tls_client_certificate_requested",
        "1 when the Edge asked for a client certificate (MTLS)",
        f64::from(u8::from(asked)),
    );
    let chain: Vec<_> = tls.chain_der().iter().filter_map(|der| crate::facts::x509::cert_info(der).ok()).collect();
    if let Some(leaf) = chain.first() {
        gauge(
            registry,
            "cert_not_after_seconds",
            "The Edge certificate's notAfter, in Unix seconds",
            leaf.not_after.unix_timestamp() as f64,
        );
        gauge(
            registry,
            "cert_not_before_seconds",
            "The Edge certificate's notBefore, in Unix seconds",
            leaf.not_before.unix_timestamp() as f64,
        );
        if let Some(earliest) = chain.iter().map(|c| c.not_after).min() {
            gauge(
                registry,
                "cert_chain_earliest_expiry_seconds",
                "The earliest notAfter in the chain the Edge presented, in Unix seconds",
                earliest.unix_timestamp() as f64,
            );
            gauge(
                registry,
                "cert_chain_expires_in_seconds",
                "Seconds until the earliest notAfter in the Edge's chain (negative once expired)",
                (earliest - now).as_seconds_f64(),
            );
        }
    }
    if let Some(sip) = facts.sip.iter().find(|s| s.endpoint == tls.endpoint) {
        let (code, diagnostic) = match &sip.outcome {
            SipOutcome::Response { response } => {
                (f64::from(response.status), response.diagnostics.first().map(|d| f64::from(d.code)).unwrap_or(0.0))
            }
            _ => (0.0, 0.0),
        };
        gauge(
            registry,
            "sip_options_status_code",
            "The SIP status code of the Edge's answer to OPTIONS (0: none)",
            code,
        );
        gauge(
            registry,
            "sip_options_diagnostic_code",
            "The first ms-diagnostics code of that answer (0: none)",
            diagnostic,
        );
    }
}

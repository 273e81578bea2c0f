//! Reading TLS facts for the TLS and certificate kinds (not a kind itself):
//! every endpoint or certificate of the organization's own, or the outcome
//! that says why there is none, and the names a certificate must carry.

use serde_json::{Value, json};

use super::{Check, Reference, see};
use crate::facts::Targets;
use crate::facts::endpoints::{MAX_ADDRESSES_PER_HOST, own_endpoints};
use crate::facts::need::Need;
use crate::facts::tls::{TlsFact, TlsOutcome};
use crate::facts::view::FactView;
use crate::facts::x509::{CertInfo, SeenCertificate};
use crate::findings::{Outcome, Step, Target};

/// A certificate kind: a verdict on each certificate the scan saw. What
/// every such kind declares alike is declared once, here: it reads the
/// handshakes, it judges the certificate step of the path, and it points at
/// the rule that reports why no Edge presented a certificate.
pub trait CertificateCheck {
    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome>;

    /// The `connection_rule` parameter.
    fn connection_rule(&self) -> &Option<String>;

    /// The other rules the kind's messages name, by parameter.
    fn other_references(&self) -> Vec<Reference<'_>> {
        Vec::new()
    }
}

impl<T: CertificateCheck> Check for T {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        per_certificate(ctx, self.connection_rule().as_slice(), |cert| self.judge(ctx, cert))
    }

    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![Need::Tls]
    }

    fn step(&self) -> Step {
        Step::Certificate
    }

    fn references(&self) -> Vec<Reference<'_>> {
        let mut references = Reference::all("connection_rule", self.connection_rule());
        references.extend(self.other_references());
        references
    }
}

/// Runs `judge` for every certificate, or says there is none to judge;
/// `connection_rule` reports why no Edge presented one.
pub fn per_certificate(
    ctx: &FactView,
    connection_rule: &[String],
    judge: impl Fn(&SeenCertificate) -> Vec<Outcome>,
) -> Vec<Outcome> {
    let certificates = ctx.certificates();
    // An endpoint the probe observed nothing of may have presented anything.
    let unobserved: Vec<Outcome> = ctx
        .facts
        .tls
        .iter()
        .filter(|f| f.partner.is_none() && matches!(f.outcome, TlsOutcome::Unobserved { .. }))
        .map(|f| Outcome::error(&f.endpoint, format!("its certificate is unknown: {}", f.outcome.describe())))
        .collect();
    if certificates.seen.is_empty() && certificates.unreadable.is_empty() && unobserved.is_empty() {
        let why = if ctx.facts.tls.is_empty() {
            "no certificate to judge: no Edge was reached over TLS and no --cert-file was given".to_string()
        } else {
            format!("no certificate to judge: no Edge presented one{}", see::in_parentheses(connection_rule))
        };
        return vec![Outcome::skip(Target::area("TLS"), why)];
    }
    let mut outcomes = unobserved;
    outcomes.extend(certificates.unreadable.iter().map(|(origin, error)| Outcome::error(origin, error.clone())));
    outcomes.extend(certificates.seen.iter().flat_map(judge));
    outcomes.extend(unprobed_errors(ctx));
    outcomes
}

/// The Access Edge FQDNs a certificate must name: the host it was reached
/// at, and the Edge FQDNs known from --edge and the snapshot.
pub fn expected_names(ctx: &FactView, cert: &SeenCertificate) -> Vec<String> {
    let mut names: Vec<String> = cert.host().map(str::to_string).into_iter().collect();
    for edge in &ctx.targets.edges {
        if !names.contains(edge) {
            names.push(edge.clone());
        }
    }
    names
}

/// Whether `name` is one of the DNS names, exactly (wildcards do not count:
/// the Access Edge needs its exact name).
pub fn names_exactly(cert: &CertInfo, name: &str) -> bool {
    cert.dns_names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// A wildcard of the certificate that covers `name`, if any.
pub fn wildcard_covering<'c>(cert: &'c CertInfo, name: &str) -> Option<&'c str> {
    cert.dns_names.iter().map(String::as_str).find(|pattern| {
        pattern
            .strip_prefix("*.")
            .is_some_and(|suffix| name.split_once('.').is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(suffix)))
    })
}

/// Runs `judge` for every TLS endpoint probed, or says there is none;
/// `discovery_rules` report why DNS led to no endpoint.
pub fn per_endpoint(
    ctx: &FactView,
    discovery_rules: &[String],
    judge: impl Fn(&TlsFact) -> Vec<Outcome>,
) -> Vec<Outcome> {
    let own: Vec<&TlsFact> = ctx.facts.tls.iter().filter(|f| f.partner.is_none()).collect();
    if own.is_empty() {
        let why = if !own_endpoints(ctx.facts).is_empty() {
            "TLS was not probed in this scan (its TLS rules were deselected, or the facts were recorded without them)"
                .to_string()
        } else if ctx.dns.gathered {
            format!(
                "no TLS endpoint: no federation SRV target or Edge address was found{}",
                see::in_parentheses(discovery_rules)
            )
        } else {
            "no TLS endpoint was probed (an offline audit, or a certificate file only)".to_string()
        };
        return vec![Outcome::skip(Target::area("TLS"), why)];
    }
    let mut outcomes: Vec<Outcome> = own.into_iter().flat_map(judge).collect();
    outcomes.extend(unprobed_errors(ctx));
    outcomes
}

/// An error for each of the organization's names whose addresses the scan
/// did not all probe: what was not probed is not judged.
pub fn unprobed_errors(ctx: &FactView) -> Vec<Outcome> {
    ctx.unprobed()
        .iter()
        .filter(|u| u.partner.is_none())
        .map(|u| {
            let left_out: Vec<String> = u.addresses.iter().map(|a| a.to_string()).collect();
            Outcome::error(
                Target::Service { host: u.host.clone(), port: u.port },
                format!(
                    "{} has {} addresses; the scan probes the first {MAX_ADDRESSES_PER_HOST} and did not check {}",
                    u.host,
                    u.total,
                    left_out.join(", ")
                ),
            )
        })
        .collect()
}

/// Whether a handshake got nowhere: nothing answered, or no TLS was spoken.
pub fn unreached(fact: &TlsFact) -> bool {
    matches!(fact.outcome, TlsOutcome::Refused | TlsOutcome::Timeout | TlsOutcome::Failed { .. })
}

/// The evidence of one handshake.
pub fn handshake_evidence(fact: &TlsFact) -> Value {
    json!({
        "endpoint": fact.endpoint.label(),
        "outcome": fact.outcome.describe(),
        "chain_source": fact.chain_source,
        "versions": fact.versions,
        "client_auth": fact.client_auth,
    })
}

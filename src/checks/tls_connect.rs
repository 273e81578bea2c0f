//! `tls_connect`: each federation endpoint completes a TLS handshake with a
//! modern client. Refused, silent and legacy-only endpoints fail, with the
//! reason: a partner's Edge connects the same way.

use serde::Deserialize;

use super::Check;
use super::tls::{NoAddress, handshake_evidence, per_endpoint};
use crate::facts::Targets;
use crate::facts::need::Need;
use crate::facts::tls::{ChainSource, TlsOutcome};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Step};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConnect {
    /// The rules that report why DNS led to no endpoint.
    #[serde(default)]
    discovery_rules: Vec<String>,
}

impl Check for TlsConnect {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![Need::Tls]
    }

    fn step(&self) -> Step {
        Step::Connection
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        per_endpoint(ctx, &self.discovery_rules, NoAddress::Fails, |fact| {
            let label = &fact.endpoint;
            let outcome = match &fact.outcome {
                TlsOutcome::Established { version, cipher } => Outcome::pass(label, format!("{version}, {cipher}")),
                TlsOutcome::Oversized { .. } => Outcome::fail(label, fact.outcome.describe()),
                TlsOutcome::Rejected { reason } if fact.chain_source == Some(ChainSource::Legacy) => Outcome::fail(
                    label,
                    format!(
                        "a modern TLS client (TLS 1.2 with ECDHE and AEAD ciphers, or TLS 1.3) cannot complete a handshake ({reason}); the Edge answers only older protocols or ciphers"
                    ),
                ),
                TlsOutcome::ClientCertificateRequired { alert } => Outcome::pass(
                    label,
                    format!(
                        "the handshake reached the Edge's request for a client certificate and stopped there for want of one ({alert}): partners that present theirs get through"
                    ),
                ),
                TlsOutcome::Rejected { reason } => Outcome::fail(label, format!("TLS handshake failed: {reason}")),
                TlsOutcome::Refused => Outcome::fail(label, "connection refused: nothing listens on this port"),
                TlsOutcome::Timeout => {
                    Outcome::fail(label, "no answer within the timeout: the port is filtered or the Edge is down")
                }
                TlsOutcome::Failed { message } => Outcome::fail(label, format!("connection failed: {message}")),
                TlsOutcome::Unobserved { .. } => Outcome::error(label, fact.outcome.describe()),
            };
            vec![outcome.evidence(handshake_evidence(fact)).var(Placeholder::Fqdn, fact.endpoint.host.clone())]
        })
    }
}

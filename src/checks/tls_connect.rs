//! `tls_connect`: each federation endpoint completes a TLS handshake with a
//! modern client. Refused, silent and legacy-only endpoints fail, with the
//! reason: a partner's Edge connects the same way.

use serde::Deserialize;

use super::x509::{handshake_evidence, per_endpoint};
use super::{Check, EvalContext, Needs, Outcome};
use crate::facts::tls::{ChainSource, TlsOutcome};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConnect {}

impl Check for TlsConnect {
    fn needs(&self) -> Needs {
        Needs::Tls
    }

    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        per_endpoint(ctx, |fact| {
            let label = fact.endpoint.label();
            let outcome = match &fact.outcome {
                TlsOutcome::Established { version, cipher } => Outcome::pass(label, format!("{version}, {cipher}")),
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
            };
            vec![outcome.evidence(handshake_evidence(fact)).var("fqdn", fact.endpoint.host.clone())]
        })
    }
}

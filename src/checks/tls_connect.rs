//! `tls_connect`: each federation endpoint completes a TLS handshake with a
//! modern client. Refused, silent and legacy-only endpoints fail, with the
//! reason: a partner's Edge connects the same way.

use serde::Deserialize;

use super::tls::{EndpointCheck, Endpoints, NoAddress, handshake_evidence};
use crate::facts::tls::{ChainSource, TlsFact, TlsOutcome};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Step};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connect {
    /// The rules that report why DNS led to no endpoint.
    #[serde(default)]
    discovery_rules: Vec<String>,
}

pub type TlsConnect = Endpoints<Connect>;

impl EndpointCheck for Connect {
    fn discovery_rules(&self) -> &[String] {
        &self.discovery_rules
    }

    fn no_address(&self) -> NoAddress {
        NoAddress::Fails
    }

    fn step(&self) -> Step {
        Step::Connection
    }

    fn judge(&self, _ctx: &FactView, fact: &TlsFact) -> Vec<Outcome> {
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
    }
}

//! `tls_versions`: the endpoint accepts TLS 1.2 (what Microsoft's gateways
//! and current partners use); the versions it was seen to accept are
//! listed (TLS 1.0 and 1.1 are `tls_legacy_versions`' to ask).

use serde::Deserialize;

use super::see;
use super::tls::{EndpointCheck, Endpoints, NoAddress, handshake_evidence};
use crate::facts::need::Need;
use crate::facts::tls::{TlsFact, TlsOutcome, TlsVersion};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Step};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Versions {
    /// The rule that reports the failed connection.
    #[serde(default)]
    pub(super) connection_rule: Option<String>,
    /// The rules that report why DNS led to no endpoint.
    #[serde(default)]
    pub(super) discovery_rules: Vec<String>,
}

impl Versions {
    /// The outcome of an endpoint no version can be judged on: an error
    /// when the probe observed nothing, a skip (pointing at the connection
    /// rule) when no TLS was spoken.
    pub(super) fn unjudged(&self, fact: &TlsFact) -> Option<Outcome> {
        let label = &fact.endpoint;
        if let TlsOutcome::Unobserved { .. } = fact.outcome {
            return Some(Outcome::error(label, fact.outcome.describe()));
        }
        fact.outcome.unreached().then(|| {
            let pointer = see::after(self.connection_rule.as_slice());
            Outcome::skip(label, format!("{}{pointer}", fact.outcome.describe()))
        })
    }
}

pub type TlsVersions = Endpoints<Versions>;

impl EndpointCheck for Versions {
    fn discovery_rules(&self) -> &[String] {
        &self.discovery_rules
    }

    fn no_address(&self) -> NoAddress {
        NoAddress::Skips
    }

    fn needs(&self) -> Vec<Need> {
        vec![Need::Tls, Need::TlsVersions]
    }

    fn step(&self) -> Step {
        Step::Protocol
    }

    fn judge(&self, _ctx: &FactView, fact: &TlsFact) -> Vec<Outcome> {
        let label = &fact.endpoint;
        if let Some(outcome) = self.unjudged(fact) {
            return vec![outcome];
        }
        // A completed handshake proves its version, whatever our own
        // hello for that version got.
        let negotiated = match &fact.outcome {
            TlsOutcome::Established { version, .. } => Some(*version),
            _ => None,
        };
        let accepted = |version: TlsVersion| {
            if negotiated == Some(version) {
                return Some(true);
            }
            fact.versions.iter().find(|v| v.version == version).and_then(|v| v.accepted)
        };
        let listed: Vec<&str> =
            TlsVersion::ALL.into_iter().filter(|v| accepted(*v) == Some(true)).map(TlsVersion::name).collect();
        let outcome = match accepted(TlsVersion::Tls12) {
            Some(true) => Outcome::pass(label, format!("accepts {}", listed.join(", "))),
            Some(false) => Outcome::fail(
                label,
                format!(
                    "does not accept TLS 1.2 (accepts: {})",
                    if listed.is_empty() { "none of 1.0-1.3".to_string() } else { listed.join(", ") }
                ),
            ),
            None if !fact.versions.iter().any(|v| v.version == TlsVersion::Tls12) => Outcome::error(
                label,
                "TLS 1.2 was not probed: these facts come from a scan that ran no rule judging it",
            ),
            None => Outcome::error(label, "no conclusive answer to a TLS 1.2 handshake"),
        };
        vec![outcome.evidence(handshake_evidence(fact))]
    }
}

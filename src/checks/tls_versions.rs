//! `tls_versions`: the endpoint accepts TLS 1.2 (what Microsoft's gateways
//! and current partners use); the versions it accepts are listed.

use serde::Deserialize;

use super::x509::{handshake_evidence, per_endpoint};
use super::{Check, EvalContext, Needs, Outcome};
use crate::facts::tls::TlsOutcome;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsVersions {}

impl Check for TlsVersions {
    fn needs(&self) -> Needs {
        Needs::Tls
    }

    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        per_endpoint(ctx, |fact| {
            let label = fact.endpoint.label();
            if matches!(fact.outcome, TlsOutcome::Refused | TlsOutcome::Timeout | TlsOutcome::Failed { .. }) {
                return vec![Outcome::skip(label, format!("{}; see TLS-CON-01", fact.outcome.describe()))];
            }
            // A completed handshake proves its version, whatever our own
            // hello for that version got.
            let negotiated = match &fact.outcome {
                TlsOutcome::Established { version, .. } => Some(version.as_str()),
                _ => None,
            };
            let accepted = |name: &str| {
                if negotiated == Some(name) {
                    return Some(true);
                }
                fact.versions.iter().find(|v| v.version == name).and_then(|v| v.accepted)
            };
            let listed: Vec<&str> = ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"]
                .into_iter()
                .filter(|v| accepted(v) == Some(true))
                .collect();
            let old: Vec<&str> = listed.iter().copied().filter(|v| *v == "TLS 1.0" || *v == "TLS 1.1").collect();
            let note = if old.is_empty() {
                String::new()
            } else {
                format!("; {} still accepted (disable once no partner needs it)", old.join(" and "))
            };
            let outcome = match accepted("TLS 1.2") {
                Some(true) => Outcome::pass(label, format!("accepts {}{note}", listed.join(", "))),
                Some(false) => Outcome::fail(
                    label,
                    format!(
                        "does not accept TLS 1.2 (accepts: {})",
                        if listed.is_empty() { "none of 1.0-1.3".to_string() } else { listed.join(", ") }
                    ),
                ),
                None => Outcome::error(label, "no conclusive answer to a TLS 1.2 handshake"),
            };
            vec![outcome.evidence(handshake_evidence(fact))]
        })
    }
}

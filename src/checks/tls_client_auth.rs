//! `tls_client_auth`: reports whether the endpoint asks for a client
//! certificate (mutual TLS, as an Access Edge does towards partners) and
//! which CAs it names.

use serde::Deserialize;

use super::x509::{handshake_evidence, per_endpoint};
use super::{Check, EvalContext, Needs, Outcome};
use crate::facts::tls::TlsOutcome;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsClientAuth {}

impl Check for TlsClientAuth {
    fn needs(&self) -> Needs {
        Needs::Tls
    }

    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        per_endpoint(ctx, |fact| {
            let label = fact.endpoint.label();
            let outcome = match (&fact.client_auth, &fact.outcome) {
                (Some(request), _) if request.ca_names.is_empty() => {
                    Outcome::pass(label, "asks for a client certificate (mutual TLS), naming no particular CA")
                }
                (Some(request), _) => Outcome::pass(
                    label,
                    format!(
                        "asks for a client certificate (mutual TLS) from {} CA(s): {}",
                        request.ca_names.len(),
                        request.ca_names.join("; ")
                    ),
                ),
                (None, TlsOutcome::Established { .. }) => Outcome::fail(
                    label,
                    "does not ask for a client certificate: partners are not authenticated by mutual TLS",
                ),
                (None, other) => {
                    Outcome::skip(label, format!("no completed handshake ({}); see TLS-CON-01", other.describe()))
                }
            };
            vec![outcome.evidence(handshake_evidence(fact))]
        })
    }
}

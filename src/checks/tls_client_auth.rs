//! `tls_client_auth`: reports whether the endpoint asks for a client
//! certificate (mutual TLS, as an Access Edge does towards partners) and
//! which CAs it names.

use serde::Deserialize;

use super::see;
use super::tls::{EndpointCheck, Endpoints, NoAddress, handshake_evidence};
use crate::facts::tls::{TlsFact, TlsOutcome};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Step};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientAuth {
    /// The rule that reports the failed connection.
    #[serde(default)]
    connection_rule: Option<String>,
    /// The rules that report why DNS led to no endpoint.
    #[serde(default)]
    discovery_rules: Vec<String>,
}

pub type TlsClientAuth = Endpoints<ClientAuth>;

impl EndpointCheck for ClientAuth {
    fn discovery_rules(&self) -> &[String] {
        &self.discovery_rules
    }

    fn no_address(&self) -> NoAddress {
        NoAddress::Skips
    }

    fn step(&self) -> Step {
        Step::Protocol
    }

    fn judge(&self, _ctx: &FactView, fact: &TlsFact) -> Vec<Outcome> {
        let label = &fact.endpoint;
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
            (None, TlsOutcome::Unobserved { .. }) => Outcome::error(label, fact.outcome.describe()),
            (None, other) => Outcome::skip(
                label,
                format!("no completed handshake ({}){}", other.describe(), see::after(self.connection_rule.as_slice())),
            ),
        };
        vec![outcome.evidence(handshake_evidence(fact))]
    }
}

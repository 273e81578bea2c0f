//! `sip_options`: the organization's Access Edge answers a SIP OPTIONS
//! request over TLS. Any SIP response proves the listener is alive; a
//! refusal for want of a client certificate is how an Access Edge behaves
//! and is reported as such; silence, a closed connection or bytes that are
//! not SIP fail. `ms-diagnostics` in the response are explained.
//!
//! ```toml
//! kind = "sip_options"
//! connection_rule = "TLS-CON-01"          # reports a failed connection
//! ```

use serde::Deserialize;

use super::sip::exchange;
use super::tls::{NoAddress, unprobed_errors, unresolved_edge_outcomes};
use super::{Check, see};
use crate::facts::Targets;
use crate::facts::need::Need;
use crate::facts::sip::{SipFact, SipOutcome};
use crate::facts::tls::TlsOutcome;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Step, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipOptions {
    /// The rule that reports the failed connection.
    #[serde(default)]
    connection_rule: Option<String>,
}

/// Whether the TLS probe completed a handshake with the exchange's endpoint.
fn handshake_worked(ctx: &FactView, fact: &SipFact) -> bool {
    ctx.facts.tls.iter().any(|t| {
        t.endpoint == fact.endpoint
            && matches!(t.outcome, TlsOutcome::Established { .. } | TlsOutcome::ClientCertificateRequired { .. })
    })
}

impl Check for SipOptions {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![Need::Sip]
    }

    fn step(&self) -> Step {
        Step::Sip
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let connection = self.connection_rule.as_slice();
        let own: Vec<&SipFact> = ctx.facts.sip.iter().filter(|s| !ctx.targets.is_partner_domain(&s.domain)).collect();
        if own.is_empty() {
            // A named Edge without an address: said of it, an error when
            // its DNS questions went unanswered.
            let unresolved = unresolved_edge_outcomes(ctx, connection, NoAddress::Skips);
            if !unresolved.is_empty() {
                return unresolved;
            }
            let why = if !ctx.dns.gathered || ctx.facts.offline {
                "no SIP probe: this was an offline audit".to_string()
            } else if ctx.facts.tls.iter().any(|t| t.partner.is_none()) {
                format!("no endpoint accepted a TLS connection to send OPTIONS to{}", see::after(connection))
            } else {
                "no SIP exchange: no Edge was reached over TLS in this scan".to_string()
            };
            return vec![Outcome::skip(Target::area("SIP"), why)];
        }
        own.into_iter()
            .map(|fact| {
                let label = &fact.endpoint;
                let (message, evidence) = exchange(fact);
                let outcome = match &fact.outcome {
                    SipOutcome::Response { .. } => Outcome::pass(label, message),
                    SipOutcome::ClientCertificateRequired { .. } => Outcome::pass(
                        label,
                        format!("{message}: the Edge authenticates partners by mutual TLS, as an Access Edge does (give --client-cert to send OPTIONS)"),
                    ),
                    // The TLS probe's own handshake tells whether this was
                    // the Edge refusing TLS (its rule reports it) or the
                    // exchange failing where TLS works: then SIP is unknown.
                    SipOutcome::NoConnection { .. } if handshake_worked(ctx, fact) => Outcome::error(
                        label,
                        format!("{message}, although the TLS probe's handshake with this endpoint succeeded"),
                    ),
                    SipOutcome::NoConnection { .. } => Outcome::skip(label, format!("{message}{}", see::after(connection))),
                    SipOutcome::Unobserved { .. } => Outcome::error(label, message),
                    // The request arrived and is being handled: whether the
                    // service answers it was not seen.
                    SipOutcome::NoFinalResponse { .. } => Outcome::error(label, message),
                    _ => Outcome::fail(label, message),
                };
                outcome.evidence(evidence)
            })
            .chain(unprobed_errors(ctx))
            .collect()
    }
}

//! `sip_options`: the organization's Access Edge answers a SIP OPTIONS
//! request over TLS. Any SIP response proves the listener is alive; a
//! refusal for want of a client certificate is how an Access Edge behaves
//! and is reported as such; silence, a closed connection or bytes that are
//! not SIP fail. `ms-diagnostics` in the response are explained.

use serde::Deserialize;
use serde_json::json;

use super::ms_diagnostics::explain;
use super::{Check, EvalContext, Needs, Outcome};
use crate::facts::sip::{SipFact, SipOutcome};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipOptions {}

/// The message and evidence of one exchange.
pub fn describe(fact: &SipFact) -> (String, serde_json::Value) {
    let mut message = fact.outcome.describe();
    let mut evidence = json!({
        "endpoint": fact.endpoint.label(),
        "request": format!("OPTIONS sip:{} SIP/2.0", fact.domain),
        "from": format!("sip:fedscan@{}", fact.sender.as_deref().unwrap_or(&fact.domain)),
        "client_certificate_offered": fact.client_certificate,
    });
    if let SipOutcome::Response { response } = &fact.outcome {
        for header in ["Server", "Allow", "Supported"] {
            let values = response.values(header);
            if !values.is_empty() {
                evidence[header.to_ascii_lowercase()] = json!(values.join(", "));
            }
        }
        if let Some(server) = response.values("Server").first() {
            message.push_str(&format!(" from {server}"));
        }
        for diagnostic in &response.diagnostics {
            message.push_str(&format!("; {}: {}", diagnostic.header, diagnostic.code));
            if let Some(reason) = &diagnostic.reason {
                message.push_str(&format!(" \"{reason}\""));
            }
            if let Some(meaning) = explain(diagnostic.code) {
                message.push_str(&format!(" ({meaning})"));
            }
        }
        evidence["diagnostics"] = json!(response.diagnostics);
    }
    (message, evidence)
}

impl Check for SipOptions {
    fn needs(&self) -> Needs {
        Needs::Sip
    }

    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        let own: Vec<&SipFact> = ctx
            .facts
            .sip
            .iter()
            .filter(|s| ctx.targets.domains.contains(&s.domain) || !ctx.targets.partners.contains(&s.domain))
            .collect();
        if own.is_empty() {
            let why = if !ctx.dns.gathered {
                "no SIP probe: this was an offline audit"
            } else if ctx.facts.tls.iter().any(|t| t.partner.is_none()) {
                "no endpoint accepted a TLS connection to send OPTIONS to; see TLS-CON-01"
            } else {
                "no SIP exchange: no Edge was reached over TLS in this scan"
            };
            return vec![Outcome::skip("SIP", why)];
        }
        own.into_iter()
            .map(|fact| {
                let label = fact.endpoint.label();
                let (message, evidence) = describe(fact);
                let outcome = match &fact.outcome {
                    SipOutcome::Response { .. } => Outcome::pass(label, message),
                    SipOutcome::ClientCertificateRequired { .. } => Outcome::pass(
                        label,
                        format!("{message}: the Edge authenticates partners by mutual TLS, as an Access Edge does (give --client-cert to send OPTIONS)"),
                    ),
                    SipOutcome::NoConnection { .. } => Outcome::skip(label, format!("{message}; see TLS-CON-01")),
                    _ => Outcome::fail(label, message),
                };
                outcome.evidence(evidence)
            })
            .collect()
    }
}

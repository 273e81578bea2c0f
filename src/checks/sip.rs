//! Reading SIP exchanges for the SIP kinds (not a kind itself).

use serde_json::{Value, json};

use super::see;
use crate::facts::sip::{SipFact, SipOutcome};

/// The message and evidence of one exchange: what came back, each
/// diagnostic code explained and pointed at the rules that look at its
/// cause (from the shared ms-diagnostics table).
pub fn exchange(fact: &SipFact) -> (String, Value) {
    let message = fact.describe_with(see::listed);
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
        evidence["diagnostics"] = json!(response.diagnostics);
    }
    (message, evidence)
}

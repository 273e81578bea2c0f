//! Reading SIP exchanges for the SIP kinds (not a kind itself).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::see;
use crate::facts::sip::{SipFact, SipOutcome};

/// The rules that look at the cause of each `ms-diagnostics` code, as a
/// rule's `causes` parameter gives them (`1009 = ["DNS-FED-01"]`).
pub type Causes = BTreeMap<String, Vec<String>>;

/// The message and evidence of one exchange: what came back, each
/// diagnostic code explained and pointed at the rules that look at its cause.
pub fn exchange(fact: &SipFact, causes: &Causes) -> (String, Value) {
    let message = fact.describe_with(|code| causes.get(&code.to_string()).map_or_else(String::new, |r| see::listed(r)));
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

/// Problems with a `causes` table: its keys are diagnostic codes.
pub fn causes_problems(causes: &Causes) -> Vec<super::Problem> {
    causes
        .keys()
        .filter(|code| code.parse::<u32>().is_err())
        .map(|code| {
            super::Problem::at("causes", format!("{code:?} is not an ms-diagnostics code (a number such as 1009)"))
        })
        .collect()
}

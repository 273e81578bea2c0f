//! What the `ms-diagnostics` codes an Edge returns mean for federation, and
//! which fedscan rules look at the cause (not a check kind). Only codes whose
//! meaning is documented or observed are listed; others are shown as sent.

/// (code, meaning, rules that look at the cause)
const KNOWN: [(u32, &str, &[&str]); 4] = [
    (
        1009,
        "the domain has no DNS SRV record that matches: the remote Edge found no _sipfederationtls._tcp record (or none in the right domain) for the sender's domain",
        &["DNS-FED-01", "DNS-FED-04"],
    ),
    (
        1010,
        "the certificate does not match: the name the partner connected to is not on the Edge certificate",
        &["TLS-NAME-01", "TLS-NAME-02"],
    ),
    (
        1027,
        "this type of request cannot be routed to or from federated partners: federation, or this kind of traffic, is not allowed for the domain",
        &["CFG-AEC-01", "CFG-EAP-02", "PROV-DOM-02", "PROV-DOM-03"],
    ),
    (
        1034,
        "the federated peer did not report why it refused: the cause is on the partner's side (its Edge, policy or firewall)",
        &[],
    ),
];

/// "1009 (the domain has no DNS SRV record …; see DNS-FED-01, DNS-FED-04)"
pub fn explain(code: u32) -> Option<String> {
    KNOWN.iter().find(|(c, _, _)| *c == code).map(|(_, meaning, rules)| {
        if rules.is_empty() { meaning.to_string() } else { format!("{meaning}; see {}", rules.join(", ")) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_codes() {
        assert!(explain(1009).unwrap().contains("DNS-FED-01"));
        assert!(explain(1010).unwrap().contains("TLS-NAME-01"));
        assert_eq!(explain(4242), None);
    }
}

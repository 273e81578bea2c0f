//! `cert_subject`: the certificate's subject common name is an explicit
//! (not wildcard) Access Edge FQDN and, with `in_san = true`, is repeated in
//! the subject alternative names (TLS clients ignore the subject).
//!
//! ```toml
//! kind = "cert_subject"
//! in_san = false
//! mismatch_severity = "medium"   # CN is not an Access Edge FQDN
//! ```

use serde::Deserialize;

use super::tls::{CertificateCheck, expected_names, names_exactly};
use crate::findings::{Outcome, Severity};
use crate::facts::view::FactView;
use crate::facts::x509::SeenCertificate;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertSubject {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
    #[serde(default)]
    in_san: bool,
    #[serde(default)]
    mismatch_severity: Option<Severity>,
}

impl CertificateCheck for CertSubject {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome> {
        let evidence = cert.evidence(ctx.now);
        let Some(cn) = cert.leaf.common_name.clone() else {
            return vec![
                Outcome::fail(&cert.origin, format!("the subject ({}) has no common name", cert.leaf.subject))
                    .severity(self.mismatch_severity)
                    .evidence(evidence),
            ];
        };
        let outcome = if self.in_san {
            // An address must be written as the SAN's, in its canonical
            // (RFC 5952) text form.
            if names_exactly(&cert.leaf, &cn) || cert.leaf.ip_names.iter().any(|ip| ip.to_string() == cn) {
                Outcome::pass(&cert.origin, format!("the subject name {cn} is also in the SAN"))
            } else {
                Outcome::fail(
                    &cert.origin,
                    format!("the subject name {cn} is not in the SAN ({})", cert.leaf.dns_names.join(", ")),
                )
            }
        } else if cn.starts_with("*.") {
            Outcome::fail(
                &cert.origin,
                format!("the subject name is the wildcard {cn}; the Access Edge needs its explicit FQDN"),
            )
        } else {
            let expected = expected_names(ctx, cert);
            if expected.is_empty() {
                Outcome::skip(
                    &cert.origin,
                    format!("the subject name is {cn}; no Access Edge FQDN is known to compare (give --edge)"),
                )
            } else if expected.iter().any(|e| e.eq_ignore_ascii_case(&cn)) {
                Outcome::pass(&cert.origin, format!("the subject name is the Access Edge FQDN {cn}"))
            } else {
                Outcome::fail(
                    &cert.origin,
                    format!("the subject name is {cn}, not the Access Edge FQDN ({})", expected.join(", ")),
                )
                .severity(self.mismatch_severity)
            }
        };
        vec![outcome.evidence(evidence)]
    }
}

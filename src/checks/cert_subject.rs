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

use super::x509::{expected_names, names_exactly, per_certificate};
use super::{Check, EvalContext, Needs, Outcome};
use crate::rules::Severity;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertSubject {
    #[serde(default)]
    in_san: bool,
    #[serde(default)]
    mismatch_severity: Option<Severity>,
}

impl Check for CertSubject {
    fn needs(&self) -> Needs {
        Needs::Tls
    }

    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        per_certificate(ctx, |cert| {
            let evidence = cert.evidence(ctx.now);
            let Some(cn) = cert.leaf.common_name.clone() else {
                return vec![
                    Outcome::fail(&cert.target, format!("the subject ({}) has no common name", cert.leaf.subject))
                        .severity(self.mismatch_severity)
                        .evidence(evidence),
                ];
            };
            let outcome = if self.in_san {
                // An address must be written as the SAN's, in its canonical
                // (RFC 5952) text form.
                if names_exactly(&cert.leaf, &cn) || cert.leaf.ip_names.iter().any(|ip| ip.to_string() == cn) {
                    Outcome::pass(&cert.target, format!("the subject name {cn} is also in the SAN"))
                } else {
                    Outcome::fail(
                        &cert.target,
                        format!("the subject name {cn} is not in the SAN ({})", cert.leaf.dns_names.join(", ")),
                    )
                }
            } else if cn.starts_with("*.") {
                Outcome::fail(
                    &cert.target,
                    format!("the subject name is the wildcard {cn}; the Access Edge needs its explicit FQDN"),
                )
            } else {
                let expected = expected_names(ctx, cert);
                if expected.is_empty() {
                    Outcome::skip(
                        &cert.target,
                        format!("the subject name is {cn}; no Access Edge FQDN is known to compare (give --edge)"),
                    )
                } else if expected.iter().any(|e| e.eq_ignore_ascii_case(&cn)) {
                    Outcome::pass(&cert.target, format!("the subject name is the Access Edge FQDN {cn}"))
                } else {
                    Outcome::fail(
                        &cert.target,
                        format!("the subject name is {cn}, not the Access Edge FQDN ({})", expected.join(", ")),
                    )
                    .severity(self.mismatch_severity)
                }
            };
            vec![outcome.evidence(evidence)]
        })
    }
}

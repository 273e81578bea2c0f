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

use super::tls::{CertNames, NamesCheck};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Severity};

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

impl NamesCheck for CertSubject {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn judge_names(&self, _ctx: &FactView, cert: &CertNames) -> Outcome {
        if let Some(why) = &cert.subject_doubt {
            return Outcome::error(&cert.target, format!("the subject is not known: {why}"));
        }
        let Some(cn) = cert.common_name else {
            return Outcome::fail(&cert.target, format!("the subject ({}) has no common name", cert.subject))
                .severity(self.mismatch_severity);
        };
        if self.in_san {
            // An address must be written as the SAN's, in its canonical
            // (RFC 5952) text form.
            if cert.has_exactly(cn) || cert.ip_names.iter().any(|ip| ip.to_string() == cn) {
                Outcome::pass(&cert.target, format!("the subject name {cn} is also in the SAN"))
            } else if let Some(why) = &cert.names_doubt {
                Outcome::error(&cert.target, format!("the subject name {cn} is not among the SAN names shown: {why}"))
            } else {
                Outcome::fail(
                    &cert.target,
                    format!("the subject name {cn} is not in the SAN ({})", cert.dns_names.join(", ")),
                )
            }
        } else if cn.starts_with("*.") {
            Outcome::fail(
                &cert.target,
                format!("the subject name is the wildcard {cn}; the Access Edge needs its explicit FQDN"),
            )
        } else if cert.edge_names.is_empty() {
            Outcome::skip(
                &cert.target,
                format!("the subject name is {cn}; no Access Edge FQDN is known to compare (give --edge)"),
            )
        } else if cert.edge_names.iter().any(|e| e.eq_ignore_ascii_case(cn)) {
            Outcome::pass(&cert.target, format!("the subject name is the Access Edge FQDN {cn}"))
        } else {
            Outcome::fail(
                &cert.target,
                format!("the subject name is {cn}, not the Access Edge FQDN ({})", cert.edge_names.join(", ")),
            )
            .severity(self.mismatch_severity)
        }
    }
}

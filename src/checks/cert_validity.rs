//! `cert_validity`: the certificate is valid now and for at least
//! `warn_days` more days (`--expiry-warn-days` overrides). Expired or not
//! yet valid fails at the rule's severity; expiring soon at `soon_severity`.
//!
//! ```toml
//! kind = "cert_validity"
//! warn_days = 45
//! soon_severity = "medium"
//! ```

use serde::Deserialize;

use super::tls::CertificateCheck;
use crate::findings::{Outcome, Severity};
use crate::facts::view::FactView;
use crate::facts::x509::SeenCertificate;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertValidity {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
    warn_days: u32,
    soon_severity: Severity,
}

impl CertificateCheck for CertValidity {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome> {
        let warn_days = ctx.expiry_warn_days.unwrap_or(self.warn_days);

        let leaf = &cert.leaf;
        let left = (leaf.not_after - ctx.now).whole_days();
        let until = leaf.not_after.date();
        let outcome = if ctx.now < leaf.not_before {
            Outcome::fail(&cert.origin, format!("not valid before {} (not yet valid)", leaf.not_before.date()))
        } else if ctx.now > leaf.not_after {
            Outcome::fail(&cert.origin, format!("expired on {until} ({} days ago)", -left))
        } else if left < i64::from(warn_days) {
            Outcome::fail(&cert.origin, format!("expires on {until}, in {left} days (less than {warn_days})"))
                .severity(Some(self.soon_severity))
        } else {
            Outcome::pass(&cert.origin, format!("valid until {until} ({left} days)"))
        };
        vec![outcome.evidence(cert.evidence(ctx.now))]
    }
}

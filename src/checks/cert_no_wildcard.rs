//! `cert_no_wildcard`: the certificate names no wildcard DNS name; the
//! Access Edge does not support wildcard certificates.

use serde::Deserialize;

use super::tls::CertificateCheck;
use crate::facts::view::FactView;
use crate::facts::x509::SeenCertificate;
use crate::findings::Outcome;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertNoWildcard {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
}

impl CertificateCheck for CertNoWildcard {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome> {
        let wildcards: Vec<&str> =
            cert.leaf.dns_names.iter().map(String::as_str).filter(|n| n.contains('*')).collect();
        let outcome = if wildcards.is_empty() {
            Outcome::pass(&cert.origin, "no wildcard name")
        } else {
            Outcome::fail(&cert.origin, format!("wildcard names: {}", wildcards.join(", ")))
        };
        vec![outcome.evidence(cert.evidence(ctx.now))]
    }
}

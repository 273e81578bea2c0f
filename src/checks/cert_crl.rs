//! `cert_crl`: the certificate names an HTTP CRL distribution point, which
//! the Edge and partners use to check revocation.

use serde::Deserialize;

use super::tls::CertificateCheck;
use crate::facts::view::FactView;
use crate::facts::x509::SeenCertificate;
use crate::findings::Outcome;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertCrl {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
}

impl CertificateCheck for CertCrl {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome> {
        let urls = &cert.leaf.crl_urls;
        let http: Vec<&String> = urls.iter().filter(|u| u.to_ascii_lowercase().starts_with("http")).collect();
        let outcome = if !http.is_empty() {
            Outcome::pass(
                &cert.origin,
                format!("CRL distribution point {}", http.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(", ")),
            )
        } else if urls.is_empty() {
            Outcome::fail(&cert.origin, "no CRL distribution point")
        } else {
            Outcome::fail(&cert.origin, format!("no HTTP CRL distribution point (only {})", urls.join(", ")))
        };
        vec![outcome.written_evidence(cert.written_evidence(ctx.now))]
    }
}

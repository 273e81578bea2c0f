//! `cert_crl`: the certificate names an HTTP CRL distribution point, which
//! the Edge and partners use to check revocation.

use serde::Deserialize;

use super::x509::per_certificate;
use super::{Check, EvalContext, Needs, Outcome};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertCrl {}

impl Check for CertCrl {
    fn needs(&self) -> Needs {
        Needs::Tls
    }

    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        per_certificate(ctx, |cert| {
            let urls = &cert.leaf.crl_urls;
            let http: Vec<&String> = urls.iter().filter(|u| u.to_ascii_lowercase().starts_with("http")).collect();
            let outcome = if !http.is_empty() {
                Outcome::pass(
                    &cert.target,
                    format!(
                        "CRL distribution point {}",
                        http.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
            } else if urls.is_empty() {
                Outcome::fail(&cert.target, "no CRL distribution point")
            } else {
                Outcome::fail(&cert.target, format!("no HTTP CRL distribution point (only {})", urls.join(", ")))
            };
            vec![outcome.evidence(cert.evidence(ctx.now))]
        })
    }
}

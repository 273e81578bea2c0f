//! `cert_crl`: the certificate names an HTTP CRL distribution point, which
//! the Edge and partners use to check revocation.

use serde::Deserialize;

use super::tls::per_certificate;
use super::{Check, Reference};
use crate::facts::Targets;
use crate::facts::need::Need;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Step};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertCrl {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
}

impl Check for CertCrl {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![Need::Tls]
    }

    fn step(&self) -> Step {
        Step::Certificate
    }

    fn references(&self) -> Vec<Reference<'_>> {
        Reference::all("connection_rule", &self.connection_rule)
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        per_certificate(ctx, self.connection_rule.as_slice(), |cert| {
            let urls = &cert.leaf.crl_urls;
            let http: Vec<&String> = urls.iter().filter(|u| u.to_ascii_lowercase().starts_with("http")).collect();
            let outcome = if !http.is_empty() {
                Outcome::pass(
                    &cert.origin,
                    format!(
                        "CRL distribution point {}",
                        http.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
            } else if urls.is_empty() {
                Outcome::fail(&cert.origin, "no CRL distribution point")
            } else {
                Outcome::fail(&cert.origin, format!("no HTTP CRL distribution point (only {})", urls.join(", ")))
            };
            vec![outcome.evidence(cert.evidence(ctx.now))]
        })
    }
}

//! `cert_no_wildcard`: the certificate names no wildcard DNS name; the
//! Access Edge does not support wildcard certificates.

use serde::Deserialize;

use super::x509::per_certificate;
use super::{Check, EvalContext, Needs, Outcome};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertNoWildcard {}

impl Check for CertNoWildcard {
    fn needs(&self) -> Needs {
        Needs::Tls
    }

    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        per_certificate(ctx, |cert| {
            let wildcards: Vec<&str> =
                cert.leaf.dns_names.iter().map(String::as_str).filter(|n| n.contains('*')).collect();
            let outcome = if wildcards.is_empty() {
                Outcome::pass(&cert.target, "no wildcard name")
            } else {
                Outcome::fail(&cert.target, format!("wildcard names: {}", wildcards.join(", ")))
            };
            vec![outcome.evidence(cert.evidence(ctx.now))]
        })
    }
}

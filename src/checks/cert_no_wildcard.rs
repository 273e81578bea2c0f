//! `cert_no_wildcard`: the certificate names no wildcard DNS name; the
//! Access Edge does not support wildcard certificates.

use serde::Deserialize;

use super::tls::per_certificate;
use super::{Check, Reference};
use crate::facts::Targets;
use crate::facts::need::Need;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Step};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertNoWildcard {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
}

impl Check for CertNoWildcard {
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
            let wildcards: Vec<&str> =
                cert.leaf.dns_names.iter().map(String::as_str).filter(|n| n.contains('*')).collect();
            let outcome = if wildcards.is_empty() {
                Outcome::pass(&cert.origin, "no wildcard name")
            } else {
                Outcome::fail(&cert.origin, format!("wildcard names: {}", wildcards.join(", ")))
            };
            vec![outcome.evidence(cert.evidence(ctx.now))]
        })
    }
}

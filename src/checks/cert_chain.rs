//! `cert_chain`: the certificate chains to a root of the trust stores used,
//! with the intermediates sent by the server. Expiry is judged by
//! `cert_validity`, so the chain is judged at a moment the leaf is valid.
//!
//! ```toml
//! kind = "cert_chain"
//! incomplete_severity = "medium"   # a missing intermediate
//! ```

use serde::Deserialize;

use super::chain::{ChainVerdict, validate};
use super::see;
use super::tls::CertificateCheck;
use super::Reference;
use crate::findings::{Outcome, Placeholder, Severity};
use crate::facts::view::FactView;
use crate::facts::x509::SeenCertificate;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertChain {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
    /// The rules that judge the algorithms a chain can fail on.
    #[serde(default)]
    algorithm_rules: Vec<String>,
    incomplete_severity: Severity,
}

impl CertificateCheck for CertChain {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn other_references(&self) -> Vec<Reference<'_>> {
        Reference::all("algorithm_rules", &self.algorithm_rules)
    }

    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome> {
        let stores: Vec<&str> = ctx.facts.trust.iter().map(|s| s.name.as_str()).collect();
        // Within the leaf's validity, so that an expired leaf is reported
        // once, by the validity rule.
        let (from, until) = (cert.leaf.not_before, cert.leaf.not_after - time::Duration::SECOND);
        // (A certificate whose validity ends before it starts is judged now.)
        let at = if from <= until { ctx.now.clamp(from, until) } else { ctx.now };
        let verdict = validate(&cert.chain, &ctx.facts.trust, at);
        let mut evidence = cert.evidence(ctx.now);
        evidence["trust_stores"] = stores.clone().into();
        let outcome = match &verdict {
            ChainVerdict::Trusted { .. } => Outcome::pass(&cert.origin, verdict.describe()),
            ChainVerdict::Incomplete { .. } => {
                Outcome::fail(&cert.origin, verdict.describe()).severity(Some(self.incomplete_severity))
            }
            // The signature and key rules report the algorithm; trust
            // cannot be decided with it.
            ChainVerdict::UnsupportedAlgorithm => Outcome::skip(
                &cert.origin,
                format!(
                    "{}; trust cannot be checked with it{}",
                    verdict.describe(),
                    see::in_parentheses(&self.algorithm_rules)
                ),
            ),
            _ => {
                Outcome::fail(&cert.origin, format!("{} (trust stores: {})", verdict.describe(), stores.join(", ")))
            }
        };
        let outcome = outcome.evidence(evidence);
        vec![match cert.host() {
            Some(host) => outcome.var(Placeholder::Fqdn, host),
            None => outcome,
        }]
    }
}

//! `cert_chain`: the certificate chains to a root of the trust stores used,
//! with the intermediates sent by the server. Expiry is judged by
//! `cert_validity`, so the chain is judged at a moment the leaf is valid.
//!
//! A chain that leads to a CA the certificate shows to be private fails at
//! the rule's severity; one that only lacks an intermediate at
//! `incomplete_severity`.
//!
//! ```toml
//! kind = "cert_chain"
//! incomplete_severity = "medium"   # a missing intermediate
//! algorithm_rules = ["TLS-SIG-01"] # judge algorithms a validator refuses
//! usage_rules = ["TLS-EKU-01"]     # judge the usage a validator checks first
//! ```

use serde::Deserialize;

use super::see;
use super::tls::CertificateCheck;
use crate::facts::chain::ChainVerdict;
use crate::facts::view::FactView;
use crate::facts::x509::SeenCertificate;
use crate::findings::{Outcome, Placeholder, Severity};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertChain {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
    /// The rules that judge the algorithms a chain can fail on.
    #[serde(default)]
    algorithm_rules: Vec<String>,
    /// The rules that judge the certificate's usage, which a validator
    /// checks before trust.
    #[serde(default)]
    usage_rules: Vec<String>,
    incomplete_severity: Severity,
}

impl CertificateCheck for CertChain {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome> {
        let stores: Vec<&str> = ctx.facts.trust.iter().map(|s| s.name.as_str()).collect();
        // Within the leaf's validity, so that an expired leaf is reported
        // once, by the validity rule.
        let (from, until) = (cert.leaf.not_before, cert.leaf.not_after - time::Duration::SECOND);
        // (A certificate whose validity ends before it starts is judged now.)
        let at = if from <= until { ctx.now.clamp(from, until) } else { ctx.now };
        let verdict = ctx.chain_verdict(&cert.chain, at);
        let mut evidence = cert.evidence(ctx.now);
        evidence["trust_stores"] = stores.clone().into();
        let outcome = match &verdict {
            ChainVerdict::Trusted { .. } => Outcome::pass(&cert.origin, verdict.describe()),
            ChainVerdict::TrustedNotForServers { .. } => {
                Outcome::pass(&cert.origin, format!("{}{}", verdict.describe(), see::in_parentheses(&self.usage_rules)))
            }
            ChainVerdict::UsageRefused => Outcome::skip(
                &cert.origin,
                format!(
                    "{}; trust cannot be checked until the usage is fixed{}",
                    verdict.describe(),
                    see::in_parentheses(&self.usage_rules)
                ),
            ),
            ChainVerdict::Incomplete { .. } => {
                Outcome::fail(&cert.origin, verdict.describe()).severity(Some(self.incomplete_severity))
            }
            // Trust is judged with the path built allowing the weak
            // algorithms; the signature and key rules judge those.
            ChainVerdict::TrustedWithWeakAlgorithms { .. } => Outcome::pass(
                &cert.origin,
                format!("{}{}", verdict.describe(), see::in_parentheses(&self.algorithm_rules)),
            ),
            // Not even a path can be built: trust is unknown, not
            // inapplicable.
            ChainVerdict::UnsupportedAlgorithm => Outcome::error(
                &cert.origin,
                format!(
                    "{}; trust cannot be checked{}",
                    verdict.describe(),
                    see::in_parentheses(&self.algorithm_rules)
                ),
            ),
            _ => Outcome::fail(&cert.origin, format!("{} (trust stores: {})", verdict.describe(), stores.join(", "))),
        };
        let outcome = outcome.evidence(evidence);
        vec![match cert.host() {
            Some(host) => outcome.var(Placeholder::Fqdn, host),
            None => outcome,
        }]
    }
}

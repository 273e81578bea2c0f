//! `cert_chain`: the certificate chains to a root of the trust stores used,
//! with the intermediates sent by the server. Expiry is judged by
//! `cert_validity`, so the chain is judged at a moment the leaf is valid.
//!
//! ```toml
//! kind = "cert_chain"
//! incomplete_severity = "medium"   # a missing intermediate
//! ```

use serde::Deserialize;

use super::x509::{ChainVerdict, per_certificate, validate};
use super::{Check, EvalContext, Needs, Outcome};
use crate::rules::Severity;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertChain {
    incomplete_severity: Severity,
}

impl Check for CertChain {
    fn needs(&self) -> Needs {
        Needs::Tls
    }

    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        let stores: Vec<&str> = ctx.facts.trust.iter().map(|s| s.name.as_str()).collect();
        per_certificate(ctx, |cert| {
            // Within the leaf's validity, so that an expired leaf is reported
            // once, by the validity rule.
            let (from, until) = (cert.leaf.not_before, cert.leaf.not_after - time::Duration::SECOND);
            // (A certificate whose validity ends before it starts is judged now.)
            let at = if from <= until { ctx.now.clamp(from, until) } else { ctx.now };
            let verdict = validate(&cert.chain, &ctx.facts.trust, at);
            let mut evidence = cert.evidence(ctx.now);
            evidence["trust_stores"] = stores.clone().into();
            let outcome = match &verdict {
                ChainVerdict::Trusted { .. } => Outcome::pass(&cert.target, verdict.describe()),
                ChainVerdict::Incomplete { .. } => {
                    Outcome::fail(&cert.target, verdict.describe()).severity(Some(self.incomplete_severity))
                }
                // The signature and key rules report the algorithm; trust
                // cannot be decided with it.
                ChainVerdict::UnsupportedAlgorithm => Outcome::skip(
                    &cert.target,
                    format!("{}; trust cannot be checked with it (see TLS-SIG-01 and TLS-KEY-01)", verdict.describe()),
                ),
                _ => {
                    Outcome::fail(&cert.target, format!("{} (trust stores: {})", verdict.describe(), stores.join(", ")))
                }
            };
            let outcome = outcome.evidence(evidence);
            vec![match &cert.host {
                Some(host) => outcome.var("fqdn", host.clone()),
                None => outcome,
            }]
        })
    }
}

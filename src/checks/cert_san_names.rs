//! `cert_san_names`: the certificate's subject alternative names include,
//! exactly (a wildcard does not do for an Access Edge), the names partners
//! use: with `names = "edge"` the host it was reached at and the Access Edge
//! FQDNs; with `names = "sip_domains"` `sip.<domain>` for every SIP domain.
//!
//! ```toml
//! kind = "cert_san_names"
//! names = "edge"
//! ```

use serde::Deserialize;

use super::x509::{expected_names, names_exactly, per_certificate, wildcard_covering};
use super::{Check, EvalContext, Needs, Outcome};

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Names {
    Edge,
    SipDomains,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertSanNames {
    names: Names,
}

impl Check for CertSanNames {
    fn needs(&self) -> Needs {
        Needs::Tls
    }

    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        per_certificate(ctx, |cert| {
            let expected: Vec<String> = match self.names {
                Names::Edge => expected_names(ctx, cert),
                Names::SipDomains => {
                    let mut domains: Vec<String> = ctx.targets.domains.clone();
                    domains.extend(ctx.config.sip_domains());
                    domains.sort();
                    domains.dedup();
                    domains.iter().map(|d| format!("sip.{d}")).collect()
                }
            };
            if expected.is_empty() {
                let why = match self.names {
                    Names::Edge => "no Access Edge FQDN is known to compare with: give --edge FQDN",
                    Names::SipDomains => "no SIP domain is known: name the domains or give a snapshot",
                };
                return vec![Outcome::skip(&cert.target, why)];
            }
            let missing: Vec<String> = expected
                .iter()
                .filter(|name| !names_exactly(&cert.leaf, name))
                .map(|name| match wildcard_covering(&cert.leaf, name) {
                    Some(pattern) => format!("{name} (covered only by the wildcard {pattern})"),
                    None => name.clone(),
                })
                .collect();
            let outcome = if missing.is_empty() {
                Outcome::pass(&cert.target, format!("the SAN names {}", expected.join(", ")))
            } else {
                Outcome::fail(
                    &cert.target,
                    format!(
                        "the SAN lacks {}; it names {}",
                        missing.join(", "),
                        if cert.leaf.dns_names.is_empty() {
                            "no DNS name".to_string()
                        } else {
                            cert.leaf.dns_names.join(", ")
                        }
                    ),
                )
                .var("fqdn", expected.join(", "))
            };
            vec![outcome.evidence(cert.evidence(ctx.now))]
        })
    }
}

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

use super::tls::{CertificateCheck, expected_names, names_exactly, wildcard_covering};
use crate::facts::view::FactView;
use crate::facts::x509::SeenCertificate;
use crate::findings::{Outcome, Placeholder};

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Names {
    Edge,
    SipDomains,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertSanNames {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
    names: Names,
}

impl CertificateCheck for CertSanNames {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome> {
        let mut incomplete = None;
        let expected: Vec<String> = match self.names {
            Names::Edge => expected_names(ctx, cert),
            Names::SipDomains => {
                let mut domains: Vec<String> = ctx.targets.domains.clone();
                let sip_domains = ctx.config.sip_domains();
                incomplete = sip_domains.incomplete;
                domains.extend(sip_domains.names);
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
            return vec![Outcome::skip(&cert.origin, why)];
        }
        let missing: Vec<String> = expected
            .iter()
            .filter(|name| !names_exactly(&cert.leaf, name))
            .map(|name| match wildcard_covering(&cert.leaf, name) {
                Some(pattern) => format!("{name} (covered only by the wildcard {pattern})"),
                None => name.clone(),
            })
            .collect();
        let outcome = if let (true, Some(why)) = (missing.is_empty(), incomplete) {
            Outcome::error(
                &cert.origin,
                format!("the SAN names {}, but other SIP domains may need a name too: {why}", expected.join(", ")),
            )
        } else if missing.is_empty() {
            Outcome::pass(&cert.origin, format!("the SAN names {}", expected.join(", ")))
        } else {
            Outcome::fail(
                &cert.origin,
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
            .var(Placeholder::Fqdn, expected.join(", "))
        };
        vec![outcome.evidence(cert.evidence(ctx.now))]
    }
}

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

use super::tls::{CertNames, NamesCheck};
use crate::facts::view::FactView;
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

impl NamesCheck for CertSanNames {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn judge_names(&self, ctx: &FactView, cert: &CertNames) -> Outcome {
        let mut incomplete = None;
        let expected: Vec<String> = match self.names {
            Names::Edge => cert.edge_names.clone(),
            Names::SipDomains => {
                // The organization's domains: the whole scan's when it is one
                // organization's (or for a certificate file, the user's own),
                // else those whose federation record leads to this Edge.
                let organizations = ctx.organizations();
                let mut domains: Vec<String> = match cert.target.host() {
                    Some(host) if !organizations.whole_scan => {
                        organizations.of_host(host).map(<[String]>::to_vec).unwrap_or_default()
                    }
                    _ => ctx.targets.domains.clone(),
                };
                if organizations.whole_scan {
                    let sip_domains = ctx.config.sip_domains();
                    incomplete = sip_domains.incomplete;
                    domains.extend(sip_domains.names);
                }
                domains.sort();
                domains.dedup();
                domains.iter().map(|d| format!("sip.{d}")).collect()
            }
        };
        if expected.is_empty() {
            let why = match self.names {
                Names::Edge => "no Access Edge FQDN is known to compare with: give --edge FQDN",
                Names::SipDomains => {
                    "no SIP domain is known to lead to this Edge: name the domains, give --edge or a snapshot"
                }
            };
            return Outcome::skip(&cert.target, why);
        }
        let missing: Vec<String> = expected
            .iter()
            .filter(|name| !cert.has_exactly(name))
            .map(|name| match cert.wildcard_covering(name) {
                Some(pattern) => format!("{name} (covered only by the wildcard {pattern})"),
                None => name.clone(),
            })
            .collect();
        let named = if cert.dns_names.is_empty() { "no DNS name".to_string() } else { cert.dns_names.join(", ") };
        if let (false, Some(why)) = (missing.is_empty(), &cert.names_doubt) {
            return Outcome::error(
                &cert.target,
                format!("{} not among the names shown ({named}), but not all are shown: {why}", missing.join(", ")),
            );
        }
        if let (true, Some(why)) = (missing.is_empty(), incomplete) {
            return Outcome::error(
                &cert.target,
                format!("the SAN names {}, but other SIP domains may need a name too: {why}", expected.join(", ")),
            );
        }
        if missing.is_empty() {
            Outcome::pass(&cert.target, format!("the SAN names {}", expected.join(", ")))
        } else {
            Outcome::fail(&cert.target, format!("the SAN lacks {}; it names {named}", missing.join(", ")))
                .var(Placeholder::Fqdn, expected.join(", "))
        }
    }
}

//! `cert_no_wildcard`: the certificate names no wildcard DNS name; the
//! Access Edge does not support wildcard certificates.

use serde::Deserialize;

use super::tls::{CertNames, NamesCheck};
use crate::facts::view::FactView;
use crate::findings::Outcome;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertNoWildcard {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
}

impl NamesCheck for CertNoWildcard {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn judge_names(&self, _ctx: &FactView, cert: &CertNames) -> Outcome {
        let wildcards: Vec<&str> = cert.dns_names.iter().map(String::as_str).filter(|n| n.contains('*')).collect();
        match (wildcards.is_empty(), &cert.names_doubt) {
            (false, _) => Outcome::fail(&cert.target, format!("wildcard names: {}", wildcards.join(", "))),
            (true, Some(why)) => {
                Outcome::error(&cert.target, format!("no wildcard among the names shown, but not all are shown: {why}"))
            }
            (true, None) => Outcome::pass(&cert.target, "no wildcard name"),
        }
    }
}

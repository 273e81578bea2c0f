//! `cert_eku`: the certificate's extended key usage includes a purpose.
//! Server authentication is required of every server certificate; client
//! authentication is what the Edge presents as a TLS client to partners,
//! and public CAs have stopped issuing it.
//!
//! ```toml
//! kind = "cert_eku"
//! usage = "server_auth"    # or "client_auth"
//! ```

use serde::Deserialize;

use super::tls::CertificateCheck;
use crate::facts::view::FactView;
use crate::facts::x509::SeenCertificate;
use crate::findings::Outcome;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Usage {
    ServerAuth,
    ClientAuth,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertEku {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
    usage: Usage,
}

impl CertificateCheck for CertEku {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome> {
        let (present, name) = match self.usage {
            Usage::ServerAuth => (cert.leaf.server_auth, "server authentication (1.3.6.1.5.5.7.3.1)"),
            Usage::ClientAuth => (cert.leaf.client_auth, "client authentication (1.3.6.1.5.5.7.3.2)"),
        };
        let outcome = match present {
            Some(true) => Outcome::pass(&cert.origin, format!("the extended key usage includes {name}")),
            Some(false) => Outcome::fail(&cert.origin, format!("the extended key usage lacks {name}")),
            None => Outcome::fail(
                &cert.origin,
                format!("no extended key usage extension; public server certificates state {name}"),
            ),
        };
        vec![outcome.written_evidence(cert.written_evidence(ctx.now))]
    }
}

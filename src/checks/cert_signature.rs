//! `cert_signature`: the certificate's signature algorithm: SHA-2 with RSA
//! PKCS#1 v1.5 or ECDSA passes; RSASSA-PSS (which Lync and Skype for
//! Business do not support) and MD5 fail; SHA-1 fails at `sha1_severity`.
//!
//! ```toml
//! kind = "cert_signature"
//! sha1_severity = "medium"
//! ```

use serde::Deserialize;

use super::tls::CertificateCheck;
use crate::facts::view::FactView;
use crate::facts::x509::SeenCertificate;
use crate::findings::{Outcome, Severity};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertSignature {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
    sha1_severity: Severity,
}

impl CertificateCheck for CertSignature {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome> {
        let algorithm = cert.leaf.signature.clone();
        let lower = algorithm.to_ascii_lowercase();
        let outcome = if lower.contains("pss") {
            Outcome::fail(
                &cert.origin,
                format!("signed with {algorithm} (RSASSA-PSS), which Lync and Skype for Business do not support"),
            )
        } else if lower.contains("md5") || lower.contains("md2") {
            Outcome::fail(&cert.origin, format!("signed with {algorithm}, which is broken"))
        } else if lower.contains("sha1") {
            Outcome::fail(
                &cert.origin,
                format!("signed with {algorithm}: SHA-1 is deprecated and refused by modern clients"),
            )
            .severity(Some(self.sha1_severity))
        } else if lower.contains("sha256")
            || lower.contains("sha384")
            || lower.contains("sha512")
            || lower.contains("sha224")
        {
            Outcome::pass(&cert.origin, format!("signed with {algorithm}"))
        } else {
            Outcome::fail(&cert.origin, format!("signed with {algorithm}, which is not SHA-2 with RSA or ECDSA"))
        };
        vec![outcome.written_evidence(cert.written_evidence(ctx.now))]
    }
}

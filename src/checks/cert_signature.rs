//! `cert_signature`: the certificate's signature algorithm: SHA-2 with RSA
//! PKCS#1 v1.5 or ECDSA passes; RSASSA-PSS (which Lync and Skype for
//! Business do not support) and MD5 fail; SHA-1 fails at `sha1_severity`.
//!
//! ```toml
//! kind = "cert_signature"
//! sha1_severity = "medium"
//! ```

use serde::Deserialize;

use super::x509::per_certificate;
use super::{Check, EvalContext, Needs, Outcome};
use crate::rules::Severity;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertSignature {
    sha1_severity: Severity,
}

impl Check for CertSignature {
    fn needs(&self) -> Needs {
        Needs::Tls
    }

    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        per_certificate(ctx, |cert| {
            let algorithm = cert.leaf.signature.clone();
            let lower = algorithm.to_ascii_lowercase();
            let outcome = if lower.contains("pss") {
                Outcome::fail(
                    &cert.target,
                    format!("signed with {algorithm} (RSASSA-PSS), which Lync and Skype for Business do not support"),
                )
            } else if lower.contains("md5") || lower.contains("md2") {
                Outcome::fail(&cert.target, format!("signed with {algorithm}, which is broken"))
            } else if lower.contains("sha1") {
                Outcome::fail(
                    &cert.target,
                    format!("signed with {algorithm}: SHA-1 is deprecated and refused by modern clients"),
                )
                .severity(Some(self.sha1_severity))
            } else if lower.contains("sha256")
                || lower.contains("sha384")
                || lower.contains("sha512")
                || lower.contains("sha224")
            {
                Outcome::pass(&cert.target, format!("signed with {algorithm}"))
            } else {
                Outcome::fail(&cert.target, format!("signed with {algorithm}, which is not SHA-2 with RSA or ECDSA"))
            };
            vec![outcome.evidence(cert.evidence(ctx.now))]
        })
    }
}

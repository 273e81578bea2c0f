//! `cert_key`: the certificate's key is RSA of at least `min_rsa_bits` or
//! ECDSA on an allowed curve.
//!
//! ```toml
//! kind = "cert_key"
//! min_rsa_bits = 2048
//! curves = ["P-256", "P-384", "P-521"]
//! ```

use serde::Deserialize;

use super::tls::CertificateCheck;
use crate::facts::view::FactView;
use crate::facts::x509::SeenCertificate;
use crate::findings::Outcome;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertKey {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
    min_rsa_bits: u32,
    curves: Vec<String>,
}

impl CertificateCheck for CertKey {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome> {
        let leaf = &cert.leaf;
        let outcome = match (leaf.key_algorithm.as_str(), leaf.key_bits, &leaf.curve) {
            ("RSA", Some(bits), _) if bits >= self.min_rsa_bits => {
                Outcome::pass(&cert.origin, format!("RSA {bits} bits"))
            }
            ("RSA", Some(bits), _) => {
                Outcome::fail(&cert.origin, format!("RSA {bits} bits, below {}", self.min_rsa_bits))
            }
            ("EC", _, Some(curve)) if self.curves.iter().any(|c| c == curve) => {
                Outcome::pass(&cert.origin, format!("ECDSA {curve}"))
            }
            ("EC", _, curve) => Outcome::fail(
                &cert.origin,
                format!(
                    "ECDSA on {}, not one of {}",
                    curve.as_deref().unwrap_or("an unknown curve"),
                    self.curves.join(", ")
                ),
            ),
            (other, _, _) => Outcome::fail(&cert.origin, format!("{other} key: use RSA or ECDSA")),
        };
        vec![outcome.written_evidence(cert.written_evidence(ctx.now))]
    }
}

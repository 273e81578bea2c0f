//! `cert_key`: the certificate's key is RSA of at least `min_rsa_bits` or
//! ECDSA on an allowed curve.
//!
//! ```toml
//! kind = "cert_key"
//! min_rsa_bits = 2048
//! curves = ["P-256", "P-384", "P-521"]
//! ```

use serde::Deserialize;

use super::x509::per_certificate;
use super::{Check, EvalContext, Needs, Outcome};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertKey {
    min_rsa_bits: u32,
    curves: Vec<String>,
}

impl Check for CertKey {
    fn needs(&self) -> Needs {
        Needs::Tls
    }

    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        per_certificate(ctx, |cert| {
            let leaf = &cert.leaf;
            let outcome = match (leaf.key_algorithm.as_str(), leaf.key_bits, &leaf.curve) {
                ("RSA", Some(bits), _) if bits >= self.min_rsa_bits => {
                    Outcome::pass(&cert.target, format!("RSA {bits} bits"))
                }
                ("RSA", Some(bits), _) => {
                    Outcome::fail(&cert.target, format!("RSA {bits} bits, below {}", self.min_rsa_bits))
                }
                ("EC", _, Some(curve)) if self.curves.iter().any(|c| c == curve) => {
                    Outcome::pass(&cert.target, format!("ECDSA {curve}"))
                }
                ("EC", _, curve) => Outcome::fail(
                    &cert.target,
                    format!(
                        "ECDSA on {}, not one of {}",
                        curve.as_deref().unwrap_or("an unknown curve"),
                        self.curves.join(", ")
                    ),
                ),
                (other, _, _) => Outcome::fail(&cert.target, format!("{other} key: use RSA or ECDSA")),
            };
            vec![outcome.evidence(cert.evidence(ctx.now))]
        })
    }
}

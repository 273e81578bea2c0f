//! Certificates that do not come from a connection: `--cert-file` (the
//! pre-deployment check of a certificate before it is installed) and the
//! trust stores chains are judged against. Both are recorded in the facts, so
//! that a replay judges the same certificates against the same anchors.

use std::path::Path;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};

use super::InputError;
use super::tls::encode_der;
use crate::files::{MAX_CERTIFICATE_FILE, read_bounded};

/// A certificate file: the chain it holds, leaf first, DER in base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertFile {
    pub path: String,
    pub chain: Vec<String>,
}

/// A set of trust anchors. `mozilla` is compiled in (webpki-roots) and
/// recorded by name; the others are recorded with their certificates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustStore {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anchors: Vec<String>,
}

pub const MOZILLA: &str = "mozilla";

/// The trust stores made ready for chain validation, once per evaluation:
/// each store's anchors decoded and parsed (a system store holds a few
/// hundred; decoding them for every certificate judged cost more than the
/// judging). The built-in Mozilla store is webpki-roots' own.
pub struct TrustAnchors {
    pub stores: Vec<(String, Vec<rustls_pki_types::TrustAnchor<'static>>)>,
}

impl TrustAnchors {
    pub fn of(stores: &[TrustStore]) -> TrustAnchors {
        let stores = stores
            .iter()
            .map(|store| {
                let anchors = if store.name == MOZILLA {
                    Vec::new()
                } else {
                    super::tls::decode_der(&store.anchors)
                        .iter()
                        .filter_map(|der| {
                            webpki::anchor_from_trusted_cert(&rustls_pki_types::CertificateDer::from(der.as_slice()))
                                .ok()
                                .map(|anchor| anchor.to_owned())
                        })
                        .collect()
                };
                (store.name.clone(), anchors)
            })
            .collect();
        TrustAnchors { stores }
    }

    /// A store's anchors.
    pub fn anchors<'s>(
        &'s self,
        name: &str,
        own: &'s [rustls_pki_types::TrustAnchor<'static>],
    ) -> &'s [rustls_pki_types::TrustAnchor<'static>] {
        if name == MOZILLA { webpki_roots::TLS_SERVER_ROOTS } else { own }
    }
}

/// Certificates from PEM text (any number of CERTIFICATE blocks) or one DER
/// certificate.
pub fn read_certificates(bytes: &[u8], path: &str) -> Result<Vec<Vec<u8>>, InputError> {
    let error = |message: String| InputError { path: path.to_string(), line: None, column: None, message };
    if bytes.first() == Some(&0x30) {
        x509_parser::parse_x509_certificate(bytes).map_err(|e| error(format!("not a DER certificate: {e}")))?;
        return Ok(vec![bytes.to_vec()]);
    }
    let mut chain = Vec::new();
    for (index, item) in CertificateDer::pem_slice_iter(bytes).enumerate() {
        let der = item.map_err(|e| error(format!("PEM block {}: {e}", index + 1)))?;
        x509_parser::parse_x509_certificate(der.as_ref())
            .map_err(|e| error(format!("PEM block {}: not a certificate: {e}", index + 1)))?;
        chain.push(der.as_ref().to_vec());
    }
    if chain.is_empty() {
        return Err(error("no certificate in the file (expected PEM `BEGIN CERTIFICATE` blocks or DER)".into()));
    }
    Ok(chain)
}

pub fn read_cert_file(path: &Path) -> Result<CertFile, InputError> {
    let display = path.display().to_string();
    let bytes = read_bounded(path, MAX_CERTIFICATE_FILE).map_err(|message| InputError {
        path: display.clone(),
        line: None,
        column: None,
        message,
    })?;
    let chain = read_certificates(&bytes, &display)?;
    Ok(CertFile { path: display, chain: chain.iter().map(|c| encode_der(c)).collect() })
}

/// `mozilla`, `system`, or a PEM file of CA certificates.
pub fn load_trust(spec: &str) -> Result<TrustStore, InputError> {
    match spec {
        MOZILLA => Ok(TrustStore { name: MOZILLA.into(), anchors: Vec::new() }),
        "system" => {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() {
                let why = found.errors.first().map(|e| e.to_string()).unwrap_or_else(|| "none found".into());
                return Err(InputError {
                    path: "system".into(),
                    line: None,
                    column: None,
                    message: format!("no system CA certificates: {why}"),
                });
            }
            Ok(TrustStore {
                name: "system".into(),
                anchors: found.certs.iter().map(|c| encode_der(c.as_ref())).collect(),
            })
        }
        path => {
            let file = read_cert_file(Path::new(path))?;
            Ok(TrustStore { name: format!("file {path}"), anchors: file.chain })
        }
    }
}

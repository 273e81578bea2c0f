//! Chain validation for the certificate kinds (not a kind itself): a chain
//! judged against the recorded trust stores at the evaluation time, as a TLS
//! client would judge it.

use ::time::OffsetDateTime;
use rustls_pki_types::{CertificateDer, UnixTime};

use crate::facts::certs::{MOZILLA, TrustStore};
use crate::facts::tls::decode_der;
use crate::facts::x509::cert_info;

/// The verdict on a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainVerdict {
    Trusted {
        store: String,
    },
    /// The chain ends in a self-signed certificate no store trusts.
    UntrustedRoot {
        root: String,
    },
    /// The last certificate sent is not a root and its issuer is unknown:
    /// an intermediate is missing, or the CA is private.
    Incomplete {
        issuer: String,
    },
    Expired {
        not_after: String,
    },
    NotYetValid {
        not_before: String,
    },
    /// webpki refuses the algorithms (SHA-1, RSA < 2048, ...).
    UnsupportedAlgorithm,
    BadSignature,
    /// Valid, but not for the name the client connected to.
    NameMismatch {
        name: String,
        presented: Vec<String>,
    },
    Other {
        reason: String,
    },
}

impl ChainVerdict {
    pub fn describe(&self) -> String {
        match self {
            ChainVerdict::Trusted { store } => format!("chains to a root of the {store} trust store"),
            ChainVerdict::UntrustedRoot { root } => {
                format!("the chain ends at the self-signed {root}, which no trust store used holds")
            }
            ChainVerdict::Incomplete { issuer } => format!(
                "the chain sent ends with a certificate issued by {issuer}, which is not a trusted root: an intermediate certificate is missing, or the CA is private"
            ),
            ChainVerdict::Expired { not_after } => format!("a certificate of the chain expired on {not_after}"),
            ChainVerdict::NotYetValid { not_before } => {
                format!("a certificate of the chain is not valid before {not_before}")
            }
            ChainVerdict::UnsupportedAlgorithm => {
                "the chain uses an algorithm modern validators refuse (SHA-1 or a short RSA key)".into()
            }
            ChainVerdict::BadSignature => "a signature in the chain does not verify".into(),
            ChainVerdict::NameMismatch { name, presented } => {
                format!("not valid for {name} (it names {})", presented.join(", "))
            }
            ChainVerdict::Other { reason } => reason.clone(),
        }
    }
}

fn unix(now: OffsetDateTime) -> UnixTime {
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.unix_timestamp().max(0) as u64))
}

fn verify(
    chain: &[CertificateDer<'_>],
    anchors: &[rustls_pki_types::TrustAnchor<'_>],
    now: OffsetDateTime,
) -> Result<(), webpki::Error> {
    let leaf = webpki::EndEntityCert::try_from(&chain[0])?;
    let algorithms = crate::facts::tls::provider().signature_verification_algorithms.all;
    leaf.verify_for_usage(algorithms, anchors, &chain[1..], unix(now), webpki::KeyUsage::server_auth(), None, None)
        .map(|_| ())
}

/// Validates a chain (leaf first) against each store in turn.
pub fn validate(chain: &[Vec<u8>], stores: &[TrustStore], now: OffsetDateTime) -> ChainVerdict {
    let ders: Vec<CertificateDer> = chain.iter().map(|c| CertificateDer::from(c.as_slice())).collect();
    if ders.is_empty() {
        return ChainVerdict::Other { reason: "no certificate".into() };
    }
    let mut first_error = None;
    for store in stores {
        let owned: Vec<CertificateDer> = decode_der(&store.anchors).into_iter().map(CertificateDer::from).collect();
        let file_anchors: Vec<rustls_pki_types::TrustAnchor> =
            owned.iter().filter_map(|c| webpki::anchor_from_trusted_cert(c).ok()).collect();
        let anchors: &[rustls_pki_types::TrustAnchor] =
            if store.name == MOZILLA { webpki_roots::TLS_SERVER_ROOTS } else { &file_anchors };
        match verify(&ders, anchors, now) {
            Ok(()) => return ChainVerdict::Trusted { store: store.name.clone() },
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    let last = chain.last().and_then(|c| cert_info(c).ok());
    match first_error {
        None => ChainVerdict::Other { reason: "no trust store was given".into() },
        Some(webpki::Error::CertExpired { .. }) => ChainVerdict::Expired {
            not_after: chain
                .iter()
                .filter_map(|c| cert_info(c).ok())
                .map(|i| i.not_after)
                .min()
                .map_or_else(String::new, |t| t.date().to_string()),
        },
        Some(webpki::Error::CertNotValidYet { .. }) => ChainVerdict::NotYetValid {
            not_before: chain
                .iter()
                .filter_map(|c| cert_info(c).ok())
                .map(|i| i.not_before)
                .max()
                .map_or_else(String::new, |t| t.date().to_string()),
        },
        // A self-signed certificate anywhere in what was sent (servers do
        // send chains out of order) is the root the chain leads to.
        Some(webpki::Error::UnknownIssuer) => {
            match chain.iter().filter_map(|c| cert_info(c).ok()).find(|i| i.self_signed) {
                Some(root) => ChainVerdict::UntrustedRoot { root: root.subject },
                None => match last {
                    Some(info) => ChainVerdict::Incomplete { issuer: info.issuer },
                    None => ChainVerdict::Other { reason: "unknown issuer".into() },
                },
            }
        }
        // ring refuses RSA keys under 2048 bits this way.
        Some(webpki::Error::InvalidSignatureForPublicKey) if has_short_rsa_key(chain, stores) => {
            ChainVerdict::UnsupportedAlgorithm
        }
        Some(
            webpki::Error::UnsupportedSignatureAlgorithmContext(_)
            | webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_),
        ) => ChainVerdict::UnsupportedAlgorithm,
        Some(webpki::Error::InvalidSignatureForPublicKey) => ChainVerdict::BadSignature,
        Some(other) => ChainVerdict::Other { reason: format!("{other:?}") },
    }
}

/// Whether a certificate of the chain, or an anchor of the stores, has an RSA
/// key shorter than 2048 bits.
fn has_short_rsa_key(chain: &[Vec<u8>], stores: &[TrustStore]) -> bool {
    let anchors = decode_der(stores.iter().flat_map(|s| &s.anchors));
    chain
        .iter()
        .cloned()
        .chain(anchors)
        .filter_map(|der| cert_info(&der).ok())
        .any(|info| info.key_algorithm == "RSA" && info.key_bits.is_some_and(|b| b < 2048))
}

/// Validates a chain for a server name, as a TLS client would (the name
/// matched by webpki, wildcards included): the trust verdict first, then
/// the name. Used for the certificate test suites.
pub fn validate_for_name(chain: &[Vec<u8>], stores: &[TrustStore], now: OffsetDateTime, name: &str) -> ChainVerdict {
    let verdict = validate(chain, stores, now);
    if !matches!(verdict, ChainVerdict::Trusted { .. }) {
        return verdict;
    }
    let Ok(server_name) = rustls_pki_types::ServerName::try_from(name.to_string()) else {
        return ChainVerdict::Other { reason: format!("{name:?} is not a DNS name or address") };
    };
    let leaf = CertificateDer::from(chain[0].as_slice());
    match webpki::EndEntityCert::try_from(&leaf).and_then(|cert| cert.verify_is_valid_for_subject_name(&server_name)) {
        Ok(()) => verdict,
        Err(_) => ChainVerdict::NameMismatch {
            name: name.to_string(),
            presented: cert_info(&chain[0]).map(|i| i.dns_names).unwrap_or_default(),
        },
    }
}

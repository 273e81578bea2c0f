//! Chain validation: a chain judged against the recorded trust stores at the
//! evaluation time, as a TLS client would judge it (TLS-CHAIN-01 reads it
//! through [`super::view::FactView::chain_verdict`]).

use ::time::OffsetDateTime;
use rustls_pki_types::{
    AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm, UnixTime, alg_id,
};

use super::certs::{TrustAnchors, TrustStore};
use super::tls::decode_der;
use super::x509::cert_info;

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
    /// an intermediate is missing (or the CA is private, nothing shows which).
    Incomplete {
        issuer: String,
    },
    /// The last certificate sent was issued by a CA that shows itself to be
    /// private: no partner holds its root.
    PrivateIssuer {
        issuer: String,
        why: String,
    },
    /// The chain is trusted, but the certificate is not for server
    /// authentication (its usage is another rule's finding).
    TrustedNotForServers {
        store: String,
    },
    /// The certificate's usage is refused before trust can be judged.
    UsageRefused,
    Expired {
        not_after: String,
    },
    NotYetValid {
        not_before: String,
    },
    /// The chain is trusted when its path is built allowing the algorithms
    /// modern validators refuse (SHA-1, RSA keys from 1,024 bits): trust is
    /// judged, the algorithms are the signature and key rules' to judge.
    TrustedWithWeakAlgorithms {
        store: String,
    },
    /// The algorithms are refused even so (MD5, RSA under 1,024 bits, DSA,
    /// ...): trust cannot be judged.
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
                "the chain is incomplete: the last certificate sent was issued by {issuer}, which the Edge does not send and no trust store holds as a root; send the intermediate certificate (if {issuer} is a private CA instead, partners will refuse the chain)"
            ),
            ChainVerdict::PrivateIssuer { issuer, why } => format!(
                "the chain leads to a private CA: the last certificate sent was issued by {issuer}, {why}; partners hold no such root and refuse the certificate"
            ),
            ChainVerdict::TrustedNotForServers { store } => format!(
                "chains to a root of the {store} trust store (judged without the server authentication usage the certificate lacks)"
            ),
            ChainVerdict::UsageRefused => {
                "the certificate's key usage is refused before its chain can be judged".into()
            }
            ChainVerdict::Expired { not_after } => format!("a certificate of the chain expired on {not_after}"),
            ChainVerdict::NotYetValid { not_before } => {
                format!("a certificate of the chain is not valid before {not_before}")
            }
            ChainVerdict::TrustedWithWeakAlgorithms { store } => format!(
                "chains to a root of the {store} trust store when its path is built allowing SHA-1 and RSA keys from 1,024 bits, which modern validators refuse"
            ),
            ChainVerdict::UnsupportedAlgorithm => {
                "the chain uses an algorithm no validator here accepts, even for building its path (MD5, an RSA key under 1,024 bits, DSA)".into()
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
    usage: webpki::KeyUsage,
    algorithms: &[&dyn SignatureVerificationAlgorithm],
) -> Result<(), webpki::Error> {
    let leaf = webpki::EndEntityCert::try_from(&chain[0])?;
    leaf.verify_for_usage(algorithms, anchors, &chain[1..], unix(now), usage, None, None).map(|_| ())
}

/// An RSA PKCS#1 signature algorithm that modern validators refuse, for
/// building a chain's path only: what its certificates are signed with is
/// judged by the signature and key rules, not by whether a path exists.
#[derive(Debug)]
struct LegacyRsa {
    signature_alg_id: AlgorithmIdentifier,
    verification: &'static ring::signature::RsaParameters,
}

impl SignatureVerificationAlgorithm for LegacyRsa {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        ring::signature::UnparsedPublicKey::new(self.verification, public_key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature_alg_id
    }
}

/// `sha1WithRSAEncryption` (1.2.840.113549.1.1.5) with NULL parameters, as
/// the other identifiers are written: the contents of the SEQUENCE.
const RSA_PKCS1_SHA1: AlgorithmIdentifier =
    AlgorithmIdentifier::from_slice(&[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00]);

static LEGACY_SHA1: LegacyRsa = LegacyRsa {
    signature_alg_id: RSA_PKCS1_SHA1,
    verification: &ring::signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
};
static LEGACY_SHA256: LegacyRsa = LegacyRsa {
    signature_alg_id: alg_id::RSA_PKCS1_SHA256,
    verification: &ring::signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
};
static LEGACY_SHA512: LegacyRsa = LegacyRsa {
    signature_alg_id: alg_id::RSA_PKCS1_SHA512,
    verification: &ring::signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
};

/// The legacy algorithms, then the modern ones: the first algorithm with a
/// signature's identifier decides it, and a legacy one also takes the
/// 1,024-bit keys the modern one of the same identifier refuses.
fn with_legacy_algorithms() -> Vec<&'static dyn SignatureVerificationAlgorithm> {
    let mut all: Vec<&'static dyn SignatureVerificationAlgorithm> = vec![&LEGACY_SHA1, &LEGACY_SHA256, &LEGACY_SHA512];
    all.extend_from_slice(crate::facts::tls::provider().signature_verification_algorithms.all);
    all
}

/// Usages to judge trust with when the certificate is not for server
/// authentication: client authentication, code signing, e-mail protection,
/// time stamping, OCSP signing.
const OTHER_USAGES: [&[u8]; 5] = [
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02],
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03],
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x04],
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08],
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09],
];

fn is_usage_error(error: &webpki::Error) -> bool {
    matches!(error, webpki::Error::RequiredEkuNotFoundContext(_))
}

/// What a validator's refusal means, for an administrator.
fn explain(error: &webpki::Error) -> String {
    use webpki::Error as E;
    match error {
        E::CaUsedAsEndEntity => "the certificate is a CA certificate (basic constraints CA:TRUE), which TLS clients refuse as a server's own certificate; reissue it as an end-entity certificate".into(),
        E::EndEntityUsedAsCa => "a certificate of the chain signs another but is not a CA certificate; the chain is in the wrong order or holds the wrong certificate".into(),
        E::PathLenConstraintViolated => "the chain is longer than a CA certificate in it allows (path length constraint)".into(),
        E::NameConstraintViolation => "the certificate's names are outside what its issuing CA may certify (name constraints)".into(),
        E::UnsupportedCriticalExtension => "a certificate of the chain has a critical extension TLS clients do not understand, so they must refuse it".into(),
        E::UnsupportedCertVersion => "a certificate of the chain is not an X.509 version 3 certificate".into(),
        E::EmptyEkuExtension => "the certificate's extended key usage extension is empty, so it is valid for no purpose".into(),
        E::InvalidCertValidity => "a certificate of the chain ends its validity before it starts".into(),
        E::CertRevoked => "a certificate of the chain is revoked".into(),
        E::CertDistrusted => "the chain's root is distrusted by the trust store".into(),
        E::BadDer | E::BadDerTime | E::TrailingData(_) | E::MalformedExtensions | E::ExtensionValueInvalid | E::InvalidSerialNumber => {
            "a certificate of the chain is malformed (its encoding breaks the X.509 rules), and strict TLS clients refuse it".into()
        }
        E::SignatureAlgorithmMismatch => "a certificate's signature algorithm does not match the one its contents name".into(),
        E::MaximumPathBuildCallsExceeded | E::MaximumPathDepthExceeded | E::MaximumSignatureChecksExceeded => {
            "the chain is too long or too tangled for a TLS client to build a path through it".into()
        }
        other => {
            let name = format!("{other:?}");
            let name = name.split(['(', ' ', '{']).next().unwrap_or_default().to_string();
            format!("a TLS client refuses the chain ({name})")
        }
    }
}

/// Why the issuer of the last certificate sent is a private CA, when the
/// certificate shows it: an issuer named inside an Active Directory domain
/// (DC= components, as enterprise CAs name themselves), or published only
/// where partners cannot fetch it (LDAP, internal names).
fn private_issuer(last: &crate::facts::x509::CertInfo) -> Option<String> {
    if last.issuer.split(',').any(|part| part.trim().to_ascii_uppercase().starts_with("DC=")) {
        return Some("a CA named inside an Active Directory domain (DC= components), as enterprise CAs are".into());
    }
    let urls: Vec<&String> = last.issuer_urls.iter().chain(&last.crl_urls).collect();
    let internal = |url: &str| {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("ldap:") {
            return true;
        }
        let host =
            lower.split("://").nth(1).unwrap_or_default().split(['/', ':']).next().unwrap_or_default().to_string();
        !host.contains('.')
            || [".local", ".corp", ".internal", ".lan", ".intranet", ".home.arpa", ".localdomain"]
                .iter()
                .any(|s| host.ends_with(s))
    };
    (!urls.is_empty() && urls.iter().all(|u| internal(u))).then(|| {
        format!(
            "whose certificate and revocation list are published only at {}, which partners cannot reach",
            urls.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(", ")
        )
    })
}

/// Validates a chain (leaf first) against each store in turn.
pub fn validate(chain: &[Vec<u8>], stores: &[TrustStore], now: OffsetDateTime) -> ChainVerdict {
    validate_with(chain, stores, &TrustAnchors::of(stores), now)
}

/// [`validate`] with the stores' anchors made ready once for many chains. A
/// chain refused for its algorithms is judged again with its path built
/// allowing SHA-1 and RSA keys from 1,024 bits: whether it leads to a
/// trusted root is still known, and said so.
pub fn validate_with(
    chain: &[Vec<u8>],
    stores: &[TrustStore],
    prepared: &TrustAnchors,
    now: OffsetDateTime,
) -> ChainVerdict {
    let modern = crate::facts::tls::provider().signature_verification_algorithms.all;
    match validate_using(chain, stores, prepared, now, modern) {
        ChainVerdict::UnsupportedAlgorithm => {
            match validate_using(chain, stores, prepared, now, &with_legacy_algorithms()) {
                ChainVerdict::Trusted { store } | ChainVerdict::TrustedNotForServers { store } => {
                    ChainVerdict::TrustedWithWeakAlgorithms { store }
                }
                other => other,
            }
        }
        verdict => verdict,
    }
}

fn validate_using(
    chain: &[Vec<u8>],
    stores: &[TrustStore],
    prepared: &TrustAnchors,
    now: OffsetDateTime,
    algorithms: &[&dyn SignatureVerificationAlgorithm],
) -> ChainVerdict {
    let ders: Vec<CertificateDer> = chain.iter().map(|c| CertificateDer::from(c.as_slice())).collect();
    if ders.is_empty() {
        return ChainVerdict::Other { reason: "no certificate".into() };
    }
    let try_stores = |usage: &dyn Fn() -> webpki::KeyUsage| -> Result<String, webpki::Error> {
        let mut first_error = None;
        for (name, own) in &prepared.stores {
            match verify(&ders, prepared.anchors(name, own), now, usage(), algorithms) {
                Ok(()) => return Ok(name.clone()),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        Err(first_error.unwrap_or(webpki::Error::UnknownIssuer))
    };
    if stores.is_empty() {
        return ChainVerdict::Other { reason: "no trust store was given".into() };
    }
    let mut result = try_stores(&webpki::KeyUsage::server_auth);
    let mut without_server_usage = false;
    if result.as_ref().is_err_and(is_usage_error) {
        // The usage is TLS-EKU-01's finding; trust is judged with a usage
        // the certificate has, so that one defect is reported once.
        without_server_usage = true;
        let judged = OTHER_USAGES
            .iter()
            .map(|oid| try_stores(&|| webpki::KeyUsage::required_if_present(oid)))
            .find(|r| !r.as_ref().is_err_and(is_usage_error));
        match judged {
            Some(judged) => result = judged,
            None => return ChainVerdict::UsageRefused,
        }
    }
    let error = match result {
        Ok(store) if without_server_usage => return ChainVerdict::TrustedNotForServers { store },
        Ok(store) => return ChainVerdict::Trusted { store },
        Err(error) => error,
    };
    let last = chain.last().and_then(|c| cert_info(c).ok());
    match error {
        webpki::Error::CertExpired { .. } => ChainVerdict::Expired {
            not_after: chain
                .iter()
                .filter_map(|c| cert_info(c).ok())
                .map(|i| i.not_after)
                .min()
                .map_or_else(String::new, |t| t.date().to_string()),
        },
        webpki::Error::CertNotValidYet { .. } => ChainVerdict::NotYetValid {
            not_before: chain
                .iter()
                .filter_map(|c| cert_info(c).ok())
                .map(|i| i.not_before)
                .max()
                .map_or_else(String::new, |t| t.date().to_string()),
        },
        // A self-signed certificate anywhere in what was sent (servers do
        // send chains out of order) is the root the chain leads to.
        webpki::Error::UnknownIssuer => match chain.iter().filter_map(|c| cert_info(c).ok()).find(|i| i.self_signed) {
            Some(root) => ChainVerdict::UntrustedRoot { root: root.subject },
            None => match last {
                Some(info) => match private_issuer(&info) {
                    Some(why) => ChainVerdict::PrivateIssuer { issuer: info.issuer, why },
                    None => ChainVerdict::Incomplete { issuer: info.issuer },
                },
                None => ChainVerdict::Other { reason: "the issuer of the chain is unknown".into() },
            },
        },
        // ring refuses RSA keys under 2048 bits this way.
        webpki::Error::InvalidSignatureForPublicKey if has_short_rsa_key(chain, stores) => {
            ChainVerdict::UnsupportedAlgorithm
        }
        webpki::Error::UnsupportedSignatureAlgorithmContext(_)
        | webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => ChainVerdict::UnsupportedAlgorithm,
        webpki::Error::InvalidSignatureForPublicKey => ChainVerdict::BadSignature,
        other => ChainVerdict::Other { reason: explain(&other) },
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

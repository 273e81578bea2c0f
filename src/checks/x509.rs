//! Reading certificates for the TLS check kinds (not a kind itself): the
//! properties rules judge, chain validation against the recorded trust
//! stores at the evaluation time, and the list of certificates to judge: one
//! per distinct certificate on each (host, port), and each `--cert-file`.

use std::collections::BTreeMap;

use ::time::OffsetDateTime;
use rustls_pki_types::{CertificateDer, UnixTime};
use serde_json::{Value, json};
use x509_parser::prelude::*;

use super::{EvalContext, Outcome};
use crate::facts::certs::{MOZILLA, TrustStore};
use crate::facts::tls::{TlsFact, decode_der};

/// What the rules read of a certificate.
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub subject: String,
    pub common_name: Option<String>,
    pub issuer: String,
    /// DNS names of the subject alternative name, lower case.
    pub dns_names: Vec<String>,
    /// IP addresses of the subject alternative name.
    pub ip_names: Vec<std::net::IpAddr>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// "RSA", "EC" or the algorithm's OID.
    pub key_algorithm: String,
    pub key_bits: Option<u32>,
    /// For EC keys: "P-256", "P-384", "P-521", or the curve's OID.
    pub curve: Option<String>,
    /// e.g. "sha256WithRSAEncryption".
    pub signature: String,
    /// `None`: no extended key usage extension (any usage).
    pub server_auth: Option<bool>,
    pub client_auth: Option<bool>,
    pub crl_urls: Vec<String>,
    pub self_signed: bool,
    pub sha256: String,
}

impl CertInfo {
    /// "RSA 2048", "EC P-256".
    pub fn key_description(&self) -> String {
        match (self.key_bits, &self.curve) {
            (_, Some(curve)) => format!("{} {curve}", self.key_algorithm),
            (Some(bits), None) => format!("{} {bits}", self.key_algorithm),
            (None, None) => self.key_algorithm.clone(),
        }
    }

    /// A short, readable summary for evidence and the table.
    pub fn summary(&self, now: OffsetDateTime) -> Value {
        let days_left = (self.not_after - now).whole_days();
        json!({
            "subject": self.subject,
            "issuer": self.issuer,
            "san": self.dns_names,
            "not_before": self.not_before.date().to_string(),
            "not_after": self.not_after.date().to_string(),
            "days_left": days_left,
            "key": self.key_description(),
            "signature": self.signature,
            "sha256": self.sha256,
        })
    }
}

fn rsa_bits(modulus: &[u8]) -> u32 {
    let trimmed: &[u8] = &modulus[modulus.iter().position(|&b| b != 0).unwrap_or(modulus.len())..];
    match trimmed.first() {
        None => 0,
        Some(first) => (trimmed.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
    }
}

fn time_of(t: &ASN1Time) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.timestamp()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Names of the algorithms rules may show, built once.
static OID_NAMES: std::sync::LazyLock<oid_registry::OidRegistry<'static>> =
    std::sync::LazyLock::new(|| oid_registry::OidRegistry::default().with_all_crypto().with_x509());

pub fn cert_info(der: &[u8]) -> Result<CertInfo, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("unreadable certificate: {e}"))?;
    let name_of =
        |oid: &oid_registry::Oid| OID_NAMES.get(oid).map_or_else(|| oid.to_id_string(), |e| e.sn().to_string());
    let common_name = cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).map(str::to_string);
    let mut dns_names = Vec::new();
    let mut ip_names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => dns_names.push(dns.to_ascii_lowercase()),
                GeneralName::IPAddress(bytes) => match bytes.len() {
                    4 => ip_names.push(std::net::IpAddr::from(<[u8; 4]>::try_from(*bytes).expect("4 bytes"))),
                    16 => ip_names.push(std::net::IpAddr::from(<[u8; 16]>::try_from(*bytes).expect("16 bytes"))),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let (server_auth, client_auth) = match cert.extended_key_usage() {
        Ok(Some(eku)) => (Some(eku.value.server_auth || eku.value.any), Some(eku.value.client_auth || eku.value.any)),
        _ => (None, None),
    };
    let mut crl_urls = Vec::new();
    for extension in cert.extensions() {
        if let ParsedExtension::CRLDistributionPoints(points) = extension.parsed_extension() {
            for point in points.iter() {
                if let Some(DistributionPointName::FullName(names)) = &point.distribution_point {
                    for name in names {
                        if let GeneralName::URI(uri) = name {
                            crl_urls.push(uri.to_string());
                        }
                    }
                }
            }
        }
    }
    let spki = cert.public_key();
    let (key_algorithm, key_bits, curve) = match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => ("RSA".to_string(), Some(rsa_bits(rsa.modulus)), None),
        Ok(x509_parser::public_key::PublicKey::EC(point)) => {
            let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|oid| {
                match oid.to_id_string().as_str() {
                    "1.2.840.10045.3.1.7" => "P-256".to_string(),
                    "1.3.132.0.34" => "P-384".to_string(),
                    "1.3.132.0.35" => "P-521".to_string(),
                    "1.3.132.0.33" => "P-224".to_string(),
                    "1.2.840.10045.3.1.1" => "P-192".to_string(),
                    other => other.to_string(),
                }
            });
            // The curve names the key size (the encoded point is longer).
            let bits = curve.as_deref().and_then(|c| c.strip_prefix("P-")).and_then(|b| b.parse().ok());
            ("EC".to_string(), bits.or(Some(point.key_size() as u32)), curve)
        }
        Ok(x509_parser::public_key::PublicKey::DSA(_)) => ("DSA".to_string(), None, None),
        _ => (name_of(&spki.algorithm.algorithm), None, None),
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    Ok(CertInfo {
        subject: cert.subject().to_string(),
        common_name,
        issuer: cert.issuer().to_string(),
        dns_names,
        ip_names,
        not_before: time_of(&cert.validity().not_before),
        not_after: time_of(&cert.validity().not_after),
        key_algorithm,
        key_bits,
        curve,
        signature: name_of(&cert.signature_algorithm.algorithm),
        server_auth,
        client_auth,
        crl_urls,
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        sha256: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
    })
}

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

/// A certificate to judge, with where it was seen and the names it must carry.
pub struct Judged<'a> {
    /// "sip.contoso.com:5061" or "file edge.pem".
    pub target: String,
    pub chain: Vec<Vec<u8>>,
    pub leaf: CertInfo,
    /// The endpoints that presented it (empty for files).
    pub endpoints: Vec<&'a TlsFact>,
    /// The name a partner connects to (the SNI), for live certificates.
    pub host: Option<String>,
}

impl Judged<'_> {
    pub fn evidence(&self, now: OffsetDateTime) -> Value {
        json!({
            "certificate": self.leaf.summary(now),
            "seen_at": self.endpoints.iter().map(|f| f.endpoint.label()).collect::<Vec<_>>(),
            "chain_length": self.chain.len(),
        })
    }
}

/// The certificates to judge and the errors of those that cannot be, worked
/// out once per evaluation (see [`EvalContext::certificates`]).
pub type Certificates<'a> = (Vec<Judged<'a>>, Vec<Outcome>);

/// Every certificate to judge: per (host, port), each distinct leaf; then
/// each certificate file. An unreadable leaf becomes an error outcome.
fn judged<'a>(ctx: &EvalContext<'a>) -> Certificates<'a> {
    // (host, port, leaf) → the chain first presented, and every endpoint.
    type Group<'a> = (Vec<Vec<u8>>, Vec<&'a TlsFact>);
    let mut groups: BTreeMap<(String, u16, Vec<u8>), Group<'a>> = BTreeMap::new();
    let mut errors = Vec::new();
    for fact in ctx.facts.tls.iter().filter(|f| f.partner.is_none()) {
        let chain = fact.chain_der();
        let Some(leaf) = chain.first() else { continue };
        let key = (fact.endpoint.host.clone(), fact.endpoint.port, leaf.clone());
        groups.entry(key).or_insert_with(|| (chain, Vec::new())).1.push(fact);
    }
    let mut out = Vec::new();
    for ((host, port, _), (chain, facts)) in groups {
        let target = format!("{host}:{port}");
        match cert_info(&chain[0]) {
            Ok(leaf) => out.push(Judged { target, chain, leaf, endpoints: facts, host: Some(host) }),
            Err(e) => errors.push(Outcome::error(target, e)),
        }
    }
    for file in &ctx.facts.cert_files {
        let chain = decode_der(&file.chain);
        let target = format!("file {}", file.path);
        match chain.first().map(|c| cert_info(c)) {
            Some(Ok(leaf)) => out.push(Judged { target, chain, leaf, endpoints: Vec::new(), host: None }),
            Some(Err(e)) => errors.push(Outcome::error(target, e)),
            None => errors.push(Outcome::error(target, "no certificate")),
        }
    }
    (out, errors)
}

/// Runs `judge` for every certificate, or says there is none to judge.
pub fn per_certificate(ctx: &EvalContext, judge: impl Fn(&Judged) -> Vec<Outcome>) -> Vec<Outcome> {
    let (certificates, errors) = ctx.certificates.get_or_init(|| judged(ctx));
    if certificates.is_empty() && errors.is_empty() {
        let why = if ctx.facts.tls.is_empty() {
            "no certificate to judge: no Edge was reached over TLS and no --cert-file was given"
        } else {
            "no certificate to judge: no Edge presented one (see TLS-CON-01)"
        };
        return vec![Outcome::skip("TLS", why)];
    }
    let mut outcomes = errors.clone();
    outcomes.extend(certificates.iter().flat_map(judge));
    outcomes
}

/// The Access Edge FQDNs a certificate must name: the host it was reached
/// at, and the Edge FQDNs known from --edge and the snapshot.
pub fn expected_names(ctx: &EvalContext, cert: &Judged) -> Vec<String> {
    let mut names: Vec<String> = cert.host.iter().cloned().collect();
    for edge in &ctx.targets.edges {
        if !names.contains(edge) {
            names.push(edge.clone());
        }
    }
    names
}

/// Whether `name` is one of the DNS names, exactly (wildcards do not count:
/// the Access Edge needs its exact name).
pub fn names_exactly(cert: &CertInfo, name: &str) -> bool {
    cert.dns_names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// A wildcard of the certificate that covers `name`, if any.
pub fn wildcard_covering<'c>(cert: &'c CertInfo, name: &str) -> Option<&'c str> {
    cert.dns_names.iter().map(String::as_str).find(|pattern| {
        pattern
            .strip_prefix("*.")
            .is_some_and(|suffix| name.split_once('.').is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(suffix)))
    })
}

/// Runs `judge` for every TLS endpoint probed, or says there is none.
pub fn per_endpoint(ctx: &EvalContext, judge: impl Fn(&TlsFact) -> Vec<Outcome>) -> Vec<Outcome> {
    let own: Vec<&TlsFact> = ctx.facts.tls.iter().filter(|f| f.partner.is_none()).collect();
    if own.is_empty() {
        let why = if !crate::engine::tls_endpoints(ctx.facts).is_empty() {
            "TLS was not probed in this scan (its TLS rules were deselected, or the facts were recorded without them)"
        } else if ctx.dns.gathered {
            "no TLS endpoint: no federation SRV target or Edge address was found (see DNS-FED-01 and DNS-FED-05)"
        } else {
            "no TLS endpoint was probed (an offline audit, or a certificate file only)"
        };
        return vec![Outcome::skip("TLS", why)];
    }
    own.into_iter().flat_map(judge).collect()
}

/// The evidence of one handshake.
pub fn handshake_evidence(fact: &TlsFact) -> Value {
    json!({
        "endpoint": fact.endpoint.label(),
        "outcome": fact.outcome.describe(),
        "chain_source": fact.chain_source,
        "versions": fact.versions,
        "client_auth": fact.client_auth,
    })
}

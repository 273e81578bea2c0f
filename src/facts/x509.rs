//! Reading certificates: the properties rules and reports show of one
//! (`cert_info`), and the certificates a scan saw, each once: per (host,
//! port) every distinct leaf presented, then each `--cert-file`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use ::time::OffsetDateTime;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use x509_parser::prelude::*;

use super::Facts;
use super::cert_listing::{ListedCertificate, listed_certificates};
use super::config_view::ConfigView;
use super::tls::{TlsFact, decode_der};

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
    /// Where the issuer's certificate is published (authority information
    /// access, caIssuers).
    pub issuer_urls: Vec<String>,
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
    let mut issuer_urls = Vec::new();
    for extension in cert.extensions() {
        if let ParsedExtension::AuthorityInfoAccess(access) = extension.parsed_extension() {
            for description in access.iter() {
                if description.access_method == oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS
                    && let GeneralName::URI(uri) = &description.access_location
                {
                    issuer_urls.push(uri.to_string());
                }
            }
        }
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
        issuer_urls,
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        sha256: crate::text::hex(digest.as_ref()),
    })
}

/// Where a certificate was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertOrigin {
    /// Presented by the endpoints of a host on a port.
    Presented { host: String, port: u16 },
    /// A certificate file (`--cert-file`).
    File(String),
}

/// A certificate to judge, and where it was seen.
pub struct SeenCertificate<'a> {
    pub origin: CertOrigin,
    /// The chain first presented (or the file's), leaf first.
    pub chain: Vec<Vec<u8>>,
    pub leaf: CertInfo,
    /// The endpoints that presented it (empty for files).
    pub endpoints: Vec<&'a TlsFact>,
    /// [`SeenCertificate::evidence`] as written, for the checks that show it
    /// as it is: several judge each certificate.
    written: OnceLock<(OffsetDateTime, Box<RawValue>)>,
}

impl<'a> SeenCertificate<'a> {
    pub fn new(origin: CertOrigin, chain: Vec<Vec<u8>>, leaf: CertInfo, endpoints: Vec<&'a TlsFact>) -> Self {
        SeenCertificate { origin, chain, leaf, endpoints, written: OnceLock::new() }
    }

    /// The name a partner connects to (the SNI), for presented certificates.
    pub fn host(&self) -> Option<&str> {
        match &self.origin {
            CertOrigin::Presented { host, .. } => Some(host),
            CertOrigin::File(_) => None,
        }
    }

    pub fn evidence(&self, now: OffsetDateTime) -> Value {
        json!({
            "certificate": self.leaf.summary(now),
            "seen_at": self.endpoints.iter().map(|f| f.endpoint.label()).collect::<Vec<_>>(),
            "chain_length": self.chain.len(),
        })
    }

    /// [`SeenCertificate::evidence`] as JSON text, written once per certificate.
    pub fn written_evidence(&self, now: OffsetDateTime) -> Box<RawValue> {
        let write =
            || serde_json::value::to_raw_value(&self.evidence(now)).unwrap_or_else(|_| RawValue::NULL.to_owned());
        match self.written.get_or_init(|| (now, write())) {
            (at, written) if *at == now => written.clone(),
            _ => write(),
        }
    }
}

/// The certificates of a scan, read once per evaluation.
#[derive(Default)]
pub struct Certificates<'a> {
    pub seen: Vec<SeenCertificate<'a>>,
    /// Certificates whose leaf could not be read, and why.
    pub unreadable: Vec<(CertOrigin, String)>,
    /// Certificates a `Get-CsCertificate` listing shows (names, dates, roles).
    pub listed: Vec<ListedCertificate<'a>>,
}

impl<'a> Certificates<'a> {
    /// The organization's own certificates (partners' are not judged): per
    /// (host, port), each distinct leaf; then each certificate file.
    pub fn read(facts: &'a Facts) -> Self {
        // (host, port, leaf) → the chain first presented, and every endpoint.
        type Group<'a> = (Vec<Vec<u8>>, Vec<&'a TlsFact>);
        let mut groups: BTreeMap<(String, u16, Vec<u8>), Group<'a>> = BTreeMap::new();
        for fact in facts.tls.iter().filter(|f| f.partner.is_none()) {
            let chain = fact.chain_der();
            let Some(leaf) = chain.first() else { continue };
            let key = (fact.endpoint.host.clone(), fact.endpoint.port, leaf.clone());
            groups.entry(key).or_insert_with(|| (chain, Vec::new())).1.push(fact);
        }
        let mut out = Certificates { listed: listed_certificates(&ConfigView::new(facts)), ..Certificates::default() };
        for ((host, port, _), (chain, endpoints)) in groups {
            let origin = CertOrigin::Presented { host, port };
            match cert_info(&chain[0]) {
                Ok(leaf) => out.seen.push(SeenCertificate::new(origin, chain, leaf, endpoints)),
                Err(e) => out.unreadable.push((origin, e)),
            }
        }
        for file in &facts.cert_files {
            let chain = decode_der(&file.chain);
            let origin = CertOrigin::File(file.path.clone());
            match chain.first().map(|c| cert_info(c)) {
                Some(Ok(leaf)) => out.seen.push(SeenCertificate::new(origin, chain, leaf, Vec::new())),
                Some(Err(e)) => out.unreadable.push((origin, e)),
                None => out.unreadable.push((origin, "no certificate".into())),
            }
        }
        out
    }
}

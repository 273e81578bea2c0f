//! TLS facts (gathered by `probe::tls`): for each (address, port, SNI),
//! what the Edge presented (the chain, DER, leaf first), the protocol and
//! cipher negotiated, whether it asked for a client certificate and from
//! which CAs, which protocol versions it accepts, and how the handshake
//! ended. A handshake failure never hides the certificate: rustls's
//! verifier records the chain before judging it, and for servers rustls
//! cannot talk to (TLS 1.0/1.1 only, RSA key exchange, CBC), the chain is read
//! from the cleartext Certificate message of a TLS ≤ 1.2 handshake.

use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine as _;
use rustls::crypto::CryptoProvider;
use serde::{Deserialize, Serialize};

/// One endpoint to probe.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Endpoint {
    /// The name sent as SNI and expected on the certificate.
    pub host: String,
    pub address: IpAddr,
    pub port: u16,
}

impl Endpoint {
    /// "sip.contoso.com:5061 (52.1.2.3)"
    pub fn label(&self) -> String {
        format!("{}:{} ({})", self.host, self.port, self.address)
    }
}

/// A protocol version, written as people say it (`TLS 1.2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TlsVersion {
    #[serde(rename = "TLS 1.0")]
    Tls10,
    #[serde(rename = "TLS 1.1")]
    Tls11,
    #[serde(rename = "TLS 1.2")]
    Tls12,
    #[serde(rename = "TLS 1.3")]
    Tls13,
}

impl TlsVersion {
    pub const ALL: [TlsVersion; 4] = [TlsVersion::Tls10, TlsVersion::Tls11, TlsVersion::Tls12, TlsVersion::Tls13];

    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Tls10 => "TLS 1.0",
            TlsVersion::Tls11 => "TLS 1.1",
            TlsVersion::Tls12 => "TLS 1.2",
            TlsVersion::Tls13 => "TLS 1.3",
        }
    }

    /// Versions partners should no longer need.
    pub fn is_legacy(self) -> bool {
        self < TlsVersion::Tls12
    }

    /// The version field of a ClientHello offering it (TLS ≤ 1.2).
    pub(crate) fn wire(self) -> u16 {
        match self {
            TlsVersion::Tls10 => 0x0301,
            TlsVersion::Tls11 => 0x0302,
            TlsVersion::Tls12 => 0x0303,
            TlsVersion::Tls13 => 0x0304,
        }
    }

    pub(crate) fn from_rustls(version: rustls::ProtocolVersion) -> Option<TlsVersion> {
        match version {
            rustls::ProtocolVersion::TLSv1_0 => Some(TlsVersion::Tls10),
            rustls::ProtocolVersion::TLSv1_1 => Some(TlsVersion::Tls11),
            rustls::ProtocolVersion::TLSv1_2 => Some(TlsVersion::Tls12),
            rustls::ProtocolVersion::TLSv1_3 => Some(TlsVersion::Tls13),
            _ => None,
        }
    }
}

impl std::fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TlsOutcome {
    /// The handshake completed (rustls, TLS 1.2 or 1.3).
    Established { version: TlsVersion, cipher: String },
    /// A TLS conversation took place but rustls could not complete it.
    Rejected { reason: String },
    /// The server sent a handshake message larger than a TLS client accepts
    /// (64 KiB; a certificate chain that large, say).
    Oversized { reason: String },
    /// The server asked for a client certificate and, offered none, ended
    /// the handshake with an alert (TLS 1.2; on TLS 1.3 the alert comes
    /// after the handshake).
    ClientCertificateRequired { alert: String },
    /// Nothing listens (connection refused).
    Refused,
    /// No answer within the timeout.
    Timeout,
    /// The connection failed otherwise.
    Failed { message: String },
    /// The probe itself failed (it crashed or was cancelled): nothing was
    /// observed of the endpoint.
    Unobserved { reason: String },
}

impl TlsOutcome {
    /// No TLS was spoken: nothing listened, answered or could be connected to.
    pub fn unreached(&self) -> bool {
        matches!(self, TlsOutcome::Refused | TlsOutcome::Timeout | TlsOutcome::Failed { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            TlsOutcome::Established { version, cipher } => format!("{version}, {cipher}"),
            TlsOutcome::Rejected { reason } => format!("handshake failed: {reason}"),
            TlsOutcome::Oversized { reason } => format!(
                "the Edge sent a handshake message larger than the 64 KiB a TLS client accepts ({reason}): a certificate chain that large stops the handshake"
            ),
            TlsOutcome::ClientCertificateRequired { alert } => {
                format!("the handshake stopped at the client certificate the Edge requires ({alert})")
            }
            TlsOutcome::Refused => "connection refused".into(),
            TlsOutcome::Timeout => "no answer (timeout)".into(),
            TlsOutcome::Failed { message } => format!("connection failed: {message}"),
            TlsOutcome::Unobserved { reason } => format!("not observed: {reason}"),
        }
    }
}

/// Where the recorded chain came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainSource {
    /// rustls's handshake.
    Handshake,
    /// The cleartext Certificate message of a TLS ≤ 1.2 handshake fedscan
    /// started itself, for a server rustls could not complete one with.
    Legacy,
}

/// Whether the server accepts one protocol version (`None`: not tried or no
/// conclusive answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSupport {
    pub version: TlsVersion,
    pub accepted: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAuthRequest {
    /// The CA names (distinguished names) the server said it accepts.
    pub ca_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsFact {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    #[serde(flatten)]
    pub outcome: TlsOutcome,
    /// DER, base64, leaf first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_source: Option<ChainSource>,
    /// Present when the server asked for a client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_auth: Option<ClientAuthRequest>,
    #[serde(default)]
    pub versions: Vec<VersionSupport>,
    /// Set when the endpoint is a partner's (`--partner`), not the
    /// organization's own: the TLS rules judge only the organization's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
}

impl TlsFact {
    /// The fact of a probe that observed nothing (it crashed, say).
    pub fn unobserved(endpoint: Endpoint, partner: Option<String>, reason: String) -> TlsFact {
        TlsFact {
            endpoint,
            outcome: TlsOutcome::Unobserved { reason },
            chain: Vec::new(),
            chain_source: None,
            client_auth: None,
            versions: Vec::new(),
            partner,
        }
    }

    pub fn chain_der(&self) -> Vec<Vec<u8>> {
        decode_der(&self.chain)
    }
}

/// A certificate as the facts file holds it: DER in base64.
pub fn encode_der(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// The DER of certificates held as [`encode_der`] writes them. Facts the
/// scan made always decode, and a facts file whose certificates do not is
/// refused when it is loaded.
pub fn decode_der<'s>(encoded: impl IntoIterator<Item = &'s String>) -> Vec<Vec<u8>> {
    encoded.into_iter().filter_map(|c| decode_one(c)).collect()
}

/// One certificate's DER, if it decodes.
pub fn decode_one(encoded: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(encoded).ok()
}

/// The crypto provider, chosen in one place.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

//! TLS servers on loopback (tokio-rustls) with a test PKI made by rcgen: a
//! root, an intermediate and leaves with the names, dates and usages a test
//! asks for. Each server is stopped when its handle is dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CrlDistributionPoint, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::io::AsyncReadExt;
use tokio::runtime::Runtime;

pub struct Pki {
    pub root: CertifiedIssuer<'static, KeyPair>,
    pub intermediate: CertifiedIssuer<'static, KeyPair>,
}

/// What a leaf should look like; `Default` is a good Access Edge certificate.
#[derive(Clone)]
pub struct LeafSpec {
    pub common_name: String,
    pub sans: Vec<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub server_auth: bool,
    /// Sent without its intermediate.
    pub leaf_only: bool,
    /// Signed by itself instead of the intermediate.
    pub self_signed: bool,
    /// Marked as a CA certificate (basic constraints CA:TRUE).
    pub ca: bool,
}

impl Default for LeafSpec {
    fn default() -> Self {
        LeafSpec {
            common_name: "sip.contoso.com".into(),
            sans: vec!["sip.contoso.com".into(), "sip.contoso.net".into()],
            not_before: datetime!(2026-01-01 0:00 UTC),
            not_after: datetime!(2027-01-01 0:00 UTC),
            server_auth: true,
            leaf_only: false,
            self_signed: false,
            ca: false,
        }
    }
}

/// A certificate chain as a server sends it, with its key.
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivatePkcs8KeyDer<'static>,
}

impl Leaf {
    /// The chain as a server's PEM file holds it, leaf first.
    pub fn chain_pem(&self) -> String {
        self.chain.iter().map(|c| pem("CERTIFICATE", c.as_ref())).collect()
    }

    pub fn key_pem(&self) -> String {
        pem("PRIVATE KEY", self.key.secret_pkcs8_der())
    }
}

/// PEM text of one DER object, in 64-character lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = text.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = datetime!(2025-01-01 0:00 UTC);
    params.not_after = datetime!(2035-01-01 0:00 UTC);
    params
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let root =
            CertifiedIssuer::self_signed(ca_params(&format!("{name} Root")), KeyPair::generate().unwrap()).unwrap();
        let intermediate =
            CertifiedIssuer::signed_by(ca_params(&format!("{name} Intermediate")), KeyPair::generate().unwrap(), &root)
                .unwrap();
        Pki { root, intermediate }
    }

    /// A private CA as Active Directory Certificate Services names one: its
    /// issuing CA's name has the domain's DC= components.
    pub fn enterprise(name: &str, domain: &str) -> Pki {
        let root =
            CertifiedIssuer::self_signed(ca_params(&format!("{name} Root")), KeyPair::generate().unwrap()).unwrap();
        let mut params = ca_params(&format!("{name} Issuing CA"));
        // domainComponent (0.9.2342.19200300.100.1.25)
        for label in domain.split('.').rev() {
            params.distinguished_name.push(DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 25]), label);
        }
        let intermediate = CertifiedIssuer::signed_by(params, KeyPair::generate().unwrap(), &root).unwrap();
        Pki { root, intermediate }
    }

    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    /// Writes the root to `dir`/root.pem, for --trust.
    pub fn write_root(&self, dir: &Path) -> PathBuf {
        let path = dir.join("root.pem");
        std::fs::write(&path, self.root_pem()).unwrap();
        path
    }

    pub fn leaf(&self, spec: &LeafSpec) -> Leaf {
        let mut params = CertificateParams::new(spec.sans.clone()).unwrap();
        params.distinguished_name.push(DnType::CommonName, spec.common_name.as_str());
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        params.extended_key_usages = if spec.server_auth {
            vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth]
        } else {
            vec![ExtendedKeyUsagePurpose::ClientAuth]
        };
        if spec.ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        params.crl_distribution_points =
            vec![CrlDistributionPoint { uris: vec!["http://crl.contoso-ca.test/intermediate.crl".into()] }];
        let key = KeyPair::generate().unwrap();
        let leaf = if spec.self_signed {
            params.self_signed(&key).unwrap()
        } else {
            params.signed_by(&key, &self.intermediate).unwrap()
        };
        let mut chain = vec![leaf.der().clone()];
        if !spec.leaf_only && !spec.self_signed {
            chain.push(self.intermediate.der().clone());
        }
        Leaf { chain, key: PrivatePkcs8KeyDer::from(key.serialize_der()) }
    }
}

/// A TLS server that completes handshakes and then waits for the client to
/// close (or two seconds).
pub struct TlsServer {
    pub addr: SocketAddr,
    runtime: Option<Runtime>,
}

impl TlsServer {
    /// `client_ca`: require a client certificate from this CA.
    pub fn start(leaf: &Leaf, client_ca: Option<&Pki>) -> TlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match client_ca {
            None => builder.with_no_client_auth(),
            Some(pki) => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add(pki.root.der().clone()).unwrap();
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .unwrap();
                builder.with_client_cert_verifier(verifier)
            }
        };
        let config = builder.with_single_cert(leaf.chain.clone(), PrivateKeyDer::Pkcs8(leaf.key.clone_key())).unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let addr = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        if let Ok(mut tls) = acceptor.accept(stream).await {
                            let mut buffer = [0u8; 1024];
                            let _ = tokio::time::timeout(Duration::from_secs(2), tls.read(&mut buffer)).await;
                        }
                    });
                }
            });
            addr
        });
        TlsServer { addr, runtime: Some(runtime) }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A server that answers any ClientHello with a TLS 1.2 ServerHello and a
/// Certificate message announced as 16 MiB, then streams it for as long as
/// the client reads: the legacy certificate reader must give up early.
pub struct EndlessCertificate {
    pub addr: SocketAddr,
    /// The most bytes written on one connection before the client left.
    most_sent: Arc<std::sync::atomic::AtomicUsize>,
    runtime: Option<Runtime>,
}

impl EndlessCertificate {
    pub fn start() -> EndlessCertificate {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::AsyncWriteExt;
        let most_sent = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let seen = Arc::clone(&most_sent);
        let addr = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                while let Ok((mut stream, _)) = listener.accept().await {
                    let seen = Arc::clone(&seen);
                    tokio::spawn(async move {
                        let mut hello = [0u8; 4096];
                        if !matches!(stream.read(&mut hello).await, Ok(n) if n > 0) {
                            return;
                        }
                        let mut server_hello = vec![2, 0, 0, 38, 3, 3];
                        server_hello.extend([7u8; 32]);
                        server_hello.extend([0, 0xc0, 0x2f, 0]);
                        let mut first = record(&server_hello);
                        // Certificate, 16 MiB announced.
                        first.extend(record(&[11, 0xff, 0xff, 0xff]));
                        let mut sent = 0;
                        if stream.write_all(&first).await.is_err() {
                            return;
                        }
                        let chunk = record(&vec![0x30; 16 * 1024]);
                        while stream.write_all(&chunk).await.is_ok() {
                            sent += chunk.len();
                            seen.fetch_max(sent, Ordering::SeqCst);
                            if sent > 64 * 1024 * 1024 {
                                break;
                            }
                        }
                    });
                }
            });
            addr
        });
        EndlessCertificate { addr, most_sent, runtime: Some(runtime) }
    }

    pub fn most_sent(&self) -> usize {
        self.most_sent.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A TLS 1.2 handshake record around `body`.
fn record(body: &[u8]) -> Vec<u8> {
    let mut out = vec![0x16, 3, 3];
    out.extend((body.len() as u16).to_be_bytes());
    out.extend(body);
    out
}

impl Drop for EndlessCertificate {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

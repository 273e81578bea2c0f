//! The TLS probe: a TCP connect within the endpoint's budget, then a
//! handshake whose verifier records the chain before any verdict (and, for
//! servers rustls cannot talk to, the chain read from the cleartext
//! Certificate message of a TLS ≤ 1.2 handshake); what it saw becomes a
//! [`TlsFact`]. Probes never judge.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::ResolvesClientCert;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;

use crate::facts::tls::{
    ChainSource, ClientAuthRequest, Endpoint, TlsFact, TlsOutcome, TlsVersion, VersionSupport, encode_der, provider,
};

/// What the handshake showed before any verdict: recorded by the verifier
/// and the client-certificate resolver.
#[derive(Debug, Default)]
pub struct Recorded {
    chain: Vec<Vec<u8>>,
    client_auth: Option<Vec<String>>,
}

impl Recorded {
    /// The record, to read or fill. A panic elsewhere while it was held
    /// leaves what was recorded so far, which is still what was seen.
    pub fn of(recorded: &Mutex<Recorded>) -> std::sync::MutexGuard<'_, Recorded> {
        recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn client_certificate_requested(&self) -> bool {
        self.client_auth.is_some()
    }
}

/// Records the chain and accepts it, so the handshake (and the facts that
/// come after it) go on; signatures of the handshake are still verified, so
/// the server proves it holds the key. The chain is judged later, by rules.
#[derive(Debug)]
struct RecordingVerifier {
    algorithms: WebPkiSupportedAlgorithms,
    recorded: Arc<Mutex<Recorded>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut recorded = Recorded::of(&self.recorded);
        recorded.chain = std::iter::once(end_entity).chain(intermediates).map(|c| c.as_ref().to_vec()).collect();
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Notes a client-certificate request and the CA names in it; presents the
/// user's certificate (--client-cert, given to the SIP probe only) or none.
#[derive(Debug)]
struct ClientAuth {
    identity: Option<Arc<rustls::sign::CertifiedKey>>,
    recorded: Arc<Mutex<Recorded>>,
}

impl ResolvesClientCert for ClientAuth {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        _schemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let names = root_hint_subjects
            .iter()
            .map(|der| {
                match <x509_parser::x509::X509Name as x509_parser::prelude::FromDer<
                        x509_parser::error::X509Error,
                    >>::from_der(der)
                    {
                        Ok((_, name)) => name.to_string(),
                        Err(_) => format!("(unreadable name, {} bytes)", der.len()),
                    }
            })
            .collect();
        Recorded::of(&self.recorded).client_auth = Some(names);
        self.identity.clone()
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// A client configuration that records the chain and accepts it (rules
/// judge it), and records a client-certificate request, answering it with
/// `identity`.
fn client_config(
    recorded: &Arc<Mutex<Recorded>>,
    versions: &[&'static rustls::SupportedProtocolVersion],
    identity: Option<Arc<rustls::sign::CertifiedKey>>,
) -> Arc<rustls::ClientConfig> {
    let provider = provider();
    let algorithms = provider.signature_verification_algorithms;
    // Cannot fail: rustls refuses only a version its provider has no
    // cipher suite for, and `versions` holds rustls's own TLS 1.2 and 1.3,
    // for both of which ring has suites.
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("ring supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordingVerifier { algorithms, recorded: Arc::clone(recorded) }))
        .with_client_cert_resolver(Arc::new(ClientAuth { identity, recorded: Arc::clone(recorded) }));
    Arc::new(config)
}

/// The client configuration of the SIP probe (TLS 1.3 and 1.2, offering
/// `identity`), and what its handshake records.
pub fn client_config_with_identity(
    identity: Option<Arc<rustls::sign::CertifiedKey>>,
) -> (Arc<rustls::ClientConfig>, Arc<Mutex<Recorded>>) {
    let recorded = Arc::new(Mutex::new(Recorded::default()));
    let config = client_config(&recorded, &[&rustls::version::TLS13, &rustls::version::TLS12], identity);
    (config, recorded)
}

/// The time the probes of one endpoint may take: each step (a connection,
/// a handshake, a read) at most the step timeout (`--timeout`), and all of
/// them, the TLS probe with its version probes and then the SIP exchange,
/// until one deadline: a server that answers each step just in time costs
/// at most [`ENDPOINT_STEPS`] timeouts, not the sum of its steps.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub step: Duration,
    pub deadline: tokio::time::Instant,
}

/// An endpoint's deadline, in step timeouts: a connection, a handshake and
/// an answer.
pub const ENDPOINT_STEPS: u32 = 3;

impl Budget {
    /// The budget of an endpoint whose probes start now.
    pub fn for_endpoint(step: Duration) -> Budget {
        Budget { step, deadline: tokio::time::Instant::now() + step * ENDPOINT_STEPS }
    }

    /// When the step starting now must end.
    pub fn step_ends(&self) -> tokio::time::Instant {
        (tokio::time::Instant::now() + self.step).min(self.deadline)
    }

    /// Whether a step that started at `started` and ran out of time was cut
    /// short by the endpoint's deadline rather than by its own timeout: then
    /// the server was not silent for a whole step, it was not observed.
    pub fn cut_short(&self, started: tokio::time::Instant) -> bool {
        started.elapsed() < self.step
    }

    /// What a step cut short by the deadline says.
    pub fn cut_short_reason(&self, step: &str) -> String {
        format!(
            "the endpoint's deadline ({} s for all its probes, {ENDPOINT_STEPS} times --timeout) passed during {step}",
            (self.step * ENDPOINT_STEPS).as_secs_f64()
        )
    }
}

/// Why a TCP connection to an endpoint was not made.
#[derive(Debug)]
pub enum ConnectFailure {
    /// Nothing listens.
    Refused(std::io::Error),
    /// No answer within the timeout.
    TimedOut,
    /// This machine could not make the connection (out of file
    /// descriptors, ports or memory; no route from here; forbidden
    /// locally): nothing was learnt of the peer.
    Local(std::io::Error),
    Other(std::io::Error),
}

impl ConnectFailure {
    /// Whether a failed connect is this machine's own: the errors a peer
    /// cannot cause.
    fn of(error: std::io::Error) -> ConnectFailure {
        let local = [
            libc::EMFILE,
            libc::ENFILE,
            libc::ENOBUFS,
            libc::ENOMEM,
            libc::EADDRNOTAVAIL,
            libc::ENETUNREACH,
            libc::EACCES,
            libc::EPERM,
        ];
        match error.raw_os_error() {
            _ if error.kind() == std::io::ErrorKind::ConnectionRefused => ConnectFailure::Refused(error),
            Some(code) if local.contains(&code) => ConnectFailure::Local(error),
            _ => ConnectFailure::Other(error),
        }
    }
}

impl std::fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectFailure::Refused(e) | ConnectFailure::Other(e) => write!(f, "{e}"),
            ConnectFailure::Local(e) => write!(f, "this machine could not open the connection ({e})"),
            ConnectFailure::TimedOut => f.write_str("connect timed out"),
        }
    }
}

impl From<ConnectFailure> for TlsOutcome {
    fn from(failure: ConnectFailure) -> TlsOutcome {
        match failure {
            ConnectFailure::Refused(_) => TlsOutcome::Refused,
            ConnectFailure::TimedOut => TlsOutcome::Timeout,
            ConnectFailure::Other(e) => TlsOutcome::Failed { message: e.to_string() },
            local @ ConnectFailure::Local(_) => TlsOutcome::Unobserved { reason: local.to_string() },
        }
    }
}

/// The network work probes do, counted where it is done: the scan's
/// probe loop sets [`WORK`] around each endpoint's probes, and the JSON
/// report's summary gives the totals.
#[derive(Debug, Default)]
pub struct Work {
    /// TCP connections opened (or tried).
    pub connections: std::sync::atomic::AtomicUsize,
    /// Full TLS handshakes tried (rustls), the SIP probe's included; the
    /// version probes' hellos are not (they stop at the server's first flight).
    pub handshakes: std::sync::atomic::AtomicUsize,
    /// The longest TLS handshake of the scan (connection to established or
    /// refused), in microseconds.
    pub tls_micros: std::sync::atomic::AtomicU64,
    /// The longest SIP OPTIONS exchange of the scan, in microseconds.
    pub sip_micros: std::sync::atomic::AtomicU64,
}

tokio::task_local! {
    /// The counters of the scan the current task probes for.
    pub static WORK: Arc<Work>;
}

/// Counts one unit of work in the current scan's counters, if any.
pub fn count(counter: fn(&Work) -> &std::sync::atomic::AtomicUsize) {
    let _ = WORK.try_with(|work| counter(work).fetch_add(1, std::sync::atomic::Ordering::Relaxed));
}

/// Records how long a step took in the current scan's counters, if any:
/// the longest of its kind.
pub fn took(step: fn(&Work) -> &std::sync::atomic::AtomicU64, elapsed: std::time::Duration) {
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    let _ = WORK.try_with(|work| step(work).fetch_max(micros, std::sync::atomic::Ordering::Relaxed));
}

/// A TCP connection to an endpoint, within the timeout: what every probe
/// of an endpoint starts with.
pub async fn connect(endpoint: &Endpoint, budget: Budget) -> Result<TcpStream, ConnectFailure> {
    count(|work| &work.connections);
    let addr = SocketAddr::new(endpoint.address, endpoint.port);
    match tokio::time::timeout_at(budget.step_ends(), TcpStream::connect(addr)).await {
        Err(_) => Err(ConnectFailure::TimedOut),
        Ok(Err(e)) => Err(ConnectFailure::of(e)),
        Ok(Ok(stream)) => {
            // Each probe writes a request and waits for the answer: with
            // Nagle's algorithm, a request written in two segments waits for
            // the peer's delayed ACK (40 ms on Linux) before its second half
            // leaves.
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
    }
}

/// The alert of a server that refused the handshake for want of an
/// acceptable client certificate, as rustls reports it.
pub fn certificate_alert(error: &std::io::Error) -> Option<String> {
    let text = error.to_string();
    let lower = text.to_ascii_lowercase();
    (lower.contains("certificaterequired") || lower.contains("handshakefailure") || lower.contains("badcertificate"))
        .then_some(text)
}

/// Whether rustls stopped at a message over its size limit.
fn too_large(error: &std::io::Error) -> bool {
    use rustls::InvalidMessage::{HandshakePayloadTooLarge, MessageTooLarge};
    let rustls_error = error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
    matches!(rustls_error, Some(rustls::Error::InvalidMessage(HandshakePayloadTooLarge | MessageTooLarge)))
}

/// The TLS connection a handshake established, kept for the SIP exchange.
pub type Established = tokio_rustls::client::TlsStream<TcpStream>;

/// One rustls handshake with the given versions; the connection, when it
/// was established.
async fn handshake(
    endpoint: &Endpoint,
    budget: Budget,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> (TlsOutcome, Recorded, Option<Established>) {
    let recorded = Arc::new(Mutex::new(Recorded::default()));
    let connector = tokio_rustls::TlsConnector::from(client_config(&recorded, versions, None));
    count(|work| &work.handshakes);
    let mut kept = None;
    let outcome = match connect(endpoint, budget).await {
        Err(failure) => failure.into(),
        Ok(stream) => {
            let name = match ServerName::try_from(endpoint.host.clone()) {
                Ok(name) => name,
                Err(e) => {
                    return (
                        TlsOutcome::Failed { message: format!("bad server name: {e}") },
                        Recorded::default(),
                        None,
                    );
                }
            };
            match tokio::time::timeout_at(budget.step_ends(), connector.connect(name, stream)).await {
                Err(_) => TlsOutcome::Timeout,
                Ok(Err(e)) => {
                    let asked = Recorded::of(&recorded).client_auth.is_some();
                    match certificate_alert(&e) {
                        Some(alert) if asked => TlsOutcome::ClientCertificateRequired { alert },
                        _ if too_large(&e) => TlsOutcome::Oversized { reason: e.to_string() },
                        _ => TlsOutcome::Rejected { reason: e.to_string() },
                    }
                }
                Ok(Ok(tls)) => {
                    let (_, connection) = tls.get_ref();
                    let cipher =
                        connection.negotiated_cipher_suite().map_or("unknown".into(), |c| format!("{:?}", c.suite()));
                    // rustls completes TLS 1.2 and 1.3 handshakes only.
                    let outcome = match connection.protocol_version().and_then(TlsVersion::from_rustls) {
                        Some(version) => TlsOutcome::Established { version, cipher },
                        None => TlsOutcome::Rejected { reason: "a handshake of an unknown protocol version".into() },
                    };
                    kept = Some(tls);
                    outcome
                }
            }
        }
    };
    let recorded = std::mem::take(&mut *Recorded::of(&recorded));
    (outcome, recorded, kept)
}

/// Which protocol versions a probe asks about besides what its own
/// handshake settles: each only when a selected rule reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VersionQuestions {
    /// TLS 1.2 and 1.3 (`TLS-VER-01`).
    pub current: bool,
    /// TLS 1.0 and 1.1 (`TLS-VER-02`).
    pub legacy: bool,
}

impl VersionQuestions {
    pub const ALL: VersionQuestions = VersionQuestions { current: true, legacy: true };
}

/// Probes one endpoint: the rustls handshake, then, if it gave no chain, a
/// cleartext TLS ≤ 1.2 handshake for the certificate, and the versions
/// `asked`.
pub async fn probe(endpoint: Endpoint, budget: Budget, asked: VersionQuestions) -> TlsFact {
    probe_then(endpoint, budget, asked, |_, _| async { None::<()> }).await.0
}

/// [`probe`], and `then` on the connection its handshake established (or
/// with `None` when it established none), at the same time as the version
/// probes: SIP OPTIONS on the same connection, one connection and one
/// handshake fewer.
///
/// Every connection answers a question a selected rule asks: the TLS 1.0
/// and 1.1 hellos start with the handshake (they need nothing from it) and
/// only when asked; the handshake, which offers TLS 1.3 and 1.2, settles
/// the version it negotiates and, when that is 1.2, that 1.3 is refused;
/// a TLS 1.2 hello follows only a TLS 1.3 handshake. A handshake that
/// established nothing is followed by every probe, for the certificate
/// and for the verdict on why.
pub async fn probe_then<T, F, Fut>(
    endpoint: Endpoint,
    budget: Budget,
    asked: VersionQuestions,
    then: F,
) -> (TlsFact, Option<T>)
where
    F: FnOnce(Option<Established>, Option<ClientAuthRequest>) -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let legacy_hellos = || async {
        tokio::join!(
            legacy::hello(&endpoint, TlsVersion::Tls10.wire(), budget),
            legacy::hello(&endpoint, TlsVersion::Tls11.wire(), budget),
        )
    };
    let early_legacy = async {
        match asked.legacy {
            true => Some(legacy_hellos().await),
            false => None,
        }
    };
    let handshake_and_after = async {
        let (outcome, recorded, established) =
            handshake(&endpoint, budget, &[&rustls::version::TLS13, &rustls::version::TLS12]).await;
        let fact = TlsFact {
            endpoint: endpoint.clone(),
            outcome,
            chain: recorded.chain.iter().map(|c| encode_der(c)).collect(),
            chain_source: (!recorded.chain.is_empty()).then_some(ChainSource::Handshake),
            client_auth: recorded.client_auth.map(|ca_names| ClientAuthRequest { ca_names }),
            versions: Vec::new(),
            partner: None,
        };
        let after = then(established, fact.client_auth.clone());
        let negotiated = match &fact.outcome {
            TlsOutcome::Established { version, .. } => Some(*version),
            _ => None,
        };
        let unreachable = fact.outcome.unreached();
        // A handshake refused before the chain leaves the certificate to
        // the hellos; one refused at all leaves the verdict to them.
        let fallback = !unreachable && negotiated.is_none() && (asked.current || fact.chain.is_empty());
        let late_legacy = async {
            match fallback && !asked.legacy {
                true => Some(legacy_hellos().await),
                false => None,
            }
        };
        let tls12_hello = async {
            match negotiated {
                Some(TlsVersion::Tls13) if asked.current => {
                    Some(legacy::hello(&endpoint, TlsVersion::Tls12.wire(), budget).await)
                }
                _ if fallback => Some(legacy::hello(&endpoint, TlsVersion::Tls12.wire(), budget).await),
                _ => None,
            }
        };
        let tls13_handshake = async {
            match fallback {
                true => Some(handshake(&endpoint, budget, &[&rustls::version::TLS13]).await.0),
                false => None,
            }
        };
        // `then` first: OPTIONS is on the way to the scan's end, the hellos
        // beside it are not (join! polls in the order written).
        let (after, late_legacy, tls12, tls13) = tokio::join!(after, late_legacy, tls12_hello, tls13_handshake);
        let answers = Answers { negotiated, fallback, late_legacy, tls12, tls13 };
        (fact, (!unreachable).then_some(answers), after)
    };
    // At once, so that an Edge slow to answer one of them costs one timeout,
    // not four; the handshake's hello sent before the legacy ones.
    let ((mut fact, answers, after), early_legacy) = tokio::join!(handshake_and_after, early_legacy);
    let Some(Answers { negotiated, fallback, late_legacy, tls12, tls13 }) = answers else {
        return (fact, after);
    };
    let settled =
        |version: TlsVersion| legacy::Answer { accepted: Some(negotiated == Some(version)), chain: Vec::new() };
    let mut answers = Vec::new();
    if let Some((tls10, tls11)) = early_legacy.or(late_legacy) {
        answers.extend([(TlsVersion::Tls10, tls10), (TlsVersion::Tls11, tls11)]);
    }
    if asked.current || fallback {
        answers.push((TlsVersion::Tls12, tls12.unwrap_or_else(|| settled(TlsVersion::Tls12))));
    }
    for (version, answer) in answers {
        if fact.chain.is_empty() && !answer.chain.is_empty() {
            fact.chain = answer.chain.iter().map(|c| encode_der(c)).collect();
            fact.chain_source = Some(ChainSource::Legacy);
        }
        fact.versions.push(VersionSupport { version, accepted: answer.accepted });
    }
    if asked.current || fallback {
        let tls13 = match tls13 {
            // A handshake offering TLS 1.3 and 1.2 that settled either
            // answers for 1.3.
            None => Some(negotiated == Some(TlsVersion::Tls13)),
            Some(TlsOutcome::Established { .. } | TlsOutcome::ClientCertificateRequired { .. }) => Some(true),
            Some(TlsOutcome::Rejected { .. }) => Some(false),
            // Too large to tell, timed out, failed: no conclusive answer.
            Some(_) => None,
        };
        fact.versions.push(VersionSupport { version: TlsVersion::Tls13, accepted: tls13 });
    }
    (fact, after)
}

/// What the probes after the handshake found.
struct Answers {
    negotiated: Option<TlsVersion>,
    fallback: bool,
    late_legacy: Option<(legacy::Answer, legacy::Answer)>,
    tls12: Option<legacy::Answer>,
    tls13: Option<TlsOutcome>,
}

pub mod legacy {
    //! A TLS ≤ 1.2 ClientHello of our own, offering the suites old Edges use
    //! (RSA key exchange, CBC, 3DES) as well as modern ones, and a reader for
    //! the cleartext ServerHello and Certificate messages that come back.
    //! Reads are bounded in size and time: a hostile server costs at most the
    //! timeout and 256 KiB.

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::{Budget, Endpoint, connect};

    const MAX_READ: usize = 256 * 1024;

    const SUITES: [u16; 22] = [
        0xc02f, 0xc030, 0xc02b, 0xc02c, 0xcca8, 0xcca9, 0xc013, 0xc014, 0xc009, 0xc00a, 0xc027, 0xc028, 0x009c, 0x009d,
        0x003c, 0x003d, 0x002f, 0x0035, 0x0033, 0x0039, 0x000a, 0x0005,
    ];

    /// What a server answered to our ClientHello.
    #[derive(Debug, Default)]
    pub struct Answer {
        /// Whether it agreed to the offered version (`None`: no conclusive answer).
        pub accepted: Option<bool>,
        pub chain: Vec<Vec<u8>>,
    }

    fn u16be(v: u16) -> [u8; 2] {
        v.to_be_bytes()
    }

    fn with_len16(body: Vec<u8>) -> Vec<u8> {
        let mut out = u16be(body.len() as u16).to_vec();
        out.extend(body);
        out
    }

    fn extension(kind: u16, body: Vec<u8>) -> Vec<u8> {
        let mut out = u16be(kind).to_vec();
        out.extend(with_len16(body));
        out
    }

    pub fn client_hello(host: &str, version: u16) -> Vec<u8> {
        let mut hello = u16be(version).to_vec();
        hello.extend((0u8..32).map(|i| i.wrapping_mul(37).wrapping_add(11)));
        hello.push(0); // no session id
        hello.extend(with_len16(SUITES.iter().flat_map(|s| u16be(*s)).collect()));
        hello.extend([1, 0]); // compression: null
        let mut extensions = Vec::new();
        if !host.is_empty() && host.parse::<std::net::IpAddr>().is_err() {
            let mut name = vec![0u8];
            name.extend(with_len16(host.as_bytes().to_vec()));
            extensions.extend(extension(0x0000, with_len16(name)));
        }
        extensions.extend(extension(
            0x000a,
            with_len16([0x001d, 0x0017, 0x0018, 0x0019].iter().flat_map(|g| u16be(*g)).collect()),
        ));
        extensions.extend(extension(0x000b, vec![1, 0]));
        let schemes: [u16; 12] =
            [0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201, 0x0203, 0x0202];
        extensions.extend(extension(0x000d, with_len16(schemes.iter().flat_map(|s| u16be(*s)).collect())));
        extensions.extend(extension(0xff01, vec![0]));
        hello.extend(with_len16(extensions));
        let mut handshake = vec![1u8];
        handshake.extend(&(hello.len() as u32).to_be_bytes()[1..]);
        handshake.extend(hello);
        let mut record = vec![0x16, 0x03, 0x01];
        record.extend(with_len16(handshake));
        record
    }

    /// Reads handshake messages out of a stream of records.
    #[derive(Default)]
    pub struct Reader {
        handshake: Vec<u8>,
        pub server_version: Option<u16>,
        pub alert: Option<u8>,
        pub chain: Option<Vec<Vec<u8>>>,
        pub done: bool,
    }

    impl Reader {
        /// Feeds bytes; returns how many were consumed (whole records only).
        pub fn feed(&mut self, bytes: &[u8]) -> usize {
            let mut used = 0;
            while bytes.len() - used >= 5 && !self.done {
                let kind = bytes[used];
                // Not a TLS record header: the peer speaks something else.
                if !(20..=23).contains(&kind) || bytes[used + 1] != 3 {
                    self.done = true;
                    break;
                }
                let length = u16::from_be_bytes([bytes[used + 3], bytes[used + 4]]) as usize;
                if bytes.len() - used - 5 < length {
                    break;
                }
                let body = &bytes[used + 5..used + 5 + length];
                match kind {
                    0x16 => {
                        self.handshake.extend_from_slice(body);
                        self.messages();
                        // A message larger than a read is allowed to be is
                        // not waited for.
                        if self.handshake.len() > MAX_READ {
                            self.done = true;
                        }
                    }
                    0x15 => {
                        self.alert = body.get(1).copied();
                        self.done = true;
                    }
                    // Anything else before the certificate: not TLS, or encrypted.
                    _ => self.done = true,
                }
                used += 5 + length;
            }
            used
        }

        fn messages(&mut self) {
            while self.handshake.len() >= 4 {
                let kind = self.handshake[0];
                let length = u32::from_be_bytes([0, self.handshake[1], self.handshake[2], self.handshake[3]]) as usize;
                if self.handshake.len() - 4 < length {
                    return;
                }
                let body: Vec<u8> = self.handshake[4..4 + length].to_vec();
                self.handshake.drain(..4 + length);
                match kind {
                    2 if body.len() >= 2 => self.server_version = Some(u16::from_be_bytes([body[0], body[1]])),
                    11 => {
                        self.chain = Some(certificates(&body));
                        self.done = true;
                    }
                    14 => self.done = true,
                    _ => {}
                }
            }
        }
    }

    /// The certificates of a TLS ≤ 1.2 Certificate message.
    fn certificates(body: &[u8]) -> Vec<Vec<u8>> {
        let mut chain = Vec::new();
        let mut at = 3;
        while at + 3 <= body.len() {
            let length = u32::from_be_bytes([0, body[at], body[at + 1], body[at + 2]]) as usize;
            at += 3;
            if at + length > body.len() {
                break;
            }
            chain.push(body[at..at + length].to_vec());
            at += length;
        }
        chain
    }

    pub async fn hello(endpoint: &Endpoint, version: u16, budget: Budget) -> Answer {
        let Ok(mut stream) = connect(endpoint, budget).await else { return Answer::default() };
        let exchange = async {
            stream.write_all(&client_hello(&endpoint.host, version)).await.ok()?;
            let mut reader = Reader::default();
            // On the heap, not in the future: a probe runs several of these
            // at once.
            let mut buffer = Vec::with_capacity(16 * 1024);
            // What was read in all, not what waits in the buffer: a server
            // may stream one endless handshake message record by record.
            let mut read = 0;
            while !reader.done && read < MAX_READ {
                buffer.reserve(16 * 1024);
                let n = (&mut stream).take(16 * 1024).read_buf(&mut buffer).await.ok()?;
                if n == 0 {
                    break;
                }
                read += n;
                let used = reader.feed(&buffer);
                buffer.drain(..used);
            }
            Some(reader)
        };
        let Ok(Some(reader)) = tokio::time::timeout_at(budget.step_ends(), exchange).await else {
            return Answer::default();
        };
        let accepted = match (reader.server_version, reader.alert) {
            (Some(v), _) => Some(v == version),
            (None, Some(_)) => Some(false),
            (None, None) => None,
        };
        Answer { accepted, chain: if accepted == Some(true) { reader.chain.unwrap_or_default() } else { Vec::new() } }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn reads_fragmented_records_and_bounds() {
            let cert = vec![0x30, 0x03, 1, 2, 3];
            let mut certificate = vec![0, 0, 8, 0, 0, 5];
            certificate.extend(&cert);
            let mut handshake = vec![2, 0, 0, 2, 0x03, 0x03, 11, 0, 0, certificate.len() as u8];
            handshake.extend(&certificate);
            // Split the handshake across two records.
            let (a, b) = handshake.split_at(7);
            let mut stream = vec![0x16, 3, 3, 0, a.len() as u8];
            stream.extend(a);
            stream.extend([0x16, 3, 3, 0, b.len() as u8]);
            stream.extend(b);
            let mut reader = Reader::default();
            assert_eq!(reader.feed(&stream[..9]), 0, "a partial record waits");
            assert_eq!(reader.feed(&stream), stream.len());
            assert_eq!(reader.server_version, Some(0x0303));
            assert_eq!(reader.chain, Some(vec![cert]));
            // Garbage ends the read instead of looping.
            let mut junk = Reader::default();
            junk.feed(b"SIP/2.0 400 Bad Request\r\n");
            assert!(junk.done);
        }

        #[test]
        fn an_endless_handshake_message_is_given_up() {
            let mut reader = Reader::default();
            // A Certificate message announced as 16 MiB, fed record by record.
            let first = [0x16, 3, 3, 0, 4, 11, 0xff, 0xff, 0xff];
            assert_eq!(reader.feed(&first), first.len());
            let body = vec![0x30u8; 16 * 1024];
            let mut record = vec![0x16, 3, 3, 0x40, 0];
            record.extend(&body);
            let mut fed = 0;
            while !reader.done {
                fed += reader.feed(&record);
                assert!(fed <= MAX_READ + record.len(), "the reader kept waiting");
            }
            assert_eq!(reader.chain, None);
        }

        #[test]
        fn hello_is_well_formed() {
            let hello = client_hello("sip.contoso.com", 0x0301);
            assert_eq!(&hello[..3], &[0x16, 0x03, 0x01]);
            assert_eq!(u16::from_be_bytes([hello[3], hello[4]]) as usize, hello.len() - 5);
            assert_eq!(hello[5], 1);
            assert_eq!(&hello[9..11], &[0x03, 0x01]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connect that failed for this machine's own reasons is no verdict on
    /// the peer: an error, never a refused or failed Edge.
    #[test]
    fn local_connect_failures_are_not_the_peers() {
        let failure = |code| ConnectFailure::of(std::io::Error::from_raw_os_error(code));
        for local in [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::EADDRNOTAVAIL, libc::ENETUNREACH] {
            let outcome = TlsOutcome::from(failure(local));
            assert!(matches!(outcome, TlsOutcome::Unobserved { .. }), "{local}: {outcome:?}");
        }
        assert_eq!(TlsOutcome::from(failure(libc::ECONNREFUSED)), TlsOutcome::Refused);
        assert!(matches!(TlsOutcome::from(failure(libc::ECONNRESET)), TlsOutcome::Failed { .. }));
    }
}

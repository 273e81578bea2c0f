//! SIP-over-TLS responders on loopback (tokio-rustls, a certificate from
//! [`super::tls::Pki`]) for what the OPTIONS probe must survive: a given
//! answer to every request, silence, an endless head, and a connection
//! closed right after the handshake. Each responder records what it saw and
//! is stopped when its handle is dropped (also when the test fails).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::PrivateKeyDer;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

use super::tls::Leaf;

/// The most a responder reads of one request head: the probe's OPTIONS is
/// well under 1 KiB.
const MAX_REQUEST: usize = 64 * 1024;

/// The send buffer of each connection (the kernel may round it).
const SEND_BUFFER: u32 = 64 * 1024;

/// How a responder behaves once a TLS handshake is done.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Reads each request and answers it with these bytes, as they are but
    /// for `{call-id}`, replaced by the request's Call-ID.
    Answer(Vec<u8>),
    /// Reads every request and never answers; holds the connection until
    /// the client closes it.
    Silent,
    /// Reads the request, then streams a status line and header lines, `total`
    /// bytes in all, never the blank line that ends a head; stops when the
    /// client goes away.
    Flood { total: usize },
    /// Closes the connection (close_notify, then the socket) right after the
    /// handshake, reading nothing.
    CloseAfterHandshake,
    /// Reads the request, then ends the connection with this fatal TLS
    /// alert (40 handshake_failure, 42 bad_certificate), encrypted as the
    /// record layer requires, although it never asked for a client
    /// certificate.
    AlertAfterRequest { description: u8 },
    /// Completes one handshake (the TLS probe's) and holds it; resets every
    /// later connection (the OPTIONS one) as soon as it is accepted.
    ResetAfterFirstHandshake,
    /// Waits `delay` before each handshake and before each answer (200 OK):
    /// every step in time, all of them together slow.
    Slow { delay: Duration },
}

/// How a flood ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloodEnd {
    /// Every byte was written: the client kept reading.
    Finished,
    /// A write failed after `sent` bytes: the client went away.
    ClientGone { sent: usize },
}

/// What a responder saw.
#[derive(Default)]
pub struct Seen {
    handshakes: AtomicUsize,
    requests: Mutex<Vec<String>>,
    flood_sent: AtomicUsize,
    flood_ends: Mutex<Vec<FloodEnd>>,
}

pub struct SipServer {
    pub addr: SocketAddr,
    seen: Arc<Seen>,
    runtime: Option<Runtime>,
}

/// Where a head ends (after its blank line), if it has.
fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// The value of a request's Content-Length (or `l`) header.
fn content_length(head: &str) -> usize {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length") || name.trim().eq_ignore_ascii_case("l"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

/// `answer` with each `{call-id}` replaced by the Call-ID of `request`.
fn with_call_id(answer: &[u8], request: &str) -> Vec<u8> {
    const PLACE: &[u8] = b"{call-id}";
    let call_id =
        request.lines().find_map(|l| l.strip_prefix("Call-ID:")).map(str::trim).unwrap_or_default().as_bytes();
    let mut out = Vec::with_capacity(answer.len());
    let mut rest = answer;
    while let Some(at) = rest.windows(PLACE.len()).position(|w| w == PLACE) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(call_id);
        rest = &rest[at + PLACE.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// Reads the next request (its head and body); `None` when the client closed
/// the connection, failed, or sent more than [`MAX_REQUEST`] without ending
/// a head. `pending` keeps bytes read past the request.
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S, pending: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = head_end(pending) {
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            let total = end + content_length(&head);
            while pending.len() < total {
                let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
                pending.extend_from_slice(&chunk[..n]);
            }
            pending.drain(..total);
            return Some(head);
        }
        if pending.len() > MAX_REQUEST {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        pending.extend_from_slice(&chunk[..n]);
    }
}

/// A fatal alert as the next record the server sends on `connection`,
/// sealed with its ChaCha20-Poly1305 traffic key (RFC 8446 §5.2 for TLS 1.3,
/// RFC 7905 for TLS 1.2).
fn alert_record(connection: rustls::ServerConnection, description: u8) -> Vec<u8> {
    use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
    let tls13 = connection.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3);
    let secrets = connection.dangerous_extract_secrets().unwrap();
    let (seq, rustls::ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv }) = secrets.tx else {
        panic!("the responder speaks ChaCha20-Poly1305 only")
    };
    let key = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, key.as_ref()).unwrap());
    let mut nonce: [u8; 12] = iv.as_ref().try_into().unwrap();
    for (byte, seq_byte) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
        *byte ^= seq_byte;
    }
    let nonce = Nonce::assume_unique_for_key(nonce);
    if tls13 {
        // The inner plaintext ends with its real content type, alert (21).
        let mut body = vec![2, description, 21];
        let header = [23, 3, 3, 0, (body.len() + 16) as u8];
        key.seal_in_place_append_tag(nonce, Aad::from(header), &mut body).unwrap();
        [header.as_slice(), &body].concat()
    } else {
        let mut body = vec![2, description];
        let mut aad = seq.to_be_bytes().to_vec();
        aad.extend([21, 3, 3, 0, 2]);
        key.seal_in_place_append_tag(nonce, Aad::from(aad), &mut body).unwrap();
        [[21, 3, 3, 0, body.len() as u8].as_slice(), &body].concat()
    }
}

/// Header lines for a flood, `size` bytes of them (whole lines, none empty).
fn flood_chunk(size: usize) -> Vec<u8> {
    let line = format!("X-Flood: {}\r\n", "a".repeat(118));
    line.as_bytes().iter().copied().cycle().take(size / line.len() * line.len()).collect()
}

impl SipServer {
    pub fn start(leaf: &Leaf, behaviour: Behaviour) -> SipServer {
        Self::start_with(leaf, behaviour, &[&rustls::version::TLS13, &rustls::version::TLS12], None)
    }

    /// A responder that speaks TLS 1.2 only.
    pub fn start_tls12(leaf: &Leaf, behaviour: Behaviour) -> SipServer {
        Self::start_with(leaf, behaviour, &[&rustls::version::TLS12], None)
    }

    /// A responder that asks for a client certificate from `ca`'s root but
    /// goes on without one.
    pub fn start_asking_for_client_certificate(leaf: &Leaf, ca: &super::tls::Pki, behaviour: Behaviour) -> SipServer {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.root.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .allow_unauthenticated()
            .build()
            .unwrap();
        Self::start_with(leaf, behaviour, &[&rustls::version::TLS13, &rustls::version::TLS12], Some(verifier))
    }

    fn start_with(
        leaf: &Leaf,
        behaviour: Behaviour,
        versions: &[&'static rustls::SupportedProtocolVersion],
        client_verifier: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
    ) -> SipServer {
        let mut provider = rustls::crypto::ring::default_provider();
        if let Behaviour::AlertAfterRequest { .. } = behaviour {
            // ChaCha20-Poly1305 only: its record nonce is the same in TLS 1.2
            // and 1.3, which keeps the alert's encryption below short.
            provider.cipher_suites.retain(|s| {
                matches!(
                    s.suite(),
                    rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
                        | rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                        | rustls::CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
                )
            });
        }
        let builder =
            rustls::ServerConfig::builder_with_provider(Arc::new(provider)).with_protocol_versions(versions).unwrap();
        let builder = match client_verifier {
            Some(verifier) => builder.with_client_cert_verifier(verifier),
            None => builder.with_no_client_auth(),
        };
        let mut config =
            builder.with_single_cert(leaf.chain.clone(), PrivateKeyDer::Pkcs8(leaf.key.clone_key())).unwrap();
        config.enable_secret_extraction = true;
        config.send_tls13_tickets = 0;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let seen = Arc::new(Seen::default());
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let addr = runtime.block_on(async {
            // A small send buffer (inherited by accepted sockets), so what a
            // flood has written is close to what the client took in.
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.set_send_buffer_size(SEND_BUFFER).unwrap();
            socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let listener = socket.listen(64).unwrap();
            let addr = listener.local_addr().unwrap();
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (acceptor, behaviour, seen) = (acceptor.clone(), behaviour.clone(), Arc::clone(&seen));
                    tokio::spawn(async move {
                        if let Behaviour::ResetAfterFirstHandshake = behaviour
                            && seen.handshakes.load(Ordering::SeqCst) > 0
                        {
                            let _ = stream.set_zero_linger();
                            return;
                        }
                        if let Behaviour::Slow { delay } = behaviour {
                            tokio::time::sleep(delay).await;
                        }
                        // The scanner's legacy hellos and refused versions end here.
                        let Ok(mut tls) = acceptor.accept(stream).await else { return };
                        seen.handshakes.fetch_add(1, Ordering::SeqCst);
                        let mut pending = Vec::new();
                        match behaviour {
                            Behaviour::CloseAfterHandshake => {
                                let _ = tls.shutdown().await;
                            }
                            Behaviour::Slow { delay } => {
                                while let Some(request) = read_request(&mut tls, &mut pending).await {
                                    seen.requests.lock().unwrap().push(request);
                                    tokio::time::sleep(delay).await;
                                    let answer = b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n";
                                    if tls.write_all(answer).await.is_err() || tls.flush().await.is_err() {
                                        return;
                                    }
                                }
                            }
                            Behaviour::ResetAfterFirstHandshake => {
                                let mut sink = [0u8; 1024];
                                while matches!(tls.read(&mut sink).await, Ok(n) if n > 0) {}
                            }
                            Behaviour::AlertAfterRequest { description } => {
                                // Connections that send no request (the TLS
                                // probe's) get nothing.
                                let Some(request) = read_request(&mut tls, &mut pending).await else { return };
                                seen.requests.lock().unwrap().push(request);
                                let _ = tls.flush().await;
                                let (mut tcp, connection) = tls.into_inner();
                                let record = alert_record(connection, description);
                                let _ = tcp.write_all(&record).await;
                                let _ = tcp.flush().await;
                                let mut sink = [0u8; 1024];
                                while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
                            }
                            Behaviour::Answer(bytes) => {
                                while let Some(request) = read_request(&mut tls, &mut pending).await {
                                    let answer = with_call_id(&bytes, &request);
                                    seen.requests.lock().unwrap().push(request);
                                    if tls.write_all(&answer).await.is_err() || tls.flush().await.is_err() {
                                        return;
                                    }
                                }
                            }
                            Behaviour::Silent => {
                                while let Some(request) = read_request(&mut tls, &mut pending).await {
                                    seen.requests.lock().unwrap().push(request);
                                }
                            }
                            Behaviour::Flood { total } => {
                                // Connections that send no request (the TLS
                                // probe's) get nothing.
                                let Some(request) = read_request(&mut tls, &mut pending).await else { return };
                                seen.requests.lock().unwrap().push(request);
                                let status = b"SIP/2.0 200 OK\r\n";
                                let chunk = flood_chunk(16 * 1024);
                                let mut sent = 0;
                                let mut end = FloodEnd::Finished;
                                while sent < total {
                                    let piece: &[u8] =
                                        if sent == 0 { status } else { &chunk[..chunk.len().min(total - sent)] };
                                    if tls.write_all(piece).await.is_err() || tls.flush().await.is_err() {
                                        end = FloodEnd::ClientGone { sent };
                                        break;
                                    }
                                    sent += piece.len();
                                    seen.flood_sent.store(sent, Ordering::SeqCst);
                                }
                                seen.flood_ends.lock().unwrap().push(end);
                                if end == FloodEnd::Finished {
                                    // Hold, as a server still "sending" would.
                                    let mut sink = [0u8; 1024];
                                    while matches!(tls.read(&mut sink).await, Ok(n) if n > 0) {}
                                }
                            }
                        }
                    });
                }
            });
            addr
        });
        SipServer { addr, seen, runtime: Some(runtime) }
    }

    /// TLS handshakes completed so far.
    pub fn handshakes(&self) -> usize {
        self.seen.handshakes.load(Ordering::SeqCst)
    }

    /// The request heads received so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.seen.requests.lock().unwrap().clone()
    }

    /// Bytes a flood has written so far (on its latest connection).
    pub fn flood_sent(&self) -> usize {
        self.seen.flood_sent.load(Ordering::SeqCst)
    }

    /// How the floods ended, waiting up to `wait` for at least one to end.
    pub fn flood_ends(&self, wait: Duration) -> Vec<FloodEnd> {
        let deadline = Instant::now() + wait;
        loop {
            let ends = self.seen.flood_ends.lock().unwrap().clone();
            if !ends.is_empty() || Instant::now() >= deadline {
                return ends;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SipServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

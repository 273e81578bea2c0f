//! DNS peers: an authoritative hickory-server with zones written by the
//! test, and small hostile responders for what no real server does on
//! purpose (SERVFAIL, REFUSED, silence, truncation, CNAME loops).

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, SRV};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use tokio::runtime::Runtime;

/// Binds a UDP socket and a TCP listener on the same free loopback port.
async fn bind_pair() -> (tokio::net::UdpSocket, tokio::net::TcpListener, SocketAddr) {
    for _ in 0..50 {
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("bind UDP");
        let addr = udp.local_addr().unwrap();
        if let Ok(tcp) = tokio::net::TcpListener::bind(addr).await {
            return (udp, tcp, addr);
        }
    }
    panic!("no loopback port free for both UDP and TCP");
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// An authoritative server for the given zones (origin, zone text).
pub struct DnsServer {
    pub addr: SocketAddr,
    runtime: Option<Runtime>,
}

impl DnsServer {
    pub fn start(zones: &[(&str, &str)]) -> DnsServer {
        let runtime = runtime();
        let addr = runtime.block_on(async {
            let mut catalog = Catalog::new();
            for (origin, text) in zones {
                let named = Name::from_str(origin).unwrap();
                let (origin, records) =
                    Parser::new(*text, None, Some(named)).parse().unwrap_or_else(|e| panic!("zone {origin}: {e}"));
                let zone = InMemoryZoneHandler::<hickory_server::net::runtime::TokioRuntimeProvider>::new(
                    origin.clone(),
                    records,
                    ZoneType::Primary,
                    AxfrPolicy::Deny,
                )
                .unwrap_or_else(|e| panic!("zone {origin}: {e}"));
                catalog.upsert(LowerName::new(&origin), vec![Arc::new(zone)]);
            }
            let (udp, tcp, addr) = bind_pair().await;
            let mut server = Server::new(catalog);
            server.register_socket(udp);
            server.register_listener(tcp, Duration::from_secs(5), 64 * 1024);
            // The server's tasks live on the runtime; dropping the runtime
            // stops them.
            std::mem::forget(server);
            addr
        });
        DnsServer { addr, runtime: Some(runtime) }
    }

    pub fn resolver_arg(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// How a hostile responder answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    ServFail,
    Refused,
    /// Reads every query and never answers.
    Silent,
    /// Answers over UDP with the TC bit and no records; over TCP, fully: an
    /// SRV record to `sip.<domain>` and its address.
    Truncating,
    /// `A` for any name under `loop.test` is a CNAME to the other of
    /// `a.loop.test` and `b.loop.test`.
    CnameLoop,
    /// A federation zone for any domain (its SRV record to `sip.<domain>`
    /// on `port`, and `sip.<domain>` on 127.0.0.1, IPv4 only) whose every
    /// answer also carries records of names nobody asked about:
    /// `_sipfederationtls._tcp.evil.example` SRV, `ghost.example` AAAA and
    /// `unrelated.example` A 127.0.0.77.
    ForeignRecords {
        port: u16,
    },
    /// A federation SRV set of 40 records on `port`: 39 of priority 20
    /// (`b0.<domain>` …) listed first, then the one partners try first,
    /// `sip.<domain>` at priority 0, last. Every name is 127.0.0.1.
    LowPriorityFirst {
        port: u16,
    },
    /// The federation SRV record points at a target whose first label holds
    /// terminal escapes, an OSC 8 link, BEL, BS, DEL and a line feed; every
    /// other question gets SERVFAIL.
    HostileTarget,
    /// A federation zone for any domain (its SRV record to `edge.<domain>`
    /// on `port`, `edge.<domain>` on 127.0.0.1, nothing else: the target's
    /// address can only be asked once the SRV answer is in), every answer
    /// sent `delay_ms` after its question: a resolver one round trip away.
    Delayed {
        port: u16,
        delay_ms: u64,
    },
    /// Every response says NXDOMAIN yet carries the federation zone's answer
    /// (the SRV record to `sip.<domain>` on `port`, `sip.<domain>` on
    /// 127.0.0.1): a message that contradicts itself.
    NxDomainWithAnswer {
        port: u16,
    },
}

pub struct Responder {
    pub addr: SocketAddr,
    runtime: Option<Runtime>,
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn reply(query: &Message, behaviour: Behaviour, over_tcp: bool) -> Option<Message> {
    let mut response = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
    response.metadata.recursion_desired = query.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.add_queries(query.queries.iter().cloned());
    let question = query.queries.first()?;
    let name = question.name().clone();
    match behaviour {
        Behaviour::Silent => return None,
        Behaviour::ServFail => response.metadata.response_code = ResponseCode::ServFail,
        Behaviour::Refused => response.metadata.response_code = ResponseCode::Refused,
        Behaviour::Truncating if !over_tcp => response.metadata.truncation = true,
        Behaviour::Truncating => match question.query_type() {
            RecordType::SRV => {
                let domain = name.trim_to(name.num_labels() as usize - 2);
                let target = Name::from_str("sip").unwrap().append_domain(&domain).unwrap();
                response.add_answer(Record::from_rdata(name, 300, RData::SRV(SRV::new(0, 0, 5061, target))));
            }
            RecordType::A => {
                response.add_answer(Record::from_rdata(name, 300, RData::A(A::new(198, 51, 100, 7))));
            }
            _ => {}
        },
        Behaviour::ForeignRecords { port } => {
            let labels = name.num_labels() as usize;
            match question.query_type() {
                RecordType::SRV => {
                    let domain = name.trim_to(labels - 2);
                    let target = Name::from_str("sip").unwrap().append_domain(&domain).unwrap();
                    response.add_answer(Record::from_rdata(name, 300, RData::SRV(SRV::new(0, 0, port, target))));
                }
                RecordType::A if name.to_ascii().starts_with("sip.") => {
                    response.add_answer(Record::from_rdata(name, 300, RData::A(A::new(127, 0, 0, 1))));
                }
                _ => {}
            }
            let evil = Name::from_str("_sipfederationtls._tcp.evil.example.").unwrap();
            let evil_target = Name::from_str("sip.evil.example.").unwrap();
            response.add_answer(Record::from_rdata(evil, 300, RData::SRV(SRV::new(0, 0, port, evil_target))));
            let ghost = Name::from_str("ghost.example.").unwrap();
            response.add_answer(Record::from_rdata(ghost, 300, RData::AAAA(AAAA::new(0, 0, 0, 0, 0, 0, 0, 1))));
            let unrelated = Name::from_str("unrelated.example.").unwrap();
            response.add_answer(Record::from_rdata(unrelated, 300, RData::A(A::new(127, 0, 0, 77))));
        }
        Behaviour::NxDomainWithAnswer { port } => {
            response.metadata.response_code = ResponseCode::NXDomain;
            match question.query_type() {
                RecordType::SRV => {
                    let domain = name.trim_to(name.num_labels() as usize - 2);
                    let target = Name::from_str("sip").unwrap().append_domain(&domain).unwrap();
                    response.add_answer(Record::from_rdata(name, 300, RData::SRV(SRV::new(0, 0, port, target))));
                }
                RecordType::A if name.to_ascii().starts_with("sip.") => {
                    response.add_answer(Record::from_rdata(name, 300, RData::A(A::new(127, 0, 0, 1))));
                }
                _ => {}
            }
        }
        Behaviour::Delayed { port, .. } => match question.query_type() {
            RecordType::SRV => {
                let domain = name.trim_to(name.num_labels() as usize - 2);
                let target = Name::from_str("edge").unwrap().append_domain(&domain).unwrap();
                response.add_answer(Record::from_rdata(name, 300, RData::SRV(SRV::new(0, 0, port, target))));
            }
            RecordType::A if name.to_ascii().starts_with("edge.") => {
                response.add_answer(Record::from_rdata(name, 300, RData::A(A::new(127, 0, 0, 1))));
            }
            _ => {}
        },
        Behaviour::LowPriorityFirst { port } => match question.query_type() {
            RecordType::SRV => {
                let domain = name.trim_to(name.num_labels() as usize - 2);
                let host = |label: &str| Name::from_str(label).unwrap().append_domain(&domain).unwrap();
                for i in 0..39 {
                    let srv = SRV::new(20, 10, port, host(&format!("b{i}")));
                    response.add_answer(Record::from_rdata(name.clone(), 300, RData::SRV(srv)));
                }
                response.add_answer(Record::from_rdata(name, 300, RData::SRV(SRV::new(0, 10, port, host("sip")))));
            }
            RecordType::A => {
                response.add_answer(Record::from_rdata(name, 300, RData::A(A::new(127, 0, 0, 1))));
            }
            _ => {}
        },
        Behaviour::HostileTarget => match question.query_type() {
            RecordType::SRV => {
                let label: &[u8] = b"sip\x1b[31m\x1b]8;;http://evil.example\x07\x08\x7f\nOK";
                let target = Name::from_labels([label, b"contoso", b"com"]).unwrap();
                response.add_answer(Record::from_rdata(name, 300, RData::SRV(SRV::new(0, 0, 5061, target))));
            }
            _ => response.metadata.response_code = ResponseCode::ServFail,
        },
        Behaviour::CnameLoop => {
            let other = if name.to_ascii().starts_with("a.") { "b.loop.test." } else { "a.loop.test." };
            response.add_answer(Record::from_rdata(name, 60, RData::CNAME(CNAME(Name::from_str(other).unwrap()))));
        }
    }
    Some(response)
}

impl Responder {
    pub fn start(behaviour: Behaviour) -> Responder {
        let runtime = runtime();
        let addr = runtime.block_on(async {
            let (udp, tcp, addr) = bind_pair().await;
            let udp = std::sync::Arc::new(udp);
            let delay = match behaviour {
                Behaviour::Delayed { delay_ms, .. } => std::time::Duration::from_millis(delay_ms),
                _ => std::time::Duration::ZERO,
            };
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 4096];
                while let Ok((n, peer)) = udp.recv_from(&mut buffer).await {
                    let Ok(query) = Message::from_vec(&buffer[..n]) else { continue };
                    if let Some(mut response) = reply(&query, behaviour, false) {
                        // As a server without EDNS would: too long for UDP,
                        // the answer is truncated and asked again over TCP.
                        if response.to_vec().unwrap().len() > 512 {
                            response.answers.clear();
                            response.metadata.truncation = true;
                        }
                        let bytes = response.to_vec().unwrap();
                        if delay.is_zero() {
                            let _ = udp.send_to(&bytes, peer).await;
                        } else {
                            let udp = std::sync::Arc::clone(&udp);
                            let due = std::time::Instant::now() + delay;
                            tokio::spawn(async move {
                                super::sleep_until_exactly(due).await;
                                let _ = udp.send_to(&bytes, peer).await;
                            });
                        }
                    }
                }
            });
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                while let Ok((mut stream, _)) = tcp.accept().await {
                    tokio::spawn(async move {
                        loop {
                            let mut length = [0u8; 2];
                            if stream.read_exact(&mut length).await.is_err() {
                                return;
                            }
                            let mut body = vec![0u8; u16::from_be_bytes(length) as usize];
                            if stream.read_exact(&mut body).await.is_err() {
                                return;
                            }
                            let Ok(query) = Message::from_vec(&body) else { return };
                            let Some(response) = reply(&query, behaviour, true) else { continue };
                            let bytes = response.to_vec().unwrap();
                            let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
                            framed.extend(bytes);
                            if stream.write_all(&framed).await.is_err() {
                                return;
                            }
                        }
                    });
                }
            });
            addr
        });
        Responder { addr, runtime: Some(runtime) }
    }
}

/// A zone file's text with a standard SOA and NS for `origin`.
pub fn zone(origin: &str, body: &str) -> String {
    format!(
        "$ORIGIN {origin}.\n$TTL 3600\n@ IN SOA ns1.{origin}. hostmaster.{origin}. ( 2026010101 3600 600 86400 300 )\n@ IN NS ns1.{origin}.\nns1 IN A 192.0.2.53\n{body}\n"
    )
}

/// The federation zone of `domain`: its SRV record pointing at
/// sip.`domain` on `port`, and sip.`domain` on 127.0.0.1.
pub fn federation_zone(domain: &str, port: u16) -> String {
    zone(domain, &format!("_sipfederationtls._tcp 300 IN SRV 0 0 {port} sip.{domain}.\nsip 300 IN A 127.0.0.1"))
}

/// Microsoft 365's hosts, as the tests' stand-in for the real zone.
pub fn microsoft_zone() -> String {
    zone("online.lync.com", "sipfed 300 IN A 52.112.0.1\nsipdir 300 IN A 52.112.0.2\nwebdir 300 IN A 52.112.0.3\n")
}

//! A fleet of real peers on loopback for `scripts/same-output.sh`: one DNS
//! server and the Edges its zones lead to, up until standard input closes,
//! so that two fedscan binaries can run the same live batch against them.
//!
//!   cargo run --example peer_fleet -- DIR
//!
//! Writes `DIR/domains.txt` and `DIR/root.pem`, then prints two lines,
//! `resolver=ADDRESS` and `edge=HOST:PORT` (hoster.test's Edge). The domains cover the paths a live batch takes: an
//! organization whose second domain federates through the first one's Edge
//! (grouped into one chunk), Edges answering OPTIONS with 200 and with a
//! refusal carrying ms-diagnostics, one whose certificate names another
//! host, one that closes after the handshake, an SRV target with a closed
//! port, one without an address, a domain without a federation record, and
//! one the server knows nothing of.

#[path = "../tests/all/peers/mod.rs"]
mod peers;

use std::io::Read;

use peers::dns::{DnsServer, federation_zone, zone};
use peers::sip::{Behaviour, SipServer};
use peers::tls::{LeafSpec, Pki};

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: peer_fleet DIR"));
    let pki = Pki::new("Fleet");
    let named =
        |host: &str| pki.leaf(&LeafSpec { common_name: host.into(), sans: vec![host.into()], ..LeafSpec::default() });
    let ok = b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    let refused = b"SIP/2.0 403 Forbidden\r\nms-diagnostics: 1034;reason=\"Previous hop federated peer did not report diagnostic information\";source=\"sip.refuses.test\"\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    let hoster = SipServer::start(&named("sip.hoster.test"), Behaviour::Answer(ok.clone()));
    let good: Vec<SipServer> =
        (0..4).map(|i| SipServer::start(&named(&format!("sip.ok{i}.test")), Behaviour::Answer(ok.clone()))).collect();
    let refuses = SipServer::start(&named("sip.refuses.test"), Behaviour::Answer(refused));
    let misnamed = SipServer::start(&named("edge.elsewhere.test"), Behaviour::Answer(ok));
    let closes = SipServer::start(&named("sip.closes.test"), Behaviour::CloseAfterHandshake);
    let closed_port = peers::free_port();

    let mut zones: Vec<(String, String)> = vec![
        ("hoster.test".into(), federation_zone("hoster.test", hoster.addr.port())),
        (
            "customer.test".into(),
            zone(
                "customer.test",
                &format!("_sipfederationtls._tcp 300 IN SRV 0 0 {} sip.hoster.test.", hoster.addr.port()),
            ),
        ),
        ("refuses.test".into(), federation_zone("refuses.test", refuses.addr.port())),
        ("misnamed.test".into(), federation_zone("misnamed.test", misnamed.addr.port())),
        ("closes.test".into(), federation_zone("closes.test", closes.addr.port())),
        ("shut.test".into(), federation_zone("shut.test", closed_port)),
        (
            "noaddress.test".into(),
            zone("noaddress.test", "_sipfederationtls._tcp 300 IN SRV 0 0 5061 sip.noaddress.test."),
        ),
        ("norecord.test".into(), zone("norecord.test", "www 300 IN A 127.0.0.1")),
    ];
    for (i, edge) in good.iter().enumerate() {
        let domain = format!("ok{i}.test");
        zones.push((domain.clone(), federation_zone(&domain, edge.addr.port())));
    }
    let pairs: Vec<(&str, &str)> = zones.iter().map(|(name, text)| (name.as_str(), text.as_str())).collect();
    let dns = DnsServer::start(&pairs);
    let mut domains: Vec<&str> = zones.iter().map(|(name, _)| name.as_str()).collect();
    domains.push("unknown.test");
    std::fs::write(dir.join("domains.txt"), domains.join("\n") + "\n").unwrap();
    pki.write_root(&dir);
    println!("resolver={}", dns.resolver_arg());
    println!("edge=sip.hoster.test:{}", hoster.addr.port());
    // Up until the script is done with them; dropping them stops them.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

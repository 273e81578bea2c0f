//! Kamailio with its TLS module: a real SIP server answering OPTIONS over
//! TLS, optionally requiring a client certificate. Started with a
//! configuration written by the test into a temporary directory, on a free
//! loopback port; stopped (its whole process group) when dropped.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::tls::Leaf;

pub struct Kamailio {
    pub addr: SocketAddr,
    process: super::Group,
    _dir: tempfile::TempDir,
}

fn kamailio() -> Option<PathBuf> {
    ["/usr/sbin/kamailio", "/usr/bin/kamailio", "/usr/local/sbin/kamailio"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn modules() -> Option<PathBuf> {
    [
        "/usr/lib/x86_64-linux-gnu/kamailio/modules",
        "/usr/lib/aarch64-linux-gnu/kamailio/modules",
        "/usr/lib/kamailio/modules",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.join("tls.so").exists())
}

impl Kamailio {
    /// Serves `leaf` on TLS; with `client_ca` (PEM), requires a client
    /// certificate issued by it. `None` (with a message) when Kamailio or its
    /// TLS module is not installed and the run is not under CI.
    pub fn start(leaf: &Leaf, client_ca: Option<&str>) -> Option<Kamailio> {
        Kamailio::start_with_method(leaf, client_ca, "TLSv1.2+")
    }

    /// As [`Kamailio::start`], with the TLS module's `method` (e.g.
    /// "TLSv1.2" for TLS 1.2 only).
    pub fn start_with_method(leaf: &Leaf, client_ca: Option<&str>, method: &str) -> Option<Kamailio> {
        Kamailio::serve(leaf, client_ca, method, &[std::net::Ipv4Addr::LOCALHOST], 1)
    }

    /// As [`Kamailio::start_with_method`], listening on the same free port
    /// of each of `addresses` (loopback ones) with `workers` TLS worker
    /// processes: a fleet of Edges in one server, for a benchmark.
    pub fn serve(
        leaf: &Leaf,
        client_ca: Option<&str>,
        method: &str,
        addresses: &[std::net::Ipv4Addr],
        workers: usize,
    ) -> Option<Kamailio> {
        let (Some(binary), Some(modules)) = (kamailio(), modules()) else {
            assert!(
                !super::required(),
                "kamailio and kamailio-tls-modules are not installed; scripts/test.sh installs them"
            );
            eprintln!("kamailio is not installed: the Kamailio tier did not run (scripts/test.sh installs it)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).display().to_string();
        std::fs::write(path("cert.pem"), leaf.chain_pem()).unwrap();
        std::fs::write(path("key.pem"), leaf.key_pem()).unwrap();
        let verify = match client_ca {
            Some(ca) => {
                std::fs::write(path("ca.pem"), ca).unwrap();
                format!("verify_certificate = yes\nrequire_certificate = yes\nca_list = {}\n", path("ca.pem"))
            }
            None => "verify_certificate = no\nrequire_certificate = no\n".to_string(),
        };
        std::fs::write(
            path("tls.cfg"),
            format!(
                "[server:default]\nmethod = {method}\n{verify}private_key = {key}\ncertificate = {cert}\n\n[client:default]\nverify_certificate = no\nrequire_certificate = no\n",
                key = path("key.pem"),
                cert = path("cert.pem"),
            ),
        )
        .unwrap();
        let port = super::free_port();
        let listen: String = addresses.iter().map(|a| format!("listen=tls:{a}:{port}\n")).collect();
        std::fs::write(
            path("kamailio.cfg"),
            format!(
                r#"#!KAMAILIO
debug=-2
log_stderror=yes
fork=yes
children=1
tcp_children={workers}
disable_tcp=no
enable_tls=yes
{listen}mpath="{modules}/"
loadmodule "tls.so"
loadmodule "sl.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "pv.so"
modparam("tls", "config", "{tls}")
request_route {{
    if (is_method("OPTIONS")) {{
        append_to_reply("Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, MESSAGE, SUBSCRIBE, NOTIFY, INFO\r\n");
        sl_send_reply("200", "OK");
        exit;
    }}
    sl_send_reply("405", "Method Not Allowed");
}}
"#,
                modules = modules.display(),
                tls = path("tls.cfg"),
            ),
        )
        .unwrap();
        let process = super::Group::spawn(
            Command::new(binary)
                .args(["-f", &path("kamailio.cfg"), "-DD", "-E", "-m", "64", "-M", "8", "-P", &path("kamailio.pid")])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .expect("start kamailio");
        let kamailio = Kamailio { addr: SocketAddr::from((addresses[0], port)), process, _dir: dir };
        let started = Instant::now();
        while TcpStream::connect_timeout(&kamailio.addr, Duration::from_millis(100)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "kamailio did not listen on {} within 15 s",
                kamailio.addr
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(kamailio)
    }
}

impl Kamailio {
    /// Its process group, to check that stopping it left nothing behind.
    pub fn group(&self) -> u32 {
        self.process.id()
    }
}

//! `openssl s_server`, for what rustls will not serve (TLS 1.0/1.1 only, RSA
//! key exchange only, RSA-1024 and SHA-1 certificates).
//!
//! The server binds 127.0.0.1 port 0 itself (`-accept 127.0.0.1:0`) and
//! reports the port the kernel gave it on its `ACCEPT` line, so there is no
//! window between picking a port and listening on it. Its output is kept for
//! assertion messages (what it made of each ClientHello).

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// At most this much of the server's output is kept.
const MAX_LOG: usize = 256 * 1024;

pub struct OpensslServer {
    pub addr: SocketAddr,
    process: super::Group,
    /// Held open and never written to: s_server reads commands from stdin
    /// and, at end of file, stops after the first connection.
    _stdin: ChildStdin,
    log: Arc<Mutex<String>>,
}

/// Whether the `openssl` command can be run.
fn installed() -> bool {
    Command::new("openssl")
        .arg("version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Copies a stream of the server into the log, line by line; the first
/// `ACCEPT host:port` line is also sent on `accept`.
fn drain(stream: impl Read + Send + 'static, log: Arc<Mutex<String>>, accept: Option<mpsc::Sender<String>>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        let mut accept = accept;
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line);
            if let Some(address) = text.trim().strip_prefix("ACCEPT ")
                && let Some(sender) = accept.take()
            {
                let _ = sender.send(address.to_string());
            }
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            if log.len() < MAX_LOG {
                log.push_str(&text);
            }
        }
    });
}

impl OpensslServer {
    /// Starts `openssl s_server` on 127.0.0.1 with the certificate and key
    /// and the extra arguments (protocol and cipher choices, `-cert_chain`);
    /// returns once it accepts TCP connections. `None` (with a message) when
    /// openssl is not installed and the run is not under CI.
    pub fn start(cert: &Path, key: &Path, args: &[&str]) -> Option<OpensslServer> {
        if !installed() {
            assert!(!super::required(), "openssl is not installed; the legacy TLS tests need the openssl command");
            eprintln!("openssl is not installed: the legacy TLS tests did not run (install the openssl package)");
            return None;
        }
        let mut command = Command::new("openssl");
        command
            .arg("s_server")
            .args(["-accept", "127.0.0.1:0"])
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key)
            .args(args)
            // No distribution defaults (MinProtocol, CipherString): the
            // arguments alone say what the server does.
            .env("OPENSSL_CONF", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/all/peers/openssl-empty.cnf"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut process = super::Group::spawn(&mut command).expect("start openssl s_server");
        let child = process.child();
        let stdin = child.stdin.take().expect("piped stdin");
        let log = Arc::new(Mutex::new(String::new()));
        let (sender, accepted) = mpsc::channel();
        drain(child.stdout.take().expect("piped stdout"), Arc::clone(&log), Some(sender));
        drain(child.stderr.take().expect("piped stderr"), Arc::clone(&log), None);
        // From here on the server is killed on drop, also if this panics.
        let mut server = OpensslServer {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            process,
            _stdin: stdin,
            log: Arc::clone(&log),
        };
        let Ok(address) = accepted.recv_timeout(Duration::from_secs(10)) else {
            let status = server.process.child().try_wait().ok().flatten();
            panic!("openssl s_server did not start listening within 10 s (exit: {status:?}):\n{}", server.log());
        };
        let port = address.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()).filter(|p| *p != 0);
        let Some(port) = port else { panic!("openssl s_server listens on {address:?}, not a loopback port") };
        server.addr.set_port(port);
        server.wait_ready();
        Some(server)
    }

    /// Waits until a TCP connection to the server succeeds (s_server goes
    /// on accepting after a client that sends nothing and leaves).
    fn wait_ready(&mut self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(status)) = self.process.child().try_wait() {
                panic!("openssl s_server exited ({status}):\n{}", self.log());
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("openssl s_server did not accept connections on {} within 10 s:\n{}", self.addr, self.log());
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// What the server printed so far (stdout and stderr).
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

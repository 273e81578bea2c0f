//! Knot DNS (`knotd`), an independent authoritative server, started with a
//! configuration and zones written by the test into a temporary directory.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Knot {
    pub addr: SocketAddr,
    _process: super::Group,
    dir: tempfile::TempDir,
}

fn knotd() -> Option<PathBuf> {
    ["/usr/sbin/knotd", "/usr/bin/knotd", "/usr/local/sbin/knotd"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// A free loopback port for both UDP and TCP (knotd needs it in its file).
fn free_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port");
}

impl Knot {
    /// Starts knotd for the zones; `None` (with a message) when knotd is
    /// not installed and the run is not under CI.
    pub fn start(zones: &[(&str, &str)]) -> Option<Knot> {
        let Some(binary) = knotd() else {
            assert!(!super::required(), "knotd is not installed; scripts/test.sh installs the knot package");
            eprintln!("knotd is not installed: the Knot tier did not run (scripts/test.sh installs it)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut config = format!(
            "server:\n    listen: 127.0.0.1@{port}\n    rundir: {run}\ncontrol:\n    listen: {run}/knot.sock\n\
             database:\n    storage: {db}\nlog:\n  - target: stderr\n    any: warning\n\
             mod-stats:\n  - id: default\n    server-operation: on\n\
             template:\n  - id: default\n    storage: {zones}\n    global-module: mod-stats/default\nzone:\n",
            run = dir.path().join("run").display(),
            db = dir.path().join("db").display(),
            zones = dir.path().display(),
        );
        for (origin, text) in zones {
            std::fs::write(dir.path().join(format!("{origin}.zone")), text).unwrap();
            config.push_str(&format!("  - domain: {origin}\n    file: {origin}.zone\n"));
        }
        std::fs::create_dir_all(dir.path().join("run")).unwrap();
        std::fs::create_dir_all(dir.path().join("db")).unwrap();
        let conf = dir.path().join("knot.conf");
        std::fs::write(&conf, config).unwrap();
        let process = super::Group::spawn(
            Command::new(binary).arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::inherit()),
        )
        .expect("start knotd");
        let knot = Knot { addr: SocketAddr::from(([127, 0, 0, 1], port)), _process: process, dir };
        knot.wait_ready(zones.first().map(|(o, _)| *o).unwrap_or("."));
        Some(knot)
    }

    /// Waits until knotd answers a SOA query for `origin`.
    fn wait_ready(&self, origin: &str) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let mut query = vec![0x12, 0x34, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
        for label in origin.trim_end_matches('.').split('.') {
            query.push(label.len() as u8);
            query.extend(label.as_bytes());
        }
        query.extend([0, 0, 6, 0, 1]);
        let started = Instant::now();
        let mut buffer = [0u8; 512];
        while started.elapsed() < Duration::from_secs(10) {
            let _ = socket.send_to(&query, self.addr);
            if let Ok((n, _)) = socket.recv_from(&mut buffer) {
                // An answer with NOERROR means the zone is loaded.
                if n > 3 && buffer[3] & 0x0f == 0 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("knotd did not answer for {origin} within 10 s");
    }

    /// How many queries knotd has answered so far, by its own count.
    pub fn queries(&self) -> u64 {
        let knotc = knotd().expect("knotd is installed").with_file_name("knotc");
        let output = Command::new(knotc)
            .arg("-s")
            .arg(self.dir.path().join("run/knot.sock"))
            .arg("stats")
            .output()
            .expect("run knotc stats");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("mod-stats.server-operation[query] = "))
            .map_or(0, |n| n.trim().parse().expect("a count"))
    }

    pub fn resolver_arg(&self) -> String {
        self.addr.to_string()
    }
}

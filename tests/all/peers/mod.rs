//! Real network peers for the tests, on loopback only, each bound to port 0
//! and stopped when its handle is dropped (also when the test fails).

#![allow(dead_code)] // each test binary uses some of the peers

pub mod dns;
pub mod kamailio;
pub mod knot;
pub mod openssl;
pub mod sip;
pub mod tls;

/// Whether a missing peer program must fail the test: under CI everything
/// the README's test command installs must be there.
pub fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Waits until `due`, to within the operating system's sleep (tens of
/// microseconds): tokio's timer wakes on whole milliseconds, rounded up, so
/// a delay made with it is up to a millisecond longer than asked — a link's
/// simulated round trips would then cost more than their stated time.
pub async fn sleep_until_exactly(due: std::time::Instant) {
    let _ = tokio::task::spawn_blocking(move || {
        std::thread::sleep(due.saturating_duration_since(std::time::Instant::now()));
    })
    .await;
}

/// Runs `binary` as a user's shell would: without the library directories
/// of the build that cargo adds to `LD_LIBRARY_PATH` for benchmarks and
/// tests (the binary needs none of them; the dynamic loader would look for
/// each system library in each of them first, a cost no user pays).
pub fn installed(binary: &str) -> std::process::Command {
    let mut command = std::process::Command::new(binary);
    let build = std::path::Path::new(binary).parent().and_then(std::path::Path::parent);
    if let (Some(build), Some(paths)) = (build, std::env::var_os("LD_LIBRARY_PATH")) {
        let kept: Vec<_> = std::env::split_paths(&paths).filter(|p| !p.starts_with(build)).collect();
        match kept.is_empty() {
            true => command.env_remove("LD_LIBRARY_PATH"),
            false => command.env("LD_LIBRARY_PATH", std::env::join_paths(kept).expect("paths that were joined")),
        };
    }
    command
}

/// A TCP port on 127.0.0.1 free at the time of asking.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A peer program, started in a process group of its own so that stopping
/// it stops every process it forked (Kamailio's workers outlive their main
/// process otherwise); stopped when dropped, also when the test fails.
pub struct Group {
    child: std::process::Child,
}

impl Group {
    pub fn spawn(command: &mut std::process::Command) -> std::io::Result<Group> {
        use std::os::unix::process::CommandExt;
        Ok(Group { child: command.process_group(0).spawn()? })
    }

    /// The process group's ID (its first process's).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn child(&mut self) -> &mut std::process::Child {
        &mut self.child
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // SIGKILL to the group: every process of it, and only of it.
        let group = -(self.child.id() as libc::pid_t);
        // SAFETY: kill(2) with a negative pid signals that process group;
        // it reads no memory of ours.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// The processes of a process group still alive (not zombies), from /proc.
pub fn group_members(group: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
            // After the command name in parentheses: state, ppid, pgrp.
            let Some((_, after)) = stat.rsplit_once(") ") else { return false };
            let fields: Vec<&str> = after.split_whitespace().collect();
            fields.first() != Some(&"Z") && fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(group)
        })
        .collect()
}

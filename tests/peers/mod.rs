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

/// A TCP port on 127.0.0.1 free at the time of asking.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

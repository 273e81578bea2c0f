//! TLS servers on loopback (tokio-rustls) with a test PKI made by rcgen.

//! `openssl s_server`, for what rustls will not serve (TLS 1.0/1.1 only, RSA
//! key exchange only, RSA-1024 and SHA-1 certificates).

//! The probes: the only code that talks to the network (DNS, TCP, TLS,
//! SIP), beneath the engine that owns the scan. Each turns what it saw into
//! a fact of `crate::facts`; none judges.

pub mod dns;
pub mod sip;
pub mod tls;
pub mod zone;

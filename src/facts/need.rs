//! What a check reads, as typed values: a scan gathers the union of what its
//! selected rules need (see `engine::plan`), each question once.

use super::dns::DnsView;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Need {
    /// The SRV record of `service` (`_sip._tls`) under each SIP domain.
    Srv { view: DnsView, service: String },
    /// The addresses of the targets of each SIP domain's `service` SRV record.
    SrvTargets { service: String },
    /// The A and AAAA records of `label.<domain>` (`sip`) for each SIP domain.
    Host { view: DnsView, label: String },
    /// The addresses of each Access Edge FQDN.
    EdgeAddresses,
    /// A TLS handshake with each of the organization's federation endpoints.
    Tls,
    /// Whether each endpoint accepts TLS 1.2 and 1.3: settled by the
    /// handshake, with a TLS 1.2 hello when it settled 1.3.
    TlsVersions,
    /// Whether each endpoint accepts TLS 1.0 and 1.1: a hello for each.
    TlsLegacyVersions,
    /// A SIP OPTIONS exchange with each of them, where TLS was spoken.
    Sip,
    /// Each partner's federation path (`--partner`): its SRV record, the
    /// targets' addresses, a TLS handshake and a SIP OPTIONS exchange.
    PartnerPaths,
}

//! `tls_legacy_versions`: the endpoint refuses TLS 1.0 and 1.1, which
//! RFC 8996 deprecates and Microsoft supports disabling on the Lync Server
//! 2013 and Skype for Business Edge; a partner limited to them is cut off,
//! which is why the rule is of low severity and names what it saw.

use serde::Deserialize;

use super::tls::{EndpointCheck, Endpoints, NoAddress, handshake_evidence};
use super::tls_versions::Versions;
use crate::facts::need::Need;
use crate::facts::tls::{TlsFact, TlsVersion};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Step};

/// `tls_legacy_versions` takes the parameters of `tls_versions`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct LegacyVersions(Versions);

pub type TlsLegacyVersions = Endpoints<LegacyVersions>;

impl EndpointCheck for LegacyVersions {
    fn discovery_rules(&self) -> &[String] {
        &self.0.discovery_rules
    }

    fn no_address(&self) -> NoAddress {
        NoAddress::Skips
    }

    fn needs(&self) -> Vec<Need> {
        vec![Need::Tls, Need::TlsLegacyVersions]
    }

    fn step(&self) -> Step {
        Step::Protocol
    }

    fn judge(&self, _ctx: &FactView, fact: &TlsFact) -> Vec<Outcome> {
        let label = &fact.endpoint;
        if let Some(outcome) = self.0.unjudged(fact) {
            return vec![outcome];
        }
        let legacy: Vec<(TlsVersion, Option<Option<bool>>)> = TlsVersion::ALL
            .into_iter()
            .filter(|v| v.is_legacy())
            .map(|v| (v, fact.versions.iter().find(|s| s.version == v).map(|s| s.accepted)))
            .collect();
        let names = |wanted: &dyn Fn(Option<Option<bool>>) -> bool| {
            legacy.iter().filter(|(_, a)| wanted(*a)).map(|(v, _)| v.name()).collect::<Vec<_>>().join(" and ")
        };
        let accepted = names(&|a| a == Some(Some(true)));
        let unanswered = names(&|a| a == Some(None));
        let outcome = if !accepted.is_empty() {
            Outcome::fail(label, format!("still accepts {accepted}"))
        } else if legacy.iter().any(|(_, a)| a.is_none()) {
            Outcome::error(
                label,
                "TLS 1.0 and 1.1 were not probed: these facts come from a scan that ran no legacy-version rule",
            )
        } else if !unanswered.is_empty() {
            Outcome::error(label, format!("no conclusive answer to a {unanswered} hello"))
        } else {
            Outcome::pass(label, "refuses TLS 1.0 and TLS 1.1")
        };
        vec![outcome.evidence(handshake_evidence(fact))]
    }
}

//! `srv_target_in_domain`: each SRV target is a host directly inside the SIP
//! domain (`sip.contoso.com` for `contoso.com`; not `sip.it.contoso.com`,
//! `sip.contoso-edge.com` or `evilcontoso.com`), compared on label
//! boundaries. Targets at Microsoft 365 are left to the online rules.
//!
//! ```toml
//! kind = "srv_target_in_domain"
//! service = "_sipfederationtls._tcp"
//! existence_rule = "DNS-FED-01"
//! ```

use serde::Deserialize;

use super::dns::{Found, Service, ServiceRecords, ServiceRecordsCheck, evidence, evidence_at, show_srv};
use crate::facts::names::{is_direct_child, is_within};
use crate::facts::srv::Srv;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Target};

/// Microsoft 365's federation and directory hosts live here.
const MICROSOFT_365: &str = "online.lync.com";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetInDomain {
    service: String,
    existence_rule: String,
}

pub type SrvTargetInDomain = ServiceRecords<TargetInDomain>;

impl ServiceRecordsCheck for TargetInDomain {
    fn service(&self) -> Service<'_> {
        Service { name: &self.service, existence_rule: &self.existence_rule }
    }

    fn judge(&self, _ctx: &FactView, found: &Found) -> Vec<Outcome> {
        let &Found { domain, ref name, ref records, fact } = found;
        let own: Vec<_> = records.iter().filter(|r| !is_within(&r.target, MICROSOFT_365)).collect();
        if own.is_empty() {
            return vec![
                Outcome::skip(
                    Target::domain(domain),
                    format!("{name} points at Microsoft 365; the online rules judge it"),
                )
                .evidence(evidence(fact)),
            ];
        }
        let outside: Vec<&Srv> = own.iter().copied().filter(|r| !is_direct_child(&r.target, domain)).collect();
        let evidence = evidence_at(fact, &outside);
        let outside: Vec<String> = outside.into_iter().map(show_srv).collect();
        let outcome = if outside.is_empty() {
            let targets: Vec<&str> = own.iter().map(|r| r.target.as_str()).collect();
            Outcome::pass(Target::domain(domain), format!("{} directly inside {domain}", targets.join(", ")))
        } else {
            Outcome::fail(
                Target::domain(domain),
                format!("{name} SRV {}: the target is not a host directly inside {domain}", outside.join("; ")),
            )
        };
        vec![outcome.evidence(evidence).var(Placeholder::Domain, domain)]
    }
}

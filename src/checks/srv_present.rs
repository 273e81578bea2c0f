//! `srv_present`: every SIP domain publishes the service's SRV record
//! (optionally on a given port).
//!
//! ```toml
//! kind = "srv_present"
//! service = "_sipfederationtls._tcp"
//! port = 5061               # optional: every record must use it
//! when_xmpp_enabled = true  # optional: only when a snapshot enables XMPP
//! ```

use serde::Deserialize;

use super::Check;
use super::dns::{SrvSet, evidence, or_outcome, per_domain, service_step, show_srv, srv_need, srv_set};
use crate::facts::Targets;
use crate::facts::dns::srv_name;
use crate::facts::need::Need;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Step, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SrvPresent {
    service: String,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    when_xmpp_enabled: bool,
}

impl Check for SrvPresent {
    fn needs(&self, targets: &Targets) -> Vec<Need> {
        if self.when_xmpp_enabled && !targets.xmpp { Vec::new() } else { vec![srv_need(&self.service)] }
    }

    fn step(&self) -> Step {
        service_step(&self.service)
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        if self.when_xmpp_enabled && !ctx.targets.xmpp {
            return vec![Outcome::skip(Target::area("DNS"), "no snapshot enables XMPP federation (EnableXmppAccess)")];
        }
        per_domain(ctx, |domain| {
            let name = srv_name(&self.service, domain);
            let outcome = match or_outcome!(srv_set(ctx, domain, &self.service)) {
                SrvSet::Absent(fact) => {
                    Outcome::fail(Target::domain(domain), format!("{name}: {}", fact.outcome.describe()))
                        .evidence(evidence(fact))
                }
                SrvSet::NotOffered(fact) => Outcome::fail(
                    Target::domain(domain),
                    format!("{name} has only the \".\" target: the domain declares the service not offered"),
                )
                .evidence(evidence(fact)),
                SrvSet::Records(records, fact) => {
                    let shown: Vec<String> = records.iter().map(show_srv).collect();
                    let wrong: Vec<&String> = match self.port {
                        Some(port) => {
                            records.iter().zip(&shown).filter(|(r, _)| r.port != port).map(|(_, s)| s).collect()
                        }
                        None => Vec::new(),
                    };
                    let outcome = if wrong.is_empty() {
                        Outcome::pass(Target::domain(domain), format!("{name} SRV {}", shown.join("; ")))
                    } else {
                        Outcome::fail(
                            Target::domain(domain),
                            format!(
                                "{name} SRV {}: port {} expected",
                                wrong.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; "),
                                self.port.unwrap_or_default()
                            ),
                        )
                    };
                    outcome.evidence(evidence(fact))
                }
            };
            let outcome = outcome.var(Placeholder::Domain, domain);
            // The fix names the Edge when it is known.
            match ctx.targets.edges.first() {
                Some(edge) => vec![outcome.var(Placeholder::Fqdn, edge.clone())],
                None => vec![outcome],
            }
        })
    }
}

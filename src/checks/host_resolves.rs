//! `host_resolves`: a well-known host of each SIP domain (`sip.<domain>`,
//! `lyncdiscover.<domain>`) has an address, directly or through an alias.
//!
//! ```toml
//! kind = "host_resolves"
//! host = "sip"
//! ```

use super::dns::Queries;
use serde::Deserialize;

use super::Check;
use super::dns::{addresses, or_outcome, per_domain, queries};
use crate::facts::Targets;
use crate::facts::dns::DnsView;
use crate::facts::need::Need;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Step, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostResolves {
    host: String,
}

impl Check for HostResolves {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![Need::Host { view: DnsView::External, label: self.host.clone() }]
    }

    fn step(&self) -> Step {
        Step::Dns
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        per_domain(ctx, |domain| {
            let name = format!("{}.{domain}", self.host);
            let found = or_outcome!(addresses(ctx, domain, &name));
            let listed: Vec<String> = found.all().map(|a| a.to_string()).collect();
            let via = if found.aliases.is_empty() {
                String::new()
            } else {
                format!(" (via {})", found.aliases.join(" → "))
            };
            let outcome = if listed.is_empty() {
                Outcome::fail(Target::domain(domain), format!("{name} has no A or AAAA record"))
            } else {
                Outcome::pass(Target::domain(domain), format!("{name}{via} → {}", listed.join(", ")))
            };
            vec![
                outcome
                    .evidence(Queries { target: None, queries: queries(&found) })
                    .var(Placeholder::Domain, domain)
                    .var(Placeholder::Fqdn, name),
            ]
        })
    }
}

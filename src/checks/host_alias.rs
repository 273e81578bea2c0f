//! `host_alias`: a host of each SIP domain is an alias (CNAME) of a given
//! name, as Microsoft 365 asks of `sip.<domain>` and `lyncdiscover.<domain>`.
//!
//! ```toml
//! kind = "host_alias"
//! host = "lyncdiscover"
//! target = "webdir.online.lync.com"
//! ```

use super::dns::Queries;
use serde::Deserialize;

use super::Check;
use super::dns::{addresses, or_outcome, per_domain, queries};
use crate::facts::Targets;
use crate::facts::dns::DnsView;
use crate::facts::names::canonical;
use crate::facts::need::Need;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Step, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostAlias {
    host: String,
    target: String,
}

impl Check for HostAlias {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![Need::Host { view: DnsView::External, label: self.host.clone() }]
    }

    fn step(&self) -> Step {
        Step::Dns
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let target = canonical(&self.target);
        per_domain(ctx, |domain| {
            let name = format!("{}.{domain}", self.host);
            let found = or_outcome!(addresses(ctx, domain, &name));
            let outcome = if found.aliases.contains(&target) {
                Outcome::pass(Target::domain(domain), format!("{name} is an alias of {target}"))
            } else if found.aliases.is_empty() && found.all().next().is_none() {
                Outcome::fail(
                    Target::domain(domain),
                    format!("{name} does not exist; it should be an alias of {target}"),
                )
            } else if found.aliases.is_empty() {
                let listed: Vec<String> = found.all().map(|a| a.to_string()).collect();
                Outcome::fail(
                    Target::domain(domain),
                    format!("{name} has its own addresses ({}), not an alias of {target}", listed.join(", ")),
                )
            } else {
                Outcome::fail(
                    Target::domain(domain),
                    format!("{name} is an alias of {}, not of {target}", found.aliases.join(" → ")),
                )
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

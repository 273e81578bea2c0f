//! `srv_target_resolves`: each SRV target has addresses, and is a name with
//! its own address records rather than an alias (RFC 2782 forbids CNAME
//! targets, and some resolvers do not follow them).
//!
//! ```toml
//! kind = "srv_target_resolves"
//! service = "_sipfederationtls._tcp"
//! alias_severity = "medium"
//! existence_rule = "DNS-FED-01"
//! ```

use super::dns::Queries;
use serde::Deserialize;

use super::dns::{Found, Service, ServiceRecords, ServiceRecordsCheck, addresses, followed, queries};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Severity, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetResolves {
    service: String,
    alias_severity: Severity,
    existence_rule: String,
}

pub type SrvTargetResolves = ServiceRecords<TargetResolves>;

impl ServiceRecordsCheck for TargetResolves {
    const READS_TARGETS: bool = true;

    fn service(&self) -> Service<'_> {
        Service { name: &self.service, existence_rule: &self.existence_rule }
    }

    fn judge(&self, ctx: &FactView, srv: &Found) -> Vec<Outcome> {
        let &Found { domain, ref name, ref records, .. } = srv;
        let (targets, cut) = followed(domain, name, records);
        targets
            .into_iter()
            .map(|target| {
                let found = match addresses(ctx, domain, target) {
                    Ok(found) => found,
                    Err(outcome) => return outcome,
                };
                let listed: Vec<String> = found.all().map(|a| a.to_string()).collect();
                let evidence = Queries { target: Some(target), queries: queries(&found) };
                let outcome = if listed.is_empty() {
                    Outcome::fail(Target::domain(domain), format!("{name} points at {target}, which has no A or AAAA record"))
                } else if !found.aliases.is_empty() {
                    Outcome::fail(
                        Target::domain(domain),
                        format!(
                            "{name} points at {target}, an alias (CNAME → {}); the target must carry its own A/AAAA records",
                            found.aliases.join(" → ")
                        ),
                    )
                    .severity(Some(self.alias_severity))
                } else {
                    Outcome::pass(Target::domain(domain), format!("{target} → {}", listed.join(", ")))
                };
                outcome.evidence(evidence).var(Placeholder::Domain, domain).var(Placeholder::Fqdn, target)
            })
            .chain(cut)
            .collect()
    }
}

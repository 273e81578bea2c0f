//! `srv_priorities`: records that differ in target do not tie on both
//! priority and weight. The Access Edge does not draw at random among such
//! records: it takes the first one received, so which Edge pool a partner
//! reaches depends on the order a DNS server happens to send.
//!
//! ```toml
//! kind = "srv_priorities"
//! service = "_sipfederationtls._tcp"
//! existence_rule = "DNS-FED-01"
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use super::dns::{Found, Service, ServiceRecords, ServiceRecordsCheck, evidence};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Priorities {
    service: String,
    existence_rule: String,
}

pub type SrvPriorities = ServiceRecords<Priorities>;

impl ServiceRecordsCheck for Priorities {
    fn service(&self) -> Service<'_> {
        Service { name: &self.service, existence_rule: &self.existence_rule }
    }

    fn judge(&self, _ctx: &FactView, found: &Found) -> Vec<Outcome> {
        let &Found { domain, ref name, ref records, fact } = found;
        let mut ties: BTreeMap<(u16, u16), Vec<&str>> = BTreeMap::new();
        for record in records {
            let targets = ties.entry((record.priority, record.weight)).or_default();
            if !targets.contains(&record.target.as_str()) {
                targets.push(&record.target);
            }
        }
        let tied: Vec<String> = ties
            .iter()
            .filter(|(_, targets)| targets.len() > 1)
            .map(|((p, w), targets)| format!("priority {p} weight {w}: {}", targets.join(", ")))
            .collect();
        let outcome = if records.len() == 1 {
            Outcome::pass(Target::domain(domain), format!("{name} has a single record"))
        } else if tied.is_empty() {
            Outcome::pass(
                Target::domain(domain),
                format!("{name}: {} records with distinct priority or weight", records.len()),
            )
        } else {
            Outcome::fail(
                Target::domain(domain),
                format!("{name} ties different targets ({}); the Edge takes whichever arrives first", tied.join("; ")),
            )
        };
        vec![outcome.evidence(evidence(fact)).var(Placeholder::Domain, domain)]
    }
}

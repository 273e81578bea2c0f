//! `config_count`: how many objects of a kind match a selection.
//!
//! ```toml
//! kind = "config_count"
//! object = "HostingProvider"
//! select = { ProxyFqdn = "sipfed.online.lync.com" }
//! min = 1                      # optional
//! max = 1                      # optional
//! above_max_severity = "medium" # optional: too many matters less than none
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::config::{captured, describe, select, unproven};
use super::matcher::Matcher;
use super::{Check, Problem};
use crate::facts::snapshot::ObjectKind;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Severity, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigCount {
    object: ObjectKind,
    #[serde(default)]
    select: BTreeMap<String, Matcher>,
    #[serde(default)]
    min: Option<usize>,
    #[serde(default)]
    max: Option<usize>,
    #[serde(default)]
    above_max_severity: Option<Severity>,
}

impl Check for ConfigCount {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let listing = match captured(ctx, self.object) {
            Ok(listing) => listing,
            Err(outcome) => return vec![outcome],
        };
        let selection = select(&listing, &self.select);
        let matching = selection.chosen;
        let names: Vec<String> =
            matching.iter().map(|l| format!("{} ({})", l.object.label(), l.location(None))).collect();
        let count = matching.len();
        let noun = if count == 1 { "object" } else { "objects" };
        let with = if self.select.is_empty() { String::new() } else { format!(" with {}", describe(&self.select)) };
        let what = format!("{} {noun}{with}", self.object.name());
        let listed = if names.is_empty() { String::new() } else { format!(": {}", names.join(", ")) };
        let evidence = json!({ "count": count, "matching": names, "min": self.min, "max": self.max });
        let target = Target::config(self.object.name());
        // The objects shown are a floor; objects in doubt, or left out of a
        // subset, may raise the count.
        let doubt = selection
            .undecided
            .first()
            .map(|(located, why)| format!("{}: {why}", located.location(None)))
            .or_else(|| listing.lacks_proof(None));
        let outcome = match (self.min, self.max) {
            (_, Some(max)) if count > max => {
                Outcome::fail(&target, format!("{count} {what}, at most {max} allowed{listed}"))
                    .severity(self.above_max_severity)
            }
            (min, max) if doubt.is_some() && (min.is_some_and(|m| count < m) || max.is_some()) => {
                let bound = match (min, max) {
                    (Some(min), Some(max)) if min == max => format!("exactly {min}"),
                    (Some(min), Some(max)) => format!("between {min} and {max}"),
                    (Some(min), None) => format!("at least {min}"),
                    (None, Some(max)) => format!("at most {max}"),
                    (None, None) => unreachable!("validated: min or max is given"),
                };
                let conclusion = format!("there are {bound} {} objects{with}", self.object.name());
                unproven(&target, &conclusion, format!("{count} shown{listed}; {}", doubt.unwrap_or_default()))
            }
            (Some(min), _) if count < min => {
                Outcome::fail(&target, format!("{count} {what}, at least {min} needed{listed}"))
            }
            _ => Outcome::pass(&target, format!("{count} {what}{listed}")),
        };
        let outcome = match matching.first().and_then(|l| l.object.identity()) {
            Some(identity) => outcome.var(Placeholder::Identity, identity),
            None => outcome,
        };
        vec![outcome.evidence(evidence)]
    }

    fn validate(&self) -> Vec<Problem> {
        match (self.min, self.max) {
            (None, None) => vec![Problem::general("give `min`, `max` or both")],
            (Some(min), Some(max)) if min > max => vec![Problem::at("min", format!("min {min} is above max {max}"))],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{parse, run, statuses};
    use crate::findings::Status;
    #[test]
    fn counts_with_severity_above_max() {
        let check: ConfigCount = parse(
            r#"object = "EdgeService"
               select = { AccessEdgeExternalSipPort = 5061 }
               min = 1
               max = 1
               above_max_severity = "medium""#,
        );
        let edge = |port: &str, n: u8| {
            format!(r#"{{"Identity":"EdgeServer:e{n}.contoso.com","AccessEdgeExternalSipPort":{port}}}"#)
        };
        let one = run(&check, &format!(r#"{{"Get-CsService":[{}]}}"#, edge("5061", 1)), &[]);
        assert_eq!(statuses(&one), [Status::Pass]);
        let none = run(&check, &format!(r#"{{"Get-CsService":[{}]}}"#, edge("8888", 1)), &[]);
        assert_eq!((none[0].status, none[0].severity), (Status::Fail, None));
        let two = run(&check, &format!(r#"{{"Get-CsService":[{},{}]}}"#, edge("\"5061\"", 1), edge("5061", 2)), &[]);
        assert_eq!((two[0].status, two[0].severity), (Status::Fail, Some(Severity::Medium)));
    }
}

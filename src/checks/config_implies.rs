//! `config_implies`: when objects of one kind enable something, a setting
//! elsewhere must allow it (a policy granting federated access does nothing
//! while the Access Edge refuses federated users).
//!
//! ```toml
//! kind = "config_implies"
//! if_object = "ExternalAccessPolicy"
//! if_any = { EnableFederationAccess = true, EnablePublicCloudAccess = true }
//! then_object = "AccessEdgeConfiguration"
//! then_expect = { AllowFederatedUsers = true }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::config::{SHOWN, captured, describe, some_of, unproven};
use super::matcher::{Matcher, Verdict};
use super::{Check, Problem};
use crate::facts::snapshot::ObjectKind;
use crate::facts::values::{read_property, show};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigImplies {
    if_object: ObjectKind,
    if_any: BTreeMap<String, Matcher>,
    then_object: ObjectKind,
    then_expect: BTreeMap<String, Matcher>,
}

impl Check for ConfigImplies {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let triggers = match captured(ctx, self.if_object) {
            Ok(objects) => objects,
            Err(outcome) => return vec![outcome],
        };
        let all_enabling: Vec<String> = triggers
            .iter()
            .filter(|l| {
                self.if_any.iter().any(|(name, m)| {
                    l.object.get(name).is_some_and(|(_, v)| m.check(l.object, name, v) == Verdict::Match)
                })
            })
            .map(|l| l.object.label())
            .collect();
        let target = Target::config(self.then_object.name());
        let undecided = triggers.iter().find_map(|l| {
            self.if_any.iter().find_map(|(name, m)| match l.object.get(name).map(|(_, v)| m.check(l.object, name, v)) {
                Some(Verdict::Indeterminate(why)) => Some(format!("{}: {why}", l.location(Some(name)))),
                _ => None,
            })
        });
        if let (true, Some(why)) = (all_enabling.is_empty(), undecided.or_else(|| triggers.lacks_proof(None))) {
            return vec![unproven(
                &target,
                &format!("any {} has any of {}", self.if_object.name(), describe(&self.if_any)),
                why,
            )];
        }
        if all_enabling.is_empty() {
            return vec![Outcome::skip(
                &target,
                format!("no {} has any of {}, so nothing depends on it", self.if_object.name(), describe(&self.if_any)),
            )];
        }
        let gates = match captured(ctx, self.then_object) {
            Ok(objects) => objects,
            Err(outcome) => return vec![outcome],
        };
        // Each gate's finding names the policies; a few of them, or an
        // export repeated a thousand times makes each finding a thousand
        // times longer.
        let enabling = some_of(&all_enabling);
        let shown: Vec<&String> = all_enabling.iter().take(SHOWN).collect();
        gates
            .iter()
            .map(|gate| {
                let mut wrong = Vec::new();
                let mut missing = Vec::new();
                let mut unclear = Vec::new();
                let mut observed = serde_json::Map::new();
                for (name, matcher) in &self.then_expect {
                    match read_property(gate.object, name) {
                        None => match gate.object.doubt(name) {
                            Some(why) => unclear.push(why),
                            None => missing.push(name.clone()),
                        },
                        Some((exported, value, _)) => {
                            match matcher.check(gate.object, name, &value) {
                                Verdict::Match => {}
                                Verdict::Mismatch => wrong.push(format!("{exported} is {}", show(&value))),
                                Verdict::Indeterminate(why) => unclear.push(why),
                            }
                            observed.insert(exported, value);
                        }
                    }
                }
                let evidence = json!({
                    "enabled_by": shown,
                    "enabled_by_count": all_enabling.len(),
                    "source": gate.location(self.then_expect.keys().next().map(String::as_str)),
                    "observed": observed,
                });
                let label = Target::from(gate);
                let outcome = if !wrong.is_empty() {
                    Outcome::fail(
                        &label,
                        format!(
                            "{enabling} enable(s) access, but {} on {}, so they have no effect",
                            wrong.join(" and "),
                            gate.object.label()
                        ),
                    )
                } else if !unclear.is_empty() {
                    Outcome::error(&label, format!("cannot judge {}", unclear.join("; ")))
                } else if !missing.is_empty() {
                    Outcome::skip(&label, format!("{} not in the export", missing.join(", ")))
                } else {
                    Outcome::pass(&label, format!("{enabling} enable(s) access and {} allows it", gate.object.label()))
                };
                outcome.evidence(evidence)
            })
            .collect()
    }

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.if_any.is_empty() {
            problems.push(Problem::at("if_any", "`if_any` names no property"));
        }
        if self.then_expect.is_empty() {
            problems.push(Problem::at("then_expect", "`then_expect` names no property"));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{parse, run, statuses};
    use crate::findings::Status;
    #[test]
    fn policy_needs_federation() {
        let check: ConfigImplies = parse(
            r#"if_object = "ExternalAccessPolicy"
               if_any = { EnableFederationAccess = true, EnablePublicCloudAccess = true }
               then_object = "AccessEdgeConfiguration"
               then_expect = { AllowFederatedUsers = true }"#,
        );
        let snap = |pol: bool, aec: bool| {
            format!(
                r#"{{"Get-CsExternalAccessPolicy":[{{"Identity":"Global","EnableFederationAccess":{pol}}}],"Get-CsAccessEdgeConfiguration":[{{"Identity":"Global","AllowFederatedUsers":{aec}}}]}}"#
            )
        };
        assert_eq!(statuses(&run(&check, &snap(true, true), &[])), [Status::Pass]);
        assert_eq!(statuses(&run(&check, &snap(true, false), &[])), [Status::Fail]);
        assert_eq!(statuses(&run(&check, &snap(false, false), &[])), [Status::Skip]);
    }
}

//! `config_field`: properties of configuration objects have expected values.
//!
//! ```toml
//! kind = "config_field"
//! object = "PublicProvider"
//! select = { ProxyFqdn = "federation.messenger.msn.com" }   # which objects (optional)
//! expect = { Enabled = true }                                # what they must hold
//! quantifier = "all"      # every selected object (default), or "any" of them
//! products = ["Skype for Business Server 2019"]              # optional
//! granted_only = true     # with "any" over policies: a Tag: policy counts
//!                         # only when Get-CsUser shows someone holds it
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::config::{captured, describe, select, unproven};
use super::matcher::{Matcher, Verdict};
use super::{Check, Problem};
use crate::facts::config_view::{Holders, Located};
use crate::facts::snapshot::ObjectKind;
use crate::facts::values::{read_property, show};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Status, Target};

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Quantifier {
    #[default]
    All,
    Any,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigField {
    object: ObjectKind,
    #[serde(default)]
    select: BTreeMap<String, Matcher>,
    expect: BTreeMap<String, Matcher>,
    #[serde(default)]
    quantifier: Quantifier,
    /// Products the rule applies to (matched against the detected product's
    /// name); empty means every product.
    #[serde(default)]
    products: Vec<String>,
    /// A per-user (`Tag:`) policy counts only when `Get-CsUser` shows
    /// someone holds it: a policy granted to nobody reaches nobody.
    #[serde(default)]
    granted_only: bool,
}

/// Turns a per-user policy's pass into what it is worth: a pass when
/// someone holds it, a failure when the users listed show nobody does, an
/// error when who holds it cannot be told.
fn held_by_someone(ctx: &FactView, located: &Located, measured: &mut Measured) {
    let identity = located.object.identity().unwrap_or_default();
    if !identity.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("tag:")) {
        return;
    }
    let (status, how) = match ctx.config.policy_holders("ExternalAccessPolicy", &identity) {
        Holders::Counted { holders, users, .. } if holders > 0 => {
            (Status::Pass, format!("granted to {holders} enabled user(s) of the {users} listed"))
        }
        Holders::Counted { users, disabled, .. } => (
            Status::Fail,
            format!(
                "but it is a per-user policy granted to none of the {users} users listed{}, so it reaches nobody",
                Holders::only_disabled(disabled)
            ),
        ),
        Holders::NoUsers => (
            Status::Error,
            "but it is a per-user policy, and without `Get-CsUser | Select-Object SipAddress,Enabled,ExternalAccessPolicy` output nobody is known to hold it".to_string(),
        ),
        Holders::Unknown(why) => (Status::Error, format!("but it is a per-user policy, and who holds it cannot be told: {why}")),
    };
    measured.status = status;
    measured.message = format!("{} ({how})", measured.message);
    measured.holders = Some(how);
}

/// How one object measured up.
struct Measured {
    status: Status,
    message: String,
    observed: Map<String, Value>,
    /// Who holds it, for a per-user policy measured with `granted_only`.
    holders: Option<String>,
}

impl ConfigField {
    fn measure(&self, located: &Located) -> Measured {
        let object = located.object;
        let mut observed = Map::new();
        let mut missing = Vec::new();
        let mut wrong = Vec::new();
        let mut right = Vec::new();
        let mut unclear = Vec::new();
        for (name, matcher) in &self.expect {
            let Some((exported, value, inferred)) = read_property(object, name) else {
                match object.doubt(name) {
                    Some(why) => unclear.push(why),
                    None => missing.push(name.as_str()),
                }
                continue;
            };
            observed.insert(exported.clone(), value.clone());
            let how = inferred.map(|why| format!(" ({why})")).unwrap_or_default();
            match matcher.check(object, name, &value) {
                Verdict::Match => right.push(format!("{exported} is {}{how}", show(&value))),
                Verdict::Mismatch => wrong.push(format!("{exported} is {}, expected {matcher}{how}", show(&value))),
                Verdict::Indeterminate(why) => unclear.push(format!("{exported}: {why}")),
            }
        }
        // One property that is definitely wrong fails the object, whatever the
        // others; only then does an undecidable one make it an error.
        let (status, message) = if !wrong.is_empty() {
            (Status::Fail, wrong.join("; "))
        } else if !unclear.is_empty() {
            (Status::Error, format!("cannot judge {}", unclear.join("; ")))
        } else if !missing.is_empty() {
            (
                Status::Skip,
                format!(
                    "{} not in the export (an older version, or properties left out with Select-Object)",
                    missing.join(", ")
                ),
            )
        } else {
            (Status::Pass, right.join("; "))
        };
        Measured { status, message, observed, holders: None }
    }

    fn expected(&self) -> Value {
        Value::Object(self.expect.iter().map(|(k, m)| (k.clone(), Value::String(m.to_string()))).collect())
    }

    fn product_gate(&self, ctx: &FactView) -> Option<Outcome> {
        if self.products.is_empty() {
            return None;
        }
        let wanted = self.products.join(", ");
        let target = Target::config(self.object.name());
        match ctx.config.product() {
            None => Some(Outcome::skip(
                &target,
                format!(
                    "applies to {wanted} only, and the product version is unknown; include `Get-CsServerVersion` output"
                ),
            )),
            Some(product) if !product.exact => Some(Outcome::skip(
                &target,
                format!(
                    "applies to {wanted} only; the snapshot shows only \"{}\" ({})",
                    product.name, product.evidence
                ),
            )),
            Some(product) if !self.products.iter().any(|p| p.eq_ignore_ascii_case(&product.name)) => {
                Some(Outcome::skip(
                    &target,
                    format!("applies to {wanted} only; this is {} ({})", product.name, product.evidence),
                ))
            }
            Some(_) => None,
        }
    }
}

impl Check for ConfigField {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        if let Some(gate) = self.product_gate(ctx) {
            return vec![gate];
        }
        let listing = match captured(ctx, self.object) {
            Ok(listing) => listing,
            Err(outcome) => return vec![outcome],
        };
        let total = listing.len();
        let selection = select(&listing, &self.select);
        let target = Target::config(self.object.name());
        let undecided: Vec<Outcome> = selection
            .undecided
            .iter()
            .map(|(located, why)| Outcome::error(located, format!("cannot tell whether the rule applies to it: {why}")))
            .collect();
        let selected = selection.chosen;
        if selected.is_empty() {
            if !undecided.is_empty() {
                return undecided;
            }
            if let Some(why) = listing.lacks_proof(None) {
                let conclusion = if self.select.is_empty() {
                    format!("there is a {} object", self.object.name())
                } else {
                    format!("a {} has {}", self.object.name(), describe(&self.select))
                };
                return vec![unproven(&target, &conclusion, why)];
            }
            let what = if self.select.is_empty() {
                format!("no {} objects in the snapshot", self.object.name())
            } else if total == 0 {
                format!("no {} is configured, so none has {}", self.object.name(), describe(&self.select))
            } else {
                format!("none of the {total} {} objects has {}", self.object.name(), describe(&self.select))
            };
            return vec![Outcome::skip(target, what)];
        }
        let measured: Vec<(Located, Measured)> = selected
            .into_iter()
            .map(|l| {
                let mut measured = self.measure(&l);
                if self.granted_only && measured.status == Status::Pass {
                    held_by_someone(ctx, &l, &mut measured);
                }
                (l, measured)
            })
            .collect();
        match self.quantifier {
            Quantifier::All => undecided
                .into_iter()
                .chain(measured.into_iter().map(|(located, m)| {
                    let mut outcome = Outcome::new(m.status, &located, m.message).evidence(json!({
                        "source": located.location(self.expect.keys().next().map(String::as_str)),
                        "observed": m.observed,
                        "expected": self.expected(),
                    }));
                    if let Some(identity) = located.object.identity() {
                        outcome = outcome.var(Placeholder::Identity, identity);
                    }
                    outcome
                }))
                .collect(),
            Quantifier::Any => {
                let evidence = json!({
                    "objects": measured.iter().map(|(l, m)| json!({
                        "object": l.object.label(),
                        "source": l.location(None),
                        "observed": m.observed,
                    })).collect::<Vec<_>>(),
                    "expected": self.expected(),
                });
                let passing: Vec<String> = measured
                    .iter()
                    .filter(|(_, m)| m.status == Status::Pass)
                    .map(|(l, m)| match &m.holders {
                        Some(holders) => format!("{} ({holders})", l.object.label()),
                        None => l.object.label(),
                    })
                    .collect();
                let summary = |status: Status| -> Vec<String> {
                    measured
                        .iter()
                        .filter(|(_, m)| m.status == status)
                        .map(|(l, m)| format!("{}: {}", l.object.label(), m.message))
                        .collect()
                };
                let outcome = if !passing.is_empty() {
                    Outcome::pass(&target, format!("{} by {}", self.expectation_text(), passing.join(", ")))
                } else if !undecided.is_empty() {
                    return undecided;
                } else if let Some(why) = listing.lacks_proof(None) {
                    unproven(
                        &target,
                        &format!("any {} has {}", self.object.name(), self.expectation_text()),
                        format!("none of those shown has; {why}"),
                    )
                } else if !summary(Status::Error).is_empty() {
                    Outcome::error(&target, summary(Status::Error).join("; "))
                } else if !summary(Status::Skip).is_empty() {
                    Outcome::skip(
                        &target,
                        format!(
                            "no object shows {}, and some cannot tell: {}",
                            self.expectation_text(),
                            summary(Status::Skip).join("; ")
                        ),
                    )
                } else {
                    Outcome::fail(
                        &target,
                        format!(
                            "no {} has {} ({})",
                            self.object.name(),
                            self.expectation_text(),
                            summary(Status::Fail).join("; ")
                        ),
                    )
                };
                vec![outcome.evidence(evidence)]
            }
        }
    }

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.expect.is_empty() {
            problems.push(Problem::at("expect", "`expect` names no property"));
        }
        if self.object == ObjectKind::Other {
            problems.push(Problem::at("object", "`object` must name a configuration object kind, not Other"));
        }
        if self.granted_only && (self.quantifier != Quantifier::Any || self.object != ObjectKind::ExternalAccessPolicy)
        {
            problems.push(Problem::at(
                "granted_only",
                "`granted_only` applies to `quantifier = \"any\"` over ExternalAccessPolicy objects",
            ));
        }
        problems
    }
}

impl ConfigField {
    fn expectation_text(&self) -> String {
        describe(&self.expect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{parse, run, statuses};

    const AEC: &str = r#"
        object = "AccessEdgeConfiguration"
        expect = { AllowFederatedUsers = true }
    "#;

    #[test]
    fn singleton_pass_fail_missing_empty() {
        let check: ConfigField = parse(AEC);
        let pass =
            run(&check, r#"{"Get-CsAccessEdgeConfiguration":[{"Identity":"Global","AllowFederatedUsers":true}]}"#, &[]);
        assert_eq!(statuses(&pass), [Status::Pass]);
        assert_eq!(pass[0].target.to_string(), "AccessEdgeConfiguration[Global]");
        let fail = run(
            &check,
            r#"{"Get-CsAccessEdgeConfiguration":[{"AllowFederatedUsers":"False","RoutingMethod":"UseDnsSrvRouting"}]}"#,
            &[],
        );
        assert_eq!(statuses(&fail), [Status::Fail]);
        assert!(fail[0].message.contains("AllowFederatedUsers is False, expected True"), "{}", fail[0].message);
        let missing = run(&check, r#"{"Get-CsAccessEdgeConfiguration":[{"RoutingMethod":"UseDnsSrvRouting"}]}"#, &[]);
        assert_eq!(statuses(&missing), [Status::Skip]);
        let empty = run(&check, r#"{"Get-CsAccessEdgeConfiguration":null}"#, &[]);
        assert_eq!(statuses(&empty), [Status::Error]);
        let absent = run(&check, r#"{"Get-CsPublicProvider":[]}"#, &[]);
        assert_eq!(statuses(&absent), [Status::Skip]);
    }

    #[test]
    fn select_and_any() {
        let check: ConfigField = parse(
            r#"object = "ExternalAccessPolicy"
               expect = { EnablePublicCloudAccess = true }
               quantifier = "any""#,
        );
        let snap = |a: &str, b: &str| {
            format!(
                r#"{{"Get-CsExternalAccessPolicy":[{{"Identity":"Global","EnablePublicCloudAccess":{a}}},{{"Identity":"Tag:PIC","EnablePublicCloudAccess":{b}}}]}}"#
            )
        };
        assert_eq!(statuses(&run(&check, &snap("false", "true"), &[])), [Status::Pass]);
        assert_eq!(statuses(&run(&check, &snap("false", "false"), &[])), [Status::Fail]);

        let granted: ConfigField = parse(
            r#"object = "ExternalAccessPolicy"
               expect = { EnablePublicCloudAccess = true }
               quantifier = "any"
               granted_only = true"#,
        );
        // Only a per-user policy allows it: it counts by who holds it.
        let users = |policy: &str| {
            format!(
                r#"{{"Get-CsExternalAccessPolicy":[{{"Identity":"Global","EnablePublicCloudAccess":false}},{{"Identity":"Tag:PIC","EnablePublicCloudAccess":true}}],
                "Get-CsUser":[{{"SipAddress":"sip:a@contoso.com","Enabled":true,"ExternalAccessPolicy":{policy}}}]}}"#
            )
        };
        assert_eq!(statuses(&run(&granted, &users(r#""PIC""#), &[])), [Status::Pass]);
        let nobody = run(&granted, &users("null"), &[]);
        assert_eq!(statuses(&nobody), [Status::Fail]);
        assert!(nobody[0].message.contains("granted to none of the 1 users"), "{}", nobody[0].message);
        assert_eq!(statuses(&run(&granted, &snap("false", "true"), &[])), [Status::Error]);
        assert_eq!(statuses(&run(&granted, &snap("true", "true"), &[])), [Status::Pass]);

        let check: ConfigField = parse(
            r#"object = "HostingProvider"
               select = { ProxyFqdn = "sipfed.online.lync.com" }
               expect = { Enabled = true }"#,
        );
        let none = run(&check, r#"{"Get-CsHostingProvider":[{"Identity":"X","ProxyFqdn":"other.example"}]}"#, &[]);
        assert_eq!(statuses(&none), [Status::Skip]);
        let one = run(
            &check,
            r#"{"Get-CsHostingProvider":[{"Identity":"Skype For Business Online","ProxyFqdn":"SIPFED.online.lync.com","Enabled":false}]}"#,
            &[],
        );
        assert_eq!(statuses(&one), [Status::Fail]);
        assert_eq!(one[0].vars[&Placeholder::Identity], "Skype For Business Online");
    }
}

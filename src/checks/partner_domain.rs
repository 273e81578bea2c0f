//! `partner_domain`: partner domains are (or are not) on the allowed or
//! blocked domain list. Partners come from `--partner`, or from `domains`.
//!
//! ```toml
//! kind = "partner_domain"
//! list = "allowed"               # or "blocked"
//! expect = "listed"              # or "not_listed"
//! when_partner_discovery = false # optional: only when discovery is off/on
//! domains = ["push.lync.com"]    # optional: fixed domains instead of --partner
//! ```

use serde::Deserialize;
use serde_json::json;

use super::config::{DOMAIN_NAME, captured, domain_names, unproven};
use super::{Check, Problem};
use crate::facts::values::as_bool;
use std::collections::HashMap;

use crate::facts::names::canonical;
use crate::facts::snapshot::ObjectKind;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Target};

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum List {
    Allowed,
    Blocked,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Expect {
    Listed,
    NotListed,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerDomain {
    list: List,
    expect: Expect,
    #[serde(default)]
    when_partner_discovery: Option<bool>,
    #[serde(default)]
    domains: Option<Vec<String>>,
}

/// `it.contoso.com`, `contoso.com`, `com`.
fn suffixes(domain: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(domain), |d| d.split_once('.').map(|(_, rest)| rest))
}

impl Check for PartnerDomain {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let partners: Vec<String> = match &self.domains {
            Some(domains) => domains.iter().map(|d| canonical(d)).collect(),
            None => ctx.partners.iter().map(|d| canonical(d)).collect(),
        };
        if partners.is_empty() {
            return vec![Outcome::skip(Target::area("partners"), "no partner domains were given (--partner DOMAIN)")];
        }
        if let Some(wanted) = self.when_partner_discovery {
            let edge = match captured(ctx, ObjectKind::AccessEdgeConfiguration) {
                Ok(objects) => objects,
                Err(outcome) => return vec![outcome],
            };
            if let Some(why) = edge[0].object.doubt("EnablePartnerDiscovery") {
                return vec![Outcome::error(Target::area("partners"), why)];
            }
            let discovery = edge[0].object.get("EnablePartnerDiscovery").and_then(|(_, v)| as_bool(v));
            match discovery {
                None => {
                    return vec![Outcome::skip(
                        Target::area("partners"),
                        "EnablePartnerDiscovery is not in the Access Edge export (it exists only with DNS SRV routing)",
                    )];
                }
                Some(on) if on != wanted => {
                    let state = if on { "on" } else { "off" };
                    return vec![Outcome::skip(
                        Target::area("partners"),
                        format!("partner discovery is {state}, so this does not apply"),
                    )];
                }
                Some(_) => {}
            }
        }
        let (kind, list_name) = match self.list {
            List::Allowed => (ObjectKind::AllowedDomain, "allowed"),
            List::Blocked => (ObjectKind::BlockedDomain, "blocked"),
        };
        let (entries, unsure) = match captured(ctx, kind) {
            Ok(listing) => (domain_names(&listing), listing.lacks_proof(Some(DOMAIN_NAME))),
            Err(outcome) => return vec![outcome],
        };
        let by_name: HashMap<&str, &str> = entries.iter().rev().map(|(d, at)| (d.as_str(), at.as_str())).collect();
        partners
            .into_iter()
            .map(|partner| {
                // The partner itself, then each parent domain: an entry covers
                // the domains below it.
                let hit = suffixes(&partner).find_map(|s| by_name.get_key_value(s).map(|(d, at)| (d.to_string(), *at)));
                let evidence = json!({
                    "list": list_name,
                    "entries": entries.len(),
                    "matched": hit.as_ref().map(|(d, at)| json!({"domain": d, "source": at})),
                });
                let listed = match &hit {
                    Some((entry, at)) if entry == &partner => format!("{partner} is on the {list_name} list ({at})"),
                    Some((entry, at)) => format!("{partner} is covered by {entry} on the {list_name} list ({at})"),
                    None => format!("{partner} is not on the {list_name} list"),
                };
                let outcome = match (self.expect, hit.is_some(), &unsure) {
                    (_, false, Some(why)) => unproven(
                        Target::domain(partner.clone()),
                        &format!("{partner} is on the {list_name} list"),
                        format!("it is not among the entries shown; {why}"),
                    ),
                    (Expect::Listed, true, _) | (Expect::NotListed, false, _) => {
                        Outcome::pass(Target::domain(partner.clone()), listed)
                    }
                    _ => Outcome::fail(Target::domain(partner.clone()), listed),
                };
                let outcome = outcome.evidence(evidence).var(Placeholder::Domain, partner);
                match hit {
                    // The entry that matched, for commands that remove or edit it.
                    Some((entry, _)) => outcome.var(Placeholder::Identity, entry),
                    None => outcome,
                }
            })
            .collect()
    }

    fn validate(&self) -> Vec<Problem> {
        match &self.domains {
            Some(domains) if domains.is_empty() => {
                vec![Problem::at("domains", "`domains` is empty; leave it out to use --partner")]
            }
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
    fn closed_federation_and_suffix_matching() {
        let check: PartnerDomain = parse(
            r#"list = "allowed"
               expect = "listed"
               when_partner_discovery = false"#,
        );
        let snap = |disc: bool| {
            format!(
                r#"{{"Get-CsAccessEdgeConfiguration":[{{"EnablePartnerDiscovery":{disc}}}],"Get-CsAllowedDomain":[{{"Identity":"contoso.com","Domain":"contoso.com"}}]}}"#
            )
        };
        let out = run(&check, &snap(false), &["it.contoso.com", "evilcontoso.com"]);
        assert_eq!(statuses(&out), [Status::Pass, Status::Fail]);
        assert_eq!(statuses(&run(&check, &snap(true), &["fabrikam.com"])), [Status::Skip]);
        assert_eq!(statuses(&run(&check, &snap(false), &[])), [Status::Skip]);
    }
}

//! `tenant_list_parity`: in a split domain, the on-premises allowed and
//! blocked lists equal the Microsoft 365 tenant's, or each side routes a
//! partner differently.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::json;

use crate::facts::values::{TenantList, tenant_list};
use super::Check;
use super::config::{captured, domain_names};
use crate::facts::snapshot::ObjectKind;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantListParity {}

fn difference(name: &str, on_prem: &BTreeSet<String>, online: &BTreeSet<String>) -> Option<String> {
    let only_here: Vec<&String> = on_prem.difference(online).collect();
    let only_there: Vec<&String> = online.difference(on_prem).collect();
    if only_here.is_empty() && only_there.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !only_here.is_empty() {
        parts
            .push(format!("only on-premises: {}", only_here.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")));
    }
    if !only_there.is_empty() {
        parts.push(format!(
            "only in the tenant: {}",
            only_there.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    Some(format!("{name} lists differ ({})", parts.join("; ")))
}

fn show_list(list: &TenantList) -> serde_json::Value {
    match list {
        TenantList::AllKnown => json!("AllowAllKnownDomains"),
        TenantList::Domains(domains) => json!(domains),
        TenantList::Hidden(type_name) => json!(type_name),
    }
}

impl Check for TenantListParity {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let tenant = match captured(ctx, ObjectKind::TenantFederationConfiguration) {
            Ok(objects) => objects[0],
            Err(outcome) => return vec![outcome],
        };
        let allowed = match captured(ctx, ObjectKind::AllowedDomain) {
            Ok(objects) => domain_names(&objects).into_iter().map(|(d, _)| d).collect::<BTreeSet<_>>(),
            Err(outcome) => return vec![outcome],
        };
        let blocked = match ctx.config.objects(ObjectKind::BlockedDomain) {
            crate::facts::config_view::Objects::Captured(objects) => {
                Some(domain_names(&objects).into_iter().map(|(d, _)| d).collect::<BTreeSet<_>>())
            }
            _ => None,
        };
        let tenant_allowed = tenant_list(tenant.object.get("AllowedDomains").map(|(_, v)| v));
        let tenant_blocked = tenant_list(tenant.object.get("BlockedDomains").map(|(_, v)| v));
        for (name, list) in [("AllowedDomains", &tenant_allowed), ("BlockedDomains", &tenant_blocked)] {
            if let TenantList::Hidden(type_name) = list {
                return vec![Outcome::error(
                    Target::config("AllowedDomain/BlockedDomain"),
                    format!(
                        "the tenant export shows {name} only as its type name ({type_name}), not its domains; export it with `Get-CsTenantFederationConfiguration | Select-Object -ExpandProperty {name}` or as JSON"
                    ),
                )
                .evidence(json!({ "tenant_source": tenant.location(Some(name)) }))];
            }
        }
        let mut problems = Vec::new();
        let mut compared = Vec::new();
        if let TenantList::Domains(online) = &tenant_allowed {
            compared.push("allowed");
            problems.extend(difference("allowed", &allowed, &online.iter().cloned().collect()));
        }
        if let (Some(blocked), TenantList::Domains(online)) = (&blocked, &tenant_blocked) {
            compared.push("blocked");
            problems.extend(difference("blocked", blocked, &online.iter().cloned().collect()));
        }
        let evidence = json!({
            "tenant_source": tenant.location(None),
            "on_premises_allowed": allowed,
            "on_premises_blocked": blocked,
            "tenant_allowed": show_list(&tenant_allowed),
            "tenant_blocked": show_list(&tenant_blocked),
        });
        let outcome = if compared.is_empty() {
            Outcome::skip(
                Target::config("AllowedDomain/BlockedDomain"),
                "the tenant allows all known domains and the snapshot has no blocked list to compare",
            )
        } else if problems.is_empty() {
            Outcome::pass(Target::config("AllowedDomain/BlockedDomain"), format!("{} lists match the tenant's", compared.join(" and ")))
        } else {
            Outcome::fail(Target::config("AllowedDomain/BlockedDomain"), problems.join("; "))
        };
        vec![outcome.evidence(evidence)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{run, statuses};
    use crate::findings::Status;
    #[test]
    fn lists_compared() {
        let snap = |online: &str| {
            format!(
                r#"{{"Get-CsTenantFederationConfiguration":[{{"AllowedDomains":{{"AllowedDomain":[{{"Domain":"{online}"}}]}},"BlockedDomains":null}}],
                "Get-CsAllowedDomain":[{{"Identity":"contoso.com","Domain":"contoso.com"}}]}}"#
            )
        };
        assert_eq!(statuses(&run(&TenantListParity {}, &snap("contoso.com"), &[])), [Status::Pass]);
        assert_eq!(statuses(&run(&TenantListParity {}, &snap("fabrikam.com"), &[])), [Status::Fail]);
    }
}

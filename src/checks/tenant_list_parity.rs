//! `tenant_list_parity`: in a split domain, the on-premises allowed and
//! blocked lists equal the Microsoft 365 tenant's, or each side routes a
//! partner differently.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::json;

use super::Check;
use super::config::{DOMAIN_NAME, captured, domain_names, unproven};
use crate::facts::config_view::Objects;
use crate::facts::snapshot::ObjectKind;
use crate::facts::values::{TenantList, tenant_list_of};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantListParity {}

/// The entries of one list side by side: what each side shows, and whether
/// it shows all of it.
struct Side<'a> {
    shown: &'a BTreeSet<String>,
    whole: bool,
}

/// How the lists `name` differ, as far as the sides show: an entry one side
/// shows is missing from the other only if that other side is whole.
/// Returns the differences and whether differences may hide in what a side
/// does not show.
fn difference(name: &str, on_prem: Side, online: Side) -> (Option<String>, bool) {
    let only_here: Vec<&str> =
        if online.whole { on_prem.shown.difference(online.shown).map(String::as_str).collect() } else { Vec::new() };
    let only_there: Vec<&str> =
        if on_prem.whole { online.shown.difference(on_prem.shown).map(String::as_str).collect() } else { Vec::new() };
    let unsure = !(on_prem.whole && online.whole);
    if only_here.is_empty() && only_there.is_empty() {
        return (None, unsure);
    }
    let mut parts = Vec::new();
    if !only_here.is_empty() {
        parts.push(format!("only on-premises: {}", only_here.join(", ")));
    }
    if !only_there.is_empty() {
        parts.push(format!("only in the tenant: {}", only_there.join(", ")));
    }
    (Some(format!("{name} lists differ ({})", parts.join("; "))), unsure)
}

fn show_list(list: &TenantList) -> serde_json::Value {
    match list {
        TenantList::AllKnown => json!("AllowAllKnownDomains"),
        TenantList::Domains(domains) => json!(domains),
        TenantList::Partial(domains, _) => json!({ "shown": domains, "cut_short": true }),
        TenantList::Hidden(type_name) => json!(type_name),
    }
}

impl Check for TenantListParity {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let target = Target::config("AllowedDomain/BlockedDomain");
        let tenant = match captured(ctx, ObjectKind::TenantFederationConfiguration) {
            Ok(objects) => objects[0],
            Err(outcome) => return vec![outcome],
        };
        let (allowed, allowed_doubt) = match captured(ctx, ObjectKind::AllowedDomain) {
            Ok(listing) => (
                domain_names(&listing).into_iter().map(|(d, _)| d).collect::<BTreeSet<_>>(),
                listing.lacks_proof(Some(DOMAIN_NAME)),
            ),
            Err(outcome) => return vec![outcome],
        };
        let blocked = match ctx.config.objects(ObjectKind::BlockedDomain) {
            Objects::Captured(listing) => Some((
                domain_names(&listing).into_iter().map(|(d, _)| d).collect::<BTreeSet<_>>(),
                listing.lacks_proof(Some(DOMAIN_NAME)),
            )),
            _ => None,
        };
        let tenant_allowed = tenant_list_of(tenant.object, "AllowedDomains");
        let tenant_blocked = tenant_list_of(tenant.object, "BlockedDomains");
        for (name, list) in [("AllowedDomains", &tenant_allowed), ("BlockedDomains", &tenant_blocked)] {
            if let TenantList::Hidden(type_name) = list {
                return vec![Outcome::error(
                    &target,
                    format!(
                        "the tenant export shows {name} only as its type name ({type_name}), not its domains; export it with `Get-CsTenantFederationConfiguration | Select-Object -ExpandProperty {name}` or as JSON"
                    ),
                )
                .evidence(json!({ "tenant_source": tenant.location(Some(name)) }))];
            }
        }
        let mut problems = Vec::new();
        let mut doubts = Vec::new();
        let mut compared = Vec::new();
        let sides = [
            ("allowed", Some((&allowed, &allowed_doubt)), &tenant_allowed),
            ("blocked", blocked.as_ref().map(|(b, d)| (b, d)), &tenant_blocked),
        ];
        for (name, on_prem, online) in sides {
            let Some((on_prem, on_prem_doubt)) = on_prem else { continue };
            let (online_shown, online_doubt) = match online {
                TenantList::Domains(domains) => (domains.iter().cloned().collect::<BTreeSet<_>>(), None),
                TenantList::Partial(domains, why) => (domains.iter().cloned().collect(), Some(why.clone())),
                TenantList::AllKnown | TenantList::Hidden(_) => continue,
            };
            compared.push(name);
            let (problem, unsure) = difference(
                name,
                Side { shown: on_prem, whole: on_prem_doubt.is_none() },
                Side { shown: &online_shown, whole: online_doubt.is_none() },
            );
            problems.extend(problem);
            if unsure {
                doubts.extend(on_prem_doubt.clone().map(|why| format!("on-premises {name} list: {why}")));
                doubts.extend(online_doubt.map(|why| format!("tenant {name} list: {why}")));
            }
        }
        let evidence = json!({
            "tenant_source": tenant.location(None),
            "on_premises_allowed": allowed,
            "on_premises_blocked": blocked.as_ref().map(|(b, _)| b),
            "tenant_allowed": show_list(&tenant_allowed),
            "tenant_blocked": show_list(&tenant_blocked),
        });
        let outcome = if compared.is_empty() {
            Outcome::skip(
                &target,
                "the tenant allows all known domains and the snapshot has no blocked list to compare",
            )
        } else if !problems.is_empty() {
            let also = if doubts.is_empty() {
                String::new()
            } else {
                format!(" (and more may differ: {})", doubts.join("; "))
            };
            Outcome::fail(&target, format!("{}{also}", problems.join("; ")))
        } else if !doubts.is_empty() {
            unproven(&target, &format!("the {} lists match the tenant's", compared.join(" and ")), doubts.join("; "))
        } else {
            Outcome::pass(&target, format!("{} lists match the tenant's", compared.join(" and ")))
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

    #[test]
    fn a_list_cut_short_proves_no_difference() {
        let text = "PS C:\\> Get-CsTenantFederationConfiguration | fl\n\nIdentity       : Global\nAllowedDomains : {Domain=contoso.com, Domain=fabrikam.com, Domain=litware.com...}\nBlockedDomains : {}\n\nPS C:\\> Get-CsAllowedDomain | fl\n\nIdentity : contoso.com\nDomain   : contoso.com\n\nIdentity : northwind.com\nDomain   : northwind.com\n";
        let cut = run(&TenantListParity {}, text, &[]);
        // litware.com may be among the tenant's unseen entries; fabrikam.com
        // is missing on premises whatever the tenant's list hides.
        assert_eq!(statuses(&cut), [Status::Fail]);
        assert!(cut[0].message.contains("only in the tenant: fabrikam.com, litware.com"), "{}", cut[0].message);
        assert!(cut[0].message.contains("more may differ"), "{}", cut[0].message);
        let same = text.replace("Domain=fabrikam.com, Domain=litware.com", "Domain=northwind.com");
        let unsure = run(&TenantListParity {}, &same, &[]);
        assert_eq!(statuses(&unsure), [Status::Error], "{}", unsure[0].message);
    }
}

//! `tenant_federation_mode`: in a split domain, open federation on one side
//! needs open federation on the other: partner discovery on the Access Edge
//! goes with a tenant that allows all known domains, a closed allowed list
//! with a tenant that lists its partners.

use serde::Deserialize;
use serde_json::json;

use super::Check;
use super::config::captured;
use crate::facts::snapshot::ObjectKind;
use crate::facts::values::{TenantList, tenant_list_of};
use crate::facts::values::{as_bool, show};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantFederationMode {}

impl Check for TenantFederationMode {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let edge = match captured(ctx, ObjectKind::AccessEdgeConfiguration) {
            Ok(objects) => objects[0],
            Err(outcome) => return vec![outcome],
        };
        let tenant = match captured(ctx, ObjectKind::TenantFederationConfiguration) {
            Ok(objects) => objects[0],
            Err(outcome) => return vec![outcome],
        };
        let label = Target::from(&edge);
        // (A cut AllowedDomains list is still an explicit list; a setting in
        // doubt is unknown.)
        if let Some(why) = edge.object.doubt("EnablePartnerDiscovery") {
            return vec![Outcome::error(&label, why)];
        }
        let Some((_, discovery_value)) = edge.object.get("EnablePartnerDiscovery") else {
            return vec![Outcome::skip(&label, "EnablePartnerDiscovery is not in the Access Edge export")];
        };
        let Some(allowed) = tenant.object.get("AllowedDomains").map(|(_, v)| v) else {
            return vec![Outcome::skip(&label, "AllowedDomains is not in the tenant export")];
        };
        let discovery = as_bool(discovery_value) == Some(true);
        let open = tenant_list_of(tenant.object, "AllowedDomains") == TenantList::AllKnown;
        let evidence = json!({
            "access_edge_source": edge.location(Some("EnablePartnerDiscovery")),
            "EnablePartnerDiscovery": discovery_value,
            "tenant_source": tenant.location(Some("AllowedDomains")),
            "tenant_AllowedDomains": allowed,
        });
        let on_prem = if discovery {
            "partner discovery is on (open federation)"
        } else {
            "partner discovery is off (closed federation)"
        };
        let online = if open { "the tenant allows all known domains" } else { "the tenant allows only listed domains" };
        let outcome = if discovery == open {
            Outcome::pass(&label, format!("{on_prem} and {online}"))
        } else {
            Outcome::fail(
                &label,
                format!("{on_prem} but {online} (EnablePartnerDiscovery is {})", show(discovery_value)),
            )
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
    fn modes_must_agree() {
        let snap = |disc: bool, allowed: &str| {
            format!(
                r#"{{"Get-CsAccessEdgeConfiguration":[{{"AllowFederatedUsers":true,"EnablePartnerDiscovery":{disc}}}],
                "Get-CsTenantFederationConfiguration":[{{"AllowedDomains":{allowed},"BlockedDomains":{{}}}}]}}"#
            )
        };
        assert_eq!(statuses(&run(&TenantFederationMode {}, &snap(true, "{}"), &[])), [Status::Pass]);
        assert_eq!(statuses(&run(&TenantFederationMode {}, &snap(false, "{}"), &[])), [Status::Fail]);
        assert_eq!(
            statuses(&run(&TenantFederationMode {}, &snap(true, r#"[{"AllowedDomain":"contoso.com"}]"#), &[])),
            [Status::Fail]
        );
    }
}

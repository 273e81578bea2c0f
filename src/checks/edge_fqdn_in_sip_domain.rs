//! `edge_fqdn_in_sip_domain`: each Edge's Access Edge external FQDN is a host
//! directly inside one of the SIP domains (`sip.contoso.com` for
//! `contoso.com`), which partner discovery has required since 2019.

use serde::Deserialize;
use serde_json::json;

use super::Check;
use super::config::{captured, unproven};
use crate::facts::names::is_direct_child;
use crate::facts::snapshot::ObjectKind;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeFqdnInSipDomain {}

impl Check for EdgeFqdnInSipDomain {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let edges = match captured(ctx, ObjectKind::EdgeService) {
            Ok(edges) if edges.is_empty() => {
                return vec![Outcome::skip(Target::config("EdgeService"), "the snapshot lists no Edge service")];
            }
            Ok(edges) => edges,
            Err(outcome) => return vec![outcome],
        };
        let sip_domains = ctx.config.sip_domains();
        let domains = &sip_domains.names;
        if domains.is_empty() && sip_domains.incomplete.is_none() {
            return vec![Outcome::skip(
                Target::config("EdgeService"),
                "no SIP domains known: include `Get-CsSipDomain` output or name the domains on the command line",
            )];
        }
        let list = domains.iter().cloned().collect::<Vec<_>>().join(", ");
        edges
            .iter()
            .map(|edge| {
                let label = Target::from(edge);
                if let Some(why) = edge.object.doubt("AccessEdgeExternalFqdn") {
                    return Outcome::error(&label, why);
                }
                let Some(fqdn) = edge.object.get("AccessEdgeExternalFqdn").and_then(|(_, v)| v.as_str()) else {
                    return Outcome::skip(&label, "AccessEdgeExternalFqdn is not in the export");
                };
                let fqdn = fqdn.trim().trim_end_matches('.').to_ascii_lowercase();
                let evidence = json!({
                    "source": edge.location(Some("AccessEdgeExternalFqdn")),
                    "access_edge_fqdn": fqdn,
                    "sip_domains": domains,
                });
                let outcome = match domains.iter().find(|d| is_direct_child(&fqdn, d)) {
                    Some(domain) => {
                        Outcome::pass(&label, format!("{fqdn} is a host directly inside SIP domain {domain}"))
                    }
                    None if fqdn.is_empty() => Outcome::fail(&label, "AccessEdgeExternalFqdn is empty"),
                    None if sip_domains.incomplete.is_some() => unproven(
                        &label,
                        &format!("{fqdn} is a host directly inside a SIP domain"),
                        format!(
                            "it is inside none of those known ({list}); {}",
                            sip_domains.incomplete.clone().unwrap_or_default()
                        ),
                    ),
                    None => {
                        Outcome::fail(&label, format!("{fqdn} is not a host directly inside any SIP domain ({list})"))
                    }
                };
                outcome.evidence(evidence).var(Placeholder::Fqdn, fqdn)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{run, statuses};
    use crate::findings::Status;
    #[test]
    fn direct_children_only() {
        let snap = |fqdn: &str| {
            format!(
                r#"{{"Get-CsSipDomain":[{{"Identity":"contoso.com","Name":"contoso.com","IsDefault":true}}],
                "Get-CsService":[{{"Identity":"EdgeServer:e.contoso.net","AccessEdgeExternalFqdn":"{fqdn}"}}]}}"#
            )
        };
        assert_eq!(statuses(&run(&EdgeFqdnInSipDomain {}, &snap("sip.contoso.com"), &[])), [Status::Pass]);
        assert_eq!(statuses(&run(&EdgeFqdnInSipDomain {}, &snap("sip.it.contoso.com"), &[])), [Status::Fail]);
        assert_eq!(statuses(&run(&EdgeFqdnInSipDomain {}, &snap("sip.contoso-edge.com"), &[])), [Status::Fail]);
    }
}

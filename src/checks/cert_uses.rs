//! `cert_uses`: a `Get-CsCertificate` listing taken on an Edge has a
//! certificate assigned to every role federation needs. A listing is from
//! an Edge when it shows a role only Edges have.
//!
//! ```toml
//! kind = "cert_uses"
//! required = ["AccessEdgeExternal", "Internal"]
//! edge_uses = ["AccessEdgeExternal", "DataEdgeExternal", "AudioVideoAuthentication"]
//! ```

use serde::Deserialize;
use serde_json::json;

use super::config::{captured, unproven};
use super::{Check, Problem};
use crate::facts::snapshot::ObjectKind;
use crate::facts::values::as_list;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertUses {
    required: Vec<String>,
    edge_uses: Vec<String>,
}

impl Check for CertUses {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let listing = match captured(ctx, ObjectKind::Certificate) {
            Ok(listing) => listing,
            Err(outcome) => return vec![outcome],
        };
        let target = Target::config("Certificate");
        // (role, thumbprint, where)
        let mut assigned: Vec<(String, String, String)> = Vec::new();
        for located in listing.iter() {
            if let Some(why) = located.object.doubt("Use") {
                return vec![Outcome::error(&target, format!("{}: {why}", located.location(Some("Use"))))];
            }
            let thumbprint =
                located.object.get("Thumbprint").and_then(|(_, v)| v.as_str()).unwrap_or("(no thumbprint)").trim();
            for role in located.object.get("Use").map(|(_, v)| as_list(v)).unwrap_or_default() {
                assigned.push((role, thumbprint.to_string(), located.location(Some("Use"))));
            }
        }
        let has = |role: &str| assigned.iter().find(|(r, _, _)| r.eq_ignore_ascii_case(role));
        let roles: Vec<&str> = assigned.iter().map(|(r, _, _)| r.as_str()).collect();
        let evidence = json!({
            "assigned": assigned.iter().map(|(r, t, at)| json!({"use": r, "thumbprint": t, "source": at})).collect::<Vec<_>>(),
            "required": self.required,
        });
        let incomplete = listing.lacks_proof(Some("Use"));
        if !self.edge_uses.iter().any(|u| has(u).is_some()) {
            let outcome = match incomplete {
                Some(why) => unproven(&target, "the listing is from an Edge", why),
                None => Outcome::skip(
                    &target,
                    format!(
                        "the listing is not from an Edge (roles: {}); run Get-CsCertificate on the Edge",
                        if roles.is_empty() { "none".to_string() } else { roles.join(", ") }
                    ),
                ),
            };
            return vec![outcome.evidence(evidence)];
        }
        let missing: Vec<&str> = self.required.iter().map(String::as_str).filter(|r| has(r).is_none()).collect();
        let outcome = match (missing.first(), incomplete) {
            (None, _) => {
                let shown: Vec<String> =
                    self.required.iter().filter_map(|r| has(r)).map(|(r, t, _)| format!("{r} ({t})")).collect();
                Outcome::pass(&target, format!("certificates are assigned to {}", shown.join(", ")))
            }
            (Some(_), Some(why)) => {
                unproven(&target, &format!("a certificate is assigned to {}", missing.join(" and ")), why)
            }
            (Some(first), None) => Outcome::fail(
                &target,
                format!("no certificate is assigned to {} (assigned: {})", missing.join(", "), roles.join(", ")),
            )
            .var(Placeholder::Identity, first.to_string()),
        };
        vec![outcome.evidence(evidence)]
    }

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.required.is_empty() {
            problems.push(Problem::at("required", "`required` names no role"));
        }
        if self.edge_uses.is_empty() {
            problems.push(Problem::at("edge_uses", "`edge_uses` names no role"));
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
    fn roles_on_an_edge() {
        let check: CertUses = parse(
            r#"required = ["AccessEdgeExternal", "Internal"]
               edge_uses = ["AccessEdgeExternal", "DataEdgeExternal"]"#,
        );
        let listing = |uses: &str| format!(r#"{{"Get-CsCertificate":[{uses}]}}"#);
        let both = listing(r#"{"Use":"AccessEdgeExternal","Thumbprint":"AA"},{"Use":"Internal","Thumbprint":"BB"}"#);
        assert_eq!(statuses(&run(&check, &both, &[])), [Status::Pass]);
        let external_only = listing(r#"{"Use":"AccessEdgeExternal","Thumbprint":"AA"}"#);
        let out = run(&check, &external_only, &[]);
        assert_eq!(statuses(&out), [Status::Fail]);
        assert!(out[0].message.contains("no certificate is assigned to Internal"), "{}", out[0].message);
        let front_end = listing(r#"{"Use":"Default","Thumbprint":"CC"}"#);
        assert_eq!(statuses(&run(&check, &front_end, &[])), [Status::Skip]);
    }
}

//! `domain_lists_disjoint`: no domain is both allowed and blocked.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::json;

use super::Check;
use super::config::{DOMAIN_NAME, captured, domain_names, unproven};
use crate::facts::snapshot::ObjectKind;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainListsDisjoint {}

impl Check for DomainListsDisjoint {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let (allowed, blocked, unsure) =
            match (captured(ctx, ObjectKind::AllowedDomain), captured(ctx, ObjectKind::BlockedDomain)) {
                (Ok(allowed), Ok(blocked)) => (
                    domain_names(&allowed),
                    domain_names(&blocked),
                    allowed.lacks_proof(Some(DOMAIN_NAME)).or_else(|| blocked.lacks_proof(Some(DOMAIN_NAME))),
                ),
                (Err(outcome), _) | (_, Err(outcome)) => return vec![outcome],
            };
        let blocked_at: HashMap<&str, &str> = blocked.iter().rev().map(|(d, at)| (d.as_str(), at.as_str())).collect();
        let both: Vec<String> = allowed
            .iter()
            .filter_map(|(domain, at)| {
                blocked_at.get(domain.as_str()).map(|b| format!("{domain} (allowed at {at}, blocked at {b})"))
            })
            .collect();
        let evidence = json!({
            "allowed": allowed.iter().map(|(d, _)| d).collect::<Vec<_>>(),
            "blocked": blocked.iter().map(|(d, _)| d).collect::<Vec<_>>(),
        });
        let outcome = if let (true, Some(why)) = (both.is_empty(), unsure) {
            unproven(Target::config("AllowedDomain/BlockedDomain"), "no domain is both allowed and blocked", why)
        } else if both.is_empty() {
            Outcome::pass(
                Target::config("AllowedDomain/BlockedDomain"),
                format!("{} allowed and {} blocked domains, none on both lists", allowed.len(), blocked.len()),
            )
        } else {
            let first = both[0].split(' ').next().unwrap_or_default().to_string();
            Outcome::fail(Target::config("AllowedDomain/BlockedDomain"), format!("on both lists: {}", both.join("; ")))
                .var(Placeholder::Domain, first)
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
    fn overlap_fails() {
        let ok = r#"{"Get-CsAllowedDomain":[{"Domain":"a.com"}],"Get-CsBlockedDomain":[{"Domain":"b.com"}]}"#;
        assert_eq!(statuses(&run(&DomainListsDisjoint {}, ok, &[])), [Status::Pass]);
        let bad = r#"{"Get-CsAllowedDomain":[{"Domain":"a.com"}],"Get-CsBlockedDomain":[{"Domain":"A.com."}]}"#;
        let out = run(&DomainListsDisjoint {}, bad, &[]);
        assert_eq!((out[0].status, out[0].vars[&Placeholder::Domain].as_str()), (Status::Fail, "a.com"));
    }
}

//! `policy_granted`: per-user (`Tag:`) external access policies that enable
//! something are granted to at least one user; an ungranted policy changes
//! nothing. Needs `Get-CsUser | Select-Object SipAddress,Enabled,ExternalAccessPolicy`:
//! a holder counts only when shown enabled.
//!
//! ```toml
//! kind = "policy_granted"
//! enabling = ["EnableFederationAccess", "EnablePublicCloudAccess"]
//! ```

use serde::Deserialize;
use serde_json::json;

use super::config::captured;
use super::{Check, Problem};
use crate::facts::config_view::Holders;
use crate::facts::snapshot::ObjectKind;
use crate::facts::values::as_bool;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyGranted {
    enabling: Vec<String>,
}

impl Check for PolicyGranted {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let policies = match captured(ctx, ObjectKind::ExternalAccessPolicy) {
            Ok(listing) => listing,
            Err(outcome) => return vec![outcome],
        };
        let tagged: Vec<_> = policies
            .iter()
            .copied()
            .filter(|l| l.object.identity().is_some_and(|id| id.to_ascii_lowercase().starts_with("tag:")))
            .filter(|l| self.enabling.iter().any(|p| l.object.get(p).and_then(|(_, v)| as_bool(v)) == Some(true)))
            .collect();
        if tagged.is_empty() {
            return vec![Outcome::skip(
                Target::config("ExternalAccessPolicy"),
                "no per-user (Tag:) policy enables external access",
            )];
        }
        tagged
            .iter()
            .map(|policy| {
                let identity = policy.object.identity().unwrap_or_default();
                let tag = identity[4..].trim().to_string();
                let holders = ctx.config.policy_holders("ExternalAccessPolicy", &identity);
                let outcome = match &holders {
                    Holders::Counted { holders, users, .. } if *holders > 0 => {
                        Outcome::pass(policy, format!("granted to {holders} enabled user(s) of the {users} listed"))
                    }
                    Holders::Counted { users, disabled, .. } => {
                        Outcome::fail(policy, format!("granted to none of the {users} users listed{}", Holders::only_disabled(*disabled)))
                    }
                    Holders::NoUsers => Outcome::skip(
                        policy,
                        "needs `Get-CsUser | Select-Object SipAddress,Enabled,ExternalAccessPolicy` output to see who holds the per-user policies",
                    ),
                    Holders::Unknown(why) => Outcome::error(policy, format!("cannot tell who holds it: {why}")),
                };
                let evidence = match holders {
                    Holders::Counted { holders, users, disabled } => json!({
                        "source": policy.location(None), "users_checked": users, "holders": holders, "disabled_holders": disabled
                    }),
                    _ => json!({ "source": policy.location(None) }),
                };
                outcome.evidence(evidence).var(Placeholder::Identity, tag)
            })
            .collect()
    }

    fn validate(&self) -> Vec<Problem> {
        if self.enabling.is_empty() {
            vec![Problem::at("enabling", "`enabling` names no property")]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{parse, run, statuses};
    use crate::findings::Status;
    #[test]
    fn tag_policy_holders() {
        let check: PolicyGranted = parse(r#"enabling = ["EnablePublicCloudAccess"]"#);
        let snap = |user_policy: &str, enabled: &str| {
            format!(
                r#"{{"Get-CsExternalAccessPolicy":[{{"Identity":"Tag:PIC","EnablePublicCloudAccess":true}}],
                "Get-CsUser":[{{"SipAddress":"sip:a@contoso.com","ExternalAccessPolicy":"{user_policy}"{enabled}}}]}}"#
            )
        };
        assert_eq!(statuses(&run(&check, &snap("PIC", r#","Enabled":true"#), &[])), [Status::Pass]);
        assert_eq!(statuses(&run(&check, &snap("Other", r#","Enabled":true"#), &[])), [Status::Fail]);
        // A disabled holder reaches no one; one whose Enabled is not shown
        // may be disabled: never a pass.
        let disabled = run(&check, &snap("PIC", r#","Enabled":false"#), &[]);
        assert_eq!(statuses(&disabled), [Status::Fail]);
        assert!(disabled[0].message.contains("but 1 disabled user(s)"), "{}", disabled[0].message);
        let unshown = run(&check, &snap("PIC", ""), &[]);
        assert_eq!(statuses(&unshown), [Status::Error]);
        assert!(unshown[0].message.contains("SipAddress,Enabled,ExternalAccessPolicy"), "{}", unshown[0].message);
    }
}

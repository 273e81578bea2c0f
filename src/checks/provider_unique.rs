//! `provider_unique`: no two providers, public or hosting, share an identity
//! or a proxy FQDN (the cmdlets refuse it, but imported or hand-edited
//! configurations have it, and the Edge then fails to start its routing).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::Check;
use super::config::{captured, unproven};
use crate::facts::config_view::Located;
use crate::facts::snapshot::ObjectKind;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Status, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderUnique {}

impl Check for ProviderUnique {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let mut providers: Vec<Located> = Vec::new();
        let mut missing = Vec::new();
        let mut subset = None;
        for kind in [ObjectKind::PublicProvider, ObjectKind::HostingProvider] {
            match captured(ctx, kind) {
                Ok(listing) => {
                    subset = subset.or(listing.lacks_proof(Some("ProxyFqdn")));
                    providers.extend(listing.iter().copied())
                }
                Err(outcome) => missing.push(outcome),
            }
        }
        // A provider list the export failed to read could hold the clash.
        if let Some(failed) = missing.iter().position(|o| o.status == Status::Error) {
            return vec![missing.remove(failed)];
        }
        if missing.len() == 2 {
            return vec![missing.remove(0)];
        }
        let mut clashes = Vec::new();
        for property in ["Identity", "ProxyFqdn"] {
            let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for located in providers.iter().filter(|l| l.object.doubt(property).is_none()) {
                if let Some(value) = located.object.get(property).and_then(|(_, v)| v.as_str()) {
                    let key = value.trim().trim_end_matches('.').to_ascii_lowercase();
                    if !key.is_empty() {
                        seen.entry(key).or_default().push(format!(
                            "{} ({})",
                            located.object.label(),
                            located.location(None)
                        ));
                    }
                }
            }
            for (value, holders) in seen.into_iter().filter(|(_, h)| h.len() > 1) {
                clashes.push(format!("{property} {value} is shared by {}", holders.join(" and ")));
            }
        }
        let note = if missing.is_empty() {
            String::new()
        } else {
            format!(" ({})", missing.iter().map(|o| o.message.clone()).collect::<Vec<_>>().join("; "))
        };
        let evidence = json!({ "providers": providers.iter().map(|l| l.object.label()).collect::<Vec<_>>() });
        let outcome = if let (true, Some(why)) = (clashes.is_empty(), subset) {
            unproven(Target::config("providers"), "every provider has its own identity and proxy FQDN", why)
        } else if clashes.is_empty() {
            Outcome::pass(
                Target::config("providers"),
                format!("{} providers, all with distinct identities and proxy FQDNs{note}", providers.len()),
            )
        } else {
            Outcome::fail(Target::config("providers"), clashes.join("; "))
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
    fn shared_proxy_across_kinds() {
        let bad = r#"{"Get-CsPublicProvider":[{"Identity":"Skype","ProxyFqdn":"sipfed.online.lync.com"}],
                      "Get-CsHostingProvider":[{"Identity":"Online","ProxyFqdn":"SIPFED.online.lync.com"}]}"#;
        assert_eq!(statuses(&run(&ProviderUnique {}, bad, &[])), [Status::Fail]);
        let ok = r#"{"Get-CsPublicProvider":[{"Identity":"Skype","ProxyFqdn":"federation.messenger.msn.com"}]}"#;
        assert_eq!(statuses(&run(&ProviderUnique {}, ok, &[])), [Status::Pass]);
        assert_eq!(statuses(&run(&ProviderUnique {}, r#"{"Get-CsSipDomain":[]}"#, &[])), [Status::Skip]);
    }
}

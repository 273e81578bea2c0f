//! `product_level`: the product supports what Lync–Skype connectivity relies
//! on: name decoration (Lync Server 2013 CU5 and later) and Skype directory
//! search (Skype for Business Server only).

use serde::Deserialize;
use serde_json::json;

use super::Check;
use super::config::product;
use crate::facts::config_view::Objects;
use crate::facts::snapshot::ObjectKind;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Target};

const SKYPE_PROXY: &str = "federation.messenger.msn.com";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductLevel {}

impl Check for ProductLevel {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let product = match product(ctx) {
            Ok(product) => product,
            Err(outcome) => return vec![outcome],
        };
        let evidence = json!({ "product": product.name, "evidence": product.evidence });
        let name = Target::Product(product.name.clone());
        let product_name = product.name.as_str();
        let outcome = if product_name.starts_with("Skype for Business") {
            Outcome::pass(&name, format!("{} supports name decoration and Skype directory search", product.name))
        } else if product_name == "Lync Server 2010" {
            Outcome::fail(&name, "Lync Server 2010 supports neither name decoration nor Skype directory search")
        } else {
            // Lync Server 2013: CU5 added name decoration, which the Skype
            // provider shows as NameDecorationRoutingDomain.
            let provider = match ctx.config.objects(ObjectKind::PublicProvider) {
                Objects::Captured(listing) => listing.objects.into_iter().find(|l| {
                    l.object
                        .get("ProxyFqdn")
                        .and_then(|(_, v)| v.as_str())
                        .is_some_and(|p| p.trim().eq_ignore_ascii_case(SKYPE_PROXY))
                }),
                _ => None,
            };
            match provider {
                Some(l) if l.object.get("NameDecorationRoutingDomain").is_none() => Outcome::skip(
                    &name,
                    format!(
                        "the Skype provider's export ({}) does not show NameDecorationRoutingDomain; a build before CU5 lacks it, but so does an export that left it out, so the cumulative update cannot be told; export the provider with `Format-List *`",
                        l.location(None)
                    ),
                ),
                Some(_) => Outcome::pass(
                    &name,
                    "Lync Server 2013 with name decoration (CU5 or later); Skype directory search would need Skype for Business Server",
                ),
                None => {
                    Outcome::skip(&name, "no Skype public provider in the snapshot to tell the cumulative update from")
                }
            }
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
    fn cumulative_update_only_from_what_is_there() {
        let base = r#""Get-CsServerVersion":[{"Version":"Lync Server 2013 (5.0.8308.0)"}]"#;
        let old = format!(
            r#"{{{base},"Get-CsPublicProvider":[{{"Identity":"Skype","ProxyFqdn":"federation.messenger.msn.com","IconUrl":""}}]}}"#
        );
        // What a build before CU5 lacks, an export may leave out: not a verdict.
        assert_eq!(statuses(&run(&ProductLevel {}, &old, &[])), [Status::Skip]);
        let cu5 = format!(
            r#"{{{base},"Get-CsPublicProvider":[{{"Identity":"Skype","ProxyFqdn":"federation.messenger.msn.com","IconUrl":"","NameDecorationRoutingDomain":"msn.com"}}]}}"#
        );
        assert_eq!(statuses(&run(&ProductLevel {}, &cu5, &[])), [Status::Pass]);
    }
}

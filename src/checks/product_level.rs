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
            // Lync Server 2013: CU5 added name decoration; a complete export of
            // the Skype provider from an earlier build lacks its properties.
            let provider = match ctx.config.objects(ObjectKind::PublicProvider) {
                Objects::Captured(objects) => objects.into_iter().find(|l| {
                    l.object
                        .get("ProxyFqdn")
                        .and_then(|(_, v)| v.as_str())
                        .is_some_and(|p| p.trim().eq_ignore_ascii_case(SKYPE_PROXY))
                }),
                _ => None,
            };
            match provider {
                Some(l)
                    if l.object.get("IconUrl").is_some() && l.object.get("NameDecorationRoutingDomain").is_none() =>
                {
                    Outcome::fail(
                        &name,
                        format!(
                            "the Skype provider ({}) has no name decoration properties: Lync Server 2013 is older than CU5, so users must type Skype addresses as user(domain)@msn.com; Skype directory search needs Skype for Business Server",
                            l.location(None)
                        ),
                    )
                }
                Some(l) if l.object.get("NameDecorationRoutingDomain").is_some() => Outcome::pass(
                    &name,
                    "Lync Server 2013 with name decoration (CU5 or later); Skype directory search would need Skype for Business Server",
                ),
                Some(l) => Outcome::skip(
                    &name,
                    format!(
                        "the Skype provider's export ({}) leaves out IconUrl and the name decoration properties, which tell the cumulative update; export it with `Format-List *`",
                        l.location(None)
                    ),
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
    fn pre_cu5_lync() {
        let base = r#""Get-CsServerVersion":[{"Version":"Lync Server 2013 (5.0.8308.0)"}]"#;
        let old = format!(
            r#"{{{base},"Get-CsPublicProvider":[{{"Identity":"Skype","ProxyFqdn":"federation.messenger.msn.com","IconUrl":""}}]}}"#
        );
        assert_eq!(statuses(&run(&ProductLevel {}, &old, &[])), [Status::Fail]);
        let cu5 = format!(
            r#"{{{base},"Get-CsPublicProvider":[{{"Identity":"Skype","ProxyFqdn":"federation.messenger.msn.com","IconUrl":"","NameDecorationRoutingDomain":"msn.com"}}]}}"#
        );
        assert_eq!(statuses(&run(&ProductLevel {}, &cu5, &[])), [Status::Pass]);
    }
}

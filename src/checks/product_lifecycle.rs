//! `product_lifecycle`: the product is still supported on the evaluation date.
//!
//! ```toml
//! kind = "product_lifecycle"
//! end_of_support = { "Lync Server 2013" = "2023-04-11" }
//! supported = ["Skype for Business Server Subscription Edition"]
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;
use time::Date;
use time::macros::format_description;

use super::config::product;
use super::{Check, Problem};
use crate::facts::view::FactView;
use crate::findings::{Outcome, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductLifecycle {
    end_of_support: BTreeMap<String, String>,
    #[serde(default)]
    supported: Vec<String>,
}

fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text, format_description!("[year]-[month]-[day]")).ok()
}

impl Check for ProductLifecycle {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let product = match product(ctx) {
            Ok(product) => product,
            Err(outcome) => return vec![outcome],
        };
        let evidence = json!({ "product": product.name, "evidence": product.evidence });
        let target = Target::Product(product.name.clone());
        if !product.exact {
            return vec![
                Outcome::skip(
                    &target,
                    format!(
                        "only the family is known ({}); include `Get-CsServerVersion` output to tell the release",
                        product.evidence
                    ),
                )
                .evidence(evidence),
            ];
        }
        if self.supported.iter().any(|p| p.eq_ignore_ascii_case(&product.name)) {
            return vec![
                Outcome::pass(&target, format!("{} is in support ({})", product.name, product.evidence))
                    .evidence(evidence),
            ];
        }
        let end = self.end_of_support.iter().find(|(name, _)| name.eq_ignore_ascii_case(&product.name));
        let outcome = match end.and_then(|(_, date)| parse_date(date)) {
            None => Outcome::skip(&target, format!("no end-of-support date is recorded for {}", product.name)),
            Some(end) if ctx.now.date() >= end => Outcome::fail(
                &target,
                format!(
                    "{} has been out of support since {end}: no security fixes ({})",
                    product.name, product.evidence
                ),
            ),
            Some(end) => {
                Outcome::pass(&target, format!("{} is supported until {end} ({})", product.name, product.evidence))
            }
        };
        vec![outcome.evidence(evidence)]
    }

    fn validate(&self) -> Vec<Problem> {
        self.end_of_support
            .iter()
            .filter(|(_, date)| parse_date(date).is_none())
            .map(|(name, date)| {
                Problem::at("end_of_support", format!("end_of_support for {name:?}: {date:?} is not a YYYY-MM-DD date"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{parse, run, statuses};
    use crate::findings::Status;
    #[test]
    fn lifecycle_by_version_text() {
        let check: ProductLifecycle = parse(
            r#"end_of_support = { "Lync Server 2013" = "2023-04-11", "Skype for Business Server 2019" = "2030-01-01" }"#,
        );
        let lync =
            r#"{"Get-CsServerVersion":[{"Version":"Lync Server 2013 (5.0.8308.0): Volume license key installed."}]}"#;
        assert_eq!(statuses(&run(&check, lync, &[])), [Status::Fail]);
        let sfb = r#"{"Get-CsServerVersion":[{"Version":"Skype for Business Server 2019 (7.0.2046.0)"}]}"#;
        assert_eq!(statuses(&run(&check, sfb, &[])), [Status::Pass]);
        assert_eq!(statuses(&run(&check, r#"{"Get-CsSipDomain":[]}"#, &[])), [Status::Skip]);
    }
}

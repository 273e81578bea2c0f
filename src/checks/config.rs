//! Reading the configuration for the configuration kinds (not a kind
//! itself): the objects of a kind or the outcome that says why they cannot
//! be judged, and selection by property.

use std::collections::BTreeMap;

use serde_json::json;

use super::matcher::{Matcher, Verdict};
use crate::facts::config_view::{Located, Objects, Product};
use crate::facts::names::canonical;
use crate::facts::snapshot::ObjectKind;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Target};

/// The objects of `kind`, or the outcome that says why they cannot be read:
/// not in any snapshot (skip), the cmdlet failed (error), or a one-instance
/// object missing from its cmdlet's output (error).
pub fn captured<'a>(ctx: &FactView<'a>, kind: ObjectKind) -> Result<Vec<Located<'a>>, Outcome> {
    let target = Target::config(kind.name());
    match ctx.config.objects(kind) {
        Objects::NotCaptured if !ctx.config.has_snapshots() => {
            Err(Outcome::skip(target, "no configuration snapshot was given (--config)"))
        }
        Objects::NotCaptured => Err(Outcome::skip(target, format!("the snapshot has no `{}` output", kind.cmdlet()))),
        Objects::Failed { location } => Err(Outcome::error(
            target,
            format!("`{}` printed an error ({location}), so its settings could not be read", kind.cmdlet()),
        )
        .evidence(json!({ "source": location }))),
        Objects::Captured(objects) if objects.is_empty() && kind.is_singleton() => Err(Outcome::error(
            target,
            format!(
                "`{}` returned nothing; every deployment has one, so the export failed and its settings could not be checked",
                kind.cmdlet()
            ),
        )),
        Objects::Captured(objects) => Ok(objects),
    }
}

/// The product the snapshot shows, or the skip that says it cannot be told.
pub fn product(ctx: &FactView) -> Result<Product, Outcome> {
    ctx.config.product().ok_or_else(|| {
        Outcome::skip(
            Target::Product("product".into()),
            "the product version cannot be told from the snapshot; include `Get-CsServerVersion` output",
        )
    })
}

/// Keeps the objects whose properties match every selector. Objects lacking
/// a selected property are left out.
pub fn select<'a>(objects: Vec<Located<'a>>, selectors: &BTreeMap<String, Matcher>) -> Vec<Located<'a>> {
    objects
        .into_iter()
        .filter(|located| {
            selectors.iter().all(|(name, matcher)| {
                located.object.get(name).is_some_and(|(_, v)| matcher.check(located.object, name, v) == Verdict::Match)
            })
        })
        .collect()
}

/// How many items of a list a message names before it counts the rest.
pub const SHOWN: usize = 10;

/// "a, b, c", or "a, b, … and 12 more" past [`SHOWN`] items.
pub fn some_of(items: &[String]) -> String {
    match items.len() {
        n if n <= SHOWN => items.join(", "),
        n => format!("{} and {} more", items[..SHOWN].join(", "), n - SHOWN),
    }
}

/// "ProxyFqdn = federation.messenger.msn.com, Enabled = True"
pub fn describe(selectors: &BTreeMap<String, Matcher>) -> String {
    selectors.iter().map(|(k, m)| format!("{k} = {m}")).collect::<Vec<_>>().join(", ")
}

/// The canonical names of allowed/blocked domain entries, with where each was read.
pub fn domain_names(objects: &[Located]) -> Vec<(String, String)> {
    objects
        .iter()
        .filter_map(|located| {
            let name = located
                .object
                .get("Domain")
                .or_else(|| located.object.get("Identity"))
                .and_then(|(_, v)| v.as_str())?;
            let name = canonical(name);
            (!name.is_empty()).then(|| (name, located.location(None)))
        })
        .collect()
}

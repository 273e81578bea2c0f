//! Reading the configuration for the configuration kinds (not a kind
//! itself): the objects of a kind or the outcome that says why they cannot
//! be judged, and selection by property.

use std::collections::BTreeMap;

use serde_json::json;

use super::matcher::{Matcher, Verdict};
use crate::facts::config_view::{Listing, Located, Objects, Product};
use crate::facts::names::canonical;
use crate::facts::snapshot::ObjectKind;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Target};

/// The objects of `kind`, or the outcome that says why they cannot be read:
/// not in any snapshot (skip), the cmdlet failed (error), or a one-instance
/// object missing from its cmdlet's output (error).
pub fn captured<'a>(ctx: &FactView<'a>, kind: ObjectKind) -> Result<Listing<'a>, Outcome> {
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
        Objects::Captured(listing) if listing.is_empty() && kind.is_singleton() => Err(Outcome::error(
            target,
            format!(
                "`{}` returned nothing; every deployment has one, so the export failed and its settings could not be checked",
                kind.cmdlet()
            ),
        )),
        Objects::Captured(listing) => Ok(listing),
    }
}

/// The error for a conclusion the listing cannot support because of what
/// it may lack (see [`Listing::lacks_proof`]).
pub fn unproven(target: impl Into<Target>, conclusion: &str, why: String) -> Outcome {
    Outcome::error(target, format!("cannot tell whether {conclusion}: {why}"))
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

/// The objects a selection picks, and those it cannot decide on.
pub struct Selection<'a> {
    pub chosen: Vec<Located<'a>>,
    /// Objects whose selected properties are not known with certainty, and why.
    pub undecided: Vec<(Located<'a>, String)>,
}

/// Keeps the objects whose properties match every selector. Objects lacking
/// a selected property are left out; objects whose selected property is in
/// doubt (cut short, printed twice) are neither in nor out.
pub fn select<'a>(objects: &[Located<'a>], selectors: &BTreeMap<String, Matcher>) -> Selection<'a> {
    let mut selection = Selection { chosen: Vec::new(), undecided: Vec::new() };
    'objects: for located in objects.iter().copied() {
        let mut doubt = None;
        for (name, matcher) in selectors {
            let verdict = match located.object.get(name) {
                Some((_, v)) => matcher.check(located.object, name, v),
                None => match located.object.doubt(name) {
                    Some(why) => Verdict::Indeterminate(why),
                    None => continue 'objects,
                },
            };
            match verdict {
                Verdict::Match => {}
                Verdict::Mismatch => continue 'objects,
                Verdict::Indeterminate(why) => doubt = doubt.or(Some(why)),
            }
        }
        match doubt {
            None => selection.chosen.push(located),
            Some(why) => selection.undecided.push((located, why)),
        }
    }
    selection
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

/// The canonical names of allowed/blocked domain entries, with where each
/// was read. Entries whose name is in doubt are left out: the listing's
/// [`Listing::lacks_proof`] with [`DOMAIN_NAME`] says so.
pub fn domain_names(objects: &[Located]) -> Vec<(String, String)> {
    objects
        .iter()
        .filter_map(|located| {
            let property = if located.object.get("Domain").is_some() { "Domain" } else { "Identity" };
            if located.object.doubt(property).is_some() {
                return None;
            }
            let name = located.object.get(property).and_then(|(_, v)| v.as_str())?;
            let name = canonical(name);
            (!name.is_empty()).then(|| (name, located.location(None)))
        })
        .collect()
}

/// The property that names an allowed or blocked domain.
pub const DOMAIN_NAME: &str = "Domain";

//! Building facts from literal snapshots for the kinds' unit tests.

use super::Check;
use crate::facts::snapshot::parse_snapshot_bytes;
use crate::facts::view::FactView;
use crate::facts::{Facts, Inputs};
use crate::findings::{Outcome, Status};

pub fn facts(snapshot: &str) -> Facts {
    let mut facts = Facts::new(Inputs::default(), time::macros::datetime!(2026-01-01 0:00 UTC));
    facts.snapshots.push(parse_snapshot_bytes(snapshot.as_bytes(), "test.json").expect("valid snapshot"));
    facts
}

pub fn run(check: &dyn Check, snapshot: &str, partners: &[&str]) -> Vec<Outcome> {
    let mut facts = facts(snapshot);
    facts.inputs.partners = partners.iter().map(|s| s.to_string()).collect();
    let ctx = FactView::new(&facts, facts.gathered_at, None);
    check.evaluate(&ctx)
}

pub fn statuses(outcomes: &[Outcome]) -> Vec<Status> {
    outcomes.iter().map(|o| o.status).collect()
}

pub fn parse<T: serde::de::DeserializeOwned>(toml_text: &str) -> T {
    toml::from_str(toml_text).expect("valid parameters")
}

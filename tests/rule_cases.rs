//! Every built-in rule has at least one fixture where it passes and one where
//! it fails (`fixtures/rule_cases.toml`), and each fixture gives the verdict
//! it states. A rule added to rules/ without both fails this test.

use std::collections::{BTreeMap, BTreeSet};

use fedscan::engine;
use fedscan::facts::snapshot::parse_snapshot_bytes;
use fedscan::facts::{Facts, Inputs};
use fedscan::findings::Status;
use fedscan::rules::{Profile, RuleSet, Selection, builtin_sources, load_rules};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    rule: String,
    /// pass, fail, error or skip.
    expect: String,
    /// What the case shows (shown when it fails).
    about: String,
    /// Snapshot text, JSON or Format-List.
    snapshot: String,
    #[serde(default)]
    partners: Vec<String>,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    now: Option<String>,
}

fn rules() -> RuleSet {
    load_rules(&builtin_sources()).expect("built-in rules load")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/rule_cases.toml")).unwrap();
    toml::from_str::<Cases>(&text).unwrap_or_else(|e| panic!("fixtures/rule_cases.toml: {e}")).case
}

fn statuses(rules: &RuleSet, case: &Case) -> Vec<Status> {
    let rule = rules.get(&case.rule).unwrap_or_else(|| panic!("case for unknown rule {}", case.rule));
    let now = case.now.as_deref().map_or(OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_600), |t| {
        OffsetDateTime::parse(t, &Rfc3339).expect("RFC 3339 now")
    });
    let inputs = Inputs { domains: case.domains.clone(), partners: case.partners.clone(), config: vec!["case".into()] };
    let mut facts = Facts::new(inputs, now);
    let snapshot = parse_snapshot_bytes(case.snapshot.as_bytes(), "case.json")
        .unwrap_or_else(|e| panic!("{} ({}): snapshot does not parse: {e}", case.rule, case.about));
    facts.snapshots.push(snapshot);
    let selection = Selection::new(std::slice::from_ref(&rule.id), &[], rules).unwrap();
    let profiles: Vec<Profile> = rule.profiles.clone();
    engine::evaluate(rules, &selection, &facts, &profiles, now).iter().map(|f| f.status).collect()
}

#[test]
fn every_case_gives_its_verdict() {
    let rules = rules();
    let mut wrong = Vec::new();
    for case in cases() {
        let got = statuses(&rules, &case);
        let ok = match case.expect.as_str() {
            "pass" => !got.is_empty() && got.iter().all(|s| *s == Status::Pass),
            "fail" => got.contains(&Status::Fail),
            "error" => got.contains(&Status::Error) && !got.contains(&Status::Fail),
            "skip" => !got.is_empty() && got.iter().all(|s| *s == Status::Skip),
            other => panic!("{}: expect must be pass, fail, error or skip, not {other}", case.rule),
        };
        if !ok {
            wrong.push(format!("{} ({}): expected {}, got {:?}", case.rule, case.about, case.expect, got));
        }
    }
    assert!(wrong.is_empty(), "cases with the wrong verdict:\n{}", wrong.join("\n"));
}

#[test]
fn every_rule_has_a_passing_and_a_failing_case() {
    let rules = rules();
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for case in cases() {
        seen.entry(case.rule.to_ascii_uppercase()).or_default().insert(case.expect.clone());
    }
    let missing: Vec<String> = rules
        .rules
        .iter()
        .filter_map(|rule| {
            let have = seen.get(&rule.id).cloned().unwrap_or_default();
            let lacking: Vec<&str> = ["pass", "fail"].into_iter().filter(|s| !have.contains(*s)).collect();
            (!lacking.is_empty()).then(|| format!("{} lacks a {} case", rule.id, lacking.join(" and a ")))
        })
        .collect();
    assert!(missing.is_empty(), "fixtures/rule_cases.toml:\n{}", missing.join("\n"));
}

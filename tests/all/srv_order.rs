//! RFC 2782 ordering against `tests/data/srv/srv_vectors.json`:
//! the vectors other projects test their SRV code with. Statistical vectors
//! run enough trials that the stated tolerance holds for any seed.

use std::collections::BTreeMap;
use std::str::FromStr;

use fedscan::facts::srv::{Availability, Srv, XorShift, availability, order};
use hickory_proto::rr::{Name, RData};
use hickory_proto::serialize::txt::Parser;
use serde_json::Value;

fn vectors() -> BTreeMap<String, Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/srv/srv_vectors.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    file["vectors"].as_array().unwrap().iter().map(|v| (v["id"].as_str().unwrap().to_string(), v.clone())).collect()
}

/// `[priority, weight, port, target]` rows.
fn rows(value: &Value) -> Vec<Srv> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Srv {
            priority: r[0].as_u64().unwrap() as u16,
            weight: r[1].as_u64().unwrap() as u16,
            port: r[2].as_u64().unwrap() as u16,
            target: r[3].as_str().unwrap().trim_end_matches('.').to_string(),
        })
        .collect()
}

fn srv(target: &str, priority: u16, weight: u16) -> Srv {
    Srv { priority, weight, port: 443, target: target.into() }
}

/// How often each target comes first over `trials` orderings.
fn first_counts(records: &[Srv], trials: usize, seed: u64) -> BTreeMap<String, usize> {
    let mut rng = XorShift(seed);
    let mut counts = BTreeMap::new();
    for _ in 0..trials {
        let ordered = order(records, &mut |n| rng.below_or_equal(n));
        *counts.entry(ordered[0].target.clone()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn the_rfc_2782_example_zone() {
    let vectors = vectors();
    let vector = &vectors["rfc2782-example-zone"];
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/srv/rfc2782_example.zone")).unwrap();
    // The RFC's zone sets no TTL, which the parser requires; it changes no record.
    let text = format!("$TTL 3600\n{text}");
    let (_, records) = Parser::new(&text, None, Some(Name::from_str("example.com.").unwrap())).parse().unwrap();
    let mut parsed: Vec<(String, u16, u16, u16, String)> = records
        .values()
        .flat_map(|set| set.records_without_rrsigs())
        .filter_map(|r| match &r.data {
            RData::SRV(s) => Some((r.name.to_string(), s.priority, s.weight, s.port, s.target.to_string())),
            _ => None,
        })
        .collect();
    let mut expected: Vec<(String, u16, u16, u16, String)> = vector["expected_parse"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |i: usize| r[i].as_u64().unwrap() as u16;
            (r[0].as_str().unwrap().into(), n(1), n(2), n(3), r[4].as_str().unwrap().into())
        })
        .collect();
    parsed.sort();
    expected.sort();
    assert_eq!(parsed, expected);

    let foobar: Vec<Srv> = expected
        .iter()
        .filter(|r| r.0.starts_with("_foobar"))
        .map(|r| Srv { priority: r.1, weight: r.2, port: r.3, target: r.4.trim_end_matches('.').into() })
        .collect();
    let mut rng = XorShift(0x2782);
    let trials = 20_000;
    let mut fast_first = 0;
    let mut sysadmin_third = 0;
    for _ in 0..trials {
        let ordered = order(&foobar, &mut |n| rng.below_or_equal(n));
        assert!(ordered[..2].iter().all(|r| r.priority == 0) && ordered[2..].iter().all(|r| r.priority == 1));
        fast_first += usize::from(ordered[0].target == "new-fast-box.example.com");
        sysadmin_third += usize::from(ordered[2].target == "sysadmins-box.example.com");
    }
    // Weights 3:1 → three quarters; weights 0,0 → a half. Tolerance ±2 %.
    let share = |n: usize| n as f64 / trials as f64;
    assert!((share(fast_first) - 0.75).abs() < 0.02, "new-fast-box first {}", share(fast_first));
    assert!((share(sysadmin_third) - 0.5).abs() < 0.02, "sysadmins-box first of priority 1 {}", share(sysadmin_third));
    // `*._tcp SRV 0 0 0 .`: the service is decidedly not available.
    let wildcard: Vec<Srv> =
        expected.iter().filter(|r| r.0.starts_with('*')).take(1).map(|r| srv(&r.4, r.1, r.2)).collect();
    assert_eq!(availability(wildcard), Availability::NotOffered);
}

#[test]
fn interpretation_of_empty_dot_and_real_answers() {
    let vectors = vectors();
    assert_eq!(availability(rows(&vectors["wire-interpret-empty"]["input"])), Availability::Absent);
    assert_eq!(availability(rows(&vectors["wire-interpret-dot"]["input"])), Availability::NotOffered);
    let available = rows(&vectors["wire-interpret-available"]["input"]);
    assert_eq!(availability(available.clone()), Availability::Offered(available));
}

#[test]
fn priorities_come_in_order() {
    let vectors = vectors();
    let vector = &vectors["wire-order-priority"];
    let expected: Vec<u16> = vector["expected_priorities_after_ordering"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap() as u16)
        .collect();
    let mut rng = XorShift(7);
    for _ in 0..100 {
        let ordered = order(&rows(&vector["input"]), &mut |n| rng.below_or_equal(n));
        assert_eq!(ordered.iter().map(|r| r.priority).collect::<Vec<_>>(), expected);
    }
    // apt: two priority-20 records first, in either order, then priority 30.
    let apt = [srv("foo", 20, 0), srv("bar", 20, 0), srv("baz", 30, 0)];
    let counts = first_counts(&apt, 2_000, 11);
    assert!(counts.get("foo").copied().unwrap_or(0) > 0 && counts.get("bar").copied().unwrap_or(0) > 0, "{counts:?}");
    assert!(!counts.contains_key("baz"));
    let mut rng = XorShift(3);
    assert_eq!(order(&apt, &mut |n| rng.below_or_equal(n))[2].target, "baz");
}

#[test]
fn weights_shape_the_first_choice() {
    let vectors = vectors();
    // wire-server: over 50 orderings each weighted entry is first sometimes
    // but not always.
    let input = rows(&vectors["wire-order-weight"]["input"]);
    for seed in 1..=20 {
        let counts = first_counts(&input, 50, seed);
        for target in ["server1.com", "server2.com"] {
            let n = counts.get(target).copied().unwrap_or(0);
            assert!(n > 0 && n < 49, "seed {seed}: {target} first {n} of 50 ({counts:?})");
        }
    }
    // Go: weights 60/30/10, "a" first 60 % ± 5 % of the time. Go draws 1000
    // shuffles; 10 000 keep the tolerance above six standard deviations, so
    // no seed fails by chance.
    let trials = 10_000;
    let go = [srv("a", 0, 60), srv("b", 0, 30), srv("c", 0, 10)];
    for seed in 1..=20 {
        let a = first_counts(&go, trials, seed).get("a").copied().unwrap_or(0) as f64 / trials as f64;
        assert!((a - 0.60).abs() <= 0.60 * 0.05, "seed {seed}: a first {a}");
    }
    // Go: N targets of weight 1 are picked uniformly: within 5/10/20 % of 1/N.
    for (n, tolerance) in [(2usize, 0.05), (3, 0.10), (10, 0.20)] {
        let targets: Vec<Srv> = (0..n).map(|i| srv(&format!("{}", (b'a' + i as u8) as char), 0, 1)).collect();
        let expected = 1.0 / n as f64;
        for seed in 1..=10 {
            let a = first_counts(&targets, trials, seed).get("a").copied().unwrap_or(0) as f64 / trials as f64;
            assert!((a - expected).abs() <= expected * tolerance, "N={n} seed {seed}: a first {a}");
        }
    }
    // Ministry of Justice proxies: priority 10 pair before the 20 pair, 50/50 within.
    let moj = rows(&vectors["moj-courts-video-link"]["input"]);
    let counts = first_counts(&moj, 4000, 5);
    assert_eq!(counts.len(), 2, "{counts:?}");
    for (target, n) in counts {
        assert!(target.starts_with("pxpxy001") || target.starts_with("pxpxy002"));
        assert!((n as f64 - 2000.0).abs() < 150.0, "{target} {n}");
    }
}

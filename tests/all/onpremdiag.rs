//! The 109 cases of Microsoft's On Premise Diagnostic (onpremdiag) rules for
//! Skype for Business Server, from `tests/data/onpremdiag/`, run against
//! our rules. Each onpremdiag rule is mapped to the fedscan rules that judge
//! the same thing, with the profile they belong to; our verdict must equal the
//! expected one. Configuration mocks are read as a JSON snapshot, and
//! Resolve-DnsName mocks become DNS facts. Cases we judge differently on
//! purpose, and cases fedscan's facts cannot answer, are listed with the reason.

use crate::common;
use std::collections::BTreeMap;

use fedscan::engine::evaluate::evaluate as evaluate_rules;
use fedscan::facts::dns::{DnsFact, DnsOutcome, DnsRecord, DnsView, RecordData, RecordKind};
use fedscan::facts::snapshot::parse_snapshot_bytes;
use fedscan::facts::{Facts, Inputs};
use fedscan::findings::Status;
use fedscan::rules::{Profile, RuleSet, Scope, Selection, builtin_sources, load_rules};
use serde_json::Value;
use time::macros::datetime;

const SUITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/onpremdiag/onpremdiag_derived_fixtures.json");

struct Mapping {
    rules: &'static [&'static str],
    profile: Profile,
    partners: &'static [&'static str],
}

/// onpremdiag rule → the fedscan rules that judge the same configuration.
fn mapping(onpremdiag_rule: &str) -> Result<Mapping, &'static str> {
    let m = |rules, profile| Ok(Mapping { rules, profile, partners: &[] });
    match onpremdiag_rule {
        "RDAllowFederatedPartners" => m(&["CFG-HYB-01"], Profile::Hybrid),
        "RDAllowFederatedUsers" => m(&["CFG-TEN-01"], Profile::Hybrid),
        "RDCheckAutoDiscoverURL" => m(&["PROV-HP-06", "PROV-HP-08"], Profile::Hybrid),
        "RDCheckDomainApprovedForFederation" => {
            Ok(Mapping { rules: &["CFG-AEC-09"], profile: Profile::Federation, partners: &["fabrikam.com"] })
        }
        "RDCheckProxyFQDN" => m(&["PROV-HP-08"], Profile::Federation),
        "RDCheckProxyPostMigration" => m(&["PROV-DOM-06"], Profile::Federation),
        "RDCheckSharedAddressSpace" => m(&["PROV-HP-05", "PROV-HP-08"], Profile::Hybrid),
        "RDCheckSharedAddressSpaceNotEnabled" => m(&["PROV-HP-09", "PROV-HP-08"], Profile::Federation),
        "RDCheckVerificationLevel" => m(&["PROV-HP-04", "PROV-HP-08"], Profile::Federation),
        "RDCompareAllowedDomains" => m(&["PROV-DOM-05"], Profile::Hybrid),
        "RDEdgeConfigAllowFederatedUsers" => m(&["CFG-AEC-01"], Profile::Federation),
        "RDEdgeConfigAllowOutsideUsers" => m(&["CFG-AEC-04"], Profile::Hybrid),
        "RDEdgeConfigUseDnsSrvRouting" => m(&["CFG-AEC-02"], Profile::Federation),
        "RDIsHostingProviderEnabled" => m(&["PROV-HP-03"], Profile::Federation),
        "RDSharedSipAddressSpace" => m(&["CFG-TEN-02"], Profile::Hybrid),
        // Only the "wrong port" case of this rule is about configuration.
        "RDCheckLocalDomainFederationDNSRecord" => m(&["CFG-TOP-01"], Profile::Federation),
        "RDCheckEdgeCerts" | "RDCheckEdgeExternalDNS" | "RDCheckFederatedDomainDNSRecords" => Err(
            "the verdict comes from a remote PowerShell session to the Edge (New-PSSession, Invoke-Command) and DNS lookups run there, not from configuration data",
        ),
        "RDCheckSipDomainIsFederated" => {
            Err("the verdict comes from a live request to Microsoft 365's user realm service")
        }
        "RDCheckTLSSettings" => Err(
            "the verdict comes from the Front End's Schannel registry keys; fedscan observes TLS versions on the wire instead",
        ),
        // DNS rules for domains homed in Microsoft 365, from Resolve-DnsName mocks.
        "RDCheckLyncdiscoverRecord" => m(&["DNS-ONL-03"], Profile::Online),
        "RDCheckSipFedSRVRecords" => m(&["DNS-FED-01", "DNS-FED-08"], Profile::Online),
        "RDCheckSipRecord" => m(&["DNS-ONL-02"], Profile::Online),
        "RDCheckSipTLSSRVRecords" => m(&["DNS-ONL-01"], Profile::Online),
        "RDCheckCertsExpiring" | "RDCheckSfbServerCertificateExpired" | "RDCheckSfbServerCertificateValid" => Err(
            "certificate cases: their dates are PowerShell expressions relative to the test run ((Get-Date).AddDays(30)), and certificate rules judge certificates, not Get-CsCertificate listings",
        ),
        _ => Err("unknown onpremdiag rule"),
    }
}

/// Cases we map but judge differently, on purpose: (index, our verdict, why).
const DIFFERENCES: &[(usize, Status, &str)] = &[
    (
        5,
        Status::Error,
        "Get-CsTenantFederationConfiguration returned nothing: the export failed, so fedscan says it could not check rather than that federation is off",
    ),
    (
        12,
        Status::Skip,
        "AutodiscoverUrl is absent from the export, not empty: ConvertTo-Json and Format-List * always print it, so its absence means a trimmed export, and fedscan does not guess the value",
    ),
    (
        44,
        Status::Fail,
        "HostsOCSUsers is True: Microsoft's configuration for federating with Microsoft 365 without a split domain sets both EnabledSharedAddressSpace and HostsOCSUsers to False; onpremdiag checks only the first",
    ),
    (
        68,
        Status::Error,
        "Get-CsAccessEdgeConfiguration returned nothing: every deployment has one, so the export failed and fedscan reports that it could not check",
    ),
    (71, Status::Error, "as case 68"),
    (74, Status::Error, "as case 68"),
    (79, Status::Skip, "SharedSipAddressSpace is absent from the export: fedscan does not guess a missing property"),
    (
        81,
        Status::Skip,
        "Get-CsOnlineSipDomain lists no domain: with nothing to look up fedscan reports nothing checked, not a DNS failure",
    ),
    (85, Status::Skip, "as case 81"),
    (89, Status::Skip, "as case 81"),
    (93, Status::Skip, "as case 81"),
];

/// Mapped cases whose own data cannot decide the verdict: (index, why).
const NOT_DECIDABLE: &[(usize, &str)] = &[
    (30, "the pass depends on DNS answers from the Edge"),
    (31, "the failure is about DNS lookups for the default SIP domain, made from the Edge"),
    (33, "the failure is an unreachable Edge (remote session)"),
    (37, "a smoke test of the rule's constructor with no input at all"),
    (
        63,
        "the verdict comes from a mocked Compare-Object result; the configuration is the same as in the passing case 62",
    ),
    (64, "as case 63"),
    (65, "a smoke test of the rule's constructor with no input at all"),
];

fn combined(statuses: &[Status]) -> Status {
    if statuses.contains(&Status::Fail) {
        Status::Fail
    } else if statuses.contains(&Status::Error) {
        Status::Error
    } else if statuses.contains(&Status::Skip) || statuses.is_empty() {
        // One of the rules could not judge: the case is not judged.
        Status::Skip
    } else {
        Status::Pass
    }
}

/// The DNS question each onpremdiag DNS rule asks, as (name prefix, type,
/// port). The mocks give SRV targets only; Microsoft's published priority,
/// weight and port (100 1 5061, 100 1 443) are filled in.
fn dns_question(onpremdiag_rule: &str) -> Option<(&'static str, RecordKind, u16)> {
    match onpremdiag_rule {
        "RDCheckLyncdiscoverRecord" => Some(("lyncdiscover", RecordKind::A, 0)),
        "RDCheckSipFedSRVRecords" => Some(("_sipfederationtls._tcp", RecordKind::Srv, 5061)),
        "RDCheckSipRecord" => Some(("sip", RecordKind::A, 0)),
        "RDCheckSipTLSSRVRecords" => Some(("_sip._tls", RecordKind::Srv, 443)),
        _ => None,
    }
}

/// Turns a case's Resolve-DnsName mock into the DNS facts of its online SIP
/// domains (Microsoft's own *.onmicrosoft.com domains left out).
fn dns_facts(case: &Value, facts: &mut Facts) {
    let Some((prefix, kind, port)) = dns_question(case["rule"].as_str().unwrap()) else { return };
    let mocks = &case["mocked_cmdlet_outputs"];
    let domains: Vec<String> = mocks["Get-CsOnlineSipDomain"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["Name"].as_str())
        .filter(|d| !d.ends_with(".onmicrosoft.com"))
        .map(str::to_string)
        .collect();
    for domain in &domains {
        let name = format!("{prefix}.{domain}");
        let outcome = match &mocks["Resolve-DnsName"] {
            Value::Array(answers) => DnsOutcome::Answer {
                records: answers
                    .iter()
                    .map(|a| {
                        let data = match a["Type"].as_str() {
                            Some("SRV") => RecordData::Srv {
                                priority: 100,
                                weight: 1,
                                port,
                                target: a["NameTarget"].as_str().unwrap().to_string(),
                            },
                            _ => RecordData::Cname { target: a["NameHost"].as_str().unwrap().to_string() },
                        };
                        DnsRecord { name: name.clone(), ttl: 3600, data, source: None }
                    })
                    .collect(),
            },
            // `_throws: "... DNS name does not exist"`
            _ => DnsOutcome::NxDomain { negative_ttl: None, ignored_answers: None },
        };
        facts.dns.push(DnsFact {
            view: DnsView::External,
            name,
            rtype: kind,
            resolver: "mock".into(),
            source: None,
            outcome,
        });
    }
    facts.targets.domains = domains;
}

fn evaluate(rules: &RuleSet, case: &Value, mapping: &Mapping) -> Status {
    let snapshot = serde_json::to_vec(&case["mocked_cmdlet_outputs"]).unwrap();
    evaluate_snapshot(rules, case, mapping, &snapshot).expect("mock outputs parse")
}

/// The combined verdict of the mapped rules on `snapshot` (the case's mock
/// outputs as some bytes), or the reader's refusal.
fn evaluate_snapshot(rules: &RuleSet, case: &Value, mapping: &Mapping, snapshot: &[u8]) -> Result<Status, String> {
    let now = datetime!(2026-06-01 0:00 UTC);
    let inputs = Inputs { partners: mapping.partners.iter().map(|s| s.to_string()).collect(), ..Inputs::default() };
    let mut facts = Facts::new(inputs, now);
    facts.snapshots.push(parse_snapshot_bytes(snapshot, "onpremdiag.json").map_err(|e| format!("{e:?}"))?);
    dns_facts(case, &mut facts);
    let only: Vec<String> = mapping.rules.iter().map(|s| s.to_string()).collect();
    let selection = Selection::new(&only, &[], rules).unwrap();
    let findings = evaluate_rules(rules, &Scope::new(selection, &[mapping.profile], now), &facts, now, None);
    Ok(combined(&findings.iter().map(|f| f.status).collect::<Vec<_>>()))
}

#[test]
fn onpremdiag_cases_agree_or_are_explained() {
    let text = std::fs::read_to_string(SUITE).expect("tests/data/onpremdiag holds the suite");
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(cases.len(), 109);
    let rules = load_rules(&builtin_sources()).unwrap();
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let name = case["rule"].as_str().unwrap();
        let label = format!("case {index} {name} / {}", case["case"].as_str().unwrap());
        let mapping = match mapping(name) {
            Ok(mapping) => mapping,
            Err("unknown onpremdiag rule") => panic!("{label}: no mapping decision for this onpremdiag rule"),
            Err(_) => {
                *tally.entry("not answerable from the facts fedscan observes").or_default() += 1;
                continue;
            }
        };
        if NOT_DECIDABLE.iter().any(|(i, _)| *i == index) {
            *tally.entry("mapped rule, case not decidable from its data").or_default() += 1;
            continue;
        }
        // onpremdiag's RDCheckLocalDomainFederationDNSRecord: only case 32 is configuration.
        if name == "RDCheckLocalDomainFederationDNSRecord" && index != 32 {
            panic!("{label}: list it in NOT_DECIDABLE");
        }
        let got = evaluate(&rules, case, &mapping);
        let expected = match (case["expected_success"].as_bool(), DIFFERENCES.iter().find(|(i, _, _)| *i == index)) {
            (_, Some((_, ours, _))) => {
                *tally.entry("judged differently, on purpose").or_default() += 1;
                *ours
            }
            (Some(true), None) => Status::Pass,
            (Some(false) | None, None) => Status::Fail,
        };
        if got == expected {
            *tally.entry("agree").or_default() += 1;
        } else {
            wrong.push(format!("{label}: expected {expected:?}, fedscan says {got:?}"));
        }
    }
    eprintln!("onpremdiag suite: {tally:?}");
    assert!(wrong.is_empty(), "verdicts that differ without an explanation:\n{}", wrong.join("\n"));
    assert!(tally["agree"] >= 65, "{tally:?}");
}

/// Each case's mock outputs as `ConvertTo-Json` prints them, through every
/// transport a paste meets: the clean verdict, or `error`, or refused —
/// never another pass or fail.
#[test]
fn mangled_onpremdiag_snapshots_keep_their_verdicts_or_give_none() {
    let text = std::fs::read_to_string(SUITE).unwrap();
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    let rules = load_rules(&builtin_sources()).unwrap();
    let (mut identical, mut undecided, mut wrong) = (0, 0, Vec::new());
    for (index, case) in cases.iter().enumerate() {
        let Ok(mapping) = mapping(case["rule"].as_str().unwrap()) else { continue };
        let json = serde_json::to_string_pretty(&case["mocked_cmdlet_outputs"]).unwrap();
        let clean = evaluate_snapshot(&rules, case, &mapping, json.as_bytes()).unwrap();
        for (transport, apply) in common::transports::TRANSPORTS.iter().filter(|(t, _)| *t != "log-prefix") {
            match evaluate_snapshot(&rules, case, &mapping, &apply(&json)) {
                Ok(seen) if seen == clean => identical += 1,
                Ok(Status::Error) | Err(_) => undecided += 1,
                Ok(seen) => wrong.push(format!("case {index} [{transport}]: {seen:?}, clean {clean:?}")),
            }
        }
    }
    eprintln!(
        "onpremdiag snapshots × transports: {identical} identical, {undecided} error or refused, {} wrong",
        wrong.len()
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

//! `dual_stack`: once any federation host has IPv6 (AAAA) records, all of
//! them have both A and AAAA: a partner that prefers IPv6 would otherwise
//! reach some Edges and not others, and IPv4-only partners need A records.
//! The hosts are the federation SRV targets, `sip.<domain>` and the Edges,
//! compared within each organization (facts::organizations): in a batch of
//! unrelated domains, one organization's IPv6 says nothing of another's.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::json;

use super::Check;
use super::dns::{SrvSet, addresses, followed, srv_set};
use crate::facts::Targets;
use crate::facts::dns::DnsView;
use crate::facts::dns::srv_name;
use crate::facts::need::Need;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Status, Step, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DualStack {}

const FEDERATION: &str = "_sipfederationtls._tcp";

impl Check for DualStack {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![
            Need::EdgeAddresses,
            Need::Host { view: DnsView::External, label: "sip".into() },
            Need::SrvTargets { service: FEDERATION.into() },
        ]
    }

    fn step(&self) -> Step {
        Step::Dns
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        if !ctx.dns.gathered {
            return vec![super::dns::without_dns_facts(ctx, Target::area("DNS"))];
        }
        // Each organization judged apart, under its first domain (where its
        // path is shown); the Edges alone when no domain was named.
        let organizations = ctx.organizations();
        let edges = if organizations.whole_scan { ctx.targets.edges.as_slice() } else { &[] };
        match organizations.groups() {
            [] => vec![judge(ctx, &[], &ctx.targets.edges, Target::area("DNS"))],
            groups => {
                groups.iter().map(|domains| judge(ctx, domains, edges, Target::domain(domains[0].clone()))).collect()
            }
        }
    }
}

/// One organization's federation hosts, compared.
fn judge(ctx: &FactView, domains: &[String], edges: &[String], target: Target) -> Outcome {
    let mut hosts: BTreeSet<String> = edges.iter().cloned().collect();
    for domain in domains {
        hosts.insert(format!("sip.{domain}"));
        match srv_set(ctx, domain, FEDERATION) {
            Ok(SrvSet::Records(records, _)) => {
                let (targets, cut) = followed(domain, &srv_name(FEDERATION, domain), &records);
                // Targets left unasked may be the hosts that differ.
                if let Some(cut) = cut {
                    return cut.target_to(target);
                }
                hosts.extend(targets.into_iter().map(str::to_string));
            }
            Ok(_) => {}
            // Unknown targets may be the hosts that differ.
            Err(outcome) if outcome.status == Status::Error => return outcome.target_to(target),
            Err(_) => {}
        }
    }
    let mut v4_only = Vec::new();
    let mut v6_only = Vec::new();
    let mut dual = Vec::new();
    for host in &hosts {
        let found = match addresses(ctx, host, host) {
            Ok(found) => found,
            Err(outcome) if outcome.status == Status::Error => return outcome.target_to(target),
            Err(_) => continue,
        };
        match (found.v4.is_empty(), found.v6.is_empty()) {
            (false, true) => v4_only.push(host.clone()),
            (true, false) => v6_only.push(host.clone()),
            (false, false) => dual.push(host.clone()),
            (true, true) => {}
        }
    }
    let evidence = json!({ "ipv4_only": v4_only, "ipv6_only": v6_only, "dual_stack": dual });
    let outcome = if v4_only.is_empty() && v6_only.is_empty() && dual.is_empty() {
        Outcome::skip(target.clone(), "no federation host has an address to compare")
    } else if dual.is_empty() && v6_only.is_empty() {
        Outcome::pass(target.clone(), format!("IPv4 only, consistently ({} hosts, no AAAA records)", v4_only.len()))
    } else if v4_only.is_empty() && v6_only.is_empty() {
        Outcome::pass(target.clone(), format!("every federation host has A and AAAA records ({})", dual.join(", ")))
    } else {
        let mut parts = Vec::new();
        if !v4_only.is_empty() {
            parts.push(format!("no AAAA: {}", v4_only.join(", ")));
        }
        if !v6_only.is_empty() {
            parts.push(format!("no A: {}", v6_only.join(", ")));
        }
        Outcome::fail(
            target.clone(),
            format!("IPv6 is published for some federation hosts only ({})", parts.join("; ")),
        )
    };
    outcome.evidence(evidence)
}

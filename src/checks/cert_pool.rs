//! `cert_pool`: every address of an Edge name presents the same
//! certificate: the members of a DNS load-balanced pool share one
//! certificate and key, or partners fail on some of them.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::tls::{NoAddress, per_endpoint};
use super::{Check, see};
use crate::facts::Targets;
use crate::facts::need::Need;
use crate::facts::tls::TlsOutcome;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Step, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertPool {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
    /// The rules that report why DNS led to no endpoint.
    #[serde(default)]
    discovery_rules: Vec<String>,
}

impl Check for CertPool {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![Need::Tls]
    }

    fn step(&self) -> Step {
        Step::Certificate
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        if ctx.facts.tls.iter().all(|f| f.partner.is_some()) {
            return per_endpoint(ctx, &self.discovery_rules, NoAddress::Skips, |_| Vec::new());
        }
        // (host, port) → (address, certificate fingerprint prefix) per member.
        let mut pools: BTreeMap<(String, u16), Vec<(String, String)>> = BTreeMap::new();
        // A member that was not observed leaves its pool undecided.
        let mut unobserved: BTreeMap<(String, u16), String> = BTreeMap::new();
        for fact in ctx.facts.tls.iter().filter(|f| f.partner.is_none()) {
            if let TlsOutcome::Unobserved { .. } = fact.outcome {
                let key = (fact.endpoint.host.clone(), fact.endpoint.port);
                unobserved
                    .entry(key)
                    .or_insert_with(|| format!("{}: {}", fact.endpoint.address, fact.outcome.describe()));
            } else if let Some(leaf) = fact.chain_der().first() {
                let digest = ring::digest::digest(&ring::digest::SHA256, leaf);
                let short = crate::text::hex(&digest.as_ref()[..8]);
                pools
                    .entry((fact.endpoint.host.clone(), fact.endpoint.port))
                    .or_default()
                    .push((fact.endpoint.address.to_string(), short));
            }
        }
        for unprobed in ctx.unprobed().iter().filter(|u| u.partner.is_none()) {
            let key = (unprobed.host.clone(), unprobed.port);
            let why = format!("{} of its {} addresses were not probed", unprobed.addresses.len(), unprobed.total);
            unobserved.entry(key).or_insert(why);
        }
        if pools.is_empty() && unobserved.is_empty() {
            let why = format!("no Edge presented a certificate{}", see::after(self.connection_rule.as_slice()));
            return vec![Outcome::skip(Target::area("TLS"), why)];
        }
        let undecided = unobserved.iter().map(|((host, port), why)| {
            Outcome::error(
                Target::Service { host: host.clone(), port: *port },
                format!("a member of the pool was not observed ({why})"),
            )
        });
        let decided = pools.into_iter().filter(|(key, _)| !unobserved.contains_key(key));
        undecided.chain(decided
            .map(|((host, port), members)| {
                let target = Target::Service { host, port };
                let mut distinct: Vec<&str> = members.iter().map(|(_, f)| f.as_str()).collect();
                distinct.sort();
                distinct.dedup();
                let evidence = json!({ "members": members.iter().map(|(a, f)| json!({"address": a, "sha256_prefix": f})).collect::<Vec<_>>() });
                let outcome = if members.len() == 1 {
                    Outcome::pass(target, "a single address")
                } else if distinct.len() == 1 {
                    Outcome::pass(target, format!("all {} addresses present the same certificate", members.len()))
                } else {
                    let listed: Vec<String> = members.iter().map(|(a, f)| format!("{a}: {f}")).collect();
                    Outcome::fail(target, format!("{} different certificates across the pool ({})", distinct.len(), listed.join("; ")))
                };
                outcome.evidence(evidence)
            }))
            .collect()
    }
}

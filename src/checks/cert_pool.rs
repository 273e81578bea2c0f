//! `cert_pool`: every address of an Edge name presents the same
//! certificate: the members of a DNS load-balanced pool share one
//! certificate and key, or partners fail on some of them.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::x509::per_endpoint;
use super::{Check, EvalContext, Needs, Outcome};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertPool {}

impl Check for CertPool {
    fn needs(&self) -> Needs {
        Needs::Tls
    }

    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        if ctx.facts.tls.iter().all(|f| f.partner.is_some()) {
            return per_endpoint(ctx, |_| Vec::new());
        }
        // (host, port) → (address, certificate fingerprint prefix) per member.
        let mut pools: BTreeMap<(String, u16), Vec<(String, String)>> = BTreeMap::new();
        for fact in ctx.facts.tls.iter().filter(|f| f.partner.is_none()) {
            if let Some(leaf) = fact.chain_der().first() {
                let digest = ring::digest::digest(&ring::digest::SHA256, leaf);
                let short: String = digest.as_ref().iter().take(8).map(|b| format!("{b:02x}")).collect();
                pools
                    .entry((fact.endpoint.host.clone(), fact.endpoint.port))
                    .or_default()
                    .push((fact.endpoint.address.to_string(), short));
            }
        }
        if pools.is_empty() {
            return vec![Outcome::skip("TLS", "no Edge presented a certificate; see TLS-CON-01")];
        }
        pools
            .into_iter()
            .map(|((host, port), members)| {
                let target = format!("{host}:{port}");
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
            })
            .collect()
    }
}

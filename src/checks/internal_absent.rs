//! `internal_absent`: a host that must be resolved only externally has no
//! record in the internal DNS view (split-brain DNS is not supported for
//! `lyncdiscover`).
//!
//! ```toml
//! kind = "internal_absent"
//! host = "lyncdiscover"
//! ```

use serde::Deserialize;

use super::dns::{answer, evidence, per_domain};
use super::{Check, EvalContext, Outcome};
use crate::facts::dns::{DnsOutcome, DnsView, RecordKind};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InternalAbsent {
    host: String,
}

impl Check for InternalAbsent {
    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        if ctx.dns.gathered && !ctx.dns.has_view(DnsView::Internal) {
            return vec![Outcome::skip("DNS", "no internal resolver was given (--internal-resolver IP)")];
        }
        per_domain(ctx, |domain| {
            let name = format!("{}.{domain}", self.host);
            let fact = match answer(ctx, domain, DnsView::Internal, &name, RecordKind::A) {
                Ok(fact) => fact,
                Err(outcome) => return vec![outcome],
            };
            let outcome = match &fact.outcome {
                DnsOutcome::Answer { records } if !records.is_empty() => {
                    Outcome::fail(domain, format!("{name} has {} record(s) in the internal DNS view", records.len()))
                }
                other => {
                    Outcome::pass(domain, format!("{name} is not in the internal DNS view ({})", other.describe()))
                }
            };
            vec![outcome.evidence(evidence(fact)).var("domain", domain)]
        })
    }
}

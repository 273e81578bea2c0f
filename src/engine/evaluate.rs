//! Evaluation: a pure function of the facts, the rules and the clock. Each
//! selected rule that does not apply (another profile, outside its dates)
//! becomes a finding that says why; each that does becomes the findings of
//! its check, with the remediation's placeholders filled in.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use time::OffsetDateTime;

use crate::facts::Facts;
use crate::facts::view::FactView;
use crate::findings::{Evidence, Finding, Placeholder, Status, Step, Target};
use crate::rules::{Rule, RuleSet, Scope};
use crate::text::powershell_quote;

/// Rules are judged as of `--now`, or else as of the moment the facts were
/// gathered: a live scan and any later replay of its facts agree.
pub fn evaluation_time(requested: Option<OffsetDateTime>, facts: &Facts) -> OffsetDateTime {
    requested.unwrap_or(facts.gathered_at)
}

/// Evaluates the selected rules over the facts; findings in a stable order:
/// by target, then rule ID, findings without a target last.
pub fn evaluate(
    rules: &RuleSet,
    scope: &Scope,
    facts: &Facts,
    now: OffsetDateTime,
    expiry_warn_days: Option<u32>,
) -> Vec<Finding> {
    evaluate_on(crate::cores().min(MAX_THREADS), rules, scope, facts, now, expiry_warn_days)
}

/// [`evaluate`] on at most `threads` threads.
fn evaluate_on(
    threads: usize,
    rules: &RuleSet,
    scope: &Scope,
    facts: &Facts,
    now: OffsetDateTime,
    expiry_warn_days: Option<u32>,
) -> Vec<Finding> {
    let selected: Vec<&Rule> = rules.rules.iter().filter(|r| scope.selects(r)).collect();
    // The rules are independent: each thread judges a share of them over its
    // own view of the same facts (a view's caches are its own but for the
    // certificates, parsed once and shared).
    let shares = threads.min(selected.len()).max(1);
    // Parsed once for every thread, by the first that needs them.
    let certificates = OnceLock::new();
    let mut findings: Vec<Finding> = if shares == 1 {
        judge(&selected, scope, FactView::new(facts, now, expiry_warn_days))
    } else {
        std::thread::scope(|threads| {
            let running: Vec<_> = (0..shares)
                .map(|share| {
                    let part: Vec<&Rule> = selected.iter().copied().skip(share).step_by(shares).collect();
                    let certificates = &certificates;
                    threads.spawn(move || {
                        judge(
                            &part,
                            scope,
                            FactView::new(facts, now, expiry_warn_days).sharing_certificates(certificates),
                        )
                    })
                })
                .collect();
            // A check that panics stops the scan as it would on one thread:
            // its findings are never silently missing.
            running
                .into_iter()
                .flat_map(|t| t.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        })
    };
    order(&mut findings);
    findings
}

/// The report's order: by target, then rule ID, findings without a target
/// last.
pub fn order(findings: &mut [Finding]) {
    findings.sort_by_cached_key(Finding::order_key);
}

/// A batch judged a chunk of whole organizations at a time. A chunk's
/// findings about its own domains and endpoints are final when the chunk is
/// judged; those about the scan as a whole (a rule not run, what no chunk
/// could check) come out the same from every chunk that gives them, and are
/// the scan's when every chunk gave them — as one run over every domain
/// would give them.
#[derive(Default)]
pub struct ChunkedEvaluation {
    chunks: usize,
    /// Each scan-level finding, in first-seen order, and how many chunks gave it.
    scan_level: Vec<(Finding, usize)>,
}

impl ChunkedEvaluation {
    /// Judges one chunk: its own findings, in the report's order.
    pub fn evaluate(
        &mut self,
        rules: &RuleSet,
        scope: &Scope,
        part: &Facts,
        now: OffsetDateTime,
        expiry_warn_days: Option<u32>,
    ) -> Vec<Finding> {
        self.chunks += 1;
        // On one thread: a batch's chunks are judged while the next ones
        // are gathered and the last ones written, which keeps the cores
        // busy. Judging each chunk on two threads as well built each
        // thread's view of the chunk again: 3-16% more CPU and no faster
        // (replays of 200 and 2,000 domains, live batches of 200 and 2,000).
        let mut own = evaluate_on(1, rules, scope, part, now, expiry_warn_days);
        let of_the_chunk = |finding: &Finding| match &finding.target {
            Some(Target::Domain(domain)) => part.targets.domains.binary_search(domain).is_ok(),
            Some(Target::Endpoint { .. } | Target::Service { .. }) => true,
            _ => false,
        };
        for finding in own.extract_if(.., |finding| !of_the_chunk(finding)) {
            match self.scan_level.iter_mut().find(|(seen, _)| *seen == finding) {
                Some((_, count)) => *count += 1,
                None => self.scan_level.push((finding, 1)),
            }
        }
        own
    }

    /// The scan-level findings every chunk gave.
    pub fn scan_level(self) -> Vec<Finding> {
        let chunks = self.chunks;
        self.scan_level.into_iter().filter(|(_, count)| *count == chunks).map(|(finding, _)| finding).collect()
    }
}

/// At most this many threads judge rules.
const MAX_THREADS: usize = 8;

/// The findings of `rules`, in their order.
fn judge(rules: &[&Rule], scope: &Scope, ctx: FactView) -> Vec<Finding> {
    let known = known_values(&ctx);
    let mut findings = Vec::new();
    for &rule in rules {
        if let Some((message, why)) = scope.not_applicable(rule) {
            findings.push(Finding {
                rule: rule.id.clone(),
                title: rule.title.clone(),
                severity: rule.severity,
                status: Status::Skip,
                target: None,
                message,
                evidence: Evidence::null(),
                remediation: rule.remediation.clone(),
                references: rule.references.clone(),
                not_run: Some(why),
                step: Step::default(),
                baseline: None,
                suppressed: None,
                location: None,
            });
            continue;
        }
        let step = rule.check.step();
        for outcome in rule.check.evaluate(&ctx) {
            let severity = outcome.severity.map_or(rule.severity, |s| s.min(rule.severity));
            findings.push(Finding {
                rule: rule.id.clone(),
                title: rule.title.clone(),
                severity,
                status: outcome.status,
                target: Some(outcome.target),
                message: outcome.message,
                location: outcome.location,
                evidence: outcome.evidence,
                remediation: fill_placeholders(&rule.remediation, &outcome.vars, &known),
                references: rule.references.clone(),
                not_run: None,
                step,
                baseline: None,
                suppressed: None,
            });
        }
    }
    findings
}

/// What a placeholder stands for in this scan when a check leaves it open:
/// the Access Edge FQDN, when the inputs name exactly one.
fn known_values(ctx: &FactView) -> BTreeMap<Placeholder, String> {
    let mut known = BTreeMap::new();
    if let [edge] = ctx.targets.edges.as_slice() {
        known.insert(Placeholder::Fqdn, edge.clone());
    }
    known
}

/// The remediation with its placeholders filled in; the rule's own text,
/// shared, when it has none.
fn fill_placeholders(
    template: &Arc<str>,
    vars: &BTreeMap<Placeholder, String>,
    known: &BTreeMap<Placeholder, String>,
) -> Arc<str> {
    let mut filled: Option<String> = None;
    for placeholder in Placeholder::ALL {
        let text = filled.as_deref().unwrap_or(template);
        if text.contains(placeholder.token()) {
            let value = match vars.get(&placeholder).or_else(|| known.get(&placeholder)) {
                Some(v) if placeholder == Placeholder::Identity => powershell_quote(v),
                Some(v) => v.clone(),
                None => placeholder.unknown().to_string(),
            };
            filled = Some(text.replace(placeholder.token(), &value));
        }
    }
    filled.map_or_else(|| Arc::clone(template), Arc::from)
}

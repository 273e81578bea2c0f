//! The scan as one sequence, for every way of running it: the facts come
//! from their source (gathered now in one piece, gathered as a batch's
//! chunks, or replayed), each part is judged as it comes, the suppressions
//! are applied, and the judged findings go to a sink — a buffered report
//! or a stream — the findings about the scan as a whole last.

use time::OffsetDateTime;

use super::ScanError;
use super::evaluate::{ChunkedEvaluation, evaluate, evaluation_time};
use super::source::{Source, gather};
use crate::facts::Facts;
use crate::findings::Finding;
use crate::rules::{Profile, RuleSet, Scope, Selection};
use crate::triage::{NotAccepted, Suppressions, merge_unaccepted};

/// How the facts are judged.
pub struct Judging<'a> {
    pub rules: &'a RuleSet,
    pub selection: &'a Selection,
    pub profiles: &'a [Profile],
    /// `--now`.
    pub now: Option<OffsetDateTime>,
    pub expiry_warn_days: Option<u32>,
    pub suppressions: Option<&'a Suppressions>,
}

/// What receives the scan as it is judged.
pub trait Sink {
    /// A batch's chunk of facts, gathered, once its findings went to
    /// [`Sink::findings`].
    fn part(&mut self, _part: Facts) {}
    /// Judged findings, suppressions applied: a chunk's own as it ends, the
    /// scan-level ones last; or the whole scan's at once.
    fn findings(&mut self, findings: Vec<Finding>);
}

/// What a scan ended with, besides what went to the sink.
pub struct Ended {
    /// The facts (a batch's without its chunks' own: the sink kept those
    /// if it wanted them).
    pub facts: Facts,
    /// The time the rules were judged as of.
    pub evaluated_at: OffsetDateTime,
    /// Suppressions that covered a problem without accepting it.
    pub unaccepted: Vec<NotAccepted>,
    /// What a replayed set of shards that is not whole lacks
    /// (`--allow-partial`).
    pub partial: Option<String>,
}

/// Runs a scan: the one sequence every source and sink share.
pub fn run(
    judging: &Judging,
    source: Source,
    started_at: OffsetDateTime,
    sink: &mut (dyn Sink + Send),
) -> Result<Ended, ScanError> {
    let mut unaccepted = Vec::new();
    let accept = |findings: &mut Vec<Finding>, unaccepted: &mut Vec<NotAccepted>, now| {
        if let Some(suppressions) = judging.suppressions {
            merge_unaccepted(unaccepted, suppressions.apply(findings, now));
        }
    };
    let (facts, partial) = match source {
        Source::Gather { request, in_chunks: Some(chunk_domains) } => {
            let now = judging.now.unwrap_or(started_at);
            let scope = Scope::new(judging.selection.clone(), judging.profiles, now);
            let mut judged = ChunkedEvaluation::default();
            let facts = gather(judging.rules, &scope, *request, now, Some(chunk_domains), |part| {
                let mut findings = judged.evaluate(judging.rules, &scope, &part, now, judging.expiry_warn_days);
                accept(&mut findings, &mut unaccepted, now);
                sink.findings(findings);
                sink.part(part);
            })?;
            let mut scan_level = judged.scan_level();
            accept(&mut scan_level, &mut unaccepted, now);
            sink.findings(scan_level);
            return Ok(Ended { facts, evaluated_at: now, unaccepted, partial: None });
        }
        Source::Gather { request, in_chunks: None } => {
            let now = judging.now.unwrap_or(started_at);
            let scope = Scope::new(judging.selection.clone(), judging.profiles, now);
            (gather(judging.rules, &scope, *request, now, None, |_| {})?, None)
        }
        Source::Replay(replay) => replay.load()?,
    };
    let evaluated_at = evaluation_time(judging.now, &facts);
    let scope = Scope::new(judging.selection.clone(), judging.profiles, evaluated_at);
    let mut findings = evaluate(judging.rules, &scope, &facts, evaluated_at, judging.expiry_warn_days);
    accept(&mut findings, &mut unaccepted, evaluated_at);
    sink.findings(findings);
    Ok(Ended { facts, evaluated_at, unaccepted, partial })
}

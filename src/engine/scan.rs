//! The scan as one sequence, for every way of running it: the facts come
//! from their source (gathered now in one piece, gathered as a batch's
//! chunks, or replayed — a batch's chunk by chunk again), each part is
//! judged as it comes, the suppressions are applied, and the judged
//! findings go to a sink — a buffered report or a stream — the findings
//! about the scan as a whole last.

use time::OffsetDateTime;

use super::ScanError;
use super::evaluate::{ChunkedEvaluation, evaluate, evaluation_time};
use super::source::{Replay, Source, gather, replay_in_chunks};
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
    let now = source.judged_as_of(judging.now, started_at);
    let (facts, partial) = match source {
        Source::Gather { request, in_chunks: Some(chunk_domains) } => {
            let one_chunk = request.is_one_chunk(chunk_domains);
            let facts = judged_in_chunks(judging, now, sink, &mut unaccepted, one_chunk, |scope, on_chunk| {
                gather(judging.rules, scope, *request, now, Some(chunk_domains), on_chunk)
            })?;
            return Ok(Ended { facts, evaluated_at: now, unaccepted, partial: None });
        }
        Source::Gather { request, in_chunks: None } => {
            let scope = Scope::new(judging.selection.clone(), judging.profiles, now);
            (gather(judging.rules, &scope, *request, now, None, |_| {})?, None)
        }
        Source::Replay(replay) => match *replay {
            Replay { facts, partial, in_chunks: Some(chunks), .. } => {
                let facts = judged_in_chunks(judging, now, sink, &mut unaccepted, false, |scope, on_chunk| {
                    replay_in_chunks(judging.rules, scope, facts, &chunks.lists, chunks.domains, on_chunk)
                        .map_err(ScanError::Facts)
                })?;
                return Ok(Ended { facts, evaluated_at: now, unaccepted, partial });
            }
            Replay { facts, partial, in_chunks: None, .. } => (facts, partial),
        },
    };
    let evaluated_at = evaluation_time(judging.now, &facts);
    let scope = Scope::new(judging.selection.clone(), judging.profiles, evaluated_at);
    let mut findings = evaluate(judging.rules, &scope, &facts, evaluated_at, judging.expiry_warn_days);
    accept(judging, &mut findings, &mut unaccepted, evaluated_at);
    sink.findings(findings);
    Ok(Ended { facts, evaluated_at, unaccepted, partial })
}

/// A batch judged a chunk at a time as `chunks` hands them over, each
/// chunk's findings to the sink and then the chunk itself; the findings
/// about the scan as a whole last, once every chunk is judged. The sink
/// takes a chunk on a thread of its own while the next is judged: writing
/// a chunk's findings and facts costs about as much as judging them. A
/// batch known to be `one_chunk` has no next to judge: its sink takes it
/// where it was judged.
fn judged_in_chunks(
    judging: &Judging,
    now: OffsetDateTime,
    sink: &mut (dyn Sink + Send),
    unaccepted: &mut Vec<NotAccepted>,
    one_chunk: bool,
    chunks: impl FnOnce(&Scope, &mut (dyn FnMut(Facts) + Send)) -> Result<Facts, ScanError>,
) -> Result<Facts, ScanError> {
    let scope = Scope::new(judging.selection.clone(), judging.profiles, now);
    let mut judged = ChunkedEvaluation::default();
    let mut judge = |part: &Facts| {
        let mut findings = judged.evaluate(judging.rules, &scope, part, now, judging.expiry_warn_days);
        accept(judging, &mut findings, unaccepted, now);
        findings
    };
    let facts = std::thread::scope(|threads| {
        if one_chunk {
            return chunks(&scope, &mut |part: Facts| {
                sink.findings(judge(&part));
                sink.part(part);
            });
        }
        // One judged chunk waits while the sink takes the one before.
        let (judged_chunks, taken) = std::sync::mpsc::sync_channel::<(Vec<Finding>, Facts)>(1);
        let sink = &mut *sink;
        let sinking = threads.spawn(move || {
            for (findings, part) in taken {
                sink.findings(findings);
                sink.part(part);
            }
        });
        let facts = chunks(&scope, &mut |part: Facts| {
            // Refused only when the sink's thread ended (it panicked): the
            // join below raises that panic.
            let _ = judged_chunks.send((judge(&part), part));
        });
        drop(judged_chunks);
        if let Err(panic) = sinking.join() {
            std::panic::resume_unwind(panic);
        }
        facts
    })?;
    let mut scan_level = judged.scan_level();
    accept(judging, &mut scan_level, unaccepted, now);
    sink.findings(scan_level);
    Ok(facts)
}

/// The suppressions applied to findings, those that covered a problem
/// without accepting it kept.
fn accept(judging: &Judging, findings: &mut [Finding], unaccepted: &mut Vec<NotAccepted>, now: OffsetDateTime) {
    if let Some(suppressions) = judging.suppressions {
        merge_unaccepted(unaccepted, suppressions.apply(findings, now));
    }
}

//! `fedscan scan` and `fedscan merge`: the checked job run through the one
//! scan sequence ([`engine::scan::run`]) into its sink — the buffered
//! report, written in every requested format, or the NDJSON stream of a
//! batch.

use super::{
    Failure, Presentation, ScanJob, check_scan_args, output_name, rfc3339, to_stdout, usage_error, write_output,
};
use crate::cli::ColorChoice;
use crate::cli::MergeArgs;
use crate::cli::ReportFormat;
use crate::cli::ScanArgs;
use crate::engine;
use crate::engine::ScanRequest;
use crate::engine::evaluate::order;
use crate::engine::source::Source;
use crate::facts::Facts;
use crate::facts::chunked_file::ChunkedFactsFile;
use crate::report;
use crate::report::BaselineReport;
use crate::report::InputNote;
use crate::report::Report;
use crate::report::ReportInputs;
use crate::report::Tool;
use crate::report::discovery::{Discovery, KeptDiscovery};
use crate::report::exit;
use crate::report::sink::{Collect, Kept, Spilled, Stream};
use crate::report::spill::{Fold, Rendering, SpilledFindings};
use crate::report::table;
use crate::rules::Profile;
use crate::rules::RuleSet;
use crate::text::escape_terminal;
use clap::{Args, FromArgMatches};
use std::io::IsTerminal;
use std::io::Write;
use std::path::Path;
use time::OffsetDateTime;

/// `fedscan merge`: the shards' facts, merged and judged as one scan's.
pub(super) fn merge(args: MergeArgs) -> Result<u8, Failure> {
    // The scan command's own defaults, then what merge was given.
    let defaults = ScanArgs::augment_args(clap::Command::new("scan")).get_matches_from(["scan"]);
    let mut scan_args = ScanArgs::from_arg_matches(&defaults).map_err(|e| usage_error(e.to_string()))?;
    scan_args.facts = args.files;
    scan_args.report = args.report;
    scan_args.save_facts = args.save_facts;
    scan_args.now = args.now;
    scan_args.allow_partial = args.allow_partial;
    scan_args.rule_args = args.rule_args;
    scan(scan_args)
}

pub(super) fn scan(args: ScanArgs) -> Result<u8, Failure> {
    let (job, source) = check_scan_args(args)?;
    let started_at = OffsetDateTime::now_utc();
    match (job.streamed, source) {
        (true, Source::Gather { request, in_chunks: Some(chunk_domains) }) => {
            scan_streamed(job, request, chunk_domains, started_at)
        }
        (_, source) => scan_buffered(job, source, started_at),
    }
}

/// A scan whose report is written whole at the end, in each requested
/// format: the findings collected, the baseline compared.
fn scan_buffered(job: ScanJob, source: Source, started_at: OffsetDateTime) -> Result<u8, Failure> {
    let replayed = match &source {
        Source::Replay(replay) => Some(replay.names.clone()),
        Source::Gather { .. } => None,
    };
    let network = match &source {
        Source::Gather { request, .. } => Some((
            progress_display(request.network.as_ref(), job.quiet),
            request.network.as_ref().map(|n| std::sync::Arc::clone(&n.progress)),
        )),
        Source::Replay(_) => None,
    };
    // A batch judged chunk by chunk saves its facts as it goes.
    let in_chunks = source.in_chunks().is_some();
    let facts_file = match job.save_facts.as_deref().filter(|_| in_chunks) {
        Some(path) => Some(ChunkedFactsFile::create(path).map_err(|e| usage_error(cannot_save_facts(path, &e)))?),
        None => None,
    };
    let mut sink = Collect::new(facts_file);
    // A batch keeps its findings on disk, its memory that of a chunk (see
    // report::spill), whatever its formats.
    let formats: Vec<ReportFormat> = job.outputs.iter().map(|(format, _)| *format).collect();
    if in_chunks && !job.hold_findings {
        let mut renderings: Vec<Rendering> = formats
            .iter()
            .filter_map(|format| match format {
                ReportFormat::Json => Some(Rendering::Json),
                ReportFormat::Csv => Some(Rendering::Csv),
                ReportFormat::Ndjson => Some(Rendering::Ndjson),
                _ => None,
            })
            .collect();
        renderings.sort_by_key(|r| *r as u8);
        renderings.dedup();
        let (junit, sarif) = (formats.contains(&ReportFormat::Junit), formats.contains(&ReportFormat::Sarif));
        // The clock the chunks are judged with, which shows in their discovery.
        let now = source.judged_as_of(job.now, started_at);
        let baseline = job.baseline.as_ref().map(|(_, baseline)| baseline);
        let mut tables: Vec<table::Style> = job
            .outputs
            .iter()
            .filter(|(format, _)| *format == ReportFormat::Table)
            .map(|(_, output)| table_style(&job.presentation, output.as_deref()))
            .collect();
        tables.dedup();
        let (html, markdown) = (formats.contains(&ReportFormat::Html), formats.contains(&ReportFormat::Markdown));
        let spilled = Spilled::new(
            &renderings,
            Kept { junit, sarif, html, markdown, tables, discovery: formats.iter().any(|f| shows_discovery(*f)) },
            &job.rules,
            &job.domain_lines,
            job.policy,
            baseline,
            now,
        );
        sink.spilled = Some(
            spilled.map_err(|e| usage_error(format!("cannot make a temporary file for the report's findings: {e}")))?,
        );
    }
    let ended = engine::scan::run(&job.judging(), source, started_at, &mut sink);
    let mut work = None;
    if let Some((display, progress)) = network {
        if let Some(display) = display {
            display.finish();
        }
        work = progress.as_deref().map(work_done);
    }
    let ended = ended.map_err(usage_error)?;
    let mut facts = ended.facts;
    let mut facts_saved = FinishingFacts::start(sink.facts_file.take(), &facts, job.save_facts.as_deref());
    let mut findings = sink.findings;
    if in_chunks {
        order(&mut findings);
        facts.absorb(sink.parts);
    }
    let mut spilled = sink.spilled;
    if let Some(spilled) = &mut spilled {
        if let Some(e) = spilled.failed.take() {
            return Err(usage_error(format!("cannot keep the report's findings in a temporary file: {e}")));
        }
        facts.interrupted |= spilled.interrupted;
        // The scan-level findings, which belong to no chunk.
        let pending = std::mem::take(&mut spilled.pending);
        // Each chunk's domains came in the chunk's order: the report's is the scan's.
        if let Some(discovery) = spilled.discovery.as_mut() {
            let place: std::collections::HashMap<&str, usize> =
                facts.targets.domains.iter().enumerate().map(|(i, d)| (d.as_str(), i)).collect();
            let ordered = discovery.finish(|domain| place.get(domain).copied().unwrap_or(usize::MAX));
            ordered.map_err(|e| usage_error(format!("cannot keep the report's discovery in a temporary file: {e}")))?;
        }
        if let Some(sarif) = spilled.sarif.as_mut() {
            let index = spilled.discovery.as_ref().map(KeptDiscovery::index);
            let domain_of = |f: &crate::findings::Finding| {
                let discovery = spilled.discovery.as_ref()?;
                discovery.domain(index.as_ref()?.of(f)?)
            };
            sarif
                .add_chunk(&pending, domain_of, &job.domain_lines, &job.rules)
                .map_err(|e| usage_error(format!("cannot keep the report's findings in a temporary file: {e}")))?;
        }
        let kept = spilled.folds().try_for_each(|fold| fold.add(&pending, &[]));
        kept.map_err(|e| usage_error(format!("cannot keep the report's findings in a temporary file: {e}")))?;
        if let Some(junit) = spilled.junit.as_mut() {
            junit.add_rest(pending);
        }
    }
    for error in &facts.input_errors {
        err!("fedscan: error: {}", escape_terminal(&error.to_string()));
    }
    if let Some(path) = job.save_facts.as_ref().filter(|_| !in_chunks) {
        facts.save(path).map_err(|e| usage_error(cannot_save_facts(path, &e)))?;
    }
    if facts.interrupted && replayed.is_none() {
        facts_saved.wait()?;
        let kept = match &job.save_facts {
            Some(path) => format!(
                "the facts gathered so far were saved to {}, marked incomplete",
                escape_terminal(&path.display().to_string())
            ),
            None => "nothing was saved (--save-facts FILE keeps what was gathered)".to_string(),
        };
        err!("fedscan: interrupted; {kept}");
        return Ok(exit::INTERRUPTED);
    }

    let evaluated_at = ended.evaluated_at;
    let partial = ended.partial;
    let mut notes = report::notes(&facts, replayed.as_deref());
    if let Some(partial) = &partial {
        notes.push(InputNote {
            path: replayed.clone().unwrap_or_default(),
            line: None,
            message: format!("a partial set of shards was judged (--allow-partial): {partial}"),
        });
    }
    notes.extend(ended.unaccepted.into_iter().map(InputNote::from));
    let baseline = job.baseline.as_ref().map(|(path, baseline)| BaselineReport {
        path: path.display().to_string(),
        fixed: match &spilled {
            Some(spilled) => baseline.fixed(&spilled.seen),
            None => baseline.compare(&mut findings),
        }
        .into_iter()
        .map(Into::into)
        .collect(),
    });
    let fixed = baseline.as_ref().map(|b| b.fixed.len());
    let mut summary = match &spilled {
        Some(spilled) => spilled.tally.summary(&facts.input_errors, fixed),
        None => report::summarize(&findings, &facts.input_errors, job.policy, fixed),
    };
    summary.work = work;
    summary.interrupted = facts.interrupted;
    summary.partial = partial;
    // Replayed facts of an interrupted scan, or a part of a batch, cannot
    // give a clean bill.
    if (facts.interrupted || summary.partial.is_some()) && summary.exit_code == exit::CLEAN {
        summary.exit_code = exit::INCOMPLETE;
    }
    let code = summary.exit_code;
    let inputs = ReportInputs {
        domains: facts.inputs.domains.clone(),
        partners: facts.inputs.partners.clone(),
        config: facts.inputs.config.clone(),
        facts: replayed.clone(),
        rules: job.rule_inputs.clone(),
    };
    let report = Report {
        finished_at: rfc3339(OffsetDateTime::now_utc()),
        input_errors: facts.input_errors.clone(),
        notes,
        discovery: match (job.outputs.iter().any(|(format, _)| shows_discovery(*format)), &mut spilled) {
            (true, Some(spilled)) => spilled.discovery.take().map(Discovery::Kept).unwrap_or_default(),
            (true, None) => Discovery::Held(report::discovery::discovery(&facts, evaluated_at)),
            (false, _) => Discovery::default(),
        },
        certificate_files: report::discovery::certificate_files(&facts, evaluated_at),
        baseline,
        summary,
        findings,
        domain_lines: job.domain_lines.clone(),
        spilled_findings: spilled
            .map(|s| SpilledFindings::new(s.findings, s.junit, s.sarif, s.tables, s.html, s.markdown))
            .unwrap_or_default(),
        ..report_head(&job, started_at, evaluated_at, inputs)
    };
    for (format, output) in &job.outputs {
        write_report(&report, &job.rules, *format, &job.presentation, output.as_deref(), job.quiet)?;
    }
    facts_saved.wait()?;
    // The command ends with this scan: a batch's findings and facts go
    // back to the system whole rather than freed one by one, which costs a
    // large batch a tenth of its time.
    std::mem::forget((report, facts));
    Ok(code)
}

/// What the report says before its findings: what was scanned, as of
/// when, how it is judged. The streamed report's `scan` record; the
/// buffered report's start.
fn report_head(
    job: &ScanJob,
    started_at: OffsetDateTime,
    evaluated_at: OffsetDateTime,
    inputs: ReportInputs,
) -> Report {
    Report {
        schema: report::REPORT_SCHEMA,
        tool: Tool { name: "fedscan", version: env!("CARGO_PKG_VERSION") },
        started_at: rfc3339(started_at),
        finished_at: String::new(),
        evaluated_at: rfc3339(evaluated_at),
        profiles: Profile::expand(&job.profiles),
        fail_on: job.policy.fail_on,
        fail_on_new: job.policy.only_new,
        inputs,
        input_errors: Vec::new(),
        notes: Vec::new(),
        discovery: Discovery::default(),
        certificate_files: Vec::new(),
        baseline: None,
        suppressions: job.suppressions.as_ref().map(|(path, _)| path.display().to_string()),
        summary: report::summarize(&[], &[], job.policy, None),
        findings: Vec::new(),
        domain_lines: Default::default(),
        spilled_findings: Default::default(),
    }
}

/// Why `--save-facts` could not write its file.
pub(super) fn cannot_save_facts(path: &Path, error: &std::io::Error) -> String {
    format!("--save-facts {}: {error}", escape_terminal(&path.display().to_string()))
}

/// Ends a facts file written chunk by chunk, and says when it came out
/// larger than `--facts` and `merge` read back.
fn finish_facts_file(file: ChunkedFactsFile, context: &Facts, path: &Path) -> Result<(), String> {
    let bytes = file.finish(context).map_err(|e| cannot_save_facts(path, &e))?;
    if bytes > crate::files::MAX_FACTS_FILE {
        err!(
            "fedscan: warning: {} is {} MiB, more than the {} MiB that --facts and merge read; \
             split such a batch with --shard K/N",
            escape_terminal(&path.display().to_string()),
            bytes >> 20,
            crate::files::MAX_FACTS_FILE >> 20
        );
    }
    Ok(())
}

/// A batch's facts file finished on a thread of its own (its context
/// written after the chunks' lists, synced and moved into place) while the
/// report is put together and written: the two files' writing, syncing and
/// replacing overlap instead of adding up.
struct FinishingFacts(Option<std::thread::JoinHandle<Result<(), String>>>);

impl FinishingFacts {
    fn start(file: Option<ChunkedFactsFile>, facts: &Facts, path: Option<&Path>) -> FinishingFacts {
        FinishingFacts(match (file, path) {
            (Some(file), Some(path)) => {
                // The context alone: a batch's chunks left it as they were judged.
                let (context, path) = (facts.clone(), path.to_path_buf());
                Some(std::thread::spawn(move || finish_facts_file(file, &context, &path)))
            }
            _ => None,
        })
    }

    /// Waits for the facts file to be in place, or says why it is not.
    fn wait(&mut self) -> Result<(), Failure> {
        match self.0.take() {
            Some(thread) => thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)).map_err(usage_error),
            None => Ok(()),
        }
    }
}

impl Drop for FinishingFacts {
    /// A scan that ends early still leaves its facts file whole.
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}

/// The progress of a live scan on standard error, unless `--quiet`.
pub(super) fn progress_display(
    network: Option<&engine::NetworkSettings>,
    quiet: bool,
) -> Option<crate::progress::Display> {
    let network = network.filter(|_| !quiet)?;
    Some(crate::progress::Display::start(std::sync::Arc::clone(&network.progress), &network.external.servers))
}

/// The network work a live scan did, for its summary.
pub(super) fn work_done(progress: &engine::progress::Progress) -> report::WorkDone {
    let counts = progress.counts();
    let load = |c: &std::sync::atomic::AtomicUsize| c.load(std::sync::atomic::Ordering::Relaxed);
    report::WorkDone {
        domains: counts.domains,
        dns_questions: counts.questions,
        endpoints: counts.endpoints,
        connections: load(&progress.work.connections),
        full_handshakes: load(&progress.work.handshakes),
    }
}

/// A batch judged and written chunk by chunk as NDJSON: each chunk's
/// findings about its own domains and endpoints are written as soon as it is
/// judged; the findings about the scan as a whole (the rules not run, what
/// no chunk could check) are the same in every chunk that gives them, and
/// are written once at the end when every chunk gave them — as one run
/// over every domain would.
pub(super) fn scan_streamed(
    job: ScanJob,
    request: Box<ScanRequest>,
    chunk_domains: usize,
    started_at: OffsetDateTime,
) -> Result<u8, Failure> {
    let now = job.now.unwrap_or(started_at);
    let progress = request.network.as_ref().map(|n| std::sync::Arc::clone(&n.progress));
    let display = progress_display(request.network.as_ref(), job.quiet);
    let inputs = ReportInputs {
        domains: request.inputs.domains.clone(),
        partners: Vec::new(),
        config: Vec::new(),
        facts: None,
        rules: job.rule_inputs.clone(),
    };
    let head = report_head(&job, started_at, now, inputs);
    let policy = job.policy;
    // --save-facts: each chunk's facts are written out as it ends, as its
    // findings are.
    let mut facts_file = match &job.save_facts {
        Some(path) => Some(ChunkedFactsFile::create(path).map_err(|e| usage_error(cannot_save_facts(path, &e)))?),
        None => None,
    };
    // What ends the scan that is not a failed write of the findings (a
    // gathering that failed): said as such, not as the output's failure.
    let mut failure = None;
    let mut outcome = None;
    // Finished while the stream's end is written and the output synced.
    let mut facts_saved = FinishingFacts(None);
    let run = |out: &mut (dyn Write + Send)| -> std::io::Result<()> {
        // A failed write of the findings stops the writing, not the scan:
        // the facts are still saved, and every finding is counted for the
        // exit code.
        let written = report::ndjson::write_head(&head, out);
        let mut sink = Stream { out, written, tally: report::Tally::default(), policy, facts_file: facts_file.take() };
        let source = Source::Gather { request, in_chunks: Some(chunk_domains) };
        let ended = engine::scan::run(&job.judging(), source, started_at, &mut sink);
        let Stream { out, mut written, tally, facts_file, .. } = sink;
        let ended = match ended {
            Ok(ended) => ended,
            Err(e) => {
                failure = Some(e.to_string());
                return Ok(());
            }
        };
        let facts = ended.facts;
        facts_saved = FinishingFacts::start(facts_file, &facts, job.save_facts.as_deref());
        // Suppressions that covered a problem without accepting it, over
        // every chunk: the JSON report's notes, at the end of the stream.
        for note in ended.unaccepted.into_iter().map(InputNote::from) {
            if written.is_ok() {
                written = report::ndjson::write_note(&note, out);
            }
        }
        let mut summary = tally.summary(&facts.input_errors, None);
        summary.work = progress.as_deref().map(work_done);
        summary.interrupted = facts.interrupted;
        if facts.interrupted && summary.exit_code == exit::CLEAN {
            summary.exit_code = exit::INCOMPLETE;
        }
        outcome = Some((summary.exit_code, facts.interrupted));
        written?;
        report::ndjson::write_tail(&summary, &rfc3339(OffsetDateTime::now_utc()), out)
    };
    let output = job.outputs.first().and_then(|(_, path)| path.clone());
    let written = write_output(output.as_deref(), run);
    if let Some(display) = display {
        display.finish();
    }
    if let Some(failure) = failure {
        return Err(usage_error(failure));
    }
    facts_saved.wait()?;
    written?;
    match outcome {
        Some((_, true)) => {
            let facts = match &job.save_facts {
                Some(path) => format!(
                    "the facts gathered so far were saved to {}, marked incomplete; ",
                    escape_terminal(&path.display().to_string())
                ),
                None => String::new(),
            };
            err!("fedscan: interrupted; {facts}the findings written so far are kept, the summary says so");
            Ok(exit::INTERRUPTED)
        }
        Some((code, false)) => Ok(code),
        None => Err(usage_error("the scan ended before its summary")),
    }
}

/// Whether a format shows each domain's discovered path (the report's
/// `discovery`), which a batch's scan costs to put together; the
/// line-per-finding formats do not.
fn shows_discovery(format: ReportFormat) -> bool {
    use ReportFormat::*;
    match format {
        Table | Json | Sarif | Junit | Markdown | Html => true,
        Ndjson | Csv => false,
    }
}

/// What writes one report to its destination.
pub(super) type WriteOut<'a> = Box<dyn FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()> + 'a>;

/// Renders the report in one format and writes it to its file or to
/// standard output.
pub(super) fn write_report(
    report: &Report,
    rules: &RuleSet,
    format: ReportFormat,
    presentation: &Presentation,
    output: Option<&Path>,
    quiet: bool,
) -> Result<(), Failure> {
    let text = |text: String| move |out: &mut (dyn Write + Send)| out.write_all(text.as_bytes());
    // The machine formats of large batches are written as they are
    // produced, never held whole; the others are rendered, then written.
    let write: WriteOut = match format {
        ReportFormat::Json => Box::new(|out: &mut (dyn Write + Send)| report::json::write(report, out)),
        ReportFormat::Ndjson => Box::new(|out: &mut (dyn Write + Send)| report::ndjson::write(report, out)),
        ReportFormat::Sarif => Box::new(|out: &mut (dyn Write + Send)| report::sarif::write(report, rules, out)),
        ReportFormat::Junit => match report.spilled_findings.junit() {
            Some(mut suites) => Box::new(move |out: &mut (dyn Write + Send)| suites.write(report, out)),
            None => Box::new(text(report::junit::render(report))),
        },
        ReportFormat::Markdown => match report.spilled_findings.markdown() {
            Some(mut fold) => Box::new(move |out: &mut (dyn Write + Send)| fold.write(report, out)),
            None => Box::new(text(report::markdown::render(report))),
        },
        ReportFormat::Html => match report.spilled_findings.html() {
            Some(mut fold) => Box::new(move |out: &mut (dyn Write + Send)| fold.write(report, out)),
            None => Box::new(text(report::html::render(report))),
        },
        ReportFormat::Csv => Box::new(|out: &mut (dyn Write + Send)| report::csv::write(report, out)),
        ReportFormat::Table => {
            let style = table_style(presentation, output);
            match report.spilled_findings.table(&style) {
                Some(mut fold) => Box::new(move |out: &mut (dyn Write + Send)| fold.write(report, out)),
                None => Box::new(text(table::render(report, &style))),
            }
        }
    };
    write_output(output, write)?;
    if !to_stdout(output) && !quiet {
        err!("fedscan: {}; report written to {}", report::summary_line(&report.summary), output_name(output));
    }
    Ok(())
}

/// How the table report written to `output` looks: coloured and as wide as
/// the terminal it is written to, if it is.
fn table_style(presentation: &Presentation, output: Option<&Path>) -> table::Style {
    let to_terminal = to_stdout(output) && std::io::stdout().is_terminal();
    let color = match presentation.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => color_wanted(to_terminal, |name| std::env::var_os(name)),
    };
    let width = if to_terminal { comfy_table::Table::new().width() } else { None };
    table::Style { color, width, show: presentation.show.clone(), layout: presentation.layout }
}

/// `--color auto`, as the conventions of terminal tools have it: `NO_COLOR`
/// (set and not empty) turns colour off; `CLICOLOR_FORCE` (set and not `0`)
/// turns it on where it is not a terminal; `CLICOLOR=0` and `TERM=dumb`
/// turn it off; otherwise colour on a terminal only.
pub(super) fn color_wanted(to_terminal: bool, var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    if set("NO_COLOR").is_some() {
        return false;
    }
    if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    if set("CLICOLOR").is_some_and(|v| v == "0") || set("TERM").is_some_and(|v| v == "dumb") {
        return false;
    }
    to_terminal
}

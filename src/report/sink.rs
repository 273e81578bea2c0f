//! Where a judged scan goes: the sinks of `engine::scan::run`. `Collect`
//! keeps every finding for the report written whole at the end, in each
//! requested format — or, for a batch (whatever its formats, NDJSON
//! besides others aside), keeps each chunk's findings rendered on disk and
//! its facts only as the reports' discovery (see [`Spilled`]); `Stream` writes a batch's findings
//! as NDJSON as each chunk is judged. All write a batch's facts to
//! `--save-facts` chunk by chunk.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use time::OffsetDateTime;

use super::discovery::{DomainIndex, KeptDiscovery, discovery};
use super::html::HtmlFold;
use super::junit::SpilledSuites;
use super::markdown::MarkdownFold;
use super::sarif::SpilledResults;
use super::spill::{FindingSpill, Fold, Rendering, Store};
use super::table::{Style, TableFold};
use super::{ExitPolicy, Tally, ndjson};
use crate::engine::scan::Sink;
use crate::facts::Facts;
use crate::facts::chunked_file::ChunkedFactsFile;
use crate::findings::Finding;
use crate::rules::RuleSet;
use crate::triage::Baseline;

/// The buffered report's sink: every finding, and a batch's chunks of facts
/// (written to `--save-facts` as they come, and kept to be put back
/// together as one gathering would have them).
pub struct Collect<'b> {
    pub findings: Vec<Finding>,
    pub parts: Vec<Facts>,
    pub facts_file: Option<ChunkedFactsFile>,
    pub spilled: Option<Spilled<'b>>,
}

impl Collect<'_> {
    pub fn new(facts_file: Option<ChunkedFactsFile>) -> Self {
        Collect { findings: Vec::new(), parts: Vec::new(), facts_file, spilled: None }
    }
}

/// A batch's reports kept flat: each chunk's findings
/// compared with the baseline, counted and rendered to disk for each format
/// as they are judged; of its facts only what the reports show of them, its
/// domains' discovery.
pub struct Spilled<'b> {
    pub findings: Vec<(Rendering, FindingSpill)>,
    /// The JUnit report's suites, when it is one of the reports.
    pub junit: Option<SpilledSuites>,
    /// The SARIF report's results, when it is one of the reports.
    pub sarif: Option<SpilledResults>,
    /// The table reports' rows, one fold per look of the table.
    pub tables: Vec<TableFold>,
    /// The HTML report's rows, when it is one of the reports.
    pub html: Option<HtmlFold>,
    /// The Markdown report's rows, when it is one of the reports.
    pub markdown: Option<MarkdownFold>,
    pub rules: &'b RuleSet,
    /// Where each domain of `--domains-file` was read (SARIF's locations).
    pub domain_lines: &'b HashMap<String, (String, usize)>,
    /// The last findings given, until their chunk's facts come (the JUnit
    /// suites are its domains'); at the end, the scan-level ones.
    pub pending: Vec<Finding>,
    pub tally: Tally,
    pub policy: ExitPolicy,
    pub baseline: Option<&'b Baseline>,
    /// The fingerprints of the problems the baseline was asked about.
    pub seen: HashSet<String>,
    /// The chunks' discovery, when a report shows it.
    pub discovery: Option<KeptDiscovery>,
    /// The clock the chunks are judged with.
    pub now: OffsetDateTime,
    pub interrupted: bool,
    /// The first failure to write the findings down, said at the end.
    pub failed: Option<std::io::Error>,
}

/// The reports other than JSON and CSV whose findings wait on disk.
pub struct Kept {
    pub junit: bool,
    pub sarif: bool,
    pub html: bool,
    pub markdown: bool,
    /// The look of each table report.
    pub tables: Vec<Style>,
    /// Whether a report shows the domains' discovery.
    pub discovery: bool,
}

impl<'b> Spilled<'b> {
    /// The reports made a chunk at a time: the tables, HTML and Markdown.
    pub fn folds(&mut self) -> impl Iterator<Item = &mut dyn Fold> {
        let tables = self.tables.iter_mut().map(|t| t as &mut dyn Fold);
        let html = self.html.iter_mut().map(|h| h as &mut dyn Fold);
        tables.chain(html).chain(self.markdown.iter_mut().map(|m| m as &mut dyn Fold))
    }

    pub fn new(
        renderings: &[Rendering],
        kept: Kept,
        rules: &'b RuleSet,
        domain_lines: &'b HashMap<String, (String, usize)>,
        policy: ExitPolicy,
        baseline: Option<&'b Baseline>,
        now: OffsetDateTime,
    ) -> std::io::Result<Self> {
        Ok(Spilled {
            findings: renderings.iter().map(|r| Ok((*r, FindingSpill::new()?))).collect::<std::io::Result<_>>()?,
            junit: kept.junit.then(SpilledSuites::new).transpose()?,
            sarif: kept.sarif.then(SpilledResults::new).transpose()?,
            html: kept.html.then(|| HtmlFold::new(Store::on_disk)).transpose()?,
            markdown: kept.markdown.then(|| MarkdownFold::new(Store::on_disk)).transpose()?,
            tables: kept
                .tables
                .into_iter()
                .map(|style| TableFold::new(style, Store::on_disk))
                .collect::<std::io::Result<_>>()?,
            rules,
            domain_lines,
            pending: Vec::new(),
            tally: Tally::default(),
            policy,
            baseline,
            seen: HashSet::new(),
            discovery: kept.discovery.then(KeptDiscovery::new).transpose()?,
            now,
            interrupted: false,
            failed: None,
        })
    }
}

impl Sink for Collect<'_> {
    fn part(&mut self, part: Facts) {
        if let Some(file) = self.facts_file.as_mut() {
            file.add(&part);
        }
        match self.spilled.as_mut() {
            Some(spilled) => {
                spilled.interrupted |= part.interrupted;
                let chunk = discovery(&part, spilled.now);
                let findings = std::mem::take(&mut spilled.pending);
                if let Some(sarif) = spilled.sarif.as_mut() {
                    let index = DomainIndex::new(&chunk);
                    let domain_of = |f: &Finding| index.of(f).map(|i| chunk[i].domain.as_str());
                    if let Err(e) = sarif.add_chunk(&findings, domain_of, spilled.domain_lines, spilled.rules) {
                        spilled.failed.get_or_insert(e);
                    }
                }
                if spilled.failed.is_none() {
                    let folded = spilled.folds().try_for_each(|fold| fold.add(&findings, &chunk));
                    spilled.failed = folded.err();
                }
                if let Some(junit) = spilled.junit.as_mut()
                    && spilled.failed.is_none()
                    && let Err(e) = junit.add_chunk(findings, &chunk)
                {
                    spilled.failed = Some(e);
                }
                if let Some(kept) = spilled.discovery.as_mut()
                    && spilled.failed.is_none()
                    && let Err(e) = kept.add(chunk)
                {
                    spilled.failed = Some(e);
                }
            }
            None => self.parts.push(part),
        }
    }

    fn findings(&mut self, mut findings: Vec<Finding>) {
        let Some(spilled) = self.spilled.as_mut() else {
            self.findings.extend(findings);
            return;
        };
        if let Some(baseline) = spilled.baseline {
            baseline.mark(&mut findings, &mut spilled.seen);
        }
        for finding in &findings {
            spilled.tally.add(finding, spilled.policy);
        }
        for (rendering, spill) in &mut spilled.findings {
            if spilled.failed.is_none()
                && let Err(e) = spill.add_run(&findings, |f, out| rendering.render(f, out))
            {
                spilled.failed = Some(e);
            }
        }
        if spilled.junit.is_some()
            || spilled.sarif.is_some()
            || spilled.html.is_some()
            || spilled.markdown.is_some()
            || !spilled.tables.is_empty()
        {
            spilled.pending = findings;
        }
    }
}

/// The streamed NDJSON sink: each finding written and counted as it is
/// judged, a chunk's together; each chunk's facts written to `--save-facts`
/// and then dropped.
pub struct Stream<'o> {
    pub out: &'o mut (dyn Write + Send),
    /// A failed write stops the writing, not the scan.
    pub written: std::io::Result<()>,
    pub tally: Tally,
    pub policy: ExitPolicy,
    pub facts_file: Option<ChunkedFactsFile>,
}

impl Sink for Stream<'_> {
    fn part(&mut self, part: Facts) {
        if let Some(file) = self.facts_file.as_mut() {
            file.add(&part);
        }
    }

    fn findings(&mut self, findings: Vec<Finding>) {
        for finding in &findings {
            self.tally.add(finding, self.policy);
        }
        if self.written.is_ok() {
            self.written = ndjson::write_findings(&findings, self.out);
        }
        // A chunk's domains are done: their findings go out together.
        if self.written.is_ok() {
            self.written = self.out.flush();
        }
    }
}

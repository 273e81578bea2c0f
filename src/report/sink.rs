//! Where a judged scan goes: the sinks of `engine::scan::run`. `Collect`
//! keeps every finding for the report written whole at the end, in each
//! requested format; `Stream` writes a batch's findings as NDJSON as each
//! chunk is judged. Both write a batch's facts to `--save-facts` chunk by
//! chunk.

use std::io::Write;

use super::{ExitPolicy, Tally, ndjson};
use crate::engine::scan::Sink;
use crate::facts::Facts;
use crate::facts::chunked_file::ChunkedFactsFile;
use crate::findings::Finding;

/// The buffered report's sink: every finding, and a batch's chunks of facts
/// (written to `--save-facts` as they come, and kept to be put back
/// together as one gathering would have them).
pub struct Collect {
    pub findings: Vec<Finding>,
    pub parts: Vec<Facts>,
    pub facts_file: Option<ChunkedFactsFile>,
}

impl Sink for Collect {
    fn part(&mut self, part: Facts) {
        if let Some(file) = self.facts_file.as_mut() {
            file.add(&part);
        }
        self.parts.push(part);
    }

    fn findings(&mut self, findings: Vec<Finding>) {
        self.findings.extend(findings);
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

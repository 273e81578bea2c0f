//! The JSON report (`--format json`), schema `fedscan.report/1`.

use std::io::{self, Write};

use serde::Serializer;

use super::Report;
use super::spill::Rendering;
use crate::findings::Finding;
use crate::text::{JsonLayout, JsonObject, write_json};

/// The indentation of a finding in the report's `findings` array, and its depth.
const FINDING_INDENT: &str = "    ";
const FINDING_DEPTH: usize = 2;

/// One finding as the pretty report shows it inside its `findings` array
/// (its lines indented to their depth there), appended to `out`: what a
/// batch's JSON report keeps on disk until it is written.
pub fn finding_in_report(finding: &Finding, out: &mut Vec<u8>) {
    let mut object = JsonObject::open(out, JsonLayout::Pretty { depth: FINDING_DEPTH });
    finding.write_json(&mut object);
    object.close();
}

/// The report's `findings` as serde writes it: the empty array that
/// [`write()`] replaces, after every other field, with the findings written by
/// the one writer of a finding's JSON ([`Finding::write_json`]).
pub fn findings_written_after_the_rest<S: Serializer>(_: &[Finding], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(std::iter::empty::<()>())
}

/// The end of the report's text as serde writes it.
const EMPTY_FINDINGS: &[u8] = b"[]\n}";

/// Passes a text on but for its last bytes, as many as [`EMPTY_FINDINGS`]
/// has, held back.
struct HoldingBack<'o> {
    out: &'o mut dyn Write,
    held: Vec<u8>,
}

impl Write for HoldingBack<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.held.extend_from_slice(bytes);
        if let Some(pass) = self.held.len().checked_sub(EMPTY_FINDINGS.len()).filter(|n| *n > 0) {
            self.out.write_all(&self.held[..pass])?;
            self.held.drain(..pass);
        }
        Ok(bytes.len())
    }

    /// Not passed on: the report's writer is flushed by its owner once the
    /// report is whole. Passed on, the serializer's own flush sent the head
    /// ahead of the findings, a write more (and a wakeup more of whatever
    /// reads standard output) per report.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The report, written as it is produced; a batch's findings read back
/// from disk, in order, when they were kept there.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    // Every field but the findings, which come last, written as it is
    // serialized (a batch's discovery is large): the text ends with their
    // empty array, held back, which the findings replace.
    // Buffered before the holding back: the serializer's writes are a few
    // bytes each.
    let mut head = io::BufWriter::with_capacity(64 * 1024, HoldingBack { out: &mut *out, held: Vec::new() });
    write_json(&mut head, report)?;
    let head = head.into_inner().map_err(io::IntoInnerError::into_error)?;
    if head.held != EMPTY_FINDINGS {
        return Err(io::Error::other("the report's findings are not its last field"));
    }
    let mut written = 0usize;
    let mut write_finding = |text: &[u8]| {
        out.write_all(if written == 0 { b"[\n" } else { b",\n" })?;
        written += 1;
        out.write_all(FINDING_INDENT.as_bytes())?;
        out.write_all(text)
    };
    match report.spilled_findings.of(Rendering::Json) {
        Some(mut spilled) => spilled.for_each(&mut write_finding)?,
        None => {
            let mut text = Vec::with_capacity(2048);
            for finding in &report.findings {
                text.clear();
                finding_in_report(finding, &mut text);
                write_finding(&text)?;
            }
        }
    }
    out.write_all(if written == 0 { b"[]\n}\n" } else { b"\n  ]\n}\n" })
}

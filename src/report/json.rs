//! The JSON report (`--format json`), schema `fedscan.report/1`.

use std::io::{self, Write};

use super::Report;
use super::spill::Rendering;
use crate::findings::Finding;
use crate::text::{to_json, write_json, write_json_at_depth};

/// The indentation of a finding in the report's `findings` array, and its depth.
const FINDING_INDENT: &str = "    ";
const FINDING_DEPTH: usize = 2;

/// One finding as the pretty report shows it inside its `findings` array
/// (its lines indented to their depth there), appended to `out`: what a
/// batch's JSON report keeps on disk until it is written.
pub fn finding_in_report(finding: &Finding, out: &mut Vec<u8>) {
    // Writing to memory cannot fail; a finding always serializes.
    let _ = write_json_at_depth(out, finding, FINDING_DEPTH);
}

/// The end of the report's text when its findings are kept on disk.
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

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

pub fn render(report: &Report) -> String {
    let mut text = to_json(report).expect("a report always serializes");
    text.push('\n');
    text
}

/// [`render`], written as it is produced; a batch's findings read back
/// from disk, in order, when they were kept there.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let Some(mut spilled) = report.spilled_findings.of(Rendering::Json) else {
        write_json(out, report)?;
        return out.write_all(b"\n");
    };
    // Every field but the findings, which come last, written as it is
    // serialized (a batch's discovery is large): the text ends with their
    // empty array, held back, which the kept findings replace.
    // Buffered before the holding back: the serializer's writes are a few
    // bytes each.
    let mut head = io::BufWriter::with_capacity(64 * 1024, HoldingBack { out: &mut *out, held: Vec::new() });
    write_json(&mut head, report)?;
    let head = head.into_inner().map_err(io::IntoInnerError::into_error)?;
    if head.held != EMPTY_FINDINGS {
        return Err(io::Error::other("the report's findings are not its last field"));
    }
    if spilled.is_empty() {
        return out.write_all(b"[]\n}\n");
    }
    let mut first = true;
    spilled.for_each(|text| {
        out.write_all(if first { b"[\n" } else { b",\n" })?;
        first = false;
        out.write_all(FINDING_INDENT.as_bytes())?;
        out.write_all(text)
    })?;
    out.write_all(b"\n  ]\n}\n")
}

//! CSV (`--format csv`): one row per finding, for spreadsheets and ticket
//! imports. Every cell goes through [`escape_csv`]: visible control
//! characters, and no value that a spreadsheet would run as a formula.

use std::io::{self, Write};

use super::Report;
use super::spill::Rendering;
use crate::findings::Finding;
use crate::text::escape_csv;

const COLUMNS: [&str; 12] = [
    "status",
    "severity",
    "rule",
    "title",
    "target",
    "message",
    "remediation",
    "not_run",
    "fingerprint",
    "baseline_state",
    "suppressed_reason",
    "suppressed_until",
];

fn name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn row(finding: &Finding) -> [String; 12] {
    [
        finding.status.name().to_string(),
        finding.severity.name().to_string(),
        finding.rule.to_string(),
        finding.title.to_string(),
        finding.target.as_ref().map(|t| t.to_string()).unwrap_or_default(),
        finding.message.clone(),
        finding.remediation.to_string(),
        finding.not_run.as_ref().map(name).unwrap_or_default(),
        finding.fingerprint(),
        finding.baseline.as_ref().map(name).unwrap_or_default(),
        finding.suppressed.as_ref().map(|s| s.reason.clone()).unwrap_or_default(),
        finding.suppressed.as_ref().and_then(|s| s.expires.clone()).unwrap_or_default(),
    ]
}

/// One finding's row, line end included, appended to `out`: what a batch's
/// CSV report keeps on disk until it is written.
pub fn finding_row(finding: &Finding, out: &mut Vec<u8>) {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
    // Writing to memory cannot fail.
    let _ = writer.write_record(row(finding).iter().map(|cell| escape_csv(cell)));
    let _ = writer.flush();
}

/// The report, written as it is produced; a batch's rows read back from
/// disk, in order, when they were kept there.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(&mut *out);
    writer.write_record(COLUMNS)?;
    match report.spilled_findings.of(Rendering::Csv) {
        Some(mut spilled) => {
            writer.flush()?;
            drop(writer);
            spilled.for_each(|row| out.write_all(row))?;
            writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(&mut *out);
        }
        None => {
            for finding in &report.findings {
                writer.write_record(row(finding).iter().map(|cell| escape_csv(cell)))?;
            }
        }
    }
    // A part of a batch judged as such says so in a row of its own, where a
    // spreadsheet shows it beside the findings.
    if let Some(partial) = &report.summary.partial {
        let mut cells: [String; 12] = Default::default();
        cells[0] = "error".into();
        cells[3] = "Partial report".into();
        cells[5] = format!("only part of the batch was judged: {partial}");
        writer.write_record(cells.iter().map(|cell| escape_csv(cell)))?;
    }
    writer.flush()
}

pub fn render(report: &Report) -> String {
    let mut bytes = Vec::new();
    // Writing to memory cannot fail.
    let _ = write(report, &mut bytes);
    String::from_utf8(bytes).unwrap_or_default()
}

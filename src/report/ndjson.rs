//! NDJSON (`--format ndjson`): one JSON object per line — a `scan` record,
//! then each finding as it is written, the baseline's fixed problems, in a
//! streamed batch the `note`s known only at its end, and the `summary` last — for batches too large to read as one document, and for
//! `jq` and log pipelines. The same escapes as the JSON report.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::Report;
use crate::text::write_json_line;

/// `value`'s fields after `"record": kind`.
fn record(kind: &str, value: &impl Serialize) -> Value {
    let mut fields = Map::new();
    fields.insert("record".into(), Value::from(kind));
    match serde_json::to_value(value) {
        Ok(Value::Object(object)) => fields.extend(object),
        Ok(other) => {
            fields.insert("value".into(), other);
        }
        Err(e) => {
            fields.insert("error".into(), Value::from(e.to_string()));
        }
    }
    Value::Object(fields)
}

fn line(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    write_json_line(out, value)?;
    out.write_all(b"\n")
}

/// `"record": kind`, then the fields of a value that serializes as a map,
/// written straight out (a finding is not made a tree of values first).
#[derive(Serialize)]
struct Record<'a, T: Serialize> {
    record: &'a str,
    #[serde(flatten)]
    fields: &'a T,
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write_head(report, out)?;
    for finding in &report.findings {
        write_finding(finding, out)?;
    }
    if let Some(baseline) = &report.baseline {
        for fixed in &baseline.fixed {
            line(out, &record("fixed", fixed))?;
        }
    }
    write_tail(&report.summary, &report.finished_at, out)
}

/// The `scan` record: what was scanned and how it is judged. Written first,
/// before the findings are known (the summary record says when it ended).
pub fn write_head(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut scan = json!({
        "schema": report.schema,
        "tool": report.tool,
        "started_at": report.started_at,
        "evaluated_at": report.evaluated_at,
        "profiles": report.profiles,
        "fail_on": report.fail_on,
        "fail_on_new": report.fail_on_new,
        "inputs": report.inputs,
        "input_errors": report.input_errors,
        "notes": report.notes,
    });
    if let Some(path) = &report.suppressions {
        scan["suppressions"] = Value::from(path.as_str());
    }
    line(out, &record("scan", &scan))
}

/// A `note` record: a note known only once the findings were judged (a
/// suppression that expired, or that covers errors without accepting them),
/// which a streamed report cannot put in its `scan` record.
pub fn write_note(note: &super::InputNote, out: &mut dyn Write) -> io::Result<()> {
    line(out, &Record { record: "note", fields: note })
}

pub fn write_finding(finding: &crate::findings::Finding, out: &mut dyn Write) -> io::Result<()> {
    line(out, &Record { record: "finding", fields: finding })
}

/// The `summary` record, last, with the time the scan ended.
pub fn write_tail(summary: &super::Summary, finished_at: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut tail = record("summary", summary);
    tail["finished_at"] = Value::from(finished_at);
    line(out, &tail)?;
    out.flush()
}

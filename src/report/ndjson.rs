//! NDJSON (`--format ndjson`): one JSON object per line — a `scan` record,
//! then each finding as it is written, the baseline's fixed problems, and the
//! `summary` last — for batches too large to read as one document, and for
//! `jq` and log pipelines. The same escapes as the JSON report.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::Report;
use crate::text::to_json_line;

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

fn line(out: &mut dyn Write, value: &Value) -> io::Result<()> {
    let text = to_json_line(value).map_err(io::Error::other)?;
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut scan = json!({
        "schema": report.schema,
        "tool": report.tool,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
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
    line(out, &record("scan", &scan))?;
    for finding in &report.findings {
        line(out, &record("finding", finding))?;
    }
    if let Some(baseline) = &report.baseline {
        for fixed in &baseline.fixed {
            line(out, &record("fixed", fixed))?;
        }
    }
    line(out, &record("summary", &report.summary))?;
    out.flush()
}

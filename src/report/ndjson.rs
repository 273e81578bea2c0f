//! NDJSON (`--format ndjson`): one JSON object per line — a `scan` record,
//! then each finding as it is written, the baseline's fixed problems, in a
//! streamed batch the `note`s known only at its end, and the `summary` last — for batches too large to read as one document, and for
//! `jq` and log pipelines. The same escapes as the JSON report.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::Report;
use crate::findings::Finding;
use crate::text::{JsonLayout, JsonObject, write_json_line};

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

fn line<W: Write + ?Sized>(out: &mut W, value: &impl Serialize) -> io::Result<()> {
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
    match report.spilled_findings.of(super::spill::Rendering::Ndjson) {
        Some(mut spilled) => spilled.for_each(|line| out.write_all(line))?,
        None => write_findings(&report.findings, out)?,
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

/// A finding's record: `"record": "finding"`, then its fields.
pub fn write_finding(finding: &Finding, out: &mut Vec<u8>) {
    let mut object = JsonObject::open(out, JsonLayout::Line);
    object.str("record", "finding");
    finding.write_json(&mut object);
    object.close();
    out.push(b'\n');
}

/// Findings written in order, rendered on every core: a batch writes tens
/// of thousands, and rendering them (escapes, target parts, fingerprints)
/// costs more than judging them.
pub fn write_findings(findings: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    let cores = crate::cores().min(MAX_THREADS);
    write_findings_on(findings, out, cores)
}

/// The findings a thread renders at a time: large enough to outweigh
/// starting it, small enough that the text in flight stays a few MB.
const SHARE: usize = 2048;

fn write_findings_on(findings: &[Finding], out: &mut dyn Write, cores: usize) -> io::Result<()> {
    if cores <= 1 || findings.len() <= SHARE {
        // Rendered in memory, then written at once: a record is dozens of
        // small writes, each a call through `out` otherwise.
        let mut text = Vec::with_capacity(findings.len() * 1024);
        findings.iter().for_each(|finding| write_finding(finding, &mut text));
        return out.write_all(&text);
    }
    for round in findings.chunks(SHARE * cores) {
        let rendered: Vec<Vec<u8>> = std::thread::scope(|threads| {
            let running: Vec<_> = round
                .chunks(SHARE)
                .map(|share| {
                    threads.spawn(move || {
                        let mut text = Vec::with_capacity(share.len() * 1024);
                        share.iter().for_each(|finding| write_finding(finding, &mut text));
                        text
                    })
                })
                .collect();
            running
                .into_iter()
                .map(|thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        });
        for text in rendered {
            out.write_all(&text)?;
        }
    }
    Ok(())
}

/// At most this many threads render findings.
const MAX_THREADS: usize = 8;

/// The `summary` record, last, with the time the scan ended.
pub fn write_tail(summary: &super::Summary, finished_at: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut tail = record("summary", summary);
    tail["finished_at"] = Value::from(finished_at);
    line(out, &tail)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Evidence, Severity, Status, Target};

    fn finding(n: usize) -> Finding {
        let status = if n.is_multiple_of(3) { Status::Fail } else { Status::Pass };
        Finding {
            title: "t".into(),
            severity: Severity::High,
            message: format!("finding {n} \u{1b}[2J"),
            evidence: Evidence::of(&json!({ "n": n, "text": "é\u{202e}" })),
            remediation: "r".into(),
            ..Finding::example(&format!("DNS-FED-{:02}", n % 7), status, Some(Target::Domain(format!("d{n}.example"))))
        }
    }

    #[test]
    fn findings_rendered_on_several_threads_come_out_in_order_as_one_thread_writes_them() {
        // Enough for several rounds of shares on three threads, the last short.
        let findings: Vec<Finding> = (0..SHARE * 7 + 5).map(finding).collect();
        let mut one = Vec::new();
        for finding in &findings {
            write_finding(finding, &mut one);
        }
        for cores in [1, 2, 3] {
            let mut several = Vec::new();
            write_findings_on(&findings, &mut several, cores).unwrap();
            assert!(several == one, "{cores} threads wrote another text");
        }
        let text = String::from_utf8(one).unwrap();
        assert_eq!(text.lines().count(), findings.len());
        assert!(text.lines().nth(SHARE * 3).unwrap().contains(&format!("\"d{}.example\"", SHARE * 3)));
        assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'), "unsafe characters are escaped");
    }
}

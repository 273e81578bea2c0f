//! The JSON report (`--format json`), schema `fedscan.report/1`.

use std::io::{self, Write};

use super::Report;
use crate::text::{to_json, write_json};

pub fn render(report: &Report) -> String {
    let mut text = to_json(report).expect("a report always serializes");
    text.push('\n');
    text
}

/// [`render`], written as it is produced.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write_json(out, report)?;
    out.write_all(b"\n")
}

//! The JSON report (`--format json`), schema `fedscan.report/1`.

use super::Report;
use crate::text::to_json;

pub fn render(report: &Report) -> String {
    let mut text = to_json(report).expect("a report always serializes");
    text.push('\n');
    text
}

//! HTML (`--format html`): one self-contained page to attach to a ticket or
//! publish as a CI artifact. No script, no external resource (a
//! Content-Security-Policy forbids both), styles inline; the verdict, what to
//! fix first, what could not be checked, then each scanned domain's federation
//! path with its findings, failures first. Every value goes through
//! [`escape_html`].

use super::discovery::{DomainIndex, path_lines};
use super::{Report, exit_meaning, is_not_run, summary_line};
use crate::findings::{BaselineState, Finding, Status};
use crate::text::{escape_html, shorten};

/// The longest value shown, in characters (the JSON report has it whole).
const MAX_SHOWN: usize = 4000;

fn h(text: &str) -> String {
    escape_html(&shorten(text, MAX_SHOWN))
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1b1b;max-width:80em}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #ddd;padding:.3em .5em;\
text-align:left;vertical-align:top}th{background:#f3f3f3}pre{background:#f7f7f7;padding:.6em;white-space:pre-wrap;\
overflow-wrap:anywhere}.fail{color:#b00020;font-weight:600}.error{color:#8a5a00;font-weight:600}\
.pass{color:#1b6e20}td.rule{white-space:nowrap}.skip{color:#666}.fix{color:#333}.new{background:#ffe08a;padding:0 .3em;border-radius:3px}\
.verdict{font-size:1.1em;padding:.5em;border-radius:4px}.v-fail{background:#fde7ea}.v-error{background:#fff4d6}\
.v-pass{background:#e6f4e7}";

fn target(finding: &Finding) -> String {
    finding.target.as_ref().map(|t| h(&t.to_string())).unwrap_or_default()
}

fn status(finding: &Finding) -> String {
    let name = finding.status.name();
    let mut cell = format!("<span class=\"{name}\">{}</span>", name.to_uppercase());
    if finding.baseline == Some(BaselineState::New) {
        cell.push_str(" <span class=\"new\">new</span>");
    }
    cell
}

fn finding_text(finding: &Finding) -> String {
    let mut text = h(&finding.message);
    if finding.status == Status::Fail {
        text.push_str(&format!("<div class=\"fix\"><b>Fix:</b> {}</div>", h(&finding.remediation)));
    }
    if let Some(s) = &finding.suppressed {
        let until = s.expires.as_ref().map(|d| format!(" until {}", h(d))).unwrap_or_default();
        text.push_str(&format!("<div><b>Accepted{until}:</b> {} ({}:{})</div>", h(&s.reason), h(&s.file), s.line));
    }
    text
}

fn table(findings: &[&Finding], with_target: bool) -> String {
    let mut out = String::from("<table><tr><th>Status</th><th>Severity</th><th>Rule</th>");
    if with_target {
        out.push_str("<th>Target</th>");
    }
    out.push_str("<th>Finding</th></tr>\n");
    for f in findings {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"rule\" title=\"{}\">{}</td>",
            status(f),
            f.severity,
            h(&f.title),
            h(&f.rule)
        ));
        if with_target {
            out.push_str(&format!("<td>{}</td>", target(f)));
        }
        out.push_str(&format!("<td>{}</td></tr>\n", finding_text(f)));
    }
    out.push_str("</table>\n");
    out
}

/// Failures first (most severe first), then errors, passes and skips.
fn ordered<'a>(findings: impl Iterator<Item = &'a Finding>) -> Vec<&'a Finding> {
    let rank = |f: &Finding| match f.status {
        Status::Fail => 0,
        Status::Error => 1,
        Status::Pass => 2,
        Status::Skip => 3,
    };
    let mut list: Vec<&Finding> = findings.collect();
    list.sort_by(|a, b| rank(a).cmp(&rank(b)).then(b.severity.cmp(&a.severity)).then_with(|| a.rule.cmp(&b.rule)));
    list
}

pub fn render(report: &Report) -> String {
    let run: Vec<&Finding> = report.findings.iter().filter(|f| !is_not_run(f)).collect();
    let counted = |status: Status| -> Vec<&Finding> {
        ordered(run.iter().copied().filter(|f| f.status == status && f.suppressed.is_none()))
    };
    let (failures, errors) = (counted(Status::Fail), counted(Status::Error));
    let (verdict, class) = match (failures.is_empty(), errors.is_empty()) {
        (false, _) => ("Failures found", "v-fail"),
        (true, false) => ("No failure, but some checks could not be evaluated", "v-error"),
        (true, true) => ("No failures", "v-pass"),
    };
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    );
    out.push_str(&format!("<title>fedscan report — {}</title>\n<style>{STYLE}</style></head><body>\n", h(verdict)));
    out.push_str(&format!(
        "<h1>fedscan report</h1>\n<p class=\"verdict {class}\" id=\"verdict\"><b>{}</b><br>{}<br>{}</p>\n",
        h(verdict),
        h(&summary_line(&report.summary)),
        h(&exit_meaning(report.summary.exit_code, report.policy()))
    ));
    out.push_str(&format!(
        "<p>Evaluated at {} by fedscan {}; profiles {}.</p>\n",
        h(&report.evaluated_at),
        h(report.tool.version),
        h(&report.profiles.iter().map(|p| p.name()).collect::<Vec<_>>().join(", "))
    ));

    if !failures.is_empty() {
        out.push_str(&format!("<h2 id=\"to-fix\">To fix ({})</h2>\n", failures.len()));
        out.push_str(&table(&failures, true));
    }
    if !errors.is_empty() {
        out.push_str(&format!("<h2 id=\"errors\">Could not be checked ({})</h2>\n", errors.len()));
        out.push_str(&table(&errors, true));
    }
    if !report.input_errors.is_empty() {
        out.push_str("<h2>Inputs that could not be read</h2>\n<ul>\n");
        for error in &report.input_errors {
            out.push_str(&format!("<li>{}</li>\n", h(&error.to_string())));
        }
        out.push_str("</ul>\n");
    }
    if let Some(baseline) = &report.baseline
        && !baseline.fixed.is_empty()
    {
        out.push_str(&format!("<h2>Fixed since the baseline ({})</h2>\n<ul>\n", h(&baseline.path)));
        for fixed in &baseline.fixed {
            out.push_str(&format!("<li>{} {}: {}</li>\n", h(&fixed.rule), h(&fixed.target), h(&fixed.message)));
        }
        out.push_str("</ul>\n");
    }

    let index = DomainIndex::new(&report.discovery);
    let mut blocks: Vec<Vec<&Finding>> = vec![Vec::new(); report.discovery.len()];
    let mut rest: Vec<&Finding> = Vec::new();
    for &finding in run.iter().filter(|f| f.status != Status::Skip) {
        match index.of(finding) {
            Some(i) => blocks[i].push(finding),
            None => rest.push(finding),
        }
    }
    let escape = |text: &str| h(text);
    for (domain, rows) in report.discovery.iter().zip(blocks) {
        out.push_str(&format!("<h2>{}</h2>\n<pre>", h(&domain.domain)));
        out.push_str(&path_lines(domain, &escape).join("\n"));
        out.push_str("</pre>\n");
        if !rows.is_empty() {
            out.push_str(&table(&ordered(rows.into_iter()), true));
        }
    }
    for file in &report.certificate_files {
        out.push_str(&format!("<h2>Certificate file {}</h2>\n<pre>{}</pre>\n", h(&file.path), h(&file.certificate)));
    }
    if !rest.is_empty() {
        out.push_str("<h2>Configuration and other targets</h2>\n");
        out.push_str(&table(&ordered(rest.into_iter()), true));
    }
    let skipped: Vec<&Finding> = run.iter().copied().filter(|f| f.status == Status::Skip).collect();
    let not_run: Vec<&Finding> = report.findings.iter().filter(|f| is_not_run(f)).collect();
    if !skipped.is_empty() || !not_run.is_empty() {
        out.push_str(&format!(
            "<details><summary>Not applicable ({}) and not run ({})</summary>\n",
            skipped.len(),
            not_run.len()
        ));
        let mut all = skipped;
        all.extend(not_run);
        out.push_str(&table(&all, true));
        out.push_str("</details>\n");
    }
    if !report.notes.is_empty() {
        out.push_str("<h2>Notes on the input</h2>\n<ul>\n");
        for note in &report.notes {
            let at = note.line.map(|l| format!(":{l}")).unwrap_or_default();
            out.push_str(&format!("<li>{}{at}: {}</li>\n", h(&note.path), h(&note.message)));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body></html>\n");
    out
}

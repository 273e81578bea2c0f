//! HTML (`--format html`): one self-contained page to attach to a ticket or
//! publish as a CI artifact. No script, no external resource (a
//! Content-Security-Policy forbids both), styles inline; the verdict, what to
//! fix first, what could not be checked, then each scanned domain's federation
//! path with its findings, failures first. Every value goes through
//! [`escape_html`].

use std::io::Write;

use super::discovery::{DomainDiscovery, DomainIndex, path_lines};
use super::spill::{FindingSpill, Fold, Shelf, Store, held, push_order_key, severity_key};
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

fn table_head(with_target: bool) -> String {
    let mut out = String::from("<table><tr><th>Status</th><th>Severity</th><th>Rule</th>");
    if with_target {
        out.push_str("<th>Target</th>");
    }
    out.push_str("<th>Finding</th></tr>\n");
    out
}

const TABLE_END: &str = "</table>\n";

fn row(f: &Finding, with_target: bool) -> String {
    let mut out = format!(
        "<tr><td>{}</td><td>{}</td><td class=\"rule\" title=\"{}\">{}</td>",
        status(f),
        f.severity,
        h(&f.title),
        h(&f.rule)
    );
    if with_target {
        out.push_str(&format!("<td>{}</td>", target(f)));
    }
    out.push_str(&format!("<td>{}</td></tr>\n", finding_text(f)));
    out
}

fn table(findings: &[&Finding], with_target: bool) -> String {
    let mut out = table_head(with_target);
    for f in findings {
        out.push_str(&row(f, with_target));
    }
    out.push_str(TABLE_END);
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

/// What the page keeps of a scan's findings as they are judged, a chunk of
/// domains at a time: the rows of its lists sorted in runs, each domain's
/// table on a shelf, the other targets' findings whole. The page is that of
/// the findings held whole, in the same order.
#[derive(Debug)]
pub struct HtmlFold {
    failures: FindingSpill,
    errors: FindingSpill,
    /// Each domain's table.
    shelf: Shelf,
    /// The findings about no scanned domain, but skips, at their places.
    rest: Vec<(Vec<u8>, Finding)>,
    /// The rows of the skips, then of the rules not run.
    unlisted: FindingSpill,
    skipped: usize,
    not_run: usize,
}

impl HtmlFold {
    /// Kept in memory (`Store::Memory`) or on disk.
    pub fn new(store: impl Fn() -> std::io::Result<Store>) -> std::io::Result<HtmlFold> {
        Ok(HtmlFold {
            failures: FindingSpill::in_store(store()?),
            errors: FindingSpill::in_store(store()?),
            shelf: Shelf::in_store(store()?),
            rest: Vec::new(),
            unlisted: FindingSpill::in_store(store()?),
            skipped: 0,
            not_run: 0,
        })
    }
}

impl Fold for HtmlFold {
    /// Folds in `findings`, in the order they were judged, with the
    /// discovery of the domains they are about.
    fn add(&mut self, findings: &[Finding], discovery: &[DomainDiscovery]) -> std::io::Result<()> {
        let mut placed: Vec<(Vec<u8>, &Finding)> = findings
            .iter()
            .map(|f| {
                let mut key = Vec::new();
                push_order_key(&mut key, f);
                (key, f)
            })
            .collect();
        placed.sort_by(|a, b| a.0.cmp(&b.0));
        let index = DomainIndex::new(discovery);
        let mut blocks: Vec<Vec<&Finding>> = vec![Vec::new(); discovery.len()];
        let (mut failures, mut errors, mut unlisted) = (Vec::new(), Vec::new(), Vec::new());
        for (key, finding) in placed {
            if is_not_run(finding) {
                self.not_run += 1;
                unlisted.push(([&[1], key.as_slice()].concat(), row(finding, true).into_bytes()));
                continue;
            }
            if finding.suppressed.is_none() {
                match finding.status {
                    Status::Fail => failures.push((severity_key(finding), row(finding, true).into_bytes())),
                    Status::Error => errors.push((severity_key(finding), row(finding, true).into_bytes())),
                    Status::Pass | Status::Skip => {}
                }
            }
            if finding.status == Status::Skip {
                self.skipped += 1;
                unlisted.push(([&[0], key.as_slice()].concat(), row(finding, true).into_bytes()));
                continue;
            }
            match index.of(finding) {
                Some(i) => blocks[i].push(finding),
                None => self.rest.push((key, finding.clone())),
            }
        }
        self.failures.add_records(failures)?;
        self.errors.add_records(errors)?;
        self.unlisted.add_records(unlisted)?;
        for (domain, rows) in discovery.iter().zip(blocks) {
            if !rows.is_empty() {
                self.shelf.put(&domain.domain, table(&ordered(rows.into_iter()), true).as_bytes())?;
            }
        }
        Ok(())
    }

    /// The page, around the findings folded in.
    fn write(&mut self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let (failures, errors) = (self.failures.len(), self.errors.len());
        let (verdict, class) = match (failures == 0, errors == 0) {
            (false, _) => ("Failures found", "v-fail"),
            (true, false) => ("No failure, but some checks could not be evaluated", "v-error"),
            (true, true) => ("No failures", "v-pass"),
        };
        let mut text = String::from(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        );
        text.push_str(&format!(
            "<title>fedscan report — {}</title>\n<style>{STYLE}</style></head><body>\n",
            h(verdict)
        ));
        text.push_str(&format!(
            "<h1>fedscan report</h1>\n<p class=\"verdict {class}\" id=\"verdict\"><b>{}</b><br>{}<br>{}</p>\n",
            h(verdict),
            h(&summary_line(&report.summary)),
            h(&exit_meaning(report.summary.exit_code, report.policy()))
        ));
        text.push_str(&format!(
            "<p>Evaluated at {} by fedscan {}; profiles {}.</p>\n",
            h(&report.evaluated_at),
            h(report.tool.version),
            h(&report.profiles.iter().map(|p| p.name()).collect::<Vec<_>>().join(", "))
        ));
        out.write_all(text.as_bytes())?;

        if failures > 0 {
            out.write_all(format!("<h2 id=\"to-fix\">To fix ({failures})</h2>\n").as_bytes())?;
            out.write_all(table_head(true).as_bytes())?;
            self.failures.for_each(|row| out.write_all(row))?;
            out.write_all(TABLE_END.as_bytes())?;
        }
        if errors > 0 {
            out.write_all(format!("<h2 id=\"errors\">Could not be checked ({errors})</h2>\n").as_bytes())?;
            out.write_all(table_head(true).as_bytes())?;
            self.errors.for_each(|row| out.write_all(row))?;
            out.write_all(TABLE_END.as_bytes())?;
        }
        let mut text = String::new();
        if !report.input_errors.is_empty() {
            text.push_str("<h2>Inputs that could not be read</h2>\n<ul>\n");
            for error in &report.input_errors {
                text.push_str(&format!("<li>{}</li>\n", h(&error.to_string())));
            }
            text.push_str("</ul>\n");
        }
        if let Some(baseline) = &report.baseline
            && !baseline.fixed.is_empty()
        {
            text.push_str(&format!("<h2>Fixed since the baseline ({})</h2>\n<ul>\n", h(&baseline.path)));
            for fixed in &baseline.fixed {
                text.push_str(&format!("<li>{} {}: {}</li>\n", h(&fixed.rule), h(&fixed.target), h(&fixed.message)));
            }
            text.push_str("</ul>\n");
        }
        out.write_all(text.as_bytes())?;

        let escape = |text: &str| h(text);
        let shelf = &mut self.shelf;
        report.discovery.for_each(|domain| {
            let mut text = format!("<h2>{}</h2>\n<pre>", h(&domain.domain));
            text.push_str(&path_lines(domain, &escape).join("\n"));
            text.push_str("</pre>\n");
            out.write_all(text.as_bytes())?;
            if let Some(rows) = shelf.get(&domain.domain)? {
                out.write_all(&rows)?;
            }
            Ok(())
        })?;
        let mut text = String::new();
        for file in &report.certificate_files {
            text.push_str(&format!(
                "<h2>Certificate file {}</h2>\n<pre>{}</pre>\n",
                h(&file.path),
                h(&file.certificate)
            ));
        }
        self.rest.sort_by(|a, b| a.0.cmp(&b.0));
        if !self.rest.is_empty() {
            text.push_str("<h2>Configuration and other targets</h2>\n");
            text.push_str(&table(&ordered(self.rest.iter().map(|(_, f)| f)), true));
        }
        out.write_all(text.as_bytes())?;
        if self.skipped > 0 || self.not_run > 0 {
            out.write_all(
                format!(
                    "<details><summary>Not applicable ({}) and not run ({})</summary>\n",
                    self.skipped, self.not_run
                )
                .as_bytes(),
            )?;
            out.write_all(table_head(true).as_bytes())?;
            self.unlisted.for_each(|row| out.write_all(row))?;
            out.write_all(TABLE_END.as_bytes())?;
            out.write_all(b"</details>\n")?;
        }
        let mut text = String::new();
        if !report.notes.is_empty() {
            text.push_str("<h2>Notes on the input</h2>\n<ul>\n");
            for note in &report.notes {
                let at = note.line.map(|l| format!(":{l}")).unwrap_or_default();
                text.push_str(&format!("<li>{}{at}: {}</li>\n", h(&note.path), h(&note.message)));
            }
            text.push_str("</ul>\n");
        }
        text.push_str("</body></html>\n");
        out.write_all(text.as_bytes())
    }
}

/// The page of findings held whole.
pub fn render(report: &Report) -> String {
    held(HtmlFold::new(Store::memory), report)
}

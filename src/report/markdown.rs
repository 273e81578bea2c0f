//! Markdown (`--format markdown`), for a GitHub job summary
//! (`$GITHUB_STEP_SUMMARY`) or a pull-request comment: the verdict, then the
//! failures with their fixes, most severe first and grouped by domain, then
//! what could not be checked, and the passes folded away per domain. Every
//! value goes through [`escape_markdown`]: no value can add a link, an image,
//! HTML or a mention.

use std::io::Write;

use super::discovery::{DomainDiscovery, DomainIndex};
use super::spill::{FindingSpill, Fold, Store, held, push_key_text, push_order_key, severity_key};
use super::{Report, exit_meaning, is_not_run, summary_line};
use crate::findings::{BaselineState, Finding, Status};
use crate::text::escape_markdown;

/// GitHub refuses a job summary over 1 MiB; the passes are cut first.
const MAX_BYTES: usize = 1000 * 1024;

fn cell(text: &str) -> String {
    escape_markdown(text).replace('\n', "<br>")
}

/// The section a finding is listed in: its domain, or the target's kind.
fn section(discovery: &[DomainDiscovery], index: &DomainIndex, finding: &Finding) -> String {
    match index.of(finding) {
        Some(i) => discovery[i].domain.clone(),
        None => match &finding.target {
            Some(crate::findings::Target::Config { .. }) => "Configuration".into(),
            Some(crate::findings::Target::File(_)) => "Certificate files".into(),
            Some(target) => target.to_string(),
            None => "Scan".into(),
        },
    }
}

fn marks(finding: &Finding) -> String {
    let mut marks = String::new();
    if finding.baseline == Some(BaselineState::New) {
        marks.push_str(" **new**");
    }
    marks
}

fn target(f: &Finding) -> String {
    cell(&f.target.as_ref().map(|t| t.to_string()).unwrap_or_default())
}

fn failure_row(f: &Finding) -> String {
    format!(
        "| {}{} | {} | {} | {} | {} |\n",
        f.severity,
        marks(f),
        cell(&f.rule),
        target(f),
        cell(&f.message),
        cell(&f.remediation)
    )
}

fn error_row(f: &Finding) -> String {
    format!("| {}{} | {} | {} |\n", cell(&f.rule), marks(f), target(f), cell(&f.message))
}

fn suppressed_row(f: &Finding, s: &crate::findings::Suppressed) -> String {
    format!(
        "| {} | {} | {} | {} | {} |\n",
        f.status.name(),
        cell(&f.rule),
        target(f),
        cell(&s.reason),
        cell(s.expires.as_deref().unwrap_or("no expiry"))
    )
}

fn pass_row(f: &Finding) -> String {
    format!("| {} | {} | {} |\n", cell(&f.rule), target(f), cell(&f.message))
}

/// A record that starts with its section's name, then its text.
fn in_section(section: &str, text: &str) -> Vec<u8> {
    let mut record = (section.len() as u32).to_le_bytes().to_vec();
    record.extend_from_slice(section.as_bytes());
    record.extend_from_slice(text.as_bytes());
    record
}

fn section_and_text(record: &[u8]) -> (&[u8], &[u8]) {
    let length = record.get(..4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let rest = record.get(4..).unwrap_or_default();
    rest.split_at(length.min(rest.len()))
}

/// Records of `members` grouped by section: each section at its first
/// member's key (the list's order puts sections in the order their first
/// member appears), its members in their own order after it.
fn by_section<'a>(
    members: Vec<(Vec<u8>, String, &'a Finding)>,
    mut record: impl FnMut(&str, &[&'a Finding]) -> Vec<(Vec<u8>, Vec<u8>)>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    // Each section's first key, and its members with theirs.
    type Members<'a> = (Vec<u8>, Vec<(Vec<u8>, &'a Finding)>);
    let mut sections: std::collections::HashMap<String, Members> = std::collections::HashMap::new();
    for (key, section, finding) in members {
        let entry = sections.entry(section).or_insert_with(|| (key.clone(), Vec::new()));
        if key < entry.0 {
            entry.0 = key.clone();
        }
        entry.1.push((key, finding));
    }
    let mut records = Vec::new();
    for (section, (first, mut members)) in sections {
        members.sort_by(|a, b| a.0.cmp(&b.0));
        let mut key = first;
        push_key_text(&mut key, &section);
        let findings: Vec<&Finding> = members.iter().map(|(_, f)| *f).collect();
        for (n, (own, text)) in record(&section, &findings).into_iter().enumerate() {
            let mut full = key.clone();
            full.extend_from_slice(&(n as u64).to_be_bytes());
            full.extend_from_slice(&own);
            records.push((full, text));
        }
    }
    records
}

/// A section's failures, a record each.
fn failure_records(section: &str, members: &[&Finding]) -> Vec<(Vec<u8>, Vec<u8>)> {
    members.iter().map(|f| (Vec::new(), in_section(&cell(section), &failure_row(f)))).collect()
}

/// A section's passes, one folded block.
fn pass_block(section: &str, members: &[&Finding]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut block = format!(
        "\n<details><summary>{} — {} passed</summary>\n\n| Rule | Target | Finding |\n|---|---|---|\n",
        cell(section),
        members.len()
    );
    for f in members {
        block.push_str(&pass_row(f));
    }
    block.push_str("\n</details>\n");
    let mut record = (members.len() as u64).to_le_bytes().to_vec();
    record.extend_from_slice(block.as_bytes());
    vec![(Vec::new(), record)]
}

/// What the summary keeps of a scan's findings as they are judged, a chunk
/// of domains at a time: the rows of each list, sorted in runs; the
/// findings about no scanned domain whole, until the end (their sections
/// can span chunks). The summary is that of the findings held whole.
#[derive(Debug)]
pub struct MarkdownFold {
    failures: FindingSpill,
    errors: FindingSpill,
    suppressed: FindingSpill,
    passes: FindingSpill,
    /// Failures and passes about no scanned domain, at their places.
    rest: Vec<(Vec<u8>, Finding)>,
    judged: u64,
}

impl MarkdownFold {
    /// Kept in memory (`Store::Memory`) or on disk.
    pub fn new(store: impl Fn() -> std::io::Result<Store>) -> std::io::Result<MarkdownFold> {
        Ok(MarkdownFold {
            failures: FindingSpill::in_store(store()?),
            errors: FindingSpill::in_store(store()?),
            suppressed: FindingSpill::in_store(store()?),
            passes: FindingSpill::in_store(store()?),
            rest: Vec::new(),
            judged: 0,
        })
    }

    /// Folds in the findings about no scanned domain: their sections are
    /// whole now.
    fn add_rest(&mut self) -> std::io::Result<()> {
        let rest = std::mem::take(&mut self.rest);
        let no_domain = DomainIndex::new(&[]);
        let (mut failures, mut passes) = (Vec::new(), Vec::new());
        for (order, finding) in &rest {
            let name = section(&[], &no_domain, finding);
            match finding.status {
                Status::Pass => passes.push((order.clone(), name, finding)),
                _ => {
                    let mut key = severity_key(finding);
                    key.extend_from_slice(&order[order.len() - 8..]);
                    failures.push((key, name, finding));
                }
            }
        }
        self.failures.add_records(by_section(failures, failure_records))?;
        self.passes.add_records(by_section(passes, pass_block))
    }
}

impl Fold for MarkdownFold {
    /// Folds in `findings`, in the order they were judged, with the
    /// discovery of the domains they are about.
    fn add(&mut self, findings: &[Finding], discovery: &[DomainDiscovery]) -> std::io::Result<()> {
        let index = DomainIndex::new(discovery);
        let (mut errors, mut suppressed) = (Vec::new(), Vec::new());
        let (mut failures, mut passes) = (Vec::new(), Vec::new());
        for finding in findings.iter().filter(|f| !is_not_run(f)) {
            let mut order = Vec::new();
            push_order_key(&mut order, finding);
            // Equal keys keep the order they were judged in.
            self.judged += 1;
            order.extend_from_slice(&self.judged.to_be_bytes());
            if let Some(s) = &finding.suppressed {
                suppressed.push((order.clone(), suppressed_row(finding, s).into_bytes()));
            }
            let listed =
                finding.status == Status::Pass || (finding.status == Status::Fail && finding.suppressed.is_none());
            if finding.status == Status::Error && finding.suppressed.is_none() {
                let mut key = severity_key(finding);
                key.extend_from_slice(&self.judged.to_be_bytes());
                errors.push((key, error_row(finding).into_bytes()));
            }
            if !listed {
                continue;
            }
            if index.of(finding).is_none() {
                self.rest.push((order, finding.clone()));
                continue;
            }
            let name = section(discovery, &index, finding);
            match finding.status {
                Status::Pass => passes.push((order, name, finding)),
                _ => {
                    let mut key = severity_key(finding);
                    key.extend_from_slice(&self.judged.to_be_bytes());
                    failures.push((key, name, finding));
                }
            }
        }
        self.errors.add_records(errors)?;
        self.suppressed.add_records(suppressed)?;
        self.failures.add_records(by_section(failures, failure_records))?;
        self.passes.add_records(by_section(passes, pass_block))
    }

    /// The summary, around the findings folded in.
    fn write(&mut self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        if !self.rest.is_empty() {
            self.add_rest()?;
        }
        let mut out = Counted { out, written: 0 };
        let (failures, errors) = (self.failures.len(), self.errors.len());
        let verdict = match (failures == 0, errors == 0) {
            (false, _) => "❌ failures",
            (true, false) => "⚠️ incomplete",
            (true, true) => "✅ no failures",
        };
        let mut text = format!("## fedscan: {verdict}\n\n");
        text.push_str(&format!(
            "**{}**  \n{}  \nEvaluated at {} · fedscan {}\n",
            escape_markdown(&summary_line(&report.summary)),
            escape_markdown(&exit_meaning(report.summary.exit_code, report.policy())),
            escape_markdown(&report.evaluated_at),
            escape_markdown(report.tool.version),
        ));
        out.write(text.as_bytes())?;

        if failures > 0 {
            out.write(b"\n### To fix\n")?;
            let mut current: Option<Vec<u8>> = None;
            self.failures.for_each(|record| {
                let (section, row) = section_and_text(record);
                if current.as_deref() != Some(section) {
                    out.write(b"\n#### ")?;
                    out.write(section)?;
                    out.write(b"\n\n| Severity | Rule | Target | Finding | Fix |\n|---|---|---|---|---|\n")?;
                    current = Some(section.to_vec());
                }
                out.write(row)
            })?;
        }
        if errors > 0 {
            out.write(b"\n### Could not be checked\n\n| Rule | Target | Why |\n|---|---|---|\n")?;
            self.errors.for_each(|row| out.write(row))?;
        }
        if !self.suppressed.is_empty() {
            out.write(
                b"\n### Accepted (suppressed)\n\n| Status | Rule | Target | Reason | Until |\n|---|---|---|---|---|\n",
            )?;
            self.suppressed.for_each(|row| out.write(row))?;
        }
        let mut text = String::new();
        if let Some(baseline) = &report.baseline
            && !baseline.fixed.is_empty()
        {
            text.push_str("\n### Fixed since the baseline\n\n| Rule | Target | Was |\n|---|---|---|\n");
            for fixed in &baseline.fixed {
                text.push_str(&format!(
                    "| {} | {} | {} |\n",
                    cell(&fixed.rule),
                    cell(&fixed.target),
                    cell(&fixed.message)
                ));
            }
        }
        if !report.input_errors.is_empty() {
            text.push_str("\n### Inputs that could not be read\n\n");
            for error in &report.input_errors {
                text.push_str(&format!("- {}\n", cell(&error.to_string())));
            }
        }
        out.write(text.as_bytes())?;

        if !self.passes.is_empty() {
            out.write(b"\n### Passed\n")?;
            let mut cut = 0;
            self.passes.for_each(|record| {
                let members = record
                    .get(..8)
                    .map_or(0, |b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as usize);
                let block = record.get(8..).unwrap_or_default();
                if out.written + block.len() > MAX_BYTES {
                    cut += members;
                    Ok(())
                } else {
                    out.write(block)
                }
            })?;
            if cut > 0 {
                out.write(format!(
                    "\n{cut} passes are left out to keep this summary under GitHub's 1 MiB; the JSON or HTML report has them.\n"
                ).as_bytes())?;
            }
        }
        Ok(())
    }
}

/// The output, and how much of it was written.
struct Counted<'o> {
    out: &'o mut dyn Write,
    written: usize,
}

impl Counted<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.written += bytes.len();
        self.out.write_all(bytes)
    }
}

/// The summary of findings held whole.
pub fn render(report: &Report) -> String {
    held(MarkdownFold::new(Store::memory), report)
}

//! Markdown (`--format markdown`), for a GitHub job summary
//! (`$GITHUB_STEP_SUMMARY`) or a pull-request comment: the verdict, then the
//! failures with their fixes, most severe first and grouped by domain, then
//! what could not be checked, and the passes folded away per domain. Every
//! value goes through [`escape_markdown`]: no value can add a link, an image,
//! HTML or a mention.

use super::discovery::DomainIndex;
use super::{Report, exit_meaning, is_not_run, summary_line};
use crate::findings::{BaselineState, Finding, Status};
use crate::text::escape_markdown;

/// GitHub refuses a job summary over 1 MiB; the passes are cut first.
const MAX_BYTES: usize = 1000 * 1024;

fn cell(text: &str) -> String {
    escape_markdown(text).replace('\n', "<br>")
}

/// The section a finding is listed in: its domain, or the target's kind.
fn section(report: &Report, index: &DomainIndex, finding: &Finding) -> String {
    match index.of(finding) {
        Some(i) => report.discovery[i].domain.clone(),
        None => match &finding.target {
            Some(crate::findings::Target::Config { .. }) => "Configuration".into(),
            Some(crate::findings::Target::File(_)) => "Certificate files".into(),
            Some(target) => target.to_string(),
            None => "Scan".into(),
        },
    }
}

/// Sections in the order their first finding appears, each with its findings.
fn grouped<'a>(report: &'a Report, findings: &[&'a Finding]) -> Vec<(String, Vec<&'a Finding>)> {
    let index = DomainIndex::new(&report.discovery);
    let mut sections: Vec<(String, Vec<&Finding>)> = Vec::new();
    for &finding in findings {
        let name = section(report, &index, finding);
        match sections.iter_mut().find(|(n, _)| *n == name) {
            Some((_, members)) => members.push(finding),
            None => sections.push((name, vec![finding])),
        }
    }
    sections
}

fn marks(finding: &Finding) -> String {
    let mut marks = String::new();
    if finding.baseline == Some(BaselineState::New) {
        marks.push_str(" **new**");
    }
    marks
}

pub fn render(report: &Report) -> String {
    let run: Vec<&Finding> = report.findings.iter().filter(|f| !is_not_run(f)).collect();
    let counted = |status: Status| -> Vec<&Finding> {
        let mut list: Vec<&Finding> =
            run.iter().copied().filter(|f| f.status == status && f.suppressed.is_none()).collect();
        list.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.rule.cmp(&b.rule)));
        list
    };
    let failures = counted(Status::Fail);
    let errors = counted(Status::Error);
    let verdict = match (failures.is_empty(), errors.is_empty()) {
        (false, _) => "❌ failures",
        (true, false) => "⚠️ incomplete",
        (true, true) => "✅ no failures",
    };
    let mut out = format!("## fedscan: {verdict}\n\n");
    out.push_str(&format!(
        "**{}**  \n{}  \nEvaluated at {} · fedscan {}\n",
        escape_markdown(&summary_line(&report.summary)),
        escape_markdown(&exit_meaning(report.summary.exit_code, report.policy())),
        escape_markdown(&report.evaluated_at),
        escape_markdown(report.tool.version),
    ));

    if !failures.is_empty() {
        out.push_str("\n### To fix\n");
        for (section, members) in grouped(report, &failures) {
            out.push_str(&format!(
                "\n#### {}\n\n| Severity | Rule | Target | Finding | Fix |\n|---|---|---|---|---|\n",
                cell(&section)
            ));
            for f in members {
                out.push_str(&format!(
                    "| {}{} | {} | {} | {} | {} |\n",
                    f.severity,
                    marks(f),
                    cell(&f.rule),
                    cell(&f.target.as_ref().map(|t| t.to_string()).unwrap_or_default()),
                    cell(&f.message),
                    cell(&f.remediation)
                ));
            }
        }
    }
    if !errors.is_empty() {
        out.push_str("\n### Could not be checked\n\n| Rule | Target | Why |\n|---|---|---|\n");
        for f in &errors {
            out.push_str(&format!(
                "| {}{} | {} | {} |\n",
                cell(&f.rule),
                marks(f),
                cell(&f.target.as_ref().map(|t| t.to_string()).unwrap_or_default()),
                cell(&f.message)
            ));
        }
    }
    let suppressed: Vec<(&Finding, &crate::findings::Suppressed)> =
        run.iter().filter_map(|f| Some((*f, f.suppressed.as_ref()?))).collect();
    if !suppressed.is_empty() {
        out.push_str(
            "\n### Accepted (suppressed)\n\n| Status | Rule | Target | Reason | Until |\n|---|---|---|---|---|\n",
        );
        for (f, s) in suppressed {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                f.status.name(),
                cell(&f.rule),
                cell(&f.target.as_ref().map(|t| t.to_string()).unwrap_or_default()),
                cell(&s.reason),
                cell(s.expires.as_deref().unwrap_or("no expiry"))
            ));
        }
    }
    if let Some(baseline) = &report.baseline
        && !baseline.fixed.is_empty()
    {
        out.push_str("\n### Fixed since the baseline\n\n| Rule | Target | Was |\n|---|---|---|\n");
        for fixed in &baseline.fixed {
            out.push_str(&format!("| {} | {} | {} |\n", cell(&fixed.rule), cell(&fixed.target), cell(&fixed.message)));
        }
    }
    if !report.input_errors.is_empty() {
        out.push_str("\n### Inputs that could not be read\n\n");
        for error in &report.input_errors {
            out.push_str(&format!("- {}\n", cell(&error.to_string())));
        }
    }

    let passes: Vec<&Finding> = run.iter().copied().filter(|f| f.status == Status::Pass).collect();
    if !passes.is_empty() {
        out.push_str("\n### Passed\n");
        let mut cut = 0;
        for (section, members) in grouped(report, &passes) {
            let mut block = format!(
                "\n<details><summary>{} — {} passed</summary>\n\n| Rule | Target | Finding |\n|---|---|---|\n",
                cell(&section),
                members.len()
            );
            for f in &members {
                block.push_str(&format!(
                    "| {} | {} | {} |\n",
                    cell(&f.rule),
                    cell(&f.target.as_ref().map(|t| t.to_string()).unwrap_or_default()),
                    cell(&f.message)
                ));
            }
            block.push_str("\n</details>\n");
            if out.len() + block.len() > MAX_BYTES {
                cut += members.len();
            } else {
                out.push_str(&block);
            }
        }
        if cut > 0 {
            out.push_str(&format!(
                "\n{cut} passes are left out to keep this summary under GitHub's 1 MiB; the JSON or HTML report has them.\n"
            ));
        }
    }
    out
}

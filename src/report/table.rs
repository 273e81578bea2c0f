//! The terminal report: each scanned domain's federation path with its
//! findings in path order (or, for many domains, one line per domain), then
//! one table per other target, the rules not checked (once per reason), the
//! input problems, what could not be checked, what to fix first, and a
//! summary line. Every string that came from an input is escaped for the
//! terminal.

use std::collections::{HashMap, HashSet};

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use super::discovery::{DomainIndex, path_lines};
use super::{Report, exit_meaning, is_not_run, summary_line};
use crate::findings::{Finding, Status, Target};
use crate::text::{escape_terminal, shorten};

/// The longest value shown in the table, in characters: the table's layout
/// costs the square of a word's length, and a value from the network can be
/// megabytes long.
const MAX_SHOWN: usize = 2000;

/// A value from an input, as the table shows it: shortened, then escaped.
fn shown(text: &str) -> String {
    escape_terminal(&shorten(text, MAX_SHOWN)).into_owned()
}

pub struct Style {
    pub color: bool,
    /// Terminal width to wrap to; `None` when not writing to a terminal.
    pub width: Option<u16>,
    /// The statuses whose rows the tables show (`--show`, `--quiet`).
    pub show: Vec<Status>,
    pub layout: Layout,
}

/// How the scanned domains are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// Paths for a few domains, one line per domain beyond [`OVERVIEW_FROM`].
    Auto,
    /// Each domain's path and its findings.
    Paths,
    /// One line per domain: its verdict, counts and worst finding.
    Overview,
}

/// From how many scanned domains `auto` shows one line per domain.
pub const OVERVIEW_FROM: usize = 11;

/// The most groups the "To fix" list shows; the rest are counted.
const MAX_TO_FIX: usize = 25;

impl Style {
    fn shows(&self, status: Status) -> bool {
        self.show.contains(&status)
    }

    fn overview(&self, domains: usize) -> bool {
        match self.layout {
            Layout::Auto => domains >= OVERVIEW_FROM,
            Layout::Paths => false,
            Layout::Overview => true,
        }
    }
}

fn status_cell(status: Status, style: &Style) -> Cell {
    let cell = Cell::new(status.name().to_uppercase());
    if !style.color {
        return cell;
    }
    match status {
        Status::Pass => cell.fg(Color::Green),
        Status::Fail => cell.fg(Color::Red),
        Status::Error => cell.fg(Color::Yellow),
        Status::Skip => cell.fg(Color::DarkGrey),
    }
}

/// `file:line` of the planned zone record a finding is about.
fn location(finding: &Finding) -> Option<String> {
    let location = finding.location.as_ref()?;
    Some(match location.line {
        Some(line) => shown(&format!("{}:{line}", location.file)),
        None => shown(&location.file),
    })
}

fn finding_text(finding: &Finding) -> String {
    let mut text = shown(&finding.message);
    if let Some(at) = location(finding) {
        text.push_str(&format!("\nAt: {at}"));
    }
    if finding.status == Status::Fail {
        text.push_str("\nFix: ");
        text.push_str(&shown(&finding.remediation));
    }
    if let Some(suppressed) = &finding.suppressed {
        text.push_str(&format!("\nAccepted: {}", accepted(suppressed)));
    }
    text
}

/// "reason (until 2027-01-31; .fedscan-ignore.toml:4)"
fn accepted(suppressed: &crate::findings::Suppressed) -> String {
    let until = suppressed.expires.as_ref().map(|d| format!("until {d}; ")).unwrap_or_default();
    format!("{} ({until}{}:{})", shown(&suppressed.reason), shown(&suppressed.file), suppressed.line)
}

/// A line of the path, broken at spaces to fit the terminal: continuation
/// lines are indented under the line's own text, and no address or name is
/// ever cut.
fn wrapped(line: &str, width: Option<u16>) -> String {
    let Some(width) = width.map(usize::from).filter(|w| *w >= 40) else {
        return format!("{line}\n");
    };
    if line.chars().count() <= width {
        return format!("{line}\n");
    }
    let indent = line.len() - line.trim_start().len() + 4;
    let mut out = String::new();
    let mut current = String::new();
    for word in line.trim_start().split(' ') {
        let lead = if out.is_empty() && current.is_empty() { indent - 4 } else { indent };
        if !current.is_empty() && lead + current.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&format!("{}{current}\n", " ".repeat(if out.is_empty() { indent - 4 } else { indent })));
            current.clear();
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    out.push_str(&format!("{}{current}\n", " ".repeat(if out.is_empty() { indent - 4 } else { indent })));
    out
}

/// One table of findings; `within` names the domain of a path block, so
/// that rows about its Edges say which endpoint they are about. Errors that
/// say the same thing about the same target are one row naming every rule.
fn findings_table(rows: &[&Finding], style: &Style, within: Option<&str>) -> String {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    if !style.color {
        table.force_no_tty();
    } else {
        table.enforce_styling();
    }
    table.set_content_arrangement(ContentArrangement::Dynamic);
    table.set_width(style.width.unwrap_or(120));
    table.set_header(vec!["Status", "Severity", "Rule", "Finding"]);
    for group in same_errors(rows) {
        let finding = group[0];
        let mut text = finding_text(finding);
        if let (Some(domain), Some(target)) = (within, &finding.target)
            && *target != Target::Domain(domain.to_string())
        {
            text = format!("{}: {text}", shown(&target.to_string()));
        }
        let rules: Vec<&str> = group.iter().map(|f| f.rule.as_str()).collect();
        let severity = group.iter().map(|f| f.severity).max().unwrap_or(finding.severity);
        table.add_row(vec![
            status_cell(finding.status, style),
            Cell::new(severity.name()),
            Cell::new(rules.join("\n")),
            Cell::new(text),
        ]);
    }
    format!("{table}\n")
}

/// The rows in order, errors with the same target and message gathered at
/// the first of them.
fn same_errors<'a>(rows: &[&'a Finding]) -> Vec<Vec<&'a Finding>> {
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    let mut at: HashMap<(Option<String>, &str), usize> = HashMap::new();
    for &finding in rows {
        if finding.status == Status::Error && finding.suppressed.is_none() {
            let key = (finding.target.as_ref().map(Target::to_string), finding.message.as_str());
            if let Some(&i) = at.get(&key) {
                groups[i].push(finding);
                continue;
            }
            at.insert(key, groups.len());
        }
        groups.push(vec![finding]);
    }
    groups
}

/// "Not checked:" then each reason once, with the rules it kept from running.
fn skipped_by_reason(skipped: &[&Finding]) -> String {
    let mut out = String::new();
    for (reason, rules, _) in by_message(skipped) {
        out.push_str(&format!("  {}: {}\n", rules.join(", "), shown(reason)));
    }
    if out.is_empty() { out } else { format!("\nNot checked (skip):\n{out}") }
}

/// Each message once, in the order they first appear, with the rules that
/// gave it (each once) and how many targets.
fn by_message<'a>(findings: &[&'a Finding]) -> Vec<(&'a str, Vec<&'a str>, usize)> {
    let mut groups: Vec<(&str, Vec<&str>, usize)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut listed: HashSet<(&str, &str)> = HashSet::new();
    for finding in findings {
        let (message, rule) = (finding.message.as_str(), finding.rule.as_str());
        let i = *index.entry(message).or_insert_with(|| {
            groups.push((message, Vec::new(), 0));
            groups.len() - 1
        });
        groups[i].2 += 1;
        if listed.insert((message, rule)) {
            groups[i].1.push(rule);
        }
    }
    groups
}

/// What could not be checked, each reason once: the errors are the scan's
/// gaps, and one dead resolver should read as one problem.
fn could_not_check(errors: &[&Finding]) -> String {
    let mut out = String::new();
    for (message, rules, targets) in by_message(errors) {
        let on = if targets > 1 { format!(" ({targets} findings)") } else { String::new() };
        out.push_str(&format!("  {}{on}: {}\n", rules.join(", "), shown(message)));
    }
    if out.is_empty() { out } else { format!("\nCould not check (error):\n{out}") }
}

/// The failures to fix, most severe first, each rule's fix once with the
/// targets it applies to: what a person reads first, directly above the
/// summary.
fn to_fix(failures: &[&Finding], style: &Style) -> String {
    let mut groups: Vec<(&Finding, Vec<&Finding>)> = Vec::new();
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    for &finding in failures {
        let key = (finding.rule.as_str(), finding.remediation.as_str());
        match index.get(&key) {
            Some(&i) => groups[i].1.push(finding),
            None => {
                index.insert(key, groups.len());
                groups.push((finding, vec![finding]));
            }
        }
    }
    if groups.is_empty() {
        return String::new();
    }
    groups.sort_by(|a, b| b.0.severity.cmp(&a.0.severity).then_with(|| a.0.rule.cmp(&b.0.rule)));
    let mut out = format!("\nTo fix ({} failure(s), most severe first):\n", failures.len());
    for (n, (first, members)) in groups.iter().take(MAX_TO_FIX).enumerate() {
        let severity = first.severity.name().to_uppercase();
        // Red for high and critical, yellow below: the table's colours.
        let severity = match (style.color, first.severity >= crate::findings::Severity::High) {
            (false, _) => severity,
            (true, true) => format!("\u{1b}[31m{severity}\u{1b}[0m"),
            (true, false) => format!("\u{1b}[33m{severity}\u{1b}[0m"),
        };
        let new =
            if members.iter().any(|f| f.baseline == Some(crate::findings::BaselineState::New)) { " [new]" } else { "" };
        let targets: Vec<String> =
            members.iter().filter_map(|f| f.target.as_ref()).map(|t| shown(&t.to_string())).collect();
        let on = match targets.len() {
            0 => String::new(),
            1 => format!(" {}", targets[0]),
            count => {
                let listed: Vec<&str> = targets.iter().take(5).map(String::as_str).collect();
                let more = if count > 5 { format!(", and {} more", count - 5) } else { String::new() };
                format!(" on {count} targets: {}{more}", listed.join(", "))
            }
        };
        out.push_str(&wrapped(&format!("  {}. {severity} {}{on}{new}", n + 1, first.rule), style.width));
        out.push_str(&wrapped(&format!("     {}", shown(&first.message)), style.width));
        if let (1, Some(at)) = (members.len(), location(first)) {
            out.push_str(&wrapped(&format!("     At: {at}"), style.width));
        }
        out.push_str(&wrapped(&format!("     Fix: {}", shown(&first.remediation)), style.width));
    }
    if groups.len() > MAX_TO_FIX {
        out.push_str(&format!(
            "  … and {} more (the JSON, HTML and Markdown reports list them all)\n",
            groups.len() - MAX_TO_FIX
        ));
    }
    out
}

/// One line per scanned domain: verdict, counts and its worst finding.
fn overview(report: &Report, blocks: &[Vec<&Finding>], style: &Style) -> String {
    let width = style.width.map_or(120, usize::from).max(60);
    let name_width = report.discovery.iter().map(|d| shown(&d.domain).chars().count()).max().unwrap_or(0).min(40);
    let mut out = format!("\n{} domains (one line each; --layout paths shows each path):\n", report.discovery.len());
    for (domain, rows) in report.discovery.iter().zip(blocks) {
        let counted: Vec<&&Finding> = rows.iter().filter(|f| f.suppressed.is_none()).collect();
        let fails = counted.iter().filter(|f| f.status == Status::Fail).count();
        let errors = counted.iter().filter(|f| f.status == Status::Error).count();
        let passes = counted.iter().filter(|f| f.status == Status::Pass).count();
        let verdict = if fails > 0 {
            "FAIL"
        } else if errors > 0 {
            "ERROR"
        } else if passes > 0 {
            "PASS"
        } else {
            "SKIP"
        };
        let worst = counted
            .iter()
            .filter(|f| f.status == Status::Fail)
            .max_by_key(|f| f.severity)
            .or_else(|| counted.iter().find(|f| f.status == Status::Error));
        // The worst failure and its fix (an error has none); the line is cut
        // at the terminal's width, the To fix list below has them whole.
        let worst = worst.map_or(String::new(), |f| {
            let fix =
                if f.status == Status::Fail { format!(" → Fix: {}", shown(&f.remediation)) } else { String::new() };
            format!("  {} {}: {}{fix}", f.severity, f.rule, shown(&f.message))
        });
        let line = format!(
            "  {verdict:<5} {:<name_width$}  {fails} fail, {errors} error, {passes} pass{worst}",
            shown(&domain.domain)
        );
        // One line each, however long the worst finding's message.
        if line.chars().count() > width {
            out.extend(line.chars().take(width - 1));
            out.push('…');
        } else {
            out.push_str(&line);
        }
        out.push('\n');
    }
    out
}

pub fn render(report: &Report, style: &Style) -> String {
    let mut out = String::new();
    let profiles: Vec<&str> = report.profiles.iter().map(|p| p.name()).collect();
    out.push_str(&format!(
        "fedscan {}: profiles {}; evaluated at {}\n",
        report.tool.version,
        profiles.join(", "),
        report.evaluated_at
    ));
    if !report.inputs.config.is_empty() {
        let config: Vec<String> = report.inputs.config.iter().map(|c| shown(c)).collect();
        out.push_str(&format!("configuration: {}\n", config.join(", ")));
    }
    if let Some(facts) = &report.inputs.facts {
        out.push_str(&format!("facts replayed from {}\n", shown(facts)));
    }

    // Skipped rules are listed once per reason at the end: a scan without a
    // snapshot would otherwise bury its findings under dozens of rows that
    // say the same thing.
    let run: Vec<&Finding> = report.findings.iter().filter(|f| !is_not_run(f)).collect();
    let (skipped, listed): (Vec<&Finding>, Vec<&Finding>) = run.iter().partition(|f| f.status == Status::Skip);
    let mut blocks: Vec<Vec<&Finding>> = vec![Vec::new(); report.discovery.len()];
    let mut rest: Vec<&Finding> = Vec::new();
    let index = DomainIndex::new(&report.discovery);
    for finding in &listed {
        match index.of(finding) {
            Some(i) => blocks[i].push(finding),
            None => rest.push(finding),
        }
    }
    fn shown_rows<'a>(rows: &[&'a Finding], style: &Style) -> Vec<&'a Finding> {
        rows.iter().copied().filter(|f| style.shows(f.status)).collect()
    }
    if style.overview(report.discovery.len()) {
        out.push_str(&overview(report, &blocks, style));
    } else {
        // Each scanned domain's story first: its path, then its findings in
        // the order of the path (DNS, TLS, certificate, SIP), its Edges' included.
        for (domain, mut rows) in report.discovery.iter().zip(blocks) {
            out.push('\n');
            for line in path_lines(domain, &shown) {
                out.push_str(&wrapped(&line, style.width));
            }
            rows.sort_by_cached_key(|f| (f.step, f.rule.clone(), f.target.as_ref().map(Target::to_string)));
            let rows = shown_rows(&rows, style);
            if !rows.is_empty() {
                out.push_str(&findings_table(&rows, style, Some(&domain.domain)));
            }
        }
    }

    for file in &report.certificate_files {
        out.push_str(&format!("\nCertificate file {}\n  {}\n", shown(&file.path), shown(&file.certificate)));
    }

    let rest = shown_rows(&rest, style);
    let mut start = 0;
    while start < rest.len() {
        let target_of = |f: &Finding| f.target.as_ref().map_or_else(|| "(no target)".to_string(), Target::to_string);
        let target = target_of(rest[start]);
        let end = start + rest[start..].iter().take_while(|f| target_of(f) == target).count();
        out.push('\n');
        out.push_str(&shown(&target));
        out.push('\n');
        out.push_str(&findings_table(&rest[start..end], style, None));
        start = end;
    }

    if style.shows(Status::Skip) {
        out.push_str(&skipped_by_reason(&skipped));
    }

    if !report.notes.is_empty() {
        out.push_str("\nNotes on the input:\n");
        for note in &report.notes {
            let at = match note.line {
                Some(line) => format!("{}:{line}", note.path),
                None => note.path.clone(),
            };
            out.push_str(&format!("  {}: {}\n", shown(&at), shown(&note.message)));
        }
    }
    if !report.input_errors.is_empty() {
        out.push_str("\nInputs that could not be read:\n");
        for error in &report.input_errors {
            out.push_str(&format!("  {}\n", shown(&error.to_string())));
        }
    }
    if let Some(baseline) = &report.baseline
        && !baseline.fixed.is_empty()
    {
        out.push_str(&format!("\nFixed since the baseline ({}):\n", shown(&baseline.path)));
        for fixed in &baseline.fixed {
            out.push_str(&format!("  {} {}: {}\n", shown(&fixed.rule), shown(&fixed.target), shown(&fixed.message)));
        }
    }
    let counted: Vec<&Finding> = run.iter().copied().filter(|f| f.suppressed.is_none()).collect();
    let errors: Vec<&Finding> = counted.iter().copied().filter(|f| f.status == Status::Error).collect();
    out.push_str(&could_not_check(&errors));
    let failures: Vec<&Finding> = counted.iter().copied().filter(|f| f.status == Status::Fail).collect();
    out.push_str(&to_fix(&failures, style));
    out.push_str(&format!(
        "\nSummary: {}\n{}\n",
        summary_line(&report.summary),
        exit_meaning(report.summary.exit_code, report.policy())
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_lines_wrap_at_spaces_under_their_own_text() {
        let line =
            "  _sipfederationtls._tcp.contoso.com SRV 0 0 5061 sip.contoso.com (TTL 300) → 52.160.10.20, 52.160.10.21";
        let wrapped = wrapped(line, Some(60));
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines.len() > 1, "{wrapped}");
        assert!(lines.iter().all(|l| l.chars().count() <= 60), "{wrapped}");
        assert!(lines[1..].iter().all(|l| l.starts_with("      ") && !l.starts_with("       ")), "{wrapped}");
        // No word is cut: the words read back the same.
        let words = |text: &str| text.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(words(&wrapped), words(line));
        // Not on a terminal, or too narrow to help: left as it is.
        assert_eq!(super::wrapped(line, None), format!("{line}\n"));
        assert_eq!(super::wrapped(line, Some(20)), format!("{line}\n"));
    }
}

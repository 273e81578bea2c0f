//! The terminal report: each scanned domain's federation path with its
//! findings in path order (or, for many domains, one line per domain), then
//! one table per other target, the rules not checked (once per reason), the
//! input problems, what could not be checked, what to fix first, and a
//! summary line. Every string that came from an input is escaped for the
//! terminal.

use std::collections::HashMap;

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use super::discovery::{DomainDiscovery, DomainIndex, path_lines};
use super::spill::{FindingSpill, Fold, Shelf, Store, fields, held, push_field, push_key_text, push_order_key};
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

#[derive(Debug, Clone, PartialEq)]
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
        let rules: Vec<&str> = group.iter().map(|f| &*f.rule).collect();
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

/// A finding's place in the report's order: its order key, then when it was
/// judged (the report's order is a stable sort of the judged order), as
/// bytes that compare as those do.
fn place_of(finding: &Finding, judged: u64) -> Vec<u8> {
    let mut place = Vec::with_capacity(48);
    push_order_key(&mut place, finding);
    place.extend_from_slice(&judged.to_be_bytes());
    place
}

/// A record of a "Not checked" or "Could not check" reason: sorted by its
/// message, then its place, so that each message's findings come together
/// in their order.
fn reason_record(place: &[u8], finding: &Finding) -> (Vec<u8>, Vec<u8>) {
    let mut key = Vec::new();
    push_key_text(&mut key, &finding.message);
    key.extend_from_slice(place);
    let mut text = Vec::new();
    for field in [finding.message.as_bytes(), finding.rule.as_bytes(), place] {
        push_field(&mut text, field);
    }
    (key, text)
}

/// Each reason once, in the order of its first finding, with the rules that
/// gave it (each once, in the order they first did): `line(reason, rules,
/// findings)` of each, written to `out`.
fn by_reason(
    reasons: &mut FindingSpill,
    store: Store,
    line: impl Fn(&str, &[String], usize) -> String,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    // The lines, put in the order of their reasons' first findings.
    let mut lines = FindingSpill::in_store(store);
    let mut batch: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut current: Option<Reason> = None;
    let done = |reason: Option<Reason>, batch: &mut Vec<(Vec<u8>, Vec<u8>)>, lines: &mut FindingSpill| {
        if let Some(reason) = reason {
            let text = line(&String::from_utf8_lossy(&reason.message), &reason.rules, reason.findings);
            batch.push((reason.first, text.into_bytes()));
        }
        if batch.len() >= LINES_PER_RUN {
            lines.add_records(std::mem::take(batch))?;
        }
        std::io::Result::Ok(())
    };
    reasons.for_each(|record| {
        let [message, rule, place] = fields(record);
        let rule = String::from_utf8_lossy(rule);
        match &mut current {
            Some(reason) if reason.message.as_slice() == message => {
                reason.findings += 1;
                if !reason.rules.iter().any(|r| *r == rule) {
                    reason.rules.push(rule.into_owned());
                }
            }
            _ => {
                let next = Reason {
                    message: message.to_vec(),
                    first: place.to_vec(),
                    rules: vec![rule.into_owned()],
                    findings: 1,
                };
                done(current.replace(next), &mut batch, &mut lines)?;
            }
        }
        Ok(())
    })?;
    done(current.take(), &mut batch, &mut lines)?;
    lines.add_records(batch)?;
    lines.for_each(|line| out.write_all(line))
}

/// A reason as its findings are read: the first one's place, the rules
/// that gave it, how many.
struct Reason {
    message: Vec<u8>,
    first: Vec<u8>,
    rules: Vec<String>,
    findings: usize,
}

/// The lines a run of reasons' lines holds.
const LINES_PER_RUN: usize = 4096;

/// "Not checked:" then each reason once, with the rules it kept from running.
fn skipped_by_reason(skipped: &mut FindingSpill, store: Store, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    if skipped.is_empty() {
        return Ok(());
    }
    out.write_all(b"\nNot checked (skip):\n")?;
    let line = |reason: &str, rules: &[String], _| format!("  {}: {}\n", rules.join(", "), shown(reason));
    by_reason(skipped, store, line, out)
}

/// What could not be checked, each reason once: the errors are the scan's
/// gaps, and one dead resolver should read as one problem.
fn could_not_check(errors: &mut FindingSpill, store: Store, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    out.write_all(b"\nCould not check (error):\n")?;
    let line = |message: &str, rules: &[String], targets: usize| {
        let on = if targets > 1 { format!(" ({targets} findings)") } else { String::new() };
        format!("  {}{on}: {}\n", rules.join(", "), shown(message))
    };
    by_reason(errors, store, line, out)
}

/// A failure's record for the "To fix" list: sorted by its rule and fix,
/// then its place, so that each group's failures come together in their
/// order; with what the list shows of it.
fn fix_record(place: &[u8], finding: &Finding) -> (Vec<u8>, Vec<u8>) {
    let mut key = Vec::new();
    push_key_text(&mut key, &finding.rule);
    push_key_text(&mut key, &finding.remediation);
    key.extend_from_slice(place);
    let mut group = Vec::new();
    push_field(&mut group, finding.rule.as_bytes());
    push_field(&mut group, finding.remediation.as_bytes());
    let target = finding.target.as_ref().map(|t| shown(&t.to_string()));
    let new = finding.baseline == Some(crate::findings::BaselineState::New);
    let mut text = Vec::new();
    for field in [
        group.as_slice(),
        place,
        &[finding.severity as u8, u8::from(new), u8::from(target.is_some()), u8::from(location(finding).is_some())],
        target.unwrap_or_default().as_bytes(),
        shown(&finding.message).as_bytes(),
        shown(&finding.remediation).as_bytes(),
        location(finding).unwrap_or_default().as_bytes(),
    ] {
        push_field(&mut text, field);
    }
    (key, text)
}

/// A group of the "To fix" list: the failures of one rule with one fix.
struct FixGroup {
    /// Most severe first, then by rule, then in the order the groups appear.
    order: Vec<u8>,
    severity: crate::findings::Severity,
    rule: String,
    /// The first failure's, as shown.
    message: String,
    remediation: String,
    location: Option<String>,
    members: usize,
    /// The first five targets, as shown.
    targets: Vec<String>,
    targeted: usize,
    new: bool,
}

/// How many targets a group of the "To fix" list names.
const TARGETS_NAMED: usize = 5;

/// The failures to fix, most severe first, each rule's fix once with the
/// targets it applies to: what a person reads first, directly above the
/// summary. Only the groups shown are held.
fn to_fix(failures: &mut FindingSpill, style: &Style) -> std::io::Result<String> {
    if failures.is_empty() {
        return Ok(String::new());
    }
    let (mut shown_groups, mut groups): (Vec<FixGroup>, usize) = (Vec::new(), 0);
    let mut current: Option<(Vec<u8>, FixGroup)> = None;
    let mut done = |group: Option<(Vec<u8>, FixGroup)>| {
        let Some((_, group)) = group else { return };
        groups += 1;
        if shown_groups.len() < MAX_TO_FIX || shown_groups.last().is_some_and(|last| group.order < last.order) {
            shown_groups.push(group);
            shown_groups.sort_by(|a, b| a.order.cmp(&b.order));
            shown_groups.truncate(MAX_TO_FIX);
        }
    };
    failures.for_each(|record| {
        let [key, place, flags, target, message, remediation, location] = fields(record);
        let [severity, new, targeted, located] = [0, 1, 2, 3].map(|i| flags.get(i).copied().unwrap_or(0));
        if !matches!(&current, Some((current, _)) if current.as_slice() == key) {
            {
                let [rule, _] = fields(key);
                let severity = crate::findings::Severity::ALL
                    .into_iter()
                    .find(|s| *s as u8 == severity)
                    .unwrap_or(crate::findings::Severity::Info);
                let mut order = vec![u8::MAX - severity as u8];
                push_key_text(&mut order, &String::from_utf8_lossy(rule));
                order.extend_from_slice(place);
                let first = FixGroup {
                    order,
                    severity,
                    rule: String::from_utf8_lossy(rule).into_owned(),
                    message: String::from_utf8_lossy(message).into_owned(),
                    remediation: String::from_utf8_lossy(remediation).into_owned(),
                    location: (located == 1).then(|| String::from_utf8_lossy(location).into_owned()),
                    members: 0,
                    targets: Vec::new(),
                    targeted: 0,
                    new: false,
                };
                done(current.replace((key.to_vec(), first)));
            }
        }
        let Some((_, group)) = current.as_mut() else { return Ok(()) };
        group.members += 1;
        group.new |= new == 1;
        if targeted == 1 {
            group.targeted += 1;
            if group.targets.len() < TARGETS_NAMED {
                group.targets.push(String::from_utf8_lossy(target).into_owned());
            }
        }
        Ok(())
    })?;
    done(current.take());
    let mut out = format!("\nTo fix ({} failure(s), most severe first):\n", failures.len());
    for (n, group) in shown_groups.iter().enumerate() {
        let severity = group.severity.name().to_uppercase();
        // Red for high and critical, yellow below: the table's colours.
        let severity = match (style.color, group.severity >= crate::findings::Severity::High) {
            (false, _) => severity,
            (true, true) => format!("\u{1b}[31m{severity}\u{1b}[0m"),
            (true, false) => format!("\u{1b}[33m{severity}\u{1b}[0m"),
        };
        let new = if group.new { " [new]" } else { "" };
        let on = match group.targeted {
            0 => String::new(),
            1 => format!(" {}", group.targets[0]),
            count => {
                let more =
                    if count > TARGETS_NAMED { format!(", and {} more", count - TARGETS_NAMED) } else { String::new() };
                format!(" on {count} targets: {}{more}", group.targets.join(", "))
            }
        };
        out.push_str(&wrapped(&format!("  {}. {severity} {}{on}{new}", n + 1, group.rule), style.width));
        out.push_str(&wrapped(&format!("     {}", group.message), style.width));
        if let (1, Some(at)) = (group.members, &group.location) {
            out.push_str(&wrapped(&format!("     At: {at}"), style.width));
        }
        out.push_str(&wrapped(&format!("     Fix: {}", group.remediation), style.width));
    }
    if groups > MAX_TO_FIX {
        out.push_str(&format!(
            "  … and {} more (the JSON, HTML and Markdown reports list them all)\n",
            groups - MAX_TO_FIX
        ));
    }
    Ok(out)
}

/// A domain's line of the overview, but for its name: its verdict, then
/// its counts and its worst finding, on two lines.
fn overview_entry(rows: &[&Finding]) -> String {
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
        let fix = if f.status == Status::Fail { format!(" → Fix: {}", shown(&f.remediation)) } else { String::new() };
        format!("  {} {}: {}{fix}", f.severity, f.rule, shown(&f.message))
    });
    format!("{verdict}\n{fails} fail, {errors} error, {passes} pass{worst}")
}

fn shown_rows<'a>(rows: &[&'a Finding], style: &Style) -> Vec<&'a Finding> {
    rows.iter().copied().filter(|f| style.shows(f.status)).collect()
}

/// What the table keeps of a scan's findings as they are judged, a chunk
/// of domains at a time: each domain's rows rendered (its overview line or
/// its table) and kept on a shelf, the other targets' findings, and the
/// lists at the end folded as they come. The report's text is that of the
/// findings held whole, in the same order.
#[derive(Debug)]
pub struct TableFold {
    style: Style,
    /// One line per domain (or each domain's path); `None` while `auto`
    /// has seen too few domains to tell.
    overview: Option<bool>,
    /// The domains seen while the layout was not known, with their rows.
    undecided: Vec<(String, Vec<Finding>)>,
    shelf: Shelf,
    rest: Vec<(Vec<u8>, Finding)>,
    /// The skips' reasons, the errors' and the failures' records.
    skipped: FindingSpill,
    errors: FindingSpill,
    to_fix: FindingSpill,
    /// Where the lists' lines wait to be put in order.
    store: fn() -> std::io::Result<Store>,
    judged: u64,
}

impl TableFold {
    /// Kept in memory (`Store::memory`) or on disk (`Store::on_disk`).
    pub fn new(style: Style, store: fn() -> std::io::Result<Store>) -> std::io::Result<TableFold> {
        let overview = match style.layout {
            Layout::Auto => None,
            layout => Some(layout == Layout::Overview),
        };
        Ok(TableFold {
            style,
            overview,
            undecided: Vec::new(),
            shelf: Shelf::in_store(store()?),
            rest: Vec::new(),
            skipped: FindingSpill::in_store(store()?),
            errors: FindingSpill::in_store(store()?),
            to_fix: FindingSpill::in_store(store()?),
            store,
            judged: 0,
        })
    }

    /// Whether this fold renders for `style`.
    pub fn is_for(&self, style: &Style) -> bool {
        self.style == *style
    }

    fn decide(&mut self, overview: bool) -> std::io::Result<()> {
        self.overview = Some(overview);
        for (domain, rows) in std::mem::take(&mut self.undecided) {
            self.shelve(&domain, rows.iter().collect(), overview)?;
        }
        Ok(())
    }

    /// Keeps a domain's rows as the report will show them.
    fn shelve(&mut self, domain: &str, mut rows: Vec<&Finding>, overview: bool) -> std::io::Result<()> {
        let text = if overview {
            overview_entry(&rows)
        } else {
            // Its findings in the order of the path (DNS, TLS, certificate,
            // SIP), its Edges' included.
            rows.sort_by_cached_key(|f| (f.step, f.rule.clone(), f.target.as_ref().map(Target::to_string)));
            let rows = shown_rows(&rows, &self.style);
            if rows.is_empty() { String::new() } else { findings_table(&rows, &self.style, Some(domain)) }
        };
        self.shelf.put(domain, text.as_bytes())
    }
}

impl Fold for TableFold {
    /// Folds in `findings`, in the order they were judged, with the
    /// discovery of the domains they are about.
    fn add(&mut self, findings: &[Finding], discovery: &[DomainDiscovery]) -> std::io::Result<()> {
        let mut placed: Vec<(Vec<u8>, &Finding)> = Vec::with_capacity(findings.len());
        for finding in findings {
            self.judged += 1;
            if !is_not_run(finding) {
                placed.push((place_of(finding, self.judged), finding));
            }
        }
        placed.sort_by(|a, b| a.0.cmp(&b.0));
        let index = DomainIndex::new(discovery);
        let mut blocks: Vec<Vec<&Finding>> = vec![Vec::new(); discovery.len()];
        let (mut skipped, mut errors, mut failures) = (Vec::new(), Vec::new(), Vec::new());
        for (place, finding) in &placed {
            if finding.status == Status::Skip {
                skipped.push(reason_record(place, finding));
            } else {
                match index.of(finding) {
                    Some(i) => blocks[i].push(finding),
                    None => self.rest.push((place.clone(), (*finding).clone())),
                }
            }
            if finding.suppressed.is_none() {
                match finding.status {
                    Status::Error => errors.push(reason_record(place, finding)),
                    Status::Fail => failures.push(fix_record(place, finding)),
                    Status::Pass | Status::Skip => {}
                }
            }
        }
        self.skipped.add_records(skipped)?;
        self.errors.add_records(errors)?;
        self.to_fix.add_records(failures)?;
        for (domain, rows) in discovery.iter().zip(blocks) {
            match self.overview {
                Some(overview) => self.shelve(&domain.domain, rows, overview)?,
                None => {
                    self.undecided.push((domain.domain.clone(), rows.into_iter().cloned().collect()));
                    if self.undecided.len() >= OVERVIEW_FROM {
                        self.decide(true)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The report, around the findings folded in.
    fn write(&mut self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        if self.overview.is_none() {
            self.decide(self.style.overview(report.discovery.len()))?;
        }
        let style = &self.style;
        let mut text = String::new();
        let profiles: Vec<&str> = report.profiles.iter().map(|p| p.name()).collect();
        text.push_str(&format!(
            "fedscan {}: profiles {}; evaluated at {}\n",
            report.tool.version,
            profiles.join(", "),
            report.evaluated_at
        ));
        if !report.inputs.config.is_empty() {
            let config: Vec<String> = report.inputs.config.iter().map(|c| shown(c)).collect();
            text.push_str(&format!("configuration: {}\n", config.join(", ")));
        }
        if let Some(facts) = &report.inputs.facts {
            text.push_str(&format!("facts replayed from {}\n", shown(facts)));
        }
        out.write_all(text.as_bytes())?;

        if self.overview == Some(true) {
            let width = style.width.map_or(120, usize::from).max(60);
            let name_width = report.discovery.domains().map(|d| shown(d).chars().count()).max().unwrap_or(0).min(40);
            out.write_all(
                format!("\n{} domains (one line each; --layout paths shows each path):\n", report.discovery.len())
                    .as_bytes(),
            )?;
            for domain in report.discovery.domains() {
                let entry = match self.shelf.get(domain)? {
                    Some(entry) => String::from_utf8_lossy(&entry).into_owned(),
                    None => overview_entry(&[]),
                };
                let (verdict, rest) = entry.split_once('\n').unwrap_or((&entry, ""));
                let line = format!("  {verdict:<5} {:<name_width$}  {rest}", shown(domain));
                // One line each, however long the worst finding's message.
                let mut text: String = if line.chars().count() > width {
                    line.chars().take(width - 1).chain(std::iter::once('…')).collect()
                } else {
                    line
                };
                text.push('\n');
                out.write_all(text.as_bytes())?;
            }
        } else {
            // Each scanned domain's story first: its path, then its findings.
            let shelf = &mut self.shelf;
            report.discovery.for_each(|domain| {
                let mut text = String::from("\n");
                for line in path_lines(domain, &shown) {
                    text.push_str(&wrapped(&line, style.width));
                }
                out.write_all(text.as_bytes())?;
                if let Some(rows) = shelf.get(&domain.domain)? {
                    out.write_all(&rows)?;
                }
                Ok(())
            })?;
        }

        let mut text = String::new();
        for file in &report.certificate_files {
            text.push_str(&format!("\nCertificate file {}\n  {}\n", shown(&file.path), shown(&file.certificate)));
        }

        self.rest.sort_by(|a, b| a.0.cmp(&b.0));
        let rest: Vec<&Finding> = self.rest.iter().map(|(_, f)| f).collect();
        let rest = shown_rows(&rest, style);
        let mut start = 0;
        while start < rest.len() {
            let target_of =
                |f: &Finding| f.target.as_ref().map_or_else(|| "(no target)".to_string(), Target::to_string);
            let target = target_of(rest[start]);
            let end = start + rest[start..].iter().take_while(|f| target_of(f) == target).count();
            text.push('\n');
            text.push_str(&shown(&target));
            text.push('\n');
            text.push_str(&findings_table(&rest[start..end], style, None));
            start = end;
        }

        out.write_all(text.as_bytes())?;
        if style.shows(Status::Skip) {
            skipped_by_reason(&mut self.skipped, (self.store)()?, out)?;
        }

        let mut text = String::new();
        if !report.notes.is_empty() {
            text.push_str("\nNotes on the input:\n");
            for note in &report.notes {
                let at = match note.line {
                    Some(line) => format!("{}:{line}", note.path),
                    None => note.path.clone(),
                };
                text.push_str(&format!("  {}: {}\n", shown(&at), shown(&note.message)));
            }
        }
        if !report.input_errors.is_empty() {
            text.push_str("\nInputs that could not be read:\n");
            for error in &report.input_errors {
                text.push_str(&format!("  {}\n", shown(&error.to_string())));
            }
        }
        if let Some(baseline) = &report.baseline
            && !baseline.fixed.is_empty()
        {
            text.push_str(&format!("\nFixed since the baseline ({}):\n", shown(&baseline.path)));
            for fixed in &baseline.fixed {
                text.push_str(&format!(
                    "  {} {}: {}\n",
                    shown(&fixed.rule),
                    shown(&fixed.target),
                    shown(&fixed.message)
                ));
            }
        }
        out.write_all(text.as_bytes())?;
        could_not_check(&mut self.errors, (self.store)()?, out)?;
        let mut text = to_fix(&mut self.to_fix, &self.style)?;
        text.push_str(&format!(
            "\nSummary: {}\n{}\n",
            summary_line(&report.summary),
            exit_meaning(report.summary.exit_code, report.policy())
        ));
        out.write_all(text.as_bytes())
    }
}

/// The report of findings held whole.
pub fn render(report: &Report, style: &Style) -> String {
    held(TableFold::new(style.clone(), Store::memory), report)
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

//! The terminal report: each scanned domain's federation path with its
//! findings in path order, then one table per other target, the rules not
//! checked (once per reason), the input problems and a summary line. Every
//! string that came from an input is escaped for the terminal.

use std::collections::{HashMap, HashSet};

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use super::discovery::{DomainDiscovery, Host};
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

fn finding_text(finding: &Finding) -> String {
    let mut text = shown(&finding.message);
    if finding.status == Status::Fail {
        text.push_str("\nFix: ");
        text.push_str(&shown(&finding.remediation));
    }
    text
}

fn host_line(host: &Host) -> String {
    let mut line = String::new();
    for alias in &host.aliases {
        line.push_str(&format!(" → CNAME {}", shown(alias)));
    }
    match &host.outcome {
        Some(outcome) => line.push_str(&format!(" → {}", shown(outcome))),
        None => line.push_str(&format!(" → {}", shown(&host.addresses.join(", ")))),
    }
    line
}

/// "contoso.com: _sipfederationtls._tcp SRV 0 0 5061 sip.contoso.com → 52.160.10.20"
fn render_discovery(domain: &DomainDiscovery) -> String {
    let heading = if domain.partner { "Federation path of partner" } else { "DNS path for" };
    let mut out = format!("{heading} {}\n", shown(&domain.domain));
    for service in &domain.services {
        match &service.outcome {
            Some(outcome) => out.push_str(&format!("  {} SRV → {}\n", shown(&service.name), shown(outcome))),
            None => {
                for record in &service.records {
                    out.push_str(&format!(
                        "  {} SRV {} {} {} {} (TTL {}){}\n",
                        shown(&service.name),
                        record.priority,
                        record.weight,
                        record.port,
                        shown(&record.target.name),
                        record.ttl,
                        host_line(&record.target)
                    ));
                    for handshake in &record.tls {
                        out.push_str(&format!(
                            "      TLS {}: {}\n",
                            shown(&handshake.address),
                            shown(&handshake.outcome)
                        ));
                        if let Some(certificate) = &handshake.certificate {
                            out.push_str(&format!("        certificate {}\n", shown(certificate)));
                        }
                        if let Some(cas) = &handshake.client_certificate_requested_from {
                            out.push_str(&format!(
                                "        asks for a client certificate from {}\n",
                                shown(&cas.join("; "))
                            ));
                        }
                        if let Some(sip) = &handshake.sip {
                            out.push_str(&format!("        SIP OPTIONS → {}\n", shown(sip)));
                        }
                    }
                }
            }
        }
    }
    for host in &domain.hosts {
        out.push_str(&format!("  {}{}\n", shown(&host.name), host_line(host)));
    }
    out
}

/// Which path block each finding belongs to (`None`: the tables after them):
/// the block of the domain it is about, or the first whose SRV targets
/// include the host of the endpoint or service it is about.
fn path_blocks(discovery: &[DomainDiscovery], findings: &[&Finding]) -> Vec<Option<usize>> {
    let mut domains: HashMap<&str, usize> = HashMap::new();
    let mut hosts: HashMap<&str, usize> = HashMap::new();
    for (i, domain) in discovery.iter().enumerate() {
        domains.entry(&domain.domain).or_insert(i);
        for record in domain.services.iter().flat_map(|s| &s.records) {
            hosts.entry(&record.target.name).or_insert(i);
        }
    }
    findings
        .iter()
        .map(|f| match f.target.as_ref()? {
            Target::Domain(domain) => domains.get(domain.as_str()).copied(),
            target => hosts.get(target.host()?).copied(),
        })
        .collect()
}

/// One table of findings; `within` names the domain of a path block, so
/// that rows about its Edges say which endpoint they are about.
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
    for finding in rows {
        let mut text = finding_text(finding);
        if let (Some(domain), Some(target)) = (within, &finding.target)
            && *target != Target::Domain(domain.to_string())
        {
            text = format!("{}: {text}", shown(&target.to_string()));
        }
        table.add_row(vec![
            status_cell(finding.status, style),
            Cell::new(finding.severity.name()),
            Cell::new(&finding.rule),
            Cell::new(text),
        ]);
    }
    format!("{table}\n")
}

/// "Not checked:" then each reason once, with the rules it kept from running.
fn skipped_by_reason(skipped: &[&Finding]) -> String {
    // In the order reasons first appear; each rule once per reason.
    let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut listed: HashSet<(&str, &str)> = HashSet::new();
    for finding in skipped {
        let (reason, rule) = (finding.message.as_str(), finding.rule.as_str());
        let i = *index.entry(reason).or_insert_with(|| {
            reasons.push((reason, Vec::new()));
            reasons.len() - 1
        });
        if listed.insert((reason, rule)) {
            reasons[i].1.push(rule);
        }
    }
    if reasons.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nNot checked (skip):\n");
    for (reason, rules) in reasons {
        out.push_str(&format!("  {}: {}\n", rules.join(", "), shown(reason)));
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
    let (skipped, listed): (Vec<&Finding>, Vec<&Finding>) =
        report.findings.iter().filter(|f| !is_not_run(f)).partition(|f| f.status == Status::Skip);
    let mut blocks: Vec<Vec<&Finding>> = vec![Vec::new(); report.discovery.len()];
    let mut rest: Vec<&Finding> = Vec::new();
    for (finding, block) in listed.iter().zip(path_blocks(&report.discovery, &listed)) {
        match block {
            Some(i) => blocks[i].push(finding),
            None => rest.push(finding),
        }
    }
    // Each scanned domain's story first: its path, then its findings in the
    // order of the path (DNS, TLS, certificate, SIP), its Edges' included.
    for (domain, mut rows) in report.discovery.iter().zip(blocks) {
        out.push('\n');
        out.push_str(&render_discovery(domain));
        rows.sort_by_cached_key(|f| (f.step, f.rule.clone(), f.target.as_ref().map(Target::to_string)));
        if !rows.is_empty() {
            out.push_str(&findings_table(&rows, style, Some(&domain.domain)));
        }
    }

    for file in &report.certificate_files {
        out.push_str(&format!("\nCertificate file {}\n  {}\n", shown(&file.path), shown(&file.certificate)));
    }

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

    out.push_str(&skipped_by_reason(&skipped));

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
    out.push_str(&format!(
        "\nSummary: {}\n{}\n",
        summary_line(&report.summary),
        exit_meaning(report.summary.exit_code, report.fail_on)
    ));
    out
}

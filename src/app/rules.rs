//! `fedscan rules`: list, explain and validate rules.

use super::{Failure, load, print, report_rule_problems, usage_error};
use crate::cli::Format;
use crate::cli::RulesCommand;
use crate::report::exit;
use crate::rules::RuleSource;
use crate::rules::builtin_sources;
use crate::rules::load_rules;
use crate::rules::sources_from_paths;
use crate::text::escape_terminal;
use crate::text::escape_terminal_lines;
use crate::text::to_json;
use comfy_table::ContentArrangement;
use comfy_table::Table;
use comfy_table::presets;
use serde_json::json;
use std::io::IsTerminal;

pub(super) fn rules(command: RulesCommand) -> Result<u8, Failure> {
    use std::fmt::Write as _;
    // What the command prints, written at once at the end (see `print`).
    let mut printed = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(printed, $($arg)*);
        }};
    }
    match command {
        RulesCommand::List { profile, format, rules } => {
            let set = load(&rules)?;
            let listed: Vec<_> = set.rules.iter().filter(|r| profile.is_none_or(|p| r.profiles.contains(&p))).collect();
            let text = match format {
                Format::Json => {
                    let items: Vec<_> = listed
                        .iter()
                        .map(|r| {
                            json!({
                                "id": r.id, "title": r.title, "severity": r.severity, "profiles": r.profiles,
                                "kind": r.check.kind(), "rationale": r.rationale, "remediation": r.remediation,
                                "references": r.references, "origin": r.origin.to_string(),
                            })
                        })
                        .collect();
                    format!("{}\n", to_json(&items).expect("rules serialize"))
                }
                Format::Table => {
                    let mut table = Table::new();
                    table.load_style(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
                    if !std::io::stdout().is_terminal() {
                        table.set_width(140);
                    }
                    table.set_header(vec!["Rule", "Severity", "Profiles", "Title"]);
                    for rule in &listed {
                        let profiles: Vec<&str> = rule.profiles.iter().map(|p| p.name()).collect();
                        table.add_row(vec![
                            rule.id.to_string(),
                            rule.severity.to_string(),
                            profiles.join(", "),
                            escape_terminal(&rule.title).into_owned(),
                        ]);
                    }
                    format!("{table}\n{} rules\n", listed.len())
                }
            };
            out!("{}", text.trim_end_matches('\n'));
        }
        RulesCommand::Explain { id, rules } => {
            let set = load(&rules)?;
            let Some(rule) = set.get(&id) else {
                return Err(usage_error(format!("no rule {id} (see `fedscan rules list`)")));
            };
            let profiles: Vec<&str> = rule.profiles.iter().map(|p| p.name()).collect();
            out!("{}: {}", rule.id, escape_terminal(&rule.title));
            out!("severity: {}    profiles: {}    check: {}", rule.severity, profiles.join(", "), rule.check.kind());
            if let Some(date) = rule.effective_date {
                out!("in effect from: {date}");
            }
            if let Some(date) = rule.ineffective_date {
                out!("no longer in effect from: {date}");
            }
            let indented = |text: &str| escape_terminal_lines(text.trim()).replace('\n', "\n  ");
            out!("\nWhy it matters\n  {}", indented(&rule.rationale));
            out!("\nHow to fix a failure\n  {}", indented(&rule.remediation));
            out!("\nReferences");
            for reference in rule.references.iter() {
                out!("  {}", escape_terminal(reference));
            }
            let origin = escape_terminal(&rule.origin.to_string()).into_owned();
            out!("\nDefinition ({origin})\n{}", escape_terminal_lines(&rule.source_text));
        }
        RulesCommand::Validate { paths } => {
            crate::checks::compile_patterns_when_read();
            let given = sources_from_paths(&paths).map_err(|p| report_rule_problems(&p))?;
            // Check against the built-in IDs too, except where a given file is
            // a built-in file itself (validating the repository's rules/).
            let mut sources: Vec<RuleSource> =
                builtin_sources().into_iter().filter(|b| !given.iter().any(|g| g.text == b.text)).collect();
            let builtin_count = sources.len();
            sources.extend(given.iter().cloned());
            let set = load_rules(&sources).map_err(|p| report_rule_problems(&p))?;
            let checked =
                set.rules.iter().filter(|r| sources[..builtin_count].iter().all(|b| b.name != r.origin.file)).count();
            out!("fedscan: {} file(s), {checked} rule(s): no problems", given.len());
        }
    }
    print(printed.as_bytes()).map(|()| exit::CLEAN)
}

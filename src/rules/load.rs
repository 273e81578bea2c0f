//! Loading rule files in two passes, as cargo-deny does its configuration:
//! serde parses each file with spans, then a semantic pass over all rules
//! collects every problem (duplicate IDs, bad references, check parameters)
//! with its file, line and column. Nothing is scanned unless all is well.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use super::{Origin, Profile, Rule, RuleSet, Severity};
use crate::checks::CheckSpec;

/// The built-in rule pack, compiled into the binary.
const BUILTIN: [(&str, &str); 5] = [
    ("rules/config.toml", include_str!("../../rules/config.toml")),
    ("rules/dns.toml", include_str!("../../rules/dns.toml")),
    ("rules/providers.toml", include_str!("../../rules/providers.toml")),
    ("rules/sip.toml", include_str!("../../rules/sip.toml")),
    ("rules/tls.toml", include_str!("../../rules/tls.toml")),
];

/// Placeholders a remediation may use; checks fill them in per finding.
pub const PLACEHOLDERS: [&str; 3] = ["{identity}", "{domain}", "{fqdn}"];

static RULE_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$").unwrap());
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{[a-z_]+\}").unwrap());

/// A rule file's text and the name to show for it.
#[derive(Debug, Clone)]
pub struct RuleSource {
    pub name: String,
    pub text: String,
}

pub fn builtin_sources() -> Vec<RuleSource> {
    BUILTIN.iter().map(|(name, text)| RuleSource { name: name.to_string(), text: text.to_string() }).collect()
}

/// A problem in a rule file, pointing at the place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    /// The offending line's text and the width to underline.
    pub excerpt: Option<(String, usize)>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        if let (Some(line), Some(column), Some((text, width))) = (self.line, self.column, &self.excerpt) {
            let gutter = line.to_string().len();
            write!(
                f,
                "\n {:gutter$} |\n {line} | {text}\n {:gutter$} | {}{}",
                "",
                "",
                " ".repeat(column.saturating_sub(1)),
                "^".repeat((*width).max(1)),
            )?;
        }
        Ok(())
    }
}

/// Byte-offset bookkeeping for one file.
struct SourceMap<'a> {
    name: &'a str,
    text: &'a str,
}

impl SourceMap<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, self.text[line_start..offset].chars().count() + 1)
    }

    fn diagnostic(&self, span: Option<Range<usize>>, message: impl Into<String>) -> Diagnostic {
        let message = message.into();
        let Some(span) = span else {
            return Diagnostic { file: self.name.to_string(), line: None, column: None, message, excerpt: None };
        };
        let (line, column) = self.line_col(span.start);
        let text = self.text.lines().nth(line - 1).unwrap_or("").to_string();
        let rest = text.chars().count().saturating_sub(column - 1);
        let width = self.text.get(span.clone()).map_or(1, |s| s.lines().next().unwrap_or("").chars().count()).min(rest);
        Diagnostic {
            file: self.name.to_string(),
            line: Some(line),
            column: Some(column),
            message,
            excerpt: Some((text, width)),
        }
    }

    /// Serde errors inside a check table carry the whole table's span: parse
    /// the table again as its kind's parameters to find the offending value,
    /// or else find the key the message names.
    fn narrow(&self, span: Range<usize>, message: &str) -> Range<usize> {
        if let Some(precise) = self.reparse_check_table(&span) {
            return precise;
        }
        let Some(key) = message.split('`').nth(1) else { return span };
        // A `[rule.check]` header's span is the header alone: look on to the
        // end of its table.
        let end = self.text[span.end.min(self.text.len())..].find("\n[").map_or(self.text.len(), |i| span.end + i);
        let within = self.text.get(span.start..end.max(span.end)).unwrap_or("");
        let mut offset = span.start;
        for line in within.split_inclusive('\n') {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if trimmed.starts_with(key) && trimmed[key.len()..].trim_start().starts_with('=') {
                return offset + indent..offset + indent + key.len();
            }
            if message.starts_with("unknown variant")
                && trimmed.starts_with("kind")
                && let Some(pos) = line.find(key)
            {
                return offset + pos..offset + pos + key.len();
            }
            offset += line.len();
        }
        span
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    title: Spanned<String>,
    severity: Severity,
    profiles: Spanned<Vec<Profile>>,
    #[serde(default)]
    unless_profiles: Vec<Profile>,
    rationale: Spanned<String>,
    remediation: Spanned<String>,
    references: Spanned<Vec<String>>,
    #[serde(default)]
    effective_date: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    ineffective_date: Option<Spanned<toml::value::Datetime>>,
    check: Spanned<CheckSpec>,
}

/// Collects the rule files named on the command line: files as they are,
/// directories for their `*.toml` files.
pub fn sources_from_paths(paths: &[PathBuf]) -> Result<Vec<RuleSource>, Vec<Diagnostic>> {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    let read = |path: &Path, sources: &mut Vec<RuleSource>, errors: &mut Vec<Diagnostic>| {
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => sources.push(RuleSource { name, text }),
            Err(e) => errors.push(Diagnostic {
                file: name,
                line: None,
                column: None,
                message: format!("cannot read: {e}"),
                excerpt: None,
            }),
        }
    };
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(entries) => entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
                    .collect(),
                Err(e) => {
                    errors.push(Diagnostic {
                        file: path.display().to_string(),
                        line: None,
                        column: None,
                        message: format!("cannot read directory: {e}"),
                        excerpt: None,
                    });
                    continue;
                }
            };
            files.sort();
            if files.is_empty() {
                errors.push(Diagnostic {
                    file: path.display().to_string(),
                    line: None,
                    column: None,
                    message: "no *.toml rule files in this directory".into(),
                    excerpt: None,
                });
            }
            for file in files {
                read(&file, &mut sources, &mut errors);
            }
        } else {
            read(path, &mut sources, &mut errors);
        }
    }
    if errors.is_empty() { Ok(sources) } else { Err(errors) }
}

/// Parses and validates rule files; every problem in every file is reported.
pub fn load_rules(sources: &[RuleSource]) -> Result<RuleSet, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut rules = Vec::new();
    let mut seen: HashMap<String, Origin> = HashMap::new();
    for source in sources {
        let map = SourceMap { name: &source.name, text: &source.text };
        let file: RawFile = match toml::from_str(&source.text) {
            Ok(file) => file,
            Err(e) => {
                let span = e.span().map(|s| map.narrow(s, e.message()));
                errors.push(map.diagnostic(span, e.message().trim().to_string()));
                continue;
            }
        };
        if file.rule.is_empty() {
            errors.push(map.diagnostic(None, "no [[rule]] entries"));
        }
        for spanned in file.rule {
            let span = spanned.span();
            let raw = spanned.into_inner();
            let (line, _) = map.line_col(span.start);
            let origin = Origin { file: source.name.clone(), line };
            match validate(raw, &map, origin, &mut seen) {
                Ok(rule) => rules.push(rule),
                Err(mut problems) => errors.append(&mut problems),
            }
        }
    }
    if errors.is_empty() { Ok(RuleSet { rules }) } else { Err(errors) }
}

fn validate(
    raw: RawRule,
    map: &SourceMap,
    origin: Origin,
    seen: &mut HashMap<String, Origin>,
) -> Result<Rule, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let id = raw.id.get_ref().trim().to_string();
    if !RULE_ID.is_match(&id) {
        errors.push(map.diagnostic(
            Some(raw.id.span()),
            format!("rule ID {id:?} is not of the form AREA-NAME-01 (upper-case letters and digits joined by '-')"),
        ));
    } else if let Some(first) = seen.get(&id.to_ascii_uppercase()) {
        errors.push(map.diagnostic(Some(raw.id.span()), format!("duplicate rule ID {id}: already defined at {first}")));
    } else {
        seen.insert(id.to_ascii_uppercase(), origin.clone());
    }
    for (field, value) in [("title", &raw.title), ("rationale", &raw.rationale), ("remediation", &raw.remediation)] {
        if value.get_ref().trim().is_empty() {
            errors.push(map.diagnostic(Some(value.span()), format!("{field} is empty")));
        }
    }
    if raw.profiles.get_ref().is_empty() {
        errors.push(map.diagnostic(Some(raw.profiles.span()), "profiles is empty: name at least one profile"));
    }
    if let Some(p) = raw.unless_profiles.iter().find(|p| raw.profiles.get_ref().contains(p)) {
        errors.push(
            map.diagnostic(Some(raw.profiles.span()), format!("profile {p} is both in profiles and unless_profiles")),
        );
    }
    if raw.references.get_ref().is_empty() {
        errors.push(
            map.diagnostic(Some(raw.references.span()), "references is empty: cite the source of the requirement"),
        );
    }
    for reference in raw.references.get_ref() {
        if !(reference.starts_with("https://") || reference.starts_with("http://")) {
            errors.push(
                map.diagnostic(Some(raw.references.span()), format!("reference {reference:?} is not an http(s) URL")),
            );
        }
    }
    for placeholder in PLACEHOLDER.find_iter(raw.remediation.get_ref()) {
        if !PLACEHOLDERS.contains(&placeholder.as_str()) {
            errors.push(map.diagnostic(
                Some(raw.remediation.span()),
                format!("unknown placeholder {} (known: {})", placeholder.as_str(), PLACEHOLDERS.join(", ")),
            ));
        }
    }
    let effective_date = plain_date(&raw.effective_date, "effective_date", map, &mut errors);
    let ineffective_date = plain_date(&raw.ineffective_date, "ineffective_date", map, &mut errors);
    if let (Some(from), Some(until)) = (effective_date, ineffective_date)
        && from >= until
    {
        errors.push(map.diagnostic(
            raw.ineffective_date.as_ref().map(|d| d.span()),
            "ineffective_date is not after effective_date",
        ));
    }
    let check_span = raw.check.span();
    for problem in raw.check.get_ref().validate() {
        errors.push(map.diagnostic(Some(check_span.clone()), format!("check: {problem}")));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let source_text =
        map.text.get(rule_text_span(map.text, check_span.end, origin.line)).unwrap_or("").trim().to_string();
    Ok(Rule {
        id,
        title: raw.title.into_inner(),
        severity: raw.severity,
        profiles: raw.profiles.into_inner(),
        unless_profiles: raw.unless_profiles,
        rationale: raw.rationale.into_inner(),
        remediation: raw.remediation.into_inner(),
        references: raw.references.into_inner(),
        effective_date,
        ineffective_date,
        check: raw.check.into_inner(),
        origin,
        source_text,
    })
}

impl SourceMap<'_> {
    fn reparse_check_table(&self, span: &Range<usize>) -> Option<Range<usize>> {
        let start = self.text[..span.start.min(self.text.len())].rfind('\n').map_or(0, |i| i + 1);
        if !self.text[start..].starts_with("[rule.check]") {
            return None;
        }
        let end = self.text[start..].find("\n[").map_or(self.text.len(), |i| start + i);
        let mut table = self.text[start..end].to_string();
        let mut kind = None;
        let mut offset = 0;
        for line in self.text[start..end].split_inclusive('\n') {
            let trimmed = line.trim();
            let blank = trimmed.starts_with("[rule.check]")
                || trimmed.strip_prefix("kind").is_some_and(|rest| rest.trim_start().starts_with('='));
            if blank {
                if trimmed.starts_with("kind") {
                    kind = trimmed.split('"').nth(1).map(str::to_string);
                }
                let width = line.trim_end_matches('\n').len();
                table.replace_range(offset..offset + width, &" ".repeat(width));
            }
            offset += line.len();
        }
        let error = crate::checks::CheckSpec::parameter_error(&kind?, &table)?;
        let inner = error.span()?;
        Some(start + inner.start..start + inner.end)
    }
}

/// A TOML date field that must be a plain calendar date (`2025-05-05`).
fn plain_date(
    value: &Option<Spanned<toml::value::Datetime>>,
    field: &str,
    map: &SourceMap,
    errors: &mut Vec<Diagnostic>,
) -> Option<time::Date> {
    let value = value.as_ref()?;
    let datetime = value.get_ref();
    let date = match (datetime.date, datetime.time, datetime.offset) {
        (Some(d), None, None) => time::Month::try_from(d.month)
            .ok()
            .and_then(|m| time::Date::from_calendar_date(i32::from(d.year), m, d.day).ok()),
        _ => None,
    };
    if date.is_none() {
        errors.push(map.diagnostic(Some(value.span()), format!("{field} must be a plain date such as 2025-05-05")));
    }
    date
}

/// The text of one `[[rule]]` entry: from its header line to the next header
/// of another rule (or the end of the file).
fn rule_text_span(text: &str, inside: usize, header_line: usize) -> Range<usize> {
    let start = text.split_inclusive('\n').take(header_line.saturating_sub(1)).map(str::len).sum::<usize>();
    let start = text[..start.min(text.len())]
        .rfind("[[rule]]")
        .filter(|_| !text[start.min(text.len())..].trim_start().starts_with("[[rule]]"))
        .unwrap_or(start);
    let end = text[inside.min(text.len())..].find("\n[[rule]]").map_or(text.len(), |i| inside + i);
    start.min(end)..end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<RuleSet, Vec<Diagnostic>> {
        load_rules(&[RuleSource { name: "t.toml".into(), text: text.into() }])
    }

    const GOOD: &str = r#"
[[rule]]
id = "CFG-AEC-01"
title = "Federation is enabled"
severity = "critical"
profiles = ["federation"]
rationale = "why"
remediation = "Set-CsAccessEdgeConfiguration -AllowFederatedUsers $True"
references = ["https://example.org/"]
[rule.check]
kind = "config_field"
object = "AccessEdgeConfiguration"
expect = { AllowFederatedUsers = true }
"#;

    #[test]
    fn builtin_rules_load() {
        let rules = load_rules(&builtin_sources())
            .unwrap_or_else(|e| panic!("{}", e.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")));
        assert!(rules.rules.len() > 30);
    }

    #[test]
    fn every_rule_file_is_built_in() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| format!("rules/{}", e.file_name().to_string_lossy())))
            .filter(|name| name.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut built_in: Vec<String> = BUILTIN.iter().map(|(name, _)| name.to_string()).collect();
        built_in.sort();
        assert_eq!(on_disk, built_in, "add new rule files to BUILTIN");
    }

    #[test]
    fn good_rule_and_its_source_text() {
        let rules = load(GOOD).unwrap();
        assert_eq!(rules.rules[0].origin.line, 2);
        assert!(rules.rules[0].source_text.starts_with("[[rule]]"));
        assert!(rules.rules[0].source_text.ends_with("AllowFederatedUsers = true }"));
    }

    #[test]
    fn errors_point_at_the_place() {
        let bad = GOOD.replace("severity = \"critical\"", "severity = \"urgent\"");
        let e = &load(&bad).unwrap_err()[0];
        assert_eq!((e.line, e.column), (Some(5), Some(12)));
        assert!(e.message.contains("urgent"), "{e}");

        let bad = GOOD.replace("object = ", "objekt = ");
        let e = &load(&bad).unwrap_err()[0];
        assert_eq!(e.line, Some(12), "{e}");
        assert!(e.message.contains("objekt"), "{e}");

        let bad = GOOD.replace("expect = { AllowFederatedUsers = true }", "expect = { AllowFederatedUsers = [1] }");
        let e = &load(&bad).unwrap_err()[0];
        assert_eq!((e.line, e.column), (Some(13), Some(34)), "{e}");

        let bad = GOOD.replace("kind = \"config_field\"", "kind = \"config_feld\"");
        let e = &load(&bad).unwrap_err()[0];
        assert_eq!(e.line, Some(11), "{e}");

        let bad = GOOD.replace("title = \"Federation is enabled\"", "titel = \"x\"");
        let e = &load(&bad).unwrap_err()[0];
        assert_eq!(e.line, Some(4), "{e}");
    }

    #[test]
    fn semantic_pass_collects_everything() {
        let twice = format!("{GOOD}{GOOD}");
        let errors = load(&twice).unwrap_err();
        assert!(
            errors[0].message.contains("duplicate rule ID CFG-AEC-01: already defined at t.toml:2"),
            "{}",
            errors[0]
        );
        let bad = GOOD.replace("https://example.org/", "example.org").replace("$True", "{partner}");
        assert_eq!(load(&bad).unwrap_err().len(), 2);
    }
}

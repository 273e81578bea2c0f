//! `Format-List` text as pasted from the Lync/SfB Management Shell: one
//! cmdlet's output or a transcript with `PS C:\> Get-Cs...` prompt lines.
//!
//! What real pastes contain and how it is read:
//! - values wrapped onto indented continuation lines: joined back;
//! - blank lines between objects, and sometimes between every line (double
//!   spacing from some consoles): a new object starts when a property name
//!   repeats, not at a blank line;
//! - `{a, b, c}` lists, and `{a, b, c...}` when `$FormatEnumerationLimit` cut
//!   the list short: kept as a list and marked truncated, never completed;
//! - markdown debris from tickets and wikis (`<br/>` line ends, code fences).

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::classify::{CommandOutput, infer_kind, is_edge_service, read_command};
use super::{Capture, ConfigObject, Note, ObjectKind, ParseError, Parsed, excerpt, format_table};
use crate::facts::paste::unmark;

static PROPERTY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?:[ \t]+(.*))?$").unwrap());
/// A `Format-List` line as the shell pads it: `Identity    : Global`. (A
/// constant pattern, as the others here: compiling it cannot fail.)
static LIST_PROPERTY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*[ \t]+:(?:[ \t]|$)").unwrap());
/// A property name after a blank inside a property line, with a blank
/// before its colon: where a page or chat joined Format-List lines.
static JOINED_PROPERTY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[ \t]([A-Za-z_][A-Za-z0-9_]*)[ \t]+:").unwrap());
static PROMPT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^PS(?:[ \t][^>]*)?>[ \t]*(.*)$").unwrap());
/// A command typed without a prompt (a commands file, a trimmed paste).
static BARE_COMMAND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^[a-z]+-cs[a-z]+(\s|$)|^\$[a-z_][a-z0-9_]*\s*(=|\|)").unwrap());
/// The rest of a command typed over several lines.
static CONTINUATION_PROMPT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^>>[ \t]?(.*)$").unwrap());
static ERROR_RECORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(\+[ \t]*(CategoryInfo|FullyQualifiedErrorId)\b|[a-z]+-[a-z]+[ \t]+:[ \t])").unwrap()
});
/// What the shell prints besides output: `WARNING: ...`, `VERBOSE: ...`.
static STREAM_MESSAGE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(WARNING|VERBOSE|DEBUG|INFO):[ \t]").unwrap());
/// Format-Table's warning that it left columns out.
static COLUMNS_REMOVED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)columns? .*(does|do) not fit into the display and (was|were) removed").unwrap());
/// `Start-Transcript` frames its header and footer with lines of asterisks.
static TRANSCRIPT_BANNER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\*{10,}$").unwrap());

/// At most this many "ignored line" notes per file; the rest are counted.
const MAX_IGNORED_NOTES: usize = 10;

struct Line<'a> {
    number: usize,
    text: &'a str,
    indent: usize,
}

#[derive(Default)]
struct Builder {
    line: usize,
    /// Indentation of the object's property names; deeper lines continue a value.
    key_indent: usize,
    /// (name, value text, line)
    props: Vec<(String, String, usize)>,
    /// The names of `props`, lower case.
    names: HashSet<String>,
    /// Length of the last physical line of the last property.
    last_len: usize,
    /// Whether the last property may still continue on the next line.
    open: bool,
    /// Whether a blank line came after the last property.
    blank_after: bool,
    /// Whether blank lines separate this object's own properties (some
    /// consoles double-space everything), so a blank line ends nothing.
    double_spaced: bool,
    /// Names printed again inside the object with another value, and where.
    conflicts: Vec<(String, usize)>,
    /// Why properties missing from the object are not known to be absent.
    incomplete: Option<String>,
    /// Why none of its values can be trusted, when none can.
    doubtful: Option<String>,
}

struct Section {
    output: CommandOutput,
    line: Option<usize>,
    failed: bool,
    objects: Vec<Builder>,
    loose_text: Vec<(usize, String)>,
}

impl Section {
    fn new(output: CommandOutput, line: Option<usize>) -> Self {
        Section { output, line, failed: false, objects: Vec::new(), loose_text: Vec::new() }
    }
}

/// A line that cannot be a row of a `Format-Table` listing: a prompt or a
/// command, a message the shell printed, a `Format-List` property (its name
/// padded before the colon).
fn is_no_row(text: &str) -> bool {
    let body = text.trim();
    command_of(body).is_some() || STREAM_MESSAGE.is_match(body) || is_list_property(body)
}

/// A property's value split where a page or chat joined the next property
/// lines onto it (`Global AllowFederatedUsers : True`, also over lines a
/// mail client then wrapped): the property and those after it.
fn split_joined_value(name: String, value: String, line: usize) -> Vec<(String, String, usize)> {
    // A value that is only the next property (`ProxyFqdn : Comment : x`, an
    // empty value joined) starts with its name: a blank before it, as
    // before the others.
    let value = format!(" {value}");
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(m) = JOINED_PROPERTY.find_at(&value, from) {
        from = m.end();
        // The colon ends a name: a blank or the value's end after it (an
        // empty value joined onto the next property).
        if value[m.end()..].is_empty() || value[m.end()..].starts_with([' ', '\t']) {
            found.push(m.start());
        }
    }
    if found.is_empty() {
        return vec![(name, value[1..].to_string(), line)];
    }
    let mut out = vec![(name, value[..found[0]].trim().to_string(), line)];
    for (i, &at) in found.iter().enumerate() {
        let piece = &value[at..found.get(i + 1).copied().unwrap_or(value.len())];
        let (joined, rest) = piece.split_once(':').unwrap_or((piece, ""));
        out.push((joined.trim().to_string(), rest.trim().to_string(), line));
    }
    out
}

/// Whether a line is a `Format-List` property line, its name padded
/// before the colon.
pub fn is_list_property(text: &str) -> bool {
    LIST_PROPERTY.is_match(text.trim())
}

/// The command a prompt line, or a bare `Get-Cs…` line, runs.
fn command_of(body: &str) -> Option<String> {
    PROMPT
        .captures(body)
        .map(|c| c.get(1).map_or("", |m| m.as_str()).to_string())
        .or_else(|| BARE_COMMAND.is_match(body).then(|| body.to_string()))
}

pub(super) fn parse(text: &str, hint: Option<ObjectKind>) -> Result<Parsed, ParseError> {
    let cleaned: Vec<String> = text.split('\n').map(unmark).collect();
    // A paste quoted in an e-mail reply: every line starts with `>`.
    let unquoted = crate::facts::paste::unquote(&cleaned);
    let cleaned = unquoted.clone().unwrap_or(cleaned);
    let lines: Vec<Line> = cleaned
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let blank = l.trim().is_empty() || l.trim_start().starts_with("```");
            let text = if blank { "" } else { l.as_str() };
            Line { number: i + 1, text, indent: text.len() - text.trim_start().len() }
        })
        .collect();
    let width = lines.iter().map(|l| l.text.chars().count()).max().unwrap_or(0);

    let mut parsed = Parsed::default();
    if unquoted.is_some() {
        parsed.notes.push(Note {
            line: None,
            message: "read as text quoted in an e-mail reply: `>` removed from every line".into(),
        });
    }
    let mut sections = vec![Section::new(CommandOutput::Unknown, None)];
    let mut ignored = 0usize;
    let mut saw_property = false;
    let mut in_banner = false;

    let mut index = 0;
    while index < lines.len() {
        let line = &lines[index];
        index += 1;
        if TRANSCRIPT_BANNER.is_match(line.text.trim()) {
            in_banner = !in_banner;
            continue;
        }
        if in_banner {
            continue;
        }
        let section = sections.last_mut().expect("at least one section");
        if line.text.is_empty() {
            if let Some(object) = section.objects.last_mut() {
                object.open = false;
                object.blank_after = true;
            }
            continue;
        }
        let body = line.text.trim();
        let deeper = section.objects.last().is_some_and(|o| o.open && line.indent > o.key_indent);
        // A table's header: its rule under it, or under a blank line (a
        // paste that doubled every line break).
        let is_rule_at = |i: usize| lines.get(i).is_some_and(|next| format_table::is_rule(next.text));
        let rule_at = if is_rule_at(index) {
            Some(index)
        } else {
            (lines.get(index).is_some_and(|next| next.text.trim().is_empty()) && is_rule_at(index + 1))
                .then_some(index + 1)
        };
        if !deeper && let Some(rule_at) = rule_at {
            let rest: Vec<(usize, &str)> =
                std::iter::once(line).chain(&lines[rule_at..]).map(|l| (l.number, l.text)).collect();
            let table = format_table::read(&rest, &is_no_row);
            index = rule_at + table.consumed - 1;
            saw_property = true;
            if let Some(repaired) = table.repaired {
                parsed.notes.push(Note { line: Some(line.number), message: repaired });
            }
            for row in table.rows {
                let mut object = Builder { line: row.first().map_or(line.number, |c| c.2), ..Builder::default() };
                object.incomplete = table.incomplete.clone();
                object.doubtful = table.doubtful.clone();
                object.props = row;
                section.objects.push(object);
            }
            continue;
        }
        if !deeper && ERROR_RECORD.is_match(body) {
            if !section.failed {
                parsed.notes.push(Note {
                    line: Some(line.number),
                    message: "the command printed an error; its output is not used as proof of anything".into(),
                });
            }
            section.failed = true;
            if let Some(object) = section.objects.last_mut() {
                object.open = false;
            }
            continue;
        }
        if !deeper && STREAM_MESSAGE.is_match(body) {
            if COLUMNS_REMOVED.is_match(body) {
                let why = "Format-Table left columns out to fit the console; export with `| Format-List *`";
                for object in section.objects.iter_mut().filter(|o| o.incomplete.is_none()) {
                    object.incomplete = Some(why.to_string());
                }
            }
            parsed
                .notes
                .push(Note { line: Some(line.number), message: format!("the shell printed: {}", excerpt(body)) });
            continue;
        }
        if !deeper && let Some(mut command) = command_of(body) {
            // A command typed over several lines continues after `>>`.
            while let Some(rest) = lines.get(index).and_then(|l| CONTINUATION_PROMPT.captures(l.text.trim())) {
                command.push(' ');
                command.push_str(rest.get(1).map_or("", |m| m.as_str()).trim());
                index += 1;
            }
            sections.push(Section::new(read_command(&command), Some(line.number)));
            continue;
        }
        if !deeper && let Some(caps) = PROPERTY.captures(body) {
            saw_property = true;
            let name = caps[1].to_string();
            let value = caps.get(2).map_or("", |m| m.as_str()).trim().to_string();
            let key = name.to_ascii_lowercase();
            if let Some(object) = section.objects.last_mut()
                && object.names.contains(&key)
                && !starts_next_object(object, &key)
            {
                // A name printed twice in one object (a paste edited by hand):
                // the same value twice is harmless, two values are a doubt.
                let first =
                    object.props.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(&name)).map(|(_, v, _)| v.clone());
                if first.as_deref() != Some(value.as_str()) {
                    object.conflicts.push((name.clone(), line.number));
                }
                object.open = false;
                continue;
            }
            let repeats = section.objects.last().is_some_and(|o| o.names.contains(&key));
            if section.objects.is_empty() || repeats {
                section.objects.push(Builder { line: line.number, key_indent: line.indent, ..Builder::default() });
            }
            let object = section.objects.last_mut().expect("just ensured");
            if object.blank_after && !object.props.is_empty() {
                object.double_spaced = true;
            }
            object.blank_after = false;
            object.last_len = line.text.chars().count();
            object.open = true;
            object.names.insert(key);
            object.props.push((name, value, line.number));
            continue;
        }
        match section.objects.last_mut().filter(|o| o.open) {
            Some(object) => {
                let (_, value, _) = object.props.last_mut().expect("open objects have a property");
                // A console breaks a long value at the window's width, in
                // the middle of a word; a line that starts with the colon of
                // a `Name : Value` was broken before ` :`, a space.
                let hard_wrap = width >= 60
                    && object.last_len + 1 >= width
                    && !value.ends_with([',', ':'])
                    && !body.starts_with(':');
                if !hard_wrap && !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(body);
                object.last_len = line.text.chars().count();
            }
            None => section.loose_text.push((line.number, body.to_string())),
        }
    }

    for section in sections {
        finish_section(section, hint, &mut parsed, &mut ignored);
    }
    if ignored > MAX_IGNORED_NOTES {
        parsed.notes.push(Note {
            line: None,
            message: format!(
                "{} more lines were not `Name : Value` lines and were ignored",
                ignored - MAX_IGNORED_NOTES
            ),
        });
    }
    if !saw_property && parsed.captures.is_empty() {
        let first = lines.iter().find(|l| !l.text.is_empty()).map_or(1, |l| l.number);
        return Err(ParseError::at_line(
            first,
            "no `Name : Value` lines, no table and no `PS> Get-Cs...` commands: expected the output of a Get-Cs cmdlet piped to `Format-List` or `Format-Table`, or JSON",
        ));
    }
    Ok(parsed)
}

/// Whether a name the object already has starts the next object. Objects of
/// one cmdlet print their properties in the same order, so the object's
/// first name starts the next one; so does any name after a blank line,
/// unless the console double-spaces every line. Otherwise the name was
/// printed twice inside one object.
fn starts_next_object(object: &Builder, key: &str) -> bool {
    let first = object.props.first().is_some_and(|(n, _, _)| n.eq_ignore_ascii_case(key));
    first || (object.blank_after && !object.double_spaced)
}

fn finish_section(section: Section, hint: Option<ObjectKind>, parsed: &mut Parsed, ignored: &mut usize) {
    let mut loose = section.loose_text;
    let (cmdlet, kind, subset) = match &section.output {
        CommandOutput::Objects { cmdlet, kind, subset } => (Some(cmdlet.clone()), Some(*kind), subset.clone()),
        CommandOutput::NotConfiguration { command, why } => {
            parsed.notes.push(Note {
                line: section.line,
                message: format!("`{command}` does not print the configuration ({why}); what follows it is not read"),
            });
            (None, Some(ObjectKind::Other), None)
        }
        CommandOutput::Unknown => (None, None, None),
    };
    if let (Some(name), Some(kind)) = (&cmdlet, kind) {
        parsed.captures.push(Capture {
            kind,
            cmdlet: name.clone(),
            line: section.line,
            complete: !section.failed,
            subset: subset.clone(),
        });
        // Get-CsServerVersion prints one line of text, not properties.
        if kind == ObjectKind::ServerVersion && section.objects.is_empty() && !loose.is_empty() {
            let (line, text) = loose.remove(0);
            let mut object = ConfigObject::new(ObjectKind::ServerVersion);
            object.cmdlet = Some(name.clone());
            object.line = Some(line);
            object.properties.insert("Version".into(), Value::String(text));
            object.property_lines.insert("Version".into(), line);
            parsed.objects.push(object);
        }
    }
    if kind == Some(ObjectKind::Other) {
        // Output fedscan does not read is not worth a note per line.
        loose.clear();
    }
    for (line, text) in loose {
        *ignored += 1;
        if *ignored <= MAX_IGNORED_NOTES {
            parsed.notes.push(Note {
                line: Some(line),
                message: format!("not a `Name : Value` line; ignored: {}", excerpt(&text)),
            });
        }
    }
    let (mut joins, mut joins_total) = (Vec::new(), 0usize);
    for builder in section.objects {
        let mut object = ConfigObject::new(ObjectKind::Other);
        object.line = Some(builder.line);
        object.cmdlet = cmdlet.clone();
        let mut props = Vec::with_capacity(builder.props.len());
        for (name, raw, line) in builder.props {
            let pieces = split_joined_value(name, raw, line);
            for (joined, _, line) in pieces.iter().skip(1) {
                if joins.len() < 5 {
                    joins.push(format!("before `{joined} :` at line {line}"));
                }
                joins_total += 1;
            }
            props.extend(pieces);
        }
        for (name, raw, line) in props {
            if let Some(first) = object.properties.get(&name) {
                // Split off a joined line, a name the object already has.
                if first != &property_value(&raw).0 {
                    object.doubts.entry(name.clone()).or_insert_with(|| {
                        format!("{name} is printed twice with different values (line {line}), so which one holds is unknown; export again")
                    });
                }
                continue;
            }
            let (value, truncated) = property_value(&raw);
            if truncated {
                object.truncated.push(name.clone());
            }
            object.property_lines.insert(name.clone(), line);
            object.properties.insert(name, value);
        }
        for (name, line) in builder.conflicts {
            let first = object.property_lines.get(&name).copied().unwrap_or(builder.line);
            object.doubts.entry(name.clone()).or_insert_with(|| {
                format!("{name} is printed twice with different values (lines {first} and {line}), so which one holds is unknown; export again")
            });
        }
        if let Some(why) = builder.incomplete {
            object.doubts.insert(super::ABSENT.into(), why);
        }
        if let Some(why) = builder.doubtful {
            for name in object.properties.keys() {
                object.doubts.insert(name.clone(), why.clone());
            }
            object.doubts.insert(super::ABSENT.into(), why);
        }
        object.kind = match kind {
            Some(ObjectKind::EdgeService) if !is_edge_service(&object.properties) => ObjectKind::Other,
            Some(kind) => kind,
            None => match hint.or_else(|| infer_kind(&object.properties)) {
                Some(kind) => {
                    if !parsed.captures.iter().any(|c| c.kind == kind && c.line.is_none()) {
                        let mut capture = Capture::whole(kind, kind.cmdlet(), None);
                        capture.complete = !section.failed;
                        parsed.captures.push(capture);
                    }
                    kind
                }
                None => {
                    parsed.notes.push(Note {
                        line: Some(builder.line),
                        message: "cannot tell which cmdlet printed this object; put its `PS> Get-Cs...` command line before it, or name the file after the cmdlet".into(),
                    });
                    ObjectKind::Other
                }
            },
        };
        parsed.objects.push(object);
    }
    if joins_total > 0 {
        let more =
            if joins_total > joins.len() { format!(" and {} more", joins_total - joins.len()) } else { String::new() };
        parsed.notes.push(Note { line: None, message: format!("split joined lines: {}{more}", joins.join(", ")) });
    }
}

/// Reads a Format-List value: `{a, b}` is a list; a trailing `...` means the
/// console cut it short.
fn property_value(raw: &str) -> (Value, bool) {
    let raw = raw.trim();
    let (body, truncated) = match raw.strip_suffix("...").or_else(|| raw.strip_suffix('…')) {
        Some(rest) => (rest, true),
        None => (raw, false),
    };
    if let Some(inner) = raw.strip_prefix('{') {
        let inner = inner.strip_suffix('}').unwrap_or(inner).trim_end();
        let (inner, truncated) = match inner.strip_suffix("...").or_else(|| inner.strip_suffix('…')) {
            Some(rest) => (rest, true),
            None => (inner, truncated),
        };
        let items =
            inner.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_string())).collect();
        return (Value::Array(items), truncated);
    }
    (Value::String(if truncated { body.to_string() } else { raw.to_string() }), truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(text: &str) -> Vec<ConfigObject> {
        parse(text, None).unwrap().objects
    }

    #[test]
    fn splits_objects_on_repeated_names_not_blank_lines() {
        let text = "Identity : Global\n\nEnableFederationAccess : True\n\nEnablePublicCloudAccess : False\n\nIdentity : Tag:PIC\n\nEnableFederationAccess : True\n";
        let objs = objects(text);
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[1].identity().as_deref(), Some("Tag:PIC"));
        assert_eq!(objs[0].kind, ObjectKind::ExternalAccessPolicy);
    }

    #[test]
    fn joins_wrapped_values_and_reads_lists() {
        let text = "Identity             : EdgeServer:edge.contoso.com\nDependentServiceList : {Registrar:pool.contoso.com, ConferencingServer:pool.contoso.com,\n                       MediationServer:pool.contoso.com}\nAccessEdgeExternalFqdn : sip.contoso.com\n";
        let obj = &objects(text)[0];
        assert_eq!(obj.kind, ObjectKind::EdgeService);
        assert_eq!(obj.get("DependentServiceList").unwrap().1.as_array().unwrap().len(), 3);
    }

    #[test]
    fn joined_property_lines_are_split_again() {
        let text = "Identity : fabrikam.com Domain : fabrikam.com ProxyFqdn : Comment : MarkForMonitoring : False\n";
        let obj = &objects(text)[0];
        assert_eq!(obj.identity().as_deref(), Some("fabrikam.com"));
        assert_eq!(obj.get("ProxyFqdn").unwrap().1, &Value::String(String::new()), "an empty value joined");
        assert_eq!(obj.get("MarkForMonitoring").unwrap().1, &Value::String("False".into()));
        // Names inside a value are no join: no blank before their colon.
        let obj = &objects("Identity : EdgeServer:edge.contoso.com Note: kept\n")[0];
        assert_eq!(obj.identity().as_deref(), Some("EdgeServer:edge.contoso.com Note: kept"));
        let notes = parse(text, None).unwrap().notes;
        assert!(notes.iter().any(|n| n.message.contains("before `Domain :` at line 1")), "{notes:?}");
    }

    #[test]
    fn marks_truncated_lists() {
        let text = "Identity : Skype\nProxyFqdn : federation.messenger.msn.com\nIconUrl :\nNameDecorationExcludedDomainList : {msn.com, outlook.com, live.com, hotmail.com...}\n";
        let obj = &objects(text)[0];
        assert_eq!(obj.kind, ObjectKind::PublicProvider);
        assert!(obj.is_truncated("NameDecorationExcludedDomainList"));
        assert_eq!(obj.get("IconUrl").unwrap().1, &Value::String(String::new()));
    }

    #[test]
    fn transcript_sections_and_failed_commands() {
        let text = "PS C:\\> Get-CsAllowedDomain\nPS C:\\> Get-CsBlockedDomain\nGet-CsBlockedDomain : Access denied\n    + CategoryInfo          : PermissionDenied\nPS C:\\> Get-CsSipDomain | fl\n\nIdentity  : contoso.com\nName      : contoso.com\nIsDefault : True\n";
        let parsed = parse(text, None).unwrap();
        let allowed = parsed.captures.iter().find(|c| c.kind == ObjectKind::AllowedDomain).unwrap();
        assert!(allowed.complete);
        let blocked = parsed.captures.iter().find(|c| c.kind == ObjectKind::BlockedDomain).unwrap();
        assert!(!blocked.complete);
        assert_eq!(parsed.objects.len(), 1);
        assert_eq!(parsed.objects[0].kind, ObjectKind::SipDomain);
        assert_eq!(parsed.objects[0].line, Some(7));
    }

    #[test]
    fn skips_transcript_banners() {
        let text = "**********************\nWindows PowerShell transcript start\nStart time: 20261120093012\nUsername: CONTOSO\\admin\n**********************\nPS C:\\> Get-CsSipDomain\n\nIdentity  : contoso.com\nName      : contoso.com\nIsDefault : True\n";
        let parsed = parse(text, None).unwrap();
        assert!(parsed.notes.is_empty(), "{:?}", parsed.notes);
        assert_eq!(parsed.objects.len(), 1);
    }

    #[test]
    fn reads_format_table_and_refuses_prose() {
        let table = "PS C:\\> Get-CsSipDomain | ft -AutoSize\n\nIdentity     Name         IsDefault\n--------     ----         ---------\ncontoso.com  contoso.com       True\nfabrikam.com fabrikam.com     False\n\nPS C:\\> Get-CsPublicProvider\n";
        let parsed = parse(table, None).unwrap();
        let domains: Vec<_> = parsed.objects.iter().filter(|o| o.kind == ObjectKind::SipDomain).collect();
        assert_eq!(domains.len(), 2);
        assert_eq!(domains[1].get("IsDefault").unwrap().1, "False");
        assert_eq!(domains[1].line, Some(6));
        assert!(parse("hello world\nthis is not it\n", None).is_err());
    }

    #[test]
    fn dropped_table_columns_make_absent_properties_unknown() {
        let text = "PS C:\\> Get-CsCertificate | ft\n\nUse                Thumbprint\n---                ----------\nAccessEdgeExternal 0123ABCD\n\nWARNING: 3 columns do not fit into the display and were removed.\n";
        let parsed = parse(text, None).unwrap();
        let cert = &parsed.objects[0];
        assert!(cert.doubt("NotAfter").unwrap().contains("left columns out"));
        assert_eq!(cert.doubt("Use"), None);
    }

    #[test]
    fn html_escaped_prompts_separate_commands() {
        let text = "PS C:\\&gt; Get-CsExternalAccessPolicy | fl<br>\nIdentity : Global<br>\nEnablePublicCloudAccess : False<br>\n<p>PS C:\\&amp;gt; Get-CsUser | select SipAddress,ExternalAccessPolicy | fl</p>\nSipAddress : sip:ann@contoso.com\nExternalAccessPolicy : PIC &amp; federation\n";
        let parsed = parse(text, None).unwrap();
        let kinds: Vec<ObjectKind> = parsed.objects.iter().map(|o| o.kind).collect();
        assert_eq!(kinds, [ObjectKind::ExternalAccessPolicy, ObjectKind::User]);
        assert_eq!(parsed.objects[1].get("ExternalAccessPolicy").unwrap().1, "PIC & federation");
    }

    #[test]
    fn a_name_printed_twice_is_a_doubt_not_an_object() {
        let text = "Identity : contoso.com\nDomain   : contoso.com\nComment  : old partner\nComment  : new partner\n\nIdentity : fabrikam.com\nDomain   : fabrikam.com\nComment  : x\nComment  : x\n";
        let objs = objects(text);
        assert_eq!(objs.len(), 2);
        assert!(objs[0].doubt("Comment").unwrap().contains("lines 3 and 4"));
        assert_eq!(objs[1].doubt("Comment"), None);
        // Double-spaced consoles: a blank line between every line ends nothing.
        let spaced = "SipAddress : sip:a@contoso.com\n\nExternalAccessPolicy : PIC\n\nSipAddress : sip:b@contoso.com\n\nExternalAccessPolicy :\n";
        assert_eq!(objects(spaced).len(), 2);
    }

    #[test]
    fn commands_that_change_things_are_not_captures() {
        let text = "PS C:\\> Get-CsHostingProvider | ?{$_.ProxyFqdn -like '*lync*'} | Remove-CsHostingProvider\nPS C:\\> Get-CsUser | Grant-CsExternalAccessPolicy -PolicyName PIC\nPS C:\\> Get-CsUser |\n>> Where-Object {$_.ExternalAccessPolicy -eq 'PIC'} | fl SipAddress,ExternalAccessPolicy\n\nSipAddress           : sip:ann@contoso.com\nExternalAccessPolicy : PIC\n";
        let parsed = parse(text, None).unwrap();
        let kinds: Vec<ObjectKind> = parsed.captures.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [ObjectKind::User], "{:?}", parsed.captures);
        let users = parsed.captures.iter().find(|c| c.kind == ObjectKind::User).unwrap();
        assert!(users.subset.as_deref().unwrap().contains("Where-Object"));
        assert!(parsed.notes.iter().any(|n| n.message.contains("Remove-CsHostingProvider")));
        assert_eq!(parsed.objects.len(), 1);
    }
}

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

use super::classify::{cmdlet_kind, infer_kind, is_edge_service};
use super::{Capture, ConfigObject, Note, ObjectKind, ParseError, Parsed};

static PROPERTY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?:[ \t]+(.*))?$").unwrap());
static PROMPT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^PS(?:[ \t][^>]*)?>[ \t]*(.*)$").unwrap());
static BARE_COMMAND: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)^get-cs[a-z]+\b").unwrap());
static TABLE_RULE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^-{2,}([ \t]+-{2,})+[ \t]*$").unwrap());
static ERROR_RECORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(\+[ \t]*(CategoryInfo|FullyQualifiedErrorId)\b|[a-z]+-[a-z]+[ \t]+:[ \t])").unwrap()
});
/// `Start-Transcript` frames its header and footer with lines of asterisks.
static TRANSCRIPT_BANNER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\*{10,}$").unwrap());
static LINE_BREAK_TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)(<br\s*/?>\s*)+$").unwrap());

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
}

struct Section {
    cmdlet: Option<(String, ObjectKind)>,
    line: Option<usize>,
    failed: bool,
    objects: Vec<Builder>,
    loose_text: Vec<(usize, String)>,
}

impl Section {
    fn new(cmdlet: Option<(String, ObjectKind)>, line: Option<usize>) -> Self {
        Section { cmdlet, line, failed: false, objects: Vec::new(), loose_text: Vec::new() }
    }
}

fn clean(raw: &str) -> String {
    let trimmed = raw.trim_end_matches(['\r', ' ', '\t']);
    LINE_BREAK_TAG.replace(trimmed, "").trim_end().to_string()
}

pub(super) fn parse(text: &str, hint: Option<ObjectKind>) -> Result<Parsed, ParseError> {
    let cleaned: Vec<String> = text.split('\n').map(clean).collect();
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
    let mut sections = vec![Section::new(None, None)];
    let mut ignored = 0usize;
    let mut saw_property = false;
    let mut in_banner = false;

    for line in &lines {
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
            }
            continue;
        }
        let body = line.text.trim();
        let deeper = section.objects.last().is_some_and(|o| o.open && line.indent > o.key_indent);
        if TABLE_RULE.is_match(body) {
            return Err(ParseError::at_line(
                line.number,
                "this looks like Format-Table output, which cuts values short; export with `| Format-List *` or `| ConvertTo-Json -Depth 4`",
            ));
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
        if !deeper {
            let command = PROMPT
                .captures(body)
                .map(|c| c.get(1).map_or("", |m| m.as_str()).to_string())
                .or_else(|| BARE_COMMAND.is_match(body).then(|| body.to_string()));
            if let Some(command) = command {
                sections.push(Section::new(cmdlet_kind(&command), Some(line.number)));
                continue;
            }
        }
        if !deeper && let Some(caps) = PROPERTY.captures(body) {
            saw_property = true;
            let name = caps[1].to_string();
            let value = caps.get(2).map_or("", |m| m.as_str()).trim().to_string();
            // A name the object already has starts the next object (looked
            // up in a set: an object may have a hundred thousand names).
            let repeats = section.objects.last().is_some_and(|o| o.names.contains(&name.to_ascii_lowercase()));
            if section.objects.is_empty() || repeats {
                section.objects.push(Builder { line: line.number, key_indent: line.indent, ..Builder::default() });
            }
            let object = section.objects.last_mut().expect("just ensured");
            object.last_len = line.text.chars().count();
            object.open = true;
            object.names.insert(name.to_ascii_lowercase());
            object.props.push((name, value, line.number));
            continue;
        }
        match section.objects.last_mut().filter(|o| o.open) {
            Some(object) => {
                let (_, value, _) = object.props.last_mut().expect("open objects have a property");
                let hard_wrap = width >= 60 && object.last_len + 1 >= width && !value.ends_with(',');
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
            "no `Name : Value` lines and no `PS> Get-Cs...` commands: expected the output of a Get-Cs cmdlet piped to `Format-List`, or JSON",
        ));
    }
    Ok(parsed)
}

fn finish_section(section: Section, hint: Option<ObjectKind>, parsed: &mut Parsed, ignored: &mut usize) {
    let cmdlet = section.cmdlet.clone();
    let mut loose = section.loose_text;
    if let Some((name, kind)) = &cmdlet {
        parsed.captures.push(Capture {
            kind: *kind,
            cmdlet: name.clone(),
            line: section.line,
            complete: !section.failed,
        });
        // Get-CsServerVersion prints one line of text, not properties.
        if *kind == ObjectKind::ServerVersion && section.objects.is_empty() && !loose.is_empty() {
            let (line, text) = loose.remove(0);
            let mut object = ConfigObject::new(ObjectKind::ServerVersion);
            object.cmdlet = Some(name.clone());
            object.line = Some(line);
            object.properties.insert("Version".into(), Value::String(text));
            object.property_lines.insert("Version".into(), line);
            parsed.objects.push(object);
        }
    }
    for (line, text) in loose {
        *ignored += 1;
        if *ignored <= MAX_IGNORED_NOTES {
            parsed.notes.push(Note {
                line: Some(line),
                message: format!("not a `Name : Value` line; ignored: {}", shorten(&text)),
            });
        }
    }
    for builder in section.objects {
        let mut object = ConfigObject::new(ObjectKind::Other);
        object.line = Some(builder.line);
        object.cmdlet = cmdlet.as_ref().map(|(name, _)| name.clone());
        for (name, raw, line) in builder.props {
            let (value, truncated) = property_value(&raw);
            if truncated {
                object.truncated.push(name.clone());
            }
            object.property_lines.insert(name.clone(), line);
            object.properties.insert(name, value);
        }
        object.kind = match &cmdlet {
            Some((_, ObjectKind::EdgeService)) if !is_edge_service(&object.properties) => ObjectKind::Other,
            Some((_, kind)) => *kind,
            None => match hint.or_else(|| infer_kind(&object.properties)) {
                Some(kind) => {
                    if !parsed.captures.iter().any(|c| c.kind == kind && c.line.is_none()) {
                        parsed.captures.push(Capture {
                            kind,
                            cmdlet: kind.cmdlet().to_string(),
                            line: None,
                            complete: !section.failed,
                        });
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

fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
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
    fn refuses_format_table_and_prose() {
        let table = "Identity ProxyFqdn\n-------- ---------\nSkype    federation.messenger.msn.com\n";
        assert_eq!(parse(table, None).unwrap_err().line, Some(2));
        assert!(parse("hello world\nthis is not it\n", None).is_err());
    }
}

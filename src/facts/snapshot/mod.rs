//! Configuration snapshots: what `--config` reads. A snapshot file becomes a
//! [`SnapshotFact`]: the objects it holds, which cmdlets it captured, and notes
//! about anything the parser had to pass over. Parsing never judges a value.

mod classify;
mod decode;
mod format_list;
mod format_table;
mod json;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use classify::{cmdlet_kind, kind_from_file_name, product_from_version_text};
pub use decode::Encoding;
pub use format_list::is_list_property;

use crate::facts::InputError;

/// Largest snapshot we read. Real exports are a few kilobytes; anything much
/// larger is the wrong file, and reading it whole would cost memory for nothing.
pub const MAX_SNAPSHOT_BYTES: u64 = 16 * 1024 * 1024;

/// The configuration objects fedscan understands, named after what the
/// `Get-Cs*` cmdlets return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ObjectKind {
    AccessEdgeConfiguration,
    ExternalAccessPolicy,
    PublicProvider,
    HostingProvider,
    AllowedDomain,
    BlockedDomain,
    SipDomain,
    EdgeService,
    Certificate,
    TenantFederationConfiguration,
    User,
    ServerVersion,
    /// Output of a cmdlet fedscan does not read (kept, ignored).
    Other,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 12] = [
        ObjectKind::AccessEdgeConfiguration,
        ObjectKind::ExternalAccessPolicy,
        ObjectKind::PublicProvider,
        ObjectKind::HostingProvider,
        ObjectKind::AllowedDomain,
        ObjectKind::BlockedDomain,
        ObjectKind::SipDomain,
        ObjectKind::EdgeService,
        ObjectKind::Certificate,
        ObjectKind::TenantFederationConfiguration,
        ObjectKind::User,
        ObjectKind::ServerVersion,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::AccessEdgeConfiguration => "AccessEdgeConfiguration",
            ObjectKind::ExternalAccessPolicy => "ExternalAccessPolicy",
            ObjectKind::PublicProvider => "PublicProvider",
            ObjectKind::HostingProvider => "HostingProvider",
            ObjectKind::AllowedDomain => "AllowedDomain",
            ObjectKind::BlockedDomain => "BlockedDomain",
            ObjectKind::SipDomain => "SipDomain",
            ObjectKind::EdgeService => "EdgeService",
            ObjectKind::Certificate => "Certificate",
            ObjectKind::TenantFederationConfiguration => "TenantFederationConfiguration",
            ObjectKind::User => "User",
            ObjectKind::ServerVersion => "ServerVersion",
            ObjectKind::Other => "Other",
        }
    }

    /// The cmdlet whose output holds this kind of object, for messages that
    /// tell the user what to export.
    pub fn cmdlet(self) -> &'static str {
        match self {
            ObjectKind::AccessEdgeConfiguration => "Get-CsAccessEdgeConfiguration",
            ObjectKind::ExternalAccessPolicy => "Get-CsExternalAccessPolicy",
            ObjectKind::PublicProvider => "Get-CsPublicProvider",
            ObjectKind::HostingProvider => "Get-CsHostingProvider",
            ObjectKind::AllowedDomain => "Get-CsAllowedDomain",
            ObjectKind::BlockedDomain => "Get-CsBlockedDomain",
            ObjectKind::SipDomain => "Get-CsSipDomain",
            ObjectKind::EdgeService => "Get-CsService -EdgeServer",
            ObjectKind::Certificate => "Get-CsCertificate",
            ObjectKind::TenantFederationConfiguration => "Get-CsTenantFederationConfiguration",
            ObjectKind::User => "Get-CsUser",
            ObjectKind::ServerVersion => "Get-CsServerVersion",
            ObjectKind::Other => "Get-Cs*",
        }
    }

    /// Kinds of which a deployment has exactly one instance: an empty answer
    /// from their cmdlet means the export failed, not that nothing is set.
    pub fn is_singleton(self) -> bool {
        matches!(self, ObjectKind::AccessEdgeConfiguration | ObjectKind::TenantFederationConfiguration)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotFormat {
    FormatList,
    Json,
}

/// A cmdlet whose output the snapshot holds. `complete` is false when the
/// transcript shows the command failing, so its silence proves nothing;
/// `subset` says why the output holds only some of the objects (a filter in
/// the command), so what it lacks proves nothing either.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capture {
    pub kind: ObjectKind,
    pub cmdlet: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
}

impl Capture {
    /// The output of a whole, successful command.
    pub fn whole(kind: ObjectKind, cmdlet: impl Into<String>, line: Option<usize>) -> Self {
        Capture { kind, cmdlet: cmdlet.into(), line, complete: true, subset: None }
    }
}

/// Something the parser passed over or could not read with certainty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

/// One object of a snapshot: its properties exactly as exported (Format-List
/// values stay text; JSON keeps its types).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigObject {
    pub kind: ObjectKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmdlet: Option<String>,
    /// First line of the object in a Format-List file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// JSON pointer of the object in a JSON file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    pub properties: serde_json::Map<String, Value>,
    /// Line of each property in a Format-List file.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub property_lines: BTreeMap<String, usize>,
    /// Properties whose value the console cut short with `...`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truncated: Vec<String>,
    /// Properties whose value the file does not show with certainty for
    /// another reason (printed twice with different values, a table column
    /// the console dropped), and why.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub doubts: BTreeMap<String, String>,
}

impl ConfigObject {
    pub fn new(kind: ObjectKind) -> Self {
        ConfigObject {
            kind,
            cmdlet: None,
            line: None,
            pointer: None,
            properties: serde_json::Map::new(),
            property_lines: BTreeMap::new(),
            truncated: Vec::new(),
            doubts: BTreeMap::new(),
        }
    }

    /// A property by name, ignoring case as PowerShell does. Returns the name
    /// as exported together with the value.
    pub fn get(&self, name: &str) -> Option<(&str, &Value)> {
        self.properties.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(k, v)| (k.as_str(), v))
    }

    pub fn is_truncated(&self, name: &str) -> bool {
        self.truncated.iter().any(|t| t.eq_ignore_ascii_case(name))
    }

    /// Why the value of `name` is not known with certainty, if it is not:
    /// the one sentence every reader of a property shows.
    pub fn doubt(&self, name: &str) -> Option<String> {
        if self.is_truncated(name) {
            return Some(format!(
                "the console cut {name} short with `...`, so its full value is unknown; export again after `$FormatEnumerationLimit = -1` with `| Format-List *`, or as JSON"
            ));
        }
        if let Some((_, why)) = self.doubts.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            return Some(why.clone());
        }
        match self.get(name) {
            None => self.doubts.get(ABSENT).map(|why| format!("{name} is not shown: {why}")),
            Some(_) => None,
        }
    }

    /// The object's identity as the cmdlets print it, falling back to the
    /// property that names the object when `Identity` is absent.
    pub fn identity(&self) -> Option<String> {
        ["Identity", "Name", "Domain", "Fqdn", "SipAddress", "Thumbprint"].iter().filter_map(|k| self.get(k)).find_map(
            |(_, v)| match v {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                _ => None,
            },
        )
    }

    /// How findings name this object: `Kind[Identity]`.
    pub fn label(&self) -> String {
        match self.identity() {
            Some(id) => format!("{}[{}]", self.kind.name(), id),
            None => self.kind.name().to_string(),
        }
    }

    /// Where the object, or one of its properties, is in its file.
    pub fn location(&self, path: &str, property: Option<&str>) -> String {
        let prop_line =
            property.and_then(|p| self.property_lines.iter().find(|(k, _)| k.eq_ignore_ascii_case(p)).map(|(_, l)| *l));
        match (prop_line.or(self.line), &self.pointer) {
            (Some(line), _) => format!("{path}:{line}"),
            (None, Some(pointer)) => format!("{path}#{pointer}"),
            (None, None) => path.to_string(),
        }
    }
}

/// What one `--config` file held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotFact {
    pub path: String,
    pub format: SnapshotFormat,
    pub encoding: Encoding,
    pub captures: Vec<Capture>,
    pub objects: Vec<ConfigObject>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

/// What a parser returns before the file-level details are added.
#[derive(Debug, Default)]
struct Parsed {
    captures: Vec<Capture>,
    objects: Vec<ConfigObject>,
    notes: Vec<Note>,
}

/// A parser's refusal: where and why.
#[derive(Debug)]
struct ParseError {
    line: Option<usize>,
    column: Option<usize>,
    message: String,
}

impl ParseError {
    fn at_line(line: usize, message: impl Into<String>) -> Self {
        ParseError { line: Some(line), column: None, message: message.into() }
    }
}

/// The key of [`ConfigObject::doubts`] that covers every property the
/// object lacks: the export may have left out properties the object has.
pub const ABSENT: &str = "*";

/// The start of a line a note quotes.
fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// Reads and parses one snapshot file. `display` is how the path is shown in
/// messages and recorded in facts.
pub fn read_snapshot(path: &Path, display: &str) -> Result<SnapshotFact, InputError> {
    let error = |line: Option<usize>, column: Option<usize>, message: String| InputError {
        path: display.to_string(),
        line,
        column,
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| error(None, None, format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(error(None, None, "not a regular file".into()));
    }
    if meta.len() > MAX_SNAPSHOT_BYTES {
        return Err(error(
            None,
            None,
            format!(
                "file is {:.1} MiB; a configuration snapshot is at most {} MiB (is this the right file?)",
                meta.len() as f64 / (1024.0 * 1024.0),
                MAX_SNAPSHOT_BYTES / (1024 * 1024)
            ),
        ));
    }
    let bytes = crate::files::read_bounded(path, MAX_SNAPSHOT_BYTES).map_err(|message| error(None, None, message))?;
    parse_snapshot(&bytes, display).map_err(|e| error(e.line, e.column, e.message))
}

/// Parses snapshot bytes (any accepted encoding and format).
fn parse_snapshot(bytes: &[u8], display: &str) -> Result<SnapshotFact, ParseError> {
    let decoded = decode::decode(bytes)?;
    let hint = kind_from_file_name(display);
    let text = decoded.text.as_str();
    let first = text.trim_start().chars().next();
    if let Some((line, text)) = sip_trace_line(text) {
        return Err(ParseError::at_line(
            line,
            format!(
                "this is a SIP trace or log (\"{}\"), not a configuration snapshot; diagnose it with `fedscan diagnose {display}`",
                excerpt(text.trim())
            ),
        ));
    }
    let (format, mut parsed) = match first {
        None => return Err(ParseError::at_line(1, "file is empty")),
        Some('{') | Some('[') => match json::parse(text, hint) {
            Ok(parsed) => (SnapshotFormat::Json, parsed),
            // What a paste did to it, undone; if that does not read either,
            // the error is the file's own.
            Err(error) => match json_pasted(text)
                .and_then(|(repaired, notes)| json::parse(&repaired, hint).ok().map(|parsed| with_notes(parsed, notes)))
            {
                Some(parsed) => (SnapshotFormat::Json, parsed),
                None => return Err(error),
            },
        },
        Some(_) => match json_pasted(text) {
            Some((repaired, notes)) => (SnapshotFormat::Json, with_notes(json::parse(&repaired, hint)?, notes)),
            None => (SnapshotFormat::FormatList, format_list::parse(text, hint)?),
        },
    };
    if let Some(note) = decoded.note {
        parsed.notes.insert(0, Note { line: None, message: note });
    }
    Ok(SnapshotFact {
        path: display.to_string(),
        format,
        encoding: decoded.encoding,
        captures: parsed.captures,
        objects: parsed.objects,
        notes: parsed.notes,
    })
}

/// A `ConvertTo-Json` export as a ticket, an e-mail reply or a mail
/// client left it (HTML-escaped, quoted with `>`, its strings wrapped), with
/// what was undone; `None` when undoing that leaves no JSON.
fn json_pasted(text: &str) -> Option<(String, Vec<String>)> {
    use crate::facts::paste;
    let mut notes = Vec::new();
    let lines: Vec<String> = text.split('\n').map(paste::unmark).collect();
    if lines.iter().zip(text.split('\n')).any(|(clean, raw)| clean != raw.trim_end()) {
        notes.push("read as an HTML-escaped paste: markup and escaping undone".to_string());
    }
    let lines = match paste::unquote(&lines) {
        Some(unquoted) => {
            notes.push("read as text quoted in an e-mail reply: `>` removed".to_string());
            unquoted
        }
        None => lines,
    };
    let mut repaired = lines.join("\n");
    if !repaired.trim_start().starts_with(['{', '[']) {
        return None;
    }
    if let Some(rejoined) = paste::rejoin_json_strings(&repaired) {
        notes.push("line breaks inside JSON strings read as the spaces a mail client wrapped at".to_string());
        repaired = rejoined;
    }
    (!notes.is_empty()).then_some((repaired, notes))
}

fn with_notes(mut parsed: Parsed, notes: Vec<String>) -> Parsed {
    for (i, message) in notes.into_iter().enumerate() {
        parsed.notes.insert(i, Note { line: None, message });
    }
    parsed
}

/// The first line that shows the text is a SIP trace rather than cmdlet
/// output, unless the text also holds `Get-Cs` commands (a transcript may
/// quote a header).
fn sip_trace_line(text: &str) -> Option<(usize, &str)> {
    let mut found = None;
    for (index, line) in text.lines().enumerate().take(5_000) {
        if line.trim_start().to_ascii_lowercase().contains("get-cs") {
            return None;
        }
        if found.is_none() && crate::facts::sip_text::is_trace_line(line) {
            found = Some((index + 1, line));
        }
    }
    found
}

/// Parses snapshot bytes held in memory, as [`read_snapshot`] does a file.
pub fn parse_snapshot_bytes(bytes: &[u8], display: &str) -> Result<SnapshotFact, InputError> {
    parse_snapshot(bytes, display).map_err(|e| InputError {
        path: display.to_string(),
        line: e.line,
        column: e.column,
        message: e.message,
    })
}

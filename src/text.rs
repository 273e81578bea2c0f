//! Text from snapshots, rule files, the command line and the network is
//! untrusted: one function per output kind makes it inert there (terminal:
//! [`escape_terminal`]; JSON, SARIF and NDJSON: [`to_json`], [`to_json_line`],
//! and [`JsonObject`] for findings, whose strings are written as they do;
//! HTML: [`escape_html`]; Markdown: [`escape_markdown`]; JUnit XML:
//! [`escape_xml`]; CSV: [`escape_csv`]), and values are quoted before they go
//! into a command we suggest ([`powershell_quote`]).

use std::borrow::Cow;
use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

/// Makes every control character visible (`\u{1b}`, `\u{a}`), so that a
/// value cannot move the cursor, recolour the terminal, start a line of its
/// own or hide the text around it. The report's own line breaks are written
/// around escaped values, never inside them.
pub fn escape_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// At most `max` characters of `text`, and how many more there were: a
/// table cell or a report line shows the start of a value that long (the
/// JSON report has it whole).
pub fn shorten(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => {
            let more = text[cut..].chars().count();
            Cow::Owned(format!("{}… ({more} more characters; see --format json)", &text[..cut]))
        }
    }
}

/// [`escape_terminal`] for text whose own lines are kept (a rule's rationale
/// or definition): each line escaped, the line breaks left.
pub fn escape_terminal_lines(text: &str) -> String {
    text.lines().map(escape_terminal).collect::<Vec<_>>().join("\n")
}

/// Control characters (C0, DEL, C1), zero-width characters, bidirectional
/// overrides and isolates, and the noncharacters of the Basic Multilingual
/// Plane (U+FDD0 to U+FDEF, U+FFFE, U+FFFF: XML 1.0 forbids the last two,
/// so a JUnit report holding them is not well formed).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{fdd0}'..='\u{fdef}'
                | '\u{fffe}'
                | '\u{ffff}'
        )
}

/// A file's text with each unsafe character but its line feeds and tabs
/// replaced by as many `?` as it has bytes (a carriage return by a space):
/// safe to print line by line, and every byte offset into it still points at
/// the same place (for drawing a span under a line of the file).
pub fn neutralize(text: &str) -> Cow<'_, str> {
    let replaced = |c: char| is_unsafe(c) && c != '\n' && c != '\t';
    if !text.chars().any(replaced) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| match c {
                '\r' => " ".to_string(),
                c if replaced(c) => "?".repeat(c.len_utf8()),
                c => c.to_string(),
            })
            .collect(),
    )
}

/// Bytes in lower-case hexadecimal (a digest as reports show it).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    text
}

/// Pretty JSON that stays faithful but is safe to print: besides what JSON
/// itself escapes, DEL, C1 controls, zero-width characters and
/// bidirectional overrides are written as `\uXXXX`.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut bytes = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, SafeFormatter(Pretty::default()));
    value.serialize(&mut serializer)?;
    // The formatter writes only valid UTF-8: serde_json's own output, and
    // ASCII escapes.
    String::from_utf8(bytes).map_err(|e| serde_json::Error::io(io::Error::other(e)))
}

/// [`to_json`] written to `out` as it is produced.
pub fn write_json<T: Serialize + ?Sized>(out: &mut dyn io::Write, value: &T) -> io::Result<()> {
    // The serializer writes in fragments of a few bytes: gathered here, they
    // reach `out` in blocks instead of a call through it each.
    let mut gathered = io::BufWriter::with_capacity(64 * 1024, out);
    let mut serializer = serde_json::Serializer::with_formatter(&mut gathered, SafeFormatter(Pretty::default()));
    value.serialize(&mut serializer).map_err(io::Error::other)?;
    io::Write::flush(&mut gathered)
}

/// [`to_json`] of a value as it stands `depth` levels deep in a pretty
/// document (an item of an array rendered on its own, to be spliced in
/// there): its inner lines indented to that depth, its first line not.
pub fn write_json_at_depth<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T, depth: usize) -> io::Result<()> {
    let mut formatter = SafeFormatter(Pretty::default());
    // The formatter counts its depth by the arrays it is in: opened here and
    // written nowhere, they indent the value as the enclosing document would.
    for _ in 0..depth {
        formatter.begin_array(&mut io::sink())?;
    }
    let mut serializer = serde_json::Serializer::with_formatter(out, formatter);
    value.serialize(&mut serializer).map_err(io::Error::other)
}

/// [`to_json`] on one line, for NDJSON: the same escapes, no line breaks.
pub fn to_json_line<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut bytes = Vec::new();
    write_json_line(&mut bytes, value).map_err(serde_json::Error::io)?;
    String::from_utf8(bytes).map_err(|e| serde_json::Error::io(io::Error::other(e)))
}

/// [`to_json_line`] written as it is produced (no line break after it).
pub fn write_json_line<T: Serialize + ?Sized>(out: &mut (impl io::Write + ?Sized), value: &T) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, SafeFormatter(CompactFormatter));
    value.serialize(&mut serializer).map_err(io::Error::other)
}

/// Where the first byte outside printable ASCII is. Nearly every string a
/// report writes is short printable ASCII throughout, so it is looked for
/// eight bytes at a time (two word-wide tests, exact for whether a byte
/// below 0x20 or from 0x7f up is among them) before the byte is found.
fn first_unprintable(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const SPACES: u64 = u64::from_ne_bytes([0x20; 8]);
    let unprintable = |b: &u8| !(0x20..0x7f).contains(b);
    let mut words = bytes.chunks_exact(8);
    for (index, word) in (&mut words).enumerate() {
        let x = u64::from_ne_bytes(word.try_into().unwrap_or_default());
        // A byte below 0x20 borrows into its own high bit; one from 0x7f up
        // has it set, or sets it when one is added. A borrow or carry only
        // crosses into the next byte from a byte that is itself found.
        let below_space = x.wrapping_sub(SPACES) & !x & HIGH;
        let from_del = (x.wrapping_add(ONES) | x) & HIGH;
        if below_space | from_del != 0
            && let Some(at) = word.iter().position(unprintable)
        {
            return Some(index * 8 + at);
        }
    }
    let rest = words.remainder();
    rest.iter().position(unprintable).map(|at| bytes.len() - rest.len() + at)
}

/// serde_json's pretty layout (two spaces a level), each line break and its
/// indentation written at once: serde_json's own formatter writes a level's
/// indentation at a time, and a report is mostly line breaks.
#[derive(Default)]
struct Pretty {
    depth: usize,
    has_value: bool,
}

/// A line break and the indentation of a line `depth` levels deep in the
/// pretty layout.
fn line_break<W: ?Sized + io::Write>(writer: &mut W, depth: usize) -> io::Result<()> {
    const BREAKS: &[u8] = b"\n                                                                ";
    let mut spaces = 2 * depth;
    writer.write_all(&BREAKS[..1 + spaces.min(BREAKS.len() - 1)])?;
    while spaces > BREAKS.len() - 1 {
        spaces -= BREAKS.len() - 1;
        writer.write_all(&BREAKS[1..1 + spaces.min(BREAKS.len() - 1)])?;
    }
    Ok(())
}

impl Pretty {
    fn line_break<W: ?Sized + io::Write>(&self, writer: &mut W) -> io::Result<()> {
        line_break(writer, self.depth)
    }

    fn open<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    fn close<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line_break(writer)?;
        }
        writer.write_all(bracket)
    }

    fn item<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        self.line_break(writer)
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.item(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.item(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// A serde_json formatter (pretty or compact), with the escapes of [`to_json`].
struct SafeFormatter<F>(F);

impl<F: Formatter> Formatter for SafeFormatter<F> {
    /// JSON kept as text (a finding's evidence): an unsafe character can only
    /// stand inside one of its strings, where `\uXXXX` means the same.
    fn write_raw_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        self.write_string_fragment(writer, fragment)
    }

    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let (mut start, mut at) = (0, 0);
        // Only a control byte or a non-ASCII character can be unsafe: the
        // printable ASCII between them is skipped.
        while let Some(offset) = first_unprintable(&bytes[at..]) {
            at += offset;
            let Some(c) = fragment[at..].chars().next() else { break };
            if is_unsafe(c) {
                writer.write_all(&bytes[start..at])?;
                // Every unsafe character is in the Basic Multilingual Plane.
                write!(writer, "\\u{:04x}", c as u32)?;
                start = at + c.len_utf8();
            }
            at += c.len_utf8();
        }
        writer.write_all(&bytes[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

/// A JSON string as [`to_json`] and [`to_json_line`] write it. Nearly every
/// string a report writes is printable ASCII that JSON does not escape: that
/// is found a word at a time and copied as it stands (what the formatter
/// would write, byte for byte); any other goes through the formatter.
pub fn push_json_str(out: &mut Vec<u8>, text: &str) {
    if needs_json_escape(text.as_bytes()) {
        // Written to memory: nothing can fail.
        let _ = write_json_line(out, text);
    } else {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// JSON kept as text (a finding's evidence) as [`to_json`] writes it: as it
/// stands, but for the unsafe characters in its strings.
pub fn push_json_raw(out: &mut Vec<u8>, json: &str) {
    // Written to memory: nothing can fail.
    let _ = SafeFormatter(CompactFormatter).write_raw_fragment(out, json);
}

/// Whether `bytes` hold anything a JSON string escapes or the report's
/// formatter does: a byte outside printable ASCII, a quote or a backslash.
/// Tested a block at a time without stopping inside one, which the compiler
/// turns into vector compares.
fn needs_json_escape(bytes: &[u8]) -> bool {
    const BLOCK: usize = 32;
    let any_escaped = |block: &[u8; BLOCK]| {
        block.iter().fold(false, |any, &b| any | (b.wrapping_sub(0x20) >= 0x5f) | (b == b'"') | (b == b'\\'))
    };
    let (blocks, rest) = bytes.as_chunks::<BLOCK>();
    if blocks.iter().any(any_escaped) {
        return true;
    }
    // The last bytes made a block with spaces, which nothing escapes: most
    // strings are shorter than a block.
    let mut last = [b' '; BLOCK];
    last[..rest.len()].copy_from_slice(rest);
    any_escaped(&last)
}

/// How a [`JsonObject`] is laid out: on one line as [`to_json_line`] writes
/// it, or as [`to_json`] writes an object that stands `depth` levels deep in
/// its document.
#[derive(Debug, Clone, Copy)]
pub enum JsonLayout {
    Line,
    Pretty { depth: usize },
}

/// A JSON object written field by field into memory, byte for byte as
/// serde_json with the report's formatter writes it, for the records a batch
/// writes by the ten thousand (findings): their strings take
/// [`push_json_str`]'s shortcut, which serde_json offers no way to take.
pub struct JsonObject<'o> {
    out: &'o mut Vec<u8>,
    layout: JsonLayout,
    empty: bool,
}

impl<'o> JsonObject<'o> {
    pub fn open(out: &'o mut Vec<u8>, layout: JsonLayout) -> JsonObject<'o> {
        out.push(b'{');
        JsonObject { out, layout, empty: true }
    }

    /// The depth of the object's values in the pretty layout.
    fn inner(&self) -> JsonLayout {
        match self.layout {
            JsonLayout::Line => JsonLayout::Line,
            JsonLayout::Pretty { depth } => JsonLayout::Pretty { depth: depth + 1 },
        }
    }

    /// Writes the next key; its value is written next, to what is returned.
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        let separator: &[u8] = match self.layout {
            JsonLayout::Line => b":",
            JsonLayout::Pretty { depth } => {
                let _ = line_break(self.out, depth + 1);
                b": "
            }
        };
        // A key is a name in our code, which nothing escapes.
        debug_assert!(!needs_json_escape(key.as_bytes()), "{key}");
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.push(b'"');
        self.out.extend_from_slice(separator);
        self.out
    }

    pub fn str(&mut self, key: &str, value: &str) {
        push_json_str(self.key(key), value);
    }

    pub fn null(&mut self, key: &str) {
        self.key(key).extend_from_slice(b"null");
    }

    pub fn number(&mut self, key: &str, value: u64) {
        let mut digits = itoa::Buffer::new();
        self.key(key).extend_from_slice(digits.format(value).as_bytes());
    }

    /// JSON kept as text, as [`push_json_raw`] writes it.
    pub fn raw(&mut self, key: &str, json: &str) {
        push_json_raw(self.key(key), json);
    }

    /// An array of strings.
    pub fn strs(&mut self, key: &str, values: &[String]) {
        let layout = self.inner();
        let out = self.key(key);
        out.push(b'[');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            if let JsonLayout::Pretty { depth } = layout {
                let _ = line_break(out, depth + 1);
            }
            push_json_str(out, value);
        }
        if let (JsonLayout::Pretty { depth }, false) = (layout, values.is_empty()) {
            let _ = line_break(out, depth);
        }
        out.push(b']');
    }

    /// Any other value, through serde_json and the report's formatter.
    pub fn value<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        let layout = self.inner();
        let out = self.key(key);
        // Written to memory: nothing can fail but a value that does not
        // serialize, which none given here is.
        let _ = match layout {
            JsonLayout::Line => write_json_line(out, value),
            JsonLayout::Pretty { depth } => write_json_at_depth(out, value, depth),
        };
    }

    /// An object as the value of `key`, written until it is closed.
    pub fn object(&mut self, key: &str) -> JsonObject<'_> {
        let layout = self.inner();
        JsonObject::open(self.key(key), layout)
    }

    pub fn close(self) {
        if let (JsonLayout::Pretty { depth }, false) = (self.layout, self.empty) {
            let _ = line_break(self.out, depth);
        }
        self.out.push(b'}');
    }
}

/// Text for an HTML element or a quoted attribute: control characters made
/// visible as in [`escape_terminal`], then every character HTML gives a
/// meaning to written as an entity. No tag, attribute or entity from a value
/// survives.
pub fn escape_html(text: &str) -> String {
    let visible = escape_terminal(text);
    let mut out = String::with_capacity(visible.len() + 16);
    for c in visible.chars() {
        match html_entity(c) {
            Some(entity) => out.push_str(entity),
            None => out.push(c),
        }
    }
    out
}

/// The entity of a character HTML gives a meaning to.
fn html_entity(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    }
}

/// Text for a line or a table cell of GitHub-flavoured Markdown: visible
/// control characters; HTML's characters as entities (Markdown passes HTML
/// through); the punctuation that starts emphasis, code, links, tables or
/// issue references escaped with a backslash; `@` as an entity, so that a
/// value cannot mention (and notify) a user or team; and `:` and the dot of
/// `www.` escaped, so that no value becomes a link.
pub fn escape_markdown(text: &str) -> String {
    let visible = escape_terminal(text);
    let mut out = String::with_capacity(visible.len() + 16);
    for c in visible.chars() {
        if let Some(entity) = html_entity(c) {
            out.push_str(entity);
            continue;
        }
        match c {
            '@' => out.push_str("&#64;"),
            '.' if out.len() >= 3 && out.as_bytes()[out.len() - 3..].eq_ignore_ascii_case(b"www") => {
                out.push_str("\\.")
            }
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | ':' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text for XML (JUnit): control characters, which XML 1.0 cannot carry,
/// made visible as in [`escape_terminal`] rather than dropped; the XML writer
/// then escapes `<`, `&` and quotes.
pub fn escape_xml(text: &str) -> Cow<'_, str> {
    escape_terminal(text)
}

/// A CSV cell: visible control characters, and a leading `'` on a value that
/// a spreadsheet would run as a formula (`=`, `+`, `-`, `@`). The CSV writer
/// quotes separators and quotes.
pub fn escape_csv(text: &str) -> String {
    let visible = escape_terminal(text);
    if visible.starts_with(['=', '+', '-', '@']) { format!("'{visible}") } else { visible.into_owned() }
}

/// Quotes a value for a PowerShell command line when it needs it.
pub fn powershell_quote(value: &str) -> String {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "._:-@".contains(c)) {
        return value.to_string();
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        if matches!(c, '"' | '`' | '$') {
            out.push('`');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pretty_layout_is_serde_jsons() {
        let deep =
            (0..40).fold(serde_json::json!("leaf"), |inner, i| serde_json::json!({ format!("k{i}"): [inner, {}, []] }));
        for value in [
            serde_json::json!({"a": [], "b": {}, "c": [1, {"d": null, "e": [true, "x"]}], "f": "g"}),
            serde_json::json!([]),
            serde_json::json!([[[]], {"x": {}}]),
            deep,
        ] {
            let ours = to_json(&value).unwrap();
            assert_eq!(ours, serde_json::to_string_pretty(&value).unwrap());
        }
    }

    #[test]
    fn the_first_unprintable_byte_is_found_wherever_it_stands() {
        let plain = |n: usize| "a".repeat(n).into_bytes();
        for len in [0, 1, 31, 32, 33, 64, 95, 100] {
            assert_eq!(first_unprintable(&plain(len)), None, "{len}");
            for at in 0..len {
                for odd in [0x00, 0x1f, 0x7f, 0x80, 0xe2] {
                    let mut bytes = plain(len);
                    bytes[at] = odd;
                    assert_eq!(first_unprintable(&bytes), Some(at), "{len} {at} {odd:#x}");
                }
            }
        }
        // Every printable byte, in every alignment, is passed over; the
        // first unprintable one after them is found.
        let printable: Vec<u8> = (0x20..0x7f).collect();
        for shift in 0..8 {
            let mut bytes: Vec<u8> = printable.iter().cycle().skip(shift).take(printable.len() + 9).copied().collect();
            assert_eq!(first_unprintable(&bytes), None, "shift {shift}");
            bytes.push(0x7f);
            assert_eq!(first_unprintable(&bytes), Some(bytes.len() - 1), "shift {shift}");
        }
        // A bidirectional override past the first block is still escaped.
        let text = format!("{}\u{202e}txt.exe", "b".repeat(40));
        assert!(to_json(&text).unwrap().contains("\\u202e"), "{}", to_json(&text).unwrap());
    }

    #[test]
    fn a_string_written_by_hand_is_what_the_formatter_writes_wherever_its_odd_character_stands() {
        let formatter = |text: &str| {
            let mut out = Vec::new();
            write_json_line(&mut out, text).unwrap();
            out
        };
        let by_hand = |text: &str| {
            let mut out = Vec::new();
            push_json_str(&mut out, text);
            out
        };
        for len in [0, 1, 7, 8, 31, 32, 33, 63, 64, 65, 100] {
            let plain = "a".repeat(len);
            assert_eq!(by_hand(&plain), formatter(&plain));
            for at in 0..len {
                for odd in ['"', '\\', '\n', '\u{0}', '\u{1f}', '\u{7f}', '\u{85}', 'é', '\u{202e}', '\u{fffe}', '😀']
                {
                    let text = format!("{}{odd}{}", &plain[..at], &plain[at..]);
                    assert_eq!(by_hand(&text), formatter(&text), "{text:?}");
                }
            }
        }
        assert_eq!(by_hand("a\u{202e}b"), b"\"a\\u202eb\"");
    }

    #[test]
    fn an_object_written_by_hand_is_laid_out_as_serde_json_lays_out_its_value() {
        let write = |layout: JsonLayout| {
            let mut out = Vec::new();
            let mut object = JsonObject::open(&mut out, layout);
            object.str("name", "edge \u{1b}[2J \"quoted\"");
            object.null("none");
            object.number("port", 5061);
            object.raw("evidence", "{\"a\":[1,{\"b\":\"\u{202e}\"}],\"c\":{}}");
            object.strs("empty", &[]);
            object.strs("references", &["https://a.example/".to_string(), "b\u{7f}".to_string()]);
            object.value("nested", &serde_json::json!({"x": [true, {}], "y": []}));
            let mut inner = object.object("parts");
            inner.str("kind", "endpoint");
            inner.object("deeper").close();
            inner.close();
            object.object("empty_object").close();
            object.close();
            String::from_utf8(out).unwrap()
        };
        let line = write(JsonLayout::Line);
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(line, to_json_line(&value).unwrap());
        // Serde keeps raw JSON as it stands, in the pretty layout too.
        #[derive(Serialize)]
        struct Expected {
            name: serde_json::Value,
            none: serde_json::Value,
            port: serde_json::Value,
            evidence: Box<serde_json::value::RawValue>,
            empty: serde_json::Value,
            references: serde_json::Value,
            nested: serde_json::Value,
            parts: serde_json::Value,
            empty_object: serde_json::Value,
        }
        let field = |name: &str| value[name].clone();
        let value = Expected {
            name: field("name"),
            none: field("none"),
            port: field("port"),
            evidence: serde_json::value::RawValue::from_string(field("evidence").to_string()).unwrap(),
            empty: field("empty"),
            references: field("references"),
            nested: field("nested"),
            parts: field("parts"),
            empty_object: field("empty_object"),
        };
        assert!(line.contains("\\u001b") && line.contains("\\u202e") && line.contains("\\u007f"), "{line}");
        for depth in 0..4 {
            let mut expected = Vec::new();
            write_json_at_depth(&mut expected, &value, depth).unwrap();
            assert_eq!(write(JsonLayout::Pretty { depth }), String::from_utf8(expected).unwrap(), "depth {depth}");
        }
    }

    #[test]
    fn html_escaping_leaves_no_markup_and_shows_controls() {
        let escaped = escape_html("<img src=x onerror=\"alert(1)\"> & 'q' \u{1b}[31m");
        assert_eq!(escaped, "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;q&#39; \\u{1b}[31m");
    }

    #[test]
    fn markdown_escaping_leaves_no_link_mention_html_or_table_break() {
        let escaped = escape_markdown("[x](https://e.example) @team www.e.example <b>|</b> #12 *a*");
        for raw in ["[x]", "@team", "www.e", "<b>", ">|<", " #12", "*a*", "https://"] {
            assert!(!escaped.contains(raw), "{raw} in {escaped}");
        }
        assert!(escaped.starts_with("\\[x\\](https\\://"), "{escaped}");
        assert!(escaped.contains("&#64;team") && escaped.contains("&lt;b&gt;\\|"), "{escaped}");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        assert_eq!(escape_csv("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(escape_csv("-1+1"), "'-1+1");
        assert_eq!(escape_csv("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(escape_csv("sip.contoso.com"), "sip.contoso.com");
        assert_eq!(escape_csv("a\nb"), "a\\u{a}b");
    }

    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(escape_terminal("sip.contoso.com"), "sip.contoso.com");
        assert_eq!(escape_terminal("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape_terminal("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape_terminal("CN=a\nTLS 1.3, FAKE-OK"), "CN=a\\u{a}TLS 1.3, FAKE-OK");
        assert_eq!(escape_terminal("\u{9b}\u{7f}\t"), "\\u{9b}\\u{7f}\\u{9}");
    }

    #[test]
    fn neutralized_text_keeps_its_offsets() {
        let text = "id = \"a\u{202e}b\x1b\"\r\nx\ty";
        let safe = neutralize(text);
        assert_eq!(safe.len(), text.len());
        assert_eq!(safe, "id = \"a???b?\" \nx\ty");
    }

    #[test]
    fn long_values_are_shortened_on_a_character_boundary() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("ééééé", 2), "éé… (3 more characters; see --format json)");
    }

    #[test]
    fn json_escapes_what_json_leaves_raw() {
        let text =
            to_json(&serde_json::json!({ "cn": "a\u{7f}b\u{9b}c\u{202e}d\u{2066}e\u{200b}f\u{1b}", "ok": "é€" }))
                .unwrap();
        assert!(text.contains(r#""a\u007fb\u009bc\u202ed\u2066e\u200bf\u001b""#), "{text}");
        assert!(text.contains("é€"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["cn"], "a\u{7f}b\u{9b}c\u{202e}d\u{2066}e\u{200b}f\u{1b}");
    }

    #[test]
    fn json_lines_and_raw_json_get_the_same_escapes() {
        let evidence = crate::findings::Evidence::of(&serde_json::json!({ "server": "中\u{85}x\u{2069}é\u{7f}" }));
        let line = to_json_line(&serde_json::json!({ "evidence": evidence.get(), "cn": "€\u{202a}" })).unwrap();
        assert!(line.contains(r"中\u0085x\u2069é\u007f"), "{line}");
        assert!(line.contains(r#""€\u202a""#), "{line}");
        let raw = to_json_line(&serde_json::value::RawValue::from_string(evidence.get().to_string()).unwrap()).unwrap();
        assert_eq!(raw, r#"{"server":"中\u0085x\u2069é\u007f"}"#);
    }

    #[test]
    fn quotes_for_powershell() {
        assert_eq!(powershell_quote("Skype"), "Skype");
        assert_eq!(powershell_quote("Tag:PIC"), "Tag:PIC");
        assert_eq!(powershell_quote("Skype For Business Online"), "\"Skype For Business Online\"");
        assert_eq!(powershell_quote("a$b\"c"), "\"a`$b`\"c\"");
    }
}

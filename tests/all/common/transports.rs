//! What transport does to a paste, as the metamorphic tests apply it: a
//! ticket's HTML escaping, e-mail quoting, CRLF, Windows-1252, UTF-16,
//! collapsed spaces, lines a page joined, a mail client's wrapping, a log's
//! line prefix.

pub type Transport = (&'static str, fn(&str) -> Vec<u8>);

pub fn lines_mapped(text: &str, f: impl Fn(&str) -> String) -> String {
    text.split_inclusive('\n')
        .map(|l| {
            let (body, end) = l.strip_suffix('\n').map_or((l, ""), |b| (b, "\n"));
            format!("{}{end}", f(body.strip_suffix('\r').unwrap_or(body)))
        })
        .collect()
}

pub fn html(text: &str) -> Vec<u8> {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    lines_mapped(&escaped, |l| format!("{l}<br>")).into_bytes()
}
pub fn quoted(text: &str) -> Vec<u8> {
    lines_mapped(text, |l| format!("> {l}")).into_bytes()
}
pub fn crlf(text: &str) -> Vec<u8> {
    lines_mapped(text, |l| format!("{l}\r")).into_bytes()
}
pub fn cp1252(text: &str) -> Vec<u8> {
    encoding_rs::WINDOWS_1252.encode(text).0.into_owned()
}
pub fn utf16(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}
pub fn collapsed(text: &str) -> Vec<u8> {
    lines_mapped(text, |l| l.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")).into_bytes()
}
/// Lines a web page or chat ran together: a record field or header joined
/// onto the line before it, and each Format-List property line onto the
/// property line before it.
pub fn joined(text: &str) -> Vec<u8> {
    const FIELDS: [&str; 5] = ["Result-Code:", "SIP-Call-ID:", "ms-diagnostics:", "Call-ID:", "CSeq:"];
    let property = |line: &str| {
        let name_end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(line.len());
        name_end > 0
            && line.as_bytes()[0].is_ascii_alphabetic()
            && line[name_end..].starts_with([' ', '\t'])
            && line[name_end..].trim_start().starts_with(':')
    };
    let mut out = String::new();
    let mut previous_property = false;
    for line in text.split('\n') {
        let body = line.trim_end_matches('\r');
        let is_property = property(body);
        if (FIELDS.iter().any(|f| line.starts_with(f)) || (is_property && previous_property)) && !out.is_empty() {
            out.pop();
            if out.ends_with('\r') {
                out.pop();
            }
            out.push(' ');
        }
        out.push_str(line);
        out.push('\n');
        previous_property = is_property;
    }
    out.pop();
    out.into_bytes()
}
/// A mail client's wrapping: a line longer than 76 characters broken at
/// its last space before the 76th, the rest on a line of its own.
pub fn wrapped(text: &str) -> Vec<u8> {
    lines_mapped(text, |l| {
        let mut out = String::new();
        let mut rest = l;
        while rest.chars().count() > 76 {
            let cut: usize = rest.char_indices().nth(76).map_or(rest.len(), |(i, _)| i);
            let Some(space) = rest[..cut].rfind(' ').filter(|&i| i > 0) else { break };
            out.push_str(&rest[..space]);
            out.push('\n');
            rest = &rest[space + 1..];
        }
        out.push_str(rest);
        out
    })
    .into_bytes()
}
pub fn prefixed(text: &str) -> Vec<u8> {
    lines_mapped(text, |l| format!("12/01/2026|09:31:40.118 1A2C INFO  :: {l}")).into_bytes()
}

pub const TRANSPORTS: [Transport; 9] = [
    ("html", html),
    ("quoted", quoted),
    ("crlf", crlf),
    ("cp1252", cp1252),
    ("utf16", utf16),
    ("collapsed", collapsed),
    ("joined", joined),
    ("wrapped", wrapped),
    ("log-prefix", prefixed),
];

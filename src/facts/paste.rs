//! What transport does to pasted text, undone: the markup and escaping a
//! ticketing system or wiki adds (`<br>`, `<p>`, `&quot;`, `&amp;gt;`), and
//! lines a web page or mail client joined into one. Shared by the snapshot
//! reader and `fedscan diagnose`, so that both read a paste the same way.

use std::sync::LazyLock;

use regex::Regex;

// The patterns below are constants, each used by the unit tests at the end
// of this file: compiling them cannot fail at run time.

/// Line breaks as markup, at the end of a line.
static TRAILING_BREAKS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)(<br\s*/?>\s*)+$").unwrap());
/// Markup that stands for a line break inside a line.
static BREAKS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)<br\s*/?>|</?(p|div|pre)(\s[^>]*)?>").unwrap());
/// Line-break markup at the very start or end of a line.
static EDGE_BREAKS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(\s*(<br\s*/?>|</?(p|div|pre)(\s[^>]*)?>))+|((<br\s*/?>|</?(p|div|pre)(\s[^>]*)?>)\s*)+$")
        .unwrap()
});
/// Markup a ticket or wiki wraps pasted text in.
static MARKUP_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)</?(p|div|pre|code|span|tt|br|font|blockquote)(\s[^>]*)?/?>").unwrap());
static ENTITY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,6});").unwrap());

/// Whether a line may carry markup or escaping to undo.
pub fn may_be_marked_up(line: &str) -> bool {
    line.contains('<') || line.contains('&')
}

/// A pasted line as the program printed it: without the line-end debris,
/// the markup and the HTML escaping that tickets and wikis add (decoded up
/// to three times: tickets escape what they store, sometimes twice).
pub fn unmark(raw: &str) -> String {
    let untag = |text: &str| {
        let text = TRAILING_BREAKS.replace(text.trim_end_matches(['\r', ' ', '\t']), "");
        if text.contains('<') { MARKUP_TAG.replace_all(&text, "").into_owned() } else { text.into_owned() }
    };
    let mut text = untag(raw);
    // Markup escaped along with the text (a ticket that stored `<br>` as
    // `&lt;br&gt;`) is markup again once decoded.
    for _ in 0..3 {
        if !text.contains('&') {
            break;
        }
        let decoded = ENTITY.replace_all(&text, |caps: &regex::Captures| {
            decode_entity(&caps[1]).unwrap_or_else(|| caps[0].to_string())
        });
        if decoded == text {
            break;
        }
        text = untag(&decoded);
    }
    text.trim_end().to_string()
}

/// The lines a marked-up line stands for: split where `<br>` or a
/// paragraph tag stood inside it, each [`unmark`]ed. A break at its end or
/// start is the line's own end or start, not an empty line.
pub fn unmark_lines(raw: &str) -> Vec<String> {
    let inner = EDGE_BREAKS.replace_all(raw.trim_end_matches(['\r', ' ', '\t']), "");
    BREAKS.split(&inner).map(unmark).collect()
}

fn decode_entity(name: &str) -> Option<String> {
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => {
            let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => name.strip_prefix('#')?.parse().ok()?,
            };
            // A control character written as an entity is still one.
            char::from_u32(code).filter(|c| !c.is_control() || *c == '\t')?
        }
    };
    Some(c.to_string())
}

/// The lines of a text quoted in an e-mail reply, with the quoting removed
/// level by level; `None` when the text is not quoted so. A text is quoted
/// when its first line that is not blank starts with `>` and so do at least
/// two thirds of them: a line without `>` right after a quoted one is the
/// rest of that line, wrapped by the mail client, and is joined back to it.
/// A `>>` that only some lines start with is PowerShell's continuation
/// prompt, not quoting.
pub fn unquote(lines: &[String]) -> Option<Vec<String>> {
    let is_quoted = |l: &String| l.trim_start().starts_with('>');
    let quoted = |lines: &[String]| {
        let text: Vec<&String> = lines.iter().filter(|l| !l.trim().is_empty()).collect();
        let marked = text.iter().filter(|l| is_quoted(l)).count();
        text.first().is_some_and(|l| is_quoted(l)) && marked * 3 >= text.len() * 2
    };
    if !quoted(lines) {
        return None;
    }
    let mut lines = lines.to_vec();
    // Level by level, so that a quoted transcript's own `>>` prompts stay;
    // no reply chain is deeper than this, a hostile paste may be.
    for _ in 0..MAX_QUOTE_DEPTH {
        if !quoted(&lines) {
            break;
        }
        let mut next: Vec<String> = Vec::with_capacity(lines.len());
        let mut previous_quoted = false;
        for line in &lines {
            if is_quoted(line) {
                let rest = line.trim_start().strip_prefix('>').unwrap_or(line.trim_start());
                next.push(rest.strip_prefix(' ').unwrap_or(rest).to_string());
                previous_quoted = true;
            } else if previous_quoted && !line.trim().is_empty() {
                // Wrapped by the mail client: the rest of the line before.
                if let Some(last) = next.last_mut() {
                    last.push(' ');
                    last.push_str(line.trim());
                }
            } else {
                next.push(line.clone());
                previous_quoted = false;
            }
        }
        lines = next;
    }
    Some(lines)
}

/// The most levels of e-mail quoting undone.
const MAX_QUOTE_DEPTH: usize = 16;

/// A line without the e-mail quoting before it (`> `, `> > `, `>> `): for a
/// SIP trace, where no line of its own starts with `>`.
pub fn unquote_line(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if !trimmed.starts_with('>') {
        return None;
    }
    Some(trimmed.trim_start_matches(['>', ' ']))
}

/// A line split where one of `fields` (a `Name:` that starts a line of its
/// own in this kind of text; blanks may stand before its colon, as in
/// `From :`) stands after a space inside it, outside a quoted string: what a
/// web page or mail client joined. The pieces, and the fields it split
/// before.
pub fn split_joined<'a>(line: &'a str, fields: &[&str]) -> (Vec<&'a str>, Vec<String>) {
    let lower = line.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut cuts: Vec<(usize, &str)> = Vec::new();
    for field in fields {
        let wanted = field.to_ascii_lowercase();
        let (name, colon) = match wanted.strip_suffix(':') {
            Some(name) => (name, true),
            None => (wanted.as_str(), false),
        };
        let mut from = 1;
        while let Some(found) = lower.get(from..).and_then(|rest| rest.find(name)) {
            let at = from + found;
            from = at + name.len();
            // After a space, and not at the line's start: an indented line
            // is no join.
            if !bytes[at - 1].is_ascii_whitespace() || line[..at].trim_start_matches([' ', '\t', '|']).is_empty() {
                continue;
            }
            if colon {
                let after = lower[from..].trim_start_matches([' ', '\t']);
                if !after.starts_with(':') {
                    continue;
                }
            }
            // Inside a quoted value (`reason="… To: …"`) a name is text: an
            // odd number of quotes on both sides of it. (A line that starts
            // inside a quoted string a mail client broke has an odd number
            // before a name outside it, and an even number after.)
            let quotes = |part: &[u8]| part.iter().filter(|&&b| b == b'"').count();
            if quotes(&bytes[..at]) % 2 == 1 && quotes(&bytes[at..]) % 2 == 1 {
                continue;
            }
            cuts.push((at, field));
        }
    }
    cuts.sort_unstable();
    cuts.dedup_by_key(|(at, _)| *at);
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for (at, _) in &cuts {
        pieces.push(line[start..*at].trim_end());
        start = *at;
    }
    pieces.push(&line[start..]);
    (pieces, cuts.into_iter().map(|(_, field)| field.to_string()).collect())
}

/// JSON whose strings a mail client broke at a space: each line break
/// inside a string read as that space (a line break is never part of a JSON
/// string). `None` when no string was broken.
pub fn rejoin_json_strings(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped, mut changed) = (false, false, false);
    for c in text.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                '\n' => {
                    out.push(' ');
                    changed = true;
                    continue;
                }
                '\r' => {
                    changed = true;
                    continue;
                }
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
    }
    changed.then_some(out)
}

/// The quotation marks a word processor or blog puts for straight ones.
const TYPOGRAPHIC_QUOTES: [char; 6] = ['\u{201C}', '\u{201D}', '\u{201E}', '\u{201F}', '\u{2033}', '\u{00AB}'];

/// A line with typographic double quotes (`reason=”…”`) made straight, as
/// the program printed them; `None` when it has none.
pub fn straighten_quotes(line: &str) -> Option<String> {
    line.contains(TYPOGRAPHIC_QUOTES).then(|| {
        line.chars().map(|c| if TYPOGRAPHIC_QUOTES.contains(&c) || c == '\u{00BB}' { '"' } else { c }).collect()
    })
}

/// A line without the backslash a Markdown conversion puts at its end for a
/// hard line break; `None` when it has none.
pub fn without_markdown_break(line: &str) -> Option<&str> {
    let trimmed = line.trim_end();
    trimmed.strip_suffix('\\').filter(|rest| !rest.ends_with('\\') && !rest.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_escaping_are_undone() {
        assert_eq!(unmark("PS C:\\&amp;gt; Get-CsUser<br/>"), "PS C:\\> Get-CsUser");
        assert_eq!(unmark("a &#60;b&#x3E; &#0; &bogus;"), "a <b> &#0; &bogus;");
        assert_eq!(
            unmark_lines("<p>reason=&quot;x&quot;<br>Server: RTC/6.0</p><p>CSeq: 1 INVITE<br/>"),
            ["reason=\"x\"", "Server: RTC/6.0", "", "CSeq: 1 INVITE"]
        );
        assert_eq!(unmark_lines("From: &lt;sip:a@contoso.com&gt;<br>"), ["From: <sip:a@contoso.com>"]);
    }

    #[test]
    fn e_mail_quoting_is_removed_but_continuation_prompts_are_kept() {
        let lines: Vec<String> = ["> > Identity : Global", ">", "> > Enabled  : True"].map(String::from).to_vec();
        assert_eq!(unquote(&lines).unwrap(), ["Identity : Global", "", "Enabled  : True"]);
        let transcript: Vec<String> =
            ["PS C:\\> Get-CsUser |", ">> Where-Object {$_.Enabled}"].map(String::from).to_vec();
        assert_eq!(unquote(&transcript), None);
        let wrapped: Vec<String> =
            ["> Description : Sales staff who talk to", "customers on Skype", "> Enabled : True"]
                .map(String::from)
                .to_vec();
        assert_eq!(
            unquote(&wrapped).unwrap(),
            ["Description : Sales staff who talk to customers on Skype", "Enabled : True"]
        );
        assert_eq!(unquote_line("> > SIP/2.0 403 Forbidden"), Some("SIP/2.0 403 Forbidden"));
        assert_eq!(unquote_line("SIP/2.0 403 Forbidden"), None);
    }

    #[test]
    fn joined_lines_are_split_before_known_fields_only() {
        let (pieces, fields) = split_joined(
            "Text: no SRV match Result-Code: 0xc3e93d6f NAME SIP-Call-ID: abc",
            &["Result-Code:", "SIP-Call-ID:", "Call-ID:"],
        );
        assert_eq!(pieces, ["Text: no SRV match", "Result-Code: 0xc3e93d6f NAME", "SIP-Call-ID: abc"]);
        assert_eq!(fields, ["Result-Code:", "SIP-Call-ID:"]);
        let (pieces, _) = split_joined("Result-Code: 0x1", &["Result-Code:"]);
        assert_eq!(pieces, ["Result-Code: 0x1"], "a field at the start is no join");
        let (pieces, _) = split_joined("Text: x-Result-Code: y", &["Result-Code:"]);
        assert_eq!(pieces.len(), 1, "inside a word is no join");
        let (pieces, _) = split_joined(" Via: SIP/2.0/TLS 10.0.0.1", &["Via:"]);
        assert_eq!(pieces, [" Via: SIP/2.0/TLS 10.0.0.1"], "an indented line is no join");
        let (pieces, _) = split_joined("CSeq: 1 INVITE From : \"A\" <sip:a@b.c>", &["From:"]);
        assert_eq!(pieces, ["CSeq: 1 INVITE", "From : \"A\" <sip:a@b.c>"], "blanks before the colon");
        let (pieces, _) = split_joined("ms-diagnostics: 1;reason=\"sent To: x\" Server: RTC", &["To:", "Server:"]);
        assert_eq!(pieces, ["ms-diagnostics: 1;reason=\"sent To: x\"", "Server: RTC"], "not inside quotes");
        let (pieces, _) = split_joined("5\"<sip:u@contoso.com>;tag=6 To: <sip:v@contoso.com>", &["To:"]);
        assert_eq!(pieces, ["5\"<sip:u@contoso.com>;tag=6", "To: <sip:v@contoso.com>"], "after a quote closed");
    }

    #[test]
    fn json_strings_a_mail_client_wrapped_are_rejoined() {
        assert_eq!(
            rejoin_json_strings("{\"Description\": \"Sales staff\nwho talk\",\n\"Enabled\": true}").as_deref(),
            Some("{\"Description\": \"Sales staff who talk\",\n\"Enabled\": true}")
        );
        assert_eq!(rejoin_json_strings("{\"a\": \"x\\\"\",\n\"b\": 1}"), None, "an escaped quote ends no string");
    }

    #[test]
    fn typographic_quotes_and_markdown_breaks() {
        assert_eq!(straighten_quotes("reason=\u{201D}x\u{201D}").as_deref(), Some("reason=\"x\""));
        assert_eq!(straighten_quotes("reason=\"x\""), None);
        assert_eq!(without_markdown_break("Server: RTC/4.0\\"), Some("Server: RTC/4.0"));
        assert_eq!(without_markdown_break("C:\\Tracing\\\\"), None, "an escaped backslash is text");
        assert_eq!(without_markdown_break("Server: RTC/4.0"), None);
    }
}

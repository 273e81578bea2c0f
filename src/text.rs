//! Text from snapshots and the network is untrusted: escape it before it
//! reaches a terminal, and quote it before it goes into a command we suggest.

use std::borrow::Cow;

/// Makes control characters visible (`\u{1b}`) so that a value cannot move
/// the cursor, recolour the terminal or hide the text around it.
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

fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
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
    fn escapes_controls_and_bidi() {
        assert_eq!(escape_terminal("sip.contoso.com"), "sip.contoso.com");
        assert_eq!(escape_terminal("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape_terminal("x\u{202e}y"), "x\\u{202e}y");
    }

    #[test]
    fn quotes_for_powershell() {
        assert_eq!(powershell_quote("Skype"), "Skype");
        assert_eq!(powershell_quote("Tag:PIC"), "Tag:PIC");
        assert_eq!(powershell_quote("Skype For Business Online"), "\"Skype For Business Online\"");
        assert_eq!(powershell_quote("a$b\"c"), "\"a`$b`\"c\"");
    }
}

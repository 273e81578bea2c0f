//! What marks text as a SIP trace: a SIP start line, a trace record's
//! mark, an `ms-diagnostics` header, and the prefix some logs put before
//! each line. Shared by the snapshot reader (which refuses a trace given as
//! a configuration) and `fedscan diagnose` (which reads one).

use std::sync::LazyLock;

use regex::Regex;

// The patterns below are constants, each exercised by the tests of this
// file and of the trace reader: compiling them cannot fail at run time.

static START_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(SIP/2\.0 [1-6]\d\d(?: .*)?|[A-Z][A-Z_-]{1,19} (?:sips?|tel|urn):\S+ SIP/2\.0)$").unwrap()
});
/// A SIP `ms-diagnostics` header wherever it stands; not the HTTP
/// `x-ms-diagnostics` of Microsoft's web services (Exchange, Microsoft 365
/// sign-in, UCWA), whose codes mean other things.
pub static LONE_DIAGNOSTIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^a-z0-9-])(ms-diagnostics(?:-public)?)[ \t]*:[ \t]*(\d{1,6}\b.*)$").unwrap()
});
/// What some logs put before each line of a message: a client log's
/// `INFO  :: `, a time stamp and a tab.
static LINE_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    // A client (UCCAPI) log's `12/01/2026|09:31:40.118 1A2C INFO  :: `,
    // a level's `INFO :: `, a time's `09:31:40.118 `. A constant pattern,
    // used by the tests: compiling it cannot fail.
    Regex::new(
            r"^(?:\d{1,2}/\d{1,2}/\d{4}\|\d{1,2}:\d{2}:\d{2}\.\d+\s+[0-9A-Fa-f]+\s+[A-Z]+\s+:: ?|[A-Z]+ +:: ?|\d{2}:\d{2}:\d{2}\.\d+\s+)",
        )
        .unwrap()
});

/// Whether `haystack` contains `needle` (ASCII, lower case), whatever the case.
pub fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    haystack.as_bytes().windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// A SIP start line: cheap tests first, the pattern only on candidates.
pub fn is_start_line(text: &str) -> bool {
    text.contains("SIP/2.0") && START_LINE.is_match(text)
}

/// A line without what some logs put before it.
pub fn strip_prefix(line: &str) -> std::borrow::Cow<'_, str> {
    if line.contains("::") || line.starts_with(|c: char| c.is_ascii_digit()) {
        LINE_PREFIX.replace(line, "")
    } else {
        std::borrow::Cow::Borrowed(line)
    }
}

/// Whether a line is one only a SIP trace has: a SIP start line, a trace
/// record mark, or an `ms-diagnostics` header.
pub fn is_trace_line(line: &str) -> bool {
    let trimmed = line.trim();
    let content = strip_prefix(trimmed.trim_start_matches('|'));
    let content = content.trim();
    trimmed.contains("$$begin_record")
        || is_start_line(content.strip_prefix("Start-Line:").map(str::trim).unwrap_or(content))
        || (contains_ignoring_case(content, "ms-diagnostics") && LONE_DIAGNOSTIC.is_match(content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_lines_and_others() {
        assert!(is_trace_line("SIP/2.0 504 Server time-out"));
        assert!(is_trace_line("Start-Line: INVITE sip:bob@fabrikam.com SIP/2.0"));
        assert!(is_trace_line("TL_INFO(TF_PROTOCOL) [0]0B84 $$begin_record"));
        assert!(is_trace_line("12/01/2026|09:31:40.118 1A2C INFO  :: ms-diagnostics: 1008;reason=\"x\""));
        assert!(!is_trace_line("x-ms-diagnostics: 28020;reason=\"No valid security token.\""));
        assert!(!is_trace_line("Identity : Global"));
        assert_eq!(strip_prefix("INFO :: SIP/2.0 200 OK"), "SIP/2.0 200 OK");
    }
}

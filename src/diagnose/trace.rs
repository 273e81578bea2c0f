//! Reading SIP traces as support engineers receive them, line by line (a
//! log is read once, never held whole):
//! - Lync / Skype for Business Server traces (Snooper, CLS, OCSLogger text):
//!   `$$begin_record` … `$$end_record` records with `Peer:`, `Direction:`,
//!   `Start-Line:` and the headers, and diagnostic records whose
//!   `Result-Code:` is an HRESULT with its name;
//! - Cisco Expressway / VCS logs: `SIPMSG:` then the message between `|`
//!   marks;
//! - a SIP message or a lone `ms-diagnostics` header pasted from anywhere
//!   (a client log, a ticket, an e-mail).

use std::sync::LazyLock;

use regex::Regex;

pub(super) use crate::facts::sip_text::strip_prefix;
use crate::facts::sip_text::{LONE_DIAGNOSTIC, contains_ignoring_case, is_start_line, is_trace_line};

/// A SIP message as a trace shows it (a request without its headers: only
/// responses are diagnosed).
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// Line of the start line.
    pub line: usize,
    pub start_line: String,
    pub headers: Vec<(String, String)>,
    /// The record's `Peer:` and `Direction:`, for traces that give them.
    pub peer: Option<String>,
    pub direction: Option<String>,
}

impl Message {
    /// The first value of a header, by its full or compact name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let compact = match name.to_ascii_lowercase().as_str() {
            "call-id" => Some("i"),
            "from" => Some("f"),
            "to" => Some("t"),
            _ => None,
        };
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name) || compact.is_some_and(|c| n.eq_ignore_ascii_case(c)))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// `(status, reason)` of a response.
    pub fn status(&self) -> Option<(u16, &str)> {
        let rest = self.start_line.strip_prefix("SIP/2.0 ")?;
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        Some((code.parse().ok()?, reason.trim()))
    }
}

/// A diagnostic record of a Lync/SfB trace: an HRESULT the server logged
/// about a message.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub line: usize,
    pub result_code: String,
    pub text: Option<String>,
    pub call_id: Option<String>,
    pub start_line: Option<String>,
    pub peer: Option<String>,
}

/// What the reader found, in order.
#[derive(Debug, Clone)]
pub enum Item {
    Message(Message),
    Event(Event),
    /// An `ms-diagnostics` header outside any message: (line, header name, value).
    LoneHeader(usize, String, String),
    /// An error record (`TL_ERROR`, `Severity: error`) whose result code
    /// could not be read: something failed there, what is unknown.
    Unread(usize),
}

/// The shapes a trace can have, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    LyncServerTrace,
    Expressway,
    SipMessages,
    HeadersOnly,
    /// What a `Test-Cs*` cmdlet prints: `Error : 504, Server time-out` and
    /// `Diagnosis : ErrorCode=1008,Source=…,Reason=…`.
    TestCmdlet,
    /// Error codes (HRESULTs) named in other text: an event log entry, a
    /// line of a server's log.
    ErrorCodes,
}

impl Shape {
    pub fn describe(self) -> &'static str {
        match self {
            Shape::LyncServerTrace => "Lync / Skype for Business Server trace (Snooper, CLS, OCSLogger)",
            Shape::Expressway => "Cisco Expressway / VCS log",
            Shape::SipMessages => "SIP messages",
            Shape::HeadersOnly => "ms-diagnostics headers",
            Shape::TestCmdlet => "Test-Cs* cmdlet output",
            Shape::ErrorCodes => "error codes in text",
        }
    }
}

// The patterns below are constants, each exercised by this file's tests:
// compiling them cannot fail at run time.

/// The SIP headers a pasted message commonly shows, each of which starts a
/// line of its own: a page or mail client that joined a message's lines
/// leaves them after a space inside another, and a paste that indented the
/// message puts blanks before them.
pub const SIP_HEADERS: [&str; 27] = [
    "Via:",
    "From:",
    "To:",
    "Call-ID:",
    "CSeq:",
    "Contact:",
    "Route:",
    "Record-Route:",
    "Max-Forwards:",
    "Authentication-Info:",
    "Proxy-Authorization:",
    "WWW-Authenticate:",
    "Proxy-Authenticate:",
    "P-Asserted-Identity:",
    "User-Agent:",
    "Server:",
    "Supported:",
    "Require:",
    "Allow:",
    "Event:",
    "Subscription-State:",
    "Content-Type:",
    "Content-Length:",
    "ms-diagnostics:",
    "ms-diagnostics-public:",
    "ms-telemetry-id:",
    "ms-user-logon-data:",
];

/// Whether `name` is one of [`SIP_HEADERS`].
fn is_sip_header(name: &str) -> bool {
    SIP_HEADERS.iter().any(|h| h.len() == name.len() + 1 && h[..name.len()].eq_ignore_ascii_case(name))
}

/// Whether a line belongs to a SIP message: its start line (framed by an
/// Expressway `|` or not) or one of its usual headers.
pub fn is_message_line(line: &str) -> bool {
    let text = line.trim_start().trim_start_matches('|');
    text.starts_with("SIP/2.0 ")
        || text.split_once(' ').is_some_and(|(method, rest)| {
            method.bytes().all(|b| b.is_ascii_uppercase()) && (rest.starts_with("sip:") || rest.starts_with("sips:"))
        })
        || header(text).is_some_and(|(name, _)| is_sip_header(name))
}

/// The trace line a Lync/SfB server logs before a record's fields:
/// `TL_ERROR(TF_COMPONENT) [0]0860.0CDC::01/18/2012-05:07:42.622…`.
static TRACE_RECORD_LINE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^TL_[A-Z]+\(TF_[A-Z_]+\)\s+\[").unwrap());
/// A property a `Test-Cs*` cmdlet prints for its result.
static CMDLET_PROPERTY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^(TargetFqdn|TargetUri|Result|Latency|Error|Diagnosis)\s*:\s*(.*)$").unwrap());
/// A `Test-Cs*` cmdlet's `Error` value: `504, Server time-out`.
static CMDLET_ERROR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^([1-6]\d\d)\s*,\s*(.*)$").unwrap());
/// A `Test-Cs*` cmdlet's `Diagnosis` value, its lines joined.
static CMDLET_DIAGNOSIS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^ErrorCode\s*=\s*(\d{1,6})\s*,\s*Source\s*=\s*([^,]*?)\s*,\s*Reason\s*=\s*(.*)$").unwrap()
});
/// What a `Test-Cs*` cmdlet's error record says of a SIP failure.
static CMDLET_FAILURE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bA ([1-6]\d\d) \(([^)]{1,80})\) response was received").unwrap());
/// An HRESULT named as an error beside its code, or an error name alone
/// (`0xC3E93C2F(SIPPROXY_E_UNKNOWN_USER_OR_EPID)`, `SEC_E_UNTRUSTED_ROOT`):
/// found wherever it stands in a line.
static NAMED_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"0x[0-9A-Fa-f]{8}\s*[(:=-]?\s*[A-Z][A-Z0-9]*_E_[A-Z0-9_]+|\b(?:SIPPROXY|SEC|CERT|CRYPT)_E_[A-Z0-9_]{3,}\b",
    )
    .unwrap()
});
/// An error's name alone.
pub static ERROR_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:SIPPROXY|SEC|CERT|CRYPT)_E_[A-Z0-9_]{3,}\b").unwrap());

/// A `Test-Cs*` cmdlet's diagnosis as the `ms-diagnostics` value it
/// stands for.
fn cmdlet_diagnostic(caps: &regex::Captures) -> String {
    let quoted = |text: &str| text.trim().replace('"', "'");
    format!("{};reason=\"{}\";source=\"{}\"", &caps[1], quoted(&caps[3]), quoted(&caps[2]))
}

/// A `Test-Cs*` cmdlet's result being read: the failure it reports and the
/// diagnosis, whose value may go on over the next lines.
#[derive(Debug, Default)]
struct CmdletResult {
    line: usize,
    status: Option<(u16, String)>,
    diagnosis: Option<String>,
    succeeded: bool,
    /// Whether the `Diagnosis` value may go on on the next line.
    open: bool,
    /// Whether the diagnosis was quoted without the cmdlet's other
    /// properties: a diagnostic without its response.
    alone: bool,
}

impl CmdletResult {
    /// The result as the SIP response the cmdlet received.
    fn into_message(self) -> Option<Message> {
        let (status, phrase) = match (self.status, self.succeeded) {
            (Some(status), _) => status,
            (None, true) => (200, "OK".to_string()),
            (None, false) => return None,
        };
        let mut headers = Vec::new();
        if let Some(caps) = self.diagnosis.as_deref().and_then(|d| CMDLET_DIAGNOSIS.captures(d)) {
            headers.push(("ms-diagnostics".to_string(), cmdlet_diagnostic(&caps)));
        }
        Some(Message {
            line: self.line,
            start_line: format!("SIP/2.0 {status} {phrase}"),
            headers,
            peer: None,
            direction: None,
        })
    }
}

/// Whether a header value leaves a quoted string open: the line it stood on
/// was wrapped inside it.
fn unbalanced(value: &str) -> bool {
    value.bytes().filter(|&b| b == b'"').count() % 2 == 1
}

/// `Name: value`, a header or a trace record's field.
fn header(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let name = name.trim_end_matches([' ', '\t']);
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    valid.then(|| (name, value.trim()))
}

/// The longest line kept; longer lines are cut (a trace line is short, a
/// longer one is a body or garbage).
pub const MAX_LINE: usize = 16 * 1024;
/// The most headers kept per message.
const MAX_HEADERS: usize = 200;

/// The reader: feed it lines, take items.
#[derive(Default)]
pub struct Reader {
    message: Option<Message>,
    in_record: bool,
    record_peer: Option<String>,
    record_direction: Option<String>,
    event: Option<Event>,
    /// Whether the record open is an error record, and where it began.
    record_error: Option<usize>,
    /// The record's field read last (lower case), which a wrapped line
    /// goes on.
    record_field: Option<String>,
    /// A lone `ms-diagnostics` header whose quoted value a mail client
    /// wrapped onto the next line: (line, name, value so far).
    open_lone: Option<(usize, String, String)>,
    /// Whether the message was opened by an Expressway `|` mark.
    piped: bool,
    /// A `Test-Cs*` cmdlet's result being read.
    cmdlet: Option<CmdletResult>,
    /// Whether an HTTP `x-ms-diagnostics` header was seen: the text may be
    /// a web service's trace instead of a SIP one.
    pub saw_http_diagnostics: bool,
    /// Whether a `Test-CsFederatedPartner` run with `-ProxyFqdn` failed:
    /// its failure may be the test's own route, not the partner.
    pub proxy_fqdn_test_failed: bool,
    pub shapes: Vec<Shape>,
}

impl Reader {
    fn saw(&mut self, shape: Shape) {
        if !self.shapes.contains(&shape) {
            self.shapes.push(shape);
        }
    }

    fn finish_message(&mut self, out: &mut Vec<Item>) {
        if let Some(message) = self.message.take() {
            out.push(Item::Message(message));
        }
        self.piped = false;
    }

    fn finish_cmdlet(&mut self, out: &mut Vec<Item>) {
        match self.cmdlet.take() {
            Some(result) if result.alone => {
                if let Some(caps) = result.diagnosis.as_deref().and_then(|d| CMDLET_DIAGNOSIS.captures(d)) {
                    out.push(Item::LoneHeader(result.line, "ms-diagnostics".to_string(), cmdlet_diagnostic(&caps)));
                }
            }
            Some(result) => {
                if let Some(message) = result.into_message() {
                    out.push(Item::Message(message));
                }
            }
            None => {}
        }
    }

    /// Reads a line of a `Test-Cs*` cmdlet's output; whether it was one.
    fn cmdlet_line(&mut self, number: usize, content: &str, out: &mut Vec<Item>) -> bool {
        if let Some(caps) = CMDLET_FAILURE.captures(content) {
            self.proxy_fqdn_test_failed |= contains_ignoring_case(content, "test-csfederatedpartner")
                && contains_ignoring_case(content, "-proxyfqdn");
            self.finish_cmdlet(out);
            self.saw(Shape::TestCmdlet);
            let status = caps[1].parse().unwrap_or(500);
            self.cmdlet = Some(CmdletResult {
                line: number,
                status: Some((status, caps[2].trim().to_string())),
                ..CmdletResult::default()
            });
            self.finish_cmdlet(out);
            return true;
        }
        if let Some(caps) = CMDLET_PROPERTY.captures(content) {
            let value = caps[2].trim();
            let property = caps[1].to_ascii_lowercase();
            if self.cmdlet.is_none() && !matches!(property.as_str(), "targetfqdn" | "targeturi") {
                // Without the target the cmdlet prints first, only a
                // diagnosis in the cmdlet's form is its output.
                if !(property == "diagnosis" && value.to_ascii_lowercase().starts_with("errorcode")) {
                    return false;
                }
            }
            if matches!(property.as_str(), "targetfqdn" | "targeturi") {
                self.finish_cmdlet(out);
            }
            let result = self.cmdlet.get_or_insert_with(|| CmdletResult { line: number, ..CmdletResult::default() });
            result.open = false;
            match property.as_str() {
                "result" => result.succeeded = value.eq_ignore_ascii_case("success"),
                "error" => {
                    if let Some(caps) = CMDLET_ERROR.captures(value) {
                        result.status = caps[1].parse().ok().map(|code| (code, caps[2].trim().to_string()));
                        result.line = number;
                    }
                }
                "diagnosis" if !value.is_empty() => {
                    result.diagnosis = Some(value.to_string());
                    result.open = true;
                    self.saw(Shape::TestCmdlet);
                }
                _ => {}
            }
            return true;
        }
        // A diagnosis quoted on its own, as documentation and tickets do;
        // it may go on on the next lines.
        if self.cmdlet.is_none() && CMDLET_DIAGNOSIS.is_match(content) {
            self.saw(Shape::TestCmdlet);
            self.cmdlet = Some(CmdletResult {
                line: number,
                diagnosis: Some(content.to_string()),
                open: true,
                alone: true,
                ..CmdletResult::default()
            });
            return true;
        }
        let Some(result) = self.cmdlet.as_mut() else { return false };
        if content.is_empty() {
            // A page that rendered the output puts a blank line after each
            // of its lines: the diagnosis may still go on.
            return true;
        }
        if result.open {
            let diagnosis = result.diagnosis.get_or_insert_with(String::new);
            if content.starts_with("Microsoft.Rtc.") {
                // The header class the cmdlet names after the diagnosis.
                result.open = false;
                return true;
            }
            // The diagnosis goes on, wrapped by the console, until its
            // reason ends a sentence; a long line is text after it.
            let other = is_trace_line(content) || header(content).is_some() || NAMED_ERROR.is_match(content);
            if !other && !diagnosis.trim_end().ends_with('.') && content.len() <= 100 && diagnosis.len() < MAX_LINE {
                diagnosis.push(' ');
                diagnosis.push_str(content);
                return true;
            }
            result.open = false;
        }
        false
    }

    fn finish_record(&mut self, out: &mut Vec<Item>) {
        self.finish_cmdlet(out);
        self.finish_message(out);
        let event = self.event.take();
        match (event, self.record_error.take()) {
            (Some(event), _) if !event.result_code.is_empty() => out.push(Item::Event(event)),
            (_, Some(line)) => out.push(Item::Unread(line)),
            _ => {}
        }
        self.in_record = false;
        self.record_field = None;
        self.record_peer = None;
        self.record_direction = None;
    }

    /// Reads one line (without its line break); items it completes go to `out`.
    pub fn line(&mut self, number: usize, raw: &str, out: &mut Vec<Item>) {
        let line = raw.trim_end_matches(['\r', '\n']);
        // The rest of a lone header's quoted value, wrapped by a mail client.
        if let Some((start, name, mut value)) = self.open_lone.take() {
            let rest = strip_prefix(line.trim());
            value.push(' ');
            value.push_str(rest.trim());
            if unbalanced(&value) && !rest.trim().is_empty() && value.len() < MAX_LINE {
                self.open_lone = Some((start, name, value));
            } else {
                out.push(Item::LoneHeader(start, name, value));
            }
            return;
        }
        // A record opens with its trace line; a copy may have lost the
        // `$$begin_record` at its end (a component's trace line that a
        // record's fields follow).
        if line.contains("$$begin_record") || TRACE_RECORD_LINE.is_match(line.trim_start()) {
            self.finish_record(out);
            self.in_record = true;
            self.record_error = line.trim_start().starts_with("TL_ERROR").then_some(number);
            self.saw(Shape::LyncServerTrace);
            // The trace line itself may name the result.
            if let Some(named) = NAMED_ERROR.find(line) {
                self.event = Some(Event { line: number, result_code: named.as_str().to_string(), ..Event::default() });
            }
            return;
        }
        let trimmed = line.trim();
        // `$$end_record`, also cut short by a copy (`$$end_rec`).
        if trimmed.starts_with("$$end") || line.contains("$$end_record") {
            self.finish_record(out);
            return;
        }
        // Expressway: `|` opens and closes a message.
        if let Some(rest) = trimmed.strip_prefix('|') {
            if rest.trim().is_empty() {
                self.finish_message(out);
                return;
            }
            if is_start_line(rest.trim_end()) {
                self.finish_message(out);
                self.saw(Shape::Expressway);
                self.piped = true;
                self.message = Some(self.new_message(number, rest.trim_end()));
                return;
            }
        }
        let content = strip_prefix(trimmed);
        let content = content.trim();
        if self.message.is_none() && !self.in_record && self.cmdlet_line(number, content, out) {
            return;
        }
        let start = content.strip_prefix("Start-Line:").map(str::trim).unwrap_or(content);
        if is_start_line(start) {
            self.finish_cmdlet(out);
            self.finish_message(out);
            if !self.in_record {
                self.saw(Shape::SipMessages);
            }
            self.message = Some(self.new_message(number, start));
            return;
        }
        if let Some(message) = &mut self.message {
            if content.is_empty() || content.starts_with("Message-Body:") {
                // The headers end; a Lync record's body runs to $$end_record.
                self.finish_message(out);
                return;
            }
            // A folded header goes on on a line that starts with a blank;
            // a usual header there is a line of a message the paste indented.
            if (line.starts_with(' ') || line.starts_with('\t'))
                && !self.piped
                && !header(content).is_some_and(|(name, _)| is_sip_header(name))
                && let Some((_, value)) = message.headers.last_mut()
            {
                value.push(' ');
                value.push_str(content);
                return;
            }
            // Inside a quoted string a mail client broke, `x: y` is text of
            // the value, unless it is a usual header.
            let usual_header = header(content).is_some_and(|(name, _)| is_sip_header(name));
            if let Some((_, value)) =
                message.headers.last_mut().filter(|(_, v)| unbalanced(v) && !usual_header && v.len() < MAX_LINE)
            {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(content);
                return;
            }
            if let Some((name, value)) = header(content) {
                // Requests are counted, not diagnosed: their headers are not kept.
                if message.start_line.starts_with("SIP/2.0 ") && message.headers.len() < MAX_HEADERS {
                    message.headers.push((name.to_string(), value.to_string()));
                }
                return;
            }
            // A header whose quoted value a mail client wrapped at a space
            // goes on on the next line, at its start; so does any header of
            // a message that only its frame ends (Expressway's closing `|`, a
            // Lync record's `Message-Body:`).
            let framed = self.piped || self.in_record;
            // (No further than a line's bound: a frame that never closes
            // must not grow one value without end.)
            if let Some((_, value)) =
                message.headers.last_mut().filter(|(_, v)| (framed || unbalanced(v)) && v.len() < MAX_LINE)
            {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(content);
                return;
            }
            // A line of a header's value that a mail client wrapped at a
            // space: parameters, addresses, quoted text or one token, never
            // a sentence.
            let wrapped_value = content.contains(['=', ';', '<', '"']) || !content.contains(' ');
            if wrapped_value
                && !is_trace_line(content)
                && let Some((_, value)) = message.headers.last_mut().filter(|(_, v)| v.len() < MAX_LINE)
            {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(content);
                return;
            }
            // A line that is no header ends the message.
            self.finish_message(out);
        }
        if self.in_record
            && let Some((name, value)) = header(content)
        {
            let value = value.to_string();
            let event = self.event.get_or_insert_with(|| Event { line: number, ..Event::default() });
            if name.eq_ignore_ascii_case("severity") && value.trim().eq_ignore_ascii_case("error") {
                self.record_error = self.record_error.or(Some(number));
            }
            self.record_field = Some(name.to_ascii_lowercase());
            match name.to_ascii_lowercase().as_str() {
                "peer" => self.record_peer = Some(value.clone()),
                "direction" => self.record_direction = Some(value.clone()),
                "result-code" => event.result_code = value.clone(),
                "text" => event.text = Some(value.clone()),
                "sip-call-id" => event.call_id = Some(value.clone()),
                "sip-start-line" => event.start_line = Some(value.clone()),
                _ => {}
            }
            if name.eq_ignore_ascii_case("peer") {
                event.peer = Some(value);
            }
            return;
        }
        // A record's field a mail client wrapped: the rest of its value.
        if self.in_record
            && !content.is_empty()
            && let (Some(event), Some(field)) = (self.event.as_mut(), self.record_field.as_deref())
        {
            let value = match field {
                "text" => event.text.get_or_insert_with(String::new),
                "result-code" => &mut event.result_code,
                "sip-call-id" => event.call_id.get_or_insert_with(String::new),
                "sip-start-line" => event.start_line.get_or_insert_with(String::new),
                _ => return,
            };
            // A record that never ends must not grow one field without end.
            if value.len() >= MAX_LINE {
                return;
            }
            if !value.is_empty() {
                value.push(' ');
            }
            value.push_str(content);
            return;
        }
        if contains_ignoring_case(content, "x-ms-diagnostics") {
            self.saw_http_diagnostics = true;
        }
        if contains_ignoring_case(content, "ms-diagnostics")
            && let Some(caps) = LONE_DIAGNOSTIC.captures(content)
        {
            self.saw(Shape::HeadersOnly);
            let value = caps[2].trim().to_string();
            if unbalanced(&value) {
                self.open_lone = Some((number, caps[1].to_string(), value));
            } else {
                out.push(Item::LoneHeader(number, caps[1].to_string(), value));
            }
            return;
        }
        // An error named in any other line: an event log entry, a server
        // log's line.
        if !self.in_record
            && self.message.is_none()
            && let Some(named) = NAMED_ERROR.find(content)
        {
            self.saw(Shape::ErrorCodes);
            out.push(Item::Event(Event { line: number, result_code: named.as_str().to_string(), ..Event::default() }));
        }
    }

    /// Whether a message's headers are being read: a line joined into
    /// one of them may hold further headers.
    pub fn in_message(&self) -> bool {
        self.message.is_some()
    }

    fn new_message(&self, number: usize, start_line: &str) -> Message {
        Message {
            line: number,
            start_line: start_line.to_string(),
            headers: Vec::new(),
            peer: self.record_peer.clone(),
            direction: self.record_direction.clone(),
        }
    }

    /// Ends the input: what is still open is complete.
    pub fn end(&mut self, out: &mut Vec<Item>) {
        if let Some((line, name, value)) = self.open_lone.take() {
            out.push(Item::LoneHeader(line, name, value));
        }
        self.finish_record(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<Item>, Vec<Shape>) {
        let mut reader = Reader::default();
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            reader.line(i + 1, line, &mut out);
        }
        reader.end(&mut out);
        (out, reader.shapes)
    }

    #[test]
    fn lync_records_and_events() {
        let text = "TL_INFO(TF_PROTOCOL) [1]0A4C.0E5C::11/20/2026-09:31:40.456.0001A2B3 (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125))[1234] $$begin_record\nTrace-Correlation-Id: 1234\nDirection: incoming;source=\"external edge\";destination=\"internal edge\"\nPeer: sip.fabrikam.com:5061\nMessage-Type: response\nStart-Line: SIP/2.0 504 Server time-out\nFrom: <sip:alice@contoso.com>;tag=1\nTo: <sip:bob@fabrikam.com>;tag=2\nCall-ID: abc123\nCSeq: 1 INVITE\nms-diagnostics: 1008;reason=\"Unable to resolve DNS SRV record.\";source=\"sip.contoso.com\"\nMessage-Body: –\n$$end_record\nTL_ERROR(TF_DIAG) [1]0A4C.0E5C::11/20/2026-09:31:40.457 $$begin_record\nSeverity: error\nText: Message was not sent because the domain has no matching SRV record\nResult-Code: 0xc3e93d6f SIPPROXY_E_EPROUTING_MSG_ALLOWED_DOMAIN_NO_SRV_MATCH\nSIP-Start-Line: INVITE sip:bob@fabrikam.com SIP/2.0\nSIP-Call-ID: abc123\nPeer: sip.fabrikam.com:5061\n$$end_record\n";
        let (items, shapes) = read(text);
        assert_eq!(shapes, [Shape::LyncServerTrace]);
        let Item::Message(message) = &items[0] else { panic!("{items:?}") };
        assert_eq!(message.status(), Some((504, "Server time-out")));
        assert_eq!(message.peer.as_deref(), Some("sip.fabrikam.com:5061"));
        assert_eq!(message.header("call-id"), Some("abc123"));
        let Item::Event(event) = &items[1] else { panic!("{items:?}") };
        assert!(event.result_code.starts_with("0xc3e93d6f"));
        assert_eq!(event.call_id.as_deref(), Some("abc123"));
    }

    #[test]
    fn expressway_messages_between_pipes() {
        let text = "2026-11-20T09:31:40.123+00:00 expe tvcs: UTCTime=\"2026-11-20 09:31:40,123\" Module=\"network.sip\" Level=\"DEBUG\": Action=\"Received\" Local-ip=\"192.0.2.10\" Local-port=\"5061\" Src-ip=\"198.51.100.7\" Src-port=\"49152\"\n SIPMSG:\n |SIP/2.0 403 Forbidden\nVia: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bK1\nCall-ID: e1f2@192.0.2.10\nCSeq: 7 MESSAGE\nms-diagnostics: 1027;reason=\"Cannot route this type of SIP request to or from federated partners\";source=\"sip.fabrikam.com\"\nContent-Length: 0\n\n|\n";
        let (items, shapes) = read(text);
        assert_eq!(shapes, [Shape::Expressway]);
        let Item::Message(message) = &items[0] else { panic!("{items:?}") };
        assert_eq!(message.status(), Some((403, "Forbidden")));
        assert_eq!(message.headers_named("ms-diagnostics").count(), 1);
    }

    #[test]
    fn cmdlet_output_as_printed_and_as_a_page_renders_it() {
        let (items, shapes) = read(
            "TargetFqdn : atl-cs-001.litwareinc.com\n\nResult : Failure\n\nError : 404, Not Found\n\nDiagnosis : ErrorCode=4005,Source=atl-cs-001.litwareinc.com,\n\nReason=Destination URI either not enabled for SIP or does not\n\nexist.\n\nMicrosoft.Rtc.Signaling.DiagnosticHeader\n",
        );
        assert_eq!(shapes, [Shape::TestCmdlet]);
        let [Item::Message(message)] = &items[..] else { panic!("{items:?}") };
        assert_eq!(message.status(), Some((404, "Not Found")));
        assert_eq!(
            message.header("ms-diagnostics"),
            Some(
                "4005;reason=\"Destination URI either not enabled for SIP or does not exist.\";source=\"atl-cs-001.litwareinc.com\""
            )
        );
        // A diagnosis quoted alone goes on on a wrapped line, never into
        // the text or the message after it.
        let (items, _) = read(
            "ErrorCode=1008,Source=ap.litwareinc.com,Reason=Unable to resolve DNS\nSRV record\nSIP/2.0 504 Server time-out\nCall-ID: c1\n\n",
        );
        let [Item::LoneHeader(1, _, value), Item::Message(message)] = &items[..] else { panic!("{items:?}") };
        assert_eq!(value, "1008;reason=\"Unable to resolve DNS SRV record\";source=\"ap.litwareinc.com\"");
        assert_eq!(message.status(), Some((504, "Server time-out")));
        let (items, _) = read("Result : Success\nTargetFqdn : a.b\n");
        assert!(items.is_empty(), "a property without its target is no result: {items:?}");
    }

    #[test]
    fn errors_named_anywhere_and_records_that_lost_their_mark() {
        let (items, shapes) =
            read("Event ID: 32263\nError code: 0xC3E93C2F(SIPPROXY_E_UNKNOWN_USER_OR_EPID), Error identifier: x\n");
        assert_eq!(shapes, [Shape::ErrorCodes]);
        assert!(matches!(&items[..], [Item::Event(e)] if e.result_code.starts_with("0xC3E93C2F")), "{items:?}");
        let (items, _) = read(
            "TL_ERROR(TF_COMPONENT) [0]0860.0CDC::01/18/2012-05:07:42.622 (SIPStack) Exit. Result 0xC3E93C5E(SIPPROXY_E_ROUTING)\nSeverity: warning\nResult-Code: 0xc3e93c5e SIPPROXY_E_ROUTING\nSIP-Call-ID: c9\n$$end_record\n",
        );
        assert!(matches!(&items[..], [Item::Event(e)] if e.call_id.as_deref() == Some("c9")), "{items:?}");
        // The HTTP header of Microsoft's web services is no SIP diagnostic.
        let mut reader = Reader::default();
        let mut out = Vec::new();
        reader.line(
            1,
            "X-Ms-diagnostics: 28020;source=\"s.contoso.com\";reason=\"No valid security token.\"",
            &mut out,
        );
        assert!(out.is_empty() && reader.saw_http_diagnostics, "{out:?}");
    }

    #[test]
    fn lone_headers_and_prose() {
        let (items, shapes) = read(
            "The user sees this in the client log:\n    ms-diagnostics: 1034;reason=\"Previous hop federated peer did not report diagnostic information\";Domain=\"fabrikam.com\";PeerServer=\"sip.fabrikam.com\";source=\"sip.contoso.com\"\nThanks\n",
        );
        assert_eq!(shapes, [Shape::HeadersOnly]);
        assert!(matches!(&items[..], [Item::LoneHeader(2, name, _)] if name == "ms-diagnostics"));
    }
}

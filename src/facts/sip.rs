//! SIP facts (gathered by `probe::sip`'s OPTIONS over a TLS connection to a
//! federation endpoint): what came back to the request:
//! the status line and headers (with any `ms-diagnostics`), or what happened
//! instead (the server wanted a client certificate, closed the connection,
//! stayed silent, or sent something that is not a SIP response). Reads are
//! bounded in size and time.

use serde::{Deserialize, Serialize};

use super::tls::Endpoint;

/// The most a response may take: SIP headers are small; a peer that sends
/// more is hostile or broken.
pub const MAX_RESPONSE: usize = 64 * 1024;

pub use super::ms_diagnostics::{MsDiagnostic, ms_diagnostic};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SipResponse {
    pub status: u16,
    pub reason: String,
    /// Every header, in order, names in their full form.
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<MsDiagnostic>,
}

impl SipResponse {
    /// All values of a header (case-insensitive), in order.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    /// The status line, as messages show it.
    pub fn status_line(&self) -> String {
        format!("SIP/2.0 {} {}", self.status, self.reason)
    }

    /// What in this response names another request than ours (Call-ID
    /// `call_id`, CSeq `1 OPTIONS`), if anything: a client drops such a
    /// response (RFC 3261 §17.1.3). A response that names no Call-ID or CSeq
    /// is taken as the answer to the one request on the connection.
    pub(crate) fn names_another_request(&self, call_id: &str) -> Option<String> {
        if let Some(other) = self.values("Call-ID").into_iter().find(|v| *v != call_id) {
            return Some(format!("Call-ID {other}"));
        }
        let ours = |cseq: &str| {
            let mut parts = cseq.split_whitespace();
            (parts.next(), parts.next(), parts.next()) == (Some("1"), Some("OPTIONS"), None)
        };
        self.values("CSeq").into_iter().find(|v| !ours(v)).map(|other| format!("CSeq {other}"))
    }

    /// The length of the body that follows the head (`Content-Length`; none
    /// means no body), or why it cannot be read.
    pub(crate) fn body_length(&self) -> Result<usize, String> {
        match self.values("Content-Length").first() {
            None => Ok(0),
            Some(value) => value
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= MAX_RESPONSE)
                .ok_or_else(|| format!("Content-Length {:?} is not a length of at most {MAX_RESPONSE}", value)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SipOutcome {
    Response {
        response: SipResponse,
    },
    /// The server refused the connection for want of a client certificate
    /// (a TLS alert at the handshake or at the first read).
    ClientCertificateRequired {
        alert: String,
    },
    /// The connection closed before a response.
    Closed {
        bytes: usize,
    },
    /// The server ended the connection with a TLS alert, without having
    /// asked for a client certificate.
    Alert {
        alert: String,
        bytes: usize,
    },
    /// No complete response within the timeout.
    Timeout {
        bytes: usize,
    },
    /// Only provisional responses (`100 Trying`) before the timeout or the
    /// end of the connection: the request arrived, its answer never came.
    NoFinalResponse {
        provisional: String,
        bytes: usize,
    },
    /// Only responses to another request (another Call-ID or CSeq than our
    /// OPTIONS) before the timeout or the end of the connection: a client
    /// drops them, as a partner's Edge would.
    NotOurs {
        response: String,
        named: String,
        bytes: usize,
    },
    /// Bytes that are not a SIP response.
    Malformed {
        detail: String,
    },
    /// The TLS connection could not be made (see the TLS facts).
    NoConnection {
        reason: String,
    },
    /// The probe itself failed (it crashed or was cancelled): nothing was
    /// observed of the service.
    Unobserved {
        reason: String,
    },
}

impl SipOutcome {
    pub fn describe(&self) -> String {
        match self {
            SipOutcome::Response { response } => response.status_line(),
            SipOutcome::ClientCertificateRequired { alert } => format!("a client certificate is required ({alert})"),
            SipOutcome::Closed { bytes: 0 } => "the connection closed without a response".into(),
            SipOutcome::Closed { bytes } => {
                format!("the connection closed after {bytes} bytes, before a complete response")
            }
            SipOutcome::Alert { alert, .. } => format!(
                "the Edge ended the connection with a TLS alert ({alert}) although it never asked for a client certificate"
            ),
            SipOutcome::Timeout { bytes: 0 } => "no response within the timeout".into(),
            SipOutcome::Timeout { bytes } => format!("no complete response within the timeout ({bytes} bytes)"),
            SipOutcome::NoFinalResponse { provisional, .. } => {
                format!("only a provisional response ({provisional}), no final one within the timeout")
            }
            SipOutcome::NotOurs { response, named, .. } => format!(
                "only a response to another request ({response}, {named}): not an answer to this OPTIONS, which got none"
            ),
            SipOutcome::Malformed { detail } => format!("not a SIP response: {detail}"),
            SipOutcome::NoConnection { reason } => format!("no TLS connection: {reason}"),
            SipOutcome::Unobserved { reason } => format!("not observed: {reason}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SipFact {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// The SIP domain in the request URI.
    pub domain: String,
    /// The domain in the From header, when not `domain`: the organization's
    /// own, when probing a partner, as its Edge would send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// Whether a client certificate (from --client-cert) was offered.
    pub client_certificate: bool,
    #[serde(flatten)]
    pub outcome: SipOutcome,
}

impl SipFact {
    /// One line: the status line, the server, and each `ms-diagnostics` code
    /// with its reason and what it means; `note` turns the rules that check
    /// a code's cause into words added to its meaning.
    pub fn describe_with(&self, note: impl Fn(&[String]) -> String) -> String {
        let mut message = self.outcome.describe();
        if let SipOutcome::Response { response } = &self.outcome {
            if let Some(server) = response.values("Server").first() {
                message.push_str(&format!(" from {server}"));
            }
            for diagnostic in &response.diagnostics {
                message.push_str(&format!("; {}: {}", diagnostic.header, diagnostic.code));
                if let Some(reason) = &diagnostic.reason {
                    message.push_str(&format!(" \"{reason}\""));
                }
                let explanation = super::ms_diagnostics::explain(diagnostic);
                if let Some(meaning) = explanation.sentence() {
                    message.push_str(&format!(" ({meaning}{})", note(explanation.rules())));
                }
            }
        }
        message
    }

    pub fn describe(&self) -> String {
        self.describe_with(|_| String::new())
    }
}

/// The compact forms of RFC 3261 §7.3.3 and RFC 3265/3515 used in responses.
fn full_name(name: &str) -> String {
    let full = match name.to_ascii_lowercase().as_str() {
        "v" => "Via",
        "f" => "From",
        "t" => "To",
        "i" => "Call-ID",
        "m" => "Contact",
        "l" => "Content-Length",
        "c" => "Content-Type",
        "e" => "Content-Encoding",
        "k" => "Supported",
        "s" => "Subject",
        "o" => "Event",
        "u" => "Allow-Events",
        "r" => "Refer-To",
        _ => return name.to_string(),
    };
    full.to_string()
}

/// Parses a response's status line and headers (the part before the blank
/// line). Folded lines continue the previous header; compact names are
/// expanded; repeated headers are all kept.
pub fn parse_response(head: &[u8]) -> Result<SipResponse, String> {
    let text = std::str::from_utf8(head).map_err(|_| "the response is not UTF-8 text".to_string())?;
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    let status_line = lines.next().unwrap_or("");
    let mut fields = status_line.splitn(3, ' ');
    let (version, code, reason) =
        (fields.next().unwrap_or(""), fields.next().unwrap_or(""), fields.next().unwrap_or(""));
    if version != "SIP/2.0" {
        let shown: String = status_line.chars().take(40).collect();
        return Err(format!("the status line is {shown:?}, not SIP/2.0"));
    }
    // Exactly three digits, the first 1 to 6 (RFC 3261 §7.2): a longer
    // number that parses to 200 is no status code.
    let status: u16 = Some(code)
        .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()) && (b'1'..=b'6').contains(&c.as_bytes()[0]))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("status {:?} is not a SIP status code", code.chars().take(40).collect::<String>()))?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            match headers.last_mut() {
                Some((_, value)) => {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                None => return Err("a continuation line before any header".into()),
            }
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("header line without a colon: {:?}", line.chars().take(40).collect::<String>()))?;
        headers.push((full_name(name.trim()), value.trim().to_string()));
    }
    let diagnostics = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("ms-diagnostics") || n.eq_ignore_ascii_case("ms-diagnostics-public"))
        .filter_map(|(n, v)| ms_diagnostic(n, v))
        .collect();
    Ok(SipResponse { status, reason: reason.trim().to_string(), headers, diagnostics })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_compact_and_repeated_headers() {
        let head = b"SIP/2.0 504 Server time-out\r\nv: SIP/2.0/TLS 10.0.0.1:5061\r\nk: ms-diagnostics\r\nAllow: INVITE, OPTIONS\r\nAllow: MESSAGE\r\nms-diagnostics: 1009;reason=\"Unable to route:\r\n  no DNS SRV match\";source=\"sip.fabrikam.com\"\r\nServer: RTC/6.0\r\n\r\n";
        let response = parse_response(head).unwrap();
        assert_eq!((response.status, response.reason.as_str()), (504, "Server time-out"));
        assert_eq!(response.values("Via"), ["SIP/2.0/TLS 10.0.0.1:5061"]);
        assert_eq!(response.values("supported"), ["ms-diagnostics"]);
        assert_eq!(response.values("Allow"), ["INVITE, OPTIONS", "MESSAGE"]);
        let diagnostic = &response.diagnostics[0];
        assert_eq!(diagnostic.code, 1009);
        assert_eq!(diagnostic.reason.as_deref(), Some("Unable to route: no DNS SRV match"));
        assert_eq!(diagnostic.parameters["source"], "sip.fabrikam.com");
    }

    #[test]
    fn refuses_what_is_not_sip() {
        assert!(parse_response(b"HTTP/1.1 400 Bad Request\r\n\r\n").is_err());
        assert!(parse_response(b"SIP/2.0 999 Nope\r\n\r\n").is_err());
        assert!(parse_response(b"SIP/2.0 000000000000000000000000000000200 OK\r\n\r\n").is_err());
        assert!(parse_response(b"SIP/2.0 0200 OK\r\n\r\n").is_err());
        assert!(parse_response(b"SIP/2.0 +20 OK\r\n\r\n").is_err());
        assert!(parse_response(b"SIP/2.0 200 OK\r\n\r\n").is_ok());
        assert!(parse_response(b"SIP/2.0 200 OK\r\nno colon here\r\n\r\n").is_err());
        assert!(parse_response(&[0xff, 0xfe, 0x00]).is_err());
    }
}

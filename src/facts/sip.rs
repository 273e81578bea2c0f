//! SIP facts and the OPTIONS probe: over a TLS connection to a federation
//! endpoint, a minimal, well-formed OPTIONS request, and what came back:
//! the status line and headers (with any `ms-diagnostics`), or what happened
//! instead (the server wanted a client certificate, closed the connection,
//! stayed silent, or sent something that is not a SIP response). Reads are
//! bounded in size and time.

use std::sync::Arc;

use rustls::pki_types::ServerName;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::tls::{Budget, ConnectFailure, Endpoint, certificate_alert, client_config_with_identity, connect};

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
    fn names_another_request(&self, call_id: &str) -> Option<String> {
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
    fn body_length(&self) -> Result<usize, String> {
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

fn random_token() -> String {
    let mut bytes = [0u8; 8];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The OPTIONS request, minimal and well formed (RFC 3261 §11), and its
/// Call-ID.
pub fn options_request(domain: &str, sender: &str, local: &str) -> (String, String) {
    let token = random_token();
    let request = format!(
        "OPTIONS sip:{domain} SIP/2.0\r\n\
         Via: SIP/2.0/TLS {local};branch=z9hG4bK{token};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:fedscan@{sender}>;tag={token}\r\n\
         To: <sip:{domain}>\r\n\
         Call-ID: {token}@fedscan\r\n\
         CSeq: 1 OPTIONS\r\n\
         User-Agent: fedscan/{version}\r\n\
         Accept: application/sdp\r\n\
         Content-Length: 0\r\n\r\n",
        version = env!("CARGO_PKG_VERSION"),
    );
    (request, format!("{token}@fedscan"))
}

/// Where the head of a response ends (after the blank line), if it has.
fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| bytes.windows(2).position(|w| w == b"\n\n").map(|p| p + 2))
}

/// Sends OPTIONS to `endpoint` for `domain`, with the user's client
/// certificate if one is given, and reads the response.
pub async fn probe(
    endpoint: &Endpoint,
    domain: &str,
    sender: Option<&str>,
    identity: Option<Arc<rustls::sign::CertifiedKey>>,
    budget: Budget,
) -> SipFact {
    let offered = identity.is_some();
    let fact = |outcome| SipFact {
        endpoint: endpoint.clone(),
        domain: domain.to_string(),
        sender: sender.map(str::to_string),
        client_certificate: offered,
        outcome,
    };
    let (config, recorded) = client_config_with_identity(identity);
    let connector = tokio_rustls::TlsConnector::from(config);
    let started = tokio::time::Instant::now();
    let stream = match connect(endpoint, budget).await {
        Ok(stream) => stream,
        Err(ConnectFailure::TimedOut) if budget.cut_short(started) => {
            return fact(SipOutcome::Unobserved { reason: budget.cut_short_reason("the connection") });
        }
        Err(failure @ ConnectFailure::Local(_)) => return fact(SipOutcome::Unobserved { reason: failure.to_string() }),
        Err(failure) => return fact(SipOutcome::NoConnection { reason: failure.to_string() }),
    };
    let Ok(name) = ServerName::try_from(endpoint.host.clone()) else {
        return fact(SipOutcome::NoConnection { reason: format!("bad server name {}", endpoint.host) });
    };
    let started = tokio::time::Instant::now();
    super::tls::count(|work| &work.handshakes);
    let mut tls = match tokio::time::timeout_at(budget.step_ends(), connector.connect(name, stream)).await {
        Err(_) if budget.cut_short(started) => {
            return fact(SipOutcome::Unobserved { reason: budget.cut_short_reason("the TLS handshake") });
        }
        Err(_) => return fact(SipOutcome::NoConnection { reason: "TLS handshake timed out".into() }),
        Ok(Err(e)) => {
            let asked_for_certificate = super::tls::Recorded::of(&recorded).client_certificate_requested();
            return fact(match certificate_alert(&e) {
                Some(alert) if asked_for_certificate && !offered => SipOutcome::ClientCertificateRequired { alert },
                _ => SipOutcome::NoConnection { reason: e.to_string() },
            });
        }
        Ok(Ok(tls)) => tls,
    };
    let local = tls.get_ref().0.local_addr().map_or_else(|_| "0.0.0.0:0".to_string(), |a| a.to_string());
    let asked = || super::tls::Recorded::of(&recorded).client_certificate_requested();
    let outcome = exchange(&mut tls, &local, domain, sender, &asked, offered, budget).await;
    fact(outcome)
}

/// The OPTIONS exchange over an established TLS connection: the request,
/// then the response's head, within the budget. `asked` tells whether the
/// server asked for a client certificate during the handshake (an alert then
/// means it wants one); `offered`, whether one was sent.
pub async fn exchange<S>(
    tls: &mut S,
    local: &str,
    domain: &str,
    sender: Option<&str>,
    asked: &(dyn Fn() -> bool + Sync),
    offered: bool,
    budget: Budget,
) -> SipOutcome
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    // Outside the exchange, so that what arrived before a timeout or an
    // error is still counted.
    let mut received: Vec<u8> = Vec::new();
    // Responses that did not end the exchange: the last provisional one to
    // our request, the last one to another request.
    let mut provisional: Option<String> = None;
    let mut not_ours: Option<(String, String)> = None;
    let (request, call_id) = options_request(domain, sender.unwrap_or(domain), local);
    let exchange = async {
        tls.write_all(request.as_bytes()).await?;
        tls.flush().await?;
        let mut chunk = [0u8; 8192];
        // Where the message being read starts.
        let mut start = 0;
        loop {
            if let Some(end) = received.get(start..).and_then(head_end) {
                let response = match parse_response(&received[start..start + end]) {
                    Ok(response) => response,
                    Err(detail) => return Ok(Err(SipOutcome::Malformed { detail })),
                };
                let body = match response.body_length() {
                    Ok(body) => body,
                    Err(detail) => return Ok(Err(SipOutcome::Malformed { detail })),
                };
                match response.names_another_request(&call_id) {
                    None if response.status >= 200 => return Ok::<_, std::io::Error>(Ok(response)),
                    None => provisional = Some(response.status_line()),
                    Some(named) => not_ours = Some((response.status_line(), named)),
                }
                // The next message starts after this one's body.
                start += end + body;
                continue;
            }
            if received.len() >= MAX_RESPONSE {
                return Ok(Err(SipOutcome::Malformed {
                    detail: format!("more than {} KiB without the end of the headers", MAX_RESPONSE / 1024),
                }));
            }
            let n = tls.read(&mut chunk).await?;
            if n == 0 {
                return Ok(Err(SipOutcome::Closed { bytes: received.len() }));
            }
            received.extend_from_slice(&chunk[..n]);
        }
    };
    let started = tokio::time::Instant::now();
    let ended = tokio::time::timeout_at(budget.step_ends(), exchange).await;
    let outcome = match ended {
        Err(_) if budget.cut_short(started) => {
            return SipOutcome::Unobserved { reason: budget.cut_short_reason("the OPTIONS exchange") };
        }
        Err(_) => SipOutcome::Timeout { bytes: received.len() },
        Ok(Err(e)) => {
            // Only an alert that follows a request for a client certificate
            // means the Edge wants one (TLS 1.3 sends it after the handshake).
            let asked_for_certificate = asked();
            match certificate_alert(&e) {
                Some(alert) if asked_for_certificate && !offered && received.is_empty() => {
                    SipOutcome::ClientCertificateRequired { alert }
                }
                Some(alert) => SipOutcome::Alert { alert, bytes: received.len() },
                None => SipOutcome::Closed { bytes: received.len() },
            }
        }
        Ok(Ok(Err(outcome))) => outcome,
        Ok(Ok(Ok(response))) => return SipOutcome::Response { response },
    };
    // No final answer to our request: what came instead says more than the
    // silence or the closing that ended the wait.
    let bytes = received.len();
    match (outcome, provisional, not_ours) {
        (SipOutcome::Timeout { .. } | SipOutcome::Closed { .. }, Some(provisional), _) => {
            SipOutcome::NoFinalResponse { provisional, bytes }
        }
        (SipOutcome::Timeout { .. } | SipOutcome::Closed { .. }, None, Some((response, named))) => {
            SipOutcome::NotOurs { response, named, bytes }
        }
        (outcome, ..) => outcome,
    }
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

    #[test]
    fn request_is_well_formed() {
        let (request, call_id) = options_request("fabrikam.com", "contoso.com", "127.0.0.1:40000");
        assert!(request.contains(&format!("Call-ID: {call_id}\r\n")));
        assert!(request.starts_with("OPTIONS sip:fabrikam.com SIP/2.0\r\n"));
        for header in [
            "Via: SIP/2.0/TLS 127.0.0.1:40000;branch=z9hG4bK",
            "From: <sip:fedscan@contoso.com>;tag=",
            "To: <sip:fabrikam.com>\r\n",
            "Max-Forwards: 70",
            "CSeq: 1 OPTIONS",
            "Content-Length: 0\r\n\r\n",
        ] {
            assert!(request.contains(header), "{header}");
        }
    }
}

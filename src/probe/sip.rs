//! The SIP probe: OPTIONS on a TLS connection to the Edge (the TLS probe's
//! own connection, or one of its own), the response read within the
//! budget; what came back becomes a [`SipFact`]. Probes never judge.

use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::tls::{Budget, ConnectFailure, certificate_alert, client_config_with_identity, connect};
use crate::facts::tls::Endpoint;

use crate::facts::sip::{MAX_RESPONSE, SipFact, SipOutcome, parse_response};

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

//! `fedscan diagnose`: a pasted SIP trace turned into a diagnosis. The log
//! is read once, line by line ([`trace`]); the failed transactions are
//! gathered by Call-ID; each failure is explained from the shared
//! ms-diagnostics table: what it means, which side produced it, the rules
//! that check its cause, and the fix on each side. Reading never judges a
//! configuration; the report says what the trace shows.

pub mod trace;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::facts::encoding::Encoding;
use crate::facts::ms_diagnostics::{self, Explanation, MsDiagnostic, ProducedBy, ms_diagnostic};
use crate::facts::names::{canonical, is_within};
use trace::{Item, Message, Reader, Shape};

pub const DIAGNOSIS_SCHEMA: &str = "fedscan.diagnosis/1";

/// The most failed transactions a diagnosis keeps; a log with more is
/// summarized by count.
pub const MAX_TRANSACTIONS: usize = 2_000;
/// The most failures kept per transaction (the same failure relayed over
/// several hops is counted, not repeated).
const MAX_FAILURES_PER_TRANSACTION: usize = 20;
/// The most Call-IDs of transactions not kept that are remembered, to count
/// each once; past it, every failure not kept counts.
const MAX_DROPPED_KEYS: usize = 1_000_000;
/// The most a log may hold; beyond, the rest is not read and the report
/// says so.
pub const MAX_LOG_BYTES: u64 = 1024 * 1024 * 1024;

/// A diagnosis of one log.
#[derive(Debug, Serialize)]
pub struct Diagnosis {
    pub schema: &'static str,
    pub input: String,
    /// The shapes of trace recognized.
    pub shapes: Vec<Shape>,
    pub lines: usize,
    pub messages: usize,
    /// Final responses (2xx to 6xx) seen: the evidence that requests got
    /// an answer, without which "no failure" cannot be said.
    pub final_responses: usize,
    /// Lines of error records whose result could not be read: something
    /// failed there, what is unknown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread_errors: Vec<usize>,
    pub transactions: Vec<Transaction>,
    /// Failed transactions beyond [`MAX_TRANSACTIONS`], counted only.
    pub transactions_not_kept: usize,
    pub notes: Vec<String>,
}

/// The failures seen for one Call-ID.
#[derive(Debug, Serialize)]
pub struct Transaction {
    pub call_id: Option<String>,
    pub method: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub first_line: usize,
    pub failures: Vec<Failure>,
    /// Its place among the transactions as they appeared, for those that
    /// share a line (a paste that ran the trace into one).
    #[serde(skip)]
    appeared: usize,
}

/// One failure: a response with its diagnostics, or a trace's error record.
#[derive(Debug, Serialize)]
pub struct Failure {
    pub line: usize,
    /// How many times the trace shows this same failure.
    pub seen: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_phrase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_meaning: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    pub diagnostics: Vec<Explained>,
    pub errors: Vec<HresultSeen>,
}

/// A diagnostic with what it means.
#[derive(Debug, Serialize)]
pub struct Explained {
    #[serde(flatten)]
    pub diagnostic: MsDiagnostic,
    /// Who produced it: the server named by `source`, and which side that is.
    pub produced_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meaning: Option<String>,
    pub rules: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_side_fix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producing_side_fix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// An HRESULT a trace printed, with its name as printed and its meaning.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HresultSeen {
    /// The code as printed; `None` for a text that names the error only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meaning: Option<String>,
    pub rules: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// What a text that is no trace looks like, to say so when it is refused.
#[derive(Default)]
struct Looks {
    nonblank: usize,
    /// Format-List `Name : Value` lines.
    listing: usize,
    /// Lines with HTML page markup.
    markup: usize,
    /// The first line that is not blank, cut short.
    first: Option<String>,
}

impl Looks {
    fn line(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.nonblank += 1;
        if self.first.is_none() {
            self.first = Some(text.chars().take(60).collect());
        }
        if crate::facts::snapshot::is_list_property(text) {
            self.listing += 1;
        }
        let lower = text.get(..text.len().min(200)).unwrap_or(text).to_ascii_lowercase();
        if ["<html", "<body", "<div", "<table", "<td", "<!doctype"].iter().any(|tag| lower.contains(tag)) {
            self.markup += 1;
        }
    }

    fn describe(&self) -> String {
        let first = self.first.as_deref().unwrap_or_default();
        if self.listing >= 3 && self.listing * 2 >= self.nonblank {
            format!(
                "it looks like a configuration listing, {} `Name : Value` lines: give it to `fedscan scan --config FILE`",
                self.listing
            )
        } else if first.starts_with(['{', '[']) {
            "it looks like JSON: a configuration export goes to `fedscan scan --config FILE`".to_string()
        } else if self.markup >= 2 {
            "it looks like an HTML page".to_string()
        } else {
            format!("{} lines of other text, beginning {first:?}", self.nonblank)
        }
    }
}

/// Why a log cannot be diagnosed.
#[derive(Debug)]
pub struct DiagnoseError(pub String);

/// Reads and diagnoses a log. `ours` are the organization's SIP domains
/// (`--domain`), to tell its side from the partner's.
pub fn diagnose(mut input: impl BufRead, display: &str, ours: &[String]) -> Result<Diagnosis, DiagnoseError> {
    let ours: Vec<String> = ours.iter().map(|d| canonical(d)).collect();
    let head = input.fill_buf().map_err(|e| DiagnoseError(format!("cannot read: {e}")))?.to_vec();
    let encoding = sniff(&head)?;
    let mut reader = Reader::default();
    let mut gathered = Gathered::default();
    let mut items = Vec::new();
    let mut lines = 0usize;
    let mut cut_lines = 0usize;
    let mut repairs = Repairs::default();
    let mut on_line = |number: usize, text: &str, gathered: &mut Gathered, items: &mut Vec<Item>| {
        let text = if text.len() > trace::MAX_LINE {
            cut_lines += 1;
            let mut cut = trace::MAX_LINE;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            &text[..cut]
        } else {
            text
        };
        for piece in repairs.pieces(number, text, reader.in_message()) {
            reader.line(number, &piece, items);
        }
        for item in items.drain(..) {
            gathered.add(item, &ours);
        }
    };
    let mut looks = Looks::default();
    let read_all = read_lines(&mut input, encoding, |number, text| {
        lines = number;
        looks.line(text);
        on_line(number, text, &mut gathered, &mut items);
    })?;
    let mut notes = Vec::new();
    let mut shapes = reader.shapes.clone();
    reader.end(&mut items);
    for item in items.drain(..) {
        gathered.add(item, &ours);
    }
    shapes.sort();
    if !read_all {
        notes.push(format!(
            "only the first {} MiB of the log were read; cut the part around the failure and diagnose that",
            MAX_LOG_BYTES / (1024 * 1024)
        ));
    }
    if cut_lines > 0 {
        notes.push(format!("{cut_lines} lines longer than {} characters were cut", trace::MAX_LINE));
    }
    notes.extend(repairs.notes());
    if reader.proxy_fqdn_test_failed {
        notes.push(
            "Test-CsFederatedPartner ran with -ProxyFqdn, which sends its OPTIONS with an ms-edge-route Route header that an Edge older than the Front Ends (Office Communications Server 2007 R2) refuses (0xC3E93C5E SIPPROXY_E_ROUTING in the Edge's log): run it again without -ProxyFqdn before taking the failure for the partner's".to_string(),
        );
    }
    if shapes.is_empty() && reader.saw_http_diagnostics {
        return Err(DiagnoseError(
            "no SIP message and no SIP ms-diagnostics header found, only x-ms-diagnostics: an HTTP header of Microsoft's web services (Exchange, Microsoft 365 sign-in, UCWA), whose codes are not SIP's; this is no SIP trace".into(),
        ));
    }
    if shapes.is_empty() {
        return Err(DiagnoseError(format!(
            "no SIP message and no ms-diagnostics header found ({}): expected a Lync/Skype for Business Server trace (Snooper, CLS or OCSLogger text), a Cisco Expressway log, SIP messages, an ms-diagnostics header or Test-Cs* output",
            looks.describe()
        )));
    }
    let transactions_not_kept = gathered.not_kept;
    Ok(Diagnosis {
        schema: DIAGNOSIS_SCHEMA,
        input: display.to_string(),
        shapes,
        lines,
        messages: gathered.messages,
        final_responses: gathered.final_responses,
        unread_errors: gathered.unread_errors,
        transactions: {
            // In the order the trace shows them.
            let mut transactions: Vec<Transaction> = gathered.transactions.into_values().collect();
            transactions.sort_by_key(|t| (t.first_line, t.appeared));
            transactions
        },
        transactions_not_kept,
        notes,
    })
}

/// Refuses what is not text, and tells the encoding (the detector the
/// snapshot reader uses too).
fn sniff(head: &[u8]) -> Result<Encoding, DiagnoseError> {
    if head.is_empty() {
        return Err(DiagnoseError("the log is empty".into()));
    }
    crate::facts::encoding::sniff(head)
        .map(|sniffed| sniffed.encoding)
        .map_err(|why| DiagnoseError(format!("{why}: expected a text log")))
}

/// Calls `line` for each line of the input, decoded; at most
/// [`MAX_LOG_BYTES`] are read. Returns whether the whole input was read.
fn read_lines(
    input: &mut impl BufRead,
    encoding: Encoding,
    mut line: impl FnMut(usize, &str),
) -> Result<bool, DiagnoseError> {
    let read_error = |e: std::io::Error| DiagnoseError(format!("cannot read: {e}"));
    let mut number = 0usize;
    let mut total: u64 = 0;
    match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom | Encoding::Windows1252 => {
            let mut bytes = Vec::new();
            loop {
                bytes.clear();
                // A line is read whole up to the cap; the rest of a longer
                // one is skipped, not kept.
                let read = read_line_bounded(input, &mut bytes).map_err(read_error)?;
                if read == 0 {
                    return Ok(true);
                }
                total += read as u64;
                number += 1;
                let text = match std::str::from_utf8(&bytes) {
                    Ok(text) => std::borrow::Cow::Borrowed(text),
                    Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(&bytes).0,
                };
                line(number, text.strip_prefix('\u{feff}').unwrap_or(&text));
                if total > MAX_LOG_BYTES {
                    return Ok(false);
                }
            }
        }
        Encoding::Utf16le | Encoding::Utf16be => {
            let codec = if encoding == Encoding::Utf16le { encoding_rs::UTF_16LE } else { encoding_rs::UTF_16BE };
            let mut decoder = codec.new_decoder();
            let mut pending = String::new();
            loop {
                let chunk = input.fill_buf().map_err(read_error)?.to_vec();
                let last = chunk.is_empty();
                input.consume(chunk.len());
                total += chunk.len() as u64;
                let mut decoded = String::with_capacity(chunk.len() + 8);
                decoded.reserve(decoder.max_utf8_buffer_length(chunk.len()).unwrap_or(chunk.len() * 3));
                let _ = decoder.decode_to_string(&chunk, &mut decoded, last);
                pending.push_str(&decoded);
                while let Some(end) = pending.find('\n') {
                    number += 1;
                    let text: String = pending.drain(..=end).collect();
                    line(number, text.trim_start_matches('\u{feff}'));
                }
                if pending.len() > trace::MAX_LINE * 4 {
                    // A line without end: keep its start only.
                    number += 1;
                    line(number, &pending);
                    pending.clear();
                }
                if last {
                    if !pending.is_empty() {
                        number += 1;
                        line(number, &pending);
                    }
                    return Ok(true);
                }
                if total > MAX_LOG_BYTES {
                    return Ok(false);
                }
            }
        }
    }
}

/// Reads up to a line break, keeping at most [`trace::MAX_LINE`] bytes of
/// the line and skipping the rest; returns the bytes consumed.
fn read_line_bounded(input: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut consumed = 0;
    loop {
        let buffer = input.fill_buf()?;
        if buffer.is_empty() {
            return Ok(consumed);
        }
        let (part, done) = match buffer.iter().position(|&b| b == b'\n') {
            Some(i) => (&buffer[..=i], true),
            None => (buffer, false),
        };
        let room = (trace::MAX_LINE + 1).saturating_sub(line.len());
        line.extend_from_slice(&part[..part.len().min(room)]);
        let used = part.len();
        input.consume(used);
        consumed += used;
        if done {
            return Ok(consumed);
        }
    }
}

/// The failed transactions gathered so far.
#[derive(Default)]
struct Gathered {
    messages: usize,
    final_responses: usize,
    unread_errors: Vec<usize>,
    transactions: BTreeMap<String, Transaction>,
    not_kept: usize,
    /// Hashes of the Call-IDs not kept, so that each is counted once (at
    /// most [`MAX_DROPPED_KEYS`] are remembered: 8 bytes each).
    dropped: std::collections::HashSet<u64>,
    /// Transactions keyed in order of appearance, for lone headers.
    lone: usize,
    /// How many transactions were opened so far.
    appeared: usize,
}

static HRESULT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"0x([0-9A-Fa-f]{8})\b(?:\s*[(:=-]?\s*([A-Z][A-Z0-9_]{3,}))?").unwrap());

/// The HRESULTs a text names, with the names printed beside them.
fn hresults_in(text: &str, note: Option<&str>) -> Vec<HresultSeen> {
    let mut seen: Vec<HresultSeen> = HRESULT
        .captures_iter(text)
        .map(|caps| {
            let code = u32::from_str_radix(&caps[1], 16).unwrap_or_default();
            let known = ms_diagnostics::hresult(code);
            HresultSeen {
                code: Some(format!("0x{code:08x}")),
                name: caps.get(2).map(|m| m.as_str().to_string()).or_else(|| known.map(|k| k.name.clone())),
                meaning: known.map(|k| k.meaning.clone()),
                rules: known.map(|k| k.rules.clone()).unwrap_or_default(),
                text: note.map(str::to_string),
            }
        })
        .collect();
    if seen.is_empty() {
        // A text that names the error without its code.
        seen = trace::ERROR_NAME
            .find_iter(text)
            .map(|name| {
                let known = ms_diagnostics::hresult_named(name.as_str());
                HresultSeen {
                    code: known.and_then(|k| k.code).map(|code| format!("0x{code:08x}")),
                    name: Some(name.as_str().to_string()),
                    meaning: known.map(|k| k.meaning.clone()),
                    rules: known.map(|k| k.rules.clone()).unwrap_or_default(),
                    text: note.map(str::to_string),
                }
            })
            .collect();
    }
    seen
}

/// The domain of a From or To header: `"Ann" <sip:ann@contoso.com>;tag=1`.
fn domain_of(header: &str) -> Option<String> {
    let uri = header.split(['<', '>']).find(|p| p.contains("sip:") || p.contains("sips:")).unwrap_or(header);
    let after = uri.split_once("sip:").or_else(|| uri.split_once("sips:"))?.1;
    let host = after.rsplit_once('@').map_or(after, |(_, h)| h);
    let host = host.split([';', '>', ':', '?', ' ']).next()?.trim();
    (!host.is_empty()).then(|| canonical(host))
}

impl Gathered {
    fn add(&mut self, item: Item, ours: &[String]) {
        match item {
            Item::Message(message) => {
                self.messages += 1;
                self.add_message(message, ours);
            }
            Item::Event(event) => {
                let errors = hresults_in(&event.result_code, event.text.as_deref());
                if errors.is_empty() {
                    return;
                }
                let key = event.call_id.clone().unwrap_or_else(|| format!("(record at line {})", event.line));
                let failure = Failure {
                    line: event.line,
                    seen: 1,
                    status: None,
                    reason_phrase: None,
                    status_meaning: None,
                    peer: event.peer.clone(),
                    diagnostics: Vec::new(),
                    errors,
                };
                let method = event.start_line.as_deref().and_then(|s| s.split(' ').next()).map(str::to_string);
                self.record(key, event.call_id, method, None, None, event.line, failure);
            }
            Item::Unread(line) => self.unread_errors.push(line),
            Item::LoneHeader(line, name, value) => {
                let Some(diagnostic) = ms_diagnostic(&name, &value) else { return };
                self.lone += 1;
                let explained = explain(diagnostic, None, None, ours);
                let failure = Failure {
                    line,
                    seen: 1,
                    status: None,
                    reason_phrase: None,
                    status_meaning: None,
                    peer: None,
                    errors: explained_errors(&explained),
                    diagnostics: vec![explained],
                };
                self.record(format!("(header at line {line})"), None, None, None, None, line, failure);
            }
        }
    }

    fn add_message(&mut self, message: Message, ours: &[String]) {
        let Some((status, reason)) = message.status() else { return };
        if status >= 200 {
            self.final_responses += 1;
        }
        if status < 300 {
            return;
        }
        let call_id = message.header("Call-ID").map(str::to_string);
        let method = message.header("CSeq").and_then(|c| c.split_whitespace().nth(1)).map(str::to_string);
        let from = message.header("From").and_then(domain_of);
        let to = message.header("To").and_then(domain_of);
        let diagnostics: Vec<Explained> = message
            .headers
            .iter()
            .filter(|(n, _)| {
                n.eq_ignore_ascii_case("ms-diagnostics") || n.eq_ignore_ascii_case("ms-diagnostics-public")
            })
            .filter_map(|(n, v)| ms_diagnostic(n, v))
            .map(|d| explain(d, from.as_deref(), to.as_deref(), ours))
            .collect();
        let errors: Vec<HresultSeen> = diagnostics.iter().flat_map(explained_errors).collect();
        let failure = Failure {
            line: message.line,
            seen: 1,
            status: Some(status),
            reason_phrase: Some(reason.to_string()),
            status_meaning: ms_diagnostics::status(status).map(|s| s.meaning.clone()),
            peer: message.peer.clone(),
            diagnostics,
            errors,
        };
        let key = call_id.clone().unwrap_or_else(|| format!("(response at line {})", message.line));
        self.record(key, call_id, method, from, to, message.line, failure);
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        key: String,
        call_id: Option<String>,
        method: Option<String>,
        from: Option<String>,
        to: Option<String>,
        line: usize,
        failure: Failure,
    ) {
        if !self.transactions.contains_key(&key) && self.transactions.len() >= MAX_TRANSACTIONS {
            use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
            let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(&key);
            if self.dropped.len() >= MAX_DROPPED_KEYS || self.dropped.insert(hash) {
                self.not_kept += 1;
            }
            return;
        }
        let transaction = self.transactions.entry(key).or_insert_with(|| Transaction {
            call_id,
            method: None,
            from: None,
            to: None,
            first_line: line,
            failures: Vec::new(),
            appeared: self.appeared,
        });
        self.appeared += 1;
        transaction.method = transaction.method.take().or(method);
        transaction.from = transaction.from.take().or(from);
        transaction.to = transaction.to.take().or(to);
        let same = transaction.failures.iter().position(|f| {
            f.status == failure.status
                && f.diagnostics.iter().map(|d| &d.diagnostic).eq(failure.diagnostics.iter().map(|d| &d.diagnostic))
                && f.errors == failure.errors
        });
        match same {
            Some(index) => transaction.failures[index].seen += 1,
            None if transaction.failures.len() < MAX_FAILURES_PER_TRANSACTION => transaction.failures.push(failure),
            None => {}
        }
    }
}

fn explained_errors(explained: &Explained) -> Vec<HresultSeen> {
    explained
        .diagnostic
        .parameters
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("HRESULT") || k.to_ascii_lowercase().ends_with("hresult"))
        .flat_map(|(_, v)| hresults_in(v, None))
        .collect()
}

/// Which side a server is on, as far as the evidence shows: ours
/// (`--domain`), the sender's or the receiver's (the request's From and
/// To), a server of neither of the domains those name; without them, what
/// the code's own definition says of who produces it; else unknown.
fn side_of(host: &str, from: Option<&str>, to: Option<&str>, ours: &[String], code: Option<ProducedBy>) -> String {
    let host = canonical(host.split(':').next().unwrap_or(host));
    let within = |domain: &str| is_within(&host, domain);
    if let Some(domain) = ours.iter().find(|d| within(d)) {
        return format!("your side ({domain})");
    }
    if !ours.is_empty() {
        return "the other side".to_string();
    }
    match (from.filter(|d| within(d)), to.filter(|d| within(d))) {
        (Some(domain), _) => format!("the sender's side ({domain})"),
        (_, Some(domain)) => format!("the receiving side ({domain})"),
        // A deployment's servers often carry names of another domain than
        // its SIP domains (`pool01.corp.local` for `contoso.com`): a name
        // in neither domain tells no side.
        _ if from.is_some() || to.is_some() => match code {
            Some(producer) => format!(
                "{} by what the code means (its name is in neither domain the request names; give --domain to be sure)",
                producer.side()
            ),
            None => "a side its name does not tell (in neither domain the request names; give --domain)".to_string(),
        },
        _ => match code {
            Some(producer) => format!(
                "{} by what the code means (give --domain, or the request's From and To, to be sure)",
                producer.side()
            ),
            None => "a side unknown: no --domain, and the trace names neither domain".to_string(),
        },
    }
}

/// Explains one diagnostic in the context of its transaction.
fn explain(diagnostic: MsDiagnostic, from: Option<&str>, to: Option<&str>, ours: &[String]) -> Explained {
    let explanation = ms_diagnostics::explain(&diagnostic);
    let source = diagnostic.parameter("source").map(str::to_string);
    let produced_by = match (&source, &explanation) {
        (Some(source), Explanation::Documented(entry)) => {
            format!(
                "{source}, {}: {}",
                side_of(source, from, to, ours, Some(entry.produced_by)),
                entry.produced_by.describe()
            )
        }
        (Some(source), _) => format!("{source}, {}", side_of(source, from, to, ours, None)),
        (None, Explanation::Documented(entry)) => entry.produced_by.describe().to_string(),
        (None, _) => "not said (no source parameter)".to_string(),
    };
    // The other domain, as seen from where the diagnostic was produced,
    // and the Edge the trace names, fill the fixes' blanks.
    let partner_domain = diagnostic.parameter("Domain").map(canonical).or_else(|| {
        let producer = source.as_deref().map(|s| canonical(s.split(':').next().unwrap_or(s)));
        let other = |domain: &&str| producer.as_deref().is_some_and(|p| !is_within(p, domain));
        [to, from].into_iter().flatten().find(other).or(to).map(str::to_string)
    });
    let partner_edge = ["PeerServer", "tls-target", "fqdn1", "fqdn"]
        .iter()
        .find_map(|p| diagnostic.parameter(p))
        .map(|v| v.split(':').next().unwrap_or(v).trim().to_string());
    let fill = |text: &str| {
        let mut text = text.to_string();
        if let Some(domain) = &partner_domain {
            text = text.replace("<domain>", domain);
        }
        if let Some(edge) = &partner_edge {
            text = text.replace("<partner Access Edge FQDN>", edge).replace("<the SRV target>", edge);
        }
        text
    };
    let (other_side_fix, producing_side_fix, reference) = match &explanation {
        Explanation::Documented(entry) => (
            (!entry.other_side_fix.is_empty()).then(|| fill(&entry.other_side_fix)),
            (!entry.producing_side_fix.is_empty()).then(|| fill(&entry.producing_side_fix)),
            Some(entry.reference.clone()),
        ),
        Explanation::InRange(range) => (None, None, Some(range.reference.clone())),
        Explanation::Unknown => (None, None, None),
    };
    Explained {
        meaning: explanation.sentence(),
        rules: explanation.rules().to_vec(),
        produced_by,
        other_side_fix,
        producing_side_fix,
        reference,
        diagnostic,
    }
}

impl Diagnosis {
    /// Whether the trace shows any failure.
    pub fn has_failures(&self) -> bool {
        !self.transactions.is_empty() || self.transactions_not_kept > 0
    }

    /// Why "no failure" cannot be said of a trace without a failure found:
    /// no request got a final answer in it, or error records could not be
    /// read. `None` when it can.
    pub fn inconclusive(&self) -> Option<String> {
        if self.has_failures() {
            return None;
        }
        if !self.unread_errors.is_empty() {
            let lines: Vec<String> = self.unread_errors.iter().take(5).map(|l| l.to_string()).collect();
            return Some(format!(
                "{} error record(s) could not be read (line {}): something failed there",
                self.unread_errors.len(),
                lines.join(", ")
            ));
        }
        (self.final_responses == 0)
            .then(|| "no final response (2xx to 6xx) in this trace: nothing shows how its requests ended".to_string())
    }
}

/// The lines a web page, mail client or ticket joined or marked up, taken
/// apart again before the trace reader sees them; what was done, for the
/// report's notes.
#[derive(Default)]
struct Repairs {
    unmarked: usize,
    unquoted: usize,
    split: Vec<(usize, String)>,
    splits: usize,
    straightened: usize,
    backslashes: usize,
}

fn starts_with_ignoring_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len()).is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

/// What starts a line of its own in a trace: a record's end mark and
/// fields, and the SIP headers a diagnosis reads (a record's begin mark
/// ends its first line, so it is no join). A web page that joined lines
/// leaves them after a space inside another line.
const TRACE_FIELDS: [&str; 10] = [
    "$$end_record",
    "Result-Code:",
    "SIP-Start-Line:",
    "SIP-Call-ID:",
    "SIP-CSeq:",
    "Start-Line:",
    "ms-diagnostics:",
    "ms-diagnostics-public:",
    "Call-ID:",
    "CSeq:",
];

/// What starts a line of its own in a SIP message: the trace's fields and
/// the usual headers.
static MESSAGE_FIELDS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| TRACE_FIELDS.iter().chain(trace::SIP_HEADERS.iter()).copied().collect());

impl Repairs {
    /// The lines one physical line stands for; `in_message` when it comes
    /// inside a SIP message's headers.
    fn pieces(&mut self, number: usize, text: &str, in_message: bool) -> Vec<String> {
        let lines = if crate::facts::paste::may_be_marked_up(text) {
            let unmarked = crate::facts::paste::unmark_lines(text);
            if unmarked.len() != 1 || unmarked[0] != text.trim_end() {
                self.unmarked += 1;
            }
            unmarked
        } else {
            vec![text.to_string()]
        };
        let mut pieces = Vec::with_capacity(lines.len());
        for (index, line) in lines.iter().enumerate() {
            let line = self.unquoted(line);
            // A log's own prefix (`… INFO  :: `) is no joined line; quoting
            // may stand on either side of it.
            let stripped = trace::strip_prefix(line);
            let line: String =
                if stripped.len() < line.len() { self.unquoted(&stripped).to_string() } else { line.to_string() };
            // What a word processor, blog or Markdown conversion did to the
            // text, once its markup is gone.
            let line = match crate::facts::paste::straighten_quotes(&line) {
                Some(straight) => {
                    self.straightened += 1;
                    straight
                }
                None => line,
            };
            let line = match crate::facts::paste::without_markdown_break(&line) {
                Some(rest) => {
                    self.backslashes += 1;
                    rest.to_string()
                }
                None => line,
            };
            // What followed a `<br>` a page joined up: the break was the
            // line's end, the space after it is the page's.
            let line = match line.trim_start() {
                rest if index > 0 && TRACE_FIELDS.iter().any(|f| starts_with_ignoring_case(rest, f)) => rest,
                _ => line.as_str(),
            };
            let (parts, fields) = if in_message || trace::is_message_line(line) {
                crate::facts::paste::split_joined(line, &MESSAGE_FIELDS)
            } else {
                crate::facts::paste::split_joined(line, &TRACE_FIELDS)
            };
            for field in fields {
                self.splits += 1;
                if self.split.len() < 5 {
                    self.split.push((number, field));
                }
            }
            pieces.extend(parts.into_iter().map(str::to_string));
        }
        pieces
    }

    /// `line` without e-mail quoting, counted.
    fn unquoted<'l>(&mut self, line: &'l str) -> &'l str {
        match crate::facts::paste::unquote_line(line) {
            Some(unquoted) => {
                self.unquoted += 1;
                unquoted
            }
            None => line,
        }
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.unmarked > 0 {
            notes.push(format!(
                "read as an HTML-escaped paste: markup and escaping undone on {} line(s)",
                self.unmarked
            ));
        }
        if self.straightened > 0 {
            notes.push(format!(
                "read typographic quotes (“ ”) as straight ones on {} line(s), as a word processor or blog rewrites them",
                self.straightened
            ));
        }
        if self.backslashes > 0 {
            notes.push(format!(
                "removed the backslash a Markdown copy leaves at the end of {} line(s)",
                self.backslashes
            ));
        }
        if self.unquoted > 0 {
            notes.push(format!("read as text quoted in an e-mail reply: `>` removed from {} line(s)", self.unquoted));
        }
        if self.splits > 0 {
            let first: Vec<String> =
                self.split.iter().map(|(line, field)| format!("before `{field}` at line {line}")).collect();
            let more = if self.splits > first.len() {
                format!(" and {} more", self.splits - first.len())
            } else {
                String::new()
            };
            notes.push(format!("split joined lines: {}{more}", first.join(", ")));
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, ours: &[&str]) -> Diagnosis {
        let ours: Vec<String> = ours.iter().map(|s| s.to_string()).collect();
        diagnose(std::io::Cursor::new(text.as_bytes().to_vec()), "test.log", &ours).unwrap()
    }

    #[test]
    fn domains_of_headers() {
        assert_eq!(domain_of("\"Ann\" <sip:ann@Contoso.com>;tag=1").as_deref(), Some("contoso.com"));
        assert_eq!(domain_of("<sip:fabrikam.com:5061;transport=tls>").as_deref(), Some("fabrikam.com"));
        assert_eq!(domain_of("garbage"), None);
    }

    #[test]
    fn a_relayed_failure_is_one_failure_seen_twice() {
        let response = "SIP/2.0 504 Server time-out\nFrom: <sip:ann@contoso.com>;tag=1\nTo: <sip:bob@fabrikam.com>\nCall-ID: c1\nCSeq: 1 INVITE\nms-diagnostics: 1008;reason=\"Unable to resolve DNS SRV record.\";source=\"sip.contoso.com\"\n\n";
        let diagnosis = run(&format!("{response}{response}"), &[]);
        assert_eq!(diagnosis.transactions.len(), 1);
        let failure = &diagnosis.transactions[0].failures[0];
        assert_eq!(failure.seen, 2);
        let explained = &failure.diagnostics[0];
        assert!(explained.produced_by.contains("the sender's side (contoso.com)"), "{}", explained.produced_by);
        assert!(
            explained.producing_side_fix.as_deref().unwrap().contains("New-CsAllowedDomain -Identity fabrikam.com")
        );
    }

    #[test]
    fn refuses_what_is_not_a_trace() {
        let err = diagnose(std::io::Cursor::new(b"hello\nworld\n".to_vec()), "x", &[]).unwrap_err();
        assert!(err.0.contains("no SIP message"), "{}", err.0);
        let err = diagnose(std::io::Cursor::new(vec![0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9]), "x", &[]).unwrap_err();
        assert!(err.0.contains("binary"), "{}", err.0);
    }
}

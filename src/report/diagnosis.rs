//! The report of `fedscan diagnose`: per failed transaction, what failed,
//! what it means, who produced it and how to fix it (terminal text), or the
//! same as JSON (schema `fedscan.diagnosis/1`). Everything that came from
//! the log is escaped for its output.

use crate::diagnose::{Diagnosis, Explained, Failure, HresultSeen, Transaction};
use crate::text::{escape_terminal, shorten, to_json};

/// The longest value from the log the text shows.
const MAX_SHOWN: usize = 500;

fn shown(text: &str) -> String {
    escape_terminal(&shorten(text, MAX_SHOWN)).into_owned()
}

pub fn json(diagnosis: &Diagnosis) -> String {
    // Strings, numbers and string maps only: serializing cannot fail.
    let mut text = to_json(diagnosis).expect("a diagnosis always serializes");
    text.push('\n');
    text
}

/// The diagnostic parameters people look for first, in this order; the
/// others follow as sent.
const KEY_PARAMETERS: [&str; 8] =
    ["Domain", "PeerServer", "fqdn", "fqdn1", "tls-target", "HRESULT", "winsock-code", "peer-type"];

pub fn text(diagnosis: &Diagnosis) -> String {
    let mut out = String::new();
    let shapes: Vec<&str> = diagnosis.shapes.iter().map(|s| s.describe()).collect();
    out.push_str(&format!(
        "{}: {} ({} lines, {} SIP messages)\n",
        shown(&diagnosis.input),
        shapes.join(", "),
        diagnosis.lines,
        diagnosis.messages
    ));
    for note in &diagnosis.notes {
        out.push_str(&format!("note: {}\n", shown(note)));
    }
    match diagnosis.inconclusive() {
        Some(why) => out.push_str(&format!("\nNo failure found, and none can be ruled out: {}.\n", shown(&why))),
        None if !diagnosis.has_failures() => out.push_str(&format!(
            "\nNo failed request in this trace: its {} final response(s) are successes.\n",
            diagnosis.final_responses
        )),
        None => {}
    }
    for transaction in &diagnosis.transactions {
        out.push('\n');
        transaction_text(transaction, &mut out);
    }
    if diagnosis.transactions_not_kept > 0 {
        out.push_str(&format!(
            "\n{} more failed transactions are not shown (at most {} are kept); cut the trace around the failure\n",
            diagnosis.transactions_not_kept,
            crate::diagnose::MAX_TRANSACTIONS
        ));
    }
    out.push_str(&format!("\n{}\n", summary(diagnosis)));
    out
}

pub fn summary(diagnosis: &Diagnosis) -> String {
    let failed = diagnosis.transactions.len() + diagnosis.transactions_not_kept;
    let codes: std::collections::BTreeSet<u32> = diagnosis
        .transactions
        .iter()
        .flat_map(|t| &t.failures)
        .flat_map(|f| &f.diagnostics)
        .map(|d| d.diagnostic.code)
        .collect();
    let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
    match failed {
        0 if diagnosis.inconclusive().is_some() => "exit 3: no failure found, and nothing to conclude from".to_string(),
        0 => "exit 0: no failure in the trace".to_string(),
        n if codes.is_empty() => format!("exit 1: {n} failed transaction(s)"),
        n => format!("exit 1: {n} failed transaction(s); ms-diagnostics codes {}", codes.join(", ")),
    }
}

fn transaction_text(transaction: &Transaction, out: &mut String) {
    let mut title = match &transaction.call_id {
        Some(call_id) => format!("Call-ID {}", shown(call_id)),
        None => "A diagnostic without its message".to_string(),
    };
    if let Some(method) = &transaction.method {
        title.push_str(&format!(", {}", shown(method)));
    }
    match (&transaction.from, &transaction.to) {
        (Some(from), Some(to)) => title.push_str(&format!(" from {} to {}", shown(from), shown(to))),
        (Some(from), None) => title.push_str(&format!(" from {}", shown(from))),
        (None, Some(to)) => title.push_str(&format!(" to {}", shown(to))),
        (None, None) => {}
    }
    out.push_str(&format!("{title} (line {})\n", transaction.first_line));
    for failure in &transaction.failures {
        failure_text(failure, out);
    }
}

fn failure_text(failure: &Failure, out: &mut String) {
    let times = if failure.seen > 1 { format!(", seen {} times", failure.seen) } else { String::new() };
    if let Some(status) = failure.status {
        let phrase = failure.reason_phrase.as_deref().map(shown).unwrap_or_default();
        out.push_str(&format!("  {status} {phrase} (line {}{times})", failure.line));
        if let Some(peer) = &failure.peer {
            out.push_str(&format!(" from peer {}", shown(peer)));
        }
        out.push('\n');
        if failure.diagnostics.is_empty()
            && let Some(meaning) = &failure.status_meaning
        {
            out.push_str(&format!("    means: {meaning} (no ms-diagnostics header says more)\n"));
        }
    } else if failure.diagnostics.is_empty() {
        out.push_str(&format!("  error logged by the server (line {}{times})\n", failure.line));
    } else {
        out.push_str(&format!("  header (line {}{times})\n", failure.line));
    }
    for diagnostic in &failure.diagnostics {
        diagnostic_text(diagnostic, out);
    }
    for error in &failure.errors {
        error_text(error, out);
    }
}

fn diagnostic_text(explained: &Explained, out: &mut String) {
    let d = &explained.diagnostic;
    let reason = d.reason.as_deref().map(|r| format!(" \"{}\"", shown(r))).unwrap_or_default();
    out.push_str(&format!("    {}: {}{reason}\n", shown(&d.header), d.code));
    let mut parameters: Vec<(&String, &String)> = Vec::new();
    for key in KEY_PARAMETERS {
        parameters.extend(d.parameters.iter().filter(|(k, _)| k.eq_ignore_ascii_case(key)));
    }
    parameters.extend(d.parameters.iter().filter(|(k, _)| {
        !KEY_PARAMETERS.iter().any(|p| p.eq_ignore_ascii_case(k)) && !k.eq_ignore_ascii_case("source")
    }));
    if !parameters.is_empty() {
        let listed: Vec<String> = parameters.iter().map(|(k, v)| format!("{}={}", shown(k), shown(v))).collect();
        out.push_str(&format!("      {}\n", listed.join("; ")));
    }
    out.push_str(&format!("      produced by: {}\n", shown(&explained.produced_by)));
    if let Some(meaning) = &explained.meaning {
        out.push_str(&format!("      means: {meaning}\n"));
    }
    if !explained.rules.is_empty() {
        out.push_str(&format!("      checked by: {} (fedscan rules explain RULE)\n", explained.rules.join(", ")));
    }
    if let Some(fix) = &explained.other_side_fix {
        out.push_str(&format!("      fix on the other side: {}\n", shown(fix)));
    }
    if let Some(fix) = &explained.producing_side_fix {
        out.push_str(&format!("      fix where it was produced: {}\n", shown(fix)));
    }
    if let Some(reference) = &explained.reference {
        out.push_str(&format!("      reference: {reference}\n"));
    }
}

fn error_text(error: &HresultSeen, out: &mut String) {
    let name = error.name.as_deref().map(|n| format!(" {}", shown(n))).unwrap_or_default();
    let code = error.code.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
    out.push_str(&format!("    error{code}{name}\n"));
    if let Some(text) = &error.text {
        out.push_str(&format!("      logged as: {}\n", shown(text)));
    }
    if let Some(meaning) = &error.meaning {
        out.push_str(&format!("      means: {meaning}\n"));
    }
    if !error.rules.is_empty() {
        out.push_str(&format!("      checked by: {}\n", error.rules.join(", ")));
    }
}

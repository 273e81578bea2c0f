//! `fedscan diagnose` on traces in the shapes support engineers receive:
//! a Skype for Business Edge trace, an Expressway log, a header pasted in a
//! ticket; every code of the ms-diagnostics table; and what is not a trace,
//! or is very large.

use crate::common;
use common::{assert_inert, fedscan, json_of, root};
use fedscan::diagnose::diagnose;
use fedscan::facts::ms_diagnostics::TABLE;
use serde_json::Value;

fn run(args: &[&str]) -> std::process::Output {
    fedscan().arg("diagnose").args(args).current_dir(root("")).output().unwrap()
}

fn codes(transaction: &Value) -> Vec<u64> {
    transaction["failures"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_u64().unwrap()))
        .collect()
}

#[test]
fn a_skype_for_business_edge_trace() {
    let output = run(&["fixtures/traces/sfb-edge.log", "--format", "json", "--domain", "contoso.com"]);
    assert_eq!(output.status.code(), Some(1), "failures were found");
    let diagnosis = json_of(&output);
    assert_eq!(diagnosis["shapes"], serde_json::json!(["lync-server-trace"]));
    let transactions = diagnosis["transactions"].as_array().unwrap();
    // The three failed transactions, in the order of the trace; the
    // successful MESSAGE is not one.
    let ids: Vec<&str> = transactions.iter().map(|t| t["call_id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["7d9e41f2c03b4a6f8a1e2d3c4b5a6978", "0c5b7e91d2a84f3c9e6b1a2d7f8e4c53", "4a6c8e0f2b4d4f61a3c5e7f9b1d3f5a7"]
    );

    let no_srv = &transactions[0];
    assert_eq!((no_srv["method"].as_str(), no_srv["to"].as_str()), (Some("INVITE"), Some("fabrikam.com")));
    assert_eq!(codes(no_srv), [1008]);
    let logged = &no_srv["failures"][0]["errors"][0];
    assert_eq!(logged["code"], "0xc3e93d6f");
    assert_eq!(logged["name"], "SIPPROXY_E_EPROUTING_MSG_ALLOWED_DOMAIN_NO_SRV_MATCH");
    assert!(logged["meaning"].as_str().unwrap().contains("allowed list without a proxy FQDN"));
    let srv = &no_srv["failures"][1];
    assert_eq!(srv["status"], 504);
    let d = &srv["diagnostics"][0];
    assert!(d["produced_by"].as_str().unwrap().starts_with("sip.contoso.com, your side (contoso.com)"), "{d}");
    assert_eq!(d["rules"], serde_json::json!(["DNS-FED-01"]));
    assert!(d["other_side_fix"].as_str().unwrap().contains("_sipfederationtls._tcp.fabrikam.com"), "{d}");
    assert!(d["producing_side_fix"].as_str().unwrap().contains("New-CsAllowedDomain -Identity fabrikam.com"), "{d}");

    let silent = &transactions[1];
    assert_eq!(codes(silent), [1034]);
    let d = &silent["failures"][0]["diagnostics"][0];
    assert_eq!(d["parameters"]["PeerServer"], "sip.litwareinc.com");
    assert!(d["meaning"].as_str().unwrap().contains("partner's side"), "{d}");
    assert_eq!(silent["failures"][0]["peer"], "sip.litwareinc.com:5061");

    let trust = &transactions[2];
    assert_eq!(codes(trust), [1010]);
    let d = &trust["failures"][0]["diagnostics"][0];
    assert_eq!(d["parameters"]["tls-target"], "sip.adatum.com");
    assert_eq!(trust["failures"][0]["errors"][0]["name"], "SEC_E_UNTRUSTED_ROOT");
    assert!(d["rules"].as_array().unwrap().iter().any(|r| r == "TLS-CHAIN-01"));

    // The terminal text says the same.
    let text = run(&["fixtures/traces/sfb-edge.log", "--domain", "contoso.com"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("ms-diagnostics: 1008 \"Unable to resolve DNS SRV record.\""), "{text}");
    assert!(text.contains("error 0xc3e93d6f SIPPROXY_E_EPROUTING_MSG_ALLOWED_DOMAIN_NO_SRV_MATCH"), "{text}");
    assert!(text.ends_with("exit 1: 3 failed transaction(s); ms-diagnostics codes 1008, 1010, 1034\n"), "{text}");
}

#[test]
fn an_expressway_log_and_which_side_refused() {
    let output = run(&["fixtures/traces/expressway.log", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let diagnosis = json_of(&output);
    assert_eq!(diagnosis["shapes"], serde_json::json!(["expressway"]));
    let transactions = diagnosis["transactions"].as_array().unwrap();
    assert_eq!(transactions.iter().map(codes).collect::<Vec<_>>(), [vec![4005], vec![1027]]);
    let refused = &transactions[1]["failures"][0]["diagnostics"][0];
    // Without --domain the sides are named by the transaction's domains.
    assert!(refused["produced_by"].as_str().unwrap().contains("the receiving side (contoso.com)"), "{refused}");
    assert!(refused["producing_side_fix"].as_str().unwrap().contains("-Identity example-partner.org"), "{refused}");
    // The Expressway's own organization sees the refusal on the other side.
    let ours =
        json_of(&run(&["fixtures/traces/expressway.log", "--format", "json", "--domain", "example-partner.org"]));
    let refused = &ours["transactions"][1]["failures"][0]["diagnostics"][0];
    assert!(refused["produced_by"].as_str().unwrap().contains("the other side"), "{refused}");
}

#[test]
fn a_header_pasted_in_a_ticket_and_from_standard_input() {
    let output = run(&["fixtures/traces/ticket-header.txt", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let diagnosis = json_of(&output);
    assert_eq!(diagnosis["shapes"], serde_json::json!(["headers-only"]));
    let failure = &diagnosis["transactions"][0]["failures"][0];
    assert_eq!(failure["diagnostics"][0]["header"], "ms-diagnostics-public");
    assert_eq!(failure["diagnostics"][0]["code"], 1010);
    assert_eq!(failure["errors"][0]["name"], "SEC_E_WRONG_PRINCIPAL");
    assert_eq!(failure["errors"][0]["rules"], serde_json::json!(["TLS-NAME-01"]));

    // Saved by Windows PowerShell's `>`: UTF-16 with a byte-order mark.
    let dir = tempfile::tempdir().unwrap();
    let utf16 = dir.path().join("header.utf16.txt");
    let text = std::fs::read_to_string(root("fixtures/traces/ticket-header.txt")).unwrap();
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(&utf16, bytes).unwrap();
    let output = fedscan().args(["diagnose", "--format", "json"]).arg(&utf16).output().unwrap();
    assert_eq!(json_of(&output)["transactions"][0]["failures"][0]["errors"][0]["name"], "SEC_E_WRONG_PRINCIPAL");

    let output = fedscan()
        .args(["diagnose", "-"])
        .write_stdin(
            &b"ms-diagnostics: 1002;reason=\"From URI not authorized to communicate with federated partners\"\n"[..],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("<stdin>: ms-diagnostics headers"), "{text}");
    assert!(text.contains("checked by: CFG-EAP-02, CFG-EAP-04, CFG-EAP-05"), "{text}");
}

/// Every code of the table, every HRESULT and a code it knows only by its
/// range, each in a trace of its own: explained from the table.
#[test]
fn every_code_of_the_table_is_explained() {
    for entry in &TABLE.code {
        let header = format!(
            "SIP/2.0 403 Forbidden\nFrom: <sip:ann@contoso.com>;tag=1\nTo: <sip:bob@fabrikam.com>\nCall-ID: c{0}\nCSeq: 1 INVITE\nms-diagnostics: {0};reason=\"{1}\";source=\"sip.contoso.com\"\n\n",
            entry.code, entry.reason
        );
        let diagnosis = diagnose(std::io::Cursor::new(header.into_bytes()), "case", &[]).unwrap();
        let explained = &diagnosis.transactions[0].failures[0].diagnostics[0];
        assert_eq!(explained.diagnostic.code, entry.code);
        assert_eq!(explained.meaning.as_deref(), Some(entry.meaning.as_str()), "{}", entry.code);
        assert_eq!(explained.rules, entry.rules, "{}", entry.code);
        assert_eq!(explained.reference.as_deref(), Some(entry.reference.as_str()), "{}", entry.code);
        assert!(explained.produced_by.contains(entry.produced_by.describe()), "{}", entry.code);
    }
    for entry in &TABLE.hresult {
        // By its code where the table has one, else by the name logs print.
        let result = match entry.code {
            Some(code) => format!("0x{code:08x}"),
            None => entry.name.clone(),
        };
        let record = format!("$$begin_record\nResult-Code: {result}\nSIP-Call-ID: h-{result}\n$$end_record\n");
        let diagnosis = diagnose(std::io::Cursor::new(record.into_bytes()), "case", &[]).unwrap();
        let error = &diagnosis.transactions[0].failures[0].errors[0];
        assert_eq!(error.name.as_deref(), Some(entry.name.as_str()), "{}", entry.name);
        assert_eq!(error.meaning.as_deref(), Some(entry.meaning.as_str()), "{}", entry.name);
    }
    for status in &TABLE.status {
        let response = format!("SIP/2.0 {} Whatever\nCall-ID: s{}\nCSeq: 1 INVITE\n\n", status.code, status.code);
        let diagnosis = diagnose(std::io::Cursor::new(response.into_bytes()), "case", &[]).unwrap();
        let failure = &diagnosis.transactions[0].failures[0];
        assert_eq!(failure.status_meaning.as_deref(), Some(status.meaning.as_str()), "{}", status.code);
    }
    let presence =
        diagnose(std::io::Cursor::new(b"ms-diagnostics: 2036;reason=\"x\"\n".to_vec()), "case", &[]).unwrap();
    let explained = &presence.transactions[0].failures[0].diagnostics[0];
    assert!(explained.meaning.as_deref().unwrap().contains("user services of the receiving pool"), "{explained:?}");
}

#[test]
fn what_is_not_a_trace_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, common::garbage(65_536, 0x9e37_79b9)).unwrap();
    let output = fedscan().args(["diagnose"]).arg(&garbage).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("garbage.bin: binary data"), "{stderr}");
    assert_inert("stderr", &stderr);

    let prose = dir.path().join("prose.txt");
    std::fs::write(&prose, "Federation with Fabrikam stopped working yesterday.\nNothing changed on our side.\n")
        .unwrap();
    let output = fedscan().args(["diagnose"]).arg(&prose).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no SIP message and no ms-diagnostics header"), "{stderr}");
    assert!(
        stderr.contains("2 lines of other text, beginning \"Federation with Fabrikam"),
        "says what it saw: {stderr}"
    );

    // A configuration listing given to diagnose is pointed at scan, with
    // the hostile text of its first line inert.
    let listing = dir.path().join("listing.txt");
    std::fs::write(&listing, "Identity : Global\x1b[2J\nAllowFederatedUsers : True\nEnablePartnerDiscovery : False\n")
        .unwrap();
    let output = fedscan().args(["diagnose"]).arg(&listing).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("a configuration listing, 3 `Name : Value` lines: give it to `fedscan scan --config FILE`"),
        "{stderr}"
    );
    assert_inert("stderr", &stderr);

    // Hostile text from a trace reaches the terminal inert.
    let hostile = dir.path().join("hostile.log");
    std::fs::write(
        &hostile,
        "ms-diagnostics: 1034;reason=\"\x1b[2J\x1b]8;;http://evil.example\x07\u{202e}\";source=\"\x1b[31mx\"\n",
    )
    .unwrap();
    let output = fedscan().args(["diagnose"]).arg(&hostile).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_inert("stdout", &String::from_utf8_lossy(&output.stdout));
}

/// Runs fedscan with `args` and reads its standard output; its exit code
/// and its own peak resident memory (from wait4: other tests of this
/// binary run children of their own at the same time).
/// What a diagnosis says of each failure, without where in the file it
/// stands: per transaction its Call-ID, method, sides and each failure's
/// status, codes, reasons, HRESULTs and producers.
fn verdicts(diagnosis: &Value) -> Value {
    common::without_lines(&diagnosis["transactions"])
}

/// A trace that went through a ticketing system (HTML-escaped, `<br>` for
/// line breaks, even every line run into one) reads as the clean trace: the
/// same Call-IDs, statuses, reasons, codes and producers, and a note that
/// says it was read as an HTML-escaped paste.
#[test]
fn an_html_escaped_trace_reads_as_the_clean_one() {
    let clean = std::fs::read_to_string(root("fixtures/traces/sfb-edge.log")).unwrap();
    let escaped = clean.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;");
    let dir = tempfile::tempdir().unwrap();
    let expected = json_of(&run(&["fixtures/traces/sfb-edge.log", "--format", "json", "--domain", "contoso.com"]));
    for (name, text) in [
        ("lines.txt", escaped.replace('\n', "<br>\n")),
        ("one-line.txt", format!("<p>{}</p>\n", escaped.replace('\n', "<br/>"))),
    ] {
        let path = common::write(dir.path(), name, &text);
        let output = run(&[path.to_str().unwrap(), "--format", "json", "--domain", "contoso.com"]);
        assert_eq!(output.status.code(), Some(1), "{name}");
        let diagnosis = json_of(&output);
        assert_eq!(verdicts(&diagnosis), verdicts(&expected), "{name}");
        let notes = diagnosis["notes"].to_string();
        assert!(notes.contains("read as an HTML-escaped paste"), "{name}: {notes}");
    }
}

/// Two error records copied from a web page, each `Result-Code:` joined onto
/// the `Text:` line and the closing `$$end_record` cut short: both failures
/// are found (the lines are split again, and the note says where), never
/// "no failure".
#[test]
fn joined_record_lines_are_split_and_both_failures_found() {
    let text = "TL_ERROR(TF_DIAG) [0]0B84.1A2C::11/20/2026-09:31:40.121.0002F1B9 (SIPStack,SIPAdminLog::WriteDiagnosticEvent:SIPAdminLog.cpp(802))[2981725362] $$begin_record\n\
                Severity: error\n\
                Text: Message was not routed because the allowed domain has no DNS SRV record that matches it Result-Code: 0xc3e93d6f SIPPROXY_E_EPROUTING_MSG_ALLOWED_DOMAIN_NO_SRV_MATCH\n\
                SIP-Start-Line: INVITE sip:bob@fabrikam.com SIP/2.0\n\
                SIP-Call-ID: 7d9e41f2c03b4a6f8a1e2d3c4b5a6978\n\
                $$end_rec\n\
                TL_ERROR(TF_DIAG) [0]0B84.1A2C::11/20/2026-09:35:40.121.0002F1C9 (SIPStack,SIPAdminLog::WriteDiagnosticEvent:SIPAdminLog.cpp(802))[2981725399] $$begin_record\n\
                Severity: error\n\
                Text: The peer is not allowed Result-Code: 0xc3e93d67 SIPPROXY_E_EPROUTING_MSG_DOMAIN_NOT_ALLOWED SIP-Start-Line: MESSAGE sip:bob@fabrikam.com SIP/2.0 SIP-Call-ID: 8d9e41f2c03b4a6f8a1e2d3c4b5a6978\n\
                $$end_rec\n";
    let dir = tempfile::tempdir().unwrap();
    let path = common::write(dir.path(), "joined.log", text);
    let output = run(&[path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stdout));
    let diagnosis = json_of(&output);
    let errors: Vec<&str> = diagnosis["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["failures"][0]["errors"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(errors, ["0xc3e93d6f", "0xc3e93d67"]);
    assert_eq!(diagnosis["transactions"][1]["method"], "MESSAGE");
    assert!(diagnosis["notes"].to_string().contains("before `Result-Code:` at line 3"), "{}", diagnosis["notes"]);
}

/// "No failure" needs evidence: a trace with no final response, or with an
/// error record whose result cannot be read, exits 3 and says why; one
/// whose requests all ended in successes exits 0.
#[test]
fn no_failure_is_said_only_with_final_responses_and_nothing_unread() {
    let dir = tempfile::tempdir().unwrap();
    let request = "INVITE sip:bob@fabrikam.com SIP/2.0\nCall-ID: a1\nCSeq: 1 INVITE\n\nSIP/2.0 100 Trying\nCall-ID: a1\nCSeq: 1 INVITE\n\n";
    let unread = "TL_ERROR(TF_DIAG) [0]0B84.1A2C::11/20/2026-09:31:40.121 $$begin_record\nSeverity: error\nText: something went wrong\n$$end_record\n\nSIP/2.0 200 OK\nCall-ID: b2\nCSeq: 1 OPTIONS\n\n";
    let success = "SIP/2.0 200 OK\nCall-ID: c3\nCSeq: 1 OPTIONS\n\n";
    for (name, text, code, said) in [
        ("provisional.log", request, 3, "no final response"),
        ("unread.log", unread, 3, "1 error record(s) could not be read (line 1)"),
        ("success.log", success, 0, "No failed request in this trace: its 1 final response(s) are successes"),
    ] {
        let path = common::write(dir.path(), name, text);
        let output = run(&[path.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(code), "{name}: {stdout}");
        assert!(stdout.contains(said), "{name}: {stdout}");
    }
}

/// A code is explained by its code: 1047 as a client's log shows it (mutual
/// TLS with the partner failed), and 1009 worded as real servers word it
/// rather than as the specification does — the server's words kept, the
/// meaning, rules and fixes given.
#[test]
fn codes_are_explained_whatever_their_wording() {
    let dir = tempfile::tempdir().unwrap();
    let text = "ms-diagnostics: 1047;reason=\"Failed to complete TLS negotiation with a federated peer server\";WinsockFailureCode=\"10054(WSAECONNRESET)\";WinsockFailureDescription=\"The peer forced closure of the connection\"\n\
                ms-diagnostics: 1009;reason=\"No match for domain in DNS SRV results\";domain=\"fabrikam.com\";source=\"sip.contoso.com\"\n";
    let path = common::write(dir.path(), "headers.txt", text);
    let diagnosis = json_of(&run(&[path.to_str().unwrap(), "--format", "json"]));
    let diagnostics: Vec<&Value> =
        diagnosis["transactions"].as_array().unwrap().iter().map(|t| &t["failures"][0]["diagnostics"][0]).collect();
    assert_eq!(diagnostics[0]["code"], 1047);
    assert!(diagnostics[0]["meaning"].as_str().unwrap().contains("does not trust the CA"), "{}", diagnostics[0]);
    assert!(diagnostics[0]["rules"].as_array().unwrap().contains(&Value::from("TLS-CHAIN-01")));
    assert_eq!(diagnostics[1]["reason"], "No match for domain in DNS SRV results");
    assert!(diagnostics[1]["meaning"].as_str().unwrap().contains("points at a host outside the domain"));
    assert!(diagnostics[1]["rules"].as_array().unwrap().contains(&Value::from("DNS-FED-04")));
    assert!(diagnostics[1]["producing_side_fix"].as_str().unwrap().contains("New-CsAllowedDomain"));
}

/// Which side produced a diagnostic is said from evidence only: with no
/// `--domain` and no From or To, 1001 is the sender's side by what the code
/// means (it comes from the sender's own pool), never "a server of neither
/// domain"; a code the table does not know is of a side unknown.
#[test]
fn sides_are_said_from_evidence_only() {
    let dir = tempfile::tempdir().unwrap();
    let text = "ms-diagnostics: 1001;reason=\"From URI not authorized to communicate with public IM providers\";source=\"pool01.contoso.com\"\n\
                ms-diagnostics: 1999;reason=\"Something else\";source=\"edge.example.net\"\n";
    let path = common::write(dir.path(), "headers.txt", text);
    let diagnosis = json_of(&run(&[path.to_str().unwrap(), "--format", "json"]));
    let producers: Vec<&str> = diagnosis["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["failures"][0]["diagnostics"][0]["produced_by"].as_str().unwrap())
        .collect();
    assert!(producers[0].starts_with("pool01.contoso.com, the sender's side by what the code means"), "{producers:?}");
    assert!(producers[1].starts_with("edge.example.net, a side unknown"), "{producers:?}");
    assert!(!diagnosis.to_string().contains("neither domain (a gateway"), "{producers:?}");
}

/// Hostile text through the paste repairs: entities that decode to a
/// bidirectional override or an escape, quoting and a log prefix around
/// them, stay inert in the text and JSON diagnosis; a frame that never
/// closes, or a record field followed by thousands of lines that are no
/// field, grows no value past the line bound.
#[test]
fn hostile_pastes_stay_inert_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "&gt; 12/01/2026|09:31:40.118 1A2C INFO  :: ms-diagnostics: 1034;reason=&quot;x&#x202e;&#x1b;[2J&#27;]0;t&#7;&quot;;source=&quot;sip.contoso.com&quot;<br>\n";
    let path = common::write(dir.path(), "hostile.txt", hostile);
    for format in ["table", "json"] {
        let output = run(&[path.to_str().unwrap(), "--format", format]);
        assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
        assert_inert(format, &String::from_utf8_lossy(&output.stdout));
    }

    let mut endless = String::from(" |SIP/2.0 404 Not Found\nVia: SIP/2.0/TLS 192.0.2.10:5061\n");
    let mut record = String::from(
        "TL_ERROR(TF_DIAG) [0]0B84.1A2C::11/20/2026-09:31:40.121 $$begin_record\nSeverity: error\nResult-Code: 0xc3e93d6f\nText: start\n",
    );
    for i in 0..20_000 {
        endless.push_str(&format!("no header here, line {i} of a frame that never closes\n"));
        record.push_str(&format!("more text {i}\n"));
    }
    for (name, text, field) in [("endless.log", endless, "Via"), ("record.log", record, "text")] {
        let path = common::write(dir.path(), name, &text);
        let diagnosis = json_of(&run(&[path.to_str().unwrap(), "--format", "json"]));
        let longest = diagnosis.to_string().len();
        // Bounded by the line limit (16 KiB) per value, not by the input.
        assert!(longest < 64 * 1024, "{name}: a {longest}-byte diagnosis for the {field} value");
    }
}

/// One entry of `fixtures/traces/public/expected.toml`: what a public
/// trace's source concluded, as a diagnosis must show it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicTrace {
    file: String,
    source: String,
    says: String,
    exit: i32,
    status: Option<u64>,
    codes: Option<Vec<String>>,
    side: Option<String>,
    rules: Option<Vec<String>>,
    fix: Option<String>,
    refused: Option<String>,
    known_miss: Option<String>,
}

#[derive(serde::Deserialize)]
struct PublicTraces {
    trace: Vec<PublicTrace>,
}

/// What a diagnosis explains: every ms-diagnostics code (decimal) and every
/// error (its code and its name), each with its rules and producer.
fn explained(diagnosis: &Value) -> Vec<(Vec<String>, Vec<String>, String)> {
    let mut items = Vec::new();
    for failure in diagnosis["transactions"].as_array().unwrap().iter().flat_map(|t| t["failures"].as_array().unwrap())
    {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
        };
        for d in failure["diagnostics"].as_array().unwrap() {
            let producer = d["produced_by"].as_str().unwrap_or_default().to_string();
            items.push((vec![d["code"].to_string()], strings(&d["rules"]), producer));
        }
        for e in failure["errors"].as_array().unwrap() {
            let names =
                [&e["code"], &e["name"]].iter().filter_map(|v| v.as_str()).map(str::to_ascii_lowercase).collect();
            items.push((names, strings(&e["rules"]), String::new()));
        }
    }
    items
}

/// Why a diagnosis differs from what its source concluded; empty when it is
/// diagnosed exactly (exit code, status, codes, side, rules, fix).
fn misses(entry: &PublicTrace, output: &std::process::Output) -> Vec<String> {
    let mut misses = Vec::new();
    if output.status.code() != Some(entry.exit) {
        misses.push(format!("exit {:?}, expected {}", output.status.code(), entry.exit));
    }
    if entry.exit == 2 {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if let Some(refused) = &entry.refused
            && !stderr.contains(refused.as_str())
        {
            misses.push(format!("refusal does not say `{refused}`: {stderr}"));
        }
        return misses;
    }
    let Ok(diagnosis) = serde_json::from_slice::<Value>(&output.stdout) else {
        misses.push("no JSON diagnosis".into());
        return misses;
    };
    let items = explained(&diagnosis);
    if let Some(status) = entry.status {
        let statuses: Vec<u64> = diagnosis["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["failures"].as_array().unwrap().iter().filter_map(|f| f["status"].as_u64()))
            .collect();
        if !statuses.contains(&status) {
            misses.push(format!("status {status} not among {statuses:?}"));
        }
    }
    if let Some(codes) = &entry.codes {
        for code in codes {
            if !items.iter().any(|(names, _, _)| names.contains(&code.to_ascii_lowercase())) {
                misses.push(format!("code {code} not explained"));
            }
        }
        // Nothing explained that the source does not show.
        if items.len() != codes.len() {
            misses.push(format!("{} codes explained, the source shows {}", items.len(), codes.len()));
        }
    }
    if let Some(side) = &entry.side
        && !items.first().is_some_and(|(_, _, producer)| producer.contains(side.as_str()))
    {
        misses.push(format!("producer not `{side}`: {:?}", items.first().map(|i| &i.2)));
    }
    if let Some(rules) = &entry.rules {
        let named: Vec<&String> = items.iter().flat_map(|(_, rules, _)| rules).collect();
        if rules.is_empty() && !named.is_empty() {
            misses.push(format!("rules {named:?} named for a failure outside federation"));
        }
        for rule in rules {
            if !named.contains(&rule) {
                misses.push(format!("rule {rule} not named"));
            }
        }
    }
    if let Some(fix) = &entry.fix
        && !String::from_utf8_lossy(&output.stdout).contains(fix.as_str())
    {
        misses.push(format!("does not say `{fix}`"));
    }
    misses
}

/// Traces, log records, cmdlet output and ms-diagnostics excerpts from
/// public pages, rebuilt from what their servers printed: the diagnosis
/// agrees with each source's own explanation (code, side, rules, fix) for
/// at least nine in ten, and every miss is printed.
#[test]
fn public_traces_are_diagnosed_as_their_sources_explain() {
    let dir = root("fixtures/traces/public");
    let table: PublicTraces = toml::from_str(&std::fs::read_to_string(dir.join("expected.toml")).unwrap()).unwrap();
    let listed: Vec<&str> = table.trace.iter().map(|t| t.file.as_str()).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        assert!(name == "expected.toml" || listed.contains(&name.as_str()), "{name} has no expected diagnosis");
    }
    let sources: std::collections::BTreeSet<&str> = table.trace.iter().map(|t| t.source.as_str()).collect();
    let (mut exact, mut report, mut unexpected) = (0, Vec::new(), Vec::new());
    for entry in &table.trace {
        assert!(!entry.says.is_empty() && !entry.source.is_empty(), "{}", entry.file);
        let output = fedscan().args(["diagnose", "--format", "json"]).arg(dir.join(&entry.file)).output().unwrap();
        let misses = misses(entry, &output);
        match (&entry.known_miss, misses.is_empty()) {
            (None, true) => {
                exact += 1;
                report.push(format!("  exact  {}", entry.file));
            }
            (Some(why), false) => report.push(format!("  MISS   {}: {} (known: {why})", entry.file, misses.join("; "))),
            (None, false) => {
                report.push(format!("  MISS   {}: {}", entry.file, misses.join("; ")));
                unexpected.push(entry.file.clone());
            }
            (Some(_), true) => unexpected.push(format!("{} is diagnosed exactly now: drop its known_miss", entry.file)),
        }
    }
    let total = table.trace.len();
    eprintln!(
        "public traces: {exact} of {total} diagnosed exactly ({}%), from {} source pages\n{}",
        exact * 100 / total,
        sources.len(),
        report.join("\n")
    );
    assert!(total >= 30 && sources.len() >= 10, "{total} traces from {} sources", sources.len());
    assert!(exact * 10 >= total * 9, "{exact} of {total} diagnosed exactly");
    assert!(unexpected.is_empty(), "{unexpected:#?}");
}

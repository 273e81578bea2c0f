//! What support engineers receive, in the shapes users paste it
//! (`fixtures/tickets/`): each file gives the exact verdicts of the rules it
//! bears on. Each case is a defect found from the outside: a false pass, a
//! false fail, or output lost.

use crate::common;
use common::transports::{TRANSPORTS, Transport};
use common::{fedscan, findings, json_of, root};
use std::collections::BTreeMap;

use serde_json::Value;

/// The report of an offline scan of one ticket file.
fn scan(file: &str, args: &[&str]) -> (Option<i32>, Value) {
    let output = fedscan()
        .args(["scan", "--offline", "--format", "json", "--config"])
        .arg(root(&format!("fixtures/tickets/{file}")))
        .args(args)
        .output()
        .unwrap();
    (output.status.code(), json_of(&output))
}

/// The statuses of a rule's findings, in report order.
fn statuses(report: &Value, rule: &str) -> Vec<String> {
    findings(report, rule).iter().map(|f| f["status"].as_str().unwrap().to_string()).collect()
}

fn message(report: &Value, rule: &str) -> String {
    findings(report, rule).iter().map(|f| f["message"].as_str().unwrap()).collect::<Vec<_>>().join(" | ")
}

/// Before Skype consumer retired, when the public IM rules apply.
const BEFORE_RETIREMENT: &[&str] = &["--now", "2025-01-15T00:00:00Z"];

#[test]
fn a_per_user_policy_nobody_holds_fails_the_critical_rule() {
    let (code, report) = scan("per-user-policy-only.txt", BEFORE_RETIREMENT);
    assert_eq!(statuses(&report, "CFG-EAP-01"), ["fail"], "{}", message(&report, "CFG-EAP-01"));
    assert_eq!(findings(&report, "CFG-EAP-01")[0]["severity"], "critical");
    assert!(message(&report, "CFG-EAP-01").contains("granted to none of the 3 users listed"));
    assert_eq!(statuses(&report, "CFG-EAP-04"), ["fail"]);
    assert_eq!(statuses(&report, "CFG-EAP-02"), ["pass"], "Global allows federation");
    assert_eq!(code, Some(1));

    // The same paste on standard input (`--config -`) gives the same verdicts.
    let text = std::fs::read(root("fixtures/tickets/per-user-policy-only.txt")).unwrap();
    let output = fedscan()
        .args(["scan", "--offline", "--format", "json", "--config", "-", "--now", "2025-01-15T00:00:00Z"])
        .write_stdin(text)
        .output()
        .unwrap();
    let piped = json_of(&output);
    assert_eq!(statuses(&piped, "CFG-EAP-01"), ["fail"]);
    assert_eq!(piped["inputs"]["config"], serde_json::json!(["-"]));
}

#[test]
fn commands_in_a_transcript_are_not_read_as_empty_output() {
    let (code, report) = scan("transcript-with-pipelines.txt", BEFORE_RETIREMENT);
    // No Get-CsHostingProvider output was captured: nothing is known, so
    // nothing fails for want of a provider.
    for rule in ["PROV-HP-01", "PROV-HP-08"] {
        assert_eq!(statuses(&report, rule), ["skip"], "{rule}: {}", message(&report, rule));
        assert!(message(&report, rule).contains("no `Get-CsHostingProvider` output"));
    }
    // `Get-CsUser | Grant-...` printed no users: who holds the policy is
    // unknown, not "none of 0".
    assert_eq!(statuses(&report, "CFG-EAP-04"), ["skip"]);
    assert_eq!(statuses(&report, "CFG-EAP-01"), ["error"], "{}", message(&report, "CFG-EAP-01"));
    let notes: Vec<&str> = report["notes"].as_array().unwrap().iter().map(|n| n["message"].as_str().unwrap()).collect();
    assert!(
        notes.iter().any(|n| n.contains("Remove-CsHostingProvider") || n.contains("does not print the configuration"))
    );
    assert_eq!(code, Some(3));
}

#[test]
fn an_html_escaped_ticket_paste_keeps_each_command_apart() {
    let (code, report) = scan("html-escaped-ticket.txt", BEFORE_RETIREMENT);
    assert_eq!(statuses(&report, "CFG-EAP-01"), ["pass"], "{}", message(&report, "CFG-EAP-01"));
    assert!(
        message(&report, "CFG-EAP-01")
            .contains("ExternalAccessPolicy[Tag:Sales & Marketing] (granted to 1 enabled user(s) of the 2 listed)")
    );
    assert_eq!(statuses(&report, "CFG-EAP-04"), ["pass"]);
    assert_eq!(statuses(&report, "CFG-EAP-03"), ["pass"]);
    assert_eq!(code, Some(0));
}

#[test]
fn a_windows_1252_file_from_notepad_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let (code, report) = scan("notepad-windows-1252.txt", &["--save-facts", facts.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert_eq!(statuses(&report, "PROV-DOM-01"), ["pass"]);
    let saved = common::read_json(&facts);
    let snapshot = &saved["snapshots"][0];
    assert_eq!(snapshot["encoding"], "windows-1252");
    let blocked = snapshot["objects"].as_array().unwrap().iter().find(|o| o["kind"] == "BlockedDomain").unwrap();
    assert_eq!(
        blocked["properties"]["Comment"],
        "\u{201c}marketing\u{201d} bot network \u{2013} blocked after \u{20ac}5k fraud"
    );
}

#[test]
fn format_table_listings_of_sip_domains_and_certificates() {
    let (code, report) = scan("format-table-listings.txt", &["--now", "2026-11-30T00:00:00Z"]);
    // SIP domains from `ft`: the Edge FQDN is inside one of them.
    assert_eq!(statuses(&report, "CFG-TOP-03"), ["pass"]);
    // Certificates from `ft -AutoSize`: both valid, both roles assigned.
    assert_eq!(statuses(&report, "TLS-EXP-01"), ["pass", "pass"]);
    assert_eq!(statuses(&report, "TLS-USE-01"), ["pass"]);
    // The Access Edge FQDN is among the names shown before the cut...
    assert_eq!(statuses(&report, "TLS-NAME-01"), ["pass"]);
    // ...sip.fabrikam.com is not, and the list was cut: unknown, not missing.
    assert_eq!(statuses(&report, "TLS-NAME-04"), ["error"], "{}", message(&report, "TLS-NAME-04"));
    assert_eq!(statuses(&report, "TLS-NAME-05"), ["error"]);
    // The table left Subject out.
    assert_eq!(statuses(&report, "TLS-NAME-02"), ["error"]);
    assert_eq!(code, Some(3));
}

#[test]
fn a_truncated_tenant_list_proves_no_difference() {
    let (code, report) = scan("hybrid-truncated-tenant-list.txt", &["--profile", "hybrid"]);
    assert_eq!(statuses(&report, "PROV-DOM-05"), ["error"], "{}", message(&report, "PROV-DOM-05"));
    assert!(message(&report, "PROV-DOM-05").contains("cut AllowedDomains short"));
    assert_eq!(code, Some(3));
}

#[test]
fn the_product_is_not_guessed_from_missing_properties() {
    // Microsoft's own Skype for Business Server sample lacks the properties
    // that only Skype for Business Server has.
    let (_, report) = scan("sfb-sample-access-edge.txt", BEFORE_RETIREMENT);
    for rule in ["CFG-VER-01", "CFG-VER-02"] {
        assert_eq!(statuses(&report, rule), ["skip"], "{rule}: {}", message(&report, rule));
        assert!(message(&report, rule).contains("cannot be told"), "{rule}");
    }
    assert_eq!(statuses(&report, "CFG-AEC-01"), ["fail"], "the sample has federation off");
    // PowerShell 7 writes the version as a JSON string.
    let (code, report) = scan("ps7-server-version.json", &["--now", "2025-06-01T00:00:00Z"]);
    assert_eq!(statuses(&report, "CFG-VER-02"), ["pass"], "{}", message(&report, "CFG-VER-02"));
    assert!(message(&report, "CFG-VER-02").contains("Skype for Business Server 2019 is supported until 2025-10-14"));
    assert_eq!(code, Some(0));
}

#[test]
fn an_expired_edge_certificate_in_a_get_cscertificate_listing_fails() {
    let (code, report) = scan("edge-certificate.txt", &["--now", "2026-11-30T00:00:00Z"]);
    assert_eq!(statuses(&report, "TLS-EXP-01"), ["fail", "pass"], "{}", message(&report, "TLS-EXP-01"));
    let expired = findings(&report, "TLS-EXP-01")[0];
    assert_eq!(expired["target"], "Certificate[AccessEdgeExternal, DataEdgeExternal]");
    assert!(expired["message"].as_str().unwrap().starts_with("expired on 2019-06-30"));
    assert_eq!(statuses(&report, "TLS-USE-01"), ["pass"]);
    assert_eq!(code, Some(1));
    // With the Access Edge FQDN, its names are judged too.
    let (_, report) = scan("edge-certificate.txt", &["--now", "2026-11-30T00:00:00Z", "--edge", "sip.contoso.com"]);
    assert_eq!(statuses(&report, "TLS-NAME-01"), ["pass"]);
    assert_eq!(statuses(&report, "TLS-NAME-02"), ["pass"]);
}

#[test]
fn a_name_printed_twice_is_no_second_object() {
    let (code, report) = scan("repeated-key.txt", &[]);
    assert_eq!(statuses(&report, "PROV-DOM-01"), ["pass"]);
    let evidence = &findings(&report, "PROV-DOM-01")[0]["evidence"];
    assert_eq!(evidence["blocked"], serde_json::json!(["spam.example"]), "{evidence}");
    assert_eq!(code, Some(0));
}

#[test]
fn a_sip_trace_given_as_a_snapshot_is_an_input_error_that_says_what_it_is() {
    let output =
        fedscan().args(["scan", "--offline", "--config"]).arg(root("fixtures/traces/sfb-edge.log")).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("this is a SIP trace or log") && stderr.contains("fedscan diagnose"), "{stderr}");
}

#[test]
fn partner_domains_are_normalized_like_domain_arguments() {
    let output = fedscan()
        .args(["scan", "--offline", "--format", "json", "--config", "fixtures/sample/contoso-lync2013.txt"])
        .args(["--partner", "IT.LitwareInc.COM.", "--partner", "münchen.de"])
        .current_dir(root(""))
        .output()
        .unwrap();
    let report = json_of(&output);
    assert_eq!(report["inputs"]["partners"], serde_json::json!(["it.litwareinc.com", "xn--mnchen-3ya.de"]));
    // The blocked entry litwareinc.com covers it, whatever case it was typed in.
    let blocked: Vec<&Value> = findings(&report, "PROV-DOM-03");
    assert_eq!(blocked[0]["target"], "it.litwareinc.com");
    assert_eq!(blocked[0]["status"], "fail");
}

/// A `Format-Table -AutoSize` listing with the console's warning straight
/// under its rows (no blank line): the warning is no row (no phantom
/// provider), and the columns it removed are unknown, not absent — the
/// critical PROV-PIC-02 is `error`, never `skip`, and the run is no clean
/// bill. A `Get-CsCertificate` table pasted with every line break doubled
/// (a blank line between header, rule and rows) is read whole.
#[test]
fn removed_columns_are_unknown_and_double_spaced_tables_are_read() {
    let (code, report) = scan("autosize-warning-and-spaced-rows.txt", BEFORE_RETIREMENT);
    assert_eq!(statuses(&report, "PROV-PIC-02"), ["error"], "{}", message(&report, "PROV-PIC-02"));
    assert!(message(&report, "PROV-PIC-02").contains("Enabled is not shown: Format-Table left columns out"));
    assert!(message(&report, "PROV-PIC-01").contains("1 PublicProvider object"), "{}", message(&report, "PROV-PIC-01"));
    assert_eq!(statuses(&report, "PROV-PIC-05"), ["error"]);
    assert_eq!(statuses(&report, "TLS-USE-01"), ["pass"], "{}", message(&report, "TLS-USE-01"));
    assert_eq!(statuses(&report, "TLS-EXP-01"), ["pass", "fail", "pass"], "{}", message(&report, "TLS-EXP-01"));
    assert_eq!(findings(&report, "TLS-EXP-01")[1]["target"], "Certificate[ExternalAccess]");
    assert_eq!(code, Some(3));
}

/// A `Format-Table` whose runs of spaces a chat or web page collapsed: its
/// cells cross the columns the dashes mark. Cut at the dashes it gave the
/// SIP domains `om co` and `com f`, and CFG-TOP-03 failed on them. Read by
/// words when every line has one word per column (said in a note); else
/// every value is doubtful and nothing of it becomes a SIP domain.
#[test]
fn a_collapsed_format_table_is_read_by_words_or_doubted_never_cut_into_phantoms() {
    let (code, report) = scan("collapsed-table-one-word-cells.txt", &[]);
    assert_eq!(statuses(&report, "CFG-TOP-03"), ["pass"], "{}", message(&report, "CFG-TOP-03"));
    assert!(message(&report, "CFG-TOP-03").contains("inside SIP domain contoso.com"));
    let notes: Vec<&str> = report["notes"].as_array().unwrap().iter().map(|n| n["message"].as_str().unwrap()).collect();
    assert!(notes.iter().any(|n| n.contains("crosses its own columns")), "{notes:#?}");
    assert_eq!(code, Some(0));

    let (code, report) = scan("collapsed-table-spaced-cells.txt", &[]);
    assert_eq!(statuses(&report, "CFG-TOP-03"), ["error"], "{}", message(&report, "CFG-TOP-03"));
    assert!(message(&report, "CFG-TOP-03").contains("spacing was collapsed"), "{}", message(&report, "CFG-TOP-03"));
    let text = report.to_string();
    assert!(!text.contains("com f") && !text.contains("om co"), "a phantom domain: {text}");
    assert_eq!(code, Some(3));
}

/// One export has one culture: in an en-GB `Get-CsCertificate` listing,
/// `23/04/2018` can only be day first, so `10/06/2016` is 10 June too, and
/// the expired Edge certificate fails (critical) instead of being left
/// undecided (`error`).
#[test]
fn a_listing_dates_its_ambiguous_dates_by_its_unambiguous_ones() {
    let (code, report) = scan("en-gb-certificate-dates.txt", &["--now", "2016-09-01T00:00:00Z"]);
    let expiry = findings(&report, "TLS-EXP-01");
    assert_eq!(expiry[0]["target"], "Certificate[AccessEdgeExternal]");
    assert_eq!(expiry[0]["status"], "fail", "{}", message(&report, "TLS-EXP-01"));
    assert!(expiry[0]["message"].as_str().unwrap().contains("expired on 2016-06-10"), "{}", expiry[0]);
    assert_eq!(code, Some(1));
}

// ------------------------------------------------------------ metamorphic

/// What a paste goes through on its way to support, as a transformation of
/// its text into the bytes that arrive.
/// Format-List lines a chat or web page ran together keep their verdicts:
/// a critical property joined onto the line before is read, not "not in
/// the export".
#[test]
fn joined_format_list_lines_are_read_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("joined.txt");
    std::fs::write(
        &path,
        "PS C:\\> Get-CsAccessEdgeConfiguration\n\nIdentity : Global AllowAnonymousUsers : False AllowFederatedUsers : False AllowOutsideUsers : True UseDnsSrvRouting : EnablePartnerDiscovery : True\n",
    )
    .unwrap();
    let output = fedscan().args(["scan", "--offline", "--format", "json", "--config"]).arg(&path).output().unwrap();
    let report = json_of(&output);
    assert_eq!(statuses(&report, "CFG-AEC-01"), ["fail"], "{}", message(&report, "CFG-AEC-01"));
    assert_eq!(statuses(&report, "CFG-AEC-03"), ["pass"], "{}", message(&report, "CFG-AEC-03"));
    assert!(report.to_string().contains("split joined lines: before `AllowAnonymousUsers :` at line 3"), "{report}");
}

/// The findings of an offline scan of `bytes` as a snapshot, by rule and
/// target (the rules not run left out); `None` when it was refused.
fn snapshot_verdicts(dir: &std::path::Path, name: &str, bytes: &[u8]) -> Option<BTreeMap<(String, String), String>> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let output = fedscan()
        .args(["scan", "--offline", "--format", "json", "--now", "2025-01-15T00:00:00Z", "--config"])
        .arg(&path)
        .args(["--partner", "it.litwareinc.com"])
        .output()
        .unwrap();
    if output.status.code() == Some(2) && output.stdout.is_empty() {
        return None;
    }
    let report = json_of(&output);
    Some(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f.get("not_run").is_none())
            .map(|f| {
                let target = f["target"].as_str().unwrap_or("").to_string();
                ((f["rule"].as_str().unwrap().to_string(), target), f["status"].as_str().unwrap().to_string())
            })
            .collect(),
    )
}

/// How a transformed paste's verdicts compare with the clean paste's.
#[derive(Default, Debug)]
struct Comparison {
    identical: usize,
    /// Differences that are `error` (not judged) or a refused input.
    undecided: usize,
    /// Verdicts given that the clean paste does not give: the defects.
    wrong: Vec<String>,
    /// Runs with such verdicts.
    wrong_runs: usize,
}

impl Comparison {
    fn add(
        &mut self,
        what: &str,
        clean: &BTreeMap<(String, String), String>,
        seen: Option<BTreeMap<(String, String), String>>,
    ) {
        let Some(seen) = seen else {
            self.undecided += 1;
            return;
        };
        if &seen == clean {
            self.identical += 1;
            return;
        }
        let mut wrong = Vec::new();
        for (key, status) in &seen {
            let before = clean.get(key);
            let judged = status == "pass" || status == "fail";
            match before {
                Some(b) if b == status => {}
                // Not judged, or judged as before: never a verdict of its own.
                _ if status == "error" => {}
                Some(b) if judged || b == "pass" || b == "fail" => {
                    wrong.push(format!("{} {}: {b} → {status}", key.0, key.1))
                }
                None if judged => wrong.push(format!("{} {}: (none) → {status} (a phantom target)", key.0, key.1)),
                _ => {}
            }
        }
        // A verdict gone from its target is not lost when the rule says it
        // could not judge (the object's name itself may be what was mangled).
        let unjudged = |rule: &str| seen.iter().any(|((r, _), s)| r == rule && s == "error");
        for (key, before) in clean {
            if (before == "pass" || before == "fail") && !seen.contains_key(key) && !unjudged(&key.0) {
                wrong.push(format!("{} {}: {before} → (gone)", key.0, key.1));
            }
        }
        if wrong.is_empty() {
            self.undecided += 1;
        } else {
            self.wrong_runs += 1;
            self.wrong.extend(wrong.into_iter().map(|w| format!("{what}: {w}")));
        }
    }
}

/// Every snapshot fixture through every transport a paste meets, alone and
/// in pairs: each gives the clean paste's verdicts, or `error` where it
/// could not be read, or is refused — never a flipped pass/fail, a verdict
/// the clean paste does not give, or a phantom object.
#[test]
fn mangled_snapshot_pastes_keep_their_verdicts_or_give_none() {
    let fixtures: Vec<std::path::PathBuf> = ["fixtures/tickets", "fixtures/snapshots"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root(d)).unwrap().map(|e| e.unwrap().path()))
        .chain([root("fixtures/sample/contoso-lync2013.txt")])
        .filter(|p| p.extension().is_some_and(|e| e == "txt" || e == "json"))
        .filter(|p| std::str::from_utf8(&std::fs::read(p).unwrap()).is_ok())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut comparison = Comparison::default();
    for fixture in &fixtures {
        let text = std::fs::read_to_string(fixture).unwrap();
        let name = fixture.file_name().unwrap().to_string_lossy().to_string();
        let Some(clean) = snapshot_verdicts(dir.path(), &format!("clean-{name}"), text.as_bytes()) else { continue };
        let mut runs: Vec<(String, Vec<u8>)> = Vec::new();
        // A snapshot is pasted, not logged: no log prefix.
        let transports: Vec<&Transport> = TRANSPORTS.iter().filter(|(t, _)| *t != "log-prefix").collect();
        for (i, (a, ta)) in transports.iter().enumerate() {
            runs.push((a.to_string(), ta(&text)));
            for (b, tb) in transports[i + 1..].iter().filter(|(b, _)| !matches!(*b, "cp1252" | "utf16")) {
                // The encodings are last: what a mail client saves.
                if matches!(*a, "cp1252" | "utf16") {
                    continue;
                }
                runs.push((format!("{a}+{b}"), tb(&String::from_utf8(ta(&text)).unwrap())));
            }
        }
        for (transport, bytes) in runs {
            let seen = snapshot_verdicts(dir.path(), &format!("{transport}-{name}"), &bytes);
            comparison.add(&format!("{name} [{transport}]"), &clean, seen);
        }
    }
    let total = comparison.identical + comparison.undecided + comparison.wrong_runs;
    eprintln!(
        "snapshot pastes: {} fixtures × transports: {} identical, {} with errors or refused, {} with a wrong verdict (of {total} runs)",
        fixtures.len(),
        comparison.identical,
        comparison.undecided,
        comparison.wrong_runs
    );
    assert!(comparison.wrong.is_empty(), "{:#?}", comparison.wrong);
}

/// A trace's diagnosis, without where in the file things stand (a paste
/// moves lines) and without the notes on what was repaired; its exit code.
fn trace_verdicts(dir: &std::path::Path, name: &str, bytes: &[u8]) -> (Option<i32>, Value) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let output =
        fedscan().args(["diagnose", "--format", "json", "--domain", "contoso.com"]).arg(&path).output().unwrap();
    if output.stdout.is_empty() {
        return (output.status.code(), Value::Null);
    }
    (output.status.code(), common::without_lines(&json_of(&output)["transactions"]))
}

/// The failures a diagnosis shows, whatever transaction they were put in:
/// each response's status, each ms-diagnostics code and each error, sorted.
fn failures_seen(transactions: &Value) -> Vec<String> {
    let mut seen: Vec<String> = transactions
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["failures"].as_array().into_iter().flatten())
        .flat_map(|f| {
            let status = f["status"].as_u64().map(|s| format!("status {s}"));
            let codes = f["diagnostics"].as_array().into_iter().flatten().map(|d| format!("code {}", d["code"]));
            let errors =
                f["errors"].as_array().into_iter().flatten().map(|e| format!("error {}{}", e["code"], e["name"]));
            status.into_iter().chain(codes).chain(errors).collect::<Vec<_>>()
        })
        .collect();
    seen.sort();
    seen
}

/// Every trace fixture (the repository's and the public corpus) through
/// every transport, alone and in pairs: the clean trace's diagnosis, or the
/// same failures with less context (a Call-ID, From or To the paste broke),
/// or a refusal or "nothing to conclude" (exit 2 or 3) — never "no failure"
/// where the clean trace shows one, nor other failures than it shows; and
/// at least 95% identical.
#[test]
fn mangled_traces_keep_their_diagnosis_or_give_none() {
    // The repository's traces and the public ones (not their table of
    // expected diagnoses).
    let fixtures: Vec<std::path::PathBuf> = ["fixtures/traces", "fixtures/traces/public"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root(d)).unwrap().map(|e| e.unwrap().path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e != "toml"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (mut identical, mut less_context, mut undecided, mut wrong) = (0, 0, 0, Vec::new());
    for fixture in &fixtures {
        let text = std::fs::read_to_string(fixture).unwrap();
        let name = fixture.file_name().unwrap().to_string_lossy().to_string();
        let clean = trace_verdicts(dir.path(), &format!("clean-{name}"), text.as_bytes());
        let mut runs: Vec<(String, Vec<u8>)> = Vec::new();
        for (i, (a, ta)) in TRANSPORTS.iter().enumerate() {
            runs.push((a.to_string(), ta(&text)));
            if matches!(*a, "cp1252" | "utf16") {
                continue;
            }
            for (b, tb) in TRANSPORTS[i + 1..].iter().filter(|(b, _)| !matches!(*b, "cp1252" | "utf16")) {
                runs.push((format!("{a}+{b}"), tb(&String::from_utf8(ta(&text)).unwrap())));
            }
        }
        for (transport, bytes) in runs {
            let seen = trace_verdicts(dir.path(), &format!("{transport}-{name}"), &bytes);
            match seen.0 {
                _ if seen == clean => identical += 1,
                Some(2 | 3) => undecided += 1,
                // The same failures, but a Call-ID, From or To the paste
                // broke beyond repair: less context, the same verdicts.
                code if code == clean.0 && failures_seen(&seen.1) == failures_seen(&clean.1) => less_context += 1,
                _ => wrong.push(format!("{name} [{transport}]: exit {:?} (clean {:?})", seen.0, clean.0)),
            }
        }
    }
    eprintln!(
        "traces: {} fixtures × transports: {identical} identical, {less_context} with the same failures and less context, {undecided} refused or inconclusive, {} wrong",
        fixtures.len(),
        wrong.len()
    );
    assert!(identical * 100 >= (identical + less_context + undecided + wrong.len()) * 95, "{identical} identical");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

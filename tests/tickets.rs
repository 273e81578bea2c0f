//! What support engineers receive, in the shapes users paste it
//! (`fixtures/tickets/`): each file gives the exact verdicts of the rules it
//! bears on. Each case is a defect found from the outside: a false pass, a
//! false fail, or output lost.

mod common;

use common::{fedscan, json_of, root};
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

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == rule).collect()
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

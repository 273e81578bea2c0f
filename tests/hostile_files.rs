//! Hostile and damaged files given to fedscan: each is refused with a
//! message that names it and what is wrong, nothing is judged from a part of
//! it as if it were whole, and nothing panics.

mod common;

use common::{assert_inert, fedscan, root};
use serde_json::Value;

/// A facts file whose Edge certificate does not decode is refused, naming
/// the fact: judged without its leaf, the chain's issuing CA would be taken
/// for the Edge certificate.
#[test]
fn a_facts_file_with_a_damaged_certificate_is_refused_naming_the_fact() {
    let text = std::fs::read_to_string(root("fixtures/sample/contoso.facts.json")).unwrap();
    let mut facts: Value = serde_json::from_str(&text).unwrap();
    let handshake = &mut facts["tls"][0];
    let label = format!(
        "{}:{} ({})",
        handshake["host"].as_str().unwrap(),
        handshake["port"],
        handshake["address"].as_str().unwrap()
    );
    let leaf = handshake["chain"][0].as_str().unwrap().to_string();
    handshake["chain"][0] = Value::String(format!("{}!!{}", &leaf[..40], &leaf[40..]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.facts.json");
    std::fs::write(&path, serde_json::to_string_pretty(&facts).unwrap()).unwrap();
    let output = fedscan().args(["scan", "--format", "json", "--facts"]).arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing is judged: {}", String::from_utf8_lossy(&output.stdout));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("tls[0] ({label}): certificate 1 is not base64-encoded DER")), "{stderr}");
    assert_inert("stderr", &stderr);
}

/// What stderr quotes of a file or an argument is escaped: a facts file's
/// parse error, a rule file's diagnostic with its line, an argument echoed
/// in a usage error, an input error recorded in replayed facts.
#[test]
fn stderr_quotes_files_and_arguments_inertly() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "\x1b[2J\x1b]8;;http://evil.example\x07\u{9b}31m\u{202e}\r\n";

    let facts = dir.path().join("bad.facts.json");
    std::fs::write(&facts, format!("{{\"schema\": \"fedscan.facts/1\", \"gathered_at\": \"{hostile}\"}}")).unwrap();
    let output = fedscan().args(["scan", "--facts"]).arg(&facts).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_inert("a facts file's parse error", &String::from_utf8_lossy(&output.stderr));

    let rules = dir.path().join("mine.toml");
    std::fs::write(&rules, format!("[[rule]]\nid = \"ORG-X-01\"\n\"{}\" = 1\n", hostile.replace(['\r', '\n'], "")))
        .unwrap();
    let output = fedscan().args(["rules", "validate"]).arg(&rules).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("mine.toml:3:1: unknown field"), "{stderr}");
    assert_inert("a rule file's diagnostic", &stderr);

    let output = fedscan().args(["scan", "--edge", hostile, "contoso.com"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_inert("an argument in a usage error", &String::from_utf8_lossy(&output.stderr));

    let recorded = dir.path().join("recorded.facts.json");
    let text = std::fs::read_to_string(root("fixtures/sample/contoso.facts.json")).unwrap();
    let mut facts: Value = serde_json::from_str(&text).unwrap();
    facts["input_errors"] = serde_json::json!([{ "path": hostile, "message": hostile }]);
    std::fs::write(&recorded, serde_json::to_string(&facts).unwrap()).unwrap();
    for format in ["table", "json"] {
        let output = fedscan().args(["scan", "--format", format, "--facts"]).arg(&recorded).output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert_inert("a recorded input error on stderr", &String::from_utf8_lossy(&output.stderr));
        assert_inert("the report of it", &String::from_utf8_lossy(&output.stdout));
    }
}

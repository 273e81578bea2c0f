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

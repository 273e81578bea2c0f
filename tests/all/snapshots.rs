//! Snapshot parsing over the fixtures in `fixtures/snapshots/`: every shape
//! and encoding a support engineer receives, and hostile files that must give
//! a clear error naming the place, never a panic.

use crate::common;
use std::io::Write;
use std::path::{Path, PathBuf};

use fedscan::facts::snapshot::{Encoding, ObjectKind, SnapshotFact, SnapshotFormat, read_snapshot};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/snapshots").join(name)
}

fn read(name: &str) -> SnapshotFact {
    read_snapshot(&fixture(name), name).unwrap_or_else(|e| panic!("{e}"))
}

fn kinds(fact: &SnapshotFact) -> Vec<ObjectKind> {
    fact.objects.iter().map(|o| o.kind).collect()
}

fn property<'a>(fact: &'a SnapshotFact, kind: ObjectKind, name: &str) -> &'a Value {
    fact.objects.iter().find(|o| o.kind == kind).and_then(|o| o.get(name)).map(|(_, v)| v).expect(name)
}

#[test]
fn transcript_in_every_encoding_reads_the_same() {
    let plain = read("transcript.txt");
    assert_eq!(plain.format, SnapshotFormat::FormatList);
    assert_eq!(kinds(&plain), [ObjectKind::AccessEdgeConfiguration, ObjectKind::PublicProvider, ObjectKind::SipDomain]);
    assert_eq!(property(&plain, ObjectKind::AccessEdgeConfiguration, "AllowFederatedUsers"), "True");
    let list = property(&plain, ObjectKind::PublicProvider, "NameDecorationExcludedDomainList");
    assert_eq!(list.as_array().map(Vec::len), Some(4));
    for (name, encoding) in [
        ("transcript.utf8-bom.txt", Encoding::Utf8Bom),
        ("transcript.utf16le.txt", Encoding::Utf16le),
        ("transcript.utf16be.txt", Encoding::Utf16be),
    ] {
        let other = read(name);
        assert_eq!(other.encoding, encoding, "{name}");
        assert_eq!(other.objects, plain.objects, "{name} (CRLF line ends) reads differently");
        assert_eq!(other.captures, plain.captures, "{name}");
    }
}

#[test]
fn single_cmdlet_output_double_spaced_and_wrapped() {
    let fact = read("Get-CsHostingProvider.txt");
    assert_eq!(kinds(&fact), [ObjectKind::HostingProvider, ObjectKind::HostingProvider]);
    assert_eq!(
        property(&fact, ObjectKind::HostingProvider, "AutodiscoverUrl"),
        "https://webdir.online.lync.com/Autodiscover/AutodiscoverService.svc/root",
        "a value wrapped mid-word is joined without a space"
    );
    assert_eq!(fact.objects[1].identity().as_deref(), Some("Exchange Online"));
    assert_eq!(fact.objects[1].line, Some(20));
    assert!(fact.notes.is_empty(), "{:?}", fact.notes);
}

#[test]
fn ticket_paste_with_markdown_debris() {
    let fact = read("ticket-paste.txt");
    assert_eq!(kinds(&fact), [ObjectKind::ExternalAccessPolicy]);
    assert_eq!(property(&fact, ObjectKind::ExternalAccessPolicy, "EnablePublicCloudAccess"), "True");
    assert_eq!(property(&fact, ObjectKind::ExternalAccessPolicy, "Description"), "");
    // The prose around the paste is noted, not taken for data.
    assert_eq!(fact.notes.len(), 2, "{:?}", fact.notes);
}

#[test]
fn windows_powershell_json_with_numeric_enums() {
    for name in ["export-ps51.json", "export-ps51.utf16le.json"] {
        let fact = read(name);
        assert_eq!(fact.format, SnapshotFormat::Json);
        assert_eq!(
            kinds(&fact),
            [ObjectKind::AccessEdgeConfiguration, ObjectKind::HostingProvider, ObjectKind::EdgeService],
            "{name}"
        );
        assert_eq!(property(&fact, ObjectKind::HostingProvider, "VerificationLevel"), 2);
        let captured: Vec<ObjectKind> = fact.captures.iter().map(|c| c.kind).collect();
        assert!(captured.contains(&ObjectKind::AllowedDomain) && captured.contains(&ObjectKind::BlockedDomain));
        let edge = fact.objects.iter().find(|o| o.kind == ObjectKind::EdgeService).unwrap();
        assert_eq!(edge.pointer.as_deref(), Some("/Get-CsService -EdgeServer/0"));
    }
}

#[test]
fn bare_json_array_named_after_the_cmdlet() {
    let fact = read_snapshot(&fixture("public-providers.json"), "Get-CsPublicProvider.json").unwrap();
    assert_eq!(kinds(&fact), [ObjectKind::PublicProvider, ObjectKind::PublicProvider]);
}

#[test]
fn format_table_rows_are_objects() {
    let fact = read_snapshot(&fixture("format-table.txt"), "format-table.txt").unwrap();
    assert_eq!(kinds(&fact), [ObjectKind::PublicProvider]);
    assert_eq!(property(&fact, ObjectKind::PublicProvider, "VerificationLevel"), "AlwaysUnverifiable");
    assert_eq!(property(&fact, ObjectKind::PublicProvider, "ProxyFqdn"), "federation.messenger.msn.com");
}

fn error_of(path: &Path) -> String {
    read_snapshot(path, &path.display().to_string()).expect_err("must be refused").to_string()
}

#[test]
fn hostile_files_are_refused_with_the_place() {
    let truncated = error_of(&fixture("truncated.json"));
    assert!(truncated.contains("truncated.json:5:"), "{truncated}");
    assert!(truncated.contains("invalid JSON"), "{truncated}");
    let utf16 = error_of(&fixture("truncated.utf16le.txt"));
    assert!(utf16.contains("odd number of bytes"), "{utf16}");

    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.txt");
    std::fs::write(&garbage, common::garbage(65_536, 0x2545_f491)).unwrap();
    assert!(error_of(&garbage).contains("binary data"));

    let deep = dir.path().join("deep.json");
    std::fs::write(&deep, format!("{{\"Get-CsSipDomain\": {}", "[".repeat(200_000))).unwrap();
    assert!(error_of(&deep).contains("recursion limit"), "{}", error_of(&deep));

    let huge = dir.path().join("huge.txt");
    let mut file = std::fs::File::create(&huge).unwrap();
    let line = "Identity : Global\r\n".repeat(1024);
    for _ in 0..(50 * 1024 * 1024 / line.len() + 1) {
        file.write_all(line.as_bytes()).unwrap();
    }
    drop(file);
    assert!(error_of(&huge).contains("at most 16 MiB"), "{}", error_of(&huge));

    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "\r\n  \r\n").unwrap();
    assert!(error_of(&empty).contains("empty"));
}

//! Hostile and damaged files given to fedscan: each is refused with a
//! message that names it and what is wrong, nothing is judged from a part of
//! it as if it were whole, and nothing panics.

use crate::common;
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

    // serde quotes the unknown value in its message.
    let facts = dir.path().join("bad.facts.json");
    let value = serde_json::to_string(hostile).unwrap();
    let text = format!(
        "{{\"schema\": \"fedscan.facts/1\", \"tool_version\": \"0\", \"gathered_at\": \"2026-01-01T00:00:00Z\", \"inputs\": {{}}, \"dns\": [{{\"view\": {value}}}]}}"
    );
    std::fs::write(&facts, text).unwrap();
    let output = fedscan().args(["scan", "--facts"]).arg(&facts).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown variant"), "{stderr}");
    assert_inert("a facts file's parse error", &stderr);

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

/// An output path that is an input, or the other output, is refused before
/// anything is scanned (exit 2), and the input is left as it was.
#[test]
fn an_output_onto_an_input_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot.txt");
    std::fs::copy(root("fixtures/sample/contoso-lync2013.txt"), &snapshot).unwrap();
    let facts = dir.path().join("sample.facts.json");
    std::fs::copy(root("fixtures/sample/contoso.facts.json"), &facts).unwrap();
    let cert = dir.path().join("edge.pem");
    std::fs::copy(root("fixtures/certs/good.pem"), &cert).unwrap();
    let link = dir.path().join("link-to-snapshot.txt");
    std::os::unix::fs::symlink(&snapshot, &link).unwrap();
    let same = dir.path().join("out.json");
    let kept = |path: &std::path::Path, original: &str| {
        assert_eq!(std::fs::read(path).unwrap(), std::fs::read(root(original)).unwrap(), "{}", path.display());
    };
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (args(&["--offline", "--config"], &[&snapshot], &["--output"], &[&snapshot]), "is the file given to --config"),
        (args(&["--offline", "--config"], &[dir.path()], &["--output"], &[&snapshot]), "is the file given to --config"),
        (args(&["--offline", "--config"], &[&snapshot], &["--output"], &[&link]), "is the file given to --config"),
        (args(&["--facts"], &[&facts], &["--output"], &[&facts]), "is the file given to --facts"),
        (args(&["--facts"], &[&facts], &["--save-facts"], &[&facts]), "is the file given to --facts"),
        (
            args(&["--offline", "--cert-file"], &[&cert], &["--save-facts"], &[&cert]),
            "is the file given to --cert-file",
        ),
        (
            [
                args(&["--offline", "--config"], &[&snapshot], &["--output"], &[&same]),
                args(&["--save-facts"], &[&same], &[], &[]),
            ]
            .concat(),
            "name the same file",
        ),
        (
            args(&["--facts"], &[&facts], &["--output"], &[&dir.path().join("missing/report.json")]),
            "cannot write there",
        ),
    ];
    for (arguments, says) in cases {
        let output = fedscan().arg("scan").args(&arguments).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{arguments:?}: {stderr}");
        assert!(stderr.contains(says), "{arguments:?}: {stderr}");
        assert!(output.stdout.is_empty(), "nothing was scanned: {arguments:?}");
    }
    kept(&snapshot, "fixtures/sample/contoso-lync2013.txt");
    kept(&facts, "fixtures/sample/contoso.facts.json");
    kept(&cert, "fixtures/certs/good.pem");
    assert!(!same.exists());
}

/// `flags` `paths` `more` `more_paths`, as arguments.
fn args(
    flags: &[&str],
    paths: &[&std::path::Path],
    more: &[&str],
    more_paths: &[&std::path::Path],
) -> Vec<std::ffi::OsString> {
    let mut out: Vec<std::ffi::OsString> = flags.iter().map(Into::into).collect();
    out.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
    out.extend(more.iter().map(Into::into));
    out.extend(more_paths.iter().map(|p| p.as_os_str().to_owned()));
    out
}

/// A device or a named pipe given as any file input is refused at once with
/// the flag and the path named: a zero device (a look-alike of `/dev/zero`,
/// made in the test's directory) would be read until memory runs out, a
/// FIFO would block forever.
#[test]
fn devices_and_pipes_are_refused_as_files() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.pem");
    common::make_fifo(&fifo);
    let zero = dir.path().join("zero");
    common::make_char_device(&zero, 1, 5);
    let key = dir.path().join("key.pem");
    std::fs::write(&key, "not a key").unwrap();
    for special in [zero.as_path(), fifo.as_path()] {
        let special = special.to_str().unwrap();
        for arguments in [
            vec!["--offline", "--cert-file", special],
            vec!["--facts", special],
            vec!["--domains-file", special],
            vec!["--offline", "--config", special],
            vec!["--offline", "--cert-file", "fixtures/certs/good.pem", "--trust", special],
            vec!["--offline", "--cert-file", "fixtures/certs/good.pem", "--rules", special],
            vec!["contoso.com", "--client-cert", special, "--client-key", key.to_str().unwrap()],
        ] {
            let output = fedscan()
                .arg("scan")
                .args(&arguments)
                .current_dir(root(""))
                .timeout(std::time::Duration::from_secs(20))
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{arguments:?}: {stderr}");
            assert!(stderr.contains("not a regular file") && stderr.contains(special), "{arguments:?}: {stderr}");
        }
    }
}

/// Two links back to the directory itself inside a `--config` directory
/// are not followed round and round: the walk reads each directory once.
#[test]
fn links_that_loop_in_a_config_directory_are_walked_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root("fixtures/sample/contoso-lync2013.txt"), dir.path().join("snapshot.txt")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("again")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("and-again")).unwrap();
    let started = std::time::Instant::now();
    let output = fedscan()
        .args(["scan", "--offline", "--format", "json", "--config"])
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["inputs"]["config"].as_array().unwrap().len(), 1);
    assert!(output.status.code().is_some_and(|c| c != 2), "{}", String::from_utf8_lossy(&output.stderr));
}

/// An object with 200,000 properties parses in linear time (it took minutes
/// when each name was looked up among all the object's names), and a 16 MiB
/// snapshot of one transcript repeated thousands of times gives a report in
/// proportion to it (one finding named every repeated policy: 1.4 GB of JSON,
/// 4.4 GiB of memory).
#[test]
fn huge_and_repeated_snapshots_cost_in_proportion() {
    let dir = tempfile::tempdir().unwrap();
    let mut wide = String::from("PS C:\\> Get-CsAccessEdgeConfiguration\n\nIdentity : Global\n");
    for i in 0..200_000 {
        wide.push_str(&format!("Prop{i} : value{i}\n"));
    }
    let wide_path = dir.path().join("wide.txt");
    std::fs::write(&wide_path, wide).unwrap();
    let output = fedscan()
        .args(["scan", "--offline", "--format", "json", "--config"])
        .arg(&wide_path)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(output.status.code().is_some_and(|c| c == 0 || c == 1 || c == 3), "{:?}", output.status);

    let transcript = std::fs::read_to_string(root("fixtures/sample/contoso-lync2013.txt")).unwrap();
    let copies = (15 * 1024 * 1024) / transcript.len();
    let repeated_path = dir.path().join("repeated.txt");
    std::fs::write(&repeated_path, transcript.repeat(copies)).unwrap();
    let output = fedscan()
        .args(["scan", "--offline", "--format", "json", "--config"])
        .arg(&repeated_path)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(output.status.code().is_some_and(|c| c == 1), "{:?}", output.status);
    let input = std::fs::metadata(&repeated_path).unwrap().len() as usize;
    assert!(output.stdout.len() < 8 * input, "a {input}-byte snapshot gave a {}-byte report", output.stdout.len());
}

/// A value megabytes long (an ms-diagnostics reason in replayed facts) is
/// shortened in the table, whose layout costs the square of a word's length
/// (a 2 MB reason took minutes), and kept whole in the JSON report.
#[test]
fn a_megabyte_value_is_shortened_in_the_table_and_whole_in_json() {
    let text = std::fs::read_to_string(root("fixtures/sample/contoso.facts.json")).unwrap();
    let mut facts: Value = serde_json::from_str(&text).unwrap();
    let reason = "A".repeat(2 * 1024 * 1024);
    facts["sip"][0]["response"]["diagnostics"] =
        serde_json::json!([{ "header": "ms-diagnostics", "code": 1009, "reason": reason }]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.facts.json");
    std::fs::write(&path, serde_json::to_string(&facts).unwrap()).unwrap();
    let table = fedscan()
        .args(["scan", "--color", "never", "--facts"])
        .arg(&path)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(table.status.code(), Some(1));
    let shown = String::from_utf8_lossy(&table.stdout);
    assert!(shown.len() < 512 * 1024, "{} bytes of table", shown.len());
    assert!(shown.contains("more characters; see --format json"), "the cut is said");
    let json = fedscan().args(["scan", "--format", "json", "--facts"]).arg(&path).output().unwrap();
    assert!(String::from_utf8_lossy(&json.stdout).contains(&reason), "whole in JSON");
}

/// 20,000 snapshot files in a `--config` directory are read in linear time
/// (their de-duplication compared every file with every other: 26 s).
#[test]
fn twenty_thousand_snapshot_files_are_read_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Identity : Global\r\nAllowFederatedUsers : True\r\n";
    for i in 0..20_000 {
        std::fs::write(dir.path().join(format!("Get-CsAccessEdgeConfiguration-{i:05}.txt")), text).unwrap();
    }
    let output = fedscan()
        .args(["scan", "--offline", "--only", "CFG-AEC-01", "--format", "json", "--config"])
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(output.status.code().is_some_and(|c| c == 0), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(common::findings(&report, "CFG-AEC-01").len(), 20_000);
}

/// A baseline is a file from elsewhere: a hostile rule, target or message
/// in one of its problems that is fixed now is shown inert in the table.
#[test]
fn a_hostile_baseline_problem_is_shown_inert_when_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let facts = root("fixtures/sample/contoso.facts.json");
    let output = fedscan().args(["scan", "--format", "json", "--facts"]).arg(&facts).output().unwrap();
    let mut report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let hostile = "\x1b[2J\x1b]0;owned\x07\u{9b}31m\u{202e}\u{fffe}";
    let failure = report["findings"].as_array_mut().unwrap().iter_mut().find(|f| f["status"] == "fail").unwrap();
    failure["rule"] = Value::from(format!("DNS-FED-01{hostile}"));
    failure["target"] = Value::from(format!("gone{hostile}"));
    failure["message"] = Value::from(hostile);
    let baseline = dir.path().join("baseline.json");
    std::fs::write(&baseline, serde_json::to_string(&report).unwrap()).unwrap();
    for format in ["table", "markdown", "html", "junit", "csv", "sarif", "ndjson"] {
        let output = fedscan()
            .args(["scan", "--color", "never", "--format", format, "--baseline"])
            .arg(&baseline)
            .arg("--facts")
            .arg(&facts)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{format}: {}", String::from_utf8_lossy(&output.stderr));
        // CSV ends its records with CR LF, its own.
        assert_inert(format, &stdout.replace("\r\n", "\n"));
        assert_inert("stderr", &String::from_utf8_lossy(&output.stderr));
        if format == "table" {
            assert!(stdout.contains("gone\\u{1b}"), "the fixed problem is listed: {stdout}");
        }
    }
}

/// Usage errors from the argument parser quote the argument inert.
#[test]
fn the_argument_parser_quotes_arguments_inert() {
    let hostile = "\x1b[2J\x1b]0;owned\x07\u{9b}31m\u{202e}x";
    for args in [
        vec!["scan", "--format", hostile, "contoso.com"],
        vec!["scan", "--timeout", hostile, "contoso.com"],
        vec!["scan", hostile],
        vec![hostile],
    ] {
        let output = fedscan().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.is_empty());
        assert_inert("a usage error", &stderr);
    }
}

/// A snapshot of thousands of lines, each of thousands of `>`: e-mail
/// quoting is undone a bounded number of levels, the rest read as what it
/// is (nothing), and the scan ends with an answer, never a hang or a panic.
#[test]
fn a_paste_of_endless_quoting_is_undone_a_bounded_number_of_levels() {
    let dir = tempfile::tempdir().unwrap();
    let line = ">".repeat(4_000);
    let text = format!("{line} Identity : Global\n").repeat(2_000);
    let path = dir.path().join("quoted.txt");
    std::fs::write(&path, text).unwrap();
    let started = std::time::Instant::now();
    let output = fedscan().args(["scan", "--offline", "--format", "json", "--config"]).arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(matches!(output.status.code(), Some(2 | 3)), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "{:?}", started.elapsed());
}

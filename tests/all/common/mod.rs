//! Running the real binary from the tests.

#![allow(dead_code)] // each test binary uses some of these

pub mod transports;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

pub fn fedscan() -> Command {
    let mut cmd = Command::cargo_bin("fedscan").unwrap();
    cmd.env_remove("NO_COLOR");
    cmd
}

pub fn root(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

pub fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// A JSON file written by the binary (a report, saved facts).
pub fn read_json(path: impl AsRef<Path>) -> Value {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON ({e})", path.display()))
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The findings of one rule in a JSON report.
pub fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == rule).collect()
}

/// The statuses of one rule's findings for one target.
pub fn statuses(report: &Value, rule: &str, target: &str) -> Vec<String> {
    findings(report, rule)
        .into_iter()
        .filter(|f| f["target"] == target)
        .map(|f| f["status"].as_str().unwrap().to_string())
        .collect()
}

/// Asserts that a report carries no raw control character, C1 control,
/// noncharacter (U+FFFE, U+FFFF, U+FDD0 to U+FDEF), zero-width or
/// bidirectional override: text from peers and files must be
/// escaped in every output kind. Line feeds and tabs are the report's own.
/// (A list of its own, not the library's `is_unsafe`: the tests' oracle
/// does not lean on the code it checks.)
pub fn assert_inert(what: &str, text: &str) {
    let raw: Vec<(usize, char)> = text
        .char_indices()
        .filter(|(_, c)| {
            (c.is_control() && *c != '\n' && *c != '\t')
                || matches!(
                    c,
                    '\u{200b}'..='\u{200f}'
                        | '\u{202a}'..='\u{202e}'
                        | '\u{2066}'..='\u{2069}'
                        | '\u{fdd0}'..='\u{fdef}'
                        | '\u{fffe}'
                        | '\u{ffff}'
                )
        })
        .collect();
    assert!(raw.is_empty(), "{what}: raw control characters {raw:?} in\n{text}");
}

/// Asserts that a tool (a consumer, a validator) ran and succeeded; its
/// output in the message when not.
pub fn assert_ran(output: &std::process::Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Bytes that are no text, the same on every run (xorshift from `seed`).
pub fn garbage(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed.max(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

pub mod traces;

/// A tool scripts/test.sh installs under target/test-tools, or a failure that
/// says how to get it: a test never passes because its consumer is missing.
pub fn test_tool(relative: &str) -> PathBuf {
    let path = root("target/test-tools").join(relative);
    assert!(path.exists(), "{} is missing: run scripts/test.sh, which installs the reports' consumers", path.display());
    path
}

/// Runs one of the Python consumers in tests/consumers/ with the pinned
/// packages; returns its output.
pub fn python_consumer(script: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(test_tool("venv/bin/python"))
        .arg(root("tests/consumers").join(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// (rule, target, status, message) of a finding, each through `normalize`
/// (to compare two runs that differ in ports or temporary paths).
pub type FindingKey = (String, String, String, String);

pub fn finding_key(finding: &Value, normalize: &dyn Fn(&str) -> String) -> FindingKey {
    let text = |k: &str| normalize(finding[k].as_str().unwrap_or(""));
    (text("rule"), text("target"), text("status"), text("message"))
}

/// The keys of every finding of a report (rules not run included), sorted.
pub fn finding_keys(report: &Value, normalize: &dyn Fn(&str) -> String) -> Vec<FindingKey> {
    let mut keys: Vec<FindingKey> =
        report["findings"].as_array().unwrap().iter().map(|f| finding_key(f, normalize)).collect();
    keys.sort();
    keys
}

/// Makes a character device node at `path` (a look-alike of `/dev/null`
/// is 1:3, of `/dev/full` 1:7) in a test's own directory: the tests never
/// write to the machine's own devices. Needs root (CAP_MKNOD), as CI has.
pub fn make_char_device(path: &Path, major: u32, minor: u32) {
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path in the test's directory.
    let made = unsafe { libc::mknod(name.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(major, minor)) };
    assert_eq!(made, 0, "mknod {}: {} (the test needs root)", path.display(), std::io::Error::last_os_error());
}

/// Makes a FIFO at `path`.
pub fn make_fifo(path: &Path) {
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path in the test's directory.
    let made = unsafe { libc::mkfifo(name.as_ptr(), 0o600) };
    assert_eq!(made, 0, "mkfifo {}: {}", path.display(), std::io::Error::last_os_error());
}

/// What kind of node is at `path` (not followed if a link).
pub fn node_kind(path: &Path) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).file_type();
    match () {
        _ if kind.is_symlink() => "symlink",
        _ if kind.is_char_device() => "char device",
        _ if kind.is_fifo() => "fifo",
        _ if kind.is_socket() => "socket",
        _ if kind.is_dir() => "directory",
        _ => "file",
    }
}

/// A diagnosis's transactions without where in the file things stand
/// (`line`, `first_line`): a paste moves lines, the verdicts stay.
pub fn without_lines(value: &Value) -> Value {
    let mut value = value.clone();
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.retain(|k, _| !matches!(k.as_str(), "line" | "first_line"));
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    value
}

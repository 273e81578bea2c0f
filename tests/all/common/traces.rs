//! Large SIP traces for the tests and the benchmark of `fedscan diagnose`.

use std::io::Write;
use std::path::Path;

/// Writes at least `megabytes` MiB of copies of `fixtures/traces/sfb-edge.log`,
/// each copy's Call-IDs made its own; returns the bytes written and the copies.
pub fn write_large_trace(path: &Path, megabytes: usize) -> (usize, usize) {
    let record = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/traces/sfb-edge.log")).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let (mut written, mut copies) = (0, 0);
    while written < megabytes * 1024 * 1024 {
        // (`Call-ID: ` is also the end of the error records' `SIP-Call-ID: `.)
        let copy = record.replace("Call-ID: ", &format!("Call-ID: {copies}-"));
        file.write_all(copy.as_bytes()).unwrap();
        written += copy.len();
        copies += 1;
    }
    file.flush().unwrap();
    (written, copies)
}

//! Files fedscan reads and writes: every read bounded in size and refused
//! for what is not a regular file (a FIFO would block, a device would never
//! end); every write atomic (a temporary file beside the target, renamed),
//! so that an interrupted run never leaves half a report; and the check that
//! no output path is an input.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The most fedscan reads of each kind of file.
pub const MAX_CERTIFICATE_FILE: u64 = 4 * 1024 * 1024;
pub const MAX_FACTS_FILE: u64 = 512 * 1024 * 1024;
pub const MAX_LIST_FILE: u64 = 64 * 1024 * 1024;
pub const MAX_RULE_FILE: u64 = 4 * 1024 * 1024;

/// Reads a regular file of at most `max` bytes, or says why not.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file (a directory, a device or a pipe cannot be read as one)".into());
    }
    if meta.len() > max {
        return Err(format!("the file is {} bytes; at most {} are read from it", meta.len(), max));
    }
    let file = File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    // It was a regular file when looked at; read no more than allowed in
    // case it grew or was swapped since.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(format!("the file grew past {max} bytes while it was read"));
    }
    Ok(bytes)
}

/// What `-` stands for as an input path.
pub const STDIN: &str = "-";

/// Whether `path` is `-`, standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

/// Reads standard input to its end, at most `max` bytes, or says why not.
pub fn read_stdin_bounded(max: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    io::stdin().lock().take(max + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read standard input: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(format!("standard input holds more than {max} bytes, the most read from it"));
    }
    Ok(bytes)
}

/// [`read_bounded`], as UTF-8 text.
pub fn read_text_bounded(path: &Path, max: u64) -> Result<String, String> {
    String::from_utf8(read_bounded(path, max)?).map_err(|e| format!("not UTF-8 text: {e}"))
}

/// Writes `bytes` to `path` through a temporary file in the same directory,
/// renamed over `path` once complete.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomically_with(path, |out| out.write_all(bytes))
}

/// [`write_atomically`], the content written by `write` as it is produced
/// (a large report is never held whole in memory).
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| io::Error::other("not a file name"))?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let temporary = directory.join(format!(".{}.fedscan-{}.tmp", name.to_string_lossy(), std::process::id()));
    let written = (|| {
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temporary)?;
        let mut buffered = io::BufWriter::with_capacity(256 * 1024, file);
        write(&mut buffered)?;
        let file = buffered.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Whether a directory can take `path`: it exists and a file can be made in
/// it. Checked before a scan, so that its report is not lost at the end.
pub fn check_writable(path: &Path) -> io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(io::Error::other("is a directory"));
    }
    let probe = directory.join(format!(".fedscan-{}.probe", std::process::id()));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)?;
    std::fs::remove_file(&probe)
}

/// Whether two paths name the same file: the same inode when both exist
/// (symbolic and hard links included), else the same canonical location.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    match (canonical_location(a), canonical_location(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The canonical path of `path`, or of its directory joined with its name
/// when it does not exist yet.
fn canonical_location(path: &Path) -> Option<PathBuf> {
    if let Ok(canonical) = std::fs::canonicalize(path) {
        return Some(canonical);
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(directory).ok()?.join(path.file_name()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded_and_regular_files_only() {
        let dir = std::env::temp_dir().join(format!("fedscan-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.txt");
        std::fs::write(&file, "12345").unwrap();
        assert_eq!(read_bounded(&file, 5).unwrap(), b"12345");
        assert!(read_bounded(&file, 4).unwrap_err().contains("at most 4"));
        assert!(read_bounded(&dir, 4).unwrap_err().contains("not a regular file"));
        assert!(read_bounded(Path::new("/dev/zero"), 4).unwrap_err().contains("not a regular file"));
        write_atomically(&file, b"new").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        assert!(same_file(&file, &dir.join(".").join("a.txt")));
        assert!(same_file(&dir.join("b.txt"), &dir.join("./b.txt")));
        assert!(!same_file(&file, &dir.join("b.txt")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

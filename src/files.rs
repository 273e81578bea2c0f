//! Files fedscan reads and writes: every read bounded in size and refused
//! for what is not a regular file (a FIFO would block, a device would never
//! end); every write to a file atomic (a temporary file beside the target,
//! renamed), so that an interrupted run never leaves half a report, and
//! every write to a device, FIFO or socket made to it as it is; and the
//! check that no output path is an input.

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

/// Where an output path leads, decided from what is there when the scan
/// starts. A report or facts file replaces a regular file atomically, but a
/// device, a FIFO or a socket is written as it is (`-o /dev/null` must never
/// turn the device into a file), a symbolic link is followed to the file it
/// names, and `-` is standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `-`.
    Stdout,
    /// A regular file, or nothing yet: written beside it and renamed over it.
    /// The path is the last link's target when the output was a symbolic link.
    File(PathBuf),
    /// A character device or a FIFO: opened and written, never replaced.
    Stream(PathBuf),
    /// A Unix socket: connected to and written.
    Socket(PathBuf),
}

/// How many symbolic links are followed before an output path is refused
/// (the kernel's own limit for one lookup).
const MAX_LINKS: usize = 40;

impl Destination {
    /// What `path` leads to, or why fedscan will not write there.
    pub fn of(path: &Path) -> io::Result<Destination> {
        if is_stdin(path) {
            return Ok(Destination::Stdout);
        }
        let mut current = path.to_path_buf();
        for _ in 0..=MAX_LINKS {
            let meta = match std::fs::symlink_metadata(&current) {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Destination::File(current)),
                Err(e) => return Err(e),
            };
            let kind = meta.file_type();
            if kind.is_symlink() {
                let target = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                };
                continue;
            }
            if kind.is_file() {
                return Ok(Destination::File(current));
            }
            if kind.is_dir() {
                return Err(io::Error::other("is a directory"));
            }
            #[cfg(unix)]
            {
                use std::os::unix::fs::FileTypeExt;
                if kind.is_char_device() || kind.is_fifo() {
                    return Ok(Destination::Stream(current));
                }
                if kind.is_socket() {
                    return Ok(Destination::Socket(current));
                }
                if kind.is_block_device() {
                    return Err(io::Error::other("is a block device; fedscan does not write onto a disk"));
                }
            }
            return Err(io::Error::other("is neither a file, a device, a pipe nor a socket"));
        }
        Err(io::Error::other(format!("more than {MAX_LINKS} symbolic links to follow")))
    }

    /// Whether the output can be written, checked before a scan so that its
    /// report is not lost at the end: a file's directory takes a new file; a
    /// device or FIFO may be written by this process. A FIFO with no reader
    /// yet is fine: the write waits for one, as a shell's `>` does.
    pub fn check(&self) -> io::Result<()> {
        match self {
            Destination::Stdout | Destination::Socket(_) => Ok(()),
            Destination::File(path) => {
                let probe = scratch_directory_of(path).join(format!(".fedscan-{}.probe", std::process::id()));
                std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)?;
                std::fs::remove_file(&probe)
            }
            // Not opened: closing a FIFO's write end would end its reader.
            Destination::Stream(path) => writable(path),
        }
    }

    /// Where the temporary files of a write to this destination go: beside
    /// a file (so that the rename stays on one file system), else the
    /// system's temporary directory.
    pub fn scratch_directory(&self) -> PathBuf {
        match self {
            Destination::File(path) => scratch_directory_of(path),
            _ => std::env::temp_dir(),
        }
    }

    /// Writes what `write` produces (a large report is never held whole in
    /// memory); the number of bytes written. A file is written beside its
    /// target, synced and renamed over it, so that an interrupted run never
    /// leaves half a report; it keeps the permissions of the file it replaces.
    pub fn write_with(&self, write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>) -> io::Result<u64> {
        match self {
            Destination::Stdout => {
                let mut out = Counting::new(io::BufWriter::with_capacity(WRITE_BUFFER, io::stdout()));
                write(&mut out)?;
                out.flush()?;
                Ok(out.bytes)
            }
            Destination::Stream(path) => {
                let mut out = Counting::new(io::BufWriter::with_capacity(WRITE_BUFFER, open_stream(path)?));
                write(&mut out)?;
                out.flush()?;
                Ok(out.bytes)
            }
            #[cfg(unix)]
            Destination::Socket(path) => {
                let stream = std::os::unix::net::UnixStream::connect(path)?;
                let mut out = Counting::new(io::BufWriter::with_capacity(WRITE_BUFFER, stream));
                write(&mut out)?;
                out.flush()?;
                Ok(out.bytes)
            }
            #[cfg(not(unix))]
            Destination::Socket(_) => Err(io::Error::other("sockets are not written on this system")),
            Destination::File(path) => replace_file(path, write),
        }
    }
}

/// How much is written at once to a report, standard output, a device or
/// a temporary file: the writers' default of 8 KB made a write call per
/// 8 KB, and a batch's findings and facts go to disk in small pieces (a
/// replay of 2,000 domains' facts as a JSON report took 8% more CPU with
/// its temporary file of findings written 8 KB at a time).
pub const WRITE_BUFFER: usize = 256 * 1024;

/// Opens a device or FIFO for writing as it is: never created, never
/// truncated.
fn open_stream(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new().write(true).open(path)
}

/// Whether this process may write to `path`, asked without opening it.
fn writable(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
        // SAFETY: a NUL-terminated path; access(2) only reads it.
        if unsafe { libc::access(name.as_ptr(), libc::W_OK) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The directory that holds `path`, `.` for a bare name.
fn scratch_directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A file written whole before it is synced, its pages handed to the disk
/// as it is written (every [`WritingBack::EVERY`] bytes) rather than all at
/// the sync: a report of tens of megabytes is then mostly on disk when the
/// sync waits for it.
struct WritingBack {
    file: File,
    written: u64,
    handed: u64,
}

impl WritingBack {
    const EVERY: u64 = 1024 * 1024;

    fn new(file: File) -> WritingBack {
        WritingBack { file, written: 0, handed: 0 }
    }

    #[cfg(target_os = "linux")]
    fn hand_over(&mut self) {
        use std::os::fd::AsRawFd;
        let (Ok(offset), Ok(length)) = (i64::try_from(self.handed), i64::try_from(self.written - self.handed)) else {
            return;
        };
        // SAFETY: asks the kernel to start writing back a range of our own
        // open file; no memory is passed. A failure only leaves the work to
        // the sync, which reports its own.
        unsafe { libc::sync_file_range(self.file.as_raw_fd(), offset, length, libc::SYNC_FILE_RANGE_WRITE) };
        self.handed = self.written;
    }

    #[cfg(not(target_os = "linux"))]
    fn hand_over(&mut self) {}
}

impl Write for WritingBack {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.file.write(buf)?;
        self.written += written as u64;
        if self.written - self.handed >= WritingBack::EVERY {
            self.hand_over();
        }
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// A writer that counts what it let through.
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W> Counting<W> {
    fn new(inner: W) -> Counting<W> {
        Counting { inner, bytes: 0 }
    }
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn replace_file(path: &Path, write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>) -> io::Result<u64> {
    let name = path.file_name().ok_or_else(|| io::Error::other("not a file name"))?;
    let temporary =
        scratch_directory_of(path).join(format!(".{}.fedscan-{}.tmp", name.to_string_lossy(), std::process::id()));
    let written = (|| {
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temporary)?;
        if let Ok(existing) = std::fs::metadata(path) {
            file.set_permissions(existing.permissions())?;
        }
        let mut buffered = Counting::new(io::BufWriter::with_capacity(WRITE_BUFFER, WritingBack::new(file)));
        write(&mut buffered)?;
        let bytes = buffered.bytes;
        let file = buffered.inner.into_inner().map_err(io::IntoInnerError::into_error)?.file;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        Ok(bytes)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Writes `bytes` to the output `path` (see [`Destination`]).
pub fn write_output(path: &Path, bytes: &[u8]) -> io::Result<u64> {
    write_output_with(path, |out| out.write_all(bytes))
}

/// [`write_output`], the content written by `write` as it is produced.
pub fn write_output_with(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> io::Result<u64> {
    Destination::of(path)?.write_with(write)
}

/// Whether an output path can be written: see [`Destination::check`].
pub fn check_writable(path: &Path) -> io::Result<()> {
    Destination::of(path)?.check()
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
        let fifo = dir.join("fifo");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path of a FIFO to make in the test's directory.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        assert!(read_bounded(&fifo, 4).unwrap_err().contains("not a regular file"));
        write_output(&file, b"new").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        assert!(same_file(&file, &dir.join(".").join("a.txt")));
        assert!(same_file(&dir.join("b.txt"), &dir.join("./b.txt")));
        assert!(!same_file(&file, &dir.join("b.txt")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

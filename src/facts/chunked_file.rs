//! A facts file written chunk by chunk, for a streamed batch with
//! `--save-facts`: the facts of each chunk are written out as the chunk ends
//! and are not kept. Its DNS answers, TLS handshakes and SIP exchanges are
//! appended to three spill files beside the facts file; when the scan ends
//! the document is put together from them and the scan's context, and moved
//! into place. It is the document [`Facts::save`] writes, each list in the
//! order the chunks ended, and loads as any other facts file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::Facts;
use crate::files::write_atomically_with;
use crate::text::write_json_line;

/// The lists of a facts file that grow with the chunks, in their order.
const LISTS: [&str; 3] = ["dns", "tls", "sip"];

pub struct ChunkedFactsFile {
    path: PathBuf,
    spills: Vec<Spill>,
    /// The first write that failed: nothing more is written, and
    /// [`ChunkedFactsFile::finish`] returns it (the scan goes on).
    failed: Option<io::Error>,
}

/// One list's entries so far, comma-separated, one a line.
struct Spill {
    path: PathBuf,
    out: BufWriter<File>,
    entries: usize,
}

impl ChunkedFactsFile {
    /// Starts a facts file at `path`; nothing is at `path` until
    /// [`ChunkedFactsFile::finish`].
    pub fn create(path: &Path) -> io::Result<ChunkedFactsFile> {
        let name = path.file_name().ok_or_else(|| io::Error::other("not a file name"))?.to_string_lossy();
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut file = ChunkedFactsFile { path: path.to_path_buf(), spills: Vec::new(), failed: None };
        for list in LISTS {
            let spill = directory.join(format!(".{name}.fedscan-{}.{list}.tmp", std::process::id()));
            let out = BufWriter::new(std::fs::OpenOptions::new().write(true).create_new(true).open(&spill)?);
            // Pushed at once, so that a failure below still removes it.
            file.spills.push(Spill { path: spill, out, entries: 0 });
        }
        Ok(file)
    }

    /// Appends a chunk's DNS answers, handshakes and exchanges; a failure
    /// is kept for [`ChunkedFactsFile::finish`].
    pub fn add(&mut self, part: &Facts) {
        if self.failed.is_some() {
            return;
        }
        let appended = append(&mut self.spills[0], part.own_dns())
            .and_then(|()| append(&mut self.spills[1], &part.tls))
            .and_then(|()| append(&mut self.spills[2], &part.sip));
        self.failed = appended.err();
    }

    /// Writes the document: the scan's `context` (inputs, targets, trust
    /// stores, input errors, whether it was interrupted) with the lists
    /// gathered chunk by chunk, its own entries last. Its size in bytes.
    pub fn finish(mut self, context: &Facts) -> io::Result<u64> {
        self.add(context);
        if let Some(failed) = self.failed.take() {
            return Err(failed);
        }
        for spill in &mut self.spills {
            spill.out.flush()?;
        }
        let Value::Object(mut fields) = serde_json::to_value(context).map_err(io::Error::other)? else {
            return Err(io::Error::other("the facts are not a JSON object"));
        };
        // The lists are the spills' (the context's own entries were added
        // last): in their place, or, when the context had none, at the end.
        for list in LISTS {
            fields.insert(list.to_string(), Value::Null);
        }
        write_atomically_with(&self.path, |out| {
            out.write_all(b"{\n")?;
            for (index, (key, value)) in fields.iter().enumerate() {
                out.write_all(if index == 0 { b"  " } else { b",\n  " })?;
                write_json_line(out, key)?;
                out.write_all(b": ")?;
                match LISTS.iter().position(|list| list == key) {
                    Some(list) => {
                        out.write_all(b"[\n")?;
                        io::copy(&mut File::open(&self.spills[list].path)?, out)?;
                        out.write_all(b"\n  ]")?;
                    }
                    None => write_json_line(out, value)?,
                }
            }
            out.write_all(b"\n}\n")
        })?;
        Ok(std::fs::metadata(&self.path)?.len())
    }
}

fn append<T: Serialize>(spill: &mut Spill, entries: &[T]) -> io::Result<()> {
    for entry in entries {
        if spill.entries > 0 {
            spill.out.write_all(b",\n")?;
        }
        spill.out.write_all(b"    ")?;
        write_json_line(&mut spill.out, entry)?;
        spill.entries += 1;
    }
    Ok(())
}

impl Drop for ChunkedFactsFile {
    fn drop(&mut self) {
        for spill in &self.spills {
            let _ = std::fs::remove_file(&spill.path);
        }
    }
}

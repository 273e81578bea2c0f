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
use crate::files::Destination;
use crate::text::write_json_line;

/// The lists of a facts file that grow with the chunks, in their order.
const LISTS: [&str; 3] = ["dns", "tls", "sip"];

pub struct ChunkedFactsFile {
    destination: Destination,
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
    /// Starts a facts file at `path`; nothing is written there until
    /// [`ChunkedFactsFile::finish`]. The spill files are beside it, or in
    /// the temporary directory when it is a device, a FIFO or a socket.
    pub fn create(path: &Path) -> io::Result<ChunkedFactsFile> {
        let name = path.file_name().map_or_else(|| "facts".into(), |n| n.to_string_lossy());
        let destination = Destination::of(path)?;
        let directory = destination.scratch_directory();
        let mut file = ChunkedFactsFile { destination, spills: Vec::new(), failed: None };
        for list in LISTS {
            let spill = directory.join(format!(".{name}.fedscan-{}.{list}.tmp", std::process::id()));
            let out = BufWriter::with_capacity(
                crate::files::WRITE_BUFFER,
                std::fs::OpenOptions::new().write(true).create_new(true).open(&spill)?,
            );
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
        self.destination.write_with(|out| {
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
        })
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

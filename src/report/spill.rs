//! A batch's findings kept on disk, not in memory: each chunk's findings
//! are rendered as the report will show them as soon as the chunk is
//! judged, and written, in the report's order, as one run of an anonymous
//! temporary file; the report reads the runs back merged, a record of each
//! at a time. Memory stays that of one chunk however large the batch, and
//! the rendering is done while later chunks are still being gathered.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;

use crate::findings::Finding;

/// A report format whose findings can wait on disk: each is rendered on its
/// own, and the report around them needs only the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    Json,
    Csv,
}

impl Rendering {
    /// Appends `finding`, rendered, to `out`.
    pub fn render(self, finding: &Finding, out: &mut Vec<u8>) {
        match self {
            Rendering::Json => super::json::finding_in_report(finding, out),
            Rendering::Csv => super::csv::finding_row(finding, out),
        }
    }
}

/// The findings kept on disk for each format that keeps them there.
#[derive(Debug, Default)]
pub struct SpilledFindings {
    rendered: Vec<(Rendering, std::sync::Mutex<FindingSpill>)>,
    junit: Option<std::sync::Mutex<super::junit::SpilledSuites>>,
    sarif: Option<std::sync::Mutex<super::sarif::SpilledResults>>,
    tables: Vec<std::sync::Mutex<super::table::TableFold>>,
}

impl SpilledFindings {
    pub fn new(
        spills: Vec<(Rendering, FindingSpill)>,
        junit: Option<super::junit::SpilledSuites>,
        sarif: Option<super::sarif::SpilledResults>,
        tables: Vec<super::table::TableFold>,
    ) -> Self {
        SpilledFindings {
            rendered: spills.into_iter().map(|(r, s)| (r, std::sync::Mutex::new(s))).collect(),
            junit: junit.map(std::sync::Mutex::new),
            sarif: sarif.map(std::sync::Mutex::new),
            tables: tables.into_iter().map(std::sync::Mutex::new).collect(),
        }
    }

    /// The SARIF report's results, if they were kept.
    pub fn sarif(&self) -> Option<std::sync::MutexGuard<'_, super::sarif::SpilledResults>> {
        Some(self.sarif.as_ref()?.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The findings kept rendered as `rendering`, if they were.
    pub fn of(&self, rendering: Rendering) -> Option<std::sync::MutexGuard<'_, FindingSpill>> {
        let (_, spill) = self.rendered.iter().find(|(r, _)| *r == rendering)?;
        Some(spill.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The table report's rows for `style`, if they were kept.
    pub fn table(&self, style: &super::table::Style) -> Option<std::sync::MutexGuard<'_, super::table::TableFold>> {
        let fold =
            self.tables.iter().find(|t| t.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_for(style))?;
        Some(fold.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The JUnit report's suites, if they were kept.
    pub fn junit(&self) -> Option<std::sync::MutexGuard<'_, super::junit::SpilledSuites>> {
        Some(self.junit.as_ref()?.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

/// What a run's reader holds of the file at a time.
const READ_AHEAD: usize = 16 * 1024;

/// The runs written so far.
#[derive(Debug)]
pub struct FindingSpill {
    file: BufWriter<File>,
    /// Where each run starts and ends in the file.
    runs: Vec<(u64, u64)>,
    written: u64,
    count: usize,
}

impl FindingSpill {
    pub fn new() -> io::Result<FindingSpill> {
        Ok(FindingSpill { file: BufWriter::new(tempfile::tempfile()?), runs: Vec::new(), written: 0, count: 0 })
    }

    /// How many findings were written.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Writes one run: `findings` put in the report's order (stably; a
    /// finding of an earlier run before an equal one of a later run, as a
    /// stable sort of all of them in the order they were judged would have
    /// it) and each rendered by `render`.
    pub fn add_run(&mut self, findings: &[Finding], render: impl Fn(&Finding, &mut Vec<u8>)) -> io::Result<()> {
        let mut keyed: Vec<((bool, String, String), &Finding)> = findings.iter().map(|f| (f.order_key(), f)).collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        let start = self.written;
        let mut text = Vec::with_capacity(4096);
        for ((none, target, rule), finding) in keyed {
            text.clear();
            render(finding, &mut text);
            self.file.write_all(&[u8::from(none)])?;
            for part in [target.as_bytes(), rule.as_bytes(), &text] {
                self.file.write_all(&(part.len() as u32).to_le_bytes())?;
                self.file.write_all(part)?;
            }
            self.written += 13 + (target.len() + rule.len() + text.len()) as u64;
            self.count += 1;
        }
        self.runs.push((start, self.written));
        Ok(())
    }

    /// Each rendered finding, in the report's order, to `each`.
    pub fn for_each(&mut self, mut each: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        self.file.flush()?;
        let file = self.file.get_ref();
        let mut readers: Vec<RunReader> =
            self.runs.iter().map(|&(start, end)| RunReader { at: start, end, buffer: Vec::new(), used: 0 }).collect();
        let mut heap = BinaryHeap::new();
        let mut texts: Vec<Vec<u8>> = vec![Vec::new(); readers.len()];
        for (run, reader) in readers.iter_mut().enumerate() {
            if let Some(record) = reader.next(file)? {
                texts[run] = record.text;
                heap.push(Reverse((record.key, run)));
            }
        }
        while let Some(Reverse((_, run))) = heap.pop() {
            each(&texts[run])?;
            if let Some(record) = readers[run].next(file)? {
                texts[run] = record.text;
                heap.push(Reverse((record.key, run)));
            }
        }
        Ok(())
    }
}

/// A finding read back: its place in the order (the bytes of its target
/// and rule ID order as their text does) and its rendered text.
struct Record {
    key: (bool, Vec<u8>, Vec<u8>),
    text: Vec<u8>,
}

/// Reads one run's records in order, a window of the file at a time.
struct RunReader {
    at: u64,
    end: u64,
    buffer: Vec<u8>,
    used: usize,
}

impl RunReader {
    /// `n` bytes of the run, reading ahead as needed.
    fn take(&mut self, file: &File, n: usize) -> io::Result<Vec<u8>> {
        if self.buffer.len() - self.used < n {
            self.buffer.drain(..self.used);
            self.used = 0;
            let want = (n - self.buffer.len()).max(READ_AHEAD).min((self.end - self.at) as usize);
            if self.buffer.len() + want < n {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "a spilled run ends inside a record"));
            }
            let old = self.buffer.len();
            self.buffer.resize(old + want, 0);
            file.read_exact_at(&mut self.buffer[old..], self.at)?;
            self.at += want as u64;
        }
        let bytes = self.buffer[self.used..self.used + n].to_vec();
        self.used += n;
        Ok(bytes)
    }

    fn field(&mut self, file: &File) -> io::Result<Vec<u8>> {
        let bytes = self.take(file, 4)?;
        // `take` gives exactly the bytes asked for, or an error.
        let length = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        self.take(file, length)
    }

    fn next(&mut self, file: &File) -> io::Result<Option<Record>> {
        if self.at >= self.end && self.used >= self.buffer.len() {
            return Ok(None);
        }
        let none = self.take(file, 1)?[0] == 1;
        let target = self.field(file)?;
        let rule = self.field(file)?;
        let text = self.field(file)?;
        Ok(Some(Record { key: (none, target, rule), text }))
    }
}

/// Text kept per domain until the report is written, in the report's
/// words: in memory for a report rendered whole, in an anonymous temporary
/// file for a batch's.
#[derive(Debug)]
pub enum Shelf {
    Memory(std::collections::HashMap<String, Vec<u8>>),
    Disk {
        file: BufWriter<File>,
        written: u64,
        /// Where each domain's text is in the file.
        at: std::collections::HashMap<String, (u64, usize)>,
    },
}

impl Shelf {
    pub fn in_memory() -> Shelf {
        Shelf::Memory(std::collections::HashMap::new())
    }

    pub fn on_disk() -> io::Result<Shelf> {
        Ok(Shelf::Disk {
            file: BufWriter::new(tempfile::tempfile()?),
            written: 0,
            at: std::collections::HashMap::new(),
        })
    }

    /// Keeps `text` as `domain`'s.
    pub fn put(&mut self, domain: &str, text: &[u8]) -> io::Result<()> {
        match self {
            Shelf::Memory(texts) => {
                texts.insert(domain.to_string(), text.to_vec());
            }
            Shelf::Disk { file, written, at } => {
                file.write_all(text)?;
                at.insert(domain.to_string(), (*written, text.len()));
                *written += text.len() as u64;
            }
        }
        Ok(())
    }

    /// `domain`'s text, if some was kept.
    pub fn get(&mut self, domain: &str) -> io::Result<Option<Vec<u8>>> {
        match self {
            Shelf::Memory(texts) => Ok(texts.get(domain).cloned()),
            Shelf::Disk { file, at, .. } => {
                let Some(&(start, length)) = at.get(domain) else {
                    return Ok(None);
                };
                file.flush()?;
                let mut text = vec![0u8; length];
                file.get_ref().read_exact_at(&mut text, start)?;
                Ok(Some(text))
            }
        }
    }
}

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
    Ndjson,
}

impl Rendering {
    /// Appends `finding`, rendered, to `out`.
    pub fn render(self, finding: &Finding, out: &mut Vec<u8>) {
        match self {
            Rendering::Json => super::json::finding_in_report(finding, out),
            Rendering::Csv => super::csv::finding_row(finding, out),
            Rendering::Ndjson => super::ndjson::write_finding(finding, out),
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
    html: Option<std::sync::Mutex<super::html::HtmlFold>>,
    markdown: Option<std::sync::Mutex<super::markdown::MarkdownFold>>,
}

impl SpilledFindings {
    pub fn new(
        spills: Vec<(Rendering, FindingSpill)>,
        junit: Option<super::junit::SpilledSuites>,
        sarif: Option<super::sarif::SpilledResults>,
        tables: Vec<super::table::TableFold>,
        html: Option<super::html::HtmlFold>,
        markdown: Option<super::markdown::MarkdownFold>,
    ) -> Self {
        SpilledFindings {
            rendered: spills.into_iter().map(|(r, s)| (r, std::sync::Mutex::new(s))).collect(),
            junit: junit.map(std::sync::Mutex::new),
            sarif: sarif.map(std::sync::Mutex::new),
            tables: tables.into_iter().map(std::sync::Mutex::new).collect(),
            html: html.map(std::sync::Mutex::new),
            markdown: markdown.map(std::sync::Mutex::new),
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

    /// The HTML report's rows, if they were kept.
    pub fn html(&self) -> Option<std::sync::MutexGuard<'_, super::html::HtmlFold>> {
        Some(self.html.as_ref()?.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The Markdown report's rows, if they were kept.
    pub fn markdown(&self) -> Option<std::sync::MutexGuard<'_, super::markdown::MarkdownFold>> {
        Some(self.markdown.as_ref()?.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The JUnit report's suites, if they were kept.
    pub fn junit(&self) -> Option<std::sync::MutexGuard<'_, super::junit::SpilledSuites>> {
        Some(self.junit.as_ref()?.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

/// A report made from its findings a chunk at a time (the table, HTML and
/// Markdown): each chunk's rendered as it is judged and kept, in memory for
/// a report rendered whole or on disk for a batch's, the report written
/// around them at the end.
pub trait Fold {
    /// Folds in `findings`, in the order they were judged, with the
    /// discovery of the domains they are about.
    fn add(&mut self, findings: &[Finding], discovery: &[super::discovery::DomainDiscovery]) -> io::Result<()>;

    /// The report, around the findings folded in.
    fn write(&mut self, report: &super::Report, out: &mut dyn Write) -> io::Result<()>;
}

/// The report of `report`'s findings held whole, through `fold` kept in
/// memory.
pub fn held(fold: io::Result<impl Fold>, report: &super::Report) -> String {
    let mut out = Vec::new();
    // Neither kept in memory nor written to it can fail.
    let written = fold.and_then(|mut fold| {
        fold.add(&report.findings, report.discovery.held()).and_then(|()| fold.write(report, &mut out))
    });
    debug_assert!(written.is_ok());
    String::from_utf8(out).unwrap_or_default()
}

/// What a run's reader holds of the file at a time, at most; and what the
/// readers of all the runs hold together, at most (a batch of 100,000
/// domains writes over 1,500 runs), but for a record longer than that.
const READ_AHEAD: usize = 16 * 1024;
const READ_AHEAD_OF_ALL: usize = 4 * 1024 * 1024;

/// Where kept text is written and read back: in memory for a report
/// rendered whole, an anonymous temporary file for a batch's.
#[derive(Debug)]
pub enum Store {
    Memory(Vec<u8>),
    Disk(BufWriter<File>),
}

impl Store {
    pub fn memory() -> io::Result<Store> {
        Ok(Store::Memory(Vec::new()))
    }

    pub fn on_disk() -> io::Result<Store> {
        Ok(Store::Disk(BufWriter::with_capacity(crate::files::WRITE_BUFFER, tempfile::tempfile()?)))
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Store::Memory(kept) => {
                kept.extend_from_slice(bytes);
                Ok(())
            }
            Store::Disk(file) => file.write_all(bytes),
        }
    }

    /// Makes what was written readable.
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Store::Memory(_) => Ok(()),
            Store::Disk(file) => file.flush(),
        }
    }

    fn read_exact_at(&self, buffer: &mut [u8], at: u64) -> io::Result<()> {
        match self {
            Store::Memory(kept) => {
                let start = usize::try_from(at).map_err(io::Error::other)?;
                let part = kept
                    .get(start..start + buffer.len())
                    .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "past the kept text"))?;
                buffer.copy_from_slice(part);
                Ok(())
            }
            Store::Disk(file) => file.get_ref().read_exact_at(buffer, at),
        }
    }
}

/// Appends a field to a record: its length, then its bytes.
pub fn push_field(record: &mut Vec<u8>, field: &[u8]) {
    record.extend_from_slice(&(field.len() as u32).to_le_bytes());
    record.extend_from_slice(field);
}

/// The first `N` fields of a record made by [`push_field`]; those it does
/// not have are empty.
pub fn fields<const N: usize>(record: &[u8]) -> [&[u8]; N] {
    let mut fields = [&[][..]; N];
    let mut rest = record;
    for field in &mut fields {
        let Some((length, after)) = rest.split_first_chunk::<4>() else { break };
        let length = (u32::from_le_bytes(*length) as usize).min(after.len());
        (*field, rest) = after.split_at(length);
    }
    fields
}

/// Appends `text` to `key` so that keys compare, byte by byte, as the
/// texts do, whatever follows them.
pub fn push_key_text(key: &mut Vec<u8>, text: &str) {
    for &byte in text.as_bytes() {
        key.push(byte);
        if byte == 0 {
            key.push(0xff);
        }
    }
    key.extend_from_slice(&[0, 0]);
}

/// A finding's place in the report's order ([`Finding::order_key`]) as a
/// key of [`FindingSpill`].
pub fn push_order_key(key: &mut Vec<u8>, finding: &Finding) {
    let (none, target, rule) = finding.order_parts();
    key.push(u8::from(none));
    push_key_text(key, &target);
    push_key_text(key, rule);
}

/// The key of a failure or error in a list of them: most severe first,
/// then by rule, then in the report's order.
pub fn severity_key(finding: &Finding) -> Vec<u8> {
    let mut key = vec![u8::MAX - finding.severity as u8];
    push_key_text(&mut key, &finding.rule);
    push_order_key(&mut key, finding);
    key
}

/// Sorted runs of rendered records, read back merged.
#[derive(Debug)]
pub struct FindingSpill {
    store: Store,
    /// Where each run starts and ends in the store.
    runs: Vec<(u64, u64)>,
    written: u64,
    count: usize,
}

impl FindingSpill {
    pub fn new() -> io::Result<FindingSpill> {
        Ok(FindingSpill::in_store(Store::on_disk()?))
    }

    pub fn in_store(store: Store) -> FindingSpill {
        FindingSpill { store, runs: Vec::new(), written: 0, count: 0 }
    }

    /// How many records were written.
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
        // A chunk's findings come judged in the report's order: each is
        // written as it is rendered, through one buffer, unless one is out
        // of order, when the run is sorted first.
        let mut keys = Vec::with_capacity(findings.len() * 64);
        let mut ends = Vec::with_capacity(findings.len());
        for finding in findings {
            push_order_key(&mut keys, finding);
            ends.push(keys.len());
        }
        let key = |i: usize| &keys[if i == 0 { 0 } else { ends[i - 1] }..ends[i]];
        if !(1..findings.len()).all(|i| key(i - 1) <= key(i)) {
            let records = findings.iter().enumerate().map(|(i, finding)| {
                let mut text = Vec::with_capacity(256);
                render(finding, &mut text);
                (key(i).to_vec(), text)
            });
            return self.add_records(records.collect());
        }
        let start = self.written;
        let mut text = Vec::with_capacity(4096);
        for (i, finding) in findings.iter().enumerate() {
            text.clear();
            render(finding, &mut text);
            self.write_record(key(i), &text)?;
        }
        self.runs.push((start, self.written));
        Ok(())
    }

    /// Writes one run of (key, text) records, sorted by key (stably).
    pub fn add_records(&mut self, mut records: Vec<(Vec<u8>, Vec<u8>)>) -> io::Result<()> {
        records.sort_by(|a, b| a.0.cmp(&b.0));
        let start = self.written;
        for (key, text) in &records {
            self.write_record(key, text)?;
        }
        self.runs.push((start, self.written));
        Ok(())
    }

    fn write_record(&mut self, key: &[u8], text: &[u8]) -> io::Result<()> {
        for part in [key, text] {
            self.store.write_all(&(part.len() as u32).to_le_bytes())?;
            self.store.write_all(part)?;
        }
        self.written += 8 + (key.len() + text.len()) as u64;
        self.count += 1;
        Ok(())
    }

    /// Each record's text, in the order of the keys, to `each`.
    pub fn for_each(&mut self, mut each: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        self.store.flush()?;
        let store = &self.store;
        let ahead = (READ_AHEAD_OF_ALL / self.runs.len().max(1)).clamp(1024, READ_AHEAD);
        let mut readers: Vec<RunReader> = self
            .runs
            .iter()
            .map(|&(start, end)| RunReader { at: start, end, ahead, buffer: Vec::new(), used: 0, text: 0..0 })
            .collect();
        let mut heap = BinaryHeap::new();
        for (run, reader) in readers.iter_mut().enumerate() {
            if let Some(key) = reader.next(store)? {
                heap.push(Reverse((key, run)));
            }
        }
        while let Some(Reverse((_, run))) = heap.pop() {
            each(readers[run].text())?;
            if let Some(key) = readers[run].next(store)? {
                heap.push(Reverse((key, run)));
            }
        }
        Ok(())
    }
}

/// Reads one run's records in order, a window of the store at a time; a
/// record's text is read where it lies in the window, not copied out.
struct RunReader {
    at: u64,
    end: u64,
    /// How much it reads at a time.
    ahead: usize,
    buffer: Vec<u8>,
    used: usize,
    /// The current record's text, in `buffer`.
    text: std::ops::Range<usize>,
}

impl RunReader {
    /// Makes the `n` bytes after those used readable, reading ahead as
    /// needed (what was used before them may be dropped).
    fn fill(&mut self, store: &Store, n: usize) -> io::Result<()> {
        if self.buffer.len() - self.used < n {
            self.buffer.drain(..self.used);
            self.used = 0;
            let want = (n - self.buffer.len()).max(self.ahead).min((self.end - self.at) as usize);
            if self.buffer.len() + want < n {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "a spilled run ends inside a record"));
            }
            let old = self.buffer.len();
            self.buffer.resize(old + want, 0);
            store.read_exact_at(&mut self.buffer[old..], self.at)?;
            self.at += want as u64;
        }
        Ok(())
    }

    /// Where the next field lies in `buffer`, valid until the next read.
    fn field(&mut self, store: &Store) -> io::Result<std::ops::Range<usize>> {
        self.fill(store, 4)?;
        let length = &self.buffer[self.used..self.used + 4];
        // `fill` made the four bytes readable, or returned an error.
        let length = u32::from_le_bytes([length[0], length[1], length[2], length[3]]) as usize;
        self.used += 4;
        self.fill(store, length)?;
        self.used += length;
        Ok(self.used - length..self.used)
    }

    /// Reads the next record: its key, and its text for [`RunReader::text`].
    fn next(&mut self, store: &Store) -> io::Result<Option<Vec<u8>>> {
        if self.at >= self.end && self.used >= self.buffer.len() {
            return Ok(None);
        }
        let key = self.field(store)?;
        let key = self.buffer[key].to_vec();
        self.text = self.field(store)?;
        Ok(Some(key))
    }

    /// The text of the record read last.
    fn text(&self) -> &[u8] {
        &self.buffer[self.text.clone()]
    }
}

/// Text kept per domain until the report is written, in the report's words.
#[derive(Debug)]
pub struct Shelf {
    store: Store,
    written: u64,
    /// Where each domain's text is in the store.
    at: std::collections::HashMap<String, (u64, usize)>,
}

impl Shelf {
    pub fn in_memory() -> Shelf {
        Shelf::in_store(Store::Memory(Vec::new()))
    }

    pub fn on_disk() -> io::Result<Shelf> {
        Ok(Shelf::in_store(Store::on_disk()?))
    }

    pub fn in_store(store: Store) -> Shelf {
        Shelf { store, written: 0, at: std::collections::HashMap::new() }
    }

    /// Keeps `text` as `domain`'s.
    pub fn put(&mut self, domain: &str, text: &[u8]) -> io::Result<()> {
        self.store.write_all(text)?;
        self.at.insert(domain.to_string(), (self.written, text.len()));
        self.written += text.len() as u64;
        Ok(())
    }

    /// `domain`'s text, if some was kept.
    pub fn get(&mut self, domain: &str) -> io::Result<Option<Vec<u8>>> {
        let Some(&(start, length)) = self.at.get(domain) else {
            return Ok(None);
        };
        self.store.flush()?;
        let mut text = vec![0u8; length];
        self.store.read_exact_at(&mut text, start)?;
        Ok(Some(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many runs share the read-ahead (each reader then holds 1 KiB), and
    /// records longer than that are read whole; equal keys keep the order
    /// of their runs.
    #[test]
    fn thousands_of_runs_merge_in_key_order_with_long_records() {
        for store in [Store::memory, Store::on_disk] {
            let mut spill = FindingSpill::in_store(store().unwrap());
            let mut expected = Vec::new();
            for run in 0..5000u32 {
                let records: Vec<(Vec<u8>, Vec<u8>)> = (0..3u32)
                    .map(|i| {
                        let key = format!("{:04}", (run * 7 + i * 1301) % 997).into_bytes();
                        let text = format!("{run}/{i}:{}", "x".repeat(((run * 31 + i) % 5000) as usize)).into_bytes();
                        (key, text)
                    })
                    .collect();
                let mut sorted = records.clone();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                expected.extend(sorted.into_iter().enumerate().map(|(n, (k, t))| ((k, run, n), t)));
                spill.add_records(records).unwrap();
            }
            expected.sort_by(|a, b| a.0.cmp(&b.0));
            let mut merged = Vec::new();
            spill
                .for_each(|text| {
                    merged.push(text.to_vec());
                    Ok(())
                })
                .unwrap();
            assert_eq!(merged.len(), 15_000);
            assert!(merged == expected.into_iter().map(|(_, t)| t).collect::<Vec<_>>());
        }
    }

    /// A run given in the report's order is written as it comes, one given
    /// out of order is sorted first: both read back in the report's order,
    /// equal findings in the order they were given.
    #[test]
    fn findings_in_or_out_of_order_read_back_in_the_reports_order() {
        use crate::findings::{Status, Target};
        let domain = |d: &str| Some(Target::Domain(d.to_string()));
        let findings = [
            Finding::example("DNS-FED-01", Status::Pass, domain("b.test")),
            Finding::example("DNS-FED-01", Status::Fail, domain("a.test")),
            Finding::example("CFG-AEC-01", Status::Skip, None),
            Finding::example("DNS-CLI-01", Status::Pass, domain("b.test")),
            Finding::example("DNS-FED-01", Status::Error, domain("a.test")),
        ];
        let render = |f: &Finding, out: &mut Vec<u8>| {
            let target = f.target.as_ref().map(Target::shown).unwrap_or_default();
            out.extend_from_slice(format!("{} {} {}", target, f.rule, f.status.name()).as_bytes());
        };
        let mut ordered = findings.to_vec();
        crate::engine::evaluate::order(&mut ordered);
        let expected = [
            "a.test DNS-FED-01 fail",
            "a.test DNS-FED-01 error",
            "b.test DNS-CLI-01 pass",
            "b.test DNS-FED-01 pass",
            " CFG-AEC-01 skip",
        ];
        for run in [&findings[..], &ordered[..]] {
            let mut spill = FindingSpill::in_store(Store::memory().unwrap());
            spill.add_run(run, render).unwrap();
            let mut read = Vec::new();
            spill
                .for_each(|text| {
                    read.push(String::from_utf8_lossy(text).into_owned());
                    Ok(())
                })
                .unwrap();
            assert_eq!(read, expected);
        }
    }
}

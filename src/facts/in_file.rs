//! Facts files read without holding their lists: each document is read
//! through once, each entry of its `dns`, `tls` and `sip` lists checked as
//! it passes and only what tells it from another and its place in the file
//! kept; a replay in chunks reads a chunk's entries back when it needs
//! them. A batch's facts are almost all DNS answers, certificates and SIP
//! responses, so a replay or a merge of a large batch holds an index of
//! them and one chunk's facts, not every domain's.
//!
//! What this reads is exactly what [`Facts::load`] reads: a document this
//! reader finds shaped otherwise than it expects, or an entry that does not
//! parse, is read again whole by [`Facts::load`], which then reports what is
//! wrong with it as it always has.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{DefaultHasher, Hasher};
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

use serde::de::DeserializeOwned;

use super::dns::{DnsFact, DnsView, RecordKind, srv_name};
use super::endpoints::FEDERATION_SERVICE;
use super::organizations::Organizations;
use super::sip::SipFact;
use super::tls::{Endpoint, TlsFact, decode_one};
use super::{Facts, InputError};

/// Facts read from files, their lists left in them.
pub struct FactsInFile {
    /// The facts, without DNS answers, handshakes and exchanges.
    pub facts: Facts,
    pub lists: ListsInFile,
}

/// The DNS answers, handshakes and exchanges of facts files, each where its
/// file keeps it, in the order the facts would hold them.
pub struct ListsInFile {
    files: Vec<Store>,
    pub dns: Vec<InFile<Answer>>,
    pub tls: Vec<InFile<Handshake>>,
    pub sip: Vec<InFile<Exchange>>,
}

/// One file's lists: left in it, or, for a list this reader does not
/// follow (a file written by hand), held.
struct Store {
    name: String,
    file: Option<File>,
    dns: Vec<DnsFact>,
    tls: Vec<TlsFact>,
    sip: Vec<SipFact>,
}

/// What tells a DNS answer from another, and the hosts its SRV records name
/// (what puts a batch's domains in organizations and chunks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub view: DnsView,
    pub name: String,
    pub rtype: RecordKind,
    pub srv_hosts: Vec<String>,
}

/// What tells a handshake from another and orders it among a scan's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub endpoint: Endpoint,
    pub partner: Option<String>,
}

/// What tells an exchange from another and orders it among a scan's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub endpoint: Endpoint,
    pub domain: String,
}

impl Answer {
    fn of(fact: &DnsFact) -> Answer {
        Answer { view: fact.view, name: fact.name.clone(), rtype: fact.rtype, srv_hosts: fact.srv_hosts() }
    }
}

impl Handshake {
    fn of(fact: &TlsFact) -> Handshake {
        Handshake { endpoint: fact.endpoint.clone(), partner: fact.partner.clone() }
    }
}

impl Exchange {
    fn of(fact: &SipFact) -> Exchange {
        Exchange { endpoint: fact.endpoint.clone(), domain: fact.domain.clone() }
    }
}

/// An entry of a facts file's list: what it is, and where.
#[derive(Debug, Clone)]
pub struct InFile<K> {
    pub key: K,
    /// Its file's, in [`ListsInFile::files`].
    file: u32,
    place: Place,
}

#[derive(Debug, Clone, Copy)]
enum Place {
    /// Held, at this index of its file's list.
    Held(usize),
    /// These bytes of the file, which start on `line` (to name it should
    /// it have changed), and their digest, to tell they are still those
    /// that were checked.
    Bytes { offset: u64, len: u32, line: u32, digest: u64 },
}

impl FactsInFile {
    /// Reads the facts file at `path` as [`Facts::load`] does, but leaves
    /// its lists where they are.
    pub fn load(path: &Path) -> Result<FactsInFile, InputError> {
        let display = path.display().to_string();
        let (mut facts, file, read) = match read_leaving_lists(path, &display) {
            Ok(Some((facts, file, read))) => (facts, Some(file), read),
            // Not shaped as expected, or unreadable: read whole, which says
            // what is wrong (or, should this reader be wrong, reads it).
            Ok(None) | Err(_) => (Facts::load(path)?, None, ReadLists::default()),
        };
        let store = Store {
            name: display,
            file,
            dns: std::mem::take(&mut facts.dns),
            tls: std::mem::take(&mut facts.tls),
            sip: std::mem::take(&mut facts.sip),
        };
        // A list the reader left in the document (its key written with
        // escapes, say) is held; the document holds each list once.
        fn listed<T, K>(held: &[T], key: impl Fn(&T) -> K, read: Vec<(K, Place)>) -> Vec<InFile<K>> {
            let held = held.iter().enumerate().map(|(i, fact)| (key(fact), Place::Held(i)));
            held.chain(read).map(|(key, place)| InFile { key, file: 0, place }).collect()
        }
        let lists = ListsInFile {
            dns: listed(&store.dns, Answer::of, read.dns),
            tls: listed(&store.tls, Handshake::of, read.tls),
            sip: listed(&store.sip, Exchange::of, read.sip),
            files: vec![store],
        };
        Ok(FactsInFile { facts, lists })
    }

    /// The facts with their lists, read back.
    pub fn whole(self) -> Result<Facts, InputError> {
        let FactsInFile { mut facts, lists } = self;
        facts.dns = lists.answers(&lists.dns)?;
        facts.tls = lists.handshakes(&lists.tls)?;
        facts.sip = lists.exchanges(&lists.sip)?;
        Ok(facts)
    }

    /// Adds another file's facts, as [`Facts::merge`] adds them.
    pub fn merge(&mut self, other: FactsInFile) {
        self.facts.merge(other.facts);
        let lists = &mut self.lists;
        let base = lists.files.len() as u32;
        lists.files.extend(other.lists.files);
        fn moved<K>(entries: Vec<InFile<K>>, base: u32) -> impl Iterator<Item = InFile<K>> {
            entries.into_iter().map(move |entry| InFile { file: entry.file + base, ..entry })
        }
        lists.dns.extend(moved(other.lists.dns, base));
        lists.tls.extend(moved(other.lists.tls, base));
        lists.sip.extend(moved(other.lists.sip, base));
        super::keep_answers_once(&mut lists.dns, |a| (a.key.view, &a.key.name, a.key.rtype));
        super::keep_handshakes_once(&mut lists.tls, |h| (&h.key.endpoint, &h.key.partner));
        super::keep_exchanges_once(&mut lists.sip, |e| (&e.key.endpoint, &e.key.domain));
    }
}

impl ListsInFile {
    /// The scanned domains' organizations, as [`Organizations::new`] finds
    /// them from the DNS answers.
    pub fn organizations(&self, facts: &Facts) -> Organizations {
        // The last answer to a question is the one read, as in `DnsIndex`.
        let federation: HashMap<&str, &[String]> = self
            .dns
            .iter()
            .filter(|a| a.key.view == DnsView::External && a.key.rtype == RecordKind::Srv)
            .map(|a| (a.key.name.as_str(), a.key.srv_hosts.as_slice()))
            .collect();
        Organizations::by_hosts(facts, |domain| {
            federation.get(srv_name(FEDERATION_SERVICE, domain).as_str()).map_or_else(Vec::new, |h| h.to_vec())
        })
    }

    /// The DNS answers at these places, read back.
    pub fn answers<'a>(
        &self,
        entries: impl IntoIterator<Item = &'a InFile<Answer>>,
    ) -> Result<Vec<DnsFact>, InputError> {
        self.read(entries, |store| &store.dns)
    }

    /// The handshakes at these places, read back.
    pub fn handshakes<'a>(
        &self,
        entries: impl IntoIterator<Item = &'a InFile<Handshake>>,
    ) -> Result<Vec<TlsFact>, InputError> {
        self.read(entries, |store| &store.tls)
    }

    /// The exchanges at these places, read back.
    pub fn exchanges<'a>(
        &self,
        entries: impl IntoIterator<Item = &'a InFile<Exchange>>,
    ) -> Result<Vec<SipFact>, InputError> {
        self.read(entries, |store| &store.sip)
    }

    /// The facts at these places: held ones copied, the others read back
    /// and checked unchanged.
    fn read<'a, K: 'a, T: DeserializeOwned + Clone>(
        &self,
        entries: impl IntoIterator<Item = &'a InFile<K>>,
        held: impl Fn(&Store) -> &Vec<T>,
    ) -> Result<Vec<T>, InputError> {
        let mut bytes = Vec::new();
        entries
            .into_iter()
            .map(|entry| {
                let store = &self.files[entry.file as usize];
                let (offset, len, line, expected) = match entry.place {
                    Place::Held(index) => return Ok(held(store)[index].clone()),
                    Place::Bytes { offset, len, line, digest } => (offset, len, line, digest),
                };
                let changed = |why: String| InputError {
                    path: store.name.clone(),
                    line: Some(line as usize),
                    column: None,
                    message: format!("the facts file changed while it was replayed ({why}); nothing more was judged"),
                };
                let file = store.file.as_ref().ok_or_else(|| changed("it is no longer open".into()))?;
                bytes.resize(len as usize, 0);
                file.read_exact_at(&mut bytes, offset).map_err(|e| changed(e.to_string()))?;
                if digest(&bytes) != expected {
                    return Err(changed("an entry is not what was read".into()));
                }
                serde_json::from_slice(&bytes).map_err(|e| changed(e.to_string()))
            })
            .collect()
    }
}

fn digest(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(bytes);
    hasher.finish()
}

/// What a document's lists hold, read through.
#[derive(Default)]
struct ReadLists {
    dns: Vec<(Answer, Place)>,
    tls: Vec<(Handshake, Place)>,
    sip: Vec<(Exchange, Place)>,
}

/// The lists of a facts document read an entry at a time.
const LISTS: [&[u8]; 3] = [b"dns", b"tls", b"sip"];

/// The document read through, its lists' entries checked; `None` when it is
/// not shaped as [`split_lists`] expects or an entry does not read.
fn read_leaving_lists(path: &Path, display: &str) -> io::Result<Option<(Facts, File, ReadLists)>> {
    // Looked at before it is opened: opening a FIFO would wait for a writer.
    let regular = |meta: &std::fs::Metadata| meta.is_file() && meta.len() <= crate::files::MAX_FACTS_FILE;
    if !regular(&std::fs::metadata(path)?) {
        return Ok(None);
    }
    let file = File::open(path)?;
    if !regular(&file.metadata()?) {
        return Ok(None);
    }
    let mut read = ReadLists::default();
    let input = BufReader::with_capacity(256 * 1024, (&file).take(crate::files::MAX_FACTS_FILE + 1));
    let skeleton = split_lists(input, |entry| {
        let place = || Place::Bytes {
            offset: entry.offset,
            len: entry.bytes.len() as u32,
            line: entry.line as u32,
            digest: digest(entry.bytes),
        };
        match entry.list {
            0 => match serde_json::from_slice::<DnsFact>(entry.bytes) {
                Ok(fact) => read.dns.push((Answer::of(&fact), place())),
                Err(_) => return false,
            },
            1 => match serde_json::from_slice::<TlsFact>(entry.bytes) {
                // A certificate that does not decode is refused whole: the
                // reader whole names it.
                Ok(fact) if fact.chain.iter().all(|c| decode_one(c).is_some()) => {
                    read.tls.push((Handshake::of(&fact), place()))
                }
                _ => return false,
            },
            _ => match serde_json::from_slice::<SipFact>(entry.bytes) {
                Ok(fact) => read.sip.push((Exchange::of(&fact), place())),
                Err(_) => return false,
            },
        }
        true
    })?;
    let Some(skeleton) = skeleton.and_then(|s| String::from_utf8(s).ok()) else { return Ok(None) };
    let Ok(facts) = Facts::parse(&skeleton, display) else { return Ok(None) };
    Ok(Some((facts, file, read)))
}

/// An entry of one of the [`LISTS`].
struct Entry<'a> {
    list: usize,
    bytes: &'a [u8],
    offset: u64,
    line: usize,
}

/// Where [`split_lists`] is in the document.
#[derive(Default)]
struct Scan {
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// At the top level, whether the next string is a key; the key being
    /// read; the last key read.
    expect_key: bool,
    key: Option<Vec<u8>>,
    last_key: Vec<u8>,
    /// The list whose value comes next, once its key and colon are read.
    pending: Option<usize>,
    /// Within a list's brackets: which.
    list: Option<usize>,
    /// The entry being read: its bytes, offset and line.
    entry: Option<(Vec<u8>, u64, usize)>,
    /// A comma ended the last entry: another must follow.
    after_comma: bool,
    line: usize,
}

/// Reads a JSON document through, handing each entry of its top-level
/// [`LISTS`] to `on_entry` (which says whether it read), and returns the
/// rest of the document, those lists emptied. Where anything is in it does
/// not matter: a document that does not parse is read again whole, and
/// its errors placed there. `None` when the document is not an object, its
/// brackets do not balance, a list holds an empty entry, or an entry did
/// not read: a document this does not follow is left to the JSON parser.
fn split_lists(mut input: impl BufRead, mut on_entry: impl FnMut(Entry) -> bool) -> io::Result<Option<Vec<u8>>> {
    let mut skeleton = Vec::new();
    let mut scan = Scan { line: 1, ..Scan::default() };
    let mut offset = 0u64;
    loop {
        let block = input.fill_buf()?;
        if block.is_empty() {
            break;
        }
        let len = block.len();
        if !scan.block(block, offset, &mut skeleton, &mut on_entry) {
            return Ok(None);
        }
        offset += len as u64;
        if offset > crate::files::MAX_FACTS_FILE {
            return Ok(None);
        }
        input.consume(len);
    }
    Ok((scan.depth == 0 && !scan.in_string && scan.list.is_none()).then_some(skeleton))
}

fn blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

impl Scan {
    /// Reads on through `block`, which starts at `start` in the document;
    /// false when the document is not one this follows.
    fn block(
        &mut self,
        block: &[u8],
        start: u64,
        skeleton: &mut Vec<u8>,
        on_entry: &mut impl FnMut(Entry) -> bool,
    ) -> bool {
        let mut i = 0;
        while i < block.len() {
            let byte = block[i];
            let at = start + i as u64;
            i += 1;
            if self.list.is_some() {
                if !self.in_list(byte, at, skeleton, on_entry) {
                    return false;
                }
                // The rest of a string, at once: certificates are long.
                if self.in_string && !self.escaped {
                    let run = memchr::memchr2(b'"', b'\\', &block[i..]).unwrap_or(block.len() - i);
                    let text = &block[i..i + run];
                    if let Some((bytes, _, _)) = self.entry.as_mut() {
                        bytes.extend_from_slice(text);
                    }
                    // A line break in a string is not JSON; the parser says so.
                    self.line += memchr::memchr_iter(b'\n', text).count();
                    i += run;
                }
                continue;
            }
            if !self.outside_lists(byte, skeleton) {
                return false;
            }
        }
        true
    }

    /// A byte within the brackets of one of the lists.
    fn in_list(&mut self, byte: u8, at: u64, skeleton: &mut Vec<u8>, on_entry: &mut impl FnMut(Entry) -> bool) -> bool {
        let Some(which) = self.list else { return false };
        let mut end_entry = false;
        if self.in_string {
            self.string_byte(byte);
        } else {
            match byte {
                b'"' => self.in_string = true,
                // An entry parsed alone is two levels shallower than in the
                // document: one nested near the parser's limit is left to it.
                b'{' | b'[' if self.depth >= 64 => return false,
                b'{' | b'[' => self.depth += 1,
                b']' if self.depth == 2 => {
                    // `[a, ]` is not JSON.
                    if self.after_comma || (self.entry.is_some() && !self.end_entry(which, on_entry)) {
                        return false;
                    }
                    skeleton.push(b']');
                    self.list = None;
                    self.depth = 1;
                    return true;
                }
                b'}' | b']' if self.depth == 2 => return false,
                b'}' | b']' => self.depth -= 1,
                b',' if self.depth == 2 => end_entry = true,
                _ => {}
            }
        }
        if end_entry {
            // An entry ends; none had begun is `[,` or `,,`.
            if self.entry.is_none() || !self.end_entry(which, on_entry) {
                return false;
            }
            self.after_comma = true;
        } else if self.entry.is_none() && !blank(byte) {
            self.entry = Some((Vec::new(), at, self.line));
            self.after_comma = false;
        }
        if let Some((bytes, _, _)) = self.entry.as_mut()
            && !end_entry
        {
            bytes.push(byte);
        }
        if byte == b'\n' {
            self.line += 1;
        }
        true
    }

    /// A byte within a string; whether it ends the string.
    fn string_byte(&mut self, byte: u8) -> bool {
        if self.escaped {
            self.escaped = false;
        } else if byte == b'\\' {
            self.escaped = true;
        } else if byte == b'"' {
            self.in_string = false;
            return true;
        }
        false
    }

    fn end_entry(&mut self, list: usize, on_entry: &mut impl FnMut(Entry) -> bool) -> bool {
        let Some((bytes, offset, line)) = self.entry.take() else { return false };
        on_entry(Entry { list, bytes: &bytes, offset, line })
    }

    /// A byte of the document outside the lists' brackets.
    fn outside_lists(&mut self, byte: u8, skeleton: &mut Vec<u8>) -> bool {
        skeleton.push(byte);
        if byte == b'\n' {
            self.line += 1;
        }
        if self.in_string {
            if self.string_byte(byte) {
                if let Some(read) = self.key.take() {
                    self.last_key = read;
                }
            } else if let Some(read) = self.key.as_mut() {
                read.push(byte);
            }
            return true;
        }
        if let Some(which) = self.pending.filter(|_| !blank(byte)) {
            self.pending = None;
            if byte == b'[' && self.depth == 1 {
                (self.list, self.depth) = (Some(which), 2);
                return true;
            }
        }
        match byte {
            b'"' => {
                self.in_string = true;
                if self.depth == 1 && self.expect_key {
                    self.key = Some(Vec::new());
                    self.expect_key = false;
                }
            }
            b'{' | b'[' => {
                if self.depth == 0 && byte != b'{' {
                    return false;
                }
                self.depth += 1;
                self.expect_key = self.depth == 1;
            }
            b'}' | b']' => match self.depth.checked_sub(1) {
                Some(outer) => self.depth = outer,
                None => return false,
            },
            b',' if self.depth == 1 => self.expect_key = true,
            b':' if self.depth == 1 => self.pending = LISTS.iter().position(|l| *l == self.last_key.as_slice()),
            _ if self.depth == 0 && !blank(byte) => return false,
            _ => {}
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEEDS: [&str; 2] = [
        include_str!("../../fuzz/corpus/facts/batch-of-three.json"),
        include_str!("../../fuzz/corpus/facts/contoso.facts.json"),
    ];

    fn written(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The same document as `text`, written otherwise.
    fn rewritten(text: &str) -> Vec<(&'static str, String)> {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let compact = serde_json::to_string(&value).unwrap();
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        vec![
            ("as saved", text.to_string()),
            ("on one line", compact.clone()),
            ("pretty, with CRLF", pretty.replace('\n', "\r\n")),
            ("with tabs and blank lines", pretty.replace("  ", "\t").replace(",\n", ",\n\n")),
            (
                "lists' keys escaped",
                compact.replace("\"dns\":", "\"d\\u006es\":").replace("\"tls\":", "\"\\u0074ls\":"),
            ),
        ]
    }

    #[test]
    fn a_facts_file_read_leaving_its_lists_in_it_reads_as_the_whole_document() {
        let dir = tempfile::tempdir().unwrap();
        for (seed, text) in SEEDS.iter().enumerate() {
            for (how, variant) in rewritten(text) {
                let path = written(dir.path(), &format!("{seed}.json"), &variant);
                let read = FactsInFile::load(&path).unwrap();
                let store = &read.lists.files[0];
                // Left in the file, unless the key was written otherwise.
                let held = (store.dns.len(), store.tls.len(), store.sip.len());
                if how == "lists' keys escaped" {
                    assert!(held.0 > 0 && held.1 > 0 && store.sip.is_empty(), "{how}: {held:?}");
                } else {
                    assert_eq!(held, (0, 0, 0), "{how}");
                }
                assert!(!read.lists.dns.is_empty() && !read.lists.tls.is_empty(), "{how}");
                assert_eq!(read.whole().unwrap(), Facts::load(&path).unwrap(), "seed {seed}, {how}");
            }
        }
    }

    #[test]
    fn a_damaged_facts_file_gets_the_error_the_whole_document_gets() {
        let dir = tempfile::tempdir().unwrap();
        let text = SEEDS[0];
        let tls = text.find("\"tls\": [").unwrap();
        let certificate = text[tls..].find("\"MII").unwrap() + tls + 1;
        let damaged = [
            ("cut short in a list", text[..tls + 200].to_string()),
            ("a list's leading comma", text.replacen("\"tls\": [", "\"tls\": [,", 1)),
            ("a list's trailing comma", text.replacen("}], \"sip\": [", "},\n ], \"sip\": [", 1)),
            ("two commas", text.replacen("}, {\"view\"", "},, {\"view\"", 1)),
            ("no comma", text.replacen("}, {\"view\"", "} {\"view\"", 1)),
            ("an entry's brace closing its list", text.replacen("\"sip\": [{", "\"sip\": [}{", 1)),
            ("a certificate not in base64", format!("{}!{}", &text[..certificate], &text[certificate + 1..])),
            ("an entry of another shape", text.replacen("\"dns\": [", "\"dns\": [7, ", 1)),
            ("an array at the top", format!("[{text}]")),
            ("nested past the parser's limit", {
                let deep = format!("{}1{}", "[".repeat(126), "]".repeat(126));
                text.replacen("\"versions\": [", &format!("\"deep\": {deep}, \"versions\": ["), 1)
            }),
            ("a second document", format!("{text} {{}}")),
        ];
        for (how, text) in damaged {
            let path = written(dir.path(), "damaged.json", &text);
            let whole = Facts::load(&path).expect_err(how);
            assert_eq!(FactsInFile::load(&path).err(), Some(whole), "{how}");
        }
        let mut bytes = SEEDS[0].as_bytes().to_vec();
        bytes[tls + 20] = 0xff;
        let path = dir.path().join("not-utf8.json");
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(FactsInFile::load(&path).err(), Some(Facts::load(&path).expect_err("not UTF-8")));
    }

    #[test]
    fn an_entry_changed_after_it_was_read_is_refused_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(SEEDS[0]).unwrap()).unwrap();
        let path = written(dir.path(), "facts.json", &pretty);
        let read = FactsInFile::load(&path).unwrap();
        let Place::Bytes { offset, .. } = read.lists.tls[0].place else { panic!("held") };
        let line = pretty[..offset as usize].matches('\n').count() + 1;
        // The same length, another certificate.
        let certificate = pretty[offset as usize..].find("\"MII").unwrap() + offset as usize + 4;
        let mut changed = pretty.into_bytes();
        changed[certificate] = if changed[certificate] == b'A' { b'B' } else { b'A' };
        std::fs::write(&path, &changed).unwrap();
        let error = read.lists.handshakes(&read.lists.tls).unwrap_err();
        assert_eq!(error.line, Some(line));
        assert!(error.message.contains("the facts file changed while it was replayed"), "{error}");
        // What was not changed still reads.
        assert!(read.lists.answers(&read.lists.dns).is_ok());
    }
}

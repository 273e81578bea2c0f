//! Planned zones: zone files given with `--zone`, read before they are
//! published, so that the DNS rules judge them as partners would see them
//! once live. Every format is written out as one BIND master file whose
//! every line says where it came from, and read with hickory's zone-file
//! parser (the same library that reads live answers, so a record means the
//! same either way): BIND master files with their `$INCLUDE`s and
//! `$GENERATE`s (`master`), and the record listings of DNS-as-code tools and
//! cloud DNS services (`listing`). Bounded in size, whatever the format.

mod listing;
mod master;
mod yaml;

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use hickory_proto::rr::{Name, Record, RecordType};
use hickory_proto::serialize::txt::Parser;

use super::InputError;
use super::dns::RecordSource;

pub use master::MAX_GENERATED;

/// The most a zone file, with what it includes or generates, may take: a
/// zone of 100,000 SIP domains' records is well under this.
pub const MAX_ZONE_FILE: u64 = 64 << 20;

/// A zone as planned: its origin and every record of the file.
#[derive(Debug, Clone)]
pub struct PlannedZone {
    /// The file, as the user named it.
    pub path: String,
    pub origin: Name,
    pub records: Vec<Record>,
    /// Where each (owner, type)'s records are written, in the file's order
    /// (the order of that set in `records`): owners lower case, without
    /// the trailing dot.
    pub sources: HashMap<(String, RecordType), Vec<RecordSource>>,
    /// Names whose answers the DNS provider computes (aliases, routing
    /// policies): not known from the file.
    pub unknown: Vec<Unknown>,
    /// The file has no SOA record (octoDNS: its provider writes one): one
    /// stands in at the apex, and negative answers' TTL is not known.
    pub soa_assumed: bool,
}

/// A name of a listing whose answer is not written in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// Lower case, without the trailing dot.
    pub name: String,
    pub at: RecordSource,
    /// What it is, as the listing says it.
    pub what: String,
}

impl PlannedZone {
    /// The origin, lower case, without the trailing dot.
    pub fn origin_name(&self) -> String {
        let text = self.origin.to_ascii().to_ascii_lowercase();
        text.strip_suffix('.').unwrap_or(&text).to_string()
    }

    /// The zone's SOA record, which negative answers carry.
    pub fn soa(&self) -> Option<&Record> {
        self.records.iter().find(|r| r.record_type() == RecordType::SOA && r.name == self.origin)
    }
}

/// `--zone [ORIGIN=]FILE`: the origin given, or the file's own `$ORIGIN`.
pub fn parse_zone_arg(text: &str) -> (Option<String>, &str) {
    match text.split_once('=') {
        Some((origin, path)) if !origin.is_empty() && !origin.contains('/') => (Some(origin.to_string()), path),
        _ => (None, text),
    }
}

/// A zone written out as one master file, with where each of its lines
/// came from.
#[derive(Default)]
struct Flat {
    text: String,
    /// Each line's file (an index into `files`) and line there.
    from: Vec<(u32, u32)>,
    files: Vec<String>,
    unknown: Vec<Unknown>,
    soa_assumed: bool,
}

impl Flat {
    fn push(&mut self, line: &str, from: &RecordSource) -> Result<(), String> {
        if (self.text.len() + line.len()) as u64 >= MAX_ZONE_FILE {
            return Err(format!("the zone, with what it includes or generates, passes {MAX_ZONE_FILE} bytes"));
        }
        self.text.push_str(line);
        self.text.push('\n');
        // Lines come file by file: the last file is nearly always this one.
        let file = match self.files.iter().rposition(|f| *f == from.file) {
            Some(index) => index,
            None => {
                self.files.push(from.file.clone());
                self.files.len() - 1
            }
        };
        self.from.push((file as u32, from.line as u32));
        Ok(())
    }

    /// A zone without `$TTL` whose records leave their TTL out (as Windows
    /// DNS Server writes its zone files) takes the SOA's minimum as their
    /// TTL, as BIND does (RFC 1035 §5.2 names no default; RFC 2308 §4 made
    /// the field the negative TTL, and BIND loads such files with it).
    fn default_ttl_from_soa(&mut self) {
        let mut depth = 0;
        let mut soa: Option<(Vec<String>, usize)> = None;
        for (index, line) in self.text.lines().enumerate() {
            let starts_entry = depth <= 0;
            let words = tokens(line, &mut depth);
            if starts_entry && words.first().is_some_and(|w| w.eq_ignore_ascii_case("$TTL")) {
                return;
            }
            match &mut soa {
                Some((fields, _)) if !starts_entry => fields.extend(words),
                Some(_) => break,
                None if starts_entry && words.iter().any(|w| w.eq_ignore_ascii_case("SOA")) => {
                    soa = Some((words, index + 1));
                    if depth <= 0 {
                        break;
                    }
                }
                None => {}
            }
        }
        let Some((fields, line)) = soa else { return };
        // An SOA with its own TTL: the records after it inherit TTLs as
        // the parser already reads them.
        let before: Vec<&String> = fields.iter().take_while(|w| !w.eq_ignore_ascii_case("SOA")).collect();
        if before.iter().any(|w| w.starts_with(|c: char| c.is_ascii_digit())) {
            return;
        }
        let Some(minimum) = fields.last().and_then(|w| w.parse::<u32>().ok()) else { return };
        let Some(at) = self.source(line) else { return };
        let file = self.files.iter().position(|f| *f == at.file).unwrap_or(0);
        self.text.insert_str(0, &format!("$TTL {minimum}\n"));
        self.from.insert(0, (file as u32, at.line as u32));
    }

    /// Where a line of the written-out text came from (1-based).
    fn source(&self, line: usize) -> Option<RecordSource> {
        let &(file, line) = self.from.get(line.checked_sub(1)?)?;
        Some(RecordSource { file: self.files[file as usize].clone(), line: line as usize })
    }
}

/// The names a zone file goes by in a directory given with `--zone DIR`:
/// BIND's `*.zone`, `*.db` and `db.*`, Windows DNS Server's `*.dns`,
/// octoDNS's and the cloud listings' `*.yaml`, `*.yml` and `*.json`.
const ZONE_EXTENSIONS: [&str; 6] = ["zone", "db", "dns", "yaml", "yml", "json"];

/// The zone files `--zone PATH` names: the file, or the zone files in the
/// directory (not below it; hidden files and an octoDNS configuration, which
/// names zones rather than holding one, left out), in name order.
pub fn zone_paths(path: &Path) -> Result<Vec<std::path::PathBuf>, InputError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let error = |message: String| InputError { path: path.display().to_string(), line: None, column: None, message };
    let entries = std::fs::read_dir(path).map_err(|e| error(format!("cannot read directory: {e}")))?;
    let mut files: Vec<std::path::PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
            !name.starts_with('.')
                && (name.starts_with("db.")
                    || p.extension().is_some_and(|x| ZONE_EXTENSIONS.iter().any(|e| x.eq_ignore_ascii_case(e))))
        })
        .collect();
    files.sort();
    // A link in the directory that leads out of it is not followed: a pull
    // request could otherwise point a "zone" at any file the job can read.
    let inside = std::fs::canonicalize(path).map_err(|e| error(format!("cannot read directory: {e}")))?;
    let mut outside = Vec::new();
    files.retain(|file| {
        let within = std::fs::canonicalize(file).is_ok_and(|real| real.starts_with(&inside));
        if !within {
            outside.push(file.display().to_string());
        }
        within
    });
    if !outside.is_empty() {
        return Err(error(format!(
            "{} leads out of the directory: not read (give the file itself with --zone if it is meant)",
            outside.join(", ")
        )));
    }
    files.retain(|p| !listing::is_octodns_config(p));
    if files.is_empty() {
        return Err(error(format!("no zone files (*.{}, db.*) in this directory", ZONE_EXTENSIONS.join(", *."))));
    }
    Ok(files)
}

/// Every file reading the zone at `path` opens: the file and what it
/// includes, so that no output is written over one of them. Problems are
/// left to [`read_zone`], which names them.
pub fn files_read(path: &Path, origin: Option<&str>) -> Vec<std::path::PathBuf> {
    let Ok(text) = crate::files::read_text_bounded(path, MAX_ZONE_FILE) else { return vec![path.to_path_buf()] };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut flat = Flat::default();
    if !listing::looks_like_listing(text) {
        let origin = origin.map(|o| o.trim_end_matches('.').to_ascii_lowercase());
        let _ = master::flatten(path, text, origin, &mut flat);
    }
    let mut files: Vec<std::path::PathBuf> = flat.files.iter().map(std::path::PathBuf::from).collect();
    if files.is_empty() {
        files.push(path.to_path_buf());
    }
    files
}

/// Reads a planned zone file, in whichever format it is written. `origin`
/// is the zone's name when the file does not say it (as `named.conf` gives
/// it to a server).
pub fn read_zone(path: &Path, origin: Option<&str>) -> Result<PlannedZone, InputError> {
    let text = crate::files::read_text_bounded(path, MAX_ZONE_FILE).map_err(|e| InputError {
        path: path.display().to_string(),
        line: None,
        column: None,
        message: e,
    })?;
    parse_zone(path, &text, origin)
}

/// A planned zone from the text of the file at `path` (which names it, and
/// whose directory its `$INCLUDE`s are read from).
pub fn parse_zone(path: &Path, text: &str, origin: Option<&str>) -> Result<PlannedZone, InputError> {
    let display = path.display().to_string();
    let error =
        |line: Option<usize>, message: String| InputError { path: display.clone(), line, column: None, message };
    // Notepad's byte-order mark is not part of the first line's owner.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let given = match origin {
        Some(origin) => Some(
            Name::from_ascii(format!("{}.", origin.trim_end_matches('.')))
                .map_err(|e| error(None, format!("the origin {origin:?} is not a DNS name: {e}")))?,
        ),
        None => None,
    };
    // Windows DNS Server names a zone's file after it (`contoso.com.dns`)
    // and writes no $ORIGIN.
    let given = given.or_else(|| {
        let stem = path.file_name()?.to_str()?.strip_suffix(".dns")?;
        Name::from_ascii(format!("{}.", stem.trim_end_matches('.'))).ok()
    });
    let mut flat = Flat::default();
    let origin = match listing::read(text, &display, path, given.as_ref(), &mut flat)? {
        Some(origin) => Some(origin),
        None => {
            master::flatten(path, text, given.as_ref().map(name_text), &mut flat)?;
            given
        }
    };
    flat.default_ttl_from_soa();
    let (origin, sets) = Parser::new(flat.text.as_str(), None, origin.clone()).parse().map_err(|e| {
        // hickory's words for a text it cannot read, without the Rust.
        let message = e.to_string().replace("proto error: ", "").replace(": Err(Errors)", "");
        let hint = if message.contains("origin") {
            " (give the zone's name with --zone ORIGIN=FILE, or start the file with $ORIGIN)"
        } else {
            ""
        };
        let message = format!("not a zone file this scan can read: {message}{hint}");
        match failing_entry(&flat, origin.as_ref()) {
            Some(at) => InputError { path: at.file.clone(), line: Some(at.line), column: None, message },
            None => error(None, message),
        }
    })?;
    let records: Vec<Record> =
        sets.into_values().flat_map(|set| set.records_without_rrsigs().cloned().collect::<Vec<_>>()).collect();
    let sources = record_lines(&flat.text, &origin)
        .into_iter()
        .map(|(key, lines)| (key, lines.into_iter().filter_map(|line| flat.source(line)).collect()))
        .collect();
    let zone = PlannedZone {
        path: display.clone(),
        origin,
        records,
        sources,
        unknown: flat.unknown,
        soa_assumed: flat.soa_assumed,
    };
    if zone.soa().is_none() {
        return Err(error(None, format!("no SOA record at the zone's origin {}: not a zone file", zone.origin_name())));
    }
    Ok(zone)
}

/// A name as zone files write it relative to nothing: lower case, without
/// the trailing dot.
fn name_text(name: &Name) -> String {
    let text = name.to_ascii().to_ascii_lowercase();
    text.strip_suffix('.').unwrap_or(&text).to_string()
}

/// The largest zone whose parse error is located by bisection (about a
/// second of parsing on a small machine).
const MAX_BISECTED: usize = 4 << 20;

/// The entry the parser stops at, which it does not say: the first entry
/// at which the text read up to it no longer parses (a bisection over the
/// entries, so a failing zone costs a few more parses, a clean one none).
fn failing_entry(flat: &Flat, origin: Option<&Name>) -> Option<RecordSource> {
    // Each step parses up to the whole text again: past this size the
    // error is said without its line rather than at the cost of minutes.
    if flat.text.len() > MAX_BISECTED {
        return None;
    }
    let mut starts = Vec::new();
    let mut depth = 0;
    let mut offset = 0;
    for (index, line) in flat.text.lines().enumerate() {
        if depth <= 0 {
            starts.push((offset, index + 1));
        }
        tokens(line, &mut depth);
        offset += line.len() + 1;
    }
    let parses = |entries: usize| {
        let end = starts.get(entries).map_or(flat.text.len(), |(offset, _)| *offset);
        Parser::new(&flat.text[..end], None, origin.cloned()).parse().is_ok()
    };
    // Entries [0, good) parse; [0, bad) do not.
    let (mut good, mut bad) = (0, starts.len());
    if parses(bad) {
        return None;
    }
    while bad - good > 1 {
        let middle = (good + bad) / 2;
        if parses(middle) { good = middle } else { bad = middle }
    }
    flat.source(starts.get(bad - 1)?.1)
}

/// Whether a line is words and blanks only: no quote, escape, comment or
/// parenthesis to read character by character (most lines of a zone).
fn is_plain(line: &str) -> bool {
    !line.contains(['"', '\\', ';', '(', ')'])
}

/// The tokens of a zone-file line: a quoted string is one token, a comment
/// ends the line; the parentheses, and how deep they leave the entry.
fn tokens(line: &str, depth: &mut i32) -> Vec<String> {
    if is_plain(line) {
        return line.split_whitespace().map(str::to_string).collect();
    }
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                current.extend(chars.next());
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ';' if !quoted => break,
            '(' | ')' if !quoted => {
                *depth += if c == '(' { 1 } else { -1 };
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// Which lines each (owner, type)'s records are on, read as the parser
/// reads the file: `$ORIGIN`, `@`, relative names, a blank owner for the
/// previous one, an optional TTL and class before the type, entries that
/// parentheses continue over several lines.
fn record_lines(text: &str, origin: &Name) -> HashMap<(String, RecordType), Vec<usize>> {
    let absolute = |name: &Name| {
        let text = name.to_ascii().to_ascii_lowercase();
        text.strip_suffix('.').unwrap_or(&text).to_string()
    };
    let mut origin = absolute(origin);
    let mut owner = origin.clone();
    let mut lines = HashMap::new();
    let mut depth = 0;
    for (index, line) in text.lines().enumerate() {
        let starts_entry = depth <= 0;
        let mut words = tokens(line, &mut depth).into_iter();
        if !starts_entry {
            continue;
        }
        let blank_owner = line.starts_with([' ', '\t']);
        let Some(first) = words.next() else { continue };
        if first.eq_ignore_ascii_case("$ORIGIN") {
            if let Some(name) = words.next() {
                origin = resolve(&name, &origin);
            }
            continue;
        }
        if first.starts_with('$') {
            continue;
        }
        let mut rest: Vec<String> = words.collect();
        if blank_owner {
            rest.insert(0, first);
        } else {
            owner = resolve(&first, &origin);
        }
        let rtype = rest
            .iter()
            .find(|w| {
                let upper = w.to_ascii_uppercase();
                !(w.starts_with(|c: char| c.is_ascii_digit()) || ["IN", "CH", "HS", "CS"].contains(&upper.as_str()))
            })
            .and_then(|w| RecordType::from_str(&w.to_ascii_uppercase()).ok());
        if let Some(rtype) = rtype {
            lines.entry((owner.clone(), rtype)).or_insert_with(Vec::new).push(index + 1);
        }
    }
    lines
}

/// A zone-file name made absolute: `@` is the origin, a name without a
/// trailing dot is relative to it. Lower case, without the trailing dot.
fn resolve(name: &str, origin: &str) -> String {
    let name = name.to_ascii_lowercase();
    if name == "@" {
        origin.to_string()
    } else if let Some(absolute) = name.strip_suffix('.') {
        absolute.to_string()
    } else if origin.is_empty() {
        name
    } else {
        format!("{name}.{origin}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_record_set_is_found_on_its_first_line_as_the_parser_reads_the_file() {
        let text = "; a comment\n$TTL 300\n@ IN SOA ns1 hostmaster (\n  1 ; serial\n  3600 600 86400 300 )\n@ NS ns1\nns1 300 IN A 192.0.2.1\n    IN AAAA 2001:db8::1\n_sip._tls IN 600 SRV 0 0 443 sip\ntxt TXT \"; not a comment ( \" \n$ORIGIN sub.example.test.\nhost A 192.0.2.2\nabs.example.test. CNAME host\n";
        let origin = Name::from_ascii("example.test.").unwrap();
        let lines = record_lines(text, &origin);
        let at = |owner: &str, rtype| lines.get(&(owner.to_string(), rtype)).map(|l| l[0]);
        assert_eq!(at("example.test", RecordType::SOA), Some(3));
        assert_eq!(at("example.test", RecordType::NS), Some(6));
        assert_eq!(at("ns1.example.test", RecordType::A), Some(7));
        assert_eq!(at("ns1.example.test", RecordType::AAAA), Some(8), "a blank owner is the previous one");
        assert_eq!(at("_sip._tls.example.test", RecordType::SRV), Some(9), "class before TTL");
        assert_eq!(at("txt.example.test", RecordType::TXT), Some(10));
        assert_eq!(at("host.sub.example.test", RecordType::A), Some(12), "after $ORIGIN");
        assert_eq!(at("abs.example.test", RecordType::CNAME), Some(13));
    }
}

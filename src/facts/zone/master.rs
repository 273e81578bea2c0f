//! BIND master files written out as one: `$INCLUDE` read in place, from
//! the zone's own directory only, and `$GENERATE` expanded, within bounds,
//! so that hickory's parser (which reads an include with no bound and has
//! no `$GENERATE`) reads one text whose every line says where it came from.

use std::path::{Path, PathBuf};

use super::{Flat, tokens};
use crate::facts::InputError;
use crate::facts::dns::RecordSource;

/// How deep `$INCLUDE`s may nest: a zone split by section needs two.
const MAX_INCLUDE_DEPTH: usize = 8;

/// The most records one `$GENERATE` may write: a block of client or
/// reverse records is a few hundred; millions would be a denial of
/// service, not a zone.
pub const MAX_GENERATED: u64 = 65_536;

/// The zone file at `path` (already read as `text`) and everything it
/// includes, as one master file.
pub(super) fn flatten(path: &Path, text: &str, origin: Option<String>, flat: &mut Flat) -> Result<(), InputError> {
    let directory = std::fs::canonicalize(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let mut reader = Reader { directory, stack: Vec::new(), origin };
    reader.file(path, text, flat)
}

struct Reader {
    /// The zone's directory, resolved: nothing outside it is read.
    directory: PathBuf,
    /// The files being read, outermost first, resolved.
    stack: Vec<PathBuf>,
    /// The current `$ORIGIN`, absolute, lower case, without the dot.
    origin: Option<String>,
}

impl Reader {
    fn file(&mut self, path: &Path, text: &str, flat: &mut Flat) -> Result<(), InputError> {
        let display = path.display().to_string();
        self.stack.push(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
        let mut depth = 0;
        let mut at = RecordSource { file: display.clone(), line: 0 };
        for (index, line) in text.lines().enumerate() {
            at.line = index + 1;
            let error =
                |message: String| InputError { path: display.clone(), line: Some(index + 1), column: None, message };
            let starts_entry = depth <= 0;
            let aged;
            let line = match without_aging(line) {
                Some(record) => {
                    aged = record;
                    aged.as_str()
                }
                None => line,
            };
            // Most lines are a record of plain words: copied as they are.
            if super::is_plain(line) && !(starts_entry && line.trim_start().starts_with('$')) {
                flat.push(line, &at).map_err(error)?;
                continue;
            }
            let words = tokens(line, &mut depth);
            let directive = words.first().filter(|_| starts_entry).map(|w| w.to_ascii_uppercase());
            match directive.as_deref() {
                Some("$INCLUDE") => self.include(&words[1..], path, &at, flat)?,
                Some("$GENERATE") => generate(&words[1..], &at, flat).map_err(error)?,
                Some("$ORIGIN") => {
                    if let Some(name) = words.get(1) {
                        self.origin = Some(super::resolve(name, self.origin.as_deref().unwrap_or("")));
                    }
                    flat.push(line, &at).map_err(error)?;
                }
                _ => flat.push(line, &at).map_err(error)?,
            }
        }
        self.stack.pop();
        Ok(())
    }

    /// `$INCLUDE file [origin]`: the file read in place, its origin the one
    /// given or the includer's, and the includer's origin back after it
    /// (RFC 1035 §5.1: an include never changes the includer's origin).
    fn include(
        &mut self,
        args: &[String],
        includer: &Path,
        at: &RecordSource,
        flat: &mut Flat,
    ) -> Result<(), InputError> {
        let fault = |message: String| InputError { path: at.file.clone(), line: Some(at.line), column: None, message };
        let Some(name) = args.first() else { return Err(fault("$INCLUDE names no file".into())) };
        let name = name.trim_matches('"');
        if self.stack.len() > MAX_INCLUDE_DEPTH {
            return Err(fault(format!("$INCLUDE nested more than {MAX_INCLUDE_DEPTH} deep")));
        }
        let relative = includer.parent().unwrap_or(Path::new("")).join(name);
        let wanted = if Path::new(name).is_absolute() { PathBuf::from(name) } else { relative };
        // Resolved before anything is opened: links and `..` cannot lead out.
        let resolved =
            std::fs::canonicalize(&wanted).map_err(|e| fault(format!("$INCLUDE {name}: cannot read: {e}")))?;
        if !resolved.starts_with(&self.directory) {
            return Err(fault(format!(
                "$INCLUDE {name} is outside the zone's directory ({}): it is not read",
                self.directory.display()
            )));
        }
        if self.stack.contains(&resolved) {
            return Err(fault(format!("$INCLUDE {name} includes a file that is already being read: a loop")));
        }
        let budget = super::MAX_ZONE_FILE.saturating_sub(flat.text.len() as u64);
        let text = crate::files::read_text_bounded(&wanted, budget).map_err(|e| {
            fault(format!(
                "$INCLUDE {name}: {e} (a zone and its includes are read up to {} bytes)",
                super::MAX_ZONE_FILE
            ))
        })?;
        let Some(outer) = self.origin.clone() else {
            return Err(fault(format!(
                "$INCLUDE {name} comes before the zone's origin is known: start the file with $ORIGIN or give --zone ORIGIN=FILE"
            )));
        };
        if let Some(inner) = args.get(1) {
            let inner = super::resolve(inner, &outer);
            flat.push(&format!("$ORIGIN {inner}."), at).map_err(fault)?;
            self.origin = Some(inner);
        }
        // Errors inside the included file name its own file and line.
        self.file(&wanted, &text, flat)?;
        flat.push(&format!("$ORIGIN {outer}."), at).map_err(fault)?;
        self.origin = Some(outer);
        Ok(())
    }
}

/// A record line of a Windows DNS Server zone file (what `dnscmd
/// /ZoneExport` writes and `C:\\Windows\\System32\\dns` holds) without its
/// aging stamp: a dynamically registered record carries `[AGE:hours]`
/// before its TTL, which no other server writes and hickory does not read.
fn without_aging(line: &str) -> Option<String> {
    let stamp = |word: &str| {
        word.strip_prefix("[AGE:")
            .and_then(|rest| rest.strip_suffix(']'))
            .is_some_and(|hours| !hours.is_empty() && hours.bytes().all(|b| b.is_ascii_digit()))
    };
    // A quoted string may hold the same text as text.
    if !line.contains("[AGE:") || line.contains('"') || !line.split_whitespace().any(stamp) {
        return None;
    }
    // The owner's column stays: a blank owner is the previous one.
    let indent = if line.starts_with([' ', '\t']) { "\t" } else { "" };
    Some(format!("{indent}{}", line.split_whitespace().filter(|w| !stamp(w)).collect::<Vec<_>>().join(" ")))
}

/// `$GENERATE start-stop[/step] lhs [ttl] [class] type rhs…`: one record
/// per step, `$` in the owner and data replaced by the counter (BIND's
/// `${offset,width,base}` with bases d, o, x and X; `\$` is a dollar).
fn generate(args: &[String], at: &RecordSource, flat: &mut Flat) -> Result<(), String> {
    let usage = "$GENERATE needs start-stop[/step], an owner and a record";
    let (range, template) = args.split_first().ok_or(usage)?;
    if template.len() < 2 {
        return Err(usage.into());
    }
    let (span, step) = range.split_once('/').unwrap_or((range, "1"));
    let (start, stop) = span.split_once('-').ok_or(usage)?;
    let number = |text: &str| text.parse::<u64>().map_err(|_| format!("$GENERATE: {text:?} is not a number"));
    let (start, stop, step) = (number(start)?, number(stop)?, number(step)?);
    if step == 0 || stop < start {
        return Err(format!("$GENERATE {range}: the range is empty or its step zero"));
    }
    let count = (stop - start) / step + 1;
    if count > MAX_GENERATED {
        return Err(format!(
            "$GENERATE {range} would write {count} records; at most {MAX_GENERATED} are written from one $GENERATE"
        ));
    }
    let mut value = start;
    while value <= stop {
        let line = template.iter().map(|word| substitute(word, value)).collect::<Result<Vec<_>, _>>()?.join(" ");
        flat.push(&line, at)?;
        value += step;
    }
    Ok(())
}

/// One `$GENERATE` word with the counter put in.
fn substitute(word: &str, value: u64) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'$') => out.push(chars.next().unwrap_or('$')),
            '$' if chars.peek() == Some(&'{') => {
                chars.next();
                let spec: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let mut parts = spec.split(',');
                let offset: i64 = parts.next().unwrap_or("0").trim().parse().map_err(|_| bad_modifier(&spec))?;
                let width: usize = parts.next().unwrap_or("0").trim().parse().map_err(|_| bad_modifier(&spec))?;
                let shifted = u64::try_from(value as i64 + offset).map_err(|_| bad_modifier(&spec))?;
                let written = match parts.next().unwrap_or("d").trim() {
                    "d" => format!("{shifted:0width$}"),
                    "o" => format!("{shifted:0width$o}"),
                    "x" => format!("{shifted:0width$x}"),
                    "X" => format!("{shifted:0width$X}"),
                    other => return Err(format!("$GENERATE: the base {other:?} is not read (d, o, x or X)")),
                };
                out.push_str(&written);
            }
            '$' => out.push_str(&value.to_string()),
            c => out.push(c),
        }
    }
    Ok(out)
}

fn bad_modifier(spec: &str) -> String {
    format!("$GENERATE: ${{{spec}}} is not offset[,width[,base]]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_windows_aging_stamp_is_dropped_and_nothing_else() {
        assert_eq!(
            without_aging("sip [AGE:3674444] 1200 A 198.51.100.10").as_deref(),
            Some("sip 1200 A 198.51.100.10")
        );
        assert_eq!(without_aging("\t[AGE:3674444] 1200 A 198.51.100.11").as_deref(), Some("\t1200 A 198.51.100.11"));
        assert_eq!(without_aging("sip 1200 A 198.51.100.10"), None);
        assert_eq!(without_aging("txt TXT \"[AGE:12]\""), None, "inside a quoted string it is text");
        assert_eq!(without_aging("txt TXT \"a [AGE:12] b\""), None);
        assert_eq!(without_aging("x [AGE:] A 192.0.2.1"), None);
    }

    #[test]
    fn generate_writes_the_counter_with_bind_modifiers() {
        assert_eq!(substitute("sip$", 7).unwrap(), "sip7");
        assert_eq!(substitute("h${10,3,d}", 7).unwrap(), "h017");
        assert_eq!(substitute("${0,2,x}-${-1}", 26).unwrap(), "1a-25");
        assert_eq!(substitute("a\\$b", 3).unwrap(), "a$b");
        assert!(substitute("${0,0,n}", 3).is_err(), "nibble mode is refused, not misread");
        assert!(substitute("${-5}", 3).is_err(), "a negative counter is refused");
    }
}

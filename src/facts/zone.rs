//! Planned zones: BIND master files given with `--zone`, read before they
//! are published, so that the DNS rules judge them as partners would see
//! them once live. Read with hickory's zone-file parser (the same library
//! that reads live answers, so a record means the same either way); bounded
//! in size, and without `$INCLUDE` or `$GENERATE`, which would read other
//! files or expand without bound.

use std::path::Path;

use hickory_proto::rr::{Name, Record, RecordType};
use hickory_proto::serialize::txt::Parser;

use super::InputError;

/// The most a zone file may take: a zone of 100,000 SIP domains' records
/// is well under this.
pub const MAX_ZONE_FILE: u64 = 64 << 20;

/// A zone as planned: its origin and every record of the file.
#[derive(Debug, Clone)]
pub struct PlannedZone {
    /// The file, as the user named it.
    pub path: String,
    pub origin: Name,
    pub records: Vec<Record>,
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

/// Reads a planned zone file. `origin` is the zone's name when the file does
/// not say it with `$ORIGIN` (as `named.conf` gives it to a server).
pub fn read_zone(path: &Path, origin: Option<&str>) -> Result<PlannedZone, InputError> {
    let display = path.display().to_string();
    let error =
        |line: Option<usize>, message: String| InputError { path: display.clone(), line, column: None, message };
    let text = crate::files::read_text_bounded(path, MAX_ZONE_FILE).map_err(|e| error(None, e))?;
    for (index, line) in text.lines().enumerate() {
        let directive = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        if directive == "$INCLUDE" || directive == "$GENERATE" {
            return Err(error(
                Some(index + 1),
                format!("{directive} is not read: give each zone file with --zone, its records written out"),
            ));
        }
    }
    let origin = match origin {
        Some(origin) => Some(
            Name::from_ascii(format!("{}.", origin.trim_end_matches('.')))
                .map_err(|e| error(None, format!("the origin {origin:?} is not a DNS name: {e}")))?,
        ),
        None => None,
    };
    let (origin, sets) = Parser::new(text.as_str(), None, origin).parse().map_err(|e| {
        let message = e.to_string();
        let hint = if message.contains("origin") {
            " (give the zone's name with --zone ORIGIN=FILE, or start the file with $ORIGIN)"
        } else {
            ""
        };
        error(None, format!("not a zone file this scan can read: {message}{hint}"))
    })?;
    let records: Vec<Record> =
        sets.into_values().flat_map(|set| set.records_without_rrsigs().cloned().collect::<Vec<_>>()).collect();
    let zone = PlannedZone { path: display.clone(), origin, records };
    if zone.soa().is_none() {
        return Err(error(None, format!("no SOA record at the zone's origin {}: not a zone file", zone.origin_name())));
    }
    Ok(zone)
}

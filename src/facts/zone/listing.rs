//! Record listings, written out as master-file lines: octoDNS zone YAML
//! (DNS as code) and what Azure DNS (`az network dns record-set list`, its
//! private zones' `az network private-dns record-set list`, or the REST
//! API), Route 53 (`aws route53 list-resource-record-sets`) and
//! Cloud DNS (`gcloud dns record-sets list`) print, as JSON or YAML. Each
//! record keeps its own line in the listing. Records whose answer the
//! provider computes (aliases, weighted or geographic sets) are not in the
//! file to be read: their names are marked unknown, never answered empty.

use std::path::Path;

use hickory_proto::rr::Name;

use super::yaml::{self, Node, Value};
use super::{Flat, Unknown};
use crate::facts::InputError;
use crate::facts::dns::RecordSource;

/// The listing formats fedscan reads, as their users call them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    OctoDns,
    Azure,
    Route53,
    CloudDns,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::OctoDns => "octoDNS zone YAML",
            Format::Azure => "Azure DNS record-set listing",
            Format::Route53 => "Route 53 record-set listing",
            Format::CloudDns => "Cloud DNS record-set listing",
        }
    }
}

/// Reads `text` as a record listing into `flat` and gives the zone's
/// origin, or `None` when the text is not a listing (a master file).
pub(super) fn read(
    text: &str,
    display: &str,
    path: &Path,
    given: Option<&Name>,
    flat: &mut Flat,
) -> Result<Option<Name>, InputError> {
    let error = |line: usize, message: String| InputError {
        path: display.to_string(),
        line: (line > 0).then_some(line),
        column: None,
        message,
    };
    let structured = text.trim_start_matches('\u{feff}').trim_start().starts_with(['{', '[']);
    if !structured && !looks_like_yaml(text) {
        return Ok(None);
    }
    let documents = match yaml::documents(text) {
        Ok(documents) => documents,
        Err((line, message)) if structured => {
            return Err(error(line, format!("not JSON this scan can read: {message}")));
        }
        // Not YAML: a master file, which the master-file reader judges.
        Err(_) => return Ok(None),
    };
    let Some((format, sets)) = detect(&documents) else {
        if documents.first().is_some_and(names_zones) {
            return Err(error(
                documents[0].line,
                "an octoDNS configuration, which names zones rather than holding one: give the zone files it \
                 names (contoso.com.yaml) or their directory"
                    .into(),
            ));
        }
        if documents.iter().any(|d| !matches!(d.value, Value::Scalar(_))) {
            return Err(error(
                documents.first().map_or(0, |d| d.line),
                "a listing this scan does not know: give a BIND zone file, octoDNS zone YAML, or the JSON or YAML \
                 that Azure DNS, Route 53 or Cloud DNS list record sets as"
                    .into(),
            ));
        }
        return Ok(None);
    };
    let mut writer = Writer { flat, display, format, origin: String::new() };
    let origin = match format {
        Format::OctoDns => {
            let origin = match given {
                Some(name) => super::name_text(name),
                None => octodns_origin(path).ok_or_else(|| {
                    error(
                        0,
                        "an octoDNS zone file is named after its zone (contoso.com.yaml); give --zone ORIGIN=FILE"
                            .into(),
                    )
                })?,
            };
            writer.start(&origin, 1)?;
            writer.octodns(&documents[0])?;
            origin
        }
        _ => {
            let origin = listing_origin(format, &sets, given).ok_or_else(|| {
                error(0, format!("a {} without the zone's SOA record set: give --zone ORIGIN=FILE", format.name()))
            })?;
            writer.start(&origin, sets.first().map_or(1, |s| s.line))?;
            for set in &sets {
                writer.cloud_set(set)?;
            }
            origin
        }
    };
    let origin = Name::from_ascii(format!("{origin}."))
        .map_err(|e| error(0, format!("the zone's name {origin:?} is not a DNS name: {e}")))?;
    Ok(Some(origin))
}

/// Whether a text would be read as a listing rather than a master file.
pub(super) fn looks_like_listing(text: &str) -> bool {
    text.trim_start().starts_with(['{', '[']) || looks_like_yaml(text)
}

/// Whether the file is an octoDNS configuration (`providers:` and
/// `zones:`), which names the zones rather than holding one.
pub(super) fn is_octodns_config(path: &Path) -> bool {
    let is_yaml = path.extension().is_some_and(|x| x.eq_ignore_ascii_case("yaml") || x.eq_ignore_ascii_case("yml"));
    if !is_yaml {
        return false;
    }
    let Ok(text) = crate::files::read_text_bounded(path, super::MAX_ZONE_FILE) else { return false };
    yaml::documents(&text).ok().and_then(|d| d.into_iter().next()).is_some_and(|d| names_zones(&d))
}

/// An octoDNS configuration's top level.
fn names_zones(document: &Node) -> bool {
    document.get("providers").is_some() && document.get("zones").is_some()
}

/// Whether the text's first line of content is YAML's (a document start,
/// a directive, a list item or a `key:`), never a master file's, whose
/// lines start with a name, `$`, `@`, `;` or a blank: a master file is not
/// parsed as YAML first.
fn looks_like_yaml(text: &str) -> bool {
    let Some(first) =
        text.lines().map(str::trim_end).find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    else {
        return false;
    };
    if first.starts_with("---") || first.starts_with('%') || first.starts_with("- ") || first == "-" {
        return true;
    }
    let key = first.split_once(':').map(|(key, rest)| (key, rest.is_empty() || rest.starts_with(' ')));
    matches!(key, Some((key, true)) if !key.starts_with([' ', '\t', ';', '$', '@'])
        && !key.trim_matches(['\'', '"']).contains(char::is_whitespace))
}

/// Which listing the documents are, with their record sets.
fn detect(documents: &[Node]) -> Option<(Format, Vec<&Node>)> {
    let first = documents.first()?;
    let sets: Vec<&Node> = if let Some(sets) = get(first, "ResourceRecordSets") {
        return Some((Format::Route53, sets.items()));
    } else if let Some(value) = get(first, "value").filter(|v| matches!(v.value, Value::Seq(_))) {
        value.items()
    } else if matches!(first.value, Value::Seq(_)) {
        first.items()
    } else {
        documents.iter().collect()
    };
    let all = |test: &dyn Fn(&Node) -> bool| !sets.is_empty() && sets.iter().all(|s| test(s));
    if all(&|s| s.get("rrdatas").is_some() || s.get("kind").and_then(Node::text) == Some("dns#resourceRecordSet")) {
        return Some((Format::CloudDns, sets));
    }
    // Public zones, and private ones (the internal view of a split domain
    // in Azure).
    if all(&|s| {
        get(s, "type").and_then(Node::text).is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t.starts_with("microsoft.network/dnszones/") || t.starts_with("microsoft.network/privatednszones/")
        })
    }) {
        return Some((Format::Azure, sets));
    }
    let record = |n: &Node| n.get("type").is_some();
    let octodns = documents.len() == 1
        && !first.entries().is_empty()
        && first.entries().iter().all(|(_, v)| match &v.value {
            Value::Map(_) => record(v),
            Value::Seq(items) => !items.is_empty() && items.iter().all(record),
            Value::Scalar(_) => false,
        });
    octodns.then(|| (Format::OctoDns, vec![first]))
}

/// A key of a mapping, in any case, also under `properties` (the REST
/// API's shape, which the Azure CLI flattens).
fn get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    let direct = node.entries().iter().find(|(k, _)| k.text().is_some_and(|k| k.eq_ignore_ascii_case(key)));
    direct.map(|(_, v)| v).or_else(|| node.get("properties").and_then(|p| get(p, key)))
}

/// `contoso.com.yaml` → `contoso.com`, as octoDNS names its zone files.
fn octodns_origin(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".yaml").or_else(|| name.strip_suffix(".yml"))?;
    let stem = stem.trim_end_matches('.').to_ascii_lowercase();
    (stem.contains('.') || !stem.is_empty()).then_some(stem)
}

/// The zone of a cloud listing: the name of its SOA record set (every
/// hosted zone lists one), or the one given.
fn listing_origin(format: Format, sets: &[&Node], given: Option<&Name>) -> Option<String> {
    if let Some(name) = given {
        return Some(super::name_text(name));
    }
    let soa = sets.iter().find(|s| record_type(format, s).as_deref() == Some("SOA"))?;
    let name = match format {
        Format::Azure => get(soa, "fqdn")?.text()?.to_string(),
        Format::Route53 => route53_name(get(soa, "Name")?.text()?)?,
        _ => get(soa, "name")?.text()?.to_string(),
    };
    Some(name.trim_end_matches('.').to_ascii_lowercase())
}

/// A record set's type, upper case: `Microsoft.Network/dnszones/SRV` → `SRV`.
fn record_type(format: Format, set: &Node) -> Option<String> {
    let text = get(set, "type")?.text()?;
    let text = if format == Format::Azure { text.rsplit('/').next()? } else { text };
    Some(text.to_ascii_uppercase())
}

/// Route 53 writes characters outside letters, digits, `-` and `_` as
/// three octal digits (`\052` is `*`); master files escape in decimal.
fn route53_name(name: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let digits: String = chars.by_ref().take(3).collect();
            out.push(char::from(u8::from_str_radix(&digits, 8).ok()?));
        } else {
            out.push(c);
        }
    }
    Some(out)
}

struct Writer<'a> {
    flat: &'a mut Flat,
    display: &'a str,
    format: Format,
    origin: String,
}

impl Writer<'_> {
    fn at(&self, line: usize) -> RecordSource {
        RecordSource { file: self.display.to_string(), line }
    }

    fn error(&self, line: usize, message: String) -> InputError {
        InputError { path: self.display.to_string(), line: Some(line), column: None, message }
    }

    fn push(&mut self, line: String, at: usize) -> Result<(), InputError> {
        let source = self.at(at);
        self.flat.push(&line, &source).map_err(|e| self.error(at, e))
    }

    fn start(&mut self, origin: &str, line: usize) -> Result<(), InputError> {
        self.origin = origin.to_string();
        self.push(format!("$ORIGIN {}.", master_name(origin)), line)
    }

    /// octoDNS: `name: {type, ttl, value | values}` or a list of them;
    /// `''` is the zone's apex. octoDNS has no SOA record (its providers
    /// write their own): one stands in at the apex so that a missing record
    /// reads as missing, its negative TTL not known.
    fn octodns(&mut self, zone: &Node) -> Result<(), InputError> {
        let apex_line = zone.entries().iter().find(|(k, _)| k.text() == Some("")).map_or(1, |(k, _)| k.line);
        self.push("@ 3600 IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 604800 3600".into(), apex_line)?;
        self.flat.soa_assumed = true;
        for (key, value) in zone.entries() {
            let Some(name) = key.text() else { return Err(self.error(key.line, "a record name must be text".into())) };
            let owner = if name.is_empty() { "@".to_string() } else { master_name(name) };
            let absolute = if name.is_empty() {
                self.origin.clone()
            } else {
                format!("{}.{}", name.to_ascii_lowercase(), self.origin)
            };
            for record in value.items() {
                let rtype = record.get("type").and_then(Node::text).unwrap_or("").to_ascii_uppercase();
                let ttl = number(record.get("ttl"), 3600).map_err(|e| self.error(record.line, e))?;
                if ["ALIAS", "URLFWD"].contains(&rtype.as_str()) {
                    self.unknown(
                        &absolute,
                        record.line,
                        format!("an octoDNS {rtype} record, which the DNS provider answers for"),
                    );
                    continue;
                }
                let values: Vec<&Node> = match (record.get("values"), record.get("value")) {
                    (Some(values), _) => values.items(),
                    (None, Some(value)) => vec![value],
                    (None, None) => {
                        return Err(self.error(record.line, format!("a {rtype} record without value or values")));
                    }
                };
                for value in values {
                    let data = octodns_data(&rtype, value).map_err(|e| self.error(value.line, e))?;
                    self.push(format!("{owner} {ttl} IN {rtype} {data}"), value.line)?;
                }
            }
        }
        Ok(())
    }

    /// One record set of a cloud listing.
    fn cloud_set(&mut self, set: &Node) -> Result<(), InputError> {
        let format = self.format;
        let line = set.line;
        let rtype = record_type(format, set).ok_or_else(|| self.error(line, "a record set without its type".into()))?;
        let owner = match format {
            Format::Azure => get(set, "fqdn").and_then(Node::text).map(str::to_string).or_else(|| {
                get(set, "name")
                    .and_then(Node::text)
                    .map(|n| if n == "@" { format!("{}.", self.origin) } else { format!("{n}.{}.", self.origin) })
            }),
            Format::Route53 => get(set, "Name").and_then(Node::text).and_then(route53_name),
            _ => get(set, "name").and_then(Node::text).map(str::to_string),
        }
        .ok_or_else(|| self.error(line, "a record set without its name".into()))?;
        let absolute = owner.trim_end_matches('.').to_ascii_lowercase();
        let ttl = number(get(set, "ttl"), 300).map_err(|e| self.error(line, e))?;
        let computed = match format {
            Format::Azure => get(set, "targetResource").and_then(|t| get(t, "id")).and_then(Node::text).is_some(),
            Format::Route53 => {
                get(set, "AliasTarget").is_some()
                    || [
                        "SetIdentifier",
                        "Weight",
                        "Region",
                        "Failover",
                        "GeoLocation",
                        "GeoProximityLocation",
                        "MultiValueAnswer",
                    ]
                    .iter()
                    .any(|k| get(set, k).is_some())
            }
            _ => get(set, "routingPolicy").is_some(),
        };
        if computed {
            let what =
                format!("a {} {rtype} set the provider answers for (an alias or a routing policy)", format.name());
            self.unknown(&absolute, line, what);
            return Ok(());
        }
        let owner = format!("{}.", master_name(absolute.as_str()));
        let data: Data = match format {
            Format::Azure => azure_data(&rtype, set),
            Format::Route53 => get(set, "ResourceRecords")
                .map(|r| r.items().iter().filter_map(|v| Some((presentation(get(v, "Value")?), v.line))).collect())
                .unwrap_or_default(),
            _ => get(set, "rrdatas")
                .map(|r| r.items().iter().map(|v| (presentation(v), v.line)).collect())
                .unwrap_or_default(),
        };
        for (data, at) in data {
            let data = data.map_err(|e| self.error(at, e))?;
            self.push(format!("{owner} {ttl} IN {rtype} {data}"), at)?;
        }
        Ok(())
    }

    fn unknown(&mut self, name: &str, line: usize, what: String) {
        let at = self.at(line);
        self.flat.unknown.push(Unknown { name: name.to_string(), at, what });
    }
}

/// A TTL or other count; `default` when the listing leaves it out.
fn number(node: Option<&Node>, default: u64) -> Result<u64, String> {
    match node.and_then(Node::text) {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| format!("{text:?} is not a number")),
    }
}

/// A name for a master file: characters outside letters, digits and
/// `-_.*` escaped as `\DDD`, so that nothing in a listing's text can end a
/// field or a line of the written-out zone.
fn master_name(name: &str) -> String {
    let mut out = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.*".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("\\{byte:03}"));
        }
    }
    out
}

/// A character string for a master file: quoted, with `"`, `\` and
/// anything not printable escaped.
fn master_string(text: &str) -> String {
    let mut out = String::from("\"");
    for byte in text.bytes() {
        match byte {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(byte));
            }
            0x20..=0x7e => out.push(char::from(byte)),
            _ => out.push_str(&format!("\\{byte:03}")),
        }
    }
    out.push('"');
    out
}

/// One word of record data: a number, an address or a name, nothing that
/// could end a field.
fn word(node: Option<&Node>, what: &str) -> Result<String, String> {
    let text = node.and_then(Node::text).ok_or_else(|| format!("no {what}"))?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.*:".contains(&b)) {
        return Err(format!("{what} {text:?} is not a number, an address or a DNS name"));
    }
    Ok(text.to_string())
}

/// Record data already in presentation format (Route 53, Cloud DNS): one
/// line, nothing that would start a comment or a continuation outside a
/// quoted string.
fn presentation(node: &Node) -> Result<String, String> {
    let text = node.text().ok_or("record data must be text")?;
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        if c.is_control() {
            return Err(format!("record data {text:?} holds a control character"));
        }
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ';' | '(' | ')' if !quoted => return Err(format!("record data {text:?} is not one record's data")),
            _ => {}
        }
    }
    if quoted || text.trim().is_empty() {
        return Err(format!("record data {text:?} is not one record's data"));
    }
    Ok(text.to_string())
}

/// An octoDNS value as master-file data.
fn octodns_data(rtype: &str, value: &Node) -> Result<String, String> {
    let field = |key: &str| word(value.get(key), key);
    Ok(match rtype {
        "A" | "AAAA" | "CNAME" | "NS" | "PTR" | "DNAME" => word(Some(value), "value")?,
        "MX" => {
            let preference = word(value.get("preference").or(value.get("priority")), "preference")?;
            let exchange = word(value.get("exchange").or(value.get("value")), "exchange")?;
            format!("{preference} {exchange}")
        }
        "SRV" => format!("{} {} {} {}", field("priority")?, field("weight")?, field("port")?, field("target")?),
        // octoDNS writes a TXT's semicolons escaped (`\;`).
        "TXT" | "SPF" => master_string(&value.text().ok_or("a TXT value must be text")?.replace("\\;", ";")),
        "CAA" => format!(
            "{} {} {}",
            field("flags")?,
            field("tag")?,
            master_string(value.get("value").and_then(Node::text).unwrap_or(""))
        ),
        "NAPTR" => format!(
            "{} {} {} {} {} {}",
            field("order")?,
            field("preference")?,
            master_string(value.get("flags").and_then(Node::text).unwrap_or("")),
            master_string(value.get("service").and_then(Node::text).unwrap_or("")),
            master_string(value.get("regexp").and_then(Node::text).unwrap_or("")),
            field("replacement")?
        ),
        other => return Err(format!("the octoDNS type {other:?} is not read")),
    })
}

/// Each record's master-file data, or why it cannot be written, with the
/// record's line.
type Data = Vec<(Result<String, String>, usize)>;

/// The records of an Azure record set as master-file data.
fn azure_data(rtype: &str, set: &Node) -> Data {
    let records = |key: &str| get(set, key).map(|r| r.items()).unwrap_or_default();
    let each = |key: &str, write: &dyn Fn(&Node) -> Result<String, String>| -> Data {
        records(key).into_iter().map(|r| (write(r), r.line)).collect()
    };
    let field = |r: &Node, key: &str| word(get(r, key), key);
    match rtype {
        "A" => each("aRecords", &|r| field(r, "ipv4Address")),
        "AAAA" => each("aaaaRecords", &|r| field(r, "ipv6Address")),
        "CNAME" => each("cnameRecord", &|r| Ok(format!("{}.", field(r, "cname")?.trim_end_matches('.')))),
        "NS" => each("nsRecords", &|r| Ok(format!("{}.", field(r, "nsdname")?.trim_end_matches('.')))),
        "PTR" => each("ptrRecords", &|r| Ok(format!("{}.", field(r, "ptrdname")?.trim_end_matches('.')))),
        "MX" => each("mxRecords", &|r| {
            Ok(format!("{} {}.", field(r, "preference")?, field(r, "exchange")?.trim_end_matches('.')))
        }),
        "SRV" => each("srvRecords", &|r| {
            Ok(format!(
                "{} {} {} {}.",
                field(r, "priority")?,
                field(r, "weight")?,
                field(r, "port")?,
                field(r, "target")?.trim_end_matches('.')
            ))
        }),
        "TXT" => each("txtRecords", &|r| {
            let parts = get(r, "value").map(|v| v.items()).unwrap_or_default();
            let parts: Option<Vec<String>> = parts.iter().map(|p| p.text().map(master_string)).collect();
            parts.filter(|p| !p.is_empty()).map(|p| p.join(" ")).ok_or_else(|| "a TXT record without its text".into())
        }),
        "CAA" => each("caaRecords", &|r| {
            Ok(format!(
                "{} {} {}",
                field(r, "flags")?,
                field(r, "tag")?,
                master_string(get(r, "value").and_then(Node::text).unwrap_or(""))
            ))
        }),
        "SOA" => each("soaRecord", &|r| {
            Ok(format!(
                "{}. {}. {} {} {} {} {}",
                field(r, "host")?.trim_end_matches('.'),
                field(r, "email")?.trim_end_matches('.'),
                field(r, "serialNumber")?,
                field(r, "refreshTime")?,
                field(r, "retryTime")?,
                field(r, "expireTime")?,
                field(r, "minimumTtl")?
            ))
        }),
        other => vec![(Err(format!("the Azure DNS type {other:?} is not read")), set.line)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_text_cannot_end_a_field_or_a_line() {
        assert_eq!(master_name("sip\nevil"), "sip\\010evil");
        assert_eq!(master_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\010\"");
        let node = |text: &str| Node { value: Value::Scalar(text.into()), line: 1 };
        assert!(presentation(&node("\"v=spf1 ; -all\"")).is_ok());
        assert!(presentation(&node("10 mail ; x")).is_err());
        assert!(presentation(&node("1.2.3.4\nevil A 5.6.7.8")).is_err());
        assert!(word(Some(&node("host name")), "target").is_err());
        assert_eq!(route53_name("\\052.contoso.com."), Some("*.contoso.com.".into()));
    }
}

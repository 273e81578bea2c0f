//! Certificates as `Get-CsCertificate` lists them: the names, dates and
//! roles (`Use`) of each certificate assigned on the server, not the
//! certificate itself. Enough for the rules about expiry and names; the key,
//! signature and extensions need the certificate (a file or a live probe).
//!
//! Dates are printed in the server's culture: `5/6/2027 4:59:59 PM`
//! (en-US), `06.05.2027 16:59:59` (de-DE), `06/05/2027 16:59:59` (en-GB),
//! `\/Date(1809619199000)\/` (Windows PowerShell's JSON), ISO 8601
//! (PowerShell 7's JSON). A slashed date without AM/PM and with both parts
//! at most 12 reads two ways; both are kept, and a rule decides only when
//! both readings give the same verdict.

use std::sync::LazyLock;

use regex::Regex;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::config_view::{ConfigView, Located, Objects};
use super::names::canonical;
use super::snapshot::ObjectKind;
use super::values::as_list;

/// The role that carries federation: the external interface of the Access Edge.
pub const ACCESS_EDGE_EXTERNAL: &str = "AccessEdgeExternal";

/// A point in time as a listing prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    Exact(OffsetDateTime),
    /// Month/day or day/month: the listing does not say which.
    EitherOf(OffsetDateTime, OffsetDateTime),
}

impl Moment {
    pub fn readings(self) -> Vec<OffsetDateTime> {
        match self {
            Moment::Exact(t) => vec![t],
            Moment::EitherOf(a, b) => vec![a, b],
        }
    }
}

/// One certificate of a `Get-CsCertificate` listing: the objects that show
/// it (one per role it is assigned to, sharing a thumbprint).
#[derive(Debug, Clone)]
pub struct ListedCertificate<'a> {
    pub objects: Vec<Located<'a>>,
    pub uses: Vec<String>,
    /// Why the roles it is assigned to are not known, if they are not (a
    /// mangled listing).
    pub uses_doubt: Option<String>,
    pub thumbprint: Option<String>,
    pub subject: Option<String>,
    pub common_name: Option<String>,
    /// The DNS names of `AlternativeNames`, lower case.
    pub dns_names: Vec<String>,
    /// Why the names are not known whole, if they are not (cut short, or
    /// not in the listing).
    pub names_doubt: Option<String>,
    /// `Err` holds why the date cannot be read; `Ok(None)` means the listing
    /// leaves it out.
    pub not_before: Result<Option<Moment>, String>,
    pub not_after: Result<Option<Moment>, String>,
}

impl ListedCertificate<'_> {
    /// Where the listing shows it: the first object's place.
    pub fn location(&self, property: Option<&str>) -> String {
        self.objects[0].location(property)
    }

    pub fn is_used_for(&self, role: &str) -> bool {
        self.uses.iter().any(|u| u.eq_ignore_ascii_case(role))
    }

    /// "Certificate[AccessEdgeExternal, DataEdgeExternal]"
    pub fn label(&self) -> String {
        match (self.uses.is_empty(), &self.thumbprint) {
            (false, _) => format!("Certificate[{}]", self.uses.join(", ")),
            (true, Some(thumbprint)) => format!("Certificate[{thumbprint}]"),
            (true, None) => "Certificate".into(),
        }
    }

    pub fn evidence(&self) -> serde_json::Value {
        let text = |name: &str| self.objects[0].object.get(name).map(|(_, v)| v.clone());
        serde_json::json!({
            "source": self.location(None),
            "uses": self.uses,
            "thumbprint": self.thumbprint,
            "subject": self.subject,
            "alternative_names": self.dns_names,
            "not_after": text("NotAfter"),
        })
    }
}

/// The certificates of the snapshots' `Get-CsCertificate` output, one per
/// thumbprint.
pub fn listed_certificates<'a>(config: &ConfigView<'a>) -> Vec<ListedCertificate<'a>> {
    let Objects::Captured(listing) = config.objects(ObjectKind::Certificate) else { return Vec::new() };
    let mut out: Vec<ListedCertificate<'a>> = Vec::new();
    for located in listing.iter().copied() {
        let object = located.object;
        let text = |name: &str| {
            object.get(name).and_then(|(_, v)| v.as_str()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
        };
        let thumbprint = text("Thumbprint").map(|t| t.to_ascii_uppercase());
        let uses: Vec<String> = object.get("Use").map(|(_, v)| as_list(v)).unwrap_or_default();
        if let Some(same) = out.iter_mut().find(|c| thumbprint.is_some() && c.thumbprint == thumbprint) {
            same.objects.push(located);
            for role in uses {
                if !same.is_used_for(&role) {
                    same.uses.push(role);
                }
            }
            continue;
        }
        let subject = text("Subject");
        let names_doubt = match (object.get("AlternativeNames"), object.doubt("AlternativeNames")) {
            (_, Some(why)) => Some(why),
            (None, None) => Some("the listing leaves out AlternativeNames".into()),
            (Some(_), None) => None,
        };
        let dns_names = object
            .get("AlternativeNames")
            .map(|(_, v)| as_list(v))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|name| {
                let name = name.trim();
                let name = name.strip_prefix("DNS Name=").unwrap_or(name);
                (!name.contains('=') && !name.is_empty()).then(|| canonical(name))
            })
            .collect();
        let date = |name: &str| {
            match (text(name), object.doubt(name)) {
            (_, Some(why)) => Err(why),
            (None, None) => Ok(None),
            (Some(value), None) => parse_moment(&value).map(Some).ok_or_else(|| {
                format!("{name} {value:?} is not a date fedscan can read; export with `Select-Object Use,Thumbprint,Subject,AlternativeNames,@{{n='NotAfter';e={{$_.NotAfter.ToString('o')}}}}`")
            }),
        }
        };
        out.push(ListedCertificate {
            objects: vec![located],
            uses_doubt: object.doubt("Use").map(|why| format!("{}: {why}", located.location(Some("Use")))),
            uses,
            thumbprint,
            common_name: subject.as_deref().and_then(common_name),
            subject,
            dns_names,
            names_doubt,
            not_before: date("NotBefore"),
            not_after: date("NotAfter"),
        });
    }
    // One export has one culture: a date of the same file that can only be
    // read one way (23/04/2018) tells how to read those that could be
    // either (10/06/2016).
    for certificate in &mut out {
        let path = certificate.objects[0].path;
        let order = date_order(listing.iter().filter(|l| l.path == path).flat_map(|l| {
            ["NotBefore", "NotAfter"].into_iter().filter_map(|name| l.object.get(name).and_then(|(_, v)| v.as_str()))
        }));
        if let Some(order) = order {
            for date in [&mut certificate.not_before, &mut certificate.not_after] {
                if let Ok(Some(Moment::EitherOf(month_first, day_first))) = *date {
                    *date = Ok(Some(Moment::Exact(if order == DateOrder::DayFirst { day_first } else { month_first })));
                }
            }
        }
    }
    out
}

/// How a file writes its numeric dates, when some date shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateOrder {
    MonthFirst,
    DayFirst,
}

/// The order of day and month the dates `texts` share, when one of them
/// can only be read one way and none contradicts it.
fn date_order<'t>(texts: impl Iterator<Item = &'t str>) -> Option<DateOrder> {
    let mut seen = None;
    for text in texts {
        let Some(caps) = NUMERIC_DATE.captures(text.trim()) else { continue };
        if &caps[2] != "/" {
            continue;
        }
        let (first, second) = (caps[1].parse::<u32>().ok()?, caps[3].parse::<u32>().ok()?);
        let order = match (first > 12, second > 12, caps.get(8).is_some()) {
            (true, false, _) => DateOrder::DayFirst,
            (false, true, _) | (false, false, true) => DateOrder::MonthFirst,
            _ => continue,
        };
        match seen {
            Some(before) if before != order => return None,
            _ => seen = Some(order),
        }
    }
    seen
}

/// The CN of a subject as Windows prints it: `CN=sip.contoso.com, OU=IT, O=Contoso`.
fn common_name(subject: &str) -> Option<String> {
    subject.split(',').map(str::trim).find_map(|part| {
        let (key, value) = part.split_once('=')?;
        key.trim().eq_ignore_ascii_case("CN").then(|| value.trim().trim_matches('"').to_ascii_lowercase())
    })
}

static JSON_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\\?/Date\((-?\d{1,15})([+-]\d{4})?\)\\?/$").unwrap());
static ISO_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?").unwrap());
static NUMERIC_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(\d{1,2})([/.-])(\d{1,2})[/.-](\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM)?)?$")
        .unwrap()
});

/// Reads a date as a listing prints it; `None` when it is no date.
pub fn parse_moment(text: &str) -> Option<Moment> {
    let text = text.trim();
    if let Some(caps) = JSON_DATE.captures(text) {
        let millis: i64 = caps[1].parse().ok()?;
        return OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000)).ok().map(Moment::Exact);
    }
    let number = |caps: &regex::Captures, i: usize| caps.get(i).map_or(Some(0), |m| m.as_str().parse::<u32>().ok());
    if let Some(caps) = ISO_DATE.captures(text) {
        let at = moment(number(&caps, 1)?, number(&caps, 2)?, number(&caps, 3)?, clock(&caps, 4, None)?)?;
        return Some(Moment::Exact(at));
    }
    let caps = NUMERIC_DATE.captures(text)?;
    let (first, separator, second, year) = (number(&caps, 1)?, &caps[2], number(&caps, 3)?, number(&caps, 4)?);
    let twelve_hour = caps.get(8).map(|m| m.as_str().eq_ignore_ascii_case("PM"));
    let time = clock(&caps, 5, twelve_hour)?;
    let month_first = moment(year, first, second, time);
    let day_first = moment(year, second, first, time);
    // The cultures that write AM/PM write the month first (en-US); dots and
    // dashes come day first (de-DE, nl-NL); a part above 12 is a day.
    match (separator, twelve_hour.is_some(), month_first, day_first) {
        ("/", true, Some(m), _) => Some(Moment::Exact(m)),
        (".", _, _, Some(d)) | ("-", _, _, Some(d)) => Some(Moment::Exact(d)),
        (_, _, Some(m), Some(d)) if m == d => Some(Moment::Exact(m)),
        ("/", false, Some(m), Some(d)) => Some(Moment::EitherOf(m, d)),
        ("/", false, Some(m), None) => Some(Moment::Exact(m)),
        ("/", false, None, Some(d)) => Some(Moment::Exact(d)),
        _ => None,
    }
}

/// The time of day from captures `start..start+3` (hour, minute, second).
fn clock(caps: &regex::Captures, start: usize, pm: Option<bool>) -> Option<Time> {
    let part = |i: usize| caps.get(i).map_or(Some(0u8), |m| m.as_str().parse().ok());
    let mut hour = part(start)?;
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    Time::from_hms(hour, part(start + 1)?, part(start + 2)?).ok()
}

/// The server's local time is unknown; read as UTC (a day's difference does
/// not change an expiry verdict measured in days).
fn moment(year: u32, month: u32, day: u32, time: Time) -> Option<OffsetDateTime> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn dates_in_each_culture() {
        assert_eq!(parse_moment("5/6/2027 4:59:59 PM"), Some(Moment::Exact(datetime!(2027-05-06 16:59:59 UTC))));
        assert_eq!(parse_moment("06.05.2027 16:59:59"), Some(Moment::Exact(datetime!(2027-05-06 16:59:59 UTC))));
        assert_eq!(parse_moment("13/05/2027 16:59:59"), Some(Moment::Exact(datetime!(2027-05-13 16:59:59 UTC))));
        assert_eq!(
            parse_moment("06/05/2027 16:59:59"),
            Some(Moment::EitherOf(datetime!(2027-06-05 16:59:59 UTC), datetime!(2027-05-06 16:59:59 UTC)))
        );
        assert_eq!(parse_moment("2027-05-06T16:59:59-07:00"), Some(Moment::Exact(datetime!(2027-05-06 16:59:59 UTC))));
        assert_eq!(parse_moment("/Date(1809619199000)/"), Some(Moment::Exact(datetime!(2027-05-06 15:59:59 UTC))));
        assert_eq!(parse_moment("12/1/2019 12:00:00 AM"), Some(Moment::Exact(datetime!(2019-12-01 0:00 UTC))));
        assert_eq!(parse_moment("31/31/2027"), None);
        assert_eq!(parse_moment("next Tuesday"), None);
    }

    #[test]
    fn a_files_dates_share_one_order() {
        let order = |dates: &[&str]| date_order(dates.iter().copied());
        assert_eq!(order(&["10/06/2016 23:59:59", "23/04/2018 10:12:44"]), Some(DateOrder::DayFirst));
        assert_eq!(order(&["10/06/2016", "4/23/2018"]), Some(DateOrder::MonthFirst));
        assert_eq!(order(&["6/30/2019 4:59:59 PM"]), Some(DateOrder::MonthFirst), "AM/PM is en-US");
        assert_eq!(order(&["10/06/2016", "11/06/2014"]), None, "nothing tells");
        assert_eq!(order(&["23/04/2018", "4/23/2018"]), None, "a contradiction tells nothing");
    }

    #[test]
    fn subject_common_name() {
        assert_eq!(common_name("CN=SIP.contoso.com, OU=IT, O=Contoso"), Some("sip.contoso.com".into()));
        assert_eq!(common_name("O=Contoso, C=US"), None);
    }
}

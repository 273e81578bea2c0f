//! The `ms-diagnostics` and `ms-diagnostics-public` SIP headers: how they
//! are read, and what their codes, the HRESULTs traces print beside them and
//! the SIP response codes an Edge relays mean for federation. The table is
//! data (`data/ms-diagnostics.toml`), one for the live SIP probe and for
//! `fedscan diagnose`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// An `ms-diagnostics` (or `ms-diagnostics-public`) header: a code and its
/// parameters (`reason`, `source`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MsDiagnostic {
    pub header: String,
    pub code: u32,
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
}

impl MsDiagnostic {
    /// A parameter by name, ignoring case (`Domain`, `tls-target`, ...).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Reads `1009;reason="...";source="..."`, the value of an
/// `ms-diagnostics` header; a sub-code (`1009.2`) is dropped. Parameter names
/// keep their case as sent.
pub fn ms_diagnostic(header: &str, value: &str) -> Option<MsDiagnostic> {
    let mut parts = split_parameters(value).into_iter();
    let first = parts.next()?;
    let code: u32 = first.trim().split('.').next()?.trim().parse().ok()?;
    let mut parameters = BTreeMap::new();
    for part in parts {
        let (name, value) = part.split_once('=').unwrap_or((part.as_str(), ""));
        // A page that rendered the header may leave spaces around `=` and
        // inside the quotes (`domain =" fabrikam.com "`); they are not the
        // value's.
        let value = value.trim().trim_matches('"').trim().to_string();
        parameters.insert(name.trim().to_string(), value);
    }
    let reason_key = parameters.keys().find(|k| k.eq_ignore_ascii_case("reason")).cloned();
    let reason = reason_key.and_then(|k| parameters.remove(&k));
    Some(MsDiagnostic { header: header.to_string(), code, reason, parameters })
}

/// Splits on `;` outside double quotes.
fn split_parameters(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            ';' if !quoted => parts.push(std::mem::take(&mut current)),
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// Who produces a diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProducedBy {
    /// The sending user's own deployment, by policy.
    Sender,
    /// The Edge that routes the request towards the other domain.
    Routing,
    /// The receiving domain's servers.
    Receiver,
    /// An Edge relaying another server's failure that came without a reason.
    Relay,
}

impl ProducedBy {
    /// The side it is on, as a diagnosis says it.
    pub fn side(self) -> &'static str {
        match self {
            ProducedBy::Sender => "the sender's side",
            ProducedBy::Routing => "the side whose Edge routed the request",
            ProducedBy::Receiver => "the receiving side",
            ProducedBy::Relay => "an Edge on the path",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ProducedBy::Sender => "the sender's own deployment (its policy)",
            ProducedBy::Routing => "the Edge that routed the request towards the other domain",
            ProducedBy::Receiver => "the receiving domain's servers",
            ProducedBy::Relay => "an Edge relaying a failure the next server gave no reason for",
        }
    }
}

/// A documented diagnostic code.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticCode {
    pub code: u32,
    /// The reason the server writes, as documented.
    pub reason: String,
    pub meaning: String,
    pub produced_by: ProducedBy,
    /// The rules that check its cause.
    pub rules: Vec<String>,
    /// The fix where the diagnostic was produced, and on the other domain's
    /// side; empty when none.
    pub other_side_fix: String,
    pub producing_side_fix: String,
    pub reference: String,
}

/// A range of codes by the component that produces them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRange {
    pub from: u32,
    pub to: u32,
    pub component: String,
    pub reference: String,
}

/// An HRESULT as traces print it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HresultCode {
    /// The code; `None` for an error known only by the name logs print.
    #[serde(default)]
    pub code: Option<u32>,
    pub name: String,
    pub meaning: String,
    pub rules: Vec<String>,
    pub reference: String,
}

/// A SIP response code as an Edge relays it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StatusCode {
    pub code: u16,
    pub meaning: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub code: Vec<DiagnosticCode>,
    pub range: Vec<CodeRange>,
    pub hresult: Vec<HresultCode>,
    pub status: Vec<StatusCode>,
}

/// Where the meanings of SIP response codes are defined.
pub const STATUS_REFERENCE: &str = "https://www.rfc-editor.org/rfc/rfc3261#section-21";

pub static TABLE: LazyLock<Table> = LazyLock::new(|| {
    toml::from_str(include_str!("../../data/ms-diagnostics.toml")).expect("the built-in ms-diagnostics table is valid")
});

pub fn code(code: u32) -> Option<&'static DiagnosticCode> {
    TABLE.code.iter().find(|c| c.code == code)
}

pub fn range(code: u32) -> Option<&'static CodeRange> {
    TABLE.range.iter().find(|r| (r.from..=r.to).contains(&code))
}

pub fn hresult(code: u32) -> Option<&'static HresultCode> {
    TABLE.hresult.iter().find(|h| h.code == Some(code))
}

/// An HRESULT by the name traces print for it (`SIPPROXY_E_ROUTING`), for
/// a text that names it without its code.
pub fn hresult_named(name: &str) -> Option<&'static HresultCode> {
    TABLE.hresult.iter().find(|h| h.name.eq_ignore_ascii_case(name))
}

pub fn status(code: u16) -> Option<&'static StatusCode> {
    TABLE.status.iter().find(|s| s.code == code)
}

/// What a diagnostic means, as far as the table can tell.
#[derive(Debug, Clone)]
pub enum Explanation {
    /// A documented code. The code names the condition, whatever words the
    /// server sent with it (real servers word some codes otherwise than the
    /// specification: 1009 as "No match for domain in DNS SRV results"); the
    /// report keeps the server's words beside the meaning.
    Documented(&'static DiagnosticCode),
    /// A code the table does not list, by the component its range names.
    InRange(&'static CodeRange),
    Unknown,
}

/// Explains a diagnostic by its code.
pub fn explain(diagnostic: &MsDiagnostic) -> Explanation {
    match code(diagnostic.code) {
        Some(entry) => Explanation::Documented(entry),
        None => range(diagnostic.code).map_or(Explanation::Unknown, Explanation::InRange),
    }
}

impl Explanation {
    /// One sentence for a finding's message, or `None` when there is
    /// nothing to add to the reason sent.
    pub fn sentence(&self) -> Option<String> {
        match self {
            Explanation::Documented(entry) => Some(entry.meaning.clone()),
            Explanation::InRange(range) => {
                Some(format!("a code of {}; fedscan's table does not describe it further", range.component))
            }
            Explanation::Unknown => None,
        }
    }

    /// The rules that check the cause, when the code is the documented one.
    pub fn rules(&self) -> &'static [String] {
        match self {
            Explanation::Documented(entry) => &entry.rules,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_complete_and_points_at_rules_that_exist() {
        let rules = crate::rules::load_rules(&crate::rules::builtin_sources()).expect("built-in rules");
        let known = |id: &String| rules.rules.iter().any(|r| *r.id == **id);
        for entry in &TABLE.code {
            assert!(entry.reference.starts_with("https://"), "{}", entry.code);
            assert!(!entry.meaning.is_empty() && !entry.reason.is_empty(), "{}", entry.code);
            assert!(entry.rules.iter().all(known), "{}: {:?}", entry.code, entry.rules);
            assert!(range(entry.code).is_some(), "{} is in no range", entry.code);
        }
        for entry in &TABLE.hresult {
            assert!(entry.rules.iter().all(known), "{}: {:?}", entry.name, entry.rules);
        }
        let mut codes: Vec<u32> = TABLE.code.iter().map(|c| c.code).collect();
        codes.dedup();
        assert_eq!(codes.len(), TABLE.code.len(), "codes are listed once, in order");
    }

    #[test]
    fn reads_header_values() {
        let d = ms_diagnostic(
            "ms-diagnostics",
            r#"1010.2;reason="Certificate trust with next-hop server could not be established";tls-target="sip.fabrikam.com";HRESULT="0x80090325(SEC_E_UNTRUSTED_ROOT)";source="sip.contoso.com""#,
        )
        .unwrap();
        assert_eq!(d.code, 1010);
        assert_eq!(d.parameter("TLS-Target"), Some("sip.fabrikam.com"));
        assert_eq!(d.parameter("hresult"), Some("0x80090325(SEC_E_UNTRUSTED_ROOT)"));
        let presence = ms_diagnostic("ms-diagnostics", "2999;reason=\"x\"").unwrap();
        assert!(explain(&presence).sentence().unwrap().contains("user services"));
        // Worded otherwise than the specification, as real servers word it:
        // the code names the condition.
        let other = ms_diagnostic("ms-diagnostics", "1009;reason=\"No match for domain in DNS SRV results\"").unwrap();
        assert!(matches!(explain(&other), Explanation::Documented(_)));
        assert!(explain(&other).rules().contains(&"DNS-FED-04".to_string()));
    }
}

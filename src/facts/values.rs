//! Reading exported property values: Format-List gives text ("True",
//! "5061"), JSON gives types, and Windows PowerShell writes enums as numbers;
//! all are read here, once, for the checks and the engine alike.

use serde_json::Value;

use super::names::canonical;
use super::snapshot::{ConfigObject, ObjectKind};

/// How a value is shown in messages: as the Management Shell prints it.
pub fn show(value: &Value) -> String {
    match value {
        Value::Null => "empty".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.trim().is_empty() => "empty".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("{{{}}}", items.iter().map(show).collect::<Vec<_>>().join(", ")),
        Value::Object(_) => value.to_string(),
    }
}

/// A boolean as exported: JSON true/false, Format-List True/False, `$true`,
/// or 1/0.
pub fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().trim_start_matches('$').to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

pub fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// The items of a list property: a JSON list, a Format-List `{a, b}` list,
/// or the comma-separated string some cmdlets take and print back.
pub fn as_list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(as_list).collect(),
        Value::String(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
        Value::Null => Vec::new(),
        other => vec![show(other)],
    }
}

/// Text of a scalar value, for string comparisons.
pub fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Null => Some(String::new()),
        Value::Bool(_) | Value::Number(_) => Some(show(value)),
        _ => None,
    }
}

/// Reads a property, inferring what an export leaves implicit: the Access
/// Edge configuration's routing method is visible in its shape (DNS SRV
/// routing objects carry `EnablePartnerDiscovery`, default-route objects
/// `DefaultRouteFqdn`) even when `RoutingMethod` is missing or a number.
/// Returns the exported name, the value, and how it was inferred if it was.
pub fn read_property(object: &ConfigObject, name: &str) -> Option<(String, Value, Option<&'static str>)> {
    let plain = object.get(name).map(|(k, v)| (k.to_string(), v.clone(), None));
    let routing = object.kind == ObjectKind::AccessEdgeConfiguration && name.eq_ignore_ascii_case("RoutingMethod");
    if !routing || plain.as_ref().is_some_and(|(_, v, _)| !v.is_number()) {
        return plain;
    }
    let default_route =
        object.get("DefaultRouteFqdn").is_some_and(|(_, v)| v.as_str().is_some_and(|s| !s.trim().is_empty()));
    let shape = if default_route {
        Some("UseDefaultRouting")
    } else if object.get("EnablePartnerDiscovery").is_some() || object.get("BeClearingHouse").is_some() {
        Some("UseDnsSrvRouting")
    } else {
        None
    };
    match shape {
        Some(method) => Some((
            "RoutingMethod".into(),
            Value::String(method.into()),
            Some(
                "inferred from the object's shape: DNS SRV routing exports EnablePartnerDiscovery, default routing DefaultRouteFqdn",
            ),
        )),
        None => plain,
    }
}

/// A tenant domain list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantList {
    /// Every domain not blocked may federate.
    AllKnown,
    Domains(Vec<String>),
    /// An explicit list of which the export shows only these entries (the
    /// console cut it short), and why.
    Partial(Vec<String>, String),
    /// An explicit list whose entries the export does not show: Format-List
    /// prints the object's type name (`...Settings.Edge.AllowList`).
    Hidden(String),
}

/// The tenant domain list `name` (`AllowedDomains`, `BlockedDomains`) of a
/// tenant federation configuration.
pub fn tenant_list_of(object: &ConfigObject, name: &str) -> TenantList {
    let list = tenant_list(object.get(name).map(|(_, v)| v));
    match (list, object.doubt(name)) {
        (TenantList::Domains(domains), Some(why)) => TenantList::Partial(domains, why),
        (list, _) => list,
    }
}

pub fn tenant_list(value: Option<&Value>) -> TenantList {
    let Some(value) = value else { return TenantList::Domains(Vec::new()) };
    let text = value.to_string().to_ascii_lowercase();
    if text.contains("allowallknowndomains") || matches!(value, Value::Object(m) if m.is_empty()) {
        return TenantList::AllKnown;
    }
    if let Some(type_name) = as_type_name(value) {
        return TenantList::Hidden(type_name);
    }
    let mut domains = Vec::new();
    collect(value, &mut domains);
    domains.sort();
    domains.dedup();
    TenantList::Domains(domains)
}

/// A .NET type name standing in for a value Format-List could not print.
fn as_type_name(value: &Value) -> Option<String> {
    let text = value.as_str()?.trim();
    let lower = text.to_ascii_lowercase();
    (lower.starts_with("microsoft.") && lower.contains(".settings.")).then(|| text.to_string())
}

fn collect(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            for part in s.split([',', '{', '}']) {
                let part = part.trim();
                let domain = part.strip_prefix("Domain=").unwrap_or(part);
                if domain.contains('.') && !domain.contains(' ') {
                    out.push(canonical(domain));
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        Value::Object(map) => {
            for (key, item) in map {
                if key.eq_ignore_ascii_case("Domain")
                    || key.eq_ignore_ascii_case("AllowedDomain")
                    || key.eq_ignore_ascii_case("BlockedDomain")
                    || key.eq_ignore_ascii_case("Identity")
                {
                    collect(item, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tenant_list_shapes() {
        assert_eq!(tenant_list(Some(&json!({}))), TenantList::AllKnown);
        assert_eq!(
            tenant_list(Some(&json!("Microsoft.Rtc.Management.WritableConfig.Settings.Edge.AllowAllKnownDomains"))),
            TenantList::AllKnown
        );
        assert_eq!(
            tenant_list(Some(&json!({"AllowedDomain": [{"Domain": "Contoso.com"}]}))),
            TenantList::Domains(vec!["contoso.com".into()])
        );
        assert_eq!(
            tenant_list(Some(&json!("Domain=a.com, Domain=b.com"))),
            TenantList::Domains(vec!["a.com".into(), "b.com".into()])
        );
        assert_eq!(tenant_list(None), TenantList::Domains(vec![]));
        assert!(matches!(
            tenant_list(Some(&json!("Microsoft.Rtc.Management.WritableConfig.Settings.Edge.AllowList"))),
            TenantList::Hidden(_)
        ));
    }
}

//! Reading `Get-CsTenantFederationConfiguration`'s domain lists, which come
//! in several shapes: an `AllowAllKnownDomains` marker (open federation), a
//! list of `Domain=` entries, or nested `{"AllowedDomain": [{"Domain": ..}]}`.

use serde_json::Value;

use crate::facts::config_view::normalize_domain;

/// A tenant domain list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantList {
    /// Every domain not blocked may federate.
    AllKnown,
    Domains(Vec<String>),
    /// An explicit list whose entries the export does not show: Format-List
    /// prints the object's type name (`...Settings.Edge.AllowList`).
    Hidden(String),
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
                    out.push(normalize_domain(domain));
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
    fn shapes() {
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

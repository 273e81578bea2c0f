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
}

pub fn tenant_list(value: Option<&Value>) -> TenantList {
    let Some(value) = value else { return TenantList::Domains(Vec::new()) };
    let text = value.to_string().to_ascii_lowercase();
    if text.contains("allowallknowndomains") || matches!(value, Value::Object(m) if m.is_empty()) {
        return TenantList::AllKnown;
    }
    let mut domains = Vec::new();
    collect(value, &mut domains);
    domains.sort();
    domains.dedup();
    TenantList::Domains(domains)
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
    }
}

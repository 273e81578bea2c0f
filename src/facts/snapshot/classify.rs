//! Which kind of object a block of properties is: from the cmdlet that printed
//! it when the transcript shows one, else from the file name, else from the
//! properties only that kind has.

use serde_json::{Map, Value};

use super::ObjectKind;

/// The object kind a cmdlet returns, from a command line such as
/// `Get-CsService -EdgeServer | Format-List *`.
pub fn cmdlet_kind(command: &str) -> Option<(String, ObjectKind)> {
    let name = first_cmdlet(command)?;
    let kind = match name.to_ascii_lowercase().as_str() {
        "get-csaccessedgeconfiguration" => ObjectKind::AccessEdgeConfiguration,
        "get-csexternalaccesspolicy" => ObjectKind::ExternalAccessPolicy,
        "get-cspublicprovider" => ObjectKind::PublicProvider,
        "get-cshostingprovider" => ObjectKind::HostingProvider,
        "get-csalloweddomain" => ObjectKind::AllowedDomain,
        "get-csblockeddomain" => ObjectKind::BlockedDomain,
        "get-cssipdomain" => ObjectKind::SipDomain,
        "get-csservice" => ObjectKind::EdgeService,
        "get-cscertificate" => ObjectKind::Certificate,
        "get-cstenantfederationconfiguration" => ObjectKind::TenantFederationConfiguration,
        "get-csuser" => ObjectKind::User,
        "get-csserverversion" => ObjectKind::ServerVersion,
        _ => ObjectKind::Other,
    };
    Some((name, kind))
}

fn first_cmdlet(command: &str) -> Option<String> {
    command
        .split(|c: char| c.is_whitespace() || c == '|' || c == '(' || c == ';')
        .find(|word| {
            let lower = word.to_ascii_lowercase();
            lower.starts_with("get-") && lower.len() > 4 && word[4..].chars().all(|c| c.is_ascii_alphanumeric())
        })
        .map(str::to_string)
}

/// A kind suggested by a file name such as `Get-CsPublicProvider.txt` or
/// `hosting-providers.json`.
pub fn kind_from_file_name(path: &str) -> Option<ObjectKind> {
    let name = std::path::Path::new(path).file_name()?.to_string_lossy().to_ascii_lowercase();
    let squashed: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    const HINTS: [(&str, ObjectKind); 11] = [
        ("accessedge", ObjectKind::AccessEdgeConfiguration),
        ("externalaccesspolic", ObjectKind::ExternalAccessPolicy),
        ("publicprovider", ObjectKind::PublicProvider),
        ("hostingprovider", ObjectKind::HostingProvider),
        ("alloweddomain", ObjectKind::AllowedDomain),
        ("blockeddomain", ObjectKind::BlockedDomain),
        ("sipdomain", ObjectKind::SipDomain),
        ("edgeserver", ObjectKind::EdgeService),
        ("certificate", ObjectKind::Certificate),
        ("tenantfederation", ObjectKind::TenantFederationConfiguration),
        ("serverversion", ObjectKind::ServerVersion),
    ];
    HINTS.iter().find(|(hint, _)| squashed.contains(hint)).map(|(_, kind)| *kind)
}

fn has(props: &Map<String, Value>, name: &str) -> bool {
    props.keys().any(|k| k.eq_ignore_ascii_case(name))
}

fn has_any(props: &Map<String, Value>, names: &[&str]) -> bool {
    names.iter().any(|n| has(props, n))
}

fn text(props: &Map<String, Value>, name: &str) -> Option<String> {
    props.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_str().map(str::to_string))
}

/// Infers the kind from the properties present. `None` when the shape fits
/// no kind, or fits two (a trimmed provider export can be public or hosting).
pub fn infer_kind(props: &Map<String, Value>) -> Option<ObjectKind> {
    let identity = text(props, "Identity").unwrap_or_default().to_ascii_lowercase();
    if identity.starts_with("edgeserver:") || has(props, "AccessEdgeExternalFqdn") {
        return Some(ObjectKind::EdgeService);
    }
    if has_any(props, &["SharedSipAddressSpace", "AllowPublicUsers", "TreatDiscoveredPartnersAsUnverified"]) {
        return Some(ObjectKind::TenantFederationConfiguration);
    }
    if has_any(props, &["RoutingMethod", "EnablePartnerDiscovery", "BeClearingHouse", "DefaultRouteFqdn"])
        || (has(props, "AllowFederatedUsers") && has(props, "AllowOutsideUsers"))
    {
        return Some(ObjectKind::AccessEdgeConfiguration);
    }
    if has_any(props, &["EnablePublicCloudAccess", "EnableFederationAccess", "EnableOutsideAccess"]) {
        return Some(ObjectKind::ExternalAccessPolicy);
    }
    if has(props, "Thumbprint") && has_any(props, &["Use", "NotAfter", "AlternativeNames"]) {
        return Some(ObjectKind::Certificate);
    }
    if has(props, "SipAddress") {
        return Some(ObjectKind::User);
    }
    if has(props, "ProxyFqdn") {
        let hosting = has_any(
            props,
            &["EnabledSharedAddressSpace", "HostsOCSUsers", "IsLocal", "AutodiscoverUrl", "SipClientPort"],
        );
        let public = has_any(
            props,
            &[
                "IconUrl",
                "NameDecorationDomain",
                "NameDecorationRoutingDomain",
                "NameDecorationExcludedDomainList",
                "EnableSkypeIdRouting",
                "EnableSkypeDirectorySearch",
            ],
        );
        let allowed = has_any(props, &["Domain", "MarkForMonitoring"]);
        return match (hosting, public, allowed) {
            (true, false, false) => Some(ObjectKind::HostingProvider),
            (false, true, false) => Some(ObjectKind::PublicProvider),
            (false, false, true) => Some(ObjectKind::AllowedDomain),
            _ => None,
        };
    }
    if has(props, "Domain") {
        return Some(if has(props, "MarkForMonitoring") {
            ObjectKind::AllowedDomain
        } else {
            ObjectKind::BlockedDomain
        });
    }
    if has(props, "IsDefault") && has(props, "Name") {
        return Some(ObjectKind::SipDomain);
    }
    None
}

/// `Get-CsService` without `-EdgeServer` returns every role; only Edge
/// services are read.
pub fn is_edge_service(props: &Map<String, Value>) -> bool {
    let identity = text(props, "Identity").unwrap_or_default();
    let role = text(props, "Role").unwrap_or_default();
    identity.to_ascii_lowercase().starts_with("edgeserver:")
        || role.eq_ignore_ascii_case("EdgeServer")
        || has(props, "AccessEdgeExternalFqdn")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(v: Value) -> Option<ObjectKind> {
        infer_kind(v.as_object().unwrap())
    }

    #[test]
    fn cmdlet_names_from_prompt_lines() {
        assert_eq!(cmdlet_kind("Get-CsService -EdgeServer | fl *").map(|x| x.1), Some(ObjectKind::EdgeService));
        assert_eq!(cmdlet_kind("get-cspublicprovider").map(|x| x.1), Some(ObjectKind::PublicProvider));
        assert_eq!(cmdlet_kind("Get-CsPool").map(|x| x.1), Some(ObjectKind::Other));
        assert_eq!(cmdlet_kind("dir C:\\"), None);
    }

    #[test]
    fn shapes() {
        assert_eq!(kind(json!({"Identity":"Skype","ProxyFqdn":"x","IconUrl":""})), Some(ObjectKind::PublicProvider));
        assert_eq!(kind(json!({"Identity":"O","ProxyFqdn":"x","IsLocal":false})), Some(ObjectKind::HostingProvider));
        assert_eq!(kind(json!({"Identity":"O","ProxyFqdn":"x","Enabled":true})), None);
        assert_eq!(kind(json!({"Identity":"a.com","Domain":"a.com","Comment":""})), Some(ObjectKind::BlockedDomain));
        assert_eq!(
            kind(json!({"Identity":"a.com","Domain":"a.com","ProxyFqdn":"","MarkForMonitoring":false})),
            Some(ObjectKind::AllowedDomain)
        );
        assert_eq!(
            kind(json!({"Identity":"Global","RoutingMethod":"UseDnsSrvRouting"})),
            Some(ObjectKind::AccessEdgeConfiguration)
        );
        assert_eq!(
            kind(json!({"Identity":"Tag:X","EnablePublicCloudAccess":"True"})),
            Some(ObjectKind::ExternalAccessPolicy)
        );
        assert_eq!(
            kind(json!({"Identity":"contoso.com","Name":"contoso.com","IsDefault":"True"})),
            Some(ObjectKind::SipDomain)
        );
    }

    #[test]
    fn file_name_hints() {
        assert_eq!(kind_from_file_name("x/Get-CsHostingProvider.txt"), Some(ObjectKind::HostingProvider));
        assert_eq!(kind_from_file_name("blocked_domains.json"), Some(ObjectKind::BlockedDomain));
        assert_eq!(kind_from_file_name("snapshot.json"), None);
        assert_eq!(kind_from_file_name("blockeddomain.json"), Some(ObjectKind::BlockedDomain));
    }
}

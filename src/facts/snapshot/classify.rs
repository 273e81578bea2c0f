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

/// What a command line typed in a transcript prints, as far as the snapshot
/// is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandOutput {
    /// Objects of one kind: all of them, or only some (`subset` says why).
    Objects { cmdlet: String, kind: ObjectKind, subset: Option<String> },
    /// Nothing that shows the configuration: an action (`Set-`, `Remove-`,
    /// `Grant-`…), an assignment, output sent to a file or reshaped.
    NotConfiguration { command: String, why: String },
    /// Output of unknown origin (a variable piped to `Format-List`, a command
    /// fedscan does not know): its objects are told apart by their shape.
    Unknown,
}

/// Verbs of commands that change the deployment or test it: whatever they
/// print is not the configuration.
const ACTION_VERBS: [&str; 22] = [
    "set",
    "new",
    "remove",
    "grant",
    "revoke",
    "enable",
    "disable",
    "move",
    "install",
    "uninstall",
    "update",
    "publish",
    "import",
    "export",
    "start",
    "stop",
    "restart",
    "invoke",
    "test",
    "request",
    "clear",
    "add",
];

/// Pipeline stages that only display, sort or re-encode what reaches them.
const DISPLAY_STAGES: [&str; 14] = [
    "format-list",
    "fl",
    "format-table",
    "ft",
    "format-wide",
    "fw",
    "out-string",
    "out-host",
    "out-default",
    "more",
    "sort-object",
    "sort",
    "convertto-json",
    "tee-object",
];

/// Parameters of `Get-Cs*` cmdlets that narrow the output to some objects.
const NARROWING: [&str; 8] = ["identity", "filter", "ldapfilter", "ou", "resultsize", "type", "site", "pool"];

/// Switches of `Get-Cs*` cmdlets (parameters without a value).
const SWITCHES: [&str; 6] = ["edgeserver", "localstore", "verbose", "debug", "unassigneduser", "registrar"];

/// Reads a command line: which cmdlet's objects it prints, and whether all
/// of them.
pub fn read_command(line: &str) -> CommandOutput {
    let statements = split_outside_quotes(line.trim(), ';');
    let statement = match statements.as_slice() {
        [one] => one.trim(),
        _ => return CommandOutput::Unknown,
    };
    let stages = split_outside_quotes(statement, '|');
    let first = stages[0].trim();
    let not_configuration = |why: String| CommandOutput::NotConfiguration { command: shorten(statement), why };
    if first.starts_with('$') && split_outside_quotes(first, '=').len() > 1 {
        return not_configuration("an assignment prints nothing".into());
    }
    let first_words = words(first);
    let Some(name) = first_words.first() else { return CommandOutput::Unknown };
    let lower = name.to_ascii_lowercase();
    let Some((verb, noun)) = lower.split_once('-') else { return CommandOutput::Unknown };
    if ACTION_VERBS.contains(&verb) {
        return not_configuration(format!("{name} acts rather than reads"));
    }
    if verb != "get" || !noun.starts_with("cs") {
        return CommandOutput::Unknown;
    }
    let (cmdlet, kind) = cmdlet_kind(name).unwrap_or((name.to_string(), ObjectKind::Other));
    let mut subset = narrowing_arguments(&first_words[1..], kind)
        .map(|args| format!("`{cmdlet} {args}` shows only the objects it names"));
    for stage in &stages[1..] {
        let stage_words = words(stage.trim());
        let Some(stage_word) = stage_words.first() else { continue };
        // `?{...}` and `%{...}` have no space before the block.
        let stage_name = stage_word.split(['{', '(']).next().filter(|n| !n.is_empty()).unwrap_or(stage_word);
        let stage_lower = stage_name.to_ascii_lowercase();
        let parameters: Vec<String> =
            stage_words[1..].iter().filter_map(|w| w.strip_prefix('-')).map(str::to_ascii_lowercase).collect();
        match stage_lower.as_str() {
            s if DISPLAY_STAGES.contains(&s) => {}
            "where-object" | "where" | "?" => {
                subset.get_or_insert_with(|| format!("`{stage_name}` filters the output of {cmdlet}"));
            }
            "select-object" | "select" => {
                if parameters.iter().any(|p| p.starts_with("exp")) {
                    return not_configuration(format!(
                        "`{stage_name} -ExpandProperty` prints one property's values, not the objects"
                    ));
                }
                if let Some(p) = parameters
                    .iter()
                    .find(|p| ["first", "last", "skip", "skiplast", "index", "unique"].contains(&p.as_str()))
                {
                    subset.get_or_insert_with(|| format!("`{stage_name} -{p}` keeps only some of the objects"));
                }
            }
            _ => {
                return not_configuration(format!(
                    "the output goes through `{stage_name}`, so what it prints is not {cmdlet}'s objects"
                ));
            }
        }
    }
    CommandOutput::Objects { cmdlet, kind, subset }
}

/// The narrowing arguments of a `Get-Cs*` call (a named parameter that
/// picks objects, or a positional identity), as typed.
fn narrowing_arguments(arguments: &[String], kind: ObjectKind) -> Option<String> {
    if kind.is_singleton() || kind == ObjectKind::ServerVersion {
        return None;
    }
    let mut i = 0;
    while i < arguments.len() {
        let word = &arguments[i];
        match word.strip_prefix('-') {
            Some(parameter) => {
                let parameter = parameter.trim_end_matches(':').to_ascii_lowercase();
                if NARROWING.iter().any(|n| *n == parameter) {
                    let value = arguments.get(i + 1).map(String::as_str).unwrap_or_default();
                    return Some(format!("{word} {value}").trim().to_string());
                }
                if !SWITCHES.contains(&parameter.as_str()) {
                    i += 1;
                }
            }
            // A value without a parameter name is the identity.
            None => return Some(word.clone()),
        }
        i += 1;
    }
    None
}

/// Splits at `separator` outside quotes, braces and parentheses.
fn split_outside_quotes(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '{' | '(') => depth += 1,
            (None, '}' | ')') => depth -= 1,
            (None, c) if c == separator && depth <= 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The words of one pipeline stage, a quoted or braced argument as one word.
fn words(stage: &str) -> Vec<String> {
    split_outside_quotes(stage, ' ')
        .into_iter()
        .flat_map(|w| split_outside_quotes(w, '\t'))
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn shorten(text: &str) -> String {
    super::excerpt(text)
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

/// Product name from `Get-CsServerVersion` text, e.g. "Skype for Business
/// Server 2019 (7.0.2046.0): Volume license key installed."
pub fn product_from_version_text(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    [
        ("subscription edition", "Skype for Business Server Subscription Edition"),
        ("skype for business server 2019", "Skype for Business Server 2019"),
        ("skype for business server 2015", "Skype for Business Server 2015"),
        ("lync server 2013", "Lync Server 2013"),
        ("lync server 2010", "Lync Server 2010"),
    ]
    .iter()
    .find(|(needle, _)| lower.contains(needle))
    .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_text() {
        assert_eq!(
            product_from_version_text("Skype for Business Server 2019 (7.0.2046.0): Volume license key installed."),
            Some("Skype for Business Server 2019")
        );
        assert_eq!(
            product_from_version_text("Lync Server 2013 (5.0.8308.0): Volume license key installed."),
            Some("Lync Server 2013")
        );
    }
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
    fn commands_that_do_not_print_the_configuration() {
        let objects = |line: &str| match read_command(line) {
            CommandOutput::Objects { kind, subset, .. } => Some((kind, subset.is_some())),
            _ => None,
        };
        assert_eq!(objects("Get-CsHostingProvider | fl *"), Some((ObjectKind::HostingProvider, false)));
        assert_eq!(
            objects("Get-CsUser | Select-Object SipAddress,ExternalAccessPolicy | ft -AutoSize"),
            Some((ObjectKind::User, false))
        );
        assert_eq!(objects("Get-CsHostingProvider | ?{$_.ProxyFqdn -eq 'x'} | Remove-CsHostingProvider"), None);
        assert_eq!(objects("Get-CsUser | Grant-CsExternalAccessPolicy -PolicyName PIC"), None);
        assert_eq!(objects("$edge = Get-CsAccessEdgeConfiguration"), None);
        assert_eq!(objects("Get-CsUser | Export-Csv users.csv"), None);
        assert_eq!(objects("Set-CsAccessEdgeConfiguration -AllowFederatedUsers $true"), None);
        assert!(matches!(read_command("$edge | fl"), CommandOutput::Unknown));
    }

    #[test]
    fn commands_that_print_only_some_objects() {
        let subset = |line: &str| match read_command(line) {
            CommandOutput::Objects { subset, .. } => subset,
            other => panic!("{line}: {other:?}"),
        };
        assert!(
            subset("Get-CsUser | Where-Object {$_.ExternalAccessPolicy -ne $null} | fl")
                .unwrap()
                .contains("Where-Object")
        );
        assert!(subset("Get-CsUser -Filter {Enabled -eq $true}").unwrap().contains("-Filter"));
        assert!(subset("Get-CsExternalAccessPolicy Global").is_some());
        assert!(subset("Get-CsUser | select -First 10").unwrap().contains("-first"));
        assert!(subset("Get-CsCertificate -Type AccessEdgeExternal | fl").is_some());
        // The one instance of a singleton is all of it.
        assert_eq!(subset("Get-CsAccessEdgeConfiguration -Identity Global"), None);
        assert_eq!(subset("Get-CsService -EdgeServer | fl *"), None);
        assert_eq!(subset("Get-CsSipDomain -LocalStore"), None);
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

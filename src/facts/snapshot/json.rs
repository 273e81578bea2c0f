//! JSON snapshots: `{"Get-CsAccessEdgeConfiguration": [{...}], ...}` (cmdlet
//! name → objects), or a bare `ConvertTo-Json` of one cmdlet's output.

use serde_json::Value;

use super::classify::product_from_version_text;
use super::classify::{cmdlet_kind, infer_kind, is_edge_service};
use super::{Capture, ConfigObject, Note, ObjectKind, ParseError, Parsed};

pub(super) fn parse(text: &str, hint: Option<ObjectKind>) -> Result<Parsed, ParseError> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        let message = full.rfind(" at line ").map_or(full.as_str(), |i| &full[..i]).to_string();
        ParseError { line: Some(e.line()), column: Some(e.column()), message: format!("invalid JSON: {message}") }
    })?;
    let mut parsed = Parsed::default();
    match root {
        Value::Object(map) if map.keys().any(|k| cmdlet_kind(k).is_some()) => {
            for (key, value) in map {
                let Some((name, kind)) = cmdlet_kind(&key) else {
                    parsed
                        .notes
                        .push(Note { line: None, message: format!("key {key:?} is not a Get- cmdlet; ignored") });
                    continue;
                };
                let pointer = format!("/{}", key.replace('~', "~0").replace('/', "~1"));
                let items = match value {
                    Value::Null => Vec::new(),
                    // PowerShell 7 writes Get-CsServerVersion's one line as a string.
                    Value::String(text) if kind == ObjectKind::ServerVersion => vec![version_object(text)],
                    Value::Array(items) => items,
                    Value::Object(_) => vec![value],
                    other => {
                        parsed.notes.push(Note {
                            line: None,
                            message: format!("{key}: expected a list of objects, found {}; ignored", type_name(&other)),
                        });
                        continue;
                    }
                };
                parsed.captures.push(Capture::whole(kind, name.clone(), None));
                let single = items.len() == 1;
                for (i, item) in items.into_iter().enumerate() {
                    let at = if single { format!("{pointer}/0") } else { format!("{pointer}/{i}") };
                    if let Some(mut object) = object_from(item, &at, &mut parsed.notes) {
                        object.cmdlet = Some(name.clone());
                        object.kind = if kind == ObjectKind::EdgeService && !is_edge_service(&object.properties) {
                            ObjectKind::Other
                        } else {
                            kind
                        };
                        parsed.objects.push(object);
                    }
                }
            }
        }
        Value::String(text) if product_from_version_text(&text).is_some() => {
            parsed.captures.push(Capture::whole(ObjectKind::ServerVersion, ObjectKind::ServerVersion.cmdlet(), None));
            let mut object = ConfigObject::new(ObjectKind::ServerVersion);
            object.pointer = Some(String::new());
            object.properties.insert("Version".into(), Value::String(text));
            parsed.objects.push(object);
        }
        root => {
            let items = match root {
                Value::Array(items) => items,
                other => vec![other],
            };
            for (i, item) in items.into_iter().enumerate() {
                if let Some(mut object) = object_from(item, &format!("/{i}"), &mut parsed.notes) {
                    match hint.or_else(|| infer_kind(&object.properties)) {
                        Some(kind) => {
                            object.kind = kind;
                            if !parsed.captures.iter().any(|c| c.kind == kind) {
                                parsed.captures.push(Capture::whole(kind, kind.cmdlet(), None));
                            }
                        }
                        None => parsed.notes.push(Note {
                            line: None,
                            message: format!(
                                "object at {} fits no known cmdlet's output; wrap the export as {{\"Get-CsXxx\": [...]}} or name the file after the cmdlet",
                                object.pointer.as_deref().unwrap_or("/")
                            ),
                        }),
                    }
                    parsed.objects.push(object);
                }
            }
        }
    }
    Ok(parsed)
}

/// Get-CsServerVersion's line of text as an object.
fn version_object(text: String) -> Value {
    let mut properties = serde_json::Map::new();
    properties.insert("Version".into(), Value::String(text));
    Value::Object(properties)
}

fn object_from(item: Value, pointer: &str, notes: &mut Vec<Note>) -> Option<ConfigObject> {
    match item {
        Value::Object(properties) => {
            let mut object = ConfigObject::new(ObjectKind::Other);
            object.pointer = Some(pointer.to_string());
            object.properties = properties;
            Some(object)
        }
        other => {
            notes.push(Note {
                line: None,
                message: format!("{pointer}: expected an object, found {}; ignored", type_name(&other)),
            });
            None
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdlet_map_with_null_and_edge_filter() {
        let text = r#"{"Get-CsHostingProvider": null,
            "Get-CsService": [{"Identity":"Registrar:pool.contoso.com"},{"Identity":"EdgeServer:edge.contoso.com","AccessEdgeExternalSipPort":5061}]}"#;
        let parsed = parse(text, None).unwrap();
        assert!(parsed.captures.iter().any(|c| c.kind == ObjectKind::HostingProvider));
        let edges: Vec<_> = parsed.objects.iter().filter(|o| o.kind == ObjectKind::EdgeService).collect();
        assert_eq!(edges.len(), 1);
        assert_eq!(edges[0].pointer.as_deref(), Some("/Get-CsService/1"));
    }

    #[test]
    fn errors_carry_line_and_column() {
        let err = parse("{\n  \"Get-CsAllowedDomain\": [\n    {\"Domain\": }\n", None).unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.column.is_some());
        let deep = "[".repeat(100_000);
        assert!(parse(&deep, None).unwrap_err().message.contains("recursion"));
    }

    #[test]
    fn server_version_as_a_string() {
        let text = "Skype for Business Server 2019 (7.0.2046.0): Volume license key installed.";
        for json in [format!("{text:?}"), format!("{{\"Get-CsServerVersion\": {text:?}}}")] {
            let parsed = parse(&json, None).unwrap();
            assert!(parsed.captures.iter().any(|c| c.kind == ObjectKind::ServerVersion), "{json}");
            let version = parsed.objects.iter().find(|o| o.kind == ObjectKind::ServerVersion).expect(&json);
            assert_eq!(version.get("Version").unwrap().1, text);
        }
    }

    #[test]
    fn bare_export_is_classified_by_shape() {
        let parsed =
            parse(r#"[{"Identity":"Skype","ProxyFqdn":"federation.messenger.msn.com","IconUrl":""}]"#, None).unwrap();
        assert_eq!(parsed.objects[0].kind, ObjectKind::PublicProvider);
    }
}

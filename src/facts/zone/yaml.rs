//! YAML and JSON (which YAML reads) as a tree that remembers each node's
//! line, so that a record listed in a DNS-as-code file or a cloud listing
//! is found at its own line. Read with saphyr-parser's event stream, which
//! gives every event its span (serde-based readers drop positions).

use saphyr_parser::{Event, Parser};

/// Nested collections deeper than this are not a record listing.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    /// Any scalar, as written (`3600`, `"sip"`, `~`).
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    pub value: Value,
    /// 1-based.
    pub line: usize,
}

impl Node {
    /// The value at `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.text() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(text) => Some(text),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// A sequence's items; a single value stands for a list of one.
    pub fn items(&self) -> Vec<&Node> {
        match &self.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![self],
        }
    }
}

/// Every document of a YAML (or JSON) text; an error with its line.
pub(super) fn documents(text: &str) -> Result<Vec<Node>, (usize, String)> {
    let mut documents = Vec::new();
    // Open collections, innermost last: the node, and a key waiting for
    // its value.
    let mut open: Vec<(Node, Option<Node>)> = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| (e.marker().line(), e.info().to_string()))?;
        let line = span.start.line();
        let finished = match event {
            Event::Scalar(value, ..) => Some(Node { value: Value::Scalar(value.into_owned()), line }),
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if open.len() >= MAX_DEPTH {
                    return Err((line, format!("nested more than {MAX_DEPTH} deep")));
                }
                let value = if matches!(event, Event::SequenceStart(..)) {
                    Value::Seq(Vec::new())
                } else {
                    Value::Map(Vec::new())
                };
                open.push((Node { value, line }, None));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => open.pop().map(|(node, _)| node),
            Event::Alias(_) => return Err((line, "YAML aliases are not read in a record listing".into())),
            _ => None,
        };
        let Some(node) = finished else { continue };
        match open.last_mut() {
            None => documents.push(node),
            Some((Node { value: Value::Seq(items), .. }, _)) => items.push(node),
            Some((Node { value: Value::Map(entries), .. }, key)) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
            Some(_) => {}
        }
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_remember_their_lines_in_yaml_and_json() {
        let yaml =
            documents("---\n'':\n  type: A\n  value: 192.0.2.1\nsip:\n  - type: A\n    values: [192.0.2.2]\n").unwrap();
        assert_eq!(yaml.len(), 1);
        let apex = yaml[0].get("").unwrap();
        assert_eq!(apex.line, 3);
        assert_eq!(apex.get("value").and_then(Node::text), Some("192.0.2.1"));
        let sip = yaml[0].get("sip").unwrap().items();
        assert_eq!(sip[0].line, 6);
        assert_eq!(sip[0].get("values").unwrap().items()[0].text(), Some("192.0.2.2"));
        let json = documents("[\n {\"name\": \"a.\",\n  \"ttl\": 300}\n]").unwrap();
        assert_eq!(json[0].items()[0].get("ttl").map(|n| (n.text(), n.line)), Some((Some("300"), 3)));
        assert!(documents("a: &x 1\nb: *x\n").is_err(), "aliases are refused, never expanded");
        assert!(documents(&"[".repeat(100)).is_err(), "depth is bounded");
    }
}

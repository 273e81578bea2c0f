//! What a rule expects of a property (`expect`, `select`): a literal or an
//! operator, compared with the value as exported.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use regex::Regex;
use serde::de::{self, Deserialize, Deserializer};
use serde_json::Value;

use crate::facts::snapshot::ConfigObject;
use crate::facts::values::{as_bool, as_list, as_text, is_empty, show};

/// A literal a rule compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Text(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(true) => f.write_str("True"),
            Scalar::Bool(false) => f.write_str("False"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Text(t) if t.is_empty() => f.write_str("empty"),
            Scalar::Text(t) => f.write_str(t),
        }
    }
}

/// A rule's regular expression: its syntax checked when the rule is read,
/// compiled when first compared. Compiling costs up to most of a millisecond
/// a pattern (Unicode classes under case folding), which every run would
/// otherwise pay at its start for rules most runs never compare.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    compiled: OnceLock<Result<Regex, String>>,
}

/// Set by `fedscan rules validate`, which is asked whether every rule will
/// work: the patterns it reads are compiled there and then, so that one
/// past the engine's size limit is refused at its place in the file.
static COMPILE_WHEN_READ: AtomicBool = AtomicBool::new(false);

/// Compile every pattern read from now on as it is read.
pub fn compile_patterns_when_read() {
    COMPILE_WHEN_READ.store(true, Ordering::Relaxed);
}

impl Pattern {
    pub fn new(source: String) -> Result<Pattern, String> {
        regex_syntax::Parser::new().parse(&source).map_err(|e| e.to_string())?;
        let compiled = OnceLock::new();
        if COMPILE_WHEN_READ.load(Ordering::Relaxed) {
            let _ = compiled.set(Ok(Regex::new(&source).map_err(|e| e.to_string())?));
        }
        Ok(Pattern { source, compiled })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The compiled expression, or why a pattern of valid syntax could not
    /// be compiled (it exceeds the engine's size limit).
    fn regex(&self) -> Result<&Regex, &str> {
        self.compiled
            .get_or_init(|| Regex::new(&self.source).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(String::as_str)
    }
}

/// What a property must look like.
#[derive(Debug, Clone)]
pub enum Matcher {
    Equals(Scalar),
    OneOf(Vec<Scalar>),
    Matches(Pattern),
    ContainsAll(Vec<String>),
    Empty(bool),
}

/// The outcome of comparing one property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Match,
    Mismatch,
    /// The value cannot be judged: the reason says why.
    Indeterminate(String),
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Equals(s) => write!(f, "{s}"),
            Matcher::OneOf(items) => {
                let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
                write!(f, "one of {}", items.join(", "))
            }
            Matcher::Matches(re) => write!(f, "matching /{}/", re.as_str()),
            Matcher::ContainsAll(items) => write!(f, "containing {}", items.join(", ")),
            Matcher::Empty(true) => f.write_str("empty"),
            Matcher::Empty(false) => f.write_str("not empty"),
        }
    }
}

impl Matcher {
    /// Compares the property `name` of `object` (which must be present).
    /// A value the file does not show with certainty is judged only where
    /// what it does show settles the question: the items a cut list shows
    /// are in it, and a cut value is not empty.
    pub fn check(&self, object: &ConfigObject, name: &str, value: &Value) -> Verdict {
        let Some(doubt) = object.doubt(name) else { return self.check_value(value) };
        let cut = object.is_truncated(name);
        match self {
            Matcher::ContainsAll(_) | Matcher::Empty(_) if cut => match self.check_value(value) {
                Verdict::Match => Verdict::Match,
                _ if matches!(self, Matcher::Empty(true)) => Verdict::Mismatch,
                _ => Verdict::Indeterminate(doubt),
            },
            _ => Verdict::Indeterminate(doubt),
        }
    }

    /// Compares a value known to be whole.
    fn check_value(&self, value: &Value) -> Verdict {
        match self {
            Matcher::Equals(expected) => equals(expected, value),
            Matcher::OneOf(options) => {
                let verdicts: Vec<Verdict> = options.iter().map(|o| equals(o, value)).collect();
                if verdicts.contains(&Verdict::Match) {
                    Verdict::Match
                } else {
                    verdicts.into_iter().find(|v| v != &Verdict::Mismatch).unwrap_or(Verdict::Mismatch)
                }
            }
            Matcher::Matches(pattern) => match (pattern.regex(), as_text(value)) {
                (Err(why), _) => {
                    Verdict::Indeterminate(format!("the pattern /{}/ cannot be used: {why}", pattern.as_str()))
                }
                (Ok(re), Some(text)) if re.is_match(&text) => Verdict::Match,
                _ => Verdict::Mismatch,
            },
            Matcher::ContainsAll(required) => {
                let items: Vec<String> = as_list(value).iter().map(|s| s.to_ascii_lowercase()).collect();
                let missing = required.iter().any(|r| !items.contains(&r.to_ascii_lowercase()));
                if missing { Verdict::Mismatch } else { Verdict::Match }
            }
            Matcher::Empty(want) => {
                if is_empty(value) == *want {
                    Verdict::Match
                } else {
                    Verdict::Mismatch
                }
            }
        }
    }
}

fn equals(expected: &Scalar, value: &Value) -> Verdict {
    let verdict = |same: bool| if same { Verdict::Match } else { Verdict::Mismatch };
    match expected {
        Scalar::Bool(want) => match (value, as_bool(value)) {
            (_, Some(got)) => verdict(got == *want),
            (v, None) if is_empty(v) => Verdict::Mismatch,
            (v, None) => Verdict::Indeterminate(format!("{} is not True or False", show(v))),
        },
        Scalar::Int(want) => match value {
            Value::Number(n) => verdict(n.as_i64() == Some(*want)),
            Value::String(s) => verdict(s.trim().parse::<i64>().ok() == Some(*want)),
            _ => Verdict::Mismatch,
        },
        Scalar::Text(want) => match value {
            // Windows PowerShell's ConvertTo-Json writes enums as numbers, and
            // Microsoft documents the names only: a number cannot be judged.
            Value::Number(n) if want.parse::<f64>().is_err() => Verdict::Indeterminate(format!(
                "the export writes this setting as the number {n}, and the number behind each name ({want}, …) is not documented; export with `[string]` casts or PowerShell 7's `ConvertTo-Json -EnumsAsStrings`"
            )),
            _ => match as_text(value) {
                Some(text) => verdict(text.eq_ignore_ascii_case(want.trim())),
                None => Verdict::Mismatch,
            },
        },
    }
}

fn scalar_from(value: &toml::Value) -> Option<Scalar> {
    match value {
        toml::Value::Boolean(b) => Some(Scalar::Bool(*b)),
        toml::Value::Integer(i) => Some(Scalar::Int(*i)),
        toml::Value::String(s) => Some(Scalar::Text(s.clone())),
        _ => None,
    }
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const EXPECTED: &str = "a value (true, 5061, \"text\") or a table with one of `equals`, `one_of`, `matches`, `contains_all`, `empty`";
        let value = toml::Value::deserialize(deserializer)?;
        if let Some(scalar) = scalar_from(&value) {
            return Ok(Matcher::Equals(scalar));
        }
        let toml::Value::Table(table) = value else {
            return Err(de::Error::custom(format!("expected {EXPECTED}")));
        };
        if table.len() != 1 {
            return Err(de::Error::custom(format!("expected {EXPECTED}")));
        }
        let (op, arg) = table.into_iter().next().expect("one entry");
        let list = |arg: &toml::Value| -> Result<Vec<toml::Value>, D::Error> {
            match arg {
                toml::Value::Array(items) if !items.is_empty() => Ok(items.clone()),
                _ => Err(de::Error::custom(format!("`{op}` takes a non-empty list"))),
            }
        };
        match op.as_str() {
            "equals" => scalar_from(&arg)
                .map(Matcher::Equals)
                .ok_or_else(|| de::Error::custom("`equals` takes a boolean, an integer or a string")),
            "one_of" => list(&arg)?
                .iter()
                .map(|v| {
                    scalar_from(v).ok_or_else(|| de::Error::custom("`one_of` takes booleans, integers or strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Matcher::OneOf),
            "matches" => match arg {
                toml::Value::String(pattern) => Pattern::new(pattern)
                    .map(Matcher::Matches)
                    .map_err(|e| de::Error::custom(format!("`matches`: invalid regular expression: {e}"))),
                _ => Err(de::Error::custom("`matches` takes a regular expression string")),
            },
            "contains_all" => list(&arg)?
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| de::Error::custom("`contains_all` takes strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Matcher::ContainsAll),
            "empty" => {
                arg.as_bool().map(Matcher::Empty).ok_or_else(|| de::Error::custom("`empty` takes true or false"))
            }
            other => Err(de::Error::custom(format!("unknown operator `{other}`: expected {EXPECTED}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj() -> ConfigObject {
        ConfigObject::new(crate::facts::snapshot::ObjectKind::PublicProvider)
    }

    #[test]
    fn booleans_in_every_spelling() {
        let m = Matcher::Equals(Scalar::Bool(true));
        for v in [json!(true), json!("True"), json!("$true"), json!(1)] {
            assert_eq!(m.check(&obj(), "X", &v), Verdict::Match, "{v}");
        }
        for v in [json!(false), json!("False"), json!(null), json!("")] {
            assert_eq!(m.check(&obj(), "X", &v), Verdict::Mismatch, "{v}");
        }
        assert!(matches!(m.check(&obj(), "X", &json!("yes")), Verdict::Indeterminate(_)));
    }

    #[test]
    fn numeric_enums_are_not_guessed() {
        let m = Matcher::Equals(Scalar::Text("UseSourceVerification".into()));
        assert!(matches!(m.check(&obj(), "VerificationLevel", &json!(2)), Verdict::Indeterminate(_)));
        assert_eq!(m.check(&obj(), "VerificationLevel", &json!("usesourceverification")), Verdict::Match);
        assert_eq!(Matcher::Equals(Scalar::Int(5061)).check(&obj(), "P", &json!("5061")), Verdict::Match);
    }

    #[test]
    fn lists_and_truncation() {
        let m = Matcher::ContainsAll(vec!["msn.com".into(), "hotmail.com".into()]);
        assert_eq!(m.check(&obj(), "L", &json!("msn.com,outlook.com,live.com,hotmail.com")), Verdict::Match);
        assert_eq!(m.check(&obj(), "L", &json!(["msn.com"])), Verdict::Mismatch);
        let mut cut = obj();
        cut.truncated.push("L".into());
        assert!(matches!(m.check(&cut, "L", &json!(["msn.com", "outlook.com"])), Verdict::Indeterminate(_)));
        assert_eq!(m.check(&cut, "L", &json!(["msn.com", "hotmail.com"])), Verdict::Match);
        assert_eq!(Matcher::Empty(false).check(&cut, "L", &json!(["msn.com"])), Verdict::Match);
        // A cut number or name is not a wrong one.
        cut.truncated.push("P".into());
        assert!(matches!(Matcher::Equals(Scalar::Int(5061)).check(&cut, "P", &json!("50")), Verdict::Indeterminate(_)));
    }

    #[test]
    fn a_pattern_is_checked_when_read_and_compiled_when_compared() {
        let err = Pattern::new("(?i)^(yahoo|aol".into()).expect_err("an unclosed group");
        assert!(err.contains("unclosed group"), "{err}");
        let m = Matcher::Matches(Pattern::new(r"(?i)^https://webdir\w*\.".into()).expect("a pattern"));
        assert_eq!(m.check(&obj(), "U", &json!("https://WEBDIR2a.online.lync.com/x")), Verdict::Match);
        assert_eq!(m.check(&obj(), "U", &json!("https://example.com/")), Verdict::Mismatch);
        // Valid syntax the engine will not compile (past its size limit):
        // the property cannot be judged, which is not a mismatch.
        let huge = Matcher::Matches(Pattern::new(r"(?:\w{1000}){1000}".into()).expect("valid syntax"));
        match huge.check(&obj(), "U", &json!("x")) {
            Verdict::Indeterminate(why) => assert!(why.contains("cannot be used"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn doubtful_values_are_not_judged() {
        let mut twice = obj();
        twice.doubts.insert("Enabled".into(), "printed twice with different values".into());
        let m = Matcher::Equals(Scalar::Bool(true));
        assert_eq!(
            m.check(&twice, "Enabled", &json!("True")),
            Verdict::Indeterminate("printed twice with different values".into())
        );
    }
}

//! The built-in rule files, read once at build time: each `rules/*.toml`
//! becomes a JSON file in `OUT_DIR` holding its rules in order, the check's
//! `kind` apart from its parameters and dates as `YYYY-MM-DD` text. A run
//! reads that instead of parsing 70 KB of TOML at every start (most of a
//! one-domain scan's own work before its first DNS question). The TOML stays
//! the source: a test reads it with the validating loader and requires the
//! same rules from both (`rules::load`).

use std::path::Path;

fn main() {
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out).join("rules");
    std::fs::create_dir_all(&out).expect("a directory for the built rules");
    println!("cargo::rerun-if-changed=rules");
    let mut files: Vec<_> = std::fs::read_dir("rules")
        .expect("the rules directory")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for path in files {
        println!("cargo::rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).expect("a rule file");
        // A file that does not read is left to the loader, which says where
        // it is wrong: the built form of it is then empty and not used.
        let built = match toml::from_str::<toml::Table>(&text) {
            Ok(table) => built_rules(&table).map_or(serde_json::Value::Null, serde_json::Value::Array),
            Err(_) => serde_json::Value::Null,
        };
        let name = path.with_extension("json");
        let name = name.file_name().expect("a file name");
        std::fs::write(out.join(name), built.to_string()).expect("the built rules written");
    }
}

/// The `[[rule]]` entries, each with its check split into `kind` and
/// `params`; `None` when the file is not a list of rules with checks.
fn built_rules(file: &toml::Table) -> Option<Vec<serde_json::Value>> {
    let rules = file.get("rule")?.as_array()?;
    rules
        .iter()
        .map(|rule| {
            let mut rule = rule.as_table()?.clone();
            let mut check = rule.remove("check")?.as_table()?.clone();
            let kind = check.remove("kind")?;
            let mut built = json(&toml::Value::Table(rule));
            let params = json(&toml::Value::Table(check));
            built.as_object_mut()?.insert("check".into(), serde_json::json!({ "kind": json(&kind), "params": params }));
            Some(built)
        })
        .collect()
}

fn json(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => s.clone().into(),
        toml::Value::Integer(i) => (*i).into(),
        toml::Value::Float(f) => (*f).into(),
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(items) => items.iter().map(json).collect(),
        toml::Value::Table(table) => {
            serde_json::Value::Object(table.iter().map(|(k, v)| (k.clone(), json(v))).collect())
        }
    }
}

//! The layers, checked: data flows one way (inputs and probes → facts →
//! rules and checks → findings → reports), so no module imports one above it
//! and no import circle forms. Read from the sources, the test modules left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module and the top-level modules its code (not its tests)
/// names through `crate::`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let top: BTreeSet<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".rs").to_string())
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let named = regex::Regex::new(r"crate::([a-z_]+)").unwrap();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let first = relative.components().next().unwrap().as_os_str().to_string_lossy().to_string();
            let module = first.trim_end_matches(".rs").to_string();
            if !top.contains(&module) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // A file's tests come last, in `mod tests`: they may use anything.
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(&text);
            let uses = graph.entry(module.clone()).or_default();
            for caps in named.captures_iter(code) {
                if caps[1] != *module && top.contains(&caps[1]) {
                    uses.insert(caps[1].to_string());
                }
            }
        }
    }
    graph
}

#[test]
fn no_module_imports_a_layer_above_it_and_no_circle_forms() {
    let graph = imports();
    let uses = |module: &str| graph.get(module).cloned().unwrap_or_default();
    // The facts are the bottom: documents, readers and views.
    let facts = uses("facts");
    assert!(facts.is_subset(&BTreeSet::from(["files".to_string(), "text".to_string()])), "facts uses {facts:?}");
    // Probes only observe: they build facts and know nothing of what judges them.
    let probe = uses("probe");
    assert!(probe.is_subset(&BTreeSet::from(["facts".to_string()])), "probe uses {probe:?}");
    for module in ["engine", "report"] {
        assert!(!uses(module).contains("checks"), "{module} imports checks: {:?}", uses(module));
    }
    // Checks and reports never do I/O; the engine alone drives the probes.
    for module in ["checks", "rules", "report", "findings", "diagnose"] {
        assert!(!uses(module).contains("probe"), "{module} imports probe: {:?}", uses(module));
    }
    assert!(uses("diagnose").iter().all(|m| m == "facts"), "diagnose uses {:?}", uses("diagnose"));
    // No circle: every module can be put after all it imports.
    let mut placed: BTreeSet<String> = BTreeSet::new();
    while placed.len() < graph.len() {
        let next: Vec<String> = graph
            .iter()
            .filter(|(m, imports)| {
                !placed.contains(*m) && imports.iter().all(|i| placed.contains(i) || !graph.contains_key(i))
            })
            .map(|(m, _)| m.clone())
            .collect();
        assert!(
            !next.is_empty(),
            "an import circle among {:?}",
            graph.keys().filter(|m| !placed.contains(*m)).collect::<Vec<_>>()
        );
        placed.extend(next);
    }
}

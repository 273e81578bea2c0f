//! Each fuzz target (`fuzz/fuzz_targets/`) over its corpus
//! (`fuzz/corpus/<target>/`), with the stable toolchain: the committed seeds,
//! and whatever a fuzzing run added, keep passing. A target that panics
//! fails the test, naming the input.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

#[test]
fn every_fuzz_target_passes_its_corpus() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut failures = Vec::new();
    for (name, target) in fedscan::fuzzing::TARGETS {
        let directory = corpus.join(name);
        let mut inputs: Vec<_> = std::fs::read_dir(&directory)
            .unwrap_or_else(|e| panic!("{}: {e}", directory.display()))
            .map(|e| e.unwrap().path())
            .collect();
        inputs.sort();
        assert!(!inputs.is_empty(), "{name} has no seed in {}", directory.display());
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
                failures.push(input.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "fuzz targets panicked on: {failures:#?}");
}

/// Every target has its fuzz target file, and every fuzz target file a
/// corpus: the list in `fedscan::fuzzing::TARGETS` is the one cargo-fuzz runs.
#[test]
fn every_fuzz_target_has_its_file_and_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    for (name, _) in fedscan::fuzzing::TARGETS {
        assert!(root.join("fuzz_targets").join(format!("{name}.rs")).exists(), "fuzz/fuzz_targets/{name}.rs");
        assert!(manifest.contains(&format!("name = \"{name}\"")), "fuzz/Cargo.toml lists {name}");
        assert!(root.join("corpus").join(name).is_dir(), "fuzz/corpus/{name}");
    }
}

//! Tidy checks (STYLE "Tidy"): the layer rule, no ignored tests, a `//!` line on every file.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("root")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target" || n == ".git") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Internal crates each crate may depend on (normal dependencies). Dependencies point downward
/// only; delivery crates never import each other (ARCHITECTURE.md).
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("baspa-domain", &[][..]),
        ("baspa-db", &["baspa-domain"][..]),
        ("baspa-render", &["baspa-domain"][..]),
        ("baspa-search", &["baspa-domain"][..]),
        ("baspa-media", &[][..]),
        ("baspa-actions", &["baspa-domain", "baspa-db", "baspa-media"][..]),
        ("baspa-import", &["baspa-domain", "baspa-db", "baspa-actions"][..]),
        ("baspa-site", &["baspa-domain", "baspa-db", "baspa-actions", "baspa-render", "baspa-search"][..]),
        ("baspa-upkeep", &["baspa-domain", "baspa-db", "baspa-actions"][..]),
        ("baspa-testkit", &["baspa-domain", "baspa-db", "baspa-actions", "baspa-render", "baspa-site"][..]),
        (
            "baspa",
            &[
                "baspa-domain",
                "baspa-db",
                "baspa-actions",
                "baspa-render",
                "baspa-site",
                "baspa-search",
                "baspa-media",
                "baspa-upkeep",
                "baspa-import",
            ][..],
        ),
    ])
}

#[test]
fn dependencies_point_downward_only() {
    let root = workspace_root();
    let rules = allowed();
    for dir in std::fs::read_dir(root.join("crates")).expect("crates").flatten() {
        let name = dir.file_name().to_string_lossy().to_string();
        let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).expect("manifest");
        let parsed: toml::Table = manifest.parse().expect("toml");
        let allowed = rules.get(name.as_str()).unwrap_or_else(|| {
            panic!("crate {name} is not in the layer table: add it to ARCHITECTURE.md and this test")
        });
        let deps = parsed.get("dependencies").and_then(|d| d.as_table()).cloned().unwrap_or_default();
        for dep in deps.keys().filter(|d| d.starts_with("baspa")) {
            assert!(allowed.contains(&dep.as_str()), "{name} must not depend on {dep} (layer rule)");
        }
        if name != "baspa" {
            let dev = parsed.get("dev-dependencies").and_then(|d| d.as_table()).cloned().unwrap_or_default();
            assert!(!dev.contains_key("baspa"), "{name} must not reach up to the binary crate");
        }
    }
}

#[test]
fn no_test_is_ignored_and_every_file_says_what_it_is() {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    assert!(files.len() > 20);
    let ignore_attr = ["#[", "ignore]"].concat();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        assert!(!text.contains(&ignore_attr), "{} ignores a test", f.display());
        let first = text.lines().next().unwrap_or_default();
        assert!(first.starts_with("//!"), "{} must start with a //! line", f.display());
    }
}

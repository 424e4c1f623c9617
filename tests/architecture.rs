//! The module graph: every `crate::` import points down the layering that
//! docs/architecture.md draws (tests excepted).

use std::path::{Path, PathBuf};

/// The crate's top-level modules, lowest first: each may import only the
/// modules before it (and itself). docs/architecture.md explains each one.
const LAYERS: [&str; 17] = [
    "source",
    "types",
    "value",
    "ops",
    "cell",
    "diagnostic",
    "config",
    "schema",
    "syntax",
    "check",
    "compile",
    "eval",
    "heuristic",
    "rules",
    "explain",
    "data",
    "cli",
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|m| *m == module)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/eval/vm.rs` is `eval`), or
/// `None` for the crate root files.
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The top-level modules a line names through `crate::`: `crate::eval::Row`,
/// `crate::{ops, value::Val}`, and `super::x` in a top-level module's own
/// file (where `super` is the crate).
fn referenced(line: &str, super_is_crate: bool) -> Vec<String> {
    let mut found = Vec::new();
    let mut prefixes = vec!["crate::"];
    if super_is_crate {
        prefixes.push("super::");
    }
    for prefix in prefixes {
        let mut rest = line;
        while let Some(at) = rest.find(prefix) {
            // `crate::` inside a longer name (`my_crate::`) is not the crate.
            let before = rest[..at].chars().next_back();
            let after = &rest[at + prefix.len()..];
            rest = after;
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(group) = after.strip_prefix('{') {
                // Top-level names of a `{a, b::c, d::{e, f}}` group.
                let mut depth = 0;
                let mut item = String::new();
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            found.push(std::mem::take(&mut item));
                            continue;
                        }
                        _ => {}
                    }
                    item.push(c);
                }
                found.push(item);
            } else {
                found.push(after.to_string());
            }
        }
    }
    found
        .iter()
        .filter_map(|r| {
            let name: String = r
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty() && name != "self").then_some(name)
        })
        .collect()
}

#[test]
fn module_graph_points_one_way() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");

    // Every module the crate root declares has a place in the layering.
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs is readable");
    for line in lib.lines() {
        let decl = line.trim();
        let decl = ["pub(crate) ", "pub "]
            .iter()
            .find_map(|p| decl.strip_prefix(p))
            .unwrap_or(decl);
        if let Some(name) = decl.strip_prefix("mod ").and_then(|n| n.strip_suffix(';')) {
            assert!(
                rank(name).is_some(),
                "src/lib.rs declares module `{name}`, which has no place in LAYERS \
                 (tests/architecture.rs) and docs/architecture.md"
            );
        }
    }

    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = Vec::new();
    let mut seen = 0;
    for path in &files {
        let rel = path.strip_prefix(&src).expect("under src/");
        let Some(module) = module_of(rel) else {
            continue;
        };
        let own = rank(&module).unwrap_or_else(|| {
            panic!(
                "src/{} is in module `{module}`, which has no place in LAYERS",
                rel.display()
            )
        });
        // In `src/x.rs` and `src/x/mod.rs`, `super::` is the crate root.
        let super_is_crate = rel.components().count() == 1 || rel.ends_with("mod.rs");
        let text = std::fs::read_to_string(path).expect("a source file is readable");
        for (n, line) in text.lines().enumerate() {
            // Test code may import anything: the scan stops at the tests.
            if line.trim() == "#[cfg(test)]" {
                break;
            }
            if line.trim_start().starts_with("//") {
                continue;
            }
            for target in referenced(line, super_is_crate) {
                seen += 1;
                match rank(&target) {
                    Some(r) if r <= own => {}
                    Some(_) => upward.push(format!(
                        "src/{}:{}: `{module}` imports `{target}`, which is above it: {}",
                        rel.display(),
                        n + 1,
                        line.trim()
                    )),
                    // `super::tests`-like names of the crate root are not modules.
                    None if super_is_crate && !line.contains("crate::") => {}
                    None => upward.push(format!(
                        "src/{}:{}: `{module}` imports `{target}`, which has no place in LAYERS: {}",
                        rel.display(),
                        n + 1,
                        line.trim()
                    )),
                }
            }
        }
    }
    // The scan found the imports (a broken scan would pass vacuously).
    assert!(seen > 50, "only {seen} crate:: references found under src/");
    assert!(
        upward.is_empty(),
        "imports that point up the module graph (see docs/architecture.md):\n{}",
        upward.join("\n")
    );
}

#[test]
fn module_graph_scan_reads_grouped_and_nested_imports() {
    assert_eq!(
        referenced("use crate::eval::{Row, Value};", false),
        ["eval"]
    );
    assert_eq!(
        referenced("use crate::{ops, value::{Pool, Val}};", false),
        ["ops", "value"]
    );
    assert_eq!(
        referenced("x: &crate::compile::ItemCode, y: my_crate::a", false),
        ["compile"]
    );
    assert_eq!(
        referenced("use super::ir::Builtin;", false),
        Vec::<String>::new()
    );
    assert_eq!(referenced("use super::schema::Schema;", true), ["schema"]);
}

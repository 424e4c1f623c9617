//! Shared helpers: run the binary, build rule sets in memory.

#![allow(dead_code)]

use glyphsieve::config::{Config, QuantizationConfig};
use glyphsieve::eval::{Row, Value};
use glyphsieve::heuristic::Heuristic;
use glyphsieve::rules::RuleSet;
use glyphsieve::schema::Schema;
use std::path::{Path, PathBuf};

/// The crate root (fixtures live under tests/fixtures).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures").join(rel)
}

/// A command running the built `glyphsieve` binary from the crate root.
/// Project files (`glyphsieve.yaml`) are ignored, so a stray one in a parent
/// folder cannot change a test; tests of project files remove the variable
/// and run in a temporary folder.
pub fn glyphsieve() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("glyphsieve").expect("binary builds");
    cmd.current_dir(root())
        .env("NO_COLOR", "1")
        .env("GLYPHSIEVE_NO_PROJECT", "1");
    cmd
}

/// Check and compile rule text against the listing schema and the default
/// quantization config; panics with the diagnostics if it does not compile.
pub fn rules(text: &str) -> RuleSet {
    rules_with(text, &QuantizationConfig::default().to_config())
}

pub fn rules_with(text: &str, config: &Config) -> RuleSet {
    let set = RuleSet::build(
        &[("test.rule".to_string(), text.to_string())],
        &Schema::listing(),
        config,
    );
    assert!(
        !set.has_errors(),
        "rules do not compile: {:#?}",
        set.diagnostics
    );
    set
}

/// Evaluate the rule named `name` on `row`.
pub fn eval(set: &RuleSet, name: &str, row: &Row) -> Value {
    let hs = set.heuristics();
    let h = hs
        .iter()
        .find(|h| h.name() == name)
        .unwrap_or_else(|| panic!("no rule {name}"));
    h.evaluate(row).expect("evaluates")
}

/// Read a file as a string, for comparisons.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The keys of a JSON diagnostic, in order (docs/language.md documents them;
/// for a load failure the place may be null).
pub const JSON_KEYS: [&str; 12] = [
    "code",
    "name",
    "severity",
    "message",
    "file",
    "line",
    "column",
    "end_line",
    "end_column",
    "label",
    "help",
    "related",
];

//! `glyphsieve test`: `test` items beside the rules, run through the binary,
//! and `--coverage` / `--coverage-data` condition coverage.

use crate::support::glyphsieve;
use std::path::{Path, PathBuf};

/// A tempdir copy of the shipped rules, with `extra` appended as a file of
/// its own.
fn rules_with(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).expect("mkdir");
    for entry in std::fs::read_dir(crate::support::root().join("rules")).expect("rules/") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_owned();
        std::fs::copy(&path, rules.join(name)).expect("copy");
    }
    std::fs::write(rules.join("extra.rule"), extra).expect("write");
    (dir, rules)
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = glyphsieve().args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `cargo test` runs the shipped rules' tests (the seed's cases) through the binary.
#[test]
fn shipped_rule_tests_pass_through_the_binary() {
    let (code, out, err) = run(&["test", "rules/"]);
    assert_eq!(code, 0, "{out}{err}");
    for name in [
        "meets all three",
        "20 GB narrow miss",
        "24 GB boundary",
        "301 W boundary",
        "no-MIG boundary",
    ] {
        assert!(out.contains(&format!("test {name} ... ok\n")), "{out}");
    }
    assert!(
        out.ends_with("test result: ok. 7 passed, 0 failed\n"),
        "{out}"
    );
}

/// A planted wrong expectation fails with exit 1, the expected and actual
/// values, and explain's trace of the rule.
#[test]
fn planted_wrong_expectation_fails_with_exit_1_and_the_trace() {
    let (_dir, rules) = rules_with(
        "test \"H100 PCIe runs too hot\" {\n    vram_gb = 80, tdp_watts = 350, mig_support = true\n} expect quantization_capable == true\n",
    );
    let (code, out, _) = run(&["test", path(&rules)]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("test H100 PCIe runs too hot ... FAILED\n"),
        "{out}"
    );
    assert!(
        out.contains("quantization_capable: expected true, found false\n"),
        "{out}"
    );
    assert!(out.contains("350"), "the trace shows the TDP read: {out}");
    assert!(
        out.contains("tdp_watts \"350\" → \"300\""),
        "the flip: {out}"
    );
    assert!(
        out.ends_with("test result: FAILED. 7 passed, 1 failed\n"),
        "{out}"
    );
}

#[test]
fn failing_test_human_output_snapshot() {
    let (_dir, rules) = rules_with(
        "## Planted.\ntest \"too hot\" {\n    vram_gb = 80, tdp_watts = 350, mig_support = true\n} expect quantization_capable == true\n",
    );
    let (_, out, _) = run(&["test", path(&rules)]);
    let out = out.replace(path(&rules), "RULES");
    insta::assert_snapshot!("ruletest_failing_human", out);
}

/// `with cfg.KEY = VALUE` overrides the config for that test only.
#[test]
fn with_cfg_override_applies_to_its_test_only() {
    let (_dir, rules) = rules_with(
        "test \"48 GB floor\" { vram_gb = 40, tdp_watts = 250, mig_support = true } with cfg.min_vram_gb = 48 expect quantization_capable == false\n\
         test \"default floor\" { vram_gb = 40, tdp_watts = 250, mig_support = true } expect quantization_capable == true\n",
    );
    let (code, out, _) = run(&["test", path(&rules)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("test 48 GB floor ... ok"), "{out}");
}

/// A test naming an unknown field is E101 at its span, with did-you-mean;
/// a value of the wrong type and an unknown cfg key are located errors too.
#[test]
fn test_with_unknown_field_is_e101_at_its_span() {
    let (_dir, rules) = rules_with(
        "test \"typo\" {\n    vram_g = 80, tdp_watts = \"hot\"\n} with cfg.min_vram = 48 expect quantization_capable\n",
    );
    let extra = rules.join("extra.rule");
    let (code, out, err) = run(&["test", path(&rules)]);
    assert_eq!(code, 1, "{out}{err}");
    let err = err.replace(path(&extra), "extra.rule");
    assert!(err.contains("E101(unknown-name)"), "{err}");
    assert!(
        err.contains("unknown name `vram_g`\n   ╭─[extra.rule:2:5]"),
        "{err}"
    );
    assert!(err.contains("did you mean `vram_gb`?"), "{err}");
    assert!(
        err.contains("type mismatch: expected float, found string\n   ╭─[extra.rule:2:30]"),
        "{err}"
    );
    assert!(err.contains("unknown config key `cfg.min_vram`"), "{err}");
    // lint checks tests too.
    let (code, _, _) = run(&["lint", path(&rules)]);
    assert_eq!(code, 1);
}

/// Tests are ignored by eval's outputs: no column for an `expect`.
#[test]
fn tests_add_no_column_to_eval() {
    let (_dir, rules) = rules_with("test \"t\" { vram_gb = 80 } expect capacity_7b == 22\n");
    let (code, out, err) = run(&["eval", path(&rules), "examples/listings.csv"]);
    assert_eq!(code, 0, "{err}");
    let header = out.lines().next().expect("header");
    assert!(
        header.ends_with(",price_per_gb_vram,quantization_capable"),
        "{header}"
    );
    assert!(!header.contains("test"), "{header}");
}

/// `--format json` gives one document: each test, the counts.
#[test]
fn test_format_json_lists_tests_and_counts() {
    let (_dir, rules) = rules_with(
        "test \"wrong\" { vram_gb = 80, tdp_watts = 350, mig_support = true } expect quantization_capable\n",
    );
    let (code, out, _) = run(&["test", path(&rules), "--format", "json"]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(doc["passed"], 7);
    assert_eq!(doc["failed"], 1);
    let wrong = doc["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .find(|t| t["name"] == "wrong")
        .expect("the planted test");
    assert_eq!(wrong["name"], "wrong");
    assert_eq!(wrong["passed"], false);
    assert_eq!(
        wrong["failures"][0]["rules"][0]["rule"],
        "quantization_capable"
    );
    assert_eq!(wrong["failures"][0]["rules"][0]["value"], false);
}

/// Coverage names the conditions the tests never made true or false, and
/// the threshold no test sits exactly on.
#[test]
fn coverage_names_uncovered_conditions_and_boundaries() {
    let (code, out, _) = run(&["test", "rules/", "--coverage"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("rule quantization_capable: 100% (14 of 14 outcomes)"),
        "{out}"
    );
    assert!(
        out.contains("no test at exactly the threshold 150"),
        "{out}"
    );
    assert!(
        out.contains("rules/power.rule:16:53 `slots <= 2`: true 0, false 0, missing 6"),
        "{out}"
    );
    insta::assert_snapshot!("ruletest_coverage_human", out);
}

/// Without the 24 GB boundary test, coverage says no test is at exactly 24.
#[test]
fn uncovered_boundary_names_the_threshold() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = dir.path().join("q.rule");
    std::fs::write(
        &rule,
        "rule big: bool = vram_gb >= cfg.min_vram_gb\n\
         test \"80\" { vram_gb = 80 } expect big\n\
         test \"8\" { vram_gb = 8 } expect not big\n",
    )
    .expect("write");
    let (code, out, _) = run(&["test", path(&rule), "--coverage"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("rule big: 66% (2 of 3 outcomes)"), "{out}");
    assert!(out.contains("no test at exactly the threshold 24"), "{out}");
}

/// `--coverage-data` reads the CSV and reports what the real rows exercise.
#[test]
fn coverage_data_reports_over_the_rows_of_a_csv() {
    let (code, out, _) = run(&[
        "test",
        "rules/",
        "--coverage-data",
        "examples/listings.csv",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let cov = &doc["data_coverage"];
    assert_eq!(cov["over"], "data");
    assert_eq!(cov["file"], "examples/listings.csv");
    let rows = cov["runs"].as_u64().expect("rows");
    assert!(rows > 0);
    let q = cov["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["name"] == "quantization_capable")
        .expect("the rule");
    let first = &q["conditions"][0];
    let seen = ["true", "false", "missing"]
        .iter()
        .map(|k| first[k].as_u64().expect("count"))
        .sum::<u64>();
    assert_eq!(seen, rows, "the first condition is reached on every row");
}

/// A data file that lacks a column the rules read is a located error, not a panic.
#[test]
fn coverage_data_missing_column_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("d.csv");
    std::fs::write(&data, "model\nx\n").expect("write");
    let (code, _, err) = run(&["test", "rules/", "--coverage-data", path(&data)]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("is read by the rules but none of its columns"),
        "{err}"
    );
}

/// The README's `glyphsieve test rules/` example is the binary's real output.
#[test]
fn readme_test_example_is_the_real_output() {
    let readme = std::fs::read_to_string(crate::support::root().join("README.md")).expect("README");
    let start = "$ glyphsieve test rules/\n";
    let from = readme.find(start).expect("the example in the README") + start.len();
    let len = readme[from..].find("```").expect("the block's end");
    let (_, out, _) = run(&["test", "rules/"]);
    assert_eq!(&readme[from..from + len], out);
}

/// The coverage excerpt in docs/language.md is the start of the real report.
#[test]
fn language_doc_coverage_example_is_the_real_output() {
    let doc =
        std::fs::read_to_string(crate::support::root().join("docs/language.md")).expect("doc");
    let start = "coverage over the tests";
    let from = doc.find(start).expect("the example in the doc");
    let len = doc[from..].find("```").expect("the block's end");
    let (_, out, _) = run(&["test", "rules/", "--coverage"]);
    assert!(out.contains(&doc[from..from + len]), "{out}");
}

/// `glyphsieve fmt` lays out test items (fields flat or one per line,
/// clauses after the `}` or each on its own line), keeps every comment,
/// and is idempotent.
#[test]
fn fmt_lays_out_test_items_and_keeps_their_comments() {
    let text = "rule roomy: bool = vram_gb >= cfg.min_vram_gb and tdp_watts <= cfg.max_tdp_watts\n\
                # lead comment\n\
                test \"x\"   {  vram_gb=80, # after vram\n  # before tdp\n  tdp_watts = - 5 } with cfg.min_vram_gb=48 expect roomy == false # trailing\n\
                \x20 # before second\n  expect (not roomy or tdp_watts <= 300 or vram_gb >= 1000000 or tdp_watts >= 1000000 or vram_gb <= 3)\n\
                test \"short\" {vram_gb=1} expect not roomy\n\
                test \"empty\" {} expect true\n";
    let once = glyphsieve()
        .args(["fmt", "-"])
        .write_stdin(text)
        .output()
        .expect("runs");
    assert_eq!(once.status.code(), Some(0));
    let once = String::from_utf8(once.stdout).expect("utf-8");
    for comment in [
        "# lead comment",
        "# after vram",
        "# before tdp",
        "# trailing",
        "# before second",
    ] {
        assert!(once.contains(comment), "{comment} lost:\n{once}");
    }
    let twice = glyphsieve()
        .args(["fmt", "-"])
        .write_stdin(once.clone())
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&twice.stdout), once);
    insta::assert_snapshot!("ruletest_fmt_test_items", once);
}

/// An `expect` that is not a bool is E202 at its span, worded for an expect.
#[test]
fn expect_that_is_not_a_bool_is_a_located_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = dir.path().join("q.rule");
    std::fs::write(&rule, "test \"t\" { vram_gb = 80 } expect vram_gb + 1\n").expect("write");
    let (code, out, err) = run(&["test", path(&rule)]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("E202(number-as-bool)"), "{err}");
    assert!(
        err.contains("`expect`, which must be true on the test's row, expects a bool"),
        "{err}"
    );
    assert!(err.contains("q.rule:1:34]"), "{err}");
    assert!(err.contains("no test was run"), "{err}");
}

/// Rule files without tests: nothing to run is not a failure.
#[test]
fn rules_without_tests_run_zero_tests() {
    let (code, out, _) = run(&["test", "rules/power.rule"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("running 0 tests\n"), "{out}");
    assert!(
        out.ends_with("test result: ok. 0 passed, 0 failed\n"),
        "{out}"
    );
}

/// An expect whose evaluation overflows fails the test with the error, no panic.
#[test]
fn expect_that_overflows_fails_its_test_with_the_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = dir.path().join("q.rule");
    std::fs::write(
        &rule,
        "rule big: int = slots * 9223372036854775807\ntest \"t\" { slots = 2 } expect big > 0\n",
    )
    .expect("write");
    let (code, out, err) = run(&["test", path(&rule)]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("test t ... FAILED"), "{out}");
    assert!(out.contains("overflow"), "{out}");
}

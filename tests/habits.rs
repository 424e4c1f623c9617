//! Everyday mistakes on the command line (arguments swapped, the data file
//! forgotten) and `field` declarations with the hints that lead to them.

use crate::support::glyphsieve;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path.to_str().expect("a UTF-8 temporary path").to_string()
}

/// Output of one run: exit code, stdout, stderr; paths under `dir` shown
/// as `TMP`, so snapshots do not depend on the temporary folder.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = glyphsieve().args(args).output().expect("glyphsieve runs");
    let tmp = dir.to_str().expect("a UTF-8 temporary path");
    let text = |b: Vec<u8>| {
        String::from_utf8(b)
            .expect("UTF-8 output")
            .replace(tmp, "TMP")
    };
    (out.status.code(), text(out.stdout), text(out.stderr))
}

const LISTINGS: &str = "model,condition,mig_capable,MIG Count,vram_gb\n\
                        H100,New,7,7,80\n\
                        A10,Used,0,0,24\n";

/// Regression: `eval data.csv rules/` parsed the CSV as rules and said only
/// "expected a new item", never that the data file goes last.
#[test]
fn swapped_eval_arguments_say_the_order_is_rules_then_data() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let data = write(dir.path(), "listings.csv", LISTINGS);
    let (code, stdout, stderr) = run(dir.path(), &["eval", &data, "rules/"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stdout, "", "nothing is written");
    assert!(
        stderr.contains("a CSV header, not rules: the order is `eval RULES... DATA`"),
        "{stderr}"
    );
    insta::assert_snapshot!("swapped_eval_arguments", stderr);
}

/// Regression: `eval mine.rule` said `<RULES>... not provided`, though the
/// rules were given: it is the data file that is missing.
#[test]
fn eval_without_a_data_file_says_the_data_file_is_missing() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let rules = write(dir.path(), "mine.rule", "rule big: bool = vram_gb >= 48\n");
    let (code, stdout, stderr) = run(dir.path(), &["eval", &rules]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("the DATA file is missing"), "{stderr}");
    assert!(!stderr.contains("<RULES>... not provided"), "{stderr}");
    insta::assert_snapshot!("eval_without_a_data_file", stderr);

    // Only a CSV given: it is the rules that are missing.
    let data = write(dir.path(), "listings.csv", LISTINGS);
    let (code, _, stderr) = run(dir.path(), &["eval", &data]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no rules given"), "{stderr}");
}

/// A rule file declares a field the schema lacks, and `eval` reads it from
/// its column: the rule set is self-contained. `lint` checks it too.
#[test]
fn a_field_declared_in_a_rule_file_is_read_from_its_column() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let data = write(dir.path(), "listings.csv", LISTINGS);
    let rules = write(
        dir.path(),
        "mig.rule",
        "## MIG instances: the count in `mig_capable` (the schema reads it as a bool).\n\
         field mig_instances: int from mig_count, mig_capable nulls [\"-\"]\n\
         rule many_mig: bool = mig_instances >= 4\n",
    );
    let (code, stdout, stderr) = run(dir.path(), &["eval", &rules, &data, "--quiet"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "model,condition,mig_capable,MIG Count,vram_gb,many_mig\n\
         H100,New,7,7,80,true\n\
         A10,Used,0,0,24,false\n"
    );
    let (code, stdout, _) = run(dir.path(), &["lint", &rules]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.ends_with("1 file, 1 rule: 0 errors, 0 warnings\n"),
        "{stdout}"
    );
}

/// A declaration that clashes (with the schema, with another declaration)
/// or names no field type is a located error.
#[test]
fn a_field_declared_twice_or_of_a_bad_type_is_a_located_error() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let rules = write(
        dir.path(),
        "bad.rule",
        "field price: float from cost\n\
         field count: int from a\n\
         field count: int from b\n\
         field tier: PowerClass from tier\n",
    );
    let (code, stdout, _) = run(dir.path(), &["lint", &rules, "--format", "json"]);
    assert_eq!(code, Some(1), "{stdout}");
    let items: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let found: Vec<(&str, u64, u64)> = items
        .as_array()
        .expect("an array")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or(""),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(found, [("E301", 1, 7), ("E301", 3, 7), ("E105", 4, 13)]);
    assert_eq!(
        items[2]["help"], "a field's type is bool, int, float or string",
        "{stdout}"
    );
}

/// Regression: `rule m: bool = mig_capable` said only "unknown name", though
/// the data has that column: `eval` says how the column is read and how to
/// read its count, and for a column no field reads, the declaration to add.
#[test]
fn unknown_name_near_a_header_column_shows_the_declaration_to_add() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let data = write(dir.path(), "listings.csv", LISTINGS);
    let rules = write(
        dir.path(),
        "mine.rule",
        "rule m: bool = mig_capable\nrule n: int = mig_count\n",
    );
    let (code, stdout, stderr) = run(dir.path(), &["--color", "never", "eval", &rules, &data]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("the data's column `mig_capable` is read as field `mig_support` (bool)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("declare `field mig_count: int from \"MIG Count\"`"),
        "{stderr}"
    );
    insta::assert_snapshot!("unknown_name_near_a_header_column", stderr);

    // The declaration the hint shows makes the rules work.
    let fixed = write(
        dir.path(),
        "fixed.rule",
        "field mig_count: int from \"MIG Count\"\nrule n: int = mig_count\n",
    );
    let (code, stdout, stderr) = run(dir.path(), &["eval", &fixed, &data, "--quiet"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.ends_with(",n\nH100,New,7,7,80,7\nA10,Used,0,0,24,0\n"),
        "{stdout}"
    );

    // From stdin the header is not read ahead: no hint, the same error.
    let out = glyphsieve()
        .args(["eval", &rules, "-"])
        .write_stdin(LISTINGS)
        .output()
        .expect("glyphsieve runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("MIG Count"), "{stderr}");
}

/// Library: `RuleSet::schema` is the schema the rules were compiled with
/// (the given one plus the declarations): a row of it can set a declared
/// field; a row of the schema before them is a schema mismatch, an error.
#[test]
fn a_rule_sets_schema_includes_its_declared_fields() {
    use glyphsieve::config::QuantizationConfig;
    use glyphsieve::eval::{Listing, Row, Value};
    use glyphsieve::heuristic::Heuristic;
    use glyphsieve::rules::RuleSet;
    use glyphsieve::schema::Schema;

    let text = "field mig_instances: int from mig_capable\nrule many: bool = mig_instances >= 4\n";
    let set = RuleSet::build(
        &[("mig.rule".to_string(), text.to_string())],
        &Schema::listing(),
        &QuantizationConfig::default().to_config(),
    );
    assert!(!set.has_errors(), "{:?}", set.diagnostics);
    assert_eq!(set.schema.fields.len(), Schema::listing().fields.len() + 1);
    let rule = &set.heuristics()[0];
    let mut row = Row::new(set.schema.clone());
    row.set("mig_instances", 7i64)
        .expect("a declared field is settable");
    assert_eq!(rule.evaluate(&row).ok(), Some(Value::Bool(true)));
    let listing = Row::from_listing(&Listing::default());
    assert!(
        rule.evaluate(&listing).is_err(),
        "another schema is an error"
    );
}

/// `diff` reads each row once for both sides: the same declarations on
/// both sides work (a config change); different ones are an error, not a
/// schema mismatch on every row. `diff mine.rule` names the missing data.
#[test]
fn diff_reads_declared_fields_when_both_sides_declare_them() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let data = write(dir.path(), "listings.csv", LISTINGS);
    let rules = write(
        dir.path(),
        "mig.rule",
        "field mig_instances: int from mig_capable\n\
         rule many_mig: bool = mig_instances >= cfg.min_vram_gb / 8\n",
    );
    let (code, stdout, stderr) = run(
        dir.path(),
        &[
            "diff",
            &rules,
            &data,
            "--to-set",
            "min_vram_gb=64",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("many_mig"), "{stdout}");

    let other = write(
        dir.path(),
        "other.rule",
        "field mig_n: int from mig_capable\nrule many_mig: bool = mig_n >= 4\n",
    );
    let (code, _, stderr) = run(dir.path(), &["diff", &rules, &data, "--to-rules", &other]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("declare different fields"), "{stderr}");

    let (code, _, stderr) = run(dir.path(), &["diff", &rules]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("the DATA file is missing: `diff`"),
        "{stderr}"
    );
}

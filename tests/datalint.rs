//! `lint --data` (W501-W505: what the data says about the rules) and lint's
//! CI formats: SARIF 2.1.0 (validated against the vendored schema), GitHub
//! workflow commands, and `--statistics`.

use crate::support::{glyphsieve, root};
use serde_json::Value;
use std::path::Path;

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Out {
    let out = glyphsieve().args(args).output().expect("runs");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a temporary file");
    path.display().to_string()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn codes(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("an array")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The shipped rules on the example listings: the one threshold the data
/// does not reach (no card under 16 GB) is found, and nothing else.
#[test]
fn lint_data_on_the_shipped_rules_finds_the_16_gb_threshold_no_row_is_under() {
    let out = run(&[
        "lint",
        "rules/",
        "--data",
        "examples/listings.csv",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let items = json(&out.stdout);
    assert_eq!(codes(&items), ["W504"]);
    assert_eq!(
        items[0]["message"],
        "`vram_gb < 16` is never true on the data: `vram_gb` ranges from 16 to 192 (40 rows with a value)"
    );
    assert_eq!(items[0]["file"], "rules/power.rule");
    let human = run(&["lint", "rules/", "--data", "examples/listings.csv"]);
    assert!(
        human.stdout.ends_with(
            "data: 41 rows of examples/listings.csv\n4 files, 8 rules: 0 errors, 1 warning\n"
        ),
        "{}",
        human.stdout
    );
    let denied = run(&[
        "lint",
        "rules/",
        "--data",
        "examples/listings.csv",
        "--deny",
        "warnings",
    ]);
    assert_eq!(denied.code, Some(1), "--deny warnings fails on a data lint");
}

/// `condition == "new"` where the data says `New` passed lint silently.
/// Now it is W502 with a fix that, applied, leaves a file that lints clean
/// against the same data.
#[test]
fn lowercase_literal_where_the_data_is_capitalised_is_w502_with_a_fix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = write(
        dir.path(),
        "fresh.rule",
        "rule fresh: bool = condition in [\"new\", \"Used\"] or vram_gb >= 48\n",
    );
    let data = write(
        dir.path(),
        "l.csv",
        "model,condition,vram_gb\nH100,New,80\nA30, new ,24\nL4,New,24\nT4,Refurbished,16\n",
    );
    let out = run(&["lint", &rules, "--data", &data, "--format", "json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let items = json(&out.stdout);
    assert_eq!(codes(&items), ["W502"]);
    let d = &items[0];
    assert_eq!(
        d["message"],
        "\"new\" never occurs in field `condition`, but `New` does (2 rows, and 1 more in other spellings)"
    );
    assert_eq!(d["fix"]["replacement"], "\"New\"");
    assert_eq!(
        (&d["fix"]["column"], &d["fix"]["end_column"]),
        (&34.into(), &39.into())
    );
    let text = std::fs::read_to_string(&rules).expect("read");
    let fixed = text.replacen("\"new\"", "\"New\"", 1);
    std::fs::write(&rules, fixed).expect("write");
    let after = run(&["lint", &rules, "--data", &data, "--format", "json"]);
    assert_eq!(codes(&json(&after.stdout)), Vec::<String>::new());
}

/// The layers apply: a `--set` that moves a threshold past the data is
/// found, and the message says the value the config gives.
#[test]
fn threshold_set_past_the_data_by_set_is_w504_naming_the_config_value() {
    let out = run(&[
        "lint",
        "rules/quantization_capable.rule",
        "--set",
        "min_vram_gb=2000",
        "--data",
        "examples/listings.csv",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let items = json(&out.stdout);
    assert_eq!(codes(&items), ["W501", "W504"], "{items:#}");
    assert_eq!(
        items[0]["message"],
        "rule `quantization_capable` is `false` on every row of the data (41 rows)"
    );
    assert_eq!(
        items[1]["message"],
        "`vram_gb >= cfg.min_vram_gb` (>= 2000) is never true on the data: `vram_gb` ranges from 16 to 192 (40 rows with a value)"
    );
}

/// A `--schema` file's own null marker that no cell holds: W505 points
/// into the schema file.
#[test]
fn schema_file_null_marker_that_never_occurs_is_w505_in_the_schema_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = write(
        dir.path(),
        "s.yaml",
        "fields:\n  stock:\n    type: int\n    columns: [In stock]\n    nulls: [\"\", \"unknown\", \"-\"]\n",
    );
    let rules = write(dir.path(), "s.rule", "rule scarce: bool = stock < 5\n");
    let data = write(
        dir.path(),
        "s.csv",
        "model,In stock\nH100,3\nA30,-\nL4,10\n",
    );
    let out = run(&[
        "lint", &rules, "--schema", &schema, "--data", &data, "--format", "json",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let items = json(&out.stdout);
    assert_eq!(codes(&items), ["W505"], "`-` occurs; `unknown` does not");
    assert_eq!(items[0]["file"], schema.as_str());
    assert_eq!(
        (&items[0]["line"], &items[0]["column"]),
        (&5.into(), &17.into())
    );
}

#[test]
fn lint_data_reads_stdin() {
    let out = glyphsieve()
        .args([
            "lint",
            "tests/fixtures/lint/w504_threshold_out_of_range.rule",
            "--data",
            "-",
        ])
        .write_stdin("model,condition,vram_gb\nH100,New,80\nA30,Used,24\n")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("W504(threshold-out-of-range)"), "{stdout}");
    assert!(stdout.contains("data: 2 rows of <stdin>\n"), "{stdout}");
}

#[test]
fn lint_data_file_that_cannot_be_read_exits_2() {
    let out = run(&["lint", "rules/", "--data", "tests/fixtures/no_such.csv"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("error: cannot read tests/fixtures/no_such.csv:"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn lint_data_with_a_ragged_row_is_a_located_error_exit_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = write(dir.path(), "r.csv", "model,condition,vram_gb\nH100,New\n");
    let out = run(&[
        "lint",
        "tests/fixtures/lint/w504_threshold_out_of_range.rule",
        "--data",
        &data,
    ]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains(":2: the record has 2 fields, but the header has 3"),
        "{}",
        out.stderr
    );
}

/// Errors in the rules: they are reported, and the data is not read.
#[test]
fn lint_data_with_rule_errors_reports_them_and_does_not_read_the_data() {
    let out = run(&[
        "lint",
        "tests/fixtures/lint/e101_unknown_name.rule",
        "--data",
        "tests/fixtures/no_such.csv",
    ]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("data: tests/fixtures/no_such.csv not read: the rules have errors\n"),
        "{}",
        out.stdout
    );
}

/// The examples of docs/language.md's `lint --data` section: each
/// ```rule,data=CODE block with the ```csv block after it gives CODE, with
/// the message (and help) of the ```text block that follows.
#[test]
fn language_doc_data_lint_examples_give_their_message() {
    let doc = std::fs::read_to_string(root().join("docs/language.md")).expect("docs");
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in doc.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_string(), String::new())),
            (Some(_), Some("")) => blocks.extend(open.take()),
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut seen = Vec::new();
    for (i, (info, body)) in blocks.iter().enumerate() {
        let Some(code) = info.strip_prefix("rule,data=") else {
            continue;
        };
        let (csv, shown) = match (blocks.get(i + 1), blocks.get(i + 2)) {
            (Some((c, csv)), Some((t, shown))) if c == "csv" && t == "text" => (csv, shown),
            _ => panic!("{code}: a ```csv then a ```text block follow the example"),
        };
        let rules = write(dir.path(), &format!("{code}.rule"), body);
        let data = write(dir.path(), &format!("{code}.csv"), csv);
        let out = run(&["lint", &rules, "--data", &data, "--format", "json"]);
        let items = json(&out.stdout);
        assert_eq!(codes(&items), [code], "{code}: {items:#}");
        let lines: Vec<&str> = shown.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            lines[0],
            format!("{code}({})", items[0]["name"].as_str().unwrap_or(""))
        );
        assert_eq!(
            Some(items[0]["message"].as_str().unwrap_or("")),
            lines[1].strip_prefix("  ⚠ ")
        );
        if let Some(help) = lines.iter().find_map(|l| l.strip_prefix("  help: ")) {
            assert_eq!(items[0]["help"], help, "{code}");
        }
        seen.push(code.to_string());
    }
    assert_eq!(seen, ["W501", "W502", "W503", "W504", "W505"]);
}

/// `--format sarif` is one SARIF 2.1.0 log, valid against the OASIS JSON
/// schema (vendored: tests/fixtures/sarif-schema-2.1.0.json), with every
/// code as a rule and each diagnostic a result at its place.
#[test]
fn lint_sarif_output_is_valid_sarif_2_1_0_with_places_and_fixes() {
    let schema = json(
        &std::fs::read_to_string(root().join("tests/fixtures/sarif-schema-2.1.0.json"))
            .expect("the vendored schema"),
    );
    let validator = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles");
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = write(
        dir.path(),
        "two words.rule",
        "rule fresh: bool = condition == \"new\" or vram_gb >= 48\nlet unused = 1 / 0\n",
    );
    let data = write(
        dir.path(),
        "l.csv",
        "model,condition,vram_gb\nH100,New,80\nA30,Used,24\n",
    );
    for args in [
        vec!["lint", "rules/", "--format", "sarif"],
        vec!["lint", &rules, "--data", &data, "--format", "sarif"],
        vec![
            "lint",
            "tests/fixtures/lint/e302_cycle.rule",
            "--format",
            "sarif",
        ],
    ] {
        let out = run(&args);
        let log = json(&out.stdout);
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{args:?}: {errors:#?}\n{log:#}");
        assert_eq!(log["version"], "2.1.0");
        assert_eq!(log["runs"].as_array().map(Vec::len), Some(1));
        let driver = &log["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], "glyphsieve");
        let ids: Vec<&str> = driver["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .filter_map(|r| r["id"].as_str())
            .collect();
        for code in glyphsieve::diagnostic::CODES {
            assert!(ids.contains(&code.id), "{} is a rule", code.id);
        }
    }
    let out = run(&["lint", &rules, "--data", &data, "--format", "sarif"]);
    assert_eq!(out.code, Some(0), "warnings only");
    let log = json(&out.stdout);
    let results = log["runs"][0]["results"].as_array().expect("results");
    let ids: Vec<&str> = results
        .iter()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    assert_eq!(ids, ["W502", "W403", "W401"]);
    let w502 = &results[0];
    let place = &w502["locations"][0]["physicalLocation"];
    assert!(
        place["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("/two%20words.rule")),
        "{place}"
    );
    assert_eq!(
        place["region"],
        serde_json::json!({"startLine": 1, "startColumn": 33, "endLine": 1, "endColumn": 38})
    );
    assert_eq!(w502["level"], "warning");
    let rule = &log["runs"][0]["tool"]["driver"]["rules"]
        [w502["ruleIndex"].as_u64().unwrap_or(0) as usize];
    assert_eq!(rule["id"], "W502");
    assert_eq!(rule["name"], "literal-not-in-data");
    assert!(rule["help"]["text"].as_str().is_some_and(|h| !h.is_empty()));
    assert_eq!(
        w502["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"],
        "\"New\""
    );
}

/// `--format github`: one workflow command per diagnostic, warnings as
/// `::warning`, errors as `::error`, with the span and the code as title;
/// `%`, `,`, `:` and line breaks escaped as the runner wants.
#[test]
fn lint_github_format_writes_one_workflow_command_per_diagnostic() {
    let out = run(&[
        "lint",
        "tests/fixtures/lint/w504_threshold_out_of_range.rule",
        "--data",
        "tests/fixtures/lint/w504_threshold_out_of_range.csv",
        "--format",
        "github",
    ]);
    assert_eq!(out.code, Some(0));
    assert_eq!(
        out.stdout,
        "::warning file=tests/fixtures/lint/w504_threshold_out_of_range.rule,line=2,col=19,endLine=2,endColumn=34,title=W504::W504 `vram_gb >= 2000` is never true on the data: `vram_gb` ranges from 24 to 80 (2 rows with a value)%0Ahelp: the threshold is outside the data's range (24 to 80): check its value and unit\n"
    );
    let err = run(&[
        "lint",
        "tests/fixtures/lint/e101_unknown_name.rule",
        "--format",
        "github",
    ]);
    assert_eq!(err.code, Some(1));
    assert!(
        err.stdout
            .starts_with("::error file=tests/fixtures/lint/e101_unknown_name.rule,line="),
        "{}",
        err.stdout
    );
    assert!(
        err.stdout.contains(",title=E101::E101 unknown name"),
        "{}",
        err.stdout
    );
}

/// `--statistics`: counts per code, most first, like ruff's.
#[test]
fn lint_statistics_counts_diagnostics_per_code() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = write(
        dir.path(),
        "s.rule",
        "let a = 1\nlet b = 2\nrule r: float = price / 0\nrule s: bool = vram_gbb > 1\n",
    );
    let out = run(&["lint", &rules, "--statistics"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stdout,
        "2  W403  unused-let\n1  E101  unknown-name\n1  W401  division-by-zero\n1 file, 2 rules: 1 error, 3 warnings\n"
    );
    let j = run(&["lint", &rules, "--statistics", "--format", "json"]);
    assert_eq!(
        json(&j.stdout)[0],
        serde_json::json!({"code": "W403", "name": "unused-let", "count": 2})
    );
    let bad = run(&["lint", &rules, "--statistics", "--format", "sarif"]);
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("--statistics"), "{}", bad.stderr);
}

/// Only the fields the rules read are parsed, as `eval` parses them: a
/// let no rule uses may read a column the data does not have.
#[test]
fn let_no_rule_uses_may_read_a_column_the_data_lacks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = write(
        dir.path(),
        "u.rule",
        "field shipping: float from ship\nlet spare = shipping > 1\nrule big: bool = vram_gb >= 48\n",
    );
    let out = run(&[
        "lint",
        &rules,
        "--data",
        "examples/listings.csv",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(codes(&json(&out.stdout)), ["W403"]);
}

/// `contains(model, "sxm")` where the data writes `SXM`: W502 too, with
/// the spelling found in the cells.
#[test]
fn contains_with_a_lowercase_part_the_data_capitalises_is_w502() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = write(
        dir.path(),
        "c.rule",
        "rule sxm: bool = contains(model, \"sxm\") or vram_gb >= 48\n\
         rule amd: bool = starts_with(model, \"AMD\") or vram_gb >= 48\n",
    );
    let out = run(&[
        "lint",
        &rules,
        "--data",
        "examples/listings.csv",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let items = json(&out.stdout);
    assert_eq!(codes(&items), ["W502"], "`AMD` occurs as written");
    assert_eq!(
        items[0]["message"],
        "\"sxm\" never occurs in field `model` (as a part of a value), but `SXM` does (4 rows)"
    );
    assert_eq!(items[0]["fix"]["replacement"], "\"SXM\"");
}

/// A threshold every row with a value passes: W504 says it is true on
/// every such row (the rule still varies through its other operand).
#[test]
fn threshold_every_row_passes_is_w504_always_true() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = write(
        dir.path(),
        "t.rule",
        "rule fits: bool = slots <= 8 and condition == \"New\"\n",
    );
    let out = run(&[
        "lint",
        &rules,
        "--data",
        "examples/listings.csv",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let items = json(&out.stdout);
    assert_eq!(codes(&items), ["W504"]);
    let message = items[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(
            "`slots <= 8` is true on every row with a value on the data: `slots` ranges from 0 to "
        ),
        "{message}"
    );
}

//! `glyphsieve diff` (issue 9, item 6): the same data under two rule sets or
//! two configs; the counts, the from→to tables, the changed rows (`-o`), the
//! JSON form, one-sided rules, and bad input.

use crate::support::{glyphsieve, read, rules_with};
use glyphsieve::config::QuantizationConfig;
use glyphsieve::eval::{Row, Value};
use glyphsieve::heuristic::Heuristic;
use glyphsieve::schema::Schema;
use std::path::Path;

const RULES: &str = "tests/fixtures/diff/rules";
const CARDS: &str = "tests/fixtures/diff/cards.csv";

/// (exit code, stdout, stderr) of `glyphsieve diff ARGS`.
fn diff(args: &[&str]) -> (Option<i32>, String, String) {
    let out = glyphsieve().arg("diff").args(args).output().expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, stdout, stderr) = diff(&all);
    assert_eq!(code, Some(0), "{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// The rule named `name` in a JSON report's `rules`.
fn rule<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["rule"] == name)
        .unwrap_or_else(|| panic!("no rule {name} in {report}"))
}

#[test]
fn diff_reports_rows_changed_and_a_from_to_table_per_rule() {
    let (code, stdout, stderr) = diff(&[RULES, CARDS, "--to-set", "min_vram_gb=48"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stderr, "");
    assert_eq!(
        stdout,
        "\
diff: 5 rows read, 4 changed
  before: tests/fixtures/diff/rules
  after:  tests/fixtures/diff/rules --set min_vram_gb=48

roomy (bool): 2 rows changed
  before  true 4, false 0, missing 1
  after   true 2, false 2, missing 1
  true -> false  2

tier (enum): 2 rows changed
  before  small 0, big 4, missing 1
  after   small 2, big 2, missing 1
  big -> small  2

spare_gb (float): 4 rows changed
  before  number 4, missing 1
  after   number 4, missing 1
  number -> lower number  4

unchanged: per_gb
"
    );
}

#[test]
fn diff_of_the_shipped_rules_with_a_higher_vram_threshold_counts_the_flags_lost() {
    let (code, stdout, stderr) = diff(&[
        "rules/",
        "examples/listings.csv",
        "--to-set",
        "min_vram_gb=48",
        "--only",
        "quantization_capable",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "\
diff: 41 rows read, 4 changed
  before: rules/
  after:  rules/ --set min_vram_gb=48

quantization_capable (bool): 4 rows changed
  before  true 7, false 34, missing 0
  after   true 3, false 38, missing 0
  true -> false  4
"
    );
}

#[test]
fn diff_with_output_writes_only_the_changed_rows_with_before_and_after_columns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("changed.csv");
    let out_s = out.to_string_lossy().into_owned();
    let (code, stdout, stderr) = diff(&[RULES, CARDS, "--to-set", "min_vram_gb=48", "-o", &out_s]);
    assert_eq!(code, Some(0), "{stderr}");
    // The report still goes to stdout.
    assert!(
        stdout.starts_with("diff: 5 rows read, 4 changed\n"),
        "{stdout}"
    );
    assert_eq!(
        read(&out),
        "\
model,vram_gb,tdp_watts,price,roomy.before,roomy.after,tier.before,tier.after,spare_gb.before,spare_gb.after,per_gb.before,per_gb.after
A,80,300,19999,true,true,big,big,56,32,249.99,249.99
B,40,250,8000,true,false,big,small,16,-8,200,200
C,24,150,1500,true,false,big,small,0,-24,62.5,62.5
E,48,450,12000,true,true,big,big,24,0,250,250
"
    );
    // `--only` keeps the columns (and the rows) of the rules named.
    let (code, _, stderr) = diff(&[
        RULES,
        CARDS,
        "--to-set",
        "min_vram_gb=48",
        "--only",
        "tier",
        "-o",
        &out_s,
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        read(&out),
        "model,vram_gb,tdp_watts,price,tier.before,tier.after\n\
         B,40,250,8000,big,small\nC,24,150,1500,big,small\n"
    );
}

#[test]
fn diff_with_output_to_stdout_puts_the_report_on_stderr() {
    let (code, stdout, stderr) = diff(&[
        RULES,
        CARDS,
        "--to-set",
        "min_vram_gb=48",
        "--only",
        "roomy",
        "-o",
        "-",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "model,vram_gb,tdp_watts,price,roomy.before,roomy.after\n\
         B,40,250,8000,true,false\nC,24,150,1500,true,false\n"
    );
    assert!(
        stderr.starts_with("diff: 5 rows read, 2 changed\n"),
        "{stderr}"
    );
}

#[test]
fn diff_json_has_each_sides_counts_and_the_whole_table() {
    let report = json(&[RULES, CARDS, "--to-set", "min_vram_gb=48"]);
    assert_eq!(report["rows_read"], 5);
    assert_eq!(report["rows_changed"], 4);
    assert_eq!(
        report["after"],
        "tests/fixtures/diff/rules --set min_vram_gb=48"
    );
    let roomy = rule(&report, "roomy");
    assert_eq!(roomy["changed"], 2);
    assert_eq!(
        roomy["type"],
        serde_json::json!({"before": "bool", "after": "bool"})
    );
    assert_eq!(
        roomy["before"],
        serde_json::json!({"true": 4, "false": 0, "missing": 1})
    );
    assert_eq!(
        roomy["after"],
        serde_json::json!({"true": 2, "false": 2, "missing": 1})
    );
    // Every (from, to) with rows, unchanged ones too: the margins are the counts.
    assert_eq!(
        roomy["table"],
        serde_json::json!([
            {"from": "true", "to": "true", "rows": 2},
            {"from": "true", "to": "false", "rows": 2},
            {"from": "missing", "to": "missing", "rows": 1},
        ])
    );
    let spare = rule(&report, "spare_gb");
    assert_eq!(
        (&spare["changed"], &spare["lower"], &spare["higher"]),
        (&4.into(), &4.into(), &0.into())
    );
    assert_eq!(rule(&report, "per_gb")["changed"], 0);
    assert_eq!(report["added"], serde_json::json!([]));
    assert_eq!(report["removed"], serde_json::json!([]));
}

#[test]
fn diff_with_to_config_reads_another_config_on_the_after_side_and_to_set_wins() {
    let report = json(&[
        RULES,
        CARDS,
        "--to-config",
        "tests/fixtures/diff/big48.yaml",
    ]);
    assert_eq!(rule(&report, "roomy")["after"]["true"], 2);
    assert_eq!(
        report["after"],
        "tests/fixtures/diff/rules --config tests/fixtures/diff/big48.yaml"
    );
    // `--set` is on both sides; a `--to-set` after it wins on the after side.
    let report = json(&[
        RULES,
        CARDS,
        "--set",
        "min_vram_gb=30",
        "--to-set",
        "min_vram_gb=80",
    ]);
    let roomy = rule(&report, "roomy");
    assert_eq!(roomy["before"]["true"], 3);
    assert_eq!(roomy["after"]["true"], 1);
    // The same rules and config on both sides: nothing changes.
    let (code, stdout, _) = diff(&[RULES, CARDS]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("\nunchanged: roomy, tier, spare_gb, per_gb\n"),
        "{stdout}"
    );
    assert!(
        stdout.starts_with("diff: 5 rows read, 0 changed\n"),
        "{stdout}"
    );
}

#[test]
fn diff_against_a_changed_copy_of_the_rules_reports_added_and_removed_rules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("rules");
    std::fs::create_dir(&copy).expect("mkdir");
    let text = read(Path::new(RULES).join("cards.rule").as_path());
    // `roomy` gets a fixed threshold, `per_gb` goes, `cheap` comes.
    let changed = text
        .replace(
            "rule roomy: bool = vram_gb >= cfg.min_vram_gb",
            "rule roomy: bool = vram_gb >= 48",
        )
        .replace(
            "rule per_gb: float = round(price / vram_gb, 2)",
            "rule cheap: bool = price < 5000",
        );
    std::fs::write(copy.join("cards.rule"), changed).expect("write the copy");
    let copy_s = copy.to_string_lossy().into_owned();
    let (code, stdout, stderr) = diff(&[RULES, CARDS, "--to-rules", &copy_s]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("\nroomy (bool): 2 rows changed\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\nunchanged: tier, spare_gb\n"), "{stdout}");
    assert!(
        stdout.contains("\nonly before (removed): per_gb (float)  number 4, missing 1\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nonly after (added): cheap (bool)  true 2, false 3, missing 0\n"),
        "{stdout}"
    );
    let report = json(&[RULES, CARDS, "--to-rules", &copy_s]);
    assert_eq!(report["removed"][0]["rule"], "per_gb");
    assert_eq!(
        report["added"][0],
        serde_json::json!({"rule": "cheap", "type": "bool", "counts": {"true": 2, "false": 3, "missing": 0}})
    );
    // A one-sided rule has no columns in the changed rows.
    let out = dir.path().join("changed.csv");
    let out_s = out.to_string_lossy().into_owned();
    let (code, _, stderr) = diff(&[RULES, CARDS, "--to-rules", &copy_s, "-o", &out_s]);
    assert_eq!(code, Some(0), "{stderr}");
    let header = read(&out).lines().next().unwrap_or_default().to_string();
    assert_eq!(
        header,
        "model,vram_gb,tdp_watts,price,roomy.before,roomy.after,tier.before,tier.after,spare_gb.before,spare_gb.after"
    );
}

#[test]
fn diff_with_a_bad_to_set_is_a_bad_argument_naming_the_to_set() {
    for (set, says) in [
        (
            "min_vram_gb=lots",
            "--to-set min_vram_gb=lots: config key `min_vram_gb` expects a float",
        ),
        ("min_vram_gb", "--to-set min_vram_gb"),
    ] {
        let (code, stdout, stderr) = diff(&[RULES, CARDS, "--to-set", set]);
        assert_eq!(code, Some(2), "{set}: {stderr}");
        assert_eq!(stdout, "", "{set}");
        assert!(stderr.contains(says), "{set}: {stderr}");
    }
    // A key no layer has is added (issue 10), with a warning when no rule
    // reads it.
    let (code, _, stderr) = diff(&[RULES, CARDS, "--to-set", "min_vram=48"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("did you mean `min_vram_gb`"), "{stderr}");
}

#[test]
fn diff_with_errors_in_the_after_rules_renders_them_and_names_the_side() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.rule");
    std::fs::write(&bad, "rule roomy: bool = vram_gb >= \"lots\"\n").expect("write");
    let bad_s = bad.to_string_lossy().into_owned();
    let (code, stdout, stderr) = diff(&[RULES, CARDS, "--to-rules", &bad_s]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("E201"), "{stderr}");
    assert!(stderr.contains("bad.rule:1:"), "{stderr}");
    assert!(
        stderr.contains("error: 1 error in the rules of the after side; nothing was compared"),
        "{stderr}"
    );
    // A missing --to-rules path could not be read (exit 2).
    let gone = dir.path().join("gone.rule").to_string_lossy().into_owned();
    let (code, _, stderr) = diff(&[RULES, CARDS, "--to-rules", &gone]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("gone.rule"), "{stderr}");
}

#[test]
fn diff_overflow_on_the_after_side_points_into_the_after_rules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let after = dir.path().join("after.rule");
    std::fs::write(
        &after,
        "# a comment line first, so the place differs from RULES'\nrule roomy: bool = price * 1e306 > 1.0\n",
    )
    .expect("write");
    let after_s = after.to_string_lossy().into_owned();
    let (code, stdout, stderr) = diff(&[RULES, CARDS, "--to-rules", &after_s]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("(the after side)"), "{stderr}");
    assert!(stderr.contains("after.rule:2:20"), "{stderr}");
    assert!(stderr.contains("cards.csv:2"), "{stderr}");
}

#[test]
fn diff_only_with_an_unknown_rule_is_a_bad_argument() {
    let (code, _, stderr) = diff(&[RULES, CARDS, "--only", "romy"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--only: no rule named `romy` on either side; did you mean `roomy`?"),
        "{stderr}"
    );
}

#[test]
fn diff_counts_do_not_depend_on_threads() {
    let args = [
        "rules/",
        "examples/listings.csv",
        "--set",
        "overhead_gb=1",
        "--to-set",
        "min_vram_gb=40",
    ];
    let one = json(&[&args[..], &["--threads", "1"]].concat());
    let three = json(&[&args[..], &["--threads", "3"]].concat());
    assert_eq!(one, three);
}

/// The diff's counts are those of two `eval` runs compared row by row:
/// each side's counts, the rows changed, and the rows `-o` writes.
#[test]
fn diff_agrees_with_two_eval_runs_compared_row_by_row() {
    let dir = tempfile::tempdir().expect("temp dir");
    for to in [
        "min_vram_gb=16",
        "min_vram_gb=48",
        "max_tdp_watts=400",
        "require_mig=false",
    ] {
        let eval = |extra: &[&str]| -> Vec<Vec<String>> {
            let out = glyphsieve()
                .args(["eval", "rules/", "examples/listings.csv"])
                .args(extra)
                .output()
                .expect("runs");
            assert_eq!(out.status.code(), Some(0));
            let mut r = csv::Reader::from_reader(&out.stdout[..]);
            r.records()
                .map(|x| x.expect("csv").iter().map(str::to_string).collect())
                .collect()
        };
        let before = eval(&[]);
        let after = eval(&["--set", to]);
        let rules = 8; // the output columns of rules/, after 14 input columns
        let input = before[0].len() - rules;
        let changed: Vec<usize> = (0..before.len())
            .filter(|&k| before[k][input..] != after[k][input..])
            .collect();
        let out = dir.path().join("changed.csv");
        let out_s = out.to_string_lossy().into_owned();
        let report = json(&[
            "rules/",
            "examples/listings.csv",
            "--to-set",
            to,
            "-o",
            &out_s,
        ]);
        assert_eq!(report["rows_changed"], changed.len(), "{to}");
        let q = rule(&report, "quantization_capable");
        let count =
            |rows: &[Vec<String>], v: &str| rows.iter().filter(|r| r[input + 7] == v).count();
        assert_eq!(q["before"]["true"], count(&before, "true"), "{to}");
        assert_eq!(q["after"]["true"], count(&after, "true"), "{to}");
        let flipped = (0..before.len())
            .filter(|&k| before[k][input + 7] != after[k][input + 7])
            .count();
        assert_eq!(q["changed"], flipped, "{to}");
        // The rows written are the changed rows, in order, with both values.
        let mut r = csv::Reader::from_path(&out).expect("the changed rows");
        let written: Vec<Vec<String>> = r
            .records()
            .map(|x| x.expect("csv").iter().map(str::to_string).collect())
            .collect();
        assert_eq!(written.len(), changed.len(), "{to}");
        for (w, &k) in written.iter().zip(&changed) {
            assert_eq!(w[..input], before[k][..input], "{to}");
            for c in 0..rules {
                assert_eq!(w[input + 2 * c], before[k][input + c], "{to}");
                assert_eq!(w[input + 2 * c + 1], after[k][input + c], "{to}");
            }
        }
    }
}

/// Two programs evaluated on one row keep their own results (the row's
/// scratch space parks one while the other runs), and both forget them
/// when the row changes.
#[test]
fn two_rule_sets_evaluated_alternately_on_one_row_each_get_their_own_values() {
    let text = "rule roomy: bool = vram_gb >= cfg.min_vram_gb\n";
    let low = rules_with(text, &QuantizationConfig::default().to_config());
    let mut high = QuantizationConfig::default().to_config();
    high.set("min_vram_gb=48").expect("set");
    let high = rules_with(text, &high);
    let (lo, hi) = (low.heuristics(), high.heuristics());
    let mut row = Row::new(Schema::listing());
    row.set("vram_gb", 40.0).expect("set");
    for _ in 0..3 {
        assert_eq!(lo[0].evaluate(&row), Ok(Value::Bool(true)));
        assert_eq!(hi[0].evaluate(&row), Ok(Value::Bool(false)));
    }
    row.set("vram_gb", 50.0).expect("set");
    assert_eq!(hi[0].evaluate(&row), Ok(Value::Bool(true)));
    assert_eq!(lo[0].evaluate(&row), Ok(Value::Bool(true)));
    row.set("vram_gb", 20.0).expect("set");
    assert_eq!(lo[0].evaluate(&row), Ok(Value::Bool(false)));
    assert_eq!(hi[0].evaluate(&row), Ok(Value::Bool(false)));
}

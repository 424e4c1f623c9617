//! The per-rule summary `eval` prints on stderr (`--summary`, `--quiet`, `--summary-format json`).

use crate::support::glyphsieve;
use std::collections::BTreeMap;

const LISTINGS_SUMMARY: &str = "\
summary: 41 rows read, 41 written
  capacity_7b           min 4, p10 ~5, p50 ~11, p90 ~27, max 54, missing 1
  capacity_13b          min 2, p10 ~2, p50 ~5, p90 ~15, max 29, missing 1
  capacity_70b          min 0, p10 ~0, p50 ~1, p90 ~2, max 5, missing 1
  power_class           low 4, mid 18, high 18, missing 1
  rack_friendly         true 22, false 18, missing 1
  underpowered          true 2, false 38, missing 1
  price_per_gb_vram     min 20.3125, p10 ~68, p50 ~136, p90 ~272, max 412.5, missing 1
  quantization_capable  true 7, false 34, missing 0
";

fn stderr_of(args: &[&str]) -> String {
    let out = glyphsieve().args(args).assert().success();
    String::from_utf8(out.get_output().stderr.clone()).expect("utf-8 stderr")
}

#[test]
fn eval_summary_counts_each_value_of_each_rule() {
    let err = stderr_of(&["eval", "rules/", "examples/listings.csv", "--summary"]);
    assert_eq!(err, LISTINGS_SUMMARY);
}

#[test]
fn eval_without_a_terminal_prints_no_summary_unless_asked() {
    assert_eq!(stderr_of(&["eval", "rules/", "examples/listings.csv"]), "");
    assert_eq!(
        stderr_of(&["eval", "rules/", "examples/listings.csv", "--quiet"]),
        ""
    );
    glyphsieve()
        .args([
            "eval",
            "rules/",
            "examples/listings.csv",
            "--quiet",
            "--summary",
        ])
        .assert()
        .code(2);
}

#[test]
fn eval_summary_json_counts_equal_the_written_cells() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out.csv");
    let out_s = out.to_str().expect("utf-8 path");
    let err = stderr_of(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--only",
        "power_class,quantization_capable",
        "--summary-format",
        "json",
        "-o",
        out_s,
    ]);
    let j: serde_json::Value = serde_json::from_str(err.trim()).expect("one JSON object");
    // The two added cells end each record and are never quoted.
    let text = std::fs::read_to_string(&out).expect("output written");
    let mut counted: [BTreeMap<String, u64>; 2] = Default::default();
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let mut cells = line.rsplit(',');
        let quant = cells.next().expect("quantization cell");
        let power = cells.next().expect("power cell");
        let key = |c: &str| if c.is_empty() { "missing" } else { c }.to_string();
        *counted[0].entry(key(power)).or_default() += 1;
        *counted[1].entry(key(quant)).or_default() += 1;
        rows += 1;
    }
    assert_eq!(j["rows_read"], rows);
    assert_eq!(j["rows_written"], rows);
    for (k, rule) in j["rules"].as_array().expect("rules").iter().enumerate() {
        let mut want = counted[k].clone();
        let missing = want.remove("missing").unwrap_or(0);
        assert_eq!(rule["missing"], missing, "{rule}");
        for (label, n) in rule["counts"].as_object().expect("counts") {
            assert_eq!(*n, want.remove(label).unwrap_or(0), "{label} in {rule}");
        }
        assert!(want.is_empty(), "values not in the summary: {want:?}");
    }
}

#[test]
fn rule_with_one_value_on_every_row_gets_a_note() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = dir.path().join("never.rule");
    std::fs::write(&rule, "rule never: bool default false = vram_gb > 100000\n")
        .expect("rule written");
    let err = stderr_of(&[
        "eval",
        rule.to_str().expect("utf-8 path"),
        "examples/listings.csv",
        "--summary",
    ]);
    assert!(
        err.contains("note: never is `false` on every row\n"),
        "{err}"
    );
}

#[test]
fn rule_missing_on_every_row_gets_a_note() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = dir.path().join("absent.rule");
    // Division by zero is missing (W401 warns, the run goes on).
    std::fs::write(&rule, "rule absent: float = price / 0\n").expect("rule written");
    let err = stderr_of(&[
        "eval",
        rule.to_str().expect("utf-8 path"),
        "examples/listings.csv",
        "--summary",
    ]);
    assert!(
        err.contains("note: absent is missing on every row\n"),
        "{err}"
    );
}

#[test]
fn eval_summary_is_the_same_whatever_the_threads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("big.csv");
    let listings = std::fs::read_to_string(crate::support::root().join("examples/listings.csv"))
        .expect("listings");
    let (header, body) = listings.split_once('\n').expect("a header");
    let mut big = format!("{header}\n");
    // About 1.5 MB: several 256 KiB batches, so several workers' tallies merge.
    for _ in 0..250 {
        big.push_str(body);
    }
    std::fs::write(&data, big).expect("data written");
    let d = data.to_str().expect("utf-8 path");
    let run = |threads: &str| {
        stderr_of(&[
            "eval",
            "rules/",
            d,
            "--summary-format",
            "json",
            "--threads",
            threads,
        ])
    };
    let one = run("1");
    assert_eq!(one, run("4"));
    let j: serde_json::Value = serde_json::from_str(one.trim()).expect("JSON");
    assert_eq!(j["rows_read"], 41 * 250);
}

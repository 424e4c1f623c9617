//! The batch path (compiled rules evaluated a chunk of rows at a time)
//! against the row path (`GLYPHSIEVE_ROW_AT_A_TIME`): on generated rules
//! and rows, through the binary, the output bytes, the summary, the exit
//! code and any runtime error (named at its line) are the same.

use crate::properties::reference::{Fields, Program};
use crate::properties::{cases, fields, fields_csv, program};
use proptest::prelude::*;
use std::path::Path;

/// `text` with the let `k` and the rule `out` renamed `k{n}` and `out{n}`,
/// so several generated programs live in one rule file.
fn renamed(text: &str, n: usize) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match word.as_str() {
            "k" | "out" => out.push_str(&format!("{word}{n}")),
            _ => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The generated programs in one file, the first one's rule once more,
/// and a rule reading all of them (items read by other items, and `if`
/// over their results).
fn rule_file(programs: &[Program]) -> String {
    let mut text: String = programs
        .iter()
        .enumerate()
        .map(|(n, p)| renamed(&p.text(), n))
        .collect();
    // The first rule again under another name: the batch path computes the
    // expressions the two share once (a hidden let), the row path twice.
    if let Some(first) = programs.first() {
        let again = renamed(&first.text(), 0);
        let rule = again.split_once('\n').map_or("", |(_let, rule)| rule);
        text.push_str(&rule.replacen("rule out0:", "rule again0:", 1));
    }
    let counts: Vec<String> = (0..programs.len())
        .map(|n| format!("(if is_missing(out{n}) then 1 else 0)"))
        .collect();
    text.push_str(&format!(
        "rule missing_count: int = {}\n",
        counts.join(" + ")
    ));
    text
}

const FILTERS: [&[&str]; 4] = [
    &[],
    &["--where", "not is_missing(out0)"],
    &[
        "--where",
        "cuda_cores % 3 != 0",
        "--where",
        "missing_count < 2",
    ],
    &["--where", "is_missing(vram_gb) or vram_gb > 0"],
];

/// Run `eval` both ways; (exit code, stdout, stderr) of each.
fn both_ways(rule: &Path, data: &Path, extra: &[&str]) -> [(Option<i32>, String, String); 2] {
    [false, true].map(|row_at_a_time| {
        let mut cmd = crate::support::glyphsieve();
        cmd.arg("eval").arg(rule).arg(data).args(extra);
        if row_at_a_time {
            cmd.env("GLYPHSIEVE_ROW_AT_A_TIME", "1");
        }
        let out = cmd.output().expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
}

proptest! {
    #![proptest_config(cases(48))]

    /// Several chunks per run (a chunk is at most 256 rows), filters that
    /// drop rows before the outputs are computed, rules read by rules,
    /// overflows at some row: every byte the same either way.
    #[test]
    fn batch_path_writes_what_the_row_path_writes_and_fails_at_the_same_row(
        programs in prop::collection::vec(program(), 1..4),
        rows in prop::collection::vec(fields(), 1..700),
        filter in 0..FILTERS.len(),
        summary in any::<bool>(),
    ) {
        let text = rule_file(&programs);
        let dir = tempfile::tempdir().expect("temp dir");
        let rule = dir.path().join("r.rule");
        let data = dir.path().join("in.csv");
        std::fs::write(&rule, &text).expect("write the rules");
        std::fs::write(&data, fields_csv(&rows)).expect("write the data");
        let mut extra = FILTERS[filter].to_vec();
        if summary {
            extra.push("--summary");
        }
        let [batch, row] = both_ways(&rule, &data, &extra);
        prop_assert_eq!(&batch, &row, "{}\n{:?}", text, extra);
        // Either it ran, or an overflow stopped it (at check time or at a
        // row): never an error in the generated file itself.
        prop_assert!(
            batch.0 == Some(0) || batch.2.contains("overflow"),
            "{}\n{}", text, batch.2
        );
    }
}

/// A runtime error in the third chunk: named at its own line, the same as
/// row by row, and nothing written (the run fails).
#[test]
fn overflow_deep_in_a_batch_is_reported_at_its_line_as_row_by_row() {
    let mut rows: Vec<Fields> = (0..600)
        .map(|k| Fields {
            vram_gb: Some(k as f64),
            tdp_watts: Some(300.0),
            mig_support: Some(k % 2 == 0),
            cuda_cores: Some(k),
        })
        .collect();
    rows[555].cuda_cores = Some(i64::MAX);
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = dir.path().join("r.rule");
    let data = dir.path().join("in.csv");
    std::fs::write(&rule, "rule doubled: int = cuda_cores * 2\n").expect("write the rule");
    std::fs::write(&data, fields_csv(&rows)).expect("write the data");
    let [batch, row] = both_ways(&rule, &data, &[]);
    assert_eq!(batch, row);
    assert_eq!(batch.0, Some(1));
    // The header is line 1: row 555 is line 557.
    assert!(batch.2.contains("in.csv:557"), "{}", batch.2);
    assert!(batch.2.contains("integer overflow"), "{}", batch.2);
}

/// Rules that share subexpressions, and near-copies that must not be
/// taken for them (another operator, another constant, another field, a
/// copy under a branch): the batch path's shared lets give the row path's
/// answers on every cell.
#[test]
fn shared_subexpressions_give_the_row_paths_answers() {
    let rules = "\
let usable = max(vram_gb - 2.0, 0.0)
rule a: float = price / max(vram_gb, 1.0) * 2
rule b: float = price / max(vram_gb, 1.0) - 3
rule c: float = price * max(vram_gb, 1.0)
rule d: float = price - max(vram_gb, 1.0)
rule e: float = price / max(tdp_watts, 1.0)
rule f: float = price / max(vram_gb, 2.0)
rule g: int default 0 = floor(usable / 5.5)
rule h: int default 0 = floor(usable / 5.5)
rule i: int default 0 = ceil(usable / 5.5)
rule j: float = if nvlink then price / max(vram_gb, 1.0) else -1.0
rule k: bool = mig_support and price / max(vram_gb, 1.0) > 500
rule l: bool = price / max(vram_gb, 1.0) > 500 or vram_gb >= 80
";
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = dir.path().join("r.rule");
    std::fs::write(&rule, rules).expect("write the rules");
    let data = crate::support::root().join("examples/listings.csv");
    let [batch, row] = both_ways(&rule, &data, &["--summary"]);
    assert_eq!(batch.0, Some(0), "{}", batch.2);
    assert_eq!(batch, row);
    assert!(batch.1.lines().count() > 10, "{}", batch.1);
}

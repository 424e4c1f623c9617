//! The shape of `eval`'s output: `--where` row filters, `--columns`, and
//! JSON Lines (`--output-format jsonl`, or `-o x.jsonl`).

use crate::support::{fixture, glyphsieve};
use std::path::Path;

/// stdout of a run that must succeed.
fn stdout_of(args: &[&str]) -> String {
    let out = glyphsieve().args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).expect("utf-8 stdout")
}

/// (exit code, stdout, stderr) of a run.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = glyphsieve().args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The CSV's rows as maps from column name to cell (no quoted commas in
/// the columns these tests read).
fn column(csv: &str, name: &str) -> Vec<String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let at = header
        .iter()
        .position(|h| *h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    lines
        .map(|l| {
            // Quoted cells come before the rule columns, which are last:
            // count from the end.
            let cells: Vec<&str> = l.rsplit(',').collect();
            cells[header.len() - 1 - at].to_string()
        })
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path.to_str().expect("utf-8 path").to_string()
}

// ---------------------------------------------------------------------------
// --where

#[test]
fn eval_where_on_a_rule_keeps_only_the_rows_where_it_is_true() {
    let all = stdout_of(&["eval", "rules/", "examples/listings.csv"]);
    let kept = stdout_of(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--where",
        "quantization_capable",
    ]);
    let flags = column(&kept, "quantization_capable");
    assert_eq!(flags.len(), 7, "{kept}");
    assert!(flags.iter().all(|f| f == "true"), "{kept}");
    // The kept lines are the unfiltered output's lines, in order.
    let expected: Vec<&str> = all
        .lines()
        .enumerate()
        .filter(|(k, l)| *k == 0 || l.ends_with(",true"))
        .map(|(_, l)| l)
        .collect();
    assert_eq!(kept.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn eval_where_reads_fields_and_cfg_keys() {
    let shape = ["--columns", "model,vram_gb", "--only", "power_class"];
    let mut args = vec!["eval", "rules/", "examples/listings.csv"];
    args.extend(shape);
    let all = stdout_of(&args);
    args.extend([
        "--set",
        "min_vram_gb=96",
        "--where",
        "vram_gb >= cfg.min_vram_gb",
    ]);
    let kept = stdout_of(&args);
    let expected: Vec<&str> = all
        .lines()
        .enumerate()
        .filter(|(k, l)| {
            let gb = l.split(',').nth(1).and_then(|v| v.parse::<f64>().ok());
            *k == 0 || gb.is_some_and(|gb| gb >= 96.0)
        })
        .map(|(_, l)| l)
        .collect();
    assert_eq!(kept.lines().collect::<Vec<_>>(), expected);
    // The header and six rows.
    assert_eq!(expected.len(), 7, "{kept}");
}

#[test]
fn eval_where_is_repeatable_and_every_one_must_hold() {
    let both = stdout_of(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--only",
        "power_class",
        "--columns",
        "model,condition",
        "--where",
        "power_class == high",
        "--where",
        r#"condition == "Used""#,
    ]);
    assert_eq!(
        both,
        "model,condition,power_class\n\
         NVIDIA H100 PCIe 80GB,Used,high\n\
         NVIDIA A100 SXM4 80GB,Used,high\n\
         NVIDIA GeForce RTX 4090 24GB,Used,high\n\
         NVIDIA GeForce RTX 3090 24GB,Used,high\n\
         AMD Instinct MI250 128GB,Used,high\n\
         NVIDIA A30 24GB Engineering Sample (301 W),Used,high\n"
    );
}

#[test]
fn eval_where_missing_drops_the_row_whatever_the_expression() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = write(
        dir.path(),
        "in.csv",
        "model,vram_gb\nbig,80\nsmall,8\nunknown,NA\n",
    );
    let rule = write(dir.path(), "r.rule", "rule big: bool = vram_gb >= 24\n");
    let kept = stdout_of(&["eval", &rule, &data, "--where", "big"]);
    assert_eq!(kept, "model,vram_gb,big\nbig,80,true\n");
    // `not big` is missing on the unknown row too: it is dropped both ways.
    let kept = stdout_of(&["eval", &rule, &data, "--where", "not big"]);
    assert_eq!(kept, "model,vram_gb,big\nsmall,8,false\n");
    // Asking for the missing rows is explicit.
    let kept = stdout_of(&["eval", &rule, &data, "--where", "is_missing(big)"]);
    assert_eq!(kept, "model,vram_gb,big\nunknown,NA,\n");
}

#[test]
fn eval_where_unknown_name_is_e101_against_the_where_text() {
    let (code, out, err) = run(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--where",
        "vram_gbb >= 24",
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    assert_eq!(
        err,
        "E101(unknown-name)

  × unknown name `vram_gbb`
   ╭─[--where:1:1]
 1 │ vram_gbb >= 24
   · ────┬───
   ·     ╰── not a field, rule or let
   ╰────
  help: did you mean `vram_gb`?
error: 1 error in the rules or --where; nothing was written
"
    );
}

#[test]
fn eval_where_that_is_not_bool_is_a_located_type_error() {
    let (code, out, err) = run(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--where",
        "quantization_capable",
        "--where",
        "power_class",
    ]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.contains("type mismatch: expected bool, found enum PowerClass"),
        "{err}"
    );
    assert!(err.contains("╭─[--where #2:1:1]"), "{err}");
    assert!(
        err.contains("`--where`, which keeps the rows where it is true, expects a bool"),
        "{err}"
    );
    // A number is not a truth value either.
    let (code, _, err) = run(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--where",
        "price",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("E202"), "{err}");
    assert!(
        err.contains(
            "`--where`, which keeps the rows where it is true, expects a bool, found a float"
        ),
        "{err}"
    );
}

#[test]
fn eval_where_syntax_error_is_located_in_the_where_text() {
    let (code, out, err) = run(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--where",
        "vram_gb >=",
    ]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(err.starts_with("E001(syntax-error)"), "{err}");
    assert!(
        err.contains("expected an expression, found the end of the expression"),
        "{err}"
    );
    assert!(err.contains("╭─[--where:1:10]"), "{err}");
    assert!(
        err.contains("help: `--where` takes one expression"),
        "{err}"
    );
    // A second expression after the first is not taken silently.
    let (code, _, err) = run(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--where",
        "vram_gb >= 24 tdp_watts < 300",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--where:1:15"), "{err}");
    assert!(
        err.contains("expected the end of the expression or an operator, found `tdp_watts`"),
        "{err}"
    );
}

#[test]
fn eval_where_may_name_a_rule_that_only_leaves_out() {
    let both = stdout_of(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--only",
        "power_class,underpowered",
        "--columns",
        "model",
    ]);
    // The rows where `underpowered` is true, without its column.
    let expected: Vec<String> = both
        .lines()
        .enumerate()
        .filter(|(k, l)| *k == 0 || l.ends_with(",true"))
        .map(|(k, l)| match k {
            0 => "model,power_class".to_string(),
            _ => l.trim_end_matches(",true").to_string(),
        })
        .collect();
    let kept = stdout_of(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--only",
        "power_class",
        "--columns",
        "model",
        "--where",
        "underpowered",
    ]);
    assert_eq!(kept.lines().collect::<Vec<_>>(), expected);
    // The header and two rows.
    assert_eq!(expected.len(), 3, "{kept}");
}

#[test]
fn eval_where_may_read_a_let() {
    // rules/capacity.rule: `let usable_vram_gb = max(vram_gb - cfg.overhead_gb, 0)`.
    let kept = stdout_of(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--only",
        "capacity_70b",
        "--columns",
        "model",
        "--where",
        "usable_vram_gb >= 120",
    ]);
    assert_eq!(
        kept,
        "model,capacity_70b\n\
         NVIDIA H200 SXM 141GB,3\n\
         NVIDIA H200 NVL 141GB,3\n\
         AMD Instinct MI250 128GB,3\n\
         AMD Instinct MI300X 192GB,5\n"
    );
}

#[test]
fn eval_where_gives_no_warnings_of_its_own() {
    // A where reading a rule, a let's rule and a cfg key: nothing on stderr.
    let (code, _, err) = run(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--where",
        "rack_friendly and vram_gb >= cfg.min_vram_gb",
    ]);
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn eval_where_summary_counts_the_written_rows_only() {
    let out = glyphsieve()
        .args([
            "eval",
            "rules/",
            "examples/listings.csv",
            "--where",
            "quantization_capable",
            "--summary-format",
            "json",
        ])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let j: serde_json::Value = serde_json::from_str(err.trim()).expect("one JSON object");
    assert_eq!(
        (j["rows_read"].as_u64(), j["rows_written"].as_u64()),
        (Some(41), Some(7))
    );
    let quant = j["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["name"] == "quantization_capable")
        .expect("quantization_capable");
    assert_eq!(quant["counts"]["true"], 7);
    assert_eq!(quant["counts"]["false"], 0);
    assert_eq!(quant["missing"], 0);
    // The human form says both.
    let out = glyphsieve()
        .args([
            "eval",
            "rules/",
            "examples/listings.csv",
            "--where",
            "quantization_capable",
            "--summary",
        ])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.starts_with("summary: 41 rows read, 7 written\n"),
        "{err}"
    );
}

#[test]
fn eval_where_error_while_evaluating_is_reported_at_its_row() {
    let (code, out, err) = run(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--where",
        "cuda_cores * 9223372036854775807 > 0",
    ]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.contains("integer overflow in rule `--where` at examples/listings.csv:2"),
        "{err}"
    );
    assert!(err.contains("╭─[--where:1:1]"), "{err}");
}

// ---------------------------------------------------------------------------
// --columns

#[test]
fn eval_columns_keeps_the_input_columns_named_in_that_order() {
    let out = stdout_of(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--columns",
        "price,model,notes",
        "--only",
        "quantization_capable",
    ]);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("price,model,notes,quantization_capable"));
    assert_eq!(
        lines.next(),
        Some(
            "30500.00,NVIDIA H100 SXM5 80GB,\"SXM module, requires HGX baseboard; slots=0 (not a PCIe card)\",false"
        )
    );
    assert_eq!(lines.count(), 40);
}

#[test]
fn eval_columns_unknown_name_is_exit_2_with_did_you_mean() {
    let (code, out, err) = run(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--columns",
        "model,prcie",
    ]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        "error[E604(bad-argument)]: examples/listings.csv: --columns: no column `prcie` in the header; did you mean `price`?\n"
    );
    let (code, _, err) = run(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--columns",
        "zzz",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("the columns are: model, condition, price,"),
        "{err}"
    );
}

#[test]
fn eval_columns_named_twice_is_exit_2() {
    let (code, out, err) = run(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--columns",
        "model,price,model",
    ]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(err, "error: --columns names `model` twice\n");
}

#[test]
fn eval_columns_need_not_keep_the_fields_the_rules_read() {
    let out = stdout_of(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--columns",
        "model",
        "--only",
        "power_class",
    ]);
    assert!(
        out.starts_with("model,power_class\nNVIDIA H100 SXM5 80GB,high\n"),
        "{out}"
    );
}

#[test]
fn eval_columns_and_replace_write_a_rule_in_its_kept_column_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = write(
        dir.path(),
        "in.csv",
        "model,tier,vram_gb\nA,old,80\nB,old,8\n",
    );
    let rule = write(dir.path(), "r.rule", "rule tier: bool = vram_gb >= 24\n");
    // Kept, the column needs --replace, which writes the rule in its place.
    let (code, _, err) = run(&["eval", &rule, &data, "--columns", "tier,model"]);
    assert_eq!(code, 1);
    assert!(err.contains("output column `tier` already exists"), "{err}");
    let out = stdout_of(&["eval", &rule, &data, "--columns", "tier,model", "--replace"]);
    assert_eq!(out, "tier,model\ntrue,A\nfalse,B\n");
    // Left out, it clashes with nothing: the rule's column follows.
    let out = stdout_of(&["eval", &rule, &data, "--columns", "model"]);
    assert_eq!(out, "model,tier\nA,true\nB,false\n");
}

#[test]
fn tag_quantization_takes_columns_and_jsonl() {
    let out = stdout_of(&[
        "tag-quantization",
        "examples/listings.csv",
        "--columns",
        "model",
        "--output-format",
        "jsonl",
    ]);
    let first = out.lines().next().expect("a line");
    assert_eq!(
        first,
        r#"{"model":"NVIDIA H100 SXM5 80GB","quantization_capable":false}"#
    );
    assert_eq!(out.lines().count(), 41);
}

// ---------------------------------------------------------------------------
// JSON Lines

#[test]
fn eval_jsonl_golden_types_every_rule_value() {
    let case = fixture("cli/golden/custom_rules");
    let case_s = case.to_str().expect("utf-8 path");
    let out = stdout_of(&[
        "eval",
        &format!("{case_s}/rules"),
        &format!("{case_s}/input.csv"),
        "--config",
        &format!("{case_s}/config.yaml"),
        "--output-format",
        "jsonl",
    ]);
    let expected =
        std::fs::read_to_string(fixture("shape/custom_rules.jsonl")).expect("the golden file");
    assert_eq!(out, expected);
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        assert!(v.is_object());
    }
}

#[test]
fn eval_o_jsonl_or_ndjson_chooses_jsonl_unless_told_otherwise() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = |out: &str| {
        vec![
            "eval".to_string(),
            "rules/".to_string(),
            "examples/listings.csv".to_string(),
            "--columns".to_string(),
            "model".to_string(),
            "--only".to_string(),
            "capacity_70b".to_string(),
            "-o".to_string(),
            out.to_string(),
        ]
    };
    for name in ["out.jsonl", "out.NDJSON"] {
        let path = dir.path().join(name);
        glyphsieve()
            .args(args(path.to_str().expect("utf-8 path")))
            .assert()
            .success();
        let text = std::fs::read_to_string(&path).expect("written");
        assert!(
            text.starts_with("{\"model\":\"NVIDIA H100 SXM5 80GB\",\"capacity_70b\":2}\n"),
            "{name}: {text}"
        );
    }
    let path = dir.path().join("forced.jsonl");
    let mut a = args(path.to_str().expect("utf-8 path"));
    a.extend(["--output-format".to_string(), "csv".to_string()]);
    glyphsieve().args(a).assert().success();
    let text = std::fs::read_to_string(&path).expect("written");
    assert!(text.starts_with("model,capacity_70b\n"), "{text}");
}

#[test]
fn eval_jsonl_escapes_control_characters_and_keeps_unicode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = write(
        dir.path(),
        "in.csv",
        "\u{feff}model,notes,cuda_cores\r\n\"tab\there \"\"q\"\" back\\slash\",\"two\r\nlines \u{1b}[31m\",\r\nÜnï 🚀,\u{7f},NA\r\n",
    );
    let rule = write(
        dir.path(),
        "r.rule",
        "rule shout: string = upper(model)\nrule n: float = 0.1 + 0.2\nrule none: int = cuda_cores\n",
    );
    let out = stdout_of(&["eval", &rule, &data, "--output-format", "jsonl"]);
    assert_eq!(
        out,
        "{\"model\":\"tab\\there \\\"q\\\" back\\\\slash\",\"notes\":\"two\\r\\nlines \\u001b[31m\",\"cuda_cores\":\"\",\"shout\":\"TAB\\tHERE \\\"Q\\\" BACK\\\\SLASH\",\"n\":0.30000000000000004,\"none\":null}\n\
         {\"model\":\"Ünï 🚀\",\"notes\":\"\\u007f\",\"cuda_cores\":\"NA\",\"shout\":\"ÜNÏ 🚀\",\"n\":0.30000000000000004,\"none\":null}\n"
    );
    // No byte order mark, one valid object a line, the cells read back.
    assert!(!out.starts_with('\u{feff}'));
    let first: serde_json::Value =
        serde_json::from_str(out.lines().next().expect("a line")).expect("JSON");
    assert_eq!(first["model"], "tab\there \"q\" back\\slash");
    assert_eq!(first["notes"], "two\r\nlines \u{1b}[31m");
}

#[test]
fn eval_jsonl_duplicate_header_name_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = write(dir.path(), "in.csv", "model,note,note\nA,x,y\n");
    let rule = write(dir.path(), "r.rule", "rule one: int = 1\n");
    // CSV copies the columns as they are.
    assert_eq!(
        stdout_of(&["eval", &rule, &data]),
        "model,note,note,one\nA,x,y,1\n"
    );
    let (code, out, err) = run(&["eval", &rule, &data, "--output-format", "jsonl"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.contains("the header has more than one column `note`"),
        "{err}"
    );
    // Leaving one out with --columns makes the keys unique again.
    assert_eq!(
        stdout_of(&[
            "eval",
            &rule,
            &data,
            "--output-format",
            "jsonl",
            "--columns",
            "model"
        ]),
        "{\"model\":\"A\",\"one\":1}\n"
    );
}

#[test]
fn eval_jsonl_of_a_header_only_input_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = write(dir.path(), "in.csv", "model,vram_gb\n");
    let rule = write(dir.path(), "r.rule", "rule big: bool = vram_gb >= 24\n");
    let out = glyphsieve()
        .args(["eval", &rule, &data, "--output-format", "jsonl"])
        .assert()
        .success();
    assert!(out.get_output().stdout.is_empty());
}

/// The README's examples of `--where`, `--columns` and JSON Lines show
/// what the binary prints.
#[test]
fn readme_where_columns_and_jsonl_examples_are_real_output() {
    let readme =
        std::fs::read_to_string(crate::support::root().join("README.md")).expect("README.md");
    let examples: [(&str, &[&str]); 2] = [
        (
            "glyphsieve eval rules/ examples/listings.csv --where quantization_capable --columns model,price,vram_gb,tdp_watts --only price_per_gb_vram",
            &[
                "eval",
                "rules/",
                "examples/listings.csv",
                "--where",
                "quantization_capable",
                "--columns",
                "model,price,vram_gb,tdp_watts",
                "--only",
                "price_per_gb_vram",
            ],
        ),
        (
            "glyphsieve eval rules/ examples/listings.csv --where 'power_class == high' --where 'condition == \"Used\"' --columns model,condition,tdp_watts --only power_class,capacity_70b --output-format jsonl",
            &[
                "eval",
                "rules/",
                "examples/listings.csv",
                "--where",
                "power_class == high",
                "--where",
                "condition == \"Used\"",
                "--columns",
                "model,condition,tdp_watts",
                "--only",
                "power_class,capacity_70b",
                "--output-format",
                "jsonl",
            ],
        ),
    ];
    for (shown, args) in examples {
        let block = format!("$ {shown}\n{}", stdout_of(args));
        assert!(readme.contains(&block), "README lacks:\n{block}");
    }
    let (_, _, err) = run(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--where",
        "vram_gbb >= 48",
    ]);
    let block =
        format!("$ glyphsieve eval rules/ examples/listings.csv --where 'vram_gbb >= 48'\n{err}");
    assert!(readme.contains(&block), "README lacks:\n{block}");
}

#[test]
fn eval_where_over_many_batches_keeps_input_order_whatever_the_threads() {
    let dir = tempfile::tempdir().expect("temp dir");
    // About 1.5 MB: several batches of the reader.
    let mut csv = String::from("model,vram_gb\n");
    for k in 0..60_000 {
        csv.push_str(&format!("card {k},{}\n", (k * 7) % 97));
    }
    let data = write(dir.path(), "in.csv", &csv);
    let rule = write(dir.path(), "r.rule", "rule big: bool = vram_gb >= 48\n");
    let all = stdout_of(&["eval", &rule, &data, "--threads", "1"]);
    let want: String = all
        .lines()
        .enumerate()
        .filter(|(k, l)| *k == 0 || l.ends_with(",true"))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    for threads in ["1", "4"] {
        let kept = stdout_of(&["eval", &rule, &data, "--where", "big", "--threads", threads]);
        assert!(kept == want, "--threads {threads}: the kept rows differ");
    }
}

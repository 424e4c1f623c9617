//! Wrong answers fixed (issue 7): `in` compares as `==` does, one exact
//! number reader for cells, numeric null markers, constant folding of
//! negation and numeric builtins, runtime errors that name a `let`.

use crate::support::{eval, glyphsieve, rules};
use glyphsieve::eval::{ItemKind, Row, Value};
use glyphsieve::heuristic::Heuristic;
use glyphsieve::schema::Schema;
use std::path::Path;

/// A listing row with the given fields set and every other field missing.
fn row(cells: &[(&str, Value)]) -> Row {
    let mut r = Row::new(Schema::listing());
    for (name, value) in cells {
        r.set(name, value.clone())
            .unwrap_or_else(|err| panic!("{name}: {err}"));
    }
    r
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a temp file");
    path.to_string_lossy().into_owned()
}

/// `glyphsieve eval` of `rules` on `csv`, both written to a temp folder:
/// (exit code, stdout, stderr).
fn eval_csv(rules: &str, csv: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = write(dir.path(), "r.rule", rules);
    let d = write(dir.path(), "d.csv", csv);
    let out = glyphsieve()
        .args(["eval", &r, &d])
        .args(extra)
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The stderr of an `eval` that must fail with exit 1 on one bad cell.
fn bad_cell(rule: &str, column: &str, cell: &str) -> String {
    let (code, stdout, stderr) = eval_csv(rule, &format!("{column}\n{cell}\n"), &[]);
    assert_eq!(code, Some(1), "{cell:?}: stdout {stdout} stderr {stderr}");
    stderr
}

// --- item 9: `in` compares each item as `==` does -----------------------

#[test]
fn in_list_compares_ints_and_floats_exactly_like_equals() {
    let set = rules(
        "rule in_f: bool = cuda_cores in [9007199254740992.0]\n\
         rule eq_f: bool = cuda_cores == 9007199254740992.0\n\
         rule in_i: bool = cuda_cores in [1.5, 9007199254740993]\n\
         rule not_in_f: bool = cuda_cores not in [9007199254740992.0]\n\
         rule in_field: bool = vram_gb in [slots]\n\
         rule in_big_const: bool = vram_gb in [9007199254740993]\n",
    );
    let r = row(&[
        ("cuda_cores", Value::Int(9_007_199_254_740_993)),
        ("vram_gb", Value::Float(9_007_199_254_740_992.0)),
        ("slots", Value::Int(9_007_199_254_740_993)),
    ]);
    assert_eq!(eval(&set, "in_f", &r), Value::Bool(false));
    assert_eq!(eval(&set, "eq_f", &r), Value::Bool(false));
    assert_eq!(eval(&set, "in_i", &r), Value::Bool(true));
    assert_eq!(eval(&set, "not_in_f", &r), Value::Bool(true));
    assert_eq!(eval(&set, "in_field", &r), Value::Bool(false));
    assert_eq!(eval(&set, "in_big_const", &r), Value::Bool(false));
    // Equal values still match across types.
    let r = row(&[
        ("cuda_cores", Value::Int(24)),
        ("vram_gb", Value::Float(24.0)),
        ("slots", Value::Int(24)),
    ]);
    let set = rules(
        "rule a: bool = cuda_cores in [24.0]\nrule b: bool = vram_gb in [1, slots]\n\
         rule c: bool = vram_gb in [24]\n",
    );
    for name in ["a", "b", "c"] {
        assert_eq!(eval(&set, name, &r), Value::Bool(true), "{name}");
    }
}

// --- items 10 and 16d: one exact number reader, errors that say why ------

#[test]
fn int_cell_9007199254740993_point_0_is_read_exactly_not_through_a_float() {
    let (code, stdout, stderr) = eval_csv(
        "rule c: int = cuda_cores\n",
        "cuda_cores\n9007199254740993.0\n6.144e3\n-0\n",
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "cuda_cores,c\n9007199254740993.0,9007199254740993\n6.144e3,6144\n-0,0\n"
    );
}

#[test]
fn int_cell_that_is_not_a_whole_number_says_so() {
    for cell in ["6144.00000000000001", "6144.5"] {
        let stderr = bad_cell("rule c: int = cuda_cores\n", "cuda_cores", cell);
        assert!(
            stderr.contains(&format!(
                "column `cuda_cores`: cannot read \"{cell}\" as int: not a whole number"
            )),
            "{stderr}"
        );
        assert!(stderr.contains("d.csv:2:"), "names file and line: {stderr}");
    }
}

#[test]
fn int_cell_beyond_i64_is_out_of_range_not_not_a_number() {
    for cell in ["99999999999999999999", "9223372036854775808", "1e19"] {
        let stderr = bad_cell("rule c: int = cuda_cores\n", "cuda_cores", cell);
        assert!(
            stderr.contains(&format!(
                "cannot read \"{cell}\" as int: the number is out of range \
                 (-9223372036854775808 to 9223372036854775807)"
            )),
            "{stderr}"
        );
    }
}

#[test]
fn float_cell_1e309_is_out_of_range_not_not_a_number() {
    let stderr = bad_cell("rule c: float = price\n", "price", "1e309");
    assert!(
        stderr.contains(
            "cannot read \"1e309\" as float: the number is out of range \
             (floats reach about 1.8e308)"
        ),
        "{stderr}"
    );
    let stderr = bad_cell("rule c: float = price\n", "price", "24GB");
    assert!(
        stderr.contains("cannot read \"24GB\" as float: not a number (expected a number"),
        "{stderr}"
    );
}

#[test]
fn bool_cells_reject_inf_nan_and_1e400_like_float_cells() {
    let rule = "rule m: bool = mig_support\n";
    for cell in ["inf", "nan", "-Infinity"] {
        let stderr = bad_cell(rule, "mig_support", cell);
        assert!(
            stderr.contains(&format!("cannot read \"{cell}\" as bool: not a bool")),
            "{stderr}"
        );
    }
    let stderr = bad_cell(rule, "mig_support", "1e400");
    assert!(
        stderr.contains("cannot read \"1e400\" as bool: the number is out of range"),
        "{stderr}"
    );
    // Finite numbers are counts: non-zero is true.
    let (code, stdout, stderr) = eval_csv(rule, "mig_support\n7\n0.0\n-0\n1e-400\n", &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "mig_support,m\n7,true\n0.0,false\n-0,false\n1e-400,true\n"
    );
}

// --- item 11: numeric null markers compare by value ----------------------

#[test]
fn zero_vram_and_tdp_written_any_way_are_unknown_not_underpowered_or_low_power() {
    let mut csv = String::from("model,vram_gb,tdp_watts,generation\n");
    for zero in ["0", "0.0", "0.00", "00", "-0", "0e0", " -0.0E3 "] {
        csv.push_str(&format!("card,{zero},{zero},Hopper\n"));
    }
    let (code, stdout, stderr) = eval_csv(
        "rule underpowered: bool = vram_gb < 16\n\
         enum PowerClass { low, mid, high }\n\
         rule power_class: PowerClass = if tdp_watts <= 150 then low else if tdp_watts <= 300 then mid else high\n",
        &csv,
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    for line in stdout.lines().skip(1) {
        assert!(line.ends_with(",,"), "zero is unknown, not a value: {line}");
    }
    // The shipped rules on the same rows.
    let dir = tempfile::tempdir().expect("temp dir");
    let data = write(dir.path(), "d.csv", &csv);
    let out = glyphsieve()
        .args([
            "eval",
            "rules/",
            &data,
            "--only",
            "underpowered,power_class",
        ])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    for line in stdout.lines().skip(1) {
        assert!(line.ends_with(",,"), "{line}");
    }
}

#[test]
fn schema_numeric_null_marker_matches_by_value_and_text_markers_stay_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = write(
        dir.path(),
        "s.yaml",
        "fields:\n  slots: { type: int, nulls: [\"\", \"-1\", unknown] }\n  \
         price: { type: float, nulls: [\"\", \"0\"] }\n",
    );
    let (code, stdout, stderr) = eval_csv(
        "rule s: int = slots\nrule p: float = price\n",
        "slots,price\n-1.0,0.00\n-1e0,-0\nUNKNOWN,1\n2,0.5\n",
        &["--schema", &schema],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "slots,price,s,p\n-1.0,0.00,,\n-1e0,-0,,\nUNKNOWN,1,,1\n2,0.5,2,0.5\n"
    );
}

// --- item 12: constant negation and numeric calls are folded -------------

/// `glyphsieve lint` on one rule text (and a config): (exit code, stdout).
fn lint(rule: &str, config: Option<&str>) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = write(dir.path(), "r.rule", rule);
    let mut cmd = glyphsieve();
    cmd.args(["lint", &r, "--format", "json"]);
    if let Some(yaml) = config {
        let c = write(dir.path(), "c.yaml", yaml);
        cmd.args(["--config", &c]);
    }
    let out = cmd.output().expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn lint_reports_constant_overflow_in_negation_and_numeric_functions() {
    let config = "neg: -9223372036854775808\nbig: 1.0e300\n";
    for (body, label) in [
        ("-(-9223372036854775807 - 1)", "integer overflow"),
        ("abs(-9223372036854775807 - 1)", "integer overflow"),
        ("floor(1e300)", "integer overflow"),
        ("-cfg.neg", "integer overflow"),
        ("ceil(-cfg.big)", "integer overflow"),
        ("round(min(1e19, 2e19))", "integer overflow"),
        ("clamp(abs(cfg.neg), 0, 1)", "integer overflow"),
    ] {
        let text = format!("rule r: int = {body}\n");
        let (code, stdout) = lint(&text, Some(config));
        assert_eq!(code, Some(1), "{body}: {stdout}");
        let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        // Errors only: the config's other key is unread (a W404 warning).
        let items: Vec<_> = json
            .as_array()
            .expect("a list")
            .iter()
            .filter(|d| d["severity"] == "error")
            .collect();
        assert_eq!(items.len(), 1, "{body}: {stdout}");
        assert_eq!(items[0]["code"], "E501", "{body}: {stdout}");
        assert_eq!(
            items[0]["message"], "this constant expression overflows",
            "{body}"
        );
        assert_eq!(items[0]["label"], label, "{body}");
    }
}

#[test]
fn constant_functions_fold_to_what_the_evaluator_computes() {
    let (code, stdout) = lint(
        "rule a: int = abs(-9223372036854775807)\nrule b: int = floor(-2.5) + round(2.5)\n\
         rule c: float = min(1, 2.5) + max(-0.5, 1) + clamp(5, 1.5, 3)\nrule d: int = -(-3)\n",
        None,
    );
    assert_eq!(code, Some(0), "{stdout}");
    let set = rules(
        "rule a: int = abs(-9223372036854775807)\nrule b: int = floor(-2.5) + round(2.5)\n\
         rule c: float = min(1, 2.5) + max(-0.5, 1) + clamp(5, 1.5, 3)\nrule d: int = -(-3)\n\
         rule e: int = ceil(7)\n",
    );
    let r = row(&[]);
    assert_eq!(eval(&set, "a", &r), Value::Int(i64::MAX));
    assert_eq!(eval(&set, "b", &r), Value::Int(0));
    assert_eq!(eval(&set, "c", &r), Value::Float(5.0));
    assert_eq!(eval(&set, "d", &r), Value::Int(3));
    assert_eq!(eval(&set, "e", &r), Value::Int(7));
}

// --- item 16j: an overflow in a `let` names the let ----------------------

#[test]
fn overflow_in_a_let_is_reported_as_in_let_read_by_rule() {
    let set = rules(
        "let l = cuda_cores * cuda_cores\nrule r: int = l + 1\nrule q: int = r\n\
         rule own: int = cuda_cores * cuda_cores\n",
    );
    let r = row(&[("cuda_cores", Value::Int(4_000_000_000))]);
    let hs = set.heuristics();
    let run = |name: &str| {
        hs.iter()
            .find(|h| h.name() == name)
            .expect("rule")
            .evaluate(&r)
            .expect_err("overflows")
    };
    let e = run("r");
    assert_eq!((&*e.rule, e.kind), ("l", ItemKind::Let));
    assert_eq!(
        e.to_string(),
        "integer overflow in let `l` (read by rule `r`)"
    );
    // Through a rule that reads the rule that reads the let.
    assert_eq!(
        run("q").to_string(),
        "integer overflow in let `l` (read by rule `q`)"
    );
    assert_eq!(run("own").to_string(), "integer overflow in rule `own`");

    let (code, _, stderr) = eval_csv(
        "let l = cuda_cores * cuda_cores\nrule r: int = l + 1\n",
        "cuda_cores\n1\n4000000000\n",
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("integer overflow in let `l` (read by rule `r`) at "),
        "{stderr}"
    );
    assert!(stderr.contains("d.csv:3"), "{stderr}");
}

// --- issue 9, item 3: `round(x, digits)` ----------------------------------

#[test]
fn round_with_digits_is_a_float_half_away_from_zero_on_the_exact_value() {
    let set = rules(
        "rule r2: float = round(price, 2)\nrule r0: float = round(price, 0)\n\
         rule hundreds: float = round(price, -2)\nrule by_slots: float = round(price, slots)\n\
         rule per_gb: float = round(price / vram_gb, 2)\n",
    );
    let at = |rule: &str, price: f64| eval(&set, rule, &row(&[("price", Value::Float(price))]));
    for (price, want) in [
        (2.675, 2.67), // the double is 2.67499999999999982236...: below the tie
        (0.125, 0.13), // an exact tie: away from zero
        (-0.125, -0.13),
        (1.005, 1.0),
        (123.456, 123.46),
        (1e300, 1e300),
        (-0.001, 0.0), // +0, not "-0"
    ] {
        assert_eq!(at("r2", price), Value::Float(want), "round({price}, 2)");
    }
    for (price, want) in [
        (2.5, 3.0),
        (-2.5, -3.0),
        (0.5, 1.0),
        (-0.5, -1.0),
        (0.4, 0.0),
    ] {
        assert_eq!(at("r0", price), Value::Float(want), "round({price}, 0)");
    }
    for (price, want) in [
        (1234.5, 1200.0),
        (1250.0, 1300.0),
        (-1250.0, -1300.0),
        (49.0, 0.0),
    ] {
        assert_eq!(
            at("hundreds", price),
            Value::Float(want),
            "round({price}, -2)"
        );
    }
    // Digits from an int field; missing in either argument gives missing.
    let r = row(&[("price", Value::Float(1.23456)), ("slots", Value::Int(3))]);
    assert_eq!(eval(&set, "by_slots", &r), Value::Float(1.235));
    assert_eq!(
        eval(&set, "by_slots", &row(&[("price", Value::Float(1.5))])),
        Value::Missing
    );
    assert_eq!(eval(&set, "r2", &row(&[])), Value::Missing);
    // The issue's price per GB.
    let r = row(&[
        ("price", Value::Float(27500.0)),
        ("vram_gb", Value::Float(80.0)),
    ]);
    assert_eq!(eval(&set, "per_gb", &r), Value::Float(343.75));
    let r = row(&[
        ("price", Value::Float(1000.0)),
        ("vram_gb", Value::Float(24.0)),
    ]);
    assert_eq!(eval(&set, "per_gb", &r), Value::Float(41.67));
}

#[test]
fn round_with_huge_digits_gives_x_and_a_result_past_the_float_range_gives_x() {
    let set = rules(
        "rule big: float = round(price, 400)\nrule tiny: float = round(price, -400)\n\
         rule over: float = round(price, -308)\nrule int_x: float = round(slots, -1)\n",
    );
    let p = |x: f64| row(&[("price", Value::Float(x)), ("slots", Value::Int(15))]);
    assert_eq!(eval(&set, "big", &p(0.1)), Value::Float(0.1));
    assert_eq!(eval(&set, "tiny", &p(1e300)), Value::Float(0.0));
    // 1.79e308 to a multiple of 1e308 is 2e308, which is not a float.
    let max = f64::MAX;
    assert_eq!(eval(&set, "over", &p(max)), Value::Float(max));
    // An int x is rounded as a float, and the result is a float.
    assert_eq!(eval(&set, "int_x", &p(0.0)), Value::Float(20.0));
}

#[test]
fn round_with_digits_of_constants_folds_to_what_the_evaluator_computes() {
    let text = "rule a: float = round(2.675, 2)\nrule b: float = round(-2.5, 0)\n\
                rule c: float = round(1234.5, -2)\nrule d: float = round(7, -1)\n";
    let (code, stdout) = lint(text, None);
    assert_eq!(code, Some(0), "{stdout}");
    let set = rules(text);
    let r = row(&[]);
    assert_eq!(eval(&set, "a", &r), Value::Float(2.67));
    assert_eq!(eval(&set, "b", &r), Value::Float(-3.0));
    assert_eq!(eval(&set, "c", &r), Value::Float(1200.0));
    assert_eq!(eval(&set, "d", &r), Value::Float(10.0));
    // Through the binary: folded or not, the column reads the same.
    let (code, stdout, stderr) = eval_csv(
        "rule folded: float = round(2.675, 2)\nrule per_gb: float = round(price / vram_gb, 2)\n",
        "price,vram_gb\n2.675,1\n27500,80\n1000,24\n",
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "price,vram_gb,folded,per_gb\n2.675,1,2.67,2.67\n27500,80,2.67,343.75\n1000,24,2.67,41.67\n"
    );
}

#[test]
fn round_with_a_wrong_argument_count_or_float_digits_is_a_located_error() {
    let (code, stdout) = lint("rule r: float = round(price, 2, 3)\n", None);
    assert_eq!(code, Some(1), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let d = &json[0];
    assert_eq!(d["code"], "E203", "{stdout}");
    assert_eq!(d["message"], "`round` takes 1 or 2 arguments, found 3");
    assert_eq!(d["help"], "call it as round(x) or round(x, digits)");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(1), Some(17))
    );

    let (code, stdout) = lint("rule r: float = round(price, 1.5)\n", None);
    assert_eq!(code, Some(1), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(json[0]["code"], "E201", "{stdout}");
    assert_eq!(json[0]["column"].as_u64(), Some(30), "{stdout}");

    let (code, stdout) = lint("rule r: float = round(model, 2)\n", None);
    assert_eq!(code, Some(1), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(json[0]["message"], "`round` takes numbers, found a string");
    assert_eq!(json[0]["help"], "call it as round(x, digits)");

    // The one-argument form still gives an int.
    let (code, stdout) = lint("rule r: int = round(price)\n", None);
    assert_eq!(code, Some(0), "{stdout}");
}

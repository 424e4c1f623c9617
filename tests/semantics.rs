//! Wrong answers fixed (issue 7): `in` compares as `==` does, one exact
//! number reader for cells, numeric null markers, constant folding of
//! negation and numeric builtins, runtime errors that name a `let`.

use crate::support::glyphsieve;
use std::path::Path;

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
                "column `cuda_cores`: cannot read \"{cell}\" as int: {cell} is not a whole number"
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


//! End-to-end tests of `glyphsieve eval` and `glyphsieve tag-quantization`
//! through the binary: exit code, stdout, stderr and the files left behind.
//!
//! Goldens live in tests/fixtures/cli/golden/<case>/ (see the README there);
//! bad inputs in tests/fixtures/cli/bad/, configs in tests/fixtures/cli/configs/.
//! Inputs whose exact bytes matter (CRLF, BOM, invalid UTF-8) are written by
//! the tests themselves, so no checkout setting can rewrite them.

use crate::support::{fixture, glyphsieve, root};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The header line the seed's tests use.
const SEED_HEADER: &str = "model,vram_gb,tdp_watts,mig_support\n";

// ---------------------------------------------------------------------------
// Running the binary

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    /// Assert the exit code, showing everything the run printed if it differs.
    fn code(&self, want: i32) -> &Run {
        assert_eq!(
            self.code,
            want,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&self.stdout),
            self.stderr
        );
        self
    }

    fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    fn no_stdout(&self) -> &Run {
        assert!(
            self.stdout.is_empty(),
            "unexpected stdout:\n{}",
            String::from_utf8_lossy(&self.stdout)
        );
        self
    }
}

fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    finish(glyphsieve().args(args).output())
}

fn run_stdin<S: AsRef<std::ffi::OsStr>>(args: &[S], stdin: &[u8]) -> Run {
    finish(glyphsieve().args(args).write_stdin(stdin.to_vec()).output())
}

fn finish(output: std::io::Result<std::process::Output>) -> Run {
    let output = output.expect("the binary runs");
    Run {
        code: output
            .status
            .code()
            .expect("exited, not killed by a signal"),
        stdout: output.stdout,
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// `glyphsieve tag-quantization -` over the seed's 24 GB and 40 GB rows,
/// plus `extra` arguments.
fn tag_seed(extra: &[&str]) -> Run {
    let mut args = vec!["tag-quantization", "-"];
    args.extend_from_slice(extra);
    run_stdin(&args, format!("{SEED_HEADER}{SEED_24_AND_40}").as_bytes())
}

/// `glyphsieve tag-quantization -` over `rows` under the seed's header, plus
/// `extra` arguments; returns each row's `quantization_capable` cell.
fn tag_seed_rows(rows: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["tag-quantization", "-"];
    args.extend_from_slice(extra);
    let r = run_stdin(&args, format!("{SEED_HEADER}{rows}").as_bytes());
    r.code(0);
    let out = r.stdout();
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("model,vram_gb,tdp_watts,mig_support,quantization_capable")
    );
    lines
        .map(|l| l.rsplit(',').next().unwrap_or_default().to_string())
        .collect()
}

// ---------------------------------------------------------------------------
// A sandbox: a temp folder holding only the input, to prove nothing is left
// behind and the input is never changed.

struct Sandbox {
    dir: TempDir,
    input: PathBuf,
    bytes: Vec<u8>,
}

impl Sandbox {
    /// A temp folder holding `name` with `bytes`.
    fn with(name: &str, bytes: &[u8]) -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let input = dir.path().join(name);
        std::fs::write(&input, bytes).expect("write input");
        Sandbox {
            dir,
            input,
            bytes: bytes.to_vec(),
        }
    }

    /// A temp folder holding a copy of a fixture under tests/fixtures/cli/.
    fn copy(rel: &str) -> Sandbox {
        let src = fixture(&format!("cli/{rel}"));
        let bytes = std::fs::read(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        let name = src.file_name().expect("file name").to_str().expect("UTF-8");
        Sandbox::with(name, &bytes)
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out.csv")
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("list temp dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Only the input is in the folder (no output, no `.glyphsieve-*.tmp`),
    /// and its bytes are the ones written.
    fn assert_untouched(&self) {
        let input_name = self.input.file_name().unwrap().to_string_lossy();
        assert_eq!(self.names(), [input_name.as_ref()], "files left behind");
        assert_eq!(
            std::fs::read(&self.input).expect("input still there"),
            self.bytes,
            "the input was changed"
        );
    }

    /// `tag-quantization INPUT -o out.csv` plus `extra`.
    fn tag(&self, extra: &[&str]) -> Run {
        let mut args: Vec<OsString> = vec![
            "tag-quantization".into(),
            self.input.clone().into(),
            "-o".into(),
            self.out().into(),
        ];
        args.extend(extra.iter().map(OsString::from));
        run(&args)
    }

    /// The file name as the CLI prints it in messages (the path as passed).
    fn shown(&self) -> String {
        self.input.display().to_string()
    }
}

// ---------------------------------------------------------------------------
// 1. Goldens: rules + input.csv -> expected.csv

/// A case folder's command line: `args.txt` (one argument a line, `#`
/// comments, `{case}` for the folder), or by default
/// `eval [rules/] [*.rule] input.csv [--config config.yaml] [--schema schema.yaml]`.
fn golden_args(case: &Path) -> Vec<String> {
    let rel = case
        .strip_prefix(root())
        .expect("case under the crate root")
        .display()
        .to_string();
    let args_file = case.join("args.txt");
    if args_file.exists() {
        return std::fs::read_to_string(&args_file)
            .expect("read args.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.replace("{case}", &rel))
            .collect();
    }
    let mut args = vec!["eval".to_string()];
    if case.join("rules").is_dir() {
        args.push(format!("{rel}/rules"));
    }
    let mut files: Vec<String> = std::fs::read_dir(case)
        .expect("list case")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rule"))
        .collect();
    files.sort();
    args.extend(files.iter().map(|f| format!("{rel}/{f}")));
    assert!(
        args.len() > 1,
        "{rel}: no rules/ folder, .rule file or args.txt"
    );
    args.push(format!("{rel}/input.csv"));
    for (file, flag) in [("config.yaml", "--config"), ("schema.yaml", "--schema")] {
        if case.join(file).exists() {
            args.push(flag.to_string());
            args.push(format!("{rel}/{file}"));
        }
    }
    args
}

fn golden_cases() -> Vec<PathBuf> {
    let dir = fixture("cli/golden");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("golden folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 4, "golden cases: {cases:?}");
    cases
}

/// A line-by-line comparison that names the first difference and shows
/// both sides with `-expected`/`+actual` markers.
fn diff(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (
        expected.split_inclusive('\n').collect(),
        actual.split_inclusive('\n').collect(),
    );
    let first = (0..e.len().max(a.len()))
        .find(|&i| e.get(i) != a.get(i))
        .unwrap_or(0);
    let mut out = format!(
        "first difference at line {}:\n  expected: {:?}\n  actual:   {:?}\n--- expected\n+++ actual\n",
        first + 1,
        e.get(first).copied().unwrap_or("<end of output>"),
        a.get(first).copied().unwrap_or("<end of output>"),
    );
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if x == y => out.push_str(&format!(" {x}")),
            (x, y) => {
                if let Some(x) = x {
                    out.push_str(&format!("-{x}"));
                }
                if let Some(y) = y {
                    out.push_str(&format!("+{y}"));
                }
            }
        }
    }
    out
}

#[test]
fn golden_cases_match_expected_output_byte_for_byte() {
    let mut failures = Vec::new();
    for case in golden_cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let args = golden_args(&case);
        let r = run(&args);
        let expected = std::fs::read(case.join("expected.csv")).expect("expected.csv");
        let want_stderr = std::fs::read_to_string(case.join("expected.stderr")).unwrap_or_default();
        let command = format!("glyphsieve {}", args.join(" "));
        if r.code != 0 {
            failures.push(format!(
                "{name}: `{command}` exited {}:\n{}",
                r.code, r.stderr
            ));
        } else if r.stdout != expected {
            failures.push(format!(
                "{name}: `{command}`: stdout differs from expected.csv\n{}",
                diff(
                    &String::from_utf8_lossy(&expected),
                    &String::from_utf8_lossy(&r.stdout)
                )
            ));
        } else if r.stderr != want_stderr {
            failures.push(format!(
                "{name}: `{command}`: stderr differs from expected.stderr (empty if absent)\n{}",
                diff(&want_stderr, &r.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

// 8. Every input column is kept with its cell bytes unchanged.
#[test]
fn golden_outputs_start_each_line_with_the_input_line_and_a_comma() {
    for case in golden_cases() {
        let input = std::fs::read(case.join("input.csv")).expect("input.csv");
        let r = run(&golden_args(&case));
        r.code(0);
        let inputs: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        let outputs: Vec<&[u8]> = r.stdout.split(|&b| b == b'\n').collect();
        assert_eq!(
            inputs.len(),
            outputs.len(),
            "{}: line count",
            case.display()
        );
        assert_eq!(inputs.last(), Some(&&b""[..]), "input ends with a newline");
        for (n, (i, o)) in inputs.iter().zip(&outputs).enumerate() {
            if i.is_empty() {
                assert!(o.is_empty(), "{}: line {}", case.display(), n + 1);
                continue;
            }
            assert!(
                o.starts_with(i) && o.get(i.len()) == Some(&b','),
                "{}: output line {} does not start with the input line and a comma\n  input:  {}\n  output: {}",
                case.display(),
                n + 1,
                String::from_utf8_lossy(i),
                String::from_utf8_lossy(o)
            );
        }
    }
}

// ---------------------------------------------------------------------------
// 2. tag-quantization on examples/listings.csv

const LISTINGS_SUMMARY: &str = "rows          41
flagged       7
not flagged   34
missing data  3  (rows lacking VRAM, TDP or MIG, among those above: not flagged unless only MIG is missing and require_mig is false)
";

#[test]
fn tag_quantization_on_listings_matches_golden_and_summary() {
    let r = run(&["tag-quantization", "examples/listings.csv"]);
    r.code(0);
    let want = std::fs::read(fixture("cli/listings_tagged.csv")).expect("golden");
    assert!(
        r.stdout == want,
        "{}",
        diff(&String::from_utf8_lossy(&want), &r.stdout())
    );
    assert_eq!(r.stderr, LISTINGS_SUMMARY);
    // The summary agrees with the column it wrote.
    let out = r.stdout();
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 41);
    assert_eq!(rows.iter().filter(|l| l.ends_with(",true")).count(), 7);
    assert_eq!(rows.iter().filter(|l| l.ends_with(",false")).count(), 34);
}

#[test]
fn tag_quantization_output_file_has_the_same_bytes_and_stdout_is_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("tagged.csv");
    let r = run(&[
        OsString::from("tag-quantization"),
        "examples/listings.csv".into(),
        "-o".into(),
        out.clone().into(),
    ]);
    r.code(0).no_stdout();
    assert_eq!(r.stderr, LISTINGS_SUMMARY);
    let want = std::fs::read(fixture("cli/listings_tagged.csv")).expect("golden");
    assert!(std::fs::read(&out).expect("output written") == want);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["tagged.csv"], "no temporary file left beside it");
}

#[test]
fn tag_quantization_output_file_replaces_an_existing_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("tagged.csv");
    std::fs::write(&out, "stale\n").unwrap();
    let r = run(&[
        OsString::from("tag-quantization"),
        "examples/listings.csv".into(),
        "-o".into(),
        out.clone().into(),
    ]);
    r.code(0).no_stdout();
    let want = std::fs::read(fixture("cli/listings_tagged.csv")).expect("golden");
    assert!(std::fs::read(&out).unwrap() == want);
}

// ---------------------------------------------------------------------------
// 3. The seed's cases through the CLI

#[test]
fn seed_card_meeting_all_criteria_is_flagged() {
    assert_eq!(
        tag_seed_rows("NVIDIA A100 PCIe 80GB,80,250,True\n", &[]),
        ["true"]
    );
}

#[test]
fn seed_20gb_card_is_not_flagged() {
    assert_eq!(tag_seed_rows("A100 20GB,20,250,True\n", &[]), ["false"]);
}

#[test]
fn seed_301w_card_is_not_flagged() {
    assert_eq!(tag_seed_rows("A30 301 W,24,301,True\n", &[]), ["false"]);
}

#[test]
fn seed_card_without_mig_is_not_flagged() {
    assert_eq!(tag_seed_rows("RTX 6000 Ada,48,300,False\n", &[]), ["false"]);
}

#[test]
fn seed_24gb_and_300w_boundaries_are_inclusive() {
    assert_eq!(
        tag_seed_rows("A30 ES,24,300,True\nA30 ES float,24.0,300.0,yes\n", &[]),
        ["true", "true"]
    );
}

#[test]
fn seed_missing_vram_tdp_or_mig_is_not_flagged_and_counted() {
    let rows = "no vram,,250,True\nno tdp,24,NA,True\nno mig,80,300,\n";
    assert_eq!(tag_seed_rows(rows, &[]), ["false", "false", "false"]);
    let r = run_stdin(
        &["tag-quantization", "-"],
        format!("{SEED_HEADER}{rows}").as_bytes(),
    );
    r.code(0);
    assert_eq!(
        r.stderr,
        "rows          3\nflagged       0\nnot flagged   3\nmissing data  3  (rows lacking VRAM, TDP or MIG, among those above: not flagged unless only MIG is missing and require_mig is false)\n"
    );
}

#[test]
fn seed_real_data_columns_tdp_w_and_mig_capable_counts() {
    let r = run_stdin(
        &["tag-quantization", "-"],
        b"model,vram_gb,tdp_w,mig_capable\nA30,24.0,165.0,4.0\nL4,24.0,72.0,0.0\nunknown,0.0,0.0,0.0\n",
    );
    r.code(0);
    assert_eq!(
        r.stdout(),
        "model,vram_gb,tdp_w,mig_capable,quantization_capable\nA30,24.0,165.0,4.0,true\nL4,24.0,72.0,0.0,false\nunknown,0.0,0.0,0.0,false\n"
    );
    r.stderr_has("missing data  1 ");
}

const SEED_24_AND_40: &str = "A30 24GB,24,165,True\nA100 40GB,40,250,True\n";

#[test]
fn set_min_vram_32_changes_the_answer() {
    assert_eq!(tag_seed_rows(SEED_24_AND_40, &[]), ["true", "true"]);
    assert_eq!(
        tag_seed_rows(SEED_24_AND_40, &["--set", "min_vram_gb=32"]),
        ["false", "true"]
    );
}

#[test]
fn set_require_mig_false_flags_cards_without_mig() {
    let row = "RTX 6000 Ada,48,300,False\n";
    assert_eq!(
        tag_seed_rows(row, &["--set", "require_mig=false"]),
        ["true"]
    );
}

#[test]
fn config_file_min_vram_32_changes_the_answer() {
    let config = fixture("cli/configs/min_vram_32.yaml");
    let config = config.to_str().unwrap();
    assert_eq!(
        tag_seed_rows(SEED_24_AND_40, &["--config", config]),
        ["false", "true"]
    );
}

/// A config file is a layer: a key the built-in config lacks is added,
/// and a warning (never an error) says no rule reads it (issue 10).
#[test]
fn config_with_unknown_key_warns_naming_it_and_suggests_the_right_one() {
    let r = tag_seed(&["--config", "tests/fixtures/cli/configs/unknown_key.yaml"]);
    r.code(0);
    r.stderr_has("tests/fixtures/cli/configs/unknown_key.yaml:2:1")
        .stderr_has("config key `min_vram` is never read")
        .stderr_has("did you mean `min_vram_gb`");
}

#[test]
fn config_with_wrong_type_names_key_expected_and_found() {
    let r = tag_seed(&["--config", "tests/fixtures/cli/configs/wrong_type.yaml"]);
    r.code(1).no_stdout();
    r.stderr_has("tests/fixtures/cli/configs/wrong_type.yaml")
        .stderr_has("`require_mig` expects a bool")
        .stderr_has("maybe");
}

/// A bad `--set` is a bad argument: exit 2, like any other.
#[test]
fn set_with_a_value_of_the_wrong_type_fails() {
    let r = tag_seed(&["--set", "require_mig=perhaps"]);
    r.code(2).no_stdout();
    r.stderr_has("--set")
        .stderr_has("`require_mig` expects a bool")
        .stderr_has("perhaps");
}

/// `--set` of a key no layer has adds it (typed by its value); a warning
/// says when no rule reads it (issue 10: was an error).
#[test]
fn set_of_an_unknown_key_adds_it_and_warns_naming_it() {
    let r = tag_seed(&["--set", "nope=1"]);
    r.code(0);
    r.stderr_has("--set:1:1")
        .stderr_has("config key `nope` is never read");
    let r = tag_seed(&["--set", "min_vram=30"]);
    r.code(0);
    r.stderr_has("did you mean `min_vram_gb`");
}

// ---------------------------------------------------------------------------
// 4. Bad input: exit 1 (2 when it cannot run), a precise message, no output
// file left behind, the input unchanged.

#[test]
fn ragged_row_fails_naming_file_and_line() {
    let s = Sandbox::copy("bad/ragged.csv");
    let r = s.tag(&[]);
    r.code(1).no_stdout();
    r.stderr_has(&format!("{}:3:", s.shown()))
        .stderr_has("2 fields")
        .stderr_has("header has 4");
    s.assert_untouched();
}

#[test]
fn cell_that_is_not_a_number_names_line_column_value_and_type() {
    let s = Sandbox::copy("bad/bad_cell.csv");
    let r = s.tag(&[]);
    r.code(1).no_stdout();
    r.stderr_has(&format!("{}:3:", s.shown()))
        .stderr_has("`vram_gb`")
        .stderr_has("\"24GB\"")
        .stderr_has("number");
    s.assert_untouched();
}

#[test]
fn cell_error_through_eval_leaves_nothing_behind() {
    let s = Sandbox::copy("bad/bad_cell.csv");
    let r = run(&[
        OsString::from("eval"),
        "rules/quantization_capable.rule".into(),
        s.input.clone().into(),
        "-o".into(),
        s.out().into(),
    ]);
    r.code(1).no_stdout();
    r.stderr_has(&format!("{}:3:", s.shown()))
        .stderr_has("`vram_gb`")
        .stderr_has("24GB");
    s.assert_untouched();
}

#[test]
fn bad_cell_after_the_first_batch_leaves_no_partial_output() {
    // Over 1 MiB of good rows (more than one read batch, so some output has
    // already been written to the temporary file), then a bad cell.
    let good = "NVIDIA A100 PCIe 80GB with a long enough title,80,300,True\n";
    let rows = (2 << 20) / good.len();
    let mut input = String::from(SEED_HEADER);
    for _ in 0..rows {
        input.push_str(good);
    }
    input.push_str("NVIDIA A30 24GB,24,300W,True\n");
    let s = Sandbox::with("big.csv", input.as_bytes());
    let r = s.tag(&[]);
    r.code(1).no_stdout();
    r.stderr_has(&format!("{}:{}:", s.shown(), rows + 2))
        .stderr_has("`tdp_watts`")
        .stderr_has("\"300W\"");
    s.assert_untouched();
}

#[test]
fn empty_file_fails_because_a_header_is_required() {
    let s = Sandbox::copy("bad/empty.csv");
    let r = s.tag(&[]);
    r.code(1).no_stdout();
    r.stderr_has(&s.shown()).stderr_has("header");
    s.assert_untouched();
}

#[test]
fn header_only_file_gets_the_new_column() {
    let s = Sandbox::copy("bad/header_only.csv");
    let r = s.tag(&[]);
    r.code(0).no_stdout();
    r.stderr_has("rows          0\n");
    assert_eq!(
        std::fs::read_to_string(s.out()).expect("output written"),
        "model,vram_gb,tdp_w,mig_capable,quantization_capable\n"
    );
    assert_eq!(s.names(), ["header_only.csv", "out.csv"]);
    let r = run(&[OsString::from("tag-quantization"), s.input.clone().into()]);
    r.code(0);
    assert_eq!(
        r.stdout(),
        "model,vram_gb,tdp_w,mig_capable,quantization_capable\n"
    );
}

#[test]
fn field_whose_columns_are_absent_fails_before_any_row() {
    // Its one row has a bad cell too: the header check must come first.
    let s = Sandbox::copy("bad/missing_tdp_column.csv");
    let r = s.tag(&[]);
    r.code(1).no_stdout();
    r.stderr_has(&s.shown())
        .stderr_has("`tdp_watts`")
        .stderr_has("tdp_watts, tdp_w")
        .stderr_has("model, vram_gb, mig_support");
    assert!(!r.stderr.contains("24GB"), "{}", r.stderr);
    s.assert_untouched();
}

#[test]
fn output_column_already_in_the_input_fails_without_replace() {
    let s = Sandbox::copy("bad/output_exists.csv");
    let r = s.tag(&[]);
    r.code(1).no_stdout();
    r.stderr_has(&s.shown())
        .stderr_has("`quantization_capable` already exists")
        .stderr_has("--replace");
    s.assert_untouched();
}

#[test]
fn replace_overwrites_the_existing_column_in_place() {
    let s = Sandbox::copy("bad/output_exists.csv");
    let r = s.tag(&["--replace"]);
    r.code(0).no_stdout();
    assert_eq!(
        std::fs::read_to_string(s.out()).expect("output written"),
        "model,quantization_capable,vram_gb,tdp_watts,mig_support\n\
         NVIDIA A30 24GB,true,24,165,True\n\
         \"NVIDIA L4, 24GB\",false,24,72,False\n"
    );
    assert_eq!(std::fs::read(&s.input).unwrap(), s.bytes);
}

#[test]
fn output_over_the_input_is_refused() {
    let s = Sandbox::copy("bad/header_only.csv");
    let r = run(&[
        OsString::from("tag-quantization"),
        s.input.clone().into(),
        "-o".into(),
        s.input.clone().into(),
    ]);
    r.code(2).no_stdout();
    r.stderr_has("refusing to write the output over the input");
    s.assert_untouched();
    // Another spelling of the same path is the same file.
    let other = s.dir.path().join(".").join("header_only.csv");
    let r = run(&[
        OsString::from("eval"),
        "rules/quantization_capable.rule".into(),
        s.input.clone().into(),
        "-o".into(),
        other.into(),
    ]);
    r.code(2).no_stdout();
    r.stderr_has("refusing");
    s.assert_untouched();
}

#[test]
fn missing_input_file_cannot_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nowhere.csv");
    for args in [
        vec![OsString::from("tag-quantization"), missing.clone().into()],
        vec![
            OsString::from("eval"),
            "rules".into(),
            missing.clone().into(),
            "-o".into(),
            dir.path().join("out.csv").into(),
        ],
    ] {
        let r = run(&args);
        r.code(2).no_stdout();
        r.stderr_has(&missing.display().to_string());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

#[test]
fn missing_rule_file_cannot_run() {
    let s = Sandbox::copy("bad/header_only.csv");
    let r = run(&[
        OsString::from("eval"),
        "tests/fixtures/cli/bad/no_such.rule".into(),
        s.input.clone().into(),
        "-o".into(),
        s.out().into(),
    ]);
    r.code(2).no_stdout();
    r.stderr_has("no_such.rule");
    s.assert_untouched();
}

#[test]
fn rules_with_errors_print_diagnostics_and_write_nothing() {
    let s = Sandbox::copy("golden/shipped_rules/input.csv");
    let r = run(&[
        OsString::from("eval"),
        "tests/fixtures/cli/bad/errors.rule".into(),
        s.input.clone().into(),
        "-o".into(),
        s.out().into(),
    ]);
    r.code(1).no_stdout();
    // Both errors, each pointing at its file and line.
    r.stderr_has("unknown name `vram_gbb`")
        .stderr_has("did you mean `vram_gb`?")
        .stderr_has("tests/fixtures/cli/bad/errors.rule:2:")
        .stderr_has("tests/fixtures/cli/bad/errors.rule:3:")
        .stderr_has("x != 0")
        .stderr_has("2 errors in the rules; nothing was written");
    s.assert_untouched();
}

// ---------------------------------------------------------------------------
// 5. --lenient

#[test]
fn lenient_counts_unparseable_cells_as_missing() {
    let s = Sandbox::copy("bad/lenient.csv");
    s.tag(&[]).code(1).stderr_has(":2:");
    s.assert_untouched();
    let r = s.tag(&["--lenient"]);
    r.code(0).no_stdout();
    assert_eq!(
        std::fs::read_to_string(s.out()).expect("output written"),
        "model,vram_gb,tdp_watts,mig_support,quantization_capable\n\
         NVIDIA A30 24GB,24GB,165,True,false\n\
         NVIDIA A100 PCIe 80GB,80,300,maybe,false\n\
         NVIDIA A100 PCIe 40GB,40,250,True,true\n\
         NVIDIA L4 24GB,24,72,False,false\n"
    );
    r.stderr_has("rows          4\n")
        .stderr_has("flagged       1\n")
        .stderr_has("missing data  2 ")
        .stderr_has("--lenient: 2 cells could not be read")
        .stderr_has(&format!("{}:2: column `vram_gb`", s.shown()))
        .stderr_has(&format!("{}:3: column `mig_support`", s.shown()))
        .stderr_has("\"maybe\"");
}

#[test]
fn lenient_eval_reports_bad_cells_on_stderr() {
    let r = run_stdin(
        &["eval", "--lenient", "rules/price.rule", "-"],
        b"price,vram_gb\n$100,10\n100,ten\n100,10\n",
    );
    r.code(0);
    assert_eq!(
        r.stdout(),
        "price,vram_gb,price_per_gb_vram\n$100,10,\n100,ten,\n100,10,10\n"
    );
    r.stderr_has("--lenient: 2 cells")
        .stderr_has("<stdin>:2: column `price`")
        .stderr_has("<stdin>:3: column `vram_gb`");
}

// ---------------------------------------------------------------------------
// 6. CSV robustness

#[test]
fn crlf_input_keeps_crlf() {
    let input = b"model,vram_gb,tdp_watts,mig_support\r\nA30,24,165,True\r\n\"two\r\nlines\",20,165,True\r\n";
    let r = run_stdin(&["tag-quantization", "-"], input);
    r.code(0);
    assert_eq!(
        String::from_utf8_lossy(&r.stdout),
        "model,vram_gb,tdp_watts,mig_support,quantization_capable\r\n\
         A30,24,165,True,true\r\n\
         \"two\r\nlines\",20,165,True,false\r\n"
    );
}

#[test]
fn utf8_bom_header_matches_and_bom_is_preserved() {
    // The BOM sits before `vram_gb`, a column the rule reads.
    let input = "\u{feff}vram_gb,tdp_watts,mig_support,seller\n24,300,True,Köln GPU\n";
    let r = run_stdin(&["tag-quantization", "-"], input.as_bytes());
    r.code(0);
    assert_eq!(
        r.stdout(),
        "\u{feff}vram_gb,tdp_watts,mig_support,seller,quantization_capable\n24,300,True,Köln GPU,true\n"
    );
}

#[test]
fn quoted_commas_quotes_and_newlines_pass_through_byte_for_byte() {
    // Quoting that a re-writer would normalise: needless quotes, doubled
    // quotes, an embedded newline, and an empty quoted cell.
    let rows = [
        "\"A30, 24GB\",\"24\",165,True,\"He said \"\"mint\"\"\"",
        "\"L4\",24,72,False,\"line one\nline two\"",
        "A2,\"\",60,False,\"\"",
    ];
    let input = format!(
        "model,vram_gb,tdp_watts,mig_support,notes\n{}\n",
        rows.join("\n")
    );
    let r = run_stdin(&["tag-quantization", "-"], input.as_bytes());
    r.code(0);
    assert_eq!(
        r.stdout(),
        format!(
            "model,vram_gb,tdp_watts,mig_support,notes,quantization_capable\n{},true\n{},false\n{},false\n",
            rows[0], rows[1], rows[2]
        )
    );
}

#[test]
fn invalid_utf8_in_an_unread_column_passes_through() {
    let input: &[u8] =
        b"model,vram_gb,tdp_watts,mig_support,notes\nA30 \xff\xfe,24,165,True,caf\xe9 \x80\nL4,24,72,False,ok\n";
    let r = run_stdin(&["tag-quantization", "-"], input);
    r.code(0);
    let want: &[u8] = b"model,vram_gb,tdp_watts,mig_support,notes,quantization_capable\nA30 \xff\xfe,24,165,True,caf\xe9 \x80,true\nL4,24,72,False,ok,false\n";
    assert!(
        r.stdout == want,
        "got {:?}",
        String::from_utf8_lossy(&r.stdout)
    );
}

#[test]
fn invalid_utf8_in_a_read_string_column_is_an_error() {
    let case = "tests/fixtures/cli/golden/custom_rules";
    let r = run_stdin(
        &[
            "eval".to_string(),
            format!("{case}/rules/labels.rule"),
            "-".to_string(),
            "--config".to_string(),
            format!("{case}/config.yaml"),
        ],
        b"model,nvlink,vram_gb\nok,true,24\nbad \xff,true,24\n",
    );
    r.code(1);
    r.stderr_has("<stdin>:3:")
        .stderr_has("`model`")
        .stderr_has("UTF-8");
}

#[test]
fn eval_reads_stdin_and_writes_stdout() {
    let r = run_stdin(
        &["eval", "rules/power.rule", "-"],
        b"tdp_w,slots,vram_gb,generation\n150,1,16,Turing\n301,2,80,Hopper\n",
    );
    r.code(0);
    assert_eq!(r.stderr, "");
    assert_eq!(
        r.stdout(),
        "tdp_w,slots,vram_gb,generation,power_class,rack_friendly,underpowered\n\
         150,1,16,Turing,low,true,true\n\
         301,2,80,Hopper,high,false,false\n"
    );
}

#[test]
fn stdin_with_output_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("o.csv");
    let r = run_stdin(
        &[
            OsString::from("tag-quantization"),
            "-".into(),
            "-o".into(),
            out.clone().into(),
        ],
        format!("{SEED_HEADER}A30,24,165,True\n").as_bytes(),
    );
    r.code(0).no_stdout();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "model,vram_gb,tdp_watts,mig_support,quantization_capable\nA30,24,165,True,true\n"
    );
}

// ---------------------------------------------------------------------------
// 7. --only, --schema, output order

const SHIPPED_INPUT: &str = "tests/fixtures/cli/golden/shipped_rules/input.csv";

#[test]
fn only_picks_the_named_columns_in_the_order_given() {
    let r = run(&[
        "eval",
        "rules",
        SHIPPED_INPUT,
        "--only",
        "power_class,capacity_7b",
    ]);
    r.code(0);
    let out = r.stdout();
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            "title,seller,price,vram_gb,tdp_w,mig_capable,is_valid_gpu,nvlink,slots,generation,notes,power_class,capacity_7b"
        )
    );
    assert!(
        lines.next().is_some_and(|l| l.ends_with(",Ampere,,mid,22")),
        "{out}"
    );
    assert_eq!(lines.count(), 12);
}

#[test]
fn only_with_an_unknown_name_fails_with_did_you_mean() {
    let r = run(&["eval", "rules", SHIPPED_INPUT, "--only", "power_clas"]);
    r.code(2).no_stdout();
    r.stderr_has("`power_clas`")
        .stderr_has("did you mean `power_class`?");
}

#[test]
fn custom_schema_is_what_makes_custom_fields_resolve() {
    // The golden case custom_schema runs with --schema; without it, the
    // rule set's fields are unknown names.
    let case = "tests/fixtures/cli/golden/custom_schema";
    let r = run(&[
        "eval".to_string(),
        format!("{case}/cards.rule"),
        format!("{case}/input.csv"),
    ]);
    r.code(1).no_stdout();
    r.stderr_has("unknown name `memory_mb`")
        .stderr_has("unknown name `watts`");
}

#[test]
fn output_columns_follow_sorted_rule_paths_then_source_order() {
    // order/rules holds b.rule (zeta, then alpha, which zeta reads), a.rule
    // (middle) and m/c.rule (last).
    let r = run_stdin(
        &["eval", "tests/fixtures/cli/order/rules", "-"],
        b"vram_gb\n24\n",
    );
    r.code(0);
    assert_eq!(
        r.stdout(),
        "vram_gb,middle,zeta,alpha,last\n24,1,false,true,12\n"
    );
    // Files named on the command line keep the order given.
    let r = run_stdin(
        &[
            "eval",
            "tests/fixtures/cli/order/rules/m/c.rule",
            "tests/fixtures/cli/order/rules/b.rule",
            "tests/fixtures/cli/order/rules/a.rule",
            "-",
        ],
        b"vram_gb\n24\n",
    );
    r.code(0);
    assert_eq!(
        r.stdout(),
        "vram_gb,last,zeta,alpha,middle\n24,12,false,true,1\n"
    );
}

/// Regression: `lint ... | head -1` panicked ("failed printing to stdout")
/// and exited 101 when the reader closed the pipe early.
#[test]
fn lint_treats_a_closed_stdout_pipe_as_success() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("many.rule");
    let text: String = (0..3000)
        .map(|i| format!("rule r{i}: int = 1 + x{i}\n"))
        .collect();
    std::fs::write(&rules, text).expect("write rules");
    for format in ["human", "json"] {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("glyphsieve"))
            .args(["lint", "--color", "never", "--format", format])
            .arg(&rules)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn glyphsieve");
        let mut first = [0u8; 1];
        child
            .stdout
            .take()
            .expect("stdout")
            .read_exact(&mut first)
            .expect("some output");
        let out = child.wait_with_output().expect("wait");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: errors found, no panic"
        );
        assert!(
            out.stderr.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Regression: an error after more batches than the pipeline has slots left
/// the reader thread waiting for a slot forever, and the run never ended.
#[test]
fn an_error_deep_into_a_large_input_ends_the_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("big.csv");
    let mut text = String::from("model,vram_gb,tdp_watts,mig_support\n");
    for i in 0..20_000 {
        text.push_str(&format!("card with a long enough name {i},80,300,True\n"));
    }
    text.push_str("broken,abc,300,True\n");
    // Far more batches after the error than the pipeline has slots.
    for i in 0..150_000 {
        text.push_str(&format!("late card {i},80,300,True\n"));
    }
    std::fs::write(&input, &text).expect("write input");
    let out = dir.path().join("out.csv");
    for threads in ["1", "2"] {
        let assert = crate::support::glyphsieve()
            .args(["tag-quantization", "--threads", threads, "-o"])
            .arg(&out)
            .arg(&input)
            .timeout(std::time::Duration::from_secs(60))
            .assert()
            .code(1);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(stderr.contains(":20002: column `vram_gb`"), "{stderr}");
        assert!(!out.exists(), "no output file after a failed run");
    }
}

// ---------------------------------------------------------------------------
// Regressions from review

/// The binary as a std `Command`, for wiring files to stdin or stdout.
fn plain_command() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("glyphsieve"));
    cmd.current_dir(root()).env("NO_COLOR", "1");
    cmd
}

/// `--only` needs (and parses) only what the chosen rules read: here the
/// input has no price column and a bad `generation` cell, neither of which
/// `quantization_capable` reads.
#[test]
fn only_parses_just_what_the_chosen_rules_read() {
    let input = "model,vram_gb,tdp_watts,mig_support,generation\nA30,24,165,True,Ampere\n";
    let r = run_stdin(
        &["eval", "rules/", "-", "--only", "quantization_capable"],
        input.as_bytes(),
    );
    r.code(0);
    assert_eq!(
        r.stdout(),
        "model,vram_gb,tdp_watts,mig_support,generation,quantization_capable\nA30,24,165,True,Ampere,true\n"
    );
    // The full rule set reads price, which this input lacks.
    run_stdin(&["eval", "rules/", "-"], input.as_bytes())
        .code(1)
        .stderr_has("field `price`");
}

#[test]
fn only_naming_a_rule_twice_is_refused() {
    run(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--only",
        "power_class,power_class",
    ])
    .code(2)
    .no_stdout()
    .stderr_has("--only names `power_class` twice");
}

/// `- -o FILE < FILE` would replace the input it is still reading.
#[test]
fn stdin_input_is_not_overwritten_through_o() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("in.csv");
    let text = format!("{SEED_HEADER}A30,24,165,True\n");
    std::fs::write(&path, &text).expect("write input");
    let file = std::fs::File::open(&path).expect("open input");
    let out = plain_command()
        .args(["tag-quantization", "-", "-o"])
        .arg(&path)
        .stdin(file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("refusing to write the output over the input")
    );
    assert_eq!(std::fs::read_to_string(&path).expect("input"), text);
}

#[test]
fn o_dash_writes_to_stdout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = finish(
        glyphsieve()
            .current_dir(dir.path())
            .args(["tag-quantization", "-", "-o", "-"])
            .write_stdin(format!("{SEED_HEADER}A30,24,165,True\n"))
            .output(),
    );
    r.code(0);
    assert!(
        r.stdout().ends_with("A30,24,165,True,true\n"),
        "{}",
        r.stdout()
    );
    assert!(!dir.path().join("-").exists(), "no file named `-`");
}

/// A failed write names the output, not the input, and is exit 2.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_names_the_output_and_exits_2() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = plain_command()
        .args(["tag-quantization", "examples/listings.csv"])
        .stdout(full)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot write <stdout>"), "{stderr}");
    assert!(!stderr.contains("listings.csv"), "{stderr}");
}

/// A link from a rule folder to itself is not followed (it used to loop).
#[cfg(unix)]
#[test]
fn rule_folders_follow_links_without_looping_and_files_count_once() {
    // tmp/rules/{power.rule, self -> ., up -> .., shared -> ../common}
    // tmp/common/extra.rule
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("rules");
    let common = dir.path().join("common");
    std::fs::create_dir_all(&rules).expect("mkdir");
    std::fs::create_dir_all(&common).expect("mkdir");
    std::fs::copy(root().join("rules/power.rule"), rules.join("power.rule")).expect("copy");
    std::fs::write(common.join("extra.rule"), "rule extra: bool = nvlink\n").expect("write");
    std::os::unix::fs::symlink(".", rules.join("self")).expect("link");
    std::os::unix::fs::symlink("..", rules.join("up")).expect("link");
    std::os::unix::fs::symlink("../common", rules.join("shared")).expect("link");
    let r = finish(
        glyphsieve()
            .args(["lint", "--color", "never"])
            .arg(&rules)
            .arg(rules.join("power.rule"))
            .timeout(std::time::Duration::from_secs(20))
            .output(),
    );
    r.code(0);
    assert_eq!(r.stdout(), "2 files, 4 rules: 0 errors, 0 warnings\n");
}

/// Regression: a dangling link named `.rule` in a rules folder was skipped
/// without a word.
#[test]
fn a_dangling_rule_link_in_a_folder_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("a.rule"), "rule a: int = 1\n").expect("write");
    std::os::unix::fs::symlink("gone.rule", dir.path().join("b.rule")).expect("link");
    let r = finish(glyphsieve().arg("lint").arg(dir.path()).output());
    r.code(2).stderr_has("b.rule");
}

/// Regression: invalid UTF-8 in a rule file was reported without a place.
#[test]
fn invalid_utf8_in_a_rule_file_names_line_column_and_byte() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bad.rule");
    std::fs::write(&file, b"rule a: int = 1\nrule b: string = \"x\xff\"\n").expect("write");
    let r = finish(glyphsieve().arg("lint").arg(&file).output());
    r.code(2)
        .stderr_has("invalid UTF-8 at line 2, column 20 (byte 35)");
}

#[test]
fn non_finite_config_values_are_rejected() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("nan.yaml");
    std::fs::write(&config, "min_vram_gb: .nan\n").expect("write config");
    run_stdin(
        &[
            OsString::from("tag-quantization"),
            "-".into(),
            "--config".into(),
            config.into(),
        ],
        format!("{SEED_HEADER}A30,24,165,True\n").as_bytes(),
    )
    .code(1)
    .stderr_has("key `min_vram_gb` expects a float, found a non-finite number");
}

/// The summary's "missing data" is about the input, whatever the config.
#[test]
fn summary_missing_data_does_not_claim_not_flagged() {
    let r = run_stdin(
        &["tag-quantization", "-", "--set", "require_mig=false"],
        format!("{SEED_HEADER}A,24,300,\n").as_bytes(),
    );
    r.code(0);
    assert!(r.stdout().ends_with("A,24,300,,true\n"), "{}", r.stdout());
    assert!(r.stderr.contains("flagged       1\n"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("missing data  1  (rows lacking VRAM, TDP or MIG, among those above: not flagged unless only MIG is missing and require_mig is false)\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_duplicated_column_that_a_rule_reads_is_an_error() {
    run_stdin(
        &["tag-quantization", "-"],
        b"model,vram_gb,vram_gb,tdp_watts,mig_support\nA,24,30,300,True\n",
    )
    .code(1)
    .no_stdout()
    .stderr_has("more than one column `vram_gb`");
    // A duplicated column no rule reads passes through.
    let r = run_stdin(
        &["tag-quantization", "-"],
        b"model,x,x,vram_gb,tdp_watts,mig_support\nA,1,2,24,300,True\n",
    );
    r.code(0);
    assert!(
        r.stdout().ends_with("A,1,2,24,300,True,true\n"),
        "{}",
        r.stdout()
    );
}

#[test]
fn only_naming_a_let_says_lets_are_not_columns() {
    run(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--only",
        "usable_vram_gb",
    ])
    .code(2)
    .stderr_has("`usable_vram_gb` is a let, not a rule");
}

#[test]
fn set_with_a_cfg_prefix_says_to_drop_it() {
    run(&[
        "tag-quantization",
        "examples/listings.csv",
        "--set",
        "cfg.min_vram_gb=32",
    ])
    .code(2)
    .stderr_has("`--set min_vram_gb=32`");
}

//! Every diagnostic code through the real binary: the rendered report and the
//! JSON, their spans, exit codes, and the cases where lint cannot run.

use crate::support::{JSON_KEYS, glyphsieve};
use glyphsieve::diagnostic::{CODES, Code};
use serde_json::Value;
use std::path::Path;

/// One fixture under tests/fixtures/lint that triggers exactly one diagnostic.
struct Case {
    code: &'static str,
    name: &'static str,
    /// The fixture's file name; its stem names the snapshots.
    fixture: &'static str,
    /// Extra arguments to `lint`.
    args: &'static [&'static str],
    /// The file the diagnostic points into (the fixture unless it is a config).
    file: &'static str,
    /// line, column, end_line, end_column: 1-based, end exclusive.
    at: (usize, usize, usize, usize),
    /// The exact help text, or None when the diagnostic has none.
    help: Option<&'static str>,
}

const DIR: &str = "tests/fixtures/lint";

const fn case(
    code: &'static str,
    name: &'static str,
    fixture: &'static str,
    at: (usize, usize, usize, usize),
    help: Option<&'static str>,
) -> Case {
    Case {
        code,
        name,
        fixture,
        args: &[],
        file: "",
        at,
        help,
    }
}

/// Every lint code: where its diagnostic must point, and its help.
/// E501 (overflow) is a runtime error of `eval`, covered by `e501_overflow`.
const CASES: &[Case] = &[
    case(
        "E001",
        "syntax-error",
        "e001_syntax_error.rule",
        (1, 34, 1, 37),
        None,
    ),
    case(
        "E002",
        "too-deep",
        "e002_too_deep.rule",
        (3, 69, 3, 70),
        Some("split the expression into `let` helpers"),
    ),
    case(
        "E003",
        "literal-out-of-range",
        "e003_literal_out_of_range.rule",
        (1, 32, 1, 52),
        Some("integers range from -9223372036854775808 to 9223372036854775807"),
    ),
    case(
        "E004",
        "bad-escape",
        "e004_bad_escape.rule",
        (1, 51, 1, 53),
        Some(
            r#"for a backslash in the text (as a regex needs), double it: "PCIe\\q"; the escapes are \" \\ \n \t \r"#,
        ),
    ),
    case(
        "E101",
        "unknown-name",
        "e101_unknown_name.rule",
        (1, 23, 1, 30),
        Some("did you mean `vram_gb`?"),
    ),
    case(
        "E102",
        "unknown-cfg-key",
        "e102_unknown_cfg_key.rule",
        (1, 38, 1, 46),
        Some("did you mean `cfg.min_vram_gb`?"),
    ),
    case(
        "E103",
        "unknown-function",
        "e103_unknown_function.rule",
        (1, 26, 1, 30),
        Some("did you mean `round`?"),
    ),
    case(
        "E104",
        "unknown-variant",
        "e104_unknown_variant.rule",
        (3, 66, 3, 70),
        Some("did you mean `high`?"),
    ),
    case(
        "E105",
        "unknown-type",
        "e105_unknown_type.rule",
        (1, 16, 1, 19),
        Some("did you mean `bool`?"),
    ),
    case(
        "E201",
        "type-mismatch",
        "e201_type_mismatch.rule",
        (1, 27, 1, 38),
        Some("the rule's declared type expects a string"),
    ),
    case(
        "E202",
        "number-as-bool",
        "e202_number_as_bool.rule",
        (1, 24, 1, 34),
        Some("numbers are not truth values; compare explicitly, e.g. `x != 0`"),
    ),
    case(
        "E203",
        "wrong-arity",
        "e203_wrong_arity.rule",
        (1, 26, 1, 38),
        Some("call it as max(a, b, ...)"),
    ),
    case(
        "E204",
        "invalid-regex",
        "e204_invalid_regex.rule",
        (1, 36, 1, 43),
        Some("the syntax is the `regex` crate's (no look-around or backreferences)"),
    ),
    case(
        "E205",
        "pattern-not-literal",
        "e205_pattern_not_literal.rule",
        (1, 40, 1, 45),
        Some(
            "write the regex inline, e.g. matches(model, \"^(H|A)100\"), so it is checked before any row is read",
        ),
    ),
    case(
        "E301",
        "duplicate-name",
        "e301_duplicate_name.rule",
        (2, 6, 2, 14),
        Some("rename or remove one of them"),
    ),
    case(
        "E302",
        "cycle",
        "e302_cycle.rule",
        (1, 6, 1, 12),
        Some("a rule cannot use its own value, directly or through other rules and lets"),
    ),
    case(
        "W401",
        "division-by-zero",
        "w401_division_by_zero.rule",
        (1, 36, 1, 37),
        Some("division by zero gives a missing value; divide by something else"),
    ),
    case(
        "W402",
        "self-comparison",
        "w402_self_comparison.rule",
        (1, 32, 1, 34),
        Some("compare with another value; to test for a missing value use is_missing(x)"),
    ),
    case(
        "W403",
        "unused-let",
        "w403_unused_let.rule",
        (1, 5, 1, 15),
        Some("use it in a rule, or remove it"),
    ),
    Case {
        args: &["--config", "tests/fixtures/lint/w404.yaml"],
        file: "tests/fixtures/lint/w404.yaml",
        ..case(
            "W404",
            "unused-cfg-key",
            "w404_unused_cfg_key.rule",
            (4, 1, 4, 17),
            Some("read it as `cfg.max_price_per_gb` in a rule, or remove it"),
        )
    },
    case(
        "W405",
        "dangling-doc",
        "w405_dangling_doc.rule",
        (3, 1, 3, 38),
        Some("use `#` for a plain comment"),
    ),
    // `lint --data`: each fixture has a CSV of its name beside it.
    Case {
        args: &["--data", "tests/fixtures/lint/w501_constant_rule.csv"],
        ..case(
            "W501",
            "constant-rule",
            "w501_constant_rule.rule",
            (2, 6, 2, 10),
            Some(
                "a rule with one value tells the rows apart by nothing: check its thresholds and the strings it compares against the data (`eval --summary` shows each rule's values)",
            ),
        )
    },
    Case {
        args: &["--data", "tests/fixtures/lint/w502_literal_not_in_data.csv"],
        ..case(
            "W502",
            "literal-not-in-data",
            "w502_literal_not_in_data.rule",
            (2, 36, 2, 41),
            Some("did you mean `\"New\"`? Strings compare exactly: case and spaces count"),
        )
    },
    Case {
        args: &[
            "--data",
            "tests/fixtures/lint/w503_field_always_missing.csv",
        ],
        ..case(
            "W503",
            "field-always-missing",
            "w503_field_always_missing.rule",
            (2, 24, 2, 35),
            Some(
                "its column (`mig_support` or `mig_capable`) holds only empty cells or null markers; check the column, or the field's `nulls`",
            ),
        )
    },
    Case {
        args: &[
            "--data",
            "tests/fixtures/lint/w504_threshold_out_of_range.csv",
        ],
        ..case(
            "W504",
            "threshold-out-of-range",
            "w504_threshold_out_of_range.rule",
            (2, 19, 2, 34),
            Some("the threshold is outside the data's range (24 to 80): check its value and unit"),
        )
    },
    Case {
        args: &["--data", "tests/fixtures/lint/w505_unused_null_marker.csv"],
        ..case(
            "W505",
            "unused-null-marker",
            "w505_unused_null_marker.rule",
            (1, 45, 1, 54),
            Some(
                "markers match after trimming spaces, ignoring ASCII case; check its spelling against the data, or remove it",
            ),
        )
    },
];

/// Output of one run: exit code (None if killed by a signal), stdout, stderr.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = glyphsieve().args(args).output().expect("glyphsieve runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn lint(path: &str, extra: &[&str]) -> Run {
    let mut args = vec!["lint", path];
    args.extend_from_slice(extra);
    run(args)
}

/// Parse lint's JSON and check every element has exactly the documented keys
/// with the documented types.
fn parse_json(text: &str) -> Vec<Value> {
    let value: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("lint --format json is not JSON ({e}):\n{text}"));
    let items = value.as_array().expect("a JSON array").clone();
    for d in &items {
        let obj = d.as_object().expect("each diagnostic is an object");
        // `fix` is there only when the diagnostic has one.
        let mut keys: Vec<&str> = obj
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "fix")
            .collect();
        if let Some(fix) = obj.get("fix") {
            assert!(
                fix["replacement"].is_string(),
                "`fix` has a replacement: {d}"
            );
            for k in ["line", "column", "end_line", "end_column"] {
                assert!(fix[k].as_u64().is_some_and(|n| n >= 1), "fix `{k}` in {d}");
            }
        }
        let mut want = JSON_KEYS.to_vec();
        keys.sort_unstable();
        want.sort_unstable();
        assert_eq!(keys, want, "keys of {d}");
        for k in ["code", "name", "severity", "message", "file", "label"] {
            assert!(obj[k].is_string(), "`{k}` is a string in {d}");
        }
        for k in ["line", "column", "end_line", "end_column"] {
            assert!(obj[k].as_u64().is_some_and(|n| n >= 1), "`{k}` >= 1 in {d}");
        }
        assert!(
            obj["help"].is_string() || obj["help"].is_null(),
            "`help` is a string or null in {d}"
        );
        assert!(
            obj["related"]
                .as_array()
                .is_some_and(|r| r.iter().all(|n| n["message"].is_string()
                    && n["file"].is_string()
                    && n["line"].as_u64().is_some_and(|l| l >= 1))),
            "`related` is a list of places in {d}"
        );
        let sev = obj["severity"].as_str().unwrap_or_default();
        assert!(sev == "error" || sev == "warning", "severity in {d}");
    }
    items
}

fn codes(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|d| d["code"].as_str().unwrap_or(""))
        .collect()
}

fn position(d: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| d[k].as_u64().unwrap_or(0);
    (n("line"), n("column"), n("end_line"), n("end_column"))
}

fn find(code: &str) -> &'static Case {
    CASES
        .iter()
        .find(|c| c.code == code)
        .unwrap_or_else(|| panic!("no case for {code}"))
}

/// Lint one fixture in both formats: snapshot both, check exit codes, the
/// JSON shape, and that both formats put the diagnostic at the expected span.
fn check(code: &str) {
    check_case(find(code));
}

fn check_case(case: &Case) {
    let code = case.code;
    let path = format!("{DIR}/{}", case.fixture);
    let stem = case.fixture.trim_end_matches(".rule");
    let file = if case.file.is_empty() {
        path.as_str()
    } else {
        case.file
    };
    let warning = code.starts_with('W');
    let exit = if warning { 0 } else { 1 };
    let (line, column, end_line, end_column) = case.at;

    let mut args = vec!["--color", "never"];
    args.extend_from_slice(case.args);
    let human = lint(&path, &args);
    assert_eq!(
        human.code,
        Some(exit),
        "{code} human exit; stderr: {}",
        human.stderr
    );
    assert_eq!(human.stderr, "", "{code}: lint writes its report to stdout");
    assert!(
        human.stdout.contains(&format!("{code}({})", case.name)),
        "{code}: the report names the code:\n{}",
        human.stdout
    );
    assert!(
        human.stdout.contains(&format!("[{file}:{line}:{column}]")),
        "{code}: the report points at {file}:{line}:{column}:\n{}",
        human.stdout
    );
    let summary = if warning {
        ": 0 errors, 1 warning\n"
    } else {
        ": 1 error, 0 warnings\n"
    };
    assert!(
        human.stdout.ends_with(summary),
        "{code}: summary line:\n{}",
        human.stdout
    );
    assert!(
        !human.stdout.contains('\u{1b}'),
        "{code}: --color never has no escapes"
    );
    insta::assert_snapshot!(format!("{stem}_human"), human.stdout);

    let mut args = vec!["--format", "json"];
    args.extend_from_slice(case.args);
    let json = lint(&path, &args);
    assert_eq!(
        json.code,
        Some(exit),
        "{code} json exit; stderr: {}",
        json.stderr
    );
    assert_eq!(json.stderr, "", "{code}: lint writes JSON to stdout");
    let items = parse_json(&json.stdout);
    assert_eq!(codes(&items), [code], "{code}: exactly one diagnostic");
    let d = &items[0];
    assert_eq!(d["name"], case.name, "{code}: name");
    assert_eq!(
        d["severity"],
        if warning { "warning" } else { "error" },
        "{code}: severity"
    );
    assert_eq!(d["file"], file, "{code}: file");
    assert_eq!(
        position(d),
        (
            line as u64,
            column as u64,
            end_line as u64,
            end_column as u64
        ),
        "{code}: span (line, column, end_line, end_column)"
    );
    assert!(
        !d["message"].as_str().unwrap_or("").is_empty(),
        "{code}: message"
    );
    assert!(
        !d["label"].as_str().unwrap_or("").is_empty(),
        "{code}: label"
    );
    assert_eq!(d["help"].as_str(), case.help, "{code}: help");
    insta::assert_snapshot!(format!("{stem}_json"), json.stdout);

    if warning {
        let mut args = vec!["--deny", "warnings", "--color", "never"];
        args.extend_from_slice(case.args);
        let denied = lint(&path, &args);
        assert_eq!(denied.code, Some(1), "{code}: --deny warnings fails");
        assert_eq!(
            denied.stdout, human.stdout,
            "{code}: same report when denied"
        );
    }
}

macro_rules! code_tests {
    ($($test:ident => $code:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check($code);
            }
        )*
    };
}

code_tests! {
    e001_syntax_error => "E001",
    e002_too_deep => "E002",
    e003_literal_out_of_range => "E003",
    e004_bad_escape => "E004",
    e101_unknown_name => "E101",
    e102_unknown_cfg_key => "E102",
    e103_unknown_function => "E103",
    e104_unknown_variant => "E104",
    e105_unknown_type => "E105",
    e201_type_mismatch => "E201",
    e202_number_as_bool => "E202",
    e203_wrong_arity => "E203",
    e204_invalid_regex => "E204",
    e205_pattern_not_literal => "E205",
    e301_duplicate_name => "E301",
    e302_cycle => "E302",
    w401_division_by_zero => "W401",
    w402_self_comparison => "W402",
    w403_unused_let => "W403",
    w404_unused_cfg_key => "W404",
    w405_dangling_doc => "W405",
    w501_constant_rule => "W501",
    w502_literal_not_in_data => "W502",
    w503_field_always_missing => "W503",
    w504_threshold_out_of_range => "W504",
    w505_unused_null_marker => "W505",
}

/// Habits from other languages (`&&`, `'text'`, `True`, `null`, `elif`...):
/// each is one diagnostic whose span is the offending text and whose help
/// says what to write instead. Fixtures are named `habit_*.rule`.
const HABITS: &[Case] = &[
    case(
        "E001",
        "syntax-error",
        "habit_single_equals.rule",
        (2, 31, 2, 32),
        Some("write `==` to compare; a single `=` only defines a rule or let"),
    ),
    case(
        "E001",
        "syntax-error",
        "habit_double_ampersand.rule",
        (1, 38, 1, 40),
        Some("write `and` instead of `&&`"),
    ),
    case(
        "E001",
        "syntax-error",
        "habit_double_pipe.rule",
        (1, 35, 1, 37),
        Some("write `or` instead of `||`"),
    ),
    case(
        "E001",
        "syntax-error",
        "habit_bang.rule",
        (1, 21, 1, 22),
        Some("write `not` instead of `!`: `not mig_support`"),
    ),
    case(
        "E001",
        "syntax-error",
        "habit_single_quotes.rule",
        (1, 31, 1, 37),
        Some("strings use double quotes: `\"H100\"`"),
    ),
    case(
        "E101",
        "unknown-name",
        "habit_capitalised_true.rule",
        (1, 31, 1, 35),
        Some("bools are written in lowercase: `true`"),
    ),
    case(
        "E101",
        "unknown-name",
        "habit_capitalised_false.rule",
        (1, 27, 1, 32),
        Some("bools are written in lowercase: `false`"),
    ),
    case(
        "E101",
        "unknown-name",
        "habit_null.rule",
        (1, 32, 1, 36),
        Some("there is no null value; a missing value is tested with `is_missing(price)`"),
    ),
    case(
        "E101",
        "unknown-name",
        "habit_none.rule",
        (1, 30, 1, 34),
        Some("there is no null value; a present value is tested with `not is_missing(price)`"),
    ),
    case(
        "E101",
        "unknown-name",
        "habit_unquoted_string.rule",
        (1, 34, 1, 37),
        Some("`New` names nothing; to compare with the text, quote it: `\"New\"`"),
    ),
    case(
        "E001",
        "syntax-error",
        "habit_elif.rule",
        (2, 5, 2, 9),
        Some("write `else if` instead of `elif`"),
    ),
    case(
        "E001",
        "syntax-error",
        "habit_rule_without_type.rule",
        (1, 10, 1, 11),
        Some(
            "a rule declares its type: `rule NAME: TYPE = EXPR`, where TYPE is bool, int, float, string or an enum (e.g. `rule big: bool = vram_gb >= 48`)",
        ),
    ),
    case(
        "E001",
        "syntax-error",
        "habit_let_with_type.rule",
        (1, 11, 1, 12),
        Some(
            "a let has no declared type: `let NAME = EXPR`; a rule has one: `rule NAME: TYPE = EXPR`",
        ),
    ),
    case(
        "E004",
        "bad-escape",
        "habit_regex_backslash.rule",
        (1, 37, 1, 39),
        Some(
            r#"for a backslash in the text (as a regex needs), double it: "RTX\\s+\\d+"; the escapes are \" \\ \n \t \r"#,
        ),
    ),
    case(
        "E101",
        "unknown-name",
        "habit_column_of_a_field.rule",
        (1, 18, 1, 29),
        Some(
            "column `mig_capable` is read as field `mig_support` (bool); to read its own values (a count, say), declare `field mig_capable: float from mig_capable`",
        ),
    ),
];

/// Whether a habit's diagnostic carries a fix (an edit that applies its
/// help as it is): those that need a choice (a type) or more context do not.
fn has_fix(fixture: &str) -> bool {
    ![
        "habit_rule_without_type.rule",
        "habit_let_with_type.rule",
        "habit_column_of_a_field.rule",
    ]
    .contains(&fixture)
}

/// The byte offset of a 1-based line and character column in `text`.
fn offset(text: &str, line: u64, column: u64) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line as usize - 1)
        .map(str::len)
        .sum();
    start
        + text[start..]
            .char_indices()
            .nth(column as usize - 1)
            .map_or(text.len() - start, |(i, _)| i)
}

fn habit(fixture: &str) {
    let case = HABITS
        .iter()
        .find(|c| c.fixture == fixture)
        .unwrap_or_else(|| panic!("no habit case {fixture}"));
    check_case(case);
    // The fix, applied, leaves a file that lints clean.
    let path = format!("{DIR}/{fixture}");
    let json = lint(&path, &["--format", "json"]);
    let items = parse_json(&json.stdout);
    let fix = &items[0]["fix"];
    assert_eq!(!fix.is_null(), has_fix(fixture), "{fixture}: fix {fix}");
    if fix.is_null() {
        return;
    }
    let text = std::fs::read_to_string(&path).expect("read the fixture");
    let n = |k: &str| fix[k].as_u64().unwrap_or(1);
    let (start, end) = (
        offset(&text, n("line"), n("column")),
        offset(&text, n("end_line"), n("end_column")),
    );
    let fixed = format!(
        "{}{}{}",
        &text[..start],
        fix["replacement"].as_str().unwrap_or_default(),
        &text[end..]
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, after) = lint_text(dir.path(), fixture, &fixed);
    assert_eq!(code, Some(0), "{fixture} fixed:\n{fixed}{after:#?}");
}

macro_rules! habit_tests {
    ($($test:ident => $fixture:literal,)*) => {
        $(
            #[test]
            fn $test() {
                habit($fixture);
            }
        )*
    };
}

habit_tests! {
    single_equals_in_a_comparison_says_write_double_equals => "habit_single_equals.rule",
    double_ampersand_says_write_and => "habit_double_ampersand.rule",
    double_pipe_says_write_or => "habit_double_pipe.rule",
    bang_says_write_not => "habit_bang.rule",
    single_quoted_string_says_use_double_quotes => "habit_single_quotes.rule",
    capitalised_true_says_write_lowercase => "habit_capitalised_true.rule",
    capitalised_false_default_says_write_lowercase => "habit_capitalised_false.rule",
    null_compared_says_use_is_missing => "habit_null.rule",
    none_compared_says_use_not_is_missing => "habit_none.rule",
    unquoted_word_compared_with_a_string_says_quote_it => "habit_unquoted_string.rule",
    elif_says_write_else_if => "habit_elif.rule",
    rule_without_a_type_shows_the_rule_form => "habit_rule_without_type.rule",
    let_with_a_type_says_lets_have_none => "habit_let_with_type.rule",
    regex_escape_in_a_string_says_double_the_backslash => "habit_regex_backslash.rule",
    column_read_by_a_schema_field_names_that_field => "habit_column_of_a_field.rule",
}

/// Every habit fixture has its test, and every case its fixture.
#[test]
fn every_habit_fixture_has_a_case() {
    let mut fixtures: Vec<String> = std::fs::read_dir(DIR)
        .expect("fixtures")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("habit_"))
        .collect();
    fixtures.sort();
    let mut cases: Vec<String> = HABITS.iter().map(|c| c.fixture.to_string()).collect();
    cases.sort();
    assert_eq!(fixtures, cases);
}

/// Codes whose case is not a fixture of [`CASES`], and where it is.
const CASES_ELSEWHERE: [(Code, &str); 12] = [
    (Code::TooLarge, "e006_too_large makes its input"),
    (Code::Overflow, "e501_overflow makes its input"),
    (
        Code::BadConfig,
        "lint could not load its inputs: tests/config.rs",
    ),
    (
        Code::BadSchema,
        "lint could not load its inputs: tests/config.rs",
    ),
    (
        Code::UnreadableInput,
        "lint could not load its inputs: tests/config.rs",
    ),
    (
        Code::BadArgument,
        "lint could not load its inputs: tests/config.rs",
    ),
    (Code::CannotWrite, "about the output: tests/conventions.rs"),
    (Code::BadCell, "about the data: tests/conventions.rs"),
    (Code::RaggedRecord, "about the data: tests/conventions.rs"),
    (Code::MissingColumn, "about the data: tests/conventions.rs"),
    (Code::MalformedCsv, "about the data: tests/conventions.rs"),
    (Code::ColumnConflict, "about the data: tests/conventions.rs"),
];

/// Walks the code table itself, so a code added to it without a case fails
/// here, named, instead of being skipped.
#[test]
fn every_code_has_a_case() {
    for def in &CODES {
        let code = def.code;
        if CASES_ELSEWHERE.iter().any(|(c, _)| *c == code) {
            continue;
        }
        let case = find(def.id);
        assert_eq!(case.name, def.name, "{code}");
        assert!(
            case.fixture.starts_with(&def.id.to_lowercase()),
            "{code}: fixture {} is named after its code",
            case.fixture
        );
    }
    assert_eq!(
        CASES.len() + CASES_ELSEWHERE.len(),
        CODES.len(),
        "a case per code, no extras"
    );
}

/// Regression: an `in` list of a million items took 946 MB to lint, a 10 MB
/// rule file 395 MB. Items and rule text have size limits now (E006).
#[test]
fn e006_too_large() {
    let dir = tempfile::tempdir().expect("temp dir");
    let list: Vec<String> = (0..60_000).map(|i| i.to_string()).collect();
    let big = dir.path().join("big.rule");
    std::fs::write(
        &big,
        format!(
            "rule ok: int = 1\nrule r: bool = slots in [{}]\n",
            list.join(", ")
        ),
    )
    .expect("write");
    let out = run([
        "lint",
        big.to_str().expect("utf-8 path"),
        "--color",
        "never",
    ]);
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    assert!(out.stdout.contains("E006(too-large)"), "{}", out.stdout);
    assert!(
        out.stdout.contains("items may be at most 256 KiB"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("1 file, 2 rules: 1 error"),
        "the other item is checked: {}",
        out.stdout
    );
    let huge = dir.path().join("huge.rule");
    let rule = "rule r: int = 1\n";
    std::fs::write(&huge, rule.repeat((4 << 20) / rule.len() + 1)).expect("write");
    let out = run([
        "lint",
        huge.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    assert!(out.stdout.contains("more than 4 MiB"), "{}", out.stdout);
}

#[test]
fn e501_overflow() {
    let rule = format!("{DIR}/e501_overflow.rule");
    let data = format!("{DIR}/e501_overflow.csv");
    // Row 1 (cuda_cores 1) fits; row 2 (cuda_cores 4) overflows: CSV line 3.
    let out = run(["eval", &rule, &data, "--color", "never"]);
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    assert!(
        out.stderr.contains("E501(overflow)"),
        "stderr:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("[{rule}:1:17]")),
        "points at the multiplication:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("at {data}:3")),
        "names the CSV line:\n{}",
        out.stderr
    );
    insta::assert_snapshot!("e501_overflow_stderr", out.stderr);

    // Not a lint problem: it depends on the data.
    let lint = lint(&rule, &["--format", "json"]);
    assert_eq!(lint.code, Some(0));
    assert_eq!(parse_json(&lint.stdout), Vec::<Value>::new());
}

#[test]
fn one_syntax_error_does_not_hide_the_other_items_problems() {
    let path = format!("{DIR}/several_problems.rule");
    let human = lint(&path, &["--color", "never"]);
    assert_eq!(human.code, Some(1));
    assert!(
        human
            .stdout
            .ends_with("1 file, 5 rules: 4 errors, 0 warnings\n")
    );
    insta::assert_snapshot!("several_problems_human", human.stdout);

    let json = lint(&path, &["--format", "json"]);
    assert_eq!(json.code, Some(1));
    let items = parse_json(&json.stdout);
    let found: Vec<(&str, u64, u64)> = items
        .iter()
        .map(|d| {
            let (line, column, _, _) = position(d);
            (d["code"].as_str().unwrap_or(""), line, column)
        })
        .collect();
    // The syntax error in `big_card` (found the next item's `rule`), then the
    // other items' errors; `big_and_cool` reads the broken `big_card` and gets
    // no "unknown name" for it.
    assert_eq!(
        found,
        [
            ("E001", 5, 32),
            ("E202", 7, 24),
            ("E201", 9, 35),
            ("E101", 11, 29)
        ]
    );
    assert_eq!(items[3]["help"], "did you mean `model`?");
}

#[test]
fn did_you_mean_for_fields_cfg_keys_functions_variants_and_types() {
    let out = lint(&format!("{DIR}/did_you_mean.rule"), &["--format", "json"]);
    assert_eq!(out.code, Some(1));
    let items = parse_json(&out.stdout);
    let helps: Vec<(&str, &str)> = items
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or(""),
                d["help"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        helps,
        [
            ("E101", "did you mean `vram_gb`?"),
            ("E102", "did you mean `cfg.min_vram_gb`?"),
            ("E103", "did you mean `round`?"),
            ("E104", "did you mean `high`?"),
            ("E105", "did you mean `bool`?"),
        ]
    );
}

#[test]
fn lint_exits_2_when_it_cannot_run() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["lint", "tests/fixtures/lint/missing.rule"],
            "cannot read tests/fixtures/lint/missing.rule",
        ),
        (
            &["lint", "tests/fixtures/lint/no_rules"],
            "tests/fixtures/lint/no_rules has no .rule files",
        ),
        (
            &[
                "lint",
                "--bogus",
                "tests/fixtures/lint/e101_unknown_name.rule",
            ],
            "--bogus",
        ),
        (
            &[
                "lint",
                "--format",
                "xml",
                "tests/fixtures/lint/e101_unknown_name.rule",
            ],
            "xml",
        ),
        (
            &[
                "lint",
                "tests/fixtures/lint/w404_unused_cfg_key.rule",
                "--config",
                "tests/fixtures/lint/missing.yaml",
            ],
            "cannot read tests/fixtures/lint/missing.yaml",
        ),
    ];
    for (args, message) in cases {
        let out = run(args);
        assert_eq!(out.code, Some(2), "{args:?}: stderr {}", out.stderr);
        assert_eq!(out.stdout, "", "{args:?}: nothing on stdout");
        assert!(
            out.stderr.contains(message),
            "{args:?}: stderr mentions {message:?}:\n{}",
            out.stderr
        );
    }
}

#[test]
fn shipped_rules_lint_clean() {
    let human = lint("rules/", &["--color", "never"]);
    assert_eq!(human.code, Some(0), "{}", human.stdout);
    assert_eq!(
        human.stdout.lines().count(),
        1,
        "only the summary:\n{}",
        human.stdout
    );
    assert!(
        human.stdout.ends_with(": 0 errors, 0 warnings\n"),
        "{}",
        human.stdout
    );
    let json = lint("rules/", &["--format", "json", "--deny", "warnings"]);
    assert_eq!(json.code, Some(0), "{}", json.stdout);
    assert_eq!(parse_json(&json.stdout), Vec::<Value>::new());
}

/// Write `text` to a fresh `.rule` file and lint it as JSON.
fn lint_text(dir: &Path, name: &str, text: &str) -> (Option<i32>, Vec<Value>) {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write rule file");
    let out = lint(
        path.to_str().expect("UTF-8 temp path"),
        &["--format", "json"],
    );
    let items = if out.code == Some(2) {
        Vec::new()
    } else {
        parse_json(&out.stdout)
    };
    (out.code, items)
}

/// Regression: in a file with CR-only line ends, JSON said 1:31 and the
/// human report 2:15 for one error, and one syntax error hid every other
/// ("0 rules"): the parser saw one line.
#[test]
fn cr_only_rule_files_report_every_error_at_one_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "rule a: int = 1 +\rrule b: int = x\rrule c: int = 2\r";
    let (code, items) = lint_text(dir.path(), "mac.rule", text);
    assert_eq!(code, Some(1));
    assert_eq!(codes(&items), ["E001", "E101"], "{items:#?}");
    assert_eq!(
        (items[1]["line"].as_u64(), items[1]["column"].as_u64()),
        (Some(2), Some(15))
    );
    let path = dir.path().join("mac.rule");
    let human = lint(
        path.to_str().expect("UTF-8 temp path"),
        &["--color", "never"],
    );
    assert!(human.stdout.contains("mac.rule:2:15]"), "{}", human.stdout);
    assert!(
        human.stdout.contains("1 file, 3 rules: 2 errors"),
        "{}",
        human.stdout
    );
}

/// Regression: an enum that failed to parse gave follow-on E105 for its
/// type and E101 for each of its variants.
#[test]
fn a_broken_enum_gives_one_error_not_follow_ons() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "enum P { low mid }\nrule p: P = if slots > 1 then low else mid\n";
    let (code, items) = lint_text(dir.path(), "enum.rule", text);
    assert_eq!(code, Some(1));
    assert_eq!(codes(&items), ["E001"], "{items:#?}");
}

#[test]
fn deep_input_gives_e002_not_a_stack_overflow() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Deep enough for any stack; small enough (under 256 KiB, E006's limit)
    // that the depth limits, not the size limit, answer.
    let n = 60_000;
    let inputs = [
        (
            "parens",
            format!("rule deep: int = {}1{}\n", "(".repeat(n), ")".repeat(n)),
        ),
        (
            "brackets",
            format!(
                "rule deep: bool = 1 in {}{}\n",
                "[".repeat(n),
                "]".repeat(n)
            ),
        ),
        (
            "ifs",
            format!(
                "rule deep: int = {}1{}\n",
                "if true then ".repeat(n),
                " else 1".repeat(n)
            ),
        ),
        (
            "nots",
            format!("rule deep: bool = {}true\n", "not ".repeat(n)),
        ),
        ("negs", format!("rule deep: int = {}1\n", "-".repeat(n))),
        (
            "operators",
            format!("rule deep: int = 1{}\n", " + 1".repeat(n)),
        ),
    ];
    for (name, text) in inputs {
        let (code, items) = lint_text(dir.path(), &format!("{name}.rule"), &text);
        assert_eq!(code, Some(1), "{name}: exit (None means it crashed)");
        assert_eq!(codes(&items), ["E002"], "{name}");
    }
}

/// A big file of many small rules gives a result without crashing. 2 MB, not
/// 10 MB: checking 10 MB takes about 11 s in a debug build (2 MB: about 2 s).
#[test]
fn a_huge_rule_file_is_checked_without_crashing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::new();
    let mut rules: u64 = 0;
    while text.len() < 2 << 20 {
        text.push_str(&format!(
            "rule r{rules}: bool = vram_gb >= {} and tdp_watts <= 300\n",
            rules % 100
        ));
        rules += 1;
    }
    // One mistake near the end is still found.
    text.push_str("rule last: bool = vram_bg >= 1\n");
    let (code, items) = lint_text(dir.path(), "huge.rule", &text);
    assert_eq!(code, Some(1));
    assert_eq!(codes(&items), ["E101"]);
    assert_eq!(position(&items[0]).0, rules + 1);
}

/// A syntax error at the very end of a file must still show where: the most
/// common one is an unfinished last rule.
#[test]
fn syntax_error_at_end_of_file_is_labelled() {
    let path = format!("{DIR}/e001_at_end_of_file.rule");
    let out = lint(&path, &["--color", "never"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stdout
            .contains("expected an expression, found end of file"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("╰── expected an expression"),
        "the label is rendered:\n{}",
        out.stdout
    );
}

/// The span of an `if` must end at its last token, not run over the blank
/// lines after it to the next item.
#[test]
fn if_expression_span_ends_at_its_last_token() {
    let out = lint(&format!("{DIR}/if_span.rule"), &["--format", "json"]);
    assert_eq!(out.code, Some(1));
    let items = parse_json(&out.stdout);
    assert_eq!(codes(&items), ["E201"]);
    // `if tdp_watts <= 150 then 1\n    else 2`: 2:5 to 3:11.
    assert_eq!(position(&items[0]), (2, 5, 3, 11));
}

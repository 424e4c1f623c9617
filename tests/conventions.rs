//! CLI conventions (issue 10): completions, man page, `rule CODE`, colour,
//! diagnostics for data errors, summaries, `--help` examples.

use crate::support::glyphsieve;
use glyphsieve::diagnostic::CODES;

fn stdout_of(args: &[&str]) -> String {
    let out = glyphsieve().args(args).output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn completions_are_printed_for_each_shell() {
    let cases = [
        ("bash", "complete -F _glyphsieve"),
        ("zsh", "#compdef glyphsieve"),
        ("fish", "complete -c glyphsieve"),
        ("powershell", "Register-ArgumentCompleter"),
    ];
    for (shell, marker) in cases {
        let text = stdout_of(&["completions", shell]);
        assert!(text.contains(marker), "{shell}: {text}");
        // Every command is completed.
        assert!(text.contains("tag-quantization"), "{shell}");
    }
    glyphsieve().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn man_page_is_roff_naming_the_commands() {
    let text = stdout_of(&["man"]);
    assert!(text.contains(".TH glyphsieve 1"), "{text}");
    // roff writes a hyphen as `\-`.
    for command in ["lint", "eval", "tag\\-quantization", "rule", "completions"] {
        assert!(text.contains(command), "{command}");
    }
}

#[test]
fn man_of_a_command_is_its_own_page_with_its_options() {
    let text = stdout_of(&["man", "eval"]);
    assert!(text.contains(".TH glyphsieve-eval 1"), "{text}");
    assert!(text.contains("\\-\\-where"), "{text}");
    let out = glyphsieve().args(["man", "evl"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `eval`?"), "{err}");
}

#[test]
fn rule_prints_every_codes_entry_from_the_language_docs() {
    let docs =
        std::fs::read_to_string(crate::support::root().join("docs/language.md")).expect("docs");
    let docs: String = docs
        .lines()
        .map(|l| match l.split_once(",diagnostic=") {
            Some((fence, _)) if l.starts_with("```") => format!("{fence}\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    for def in &CODES {
        for asked in [def.id, def.name, &def.id.to_lowercase()] {
            let text = stdout_of(&["rule", asked]);
            let heading = text.lines().next().unwrap_or_default();
            assert!(heading.starts_with(&format!("#### {} `{}`", def.id, def.name)));
            // Word for word the docs' text (an example's fence without its
            // `,diagnostic=CODE` test marker).
            assert!(docs.contains(&text), "{asked}: {text}");
            assert!(!text.contains(",diagnostic="), "{text}");
        }
    }
}

#[test]
fn rule_without_a_code_lists_them_and_all_prints_every_entry() {
    let list = stdout_of(&["rule"]);
    let all = stdout_of(&["rule", "--all"]);
    for def in &CODES {
        assert!(
            list.contains(&format!("{}  {}", def.id, def.name)),
            "{list}"
        );
        assert!(all.contains(&format!("#### {} `{}`", def.id, def.name)));
    }
}

#[test]
fn rule_with_an_unknown_code_suggests_the_nearest() {
    let out = glyphsieve().args(["rule", "E10l"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no diagnostic code `E10l`"), "{err}");
    assert!(err.contains("did you mean"), "{err}");
    let out = glyphsieve()
        .args(["rule", "unknwn-name"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `unknown-name`?"), "{err}");
    assert!(out.stdout.is_empty());
}

/// `--color` used to be read only after clap parsed, so clap's own errors
/// were coloured by its guess (and `NO_COLOR=` turned colour off).
#[test]
fn color_flag_applies_to_argument_errors() {
    let run = |color: &str, no_color: Option<&str>| {
        let mut cmd = glyphsieve();
        cmd.env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let out = cmd
            .args(["--color", color, "completions"])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(run("always", None).contains("\u{1b}["), "always colours");
    assert!(run("always", Some("")).contains("\u{1b}["));
    assert!(!run("never", None).contains('\u{1b}'), "never does not");
    let never = run("never", None);
    assert!(
        never.contains("error: the following required arguments"),
        "{never}"
    );
    // After the subcommand, too.
    let out = glyphsieve()
        .args(["lint", "--color=always", "--bogus"])
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&out.stderr).contains("\u{1b}["));
}

/// An empty `NO_COLOR` is "not set" (no-color.org): `--color always` with
/// it colours rule diagnostics as without it.
#[test]
fn empty_no_color_does_not_turn_colour_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("r.rule");
    std::fs::write(&rule, "rule r: bool = vram_gbb > 16\n").expect("write");
    let out = glyphsieve()
        .env("NO_COLOR", "")
        .args(["--color", "always", "lint"])
        .arg(&rule)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\u{1b}["));
}

/// The lint summary counted only the rules that parsed: a file of three
/// rules, one with a syntax error, said "2 rules".
#[test]
fn lint_summary_counts_rules_with_syntax_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("s.rule");
    std::fs::write(
        &rule,
        "rule a: bool = true\nrule b: int = 1 +\nlet c = 2\nrule d: int = c\n",
    )
    .expect("write");
    let out = glyphsieve().arg("lint").arg(&rule).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.ends_with("1 file, 3 rules: 1 error, 0 warnings\n"),
        "{text}"
    );
}

/// "missing data" read as a third outcome beside flagged and not flagged
/// (7 + 34 + 3 is not 41): the line now says those rows are among them.
#[test]
fn tag_quantization_summary_says_missing_data_rows_are_among_the_counted() {
    let out = glyphsieve()
        .args(["tag-quantization", "examples/listings.csv", "-o"])
        .arg(tempfile::tempdir().expect("tempdir").path().join("o.csv"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rows          41\n"), "{err}");
    assert!(
        err.contains("missing data  3  (rows lacking VRAM, TDP or MIG, among those above: "),
        "{err}"
    );
}

/// The command names `glyphsieve --help` lists (but `help`).
fn command_names() -> Vec<String> {
    let help = stdout_of(&["--help"]);
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(String::from)
        .collect()
}

/// An example line's words: single quotes group, and a `>` or `|` ends the
/// command (what follows is the shell's).
fn words(line: &str) -> Vec<String> {
    let (mut out, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => (quoted, any) = (!quoted, true),
            '>' | '|' if !quoted => break,
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => (word, any) = (word + &c.to_string(), true),
        }
    }
    if any {
        out.push(word);
    }
    out
}

/// Each command's `--help` ends with real examples, and each one runs:
/// the `-o` file is moved into a temporary folder.
#[test]
fn help_of_every_command_ends_with_examples_that_run() {
    let names = command_names();
    assert!(names.len() >= 7, "{names:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    for name in std::iter::once(String::new()).chain(names) {
        let mut args: Vec<&str> = Vec::new();
        if !name.is_empty() {
            args.push(&name);
        }
        args.push("--help");
        let help = stdout_of(&args);
        let examples: Vec<&str> = help
            .lines()
            .skip_while(|l| *l != "Examples:")
            .skip(1)
            .collect();
        assert!(
            (2..=3).contains(&examples.len()),
            "`{name} --help` ends with 2 or 3 examples:\n{help}"
        );
        for line in examples {
            let mut w = words(line.trim());
            assert_eq!(w.first().map(String::as_str), Some("glyphsieve"), "{line}");
            w.remove(0);
            if let Some(k) = w.iter().position(|a| a == "-o") {
                let file = dir.path().join(&w[k + 1]);
                let _ = std::fs::remove_file(&file);
                w[k + 1] = file.to_string_lossy().into_owned();
            }
            let out = glyphsieve().args(&w).output().expect("runs");
            assert_eq!(out.status.code(), Some(0), "{line}: {out:?}");
        }
    }
}

/// Runs `args` in `dir` (where the CSV files are written), returning the
/// exit code and stderr.
fn run_in(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let out = glyphsieve()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Data errors were bare `error: file:line: ...` lines, unlike every other
/// diagnostic, and had no JSON form: now each has a code, the
/// `error[CODE(name)]:` header, help, and `--format json`.
#[test]
fn data_errors_are_diagnostics_with_codes_and_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("big.rule"), "rule big: bool = vram_gb >= 24\n").expect("write");
    let csvs = [
        (
            "cell.csv",
            "model,vram_gb\nA30,24\nA100,40GB\n",
            "E701",
            "bad-cell",
            Some(3),
        ),
        (
            "ragged.csv",
            "model,vram_gb\nA30,24\nA100,40,x\n",
            "E702",
            "ragged-record",
            Some(3),
        ),
        (
            "column.csv",
            "model,vram\nA30,24\n",
            "E703",
            "missing-column",
            Some(1),
        ),
        (
            "quote.csv",
            "model,vram_gb\nA30,\"24\n",
            "E704",
            "malformed-csv",
            Some(2),
        ),
        ("empty.csv", "", "E704", "malformed-csv", None),
        (
            "exists.csv",
            "model,vram_gb,big\nA30,24,x\n",
            "E705",
            "column-conflict",
            Some(1),
        ),
    ];
    for (file, text, code, name, line) in csvs {
        std::fs::write(d.join(file), text).expect("write");
        let (exit, err) = run_in(d, &["eval", "big.rule", file]);
        assert_eq!(exit, Some(1), "{file}: {err}");
        let head = format!("error[{code}({name})]: {file}");
        assert!(err.starts_with(&head), "{file}: {err}");
        let (exit, err) = run_in(d, &["eval", "big.rule", file, "--format", "json"]);
        assert_eq!(exit, Some(1), "{file}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        let json: serde_json::Value = serde_json::from_str(&err).expect("JSON");
        let keys: Vec<&str> = json[0]
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = crate::support::JSON_KEYS.to_vec();
        want.sort_unstable();
        assert_eq!(keys, want, "{err}");
        assert_eq!(json[0]["code"], code, "{err}");
        assert_eq!(json[0]["name"], name);
        assert_eq!(json[0]["file"], file);
        assert_eq!(json[0]["line"].as_u64(), line, "{err}");
        assert!(!json[0]["message"].as_str().unwrap_or(file).contains(file));
    }
    // tag-quantization's the same.
    let (exit, err) = run_in(d, &["tag-quantization", "cell.csv"]);
    assert_eq!(exit, Some(1));
    assert!(
        err.starts_with("error[E703(missing-column)]: cell.csv: field `tdp_watts`"),
        "{err}"
    );
    assert!(err.contains("\n  help: "), "{err}");
    let (exit, err) = run_in(d, &["tag-quantization", "quote.csv", "--format", "json"]);
    assert_eq!(exit, Some(1));
    let json: serde_json::Value = serde_json::from_str(&err).expect("JSON");
    assert_eq!(json[0]["code"], "E704", "{err}");
}

#[test]
fn output_and_input_failures_are_diagnostics_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("big.rule"), "rule big: bool = vram_gb >= 24\n").expect("write");
    std::fs::write(d.join("cards.csv"), "model,vram_gb\nA30,24\n").expect("write");
    let (exit, err) = run_in(d, &["eval", "big.rule", "cards.csv", "-o", "cards.csv"]);
    assert_eq!(exit, Some(2));
    assert!(
        err.starts_with("error[E605(cannot-write)]: refusing to write"),
        "{err}"
    );
    let json = |args: &[&str], exit: i32| {
        let (code, err) = run_in(d, args);
        assert_eq!(code, Some(exit), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        let v: serde_json::Value = serde_json::from_str(&err).expect("JSON");
        v[0]["code"].as_str().unwrap_or_default().to_string()
    };
    let f = ["--format", "json"];
    let with = |args: &[&'static str]| [args, &f].concat();
    assert_eq!(json(&with(&["eval", "big.rule", "nope.csv"]), 2), "E603");
    assert_eq!(json(&with(&["eval", "nope.rule", "cards.csv"]), 2), "E603");
    assert_eq!(
        json(&with(&["eval", "big.rule", "cards.csv", "--only", "bg"]), 2),
        "E604"
    );
    assert_eq!(
        json(&with(&["tag-quantization", "cards.csv", "--set", "x"]), 2),
        "E604"
    );
    assert_eq!(
        json(
            &with(&["eval", "big.rule", "cards.csv", "-o", "cards.csv"]),
            2
        ),
        "E605"
    );
    // The rules' own errors: one array, no closing line.
    std::fs::write(d.join("bad.rule"), "rule r: bool = vram_gbb > 1\n").expect("write");
    assert_eq!(json(&with(&["eval", "bad.rule", "cards.csv"]), 1), "E101");
}

/// With `--format json`, stderr is JSON, one value per line: the rules'
/// warnings, `--lenient`'s count, the summary (or tag-quantization's counts).
#[test]
fn format_json_makes_every_stderr_line_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("w.rule"), "rule r: float = vram_gb / 0\n").expect("write");
    std::fs::write(d.join("cards.csv"), "model,vram_gb\nA30,24\nA100,40GB\n").expect("write");
    let (exit, err) = run_in(
        d,
        &[
            "eval",
            "w.rule",
            "cards.csv",
            "--format",
            "json",
            "--summary",
            "--lenient",
        ],
    );
    assert_eq!(exit, Some(0), "{err}");
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert_eq!(lines[0][0]["code"], "W401");
    assert_eq!(lines[1]["lenient_bad_cells"], 1);
    assert_eq!(lines[2]["rows_read"], 2);
    let (exit, err) = run_in(d, &["tag-quantization", "../nope.csv", "--format", "human"]);
    assert_eq!(exit, Some(2));
    assert!(
        err.starts_with("error[E603(unreadable-input)]: cannot read ../nope.csv"),
        "{err}"
    );
    let listings = crate::support::root().join("examples/listings.csv");
    let out = glyphsieve()
        .args(["tag-quantization", "--format", "json", "-o"])
        .arg(d.join("o.csv"))
        .arg(&listings)
        .output()
        .expect("runs");
    let counts: serde_json::Value = serde_json::from_slice(&out.stderr).expect("one JSON object");
    assert_eq!(
        counts,
        serde_json::json!({"rows": 41, "flagged": 7, "not_flagged": 34, "missing_data": 3})
    );
}

#[test]
fn color_always_colours_a_data_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("big.rule"), "rule big: bool = vram_gb >= 24\n").expect("write");
    std::fs::write(d.join("r.csv"), "model,vram_gb\nA30\n").expect("write");
    let (_, plain) = run_in(d, &["eval", "big.rule", "r.csv"]);
    assert!(
        plain.starts_with("error[E702(ragged-record)]: r.csv:2: "),
        "{plain}"
    );
    let (_, coloured) = run_in(d, &["--color", "always", "eval", "big.rule", "r.csv"]);
    assert!(coloured.starts_with("\u{1b}["), "{coloured}");
}

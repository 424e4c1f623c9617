//! `glyphsieve fmt`: the canonical layout of every construct (snapshots, comments in every
//! position), in place, `--check`, `--diff`, stdin, CRLF and BOM, and files that do not parse.

use crate::support::{glyphsieve, root};
use std::path::Path;

/// Format `text` through the binary, as `glyphsieve fmt -` (stdin to stdout).
fn fmt(text: &str) -> String {
    let out = glyphsieve()
        .args(["fmt", "-"])
        .write_stdin(text)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "fmt - failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let formatted = String::from_utf8(out.stdout).expect("UTF-8");
    // Formatting the output again changes nothing.
    let again = glyphsieve()
        .args(["fmt", "-"])
        .write_stdin(formatted.clone())
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        formatted,
        "not idempotent"
    );
    formatted
}

/// The input and its formatted text, for a snapshot.
fn before_after(text: &str) -> String {
    format!("{text}\n----- formatted -----\n{}", fmt(text))
}

#[test]
fn fmt_breaks_long_conjunctions_before_and_and_indents_them() {
    insta::assert_snapshot!(before_after(
        "## Fit for low-bit inference.\nrule quantization_capable: bool default false = vram_gb >= cfg.min_vram_gb and tdp_watts <= cfg.max_tdp_watts and (mig_support or not cfg.require_mig)\n"
    ));
}

#[test]
fn fmt_joins_a_short_rule_onto_one_line_with_one_space_around_operators() {
    insta::assert_snapshot!(before_after(
        "rule   a:int=vram_gb*2+1\nlet   b=\n  max( vram_gb-1 ,0 )\nrule c: bool=not(a>1)and b<=2\n"
    ));
}

#[test]
fn fmt_breaks_else_if_chains_one_arm_per_line() {
    insta::assert_snapshot!(before_after(
        "enum PowerClass { low, mid, high }\nrule power_class: PowerClass = if tdp_watts <= 150 then low else if tdp_watts <= 300 then mid else high\nrule x: int = if mig_support then 1 else 0\n"
    ));
}

#[test]
fn fmt_breaks_long_lists_and_calls_with_trailing_commas() {
    insta::assert_snapshot!(before_after(
        "rule old_architecture: bool = lower(coalesce(generation, \"\")) in [\"pascal\", \"volta\", \"turing\", \"kepler\", \"maxwell\", \"fermi\", \"tesla\"]\nlet best = max(coalesce(vram_gb, 0) * 1000, coalesce(cuda_cores, 0) / 100, coalesce(tdp_watts, 0) * 7, 12345)\nenum Tier { entry, workstation, datacenter, hyperscale, supercomputer, exascale, zettascale, unknown_tier }\n"
    ));
}

#[test]
fn fmt_keeps_written_parentheses_and_adds_only_needed_ones() {
    insta::assert_snapshot!(before_after(
        "rule a: bool = (vram_gb >= 24) and ((mig_support))\nrule b: int = (1 + 2) * 3 - (4 - 5)\nrule c: int = -(if mig_support then 1 else 2) + 1\nrule d: bool = not (mig_support or false)\nrule e: int = - -x - -1\n"
    ));
}

#[test]
fn fmt_writes_every_literal_as_in_the_source() {
    insta::assert_snapshot!(before_after(
        "rule a: float = 1e3 + 24.0 + 1_000 + 2.5E-3\nrule b: bool default false = name == \"tab\\there \\\"quoted\\\"\"\nrule c: int default - 5 = 0\nrule d: int default -7 = 1\n"
    ));
}

#[test]
fn fmt_lays_out_field_declarations() {
    insta::assert_snapshot!(before_after(
        "field shipping:float from \"Shipping (USD)\",ship nulls [\"\",\"n/a\",\"-\",]\nfield mig_instances: int from mig_instances, mig_capable\nfield a_very_long_field_name_for_testing: float from \"A Very Long Column Name\", another_column_name nulls [\"\", \"n/a\", \"-\", \"unknown\"]\n"
    ));
}

#[test]
fn fmt_keeps_comments_in_every_position() {
    insta::assert_snapshot!(before_after(
        "# File header.\n\n# Second paragraph of the header.\n## Power classes.\nenum PowerClass { low, # under 150 W\n  mid,\n  # the big ones\n  high }\n# Before the docs.\n## Fit.\nrule fit: bool default false = # after the equals sign\n    # before the body\n    vram_gb >= 24 and # after an operator\n    tdp_watts <= 300\n    # before an operator\n    or mig_support # at the end\nlet n = max(1, # after an argument\n  # before an argument\n  2) + 1 # after the item\nrule tier: int = if vram_gb > 40 then 3 # after an arm\n  # before else if\n  else if vram_gb > 20 then 2 else\n  # before the last value\n  1\nrule listed: bool = generation in [\"volta\", # after an element\n  \"turing\"]\n# After the last item.\n\n## A dangling doc.\n"
    ));
}

#[test]
fn fmt_moves_comments_inside_headers_and_field_declarations_above_the_item() {
    insta::assert_snapshot!(before_after(
        "rule x: # in the header\n  int = 1\nfield shipping: float from \"Shipping (USD)\", # first column\n  ship # second\n  nulls [\"\", # empty\n  \"n/a\"]\nenum E { a, b # last\n}\n## Doc.\n# between the doc and the keyword\nrule y: int = - # inside a literal's sign\n 2\n"
    ));
}

#[test]
fn fmt_puts_one_blank_line_between_items_and_keeps_their_order() {
    insta::assert_snapshot!(before_after(
        "rule b: int = 1\n\n\n\nrule a: int = 2\nlet c = 3\n# about d\n\n\nrule d: int = c\n"
    ));
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

const MESSY: &str = "rule a:int=1+2\n";
const TIDY: &str = "rule a: int = 1 + 2\n";

#[test]
fn fmt_rewrites_files_in_place_and_walks_folders_like_lint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    let a = write(dir.path(), "a.rule", MESSY);
    let b = write(&sub, "b.rule", TIDY);
    let other = write(dir.path(), "notes.txt", MESSY);
    let out = glyphsieve()
        .arg("fmt")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "1 file reformatted, 1 file already formatted\n"
    );
    assert_eq!(std::fs::read_to_string(&a).expect("read"), TIDY);
    assert_eq!(std::fs::read_to_string(&b).expect("read"), TIDY);
    assert_eq!(std::fs::read_to_string(&other).expect("read"), MESSY);
}

#[cfg(unix)]
#[test]
fn fmt_in_place_keeps_the_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(dir.path(), "a.rule", MESSY);
    std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    glyphsieve().arg("fmt").arg(&a).assert().code(0);
    assert_eq!(std::fs::read_to_string(&a).expect("read"), TIDY);
    let mode = std::fs::metadata(&a).expect("meta").permissions().mode();
    assert_eq!(mode & 0o7777, 0o640);
    // Nothing but the file is left in the folder (no temporary file).
    assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
}

#[test]
fn fmt_check_lists_the_files_it_would_change_writes_nothing_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(dir.path(), "a.rule", MESSY);
    let b = write(dir.path(), "b.rule", TIDY);
    let out = glyphsieve()
        .args(["fmt", "--check"])
        .arg(&a)
        .arg(&b)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", a.display())
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "1 file would be reformatted, 1 file already formatted\n"
    );
    assert_eq!(std::fs::read_to_string(&a).expect("read"), MESSY);
    glyphsieve()
        .args(["fmt", "--check"])
        .arg(&b)
        .assert()
        .code(0)
        .stdout("");
}

#[test]
fn fmt_diff_prints_a_unified_diff_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(dir.path(), "a.rule", &format!("# header\n{MESSY}"));
    let out = glyphsieve()
        .args(["fmt", "--diff"])
        .arg(&a)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let name = a.display();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "--- {name}\n+++ {name}\n@@ -1,2 +1,2 @@\n # header\n-rule a:int=1+2\n+rule a: int = 1 + 2\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(&a).expect("read"),
        format!("# header\n{MESSY}")
    );
}

#[test]
fn fmt_dash_formats_stdin_to_stdout() {
    glyphsieve()
        .args(["fmt", "-"])
        .write_stdin(MESSY)
        .assert()
        .code(0)
        .stdout(TIDY)
        .stderr("");
    glyphsieve()
        .args(["fmt", "--check", "-"])
        .write_stdin(MESSY)
        .assert()
        .code(1)
        .stdout("<stdin>\n");
}

#[test]
fn fmt_dash_with_other_paths_is_a_usage_error() {
    glyphsieve()
        .args(["fmt", "-", "rules/"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "`-` (stdin) must be the only path",
        ));
}

#[test]
fn fmt_leaves_a_file_with_syntax_errors_untouched_prints_its_errors_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad_text = "rule a: int = 1 +\nrule b:int=2\n";
    let bad = write(dir.path(), "a.rule", bad_text);
    let good = write(dir.path(), "b.rule", MESSY);
    let out = glyphsieve()
        .arg("fmt")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("E001"), "{stderr}");
    assert!(stderr.contains("a.rule:1:"), "{stderr}");
    assert!(
        stderr.contains("was not formatted: it has syntax errors"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(
            "1 file reformatted, 0 files already formatted, 1 file with syntax errors left untouched\n"
        ),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&bad).expect("read"), bad_text);
    assert_eq!(std::fs::read_to_string(&good).expect("read"), TIDY);
    // From stdin: nothing on stdout, the errors on stderr.
    glyphsieve()
        .args(["fmt", "-"])
        .write_stdin(bad_text)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicates::str::contains("E001"));
}

#[test]
fn fmt_keeps_crlf_line_endings_and_the_byte_order_mark() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(
        dir.path(),
        "a.rule",
        "\u{FEFF}# header\r\nrule a:int=1+2\r\nlet b=2\r\n",
    );
    glyphsieve().arg("fmt").arg(&a).assert().code(0);
    assert_eq!(
        std::fs::read_to_string(&a).expect("read"),
        "\u{FEFF}# header\r\nrule a: int = 1 + 2\r\n\r\nlet b = 2\r\n"
    );
    glyphsieve()
        .args(["fmt", "--check"])
        .arg(&a)
        .assert()
        .code(0);
}

#[test]
fn fmt_missing_file_cannot_run_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    glyphsieve()
        .arg("fmt")
        .arg(dir.path().join("nope.rule"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot read"));
}

#[test]
fn shipped_rules_are_formatted() {
    glyphsieve()
        .args(["fmt", "--check", "rules/"])
        .assert()
        .code(0)
        .stdout("");
    assert!(root().join("rules").is_dir());
}

#[cfg(unix)]
#[test]
fn fmt_refuses_to_replace_a_read_only_file_and_exits_2() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(dir.path(), "a.rule", MESSY);
    std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let out = glyphsieve().arg("fmt").arg(&a).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("it is read-only"), "{stderr}");
    assert!(!stderr.contains("another -o"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&a).expect("read"), MESSY);
}

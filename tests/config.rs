//! Config files and `--set` through the binary: key positions for W404,
//! duplicate keys, numbers out of range, bool text, and `lint --format json`
//! printing a JSON document whatever stops it (issue 7, items 14-16).

use crate::support::{JSON_KEYS, glyphsieve};
use serde_json::Value;
use std::path::PathBuf;

/// What one run did: exit code, stdout, stderr.
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], stdin: &str) -> Out {
    let out = glyphsieve()
        .args(args)
        .write_stdin(stdin.as_bytes().to_vec())
        .output()
        .expect("the binary runs");
    Out {
        code: out.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path: PathBuf = dir.path().join(name);
    std::fs::write(&path, text).expect("write a test file");
    path.to_str().expect("UTF-8 temp path").to_string()
}

/// Parse lint's stdout: a JSON array of objects with exactly the documented keys.
fn json(out: &Out) -> Vec<Value> {
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr: {}",
            out.stdout, out.stderr
        )
    });
    let items = v.as_array().expect("a JSON array").clone();
    for d in &items {
        let mut keys: Vec<&str> = d
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let mut want = JSON_KEYS.to_vec();
        want.sort_unstable();
        assert_eq!(keys, want, "keys of {d}");
    }
    items
}

/// (line, column, end_line, end_column) of a JSON diagnostic.
fn at(d: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| d[k].as_u64().unwrap_or(0);
    (n("line"), n("column"), n("end_line"), n("end_column"))
}

// ---------------------------------------------------------------------------
// 14. W404 points at the key, whatever its style; duplicates are located.

#[test]
fn w404_on_quoted_flow_and_complex_keys_points_at_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = write(&dir, "r.rule", "rule r: bool = vram_gb >= cfg.used\n");
    let config = write(
        &dir,
        "c.yaml",
        "# prix en €\nused: 1\n\"quoted\": 2\nflow: {a: 1, 'b': 2}\n? [x, y]\n: 3\n",
    );
    let out = run(
        &["lint", &rule, "--config", &config, "--format", "json"],
        "",
    );
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let items = json(&out);
    let places: Vec<(String, (u64, u64, u64, u64))> = items
        .iter()
        .map(|d| {
            assert_eq!(d["code"], "W404");
            assert_eq!(d["file"], config.as_str());
            (d["message"].as_str().unwrap_or("").to_string(), at(d))
        })
        .collect();
    assert_eq!(places.len(), 4, "{places:?}");
    assert_eq!(
        places[..3],
        [
            (
                "config key `quoted` is never read".to_string(),
                (3, 1, 3, 9)
            ),
            (
                "config key `flow.a` is never read".to_string(),
                (4, 8, 4, 9)
            ),
            (
                "config key `flow.b` is never read".to_string(),
                (4, 14, 4, 17)
            ),
        ]
    );
    // The complex key: its whole text `[x, y]`, not line 1 column 1.
    assert_eq!(places[3].1, (5, 3, 5, 9), "{places:?}");
}

#[test]
fn duplicate_config_key_names_file_line_column_and_first_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = write(&dir, "r.rule", "rule r: bool = vram_gb >= cfg.a.b\n");
    let config = write(&dir, "dup.yaml", "top: 1\na:\n  b: 1\n  c: 2\n  b: 3\n");
    let human = run(&["lint", &rule, "--config", &config], "");
    assert_eq!(human.code, 1);
    assert_eq!(human.stdout, "");
    assert_eq!(
        human.stderr,
        format!("error: {config}:5:3: duplicate key `a.b` (first written at line 3, column 3)\n")
    );
    // A top-level duplicate too, in flow style.
    let flat = write(&dir, "flat.yaml", "{a: 1, b: 2, a: 3}\n");
    let out = run(&["lint", &rule, "--config", &flat, "--format", "json"], "");
    assert_eq!(out.code, 1);
    let d = &json(&out)[0];
    assert_eq!(
        (d["code"].as_str(), d["name"].as_str()),
        (Some("E601"), Some("bad-config"))
    );
    assert_eq!(at(d), (1, 14, 1, 15));
    assert_eq!(at(&d["related"][0]), (1, 2, 1, 3));
    assert_eq!(d["related"][0]["file"], flat.as_str());
}

// ---------------------------------------------------------------------------
// 15. `lint --format json` always prints a JSON document.

#[test]
fn lint_json_prints_a_document_for_every_failure_to_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = write(
        &dir,
        "r.rule",
        "rule r: bool = vram_gb >= cfg.min_vram_gb\n",
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let empty = empty.to_str().expect("UTF-8").to_string();
    let missing = dir.path().join("missing.yaml");
    let missing = missing.to_str().expect("UTF-8").to_string();
    let bad_yaml = write(&dir, "bad.yaml", "a: 1\nb: [1\n");
    let bad_schema = write(&dir, "schema.yaml", "fields:\n  a: { type: decimal }\n");
    let bad_schema_yaml = write(&dir, "schema2.yaml", "fields: [\n");
    // (args, exit, code, file, place or None)
    type Case<'a> = (
        Vec<&'a str>,
        i32,
        &'a str,
        Option<&'a str>,
        Option<(u64, u64)>,
    );
    let cases: Vec<Case> = vec![
        (vec!["lint", &missing], 2, "E603", Some(&missing), None),
        (vec!["lint", &empty], 2, "E603", Some(&empty), None),
        (
            vec!["lint", &rule, "--config", &missing],
            2,
            "E603",
            Some(&missing),
            None,
        ),
        (
            vec!["lint", &rule, "--config", &bad_yaml],
            1,
            "E601",
            Some(&bad_yaml),
            Some((3, 1)),
        ),
        (
            vec!["lint", &rule, "--schema", &missing],
            2,
            "E603",
            Some(&missing),
            None,
        ),
        (
            vec!["lint", &rule, "--schema", &bad_schema],
            1,
            "E602",
            Some(&bad_schema),
            None,
        ),
        (
            vec!["lint", &rule, "--schema", &bad_schema_yaml],
            1,
            "E602",
            Some(&bad_schema_yaml),
            Some((1, 9)),
        ),
        (
            vec!["lint", &rule, "--set", "min_vram_gb=lots"],
            2,
            "E604",
            None,
            None,
        ),
        (vec!["lint", &rule, "--set", "nope"], 2, "E604", None, None),
    ];
    for (mut args, exit, code, file, place) in cases {
        let human = run(&args, "");
        assert_eq!(human.code, exit, "{args:?}: {}", human.stderr);
        assert_eq!(
            human.stdout, "",
            "{args:?}: human format keeps stdout clean"
        );
        assert!(
            human.stderr.starts_with("error: "),
            "{args:?}: {}",
            human.stderr
        );

        args.extend(["--format", "json"]);
        let out = run(&args, "");
        assert_eq!(out.code, exit, "{args:?}: same exit code as human");
        assert_eq!(out.stderr, "", "{args:?}: the report is on stdout");
        let items = json(&out);
        assert_eq!(items.len(), 1, "{args:?}: one diagnostic");
        let d = &items[0];
        assert_eq!(d["code"], code, "{args:?}: {d}");
        assert_eq!(d["severity"], "error");
        assert_eq!(d["file"].as_str(), file, "{args:?}: {d}");
        let message = d["message"].as_str().unwrap_or("");
        assert!(!message.is_empty(), "{args:?}");
        // The same words as the human report, less the `error: ` prefix.
        assert!(
            human.stderr.contains(message),
            "{args:?}: {message} vs {}",
            human.stderr
        );
        match place {
            Some((line, column)) => {
                assert_eq!(
                    (d["line"].as_u64(), d["column"].as_u64()),
                    (Some(line), Some(column)),
                    "{d}"
                );
                assert!(
                    human.stderr.contains(&format!(":{line}:{column}")),
                    "{}",
                    human.stderr
                );
            }
            None if code != "E602" => {
                for k in ["line", "column", "end_line", "end_column"] {
                    assert!(d[k].is_null(), "{args:?}: `{k}` is null: {d}");
                }
            }
            None => {}
        }
    }
}

// ---------------------------------------------------------------------------
// 16e. A number beyond what rules hold is named as such, not "a string".

#[test]
fn config_number_out_of_range_is_reported_as_such_not_as_a_string() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = write(&dir, "r.rule", "rule r: bool = vram_gb >= cfg.k\n");
    for (text, value) in [
        ("k: 1e400\n", "1e400"),
        ("k: 99999999999999999999\n", "99999999999999999999"),
    ] {
        let config = write(&dir, "c.yaml", text);
        let out = run(&["lint", &rule, "--config", &config], "");
        assert_eq!(out.code, 1);
        assert!(
            out.stderr.contains(&format!(
                "{config}:1:4: config key `k` is a number out of range: {value}"
            )),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("string"), "{}", out.stderr);
    }
    let config = write(&dir, "q.yaml", "min_vram_gb: 1e400\n");
    let out = run(
        &["tag-quantization", "-", "--config", &config],
        "model,vram_gb,tdp_watts,mig_support\n",
    );
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("config key `min_vram_gb` is a number out of range: 1e400"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------
// 16i. `--set n=5.0` on an int key is an error at `--set` time.

#[test]
fn set_decimal_on_an_int_key_is_an_error_naming_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = write(&dir, "r.rule", "rule r: int = cuda_cores * cfg.n\n");
    let config = write(&dir, "c.yaml", "n: 5\nf: 2.5\n");
    let out = run(&["lint", &rule, "--config", &config, "--set", "n=5.0"], "");
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "error: --set n=5.0: config key `n` is an int; 5.0 is not a whole number\n"
    );
    // An int text for a float key widens, as before.
    let ok = run(
        &[
            "lint", &rule, "--config", &config, "--set", "f=3", "--set", "n=6",
        ],
        "",
    );
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
}

// ---------------------------------------------------------------------------
// 16k. One rule for bool text, in a file and in `--set`.

#[test]
fn require_mig_yes_in_a_config_file_is_a_bool_as_in_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = "model,vram_gb,tdp_watts,mig_support\nA,40,250,False\n";
    let by_set = run(&["tag-quantization", "-", "--set", "require_mig=no"], rows);
    assert_eq!(by_set.code, 0, "{}", by_set.stderr);
    for text in ["no", "No", "'false'", "0"] {
        let config = write(&dir, "q.yaml", &format!("require_mig: {text}\n"));
        let by_file = run(&["tag-quantization", "-", "--config", &config], rows);
        assert_eq!(by_file.code, 0, "{text}: {}", by_file.stderr);
        assert_eq!(by_file.stdout, by_set.stdout, "{text}");
    }
    assert!(
        by_set.stdout.ends_with("A,40,250,False,true\n"),
        "{}",
        by_set.stdout
    );
    let config = write(&dir, "q.yaml", "require_mig: perhaps\n");
    let bad = run(&["tag-quantization", "-", "--config", &config], rows);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .contains(&format!("{config}:1:1: key `require_mig` expects a bool")),
        "{}",
        bad.stderr
    );
}

// ---------------------------------------------------------------------------
// Hangs: YAML that serde_yaml would take minutes or gigabytes to read.

#[test]
fn deeply_nested_or_alias_bomb_config_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = write(&dir, "r.rule", "rule r: bool = vram_gb >= cfg.a\n");
    let deep = write(
        &dir,
        "deep.yaml",
        &format!("a: {}{}\n", "[".repeat(200_000), "]".repeat(200_000)),
    );
    let mut bomb = String::from("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n");
    for (name, prev) in ["b", "c", "d", "e", "f", "g"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f"])
    {
        let uses = vec![format!("*{prev}"); 10].join(", ");
        bomb += &format!("{name}: &{name} [{uses}]\n");
    }
    let bomb = write(&dir, "bomb.yaml", &bomb);
    for (config, says) in [
        (&deep, "nested more than 255 levels deep"),
        (&bomb, "expand this config to more than 1000000 values"),
    ] {
        let out = run(&["lint", &rule, "--config", config], "");
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stderr.contains(says), "{}", out.stderr);
        let out = run(&["lint", &rule, "--config", config, "--format", "json"], "");
        assert_eq!(json(&out)[0]["code"], "E601");
    }
    let out = run(&["lint", &rule, "--schema", &deep, "--format", "json"], "");
    assert_eq!(out.code, 1);
    let d = &json(&out)[0];
    assert_eq!(d["code"], "E602");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(1), Some(259))
    );
}

//! Settings in layers (issue 10, items 1-3): built-in defaults, the project file, each `--config`/`--schema`, `--set`; `glyphsieve config`.

use crate::support::glyphsieve;
use std::path::Path;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn out(o: std::process::Output) -> Out {
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Run from the crate root, project files ignored (as every other test).
fn run(args: &[&str]) -> Out {
    out(glyphsieve().args(args).output().expect("runs"))
}

/// Run in `dir`, looking for a project file there and in its parents.
fn run_in(dir: &Path, args: &[&str]) -> Out {
    let mut cmd = glyphsieve();
    cmd.env_remove("GLYPHSIEVE_NO_PROJECT").current_dir(dir);
    out(cmd.args(args).output().expect("runs"))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("UTF-8 path").to_string()
}

const SEED: &str = "model,vram_gb,tdp_watts,mig_support\nA30,24,165,True\nA100,40,250,True\n";

// ---------------------------------------------------------------------------
// Layers: --set of a new key, repeatable --config, partial files.

#[test]
fn set_of_a_key_the_config_lacks_adds_it_typed_by_its_value() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = write(
        dir.path(),
        "r.rule",
        "rule cheap: bool = price / vram_gb <= cfg.max_price_per_gb\n",
    );
    let data = write(dir.path(), "d.csv", "price,vram_gb\n100,10\n1000,10\n");
    let o = run(&["eval", &rule, &data, "--set", "max_price_per_gb=30"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout,
        "price,vram_gb,cheap\n100,10,true\n1000,10,false\n"
    );
    // An int key stays an int: `--set n=5.0` names `--set` (exit 2).
    let o = run(&[
        "eval",
        &rule,
        &data,
        "--set",
        "max_price_per_gb=30",
        "--set",
        "max_price_per_gb=30.5",
    ]);
    assert_eq!(o.code, 2);
    assert_eq!(
        o.stderr,
        "error: --set max_price_per_gb=30.5: config key `max_price_per_gb` is an int; \
         30.5 is not a whole number\n"
    );
}

#[test]
fn config_is_repeatable_and_a_later_file_overrides_an_earlier_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = write(
        dir.path(),
        "a.yaml",
        "min_vram_gb: 32\nmax_tdp_watts: 200\n",
    );
    let b = write(dir.path(), "b.yaml", "max_tdp_watts: 300\n");
    let tag = |first: &str, second: &str| {
        out(glyphsieve()
            .args([
                "tag-quantization",
                "-",
                "--config",
                first,
                "--config",
                second,
            ])
            .write_stdin(SEED)
            .output()
            .expect("runs"))
    };
    // 32 GB from a.yaml, 300 W from b.yaml: the A100 (40 GB, 250 W) only.
    let o = tag(&a, &b);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout
            .ends_with("A30,24,165,True,false\nA100,40,250,True,true\n"),
        "{}",
        o.stdout
    );
    // The other order: 200 W from a.yaml, and the A100 draws more.
    let o = tag(&b, &a);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout
            .ends_with("A30,24,165,True,false\nA100,40,250,True,false\n"),
        "{}",
        o.stdout
    );
    let shown = run(&[
        "config",
        "--config",
        &a,
        "--config",
        &b,
        "--set",
        "overhead_gb=3",
    ]);
    assert!(
        shown
            .stdout
            .contains(&format!("  min_vram_gb: 32.0  # from {a}:1\n")),
        "{}",
        shown.stdout
    );
    assert!(
        shown
            .stdout
            .contains(&format!("  max_tdp_watts: 300.0  # from {b}:1\n")),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("  overhead_gb: 3.0  # from --set\n"),
        "{}",
        shown.stdout
    );
    assert!(
        shown
            .stdout
            .contains("  require_mig: true  # from built-in\n"),
        "{}",
        shown.stdout
    );
}

/// Issue 10: a partial file (`min_vram_gb: 48` alone) failed in `eval` with
/// E102 for the keys it left out, and a file with a key of its own failed
/// in `tag-quantization`; the same files now work with both.
#[test]
fn a_partial_config_and_one_with_extra_keys_work_with_eval_and_tag_quantization() {
    let dir = tempfile::tempdir().expect("temp dir");
    let partial = write(dir.path(), "partial.yaml", "min_vram_gb: 32\n");
    let extra = write(
        dir.path(),
        "extra.yaml",
        "min_vram_gb: 32\nmax_price_per_gb: 30\n",
    );
    let rule = write(
        dir.path(),
        "q.rule",
        "rule q: bool = vram_gb >= cfg.min_vram_gb and tdp_watts <= cfg.max_tdp_watts \
         and (mig_support or not cfg.require_mig)\n",
    );
    let data = write(dir.path(), "seed.csv", SEED);
    for config in [&partial, &extra] {
        let e = run(&["eval", &rule, &data, "--config", config]);
        assert_eq!(e.code, 0, "{config}: {}", e.stderr);
        assert!(
            e.stdout
                .ends_with("A30,24,165,True,false\nA100,40,250,True,true\n"),
            "{}",
            e.stdout
        );
        let t = run(&["tag-quantization", &data, "--config", config]);
        assert_eq!(t.code, 0, "{config}: {}", t.stderr);
        assert!(
            t.stdout
                .ends_with("A30,24,165,True,false\nA100,40,250,True,true\n"),
            "{}",
            t.stdout
        );
    }
}

/// Issue 10: a partial schema file replaced the built-in schema, so adding
/// one field meant copying all 29; now it adds (or replaces) fields only.
#[test]
fn a_partial_schema_adds_fields_and_keeps_the_built_in_ones_in_every_command() {
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = write(
        dir.path(),
        "s.yaml",
        "fields:\n  mig_instances: { type: float, columns: [mig_capable] }\n  \
         vram_gb: { type: float, columns: [vram_gb, vram] }\n",
    );
    let rule = write(
        dir.path(),
        "m.rule",
        "rule many: bool = mig_instances >= 4 and vram_gb >= 40 and price > 0\n",
    );
    let data = write(
        dir.path(),
        "d.csv",
        "model,price,vram,tdp_watts,mig_capable\nA100,9000,40,250,7\nA30,4000,24,165,4\n",
    );
    let e = run(&["eval", &rule, &data, "--schema", &schema]);
    assert_eq!(e.code, 0, "{}", e.stderr);
    assert!(
        e.stdout
            .ends_with("A100,9000,40,250,7,true\nA30,4000,24,165,4,false\n"),
        "{}",
        e.stdout
    );
    // The built-in rule reads vram_gb through the added column, and
    // mig_support through the built-in field's `mig_capable`.
    let t = run(&["tag-quantization", &data, "--schema", &schema]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert!(
        t.stdout
            .ends_with("A100,9000,40,250,7,true\nA30,4000,24,165,4,true\n"),
        "{}",
        t.stdout
    );
    let l = run(&["lint", &rule, "--schema", &schema]);
    assert_eq!(l.code, 0, "{}{}", l.stdout, l.stderr);
}

#[test]
fn a_layer_cannot_change_a_key_type_and_the_error_names_its_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = write(dir.path(), "bad.yaml", "# watts\nmax_tdp_watts: 300W\n");
    let o = out(glyphsieve()
        .args(["tag-quantization", "-", "--config", &bad])
        .write_stdin(SEED)
        .output()
        .expect("runs"));
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "");
    assert_eq!(
        o.stderr,
        format!(
            "error: {bad}:2:1: key `max_tdp_watts` expects a float, found a string (\"300W\")\n"
        )
    );
}

// ---------------------------------------------------------------------------
// W404: only keys the user's layers add, at the layer that sets them.

/// Issue 10: linting with a copy of the built-in config gave a W404 for
/// each shipped key the rule file does not read.
#[test]
fn a_copy_of_the_built_in_config_gives_no_w404_for_shipped_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = write(
        dir.path(),
        "copy.yaml",
        &std::fs::read_to_string(
            crate::support::root().join("resources/quantization_heuristic.yaml"),
        )
        .expect("the shipped config"),
    );
    let rule = write(
        dir.path(),
        "r.rule",
        "rule r: bool = vram_gb >= cfg.min_vram_gb\n",
    );
    let o = run(&["lint", &rule, "--config", &copy]);
    assert_eq!(o.code, 0);
    assert_eq!(o.stdout, "1 file, 1 rule: 0 errors, 0 warnings\n");
}

#[test]
fn w404_for_a_key_a_later_layer_adds_points_at_that_file_with_a_did_you_mean() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = write(dir.path(), "a.yaml", "max_price_per_gb: 30\n");
    let b = write(dir.path(), "b.yaml", "# typo\nmax_price_per_gbb: 25\n");
    let rule = write(
        dir.path(),
        "r.rule",
        "rule r: bool = price / vram_gb <= cfg.max_price_per_gb\n",
    );
    let o = run(&[
        "lint", &rule, "--config", &a, "--config", &b, "--format", "json",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let items: serde_json::Value = serde_json::from_str(&o.stdout).expect("JSON");
    let items = items.as_array().expect("a list");
    assert_eq!(items.len(), 1, "{items:?}");
    let d = &items[0];
    assert_eq!(d["code"], "W404");
    assert_eq!(d["file"], b.as_str());
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(d["message"], "config key `max_price_per_gbb` is never read");
    let help = d["help"].as_str().unwrap_or_default();
    assert!(
        help.starts_with("did you mean `max_price_per_gb`"),
        "{help}"
    );
}

// ---------------------------------------------------------------------------
// The project file.

fn project(dir: &Path) {
    write(
        dir,
        "glyphsieve.yaml",
        "config: { max_price_per_gb: 30 }\n\
         schema: { fields: { mig_instances: { type: float, columns: [mig_capable] } } }\n\
         rules: [rules/]\n",
    );
    write(
        dir,
        "rules/a.rule",
        "rule cheap: bool = price / vram_gb <= cfg.max_price_per_gb\n\
         rule partitions: bool = mig_instances >= 4\n",
    );
    write(
        dir,
        "data/d.csv",
        "model,price,vram_gb,mig_capable\nA,100,10,7\nB,1000,10,0\n",
    );
}

const PROJECT_OUT: &str = "model,price,vram_gb,mig_capable,cheap,partitions\nA,100,10,7,true,true\nB,1000,10,0,false,false\n";

#[test]
fn eval_data_alone_in_a_project_folder_uses_its_rules_config_and_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    project(dir.path());
    let o = run_in(dir.path(), &["eval", "data/d.csv"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, PROJECT_OUT);
    // Found from a subfolder too, its rule paths relative to the file.
    let o = run_in(&dir.path().join("data"), &["eval", "d.csv"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, PROJECT_OUT);
    // RULES... DATA still works, and `lint` alone lints the project's rules.
    let o = run_in(dir.path(), &["eval", "rules/a.rule", "data/d.csv"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, PROJECT_OUT),
        "{}",
        o.stderr
    );
    let o = run_in(dir.path(), &["lint"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "1 file, 2 rules: 0 errors, 0 warnings\n");
    // explain takes `[RULES]... DATA` as eval does: the project's rules.
    let alone = run_in(dir.path(), &["explain", "data/d.csv", "--row", "1"]);
    let given = run_in(
        dir.path(),
        &["explain", "rules/a.rule", "data/d.csv", "--row", "1"],
    );
    assert_eq!(alone.code, 0, "{}", alone.stderr);
    assert!(!alone.stdout.is_empty());
    assert_eq!(alone.stdout, given.stdout);
    let o = run_in(dir.path(), &["explain", "rules/a.rule", "--row", "1"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("the DATA file is missing"),
        "{}",
        o.stderr
    );
}

#[test]
fn no_project_ignores_the_project_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    project(dir.path());
    let o = run_in(
        dir.path(),
        &["eval", "rules/a.rule", "data/d.csv", "--no-project"],
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("unknown config key `cfg.max_price_per_gb`"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("unknown name `mig_instances`"),
        "{}",
        o.stderr
    );
    let mut cmd = glyphsieve();
    cmd.current_dir(dir.path())
        .env("GLYPHSIEVE_NO_PROJECT", "1");
    let o = out(cmd.args(["eval", "data/d.csv"]).output().expect("runs"));
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.starts_with("error: no rules given"),
        "{}",
        o.stderr
    );
}

#[test]
fn an_error_in_the_project_file_is_located() {
    let dir = tempfile::tempdir().expect("temp dir");
    project(dir.path());
    write(
        dir.path(),
        "glyphsieve.yaml",
        "config:\n  min_vram_gb: [1\nrules: [rules/]\n",
    );
    let o = run_in(dir.path(), &["eval", "data/d.csv"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.starts_with("error: glyphsieve.yaml:3:"),
        "{}",
        o.stderr
    );
    write(
        dir.path(),
        "glyphsieve.yaml",
        "# settings\nrule: [rules/]\n",
    );
    let o = run_in(&dir.path().join("data"), &["eval", "d.csv"]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "error: ../glyphsieve.yaml:2:1: unknown key `rule` (did you mean `rules`?); \
         known keys: config, schema, rules\n"
    );
    write(
        dir.path(),
        "glyphsieve.yaml",
        "config:\n  min_vram_gb: lots\n",
    );
    let o = run_in(dir.path(), &["lint", "rules/a.rule", "--format", "json"]);
    assert_eq!(o.code, 1);
    let d: serde_json::Value = serde_json::from_str(&o.stdout).expect("JSON");
    assert_eq!(d[0]["code"], "E601");
    assert_eq!(d[0]["file"], "glyphsieve.yaml");
    assert_eq!(
        (d[0]["line"].as_u64(), d[0]["column"].as_u64()),
        (Some(2), Some(3))
    );
}

#[test]
fn eval_with_only_a_rule_file_says_the_data_file_is_missing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = write(dir.path(), "mine.rule", "rule r: bool = true\n");
    let o = run(&["eval", &rule]);
    assert_eq!(o.code, 2);
    assert_eq!(
        o.stderr,
        format!(
            "error: the DATA file is missing: `{rule}` is rules; give the CSV file after them: \
             `glyphsieve eval RULES... DATA`\n"
        )
    );
    let data = write(dir.path(), "d.csv", "a\n1\n");
    let o = run(&["eval", &data]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.starts_with("error: no rules given: "),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("`rules:`"), "{}", o.stderr);
}

// ---------------------------------------------------------------------------
// `glyphsieve config`.

#[test]
fn config_command_prints_each_value_with_the_layer_it_comes_from() {
    let dir = tempfile::tempdir().expect("temp dir");
    project(dir.path());
    let c = write(dir.path(), "c.yaml", "# mine\nmin_vram_gb: 40\n");
    let s = write(dir.path(), "s.yaml", "fields:\n  price: { type: int }\n");
    let o = run_in(
        dir.path(),
        &[
            "config",
            "--config",
            &c,
            "--schema",
            &s,
            "--set",
            "require_mig=no",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    for line in [
        format!("# Settings in effect; layers, lowest first: built-in, glyphsieve.yaml, {c}, {s}, --set.\n"),
        "rules: [\"rules/\"]  # from glyphsieve.yaml:3\n".to_string(),
        "config:\n".to_string(),
        format!("  min_vram_gb: 40.0  # from {c}:2\n"),
        "  max_tdp_watts: 300.0  # from built-in\n".to_string(),
        "  require_mig: false  # from --set\n".to_string(),
        "    70b: 35.0  # from built-in\n".to_string(),
        "  max_price_per_gb: 30  # from glyphsieve.yaml:1\n".to_string(),
        "schema:\n  fields:\n".to_string(),
        format!("    price: {{type: int, columns: [\"price\"], nulls: [\"\", \"NA\", \"N/A\", \"null\", \"None\"]}}  # from {s}:2\n"),
        "    mig_instances: {type: float, columns: [\"mig_capable\"], nulls: [\"\", \"NA\", \"N/A\", \"null\", \"None\"]}  # from glyphsieve.yaml:2\n".to_string(),
        "    tdp_watts: {type: float, columns: [\"tdp_watts\", \"tdp_w\"], nulls: [\"\", \"NA\", \"N/A\", \"null\", \"None\", \"0\", \"0.0\"]}  # from built-in\n".to_string(),
    ] {
        assert!(o.stdout.contains(&line), "lacks {line:?}:\n{}", o.stdout);
    }
}

/// What `glyphsieve config` prints is a project file: copied as one, it
/// gives the same settings (each now from the copy).
#[test]
fn config_output_is_a_project_file_that_gives_the_same_settings() {
    let dir = tempfile::tempdir().expect("temp dir");
    project(dir.path());
    let first = run_in(dir.path(), &["config", "--set", "limits.tdp=250"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let copy = tempfile::tempdir().expect("temp dir");
    write(copy.path(), "glyphsieve.yaml", &first.stdout);
    std::fs::create_dir_all(copy.path().join("rules")).expect("mkdir");
    std::fs::copy(
        dir.path().join("rules/a.rule"),
        copy.path().join("rules/a.rule"),
    )
    .expect("copy");
    let second = run_in(copy.path(), &["config"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let values = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split("  # from").next().unwrap_or(l).to_string())
            .collect()
    };
    assert_eq!(values(&first.stdout), values(&second.stdout));
    assert!(
        second
            .stdout
            .contains("    tdp: 250  # from glyphsieve.yaml:"),
        "{}",
        second.stdout
    );
}

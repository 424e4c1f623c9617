//! The library as a Rust user sees it: errors as kinds to match on, native heuristics in the pipeline.

use glyphsieve::config::{Config, ConfigErrorKind, QuantizationConfig};
use glyphsieve::data::pipeline::{DataError, Job, run};
use glyphsieve::eval::{EvalError, EvalErrorKind, Listing, Row, Value};
use glyphsieve::heuristic::{Heuristic, OutputType};
use glyphsieve::schema::{Schema, SchemaErrorKind};

use crate::support::rules;

#[test]
fn config_errors_are_kinds_carrying_their_data_not_strings() {
    let e = QuantizationConfig::from_yaml("q.yaml", "min_vram: 24\n").unwrap_err();
    match &*e.what {
        ConfigErrorKind::UnknownKey {
            key,
            suggestion,
            known,
        } => {
            assert_eq!(key, "min_vram");
            assert_eq!(suggestion.as_deref(), Some("min_vram_gb"));
            assert!(known.iter().any(|k| k == "max_tdp_watts"), "{known:?}");
        }
        other => panic!("expected UnknownKey, got {other:?}"),
    }
    // The display is the message the CLI prints, unchanged.
    assert!(
        e.to_string()
            .starts_with("q.yaml:1:1: unknown key `min_vram` (did you mean `min_vram_gb`?)"),
        "{e}"
    );

    let e = Config::from_yaml("c.yaml", "a: 1\na: 2\n").unwrap_err();
    let ConfigErrorKind::DuplicateKey { key, first } = &*e.what else {
        panic!("expected DuplicateKey, got {e:?}");
    };
    assert_eq!((key.as_str(), first.line, first.column), ("a", 1, 1));

    let mut c = QuantizationConfig::default().to_config();
    let e = c.set("min_vram_gb=big").unwrap_err();
    assert_eq!(
        *e.what,
        ConfigErrorKind::SetWrongType {
            key: "min_vram_gb".into(),
            expected: "a float",
            value: "big".into(),
        },
        "{e}"
    );
}

#[test]
fn schema_errors_are_kinds_carrying_their_data_not_strings() {
    let e = Schema::from_yaml("s.yaml", "fields:\n  a: { type: decimal }\n").unwrap_err();
    let SchemaErrorKind::Field { field, detail } = &e.what else {
        panic!("expected a field error, got {e:?}");
    };
    assert_eq!(field, "a");
    assert!(detail.contains("decimal"), "{detail}");
    // Located at the field's name.
    assert!(e.to_string().starts_with("s.yaml:2:3: fields.a: "), "{e}");
}

#[test]
fn eval_errors_are_kinds_carrying_their_data_not_strings() {
    let set = rules("rule r: int = cuda_cores * 9223372036854775807\n");
    let hs = set.heuristics();
    let row = Row::from_listing(&Listing {
        cuda_cores: Some(2),
        ..Listing::default()
    });
    let e = hs[0].evaluate(&row).unwrap_err();
    assert_eq!(e.what, EvalErrorKind::IntegerOverflow);
    assert_eq!(e.to_string(), "integer overflow in rule `r`");
}

/// A native heuristic: `vram_gb` per TDP watt, reading the fields it names
/// (or, with `names: None`, saying nothing and getting every field).
struct VramPerWatt {
    names: Option<Vec<String>>,
}

impl Heuristic for VramPerWatt {
    fn name(&self) -> &str {
        "gb_per_kw"
    }
    fn output_type(&self) -> OutputType {
        OutputType::Float
    }
    fn fields(&self) -> Option<Vec<String>> {
        self.names.clone()
    }
    fn evaluate(&self, row: &Row) -> Result<Value, EvalError> {
        Ok(match (row.number("vram_gb"), row.number("tdp_watts")) {
            (Some(gb), Some(w)) => Value::Float(gb / w * 1000.0),
            _ => Value::Missing,
        })
    }
}

fn tag(job: &Job, csv: &str) -> Result<String, DataError> {
    let mut out = Vec::new();
    run(csv.as_bytes(), &mut out, job)?;
    Ok(String::from_utf8(out).expect("utf-8 out"))
}

#[test]
fn a_native_heuristic_reads_the_fields_it_names_in_the_pipeline() {
    let h = VramPerWatt {
        names: Some(vec!["vram_gb".into(), "tdp_watts".into()]),
    };
    let job = Job::new(vec![&h], Schema::listing()).expect("job");
    let (vram, tdp) = (
        Schema::listing().slot("vram_gb").expect("vram_gb"),
        Schema::listing().slot("tdp_watts").expect("tdp_watts"),
    );
    let mut want = vec![vram, tdp];
    want.sort_unstable();
    assert_eq!(job.fields, want);
    // `tdp_w` is the schema's other column name for tdp_watts.
    let out = tag(&job, "model,vram_gb,tdp_w\nA,80,400\nB,NA,300\n").expect("tags");
    assert_eq!(
        out,
        "model,vram_gb,tdp_w,gb_per_kw\nA,80,400,200\nB,NA,300,\n"
    );
}

#[test]
fn a_native_heuristic_naming_an_unknown_field_is_an_error_not_a_missing_column() {
    let h = VramPerWatt {
        names: Some(vec!["vram".into()]),
    };
    let err = Job::new(vec![&h], Schema::listing())
        .err()
        .expect("an error");
    assert!(matches!(&err, DataError::UnknownField { heuristic, field }
        if heuristic == "gb_per_kw" && field == "vram"));
    assert_eq!(
        err.to_string(),
        "heuristic `gb_per_kw` reads field `vram`, which the schema does not have"
    );
}

#[test]
fn a_native_heuristic_that_names_no_fields_reads_every_field() {
    let h = VramPerWatt { names: None };
    let schema = Schema::listing();
    let job = Job::new(vec![&h], schema.clone()).expect("job");
    assert_eq!(job.fields, (0..schema.fields.len()).collect::<Vec<_>>());
    // Every field is read, so each must have its column: a loud error, not
    // a silently missing value.
    let err = tag(&job, "model,vram_gb,tdp_w\nA,80,400\n").unwrap_err();
    assert!(matches!(err, DataError::MissingColumn { .. }), "{err}");
}

#[test]
fn a_compiled_rule_names_the_fields_it_and_its_lets_read() {
    let set = rules("let gb = vram_gb\nrule r: bool = gb > 40 and mig_support\n");
    let hs = set.heuristics();
    let mut names = hs[0].fields().expect("a rule says what it reads");
    names.sort();
    assert_eq!(names, ["mig_support", "vram_gb"]);
}

#[test]
fn only_the_user_facing_modules_are_public() {
    // The checker, compiler, operator semantics and value representation
    // are the crate's own; a user sees what tests, benches and the README
    // use. A module made `pub` again must be added here on purpose.
    let lib = std::fs::read_to_string(crate::support::root().join("src/lib.rs"))
        .expect("src/lib.rs is readable");
    let public: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .filter_map(|l| l.strip_suffix(';'))
        .collect();
    assert_eq!(
        public,
        [
            "config",
            "data",
            "diagnostic",
            "eval",
            "explain",
            "heuristic",
            "rules",
            "schema",
            "source",
            "syntax"
        ]
    );
    assert!(!lib.contains("doc(hidden)"), "no hidden public items");
}

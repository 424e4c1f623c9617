//! The library as a Rust user sees it: errors as kinds to match on, native heuristics in the pipeline.

use glyphsieve::config::{Config, ConfigErrorKind, QuantizationConfig};
use glyphsieve::eval::{EvalErrorKind, Listing, Row};
use glyphsieve::heuristic::Heuristic;
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
    assert!(e.to_string().starts_with("s.yaml: fields.a: "), "{e}");
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

//! Evaluation through the library API: rules built in memory, rows built in
//! code, values checked against the language's SQL missing-value semantics.

use crate::support::{eval, root, rules, rules_with};
use glyphsieve::config::{Config, QuantizationConfig};
use glyphsieve::eval::{EvalError, Listing, Row, Value};
use glyphsieve::heuristic::{Heuristic, OutputType};
use glyphsieve::rules::RuleSet;
use glyphsieve::schema::Schema;

const M: Value = Value::Missing;

fn b(x: bool) -> Value {
    Value::Bool(x)
}
fn i(x: i64) -> Value {
    Value::Int(x)
}
fn f(x: f64) -> Value {
    Value::Float(x)
}
fn s(x: &str) -> Value {
    Value::Str(x.to_string())
}
fn e(x: &str) -> Value {
    Value::Enum(x.into())
}

/// A listing row with the given fields set and every other field missing.
fn row(cells: &[(&str, Value)]) -> Row {
    let mut r = Row::new(Schema::listing());
    for (name, value) in cells {
        r.set(name, value.clone())
            .unwrap_or_else(|err| panic!("{name}: {err}"));
    }
    r
}

/// The value of `rule r: <ty> = <body>` on a row with `cells`.
fn one(ty: &str, body: &str, cells: &[(&str, Value)]) -> Value {
    let set = rules(&format!("rule r: {ty} = {body}\n"));
    eval(&set, "r", &row(cells))
}

/// Evaluate `rule r: <ty> = <body>` expecting a runtime error; returns it
/// with the source text its span points at.
fn fails(ty: &str, body: &str, cells: &[(&str, Value)]) -> (EvalError, String) {
    let set = rules(&format!("rule r: {ty} = {body}\n"));
    let hs = set.heuristics();
    let h = hs.iter().find(|h| h.name() == "r").expect("rule r");
    let err = match h.evaluate(&row(cells)) {
        Ok(v) => panic!("`{body}` on {cells:?} gave {v:?}, expected an error"),
        Err(err) => err,
    };
    let text = set.sources.get(err.span.file).slice(err.span).to_string();
    (err, text)
}

/// Check `body` (of type `ty`) against a table of (cells, expected value).
fn table(ty: &str, body: &str, cases: &[(&[(&str, Value)], Value)]) {
    let set = rules(&format!("rule r: {ty} = {body}\n"));
    for (cells, want) in cases {
        let got = eval(&set, "r", &row(cells));
        assert_eq!(&got, want, "`{body}` on {cells:?}");
    }
}

fn heuristic<'a>(set: &'a [impl Heuristic], name: &str) -> &'a dyn Heuristic {
    set.iter()
        .find(|h| h.name() == name)
        .map(|h| h as &dyn Heuristic)
        .unwrap_or_else(|| panic!("no rule {name}"))
}

mod logic {
    use super::*;

    const TRI: [Value; 3] = [Value::Bool(true), Value::Bool(false), Value::Missing];

    /// All nine (a, b) combinations with the expected result, row by row in
    /// the order of `TRI` x `TRI`.
    fn truth_table(op: &str, expected: [[Value; 3]; 3]) {
        let set = rules(&format!("rule r: bool = mig_support {op} nvlink\n"));
        for (ai, a) in TRI.iter().enumerate() {
            for (bi, bv) in TRI.iter().enumerate() {
                let r = row(&[("mig_support", a.clone()), ("nvlink", bv.clone())]);
                assert_eq!(eval(&set, "r", &r), expected[ai][bi], "{a:?} {op} {bv:?}");
            }
        }
    }

    #[test]
    fn and_is_kleene() {
        truth_table(
            "and",
            [
                [b(true), b(false), M],
                [b(false), b(false), b(false)],
                [M, b(false), M],
            ],
        );
    }

    #[test]
    fn or_is_kleene() {
        truth_table(
            "or",
            [
                [b(true), b(true), b(true)],
                [b(true), b(false), M],
                [b(true), M, M],
            ],
        );
    }

    #[test]
    fn not_is_kleene() {
        let set = rules("rule r: bool = not mig_support\n");
        for (a, want) in [(b(true), b(false)), (b(false), b(true)), (M, M)] {
            let r = row(&[("mig_support", a.clone())]);
            assert_eq!(eval(&set, "r", &r), want, "not {a:?}");
        }
    }

    #[test]
    fn not_of_and_combines_three_valued() {
        // not (missing and false) = not false = true
        table(
            "bool",
            "not (mig_support and nvlink)",
            &[
                (&[("nvlink", b(false))], b(true)),
                (&[("nvlink", b(true))], M),
                (&[("mig_support", b(true)), ("nvlink", b(true))], b(false)),
            ],
        );
    }

    #[test]
    fn short_circuit_skips_an_overflow_on_the_right() {
        // The right side would overflow, but `false and _` / `true or _`
        // decide without it.
        let big = [("slots", i(i64::MAX)), ("mig_support", b(false))];
        assert_eq!(one("bool", "mig_support and slots + 1 > 0", &big), b(false));
        let big = [("slots", i(i64::MAX)), ("mig_support", b(true))];
        assert_eq!(one("bool", "mig_support or slots + 1 > 0", &big), b(true));
    }
}

mod precedence {
    use super::*;

    #[test]
    fn arithmetic_binds_and_associates_as_documented() {
        let cases: &[(&str, &str, Value)] = &[
            ("int", "1 + 2 * 3", i(7)),
            ("int", "(1 + 2) * 3", i(9)),
            ("int", "10 - 4 - 3", i(3)),
            ("float", "12 / 2 / 3", f(2.0)),
            ("int", "2 * 3 % 4", i(2)),
            ("int", "-2 * 3", i(-6)),
            ("int", "- -3", i(3)),
            ("int", "1_000 + 1", i(1001)),
            ("float", "1e3 + 1.5e-1", f(1000.15)),
        ];
        for (ty, body, want) in cases {
            assert_eq!(&one(ty, body, &[]), want, "{body}");
        }
    }

    #[test]
    fn not_binds_between_comparison_and_and() {
        // (not mig_support) and nvlink: false, where not (false and false) would be true.
        let off = [("mig_support", b(false)), ("nvlink", b(false))];
        assert_eq!(one("bool", "not mig_support and nvlink", &off), b(false));
        // not (slots > 2)
        assert_eq!(one("bool", "not slots > 2", &[("slots", i(1))]), b(true));
        assert_eq!(one("bool", "not not mig_support", &off), b(false));
        // and binds tighter than or: true or (false and missing)
        assert_eq!(
            one(
                "bool",
                "nvlink or mig_support and is_valid_gpu",
                &[("nvlink", b(true))]
            ),
            b(true)
        );
        assert_eq!(one("bool", "mig_support and nvlink or true", &[]), b(true));
    }
}

mod missing {
    use super::*;

    #[test]
    fn arithmetic_with_missing_is_missing() {
        let no_slots = [("cuda_cores", i(3)), ("vram_gb", f(8.0))];
        for body in [
            "slots + cuda_cores",
            "cuda_cores - slots",
            "slots * cuda_cores",
            "slots % cuda_cores",
            "-slots",
        ] {
            assert_eq!(one("int", body, &no_slots), M, "{body}");
        }
        for body in ["price / vram_gb", "vram_gb + price", "vram_gb * 2.5"] {
            assert_eq!(one("float", body, &[("price", f(1.0))]), M, "{body}");
        }
    }

    #[test]
    fn comparisons_with_missing_are_missing() {
        for body in [
            "vram_gb > 1",
            "vram_gb == 1",
            "vram_gb != 1",
            "1 <= vram_gb",
            "model == \"H100\"",
            "mig_support == true",
        ] {
            assert_eq!(one("bool", body, &[("slots", i(1))]), M, "{body}");
        }
    }

    #[test]
    fn if_with_missing_condition_is_missing_not_else() {
        table(
            "int",
            "if vram_gb > 10 then 1 else 2",
            &[
                (&[("vram_gb", f(80.0))], i(1)),
                (&[("vram_gb", f(8.0))], i(2)),
                (&[], M),
            ],
        );
        // A chain: the missing condition stops it, later branches are not tried.
        assert_eq!(
            one(
                "int",
                "if mig_support then 1 else if true then 2 else 3",
                &[]
            ),
            M
        );
    }

    #[test]
    fn if_branches_may_be_missing() {
        table(
            "int",
            "if mig_support then slots else 0",
            &[
                (&[("mig_support", b(true))], M),
                (&[("mig_support", b(false))], i(0)),
                (&[("mig_support", b(true)), ("slots", i(2))], i(2)),
            ],
        );
    }

    #[test]
    fn in_with_missing_value_is_missing() {
        table(
            "bool",
            "slots in [1, 2]",
            &[
                (&[("slots", i(2))], b(true)),
                (&[("slots", i(3))], b(false)),
                (&[], M),
            ],
        );
    }

    #[test]
    fn in_with_missing_element_is_missing_unless_one_matches() {
        table(
            "bool",
            "pcie_generation in [slots, 3]",
            &[
                (&[("pcie_generation", i(4))], M),
                (&[("pcie_generation", i(3))], b(true)),
                (&[("pcie_generation", i(4)), ("slots", i(4))], b(true)),
                (&[("pcie_generation", i(5)), ("slots", i(4))], b(false)),
            ],
        );
    }

    #[test]
    fn empty_list_is_false_unless_the_value_is_missing() {
        table(
            "bool",
            "slots in []",
            &[(&[("slots", i(3))], b(false)), (&[], M)],
        );
        assert_eq!(one("bool", "slots in [1 + 2]", &[("slots", i(3))]), b(true));
    }

    #[test]
    fn not_in_mirrors_in() {
        table(
            "bool",
            "pcie_generation not in [slots, 3]",
            &[
                (&[("pcie_generation", i(4))], M),
                (&[("pcie_generation", i(3))], b(false)),
                (&[("pcie_generation", i(5)), ("slots", i(4))], b(true)),
                (&[("slots", i(4))], M),
            ],
        );
    }
}

mod defaults {
    use super::*;

    #[test]
    fn default_replaces_only_a_missing_result() {
        let set = rules("rule r: int default 7 = slots * 2\n");
        assert_eq!(eval(&set, "r", &row(&[])), i(7));
        assert_eq!(eval(&set, "r", &row(&[("slots", i(3))])), i(6));
        // Zero is a value, not missing.
        assert_eq!(eval(&set, "r", &row(&[("slots", i(0))])), i(0));
    }

    #[test]
    fn bool_default_keeps_a_present_false() {
        let set = rules("rule r: bool default true = mig_support\n");
        assert_eq!(eval(&set, "r", &row(&[])), b(true));
        assert_eq!(
            eval(&set, "r", &row(&[("mig_support", b(false))])),
            b(false)
        );
    }

    #[test]
    fn negative_float_and_enum_defaults() {
        let set = rules(
            "rule r: float default -1.5 = price\n\
             enum Size { small, large }\n\
             rule z: Size default large = if vram_gb < 16 then small else large\n",
        );
        assert_eq!(eval(&set, "r", &row(&[])), f(-1.5));
        assert_eq!(eval(&set, "r", &row(&[("price", f(0.0))])), f(0.0));
        assert_eq!(eval(&set, "z", &row(&[])), e("large"));
        assert_eq!(eval(&set, "z", &row(&[("vram_gb", f(8.0))])), e("small"));
    }
}

mod widening {
    use super::*;

    /// Regression: `==` between an int and a float widened the int first,
    /// so ints above 2^53 compared equal to their nearest float.
    #[test]
    fn int_and_float_compare_by_exact_value() {
        let big = [("cuda_cores", i(9_007_199_254_740_993))];
        assert_eq!(
            one("bool", "cuda_cores == 9007199254740992.0", &big),
            b(false)
        );
        assert_eq!(
            one("bool", "cuda_cores > 9007199254740992.0", &big),
            b(true)
        );
        assert_eq!(
            one("bool", "9007199254740992.0 < cuda_cores", &big),
            b(true)
        );
        let small = [("cuda_cores", i(24))];
        assert_eq!(one("bool", "cuda_cores == 24.0", &small), b(true));
        assert_eq!(one("bool", "cuda_cores < 24.5", &small), b(true));
        assert_eq!(one("bool", "cuda_cores >= 24.5", &small), b(false));
        assert_eq!(
            one(
                "bool",
                "cuda_cores != 24.0",
                &[("cuda_cores", Value::Missing)]
            ),
            Value::Missing
        );
    }

    #[test]
    fn int_plus_float_is_float() {
        assert_eq!(one("float", "slots + 0.5", &[("slots", i(2))]), f(2.5));
        assert_eq!(one("float", "1 + 0.25", &[]), f(1.25));
        assert_eq!(
            one(
                "float",
                "vram_gb * slots",
                &[("slots", i(3)), ("vram_gb", f(1.5))]
            ),
            f(4.5)
        );
    }

    #[test]
    fn division_of_ints_is_float() {
        assert_eq!(one("float", "7 / 2", &[]), f(3.5));
        assert_eq!(one("float", "6 / 3", &[]), f(2.0));
        assert_eq!(
            one(
                "float",
                "slots / pcie_generation",
                &[("slots", i(7)), ("pcie_generation", i(2))]
            ),
            f(3.5)
        );
        let set = rules("rule r: float = slots / 2\n");
        assert_eq!(
            heuristic(&set.heuristics(), "r").output_type(),
            OutputType::Float
        );
    }

    #[test]
    fn int_equals_float_by_value() {
        assert_eq!(one("bool", "24 == 24.0", &[]), b(true));
        assert_eq!(one("bool", "24 != 24.0", &[]), b(false));
        assert_eq!(one("bool", "24 == 24.5", &[]), b(false));
        assert_eq!(one("bool", "slots == 2.0", &[("slots", i(2))]), b(true));
        assert_eq!(one("bool", "slots < 2.5", &[("slots", i(2))]), b(true));
        assert_eq!(
            one("bool", "vram_gb == 24", &[("vram_gb", f(24.0))]),
            b(true)
        );
    }

    #[test]
    fn in_list_mixing_int_and_float_compares_values() {
        table(
            "bool",
            "slots in [1, 2.0, 2.5]",
            &[
                (&[("slots", i(2))], b(true)),
                (&[("slots", i(3))], b(false)),
            ],
        );
        assert_eq!(
            one("bool", "vram_gb in [24, 48]", &[("vram_gb", f(48.0))]),
            b(true)
        );
    }

    #[test]
    fn int_body_of_a_float_rule_is_widened() {
        let set = rules("rule r: float = slots\nrule k: float = 3\n");
        let hs = set.heuristics();
        assert_eq!(heuristic(&hs, "r").output_type(), OutputType::Float);
        assert_eq!(eval(&set, "r", &row(&[("slots", i(3))])), f(3.0));
        assert_eq!(eval(&set, "r", &row(&[])), M);
        assert_eq!(eval(&set, "k", &row(&[])), f(3.0));
    }

    #[test]
    fn if_branches_of_int_and_float_widen() {
        table(
            "float",
            "if mig_support then 1 else 0.5",
            &[
                (&[("mig_support", b(true))], f(1.0)),
                (&[("mig_support", b(false))], f(0.5)),
            ],
        );
    }
}

mod division {
    use super::*;

    #[test]
    fn by_zero_is_missing() {
        let zero_int = [("slots", i(7)), ("pcie_generation", i(0))];
        assert_eq!(one("float", "slots / pcie_generation", &zero_int), M);
        assert_eq!(one("int", "slots % pcie_generation", &zero_int), M);
        for zero in [0.0, -0.0] {
            let zero_float = [("vram_gb", f(7.5)), ("price", f(zero))];
            assert_eq!(one("float", "vram_gb / price", &zero_float), M, "{zero}");
            assert_eq!(one("float", "vram_gb % price", &zero_float), M, "{zero}");
        }
        // Zero divided by something is a value.
        assert_eq!(
            one(
                "float",
                "slots / pcie_generation",
                &[("slots", i(0)), ("pcie_generation", i(4))]
            ),
            f(0.0)
        );
    }

    #[test]
    fn remainder_takes_the_sign_of_the_dividend() {
        let cases: &[(&str, Value)] = &[
            ("-7 % 3", i(-1)),
            ("7 % -3", i(1)),
            ("-7 % -3", i(-1)),
            ("7 % 3", i(1)),
            ("6 % 3", i(0)),
        ];
        for (body, want) in cases {
            assert_eq!(&one("int", body, &[]), want, "{body}");
        }
        assert_eq!(one("float", "-7.5 % 2", &[]), f(-1.5));
        assert_eq!(one("float", "7.5 % -2", &[]), f(1.5));
    }

    #[test]
    fn remainder_of_int_min_by_minus_one_is_zero() {
        assert_eq!(one("int", "slots % -1", &[("slots", i(i64::MIN))]), i(0));
    }
}

mod overflow {
    use super::*;

    fn expect_overflow(ty: &str, body: &str, cells: &[(&str, Value)], span_text: &str) {
        let (err, text) = fails(ty, body, cells);
        assert_eq!(&*err.rule, "r", "{body}");
        assert_eq!(text, span_text, "{body}: span");
        let msg = err.to_string();
        assert!(msg.contains("overflow"), "{body}: {msg}");
        assert!(msg.contains("`r`"), "{body}: {msg}");
    }

    #[test]
    fn integer_arithmetic_overflow_is_an_error() {
        let max = [("slots", i(i64::MAX)), ("cuda_cores", i(1))];
        expect_overflow("int", "slots + cuda_cores", &max, "slots + cuda_cores");
        expect_overflow("int", "slots * 2", &max, "slots * 2");
        let min = [("slots", i(i64::MIN)), ("cuda_cores", i(1))];
        expect_overflow("int", "slots - cuda_cores", &min, "slots - cuda_cores");
        // Only the overflowing part is pointed at.
        expect_overflow(
            "int",
            "1 + (slots - cuda_cores)",
            &min,
            "slots - cuda_cores",
        );
    }

    #[test]
    fn negating_and_abs_of_int_min_overflow() {
        let min = [("slots", i(i64::MIN))];
        expect_overflow("int", "-slots", &min, "-slots");
        expect_overflow("int", "abs(slots)", &min, "abs(slots)");
        expect_overflow("int", "1 + abs(slots)", &min, "abs(slots)");
    }

    #[test]
    fn rounding_a_float_too_big_for_an_int_overflows() {
        let huge = [("vram_gb", f(1e19))];
        expect_overflow("int", "round(vram_gb)", &huge, "round(vram_gb)");
        expect_overflow("int", "floor(vram_gb)", &huge, "floor(vram_gb)");
        expect_overflow("int", "ceil(vram_gb)", &huge, "ceil(vram_gb)");
        let tiny = [("vram_gb", f(-1e19))];
        expect_overflow("int", "floor(vram_gb)", &tiny, "floor(vram_gb)");
        // i64::MAX as a float rounds up to 2^63, one past the largest int.
        let edge = [("vram_gb", f(i64::MAX as f64))];
        expect_overflow("int", "round(vram_gb)", &edge, "round(vram_gb)");
    }

    #[test]
    fn values_at_the_boundaries_do_not_overflow() {
        assert_eq!(one("int", "9223372036854775807", &[]), i(i64::MAX));
        assert_eq!(one("int", "-9223372036854775807 - 1", &[]), i(i64::MIN));
        assert_eq!(
            one("int", "slots + 1", &[("slots", i(i64::MAX - 1))]),
            i(i64::MAX)
        );
        assert_eq!(
            one("int", "-slots", &[("slots", i(i64::MAX))]),
            i(-i64::MAX)
        );
        assert_eq!(
            one(
                "int",
                "floor(vram_gb)",
                &[("vram_gb", f(-9_223_372_036_854_775_808.0))]
            ),
            i(i64::MIN)
        );
    }

    #[test]
    fn overflow_in_a_dependency_points_at_its_expression() {
        let set = rules("rule a: int = slots * slots\nrule b: int = a + 1\n");
        let hs = set.heuristics();
        let err = heuristic(&hs, "b")
            .evaluate(&row(&[("slots", i(i64::MAX))]))
            .expect_err("overflows");
        assert_eq!(
            set.sources.get(err.span.file).slice(err.span),
            "slots * slots"
        );
    }
}

mod functions {
    use super::*;

    #[test]
    fn min_and_max_are_n_ary() {
        let ints = [
            ("slots", i(4)),
            ("cuda_cores", i(-2)),
            ("pcie_generation", i(9)),
        ];
        assert_eq!(
            one("int", "min(slots, cuda_cores, pcie_generation)", &ints),
            i(-2)
        );
        assert_eq!(
            one("int", "max(slots, cuda_cores, pcie_generation)", &ints),
            i(9)
        );
        assert_eq!(one("int", "min(slots, cuda_cores)", &ints), i(-2));
        assert_eq!(one("int", "max(3, 3)", &[]), i(3));
        let floats = [("vram_gb", f(24.5)), ("price", f(-1.25))];
        assert_eq!(one("float", "min(vram_gb, price)", &floats), f(-1.25));
        assert_eq!(one("float", "max(vram_gb, price, 0.5)", &floats), f(24.5));
    }

    #[test]
    fn min_and_max_of_mixed_types_are_float() {
        let cells = [("slots", i(2)), ("vram_gb", f(2.5))];
        assert_eq!(one("float", "min(slots, vram_gb)", &cells), f(2.0));
        assert_eq!(one("float", "max(slots, vram_gb)", &cells), f(2.5));
        assert_eq!(one("float", "max(vram_gb, slots, 7)", &cells), f(7.0));
        let set = rules("rule r: float = max(slots, 0.5)\n");
        assert_eq!(
            heuristic(&set.heuristics(), "r").output_type(),
            OutputType::Float
        );
    }

    #[test]
    fn min_and_max_with_any_missing_argument_are_missing() {
        let cells = [("slots", i(2))];
        assert_eq!(one("int", "min(slots, cuda_cores)", &cells), M);
        assert_eq!(one("int", "max(cuda_cores, slots, 1)", &cells), M);
        assert_eq!(one("float", "max(vram_gb, 0)", &cells), M);
    }

    #[test]
    fn abs_of_int_and_float() {
        table(
            "int",
            "abs(slots)",
            &[
                (&[("slots", i(-3))], i(3)),
                (&[("slots", i(3))], i(3)),
                (&[("slots", i(0))], i(0)),
                (&[("slots", i(i64::MAX))], i(i64::MAX)),
                (&[("slots", i(-i64::MAX))], i(i64::MAX)),
                (&[], M),
            ],
        );
        table(
            "float",
            "abs(vram_gb)",
            &[
                (&[("vram_gb", f(-2.5))], f(2.5)),
                (&[("vram_gb", f(2.5))], f(2.5)),
                (&[], M),
            ],
        );
    }

    #[test]
    fn floor_and_ceil_return_ints() {
        let cases: &[(f64, i64, i64)] = &[
            (2.7, 2, 3),
            (-2.3, -3, -2),
            (2.0, 2, 2),
            (-0.5, -1, 0),
            (0.0, 0, 0),
        ];
        let set = rules("rule fl: int = floor(vram_gb)\nrule ce: int = ceil(vram_gb)\n");
        for &(x, fl, ce) in cases {
            let r = row(&[("vram_gb", f(x))]);
            assert_eq!(eval(&set, "fl", &r), i(fl), "floor({x})");
            assert_eq!(eval(&set, "ce", &r), i(ce), "ceil({x})");
        }
        assert_eq!(eval(&set, "fl", &row(&[])), M);
        assert_eq!(eval(&set, "ce", &row(&[])), M);
        // On an int they are the identity.
        assert_eq!(one("int", "floor(slots)", &[("slots", i(-7))]), i(-7));
        assert_eq!(one("int", "ceil(slots)", &[("slots", i(7))]), i(7));
    }

    #[test]
    fn round_is_half_away_from_zero() {
        let cases: &[(f64, i64)] = &[
            (2.5, 3),
            (-2.5, -3),
            (0.5, 1),
            (-0.5, -1),
            (1.5, 2),
            (2.4, 2),
            (-2.6, -3),
            (-0.4, 0),
            (3.0, 3),
        ];
        let set = rules("rule r: int = round(vram_gb)\n");
        for &(x, want) in cases {
            assert_eq!(
                eval(&set, "r", &row(&[("vram_gb", f(x))])),
                i(want),
                "round({x})"
            );
        }
        assert_eq!(eval(&set, "r", &row(&[])), M);
        assert_eq!(one("int", "round(slots)", &[("slots", i(5))]), i(5));
        assert_eq!(one("int", "round(7 / 2)", &[]), i(4));
        // Not floor(x + 0.5): that gives 1 for the float just below 0.5,
        // and is off by one for odd integers above 2^52.
        let below_half = 0.499_999_999_999_999_94;
        assert_eq!(eval(&set, "r", &row(&[("vram_gb", f(below_half))])), i(0));
        let odd = 4_503_599_627_370_497.0;
        assert_eq!(
            eval(&set, "r", &row(&[("vram_gb", f(odd))])),
            i(4_503_599_627_370_497)
        );
    }

    #[test]
    fn clamp_below_inside_above() {
        table(
            "int",
            "clamp(slots, 1, 4)",
            &[
                (&[("slots", i(0))], i(1)),
                (&[("slots", i(1))], i(1)),
                (&[("slots", i(3))], i(3)),
                (&[("slots", i(4))], i(4)),
                (&[("slots", i(9))], i(4)),
                (&[], M),
            ],
        );
        table(
            "float",
            "clamp(vram_gb, 8, 80.5)",
            &[
                (&[("vram_gb", f(4.0))], f(8.0)),
                (&[("vram_gb", f(24.5))], f(24.5)),
                (&[("vram_gb", f(100.0))], f(80.5)),
            ],
        );
        // Mixed: the int x widens.
        assert_eq!(
            one("float", "clamp(slots, 0.5, 2.5)", &[("slots", i(3))]),
            f(2.5)
        );
        // A missing bound is missing too.
        table(
            "int",
            "clamp(slots, cuda_cores, 4)",
            &[
                (&[("slots", i(3))], M),
                (&[("slots", i(3)), ("cuda_cores", i(5))], i(4)),
            ],
        );
    }

    #[test]
    fn coalesce_takes_the_first_present() {
        table(
            "int",
            "coalesce(slots, cuda_cores, 9)",
            &[
                (&[("slots", i(1)), ("cuda_cores", i(2))], i(1)),
                (&[("cuda_cores", i(2))], i(2)),
                (&[], i(9)),
            ],
        );
        table(
            "int",
            "coalesce(slots, cuda_cores)",
            &[(&[], M), (&[("cuda_cores", i(0))], i(0))],
        );
        assert_eq!(one("float", "coalesce(price, 0)", &[]), f(0.0));
        // An int argument widens when another is a float.
        assert_eq!(
            one("float", "coalesce(slots, 2.5)", &[("slots", i(3))]),
            f(3.0)
        );
        assert_eq!(
            one("float", "coalesce(vram_gb, slots)", &[("slots", i(3))]),
            f(3.0)
        );
        assert_eq!(one("bool", "coalesce(mig_support, false)", &[]), b(false));
        assert_eq!(one("string", "coalesce(generation, \"\")", &[]), s(""));
    }

    #[test]
    fn coalesce_short_circuits() {
        // abs(i64::MIN) would overflow, but the first argument is present.
        let cells = [("slots", i(1)), ("cuda_cores", i(i64::MIN))];
        assert_eq!(one("int", "coalesce(slots, abs(cuda_cores))", &cells), i(1));
        let (_, text) = fails(
            "int",
            "coalesce(slots, abs(cuda_cores))",
            &[("cuda_cores", i(i64::MIN))],
        );
        assert_eq!(text, "abs(cuda_cores)");
    }

    #[test]
    fn is_missing_is_never_missing() {
        table(
            "bool",
            "is_missing(slots)",
            &[(&[("slots", i(0))], b(false)), (&[], b(true))],
        );
        table(
            "bool",
            "is_missing(slots + cuda_cores)",
            &[
                (&[("slots", i(1))], b(true)),
                (&[("slots", i(1)), ("cuda_cores", i(1))], b(false)),
            ],
        );
        assert_eq!(one("bool", "is_missing(model)", &[]), b(true));
        assert_eq!(
            one(
                "bool",
                "is_missing(mig_support)",
                &[("mig_support", b(false))]
            ),
            b(false)
        );
    }

    #[test]
    fn lower_and_upper_handle_non_ascii() {
        let set = rules("rule lo: string = lower(model)\nrule up: string = upper(model)\n");
        for (input, lo, up) in [
            ("H100 SXM5", "h100 sxm5", "H100 SXM5"),
            ("Élan", "élan", "ÉLAN"),
            ("é", "é", "É"),
            ("", "", ""),
        ] {
            let r = row(&[("model", s(input))]);
            assert_eq!(eval(&set, "lo", &r), s(lo), "lower({input})");
            assert_eq!(eval(&set, "up", &r), s(up), "upper({input})");
        }
        let r = row(&[]);
        assert_eq!(eval(&set, "lo", &r), M);
        assert_eq!(eval(&set, "up", &r), M);
    }

    #[test]
    fn lowered_strings_compare_and_search() {
        table(
            "bool",
            "lower(model) == \"a100\" and contains(upper(model), \"A1\")",
            &[
                (&[("model", s("A100"))], b(true)),
                (&[("model", s("a100"))], b(true)),
                (&[("model", s("A1000"))], b(false)),
            ],
        );
    }

    #[test]
    fn contains_starts_with_ends_with() {
        let set = rules(
            "rule c: bool = contains(model, seller)\n\
             rule sw: bool = starts_with(model, seller)\n\
             rule ew: bool = ends_with(model, seller)\n",
        );
        // (model, needle, contains, starts_with, ends_with)
        let cases: &[(&str, &str, bool, bool, bool)] = &[
            ("RTX 4090", "RTX", true, true, false),
            ("RTX 4090", "4090", true, false, true),
            ("RTX 4090", "X 40", true, false, false),
            ("RTX 4090", "rtx", false, false, false),
            ("RTX 4090", "", true, true, true),
            ("", "", true, true, true),
            ("", "a", false, false, false),
            ("RTX", "RTX 4090", false, false, false),
            ("Quadro É", "É", true, false, true),
        ];
        for &(hay, needle, c, sw, ew) in cases {
            let r = row(&[("model", s(hay)), ("seller", s(needle))]);
            assert_eq!(eval(&set, "c", &r), b(c), "contains({hay:?}, {needle:?})");
            assert_eq!(
                eval(&set, "sw", &r),
                b(sw),
                "starts_with({hay:?}, {needle:?})"
            );
            assert_eq!(
                eval(&set, "ew", &r),
                b(ew),
                "ends_with({hay:?}, {needle:?})"
            );
        }
        for cells in [&[("model", s("x"))][..], &[("seller", s("x"))][..]] {
            let r = row(cells);
            for name in ["c", "sw", "ew"] {
                assert_eq!(eval(&set, name, &r), M, "{name} on {cells:?}");
            }
        }
        assert_eq!(
            one("bool", "ends_with(model, \"\")", &[("model", s("A100"))]),
            b(true)
        );
    }

    #[test]
    fn matches_is_unanchored_unless_the_pattern_anchors() {
        let set = rules(
            "rule any: bool = matches(model, \"100\")\n\
             rule start: bool = matches(model, \"^H1\")\n\
             rule whole: bool = matches(model, \"^[AH]100$\")\n",
        );
        // (model, any, start, whole)
        let cases: &[(&str, bool, bool, bool)] = &[
            ("H100", true, true, true),
            ("A100", true, false, true),
            ("H100 SXM", true, true, false),
            ("NVIDIA H100", true, false, false),
            ("L40S", false, false, false),
        ];
        for &(model, any, start, whole) in cases {
            let r = row(&[("model", s(model))]);
            assert_eq!(eval(&set, "any", &r), b(any), "{model}");
            assert_eq!(eval(&set, "start", &r), b(start), "{model}");
            assert_eq!(eval(&set, "whole", &r), b(whole), "{model}");
        }
        let r = row(&[]);
        for name in ["any", "start", "whole"] {
            assert_eq!(eval(&set, name, &r), M, "{name}");
        }
    }

    #[test]
    fn every_other_function_is_missing_on_a_missing_argument() {
        let cells = [("slots", i(1))];
        for (ty, body) in [
            ("int", "abs(cuda_cores)"),
            ("float", "abs(vram_gb)"),
            ("int", "floor(vram_gb)"),
            ("int", "ceil(vram_gb)"),
            ("int", "round(vram_gb)"),
            ("int", "clamp(slots, 0, cuda_cores)"),
            ("string", "lower(model)"),
            ("string", "upper(model)"),
            ("bool", "contains(model, \"a\")"),
            ("bool", "starts_with(\"abc\", model)"),
            ("bool", "ends_with(model, \"c\")"),
            ("bool", "matches(model, \"a\")"),
        ] {
            assert_eq!(one(ty, body, &cells), M, "{body}");
        }
    }
}

mod enums {
    use super::*;

    const POWER: &str = "enum PowerClass { low, mid, high }\n\
        rule p: PowerClass = if tdp_watts <= 150 then low else if tdp_watts <= 300 then mid else high\n\
        rule is_mid: bool = p == mid\n\
        rule not_high: bool = p != high\n\
        rule at_least_mid: bool = p >= mid\n\
        rule below_high: bool = p < high\n\
        rule cool: bool = p in [low, mid]\n\
        rule hot: bool = p not in [low, mid]\n";

    #[test]
    fn if_chain_gives_variants() {
        let set = rules(POWER);
        let hs = set.heuristics();
        assert_eq!(
            heuristic(&hs, "p").output_type(),
            OutputType::Enum(vec!["low".into(), "mid".into(), "high".into()])
        );
        for (tdp, want) in [
            (75.0, "low"),
            (150.0, "low"),
            (250.0, "mid"),
            (450.0, "high"),
        ] {
            let r = row(&[("tdp_watts", f(tdp))]);
            assert_eq!(eval(&set, "p", &r), e(want), "{tdp} W");
        }
        assert_eq!(eval(&set, "p", &row(&[])), M);
    }

    #[test]
    fn comparisons_follow_declaration_order() {
        let set = rules(POWER);
        // (tdp, is_mid, not_high, at_least_mid, below_high, cool, hot)
        let cases: &[(f64, [bool; 6])] = &[
            (100.0, [false, true, false, true, true, false]),
            (200.0, [true, true, true, true, true, false]),
            (400.0, [false, false, true, false, false, true]),
        ];
        let names = [
            "is_mid",
            "not_high",
            "at_least_mid",
            "below_high",
            "cool",
            "hot",
        ];
        for (tdp, wants) in cases {
            let r = row(&[("tdp_watts", f(*tdp))]);
            for (name, want) in names.iter().zip(wants) {
                assert_eq!(eval(&set, name, &r), b(*want), "{name} at {tdp} W");
            }
        }
        let r = row(&[]);
        for name in names {
            assert_eq!(eval(&set, name, &r), M, "{name} with missing TDP");
        }
    }

    #[test]
    fn a_variant_may_stand_on_the_left() {
        let set = rules(&format!(
            "{POWER}rule left_eq: bool = mid == p\nrule left_le: bool = low < p\n"
        ));
        for (tdp, eq, lt) in [
            (100.0, false, false),
            (200.0, true, true),
            (400.0, false, true),
        ] {
            let r = row(&[("tdp_watts", f(tdp))]);
            assert_eq!(eval(&set, "left_eq", &r), b(eq), "mid == p at {tdp} W");
            assert_eq!(eval(&set, "left_le", &r), b(lt), "low < p at {tdp} W");
        }
    }
}

mod dependencies {
    use super::*;

    const DIAMOND: &str = "let base = vram_gb * 2\n\
        rule left: float = base + 1\n\
        rule right: float = base - 1\n\
        rule top: float = left * right\n\
        let half = base / 4\n\
        rule uses_let_twice: float = half + half\n";

    #[test]
    fn diamond_is_consistent_in_any_order() {
        let set = rules(DIAMOND);
        let hs = set.heuristics();
        let names: Vec<&str> = hs.iter().map(|h| h.name()).collect();
        assert!(!names.contains(&"base"), "lets are not outputs: {names:?}");
        let want = [
            ("left", f(21.0)),
            ("right", f(19.0)),
            ("top", f(399.0)),
            ("uses_let_twice", f(10.0)),
        ];
        // Top first (it pulls in both sides), then the sides; and the reverse.
        for order in [[2, 0, 1, 3], [0, 1, 3, 2], [3, 2, 1, 0]] {
            let r = row(&[("vram_gb", f(10.0))]);
            for k in order {
                let (name, value) = &want[k];
                assert_eq!(&eval(&set, name, &r), value, "{name} in order {order:?}");
            }
            // Asking again gives the same answers.
            for (name, value) in &want {
                assert_eq!(&eval(&set, name, &r), value, "{name} again");
            }
        }
    }

    #[test]
    fn missing_flows_through_lets_and_rules() {
        let set = rules(DIAMOND);
        let r = row(&[]);
        for name in ["left", "right", "top", "uses_let_twice"] {
            assert_eq!(eval(&set, name, &r), M, "{name}");
        }
    }

    #[test]
    fn changing_the_row_invalidates_results() {
        let set = rules(DIAMOND);
        let mut r = row(&[("vram_gb", f(10.0))]);
        assert_eq!(eval(&set, "top", &r), f(399.0));
        r.set("vram_gb", 5.0).unwrap();
        assert_eq!(eval(&set, "top", &r), f(99.0));
        assert_eq!(eval(&set, "left", &r), f(11.0));
        r.set("vram_gb", Value::Missing).unwrap();
        assert_eq!(eval(&set, "top", &r), M);
        r.set("vram_gb", 1.0).unwrap();
        assert_eq!(eval(&set, "right", &r), f(1.0));
        r.clear();
        assert_eq!(eval(&set, "left", &r), M);
    }

    #[test]
    fn changing_a_string_field_invalidates_results() {
        let set = rules("rule lo: string = lower(model)\nrule n: bool = lo == \"a100\"\n");
        let mut r = row(&[("model", s("A100"))]);
        assert_eq!(eval(&set, "n", &r), b(true));
        r.set("model", "H100").unwrap();
        assert_eq!(eval(&set, "lo", &r), s("h100"));
        assert_eq!(eval(&set, "n", &r), b(false));
    }

    #[test]
    fn one_row_under_two_rule_sets() {
        // Same rule name, different bodies: each set gets its own answer.
        let a = rules("rule r: int = slots + 1\n");
        let b_set = rules("rule r: int = slots * 10\n");
        let r = row(&[("slots", i(3))]);
        assert_eq!(eval(&a, "r", &r), i(4));
        assert_eq!(eval(&b_set, "r", &r), i(30));
        assert_eq!(eval(&a, "r", &r), i(4));
    }

    #[test]
    fn rules_read_other_rules_defaults() {
        let set = rules(
            "rule flagged: bool = vram_gb >= 24 and mig_support\n\
             rule label: string = if flagged then \"yes\" else \"no\"\n\
             rule either: bool = flagged or nvlink\n",
        );
        let r = row(&[("vram_gb", f(80.0)), ("mig_support", b(true))]);
        assert_eq!(eval(&set, "label", &r), s("yes"));
        let r = row(&[("vram_gb", f(8.0))]);
        assert_eq!(eval(&set, "label", &r), s("no"));
        assert_eq!(eval(&set, "either", &r), M);
        let r = row(&[("vram_gb", f(80.0)), ("nvlink", b(true))]);
        assert_eq!(eval(&set, "label", &r), M);
        assert_eq!(eval(&set, "either", &r), b(true));
    }
}

mod strings {
    use super::*;

    #[test]
    fn strings_compare_byte_wise() {
        let set = rules("rule lt: bool = model < seller\nrule eq: bool = model == seller\n");
        // (a, b, a < b)
        let cases: &[(&str, &str, bool)] = &[
            ("B", "a", true),
            ("a", "B", false),
            ("10", "9", true),
            ("z", "é", true),
            ("é", "z", false),
            ("", "a", true),
            ("abc", "abd", true),
            ("ab", "abc", true),
            ("a", "a", false),
        ];
        for &(a, bs, want) in cases {
            let r = row(&[("model", s(a)), ("seller", s(bs))]);
            assert_eq!(eval(&set, "lt", &r), b(want), "{a:?} < {bs:?}");
            assert_eq!(eval(&set, "eq", &r), b(a == bs), "{a:?} == {bs:?}");
        }
        // No case folding or normalisation: precomposed é is not e + U+0301.
        let r = row(&[("model", s("\u{e9}")), ("seller", s("e\u{301}"))]);
        assert_eq!(eval(&set, "eq", &r), b(false));
    }

    #[test]
    fn escapes_in_string_literals() {
        let quoted = [("model", s("say \"hi\" \\ ok"))];
        assert_eq!(
            one("bool", r#"model == "say \"hi\" \\ ok""#, &quoted),
            b(true)
        );
        let h100 = [("model", s("H100"))];
        assert_eq!(
            one("bool", r#"matches(model, "^[A-Z]\\d{3}$")"#, &h100),
            b(true)
        );
        assert_eq!(one("bool", r#"matches(model, "^\\d")"#, &h100), b(false));
    }

    #[test]
    fn string_literals_and_in() {
        table(
            "bool",
            "generation in [\"Hopper\", \"Ampere\"]",
            &[
                (&[("generation", s("Hopper"))], b(true)),
                (&[("generation", s("hopper"))], b(false)),
                (&[], M),
            ],
        );
    }
}

mod quantization {
    use super::*;

    fn rule_text() -> String {
        std::fs::read_to_string(root().join("rules/quantization_capable.rule"))
            .expect("shipped rule is readable")
    }

    fn card(vram: Option<f64>, tdp: Option<f64>, mig: Option<bool>) -> Listing {
        Listing {
            model: "card".into(),
            vram_gb: vram,
            tdp_watts: tdp,
            mig_support: mig,
            ..Listing::default()
        }
    }

    fn capable(set: &RuleSet, listing: &Listing) -> Value {
        eval(set, "quantization_capable", &Row::from_listing(listing))
    }

    #[test]
    fn the_seed_cases() {
        let set = rules(&rule_text());
        let cases: &[(&str, Listing, bool)] = &[
            (
                "meets all three",
                card(Some(80.0), Some(300.0), Some(true)),
                true,
            ),
            ("A100 40GB", card(Some(40.0), Some(250.0), Some(true)), true),
            (
                "20 GB VRAM",
                card(Some(20.0), Some(250.0), Some(true)),
                false,
            ),
            ("301 W", card(Some(80.0), Some(301.0), Some(true)), false),
            ("no MIG", card(Some(80.0), Some(250.0), Some(false)), false),
            (
                "exactly 24 GB",
                card(Some(24.0), Some(250.0), Some(true)),
                true,
            ),
            (
                "exactly 300 W",
                card(Some(48.0), Some(300.0), Some(true)),
                true,
            ),
            (
                "just under 24 GB",
                card(Some(23.99), Some(250.0), Some(true)),
                false,
            ),
            ("missing VRAM", card(None, Some(250.0), Some(true)), false),
            ("missing TDP", card(Some(80.0), None, Some(true)), false),
            ("missing MIG", card(Some(80.0), Some(250.0), None), false),
            ("nothing known", card(None, None, None), false),
        ];
        for (what, listing, want) in cases {
            assert_eq!(capable(&set, listing), b(*want), "{what}");
        }
    }

    #[test]
    fn output_is_a_bool_named_after_the_rule() {
        let set = rules(&rule_text());
        let hs = set.heuristics();
        assert_eq!(hs.len(), 1);
        assert_eq!(hs[0].name(), "quantization_capable");
        assert_eq!(hs[0].output_type(), OutputType::Bool);
    }

    #[test]
    fn custom_config_changes_the_answer() {
        let text = rule_text();
        let at_24 = card(Some(24.0), Some(250.0), Some(true));
        let default_set = rules(&text);
        assert_eq!(capable(&default_set, &at_24), b(true));
        let strict = QuantizationConfig {
            min_vram_gb: 32.0,
            ..Default::default()
        };
        let strict_set = rules_with(&text, &strict.to_config());
        assert_eq!(capable(&strict_set, &at_24), b(false));
        assert_eq!(
            capable(&strict_set, &card(Some(32.0), Some(250.0), Some(true))),
            b(true)
        );
    }

    #[test]
    fn not_requiring_mig_accepts_a_card_without_mig_data() {
        let relaxed = QuantizationConfig {
            require_mig: false,
            ..Default::default()
        };
        let set = rules_with(&rule_text(), &relaxed.to_config());
        assert_eq!(capable(&set, &card(Some(48.0), Some(250.0), None)), b(true));
        assert_eq!(
            capable(&set, &card(Some(48.0), Some(250.0), Some(false))),
            b(true)
        );
        assert_eq!(
            capable(&set, &card(Some(16.0), Some(250.0), None)),
            b(false)
        );
    }

    #[test]
    fn config_set_from_the_command_line_form() {
        let mut config: Config = QuantizationConfig::default().to_config();
        config.set("max_tdp_watts=350").unwrap();
        let set = rules_with(&rule_text(), &config);
        assert_eq!(
            capable(&set, &card(Some(80.0), Some(350.0), Some(true))),
            b(true)
        );
        assert_eq!(
            capable(&set, &card(Some(80.0), Some(351.0), Some(true))),
            b(false)
        );
    }
}

mod strategy {
    use super::*;

    /// The quantization heuristic written in Rust against the same trait.
    struct NativeQuantization {
        config: QuantizationConfig,
    }

    impl Heuristic for NativeQuantization {
        fn name(&self) -> &str {
            "quantization_capable"
        }

        fn output_type(&self) -> OutputType {
            OutputType::Bool
        }

        fn evaluate(&self, row: &Row) -> Result<Value, EvalError> {
            let c = &self.config;
            let vram = row.number("vram_gb").is_some_and(|v| v >= c.min_vram_gb);
            let tdp = row
                .number("tdp_watts")
                .is_some_and(|t| t <= c.max_tdp_watts);
            let mig = row.flag("mig_support") == Some(true) || !c.require_mig;
            Ok(Value::Bool(vram && tdp && mig))
        }
    }

    fn listings() -> Vec<(Listing, bool)> {
        let card = |vram, tdp, mig| Listing {
            model: "card".into(),
            vram_gb: vram,
            tdp_watts: tdp,
            mig_support: mig,
            ..Listing::default()
        };
        vec![
            (card(Some(80.0), Some(700.0), Some(true)), false),
            (card(Some(80.0), Some(300.0), Some(true)), true),
            (card(Some(24.0), Some(300.0), Some(true)), true),
            (card(Some(23.5), Some(150.0), Some(true)), false),
            (card(Some(40.0), Some(300.5), Some(true)), false),
            (card(Some(40.0), Some(250.0), Some(false)), false),
            (card(None, Some(250.0), Some(true)), false),
            (card(Some(40.0), None, Some(true)), false),
            (card(Some(40.0), Some(250.0), None), false),
            (card(None, None, None), false),
            (card(Some(0.5), Some(0.5), Some(true)), false),
        ]
    }

    fn compiled(config: &QuantizationConfig) -> RuleSet {
        let text = std::fs::read_to_string(root().join("rules/quantization_capable.rule"))
            .expect("shipped rule is readable");
        rules_with(&text, &config.to_config())
    }

    #[test]
    fn native_agrees_with_the_compiled_rule() {
        let config = QuantizationConfig::default();
        let set = compiled(&config);
        let hs = set.heuristics();
        let rule = heuristic(&hs, "quantization_capable");
        let native = NativeQuantization { config };
        for (listing, want) in listings() {
            let r = Row::from_listing(&listing);
            let a = rule.evaluate(&r).unwrap();
            let n = native.evaluate(&r).unwrap();
            assert_eq!(a, b(want), "compiled on {listing:?}");
            assert_eq!(n, a, "native vs compiled on {listing:?}");
        }
    }

    #[test]
    fn native_agrees_under_another_config() {
        let config = QuantizationConfig {
            min_vram_gb: 40.0,
            require_mig: false,
            ..Default::default()
        };
        let set = compiled(&config);
        let hs = set.heuristics();
        let rule = heuristic(&hs, "quantization_capable");
        let native = NativeQuantization { config };
        let mut flagged = 0;
        for (listing, _) in listings() {
            let r = Row::from_listing(&listing);
            let a = rule.evaluate(&r).unwrap();
            assert_eq!(native.evaluate(&r).unwrap(), a, "{listing:?}");
            flagged += usize::from(a == b(true));
        }
        // 80/300/yes, 40/250/no and 40/250/missing now pass.
        assert_eq!(flagged, 3);
    }

    #[test]
    fn compiled_and_native_heuristics_evaluate_uniformly() {
        let set = compiled(&QuantizationConfig::default());
        let mut all: Vec<Box<dyn Heuristic>> = set
            .heuristics()
            .into_iter()
            .map(|h| Box::new(h) as Box<dyn Heuristic>)
            .collect();
        all.push(Box::new(NativeQuantization {
            config: QuantizationConfig::default(),
        }));
        assert_eq!(all.len(), 2);
        for (listing, want) in listings() {
            let r = Row::from_listing(&listing);
            let outputs: Vec<(String, Value)> = all
                .iter()
                .map(|h| (h.name().to_string(), h.evaluate(&r).unwrap()))
                .collect();
            for (name, value) in &outputs {
                assert_eq!(name, "quantization_capable");
                assert_eq!(value, &b(want), "{listing:?}");
            }
        }
        assert!(all.iter().all(|h| h.output_type() == OutputType::Bool));
    }
}

mod shipped {
    use super::*;
    use glyphsieve::rules::{read_rule_files, rule_files};

    fn shipped() -> RuleSet {
        let files = rule_files(&[root().join("rules")]).expect("rules/ lists");
        assert!(files.len() >= 4, "{files:?}");
        let texts = read_rule_files(&files).expect("rules/ reads");
        let set = RuleSet::build(
            &texts,
            &Schema::listing(),
            &QuantizationConfig::default().to_config(),
        );
        assert!(!set.has_errors(), "{:#?}", set.diagnostics);
        set
    }

    fn vram(v: Option<f64>) -> Row {
        Row::from_listing(&Listing {
            model: "card".into(),
            vram_gb: v,
            ..Listing::default()
        })
    }

    #[test]
    fn shipped_rules_build_without_diagnostics() {
        let set = shipped();
        assert!(set.diagnostics.is_empty(), "{:#?}", set.diagnostics);
        let names: Vec<String> = set
            .heuristics()
            .iter()
            .map(|h| h.name().to_string())
            .collect();
        for want in [
            "capacity_7b",
            "capacity_13b",
            "capacity_70b",
            "power_class",
            "quantization_capable",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
        }
    }

    #[test]
    fn capacity_counts_models_that_fit() {
        let set = shipped();
        // (vram, 7b, 13b, 70b)
        let cases: &[(Option<f64>, Value, Value, Value)] = &[
            (Some(80.0), i(22), i(12), i(2)),
            (Some(24.0), i(6), i(3), i(0)),
            (Some(37.0), i(10), i(5), i(1)),
            (Some(2.0), i(0), i(0), i(0)),
            (Some(1.0), i(0), i(0), i(0)),
            (None, M, M, M),
        ];
        for (v, c7, c13, c70) in cases {
            let r = vram(*v);
            assert_eq!(&eval(&set, "capacity_7b", &r), c7, "7b at {v:?}");
            assert_eq!(&eval(&set, "capacity_13b", &r), c13, "13b at {v:?}");
            assert_eq!(&eval(&set, "capacity_70b", &r), c70, "70b at {v:?}");
        }
    }

    #[test]
    fn power_class_boundaries() {
        let set = shipped();
        for (tdp, want) in [
            (Some(150.0), e("low")),
            (Some(151.0), e("mid")),
            (Some(300.0), e("mid")),
            (Some(301.0), e("high")),
            (None, M),
        ] {
            let r = Row::from_listing(&Listing {
                tdp_watts: tdp,
                ..Listing::default()
            });
            assert_eq!(eval(&set, "power_class", &r), want, "{tdp:?} W");
        }
    }

    #[test]
    fn the_other_shipped_rules() {
        let set = shipped();
        let listing = |price, vram, tdp, slots, generation: Option<&str>| Listing {
            model: "card".into(),
            price,
            vram_gb: vram,
            tdp_watts: tdp,
            slots,
            generation: generation.map(str::to_string),
            ..Listing::default()
        };
        let cases: &[(Listing, [Value; 3])] = &[
            // price_per_gb_vram, rack_friendly, underpowered
            (
                listing(
                    Some(2400.0),
                    Some(80.0),
                    Some(300.0),
                    Some(2),
                    Some("Hopper"),
                ),
                [f(30.0), b(true), b(false)],
            ),
            (
                listing(None, Some(32.0), Some(250.0), Some(3), Some("Volta")),
                [M, b(false), b(true)],
            ),
            (
                listing(Some(100.0), Some(8.0), Some(450.0), Some(1), None),
                [f(12.5), b(false), b(true)],
            ),
            (listing(Some(100.0), None, None, Some(2), None), [M, M, M]),
        ];
        for (l, [ppg, rack, under]) in cases {
            let r = Row::from_listing(l);
            assert_eq!(&eval(&set, "price_per_gb_vram", &r), ppg, "{l:?}");
            assert_eq!(&eval(&set, "rack_friendly", &r), rack, "{l:?}");
            assert_eq!(&eval(&set, "underpowered", &r), under, "{l:?}");
        }
    }
}

//! Property tests: random, mutated and generated rule text never panics the
//! front end; well-typed expressions check and evaluate like a reference
//! interpreter of the documented semantics; nesting limits hold exactly; and
//! the examples in docs/language.md check as the doc says.

use crate::support::root;
use glyphsieve::config::{Config, QuantizationConfig};
use glyphsieve::diagnostic::{Code, Severity, render_human, to_json};
use glyphsieve::eval::{Listing, Row, Value};
use glyphsieve::heuristic::{Heuristic, OutputType};
use glyphsieve::rules::RuleSet;
use glyphsieve::schema::Schema;
use glyphsieve::source::FileId;
use glyphsieve::syntax::{self, MAX_DEPTH, MAX_NESTING};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::Config as ProptestConfig;
use std::sync::LazyLock;

#[path = "support/reference.rs"]
pub(crate) mod reference;
use reference::*;

pub(crate) fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        // Never write regression files into the tree; a failure prints its input.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn default_config() -> Config {
    QuantizationConfig::default().to_config()
}

/// A generic config whose values rules cannot all read (a list, a null).
fn odd_config() -> Config {
    let yaml = "min_vram_gb: 24\nname: x\nlist: [1, 2]\nnothing: null\nnested:\n  a: 1\n  7b: { c: 2.5 }\n";
    Config::from_yaml("odd.yaml", yaml).expect("odd.yaml parses")
}

fn build_with(text: &str, config: &Config) -> RuleSet {
    let texts = [("fuzz.rule".to_string(), text.to_string())];
    RuleSet::build(&texts, &Schema::listing(), config)
}

fn build(text: &str) -> RuleSet {
    build_with(text, &default_config())
}

/// Rows with every field missing, every field present, and extreme values.
fn sample_rows() -> Vec<Row> {
    let h100 = Listing {
        model: "NVIDIA H100 PCIe 80GB".into(),
        condition: Some("New".into()),
        seller: Some("Kestrel, \"Systems\"".into()),
        price: Some(27500.0),
        vram_gb: Some(80.0),
        tdp_watts: Some(350.0),
        mig_support: Some(true),
        nvlink: Some(true),
        slots: Some(2),
        form_factor: Some("PCIe".into()),
        generation: Some("Hopper".into()),
        cuda_cores: Some(14592),
        pcie_generation: Some(5),
    };
    let extreme = Listing {
        model: "ÉÇ\u{0}".into(),
        price: Some(-0.0),
        vram_gb: Some(1e308),
        tdp_watts: Some(f64::MIN_POSITIVE),
        mig_support: Some(false),
        slots: Some(0),
        cuda_cores: Some(i64::MAX),
        pcie_generation: Some(i64::MIN),
        ..Listing::default()
    };
    vec![
        Row::new(Schema::listing()),
        Row::from_listing(&h100),
        Row::from_listing(&extreme),
    ]
}

/// What must hold for any rule set built from any text: well-formed spans
/// and diagnostics, a render that does not panic, the same result twice, and
/// compiled rules that evaluate every row to a value of their output type
/// (or an overflow error), never a panic.
fn check_invariants(text: &str, config: &Config) {
    let set = build_with(text, config);
    assert_eq!(
        set.has_errors(),
        set.diagnostics.iter().any(|d| d.is_error()),
        "compiled iff there are no errors"
    );
    for d in &set.diagnostics {
        assert!(!d.message.is_empty(), "empty message: {d:?}");
        assert!(!d.label.is_empty(), "empty label: {d:?}");
        for span in std::iter::once(d.span).chain(d.notes.iter().map(|(s, _)| *s)) {
            let file = set.sources.get(span.file);
            assert!(
                span.start <= span.end
                    && file
                        .text
                        .get(span.start as usize..span.end as usize)
                        .is_some(),
                "span {span:?} is not a char range of {} ({} bytes): {d:?}",
                file.name,
                file.text.len()
            );
        }
        let json = to_json(d, &set.sources);
        assert!(json.place.line >= 1 && json.place.column >= 1, "{d:?}");
        assert!(
            (json.place.end_line, json.place.end_column) >= (json.place.line, json.place.column),
            "{d:?}"
        );
        serde_json::to_string(&json).expect("diagnostic serializes");
    }
    let rendered = render_human(&set.diagnostics, &set.sources, false);
    for d in &set.diagnostics {
        assert!(
            rendered.contains(d.code.as_str()),
            "render lacks {}",
            d.code
        );
    }
    let again = build_with(text, config);
    assert_eq!(
        set.diagnostics, again.diagnostics,
        "diagnostics differ between two builds"
    );
    for (row, fresh) in sample_rows().iter().zip(sample_rows()) {
        for h in set.heuristics() {
            let evaluated = h.evaluate(row);
            if let Err(e) = written_like_evaluated(&h, &fresh, &evaluated) {
                panic!("{e}\n{text}");
            }
            let Ok(value) = evaluated else {
                continue;
            };
            let fits = match (h.output_type(), &value) {
                (_, Value::Missing) => true,
                (OutputType::Bool, Value::Bool(_)) => true,
                (OutputType::Int, Value::Int(_)) => true,
                (OutputType::Float, Value::Float(f)) => f.is_finite(),
                (OutputType::String, Value::Str(_)) => true,
                (OutputType::Enum(vs), Value::Enum(v)) => vs.iter().any(|x| **x == **v),
                _ => false,
            };
            assert!(
                fits,
                "rule {} gave {value:?} for {:?}",
                h.name(),
                h.output_type()
            );
        }
    }
}

// ---------------------------------------------------------------------------
// (a) Arbitrary text.

/// Tokens of the language (and near misses), for token soups and insertions.
const VOCAB: &[&str] = &[
    "rule",
    "let",
    "enum",
    "default",
    "if",
    "then",
    "else",
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "cfg",
    "cfg.min_vram_gb",
    "cfg.model_gb.70b",
    "cfg.model_gb",
    "cfg.nope",
    "cfg.require_mig",
    "vram_gb",
    "tdp_watts",
    "mig_support",
    "cuda_cores",
    "model",
    "price",
    "slots",
    "generation",
    "min",
    "max",
    "abs",
    "floor",
    "ceil",
    "round",
    "clamp",
    "coalesce",
    "is_missing",
    "lower",
    "upper",
    "contains",
    "starts_with",
    "ends_with",
    "matches",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "0",
    "1",
    "-1",
    "9223372036854775807",
    "9223372036854775808",
    "1e308",
    "1e309",
    "2.5",
    "1_000",
    "\"\"",
    "\"a\\\"b\"",
    "\"\\q\"",
    "\"(\"",
    "\"^H\\\\d+\"",
    "\"unterminated",
    "#",
    "##",
    "## doc\n",
    "\n",
    " ",
    "\t",
    "\r\n",
    "bool",
    "int",
    "float",
    "string",
    "PowerClass",
    "low",
    "mid",
    "high",
    "x",
    "_",
    "é",
    "\u{0}",
    "\u{feff}",
    "rule r: int = ",
    "let l = ",
    "enum E { a, b }\n",
];

fn token_soup() -> impl Strategy<Value = String> {
    let sep = select(&["", " ", "\n", "  "][..]);
    prop::collection::vec((select(VOCAB), sep), 0..80).prop_map(|parts| {
        parts.into_iter().fold(String::new(), |mut s, (tok, sep)| {
            s.push_str(tok);
            s.push_str(sep);
            s
        })
    })
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn arbitrary_text_never_panics_the_parser(text in any::<String>()) {
        let (_, diags) = syntax::parse(FileId(0), &text);
        for d in &diags {
            prop_assert!(text.get(d.span.start as usize..d.span.end as usize).is_some(), "{d:?}");
        }
        check_invariants(&text, &default_config());
    }

    #[test]
    fn control_characters_and_rule_prefixes_never_panic(
        prefix in select(&["", "rule r: int = ", "rule r: bool = \"", "let x = (", "enum E { ", "## d\n"][..]),
        body in "[\\x00-\\x1f\\x7f \"#\\\\(\\[a-z0-9é\u{10FFFF}]{0,60}",
    ) {
        check_invariants(&format!("{prefix}{body}"), &default_config());
    }

    #[test]
    fn token_soups_never_panic(text in token_soup()) {
        check_invariants(&text, &default_config());
    }
}

// ---------------------------------------------------------------------------
// (b) Mutations of valid rule files.

/// Rule texts that use every construct of the language; they must compile.
const RICH: &[&str] = &[
    r#"# every construct in one file
## Board power classes.
enum PowerClass { low, mid, high, }
enum Tier { budget, pro }

## VRAM left for weights.
let usable = max(vram_gb - cfg.overhead_gb, 0)
let name = lower(coalesce(model, ""))

rule power_class: PowerClass default mid =
    if tdp_watts <= 150 then low
    else if tdp_watts <= 300 then mid
    else high
rule tier: Tier = if power_class >= mid and usable > 20.5e0 then pro else budget
rule capacity: int default -1 = floor(usable / cfg.model_gb.70b) + ceil(1_000 / 3) % 7
rule fits: bool default false =
    vram_gb >= cfg.min_vram_gb and tdp_watts <= cfg.max_tdp_watts
    and (mig_support or not cfg.require_mig)
rule odd: bool = cuda_cores % 2 != 0 and cuda_cores not in [1, 3, 5,] and -cuda_cores < 0
rule named: bool =
    contains(name, "h100") or starts_with(name, "a") or ends_with(name, "\"x\"\t\\")
    or matches(name, "^(h|a)\\d+")
rule up: string = upper(coalesce(generation, "n/a"))
rule clamped: float = clamp(abs(price - 1.5), 0, 1e4) * round(2.5) / min(1, 2, 3)
rule missing_any: bool =
    is_missing(vram_gb) or is_missing(power_class) or generation in ["Hopper", "Ampere"]
rule neg_default: float default -2.5 = price % 3 - cfg.model_gb.7b * cfg.model_gb.13b
"#,
    "rule a: int = b + 1\nrule b: int = c * 2\nlet c = coalesce(slots, 0)\n",
    "enum E { x, y }\nrule e: E default y = if nvlink then x else y\nrule ord: bool = (e < y) == true\n",
];

static CORPUS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut files: Vec<_> = std::fs::read_dir(root().join("rules"))
        .expect("rules/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rule"))
        .collect();
    files.sort();
    let mut texts: Vec<String> = files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("readable rule file"))
        .collect();
    assert!(
        texts.len() >= 4,
        "expected the shipped rules, found {files:?}"
    );
    texts.push(texts.concat());
    texts.extend(RICH.iter().map(|s| s.to_string()));
    texts
});

#[test]
fn mutation_corpus_compiles() {
    // Mutations start from valid programs, so they probe the near misses.
    for text in CORPUS.iter() {
        let set = build(text);
        let errors: Vec<_> = set.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{text}\n{errors:#?}");
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(Index, usize),
    Insert(Index, String),
    Duplicate(Index, usize),
    Swap(Index, Index, usize),
    Replace(Index, String),
}

fn insertion() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(VOCAB).prop_map(String::from),
        1 => any::<char>().prop_map(String::from),
        1 => "[\\x00-\\x7f]{1,4}",
    ]
}

fn edit(max_len: usize) -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), 1..max_len).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<Index>(), insertion()).prop_map(|(i, s)| Edit::Insert(i, s)),
        (any::<Index>(), 1..max_len).prop_map(|(i, n)| Edit::Duplicate(i, n)),
        (any::<Index>(), any::<Index>(), 1..max_len).prop_map(|(a, b, n)| Edit::Swap(a, b, n)),
        (any::<Index>(), insertion()).prop_map(|(i, s)| Edit::Replace(i, s)),
    ]
}

/// Apply edits to a sequence of units (chars or tokens); `unit` turns an
/// inserted string into units.
fn apply<T: Clone>(mut units: Vec<T>, edits: &[Edit], unit: impl Fn(&str) -> Vec<T>) -> Vec<T> {
    for e in edits {
        let len = units.len();
        match e {
            Edit::Delete(i, n) if len > 0 => {
                let s = i.index(len);
                units.drain(s..(s + n).min(len));
            }
            Edit::Insert(i, text) => {
                let s = i.index(len + 1);
                units.splice(s..s, unit(text));
            }
            Edit::Duplicate(i, n) if len > 0 => {
                let s = i.index(len);
                let copy: Vec<T> = units[s..(s + n).min(len)].to_vec();
                units.splice(s..s, copy);
            }
            Edit::Swap(a, b, n) if len > 1 => {
                let (a, b) = (a.index(len), b.index(len));
                let (a, b) = (a.min(b), a.max(b));
                let n = (*n).min(b - a).min(len - b);
                if n > 0 {
                    let mut out = units[..a].to_vec();
                    out.extend_from_slice(&units[b..b + n]);
                    out.extend_from_slice(&units[a + n..b]);
                    out.extend_from_slice(&units[a..a + n]);
                    out.extend_from_slice(&units[b + n..]);
                    units = out;
                }
            }
            Edit::Replace(i, text) if len > 0 => {
                let s = i.index(len);
                units.splice(s..s + 1, unit(text));
            }
            _ => {}
        }
    }
    units
}

/// Split rule text into tokens: words, numbers, strings, comments, runs of
/// whitespace, and single other characters. Joining them gives the text back.
fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        i += 1;
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
        } else if c.is_whitespace() {
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
        } else if c == '"' {
            while i < chars.len() && chars[i] != '"' && chars[i] != '\n' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        }
        out.push(chars[start..i].iter().collect());
    }
    out
}

#[test]
fn tokens_join_back_to_the_text() {
    for text in CORPUS.iter() {
        let toks = tokens(text);
        assert!(toks.len() > 10);
        assert_eq!(toks.concat(), *text);
    }
}

fn which_config() -> impl Strategy<Value = u8> {
    prop_oneof![6 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)]
}

fn config_of(n: u8) -> Config {
    match n {
        0 => default_config(),
        1 => Config::empty(),
        _ => odd_config(),
    }
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn char_mutations_of_rule_files_never_panic(
        text in select(CORPUS.clone()),
        edits in prop::collection::vec(edit(24), 1..6),
        config in which_config(),
    ) {
        let chars = apply(text.chars().collect(), &edits, |s| s.chars().collect());
        let mutated: String = chars.into_iter().collect();
        check_invariants(&mutated, &config_of(config));
    }

    #[test]
    fn token_mutations_of_rule_files_never_panic(
        text in select(CORPUS.clone()),
        edits in prop::collection::vec(edit(8), 1..6),
        config in which_config(),
    ) {
        let toks = apply(tokens(&text), &edits, |s| vec![s.to_string()]);
        check_invariants(&toks.concat(), &config_of(config));
    }
}

// ---------------------------------------------------------------------------
// (c) Generated well-typed expressions against a reference interpreter.

/// Strategies for bool, int and float expressions of one depth.
#[derive(Clone)]
struct Gen {
    b: BoxedStrategy<Ex>,
    i: BoxedStrategy<Ex>,
    f: BoxedStrategy<Ex>,
}

fn int_literal() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => -10i64..10,
        1 => (i64::MIN + 1)..=i64::MAX,
        1 => Just(i64::MAX),
        1 => Just(i64::MIN + 1),
        1 => Just(1i64 << 32),
    ]
}

fn float_literal() -> impl Strategy<Value = f64> {
    use prop::num::f64 as f;
    prop_oneof![
        4 => -100.0f64..100.0,
        1 => select(&[0.0, -0.0, 0.5, 2.5, -2.5, 1e300, f64::MAX, 1e-300, 9.2e18, -9.3e18][..]),
        1 => f::NORMAL | f::SUBNORMAL | f::ZERO,
    ]
}

fn leaves() -> Gen {
    Gen {
        b: prop_oneof![
            any::<bool>().prop_map(Ex::Bool),
            Just(Ex::Field("mig_support")),
        ]
        .boxed(),
        i: prop_oneof![
            2 => (int_literal(), any::<bool>()).prop_map(|(i, u)| Ex::Int(i, u)),
            1 => Just(Ex::Field("cuda_cores")),
            1 => Just(Ex::Let),
        ]
        .boxed(),
        f: prop_oneof![
            2 => float_literal().prop_map(Ex::Float),
            1 => Just(Ex::Field("vram_gb")),
            1 => Just(Ex::Field("tdp_watts")),
        ]
        .boxed(),
    }
}

fn bx(e: Ex) -> Box<Ex> {
    Box::new(e)
}

/// Put a float operand first or second, so float-ness comes from either side.
fn ordered(f: Ex, other: Ex, swap: bool) -> (Ex, Ex) {
    if swap { (other, f) } else { (f, other) }
}

fn level(prev: &Gen, leaf: &Gen) -> Gen {
    let (b, i, f) = (prev.b.clone(), prev.i.clone(), prev.f.clone());
    let num = prop_oneof![i.clone(), f.clone()].boxed();
    let any_ty = prop_oneof![b.clone(), i.clone(), f.clone()].boxed();
    let cmp = select(&[Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge][..]);
    let eq = select(&[Cmp::Eq, Cmp::Ne][..]);
    let minmax = select(&[Fun::Min, Fun::Max][..]);
    let rounding = select(&[Fun::Floor, Fun::Ceil, Fun::Round][..]);
    let list = |s: BoxedStrategy<Ex>, n: std::ops::Range<usize>| prop::collection::vec(s, n);
    let bools = prop_oneof![
        3 => leaf.b.clone(),
        1 => b.clone().prop_map(|x| Ex::Not(bx(x))),
        2 => (any::<bool>(), b.clone(), b.clone()).prop_map(|(a, l, r)| Ex::Logic(a, bx(l), bx(r))),
        2 => (cmp, num.clone(), num.clone()).prop_map(|(c, l, r)| Ex::Cmp(c, bx(l), bx(r))),
        1 => (eq, b.clone(), b.clone()).prop_map(|(c, l, r)| Ex::Cmp(c, bx(l), bx(r))),
        1 => any_ty.prop_map(|x| Ex::Call(Fun::IsMissing, vec![x])),
        1 => (any::<bool>(), num.clone(), list(num.clone(), 0..4))
            .prop_map(|(n, v, xs)| Ex::In(n, bx(v), xs)),
        1 => (any::<bool>(), b.clone(), list(b.clone(), 0..3))
            .prop_map(|(n, v, xs)| Ex::In(n, bx(v), xs)),
        1 => (b.clone(), b.clone(), b.clone()).prop_map(|(c, t, o)| Ex::If(bx(c), bx(t), bx(o))),
        1 => list(b.clone(), 1..4).prop_map(|xs| Ex::Call(Fun::Coalesce, xs)),
        1 => b.clone().prop_map(|x| Ex::Paren(bx(x))),
    ];
    let ints = prop_oneof![
        3 => leaf.i.clone(),
        1 => i.clone().prop_map(|x| Ex::Neg(bx(x))),
        3 => (select(&[Op::Add, Op::Sub, Op::Mul, Op::Rem][..]), i.clone(), i.clone())
            .prop_map(|(o, l, r)| Ex::Arith(o, bx(l), bx(r))),
        1 => (b.clone(), i.clone(), i.clone()).prop_map(|(c, t, o)| Ex::If(bx(c), bx(t), bx(o))),
        1 => (minmax.clone(), list(i.clone(), 2..4)).prop_map(|(m, xs)| Ex::Call(m, xs)),
        1 => i.clone().prop_map(|x| Ex::Call(Fun::Abs, vec![x])),
        1 => list(i.clone(), 3..4).prop_map(|xs| Ex::Call(Fun::Clamp, xs)),
        1 => list(i.clone(), 1..4).prop_map(|xs| Ex::Call(Fun::Coalesce, xs)),
        2 => (rounding, num.clone()).prop_map(|(r, x)| Ex::Call(r, vec![x])),
        1 => i.clone().prop_map(|x| Ex::Paren(bx(x))),
    ];
    let floats = prop_oneof![
        3 => leaf.f.clone(),
        1 => f.clone().prop_map(|x| Ex::Neg(bx(x))),
        3 => (select(&[Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Rem][..]), f.clone(), num.clone(), any::<bool>())
            .prop_map(|(o, x, y, s)| {
                let (l, r) = ordered(x, y, s);
                Ex::Arith(o, bx(l), bx(r))
            }),
        2 => (num.clone(), num.clone()).prop_map(|(l, r)| Ex::Arith(Op::Div, bx(l), bx(r))),
        1 => (b.clone(), f.clone(), num.clone(), any::<bool>()).prop_map(|(c, x, y, s)| {
            let (t, o) = ordered(x, y, s);
            Ex::If(bx(c), bx(t), bx(o))
        }),
        1 => (minmax, f.clone(), list(num.clone(), 1..3), any::<Index>()).prop_map(|(m, x, mut xs, at)| {
            xs.insert(at.index(xs.len() + 1), x);
            Ex::Call(m, xs)
        }),
        1 => f.clone().prop_map(|x| Ex::Call(Fun::Abs, vec![x])),
        1 => (f.clone(), list(num.clone(), 2..3), any::<Index>()).prop_map(|(x, mut xs, at)| {
            xs.insert(at.index(xs.len() + 1), x);
            Ex::Call(Fun::Clamp, xs)
        }),
        1 => (f.clone(), list(num.clone(), 0..3), any::<Index>()).prop_map(|(x, mut xs, at)| {
            xs.insert(at.index(xs.len() + 1), x);
            Ex::Call(Fun::Coalesce, xs)
        }),
        1 => f.clone().prop_map(|x| Ex::Paren(bx(x))),
    ];
    Gen {
        b: bools.boxed(),
        i: ints.boxed(),
        f: floats.boxed(),
    }
}

fn gen_at(depth: usize) -> Gen {
    let leaf = leaves();
    (0..depth).fold(leaf.clone(), |g, _| level(&g, &leaf))
}

pub(crate) fn program() -> impl Strategy<Value = Program> {
    let deep = gen_at(4);
    let shallow = gen_at(2);
    let expr = prop_oneof![deep.b, deep.i, deep.f];
    (
        expr,
        shallow.i,
        any::<bool>(),
        any::<bool>(),
        int_literal(),
        float_literal(),
    )
        .prop_map(|(expr, let_body, widen, with_default, di, df)| {
            let t = ty(&expr);
            let declared = if t == Ty::Int && widen { Ty::Float } else { t };
            let literal = match declared {
                Ty::Bool => Ex::Bool(di % 2 == 0),
                Ty::Int => Ex::Int(di, false),
                Ty::Float if widen => Ex::Int(di, false),
                Ty::Float => Ex::Float(df),
            };
            let default = with_default.then_some(literal);
            Program {
                let_body: without_let(let_body),
                expr,
                declared,
                default,
            }
        })
}

pub(crate) fn fields() -> impl Strategy<Value = Fields> {
    let num = || prop::option::weighted(0.8, float_literal());
    let cores = prop::option::weighted(
        0.8,
        prop_oneof![4 => -100i64..100_000, 1 => any::<i64>(), 1 => select(&[i64::MIN, i64::MAX, 0][..])],
    );
    (
        num(),
        num(),
        prop::option::weighted(0.8, any::<bool>()),
        cores,
    )
        .prop_map(|(vram_gb, tdp_watts, mig_support, cuda_cores)| Fields {
            vram_gb,
            tdp_watts,
            mig_support,
            cuda_cores,
        })
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn generated_expressions_check_and_evaluate_like_the_reference(
        p in program(),
        rows in prop::collection::vec(fields(), 1..5),
    ) {
        let text = p.text();
        let set = build(&text);
        let errors: Vec<_> = set.diagnostics.iter().filter(|d| d.is_error()).collect();
        // The checker folds constant arithmetic and rejects what overflows
        // (E501 at check time, even in a branch no row takes): then the
        // flagged text is constant arithmetic that overflows on its own.
        if !errors.is_empty() {
            for d in &errors {
                prop_assert_eq!(d.code, Code::Overflow, "{}\n{:#?}", text, errors);
                let flagged = set.sources.get(d.span.file).slice(d.span).to_string();
                let alone = build(&format!("rule c: float = {flagged}\n"));
                prop_assert!(alone.has_errors(), "{} overflows alone", flagged);
            }
            return Ok(());
        }
        let heuristics = set.heuristics();
        let out = heuristics.iter().find(|h| h.name() == "out").expect("rule `out`");
        // One row reused, as the data path does: nothing may leak between rows.
        let mut row = Row::new(Schema::listing());
        let mut fresh = Row::new(Schema::listing());
        for f in &rows {
            set_row(&mut row, f);
            set_row(&mut fresh, f);
            let want = run_reference(&p, f);
            let got = out.evaluate(&row);
            if let Err(e) = written_like_evaluated(out, &fresh, &got) {
                prop_assert!(false, "{e}\n{text}\nrow {f:?}");
            }
            let same = agrees(&want, &got);
            prop_assert!(same, "{text}\nrow {f:?}\nreference {want:?}\nglyphsieve {got:?}");
        }
    }
}

proptest! {
    #![proptest_config(cases(128))]

    /// The summary is counted as cells are written: its counts, range and
    /// rows are exactly what a reader of the output finds, whatever the rule.
    #[test]
    fn summary_counts_equal_the_written_cells(
        p in program(),
        rows in prop::collection::vec(fields(), 1..30),
    ) {
        use glyphsieve::data::pipeline::{Job, run};
        let set = build(&p.text());
        if set.has_errors() {
            return Ok(());
        }
        let heuristics = set.heuristics();
        let chosen: Vec<&dyn Heuristic> = heuristics.iter().map(|h| h as &dyn Heuristic).collect();
        let job = Job::new(chosen, Schema::listing()).expect("listing fields");
        let mut out = Vec::new();
        // An overflow stops the run: there is no summary to compare.
        let Ok(summary) = run(fields_csv(&rows).as_bytes(), &mut out, &job) else {
            return Ok(());
        };
        let mut reader = csv::Reader::from_reader(&out[..]);
        let col = reader.headers().expect("header").iter().position(|h| h == "out").expect("column `out`");
        let cells: Vec<String> = reader
            .records()
            .map(|r| r.expect("a record")[col].to_string())
            .collect();
        prop_assert_eq!(summary.rows, cells.len() as u64);
        let k = heuristics.iter().position(|h| h.name() == "out").expect("rule `out`");
        let t = &summary.tallies[k];
        let count = |text: &str| cells.iter().filter(|c| *c == text).count() as u64;
        prop_assert_eq!(t.missing, count(""));
        match heuristics[k].output_type() {
            OutputType::Bool => {
                prop_assert_eq!(t.trues, count("true"));
                prop_assert_eq!(t.falses, count("false"));
            }
            OutputType::Int => {
                let ints: Vec<i64> = cells.iter().filter(|c| !c.is_empty()).map(|c| c.parse().expect("an int")).collect();
                let range = ints.iter().min().zip(ints.iter().max()).map(|(a, b)| (*a, *b));
                prop_assert_eq!(t.int_range, range);
                prop_assert_eq!(t.histogram.iter().sum::<u64>(), ints.len() as u64);
            }
            OutputType::Float => {
                let floats: Vec<f64> = cells.iter().filter(|c| !c.is_empty()).map(|c| c.parse().expect("a float")).collect();
                let lo = floats.iter().copied().reduce(f64::min);
                let hi = floats.iter().copied().reduce(f64::max);
                prop_assert_eq!(t.float_range, lo.zip(hi));
                prop_assert_eq!(t.histogram.iter().sum::<u64>(), floats.len() as u64);
            }
            other => prop_assert!(false, "unexpected output type {other:?}"),
        }
    }
}

proptest! {
    #![proptest_config(cases(256))]

    /// explain's tracing evaluator walks the typed program, the VM runs
    /// compiled code: on generated rules and rows they give the same value,
    /// or the same error (kind, item and span).
    #[test]
    fn explain_tracer_agrees_with_the_vm_on_generated_rules(
        p in program(),
        rows in prop::collection::vec(fields(), 1..5),
    ) {
        let text = p.text();
        let set = build(&text);
        if set.has_errors() {
            return Ok(());
        }
        let heuristics = set.heuristics();
        let out = heuristics.iter().find(|h| h.name() == "out").expect("rule `out`");
        let mut row = Row::new(Schema::listing());
        for f in &rows {
            set_row(&mut row, f);
            let vm = out.evaluate(&row);
            let traced = glyphsieve::explain::traced_value(&set, "out", &row).expect("rule `out`");
            prop_assert_eq!(&traced, &vm, "{}\nrow {:?}", text, f);
        }
    }
}

/// A generated row as the cells of a CSV record (missing: empty).
fn record_of(f: &Fields) -> Vec<String> {
    let num = |v: Option<f64>| v.map_or_else(String::new, |x| Value::Float(x).to_string());
    vec![
        num(f.vram_gb),
        num(f.tdp_watts),
        f.mig_support.map_or_else(String::new, |b| b.to_string()),
        f.cuda_cores.map_or_else(String::new, |i| i.to_string()),
    ]
}

const FLIP_HEADER: [&str; 4] = ["vram_gb", "tdp_watts", "mig_support", "cuda_cores"];

/// Rule `out`'s cell when `record` is tagged by the data pipeline, as eval
/// writes it.
fn tagged_cell(out: &dyn Heuristic, record: &[String]) -> Result<String, String> {
    use glyphsieve::data::pipeline::{Job, run};
    let csv = format!("{}\n{}\n", FLIP_HEADER.join(","), record.join(","));
    let job = Job::new(vec![out], Schema::listing()).map_err(|e| e.to_string())?;
    let mut written = Vec::new();
    run(csv.as_bytes(), &mut written, &job).map_err(|e| e.to_string())?;
    let text = String::from_utf8(written).map_err(|e| e.to_string())?;
    let line = text.lines().nth(1).unwrap_or_default();
    Ok(line.rsplit(',').next().unwrap_or_default().to_string())
}

proptest! {
    #![proptest_config(cases(64))]

    /// Every flip explain reports, written into that cell of that row,
    /// changes the rule's value when the row is tagged again by the data
    /// pipeline (the path eval takes).
    #[test]
    fn every_explain_flip_changes_the_value_eval_writes(
        p in program(),
        row in fields(),
    ) {
        let text = p.text();
        let set = build(&text);
        if set.has_errors() {
            return Ok(());
        }
        let heuristics = set.heuristics();
        let out = heuristics.iter().find(|h| h.name() == "out").expect("rule `out`");
        let record = record_of(&row);
        let cells: Vec<&str> = record.iter().map(String::as_str).collect();
        let flips = glyphsieve::explain::record_flips(&set, "out", &FLIP_HEADER, &cells)
            .map_err(TestCaseError::fail)?;
        let Ok(before) = tagged_cell(out, &record) else {
            prop_assert!(flips.is_empty(), "flips of a row eval cannot tag: {flips:?}");
            return Ok(());
        };
        for flip in &flips {
            let column = FLIP_HEADER.iter().position(|h| *h == flip.column).expect("a column of the header");
            prop_assert_eq!(&flip.from, &record[column]);
            let mut changed = record.clone();
            changed[column] = flip.to.clone();
            let after = tagged_cell(out, &changed).map_err(TestCaseError::fail)?;
            prop_assert_ne!(&after, &before, "{}\nrow {:?}\nflip {:?}", text, record, flip);
        }
    }
}

/// The same on the shipped rules (strings, enums, lets, rules reading
/// rules, defaults) over every row of the example listings.
#[test]
fn explain_tracer_agrees_with_the_vm_on_the_shipped_rules_and_examples() {
    let files = glyphsieve::rules::rule_files(&[root().join("rules")]).expect("rules/");
    let texts = glyphsieve::rules::read_rule_files(&files).expect("read rules/");
    let set = RuleSet::build(&texts, &Schema::listing(), &default_config());
    assert!(!set.has_errors());
    let csv = std::fs::read_to_string(root().join("examples/listings.csv")).expect("examples");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let schema = Schema::listing();
    let mut checked = 0;
    for record in reader.records() {
        let record = record.expect("record");
        let mut row = Row::new(Schema::listing());
        for (name, cell) in header.iter().zip(record.iter()) {
            let Some(slot) = schema.slot(name) else {
                continue;
            };
            let field = schema.field(slot);
            if field.is_null(cell.as_bytes()) {
                continue;
            }
            let value = match field.ty {
                glyphsieve::schema::FieldType::Float => {
                    Value::Float(cell.trim().parse().expect("float"))
                }
                glyphsieve::schema::FieldType::Int => Value::Int(cell.trim().parse().expect("int")),
                glyphsieve::schema::FieldType::Bool => {
                    Value::Bool(glyphsieve::config::parse_bool(cell.trim()).expect("bool"))
                }
                glyphsieve::schema::FieldType::String => Value::Str(cell.to_string()),
            };
            row.set(name, value).expect("set");
        }
        for h in set.heuristics() {
            let traced = glyphsieve::explain::traced_value(&set, h.name(), &row).expect("a rule");
            assert_eq!(traced, h.evaluate(&row), "{} on {:?}", h.name(), record);
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}

// ---------------------------------------------------------------------------
// Deep nesting: a result or E002, exactly at the documented limits.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Wrap {
    Paren,
    /// `not` in a bool expression, unary `-` in an int one.
    Prefix,
    /// `if true then X else ...`, left open until after X.
    If,
}

/// Wrap a base literal in `wraps` (innermost first). Returns the text, the
/// nesting the prescan sees, and the expression depth the parser counts.
fn nest(wraps: &[Wrap], boolean: bool) -> (String, usize, u32) {
    let mut text = if boolean {
        "true".to_string()
    } else {
        "7".to_string()
    };
    let (mut nesting, mut depth) = (0, 1);
    for w in wraps {
        text = match (w, boolean) {
            (Wrap::Paren, _) => format!("({text})"),
            (Wrap::Prefix, true) => format!("not {text}"),
            (Wrap::Prefix, false) => format!("-{text}"),
            (Wrap::If, true) => format!("if true then {text} else false"),
            (Wrap::If, false) => format!("if true then {text} else 0"),
        };
        nesting += matches!(w, Wrap::Paren | Wrap::If) as usize;
        depth += matches!(w, Wrap::Prefix | Wrap::If) as u32;
    }
    (text, nesting, depth)
}

/// Build `rule r: TY = BODY`: either exactly one diagnostic, an E002, or none
/// and the rule's value.
fn result_or_too_deep(ty: &str, body: &str) -> Result<Value, String> {
    let set = build(&format!("rule r: {ty} = {body}\n"));
    match set.diagnostics.as_slice() {
        [] => {
            let h = set.heuristics().into_iter().next().expect("one rule");
            Ok(h.evaluate(&Row::new(Schema::listing()))
                .expect("no overflow"))
        }
        [d] if d.code == Code::TooDeep => Err(d.message.clone()),
        other => panic!("expected a value or one E002, got {other:#?}"),
    }
}

fn wraps() -> impl Strategy<Value = Vec<Wrap>> {
    let w = prop_oneof![1 => Just(Wrap::Paren), 6 => Just(Wrap::Prefix), 1 => Just(Wrap::If)];
    prop::collection::vec(w, 0..=300)
}

proptest! {
    #![proptest_config(cases(96))]

    #[test]
    fn deep_nesting_gives_a_result_or_e002(ws in wraps(), boolean in any::<bool>()) {
        let (text, nesting, depth) = nest(&ws, boolean);
        let prefixes = ws.iter().filter(|w| **w == Wrap::Prefix).count();
        let (ty, want) = if boolean {
            ("bool", Value::Bool(prefixes % 2 == 0))
        } else {
            ("int", Value::Int(if prefixes % 2 == 0 { 7 } else { -7 }))
        };
        match result_or_too_deep(ty, &text) {
            Ok(v) => {
                prop_assert!(nesting <= MAX_NESTING && depth <= MAX_DEPTH, "{nesting} {depth}");
                prop_assert_eq!(v, want);
            }
            Err(message) if nesting > MAX_NESTING => {
                prop_assert_eq!(message, format!("expression nests deeper than {MAX_NESTING} levels"));
            }
            Err(message) => {
                prop_assert!(depth > MAX_DEPTH, "E002 at depth {depth}: {message}");
                prop_assert_eq!(message, format!("expression is more than {MAX_DEPTH} operators deep"));
            }
        }
    }

    #[test]
    fn long_else_if_chains_give_a_result_or_e002(conds in prop::collection::vec(any::<bool>(), 1..400)) {
        let arms: String = conds
            .iter()
            .enumerate()
            .map(|(i, c)| format!("if {c} then {i} else "))
            .collect();
        let want = conds.iter().position(|c| *c).map_or(1000, |i| i as i64);
        // Each arm is one level; the final `else` literal is one more.
        match result_or_too_deep("int", &format!("{arms}1000")) {
            Ok(v) => {
                prop_assert!(conds.len() < MAX_DEPTH as usize);
                prop_assert_eq!(v, Value::Int(want));
            }
            Err(_) => prop_assert!(conds.len() >= MAX_DEPTH as usize),
        }
    }
}

fn parens(k: usize) -> String {
    format!("{}1{}", "(".repeat(k), ")".repeat(k))
}

fn nested_ifs(k: usize) -> String {
    format!("{}1{}", "if true then ".repeat(k), " else 0".repeat(k))
}

fn sum(ops: usize) -> String {
    format!("1{}", " + 1".repeat(ops))
}

fn nots(k: usize) -> String {
    format!("{}true", "not ".repeat(k))
}

#[test]
fn nesting_and_depth_limits_are_exact() {
    let n = MAX_NESTING;
    assert_eq!(result_or_too_deep("int", &parens(n)), Ok(Value::Int(1)));
    assert!(result_or_too_deep("int", &parens(n + 1)).is_err());
    assert_eq!(result_or_too_deep("int", &nested_ifs(n)), Ok(Value::Int(1)));
    assert!(result_or_too_deep("int", &nested_ifs(n + 1)).is_err());
    // Brackets count too: a list inside parentheses.
    let mixed = format!("{}1 in [1]{}", "(".repeat(n - 1), ")".repeat(n - 1));
    assert_eq!(result_or_too_deep("bool", &mixed), Ok(Value::Bool(true)));
    let over = format!("{}1 in [1]{}", "(".repeat(n), ")".repeat(n));
    assert!(result_or_too_deep("bool", &over).is_err());

    let d = MAX_DEPTH as usize;
    // A literal is depth 1 and every operator in a chain adds one.
    assert_eq!(
        result_or_too_deep("int", &sum(d - 1)),
        Ok(Value::Int(d as i64))
    );
    assert!(result_or_too_deep("int", &sum(d)).is_err());
    assert_eq!(
        result_or_too_deep("bool", &nots(d - 1)),
        Ok(Value::Bool(d % 2 == 1))
    );
    assert!(result_or_too_deep("bool", &nots(d)).is_err());
    // Far past the limits: still one diagnostic, no stack overflow.
    assert!(result_or_too_deep("int", &sum(50_000)).is_err());
    assert!(result_or_too_deep("int", &parens(50_000)).is_err());
    assert!(result_or_too_deep("bool", &nots(50_000)).is_err());
}

/// The limits exist so that no input overflows the stack: input just inside
/// them must parse and check on a thread with Rust's default 2 MiB stack
/// (test threads, `std::thread::spawn`), in this unoptimised build too.
/// Regression: 100 nested `if`s used to overflow such a thread.
#[test]
fn input_at_the_limits_parses_on_a_default_thread() {
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let d = MAX_DEPTH as usize;
            for (ty, body) in [
                ("int", parens(MAX_NESTING)),
                ("int", nested_ifs(MAX_NESTING)),
                ("int", sum(d - 1)),
                ("bool", nots(d - 1)),
            ] {
                let text = format!("rule r: {ty} = {body}\n");
                let (_, diags) = syntax::parse(FileId(0), &text);
                assert!(diags.is_empty(), "{body}: {diags:?}");
                assert!(result_or_too_deep(ty, &body).is_ok(), "{body}");
            }
        })
        .expect("thread starts");
    assert!(handle.join().is_ok());
}

/// A diagnostic far along a long line must render, not panic (Rust's
/// formatter refuses widths above 65535). Regression: miette panicked.
#[test]
fn diagnostics_on_very_long_lines_render() {
    let text = format!("rule r: bool = {}\n", nots(50_000));
    let set = build(&text);
    assert_eq!(set.diagnostics.len(), 1);
    let rendered = render_human(&set.diagnostics, &set.sources, false);
    assert!(rendered.contains("E002"), "{rendered}");
}

// ---------------------------------------------------------------------------
// docs/language.md: its examples are checked.

struct Block {
    info: String,
    body: String,
    /// 1-based line of the opening fence.
    line: usize,
}

fn doc() -> String {
    let path = root().join("docs/language.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fenced code blocks of a Markdown text, in order.
fn blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in md.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_string(),
                    body: String::new(),
                    line: i + 1,
                })
            }
            (Some(_), Some("")) => out.extend(open.take()),
            (Some(b), _) => {
                b.body.push_str(line);
                b.body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(
        open.is_none(),
        "docs/language.md has an unclosed code block"
    );
    out
}

#[test]
fn language_doc_examples_check_cleanly() {
    let examples: Vec<Block> = blocks(&doc())
        .into_iter()
        .filter(|b| b.info == "rule")
        .collect();
    assert!(
        examples.len() >= 10,
        "only {} ```rule examples",
        examples.len()
    );
    let mut failures = Vec::new();
    for b in &examples {
        let set = build(&b.body);
        let problems: Vec<String> = set
            .diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect();
        if !problems.is_empty() {
            failures.push(format!("line {}:\n{}{problems:#?}", b.line, b.body));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn language_doc_documents_every_code() {
    let doc = doc();
    for code in Code::ALL {
        assert!(doc.contains(code.as_str()), "docs/language.md lacks {code}");
        assert!(
            doc.contains(&format!("`{}`", code.name())),
            "docs/language.md lacks the name of {code}, `{}`",
            code.name()
        );
    }
}

#[test]
fn language_doc_states_the_current_limits() {
    let doc = doc();
    for stated in [
        format!("`MAX_NESTING` = {MAX_NESTING}"),
        format!("`MAX_DEPTH` = {MAX_DEPTH}"),
    ] {
        assert!(doc.contains(&stated), "docs/language.md must say {stated}");
    }
}

/// Every ```rule,diagnostic=CODE block gives CODE (against the ```yaml block
/// right before it as `--config`, if there is one), and the ```text block after
/// it shows the first lines `lint` prints (blank lines aside): `CODE(name)`,
/// `  × message` (or `  ⚠` for a warning) and, when shown, `  help: ...`.
#[test]
fn language_doc_diagnostic_examples_give_their_message() {
    let all = blocks(&doc());
    let mut documented = Vec::new();
    for (i, b) in all.iter().enumerate() {
        let Some(code) = b.info.strip_prefix("rule,diagnostic=") else {
            continue;
        };
        let code = Code::ALL
            .into_iter()
            .find(|c| c.as_str() == code)
            .unwrap_or_else(|| panic!("line {}: unknown code {code}", b.line));
        documented.push(code);
        // A ```yaml block right before the example is its `--config` file.
        let set = match i.checked_sub(1).map(|p| &all[p]) {
            Some(y) if y.info == "yaml" => {
                let config = Config::from_yaml("config.yaml", &y.body).expect("the yaml parses");
                build_with(&b.body, &config)
            }
            _ => build(&b.body),
        };
        let found: Vec<_> = set.diagnostics.iter().filter(|d| d.code == code).collect();
        assert!(
            !found.is_empty(),
            "line {}: no {code} from\n{}{:#?}",
            b.line,
            b.body,
            set.diagnostics
        );
        let shown = all.get(i + 1).filter(|n| n.info == "text");
        let shown =
            shown.unwrap_or_else(|| panic!("line {}: no ```text block after the example", b.line));
        let lines: Vec<&str> = shown
            .body
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(
            lines.first().copied(),
            Some(format!("{code}({})", code.name()).as_str()),
            "line {}",
            shown.line
        );
        let symbol = match code.severity() {
            Severity::Error => "  × ",
            Severity::Warning => "  ⚠ ",
        };
        let message = lines
            .get(1)
            .and_then(|l| l.strip_prefix(symbol))
            .unwrap_or_else(|| {
                panic!(
                    "line {}: second line must start with {symbol:?}",
                    shown.line
                )
            });
        let d = found
            .iter()
            .find(|d| d.message == message)
            .unwrap_or_else(|| {
                panic!(
                    "line {}: no {code} says {message:?}; got {found:#?}",
                    shown.line
                )
            });
        if let Some(help) = lines.iter().find_map(|l| l.strip_prefix("  help: ")) {
            assert_eq!(d.help.as_deref(), Some(help), "line {}", shown.line);
        }
    }
    for code in Code::ALL {
        // An overflow happens while evaluating rows; lint cannot show it.
        // E006 needs a 256 KiB input: `diagnostics::e006_too_large` makes one.
        // E6xx: lint could not load its inputs; no rule file gives them.
        // E7xx: about the data `eval` reads; no rule file gives them.
        // W5xx need data: tests/datalint.rs checks their ```rule,data= examples.
        // E8xx: only `compile --to sql` gives them (tests/sql.rs).
        let no_rule_gives_it = ["E6", "E7", "E8", "W5"]
            .iter()
            .any(|p| code.as_str().starts_with(p));
        if code != Code::Overflow && code != Code::TooLarge && !no_rule_gives_it {
            assert!(
                documented.contains(&code),
                "no ```rule,diagnostic={code} example"
            );
        }
    }
}

/// The smallest int is a valid default, as E003's help says it is in range.
#[test]
fn smallest_int_is_a_valid_default_literal() {
    let set = build("rule r: int default -9223372036854775808 = cuda_cores\n");
    assert!(set.diagnostics.is_empty(), "{:#?}", set.diagnostics);
    let h = set.heuristics().into_iter().next().expect("one rule");
    assert_eq!(
        h.evaluate(&Row::new(Schema::listing())),
        Ok(Value::Int(i64::MIN))
    );
}

// ---------------------------------------------------------------------------
// `eval --where`: through the binary, filtering is exactly dropping rows.

/// A bool rule `out` over a generated expression (and its let `k`).
fn bool_program() -> impl Strategy<Value = Program> {
    (gen_at(3).b, gen_at(2).i).prop_map(|(expr, let_body)| Program {
        let_body: without_let(let_body),
        expr,
        declared: Ty::Bool,
        default: None,
    })
}

/// The four generated fields as a CSV (empty cells for missing ones).
pub(crate) fn fields_csv(rows: &[Fields]) -> String {
    let mut csv = String::from("model,vram_gb,tdp_watts,mig_support,cuda_cores\n");
    let opt = |v: Option<String>| v.unwrap_or_default();
    for (k, f) in rows.iter().enumerate() {
        csv.push_str(&format!(
            "card {k},{},{},{},{}\n",
            opt(f.vram_gb.map(|x| format!("{x:?}"))),
            opt(f.tdp_watts.map(|x| format!("{x:?}"))),
            opt(f.mig_support.map(|x| x.to_string())),
            opt(f.cuda_cores.map(|x| x.to_string())),
        ));
    }
    csv
}

proptest! {
    #![proptest_config(cases(32))]

    #[test]
    fn eval_where_writes_exactly_the_rows_whose_rule_is_true(
        p in bool_program(),
        rows in prop::collection::vec(fields(), 1..12),
    ) {
        let text = p.text();
        // Constant arithmetic that overflows is a check error: not this test's.
        prop_assume!(!build(&text).has_errors());
        let dir = tempfile::tempdir().expect("temp dir");
        let rule = dir.path().join("r.rule");
        let data = dir.path().join("in.csv");
        std::fs::write(&rule, &text).expect("write the rule");
        std::fs::write(&data, fields_csv(&rows)).expect("write the data");
        let run = |extra: &[&str]| {
            let mut cmd = crate::support::glyphsieve();
            cmd.arg("eval").arg(&rule).arg(&data).args(extra);
            cmd.output().expect("runs")
        };
        let all = run(&[]);
        let kept = run(&["--where", "out"]);
        if all.status.code() != Some(0) {
            // An overflow at a row: the filter meets it at the same row.
            prop_assert_eq!(all.status.code(), Some(1));
            prop_assert_eq!(kept.status.code(), Some(1), "{}", text);
            return Ok(());
        }
        prop_assert_eq!(kept.status.code(), Some(0), "{}", text);
        let all = String::from_utf8(all.stdout).expect("utf-8");
        let want: Vec<&str> = all
            .lines()
            .enumerate()
            .filter(|(k, l)| *k == 0 || l.ends_with(",true"))
            .map(|(_, l)| l)
            .collect();
        let kept = String::from_utf8(kept.stdout).expect("utf-8");
        prop_assert_eq!(kept.lines().collect::<Vec<_>>(), want, "{}", text);
    }
}

// ---------------------------------------------------------------------------
// (f) The formatter: idempotent, the same AST, every comment kept.

/// A module with every span zeroed, so two parses compare by structure.
fn without_spans(mut m: syntax::ast::Module) -> syntax::ast::Module {
    use glyphsieve::source::Span;
    use syntax::ast::{Expr, ExprKind, Ident, ItemKind};
    fn id(i: &mut Ident) {
        i.span = Span::default();
    }
    fn ex(e: &mut Expr) {
        e.span = Span::default();
        match &mut e.kind {
            ExprKind::Cfg(keys) => keys.iter_mut().for_each(id),
            ExprKind::Unary {
                op_span, operand, ..
            } => {
                *op_span = Span::default();
                ex(operand);
            }
            ExprKind::Binary {
                op_span, lhs, rhs, ..
            } => {
                *op_span = Span::default();
                ex(lhs);
                ex(rhs);
            }
            ExprKind::In { value, list, .. } => {
                ex(value);
                list.iter_mut().for_each(ex);
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                ex(cond);
                ex(then);
                ex(otherwise);
            }
            ExprKind::Call { func, args } => {
                id(func);
                args.iter_mut().for_each(ex);
            }
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Name(_)
            | ExprKind::Error => {}
        }
    }
    for item in &mut m.items {
        item.span = Span::default();
        match &mut item.kind {
            ItemKind::Rule(r) => {
                id(&mut r.name);
                id(&mut r.ty);
                r.default.iter_mut().for_each(ex);
                ex(&mut r.body);
            }
            ItemKind::Let(l) => {
                id(&mut l.name);
                ex(&mut l.body);
            }
            ItemKind::Enum(e) => {
                id(&mut e.name);
                e.variants.iter_mut().for_each(id);
            }
            ItemKind::Field(f) => {
                id(&mut f.name);
                id(&mut f.ty);
                f.columns.iter_mut().for_each(id);
                f.nulls.iter_mut().flatten().for_each(id);
            }
            ItemKind::Test(t) => {
                id(&mut t.name);
                for f in &mut t.fields {
                    id(&mut f.name);
                    ex(&mut f.value);
                }
                for o in &mut t.overrides {
                    o.span = Span::default();
                    o.key.iter_mut().for_each(id);
                    ex(&mut o.value);
                }
                t.expects.iter_mut().for_each(ex);
            }
        }
    }
    m
}

/// The `#` comments and `##` doc lines of a rule text, as written (sorted).
fn comment_texts(text: &str) -> Vec<String> {
    let mut out: Vec<String> = tokens(text)
        .into_iter()
        .filter(|t| t.starts_with('#'))
        .map(|t| t.trim_end().to_string())
        .collect();
    out.sort();
    out
}

/// What the formatter must keep of `text` (which parses without errors):
/// `Err` says what it broke.
fn check_format(text: &str) -> Result<String, String> {
    let once = syntax::format_file(FileId(0), text)
        .map_err(|d| format!("refused a text that parses:\n{text}\n{d:#?}"))?;
    let twice = syntax::format_file(FileId(0), &once).map_err(|d| {
        format!("its output does not parse:\n--- input\n{text}\n--- once\n{once}\n{d:#?}")
    })?;
    if twice != once {
        return Err(format!(
            "not idempotent:\n--- input\n{text}\n--- once\n{once}\n--- twice\n{twice}"
        ));
    }
    let before = without_spans(syntax::parse(FileId(0), text).0);
    let after = without_spans(syntax::parse(FileId(0), &once).0);
    if before != after {
        return Err(format!(
            "changed the AST:\n--- input\n{text}\n--- output\n{once}"
        ));
    }
    if comment_texts(text) != comment_texts(&once) {
        return Err(format!(
            "lost or changed a comment:\n--- input\n{text}\n--- output\n{once}"
        ));
    }
    Ok(once)
}

fn parses_cleanly(text: &str) -> bool {
    !syntax::parse(FileId(0), text)
        .1
        .iter()
        .any(|d| d.is_error())
}

/// A `test` item: fields with literals, maybe `with cfg.` overrides, and
/// one to three generated bool expressions as its `expect`s.
fn test_item() -> impl Strategy<Value = String> {
    let g = gen_at(3);
    (
        g.b.clone(),
        prop::collection::vec(g.b, 0..3),
        int_literal(),
        float_literal(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(first, more, i, f, mig, with)| {
            let vram = render(&Ex::Float(f.abs())).0;
            let mut text = format!(
                "## A test.\ntest \"case {i}\" {{ vram_gb = {vram}, cuda_cores = {i}, mig_support = {mig} }}"
            );
            if with {
                text.push_str(" with cfg.min_vram_gb = 48, cfg.require_mig = false");
            }
            text.push_str(&format!(" expect {}", render(&first).0));
            for e in more {
                text.push_str(&format!("\n  expect {}", render(&e).0));
            }
            text.push('\n');
            text
        })
}

/// Generated rule files with a doc, an enum, a field declaration and a test.
fn rule_file() -> impl Strategy<Value = String> {
    (program(), program(), any::<bool>(), test_item()).prop_map(|(a, b, extras, test)| {
        let mut text = format!("## The first.\n{}{}", a.text(), b.text());
        if extras {
            text.push_str(
                "## Tiers.\nenum Tier { low, mid, high }\n\
                 field shipping: float from \"Shipping (USD)\", ship nulls [\"\", \"n/a\"]\n",
            );
            text.push_str(&test);
        }
        text
    })
}

/// `text` with comments put after some of its tokens: `# noteN` at the end
/// of a line, or on a line of its own.
fn with_comments(text: &str, at: &[(Index, bool)]) -> String {
    let mut toks = tokens(text);
    for (n, (i, own_line)) in at.iter().enumerate() {
        let k = i.index(toks.len() + 1);
        let note = if *own_line {
            format!("\n# note{n}\n")
        } else {
            format!(" # note{n}\n")
        };
        toks.insert(k, note);
    }
    toks.concat()
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn formatting_generated_rule_files_with_comments_is_idempotent_and_keeps_ast_and_comments(
        text in prop_oneof![rule_file(), select(CORPUS.clone())],
        at in prop::collection::vec((any::<Index>(), any::<bool>()), 0..12),
    ) {
        prop_assert!(parses_cleanly(&text), "the generator's own text parses:\n{}", text);
        let commented = with_comments(&text, &at);
        // A comment inside `not in` or a number's exponent does not parse.
        prop_assume!(parses_cleanly(&commented));
        if let Err(why) = check_format(&commented) {
            prop_assert!(false, "{}", why);
        }
    }

    #[test]
    fn formatting_char_mutations_that_parse_is_idempotent_and_keeps_ast_and_comments(
        text in select(CORPUS.clone()),
        edits in prop::collection::vec(edit(24), 1..4),
    ) {
        let chars = apply(text.chars().collect(), &edits, |s| s.chars().collect());
        let mutated: String = chars.into_iter().collect();
        if parses_cleanly(&mutated)
            && let Err(why) = check_format(&mutated)
        {
            prop_assert!(false, "{}", why);
        }
    }

    #[test]
    fn formatting_token_mutations_that_parse_is_idempotent_and_keeps_ast_and_comments(
        text in select(CORPUS.clone()),
        edits in prop::collection::vec(edit(8), 1..4),
    ) {
        let mutated = apply(tokens(&text), &edits, |s| vec![s.to_string()]).concat();
        if parses_cleanly(&mutated)
            && let Err(why) = check_format(&mutated)
        {
            prop_assert!(false, "{}", why);
        }
    }
}

#[test]
fn formatting_every_rule_file_of_the_repo_is_idempotent_and_keeps_ast_and_comments() {
    let mut files = Vec::new();
    let mut dirs = vec![
        root().join("rules"),
        root().join("examples"),
        root().join("benches"),
        root().join("tests/fixtures"),
    ];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rule") {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 10, "found only {files:?}");
    let mut checked = 0;
    for p in &files {
        let Ok(text) = std::fs::read_to_string(p) else {
            continue;
        };
        if !parses_cleanly(&text) {
            continue;
        }
        checked += 1;
        if let Err(why) = check_format(&text) {
            panic!("{}: {why}", p.display());
        }
    }
    assert!(checked > 10, "only {checked} files parse");
    // And every rule example of the docs.
    for md in ["docs/language.md", "README.md"] {
        let text = std::fs::read_to_string(root().join(md)).expect("readable doc");
        for b in blocks(&text).iter().filter(|b| b.info == "rule") {
            if parses_cleanly(&b.body)
                && let Err(why) = check_format(&b.body)
            {
                panic!("{md}:{}: {why}", b.line);
            }
        }
    }
}

//! Fuzz target `evaluate`: a random well-typed rule (driven by the input
//! bytes) over random rows, evaluated by glyphsieve and by the property
//! tests' reference interpreter; any disagreement panics with the rule text
//! and the row. The generator mirrors `tests/properties.rs`'s strategies.
#![no_main]

#[path = "../../tests/support/reference.rs"]
mod reference;

use glyphsieve::config::{Config, QuantizationConfig};
use glyphsieve::diagnostic::Code;
use glyphsieve::eval::Row;
use glyphsieve::heuristic::Heuristic;
use glyphsieve::rules::RuleSet;
use glyphsieve::schema::Schema;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use reference::*;
use std::sync::LazyLock;

static CONFIG: LazyLock<Config> = LazyLock::new(|| QuantizationConfig::default().to_config());

fn build(text: &str) -> RuleSet {
    let texts = [("fuzz.rule".to_string(), text.to_string())];
    RuleSet::build(&texts, &Schema::listing(), &CONFIG)
}

/// An index chosen with the given weights (the first when input runs out).
fn pick(u: &mut Unstructured, weights: &[u32]) -> Result<usize> {
    let total: u32 = weights.iter().sum();
    let mut r = u.int_in_range(0..=total - 1)?;
    for (i, &w) in weights.iter().enumerate() {
        if r < w {
            return Ok(i);
        }
        r -= w;
    }
    Ok(0)
}

fn choose<T: Copy>(u: &mut Unstructured, xs: &[T]) -> Result<T> {
    Ok(*u.choose(xs)?)
}

fn int_literal(u: &mut Unstructured) -> Result<i64> {
    Ok(match pick(u, &[4, 1, 1, 1, 1])? {
        0 => u.int_in_range(-10..=9)?,
        // i64::MIN has no literal: `-9223372036854775808` is a negation.
        1 => u.arbitrary::<i64>()?.max(i64::MIN + 1),
        2 => i64::MAX,
        3 => i64::MIN + 1,
        _ => 1 << 32,
    })
}

fn float_literal(u: &mut Unstructured) -> Result<f64> {
    Ok(match pick(u, &[4, 1, 1])? {
        0 => f64::from(u.int_in_range(-100_000..=100_000)?) / 1000.0,
        1 => choose(
            u,
            &[
                0.0,
                -0.0,
                0.5,
                2.5,
                -2.5,
                1e300,
                f64::MAX,
                1e-300,
                9.2e18,
                -9.3e18,
            ],
        )?,
        _ => {
            let f = f64::from_bits(u.arbitrary()?);
            if f.is_finite() { f } else { 0.5 }
        }
    })
}

fn bx(e: Ex) -> Box<Ex> {
    Box::new(e)
}

fn list(
    u: &mut Unstructured,
    n: std::ops::Range<usize>,
    mut one: impl FnMut(&mut Unstructured) -> Result<Ex>,
) -> Result<Vec<Ex>> {
    let len = u.int_in_range(n.start..=n.end - 1)?;
    (0..len).map(|_| one(u)).collect()
}

/// Insert `x` at a chosen place in `xs`, so float-ness comes from any argument.
fn insert(u: &mut Unstructured, mut xs: Vec<Ex>, x: Ex) -> Result<Vec<Ex>> {
    let at = u.int_in_range(0..=xs.len())?;
    xs.insert(at, x);
    Ok(xs)
}

fn bool_leaf(u: &mut Unstructured) -> Result<Ex> {
    Ok(match pick(u, &[1, 1])? {
        0 => Ex::Bool(u.arbitrary()?),
        _ => Ex::Field("mig_support"),
    })
}

fn int_leaf(u: &mut Unstructured) -> Result<Ex> {
    Ok(match pick(u, &[2, 1, 1])? {
        0 => Ex::Int(int_literal(u)?, u.arbitrary()?),
        1 => Ex::Field("cuda_cores"),
        _ => Ex::Let,
    })
}

fn float_leaf(u: &mut Unstructured) -> Result<Ex> {
    Ok(match pick(u, &[2, 1, 1])? {
        0 => Ex::Float(float_literal(u)?),
        1 => Ex::Field("vram_gb"),
        _ => Ex::Field("tdp_watts"),
    })
}

fn num(u: &mut Unstructured, d: usize) -> Result<Ex> {
    if u.arbitrary()? {
        ints(u, d)
    } else {
        floats(u, d)
    }
}

fn any_ty(u: &mut Unstructured, d: usize) -> Result<Ex> {
    match pick(u, &[1, 1, 1])? {
        0 => bools(u, d),
        1 => ints(u, d),
        _ => floats(u, d),
    }
}

const CMPS: [Cmp; 6] = [Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge];

/// A bool expression at most `d` levels deep.
fn bools(u: &mut Unstructured, d: usize) -> Result<Ex> {
    if d == 0 {
        return bool_leaf(u);
    }
    let c = d - 1;
    Ok(match pick(u, &[3, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1])? {
        0 => bool_leaf(u)?,
        1 => Ex::Not(bx(bools(u, c)?)),
        2 => Ex::Logic(u.arbitrary()?, bx(bools(u, c)?), bx(bools(u, c)?)),
        3 => Ex::Cmp(choose(u, &CMPS)?, bx(num(u, c)?), bx(num(u, c)?)),
        4 => Ex::Cmp(
            choose(u, &[Cmp::Eq, Cmp::Ne])?,
            bx(bools(u, c)?),
            bx(bools(u, c)?),
        ),
        5 => Ex::Call(Fun::IsMissing, vec![any_ty(u, c)?]),
        6 => Ex::In(
            u.arbitrary()?,
            bx(num(u, c)?),
            list(u, 0..4, |u| num(u, c))?,
        ),
        7 => Ex::In(
            u.arbitrary()?,
            bx(bools(u, c)?),
            list(u, 0..3, |u| bools(u, c))?,
        ),
        8 => Ex::If(bx(bools(u, c)?), bx(bools(u, c)?), bx(bools(u, c)?)),
        9 => Ex::Call(Fun::Coalesce, list(u, 1..4, |u| bools(u, c))?),
        _ => Ex::Paren(bx(bools(u, c)?)),
    })
}

/// An int expression at most `d` levels deep.
fn ints(u: &mut Unstructured, d: usize) -> Result<Ex> {
    if d == 0 {
        return int_leaf(u);
    }
    let c = d - 1;
    Ok(match pick(u, &[3, 1, 3, 1, 1, 1, 1, 1, 2, 1])? {
        0 => int_leaf(u)?,
        1 => Ex::Neg(bx(ints(u, c)?)),
        2 => Ex::Arith(
            choose(u, &[Op::Add, Op::Sub, Op::Mul, Op::Rem])?,
            bx(ints(u, c)?),
            bx(ints(u, c)?),
        ),
        3 => Ex::If(bx(bools(u, c)?), bx(ints(u, c)?), bx(ints(u, c)?)),
        4 => Ex::Call(
            choose(u, &[Fun::Min, Fun::Max])?,
            list(u, 2..4, |u| ints(u, c))?,
        ),
        5 => Ex::Call(Fun::Abs, vec![ints(u, c)?]),
        6 => Ex::Call(Fun::Clamp, list(u, 3..4, |u| ints(u, c))?),
        7 => Ex::Call(Fun::Coalesce, list(u, 1..4, |u| ints(u, c))?),
        8 => Ex::Call(
            choose(u, &[Fun::Floor, Fun::Ceil, Fun::Round])?,
            vec![num(u, c)?],
        ),
        _ => Ex::Paren(bx(ints(u, c)?)),
    })
}

/// A float expression at most `d` levels deep.
fn floats(u: &mut Unstructured, d: usize) -> Result<Ex> {
    if d == 0 {
        return float_leaf(u);
    }
    let c = d - 1;
    Ok(match pick(u, &[3, 1, 3, 2, 1, 1, 1, 1, 1, 1])? {
        0 => float_leaf(u)?,
        1 => Ex::Neg(bx(floats(u, c)?)),
        2 => {
            let op = choose(u, &[Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Rem])?;
            let (x, y) = (floats(u, c)?, num(u, c)?);
            let (l, r) = if u.arbitrary()? { (y, x) } else { (x, y) };
            Ex::Arith(op, bx(l), bx(r))
        }
        3 => Ex::Arith(Op::Div, bx(num(u, c)?), bx(num(u, c)?)),
        4 => {
            let cond = bools(u, c)?;
            let (x, y) = (floats(u, c)?, num(u, c)?);
            let (t, o) = if u.arbitrary()? { (y, x) } else { (x, y) };
            Ex::If(bx(cond), bx(t), bx(o))
        }
        5 => {
            let m = choose(u, &[Fun::Min, Fun::Max])?;
            let x = floats(u, c)?;
            let xs = list(u, 1..3, |u| num(u, c))?;
            Ex::Call(m, insert(u, xs, x)?)
        }
        6 => Ex::Call(Fun::Abs, vec![floats(u, c)?]),
        7 => {
            let x = floats(u, c)?;
            let xs = list(u, 2..3, |u| num(u, c))?;
            Ex::Call(Fun::Clamp, insert(u, xs, x)?)
        }
        8 => {
            let x = floats(u, c)?;
            let xs = list(u, 0..3, |u| num(u, c))?;
            Ex::Call(Fun::Coalesce, insert(u, xs, x)?)
        }
        _ => Ex::Paren(bx(floats(u, c)?)),
    })
}

/// One rule `out` over an expression four levels deep, with a let `k`.
fn program(u: &mut Unstructured) -> Result<Program> {
    let expr = any_ty(u, 4)?;
    let let_body = without_let(ints(u, 2)?);
    let (widen, with_default): (bool, bool) = (u.arbitrary()?, u.arbitrary()?);
    let (di, df) = (int_literal(u)?, float_literal(u)?);
    let t = ty(&expr);
    let declared = if t == Ty::Int && widen { Ty::Float } else { t };
    let literal = match declared {
        Ty::Bool => Ex::Bool(di % 2 == 0),
        Ty::Int => Ex::Int(di, false),
        Ty::Float if widen => Ex::Int(di, false),
        Ty::Float => Ex::Float(df),
    };
    Ok(Program {
        let_body,
        expr,
        declared,
        default: with_default.then_some(literal),
    })
}

fn fields(u: &mut Unstructured) -> Result<Fields> {
    let present = |u: &mut Unstructured| u.ratio(4u8, 5u8);
    Ok(Fields {
        vram_gb: if present(u)? {
            Some(float_literal(u)?)
        } else {
            None
        },
        tdp_watts: if present(u)? {
            Some(float_literal(u)?)
        } else {
            None
        },
        mig_support: if present(u)? {
            Some(u.arbitrary()?)
        } else {
            None
        },
        cuda_cores: if present(u)? {
            Some(match pick(u, &[4, 1, 1])? {
                0 => u.int_in_range(-100..=99_999)?,
                1 => u.arbitrary()?,
                _ => choose(u, &[i64::MIN, i64::MAX, 0])?,
            })
        } else {
            None
        },
    })
}

fn generate(u: &mut Unstructured) -> Result<(Program, Vec<Fields>)> {
    let p = program(u)?;
    let n = u.int_in_range(1..=4)?;
    let rows = (0..n).map(|_| fields(u)).collect::<Result<_>>()?;
    Ok((p, rows))
}

fuzz_target!(|data: &[u8]| {
    let Ok((p, rows)) = generate(&mut Unstructured::new(data)) else {
        return;
    };
    let text = p.text();
    let set = build(&text);
    let errors: Vec<_> = set.diagnostics.iter().filter(|d| d.is_error()).collect();
    // The checker folds constant arithmetic and rejects what overflows (E501),
    // even in a branch no row takes: the flagged text must overflow alone.
    if !errors.is_empty() {
        for d in &errors {
            assert_eq!(d.code, Code::Overflow, "{text}\n{errors:#?}");
            let flagged = set.sources.get(d.span.file).slice(d.span).to_string();
            let alone = build(&format!("rule c: float = {flagged}\n"));
            assert!(
                alone.has_errors(),
                "{flagged} does not overflow alone\n{text}"
            );
        }
        return;
    }
    let heuristics = set.heuristics();
    let out = heuristics
        .iter()
        .find(|h| h.name() == "out")
        .expect("rule `out`");
    // One row reused, as the data path does: nothing may leak between rows.
    let mut row = Row::new(Schema::listing());
    let mut fresh = Row::new(Schema::listing());
    for f in &rows {
        set_row(&mut row, f);
        set_row(&mut fresh, f);
        let want = run_reference(&p, f);
        let got = out.evaluate(&row);
        if let Err(e) = written_like_evaluated(out, &fresh, &got) {
            panic!("{e}\n{text}\nrow {f:?}");
        }
        assert!(
            agrees(&want, &got),
            "{text}\nrow {f:?}\nreference {want:?}\nglyphsieve {got:?}"
        );
    }
});

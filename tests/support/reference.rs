//! The generated-rule model shared by the property tests and the `evaluate`
//! fuzz target: well-typed expressions (`Ex`), their rule text, and a
//! reference interpreter of the documented semantics to compare glyphsieve with.
//!
//! Included by path from `tests/properties.rs` and
//! `fuzz/fuzz_targets/evaluate.rs`, so both check against one reference.

#![allow(dead_code)]

use glyphsieve::eval::{EvalError, EvalErrorKind, Row, Value};
use glyphsieve::heuristic::{Heuristic, OutputType, Written};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ty {
    Bool,
    Int,
    Float,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fun {
    Min,
    Max,
    Abs,
    Floor,
    Ceil,
    Round,
    Clamp,
    Coalesce,
    IsMissing,
}

/// A generated expression over vram_gb, tdp_watts (float), mig_support
/// (bool), cuda_cores (int) and the int let `k`.
#[derive(Debug, Clone)]
pub enum Ex {
    Bool(bool),
    /// The literal and whether to write it with `_` separators.
    Int(i64, bool),
    Float(f64),
    Field(&'static str),
    Let,
    Paren(Box<Ex>),
    Not(Box<Ex>),
    Neg(Box<Ex>),
    /// `and` when true, `or` when false.
    Logic(bool, Box<Ex>, Box<Ex>),
    Cmp(Cmp, Box<Ex>, Box<Ex>),
    Arith(Op, Box<Ex>, Box<Ex>),
    In(bool, Box<Ex>, Vec<Ex>),
    If(Box<Ex>, Box<Ex>, Box<Ex>),
    Call(Fun, Vec<Ex>),
}

pub fn join(a: Ty, b: Ty) -> Ty {
    if a == b { a } else { Ty::Float }
}

pub fn ty(e: &Ex) -> Ty {
    match e {
        Ex::Bool(_) | Ex::Not(_) | Ex::Logic(..) | Ex::Cmp(..) | Ex::In(..) => Ty::Bool,
        Ex::Int(..) | Ex::Let => Ty::Int,
        Ex::Float(_) => Ty::Float,
        Ex::Field(f) => match *f {
            "mig_support" => Ty::Bool,
            "cuda_cores" => Ty::Int,
            _ => Ty::Float,
        },
        Ex::Paren(x) | Ex::Neg(x) => ty(x),
        Ex::Arith(op, l, r) => {
            if *op == Op::Div {
                Ty::Float
            } else {
                join(ty(l), ty(r))
            }
        }
        Ex::If(_, t, o) => join(ty(t), ty(o)),
        Ex::Call(f, args) => match f {
            Fun::Floor | Fun::Ceil | Fun::Round => Ty::Int,
            Fun::IsMissing => Ty::Bool,
            _ => args.iter().map(ty).reduce(join).unwrap_or(Ty::Int),
        },
    }
}

pub fn uses_let(e: &Ex) -> bool {
    match e {
        Ex::Let => true,
        Ex::Bool(_) | Ex::Int(..) | Ex::Float(_) | Ex::Field(_) => false,
        Ex::Paren(x) | Ex::Not(x) | Ex::Neg(x) => uses_let(x),
        Ex::Logic(_, l, r) | Ex::Cmp(_, l, r) | Ex::Arith(_, l, r) => uses_let(l) || uses_let(r),
        Ex::In(_, v, xs) => uses_let(v) || xs.iter().any(uses_let),
        Ex::If(c, t, o) => uses_let(c) || uses_let(t) || uses_let(o),
        Ex::Call(_, xs) => xs.iter().any(uses_let),
    }
}

pub fn without_let(e: Ex) -> Ex {
    let b = |x: Box<Ex>| Box::new(without_let(*x));
    let v = |xs: Vec<Ex>| xs.into_iter().map(without_let).collect();
    match e {
        Ex::Let => Ex::Int(3, false),
        Ex::Paren(x) => Ex::Paren(b(x)),
        Ex::Not(x) => Ex::Not(b(x)),
        Ex::Neg(x) => Ex::Neg(b(x)),
        Ex::Logic(a, l, r) => Ex::Logic(a, b(l), b(r)),
        Ex::Cmp(c, l, r) => Ex::Cmp(c, b(l), b(r)),
        Ex::Arith(o, l, r) => Ex::Arith(o, b(l), b(r)),
        Ex::In(n, x, xs) => Ex::In(n, b(x), v(xs)),
        Ex::If(c, t, o) => Ex::If(b(c), b(t), b(o)),
        Ex::Call(f, xs) => Ex::Call(f, v(xs)),
        leaf => leaf,
    }
}

pub fn int_text(i: i64, underscores: bool) -> String {
    let digits = i.unsigned_abs().to_string();
    let body = if underscores {
        let n = digits.len();
        digits
            .chars()
            .enumerate()
            .fold(String::new(), |mut s, (k, c)| {
                if k > 0 && (n - k).is_multiple_of(3) {
                    s.push('_');
                }
                s.push(c);
                s
            })
    } else {
        digits
    };
    if i < 0 { format!("-{body}") } else { body }
}

/// The text of `e` and its precedence: 1 or, 2 and, 3 not, 4 comparison,
/// 5 sum, 6 product, 7 unary minus, 8 primary; 0 for `if` (its `else` runs to
/// the end, so it is parenthesised wherever something may follow it).
pub fn render(e: &Ex) -> (String, u8) {
    let wrap = |x: &Ex, min: u8| {
        let (s, p) = render(x);
        if p < min { format!("({s})") } else { s }
    };
    match e {
        Ex::Bool(b) => (b.to_string(), 8),
        Ex::Int(i, u) => (int_text(*i, *u), if *i < 0 { 7 } else { 8 }),
        Ex::Float(f) => {
            let s = format!("{f:?}");
            let p = if s.starts_with('-') { 7 } else { 8 };
            (s, p)
        }
        Ex::Field(f) => (f.to_string(), 8),
        Ex::Let => ("k".into(), 8),
        Ex::Paren(x) => (format!("({})", render(x).0), 8),
        Ex::Not(x) => (format!("not {}", wrap(x, 3)), 3),
        Ex::Neg(x) => (format!("-{}", wrap(x, 7)), 7),
        Ex::Logic(and, l, r) => {
            let (word, p) = if *and { ("and", 2) } else { ("or", 1) };
            (format!("{} {word} {}", wrap(l, p), wrap(r, p + 1)), p)
        }
        Ex::Cmp(op, l, r) => {
            let sym = match op {
                Cmp::Eq => "==",
                Cmp::Ne => "!=",
                Cmp::Lt => "<",
                Cmp::Le => "<=",
                Cmp::Gt => ">",
                Cmp::Ge => ">=",
            };
            (format!("{} {sym} {}", wrap(l, 5), wrap(r, 5)), 4)
        }
        Ex::Arith(op, l, r) => {
            let (sym, p) = match op {
                Op::Add => ("+", 5),
                Op::Sub => ("-", 5),
                Op::Mul => ("*", 6),
                Op::Div => ("/", 6),
                Op::Rem => ("%", 6),
            };
            (format!("{} {sym} {}", wrap(l, p), wrap(r, p + 1)), p)
        }
        Ex::In(neg, v, xs) => {
            let items: Vec<String> = xs.iter().map(|x| render(x).0).collect();
            let word = if *neg { "not in" } else { "in" };
            (format!("{} {word} [{}]", wrap(v, 5), items.join(", ")), 4)
        }
        Ex::If(c, t, o) => (
            format!(
                "if {} then {} else {}",
                render(c).0,
                render(t).0,
                render(o).0
            ),
            0,
        ),
        Ex::Call(f, xs) => {
            let name = match f {
                Fun::Min => "min",
                Fun::Max => "max",
                Fun::Abs => "abs",
                Fun::Floor => "floor",
                Fun::Ceil => "ceil",
                Fun::Round => "round",
                Fun::Clamp => "clamp",
                Fun::Coalesce => "coalesce",
                Fun::IsMissing => "is_missing",
            };
            let args: Vec<String> = xs.iter().map(|x| render(x).0).collect();
            (format!("{name}({})", args.join(", ")), 8)
        }
    }
}

/// One rule over the generated expression, with an int let `k` it may read.
#[derive(Debug, Clone)]
pub struct Program {
    pub let_body: Ex,
    pub expr: Ex,
    pub declared: Ty,
    pub default: Option<Ex>,
}

impl Program {
    pub fn text(&self) -> String {
        let ty = match self.declared {
            Ty::Bool => "bool",
            Ty::Int => "int",
            Ty::Float => "float",
        };
        let default = self
            .default
            .as_ref()
            .map(|d| format!(" default {}", render(d).0))
            .unwrap_or_default();
        format!(
            "let k = {}\nrule out: {ty}{default} =\n    {}\n",
            render(&self.let_body).0,
            render(&self.expr).0
        )
    }
}

/// One row's values of the four fields the expressions read.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub vram_gb: Option<f64>,
    pub tdp_watts: Option<f64>,
    pub mig_support: Option<bool>,
    pub cuda_cores: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum V {
    B(bool),
    I(i64),
    F(f64),
}

/// A runtime error: an integer or float overflow.
#[derive(Debug, PartialEq)]
pub struct Overflow;

pub type R = Result<Option<V>, Overflow>;

pub fn fl(v: V) -> f64 {
    match v {
        V::I(i) => i as f64,
        V::F(f) => f,
        V::B(_) => unreachable!("bools are not numbers"),
    }
}

pub fn widened(v: Option<V>, to: Ty) -> Option<V> {
    if to == Ty::Float {
        v.map(|v| V::F(fl(v)))
    } else {
        v
    }
}

pub fn finite(f: f64) -> R {
    if f.is_finite() {
        Ok(Some(V::F(f)))
    } else {
        Err(Overflow)
    }
}

pub fn to_int(f: f64) -> R {
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        Ok(Some(V::I(f as i64)))
    } else {
        Err(Overflow)
    }
}

/// Order two present values of one static type (ints and floats widened).
/// `==`, `<`, ...: an int and a float compare by exact value (in i128,
/// where every i64 and every float's integer part below 1e38 is exact).
pub fn exact_order(a: V, b: V) -> Option<std::cmp::Ordering> {
    fn int_float(x: i64, y: f64) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        if y.abs() >= 1e38 {
            return if y > 0.0 { Less } else { Greater };
        }
        let whole = y.floor();
        match i128::from(x).cmp(&(whole as i128)) {
            Equal if y > whole => Less,
            o => o,
        }
    }
    match (a, b) {
        (V::I(x), V::F(y)) => Some(int_float(x, y)),
        (V::F(x), V::I(y)) => Some(int_float(y, x).reverse()),
        (a, b) => order(a, b),
    }
}

/// Values of one type (ints widened to float when mixed).
pub fn order(a: V, b: V) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (V::B(x), V::B(y)) => Some(x.cmp(&y)),
        (V::I(x), V::I(y)) => Some(x.cmp(&y)),
        (x, y) => fl(x).partial_cmp(&fl(y)),
    }
}

/// The documented semantics, written plainly: SQL missing values, Kleene
/// logic, short-circuit `and`/`or`, `if` and `coalesce` evaluating only what
/// they use, overflow as an error.
pub fn reference(e: &Ex, row: &Fields, k: Option<V>) -> R {
    let ev = |x: &Ex| reference(x, row, k);
    Ok(match e {
        Ex::Bool(b) => Some(V::B(*b)),
        Ex::Int(i, _) => Some(V::I(*i)),
        Ex::Float(f) => Some(V::F(*f)),
        Ex::Field(name) => match *name {
            "vram_gb" => row.vram_gb.map(V::F),
            "tdp_watts" => row.tdp_watts.map(V::F),
            "mig_support" => row.mig_support.map(V::B),
            _ => row.cuda_cores.map(V::I),
        },
        Ex::Let => k,
        Ex::Paren(x) => ev(x)?,
        Ex::Not(x) => match ev(x)? {
            Some(V::B(b)) => Some(V::B(!b)),
            _ => None,
        },
        Ex::Neg(x) => match ev(x)? {
            Some(V::I(i)) => Some(V::I(i.checked_neg().ok_or(Overflow)?)),
            Some(V::F(f)) => Some(V::F(-f)),
            _ => None,
        },
        Ex::Logic(and, l, r) => {
            let a = ev(l)?;
            if a == Some(V::B(!*and)) {
                return Ok(a);
            }
            match (a, ev(r)?) {
                (_, Some(V::B(x))) if x != *and => Some(V::B(x)),
                (Some(V::B(_)), Some(V::B(x))) => Some(V::B(x)),
                _ => None,
            }
        }
        Ex::Cmp(op, l, r) => {
            let (a, b) = (ev(l)?, ev(r)?);
            let (Some(a), Some(b)) = (a, b) else {
                return Ok(None);
            };
            let o = exact_order(a, b).expect("finite values are ordered");
            use std::cmp::Ordering::*;
            Some(V::B(match op {
                Cmp::Eq => o == Equal,
                Cmp::Ne => o != Equal,
                Cmp::Lt => o == Less,
                Cmp::Le => o != Greater,
                Cmp::Gt => o == Greater,
                Cmp::Ge => o != Less,
            }))
        }
        Ex::Arith(op, l, r) => {
            let (a, b) = (ev(l)?, ev(r)?);
            let (Some(a), Some(b)) = (a, b) else {
                return Ok(None);
            };
            if ty(e) == Ty::Float {
                let (x, y) = (fl(a), fl(b));
                return match op {
                    Op::Div | Op::Rem if y == 0.0 => Ok(None),
                    Op::Add => finite(x + y),
                    Op::Sub => finite(x - y),
                    Op::Mul => finite(x * y),
                    Op::Div => finite(x / y),
                    Op::Rem => finite(x % y),
                };
            }
            let (V::I(x), V::I(y)) = (a, b) else {
                unreachable!("int operands")
            };
            match op {
                Op::Add => Some(V::I(x.checked_add(y).ok_or(Overflow)?)),
                Op::Sub => Some(V::I(x.checked_sub(y).ok_or(Overflow)?)),
                Op::Mul => Some(V::I(x.checked_mul(y).ok_or(Overflow)?)),
                Op::Rem if y == 0 => None,
                Op::Rem => Some(V::I(x.wrapping_rem(y))),
                Op::Div => unreachable!("division is float"),
            }
        }
        Ex::In(neg, v, xs) => {
            // Each item compares with the value as `==` does: exactly.
            let value = ev(v)?;
            let items = xs.iter().map(ev).collect::<Result<Vec<_>, Overflow>>()?;
            let Some(value) = value else { return Ok(None) };
            let mut result = Some(V::B(*neg));
            for item in items {
                match item {
                    Some(x) if exact_order(value, x) == Some(std::cmp::Ordering::Equal) => {
                        return Ok(Some(V::B(!*neg)));
                    }
                    None => result = None,
                    _ => {}
                }
            }
            result
        }
        Ex::If(c, t, o) => match ev(c)? {
            Some(V::B(true)) => widened(ev(t)?, ty(e)),
            Some(V::B(false)) => widened(ev(o)?, ty(e)),
            _ => None,
        },
        Ex::Call(Fun::IsMissing, xs) => Some(V::B(ev(&xs[0])?.is_none())),
        Ex::Call(Fun::Coalesce, xs) => {
            for x in xs {
                if let Some(v) = ev(x)? {
                    return Ok(widened(Some(v), ty(e)));
                }
            }
            None
        }
        Ex::Call(f, xs) => {
            let float = xs.iter().any(|x| ty(x) == Ty::Float);
            let args = xs.iter().map(ev).collect::<Result<Vec<_>, Overflow>>()?;
            let Some(args) = args.into_iter().collect::<Option<Vec<V>>>() else {
                return Ok(None);
            };
            let ints = || {
                args.iter()
                    .map(|v| if let V::I(i) = v { *i } else { unreachable!() })
            };
            let floats = || args.iter().map(|v| fl(*v));
            match (f, float) {
                (Fun::Floor | Fun::Ceil | Fun::Round, false) => Some(args[0]),
                (Fun::Floor, true) => return to_int(fl(args[0]).floor()),
                (Fun::Ceil, true) => return to_int(fl(args[0]).ceil()),
                (Fun::Round, true) => return to_int(fl(args[0]).round()),
                (Fun::Min, false) => ints().min().map(V::I),
                (Fun::Max, false) => ints().max().map(V::I),
                (Fun::Min, true) => Some(V::F(floats().fold(f64::INFINITY, f64::min))),
                (Fun::Max, true) => Some(V::F(floats().fold(f64::NEG_INFINITY, f64::max))),
                (Fun::Abs, false) => Some(V::I(
                    ints().next().unwrap_or(0).checked_abs().ok_or(Overflow)?,
                )),
                (Fun::Abs, true) => Some(V::F(fl(args[0]).abs())),
                (Fun::Clamp, false) => {
                    let v: Vec<i64> = ints().collect();
                    Some(V::I(v[0].max(v[1]).min(v[2])))
                }
                (Fun::Clamp, true) => {
                    let v: Vec<f64> = floats().collect();
                    Some(V::F(v[0].max(v[1]).min(v[2])))
                }
                (Fun::Coalesce | Fun::IsMissing, _) => unreachable!("handled above"),
            }
        }
    })
}

pub fn run_reference(p: &Program, row: &Fields) -> R {
    let k = if uses_let(&p.expr) {
        reference(&p.let_body, row, None)?
    } else {
        None
    };
    let v = reference(&p.expr, row, k)?;
    let default = p
        .default
        .as_ref()
        .map(|d| reference(d, row, None).expect("literal"));
    Ok(widened(v.or(default.flatten()), p.declared))
}

pub fn set_row(row: &mut Row, f: &Fields) {
    row.clear();
    row.set("vram_gb", f.vram_gb).expect("float field");
    row.set("tdp_watts", f.tdp_watts).expect("float field");
    row.set("mig_support", f.mig_support).expect("bool field");
    row.set("cuda_cores", f.cuda_cores).expect("int field");
}

/// Whether glyphsieve's result `got` is the reference's `want`. An overflow
/// must be reported as one, in the item it happened in: the rule or its let.
pub fn agrees(want: &R, got: &Result<Value, EvalError>) -> bool {
    match (want, got) {
        (Err(Overflow), Err(e)) => {
            matches!(
                e.what,
                EvalErrorKind::IntegerOverflow | EvalErrorKind::FloatOverflow
            ) && ["out", "k"].contains(&&*e.rule)
        }
        (Ok(None), Ok(Value::Missing)) => true,
        (Ok(Some(V::B(a))), Ok(Value::Bool(b))) => a == b,
        (Ok(Some(V::I(a))), Ok(Value::Int(b))) => a == b,
        (Ok(Some(V::F(a))), Ok(Value::Float(b))) => a == b,
        _ => false,
    }
}

/// The data path writes a cell straight from the evaluator
/// (`Heuristic::write_cell`): on a row it has not seen, that must give what
/// `evaluate` gave, written as a CSV cell, or the same error.
pub fn written_like_evaluated(
    h: &dyn Heuristic,
    fresh: &Row,
    evaluated: &Result<Value, EvalError>,
) -> Result<(), String> {
    let mut cell = Vec::new();
    match (h.write_cell(fresh, &mut cell), evaluated) {
        (Ok(written), Ok(value)) => {
            let mut want = Vec::new();
            value.write_csv(&mut want);
            // An enum variant is written with its index in the enum.
            let expected = match h.output_type() {
                OutputType::Enum(names) => Written::of_typed(value, &names),
                _ => Written::of(value),
            };
            if cell != want || written != expected {
                return Err(format!(
                    "rule {}: write_cell gave {:?} ({written:?}), evaluate gave {value:?}",
                    h.name(),
                    String::from_utf8_lossy(&cell)
                ));
            }
        }
        (Err(a), Err(b)) if a == *b => {}
        (w, e) => {
            return Err(format!(
                "rule {}: write_cell {w:?}, evaluate {e:?}",
                h.name()
            ));
        }
    }
    Ok(())
}

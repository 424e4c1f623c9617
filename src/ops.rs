//! Operator semantics shared by the checker's constant folding and the
//! evaluator: typed arithmetic, comparison and the numeric builtins, on
//! [`Val`]s. A leaf (it reads only `types` and `value`), so folding at
//! check time and running at eval time are one piece of code.

use crate::value::Val;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    AddInt,
    SubInt,
    MulInt,
    RemInt,
    AddFloat,
    SubFloat,
    MulFloat,
    DivFloat,
    RemFloat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// Whether two values ordered `o` satisfy this comparison.
    #[inline]
    pub fn holds(self, o: Ordering) -> bool {
        use Ordering::*;
        match self {
            CmpOp::Eq => o == Equal,
            CmpOp::Ne => o != Equal,
            CmpOp::Lt => o == Less,
            CmpOp::Le => o != Greater,
            CmpOp::Gt => o == Greater,
            CmpOp::Ge => o != Less,
        }
    }
}

/// A builtin with its argument type settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    MinInt,
    MaxInt,
    MinFloat,
    MaxFloat,
    AbsInt,
    AbsFloat,
    Floor,
    Ceil,
    Round,
    ClampInt,
    ClampFloat,
    IsMissing,
    Lower,
    Upper,
    Contains,
    StartsWith,
    EndsWith,
    Matches(u32),
}

/// An overflow inside the evaluation loop: small, so the loop's results
/// stay small; the evaluator builds the full error from it off the hot path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fault {
    pub(crate) at: u32,
    pub(crate) float: bool,
}

impl Fault {
    pub(crate) fn int(at: u32) -> Fault {
        Fault { at, float: false }
    }
}

fn float(at: u32, f: f64) -> Result<Val, Fault> {
    if f.is_finite() {
        Ok(Val::Float(f))
    } else {
        Err(Fault { at, float: true })
    }
}

// Always inlined into the loop: check-time folding calls it too, which
// would otherwise tip LLVM into a call per arithmetic instruction.
#[inline(always)]
pub(crate) fn arith(op: Arith, a: Val, b: Val, at: u32) -> Result<Val, Fault> {
    let int_overflow = || Fault::int(at);
    Ok(match (op, a, b) {
        (Arith::AddInt, Val::Int(x), Val::Int(y)) => {
            Val::Int(x.checked_add(y).ok_or_else(int_overflow)?)
        }
        (Arith::SubInt, Val::Int(x), Val::Int(y)) => {
            Val::Int(x.checked_sub(y).ok_or_else(int_overflow)?)
        }
        (Arith::MulInt, Val::Int(x), Val::Int(y)) => {
            Val::Int(x.checked_mul(y).ok_or_else(int_overflow)?)
        }
        (Arith::RemInt, Val::Int(_), Val::Int(0)) => Val::Missing,
        // i64::MIN % -1 is 0 mathematically; wrapping_rem gives exactly that.
        (Arith::RemInt, Val::Int(x), Val::Int(y)) => Val::Int(x.wrapping_rem(y)),
        (Arith::DivFloat | Arith::RemFloat, Val::Float(_), Val::Float(0.0)) => Val::Missing,
        (Arith::AddFloat, Val::Float(x), Val::Float(y)) => float(at, x + y)?,
        (Arith::SubFloat, Val::Float(x), Val::Float(y)) => float(at, x - y)?,
        (Arith::MulFloat, Val::Float(x), Val::Float(y)) => float(at, x * y)?,
        (Arith::DivFloat, Val::Float(x), Val::Float(y)) => float(at, x / y)?,
        (Arith::RemFloat, Val::Float(x), Val::Float(y)) => float(at, x % y)?,
        _ => Val::Missing,
    })
}

/// Negation; the smallest int has no negation. Shared with check-time
/// folding, inlined for the same reason as [`arith`].
#[inline(always)]
pub(crate) fn neg(v: Val, at: u32) -> Result<Val, Fault> {
    Ok(match v {
        Val::Int(i) => Val::Int(i.checked_neg().ok_or_else(|| Fault::int(at))?),
        Val::Float(f) => Val::Float(-f),
        _ => Val::Missing,
    })
}

/// Order an int and a float by their exact values (floats are finite).
pub(crate) fn int_float(x: i64, y: f64) -> Ordering {
    const LIMIT: f64 = crate::types::I64_LIMIT;
    if y >= LIMIT {
        return Ordering::Less;
    }
    if y < -LIMIT {
        return Ordering::Greater;
    }
    let whole = y.trunc();
    x.cmp(&(whole as i64)).then_with(|| {
        let frac = y - whole;
        if frac > 0.0 {
            Ordering::Less
        } else if frac < 0.0 {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    })
}

/// The numeric builtins on present arguments of the types the checker
/// settled. Shared with check-time folding (`abs(-9223372036854775807 - 1)`
/// is an error before any row is read), inlined like [`arith`].
#[inline(always)]
pub(crate) fn numeric(func: Func, args: &[Val], at: u32) -> Result<Val, Fault> {
    let to_int = |f: f64| -> Result<Val, Fault> {
        if (-crate::types::I64_LIMIT..crate::types::I64_LIMIT).contains(&f) {
            Ok(Val::Int(f as i64))
        } else {
            Err(Fault::int(at))
        }
    };
    // The checker settled the types: these read what it promised.
    let int = |i: usize| match args[i] {
        Val::Int(x) => x,
        _ => 0,
    };
    let float = |i: usize| match args[i] {
        Val::Float(x) => x,
        _ => 0.0,
    };
    let ints = || (0..args.len()).map(int);
    let floats = || (0..args.len()).map(float);
    Ok(match func {
        Func::MinInt => Val::Int(ints().min().unwrap_or(0)),
        Func::MaxInt => Val::Int(ints().max().unwrap_or(0)),
        Func::MinFloat => Val::Float(floats().fold(f64::INFINITY, f64::min)),
        Func::MaxFloat => Val::Float(floats().fold(f64::NEG_INFINITY, f64::max)),
        Func::AbsInt => match args[0] {
            Val::Int(i) => Val::Int(i.checked_abs().ok_or_else(|| Fault::int(at))?),
            _ => Val::Missing,
        },
        Func::AbsFloat => Val::Float(float(0).abs()),
        Func::Floor => to_int(float(0).floor())?,
        Func::Ceil => to_int(float(0).ceil())?,
        Func::Round => to_int(float(0).round())?,
        Func::ClampInt => Val::Int(int(0).max(int(1)).min(int(2))),
        Func::ClampFloat => Val::Float(float(0).max(float(1)).min(float(2))),
        _ => Val::Missing,
    })
}

#[cfg(test)]
mod tests {
    use super::int_float;
    use std::cmp::Ordering::*;

    #[test]
    fn ints_and_floats_compare_exactly() {
        assert_eq!(int_float(24, 24.0), Equal);
        assert_eq!(int_float(24, 24.5), Less);
        assert_eq!(int_float(-3, -3.5), Greater);
        assert_eq!(
            int_float(9_007_199_254_740_993, 9_007_199_254_740_992.0),
            Greater
        );
        assert_eq!(int_float(i64::MAX, 9.3e18), Less);
        assert_eq!(int_float(i64::MIN, -9.3e18), Greater);
        assert_eq!(int_float(i64::MIN, -9_223_372_036_854_775_808.0), Equal);
    }
}

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
    /// `round(x, digits)`: a float, `x` rounded to `digits` decimals.
    RoundTo,
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
        Func::RoundTo => Val::Float(round_to(float(0), int(1))),
        Func::ClampInt => Val::Int(int(0).max(int(1)).min(int(2))),
        Func::ClampFloat => Val::Float(float(0).max(float(1)).min(float(2))),
        _ => Val::Missing,
    })
}

/// Exact powers of ten: every one up to 1e22 is a double.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `x` rounded to `digits` decimal places (negative: to tens, hundreds,
/// ...), half away from zero, on the exact decimal value of the double:
/// `round(2.675, 2)` is 2.67, because the double written 2.675 is
/// 2.67499999999999982236431605997495353221893310546875 (Python agrees);
/// `round(0.125, 2)` is 0.13 (0.125 is exact, a true tie). The result is
/// the double nearest the rounded decimal, so it prints as that decimal.
/// A zero result is +0 (a "-0" column reads as a mistake); a result that
/// is not finite (`round(1.7e308, -308)`) gives `x` back.
pub(crate) fn round_to(x: f64, digits: i64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    if !x.is_finite() {
        return x;
    }
    let r = round_to_fast(x.abs(), digits).unwrap_or_else(|| round_to_exact(x.abs(), digits));
    if r == 0.0 {
        0.0
    } else if !r.is_finite() {
        x
    } else {
        r.copysign(x)
    }
}

/// The common case in integer arithmetic, no text: `a` (positive, finite)
/// within 22 digits of the point and a rounded mantissa under 2^53, where
/// one IEEE division or product of exact operands rounds once, correctly.
/// `None` hands the rest to [`round_to_exact`].
fn round_to_fast(a: f64, digits: i64) -> Option<f64> {
    const EXACT: u128 = 1 << 53;
    let bits = a.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1 << 52) - 1);
    // a = m * 2^e exactly.
    let (mut m, mut e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    let tz = m.trailing_zeros() as i64;
    m >>= tz;
    e += tz;
    // A double with k binary fraction digits has exactly k decimal ones:
    // with at most `digits` of them there is nothing to round.
    if e >= 0 && digits >= 0 || e < 0 && -e <= digits {
        return Some(a);
    }
    let m = m as u128;
    if digits >= 0 {
        // Here e < 0: q = round(m * 10^d / 2^k).
        let d = usize::try_from(digits).ok().filter(|&d| d < POW10.len())?;
        let k = (-e) as u32;
        let p = m * 10u128.pow(d as u32); // < 2^53 * 2^74
        let q = if k >= 128 {
            0 // p / 2^k < 1/2
        } else {
            let half = 1u128 << (k - 1);
            (p >> k) + u128::from(p & ((half << 1) - 1) >= half)
        };
        (q < EXACT).then(|| q as f64 / POW10[d])
    } else {
        // To a multiple of 10^n: q = round(a / 10^n).
        let n = usize::try_from(-digits).ok().filter(|&n| n < POW10.len())?;
        let unit = 10u128.pow(n as u32);
        let q = if e >= 0 {
            if e > 74 {
                return None;
            }
            let v = m << e; // < 2^127
            (v + unit / 2) / unit
        } else {
            let k = (-e) as u32;
            if k > 53 {
                // a = m / 2^k < 1 < 10^n / 2: rounds to 0.
                0
            } else {
                let den = unit << k; // < 2^74 * 2^53
                m / den + u128::from(2 * (m % den) >= den)
            }
        };
        (q < EXACT).then(|| q as f64 * POW10[n])
    }
}

/// Any case, through the exact decimal expansion of `a` (positive,
/// finite; every double has one of at most 1074 fraction digits, which
/// Rust's formatting gives exactly), rounded as text and parsed back
/// (parsing is correctly rounded). Rare: big or tiny numbers, or more
/// than 22 digits either side of the point.
fn round_to_exact(a: f64, digits: i64) -> f64 {
    if digits >= 1100 {
        return a;
    }
    if digits <= -400 {
        return 0.0;
    }
    let text = format!("{a:.1100}");
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let all: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    // Keep the digits before position `keep` of `all`; round on the next.
    let keep = int.len() as i64 + digits;
    if keep < 0 {
        return 0.0;
    }
    let keep = keep as usize;
    let mut kept: Vec<u8> = all[..keep.min(all.len())].to_vec();
    if all.get(keep).is_some_and(|&d| d >= 5) {
        // Add one at the last kept place, carrying.
        let mut i = kept.len();
        loop {
            if i == 0 {
                kept.insert(0, 1);
                break;
            }
            i -= 1;
            if kept[i] == 9 {
                kept[i] = 0;
            } else {
                kept[i] += 1;
                break;
            }
        }
    }
    if kept.is_empty() {
        return 0.0;
    }
    let mut s: String = kept.iter().map(|&d| char::from(b'0' + d)).collect();
    s.push_str(&format!("e{}", -digits));
    s.parse().unwrap_or(a)
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

    use super::{round_to, round_to_exact, round_to_fast};

    #[test]
    fn round_to_digits_is_half_away_from_zero_on_the_exact_value() {
        let cases: &[(f64, i64, f64)] = &[
            (2.5, 0, 3.0),
            (-2.5, 0, -3.0),
            (0.5, 0, 1.0),
            (-0.5, 0, -1.0),
            (0.125, 2, 0.13),
            (-0.125, 2, -0.13),
            // The double written 2.675 is 2.67499999999999982236...
            (2.675, 2, 2.67),
            (1.005, 2, 1.0),
            (1234.5, -2, 1200.0),
            (1250.0, -2, 1300.0),
            (-1250.0, -2, -1300.0),
            (49.0, -2, 0.0),
            (50.0, -2, 100.0),
            (123.456, 1, 123.5),
            (1e300, -299, 1e300),
            (1.5e300, -300, 2e300),
            (1.7976931348623157e308, -308, 1.7976931348623157e308),
            (1e-300, 300, 1e-300),
            (1.5e-300, 300, 2e-300),
            (0.1 + 0.2, 2, 0.3),
            (9_007_199_254_740_993.0, 0, 9_007_199_254_740_993.0),
            (3.0, 400, 3.0),
            (3.0, -400, 0.0),
            (-0.001, 2, 0.0),
            (5e-324, 2, 0.0),
        ];
        for &(x, d, want) in cases {
            let got = round_to(x, d);
            assert_eq!(got.to_bits(), want.to_bits(), "round({x}, {d}) = {got}");
        }
    }

    proptest::proptest! {
        // The fast integer path and the text path agree wherever the fast
        // one answers.
        #[test]
        fn round_to_fast_agrees_with_the_exact_decimal_rounding(
            bits in 0u64..0x7ff0_0000_0000_0000,
            digits in -25i64..25,
        ) {
            let x = f64::from_bits(bits);
            if let Some(fast) = round_to_fast(x, digits) {
                proptest::prop_assert_eq!(fast.to_bits(), round_to_exact(x, digits).to_bits());
            }
        }

        #[test]
        fn round_to_fast_agrees_near_one(x in 1e-9f64..1e12, digits in -12i64..23) {
            if let Some(fast) = round_to_fast(x, digits) {
                proptest::prop_assert_eq!(fast.to_bits(), round_to_exact(x, digits).to_bits());
            }
        }

        #[test]
        fn round_to_agrees_on_everyday_numbers(
            cents in -10_000_000i64..10_000_000,
            digits in 0i64..4,
        ) {
            let x = cents as f64 / 1000.0;
            if let Some(fast) = round_to_fast(x.abs(), digits) {
                proptest::prop_assert_eq!(fast.to_bits(), round_to_exact(x.abs(), digits).to_bits());
            }
        }
    }
}

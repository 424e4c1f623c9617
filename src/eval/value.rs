//! Values: the public `Value` a heuristic returns, and writing values as
//! CSV cells. The compact `Val` the evaluator computes with is the crate's
//! own (`crate::value`).

use std::fmt;
use std::sync::Arc;

/// A heuristic's output (or a row field's value).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Missing,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// An enum variant, by name.
    Enum(Arc<str>),
}

impl Value {
    pub fn is_missing(&self) -> bool {
        matches!(self, Value::Missing)
    }

    /// Write the value as a CSV cell's text: bools `true`/`false`, floats the
    /// shortest text that reads back the same, missing as nothing.
    pub fn write_cell(&self, out: &mut Vec<u8>) {
        match self {
            Value::Missing => {}
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
            Value::Float(f) => write_float(*f, out),
            Value::Str(s) => out.extend_from_slice(s.as_bytes()),
            Value::Enum(v) => out.extend_from_slice(v.as_bytes()),
        }
    }
}

impl Value {
    /// Write the value as a CSV cell: [`Value::write_cell`], with strings
    /// quoted when they must be.
    pub fn write_csv(&self, out: &mut Vec<u8>) {
        match self {
            Value::Str(s) => write_quoted(s.as_bytes(), out),
            other => other.write_cell(out),
        }
    }
}

/// Write a cell, quoting it only when it must be (RFC 4180).
pub fn write_quoted(cell: &[u8], out: &mut Vec<u8>) {
    let needs = cell
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    if !needs {
        out.extend_from_slice(cell);
        return;
    }
    out.push(b'"');
    for &b in cell {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// The shortest decimal that parses back to `f` (`12` for 12.0, `0.1`, `1e21`).
///
/// The text is ryu's (the format this crate has always written, `e21` and
/// `e-7` exponents) minus a trailing `.0`; it is made with zmij, which is
/// about twice as fast and differs from ryu only by a `+` in positive
/// exponents (`1e+21`), dropped here.
pub fn write_float(f: f64, out: &mut Vec<u8>) {
    if write_short_decimal(f, out) {
        return;
    }
    let mut buf = zmij::Buffer::new();
    let s = buf.format(f).as_bytes();
    let s = s.strip_suffix(b".0").unwrap_or(s);
    match s.iter().position(|&b| b == b'+') {
        Some(plus) => {
            out.extend_from_slice(&s[..plus]);
            out.extend_from_slice(&s[plus + 1..]);
        }
        None => out.extend_from_slice(s),
    }
}

/// The common case of computed floats, without the general algorithm: a
/// value with at most four decimals (`583.99`, `449.5`, `24`). It is
/// written when `d / 10^4`, for the integer `d` nearest `f * 10^4`, is
/// exactly `f` as a double; without the fraction's trailing zeros that is the
/// shortest text that reads back as `f`, the text ryu and zmij give. Only
/// for `|f| * 10^4` below 2^48: there the candidates `d / 10^4` are 16
/// doubles apart or more, so at most one reads back as `f`, and `f * 10^4`
/// (one rounding) is within 1/32 of it, so the nearest integer is it
/// whenever it exists; a text with fewer decimals that reads back as `f`
/// is that same number. Says whether it wrote `f`.
#[inline]
fn write_short_decimal(f: f64, out: &mut Vec<u8>) -> bool {
    const LIMIT: f64 = (1u64 << 48) as f64;
    let a = f.abs();
    let scaled = a * 1e4;
    // Zero (and -0), and numbers ryu writes with an exponent, are left to
    // it (as are non-finite ones, which fail the test).
    if !(1.0..LIMIT).contains(&scaled) {
        return false;
    }
    // `scaled` is below 2^48, so adding one half is exact: this rounds
    // half up without a call to `round`.
    let d = (scaled + 0.5) as u64;
    // `d` and 10^4 are exact doubles: one correctly rounded division.
    if d as f64 / 1e4 != a {
        return false;
    }
    if f < 0.0 {
        out.push(b'-');
    }
    out.extend_from_slice(itoa::Buffer::new().format(d / 10_000).as_bytes());
    let fraction = (d % 10_000) as u32;
    if fraction != 0 {
        // Four digits with their leading zeros (`0.05`), less the trailing
        // ones (there is a non-zero digit: the fraction is not zero).
        let digits = [
            b'0' + (fraction / 1000) as u8,
            b'0' + (fraction / 100 % 10) as u8,
            b'0' + (fraction / 10 % 10) as u8,
            b'0' + (fraction % 10) as u8,
        ];
        let len = digits.iter().rposition(|&c| c != b'0').map_or(0, |p| p + 1);
        out.push(b'.');
        out.extend_from_slice(&digits[..len]);
    }
    true
}

/// What a heuristic wrote, as much of it as the per-rule summary counts:
/// numbers for their range, an enum variant by its index in its enum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Written {
    True,
    False,
    Missing,
    Int(i64),
    Float(f64),
    /// An enum variant, by its position in the enum's variant list.
    Variant(u32),
    /// A string (or an enum variant whose index is not known).
    Other,
}

impl Written {
    /// What writing `v` wrote. An enum variant is `Other`: a `Value` names
    /// it, and only the output type knows its index (see [`Written::of_typed`]).
    pub fn of(v: &Value) -> Written {
        match v {
            Value::Bool(true) => Written::True,
            Value::Bool(false) => Written::False,
            Value::Missing => Written::Missing,
            Value::Int(i) => Written::Int(*i),
            Value::Float(f) => Written::Float(*f),
            _ => Written::Other,
        }
    }

    /// As [`Written::of`], with an enum variant's index found by its name
    /// among `variants` (the output type's).
    pub fn of_typed(v: &Value, variants: &[String]) -> Written {
        match v {
            Value::Enum(name) => variants
                .iter()
                .position(|n| **n == **name)
                .map_or(Written::Other, |k| Written::Variant(k as u32)),
            other => Written::of(other),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.write_cell(&mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::Missing, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(v: Value) -> String {
        let mut out = Vec::new();
        v.write_cell(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn cells_are_shortest_round_trip_text() {
        assert_eq!(cell(Value::Float(12.0)), "12");
        assert_eq!(cell(Value::Float(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(cell(Value::Float(-2.5)), "-2.5");
        assert_eq!(cell(Value::Float(1e21)), "1e21");
        assert_eq!(cell(Value::Missing), "");
        assert_eq!(cell(Value::Bool(true)), "true");
        assert_eq!(cell(Value::Int(-7)), "-7");
        assert_eq!(cell(Value::Enum("mid".into())), "mid");
        for f in [1.0 / 3.0, 123456.789, 5e-324, f64::MAX] {
            assert_eq!(cell(Value::Float(f)).parse::<f64>().unwrap(), f);
        }
    }

    /// ryu's text (the format cells have always had) minus a trailing `.0`.
    fn ryu_cell(f: f64) -> String {
        let mut buf = ryu::Buffer::new();
        let s = buf.format(f);
        s.strip_suffix(".0").unwrap_or(s).to_string()
    }

    #[test]
    fn float_cells_are_byte_identical_to_ryus() {
        let mut floats = vec![
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            5e-324,
            1e-5,
            1e-6,
            1e-7,
            1e15,
            1e16,
            1e17,
            1e21,
            1e22,
            123456.789,
            0.1 + 0.2,
        ];
        // Integers, powers of ten and their neighbours: where the switch
        // between plain and exponent text lies.
        for e in -330..=310 {
            let p = 10f64.powi(e);
            floats.extend([
                p,
                -p,
                f64::from_bits(p.to_bits() + 1),
                f64::from_bits(p.to_bits().saturating_sub(1)),
            ]);
            floats.extend([1.5 * p, 9.999 * p, 1.234_567_890_123_456_7 * p]);
        }
        floats.extend((-2000..2000).map(|i| i as f64));
        floats.extend((0..2000).map(|i| i as f64 / 8.0 + 0.1));
        // Short decimals, as prices and sums of them are (the fast path),
        // both signs, up to and past its limits.
        for scale in [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0] {
            for i in (0..20_000).chain((1u64 << 40)..(1u64 << 40) + 2_000) {
                let x = i as f64 / scale;
                floats.extend([x, -x, x + 583.99, x * 1e9 / scale]);
            }
        }
        for e in 40..=50 {
            let p = 2f64.powi(e);
            floats.extend([p, p - 0.5, p + 0.25, p / 10.0, p / 1e4 + 0.0001, -p]);
        }
        // Random bit patterns (xorshift: every exponent and mantissa).
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..300_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            floats.push(f64::from_bits(x));
            floats.push((x >> 11) as f64 / 1e6);
        }
        for f in floats {
            assert_eq!(
                cell(Value::Float(f)),
                ryu_cell(f),
                "bits {:#x}",
                f.to_bits()
            );
        }
    }
}

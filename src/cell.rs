//! Reading one CSV cell as its field's type: one number reader for int,
//! float and bool cells, exact for ints; the null markers; the bool words
//! that config values share. A leaf below `config`, `schema` and `data`,
//! so cells, null markers and config bools are read by one set of rules.

use crate::types::FieldType;
use crate::value::Val;
use std::fmt;

/// Why a cell could not be read as its field's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellError {
    /// Not a number at all (`24GB`, `inf`, `nan`); the field's type says
    /// what kind of number was expected.
    NotANumber(FieldType),
    /// Not a bool word and not a number.
    NotABool,
    /// A number beyond the range of the field's type (`1e309` for a float,
    /// `99999999999999999999` for an int).
    OutOfRange(FieldType),
    /// A number with a fractional part in an int cell (`6144.5`).
    NotWhole,
    /// A string cell that is not UTF-8.
    NotUtf8,
}

/// What is wrong, for the message `cannot read "6144.5" as int: not a
/// whole number` (the value itself is quoted by the caller, shortened).
impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CellError::NotANumber(FieldType::Int) => {
                f.write_str("not a number (expected a whole number such as 6144 or 6144.0)")
            }
            CellError::NotANumber(_) => {
                f.write_str("not a number (expected a number such as 24 or 24.5)")
            }
            CellError::NotABool => f.write_str(
                "not a bool (expected true/false, yes/no, 1/0, or a number where non-zero is true)",
            ),
            CellError::OutOfRange(FieldType::Int) => f.write_str(
                "the number is out of range (-9223372036854775808 to 9223372036854775807)",
            ),
            CellError::OutOfRange(_) => {
                f.write_str("the number is out of range (floats reach about 1.8e308)")
            }
            // The value is quoted before this (shortened): not echoed again.
            CellError::NotWhole => f.write_str("not a whole number"),
            CellError::NotUtf8 => f.write_str("not UTF-8 text"),
        }
    }
}

/// A cell read as its field's type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// A null marker.
    Missing,
    /// A bool, int or float.
    Value(Val),
    /// Valid UTF-8 text of a string field: the row copies the bytes.
    Text,
}

/// Parse a cell of a field of type `ty` with null markers `nulls`: a null
/// marker is missing; otherwise the text must read as the field's type. A
/// number equal to one of a numeric field's numeric null markers (`0`,
/// `0.0`) is missing too, whichever way it is written.
// Inlined into the data path's per-cell loop: with a caller more (explain) LLVM
// stopped inlining it there, +1% on the peer task (callgrind).
#[inline(always)]
pub fn parse_cell(ty: FieldType, nulls: &Nulls, cell: &[u8]) -> Result<Cell, CellError> {
    if nulls.matches_text(cell) {
        return Ok(Cell::Missing);
    }
    let value = match ty {
        FieldType::Float => Val::Float(parse_float(cell)?),
        FieldType::Int => Val::Int(parse_int(cell)?),
        FieldType::Bool => Val::Bool(parse_bool_cell(cell)?),
        FieldType::String => {
            return match std::str::from_utf8(cell) {
                Ok(_) => Ok(Cell::Text),
                Err(_) => Err(CellError::NotUtf8),
            };
        }
    };
    if nulls.matches_value(value) {
        return Ok(Cell::Missing);
    }
    Ok(Cell::Value(value))
}

/// The cell's text without surrounding spaces; non-UTF-8 is not a number.
fn text(cell: &[u8], ty: FieldType) -> Result<&str, CellError> {
    std::str::from_utf8(cell.trim_ascii()).map_err(|_| CellError::NotANumber(ty))
}

/// A finite float. The syntax is Rust's decimal float syntax
/// (`24`, `-0.5`, `.5`, `5.`, `1e3`, `+2E-3`), without `inf` and `nan`.
pub fn parse_float(cell: &[u8]) -> Result<f64, CellError> {
    let t = text(cell, FieldType::Float)?;
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(f),
        // `inf`, `infinity` and `nan` parse, but are not numbers here;
        // anything else that parses to infinity is a number too large.
        Ok(_) if Decimal::scan(t).is_some() => Err(CellError::OutOfRange(FieldType::Float)),
        _ => Err(CellError::NotANumber(FieldType::Float)),
    }
}

/// An int: the text must denote exactly a whole number in the `i64` range,
/// in the same syntax as floats, so `6144.0`, `6.144e3` and `-0` are ints,
/// `9007199254740993.0` is exactly 9007199254740993 (no float rounding), and
/// `6144.00000000000001` is not whole.
pub fn parse_int(cell: &[u8]) -> Result<i64, CellError> {
    let t = text(cell, FieldType::Int)?;
    if let Ok(i) = t.parse::<i64>() {
        return Ok(i);
    }
    Decimal::scan(t)
        .ok_or(CellError::NotANumber(FieldType::Int))?
        .to_int()
}

/// true/false/yes/no/1/0 in any case, or a finite number: non-zero is true
/// (`mig_capable` holds a MIG instance count).
pub fn parse_bool_cell(cell: &[u8]) -> Result<bool, CellError> {
    let t = text(cell, FieldType::Bool).map_err(|_| CellError::NotABool)?;
    if let Some(b) = parse_bool(t) {
        return Ok(b);
    }
    let d = Decimal::scan(t).ok_or(CellError::NotABool)?;
    // The same range as a float cell; zero or not is read from the digits,
    // so `1e-400` (a tiny count, but not zero) is true.
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(!d.is_zero()),
        _ => Err(CellError::OutOfRange(FieldType::Bool)),
    }
}

/// The bool words and their values, lower case, in the order
/// [`parse_bool`] tries them (the SQL backend builds its `IN` lists from
/// this table too).
pub(crate) const BOOL_WORDS: [(&str, bool); 6] = [
    ("true", true),
    ("false", false),
    ("yes", true),
    ("no", false),
    ("1", true),
    ("0", false),
];

/// The bool words, as cells and config values write them:
/// true/false/yes/no/1/0 in any ASCII case, nothing else (no spaces: the
/// caller trims where it should).
pub fn parse_bool(t: &str) -> Option<bool> {
    BOOL_WORDS
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(t))
        .map(|&(_, b)| b)
}

/// A decimal number as written: `digits × 10^exp`, read exactly.
#[derive(Debug, Clone, PartialEq)]
struct Decimal<'a> {
    negative: bool,
    /// The significant digits (the integer part then the fraction), ASCII.
    int_part: &'a [u8],
    frac_part: &'a [u8],
    /// The written exponent, saturated far beyond any meaningful value.
    exp: i64,
}

/// Exponents are clamped to this: past it every number is 0 or out of
/// range, and sums with digit counts (each below 2^32) cannot overflow.
const EXP_CLAMP: i64 = 1 << 40;

impl<'a> Decimal<'a> {
    /// Rust's decimal float syntax:
    /// `[+-]? (digits | digits '.' digits? | '.' digits) ([eE] [+-]? digits)?`.
    fn scan(t: &'a str) -> Option<Decimal<'a>> {
        let b = t.as_bytes();
        let (negative, rest) = match b.first() {
            Some(b'-') => (true, &b[1..]),
            Some(b'+') => (false, &b[1..]),
            _ => (false, b),
        };
        let digits = |s: &'a [u8]| {
            let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
            (&s[..n], &s[n..])
        };
        let (int_part, rest) = digits(rest);
        let (frac_part, rest) = match rest.first() {
            Some(b'.') => digits(&rest[1..]),
            _ => (&rest[..0], rest),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let exp = match rest.first() {
            None => 0,
            Some(b'e' | b'E') => {
                let (neg, r) = match rest.get(1) {
                    Some(b'-') => (true, &rest[2..]),
                    Some(b'+') => (false, &rest[2..]),
                    _ => (false, &rest[1..]),
                };
                let (e, r) = digits(r);
                if e.is_empty() || !r.is_empty() {
                    return None;
                }
                let magnitude = e.iter().fold(0i64, |acc, &c| {
                    (acc * 10 + i64::from(c - b'0')).min(EXP_CLAMP)
                });
                if neg { -magnitude } else { magnitude }
            }
            Some(_) => return None,
        };
        Some(Decimal {
            negative,
            int_part,
            frac_part,
            exp,
        })
    }

    fn is_zero(&self) -> bool {
        self.int_part
            .iter()
            .chain(self.frac_part)
            .all(|&c| c == b'0')
    }

    /// The exact value as an int: a fractional part is `NotWhole`, a whole
    /// number beyond `i64` is `OutOfRange`.
    fn to_int(&self) -> Result<i64, CellError> {
        // The digits of the integer part then the fraction, without leading
        // and trailing zeros; `scale` is the power of ten of the last kept.
        let n = self.int_part.len() + self.frac_part.len();
        let digit = |i: usize| match self.int_part.get(i) {
            Some(&c) => c,
            None => self.frac_part[i - self.int_part.len()],
        };
        let Some(first) = (0..n).find(|&i| digit(i) != b'0') else {
            return Ok(0);
        };
        let last = (first..n)
            .rev()
            .find(|&i| digit(i) != b'0')
            .unwrap_or(first);
        let trailing_zeros = (n - 1 - last) as i64;
        let scale = self.exp - self.frac_part.len() as i64 + trailing_zeros;
        if scale < 0 {
            return Err(CellError::NotWhole);
        }
        // i64 has at most 19 digits.
        if (last + 1 - first) as i64 + scale > 19 {
            return Err(CellError::OutOfRange(FieldType::Int));
        }
        let mut v: i128 = 0;
        for i in first..=last {
            v = v * 10 + i128::from(digit(i) - b'0');
        }
        v *= 10i128.pow(scale as u32);
        if self.negative {
            v = -v;
        }
        i64::try_from(v).map_err(|_| CellError::OutOfRange(FieldType::Int))
    }
}

/// A set of null markers, matched fast: most cells are rejected by their
/// first byte without comparing against any marker.
///
/// For an int or float field, a marker that reads as the field's type
/// (`0`, `-1`, `0.0`) is a numeric marker, compared by value after the
/// cell is read, so `0`, `0.00`, `-0` and `0e0` are all the marker `0`.
/// Other markers (`NA`, `N/A`, `""`) are compared as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Nulls {
    lowered: Vec<Vec<u8>>,
    first: [bool; 256],
    empty: bool,
    values: Vec<Val>,
}

impl Nulls {
    /// The text markers, lowered (for the language server's hover).
    pub fn markers(&self) -> Vec<String> {
        self.lowered
            .iter()
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .collect()
    }

    /// Markers all compared as text (for string and bool fields).
    pub fn new<S: AsRef<str>>(markers: &[S]) -> Nulls {
        Nulls::for_field(FieldType::String, markers)
    }

    /// The markers of a field of type `ty`: numeric ones by value for int
    /// and float fields, the rest as text.
    pub fn for_field<S: AsRef<str>>(ty: FieldType, markers: &[S]) -> Nulls {
        let mut values = Vec::new();
        let mut lowered: Vec<Vec<u8>> = Vec::new();
        for m in markers {
            let m = m.as_ref().trim();
            let value = match ty {
                FieldType::Int => parse_int(m.as_bytes()).ok().map(Val::Int),
                FieldType::Float => parse_float(m.as_bytes()).ok().map(Val::Float),
                FieldType::Bool | FieldType::String => None,
            };
            match value {
                Some(v) => values.push(v),
                None => lowered.push(m.to_ascii_lowercase().into_bytes()),
            }
        }
        let mut first = [false; 256];
        for m in &lowered {
            if let Some(&b) = m.first() {
                first[b as usize] = true;
            }
        }
        Nulls {
            empty: lowered.iter().any(Vec::is_empty),
            lowered,
            first,
            values,
        }
    }

    /// Whether the cell's text is one of the text markers.
    #[inline]
    pub fn matches_text(&self, cell: &[u8]) -> bool {
        let c = cell.trim_ascii();
        match c.first() {
            None => self.empty,
            Some(b) if !self.first[b.to_ascii_lowercase() as usize] => false,
            Some(_) => self.lowered.iter().any(|m| m.eq_ignore_ascii_case(c)),
        }
    }

    /// Whether a value read from a cell equals one of the numeric markers
    /// (`-0.0` equals `0.0`).
    #[inline]
    pub fn matches_value(&self, v: Val) -> bool {
        !self.values.is_empty() && self.values.contains(&v)
    }

    /// The text markers, trimmed and ASCII-lowered (the SQL compiler
    /// matches them in the query).
    pub fn text_markers(&self) -> &[Vec<u8>] {
        &self.lowered
    }

    /// The numeric markers, matched by value after a cell is read.
    pub fn value_markers(&self) -> &[Val] {
        &self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(ty: FieldType, nulls: &[&str]) -> (FieldType, Nulls) {
        (ty, Nulls::for_field(ty, nulls))
    }

    /// Shadows the module's `parse_cell`: the tests name a field once.
    fn parse_cell(f: &(FieldType, Nulls), cell: &[u8]) -> Result<Cell, CellError> {
        super::parse_cell(f.0, &f.1, cell)
    }

    #[test]
    fn bools_accept_words_digits_and_counts() {
        let f = field(FieldType::Bool, &[""]);
        for (cell, want) in [
            ("True", true),
            ("no", false),
            ("YES", true),
            ("0", false),
            ("7.0", true),
            ("0.0", false),
            ("-0", false),
            ("0e5", false),
            ("1e-400", true),
        ] {
            assert_eq!(
                parse_cell(&f, cell.as_bytes()),
                Ok(Cell::Value(Val::Bool(want))),
                "{cell}"
            );
        }
        assert_eq!(parse_cell(&f, b"maybe"), Err(CellError::NotABool));
        assert_eq!(parse_cell(&f, b""), Ok(Cell::Missing));
    }

    #[test]
    fn bool_cells_reject_inf_nan_and_out_of_range_numbers_like_float_cells() {
        let b = field(FieldType::Bool, &[]);
        let f = field(FieldType::Float, &[]);
        for cell in ["inf", "-infinity", "NaN"] {
            assert_eq!(parse_cell(&b, cell.as_bytes()), Err(CellError::NotABool));
            assert_eq!(
                parse_cell(&f, cell.as_bytes()),
                Err(CellError::NotANumber(FieldType::Float))
            );
        }
        assert_eq!(
            parse_cell(&b, b"1e400"),
            Err(CellError::OutOfRange(FieldType::Bool))
        );
        assert_eq!(
            parse_cell(&f, b"1e400"),
            Err(CellError::OutOfRange(FieldType::Float))
        );
    }

    #[test]
    fn ints_accept_integral_decimals_only() {
        let f = field(FieldType::Int, &[]);
        assert_eq!(parse_cell(&f, b"6144.0"), Ok(Cell::Value(Val::Int(6144))));
        assert_eq!(parse_cell(&f, b" 42 "), Ok(Cell::Value(Val::Int(42))));
        assert!(parse_cell(&f, b"2.5").is_err());
        assert!(parse_cell(&f, b"1e30").is_err());
    }

    #[test]
    fn int_cells_are_read_exactly_not_through_a_float() {
        use CellError::*;
        let int = FieldType::Int;
        let cases: &[(&str, Result<i64, CellError>)] = &[
            ("6144", Ok(6144)),
            ("6144.0", Ok(6144)),
            ("6144.000", Ok(6144)),
            ("+6144.", Ok(6144)),
            ("6.144e3", Ok(6144)),
            ("1e3", Ok(1000)),
            ("1E+3", Ok(1000)),
            ("614400e-2", Ok(6144)),
            ("-0", Ok(0)),
            ("-0.0", Ok(0)),
            ("0e999999999999999999999", Ok(0)),
            ("000123", Ok(123)),
            (".0", Ok(0)),
            ("9007199254740993.0", Ok(9_007_199_254_740_993)),
            ("9007199254740993", Ok(9_007_199_254_740_993)),
            ("9223372036854775807.0", Ok(i64::MAX)),
            ("-9223372036854775808.0", Ok(i64::MIN)),
            ("-9.223372036854775808e18", Ok(i64::MIN)),
            ("6144.00000000000001", Err(NotWhole)),
            ("2.5", Err(NotWhole)),
            ("6144.5", Err(NotWhole)),
            ("1e-1", Err(NotWhole)),
            ("1e-999999999999999999999", Err(NotWhole)),
            ("9223372036854775808", Err(OutOfRange(int))),
            ("-9223372036854775809", Err(OutOfRange(int))),
            ("99999999999999999999", Err(OutOfRange(int))),
            ("1e19", Err(OutOfRange(int))),
            ("1e30", Err(OutOfRange(int))),
            ("1e999999999999999999999", Err(OutOfRange(int))),
            ("", Err(NotANumber(int))),
            ("abc", Err(NotANumber(int))),
            ("inf", Err(NotANumber(int))),
            ("nan", Err(NotANumber(int))),
            ("1_000", Err(NotANumber(int))),
            ("0x10", Err(NotANumber(int))),
            (".", Err(NotANumber(int))),
            ("-", Err(NotANumber(int))),
            ("1e", Err(NotANumber(int))),
            ("1e+", Err(NotANumber(int))),
            ("e3", Err(NotANumber(int))),
            ("1.2.3", Err(NotANumber(int))),
            ("--1", Err(NotANumber(int))),
            ("1 2", Err(NotANumber(int))),
        ];
        for (cell, want) in cases {
            assert_eq!(&parse_int(cell.as_bytes()), want, "{cell:?}");
        }
        assert_eq!(parse_int(b"\xff1"), Err(NotANumber(int)));
    }

    #[test]
    fn float_cells_take_rust_decimal_syntax_without_inf_or_nan() {
        use CellError::*;
        let float = FieldType::Float;
        let cases: &[(&str, Result<f64, CellError>)] = &[
            ("24", Ok(24.0)),
            (" 24.5 ", Ok(24.5)),
            (".5", Ok(0.5)),
            ("5.", Ok(5.0)),
            ("+2E-3", Ok(0.002)),
            ("1.7976931348623157e308", Ok(f64::MAX)),
            ("1e-400", Ok(0.0)),
            ("1e309", Err(OutOfRange(float))),
            ("-1e309", Err(OutOfRange(float))),
            ("inf", Err(NotANumber(float))),
            ("-Infinity", Err(NotANumber(float))),
            ("NaN", Err(NotANumber(float))),
            ("24GB", Err(NotANumber(float))),
            ("", Err(NotANumber(float))),
        ];
        for (cell, want) in cases {
            assert_eq!(&parse_float(cell.as_bytes()), want, "{cell:?}");
        }
    }

    #[test]
    fn cell_errors_say_what_is_wrong() {
        let say = |e: CellError, _cell: &str| e.to_string();
        assert_eq!(
            say(CellError::OutOfRange(FieldType::Float), "1e309"),
            "the number is out of range (floats reach about 1.8e308)"
        );
        assert_eq!(say(CellError::NotWhole, " 6144.5 "), "not a whole number");
        assert_eq!(
            say(
                CellError::OutOfRange(FieldType::Int),
                "99999999999999999999"
            ),
            "the number is out of range (-9223372036854775808 to 9223372036854775807)"
        );
        assert!(say(CellError::NotANumber(FieldType::Float), "x").starts_with("not a number"));
    }

    #[test]
    fn floats_and_null_markers() {
        let f = field(FieldType::Float, &["", "NA", "0.0"]);
        assert_eq!(parse_cell(&f, b"80.0"), Ok(Cell::Value(Val::Float(80.0))));
        assert_eq!(parse_cell(&f, b"na"), Ok(Cell::Missing));
        assert_eq!(parse_cell(&f, b"0.0"), Ok(Cell::Missing));
        assert!(parse_cell(&f, b"inf").is_err());
        assert!(parse_cell(&f, b"24GB").is_err());
        let s = field(FieldType::String, &[]);
        assert!(parse_cell(&s, b"\xff").is_err());
    }

    #[test]
    fn numeric_null_markers_match_every_spelling_of_their_value() {
        let f = field(FieldType::Float, &["", "NA", "0"]);
        for cell in ["0", "0.0", "0.00", "00", "-0", "0e0", "+0.", " 0 "] {
            assert_eq!(parse_cell(&f, cell.as_bytes()), Ok(Cell::Missing), "{cell}");
        }
        assert_eq!(parse_cell(&f, b"0.5"), Ok(Cell::Value(Val::Float(0.5))));
        let i = field(FieldType::Int, &["-1", "N/A"]);
        for cell in ["-1", "-1.0", "-1e0", "-0.1e1", "n/a"] {
            assert_eq!(parse_cell(&i, cell.as_bytes()), Ok(Cell::Missing), "{cell}");
        }
        assert_eq!(parse_cell(&i, b"1"), Ok(Cell::Value(Val::Int(1))));
        // A string field's markers stay text: "0.0" is not "0".
        let s = field(FieldType::String, &["0"]);
        assert_eq!(parse_cell(&s, b"0"), Ok(Cell::Missing));
        assert_eq!(parse_cell(&s, b"0.0"), Ok(Cell::Text));
    }
}

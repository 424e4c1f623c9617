//! Reading one CSV cell as its field's type.

use crate::config::parse_bool;
use crate::eval::value::Val;
use crate::schema::FieldDef;
use crate::types::{FieldType, I64_LIMIT};

/// Why a cell could not be read: what the field expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellError {
    pub expected: &'static str,
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

/// Parse a cell: a null marker is missing; otherwise the text must read as
/// the field's type.
pub fn parse_cell(field: &FieldDef, cell: &[u8]) -> Result<Cell, CellError> {
    if field.is_null(cell) {
        return Ok(Cell::Missing);
    }
    let value = match field.ty {
        FieldType::Float => parse_float(cell).map(Val::Float).ok_or(CellError {
            expected: "a number (such as 24 or 24.5)",
        }),
        FieldType::Int => parse_int(cell).map(Val::Int).ok_or(CellError {
            expected: "a whole number (such as 6144 or 6144.0)",
        }),
        FieldType::Bool => parse_bool_cell(cell).map(Val::Bool).ok_or(CellError {
            expected: "a bool (true/false, yes/no, 1/0, or a count where non-zero is true)",
        }),
        FieldType::String => {
            return match std::str::from_utf8(cell) {
                Ok(_) => Ok(Cell::Text),
                Err(_) => Err(CellError {
                    expected: "UTF-8 text",
                }),
            };
        }
    };
    value.map(Cell::Value)
}

fn text(cell: &[u8]) -> Option<&str> {
    std::str::from_utf8(cell).ok().map(str::trim)
}

pub fn parse_float(cell: &[u8]) -> Option<f64> {
    let f: f64 = text(cell)?.parse().ok()?;
    f.is_finite().then_some(f)
}

/// Ints accept integral decimals (`6144.0`) as real data writes them.
pub fn parse_int(cell: &[u8]) -> Option<i64> {
    let t = text(cell)?;
    if let Ok(i) = t.parse::<i64>() {
        return Some(i);
    }
    let f: f64 = t.parse().ok()?;
    let in_range = (-I64_LIMIT..I64_LIMIT).contains(&f);
    (f.fract() == 0.0 && in_range).then_some(f as i64)
}

/// true/false/yes/no/1/0 in any case, or a number: non-zero is true
/// (`mig_capable` holds a MIG instance count).
pub fn parse_bool_cell(cell: &[u8]) -> Option<bool> {
    let t = text(cell)?;
    parse_bool(t).or_else(|| {
        let f: f64 = t.parse().ok()?;
        (!f.is_nan()).then_some(f != 0.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(ty: FieldType, nulls: &[&str]) -> FieldDef {
        FieldDef {
            name: "f".into(),
            ty,
            columns: vec!["f".into()],
            nulls: crate::schema::Nulls::new(nulls),
        }
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
        ] {
            assert_eq!(
                parse_cell(&f, cell.as_bytes()),
                Ok(Cell::Value(Val::Bool(want))),
                "{cell}"
            );
        }
        assert!(parse_cell(&f, b"maybe").is_err());
        assert_eq!(parse_cell(&f, b""), Ok(Cell::Missing));
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
    fn floats_and_null_markers() {
        let f = field(FieldType::Float, &["", "NA", "0.0"]);
        assert_eq!(parse_cell(&f, b"80.0"), Ok(Cell::Value(Val::Float(80.0))));
        assert_eq!(parse_cell(&f, b"na"), Ok(Cell::Missing));
        assert_eq!(parse_cell(&f, b"0.0"), Ok(Cell::Missing));
        assert_eq!(parse_cell(&f, b"0"), Ok(Cell::Value(Val::Float(0.0))));
        assert!(parse_cell(&f, b"inf").is_err());
        assert!(parse_cell(&f, b"24GB").is_err());
        let s = field(FieldType::String, &[]);
        assert!(parse_cell(&s, b"\xff").is_err());
    }
}

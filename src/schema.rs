//! The row schema: each field's type, the CSV columns it may come from and
//! the cell texts that mean "missing". Loaded from YAML (typed, serde).

use crate::types::FieldType;
use crate::value::Val;
use serde::Deserialize;
use std::sync::Arc;

/// The built-in listing schema, `resources/listing_schema.yaml`.
pub const LISTING_SCHEMA_YAML: &str = include_str!("../resources/listing_schema.yaml");

#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub ty: FieldType,
    /// Candidate column names, first present wins.
    pub columns: Vec<String>,
    /// The cells that mean missing: text markers (trimmed, ASCII case
    /// ignored) and, for int and float fields, numeric markers.
    pub nulls: Nulls,
}

impl FieldDef {
    /// Whether a cell is one of this field's null markers: its text, or
    /// (for a numeric field) a number equal to a numeric marker.
    pub fn is_null(&self, cell: &[u8]) -> bool {
        matches!(
            crate::data::cell::parse_cell(self, cell),
            Ok(crate::data::cell::Cell::Missing)
        )
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
                FieldType::Int => crate::data::cell::parse_int(m.as_bytes())
                    .ok()
                    .map(Val::Int),
                FieldType::Float => crate::data::cell::parse_float(m.as_bytes())
                    .ok()
                    .map(Val::Float),
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub fields: Vec<FieldDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaFile {
    #[serde(default = "default_nulls")]
    nulls: Vec<String>,
    /// A mapping, kept as one so the file's field order is the schema's.
    fields: serde_yaml::Mapping,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldFile {
    #[serde(rename = "type")]
    ty: FieldType,
    #[serde(default)]
    columns: Vec<String>,
    nulls: Option<Vec<String>>,
}

fn default_nulls() -> Vec<String> {
    ["", "NA", "N/A", "null", "None"].map(String::from).to_vec()
}

#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", place_suffix(.at))]
pub struct SchemaError {
    pub file: String,
    pub message: String,
    /// Where in the file, when YAML says (for `lint --format json`).
    pub at: Option<crate::config::Place>,
}

/// `:line:column` after the file's name, as editors read a place.
fn place_suffix(at: &Option<crate::config::Place>) -> String {
    at.map(|p| format!(":{}:{}", p.line, p.column))
        .unwrap_or_default()
}

impl Schema {
    /// Parse a schema YAML; `file` names it in errors.
    pub fn from_yaml(file: &str, text: &str) -> Result<Schema, SchemaError> {
        let parsed: SchemaFile = serde_yaml::from_str(text).map_err(|e| SchemaError {
            file: file.to_string(),
            message: e.to_string(),
            at: crate::config::Place::of_yaml_error(&e),
        })?;
        let error = |message: String| SchemaError {
            file: file.to_string(),
            message,
            at: None,
        };
        let mut fields = Vec::with_capacity(parsed.fields.len());
        for (key, value) in parsed.fields {
            let name = key
                .as_str()
                .ok_or_else(|| error(format!("fields: field name {key:?} is not a string")))?
                .to_string();
            let f: FieldFile =
                serde_yaml::from_value(value).map_err(|e| error(format!("fields.{name}: {e}")))?;
            fields.push(FieldDef {
                columns: if f.columns.is_empty() {
                    vec![name.clone()]
                } else {
                    f.columns
                },
                nulls: Nulls::for_field(f.ty, &f.nulls.unwrap_or_else(|| parsed.nulls.clone())),
                ty: f.ty,
                name,
            });
        }
        Ok(Schema { fields })
    }

    /// The built-in listing schema.
    pub fn listing() -> Arc<Schema> {
        static LISTING: std::sync::OnceLock<Arc<Schema>> = std::sync::OnceLock::new();
        LISTING
            .get_or_init(|| {
                Arc::new(
                    Schema::from_yaml("resources/listing_schema.yaml", LISTING_SCHEMA_YAML)
                        .unwrap_or_else(|e| panic!("built-in schema is invalid: {e}")),
                )
            })
            .clone()
    }

    pub fn slot(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    pub fn field(&self, slot: usize) -> &FieldDef {
        &self.fields[slot]
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_schema_loads_with_aliases_and_zero_nulls() {
        let s = Schema::listing();
        let tdp = s.field(s.slot("tdp_watts").unwrap());
        assert_eq!(tdp.columns, ["tdp_watts", "tdp_w"]);
        assert!(tdp.is_null(b"0.0") && tdp.is_null(b" na ") && !tdp.is_null(b"300"));
        let price = s.field(s.slot("price").unwrap());
        assert!(price.is_null(b"") && !price.is_null(b"0"));
        assert_eq!(s.fields[0].name, "model");
    }

    #[test]
    fn zero_vram_and_tdp_are_unknown_however_the_zero_is_written() {
        let s = Schema::listing();
        for name in ["vram_gb", "tdp_watts"] {
            let f = s.field(s.slot(name).unwrap());
            for cell in ["0", "0.0", "0.00", "00", "-0", "0e0", " -0.0E5 "] {
                assert!(f.is_null(cell.as_bytes()), "{name} {cell:?}");
            }
            assert!(!f.is_null(b"0.5") && !f.is_null(b"x"), "{name}");
        }
        // Text markers of a numeric field still match as text.
        let e = Schema::from_yaml(
            "s.yaml",
            "fields:\n  a: { type: int, nulls: [\"-1\", unknown] }\n",
        )
        .unwrap();
        let a = &e.fields[0];
        assert!(a.is_null(b"-1.0") && a.is_null(b"UNKNOWN") && !a.is_null(b"1"));
    }

    #[test]
    fn unknown_keys_and_types_are_rejected_with_the_file_name() {
        let e = Schema::from_yaml("s.yaml", "fields:\n  a: { type: decimal }\n").unwrap_err();
        assert!(e.to_string().starts_with("s.yaml: "), "{e}");
        assert!(e.to_string().contains("decimal"), "{e}");
        let e =
            Schema::from_yaml("s.yaml", "fields:\n  a: { type: int, colums: [x] }\n").unwrap_err();
        assert!(e.to_string().contains("colums"), "{e}");
    }
}

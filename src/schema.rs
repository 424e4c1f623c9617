//! The row schema: each field's type, the CSV columns it may come from and
//! the cell texts that mean "missing". Loaded from YAML (typed, serde).

/// A field's type, as a schema declares it (`type: int`).
pub use crate::types::FieldType;
use serde::Deserialize;
use std::sync::Arc;

/// The built-in listing schema, `resources/listing_schema.yaml`.
pub const LISTING_SCHEMA_YAML: &str = include_str!("../resources/listing_schema.yaml");
pub const LISTING_SCHEMA_NAME: &str = "resources/listing_schema.yaml";

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
            crate::cell::parse_cell(self.ty, &self.nulls, cell),
            Ok(crate::cell::Cell::Missing)
        )
    }
}

pub use crate::cell::Nulls;

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

/// The null markers of a schema file without a top-level `nulls`, and of a
/// rule file's `field` declaration without `nulls`.
pub fn default_nulls() -> Vec<String> {
    ["", "NA", "N/A", "null", "None"].map(String::from).to_vec()
}

/// A schema file that cannot be used: the file, what is wrong, and where
/// when YAML says.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {what}", place_suffix(.at))]
pub struct SchemaError {
    pub file: String,
    /// What is wrong.
    pub what: SchemaErrorKind,
    /// Where in the file, when YAML says (for `lint --format json`).
    pub at: Option<crate::config::Place>,
}

/// What is wrong with a schema file; its display is the error's message.
/// New kinds may be added.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaErrorKind {
    /// The text is not YAML of the schema's shape (YAML's own message).
    #[error("{0}")]
    Yaml(String),
    /// A key under `fields:` that is not a string (written as YAML's value).
    #[error("fields: field name {0} is not a string")]
    FieldNameNotString(String),
    /// A field's definition is wrong (an unknown key or type): YAML's message.
    #[error("fields.{field}: {detail}")]
    Field { field: String, detail: String },
}

/// `:line:column` after the file's name, as editors read a place.
fn place_suffix(at: &Option<crate::config::Place>) -> String {
    at.map(|p| format!(":{}:{}", p.line, p.column))
        .unwrap_or_default()
}

/// One layer of a schema: the fields a file declares (a `--schema` file,
/// the project file's `schema:`), to lay over the fields below it, field by
/// field: a field it declares replaces the one of that name, whole (type,
/// columns and nulls), or is added after the others.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaLayer {
    /// The file's name, as messages and `glyphsieve config` show it.
    pub name: String,
    pub fields: Vec<LayerField>,
}

/// A field as a schema layer declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerField {
    pub def: FieldDef,
    /// Its null markers as written (or inherited from the file's `nulls`).
    pub nulls: Vec<String>,
    /// The line of its name in the file, when known.
    pub line: Option<u32>,
}

impl SchemaLayer {
    /// Parse a schema file; `file` names it in errors.
    pub fn from_yaml(file: &str, text: &str) -> Result<SchemaLayer, SchemaError> {
        let parsed: SchemaFile = serde_yaml::from_str(text).map_err(|e| SchemaError {
            file: file.to_string(),
            what: SchemaErrorKind::Yaml(e.to_string()),
            at: crate::config::Place::of_yaml_error(&e),
        })?;
        let places = crate::config::key_places(text);
        SchemaLayer::build(file, parsed, &places, "")
    }

    /// The schema part of a bigger YAML file (the project file's `schema:`):
    /// `places` are the file's key places, `prefix` the part's path in it.
    pub fn from_value(
        file: &str,
        value: serde_yaml::Value,
        places: &std::collections::HashMap<String, crate::config::KeySpan>,
        prefix: &str,
    ) -> Result<SchemaLayer, SchemaError> {
        let parsed: SchemaFile = serde_yaml::from_value(value).map_err(|e| SchemaError {
            file: file.to_string(),
            what: SchemaErrorKind::Yaml(format!("{prefix}{e}")),
            at: places.get(prefix.trim_end_matches('.')).map(|k| k.place),
        })?;
        SchemaLayer::build(file, parsed, places, prefix)
    }

    fn build(
        file: &str,
        parsed: SchemaFile,
        places: &std::collections::HashMap<String, crate::config::KeySpan>,
        prefix: &str,
    ) -> Result<SchemaLayer, SchemaError> {
        let place = |name: &str| {
            places
                .get(&format!("{prefix}fields.{name}"))
                .map(|k| k.place)
        };
        let error = |what: SchemaErrorKind, at| SchemaError {
            file: file.to_string(),
            what,
            at,
        };
        let mut fields = Vec::with_capacity(parsed.fields.len());
        for (key, value) in parsed.fields {
            let Some(name) = key.as_str().map(str::to_string) else {
                let what = SchemaErrorKind::FieldNameNotString(format!("{key:?}"));
                return Err(error(what, None));
            };
            let f: FieldFile = serde_yaml::from_value(value).map_err(|e| {
                let what = SchemaErrorKind::Field {
                    field: name.clone(),
                    detail: e.to_string(),
                };
                error(what, place(&name))
            })?;
            let nulls = f.nulls.unwrap_or_else(|| parsed.nulls.clone());
            let line = place(&name).map(|p| p.line);
            fields.push(LayerField {
                def: FieldDef {
                    columns: if f.columns.is_empty() {
                        vec![name.clone()]
                    } else {
                        f.columns
                    },
                    nulls: Nulls::for_field(f.ty, &nulls),
                    ty: f.ty,
                    name,
                },
                nulls,
                line,
            });
        }
        Ok(SchemaLayer {
            name: file.to_string(),
            fields,
        })
    }
}

impl Schema {
    /// Parse a schema YAML; `file` names it in errors.
    pub fn from_yaml(file: &str, text: &str) -> Result<Schema, SchemaError> {
        let layer = SchemaLayer::from_yaml(file, text)?;
        Ok(Schema {
            fields: layer.fields.into_iter().map(|f| f.def).collect(),
        })
    }

    /// Lay a layer's fields over these: a field of the same name is
    /// replaced in its place (its type may change: the layer is the
    /// user's), a new one is added at the end.
    pub fn overlay(&mut self, layer: &SchemaLayer) {
        for f in &layer.fields {
            match self.slot(&f.def.name) {
                Some(i) => self.fields[i] = f.def.clone(),
                None => self.fields.push(f.def.clone()),
            }
        }
    }

    /// The built-in listing schema as a layer (for `glyphsieve config`).
    pub fn listing_layer() -> SchemaLayer {
        SchemaLayer::from_yaml(LISTING_SCHEMA_NAME, LISTING_SCHEMA_YAML)
            .unwrap_or_else(|e| panic!("built-in schema is invalid: {e}"))
    }

    /// The built-in listing schema.
    pub fn listing() -> Arc<Schema> {
        static LISTING: std::sync::OnceLock<Arc<Schema>> = std::sync::OnceLock::new();
        LISTING
            .get_or_init(|| {
                Arc::new(
                    Schema::from_yaml(LISTING_SCHEMA_NAME, LISTING_SCHEMA_YAML)
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
        // Located at the field's name.
        assert!(e.to_string().starts_with("s.yaml:2:3: "), "{e}");
        assert!(e.to_string().contains("decimal"), "{e}");
        let e =
            Schema::from_yaml("s.yaml", "fields:\n  a: { type: int, colums: [x] }\n").unwrap_err();
        assert!(e.to_string().contains("colums"), "{e}");
    }
}

//! A typed row: one value per schema field, built from CSV cells by the data
//! path or in code from a typed struct, plus the scratch space compiled
//! rules evaluate in.

use super::value::Value;
use super::vm::Scratch;
use crate::schema::Schema;
use crate::types::FieldType;
use crate::value::{Pool, StrRef, Val};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::sync::Arc;

pub struct Row {
    schema: Arc<Schema>,
    cells: Vec<Val>,
    text: Vec<u8>,
    pub(crate) scratch: RefCell<Scratch>,
}

/// Setting a field to a value of the wrong type, or a field the schema lacks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RowError {
    #[error("the row schema has no field `{0}`")]
    UnknownField(String),
    #[error("field `{field}`: {value} is not a finite number")]
    NotFinite { field: String, value: f64 },
    #[error("field `{field}` is {expected}, not {found:?}")]
    WrongType {
        field: String,
        expected: FieldType,
        found: Value,
    },
}

impl Row {
    /// A row with every field missing.
    pub fn new(schema: Arc<Schema>) -> Row {
        let n = schema.fields.len();
        Row {
            schema,
            cells: vec![Val::Missing; n],
            text: Vec::new(),
            scratch: RefCell::new(Scratch::default()),
        }
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// Make every field missing again, keeping the buffers (the data path
    /// reuses one row per record, so it does not allocate per record).
    pub fn clear(&mut self) {
        self.cells.fill(Val::Missing);
        self.text.clear();
        self.scratch.get_mut().next_row();
    }

    /// Set a field by name; the value must have the field's type (an int is
    /// accepted for a float field).
    pub fn set(&mut self, field: &str, value: impl Into<Value>) -> Result<&mut Row, RowError> {
        let slot = self
            .schema
            .slot(field)
            .ok_or_else(|| RowError::UnknownField(field.to_string()))?;
        let ty = self.schema.field(slot).ty;
        let value = value.into();
        if let Value::Float(f) = value
            && !f.is_finite()
        {
            return Err(RowError::NotFinite {
                field: field.to_string(),
                value: f,
            });
        }
        let val = match (ty, value) {
            (_, Value::Missing) => Val::Missing,
            (FieldType::Bool, Value::Bool(b)) => Val::Bool(b),
            (FieldType::Int, Value::Int(i)) => Val::Int(i),
            (FieldType::Float, Value::Float(f)) => Val::Float(f),
            (FieldType::Float, Value::Int(i)) => Val::Float(i as f64),
            (FieldType::String, Value::Str(s)) => {
                self.set_text(slot, s.as_bytes());
                self.scratch.get_mut().next_row();
                return Ok(self);
            }
            (expected, found) => {
                return Err(RowError::WrongType {
                    field: field.to_string(),
                    expected,
                    found,
                });
            }
        };
        self.set_slot(slot, val);
        self.scratch.get_mut().next_row();
        Ok(self)
    }

    /// Forget the results compiled rules computed for this row, so the next
    /// evaluation computes them again (`set` and `clear` do this already).
    pub fn forget_results(&mut self) {
        self.scratch.get_mut().next_row();
    }

    pub(crate) fn set_slot(&mut self, slot: usize, val: Val) {
        self.cells[slot] = val;
    }

    /// Set a string field from bytes (the data path checks they are UTF-8).
    pub(crate) fn set_text(&mut self, slot: usize, bytes: &[u8]) {
        let start = self.text.len() as u32;
        self.text.extend_from_slice(bytes);
        self.cells[slot] = Val::Str(StrRef {
            pool: Pool::Row,
            start,
            len: bytes.len() as u32,
        });
    }

    pub(crate) fn cell(&self, slot: usize) -> Val {
        self.cells[slot]
    }

    pub(crate) fn text(&self) -> &[u8] {
        &self.text
    }

    /// A field's value by name (`None` if the schema has no such field).
    pub fn get(&self, field: &str) -> Option<Value> {
        let slot = self.schema.slot(field)?;
        Some(match self.cells[slot] {
            Val::Missing => Value::Missing,
            Val::Bool(b) => Value::Bool(b),
            Val::Int(i) => Value::Int(i),
            Val::Float(f) => Value::Float(f),
            Val::Str(s) => {
                let bytes = &self.text[s.start as usize..(s.start + s.len) as usize];
                Value::Str(String::from_utf8_lossy(bytes).into_owned())
            }
            Val::Enum(_) => Value::Missing,
        })
    }

    /// A numeric field as f64 (ints widen), `None` when missing.
    pub fn number(&self, field: &str) -> Option<f64> {
        match self.get(field)? {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    /// A bool field, `None` when missing.
    pub fn flag(&self, field: &str) -> Option<bool> {
        match self.get(field)? {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Build a row of the built-in listing schema from a typed listing.
    pub fn from_listing(listing: &Listing) -> Row {
        let mut row = Row::new(Schema::listing());
        let l = listing.clone();
        let fields: [(&str, Value); 13] = [
            ("model", l.model.into()),
            ("condition", l.condition.into()),
            ("seller", l.seller.into()),
            ("price", l.price.into()),
            ("vram_gb", l.vram_gb.into()),
            ("tdp_watts", l.tdp_watts.into()),
            ("mig_support", l.mig_support.into()),
            ("nvlink", l.nvlink.into()),
            ("slots", l.slots.into()),
            ("form_factor", l.form_factor.into()),
            ("generation", l.generation.into()),
            ("cuda_cores", l.cuda_cores.into()),
            ("pcie_generation", l.pcie_generation.into()),
        ];
        for (name, value) in fields {
            // Every name is in the built-in schema with the matching type.
            if let Err(e) = row.set(name, value) {
                unreachable!("listing field does not fit the built-in schema: {e}");
            }
        }
        row
    }
}

/// One GPU listing, typed: the Rust counterpart of the seed's Pydantic model.
/// `None` is a missing value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    pub model: String,
    pub condition: Option<String>,
    pub seller: Option<String>,
    pub price: Option<f64>,
    pub vram_gb: Option<f64>,
    pub tdp_watts: Option<f64>,
    pub mig_support: Option<bool>,
    pub nvlink: Option<bool>,
    pub slots: Option<i64>,
    pub form_factor: Option<String>,
    pub generation: Option<String>,
    pub cuda_cores: Option<i64>,
    pub pcie_generation: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_checks_names_and_types() {
        let mut row = Row::new(Schema::listing());
        row.set("vram_gb", 24).unwrap();
        assert_eq!(row.get("vram_gb"), Some(Value::Float(24.0)));
        assert_eq!(
            row.set("nope", 1).err(),
            Some(RowError::UnknownField("nope".into()))
        );
        assert!(matches!(
            row.set("mig_support", 3.5),
            Err(RowError::WrongType { .. })
        ));
        assert!(matches!(
            row.set("vram_gb", f64::NAN),
            Err(RowError::NotFinite { .. })
        ));
        row.clear();
        assert_eq!(row.get("vram_gb"), Some(Value::Missing));
    }

    #[test]
    fn from_listing_fills_the_listing_schema() {
        let row = Row::from_listing(&Listing {
            model: "H100".into(),
            vram_gb: Some(80.0),
            mig_support: Some(true),
            ..Listing::default()
        });
        assert_eq!(row.get("model"), Some(Value::Str("H100".into())));
        assert_eq!(row.number("vram_gb"), Some(80.0));
        assert_eq!(row.flag("mig_support"), Some(true));
        assert_eq!(row.number("tdp_watts"), None);
    }
}

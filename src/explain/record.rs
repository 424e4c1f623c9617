//! One CSV record as explain reads it: the columns each field comes from
//! (as eval maps the header), the typed row built from the cells through
//! the cell parser, and what each cell read as.

use crate::cell::{Cell, CellError, parse_cell};
use crate::eval::Row;
use crate::schema::Schema;
use crate::types::FieldType;
use std::sync::Arc;

/// A data record: its cells (unescaped), its 1-based data row number and
/// the input line it starts on.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub cells: Vec<Vec<u8>>,
    pub row: u64,
    pub line: u64,
}

impl Record {
    pub(crate) fn cell(&self, column: usize) -> &[u8] {
        self.cells.get(column).map_or(&[][..], Vec::as_slice)
    }

    /// The same record with one cell's text replaced.
    pub(crate) fn with_cell(&self, column: usize, text: &[u8]) -> Record {
        let mut r = self.clone();
        if let Some(c) = r.cells.get_mut(column) {
            *c = text.to_vec();
        }
        r
    }
}

/// A field read from a column.
#[derive(Debug, Clone)]
pub(crate) struct FieldRead {
    pub slot: usize,
    pub field: String,
    pub column: usize,
    pub column_name: String,
}

/// What a cell read as.
#[derive(Debug, Clone)]
pub(crate) struct CellNote {
    pub field: String,
    pub column: usize,
    pub column_name: String,
    pub text: String,
    /// The cell is missing: a null marker, or (with `error`) unreadable.
    pub missing: bool,
    pub error: Option<CellError>,
    pub ty: FieldType,
}

/// The fields read and their columns.
#[derive(Debug, Clone)]
pub(crate) struct Reads {
    pub schema: Arc<Schema>,
    pub fields: Vec<FieldRead>,
}

impl Reads {
    /// Map `slots` to columns of `header` as eval does (a field's first
    /// column present wins). `Err`: the field without a column, and the
    /// columns it may come from.
    pub(crate) fn new(
        schema: &Arc<Schema>,
        header: &[String],
        slots: &[usize],
    ) -> Result<Reads, (String, String)> {
        let mut fields = Vec::with_capacity(slots.len());
        for &slot in slots {
            let f = schema.field(slot);
            let found = f
                .columns
                .iter()
                .find_map(|c| header.iter().position(|h| h == c));
            match found {
                Some(column) => fields.push(FieldRead {
                    slot,
                    field: f.name.clone(),
                    column,
                    column_name: header[column].clone(),
                }),
                None => return Err((f.name.clone(), f.columns.join(", "))),
            }
        }
        Ok(Reads {
            schema: schema.clone(),
            fields,
        })
    }

    pub(crate) fn of_slot(&self, slot: usize) -> Option<&FieldRead> {
        self.fields.iter().find(|f| f.slot == slot)
    }

    /// The typed row of `record`; a cell that does not read as its type is
    /// missing (as `--lenient` reads it), and its note says why.
    pub(crate) fn row(&self, record: &Record) -> (Row, Vec<CellNote>) {
        let mut row = Row::new(self.schema.clone());
        let mut notes = Vec::with_capacity(self.fields.len());
        for f in &self.fields {
            let def = self.schema.field(f.slot);
            let cell = record.cell(f.column);
            let mut note = CellNote {
                field: f.field.clone(),
                column: f.column,
                column_name: f.column_name.clone(),
                text: String::from_utf8_lossy(cell).into_owned(),
                missing: false,
                error: None,
                ty: def.ty,
            };
            match parse_cell(def.ty, &def.nulls, cell) {
                Ok(Cell::Text) => row.set_text(f.slot, cell),
                Ok(Cell::Value(v)) => row.set_slot(f.slot, v),
                Ok(Cell::Missing) => note.missing = true,
                Err(e) => {
                    note.missing = true;
                    note.error = Some(e);
                }
            }
            notes.push(note);
        }
        row.forget_results();
        (row, notes)
    }

    /// A cell text that reads as missing for the field in `slot`: empty
    /// when that is a null marker, else a common marker the schema lists.
    pub(crate) fn null_marker(&self, slot: usize) -> Option<String> {
        let def = self.schema.field(slot);
        ["", "NA", "N/A", "null", "None", "NULL"]
            .into_iter()
            .find(|m| def.is_null(m.as_bytes()))
            .map(str::to_string)
    }
}

//! `field` declarations: the fields a rule set reads beyond the schema, and
//! the hints that point an unknown name at a CSV column it could read.

use super::diagnostics;
use crate::diagnostic::{Code, Diagnostic, NameIndex, SUGGESTION_BUDGET, did_you_mean};
use crate::schema::{FieldDef, FieldType, Nulls, Schema, default_nulls};
use crate::source::{FileId, Span};
use crate::syntax::ast::{FieldDecl, ItemKind, Module};
use std::collections::HashMap;

/// `schema` with the fields the modules declare appended, in source order,
/// and a diagnostic for each declaration that cannot be used (a name the
/// schema or another declaration has, a type that is not a field type).
/// The result is the schema the rules are checked against and the data is
/// read with, so a rule set with its declarations is self-contained.
pub fn extend_schema(modules: &[(FileId, Module)], schema: &Schema) -> (Schema, Vec<Diagnostic>) {
    let mut out = schema.clone();
    let mut diags = Vec::new();
    let mut first: HashMap<&str, Span> = HashMap::new();
    let decls = modules
        .iter()
        .flat_map(|(_, m)| &m.items)
        .filter_map(|i| match &i.kind {
            ItemKind::Field(f) => Some(f),
            _ => None,
        });
    for f in decls {
        let name = f.name.name.as_str();
        if name.is_empty() {
            continue;
        }
        if let Some(&prev) = first.get(name) {
            diags.push(diagnostics::duplicate(f.name.span, name, prev, "field"));
            continue;
        }
        if let Some(slot) = schema.slot(name) {
            diags.push(already_in_schema(f, schema.field(slot)));
            continue;
        }
        first.insert(name, f.name.span);
        let Some(ty) = field_type(f, &mut diags) else {
            continue;
        };
        let markers: Vec<String> = match &f.nulls {
            Some(m) => m.iter().map(|i| i.name.clone()).collect(),
            None => default_nulls(),
        };
        out.fields.push(FieldDef {
            name: name.to_string(),
            ty,
            columns: f.columns.iter().map(|c| c.name.clone()).collect(),
            nulls: Nulls::for_field(ty, &markers),
        });
    }
    (out, diags)
}

/// A declaration's type, or `None` after reporting one that is not a
/// field type (an enum is not: cells are read as bool, int, float or string).
fn field_type(f: &FieldDecl, diags: &mut Vec<Diagnostic>) -> Option<FieldType> {
    let types = ["bool", "int", "float", "string"];
    match f.ty.name.as_str() {
        "bool" => Some(FieldType::Bool),
        "int" => Some(FieldType::Int),
        "float" => Some(FieldType::Float),
        "string" => Some(FieldType::String),
        "" => None,
        other => {
            let help = did_you_mean(other, types)
                .unwrap_or_else(|| "a field's type is bool, int, float or string".into());
            diags.push(diagnostics::unknown_type(f.ty.span, other, Some(help)));
            None
        }
    }
}

fn already_in_schema(f: &FieldDecl, field: &FieldDef) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateName,
        f.name.span,
        format!("`{}` is already a field of the row schema", f.name.name),
    )
    .label("declared again here")
    .help(format!(
        "the schema reads it as {} from {}; read it as it is, or give this field another name",
        diagnostics::article(&field.ty.to_string()),
        column_list(&field.columns)
    ))
}

/// `column `a`` or `columns `a`, `b``.
fn column_list(columns: &[String]) -> String {
    let quoted: Vec<String> = columns.iter().map(|c| format!("`{c}`")).collect();
    match quoted.len() {
        1 => format!("column {}", quoted[0]),
        _ => format!("columns {}", quoted.join(", ")),
    }
}

/// How a declaration writes a column: bare when it is a name, else quoted.
fn column_text(column: &str) -> String {
    let ident = column
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && column
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        column.to_string()
    } else {
        format!("{column:?}")
    }
}

/// The declaration that reads `column` as a field named `name`.
pub fn declaration(name: &str, ty: &str, column: &str) -> String {
    format!("field {name}: {ty} from {}", column_text(column))
}

/// For a name that is no field, when a schema field reads a column of that
/// name (`mig_capable` is read as `mig_support`): what it is read as, and
/// the declaration that reads the column as a field of its own.
pub fn schema_column_hint(name: &str, schema: &Schema) -> Option<String> {
    let field = schema
        .fields
        .iter()
        .find(|f| f.name != name && f.columns.iter().any(|c| c == name))?;
    Some(format!(
        "column `{name}` is read as field `{}` ({}); to read its own values (a count, say), declare `{}`",
        field.name,
        field.ty,
        declaration(name, "float", name)
    ))
}

/// What the data's header says about names that are no field: a column of
/// that name or close to it, and the declaration that reads it. Built once
/// per run; the "did you mean" search over the header shares one budget
/// (a header may have thousands of columns, the rules thousands of typos).
pub struct HeaderHints {
    header: Vec<String>,
    /// The first data row (to guess a type), empty when there is none.
    sample: Vec<String>,
    position: HashMap<String, usize>,
    index: NameIndex,
    budget: u64,
}

impl HeaderHints {
    pub fn new(header: Vec<String>, sample: Vec<String>) -> HeaderHints {
        let mut position = HashMap::with_capacity(header.len());
        for (i, h) in header.iter().enumerate() {
            position.entry(h.clone()).or_insert(i);
        }
        HeaderHints {
            index: NameIndex::new(header.iter().map(String::as_str)),
            header,
            sample,
            position,
            budget: SUGGESTION_BUDGET,
        }
    }

    /// The hint for `name`; `None` when no column is near, or the near
    /// column is a field's own name (the "did you mean" help says that).
    pub fn hint(&mut self, name: &str, schema: &Schema) -> Option<String> {
        let (col, exact) = match self.position.get(name) {
            Some(&i) => (i, true),
            None => {
                let near = self.index.nearest(name, &mut self.budget)?;
                (*self.position.get(near)?, false)
            }
        };
        let column = &self.header[col];
        let ty = guess_type(self.sample.get(col));
        if let Some(field) = schema.fields.iter().find(|f| f.columns.contains(column)) {
            if field.name == *column {
                return None;
            }
            return Some(format!(
                "the data's column `{column}` is read as field `{}` ({}); use `{}`, or to read the column's own values declare `{}`",
                field.name,
                field.ty,
                field.name,
                declaration(name, ty, column)
            ));
        }
        let near = if exact {
            String::new()
        } else {
            format!(" (close to `{name}`)")
        };
        Some(format!(
            "the data has a column `{column}`{near}, which no field reads; to read it, declare `{}`",
            declaration(name, ty, column)
        ))
    }
}

/// A field type for a column, from one of its cells.
fn guess_type(cell: Option<&String>) -> &'static str {
    let Some(cell) = cell.map(|c| c.trim()) else {
        return "string";
    };
    if cell.parse::<i64>().is_ok() {
        "int"
    } else if cell.parse::<f64>().is_ok_and(f64::is_finite) {
        "float"
    } else if ["true", "false"].contains(&cell.to_ascii_lowercase().as_str()) {
        "bool"
    } else {
        "string"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extend(text: &str) -> (Schema, Vec<Diagnostic>) {
        let (module, d) = crate::syntax::parse(FileId(0), text);
        assert!(d.is_empty(), "{d:?}");
        extend_schema(&[(FileId(0), module)], &Schema::listing())
    }

    #[test]
    fn declared_fields_are_appended_with_columns_and_nulls() {
        let (s, d) = extend(
            "field mig_instances: int from mig_capable, \"MIG count\" nulls [\"-\", \"?\"]\n\
             field note: string from note\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let base = Schema::listing().fields.len();
        assert_eq!(s.fields.len(), base + 2);
        let f = &s.fields[base];
        assert_eq!(f.name, "mig_instances");
        assert_eq!(f.ty, FieldType::Int);
        assert_eq!(f.columns, ["mig_capable", "MIG count"]);
        assert!(f.is_null(b"?") && !f.is_null(b"NA"));
        // Without `nulls`, the schema's default markers.
        assert!(s.fields[base + 1].is_null(b"NA"));
    }

    #[test]
    fn a_declared_field_the_schema_has_or_declared_twice_is_e301() {
        let (_, d) =
            extend("field price: float from cost\nfield a: int from x\nfield a: int from y\n");
        let codes: Vec<Code> = d.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::DuplicateName, Code::DuplicateName]);
        assert!(d[0].message.contains("already a field"), "{}", d[0].message);
        assert_eq!(d[1].notes.len(), 1, "points at the first declaration");
    }

    #[test]
    fn a_field_type_must_be_a_field_type() {
        let (_, d) = extend("field a: flaot from x\n");
        assert_eq!(d[0].code, Code::UnknownType);
        assert_eq!(d[0].help.as_deref(), Some("did you mean `float`?"));
    }

    #[test]
    fn header_hints_name_the_column_and_the_declaration() {
        let schema = Schema::listing();
        let header: Vec<String> = ["model", "mig_capable", "MIG Count", "vram_gb"]
            .map(String::from)
            .to_vec();
        let sample: Vec<String> = ["A", "7", "7", "80"].map(String::from).to_vec();
        let mut hints = HeaderHints::new(header, sample);
        let h = hints.hint("mig_count", &schema).expect("near `MIG Count`");
        assert!(
            h.contains("declare `field mig_count: int from \"MIG Count\"`"),
            "{h}"
        );
        let h = hints.hint("mig_capable", &schema).expect("exact");
        assert!(h.contains("read as field `mig_support` (bool)"), "{h}");
        assert_eq!(hints.hint("vram_bg", &schema), None);
        assert_eq!(hints.hint("zzz", &schema), None);
    }
}

//! `glyphsieve compile --to sql`: the rule set as one SQL query for DuckDB,
//! Spark or PostgreSQL, printed on stdout. A construct the dialect cannot
//! compute as `eval` does is E801, located in the rules, and nothing is
//! printed.

use super::args::{CompileArgs, Format, SqlDialect};
use super::report::Style;
use super::run::build;
use super::{Exit, Failure, Inputs, print_stdout};
use crate::check::ItemId;
use crate::data::reader::header_from_fields;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::sql::{Dialect, Options};
use std::path::Path;

pub fn compile(args: CompileArgs, inputs: Inputs, color: bool) -> Result<Exit, Failure> {
    let style = Style::new(Format::Human, color);
    let header = match &args.header_from {
        Some(path) => Some(read_header(path)?),
        None => None,
    };
    let set = build(&inputs, &[], None, style)?;
    let program = &set.program;
    let mut outputs: Vec<ItemId> = Vec::new();
    if args.only.is_empty() {
        outputs.extend(program.outputs.iter().copied());
    } else {
        let names: Vec<&str> = program
            .outputs
            .iter()
            .map(|id| program.items[id.0 as usize].name.as_str())
            .collect();
        for (k, name) in args.only.iter().enumerate() {
            if args.only[..k].contains(name) {
                return Err(Failure::usage(format!("--only names `{name}` twice")));
            }
            match program
                .outputs
                .iter()
                .find(|id| program.items[id.0 as usize].name == *name)
            {
                Some(&id) => outputs.push(id),
                None => {
                    let hint = did_you_mean(name, names.iter().copied())
                        .unwrap_or_else(|| format!("the rules are {}", names.join(", ")));
                    return Err(Failure::usage(format!(
                        "--only: no rule named `{name}`; {hint}"
                    )));
                }
            }
        }
    }
    let dialect = match args.dialect {
        SqlDialect::Duckdb => Dialect::DuckDb,
        SqlDialect::Spark => Dialect::Spark,
        SqlDialect::Postgres => Dialect::Postgres,
    };
    let mut notes = Vec::new();
    let files: Vec<String> = inputs
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    notes.push(format!("rules: {}", files.join(", ")));
    for s in &args.config.set {
        notes.push(format!("--set {s}"));
    }
    for c in &args.config.config {
        notes.push(format!("--config {}", c.display()));
    }
    for s in &args.config.schema {
        notes.push(format!("--schema {}", s.display()));
    }
    if let Some(h) = &args.header_from {
        notes.push(format!("columns picked from the header of {}", h.display()));
    }
    let options = Options {
        dialect,
        table: args.table.clone(),
        lenient: args.lenient,
        header,
        notes,
    };
    match crate::sql::compile(program, &set.schema, &outputs, &options) {
        Ok(sql) => {
            print_stdout(&sql)?;
            Ok(Exit::Ok)
        }
        Err(problems) => {
            let diags: Vec<Diagnostic> = problems
                .into_iter()
                .map(|p| {
                    Diagnostic::new(
                        Code::NotInSql,
                        p.span,
                        format!("not in {} SQL: {}", dialect.name(), p.what),
                    )
                    .label("this cannot be compiled exactly")
                    .help("eval runs it; for SQL, rewrite it with the constructs docs/sql.md lists")
                })
                .collect();
            Err(Failure {
                message: format!(
                    "{} construct{} cannot be compiled to {} SQL; nothing was printed",
                    diags.len(),
                    if diags.len() == 1 { "" } else { "s" },
                    dialect.name()
                ),
                rendered: Some(style.rules(&diags, &set.sources)),
                exit: Exit::Problems,
            })
        }
    }
}

/// The header line of `path`: its column names.
fn read_header(path: &Path) -> Result<Vec<String>, Failure> {
    let file = std::fs::File::open(path).map_err(|e| {
        Failure::usage(format!(
            "--header-from: cannot read {}: {e}",
            path.display()
        ))
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::Read::take(file, 1 << 20));
    let header = match reader.byte_records().next() {
        Some(Ok(r)) => header_from_fields(&r),
        Some(Err(e)) => {
            return Err(Failure::usage(format!(
                "--header-from: cannot read the header of {}: {e}",
                path.display()
            )));
        }
        None => {
            return Err(Failure::usage(format!(
                "--header-from: {} is empty (no header line)",
                path.display()
            )));
        }
    };
    Ok(header)
}

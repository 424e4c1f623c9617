//! The row layout: how a header maps to a job, and per record, filling the
//! typed row and writing the output record. No threads here: the pipeline
//! (`pipeline.rs`) calls these from its workers.

use super::pipeline::{DataError, Job, MAX_BAD_EXAMPLES, Summary, fields_read, name_list};
use super::reader::{BOM, Batch, Fields};

use crate::cell::{Cell, parse_cell};
use crate::eval::value::write_quoted;
use crate::eval::{Row, Value, Written};
use crate::heuristic::Heuristic;
use crate::types::OutputType;

/// How the header maps to the job.
pub(super) struct Layout {
    /// (schema slot, column index) for each field read.
    reads: Vec<(usize, usize)>,
    /// For each heuristic, the input column it replaces (with --replace).
    replaces: Vec<Option<usize>>,
    /// For each input column, the heuristic that replaces it.
    column_output: Vec<Option<usize>>,
    /// Whether any column is replaced: rows are then rebuilt cell by cell.
    replacing: bool,
    pub(super) names: Vec<String>,
    terminator: &'static [u8],
    /// Each heuristic's output type, asked once (with --replace and a
    /// summary, enum values are counted by their variant's position).
    output_types: Vec<OutputType>,
    /// Each compared pair's output types, asked once.
    compare_types: Vec<[OutputType; 2]>,
}

/// Record `i` of `batch`: check its width against the header, read the
/// cells the rules need into `row`, and, when every filter holds, append
/// its output record to `out`. Says whether the record was written.
pub(super) fn evaluate_record(
    row: &mut Row,
    batch: &Batch,
    i: usize,
    layout: &Layout,
    job: &Job,
    out: &mut Vec<u8>,
    summary: &mut Summary,
) -> Result<bool, DataError> {
    let fields = batch.record(i);
    if fields.len() != layout.names.len() {
        return Err(DataError::Ragged {
            file: job.input_name.clone(),
            line: batch.line(i),
            expected: layout.names.len(),
            found: fields.len(),
        });
    }
    fill_row(row, fields, layout, job, batch, i, summary)?;
    if !job.compare.is_empty() {
        compare(row, batch, i, layout, job, summary)?;
    }
    // Filters first, so a dropped row costs no output work; without
    // filters this is one test per row.
    if !job.filters.is_empty() && !keep(row, batch, i, job)? {
        return Ok(false);
    }
    write_record(row, batch, i, fields, layout, job, out, summary)?;
    Ok(true)
}

/// Evaluate each compared pair on `row` and count its values.
fn compare(
    row: &Row,
    batch: &Batch,
    i: usize,
    layout: &Layout,
    job: &Job,
    summary: &mut Summary,
) -> Result<(), DataError> {
    let located = |error| DataError::Eval {
        file: job.input_name.clone(),
        line: batch.line(i),
        error,
    };
    let pairs = job.compare.iter().zip(&layout.compare_types);
    for ((pair, types), tally) in pairs.zip(summary.pairs.iter_mut()) {
        let a = pair[0].evaluate(row).map_err(located)?;
        let b = pair[1].evaluate(row).map_err(located)?;
        tally.add(&a, &b, types);
    }
    Ok(())
}

/// Whether every filter gives `true` on `row` (false and missing drop it).
fn keep(row: &Row, batch: &Batch, i: usize, job: &Job) -> Result<bool, DataError> {
    for f in &job.filters {
        match f.evaluate(row) {
            Ok(Value::Bool(true)) => {}
            Ok(_) => return Ok(false),
            Err(error) => {
                return Err(DataError::Eval {
                    file: job.input_name.clone(),
                    line: batch.line(i),
                    error,
                });
            }
        }
    }
    Ok(true)
}

/// Map the header record to the job (the columns read, the outputs
/// replaced) and write the output header into `out`.
pub(super) fn header(batch: &Batch, job: &Job, out: &mut Vec<u8>) -> Result<Layout, DataError> {
    let file = job.input_name.clone();
    if batch.is_empty() {
        return Err(DataError::NoHeader { file });
    }
    let fields = batch.record(0);
    let names = header_names(batch);
    // The fields filters and compared pairs read are parsed too (they may
    // read a field no output column does).
    let mut slots = job.fields.clone();
    if !job.filters.is_empty() {
        slots.extend(fields_read(&job.filters, &job.schema)?);
        slots.sort_unstable();
        slots.dedup();
    }
    if !job.compare.is_empty() {
        let compared: Vec<&dyn Heuristic> = job.compare.iter().flatten().copied().collect();
        slots.extend(fields_read(&compared, &job.schema)?);
        slots.sort_unstable();
        slots.dedup();
    }
    let mut reads = Vec::with_capacity(slots.len());
    for &slot in &slots {
        let field = job.schema.field(slot);
        match field
            .columns
            .iter()
            .find_map(|c| names.iter().position(|n| n == c))
        {
            Some(col) => {
                // Two columns of that name: which one the rule means is a guess.
                if names.iter().filter(|n| **n == names[col]).count() > 1 {
                    return Err(DataError::DuplicateColumn {
                        file,
                        column: names[col].clone(),
                    });
                }
                reads.push((slot, col));
            }
            None => {
                return Err(DataError::MissingColumn {
                    file,
                    field: field.name.clone(),
                    wanted: field.columns.join(", "),
                    present: name_list(&names),
                });
            }
        }
    }
    let mut replaces = Vec::with_capacity(job.heuristics.len());
    for h in &job.heuristics {
        let existing = names.iter().position(|n| n == h.name());
        if existing.is_some() && names.iter().filter(|n| *n == h.name()).count() > 1 {
            return Err(DataError::DuplicateColumn {
                file,
                column: h.name().to_string(),
            });
        }
        if existing.is_some() && !job.replace {
            return Err(DataError::OutputExists {
                file,
                column: h.name().to_string(),
            });
        }
        replaces.push(existing);
    }
    let terminator = match batch.terminator(0) {
        b"" => b"\n" as &[u8],
        t => t,
    };
    let mut column_output = vec![None; names.len()];
    for (k, r) in replaces.iter().enumerate() {
        if let Some(c) = r {
            column_output[*c] = Some(k);
        }
    }
    let layout = Layout {
        reads,
        replaces,
        replacing: column_output.iter().any(Option::is_some),
        column_output,
        names,
        terminator,
        output_types: job.heuristics.iter().map(|h| h.output_type()).collect(),
        compare_types: job
            .compare
            .iter()
            .map(|[a, b]| [a.output_type(), b.output_type()])
            .collect(),
    };
    if batch.bom {
        out.extend_from_slice(BOM);
    }
    let start = out.len();
    if layout.replacing {
        for (c, f) in fields.iter().enumerate() {
            if c > 0 {
                out.push(b',');
            }
            write_quoted(f, out);
        }
    } else {
        out.extend_from_slice(batch.raw_record(0));
    }
    for (h, r) in job.heuristics.iter().zip(&layout.replaces) {
        if r.is_none() {
            out.push(b',');
            write_quoted(h.name().as_bytes(), out);
        }
    }
    empty_field(out, start);
    out.extend_from_slice(layout.terminator);
    Ok(layout)
}

/// The header's column names (empty if there is no record).
pub(super) fn header_names(batch: &Batch) -> Vec<String> {
    if batch.is_empty() {
        return Vec::new();
    }
    let mut names: Vec<String> = batch
        .record(0)
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    if let Some(first) = names.first_mut()
        && let Some(stripped) = first.strip_prefix('\u{feff}')
    {
        *first = stripped.to_string();
    }
    names
}

/// A record written from `start` as nothing would read back as a blank line,
/// which readers skip: write its one empty field as `""`, as the csv crate
/// does. Only a one-field record can be empty (any other has a comma).
pub(super) fn empty_field(out: &mut Vec<u8>, start: usize) {
    if out.len() == start {
        out.extend_from_slice(b"\"\"");
    }
}

fn fill_row(
    row: &mut Row,
    fields: Fields,
    layout: &Layout,
    job: &Job,
    batch: &Batch,
    i: usize,
    summary: &mut Summary,
) -> Result<(), DataError> {
    row.clear();
    let mut any_missing = false;
    for &(slot, col) in &layout.reads {
        let cell = fields.get(col);
        let field = job.schema.field(slot);
        match parse_cell(field.ty, &field.nulls, cell) {
            Ok(Cell::Text) => row.set_text(slot, cell),
            Ok(Cell::Value(v)) => row.set_slot(slot, v),
            Ok(Cell::Missing) => any_missing = true,
            Err(e) => {
                // Under --lenient only the first few are described: finding a
                // line number costs a scan of the batch.
                let describe = !job.lenient || summary.bad_examples.len() < MAX_BAD_EXAMPLES;
                if describe {
                    let error = DataError::Cell {
                        file: job.input_name.clone(),
                        line: batch.line(i),
                        column: layout.names[col].clone(),
                        value: String::from_utf8_lossy(cell).into_owned(),
                        ty: field.ty,
                        reason: e,
                    };
                    if !job.lenient {
                        return Err(error);
                    }
                    summary.bad_examples.push(error.to_string());
                }
                summary.bad_cells += 1;
                any_missing = true;
            }
        }
    }
    summary.rows_missing_input += any_missing as u64;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_record(
    row: &Row,
    batch: &Batch,
    i: usize,
    fields: Fields,
    layout: &Layout,
    job: &Job,
    out: &mut Vec<u8>,
    summary: &mut Summary,
) -> Result<(), DataError> {
    let located = |error| DataError::Eval {
        file: job.input_name.clone(),
        line: batch.line(i),
        error,
    };
    let start = out.len();
    if !layout.replacing {
        out.extend_from_slice(batch.raw_record(i));
        for (h, tally) in job.heuristics.iter().zip(summary.tallies.iter_mut()) {
            out.push(b',');
            tally.count(h.write_cell(row, out).map_err(located)?, job.tally_values);
        }
    } else {
        // --replace: cells are written one by one, so the row is rebuilt.
        let mut values = Vec::with_capacity(job.heuristics.len());
        let outputs = job.heuristics.iter().zip(&layout.output_types);
        for ((h, ty), tally) in outputs.zip(summary.tallies.iter_mut()) {
            let v = h.evaluate(row).map_err(located)?;
            let w = match ty {
                OutputType::Enum(names) => Written::of_typed(&v, names),
                _ => Written::of(&v),
            };
            tally.count(w, job.tally_values);
            values.push(v);
        }
        for (c, f) in fields.iter().enumerate() {
            if c > 0 {
                out.push(b',');
            }
            match layout.column_output[c] {
                Some(k) => values[k].write_csv(out),
                None => write_quoted(f, out),
            }
        }
        for (k, v) in values.iter().enumerate() {
            if layout.replaces[k].is_none() {
                out.push(b',');
                v.write_csv(out);
            }
        }
    }
    empty_field(out, start);
    out.extend_from_slice(layout.terminator);
    Ok(())
}

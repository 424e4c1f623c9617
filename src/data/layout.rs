//! The row layout: how a header maps to a job, and per record, filling the
//! typed row and writing the output record. No threads here: the pipeline
//! (`pipeline.rs`) calls these from its workers.

use super::pipeline::{
    DataError, Job, MAX_BAD_EXAMPLES, OutputFormat, Summary, fields_read, name_list,
};
use super::reader::{BOM, Batch, Fields};

use crate::cell::{Cell, parse_cell};
use crate::compile::Compiled;
use crate::eval::batch::Plan;
use crate::eval::value::write_quoted;
use crate::eval::{Row, Value, Written};
use crate::heuristic::Heuristic;
use crate::types::OutputType;
use crate::value::Val;
use std::collections::HashMap;
use std::sync::Arc;

/// How the header maps to the job.
pub(super) struct Layout {
    /// (schema slot, column index) for each field read.
    reads: Vec<(usize, usize)>,
    /// The output record's cells, in order (for every path but the fast one).
    cells: Vec<OutCell>,
    /// JSON Lines: each cell's `"name":`, escaped.
    json_keys: Vec<Vec<u8>>,
    /// Every input column as it is, then the rules' cells: the input record
    /// is copied whole (no --columns, no --replace, CSV).
    fast: bool,
    /// Values are computed before the record is written: a rule's value
    /// replaces an input cell (--replace), or JSON types it.
    need_values: bool,
    format: OutputFormat,
    pub(super) names: Vec<String>,
    pub(super) terminator: &'static [u8],
    /// Each heuristic's output type, asked once (with --replace and a
    /// summary, enum values are counted by their variant's position).
    output_types: Vec<OutputType>,
    /// Each compared pair's output types, asked once.
    compare_types: Vec<[OutputType; 2]>,
    /// The job's profile specs joined to their columns (`lint --data`).
    profile: Vec<(usize, super::profile::Prepared)>,
    /// What compiled rules compute per chunk, when the batch path is taken
    /// (see `chunk.rs`).
    plan: Option<Plan>,
}

impl Layout {
    /// The batch plan, when records are evaluated a chunk at a time.
    pub(super) fn plan(&self) -> Option<&Plan> {
        self.plan.as_ref()
    }
}

/// The batch plan for `job`, when every output and filter is a compiled
/// rule of one program checked against the job's schema.
fn batch_plan(job: &Job) -> Option<Plan> {
    let mut program: Option<&Arc<Compiled>> = None;
    let mut filters = Vec::with_capacity(job.filters.len());
    let mut outputs = Vec::with_capacity(job.heuristics.len());
    let all = job.filters.iter().map(|h| (h, true));
    for (h, filter) in all.chain(job.heuristics.iter().map(|h| (h, false))) {
        let (p, item) = h.compiled()?;
        match program {
            Some(q) if !Arc::ptr_eq(p, q) => return None,
            _ => program = Some(p),
        }
        if filter { &mut filters } else { &mut outputs }.push(item);
    }
    let program = program?;
    program
        .checked_against(&job.schema)
        .then(|| Plan::new(program.for_batch(), &filters, &outputs))
}

/// One cell of an output record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutCell {
    /// The input column at this index.
    Input(usize),
    /// The heuristic at this index.
    Rule(usize),
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
    row.clear();
    fill(row, fields, layout, job, batch, i, summary)?;
    // Without profile specs (every command but `lint --data`) one test per row.
    if !layout.profile.is_empty() {
        super::profile::count(fields, &layout.profile, &mut summary.profiles);
    }
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

/// Map the header record to the job (the columns read, kept and
/// replaced) and write the output header into `out`.
pub(super) fn header(batch: &Batch, job: &Job, out: &mut Vec<u8>) -> Result<Layout, DataError> {
    let file = job.input_name.clone();
    if batch.is_empty() {
        return Err(DataError::NoHeader { file });
    }
    let fields = batch.record(0);
    let names = header_names(batch);
    // Each name's first column and how many columns have it: one pass, so
    // a header of many thousands of columns costs no quadratic search.
    let mut by_name: HashMap<&str, (usize, usize)> = HashMap::with_capacity(names.len());
    for (c, n) in names.iter().enumerate() {
        by_name.entry(n.as_str()).or_insert((c, 0)).1 += 1;
    }
    let count = |name: &str| by_name.get(name).map_or(0, |&(_, n)| n);
    // The fields filters and compared pairs read are parsed too (they may
    // read a field no output column does).
    let mut slots = job.fields.clone();
    if !job.filters.is_empty() || !job.compare.is_empty() {
        if !job.filters.is_empty() {
            slots.extend(fields_read(&job.filters, &job.schema)?);
        }
        if !job.compare.is_empty() {
            let compared: Vec<&dyn Heuristic> = job.compare.iter().flatten().copied().collect();
            slots.extend(fields_read(&compared, &job.schema)?);
        }
        slots.sort_unstable();
        slots.dedup();
    }
    let mut reads = Vec::with_capacity(slots.len());
    for &slot in &slots {
        let field = job.schema.field(slot);
        match field.columns.iter().find_map(|c| by_name.get(c.as_str())) {
            Some(&(col, n)) => {
                // Two columns of that name: which one the rule means is a guess.
                if n > 1 {
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
    let jsonl = job.shape.format == OutputFormat::Jsonl;
    // The input columns written, in order.
    let kept: Vec<usize> = match &job.shape.columns {
        None => (0..names.len()).collect(),
        Some(wanted) => {
            let mut kept = Vec::with_capacity(wanted.len());
            for w in wanted {
                let Some(&(c, _)) = by_name.get(w.as_str()) else {
                    let hint = crate::diagnostic::did_you_mean(w, names.iter().map(String::as_str))
                        .unwrap_or_else(|| format!("the columns are: {}", name_list(&names)));
                    return Err(DataError::UnknownColumn {
                        file,
                        column: w.clone(),
                        hint,
                    });
                };
                kept.push(c);
            }
            kept
        }
    };
    // A kept column named twice in the header: which one is meant is a
    // guess; in JSON Lines two keys of one name are, too.
    if (job.shape.columns.is_some() || jsonl)
        && let Some(&c) = kept.iter().find(|&&c| count(&names[c]) > 1)
    {
        return Err(DataError::DuplicateColumn {
            file,
            column: names[c].clone(),
        });
    }
    // For each kept column, the heuristic that replaces it; a rule named
    // like an input column that is not written clashes with nothing.
    let mut cells: Vec<OutCell> = kept.iter().map(|&c| OutCell::Input(c)).collect();
    let cell_of: HashMap<usize, usize> = kept.iter().enumerate().map(|(j, &c)| (c, j)).collect();
    let mut replacing = false;
    let mut placed = vec![false; job.heuristics.len()];
    for (k, h) in job.heuristics.iter().enumerate() {
        let Some(&(c, n)) = by_name.get(h.name()) else {
            continue;
        };
        let Some(&at) = cell_of.get(&c) else {
            continue;
        };
        if n > 1 {
            return Err(DataError::DuplicateColumn {
                file,
                column: h.name().to_string(),
            });
        }
        if !job.replace {
            return Err(DataError::OutputExists {
                file,
                column: h.name().to_string(),
            });
        }
        cells[at] = OutCell::Rule(k);
        placed[k] = true;
        replacing = true;
    }
    cells.extend(
        (0..job.heuristics.len())
            .filter(|&k| !placed[k])
            .map(OutCell::Rule),
    );
    let terminator = match batch.terminator(0) {
        _ if jsonl => b"\n" as &[u8],
        b"" => b"\n" as &[u8],
        t => t,
    };
    let cell_name = |cell: &OutCell| -> &[u8] {
        match *cell {
            OutCell::Input(c) => fields.get(c),
            OutCell::Rule(k) => job.heuristics[k].name().as_bytes(),
        }
    };
    let json_keys = match jsonl {
        false => Vec::new(),
        true => cells
            .iter()
            .map(|cell| {
                let name = match *cell {
                    OutCell::Input(c) => names[c].as_bytes(),
                    OutCell::Rule(k) => job.heuristics[k].name().as_bytes(),
                };
                let mut key = Vec::with_capacity(name.len() + 3);
                write_json_string(name, &mut key);
                key.push(b':');
                key
            })
            .collect(),
    };
    let profile = super::profile::prepare(&job.profile, &reads, &job.schema);
    let fast = !replacing && job.shape.columns.is_none() && !jsonl;
    let plan = match fast && !job.row_at_a_time && job.compare.is_empty() && profile.is_empty() {
        true => batch_plan(job),
        false => None,
    };
    let layout = Layout {
        reads,
        fast,
        need_values: replacing || jsonl,
        format: job.shape.format,
        json_keys,
        names,
        terminator,
        output_types: job.heuristics.iter().map(|h| h.output_type()).collect(),
        cells,
        compare_types: job
            .compare
            .iter()
            .map(|[a, b]| [a.output_type(), b.output_type()])
            .collect(),
        profile,
        plan,
    };
    // JSON Lines has no header line (and no byte order mark).
    if jsonl {
        return Ok(layout);
    }
    if batch.bom {
        out.extend_from_slice(BOM);
    }
    let start = out.len();
    if layout.fast {
        out.extend_from_slice(batch.raw_record(0));
        for h in &job.heuristics {
            out.push(b',');
            write_quoted(h.name().as_bytes(), out);
        }
    } else {
        for (j, cell) in layout.cells.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            write_quoted(cell_name(cell), out);
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
    super::reader::header_from_fields(batch.record(0).iter())
}

/// A record written from `start` as nothing would read back as a blank line,
/// which readers skip: write its one empty field as `""`, as the csv crate
/// does. Only a one-field record can be empty (any other has a comma).
pub(super) fn empty_field(out: &mut Vec<u8>, start: usize) {
    if out.len() == start {
        out.extend_from_slice(b"\"\"");
    }
}

/// Where a record's typed cells go: a row, or a row of a chunk's columns.
pub(super) trait CellSink {
    fn text(&mut self, slot: usize, bytes: &[u8]);
    fn value(&mut self, slot: usize, v: Val);
    fn missing(&mut self, slot: usize);
}

impl CellSink for Row {
    fn text(&mut self, slot: usize, bytes: &[u8]) {
        self.set_text(slot, bytes);
    }
    fn value(&mut self, slot: usize, v: Val) {
        self.set_slot(slot, v);
    }
    /// Cleared already.
    fn missing(&mut self, _: usize) {}
}

/// Parse the cells of record `i` that the job reads into `sink`; a cell
/// that does not parse is an error, or under `--lenient` missing (and
/// counted).
pub(super) fn fill(
    sink: &mut impl CellSink,
    fields: Fields,
    layout: &Layout,
    job: &Job,
    batch: &Batch,
    i: usize,
    summary: &mut Summary,
) -> Result<(), DataError> {
    let mut any_missing = false;
    for &(slot, col) in &layout.reads {
        let cell = fields.get(col);
        let field = job.schema.field(slot);
        match parse_cell(field.ty, &field.nulls, cell) {
            Ok(Cell::Text) => sink.text(slot, cell),
            Ok(Cell::Value(v)) => sink.value(slot, v),
            Ok(Cell::Missing) => {
                sink.missing(slot);
                any_missing = true;
            }
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
                sink.missing(slot);
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
    if layout.fast {
        out.extend_from_slice(batch.raw_record(i));
        for (h, tally) in job.heuristics.iter().zip(summary.tallies.iter_mut()) {
            out.push(b',');
            tally.count(h.write_cell(row, out).map_err(located)?, job.tally_values);
        }
        empty_field(out, start);
        out.extend_from_slice(layout.terminator);
        return Ok(());
    }
    // The record is rebuilt cell by cell; the values come first when a
    // rule's value stands in an input column's place or JSON types it.
    let mut values = Vec::new();
    if layout.need_values {
        values.reserve(job.heuristics.len());
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
    }
    match layout.format {
        OutputFormat::Csv => {
            for (j, cell) in layout.cells.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                match *cell {
                    OutCell::Input(c) => write_quoted(fields.get(c), out),
                    OutCell::Rule(k) => match values.get(k) {
                        Some(v) => v.write_csv(out),
                        None => {
                            let w = job.heuristics[k].write_cell(row, out).map_err(located)?;
                            summary.tallies[k].count(w, job.tally_values);
                        }
                    },
                }
            }
            empty_field(out, start);
        }
        OutputFormat::Jsonl => {
            // One UTF-8 check per record (short cells one by one would miss
            // the validator's word-at-a-time path); unescaping a quoted
            // field only drops ASCII quotes, so its cells are UTF-8 too.
            let utf8 = std::str::from_utf8(batch.raw_record(i)).is_ok();
            out.push(b'{');
            for (j, (cell, key)) in layout.cells.iter().zip(&layout.json_keys).enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(key);
                match *cell {
                    OutCell::Input(c) if utf8 => write_json_escaped(fields.get(c), out),
                    OutCell::Input(c) => write_json_string(fields.get(c), out),
                    OutCell::Rule(k) => write_json_value(values.get(k), out),
                }
            }
            out.push(b'}');
        }
    }
    out.extend_from_slice(layout.terminator);
    Ok(())
}

/// A JSON string of `text`: quotes, backslashes and control characters
/// escaped, other characters as UTF-8 (bytes that are not UTF-8 become
/// U+FFFD, so the line is always valid JSON).
pub(super) fn write_json_string(text: &[u8], out: &mut Vec<u8>) {
    // Valid UTF-8 (nearly every cell) is checked by the standard library's
    // fast validator and escaped in place; only invalid bytes pay for the
    // lossy copy.
    match std::str::from_utf8(text) {
        Ok(_) => write_json_escaped(text, out),
        Err(_) => write_json_escaped(String::from_utf8_lossy(text).as_bytes(), out),
    }
}

/// Whether a byte of UTF-8 text must be escaped in a JSON string.
fn json_escapes(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f
}

/// The index of the first byte of `bytes` that JSON escapes. Eight bytes
/// at a time (SWAR): a word with none of them is skipped in a few
/// instructions; the per-byte test only runs in a word that has one.
fn first_json_escape(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Whether some byte of `v` is zero (exact as to whether; not where).
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    let mut words = bytes.chunks_exact(8);
    let mut base = 0;
    for w in words.by_ref() {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let v = u64::from_le_bytes(b);
        // A byte is below 0x20 when its top three bits are all zero.
        let control = zero_byte(v & (0xe0 * ONES));
        if (control
            || zero_byte(v ^ (u64::from(b'"') * ONES))
            || zero_byte(v ^ (u64::from(b'\\') * ONES))
            || zero_byte(v ^ (0x7f * ONES)))
            && let Some(at) = w.iter().position(|&b| json_escapes(b))
        {
            return Some(base + at);
        }
        base += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| json_escapes(b))
        .map(|at| base + at)
}

/// `bytes` (valid UTF-8) as a JSON string: runs of plain bytes are copied
/// whole, between the few that need an escape.
fn write_json_escaped(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut rest = bytes;
    while let Some(at) = first_json_escape(rest) {
        out.extend_from_slice(&rest[..at]);
        let b = rest[at];
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// A rule's value as JSON: `true`, `12`, `3.5`, `"mid"`, `null` when
/// missing (or a float that is not finite, which JSON cannot write).
fn write_json_value(v: Option<&Value>, out: &mut Vec<u8>) {
    match v {
        None | Some(Value::Missing) => out.extend_from_slice(b"null"),
        Some(Value::Float(f)) if !f.is_finite() => out.extend_from_slice(b"null"),
        Some(v @ (Value::Bool(_) | Value::Int(_) | Value::Float(_))) => v.write_cell(out),
        // Both are `String`s, valid UTF-8: no check needed.
        Some(Value::Str(s)) => write_json_escaped(s.as_bytes(), out),
        Some(Value::Enum(name)) => write_json_escaped(name.as_bytes(), out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escape_scan_finds_every_byte_that_needs_one_at_any_place() {
        for b in 0..=255u8 {
            for len in [1, 7, 8, 9, 16, 23] {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    let want = bytes.iter().position(|&x| json_escapes(x));
                    assert_eq!(
                        first_json_escape(&bytes),
                        want,
                        "byte {b:#x} at {at} of {len}"
                    );
                }
            }
        }
    }

    fn json(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        write_json_string(bytes, &mut out);
        String::from_utf8(out).expect("always UTF-8")
    }

    #[test]
    fn jsonl_strings_are_valid_json_whatever_the_cell_bytes() {
        assert_eq!(json(b"plain"), r#""plain""#);
        assert_eq!(json(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(json(b"\t\r\n\x00\x1b\x7f"), r#""\t\r\n\u0000\u001b\u007f""#);
        assert_eq!(json("Ünï 🚀".as_bytes()), "\"Ünï 🚀\"");
        // A cell that is not UTF-8 is still one JSON string.
        assert_eq!(json(b"ok\xff\xfeend"), "\"ok\u{fffd}\u{fffd}end\"");
        for cell in [&b"\x01\x02 \xc3"[..], b"\"\\\"", b""] {
            let text = json(cell);
            let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
            assert!(back.is_string(), "{text}");
        }
    }

    #[test]
    fn jsonl_values_are_typed_and_missing_is_null() {
        let cases = [
            (None, "null"),
            (Some(Value::Missing), "null"),
            (Some(Value::Bool(true)), "true"),
            (Some(Value::Int(-12)), "-12"),
            (Some(Value::Float(3.5)), "3.5"),
            (Some(Value::Float(12.0)), "12"),
            (Some(Value::Float(f64::NAN)), "null"),
            (Some(Value::Str("a\"b".into())), r#""a\"b""#),
            (Some(Value::Enum("mid".into())), r#""mid""#),
        ];
        for (v, want) in cases {
            let mut out = Vec::new();
            write_json_value(v.as_ref(), &mut out);
            assert_eq!(String::from_utf8_lossy(&out), want, "{v:?}");
        }
    }
}

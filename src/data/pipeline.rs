//! The tagging pipeline: header, typed rows, heuristics, output records.
//! A reader thread splits the input into batches while this thread
//! evaluates and writes, so parsing and evaluation use both cores.

use super::reader::{BATCH_BYTES, BOM, Batch, BatchReader, Fields, ReadError, shrink_if_huge};
use crate::cell::{Cell, CellError, parse_cell};
use crate::eval::value::write_quoted;
use crate::eval::{EvalError, Row, Written};
use crate::heuristic::Heuristic;
use crate::schema::Schema;
use crate::types::FieldType;
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// What to run over a CSV stream.
pub struct Job<'a> {
    pub heuristics: Vec<&'a dyn Heuristic>,
    pub schema: Arc<Schema>,
    /// Schema slots the heuristics read; only these cells are parsed.
    pub fields: Vec<usize>,
    /// Names the input in errors.
    pub input_name: String,
    /// Names the output in errors.
    pub output_name: String,
    /// Overwrite input columns named like an output instead of failing.
    pub replace: bool,
    /// Count unparseable cells as missing instead of failing.
    pub lenient: bool,
    /// Called with the raw bytes consumed after each batch (for progress).
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
    /// Worker threads evaluating batches (at least one).
    pub threads: usize,
    /// The longest record read (`--max-record-bytes`).
    pub max_record_bytes: usize,
}

/// Per-output tallies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub trues: u64,
    pub falses: u64,
    pub missing: u64,
}

impl Tally {
    fn add(&mut self, w: Written) {
        match w {
            Written::True => self.trues += 1,
            Written::False => self.falses += 1,
            Written::Missing => self.missing += 1,
            Written::Other => {}
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub rows: u64,
    /// Per heuristic, in order.
    pub tallies: Vec<Tally>,
    /// Rows where at least one field the heuristics read was missing.
    pub rows_missing_input: u64,
    /// Cells read as missing under `--lenient`.
    pub bad_cells: u64,
    /// The first few of them, as messages.
    pub bad_examples: Vec<String>,
}

/// A failure reading the input or evaluating it, naming file, line and column.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// Reading the input failed.
    #[error("{file}: {error}")]
    Io { file: String, error: io::Error },
    /// Writing the output failed.
    #[error("cannot write {target}: {error}")]
    Write { target: String, error: io::Error },
    #[error("{file}: the input is empty; a header line naming the columns is required")]
    NoHeader { file: String },
    /// `present` is already shortened and escaped (`name_list`).
    #[error(
        "{file}: field `{field}` is read by the rules but none of its columns ({wanted}) is in the header; the columns are: {present}"
    )]
    MissingColumn {
        file: String,
        field: String,
        wanted: String,
        present: String,
    },
    #[error(
        "{file}: output column `{}` already exists in the input; pass --replace to overwrite it",
        show_name(column)
    )]
    OutputExists { file: String, column: String },
    #[error(
        "{file}: the header has more than one column `{}`; rename one so it is clear which is meant",
        show_name(column)
    )]
    DuplicateColumn { file: String, column: String },
    #[error("{file}:{line}: the record has {found} fields, but the header has {expected}")]
    Ragged {
        file: String,
        line: u64,
        expected: usize,
        found: usize,
    },
    #[error(
        "{file}:{line}: column `{}`: cannot read {} as {ty}: {}",
        show_name(column),
        show_value(value),
        reason
    )]
    Cell {
        file: String,
        line: u64,
        column: String,
        value: String,
        ty: FieldType,
        reason: CellError,
    },
    #[error("{file}:{line}: {error}")]
    Eval {
        file: String,
        line: u64,
        error: EvalError,
    },
    /// The input ends inside a quoted field opened on `line`; `column` is
    /// its header name once the header is known (`field` is 0-based).
    #[error(
        "{file}:{line}: a quoted field opened here ({}) is never closed: the file ends inside it; close the quote, or check whether the file was cut off",
        match column {
            Some(c) => format!("column `{}`", show_name(c)),
            None => format!("field {}", field + 1),
        }
    )]
    UnclosedQuote {
        file: String,
        line: u64,
        field: usize,
        column: Option<String>,
    },
    #[error(
        "{file}:{line}: a record is longer than {} (--max-record-bytes); it may hold a quote that is never closed, or the file may not be CSV; if the record is real, raise --max-record-bytes",
        show_size(*limit)
    )]
    RecordTooLong {
        file: String,
        line: u64,
        limit: usize,
    },
    #[error(
        "{file}: the file is {encoding} (it starts with a {encoding} byte order mark); glyphsieve reads UTF-8: convert it first, e.g. iconv -f {encoding} -t UTF-8 in.csv > out.csv"
    )]
    Encoding {
        file: String,
        encoding: &'static str,
    },
}

impl DataError {
    fn from_read(error: ReadError, file: &str) -> DataError {
        let file = file.to_string();
        match error {
            ReadError::Io(error) => DataError::Io { file, error },
            ReadError::UnclosedQuote { line, field } => DataError::UnclosedQuote {
                file,
                line,
                field,
                column: None,
            },
            ReadError::RecordTooLong { line, limit } => {
                DataError::RecordTooLong { file, line, limit }
            }
            ReadError::Encoding { encoding } => DataError::Encoding { file, encoding },
        }
    }

    /// Name the column of an unclosed quote once the header is known.
    fn with_names(mut self, names: &[String]) -> DataError {
        if let DataError::UnclosedQuote { field, column, .. } = &mut self
            && column.is_none()
        {
            *column = names.get(*field).cloned();
        }
        self
    }
}

/// Longest value or name echoed in an error, in characters.
const SHOW_CHARS: usize = 80;
/// Most names listed in an error.
const SHOW_NAMES: usize = 20;

/// `s` cut to `SHOW_CHARS` characters (on a char boundary), saying how
/// many bytes were left out.
fn shorten(s: &str) -> (&str, usize) {
    match s.char_indices().nth(SHOW_CHARS) {
        Some((cut, _)) => (&s[..cut], s.len() - cut),
        None => (s, 0),
    }
}

fn left_out(n: usize) -> String {
    match n {
        0 => String::new(),
        n => format!("… ({n} more bytes)"),
    }
}

/// A cell's value as echoed: quoted, control characters escaped (a hostile
/// file must not put terminal escapes on stderr), long values shortened.
fn show_value(v: &str) -> String {
    let (head, rest) = shorten(v);
    format!("{head:?}{}", left_out(rest))
}

/// A column name as echoed: control characters escaped, shortened.
fn show_name(n: &str) -> String {
    let (head, rest) = shorten(n);
    let mut out = String::with_capacity(head.len());
    for c in head.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out + &left_out(rest)
}

/// The header's names as listed in an error: the first `SHOW_NAMES`.
fn name_list(names: &[String]) -> String {
    let mut out: Vec<String> = names
        .iter()
        .take(SHOW_NAMES)
        .map(|n| show_name(n))
        .collect();
    if names.len() > SHOW_NAMES {
        out.push(format!("… and {} more", names.len() - SHOW_NAMES));
    }
    out.join(", ")
}

/// A byte count as a user would write it for `--max-record-bytes`.
pub fn show_size(n: usize) -> String {
    for (unit, name) in [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] {
        if n >= unit && n.is_multiple_of(unit) {
            return format!("{} {name}", n / unit);
        }
    }
    format!("{n} bytes")
}

/// How the header maps to the job.
struct Layout {
    /// (schema slot, column index) for each field read.
    reads: Vec<(usize, usize)>,
    /// For each heuristic, the input column it replaces (with --replace).
    replaces: Vec<Option<usize>>,
    /// For each input column, the heuristic that replaces it.
    column_output: Vec<Option<usize>>,
    /// Whether any column is replaced: rows are then rebuilt cell by cell.
    replacing: bool,
    names: Vec<String>,
    terminator: &'static [u8],
}

/// Unreadable cells described under `--lenient` (the rest are counted).
pub const MAX_BAD_EXAMPLES: usize = 5;

/// One batch on its way through the pipeline: the input records, the
/// output bytes a worker made of them, and their tallies. Slots are recycled,
/// so the pipeline allocates nothing per batch once it runs.
#[derive(Default)]
struct Slot {
    seq: u64,
    batch: Batch,
    out: Vec<u8>,
    summary: Summary,
    error: Option<DataError>,
}

/// Run `job` over `input`, writing to `output`. A reader thread splits the
/// input into batches of whole records; `job.threads` workers evaluate
/// batches in parallel; this thread writes their output in input order.
pub fn run<R: Read + Send, W: Write>(
    input: R,
    output: &mut W,
    job: &Job,
) -> Result<Summary, DataError> {
    let workers = job.threads.max(1);
    // A fixed set of slots circulates: memory stays flat whatever the input
    // size, even when one worker falls behind the others.
    let slots = 2 * workers + 4;
    let io_err = |error| DataError::Io {
        file: job.input_name.clone(),
        error,
    };
    std::thread::scope(|scope| {
        // The channels live in this closure: returning early (an error)
        // drops them, which stops the reader and the workers, so the scope
        // can end.
        let (full_tx, full_rx) = sync_channel::<Slot>(slots);
        let (empty_tx, empty_rx) = sync_channel::<Slot>(slots);
        for _ in 0..slots {
            let _ = empty_tx.try_send(Slot::default());
        }
        let file = job.input_name.as_str();
        let max_record = job.max_record_bytes;
        scope.spawn(move || read_batches(input, full_tx, empty_rx, file, max_record));
        // The header comes first: the layout it gives is shared by every worker.
        let mut slot = match full_rx.recv() {
            Ok(mut slot) => match slot.error.take() {
                Some(e) => return Err(e.with_names(&header_names(&slot.batch))),
                None => slot,
            },
            Err(_) => {
                return Err(DataError::NoHeader {
                    file: job.input_name.clone(),
                });
            }
        };
        let mut summary = Summary::new(job.heuristics.len());
        let layout = Arc::new(header(&slot.batch, job, &mut slot.out)?);
        let mut row = Row::new(job.schema.clone());
        evaluate_batch(&mut slot, 1, &layout, job, &mut row);
        finish(&mut slot, output, &mut summary, job).map_err(|e| e.with_names(&layout.names))?;
        let _ = empty_tx.send(slot);

        let input = Arc::new(Mutex::new(full_rx));
        let (done_tx, done_rx) = sync_channel::<Slot>(2 * workers);
        for _ in 0..workers {
            let (input, done, layout) = (input.clone(), done_tx.clone(), layout.clone());
            scope.spawn(move || worker(&input, &done, &layout, job));
        }
        // Workers own the input now: when they stop, the reader stops too.
        drop((input, done_tx));
        let mut next = 1;
        let mut pending: BTreeMap<u64, Slot> = BTreeMap::new();
        for done in done_rx {
            pending.insert(done.seq, done);
            while let Some(mut slot) = pending.remove(&next) {
                finish(&mut slot, output, &mut summary, job)
                    .map_err(|e| e.with_names(&layout.names))?;
                next += 1;
                let _ = empty_tx.send(slot);
            }
        }
        // Returning drops the receivers: blocked workers and the reader stop.
        if !pending.is_empty() {
            return Err(io_err(io::Error::other(
                "a worker stopped before the end of the input",
            )));
        }
        output.flush().map_err(|error| DataError::Write {
            target: job.output_name.clone(),
            error,
        })?;
        Ok(summary)
    })
}

/// Write one evaluated batch (or report its error), in input order.
fn finish<W: Write>(
    slot: &mut Slot,
    output: &mut W,
    summary: &mut Summary,
    job: &Job,
) -> Result<(), DataError> {
    if let Some(e) = slot.error.take() {
        return Err(e);
    }
    output
        .write_all(&slot.out)
        .map_err(|error| DataError::Write {
            target: job.output_name.clone(),
            error,
        })?;
    summary.merge(&slot.summary);
    if let Some(p) = job.progress {
        p(slot.batch.raw.len() as u64);
    }
    Ok(())
}

fn read_batches<R: Read>(
    input: R,
    full: SyncSender<Slot>,
    empty: Receiver<Slot>,
    file: &str,
    max_record: usize,
) {
    let mut reader = BatchReader::new(input).max_record_bytes(max_record);
    for seq in 0.. {
        // Waits for a slot to come back: this is what bounds memory.
        let Ok(mut slot) = empty.recv() else { return };
        slot.seq = seq;
        slot.error = None;
        match reader.next_batch(&mut slot.batch) {
            Ok(true) => {
                if full.send(slot).is_err() {
                    return;
                }
            }
            Ok(false) => return,
            Err(error) => {
                // In its slot, so the writer reports it in input order. A
                // data error keeps the records before it: the header may be
                // among them, to name the column.
                if matches!(error, ReadError::Io(_)) {
                    slot.batch = Batch::default();
                }
                slot.error = Some(DataError::from_read(error, file));
                let _ = full.send(slot);
                return;
            }
        }
    }
}

fn worker(input: &Mutex<Receiver<Slot>>, done: &SyncSender<Slot>, layout: &Layout, job: &Job) {
    let mut row = Row::new(job.schema.clone());
    loop {
        let next = match input.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(mut slot) = next else { return };
        slot.out.clear();
        shrink_if_huge(&mut slot.out, BATCH_BYTES);
        // A batch with a read error is not written: the error is reported.
        if slot.error.is_none() {
            evaluate_batch(&mut slot, 0, layout, job, &mut row);
        }
        if done.send(slot).is_err() {
            return;
        }
    }
}

/// Evaluate records `first..` of the slot's batch, appending to its output
/// buffer, stopping at the first error.
fn evaluate_batch(slot: &mut Slot, first: usize, layout: &Layout, job: &Job, row: &mut Row) {
    let Slot {
        batch,
        out,
        summary,
        error,
        ..
    } = slot;
    summary.reset(job.heuristics.len());
    for i in first..batch.len() {
        let fields = batch.record(i);
        if fields.len() != layout.names.len() {
            *error = Some(DataError::Ragged {
                file: job.input_name.clone(),
                line: batch.line(i),
                expected: layout.names.len(),
                found: fields.len(),
            });
            return;
        }
        let step = fill_row(row, fields, layout, job, batch, i, summary)
            .and_then(|()| write_record(row, batch, i, fields, layout, job, out, summary));
        if let Err(e) = step {
            *error = Some(e);
            return;
        }
        summary.rows += 1;
    }
}

impl Summary {
    fn new(heuristics: usize) -> Summary {
        Summary {
            tallies: vec![Tally::default(); heuristics],
            ..Summary::default()
        }
    }

    /// Empty again, keeping the allocations.
    fn reset(&mut self, heuristics: usize) {
        self.rows = 0;
        self.rows_missing_input = 0;
        self.bad_cells = 0;
        self.bad_examples.clear();
        self.tallies.clear();
        self.tallies.resize(heuristics, Tally::default());
    }

    fn merge(&mut self, other: &Summary) {
        self.rows += other.rows;
        self.rows_missing_input += other.rows_missing_input;
        self.bad_cells += other.bad_cells;
        for (a, b) in self.tallies.iter_mut().zip(&other.tallies) {
            a.trues += b.trues;
            a.falses += b.falses;
            a.missing += b.missing;
        }
        let room = MAX_BAD_EXAMPLES.saturating_sub(self.bad_examples.len());
        self.bad_examples
            .extend(other.bad_examples.iter().take(room).cloned());
    }
}

fn header(batch: &Batch, job: &Job, out: &mut Vec<u8>) -> Result<Layout, DataError> {
    let file = job.input_name.clone();
    if batch.is_empty() {
        return Err(DataError::NoHeader { file });
    }
    let fields = batch.record(0);
    let names = header_names(batch);
    let mut reads = Vec::with_capacity(job.fields.len());
    for &slot in &job.fields {
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
fn header_names(batch: &Batch) -> Vec<String> {
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
fn empty_field(out: &mut Vec<u8>, start: usize) {
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
            tally.add(h.write_cell(row, out).map_err(located)?);
        }
    } else {
        // --replace: cells are written one by one, so the row is rebuilt.
        let mut values = Vec::with_capacity(job.heuristics.len());
        for (h, tally) in job.heuristics.iter().zip(summary.tallies.iter_mut()) {
            let v = h.evaluate(row).map_err(located)?;
            tally.add(Written::of(&v));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QuantizationConfig;
    use crate::rules::{QUANTIZATION_RULE, QUANTIZATION_RULE_NAME, RuleSet};

    /// Gives `good` bytes of listings, then fails.
    struct FailingAfter {
        good: Vec<u8>,
        at: usize,
    }

    impl Read for FailingAfter {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at == self.good.len() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.good.len() - self.at);
            buf[..n].copy_from_slice(&self.good[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// Regression: a read error after the first batch was reported as "a
    /// worker stopped", losing its cause.
    #[test]
    fn a_read_error_mid_stream_is_reported_as_itself() {
        let mut good = b"model,vram_gb,tdp_watts,mig_support\n".to_vec();
        while good.len() < 3 * BATCH_BYTES {
            good.extend_from_slice(b"A30,24,165,True\n");
        }
        let texts = [(
            QUANTIZATION_RULE_NAME.to_string(),
            QUANTIZATION_RULE.to_string(),
        )];
        let schema = Schema::listing();
        let set = RuleSet::build(&texts, &schema, &QuantizationConfig::default().to_config());
        let rules = set.heuristics();
        for threads in [1, 2, 4] {
            let job = Job {
                heuristics: rules.iter().map(|h| h as &dyn Heuristic).collect(),
                schema: schema.clone(),
                fields: set
                    .compiled
                    .as_ref()
                    .expect("the rule compiles")
                    .fields_read_by(rules.iter().map(|h| h.item())),
                input_name: "in.csv".into(),
                output_name: "out.csv".into(),
                replace: false,
                lenient: false,
                progress: None,
                threads,
                max_record_bytes: crate::data::reader::DEFAULT_MAX_RECORD_BYTES,
            };
            let input = FailingAfter {
                good: good.clone(),
                at: 0,
            };
            let mut out = Vec::new();
            let err = run(input, &mut out, &job).expect_err("the read fails");
            assert_eq!(err.to_string(), "in.csv: disk on fire", "threads {threads}");
        }
    }
}

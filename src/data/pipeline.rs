//! The tagging pipeline's threads: a reader thread splits the input into
//! batches, workers evaluate them, this thread writes them in input order.
//! What a record becomes (header, typed row, output record) is in `layout`.

use super::chunk::{ChunkSpace, evaluate_chunk};
use super::layout::{Layout, evaluate_record, header, header_names};
use super::profile::{FieldProfile, ProfileSpec};
use super::reader::{BATCH_BYTES, Batch, BatchReader, ReadError, shrink_if_huge};
/// Why a cell could not be read as its field's type ([`DataError::Cell`]).
pub use crate::cell::CellError;
use crate::eval::{EvalError, Row, Value, Written};
use crate::heuristic::Heuristic;
use crate::schema::Schema;
use crate::types::{FieldType, OutputType};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// What to run over a CSV stream.
pub struct Job<'a> {
    pub heuristics: Vec<&'a dyn Heuristic>,
    /// Rows are written only where every filter gives `Value::Bool(true)`
    /// (false and missing drop the row); filters are not written as columns.
    /// The fields they read are parsed whether or not [`Job::fields`] lists
    /// them.
    pub filters: Vec<&'a dyn Heuristic>,
    /// Pairs of heuristics evaluated on every row read (before the
    /// filters), whose values are compared: [`Summary::pairs`] counts the
    /// rows by each pair's (first, second) values (`diff`: a rule before
    /// and after a change). Not written as columns; the fields they read
    /// are parsed whether or not [`Job::fields`] lists them. Empty for
    /// `eval`, which then pays one test per row.
    pub compare: Vec<[&'a dyn Heuristic; 2]>,
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
    /// Tally every value (enum variants, number ranges and percentiles) for
    /// the per-rule summary; when false only true, false and missing are
    /// counted, which is cheaper (`eval` without a summary to print).
    pub tally_values: bool,
    /// Which input columns are written, and as CSV or JSON Lines.
    pub shape: Shape,
    /// Fields to profile over every row read ([`Summary::profiles`]:
    /// `lint --data`); each must be among [`Job::fields`]. Empty for
    /// `eval`, which then pays one test per row.
    pub profile: Vec<ProfileSpec>,
    /// Evaluate compiled rules one row at a time, as heuristics written in
    /// Rust are, instead of a chunk of rows at a time. The answers are the
    /// same either way (the tests compare them); this exists to compare
    /// the two paths.
    pub row_at_a_time: bool,
}

/// How output records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// CSV: the header, then one record per row (the input's line endings).
    #[default]
    Csv,
    /// JSON Lines: one object per row, no header line; input cells as
    /// strings, rule values typed (`null` for missing).
    Jsonl,
}

/// The output's columns and form (`--columns`, `--output-format`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// Input columns to write, by header name, in this order; `None`
    /// writes them all. The rules' columns follow. An input column left
    /// out does not clash with a rule of its name.
    pub columns: Option<Vec<String>>,
    pub format: OutputFormat,
}

impl<'a> Job<'a> {
    /// A job running `heuristics` over rows of `schema`, parsing the cells
    /// of the fields they read ([`Heuristic::fields`]), with the command
    /// line's defaults: one worker, records up to
    /// [`DEFAULT_MAX_RECORD_BYTES`](super::reader::DEFAULT_MAX_RECORD_BYTES),
    /// no `--replace`, no `--lenient`, no progress. Its fields are public:
    /// change any of them after.
    ///
    /// Fails when a heuristic names a field `schema` does not have.
    pub fn new(
        heuristics: Vec<&'a dyn Heuristic>,
        schema: Arc<Schema>,
    ) -> Result<Job<'a>, DataError> {
        let fields = fields_read(&heuristics, &schema)?;
        Ok(Job {
            heuristics,
            filters: Vec::new(),
            compare: Vec::new(),
            schema,
            fields,
            input_name: "<input>".to_string(),
            output_name: "<output>".to_string(),
            replace: false,
            lenient: false,
            progress: None,
            threads: 1,
            max_record_bytes: super::reader::DEFAULT_MAX_RECORD_BYTES,
            tally_values: true,
            shape: Shape::default(),
            profile: Vec::new(),
            row_at_a_time: false,
        })
    }
}

/// The schema slots `heuristics` read, sorted (as [`Job::fields`] takes
/// them): the union of their [`Heuristic::fields`], every slot for one
/// that does not say.
pub fn fields_read(
    heuristics: &[&dyn Heuristic],
    schema: &Schema,
) -> Result<Vec<usize>, DataError> {
    let mut read = vec![false; schema.fields.len()];
    for h in heuristics {
        match h.fields() {
            None => read.fill(true),
            Some(names) => {
                for name in names {
                    let slot = schema.slot(&name).ok_or_else(|| DataError::UnknownField {
                        heuristic: h.name().to_string(),
                        field: name.clone(),
                    })?;
                    read[slot] = true;
                }
            }
        }
    }
    Ok((0..read.len()).filter(|&s| read[s]).collect())
}

/// Per-output tallies: counts and ranges only, so that batches merge in
/// any grouping to the same result (the summary does not depend on
/// `--threads`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub trues: u64,
    pub falses: u64,
    pub missing: u64,
    /// Rows per enum variant, by the variant's index in its enum (shorter
    /// than the enum when its last variants were never written).
    pub variants: Vec<u64>,
    /// Smallest and largest int written, if any.
    pub int_range: Option<(i64, i64)>,
    /// Smallest and largest float written, if any.
    pub float_range: Option<(f64, f64)>,
    /// Cells that were a string (or a variant a heuristic did not index).
    pub others: u64,
    /// Ints and floats written, by [`histogram_bucket`]: empty until a
    /// number is written. Counts, so merging is exact and order-free.
    pub histogram: Vec<u64>,
}

/// Sub-buckets per power of two (3 mantissa bits): a bucket spans 1/8 of
/// its power of two, so a quantile read from it is within about 6%.
const SUB_BITS: u32 = 3;
/// Magnitudes from 2^-32 to 2^64 get their own buckets; smaller and
/// larger ones share the end buckets.
const EXP_LO: i64 = -32;
const EXP_HI: i64 = 64;
const MAGNITUDES: usize = ((EXP_HI - EXP_LO) as usize) << SUB_BITS;
/// Negative magnitudes (largest first), zero, positive magnitudes.
pub const HISTOGRAM_BUCKETS: usize = 2 * MAGNITUDES + 1;

/// The histogram bucket of `x`: buckets are in the order of the values.
pub fn histogram_bucket(x: f64) -> usize {
    if x == 0.0 || x.is_nan() {
        return MAGNITUDES;
    }
    let bits = x.abs().to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mag = if exp < EXP_LO {
        0
    } else if exp >= EXP_HI {
        MAGNITUDES - 1
    } else {
        (((exp - EXP_LO) as usize) << SUB_BITS) | ((bits >> (52 - SUB_BITS)) & 7) as usize
    };
    if x < 0.0 {
        MAGNITUDES - 1 - mag
    } else {
        MAGNITUDES + 1 + mag
    }
}

/// The middle of a bucket's values (its bounds' mean).
pub fn histogram_value(bucket: usize) -> f64 {
    if bucket == MAGNITUDES {
        return 0.0;
    }
    let (mag, sign) = if bucket < MAGNITUDES {
        (MAGNITUDES - 1 - bucket, -1.0)
    } else {
        (bucket - MAGNITUDES - 1, 1.0)
    };
    let exp = (mag >> SUB_BITS) as i32 + EXP_LO as i32;
    let sub = (mag & 7) as f64;
    sign * 2f64.powi(exp) * (1.0 + (sub + 0.5) / 8.0)
}

impl Tally {
    /// Count one written value: fully (variants, ranges, percentiles) when
    /// a summary will be printed, else true/false/missing only. Inlined so
    /// the per-cell path without a summary stays a plain counter.
    #[inline(always)]
    pub(super) fn count(&mut self, w: Written, full: bool) {
        if full { self.add(w) } else { self.add_basic(w) }
    }

    #[inline(always)]
    pub(super) fn add_basic(&mut self, w: Written) {
        match w {
            Written::True => self.trues += 1,
            Written::False => self.falses += 1,
            Written::Missing => self.missing += 1,
            _ => {}
        }
    }

    pub(super) fn add(&mut self, w: Written) {
        match w {
            Written::True => self.trues += 1,
            Written::False => self.falses += 1,
            Written::Missing => self.missing += 1,
            Written::Int(i) => {
                widen(&mut self.int_range, (i, i));
                self.count_number(i as f64);
            }
            Written::Float(f) => {
                widen(&mut self.float_range, (f, f));
                self.count_number(f);
            }
            Written::Variant(k) => {
                let k = k as usize;
                if k >= self.variants.len() {
                    self.variants.resize(k + 1, 0);
                }
                self.variants[k] += 1;
            }
            Written::Other => self.others += 1,
        }
    }

    fn count_number(&mut self, x: f64) {
        if self.histogram.is_empty() {
            self.histogram.resize(HISTOGRAM_BUCKETS, 0);
        }
        let k = histogram_bucket(x);
        if let Some(n) = self.histogram.get_mut(k) {
            *n += 1;
        }
    }

    /// The approximate `q` quantile (0 to 1) of the numbers written, within
    /// the smallest and largest: `None` when none was written.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total: u64 = self.histogram.iter().sum();
        if total == 0 {
            return None;
        }
        let (lo, hi) = match (self.int_range, self.float_range) {
            (Some((a, b)), _) => (a as f64, b as f64),
            (None, Some(r)) => r,
            (None, None) => return None,
        };
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (k, n) in self.histogram.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(histogram_value(k).clamp(lo, hi));
            }
        }
        None
    }

    /// Zero, keeping the allocations.
    fn clear(&mut self) {
        let (variants, histogram) = (
            std::mem::take(&mut self.variants),
            std::mem::take(&mut self.histogram),
        );
        *self = Tally {
            variants,
            histogram,
            ..Tally::default()
        };
        self.variants.fill(0);
        self.histogram.fill(0);
    }

    fn merge(&mut self, b: &Tally) {
        if self.histogram.len() < b.histogram.len() {
            self.histogram.resize(b.histogram.len(), 0);
        }
        for (a, n) in self.histogram.iter_mut().zip(&b.histogram) {
            *a += n;
        }
        self.trues += b.trues;
        self.falses += b.falses;
        self.missing += b.missing;
        self.others += b.others;
        if self.variants.len() < b.variants.len() {
            self.variants.resize(b.variants.len(), 0);
        }
        for (a, n) in self.variants.iter_mut().zip(&b.variants) {
            *a += n;
        }
        if let Some(r) = b.int_range {
            widen(&mut self.int_range, r);
        }
        if let Some(r) = b.float_range {
            widen(&mut self.float_range, r);
        }
    }
}

/// A number a range (smallest, largest) is kept of: `min` and `max` as the
/// type has them (for floats `f64::min`/`max`, which pass over a NaN).
pub(super) trait Bound: Copy {
    fn lesser(self, other: Self) -> Self;
    fn greater(self, other: Self) -> Self;
}

impl Bound for i64 {
    fn lesser(self, other: i64) -> i64 {
        self.min(other)
    }
    fn greater(self, other: i64) -> i64 {
        self.max(other)
    }
}

impl Bound for f64 {
    fn lesser(self, other: f64) -> f64 {
        self.min(other)
    }
    fn greater(self, other: f64) -> f64 {
        self.max(other)
    }
}

/// Widen `range` to take in `lo..=hi` (it becomes that when it was `None`).
pub(super) fn widen<T: Bound>(range: &mut Option<(T, T)>, (lo, hi): (T, T)) {
    *range = Some(match *range {
        Some((a, b)) => (a.lesser(lo), b.greater(hi)),
        None => (lo, hi),
    });
}

/// A value as a from→to table counts it: bools and enum variants by
/// value, any other value (a number, a string) as `Value`. In table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    True,
    False,
    /// An enum variant, by its index in its side's output type.
    Variant(u32),
    /// A number or a string (compared by value for [`PairTally::changed`]).
    Value,
    Missing,
}

impl Class {
    /// The class of `v`, an enum variant indexed among `ty`'s variants.
    pub fn of(v: &Value, ty: &OutputType) -> Class {
        match v {
            Value::Bool(true) => Class::True,
            Value::Bool(false) => Class::False,
            Value::Missing => Class::Missing,
            Value::Enum(_) => match ty {
                OutputType::Enum(names) => match Written::of_typed(v, names) {
                    Written::Variant(k) => Class::Variant(k),
                    _ => Class::Value,
                },
                _ => Class::Value,
            },
            _ => Class::Value,
        }
    }
}

/// Joint counts of one compared pair ([`Job::compare`]) over the rows
/// read: counts only, so batches merge in any grouping to the same result
/// (nothing depends on `--threads`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairTally {
    /// Rows by (first's class, second's class), unchanged rows included
    /// (`true → true`), so each side's own counts are the table's margins.
    /// Sorted by the pair of classes.
    pub cells: Vec<(Class, Class, u64)>,
    /// Rows where the two values differ: another class, or another value
    /// of the class `Value` (an int and a float compare by value).
    pub changed: u64,
    /// Of `changed`, rows where both are numbers and the second is larger.
    pub up: u64,
    /// Of `changed`, rows where both are numbers and the second is smaller.
    pub down: u64,
}

impl PairTally {
    /// Count one row's pair of values.
    pub fn add(&mut self, a: &Value, b: &Value, types: &[OutputType; 2]) {
        let (ca, cb) = (Class::of(a, &types[0]), Class::of(b, &types[1]));
        self.bump(ca, cb, 1);
        if ca != cb {
            self.changed += 1;
        } else if ca == Class::Value {
            match order(a, b) {
                Some(std::cmp::Ordering::Equal) => {}
                Some(std::cmp::Ordering::Less) => {
                    self.changed += 1;
                    self.up += 1;
                }
                Some(std::cmp::Ordering::Greater) => {
                    self.changed += 1;
                    self.down += 1;
                }
                None => self.changed += (a != b) as u64,
            }
        }
    }

    /// Rows whose first value is of class `c` (the before side's counts).
    pub fn first(&self, c: Class) -> u64 {
        self.cells.iter().filter(|x| x.0 == c).map(|x| x.2).sum()
    }

    /// Rows whose second value is of class `c` (the after side's counts).
    pub fn second(&self, c: Class) -> u64 {
        self.cells.iter().filter(|x| x.1 == c).map(|x| x.2).sum()
    }

    /// Add `n` rows to the cell (`x`, `y`), keeping the cells sorted.
    fn bump(&mut self, x: Class, y: Class, n: u64) {
        match self
            .cells
            .binary_search_by(|(p, q, _)| (*p, *q).cmp(&(x, y)))
        {
            Ok(k) => self.cells[k].2 += n,
            Err(k) => self.cells.insert(k, (x, y, n)),
        }
    }

    fn clear(&mut self) {
        self.cells.clear();
        self.changed = 0;
        self.up = 0;
        self.down = 0;
    }

    fn merge(&mut self, b: &PairTally) {
        for &(x, y, n) in &b.cells {
            self.bump(x, y, n);
        }
        self.changed += b.changed;
        self.up += b.up;
        self.down += b.down;
    }
}

/// Two numbers by value (an int and a float exactly); `None` otherwise.
fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) => Some(crate::ops::int_float(*x, *y)),
        (Value::Float(x), Value::Int(y)) => Some(crate::ops::int_float(*y, *x).reverse()),
        _ => None,
    }
}

/// Whether a compared pair's values differ, as [`PairTally::changed`]
/// counts them (`diff -o` writes the rows where one does).
pub fn values_differ(a: &Value, b: &Value) -> bool {
    match order(a, b) {
        Some(o) => o != std::cmp::Ordering::Equal,
        None => a != b,
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Rows read (records after the header).
    pub rows: u64,
    /// Rows written (rows read minus rows dropped by filters).
    pub rows_written: u64,
    /// Per heuristic, in order, over the rows written.
    pub tallies: Vec<Tally>,
    /// Per compared pair ([`Job::compare`]), in order, over the rows read.
    pub pairs: Vec<PairTally>,
    /// Rows where at least one field the heuristics read was missing.
    pub rows_missing_input: u64,
    /// Cells read as missing under `--lenient`.
    pub bad_cells: u64,
    /// The first few of them, as messages.
    pub bad_examples: Vec<String>,
    /// Per [`Job::profile`] spec, in order, over the rows read.
    pub profiles: Vec<FieldProfile>,
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
    /// A column [`Shape::columns`] names is not in the header; `hint` is a
    /// "did you mean" or the header's names.
    #[error(
        "{file}: --columns: no column `{}` in the header; {hint}",
        show_name(column)
    )]
    UnknownColumn {
        file: String,
        column: String,
        hint: String,
    },
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
    /// A heuristic says it reads a field the job's schema does not have
    /// ([`Job::new`]).
    #[error(
        "heuristic `{}` reads field `{}`, which the schema does not have",
        show_name(heuristic),
        show_name(field)
    )]
    UnknownField { heuristic: String, field: String },
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
    format!("{}{}", crate::diagnostic::printable(head), left_out(rest))
}

/// The header's names as listed in an error: the first `SHOW_NAMES`.
pub(super) fn name_list(names: &[String]) -> String {
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
        let batch_bytes = batch_bytes(job);
        scope.spawn(move || read_batches(input, full_tx, empty_rx, file, max_record, batch_bytes));
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
        let mut summary = Summary::for_job(job);
        let layout = Arc::new(header(&slot.batch, job, &mut slot.out)?);
        let mut row = Row::new(job.schema.clone());
        let mut chunk = ChunkSpace::default();
        evaluate_batch(&mut slot, 1, &layout, job, &mut row, &mut chunk);
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

/// Input bytes per batch. Each output cell adds to a record, so with many
/// outputs a batch's output is many times its input: batches shrink as
/// outputs grow past 64 (a thousand rules write about 14 times the input),
/// so that the slots in flight, and memory, stay about the same size.
fn batch_bytes(job: &Job) -> usize {
    let cells = job.heuristics.len() + 2 * job.compare.len();
    BATCH_BYTES * 64 / cells.max(64)
}

fn read_batches<R: Read>(
    input: R,
    full: SyncSender<Slot>,
    empty: Receiver<Slot>,
    file: &str,
    max_record: usize,
    batch_bytes: usize,
) {
    let mut reader = BatchReader::with_batch_bytes(input, batch_bytes).max_record_bytes(max_record);
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
    let mut chunk = ChunkSpace::default();
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
            evaluate_batch(&mut slot, 0, layout, job, &mut row, &mut chunk);
        }
        if done.send(slot).is_err() {
            return;
        }
    }
}

/// Evaluate records `first..` of the slot's batch, appending to its output
/// buffer, stopping at the first error. Compiled rules run a chunk of
/// records at a time when the layout allows it; a chunk that cannot (a
/// problem in it to report) and every other job run record by record.
fn evaluate_batch(
    slot: &mut Slot,
    first: usize,
    layout: &Layout,
    job: &Job,
    row: &mut Row,
    chunk: &mut ChunkSpace,
) {
    let Slot {
        batch,
        out,
        summary,
        error,
        ..
    } = slot;
    summary.reset(job);
    let mut from = first;
    while from < batch.len() {
        let plan = layout.plan();
        let to = plan.map_or(batch.len(), |p| (from + p.rows()).min(batch.len()));
        let chunked = plan.is_some_and(|plan| {
            evaluate_chunk(batch, from..to, layout, plan, job, out, summary, chunk).is_ok()
        });
        // Without a plan, or for a chunk handed back: record by record.
        if !chunked {
            for i in from..to {
                match evaluate_record(row, batch, i, layout, job, out, summary) {
                    Ok(written) => summary.rows_written += written as u64,
                    Err(e) => {
                        *error = Some(e);
                        return;
                    }
                }
                summary.rows += 1;
            }
        }
        from = to;
    }
}

impl Summary {
    /// An empty summary shaped for `job`: a tally per heuristic, a pair
    /// tally per compared pair, a profile per profiled field.
    fn for_job(job: &Job) -> Summary {
        Summary {
            tallies: vec![Tally::default(); job.heuristics.len()],
            pairs: vec![PairTally::default(); job.compare.len()],
            profiles: job.profile.iter().map(FieldProfile::for_spec).collect(),
            ..Summary::default()
        }
    }

    /// Empty again and shaped for `job`, keeping the allocations.
    fn reset(&mut self, job: &Job) {
        self.rows = 0;
        self.rows_written = 0;
        self.rows_missing_input = 0;
        self.bad_cells = 0;
        self.bad_examples.clear();
        self.tallies.resize(job.heuristics.len(), Tally::default());
        for t in &mut self.tallies {
            t.clear();
        }
        self.pairs.resize(job.compare.len(), PairTally::default());
        for p in &mut self.pairs {
            p.clear();
        }
        if self.profiles.len() == job.profile.len() {
            for p in &mut self.profiles {
                p.clear();
            }
        } else {
            self.profiles = job.profile.iter().map(FieldProfile::for_spec).collect();
        }
    }

    fn merge(&mut self, other: &Summary) {
        self.rows += other.rows;
        self.rows_written += other.rows_written;
        self.rows_missing_input += other.rows_missing_input;
        self.bad_cells += other.bad_cells;
        for (a, b) in self.tallies.iter_mut().zip(&other.tallies) {
            a.merge(b);
        }
        for (a, b) in self.pairs.iter_mut().zip(&other.pairs) {
            a.merge(b);
        }
        for (a, b) in self.profiles.iter_mut().zip(&other.profiles) {
            a.merge(b);
        }
        let room = MAX_BAD_EXAMPLES.saturating_sub(self.bad_examples.len());
        self.bad_examples
            .extend(other.bad_examples.iter().take(room).cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_quantiles_are_within_a_sixteenth_of_the_exact_ones() {
        let mut t = Tally::default();
        let mut values: Vec<f64> = (0..1000).map(|k| (k as f64 - 300.0) * 1.37).collect();
        for &v in &values {
            t.add(Written::Float(v));
        }
        values.sort_by(f64::total_cmp);
        for q in [0.1, 0.5, 0.9] {
            let exact = values[(q * 1000.0) as usize - 1];
            let got = t.quantile(q).expect("numbers were written");
            assert!(
                (got - exact).abs() <= exact.abs() / 16.0 + 1e-9,
                "{q}: {got} vs {exact}"
            );
        }
        // Buckets follow the values' order, across signs and magnitudes.
        let xs = [-1e300, -5.0, -1e-40, 0.0, 1e-40, 3.0, 3.5, 1e19, 1e300];
        for w in xs.windows(2) {
            assert!(histogram_bucket(w[0]) <= histogram_bucket(w[1]), "{w:?}");
            assert!(histogram_bucket(w[1]) < HISTOGRAM_BUCKETS);
        }
    }
    use crate::config::QuantizationConfig;
    use crate::rules::{QUANTIZATION_RULE, QUANTIZATION_RULE_NAME, RuleSet};

    /// `true` where the `vram_gb` cell reads at least `min` (missing when
    /// it is missing).
    struct AtLeast(f64);

    impl Heuristic for AtLeast {
        fn name(&self) -> &str {
            "at_least"
        }
        fn output_type(&self) -> crate::types::OutputType {
            crate::types::OutputType::Bool
        }
        fn fields(&self) -> Option<Vec<String>> {
            Some(vec!["vram_gb".to_string()])
        }
        fn evaluate(&self, row: &Row) -> Result<crate::eval::Value, EvalError> {
            Ok(match row.number("vram_gb") {
                Some(gb) => crate::eval::Value::Bool(gb >= self.0),
                None => crate::eval::Value::Missing,
            })
        }
    }

    #[test]
    fn filters_drop_false_and_missing_rows_and_tallies_count_written_rows() {
        let csv = "model,vram_gb,tdp_watts\nA,80,300\nB,16,100\nC,,200\nD,48,400\n";
        let out_rule = AtLeast(40.0);
        let filter = AtLeast(20.0);
        for threads in [1, 3] {
            let mut job =
                Job::new(vec![&out_rule], Schema::listing()).expect("the schema has vram_gb");
            job.filters = vec![&filter];
            // The filter's field is read although `fields` does not list it.
            job.fields.clear();
            job.threads = threads;
            let mut out = Vec::new();
            let s = run(csv.as_bytes(), &mut out, &job).expect("runs");
            assert_eq!(
                String::from_utf8_lossy(&out),
                "model,vram_gb,tdp_watts,at_least\nA,80,300,true\nD,48,400,true\n"
            );
            assert_eq!((s.rows, s.rows_written), (4, 2));
            assert_eq!((s.tallies[0].trues, s.tallies[0].falses), (2, 0));
            assert_eq!(s.tallies[0].missing, 0);
        }
    }

    /// The pairs' joint counts cover every row read (filters or not), and
    /// merge per batch to the same result whatever the number of threads.
    #[test]
    fn compared_pairs_count_every_row_whatever_the_threads() {
        let mut csv = b"model,vram_gb\n".to_vec();
        let sizes = ["16", "24", "48", "80", ""];
        let mut rows = 0u64;
        while csv.len() < 3 * BATCH_BYTES || !rows.is_multiple_of(5) {
            let gb = sizes[(rows % 5) as usize];
            csv.extend_from_slice(format!("card{rows},{gb}\n").as_bytes());
            rows += 1;
        }
        let (low, high) = (AtLeast(20.0), AtLeast(40.0));
        let never = AtLeast(1e9);
        let mut seen = Vec::new();
        for threads in [1, 4] {
            let mut job = Job::new(Vec::new(), Schema::listing()).expect("no heuristics");
            job.compare = vec![[&low, &high], [&high, &high]];
            job.filters = vec![&never];
            job.threads = threads;
            let s = run(&csv[..], &mut io::sink(), &job).expect("runs");
            assert_eq!((s.rows, s.rows_written), (rows, 0));
            let fifth = rows / 5;
            let p = &s.pairs[0];
            // 24 is true then false: 1 in 5 rows; 16 false/false, 48 and 80 true/true.
            assert_eq!(p.changed, fifth, "threads {threads}");
            assert_eq!(p.first(Class::True), 3 * fifth);
            assert_eq!(p.second(Class::True), 2 * fifth);
            assert_eq!(p.first(Class::Missing), fifth);
            assert_eq!(s.pairs[1].changed, 0);
            seen.push(s.pairs);
        }
        assert_eq!(seen[0], seen[1]);
    }

    #[test]
    fn values_differ_by_value_across_int_and_float() {
        use crate::eval::Value as V;
        assert!(!values_differ(&V::Int(3), &V::Float(3.0)));
        assert!(values_differ(&V::Int(3), &V::Float(3.5)));
        assert!(values_differ(&V::Missing, &V::Int(0)));
        assert!(!values_differ(&V::Missing, &V::Missing));
        assert!(values_differ(&V::Str("a".into()), &V::Str("b".into())));
        let mut t = PairTally::default();
        let ty = [OutputType::Float, OutputType::Int];
        t.add(&V::Float(2.5), &V::Int(3), &ty);
        t.add(&V::Float(3.0), &V::Int(3), &ty);
        t.add(&V::Float(4.0), &V::Missing, &ty);
        assert_eq!((t.changed, t.up, t.down), (2, 1, 0));
        assert_eq!(
            t.cells,
            vec![
                (Class::Value, Class::Value, 2),
                (Class::Value, Class::Missing, 1)
            ]
        );
    }

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
                filters: Vec::new(),
                compare: Vec::new(),
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
                tally_values: true,
                shape: Shape::default(),
                profile: Vec::new(),
                row_at_a_time: false,
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

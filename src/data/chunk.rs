//! The batch path: a chunk of records parsed into columns, the compiled
//! rules evaluated over the whole chunk at once (`eval::batch`), then the
//! records the filters keep written with the rules' cells. The layout takes
//! it when every output and filter is a compiled rule of one program and
//! each output record is the input record plus the rules' cells (CSV, no
//! `--columns`, no `--replace`). A chunk with a problem in it (a ragged
//! record, a cell that does not parse, a runtime error) is handed back, to
//! be run record by record: that path reports it, at its line, as always.

use super::layout::{CellSink, Layout, empty_field, fill};
use super::pipeline::{Job, Summary};
use super::reader::Batch;
use crate::eval::batch::{Col, Columns, Plan, Space, evaluate};
use crate::value::Val;
use std::ops::Range;

/// A worker's buffers for the batch path, reused from chunk to chunk.
#[derive(Debug, Default)]
pub(super) struct ChunkSpace {
    cols: Columns,
    space: Space,
}

/// The chunk must be run record by record; nothing was written for it and
/// the summary is as it was.
#[derive(Debug)]
pub(super) struct Redo;

/// One row of a chunk's columns, as a place to parse cells into.
struct ChunkRow<'a> {
    cols: &'a mut Columns,
    row: usize,
}

impl CellSink for ChunkRow<'_> {
    fn text(&mut self, slot: usize, bytes: &[u8]) {
        self.cols.set_text(slot, self.row, bytes);
    }
    fn value(&mut self, slot: usize, v: Val) {
        self.cols.set(slot, self.row, v);
    }
    fn missing(&mut self, slot: usize) {
        self.cols.set(slot, self.row, Val::Missing);
    }
}

/// Evaluate records `records` of `batch` (at most [`Plan::rows`]) and
/// append the output records of those every filter keeps.
#[allow(clippy::too_many_arguments)]
pub(super) fn evaluate_chunk(
    batch: &Batch,
    records: Range<usize>,
    layout: &Layout,
    plan: &Plan,
    job: &Job,
    out: &mut Vec<u8>,
    summary: &mut Summary,
    w: &mut ChunkSpace,
) -> Result<(), Redo> {
    // Parsing counts bad cells under --lenient: undone if the chunk is
    // handed back, so the record-by-record run does not count them twice.
    let mark = (
        summary.rows_missing_input,
        summary.bad_cells,
        summary.bad_examples.len(),
    );
    let redo = |summary: &mut Summary| {
        summary.rows_missing_input = mark.0;
        summary.bad_cells = mark.1;
        summary.bad_examples.truncate(mark.2);
        Redo
    };
    w.cols.clear(job.schema.fields.len());
    for i in records.clone() {
        let fields = batch.record(i);
        let row = w.cols.push();
        let mut sink = ChunkRow {
            cols: &mut w.cols,
            row,
        };
        if fields.len() != layout.names.len()
            || fill(&mut sink, fields, layout, job, batch, i, summary).is_err()
        {
            return Err(redo(summary));
        }
    }
    if evaluate(plan, &w.cols, &mut w.space).is_err() {
        return Err(redo(summary));
    }
    let (cols, space) = (&w.cols, &w.space);
    // Counted a column at a time, apart from writing: each loop stays small.
    for (k, tally) in summary.tallies.iter_mut().enumerate() {
        for written in space.written(plan, k) {
            tally.count(written, job.tally_values);
        }
    }
    let outputs: Vec<&Col> = space.outputs(plan).collect();
    for &j in space.kept() {
        let raw = batch.raw_record(records.start + j as usize);
        let start = out.len();
        out.reserve(raw.len() + 24 * outputs.len() + 2);
        out.extend_from_slice(raw);
        for values in &outputs {
            out.push(b',');
            space.write(plan, cols, values[j as usize], out);
        }
        empty_field(out, start);
        out.extend_from_slice(layout.terminator);
    }
    summary.rows += records.len() as u64;
    summary.rows_written += space.kept().len() as u64;
    Ok(())
}

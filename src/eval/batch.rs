//! Batch evaluation: compiled register code run over a chunk of rows at a
//! time, so each instruction's dispatch is paid once per chunk instead of
//! once per row. Registers and item results are columns; `and`, `or`, `if`
//! and `coalesce` split the chunk's rows into selections that rejoin where
//! the code jumps to. The values are the row machine's (`vm.rs`) cell for
//! cell: both apply the same per-value operations (`ops`, `compare`,
//! `call`) with the same missing-value rules. A runtime error is not
//! located here: the caller runs the chunk again row by row, which reports
//! the first failing row in input order, with the row machine's message.

use super::value::Written;
use super::vm::{call, compare, in_list, write_val, written};
use crate::compile::{Compiled, Instr, Src};
use crate::ops::{Arith, CmpOp, Fault, Func, arith, neg, numeric};
use crate::value::Val;
use std::cmp::Ordering;
use std::sync::Arc;

/// The most rows in a chunk: row indices are bytes and columns arrays of
/// this length, so indexing a column needs no bounds check. Fewer rows are
/// used when the rules are many, so that a chunk's results stay in cache
/// (see [`Plan::rows`]).
pub(crate) const CHUNK: usize = 256;

/// Bytes of results and registers a chunk aims to stay within.
const CHUNK_BYTES: usize = 1 << 20;

/// One value per row of a chunk.
pub(crate) type Col = Box<[Val; CHUNK]>;

fn col() -> Col {
    Box::new([Val::Missing; CHUNK])
}

/// A chunk of rows as columns: one column of values per schema slot (slots
/// no rule reads stay missing), the bytes of their strings in `text`.
#[derive(Debug, Default)]
pub(crate) struct Columns {
    len: usize,
    cols: Vec<Col>,
    text: Vec<u8>,
}

impl Columns {
    /// Empty again, for rows with `slots` fields.
    pub(crate) fn clear(&mut self, slots: usize) {
        self.len = 0;
        self.text.clear();
        if self.cols.len() != slots {
            self.cols = (0..slots).map(|_| col()).collect();
        }
    }

    /// Add a row (at most [`CHUNK`]); the caller sets each slot it reads
    /// (with [`Columns::set`] or [`Columns::set_text`]), missing ones too.
    pub(crate) fn push(&mut self) -> usize {
        debug_assert!(self.len < CHUNK, "a chunk has at most CHUNK rows");
        self.len += 1;
        self.len - 1
    }

    pub(crate) fn set(&mut self, slot: usize, row: usize, v: Val) {
        self.cols[slot][row] = v;
    }

    pub(crate) fn set_text(&mut self, slot: usize, row: usize, bytes: &[u8]) {
        let start = self.text.len() as u32;
        self.text.extend_from_slice(bytes);
        self.cols[slot][row] = Val::Str(crate::value::StrRef {
            pool: crate::value::Pool::Row,
            start,
            len: bytes.len() as u32,
        });
    }
}

/// What a job computes over each chunk: its filters in order (a row must
/// pass each to reach the next), then its outputs over the rows kept; each
/// step lists the items it needs that earlier steps did not compute, every
/// item after the items it reads. This is the row machine's order per row:
/// a filter that fails leaves the later filters and the outputs unread.
#[derive(Debug)]
pub(crate) struct Plan {
    prog: Arc<Compiled>,
    filters: Vec<(u32, Vec<u32>)>,
    /// The outputs' result columns, in output order.
    output_columns: Vec<u32>,
    rest: Vec<u32>,
    /// By item, its result column in [`Space`] (`u32::MAX`: not computed).
    column: Vec<u32>,
    columns: usize,
    rows: usize,
}

impl Plan {
    /// The plan for `filters` (bool items) then `outputs`, items of `prog`.
    pub(crate) fn new(prog: Arc<Compiled>, filters: &[u32], outputs: &[u32]) -> Plan {
        let mut done = vec![false; prog.items.len()];
        let filters: Vec<(u32, Vec<u32>)> = filters
            .iter()
            .map(|&f| (f, dependency_order(&prog, [f], &mut done)))
            .collect();
        let rest = dependency_order(&prog, outputs.iter().copied(), &mut done);
        let mut column = vec![u32::MAX; prog.items.len()];
        let mut columns = 0;
        for &item in filters.iter().flat_map(|(_, items)| items).chain(&rest) {
            column[item as usize] = columns as u32;
            columns += 1;
        }
        let per_row = (columns + prog.registers.max(1)) * std::mem::size_of::<Val>();
        let rows = (CHUNK_BYTES / per_row).clamp(16, CHUNK);
        Plan {
            output_columns: outputs.iter().map(|&o| column[o as usize]).collect(),
            prog,
            filters,
            rest,
            column,
            columns,
            rows,
        }
    }

    /// Rows per chunk for this plan (at most [`CHUNK`]).
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }
}

/// The items `roots` read, directly or not, and themselves, that are not
/// `done` yet, each after the items it reads (marked done as they are
/// listed). Iterative: a long chain of lets does not grow the call stack.
fn dependency_order(
    prog: &Compiled,
    roots: impl IntoIterator<Item = u32>,
    done: &mut [bool],
) -> Vec<u32> {
    let mut order = Vec::new();
    let mut stack: Vec<(u32, usize)> = Vec::new();
    for root in roots {
        if std::mem::replace(&mut done[root as usize], true) {
            continue;
        }
        stack.push((root, 0));
        while let Some(top) = stack.last_mut() {
            let (item, next) = *top;
            match prog.items[item as usize].deps.get(next) {
                Some(&dep) => {
                    top.1 += 1;
                    if !std::mem::replace(&mut done[dep as usize], true) {
                        stack.push((dep, 0));
                    }
                }
                None => {
                    stack.pop();
                    order.push(item);
                }
            }
        }
    }
    order
}

/// A runtime error happened on some row of the chunk (which one, and the
/// message, come from running the chunk again row by row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failed;

/// A worker's working space for batch evaluation: register and result
/// columns, strings made by `lower`/`upper`, and row selections. Reused
/// from chunk to chunk, so evaluation allocates nothing once it runs.
#[derive(Debug, Default)]
pub(crate) struct Space {
    owner: usize,
    regs: Vec<Col>,
    results: Vec<Col>,
    text: Vec<u8>,
    /// The rows every filter kept, in order.
    kept: Vec<u8>,
    active: Vec<u8>,
    /// Rows waiting to rejoin at a code position, by position.
    waiting: Vec<(u32, Vec<u8>)>,
    spare: Vec<Vec<u8>>,
    args: Vec<Val>,
}

impl Space {
    fn adopt(&mut self, plan: &Plan) {
        if self.owner == plan.prog.id && self.results.len() == plan.columns {
            return;
        }
        self.owner = plan.prog.id;
        self.regs = (0..plan.prog.registers.max(1)).map(|_| col()).collect();
        self.results = (0..plan.columns).map(|_| col()).collect();
    }

    /// The rows of the chunk every filter kept, in order.
    pub(crate) fn kept(&self) -> &[u8] {
        &self.kept
    }

    /// The outputs' values, a column per output in output order (indexed
    /// by row, for [`Space::write`]).
    pub(crate) fn outputs<'a>(&'a self, plan: &'a Plan) -> impl Iterator<Item = &'a Col> + 'a {
        plan.output_columns
            .iter()
            .map(|&c| &self.results[c as usize])
    }

    /// Append `val`, a value of the chunk, as a CSV cell.
    #[inline(always)]
    pub(crate) fn write(&self, plan: &Plan, cols: &Columns, val: Val, out: &mut Vec<u8>) {
        write_val(&plan.prog, &cols.text, &self.text, val, out);
    }

    /// What output `k` writes on each kept row, in order (for the summary).
    pub(crate) fn written<'a>(
        &'a self,
        plan: &'a Plan,
        k: usize,
    ) -> impl Iterator<Item = Written> + 'a {
        let column = &self.results[plan.output_columns[k] as usize];
        let prog = &*plan.prog;
        self.kept
            .iter()
            .map(move |&j| written(prog, column[j as usize]))
    }
}

/// Evaluate `plan` over the rows of `cols`: afterwards [`Space::kept`] lists
/// the rows every filter kept and [`Space::write`] gives the outputs' values
/// on them.
pub(crate) fn evaluate(plan: &Plan, cols: &Columns, space: &mut Space) -> Result<(), Failed> {
    space.adopt(plan);
    space.text.clear();
    let mut sel = std::mem::take(&mut space.kept);
    sel.clear();
    sel.extend((0..cols.len.min(CHUNK)).map(|j| j as u8));
    let result = (|| {
        for (filter, items) in &plan.filters {
            for &item in items {
                run_item(plan, item, cols, space, &sel).map_err(|_| Failed)?;
            }
            let passed = &space.results[plan.column[*filter as usize] as usize];
            sel.retain(|&j| passed[j as usize] == Val::Bool(true));
        }
        for &item in &plan.rest {
            run_item(plan, item, cols, space, &sel).map_err(|_| Failed)?;
        }
        Ok(())
    })();
    space.kept = sel;
    result
}

/// Run one item's code over the rows `sel` and store its results.
fn run_item(
    plan: &Plan,
    item: u32,
    cols: &Columns,
    s: &mut Space,
    sel: &[u8],
) -> Result<(), Fault> {
    let prog = &*plan.prog;
    let code = &prog.items[item as usize];
    let mut active = std::mem::take(&mut s.active);
    active.clear();
    active.extend_from_slice(sel);
    let result = run(plan, code.code.clone(), cols, s, &mut active);
    s.active = active;
    result?;
    // The result register becomes the item's column and the old column a
    // register (the code writes a register before it reads it): no copy.
    let column = &mut s.results[plan.column[item as usize] as usize];
    std::mem::swap(column, &mut s.regs[code.result as usize]);
    if let Some(default) = code.default {
        for &j in sel {
            if column[j as usize] == Val::Missing {
                column[j as usize] = default;
            }
        }
    }
    Ok(())
}

/// Park `rows` to rejoin the others at code position `to`.
fn wait(s: &mut Space, to: u32, rows: &[u8]) {
    if rows.is_empty() {
        return;
    }
    match s.waiting.iter_mut().find(|w| w.0 == to) {
        Some(w) => w.1.extend_from_slice(rows),
        None => {
            let mut v = s.spare.pop().unwrap_or_default();
            v.clear();
            v.extend_from_slice(rows);
            s.waiting.push((to, v));
        }
    }
}

/// Take the rows of `active` whose value in register `test` is `leave`
/// out; set their `dst`, if any, to `set(value)`; they wait at `to`.
fn split(
    s: &mut Space,
    active: &mut Vec<u8>,
    test: u32,
    leave: impl Fn(Val) -> bool,
    dst: Option<u32>,
    set: impl Fn(Val) -> Val,
    to: u32,
) {
    let mut moved = s.spare.pop().unwrap_or_default();
    moved.clear();
    let t = &s.regs[test as usize];
    active.retain(|&j| {
        let gone = leave(t[j as usize]);
        if gone {
            moved.push(j);
        }
        !gone
    });
    if let Some(dst) = dst {
        for &j in &moved {
            let v = set(s.regs[test as usize][j as usize]);
            s.regs[dst as usize][j as usize] = v;
        }
    }
    wait(s, to, &moved);
    s.spare.push(moved);
}

fn run(
    plan: &Plan,
    code: std::ops::Range<u32>,
    cols: &Columns,
    s: &mut Space,
    active: &mut Vec<u8>,
) -> Result<(), Fault> {
    let prog = &*plan.prog;
    let mut pc = code.start;
    loop {
        if let Some(k) = s.waiting.iter().position(|w| w.0 == pc) {
            let (_, rows) = s.waiting.swap_remove(k);
            active.extend_from_slice(&rows);
            s.spare.push(rows);
        }
        if pc >= code.end {
            break;
        }
        if active.is_empty() {
            // Every row jumped ahead: go to the first place one waits at.
            match s.waiting.iter().map(|w| w.0).min() {
                Some(to) => {
                    pc = to;
                    continue;
                }
                None => break,
            }
        }
        match prog.code[pc as usize] {
            Instr::Const { dst, val } => {
                let d = &mut s.regs[dst as usize];
                for &j in active.iter() {
                    d[j as usize] = val;
                }
            }
            Instr::Field { dst, slot } => {
                let (d, f) = (&mut s.regs[dst as usize], &cols.cols[slot as usize]);
                for &j in active.iter() {
                    d[j as usize] = f[j as usize];
                }
            }
            Instr::Item { dst, item } => {
                let (d, r) = (
                    &mut s.regs[dst as usize],
                    &s.results[plan.column[item as usize] as usize],
                );
                for &j in active.iter() {
                    d[j as usize] = r[j as usize];
                }
            }
            Instr::ToFloat { dst, src } => {
                unary(&mut s.regs, dst, src, active, |v, old| match v {
                    Val::Int(i) => Ok(Val::Float(i as f64)),
                    _ => Ok(old),
                })?;
            }
            Instr::Neg { dst, src, at } => {
                unary(&mut s.regs, dst, src, active, |v, _| neg(v, at))?;
            }
            Instr::Not { dst, src } => unary(&mut s.regs, dst, src, active, |v, _| {
                Ok(match v {
                    Val::Bool(b) => Val::Bool(!b),
                    _ => Val::Missing,
                })
            })?,
            Instr::AndShort { dst, src, end } => {
                let f = Val::Bool(false);
                split(s, active, src, |v| v == f, Some(dst), |_| f, end);
            }
            Instr::OrShort { dst, src, end } => {
                let t = Val::Bool(true);
                split(s, active, src, |v| v == t, Some(dst), |_| t, end);
            }
            Instr::Logic { dst, a, b, and } => {
                binary(
                    &mut s.regs,
                    cols,
                    dst,
                    Src::Reg(a),
                    Src::Reg(b),
                    active,
                    |x, y| {
                        // The left side is true (for and) / false (for or) or missing.
                        Ok(match (x, y) {
                            (_, Val::Bool(v)) if v != and => Val::Bool(v),
                            (Val::Bool(_), Val::Bool(v)) => Val::Bool(v),
                            _ => Val::Missing,
                        })
                    },
                )?;
            }
            Instr::Arith { op, dst, a, b, at } => {
                arith_op(&mut s.regs, cols, op, dst, a, b, at, active)?;
            }
            Instr::Cmp { op, dst, a, b } => {
                cmp_op(prog, &mut s.regs, cols, &s.text, op, dst, a, b, active)?;
            }
            Instr::Branch {
                cond,
                dst,
                otherwise,
                end,
            } => {
                let missing = |v: Val| !matches!(v, Val::Bool(_));
                split(s, active, cond, missing, Some(dst), |_| Val::Missing, end);
                let no = |v: Val| v == Val::Bool(false);
                split(s, active, cond, no, None, |v| v, otherwise);
            }
            Instr::Jump { to } => {
                let rows = std::mem::take(active);
                wait(s, to, &rows);
                *active = rows;
                active.clear();
            }
            Instr::TakeIfPresent { dst, src, end } => {
                split(s, active, src, |v| v != Val::Missing, Some(dst), |v| v, end);
            }
            Instr::In {
                dst,
                value,
                first,
                count,
                negated,
            } => {
                for &j in active.iter() {
                    let j = j as usize;
                    let regs = &s.regs;
                    let elements = (first..first + count).map(|e| regs[e as usize][j]);
                    let v = regs[value as usize][j];
                    let r = in_list(prog, &cols.text, &s.text, v, elements, negated);
                    s.regs[dst as usize][j] = r;
                }
            }
            Instr::Call {
                func,
                dst,
                first,
                count,
                at,
            } => call_op(prog, cols, s, func, dst, first, count, at, active)?,
        }
        pc += 1;
    }
    Ok(())
}

/// The registers other than the one an instruction writes, to read its
/// operands from while that one is borrowed for writing.
struct Others<'a> {
    below: &'a [Col],
    above: &'a [Col],
    dst: usize,
}

impl<'a> Others<'a> {
    #[inline(always)]
    fn get(&self, r: u32) -> &'a Col {
        let r = r as usize;
        if r < self.dst {
            &self.below[r]
        } else {
            &self.above[r - self.dst - 1]
        }
    }
}

/// The register `dst`, to write, and the others, to read.
#[inline(always)]
fn split_regs(regs: &mut [Col], dst: u32) -> (&mut Col, Others<'_>) {
    let (below, rest) = regs.split_at_mut(dst as usize);
    let (d, above) = rest.split_first_mut().expect("a register the program has");
    (
        d,
        Others {
            below,
            above,
            dst: dst as usize,
        },
    )
}

/// Where an instruction's operand comes from, for a whole column.
#[derive(Clone, Copy)]
enum Operand<'a> {
    Col(&'a [Val; CHUNK]),
    Const(Val),
}

#[inline(always)]
fn operand<'a>(src: Src, regs: &Others<'a>, cols: &'a Columns) -> Operand<'a> {
    match src {
        Src::Reg(r) => Operand::Col(regs.get(r)),
        Src::Field(slot) => Operand::Col(&cols.cols[slot as usize]),
        Src::Const(v) => Operand::Const(v),
    }
}

/// `dst = f(src, dst)` on the active rows (`dst` may be `src`).
#[inline(always)]
fn unary(
    regs: &mut [Col],
    dst: u32,
    src: u32,
    active: &[u8],
    f: impl Fn(Val, Val) -> Result<Val, Fault>,
) -> Result<(), Fault> {
    if dst == src {
        let d = &mut regs[dst as usize];
        for &j in active {
            let j = j as usize;
            d[j] = f(d[j], d[j])?;
        }
        return Ok(());
    }
    let (d, others) = split_regs(regs, dst);
    let from = others.get(src);
    for &j in active {
        let j = j as usize;
        d[j] = f(from[j], d[j])?;
    }
    Ok(())
}

/// `dst = f(a, b)` on the active rows.
#[inline(always)]
fn binary(
    regs: &mut [Col],
    cols: &Columns,
    dst: u32,
    a: Src,
    b: Src,
    active: &[u8],
    f: impl Fn(Val, Val) -> Result<Val, Fault>,
) -> Result<(), Fault> {
    let reads_dst = |s: Src| s == Src::Reg(dst);
    if reads_dst(a) || reads_dst(b) {
        // Not emitted by the compiler today; kept correct, not fast.
        for &j in active {
            let load = |s: Src| match s {
                Src::Reg(r) => regs[r as usize][j as usize],
                Src::Field(slot) => cols.cols[slot as usize][j as usize],
                Src::Const(v) => v,
            };
            let v = f(load(a), load(b))?;
            regs[dst as usize][j as usize] = v;
        }
        return Ok(());
    }
    let (out, others) = split_regs(regs, dst);
    // One loop per operand shape, so the loop body reads each operand
    // without testing where it comes from.
    match (operand(a, &others, cols), operand(b, &others, cols)) {
        (Operand::Col(x), Operand::Col(y)) => each(out, active, |j| f(x[j], y[j])),
        (Operand::Col(x), Operand::Const(y)) => each(out, active, |j| f(x[j], y)),
        (Operand::Const(x), Operand::Col(y)) => each(out, active, |j| f(x, y[j])),
        (Operand::Const(x), Operand::Const(y)) => each(out, active, |_| f(x, y)),
    }
}

/// `out[j] = f(j)` on the active rows, stopping at the first error.
#[inline(always)]
fn each(
    out: &mut [Val; CHUNK],
    active: &[u8],
    f: impl Fn(usize) -> Result<Val, Fault>,
) -> Result<(), Fault> {
    for &j in active {
        out[j as usize] = f(j as usize)?;
    }
    Ok(())
}

/// An arithmetic instruction, the operation chosen once per chunk.
#[allow(clippy::too_many_arguments)]
fn arith_op(
    regs: &mut [Col],
    cols: &Columns,
    op: Arith,
    dst: u32,
    a: Src,
    b: Src,
    at: u32,
    active: &[u8],
) -> Result<(), Fault> {
    macro_rules! by_op {
        ($($op:ident),*) => {
            match op {
                $(Arith::$op => binary(regs, cols, dst, a, b, active, |x, y| {
                    arith(Arith::$op, x, y, at)
                }),)*
            }
        };
    }
    by_op!(
        AddInt, SubInt, MulInt, RemInt, AddFloat, SubFloat, MulFloat, DivFloat, RemFloat
    )
}

/// A comparison instruction, the operator chosen once per chunk.
#[allow(clippy::too_many_arguments)]
fn cmp_op(
    prog: &Compiled,
    regs: &mut [Col],
    cols: &Columns,
    scratch: &[u8],
    op: CmpOp,
    dst: u32,
    a: Src,
    b: Src,
    active: &[u8],
) -> Result<(), Fault> {
    macro_rules! by_op {
        ($($op:ident),*) => {
            match op {
                $(CmpOp::$op => binary(regs, cols, dst, a, b, active, |x, y| {
                    // Numbers of one type inline (nearly every comparison);
                    // the rest out of the loop.
                    let o = match (x, y) {
                        (Val::Float(x), Val::Float(y)) => x.partial_cmp(&y),
                        (Val::Int(x), Val::Int(y)) => Some(x.cmp(&y)),
                        _ => compare_other(prog, &cols.text, scratch, x, y),
                    };
                    Ok(match o {
                        None => Val::Missing,
                        Some(o) => Val::Bool(CmpOp::$op.holds(o)),
                    })
                }),)*
            }
        };
    }
    by_op!(Eq, Ne, Lt, Le, Gt, Ge)
}

/// [`compare`] out of line, for the comparisons that are not of two
/// numbers of one type.
#[inline(never)]
fn compare_other(
    prog: &Compiled,
    row_text: &[u8],
    scratch: &[u8],
    a: Val,
    b: Val,
) -> Option<Ordering> {
    compare(prog, row_text, scratch, a, b)
}

/// A builtin call. The numeric builtins of one to three arguments (nearly
/// every call in real rules) run column-wise with the function chosen once
/// per chunk; the others call the row machine's `call` per row.
#[allow(clippy::too_many_arguments)]
fn call_op(
    prog: &Compiled,
    cols: &Columns,
    s: &mut Space,
    func: Func,
    dst: u32,
    first: u32,
    count: u32,
    at: u32,
    active: &[u8],
) -> Result<(), Fault> {
    let regs = &mut s.regs;
    let r = |k: u32| Src::Reg(first + k);
    // Missing in, missing out, as `call` does for these functions.
    macro_rules! numeric1 {
        ($($f:ident),*) => {
            match func {
                $(Func::$f if count == 1 => {
                    return unary(regs, dst, first, active, |x, _| match x {
                        Val::Missing => Ok(Val::Missing),
                        x => numeric(Func::$f, &[x], at),
                    });
                })*
                _ => {}
            }
        };
    }
    macro_rules! numeric2 {
        ($($f:ident),*) => {
            match func {
                $(Func::$f if count == 2 => {
                    return binary(regs, cols, dst, r(0), r(1), active, |x, y| {
                        match (x, y) {
                            (Val::Missing, _) | (_, Val::Missing) => Ok(Val::Missing),
                            (x, y) => numeric(Func::$f, &[x, y], at),
                        }
                    });
                })*
                _ => {}
            }
        };
    }
    // `clamp`'s arguments are its three registers; its result is a fourth.
    macro_rules! numeric3 {
        ($($f:ident),*) => {
            match func {
                $(Func::$f if count == 3 && !(first..first + 3).contains(&dst) => {
                    let (d, others) = split_regs(regs, dst);
                    let (x, lo, hi) = (others.get(first), others.get(first + 1), others.get(first + 2));
                    for &j in active {
                        let j = j as usize;
                        d[j] = match (x[j], lo[j], hi[j]) {
                            (Val::Missing, _, _) | (_, Val::Missing, _) | (_, _, Val::Missing) => {
                                Val::Missing
                            }
                            (x, lo, hi) => numeric(Func::$f, &[x, lo, hi], at)?,
                        };
                    }
                    return Ok(());
                })*
                _ => {}
            }
        };
    }
    numeric1!(AbsInt, AbsFloat, Floor, Ceil, Round);
    numeric2!(MinInt, MaxInt, MinFloat, MaxFloat, RoundTo);
    numeric3!(ClampInt, ClampFloat);
    let mut args = std::mem::take(&mut s.args);
    let result = (|| {
        for &j in active {
            let j = j as usize;
            args.clear();
            args.extend((first..first + count).map(|a| s.regs[a as usize][j]));
            s.regs[dst as usize][j] = call(prog, &cols.text, &mut s.text, func, &args, at)?;
        }
        Ok(())
    })();
    s.args = args;
    result
}

//! The evaluator: runs compiled register code over one row, with SQL
//! missing-value semantics. No recursion: dependencies are resolved with an
//! explicit stack and memoised per row.

use super::row::Row;
use super::value::{Value, Written, write_float, write_quoted};
use crate::compile::{Compiled, Instr, Src};
use crate::ops::{Fault, Func, arith, int_float, neg, numeric};
use crate::source::Span;
use crate::value::{Pool, StrRef, Val};
use std::cmp::Ordering;
use std::sync::Arc;

/// A runtime error: integer or float overflow. It names the item it
/// happened in (a rule or a let) and, when that is not the rule being
/// evaluated, the rule that read it; it points at the expression; the data
/// path adds the CSV line.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    /// The rule or let the error happened in.
    pub rule: Arc<str>,
    /// Whether `rule` names a rule or a let.
    pub kind: ItemKind,
    /// The item being evaluated, when the error happened in another item
    /// it reads (`integer overflow in let `l` (read by rule `r`)`).
    pub read_by: Option<(ItemKind, Arc<str>)>,
    pub span: Span,
    /// What went wrong.
    pub what: EvalErrorKind,
}

/// What went wrong in an [`EvalError`]; its display is the error's message
/// (`integer overflow`). New kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvalErrorKind {
    /// An int result beyond 64 bits.
    IntegerOverflow,
    /// A float result beyond about ±1.8e308.
    FloatOverflow,
    /// The row was built for another schema than the rules were checked
    /// against, so its slots would be read as the wrong fields.
    SchemaMismatch,
}

impl std::fmt::Display for EvalErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EvalErrorKind::IntegerOverflow => "integer overflow",
            EvalErrorKind::FloatOverflow => "float overflow",
            EvalErrorKind::SchemaMismatch => {
                "the row's schema is not the one the rules were checked against"
            }
        })
    }
}

/// What a rule file item is, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Rule,
    Let,
}

impl ItemKind {
    fn of(item: &crate::compile::ItemCode) -> ItemKind {
        if item.is_rule {
            ItemKind::Rule
        } else {
            ItemKind::Let
        }
    }
}

impl std::fmt::Display for ItemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ItemKind::Rule => "rule",
            ItemKind::Let => "let",
        })
    }
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in {} `{}`", self.what, self.kind, self.rule)?;
        if let Some((kind, name)) = &self.read_by {
            write!(f, " (read by {kind} `{name}`)")?;
        }
        Ok(())
    }
}

impl std::error::Error for EvalError {}

/// Per-row working space of compiled rules: registers, the memo of item
/// results for this row, and strings made by `lower`/`upper`.
#[derive(Debug, Default)]
pub struct Scratch {
    owner: usize,
    generation: u32,
    regs: Vec<Val>,
    memo: Vec<Val>,
    memo_gen: Vec<u32>,
    text: Vec<u8>,
    stack: Vec<u32>,
    schema_ok: bool,
    /// The spaces of other programs run on this row, parked while this one
    /// runs: `diff` evaluates two programs (before and after) on each row,
    /// and switching between them must keep both memos (each rule once
    /// per row and program) without reallocating. Empty for one program.
    parked: Vec<Scratch>,
}

/// Most programs whose spaces a row keeps at once (beyond it, the oldest
/// is dropped and rebuilt if it comes back).
const MAX_PARKED: usize = 4;

impl Scratch {
    /// Forget this row's results (the row changed).
    pub(crate) fn next_row(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.memo_gen.fill(0);
            self.generation = 1;
        }
        self.text.clear();
        for p in &mut self.parked {
            p.next_row();
        }
    }

    /// Make room for `prog`; whether `row` has the schema `prog` was checked
    /// against (a row of another schema would read the wrong slots).
    #[inline]
    fn adopt(&mut self, prog: &Compiled, row: &Row) -> bool {
        if self.owner != prog.id {
            self.switch_to(prog, row);
        }
        self.schema_ok
    }

    /// Park this program's space and take `prog`'s, parked or new.
    #[cold]
    fn switch_to(&mut self, prog: &Compiled, row: &Row) {
        let mut parked = std::mem::take(&mut self.parked);
        let current = std::mem::take(self);
        match parked.iter().position(|p| p.owner == prog.id) {
            Some(k) => *self = parked.swap_remove(k),
            None => self.make_room(prog, row),
        }
        if current.owner != 0 {
            if parked.len() == MAX_PARKED {
                parked.remove(0);
            }
            parked.push(current);
        }
        self.parked = parked;
    }

    fn make_room(&mut self, prog: &Compiled, row: &Row) {
        self.owner = prog.id;
        self.regs = vec![Val::Missing; prog.registers.max(1)];
        self.memo = vec![Val::Missing; prog.items.len()];
        self.memo_gen = vec![0; prog.items.len()];
        self.generation = 1;
        self.schema_ok = prog.checked_against(row.schema());
    }
}

/// Evaluate one item (with whatever it depends on) for `row`.
pub fn eval_item(prog: &Compiled, row: &Row, item: u32) -> Result<Value, EvalError> {
    with_result(prog, row, item, |s, val| to_value(prog, row, s, val))
}

/// Resolve `item` for `row` in the row's scratch space and hand its value
/// (with that space, where its strings may live) to `then`.
fn with_result<T>(
    prog: &Compiled,
    row: &Row,
    item: u32,
    then: impl FnOnce(&Scratch, Val) -> T,
) -> Result<T, EvalError> {
    let mut scratch = row.scratch.borrow_mut();
    let s = &mut *scratch;
    if !s.adopt(prog, row) {
        return Err(schema_mismatch(prog, item));
    }
    let val = resolve(prog, row, s, item)?;
    Ok(then(s, val))
}

/// Evaluate one item and append its value as a CSV cell, without building
/// a [`Value`] (the data path's hot loop).
pub fn write_item(
    prog: &Compiled,
    row: &Row,
    item: u32,
    out: &mut Vec<u8>,
) -> Result<Written, EvalError> {
    with_result(prog, row, item, |s, val| {
        write_val(prog, row.text(), &s.text, val, out)
    })
}

/// Append `val` as a CSV cell (strings quoted when they must be); what was
/// written, for the summary. `row_text` and `scratch` hold the bytes of
/// field strings and of strings made by `lower`/`upper`. Inlined: it is
/// the per-cell step of writing, and each arm is short.
#[inline(always)]
pub(super) fn write_val(
    prog: &Compiled,
    row_text: &[u8],
    scratch: &[u8],
    val: Val,
    out: &mut Vec<u8>,
) -> Written {
    match val {
        Val::Missing => {}
        Val::Bool(true) => out.extend_from_slice(b"true"),
        Val::Bool(false) => out.extend_from_slice(b"false"),
        Val::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
        Val::Float(f) => write_float(f, out),
        Val::Str(r) => write_quoted(bytes(prog, row_text, scratch, r), out),
        Val::Enum(e) => out.extend_from_slice(prog.variant_names[e as usize].as_bytes()),
    }
    written(prog, val)
}

/// What writing `val` writes, for the summary.
#[inline(always)]
pub(super) fn written(prog: &Compiled, val: Val) -> Written {
    match val {
        Val::Missing => Written::Missing,
        Val::Bool(true) => Written::True,
        Val::Bool(false) => Written::False,
        Val::Int(i) => Written::Int(i),
        Val::Float(f) => Written::Float(f),
        Val::Str(_) => Written::Other,
        Val::Enum(e) => Written::Variant(prog.variant_index[e as usize]),
    }
}

fn resolve(prog: &Compiled, row: &Row, s: &mut Scratch, target: u32) -> Result<Val, EvalError> {
    let generation = s.generation;
    let ready = |s: &Scratch, i: u32| s.memo_gen[i as usize] == generation;
    if ready(s, target) {
        return Ok(s.memo[target as usize]);
    }
    // Most items read only fields, or items computed already: no stack.
    if prog.items[target as usize]
        .deps
        .iter()
        .all(|&d| ready(s, d))
    {
        return compute(prog, row, s, target as usize, target);
    }
    s.stack.clear();
    s.stack.push(target);
    while let Some(&it) = s.stack.last() {
        if ready(s, it) {
            s.stack.pop();
            continue;
        }
        if let Some(&dep) = prog.items[it as usize].deps.iter().find(|&&d| !ready(s, d)) {
            s.stack.push(dep);
            continue;
        }
        compute(prog, row, s, it as usize, target)?;
        s.stack.pop();
    }
    Ok(s.memo[target as usize])
}

/// Run one item whose dependencies are computed; memoise its value.
/// `target` is the item being evaluated, which reads this one (or is it).
fn compute(
    prog: &Compiled,
    row: &Row,
    s: &mut Scratch,
    i: usize,
    target: u32,
) -> Result<Val, EvalError> {
    let item = &prog.items[i];
    run(prog, row, s, item.code.start, item.code.end)
        .map_err(|f| f.into_error(prog, i, target as usize))?;
    let mut v = s.regs[item.result as usize];
    if v == Val::Missing
        && let Some(d) = item.default
    {
        v = d;
    }
    s.memo[i] = v;
    s.memo_gen[i] = s.generation;
    Ok(v)
}

fn to_value(prog: &Compiled, row: &Row, s: &Scratch, v: Val) -> Value {
    match v {
        Val::Missing => Value::Missing,
        Val::Bool(b) => Value::Bool(b),
        Val::Int(i) => Value::Int(i),
        Val::Float(f) => Value::Float(f),
        Val::Str(r) => {
            Value::Str(String::from_utf8_lossy(bytes(prog, row.text(), &s.text, r)).into_owned())
        }
        Val::Enum(e) => Value::Enum(prog.variant_names[e as usize].clone()),
    }
}

/// The bytes of a string value: in the row's (or chunk's) field text, the
/// strings made while evaluating, or the program's constants.
#[inline]
pub(super) fn bytes<'a>(
    prog: &'a Compiled,
    row_text: &'a [u8],
    scratch: &'a [u8],
    r: StrRef,
) -> &'a [u8] {
    let pool = match r.pool {
        Pool::Row => row_text,
        Pool::Scratch => scratch,
        Pool::Const => &prog.const_text,
    };
    &pool[r.start as usize..(r.start + r.len) as usize]
}

#[cold]
fn schema_mismatch(prog: &Compiled, item: u32) -> EvalError {
    let it = &prog.items[item as usize];
    EvalError {
        rule: it.name.clone(),
        kind: ItemKind::of(it),
        read_by: None,
        span: it.span,
        what: EvalErrorKind::SchemaMismatch,
    }
}

/// The full error for an overflow (`Fault` is in `ops`, shared with the
/// checker; only the evaluator knows the items).
impl Fault {
    #[cold]
    fn into_error(self, prog: &Compiled, item: usize, target: usize) -> EvalError {
        let it = &prog.items[item];
        let by = &prog.items[target];
        EvalError {
            rule: it.name.clone(),
            kind: ItemKind::of(it),
            read_by: (target != item).then(|| (ItemKind::of(by), by.name.clone())),
            span: prog.spans[self.at as usize],
            what: if self.float {
                EvalErrorKind::FloatOverflow
            } else {
                EvalErrorKind::IntegerOverflow
            },
        }
    }
}

fn run(prog: &Compiled, row: &Row, s: &mut Scratch, start: u32, end: u32) -> Result<(), Fault> {
    let mut pc = start;
    while pc < end {
        let regs = &mut s.regs;
        match prog.code[pc as usize] {
            Instr::Const { dst, val } => regs[dst as usize] = val,
            Instr::Field { dst, slot } => regs[dst as usize] = row.cell(slot as usize),
            Instr::Item { dst, item } => regs[dst as usize] = s.memo[item as usize],
            Instr::ToFloat { dst, src } => {
                if let Val::Int(i) = regs[src as usize] {
                    regs[dst as usize] = Val::Float(i as f64);
                }
            }
            Instr::Neg { dst, src, at } => regs[dst as usize] = neg(regs[src as usize], at)?,
            Instr::Not { dst, src } => {
                regs[dst as usize] = match regs[src as usize] {
                    Val::Bool(b) => Val::Bool(!b),
                    _ => Val::Missing,
                }
            }
            Instr::AndShort { dst, src, end } => {
                if regs[src as usize] == Val::Bool(false) {
                    regs[dst as usize] = Val::Bool(false);
                    pc = end;
                    continue;
                }
            }
            Instr::OrShort { dst, src, end } => {
                if regs[src as usize] == Val::Bool(true) {
                    regs[dst as usize] = Val::Bool(true);
                    pc = end;
                    continue;
                }
            }
            Instr::Logic { dst, a, b, and } => {
                // The left side is true (for and) / false (for or) or missing.
                regs[dst as usize] = match (regs[a as usize], regs[b as usize]) {
                    (_, Val::Bool(x)) if x != and => Val::Bool(x),
                    (Val::Bool(_), Val::Bool(x)) => Val::Bool(x),
                    _ => Val::Missing,
                }
            }
            Instr::Arith { op, dst, a, b, at } => {
                let (a, b) = (load(regs, row, a), load(regs, row, b));
                regs[dst as usize] = arith(op, a, b, at)?;
            }
            Instr::Cmp { op, dst, a, b } => {
                let (a, b) = (load(regs, row, a), load(regs, row, b));
                regs[dst as usize] = match compare(prog, row.text(), &s.text, a, b) {
                    None => Val::Missing,
                    Some(o) => Val::Bool(op.holds(o)),
                };
            }
            Instr::Branch {
                cond,
                dst,
                otherwise,
                end,
            } => match regs[cond as usize] {
                Val::Bool(true) => {}
                Val::Bool(false) => {
                    pc = otherwise;
                    continue;
                }
                _ => {
                    regs[dst as usize] = Val::Missing;
                    pc = end;
                    continue;
                }
            },
            Instr::Jump { to } => {
                pc = to;
                continue;
            }
            Instr::TakeIfPresent { dst, src, end } => {
                if regs[src as usize] != Val::Missing {
                    regs[dst as usize] = regs[src as usize];
                    pc = end;
                    continue;
                }
            }
            Instr::In {
                dst,
                value,
                first,
                count,
                negated,
            } => {
                let elements = regs[first as usize..(first + count) as usize]
                    .iter()
                    .copied();
                regs[dst as usize] = in_list(
                    prog,
                    row.text(),
                    &s.text,
                    regs[value as usize],
                    elements,
                    negated,
                );
            }
            Instr::Call {
                func,
                dst,
                first,
                count,
                at,
            } => {
                let args = &s.regs[first as usize..(first + count) as usize];
                let v = call(prog, row.text(), &mut s.text, func, args, at)?;
                s.regs[dst as usize] = v;
            }
        }
        pc += 1;
    }
    Ok(())
}

#[inline(always)]
fn load(regs: &[Val], row: &Row, src: Src) -> Val {
    match src {
        Src::Reg(r) => regs[r as usize],
        Src::Field(slot) => row.cell(slot as usize),
        Src::Const(v) => v,
    }
}

/// `v in (elements)` (`not in` when `negated`): missing when `v` is; found
/// decides; not found but a missing element is unknown. Each element is
/// compared as `==` compares: an int and a float by exact value.
#[inline]
pub(super) fn in_list(
    prog: &Compiled,
    row_text: &[u8],
    scratch: &[u8],
    v: Val,
    elements: impl Iterator<Item = Val>,
    negated: bool,
) -> Val {
    if v == Val::Missing {
        return Val::Missing;
    }
    let mut result = Val::Bool(negated);
    for e in elements {
        match compare(prog, row_text, scratch, v, e) {
            Some(Ordering::Equal) => return Val::Bool(!negated),
            None => result = Val::Missing,
            _ => {}
        }
    }
    result
}

/// Order two values of one type (or an int and a float); `None` when either
/// is missing. Numbers come first: nearly every comparison in real rules.
#[inline(always)]
pub(super) fn compare(
    prog: &Compiled,
    row_text: &[u8],
    scratch: &[u8],
    a: Val,
    b: Val,
) -> Option<Ordering> {
    match (a, b) {
        (Val::Float(x), Val::Float(y)) => x.partial_cmp(&y),
        (Val::Int(x), Val::Int(y)) => Some(x.cmp(&y)),
        (Val::Int(x), Val::Float(y)) => Some(int_float(x, y)),
        (Val::Float(x), Val::Int(y)) => Some(int_float(y, x).reverse()),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(&y)),
        (Val::Enum(x), Val::Enum(y)) => Some(x.cmp(&y)),
        (Val::Str(x), Val::Str(y)) => {
            Some(bytes(prog, row_text, scratch, x).cmp(bytes(prog, row_text, scratch, y)))
        }
        _ => None,
    }
}

/// A builtin call on its arguments' values; strings it makes (`lower`,
/// `upper`) are appended to `scratch`.
pub(super) fn call(
    prog: &Compiled,
    row_text: &[u8],
    scratch: &mut Vec<u8>,
    func: Func,
    args: &[Val],
    at: u32,
) -> Result<Val, Fault> {
    if func == Func::IsMissing {
        return Ok(Val::Bool(matches!(args[0], Val::Missing)));
    }
    // By variant, not `contains` (PartialEq on every value): once the numeric
    // functions moved out of this body, `contains` stopped being inlined
    // and cost 2% of the 100-rule benchmark.
    if args.iter().any(|a| matches!(a, Val::Missing)) {
        return Ok(Val::Missing);
    }
    Ok(match func {
        Func::MinInt
        | Func::MaxInt
        | Func::MinFloat
        | Func::MaxFloat
        | Func::AbsInt
        | Func::AbsFloat
        | Func::Floor
        | Func::Ceil
        | Func::Round
        | Func::RoundTo
        | Func::ClampInt
        | Func::ClampFloat => numeric(func, args, at)?,
        Func::IsMissing => unreachable!("answered before the missing check"),
        Func::Lower | Func::Upper => {
            let Val::Str(r) = args[0] else {
                return Ok(Val::Missing);
            };
            let src = bytes(prog, row_text, scratch, r);
            let text = String::from_utf8_lossy(src);
            let changed = if func == Func::Lower {
                text.to_lowercase()
            } else {
                text.to_uppercase()
            };
            let start = scratch.len() as u32;
            scratch.extend_from_slice(changed.as_bytes());
            Val::Str(StrRef {
                pool: Pool::Scratch,
                start,
                len: changed.len() as u32,
            })
        }
        Func::Contains | Func::StartsWith | Func::EndsWith => {
            let (Val::Str(a), Val::Str(b)) = (args[0], args[1]) else {
                return Ok(Val::Missing);
            };
            let (hay, needle) = (
                bytes(prog, row_text, scratch, a),
                bytes(prog, row_text, scratch, b),
            );
            Val::Bool(match func {
                Func::Contains => memchr::memmem::find(hay, needle).is_some(),
                Func::StartsWith => hay.starts_with(needle),
                _ => hay.ends_with(needle),
            })
        }
        Func::Matches(re) => {
            let Val::Str(a) = args[0] else {
                return Ok(Val::Missing);
            };
            Val::Bool(prog.regexes[re as usize].is_match(bytes(prog, row_text, scratch, a)))
        }
    })
}

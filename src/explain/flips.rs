//! Flips: for each field a rule reads, the nearest value of that field alone
//! that changes the rule's value. Candidates come from the rule itself (the
//! constants a field is compared or combined with, comparisons solved for
//! the field where they are linear, the strings it is compared with,
//! true/false, missing); a numeric candidate that changes the value is
//! narrowed by bisection to the boundary nearest the cell's value. Every
//! flip reported is verified: the row is read again with that cell's text
//! changed (through the same cell parser) and the rule evaluated by the VM.

use super::record::{Reads, Record};
use super::trace::{Node, TVal, Tracer};
use crate::check::{ItemId, Program, TExpr, TKind};
use crate::compile::{Arith, Compiled};
use crate::eval::{Row, Value, eval_item};
use crate::types::FieldType;
use crate::value::Val;

/// One change of one cell that changes the rule's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Flip {
    /// The schema field.
    pub field: String,
    /// The CSV column it is read from.
    pub column: String,
    /// The cell's text now.
    pub from: String,
    /// The cell text that, written into that column of that row, changes
    /// the rule's value.
    pub to: String,
    /// The rule's value with the cell changed.
    pub value: Value,
}

/// What was found for one field the rule reads.
#[derive(Debug, Clone)]
pub(crate) struct FieldFlips {
    pub field: String,
    pub column: String,
    pub flips: Vec<Flip>,
    /// When there is no flip, or a numeric value changes the rule with any
    /// change, a sentence saying so.
    pub note: Option<String>,
}

/// Most candidates reported per field for strings and missing fields.
const MOST_PER_FIELD: usize = 3;

/// The flips of rule `item` on `record`, field by field.
pub(crate) fn flips(
    program: &Program,
    compiled: &Compiled,
    reads: &Reads,
    record: &Record,
    item: ItemId,
) -> Vec<FieldFlips> {
    let slots = compiled.fields_read_by([item.0]);
    let (row, _) = reads.row(record);
    let original = eval_item(compiled, &row, item.0).ok();
    let mut tracer = Tracer::new(program, &row);
    let traced = tracer.item(item).is_ok();
    let mut out = Vec::new();
    for slot in slots {
        let Some(read) = reads.of_slot(slot) else {
            continue;
        };
        let from = String::from_utf8_lossy(record.cell(read.column)).into_owned();
        let mut found = FieldFlips {
            field: read.field.clone(),
            column: read.column_name.clone(),
            flips: Vec::new(),
            note: None,
        };
        let Some(original) = &original else {
            out.push(found);
            continue;
        };
        let field_ty = reads.schema.field(slot).ty;
        let mut search = Search {
            compiled,
            item: item.0,
            row: reads.row(record).0,
            slot,
            original,
            float_rule: program.items[item.0 as usize].ty == crate::types::Type::Float,
        };
        let consts = constants(program, compiled, item, slot, &tracer, traced);
        let current = row.cell(slot);
        let texts: Vec<String> = match field_ty {
            FieldType::Int | FieldType::Float => {
                let numbers = search.numeric(field_ty, current, &consts);
                if numbers.continuous {
                    found.note = Some(format!(
                        "every change of `{}` changes the value; only a missing cell is listed",
                        read.field
                    ));
                }
                numbers.texts
            }
            FieldType::Bool => {
                let mut t = Vec::new();
                for b in [true, false] {
                    if current != Val::Bool(b) {
                        t.push(b.to_string());
                    }
                }
                t
            }
            FieldType::String => {
                let now = match &tracer_field(&row, slot) {
                    Some(s) => s.clone(),
                    None => String::new(),
                };
                consts
                    .strings
                    .iter()
                    .filter(|s| current == Val::Missing || **s != now)
                    .cloned()
                    .collect()
            }
        };
        let mut texts = texts;
        // A present cell made missing.
        if current != Val::Missing
            && let Some(marker) = reads.null_marker(slot)
        {
            texts.push(marker);
        }
        // Verify through the cell parser, one flip per new value, nearest
        // first (the search put them in that order).
        // A present number has at most a flip below and one above (they
        // may give the same value); otherwise one flip per new value.
        let numeric = matches!(field_ty, FieldType::Int | FieldType::Float);
        let dedupe = current == Val::Missing || !numeric;
        let mut values: Vec<Value> = Vec::new();
        for to in texts {
            if dedupe && found.flips.len() >= MOST_PER_FIELD {
                break;
            }
            let Some(value) = verify(reads, record, compiled, item.0, read.column, &to) else {
                continue;
            };
            if value == *original || dedupe && values.contains(&value) {
                continue;
            }
            if found.flips.iter().any(|f| f.to == to) {
                continue;
            }
            values.push(value.clone());
            found.flips.push(Flip {
                field: read.field.clone(),
                column: read.column_name.clone(),
                from: from.clone(),
                to,
                value,
            });
        }
        if found.flips.is_empty() && found.note.is_none() {
            found.note = Some(match field_ty {
                FieldType::String => format!(
                    "no single change of `{}` to a string the rules compare it with flips it",
                    read.field
                ),
                _ => format!("no single change of `{}` flips it", read.field),
            });
        }
        out.push(found);
    }
    out
}

fn tracer_field(row: &Row, slot: usize) -> Option<String> {
    match row.cell(slot) {
        Val::Str(r) => row
            .text()
            .get(r.start as usize..(r.start + r.len) as usize)
            .map(|b| String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// The rule's value with column `column` of `record` set to `to`, read
/// again through the cell parser and evaluated by the VM (`None`: the text
/// does not read as the field's type, or the evaluation overflows).
pub(crate) fn verify(
    reads: &Reads,
    record: &Record,
    compiled: &Compiled,
    item: u32,
    column: usize,
    to: &str,
) -> Option<Value> {
    let changed = record.with_cell(column, to.as_bytes());
    let (row, notes) = reads.row(&changed);
    if notes
        .iter()
        .any(|n| n.column == column && n.error.is_some())
    {
        return None;
    }
    eval_item(compiled, &row, item).ok()
}

/// The constants and solved boundaries the rule offers for one field.
#[derive(Debug, Default)]
struct Consts {
    /// Values where a comparison of the field changes, solved from the trace.
    targets: Vec<f64>,
    /// Every numeric constant of the rule and the items it reads.
    numbers: Vec<f64>,
    /// Every string constant of the rule and the items it reads.
    strings: Vec<String>,
}

fn constants(
    program: &Program,
    compiled: &Compiled,
    item: ItemId,
    slot: usize,
    tracer: &Tracer,
    traced: bool,
) -> Consts {
    let mut c = Consts::default();
    let mut seen = vec![false; program.items.len()];
    let mut stack = vec![item];
    let reading = items_reading(compiled, slot);
    let reads_slot = |id: ItemId| reading.get(id.0 as usize).copied().unwrap_or(false);
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut seen[id.0 as usize], true) {
            continue;
        }
        let it = &program.items[id.0 as usize];
        stack.extend(it.deps.iter().copied());
        walk_consts(&it.body, &mut c);
        if traced && let Some(t) = tracer.trace(id) {
            let solver = Solver {
                slot,
                tracer,
                reads_slot: &reads_slot,
            };
            solver.targets(&t.body, &mut c.targets);
        }
    }
    c
}

/// For each item, whether it reads the field in `slot`, directly or
/// through the items it reads: from the items that read it directly, up
/// the reverse dependencies (linear in the program, however long a chain
/// of lets is).
fn items_reading(compiled: &Compiled, slot: usize) -> Vec<bool> {
    let n = compiled.items.len();
    let mut readers: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, it) in compiled.items.iter().enumerate() {
        for &d in &it.deps {
            if let Some(r) = readers.get_mut(d as usize) {
                r.push(i as u32);
            }
        }
    }
    let mut reads = vec![false; n];
    let mut stack: Vec<usize> = (0..n)
        .filter(|&i| compiled.items[i].fields.contains(&slot))
        .collect();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut reads[i], true) {
            continue;
        }
        stack.extend(readers[i].iter().map(|&r| r as usize));
    }
    reads
}

fn walk_consts(e: &TExpr, c: &mut Consts) {
    match &e.kind {
        TKind::Const(k) => match k {
            crate::check::Const::Int(i) => c.numbers.push(*i as f64),
            crate::check::Const::Float(f) => c.numbers.push(*f),
            crate::check::Const::Str(s) if !c.strings.contains(s) => c.strings.push(s.clone()),
            _ => {}
        },
        _ => e.children().into_iter().for_each(|x| walk_consts(x, c)),
    }
}

/// Solves comparisons of the trace for one field: `price / vram_gb <= 50`
/// with `vram_gb` 24 gives `price` 1200.
struct Solver<'a, 'p, 'r> {
    slot: usize,
    tracer: &'a Tracer<'p, 'r>,
    reads_slot: &'a dyn Fn(ItemId) -> bool,
}

impl Solver<'_, '_, '_> {
    fn depends(&self, e: &TExpr) -> bool {
        match &e.kind {
            TKind::Field(s) => *s == self.slot,
            TKind::Item(id) => (self.reads_slot)(*id),
            TKind::Const(_) | TKind::Error => false,
            _ => e.children().into_iter().any(|x| self.depends(x)),
        }
    }

    /// Every boundary of every comparison in `n` (evaluated parts only).
    fn targets(&self, n: &Node, out: &mut Vec<f64>) {
        if n.value.is_none() {
            return;
        }
        match &n.expr.kind {
            TKind::Cmp { .. } if n.children.len() == 2 => {
                let (a, b) = (&n.children[0], &n.children[1]);
                for (x, k) in [(a, b), (b, a)] {
                    if self.depends(x.expr)
                        && !self.depends(k.expr)
                        && let Some(t) = number(k.val())
                        && let Some(v) = self.invert(x, t)
                    {
                        out.push(v);
                    }
                }
            }
            TKind::In { .. } if !n.children.is_empty() => {
                let x = &n.children[0];
                if self.depends(x.expr) {
                    for k in &n.children[1..] {
                        if let Some(t) = number(k.val())
                            && let Some(v) = self.invert(x, t)
                        {
                            out.push(v);
                        }
                    }
                }
            }
            _ => {}
        }
        for c in &n.children {
            self.targets(c, out);
        }
    }

    /// The field's value that makes `n` equal `target`, when `n` is a
    /// simple enough function of it (else `None`: the search tries the
    /// constants).
    fn invert(&self, n: &Node, target: f64) -> Option<f64> {
        if !target.is_finite() {
            return None;
        }
        let dep = |i: usize| n.children.get(i).filter(|c| self.depends(c.expr));
        let other = |i: usize| n.children.get(i).and_then(|c| number(c.val()));
        match &n.expr.kind {
            TKind::Field(s) if *s == self.slot => Some(target),
            TKind::ToFloat(_) => self.invert(dep(0)?, target),
            TKind::Neg(_) => self.invert(dep(0)?, -target),
            TKind::Item(id) => {
                let t = self.tracer.trace(*id)?;
                self.invert(&t.body, target)
            }
            TKind::Arith { op, .. } => {
                let left = dep(0).is_some();
                let (x, k) = if left {
                    (dep(0)?, other(1)?)
                } else {
                    (dep(1)?, other(0)?)
                };
                let t = match (op, left) {
                    (Arith::AddInt | Arith::AddFloat, _) => target - k,
                    (Arith::SubInt | Arith::SubFloat, true) => target + k,
                    (Arith::SubInt | Arith::SubFloat, false) => k - target,
                    (Arith::MulInt | Arith::MulFloat, _) if k != 0.0 => target / k,
                    (Arith::DivFloat, true) => target * k,
                    (Arith::DivFloat, false) if target != 0.0 => k / target,
                    _ => return None,
                };
                self.invert(x, t)
            }
            // min, max, clamp, abs, rounding, coalesce, if: through the one
            // operand that reads the field (an approximation; bisection
            // finds the exact boundary from it).
            TKind::Call { .. } | TKind::If { .. } => {
                let deps: Vec<&Node> = n
                    .children
                    .iter()
                    .filter(|c| c.value.is_some() && self.depends(c.expr))
                    .collect();
                match deps.as_slice() {
                    [one] => self.invert(one, target),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

fn number(v: &TVal) -> Option<f64> {
    match v {
        TVal::Int(i) => Some(*i as f64),
        TVal::Float(f) => Some(*f),
        _ => None,
    }
}

/// The search for one numeric field: evaluates the rule with the field's
/// slot set directly (the verification reads the text again).
struct Search<'a> {
    compiled: &'a Compiled,
    item: u32,
    row: Row,
    slot: usize,
    original: &'a Value,
    /// The rule is a float: its value may change with any change of a field.
    float_rule: bool,
}

struct Numbers {
    /// Cell texts, nearest first.
    texts: Vec<String>,
    /// The value changes with the smallest change of the field.
    continuous: bool,
}

/// An f64 as an integer key in the floats' order (an involution).
fn key(f: f64) -> i64 {
    let b = f.to_bits() as i64;
    b ^ (((b >> 63) as u64) >> 1) as i64
}

fn unkey(k: i64) -> f64 {
    f64::from_bits((k ^ (((k >> 63) as u64) >> 1) as i64) as u64)
}

impl Search<'_> {
    fn value_at(&mut self, v: Val) -> Option<Value> {
        self.row.set_slot(self.slot, v);
        self.row.forget_results();
        eval_item(self.compiled, &self.row, self.item).ok()
    }

    fn flips_at(&mut self, v: Val) -> bool {
        self.value_at(v).is_some_and(|x| x != *self.original)
    }

    fn numeric(&mut self, ty: FieldType, current: Val, c: &Consts) -> Numbers {
        let int = ty == FieldType::Int;
        let x0 = match current {
            Val::Int(i) => Some(i as f64),
            Val::Float(f) => Some(f),
            _ => None,
        };
        // Probes, the solved boundaries first.
        let mut probes: Vec<f64> = Vec::new();
        for &t in &c.targets {
            probes.extend([t, t - 1.0, t + 1.0]);
            if !int {
                probes.extend([t.next_down(), t.next_up()]);
            }
        }
        for &k in &c.numbers {
            probes.extend([k, k - 1.0, k + 1.0]);
        }
        probes.extend([0.0, 1.0, -1.0]);
        if let Some(x) = x0 {
            probes.extend([x - 1.0, x + 1.0, x * 2.0, x / 2.0, -x]);
        }
        for e in [1e3, 1e6, 1e9, 1e15, 1e300] {
            probes.extend([e, -e]);
        }
        let as_val = |p: f64| -> Option<Val> {
            if !p.is_finite() {
                return None;
            }
            if int {
                let r = p.round();
                (-crate::types::I64_LIMIT..crate::types::I64_LIMIT)
                    .contains(&r)
                    .then_some(Val::Int(r as i64))
            } else {
                Some(Val::Float(p))
            }
        };
        let mut vals: Vec<Val> = Vec::new();
        for p in probes {
            if let Some(v) = as_val(p)
                && !vals.contains(&v)
            {
                vals.push(v);
            }
        }
        let Some(x) = x0 else {
            // A missing field: the values that decide it, in probe order.
            let texts = vals
                .into_iter()
                .filter(|&v| self.flips_at(v))
                .map(text_of)
                .collect();
            return Numbers {
                texts,
                continuous: false,
            };
        };
        let (mut below, mut above): (Option<Val>, Option<Val>) = (None, None);
        for v in vals {
            if v == current || !self.flips_at(v) {
                continue;
            }
            let b = self.bisect(current, v);
            let d = (as_f64(b) - x).abs();
            let slot = if as_f64(b) < x {
                &mut below
            } else {
                &mut above
            };
            if slot.is_none_or(|s| d < (as_f64(s) - x).abs()) {
                *slot = Some(b);
            }
        }
        let mut found: Vec<Val> = [below, above].into_iter().flatten().collect();
        found.sort_by(|a, b| (as_f64(*a) - x).abs().total_cmp(&(as_f64(*b) - x).abs()));
        // Only a float rule changes continuously; a bool, int or enum rule
        // whose boundary is the cell's own value (`tdp_watts <= 350` at
        // 350) has a real threshold there.
        let continuous = !int
            && self.float_rule
            && found
                .iter()
                .any(|&b| (as_f64(b) - x).abs() <= 1e-9 * x.abs().max(1.0));
        if continuous {
            return Numbers {
                texts: Vec::new(),
                continuous,
            };
        }
        let texts = found
            .into_iter()
            .map(|b| text_of(self.prettify(b, x)))
            .collect();
        Numbers { texts, continuous }
    }

    /// The value nearest `from` (which does not flip) on the way to `to`
    /// (which does) that still flips.
    fn bisect(&mut self, from: Val, to: Val) -> Val {
        match (from, to) {
            (Val::Int(a), Val::Int(b)) => {
                let (mut lo, mut hi) = (a as i128, b as i128);
                while (hi - lo).abs() > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if self.flips_at(Val::Int(mid as i64)) {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
                Val::Int(hi as i64)
            }
            (Val::Float(a), Val::Float(b)) => {
                let (mut lo, mut hi) = (key(a) as i128, key(b) as i128);
                while (hi - lo).abs() > 1 {
                    let mid = lo + (hi - lo) / 2;
                    let m = unkey(mid as i64);
                    if m.is_finite() && self.flips_at(Val::Float(m)) {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
                Val::Float(unkey(hi as i64))
            }
            _ => to,
        }
    }

    /// A boundary float as a person writes it: kept when it has at most 7
    /// significant digits (`300`, `0.85`); otherwise the nearest value with
    /// fewer decimals on its side (away from `x`) that still flips, within
    /// a tenth of its order of magnitude: `15.999999999999998` becomes `15`.
    fn prettify(&mut self, b: Val, x: f64) -> Val {
        let Val::Float(f) = b else {
            return b;
        };
        if significant_digits(f) <= 7 {
            return b;
        }
        let below = f < x;
        let tolerance = 10f64.powf(f.abs().max(1e-300).log10().floor() - 1.0);
        for d in 0..16 {
            let scale = 10f64.powi(d);
            let q = if below {
                (f * scale).floor() / scale
            } else {
                (f * scale).ceil() / scale
            };
            if !q.is_finite() || q == f {
                return b;
            }
            if (q - f).abs() <= tolerance && (q < x) == below && self.flips_at(Val::Float(q)) {
                return Val::Float(q);
            }
        }
        b
    }
}

/// Significant digits of a float's shortest text (`15.999999999999998`: 17).
fn significant_digits(f: f64) -> usize {
    let text = text_of(Val::Float(f));
    let mantissa = text.split('e').next().unwrap_or("");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    digits
        .trim_start_matches('0')
        .trim_end_matches('0')
        .len()
        .max(1)
}

fn as_f64(v: Val) -> f64 {
    match v {
        Val::Int(i) => i as f64,
        Val::Float(f) => f,
        _ => f64::NAN,
    }
}

fn text_of(v: Val) -> String {
    match v {
        Val::Int(i) => i.to_string(),
        Val::Float(f) => Value::Float(f).to_string(),
        Val::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

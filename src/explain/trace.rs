//! The tracing evaluator: the typed IR evaluated over one row, keeping every
//! subexpression's value, with the register VM's semantics (the arithmetic,
//! comparisons and numeric builtins are `ops`, shared with it; missing
//! values, short-circuits and defaults as docs/language.md says). A part an
//! `and`/`or`/`if`/`coalesce` skipped is kept as "not evaluated".

use crate::check::{Builtin, Const, ItemId, Program, TExpr, TKind};
use crate::eval::{EvalError, EvalErrorKind, ItemKind, Row, Value};
use crate::ops::{self, Fault};
use crate::source::Span;
use crate::types::{EnumId, Type};
use crate::value::Val;
use std::cmp::Ordering;

/// A value as the tracer holds it: owned, so a trace outlives the row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TVal {
    Missing,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// An enum variant: the enum and the variant's position in it.
    Enum(EnumId, u32),
}

impl TVal {
    pub(crate) fn of_const(c: &Const) -> TVal {
        match c {
            Const::Bool(b) => TVal::Bool(*b),
            Const::Int(i) => TVal::Int(*i),
            Const::Float(f) => TVal::Float(*f),
            Const::Str(s) => TVal::Str(s.clone()),
            Const::Enum(e, v) => TVal::Enum(*e, *v),
        }
    }

    pub(crate) fn is_missing(&self) -> bool {
        matches!(self, TVal::Missing)
    }

    /// The number as the VM's `Val` (anything else is missing to `ops`).
    fn num(&self) -> Val {
        match self {
            TVal::Int(i) => Val::Int(*i),
            TVal::Float(f) => Val::Float(*f),
            _ => Val::Missing,
        }
    }

    fn of_num(v: Val) -> TVal {
        match v {
            Val::Int(i) => TVal::Int(i),
            Val::Float(f) => TVal::Float(f),
            Val::Bool(b) => TVal::Bool(b),
            _ => TVal::Missing,
        }
    }

    /// The public value (an enum variant by name).
    pub(crate) fn to_value(&self, program: &Program) -> Value {
        match self {
            TVal::Missing => Value::Missing,
            TVal::Bool(b) => Value::Bool(*b),
            TVal::Int(i) => Value::Int(*i),
            TVal::Float(f) => Value::Float(*f),
            TVal::Str(s) => Value::Str(s.clone()),
            TVal::Enum(e, v) => Value::Enum(variant_name(program, *e, *v).into()),
        }
    }

    /// The value as a person reads it: `80`, `true`, `"New"`, `mid`, `missing`.
    pub(crate) fn show(&self, program: &Program) -> String {
        let mut out = String::new();
        self.show_into(program, &mut out);
        out
    }

    /// [`TVal::show`] appended to `out` (why-columns build one string per
    /// row: no intermediate `Value` or formatter).
    pub(crate) fn show_into(&self, program: &Program, out: &mut String) {
        match self {
            TVal::Missing => out.push_str("missing"),
            TVal::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            TVal::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
            TVal::Float(f) => {
                let mut cell = Vec::new();
                crate::eval::value::write_float(*f, &mut cell);
                out.push_str(&String::from_utf8_lossy(&cell));
            }
            TVal::Str(s) => {
                use std::fmt::Write;
                let _ = write!(out, "{s:?}");
            }
            TVal::Enum(e, v) => out.push_str(variant_name(program, *e, *v)),
        }
    }
}

fn variant_name(program: &Program, e: EnumId, v: u32) -> &str {
    program
        .enums
        .get(e.0 as usize)
        .and_then(|en| en.variants.get(v as usize))
        .map_or("?", String::as_str)
}

/// One subexpression, its value (`None`: not evaluated, a short-circuit
/// skipped it) and its operands, in the order the IR holds them.
#[derive(Debug, Clone)]
pub(crate) struct Node<'p> {
    pub expr: &'p TExpr,
    pub value: Option<TVal>,
    pub children: Vec<Node<'p>>,
}

impl<'p> Node<'p> {
    fn skipped(expr: &'p TExpr) -> Node<'p> {
        Node {
            expr,
            value: None,
            children: Vec::new(),
        }
    }

    fn leaf(expr: &'p TExpr, value: TVal) -> Node<'p> {
        Node {
            expr,
            value: Some(value),
            children: Vec::new(),
        }
    }

    /// The value, missing when not evaluated.
    pub(crate) fn val(&self) -> &TVal {
        self.value.as_ref().unwrap_or(&TVal::Missing)
    }
}

/// An item's trace: its body, and its value (the rule's default when the
/// body is missing).
#[derive(Debug, Clone)]
pub(crate) struct ItemTrace<'p> {
    pub body: Node<'p>,
    pub value: TVal,
    /// The body was missing and the rule's default was taken.
    pub defaulted: bool,
}

/// An overflow, where it happened.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TraceFault {
    pub item: ItemId,
    pub span: Span,
    pub float: bool,
}

impl TraceFault {
    /// The error eval gives for it: the item it happened in, and the item
    /// being evaluated when that is another one.
    pub(crate) fn into_error(self, program: &Program, target: ItemId) -> EvalError {
        let kind = |id: ItemId| match program.items[id.0 as usize].rule {
            Some(_) => ItemKind::Rule,
            None => ItemKind::Let,
        };
        let name = |id: ItemId| program.items[id.0 as usize].name.as_str().into();
        EvalError {
            rule: name(self.item),
            kind: kind(self.item),
            read_by: (target != self.item).then(|| (kind(target), name(target))),
            span: self.span,
            what: if self.float {
                EvalErrorKind::FloatOverflow
            } else {
                EvalErrorKind::IntegerOverflow
            },
        }
    }
}

/// Traces items over one row, each item once (as the VM memoises them).
pub(crate) struct Tracer<'p, 'r> {
    program: &'p Program,
    row: &'r Row,
    traces: Vec<Option<ItemTrace<'p>>>,
    /// The item whose body is being traced (faults name it).
    current: ItemId,
}

impl<'p, 'r> Tracer<'p, 'r> {
    pub(crate) fn new(program: &'p Program, row: &'r Row) -> Tracer<'p, 'r> {
        Tracer {
            program,
            row,
            traces: vec![None; program.items.len()],
            current: ItemId(0),
        }
    }

    /// Every item's trace (`None` for an item not traced).
    pub(crate) fn into_traces(self) -> Vec<Option<ItemTrace<'p>>> {
        self.traces
    }

    /// The trace of an item traced already.
    pub(crate) fn trace(&self, id: ItemId) -> Option<&ItemTrace<'p>> {
        self.traces.get(id.0 as usize).and_then(Option::as_ref)
    }

    /// Trace `id`: first every item it reads (the VM computes them all
    /// before the item, so an overflow in one is an error even where a
    /// short-circuit skips it), then its body. Dependencies are resolved
    /// with an explicit stack, in the VM's order (so the same overflow is
    /// found first): a long chain of lets cannot overflow the thread's stack.
    pub(crate) fn item(&mut self, id: ItemId) -> Result<TVal, TraceFault> {
        if let Some(t) = self.trace(id) {
            return Ok(t.value.clone());
        }
        let program = self.program;
        let mut stack = vec![id];
        while let Some(&it) = stack.last() {
            if self.trace(it).is_some() {
                stack.pop();
                continue;
            }
            let deps = &program.items[it.0 as usize].deps;
            if let Some(&dep) = deps.iter().find(|d| self.trace(**d).is_none()) {
                stack.push(dep);
                continue;
            }
            self.body(it)?;
            stack.pop();
        }
        Ok(self.trace(id).map_or(TVal::Missing, |t| t.value.clone()))
    }

    /// Trace an item whose dependencies are traced; keep its trace.
    fn body(&mut self, id: ItemId) -> Result<(), TraceFault> {
        let item = &self.program.items[id.0 as usize];
        let outer = std::mem::replace(&mut self.current, id);
        let body = self.expr(&item.body);
        self.current = outer;
        let body = body?;
        let mut value = body.val().clone();
        let mut defaulted = false;
        if value.is_missing()
            && let Some(d) = item.rule.as_ref().and_then(|r| r.default.as_ref())
        {
            value = TVal::of_const(d);
            defaulted = true;
        }
        self.traces[id.0 as usize] = Some(ItemTrace {
            body,
            value,
            defaulted,
        });
        Ok(())
    }

    fn fault(&self, span: Span, f: Fault) -> TraceFault {
        TraceFault {
            item: self.current,
            span,
            float: f.float,
        }
    }

    fn field(&self, slot: usize) -> TVal {
        match self.row.cell(slot) {
            Val::Missing => TVal::Missing,
            Val::Bool(b) => TVal::Bool(b),
            Val::Int(i) => TVal::Int(i),
            Val::Float(f) => TVal::Float(f),
            Val::Str(r) => {
                let text = self.row.text();
                let bytes = text
                    .get(r.start as usize..(r.start + r.len) as usize)
                    .unwrap_or_default();
                TVal::Str(String::from_utf8_lossy(bytes).into_owned())
            }
            // Rows hold no enum values.
            Val::Enum(_) => TVal::Missing,
        }
    }

    fn expr(&mut self, e: &'p TExpr) -> Result<Node<'p>, TraceFault> {
        let node = |value: TVal, children: Vec<Node<'p>>| Node {
            expr: e,
            value: Some(value),
            children,
        };
        Ok(match &e.kind {
            TKind::Const(c) => Node::leaf(e, TVal::of_const(c)),
            TKind::Field(slot) => Node::leaf(e, self.field(*slot)),
            TKind::Item(id) => {
                let v = self.item(*id)?;
                Node::leaf(e, v)
            }
            TKind::ToFloat(inner) => {
                let c = self.expr(inner)?;
                let v = match c.val() {
                    TVal::Int(i) => TVal::Float(*i as f64),
                    other => other.clone(),
                };
                node(v, vec![c])
            }
            TKind::Neg(inner) => {
                let c = self.expr(inner)?;
                let v = ops::neg(c.val().num(), 0).map_err(|f| self.fault(e.span, f))?;
                node(TVal::of_num(v), vec![c])
            }
            TKind::Not(inner) => {
                let c = self.expr(inner)?;
                let v = match c.val() {
                    TVal::Bool(b) => TVal::Bool(!b),
                    _ => TVal::Missing,
                };
                node(v, vec![c])
            }
            TKind::And(l, r) | TKind::Or(l, r) => {
                let and = matches!(e.kind, TKind::And(..));
                let a = self.expr(l)?;
                // `false and ...`, `true or ...`: the right side is not run.
                if *a.val() == TVal::Bool(!and) {
                    return Ok(node(TVal::Bool(!and), vec![a, Node::skipped(r)]));
                }
                let b = self.expr(r)?;
                let v = match (a.val(), b.val()) {
                    (_, TVal::Bool(x)) if *x != and => TVal::Bool(*x),
                    (TVal::Bool(_), TVal::Bool(x)) => TVal::Bool(*x),
                    _ => TVal::Missing,
                };
                node(v, vec![a, b])
            }
            TKind::Arith { op, lhs, rhs } => {
                let a = self.expr(lhs)?;
                let b = self.expr(rhs)?;
                let v = ops::arith(*op, a.val().num(), b.val().num(), 0)
                    .map_err(|f| self.fault(e.span, f))?;
                node(TVal::of_num(v), vec![a, b])
            }
            TKind::Cmp { op, lhs, rhs } => {
                let a = self.expr(lhs)?;
                let b = self.expr(rhs)?;
                let v = match compare(a.val(), b.val()) {
                    Some(o) => TVal::Bool(op.holds(o)),
                    None => TVal::Missing,
                };
                node(v, vec![a, b])
            }
            TKind::In {
                negated,
                value,
                list,
            } => {
                let v = self.expr(value)?;
                let mut children = vec![v];
                // Every element is computed before the test, as the VM does.
                for item in list {
                    children.push(self.expr(item)?);
                }
                let x = children[0].val();
                let result = if x.is_missing() {
                    TVal::Missing
                } else {
                    let mut result = TVal::Bool(*negated);
                    for c in &children[1..] {
                        match compare(x, c.val()) {
                            Some(Ordering::Equal) => {
                                result = TVal::Bool(!negated);
                                break;
                            }
                            None => result = TVal::Missing,
                            _ => {}
                        }
                    }
                    result
                };
                node(result, children)
            }
            TKind::If {
                cond,
                then,
                otherwise,
            } => {
                let c = self.expr(cond)?;
                match c.val() {
                    TVal::Bool(true) => {
                        let t = self.expr(then)?;
                        node(t.val().clone(), vec![c, t, Node::skipped(otherwise)])
                    }
                    TVal::Bool(false) => {
                        let o = self.expr(otherwise)?;
                        node(o.val().clone(), vec![c, Node::skipped(then), o])
                    }
                    _ => node(
                        TVal::Missing,
                        vec![c, Node::skipped(then), Node::skipped(otherwise)],
                    ),
                }
            }
            TKind::Call { func, args } => self.call(e, *func, args)?,
            TKind::Error => Node::leaf(e, TVal::Missing),
        })
    }

    fn call(
        &mut self,
        e: &'p TExpr,
        func: Builtin,
        args: &'p [TExpr],
    ) -> Result<Node<'p>, TraceFault> {
        let node = |value: TVal, children: Vec<Node<'p>>| Node {
            expr: e,
            value: Some(value),
            children,
        };
        if func == Builtin::Coalesce {
            let mut children = Vec::with_capacity(args.len());
            let mut value = TVal::Missing;
            for a in args {
                if !value.is_missing() {
                    children.push(Node::skipped(a));
                    continue;
                }
                let c = self.expr(a)?;
                value = c.val().clone();
                children.push(c);
            }
            return Ok(node(value, children));
        }
        if let Builtin::Matches { regex } = func {
            // Only the subject is read: the pattern was compiled at check time.
            let s = self.expr(&args[0])?;
            let mut children = vec![s];
            children.extend(args[1..].iter().map(Node::skipped));
            let v = match children[0].val() {
                TVal::Str(text) => match self.program.regexes.get(regex as usize) {
                    Some(re) => TVal::Bool(re.is_match(text.as_bytes())),
                    None => TVal::Missing,
                },
                _ => TVal::Missing,
            };
            return Ok(node(v, children));
        }
        let mut children = Vec::with_capacity(args.len());
        for a in args {
            children.push(self.expr(a)?);
        }
        if func == Builtin::IsMissing {
            let v = TVal::Bool(children[0].val().is_missing());
            return Ok(node(v, children));
        }
        if children.iter().any(|c| c.val().is_missing()) {
            return Ok(node(TVal::Missing, children));
        }
        let str_arg = |i: usize| match children.get(i).map(Node::val) {
            Some(TVal::Str(s)) => s.as_str(),
            _ => "",
        };
        let v = match func {
            Builtin::Lower => TVal::Str(str_arg(0).to_lowercase()),
            Builtin::Upper => TVal::Str(str_arg(0).to_uppercase()),
            Builtin::Contains => TVal::Bool(str_arg(0).contains(str_arg(1))),
            Builtin::StartsWith => TVal::Bool(str_arg(0).starts_with(str_arg(1))),
            Builtin::EndsWith => TVal::Bool(str_arg(0).ends_with(str_arg(1))),
            // Numeric builtins: the function the compiler picks, run by
            // `ops` as the VM runs it; `floor`/`ceil`/`round` of an int is
            // the int.
            _ => {
                let float = args.first().is_some_and(|a| a.ty == Type::Float);
                match func.numeric(float) {
                    Some(f) => {
                        let vals: Vec<Val> = children.iter().map(|c| c.val().num()).collect();
                        let v = ops::numeric(f, &vals, 0).map_err(|x| self.fault(e.span, x))?;
                        TVal::of_num(v)
                    }
                    None => children[0].val().clone(),
                }
            }
        };
        Ok(node(v, children))
    }
}

/// Order two values as the VM does; `None` when either is missing.
pub(crate) fn compare(a: &TVal, b: &TVal) -> Option<Ordering> {
    match (a, b) {
        (TVal::Float(x), TVal::Float(y)) => x.partial_cmp(y),
        (TVal::Int(x), TVal::Int(y)) => Some(x.cmp(y)),
        (TVal::Int(x), TVal::Float(y)) => Some(ops::int_float(*x, *y)),
        (TVal::Float(x), TVal::Int(y)) => Some(ops::int_float(*y, *x).reverse()),
        (TVal::Bool(x), TVal::Bool(y)) => Some(x.cmp(y)),
        (TVal::Enum(_, x), TVal::Enum(_, y)) => Some(x.cmp(y)),
        (TVal::Str(x), TVal::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QuantizationConfig;
    use crate::eval::Listing;
    use crate::rules::{QUANTIZATION_RULE, QUANTIZATION_RULE_NAME, RuleSet};
    use crate::schema::Schema;

    /// Every subexpression has its value, and what `and` skipped is kept
    /// as not evaluated (the H100 PCIe: 350 W fails, MIG is never read).
    #[test]
    fn short_circuited_operands_are_traced_as_not_evaluated() {
        let texts = [(
            QUANTIZATION_RULE_NAME.to_string(),
            QUANTIZATION_RULE.to_string(),
        )];
        let set = RuleSet::build(
            &texts,
            &Schema::listing(),
            &QuantizationConfig::default().to_config(),
        );
        let row = Row::from_listing(&Listing {
            vram_gb: Some(80.0),
            tdp_watts: Some(350.0),
            mig_support: Some(true),
            ..Listing::default()
        });
        let id = set.program.outputs[0];
        let mut tracer = Tracer::new(&set.program, &row);
        assert_eq!(tracer.item(id).ok(), Some(TVal::Bool(false)));
        let t = tracer.trace(id).expect("traced");
        // ((vram >= min and tdp <= max) and (mig or not require_mig))
        let outer = &t.body;
        assert_eq!(outer.value, Some(TVal::Bool(false)));
        let (left, right) = (&outer.children[0], &outer.children[1]);
        assert_eq!(right.value, None, "the MIG test is skipped");
        assert_eq!(left.children[0].value, Some(TVal::Bool(true)));
        let tdp = &left.children[1];
        assert_eq!(tdp.value, Some(TVal::Bool(false)));
        assert_eq!(tdp.children[0].val().show(&set.program), "350");
        assert!(!t.defaulted);
    }

    /// Lets are resolved with an explicit stack, as the VM does: a chain of
    /// 5,000 lets is traced on a 256 KiB stack (why-columns run on the
    /// pipeline's ordinary worker threads).
    #[test]
    fn a_long_chain_of_lets_is_traced_without_deep_recursion() {
        let mut text = String::from("let l0 = vram_gb\n");
        for i in 1..5000 {
            text.push_str(&format!("let l{i} = l{} + 1\n", i - 1));
        }
        text.push_str("rule deep: bool = l4999 > 5000\n");
        let set = RuleSet::build(
            &[("chain.rule".to_string(), text)],
            &Schema::listing(),
            &crate::config::Config::empty(),
        );
        assert!(!set.has_errors(), "{:?}", set.diagnostics.first());
        let id = set.program.outputs[0];
        let value = std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(256 << 10)
                .spawn_scoped(s, || {
                    let row = Row::from_listing(&Listing {
                        vram_gb: Some(80.0),
                        ..Listing::default()
                    });
                    Tracer::new(&set.program, &row).item(id).ok()
                })
                .expect("a thread")
                .join()
                .expect("no stack overflow")
        });
        assert_eq!(value, Some(TVal::Bool(true)));
    }
}

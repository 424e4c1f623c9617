//! Common subexpressions for the batch path: an expression that several
//! rules compute the same way (`price / max(vram_gb, 0)` in a dozen rules,
//! the same `floor(usable / 5.5)`) becomes a hidden `let` computed once per
//! chunk, and each place that computed it reads the let instead.
//!
//! Only the batch path runs the shared program. Hoisting an expression out
//! of its rule can change which error is met first on a row, and where;
//! the batch path never reports errors itself (a chunk with one runs again
//! row by row, on the program as written), so this cannot change a message.
//! Only expressions evaluated on every evaluation of their item (not under
//! an `if` branch, the right side of `and`/`or`, or a later `coalesce`
//! argument) count towards sharing, so a let is not made of work a row
//! would often skip.

use crate::check::{Builtin, CheckedItem, Const, ItemId, Program, TExpr, TKind};
use crate::types::Type;
use std::collections::HashMap;

/// `p` with its common subexpressions as hidden lets, appended after its
/// items (item ids and outputs are unchanged); `None` when nothing is
/// shared.
pub(super) fn share_common(p: &Program) -> Option<Program> {
    let mut shapes = Shapes::default();
    for item in &p.items {
        shapes.visit(&item.body, true);
    }
    if !shapes.count.iter().any(|&n| n >= 2) {
        return None;
    }
    // Count again, entering a repeated expression's operands only once
    // (they are computed once, in its let): `max(vram_gb, 1)` inside three
    // copies of `price / max(vram_gb, 1)` is then computed once, and needs
    // no let of its own.
    shapes.uses = vec![0; shapes.count.len()];
    let mut entered = vec![false; shapes.count.len()];
    for item in &p.items {
        shapes.walk(&item.body, &mut entered);
    }
    if !shapes.uses.iter().any(|&n| n >= 2) {
        return None;
    }
    let mut rewrite = Rewrite {
        shapes: &shapes,
        lets: HashMap::new(),
        hidden: Vec::new(),
        base: p.items.len() as u32,
    };
    let mut items: Vec<CheckedItem> = p
        .items
        .iter()
        .map(|item| CheckedItem {
            body: rewrite.expr(&item.body, false),
            ..item.clone()
        })
        .collect();
    if rewrite.hidden.is_empty() {
        return None;
    }
    items.extend(rewrite.hidden);
    for item in &mut items {
        item.deps = reads(&item.body);
    }
    Some(Program {
        enums: p.enums.clone(),
        items,
        outputs: p.outputs.clone(),
        regexes: p.regexes.clone(),
    })
}

/// Every node's shape (its kind, type and operands' shapes, spans aside)
/// by number, and how often each shape occurs where it is always computed.
#[derive(Default)]
struct Shapes {
    ids: HashMap<Vec<u64>, u32>,
    strings: HashMap<String, u64>,
    /// By node address, its shape.
    of: HashMap<*const TExpr, u32>,
    count: Vec<u32>,
    /// By shape, how often it is computed when repeated ones are computed
    /// once: shared when at least twice.
    uses: Vec<u32>,
    /// By shape, whether sharing it saves work (it is more than one step).
    worth: Vec<bool>,
}

impl Shapes {
    fn visit(&mut self, e: &TExpr, always: bool) -> u32 {
        // Which operands are computed whenever this node is.
        let kids: Vec<u32> = match &e.kind {
            TKind::And(a, b) | TKind::Or(a, b) => {
                vec![self.visit(a, always), self.visit(b, false)]
            }
            TKind::If {
                cond,
                then,
                otherwise,
            } => vec![
                self.visit(cond, always),
                self.visit(then, false),
                self.visit(otherwise, false),
            ],
            TKind::Call {
                func: Builtin::Coalesce,
                args,
            } => args
                .iter()
                .enumerate()
                .map(|(k, a)| self.visit(a, always && k == 0))
                .collect(),
            _ => e
                .children()
                .into_iter()
                .map(|c| self.visit(c, always))
                .collect(),
        };
        let mut key = self.head(e);
        key.extend(kids.iter().map(|&k| u64::from(k)));
        let next = self.ids.len() as u32;
        let id = *self.ids.entry(key).or_insert(next);
        if id == next {
            self.count.push(0);
            let steps = match &e.kind {
                TKind::Const(_) | TKind::Field(_) | TKind::Item(_) | TKind::Error => 0,
                // Arguments are loaded into registers: a call is a step each.
                TKind::Call { args, .. } => 1 + args.len(),
                _ => 1 + e.children().iter().filter(|c| !is_leaf(c)).count(),
            };
            self.worth.push(steps >= 2);
        }
        if always && !is_leaf(e) {
            self.count[id as usize] += 1;
        }
        self.of.insert(e as *const TExpr, id);
        id
    }

    /// Count the uses of `e` and of what it always computes; a repeated
    /// shape's operands only on its first use.
    fn walk(&mut self, e: &TExpr, entered: &mut [bool]) {
        let mut stack = vec![e];
        while let Some(e) = stack.pop() {
            if is_leaf(e) {
                continue;
            }
            let s = self.of[&(e as *const TExpr)] as usize;
            self.uses[s] += 1;
            if self.count[s] >= 2 && self.worth[s] {
                if entered[s] {
                    continue;
                }
                entered[s] = true;
            }
            match &e.kind {
                TKind::And(a, _) | TKind::Or(a, _) => stack.push(a),
                TKind::If { cond, .. } => stack.push(cond),
                TKind::Call {
                    func: Builtin::Coalesce,
                    args,
                } => stack.extend(args.first()),
                _ => stack.extend(e.children()),
            }
        }
    }

    /// The node's kind, operator and type, as numbers.
    fn head(&mut self, e: &TExpr) -> Vec<u64> {
        let ty = match e.ty {
            Type::Bool => 0,
            Type::Int => 1,
            Type::Float => 2,
            Type::Str => 3,
            Type::Enum(id) => 16 + u64::from(id.0),
            Type::Error => 4,
        };
        let (kind, a, b): (u64, u64, u64) = match &e.kind {
            TKind::Const(c) => match c {
                Const::Bool(v) => (1, 0, u64::from(*v)),
                Const::Int(v) => (1, 1, *v as u64),
                Const::Float(v) => (1, 2, v.to_bits()),
                Const::Str(s) => {
                    let next = self.strings.len() as u64;
                    (1, 3, *self.strings.entry(s.clone()).or_insert(next))
                }
                Const::Enum(id, v) => (1, 4 + u64::from(id.0), u64::from(*v)),
            },
            TKind::Field(slot) => (2, *slot as u64, 0),
            TKind::Item(id) => (3, u64::from(id.0), 0),
            TKind::ToFloat(_) => (4, 0, 0),
            TKind::Neg(_) => (5, 0, 0),
            TKind::Not(_) => (6, 0, 0),
            TKind::And(..) => (7, 0, 0),
            TKind::Or(..) => (8, 0, 0),
            TKind::Arith { op, .. } => (9, *op as u64, 0),
            TKind::Cmp { op, .. } => (10, *op as u64, 0),
            TKind::In { negated, list, .. } => (11, u64::from(*negated), list.len() as u64),
            TKind::If { .. } => (12, 0, 0),
            TKind::Call { func, args } => {
                // The builtin by name (a `matches` call with its regex's id).
                let name = format!("{func:?}");
                let next = self.strings.len() as u64;
                let f = *self.strings.entry(name).or_insert(next);
                (13, f, args.len() as u64)
            }
            TKind::Error => (14, 0, 0),
        };
        vec![kind, a, b, ty]
    }
}

fn is_leaf(e: &TExpr) -> bool {
    matches!(
        e.kind,
        TKind::Const(_) | TKind::Field(_) | TKind::Item(_) | TKind::Error
    )
}

/// Rewrites item bodies: a shared shape becomes a read of its hidden let.
struct Rewrite<'a> {
    shapes: &'a Shapes,
    /// By shape, the item id of its let.
    lets: HashMap<u32, u32>,
    hidden: Vec<CheckedItem>,
    base: u32,
}

impl Rewrite<'_> {
    fn boxed(&mut self, e: &TExpr) -> Box<TExpr> {
        Box::new(self.expr(e, false))
    }

    /// `e` rewritten; `inside` when `e` is the body of the let of its own
    /// shape (which must compute it, not read itself).
    fn expr(&mut self, e: &TExpr, inside: bool) -> TExpr {
        let shape = self.shapes.of.get(&(e as *const TExpr)).copied();
        if let Some(s) = shape
            && !inside
            && self.shapes.uses[s as usize] >= 2
            && self.shapes.worth[s as usize]
        {
            let id = match self.lets.get(&s) {
                Some(&id) => id,
                None => {
                    let body = self.expr(e, true);
                    let id = self.base + self.hidden.len() as u32;
                    self.hidden.push(CheckedItem {
                        name: format!("(shared {})", self.hidden.len() + 1),
                        span: e.span,
                        ty: e.ty,
                        rule: None,
                        body,
                        deps: Vec::new(),
                    });
                    self.lets.insert(s, id);
                    id
                }
            };
            return TExpr {
                kind: TKind::Item(ItemId(id)),
                ty: e.ty,
                span: e.span,
            };
        }
        let kind = match &e.kind {
            TKind::Const(_) | TKind::Field(_) | TKind::Item(_) | TKind::Error => e.kind.clone(),
            TKind::ToFloat(a) => TKind::ToFloat(self.boxed(a)),
            TKind::Neg(a) => TKind::Neg(self.boxed(a)),
            TKind::Not(a) => TKind::Not(self.boxed(a)),
            TKind::And(a, b) => TKind::And(self.boxed(a), self.boxed(b)),
            TKind::Or(a, b) => TKind::Or(self.boxed(a), self.boxed(b)),
            TKind::Arith { op, lhs, rhs } => TKind::Arith {
                op: *op,
                lhs: self.boxed(lhs),
                rhs: self.boxed(rhs),
            },
            TKind::Cmp { op, lhs, rhs } => TKind::Cmp {
                op: *op,
                lhs: self.boxed(lhs),
                rhs: self.boxed(rhs),
            },
            TKind::In {
                negated,
                value,
                list,
            } => TKind::In {
                negated: *negated,
                value: self.boxed(value),
                list: list.iter().map(|c| self.expr(c, false)).collect(),
            },
            TKind::If {
                cond,
                then,
                otherwise,
            } => TKind::If {
                cond: self.boxed(cond),
                then: self.boxed(then),
                otherwise: self.boxed(otherwise),
            },
            TKind::Call { func, args } => TKind::Call {
                func: *func,
                args: args.iter().map(|c| self.expr(c, false)).collect(),
            },
        };
        TExpr {
            kind,
            ty: e.ty,
            span: e.span,
        }
    }
}

/// The items `e` reads directly, each once, in order of first read.
fn reads(e: &TExpr) -> Vec<ItemId> {
    let mut found = Vec::new();
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        if let TKind::Item(id) = e.kind
            && !found.contains(&id)
        {
            found.push(id);
        }
        stack.extend(e.children());
    }
    found
}

#[cfg(test)]
mod tests {
    use crate::compile::{Compiled, Instr};
    use crate::config::Config;
    use crate::rules::RuleSet;
    use crate::schema::Schema;
    use std::sync::Arc;

    fn compiled(text: &str) -> Arc<Compiled> {
        let texts = [("t.rule".to_string(), text.to_string())];
        let set = RuleSet::build(&texts, &Schema::listing(), &Config::empty());
        assert!(!set.has_errors(), "{:?}", set.diagnostics);
        set.compiled.clone().expect("compiles")
    }

    fn hidden(c: &Compiled) -> Vec<&str> {
        c.items
            .iter()
            .map(|i| &*i.name)
            .filter(|n| n.starts_with("(shared"))
            .collect()
    }

    #[test]
    fn an_expression_several_rules_compute_becomes_one_hidden_let() {
        let c = compiled(
            "rule a: float = price / max(vram_gb, 1.0) * 2\n\
             rule b: float = price / max(vram_gb, 1.0) * 3\n\
             rule c: bool = price / max(vram_gb, 1.0) > 100\n",
        );
        let batch = c.for_batch();
        assert_eq!(hidden(&batch), ["(shared 1)"]);
        // Every rule keeps its id and reads the let; the let alone divides.
        assert_eq!(batch.items.len(), c.items.len() + 1);
        let shared = c.items.len() as u32;
        for rule in 0..3 {
            assert!(batch.items[rule].deps.contains(&shared), "{rule}");
        }
        let divisions = batch
            .code
            .iter()
            .filter(|i| {
                matches!(
                    i,
                    Instr::Arith {
                        op: crate::ops::Arith::DivFloat,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(divisions, 1);
        // The row path's program is the one written.
        assert!(hidden(&c).is_empty());
    }

    #[test]
    fn expressions_only_some_rows_compute_are_not_shared() {
        // Each copy is under a branch or the right of `and`: hoisting it
        // would compute it on rows that never needed it.
        let c = compiled(
            "rule a: float = if nvlink then price / max(vram_gb, 1.0) else 0.0\n\
             rule b: bool = nvlink and price / max(vram_gb, 1.0) > 100\n",
        );
        assert!(Arc::ptr_eq(&c.for_batch(), &c));
    }

    #[test]
    fn a_single_step_is_not_worth_a_let() {
        // `vram_gb * 2` is one instruction either way.
        let c = compiled("rule a: float = vram_gb * 2\nrule b: float = vram_gb * 2\n");
        assert!(Arc::ptr_eq(&c.for_batch(), &c));
    }
}

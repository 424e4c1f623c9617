//! Lints over the rule set: cycles, and every warning the checker gives
//! (W401 division by a zero constant, W402 comparing a value with itself,
//! W403 an unused let, W404 an unused config key). W405, a dangling doc
//! comment, is the parser's: only it sees comments.

use super::Checker;
use super::ir::{Const, ItemId, TExpr, TKind};
use crate::diagnostic::{Code, Diagnostic, nearest, printable};
use crate::ops::CmpOp;
use crate::source::Span;
use crate::syntax::ast::{ArithOp, Expr};

/// Order items so each comes after what it reads (Kahn's algorithm, no
/// recursion, so a long chain of rules cannot overflow the stack). Items left
/// over sit on or behind a cycle: each cycle is reported once.
pub(super) fn order_or_report_cycles(
    c: &mut Checker,
    direct: &[Vec<(ItemId, Span)>],
    n: usize,
) -> Vec<ItemId> {
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut pending: Vec<usize> = vec![0; n];
    for (i, refs) in direct.iter().enumerate() {
        let mut seen: Vec<usize> = refs.iter().map(|(d, _)| d.0 as usize).collect();
        seen.sort_unstable();
        seen.dedup();
        pending[i] = seen.len();
        for d in seen {
            readers[d].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| pending[i] == 0).rev().collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(ItemId(i as u32));
        for &r in &readers[i] {
            pending[r] -= 1;
            if pending[r] == 0 {
                ready.push(r);
            }
        }
    }
    let mut reported = vec![false; n];
    // Where each item sits on the current walk (usize::MAX: not on it), so
    // finding a repeat is O(1) and a 100,000-rule cycle is found in O(n).
    let mut on_path = vec![usize::MAX; n];
    for start in 0..n {
        if pending[start] == 0 || reported[start] {
            continue;
        }
        // Walk unresolved dependencies until an item repeats: that is a cycle.
        let mut path: Vec<(usize, Span)> = Vec::new();
        let mut at = start;
        let cycle_start = loop {
            if on_path[at] != usize::MAX {
                break on_path[at];
            }
            if reported[at] {
                // Behind a cycle already reported.
                break path.len();
            }
            let Some(&(next, span)) = direct[at].iter().find(|(d, _)| pending[d.0 as usize] > 0)
            else {
                break path.len();
            };
            on_path[at] = path.len();
            path.push((at, span));
            at = next.0 as usize;
        };
        for (i, _) in &path {
            on_path[*i] = usize::MAX;
        }
        let cycle = &path[cycle_start..];
        if cycle.is_empty() || cycle.iter().any(|(i, _)| reported[*i]) {
            for (i, _) in &path {
                reported[*i] = true;
            }
            continue;
        }
        c.diags.push(cycle_diagnostic(c, cycle));
        for (i, _) in &path {
            reported[*i] = true;
        }
    }
    // Items on or behind cycles still get checked, after the rest.
    order.extend((0..n).filter(|&i| pending[i] > 0).map(|i| ItemId(i as u32)));
    order
}

/// Steps of a cycle named in its message and drawn as notes: a generated
/// 100,000-rule cycle gets a report of bounded size.
const CYCLE_STEPS_SHOWN: usize = 12;

/// E302 for one cycle: its first item, each step `a` uses `b` (the first
/// [`CYCLE_STEPS_SHOWN`] of them), and how many more there are.
fn cycle_diagnostic(c: &Checker, cycle: &[(usize, Span)]) -> Diagnostic {
    let name = |k: usize| c.decls[cycle[k % cycle.len()].0].name.name.as_str();
    let len = cycle.len();
    let mut chain: Vec<&str> = (0..len.min(CYCLE_STEPS_SHOWN)).map(name).collect();
    if len > CYCLE_STEPS_SHOWN {
        chain.push("...");
        chain.push(name(len - 1));
    }
    chain.push(name(0));
    let more = len.saturating_sub(CYCLE_STEPS_SHOWN);
    let mut d = Diagnostic::new(
        Code::Cycle,
        c.decls[cycle[0].0].name.span,
        format!("`{}` depends on itself: {}", name(0), chain.join(" -> ")),
    )
    .label("this starts the cycle")
    .help(match more {
        0 => {
            "a rule cannot use its own value, directly or through other rules and lets".to_string()
        }
        _ => format!(
            "a rule cannot use its own value, directly or through other rules and lets; \
             the cycle has {len} steps, the first {CYCLE_STEPS_SHOWN} are shown"
        ),
    });
    for (k, (_, span)) in cycle.iter().enumerate().take(CYCLE_STEPS_SHOWN) {
        d = d.note(*span, format!("`{}` uses `{}`", name(k), name(k + 1)));
    }
    d
}

impl Checker<'_> {
    /// `x / 0`, `x % 0`, and division by a config value that is zero.
    pub(super) fn division_by_zero(&mut self, op: ArithOp, op_span: Span, rhs: &TExpr) {
        let zero = match &rhs.kind {
            TKind::Const(Const::Int(0)) => true,
            TKind::Const(Const::Float(f)) => *f == 0.0,
            TKind::ToFloat(inner) => matches!(inner.kind, TKind::Const(Const::Int(0))),
            _ => false,
        };
        if zero {
            self.diags.push(
                Diagnostic::new(
                    Code::DivisionByZero,
                    rhs.span,
                    format!("`{}` by zero is always missing", op.symbol()),
                )
                .label("this is zero")
                .note(op_span, "divides here")
                .help("division by zero gives a missing value; divide by something else"),
            );
        }
    }

    /// W403 for each let no rule or let reads.
    pub(super) fn unused_lets(&mut self) {
        for (i, d) in self.decls.iter().enumerate() {
            if d.rule.is_none() && !self.let_used.contains(&ItemId(i as u32)) {
                self.diags.push(
                    Diagnostic::new(
                        Code::UnusedLet,
                        d.name.span,
                        format!("`{}` is never used", d.name.name),
                    )
                    .label("never used")
                    .help("use it in a rule, or remove it"),
                );
            }
        }
    }

    /// Warn about config keys no rule reads, once the rules read any: keys
    /// that a layer the user wrote adds (a key the built-in config has
    /// serves the shipped rules, so setting it does not warn), pointing at
    /// the layer that sets it, with the nearest key the rules read.
    pub(super) fn unused_cfg_keys(&mut self) {
        if self.cfg_used.is_empty() {
            return;
        }
        let wanted: Vec<&str> = self
            .cfg_used
            .iter()
            .chain(&self.cfg_unknown)
            .map(String::as_str)
            .collect();
        let mut diags = Vec::new();
        for path in self.config.leaf_paths() {
            if self.cfg_used.contains(&path) {
                continue;
            }
            let Some(origin) = self.config.origins.get(&path) else {
                continue;
            };
            let declared_by_user = self
                .config
                .layers
                .get(origin.declared_by)
                .is_some_and(|l| l.from_user);
            let Some(Some(file)) = self.config_files.get(origin.set_by) else {
                continue;
            };
            if !declared_by_user {
                continue;
            }
            let (s, e) = self.config.locate(&path).unwrap_or((0, 0));
            let shown = printable(&path);
            let help = match nearest(&path, wanted.iter().copied()) {
                Some(near) => format!(
                    "did you mean `{}`, which the rules read? Otherwise read this key as \
                     `cfg.{shown}` in a rule, or remove it",
                    printable(near)
                ),
                None => format!("read it as `cfg.{shown}` in a rule, or remove it"),
            };
            diags.push(
                Diagnostic::new(
                    Code::UnusedCfgKey,
                    Span::new(*file, s, e),
                    format!("config key `{shown}` is never read"),
                )
                .label("no rule reads this")
                .help(help),
            );
        }
        self.diags.extend(diags);
    }

    /// `x == x` and friends: always true or false (or missing).
    pub(super) fn self_comparison(&mut self, op: CmpOp, op_span: Span, lhs: &Expr, rhs: &Expr) {
        if !same_expr(lhs, rhs) {
            return;
        }
        let always = match op {
            CmpOp::Eq | CmpOp::Le | CmpOp::Ge => "true",
            CmpOp::Ne | CmpOp::Lt | CmpOp::Gt => "false",
        };
        self.diags.push(
            Diagnostic::new(
                Code::SelfComparison,
                op_span,
                "comparing a value with itself",
            )
            .label(format!(
                "both sides are the same: always {always} (or missing)"
            ))
            .note(rhs.span, "the same expression as the left side")
            .help("compare with another value; to test for a missing value use is_missing(x)"),
        );
    }
}

/// Structural equality, ignoring spans: the same node, and the same
/// children (through [`Expr::children`], which lists every kind's).
fn same_expr(a: &Expr, b: &Expr) -> bool {
    if !a.same_node(b) {
        return false;
    }
    let (x, y) = (a.children(), b.children());
    x.len() == y.len() && x.into_iter().zip(y).all(|(p, q)| same_expr(p, q))
}

#[cfg(test)]
mod tests {
    use crate::config::QuantizationConfig;
    use crate::diagnostic::Code;
    use crate::rules::RuleSet;
    use crate::schema::Schema;

    fn codes(text: &str) -> Vec<Code> {
        let set = RuleSet::build(
            &[("t.rule".to_string(), text.to_string())],
            &Schema::listing(),
            &QuantizationConfig::default().to_config(),
        );
        set.diagnostics.iter().map(|d| d.code).collect()
    }

    #[test]
    fn cycle_detection_sees_references_inside_every_node_kind() {
        // a -> b (in a list item) -> c (an if branch, a call argument, a
        // negation) -> a (an if condition): found through `Expr::children`.
        let text = "rule a: bool = 0 in [b]\n\
                    let b = if true then 1 else abs(-c)\n\
                    let c = if a then 1 else 2\n";
        assert_eq!(codes(text), vec![Code::Cycle]);
    }

    #[test]
    fn self_comparison_sees_through_every_node_kind() {
        let same = "rule r: bool = (if mig_support then min(-price, 1.0) else 0.0 + 1.0) \
                    == (if mig_support then min(-price, 1.0) else 0.0 + 1.0)\n";
        assert_eq!(codes(same), vec![Code::SelfComparison]);
        // Differs only deep inside a call argument: not the same expression.
        let differs = "rule r: bool = (if mig_support then min(-price, 1.0) else 0.0 + 1.0) \
                       == (if mig_support then min(-price, 2.0) else 0.0 + 1.0)\n";
        assert_eq!(codes(differs), vec![]);
        let lists = "rule r: bool = (price in [1.0, 2.0]) == (price in [1.0, 2.0, 3.0])\n";
        assert_eq!(codes(lists), vec![]);
    }
}

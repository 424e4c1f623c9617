//! Condition coverage (`glyphsieve test --coverage`, `--coverage-data`):
//! for each rule and let, which of its conditions the tests (or the rows of
//! a CSV file) made true, false and missing, which `if` branches and
//! `coalesce` arguments they took, and whether an ordered comparison with a
//! constant was ever tried at exactly its threshold. Built on explain's
//! tracing evaluator: a part a short-circuit skipped counts as not reached.
//! Only counts are kept, so a data file of any length takes flat memory.

use crate::check::ruletests::is_test_item;
use crate::check::{Builtin, Program, TExpr, TKind};
use crate::explain::{Drawing, MAX_DRAWN_LINE, Node, TVal};
use crate::ops::CmpOp;
use crate::source::{SourceMap, Span};
use crate::types::Type;
use serde_json::{Value as Json, json};
use std::collections::HashMap;

/// What one evaluation of a condition showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Mark {
    True,
    False,
    Missing,
    /// A `coalesce` argument gave the call's value.
    Taken,
    /// An ordered comparison's two sides were equal.
    AtThreshold,
    /// An `in` list's element equalled the value.
    Matched,
}

/// Outcome counts, by the span of the condition (spans are the same in a
/// rule set rebuilt with a test's `with cfg.` overrides).
#[derive(Debug, Default)]
pub(super) struct Coverage {
    counts: HashMap<(Span, Mark), u64>,
    /// Evaluations recorded (tests run, or rows read).
    pub runs: u64,
}

/// A node whose value is a decision of its own: a comparison, an `in`, a
/// bool function. (Operands of `and`/`or`/`not` and `if` conditions are
/// decisions because of where they stand.)
fn is_decision(e: &TExpr) -> bool {
    e.ty == Type::Bool
        && matches!(
            e.kind,
            TKind::Cmp { .. } | TKind::In { .. } | TKind::Call { .. }
        )
}

/// Whether the `i`th operand of `parent` is a condition by position.
fn operand_is_condition(parent: &TExpr, i: usize) -> bool {
    match parent.kind {
        TKind::And(..) | TKind::Or(..) | TKind::Not(_) => true,
        TKind::If { .. } => i == 0,
        _ => false,
    }
}

fn ordered(op: CmpOp) -> bool {
    matches!(op, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge)
}

/// The constant side of a comparison (looking through an int-to-float
/// conversion), and the other side.
fn threshold<'e>(lhs: &'e TExpr, rhs: &'e TExpr) -> Option<(&'e TExpr, &'e TExpr)> {
    let konst = |e: &'e TExpr| match &e.kind {
        TKind::Const(_) => Some(e),
        TKind::ToFloat(x) if matches!(x.kind, TKind::Const(_)) => Some(&**x),
        _ => None,
    };
    match (konst(lhs), konst(rhs)) {
        (None, Some(c)) if lhs.ty.is_numeric() => Some((c, lhs)),
        (Some(c), None) if rhs.ty.is_numeric() => Some((c, rhs)),
        _ => None,
    }
}

impl Coverage {
    fn mark(&mut self, span: Span, m: Mark) {
        *self.counts.entry((span, m)).or_insert(0) += 1;
    }

    fn count(&self, span: Span, m: Mark) -> u64 {
        self.counts.get(&(span, m)).copied().unwrap_or(0)
    }

    /// Record one traced item body.
    pub(super) fn record(&mut self, body: &Node) {
        self.walk(body, false);
    }

    fn walk(&mut self, n: &Node, condition: bool) {
        let e = n.expr;
        // Not evaluated: a short-circuit skipped it and all it holds.
        let Some(v) = &n.value else { return };
        if matches!(e.kind, TKind::Const(_)) {
            return;
        }
        if e.ty == Type::Bool && (condition || is_decision(e)) {
            let m = match v {
                TVal::Bool(true) => Mark::True,
                TVal::Bool(false) => Mark::False,
                _ => Mark::Missing,
            };
            self.mark(e.span, m);
        }
        match &e.kind {
            TKind::Cmp { op, lhs, rhs } if ordered(*op) && threshold(lhs, rhs).is_some() => {
                if let [a, b] = &n.children[..]
                    && crate::explain::compare_values(a.val(), b.val())
                        == Some(std::cmp::Ordering::Equal)
                {
                    self.mark(e.span, Mark::AtThreshold);
                }
            }
            TKind::In { .. } => {
                if let Some((value, list)) = n.children.split_first()
                    && let Some(hit) = list.iter().find(|c| {
                        crate::explain::compare_values(value.val(), c.val())
                            == Some(std::cmp::Ordering::Equal)
                    })
                {
                    self.mark(hit.expr.span, Mark::Matched);
                }
            }
            TKind::Call {
                func: Builtin::Coalesce,
                ..
            } => {
                let taken = n
                    .children
                    .iter()
                    .find(|c| c.value.as_ref().is_some_and(|v| !v.is_missing()));
                if let Some(c) = taken {
                    self.mark(c.expr.span, Mark::Taken);
                }
            }
            _ => {}
        }
        for (i, c) in n.children.iter().enumerate() {
            self.walk(c, operand_is_condition(e, i));
        }
    }
}

/// One thing to cover in a rule's source.
#[derive(Debug, Clone)]
struct Cond {
    span: Span,
    kind: CondKind,
    /// Where the operator of a comparison or `in` is (the text between
    /// its operands): its label is drawn there, as explain draws it, so
    /// it does not cover the labels of the parts inside it.
    gap: Option<Span>,
}

#[derive(Debug, Clone)]
enum CondKind {
    /// A bool condition; `branch`: an `if`'s condition (true takes `then`).
    Bool { branch: bool },
    /// A `coalesce` argument.
    Argument,
    /// An element of an `in` list.
    Element,
    /// An ordered comparison with a constant: the constant as shown.
    Threshold { value: String },
}

fn conditions(e: &TExpr, condition: bool, branch: bool, program: &Program, out: &mut Vec<Cond>) {
    if matches!(e.kind, TKind::Const(_) | TKind::Error) {
        return;
    }
    if e.ty == Type::Bool && (condition || is_decision(e)) {
        let gap = match &e.kind {
            TKind::Cmp { lhs, rhs, .. } => Some((lhs.span.end, rhs.span.start)),
            TKind::In { value, list, .. } => Some((
                value.span.end,
                list.first().map_or(e.span.end, |x| x.span.start),
            )),
            _ => None,
        };
        out.push(Cond {
            span: e.span,
            kind: CondKind::Bool { branch },
            gap: gap
                .filter(|(a, b)| a <= b)
                .map(|(a, b)| Span::new(e.span.file, a as usize, b as usize)),
        });
    }
    match &e.kind {
        TKind::Cmp { op, lhs, rhs } if ordered(*op) => {
            if let Some((c, _)) = threshold(lhs, rhs)
                && let TKind::Const(k) = &c.kind
            {
                out.push(Cond {
                    span: e.span,
                    kind: CondKind::Threshold {
                        value: crate::explain::show_const(k, program),
                    },
                    gap: (lhs.span.end <= rhs.span.start).then(|| {
                        Span::new(e.span.file, lhs.span.end as usize, rhs.span.start as usize)
                    }),
                });
            }
        }
        TKind::In { list, .. } => {
            for x in list {
                out.push(Cond {
                    span: x.span,
                    kind: CondKind::Element,
                    gap: None,
                });
            }
        }
        TKind::Call {
            func: Builtin::Coalesce,
            args,
        } => {
            for a in args {
                out.push(Cond {
                    span: a.span,
                    kind: CondKind::Argument,
                    gap: None,
                });
            }
        }
        _ => {}
    }
    let is_if = matches!(e.kind, TKind::If { .. });
    for (i, c) in e.children().into_iter().enumerate() {
        conditions(c, operand_is_condition(e, i), is_if && i == 0, program, out);
    }
}

/// Where the counts came from, for the wording.
#[derive(Debug, Clone, Copy)]
pub(super) enum Over {
    Tests,
    Data,
}

impl Over {
    fn noun(self) -> &'static str {
        match self {
            Over::Tests => "test",
            Over::Data => "row",
        }
    }
}

/// One condition's counts and what it lacks.
struct CondReport {
    cond: Cond,
    counts: [u64; 6],
    /// Each required outcome no evaluation showed, as a label.
    uncovered: Vec<String>,
    required: u32,
}

struct ItemReport {
    name: String,
    kind: &'static str,
    conds: Vec<CondReport>,
}

impl ItemReport {
    fn required(&self) -> u32 {
        self.conds.iter().map(|c| c.required).sum()
    }
    fn covered(&self) -> u32 {
        self.required()
            - self
                .conds
                .iter()
                .map(|c| c.uncovered.len() as u32)
                .sum::<u32>()
    }
    fn percent(&self) -> u32 {
        match self.required() {
            0 => 100,
            r => self.covered() * 100 / r,
        }
    }
}

fn reports(cov: &Coverage, program: &Program, over: Over) -> Vec<ItemReport> {
    let mut out = Vec::new();
    for item in &program.items {
        if is_test_item(&item.name) || crate::rules::is_filter_item(&item.name) {
            continue;
        }
        let mut conds = Vec::new();
        conditions(&item.body, false, false, program, &mut conds);
        // In source order; a condition before the parts inside it (stable:
        // a comparison's outcomes before its threshold).
        conds.sort_by_key(|c| (c.span.start, std::cmp::Reverse(c.span.end)));
        if conds.is_empty() {
            continue;
        }
        let conds = conds
            .into_iter()
            .map(|cond| {
                let s = cond.span;
                let counts = [
                    cov.count(s, Mark::True),
                    cov.count(s, Mark::False),
                    cov.count(s, Mark::Missing),
                    cov.count(s, Mark::Taken),
                    cov.count(s, Mark::AtThreshold),
                    cov.count(s, Mark::Matched),
                ];
                let mut uncovered = Vec::new();
                let required = match &cond.kind {
                    CondKind::Bool { branch } => {
                        let (t, f) = match branch {
                            true => ("`then` branch never taken", "`else` branch never taken"),
                            false => ("never true", "never false"),
                        };
                        if counts[0] == 0 && counts[1] == 0 && counts[2] == 0 {
                            uncovered.push("never reached".to_string());
                            uncovered.push(String::new());
                        } else {
                            if counts[0] == 0 {
                                uncovered.push(t.to_string());
                            }
                            if counts[1] == 0 {
                                uncovered.push(f.to_string());
                            }
                        }
                        2
                    }
                    CondKind::Argument => {
                        if counts[3] == 0 {
                            uncovered.push("never taken".to_string());
                        }
                        1
                    }
                    CondKind::Element => {
                        if counts[5] == 0 {
                            uncovered.push("never matched".to_string());
                        }
                        1
                    }
                    CondKind::Threshold { value } => {
                        if counts[4] == 0 {
                            uncovered.push(format!(
                                "no {} at exactly the threshold {value}",
                                over.noun()
                            ));
                        }
                        1
                    }
                };
                CondReport {
                    cond,
                    counts,
                    uncovered,
                    required,
                }
            })
            .collect();
        out.push(ItemReport {
            name: item.name.clone(),
            kind: if item.rule.is_some() { "rule" } else { "let" },
            conds,
        });
    }
    out
}

fn place(sources: &SourceMap, span: Span) -> (String, usize, usize) {
    let file = sources.get(span.file);
    let (line, col) = file.line_col(span.start as usize);
    (file.name.clone(), line, col)
}

/// Where a condition's label is drawn: its operator (`>=`, `in`, `not
/// in`) when it has one, else its whole span.
fn anchor(sources: &SourceMap, c: &Cond) -> Span {
    let Some(gap) = c.gap else {
        return c.span;
    };
    let text = sources.get(gap.file).slice(gap);
    // The gap holds the operator, spaces and any parentheses.
    let trimmed = |t: &str| {
        t.trim_matches(|ch: char| ch.is_whitespace() || ch == '(' || ch == ')')
            .len()
    };
    let lead = text.len()
        - text
            .trim_start_matches(|ch: char| ch.is_whitespace() || ch == ')')
            .len();
    let op = &text[lead..];
    let len = match op.find('[') {
        Some(i) => op[..i].trim_end().len(),
        None => trimmed(op),
    };
    match len {
        0 => c.span,
        _ => Span::new(
            gap.file,
            gap.start as usize + lead,
            gap.start as usize + lead + len,
        ),
    }
}

/// One line of source text, shortened: a condition as it is written.
fn snippet(sources: &SourceMap, span: Span) -> String {
    let text = sources.get(span.file).slice(span);
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.chars().count() > 50 {
        true => one.chars().take(47).collect::<String>() + "...",
        false => one,
    }
}

/// The human report: per item its percentage, each condition's counts,
/// and the uncovered spans drawn under the source.
pub(super) fn human(
    cov: &Coverage,
    program: &Program,
    sources: &SourceMap,
    over: Over,
    what: &str,
    color: bool,
) -> String {
    let items = reports(cov, program, over);
    let runs = cov.runs;
    let mut out = format!(
        "coverage over {what} ({runs} {}{}):\n",
        over.noun(),
        if runs == 1 { "" } else { "s" }
    );
    let theme = match color {
        true => miette::GraphicalTheme::unicode(),
        false => miette::GraphicalTheme::unicode_nocolor(),
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    for it in &items {
        out.push_str(&format!(
            "{} {}: {}% ({} of {} outcomes)\n",
            it.kind,
            it.name,
            it.percent(),
            it.covered(),
            it.required()
        ));
        for c in &it.conds {
            let (file, line, col) = place(sources, c.cond.span);
            let text = snippet(sources, c.cond.span);
            let counts = match &c.cond.kind {
                CondKind::Bool { branch: false } => format!(
                    "true {}, false {}, missing {}",
                    c.counts[0], c.counts[1], c.counts[2]
                ),
                CondKind::Bool { branch: true } => format!(
                    "then {}, else {}, missing {}",
                    c.counts[0], c.counts[1], c.counts[2]
                ),
                CondKind::Argument => format!("taken {}", c.counts[3]),
                CondKind::Element => format!("matched {}", c.counts[5]),
                CondKind::Threshold { value } => {
                    format!("at the threshold {value}: {}", c.counts[4])
                }
            };
            let mark = if c.uncovered.is_empty() { " " } else { "!" };
            out.push_str(&format!(
                "  {mark} {file}:{line}:{col} `{text}`: {counts}\n"
            ));
        }
        // Labels on the same span are joined: one label per span.
        let mut labels: Vec<(Span, String)> = Vec::new();
        for c in &it.conds {
            let text: Vec<&str> = c
                .uncovered
                .iter()
                .map(String::as_str)
                .filter(|s| !s.is_empty())
                .collect();
            if text.is_empty() {
                continue;
            }
            let text = text.join(", ");
            let at = anchor(sources, &c.cond);
            match labels.iter_mut().find(|(s, _)| *s == at) {
                Some((_, l)) => {
                    l.push_str("; ");
                    l.push_str(&text);
                }
                None => labels.push((at, text)),
            }
        }
        let Some(first) = labels.first().map(|(s, _)| s.file) else {
            continue;
        };
        let file = sources.get(first);
        labels.retain(|(s, _)| s.file == first);
        labels.sort_by_key(|(s, _)| (s.start, s.end));
        let widest = labels
            .iter()
            .map(|(s, _)| file.widest_line(*s, 1))
            .max()
            .unwrap_or(0);
        if widest > MAX_DRAWN_LINE {
            continue;
        }
        let message = format!(
            "{} `{}`: {} of {} outcomes not covered",
            it.kind,
            it.name,
            it.required() - it.covered(),
            it.required()
        );
        let drawing = Drawing::new(message, file, labels);
        let _ = handler.render_report(&mut out, &drawing);
    }
    out
}

/// The JSON report: one object per item with its conditions.
pub(super) fn json(cov: &Coverage, program: &Program, sources: &SourceMap, over: Over) -> Json {
    let items: Vec<Json> = reports(cov, program, over)
        .iter()
        .map(|it| {
            let conds: Vec<Json> = it
                .conds
                .iter()
                .map(|c| {
                    let (file, line, column) = place(sources, c.cond.span);
                    let kind = match &c.cond.kind {
                        CondKind::Bool { branch: false } => json!({"kind": "condition"}),
                        CondKind::Bool { branch: true } => json!({"kind": "if"}),
                        CondKind::Argument => json!({"kind": "coalesce-argument"}),
                        CondKind::Element => json!({"kind": "in-element", "matched": c.counts[5]}),
                        CondKind::Threshold { value } => {
                            json!({"kind": "threshold", "threshold": value})
                        }
                    };
                    let mut obj = json!({
                        "text": snippet(sources, c.cond.span),
                        "file": file,
                        "line": line,
                        "column": column,
                        "true": c.counts[0],
                        "false": c.counts[1],
                        "missing": c.counts[2],
                        "taken": c.counts[3],
                        "at_threshold": c.counts[4],
                        "uncovered": c.uncovered.iter().filter(|s| !s.is_empty()).collect::<Vec<_>>(),
                    });
                    if let (Some(o), Json::Object(k)) = (obj.as_object_mut(), kind) {
                        o.extend(k);
                    }
                    obj
                })
                .collect();
            json!({
                "name": it.name,
                "kind": it.kind,
                "percent": it.percent(),
                "covered": it.covered(),
                "required": it.required(),
                "conditions": conds,
            })
        })
        .collect();
    json!({
        "over": match over { Over::Tests => "tests", Over::Data => "data" },
        "runs": cov.runs,
        "items": items,
    })
}

//! Why-columns: a short reason beside a bool rule's value, naming the
//! comparison that decided it and its values (`tdp_watts 350 >
//! cfg.max_tdp_watts 300`), read off the rule's trace. A `WhyHeuristic` is
//! one more output column, so eval's pipeline runs it unchanged.

use super::trace::{Node, TVal, Tracer};
use crate::check::{Builtin, ItemId, Program, TKind};
use crate::compile::{CmpOp, Compiled};
use crate::eval::{EvalError, Row, Value};
use crate::heuristic::{Heuristic, OutputType};
use crate::source::SourceMap;
use crate::syntax::ast::cmp_symbol;
use std::sync::Arc;

/// Longest operand text quoted in a reason.
const MAX_SHOWN: usize = 40;

/// The `<rule>_why` column of one bool rule.
pub struct WhyHeuristic {
    program: Arc<Program>,
    compiled: Arc<Compiled>,
    sources: Arc<SourceMap>,
    item: ItemId,
    name: String,
}

impl WhyHeuristic {
    pub(crate) fn new(
        program: Arc<Program>,
        compiled: Arc<Compiled>,
        sources: Arc<SourceMap>,
        item: ItemId,
    ) -> WhyHeuristic {
        let name = format!("{}_why", program.items[item.0 as usize].name);
        WhyHeuristic {
            program,
            compiled,
            sources,
            item,
            name,
        }
    }
}

impl Heuristic for WhyHeuristic {
    fn name(&self) -> &str {
        &self.name
    }

    fn output_type(&self) -> OutputType {
        OutputType::String
    }

    fn fields(&self) -> Option<Vec<String>> {
        let slots = self.compiled.fields_read_by([self.item.0]);
        Some(
            slots
                .into_iter()
                .map(|s| self.compiled.schema[s].0.clone())
                .collect(),
        )
    }

    fn evaluate(&self, row: &Row) -> Result<Value, EvalError> {
        // The tracer recurses only within one expression, which the parser
        // bounds (`MAX_DEPTH`); lets are resolved iteratively, so a worker
        // thread's ordinary stack holds it.
        let mut tracer = Tracer::new(&self.program, row);
        tracer
            .item(self.item)
            .map_err(|f| f.into_error(&self.program, self.item))?;
        Ok(Value::Str(match tracer.trace(self.item) {
            Some(t) => reason(&self.program, &self.sources, &t.body, t.defaulted, &t.value),
            None => String::new(),
        }))
    }
}

/// The reason for an item's value.
pub(crate) fn reason(
    program: &Program,
    sources: &SourceMap,
    body: &Node,
    defaulted: bool,
    value: &TVal,
) -> String {
    let w = Why { program, sources };
    let text = w.of(body);
    if defaulted {
        format!("{text} (default {})", value.show(program))
    } else {
        text
    }
}

struct Why<'a> {
    program: &'a Program,
    sources: &'a SourceMap,
}

impl Why<'_> {
    /// The operands of a chain of `and` (or of `or`), flattened.
    fn chain<'n, 'p>(&self, n: &'n Node<'p>, and: bool, out: &mut Vec<&'n Node<'p>>) {
        let same = match n.expr.kind {
            TKind::And(..) => and,
            TKind::Or(..) => !and,
            _ => false,
        };
        if same && n.value.is_some() && n.children.len() == 2 {
            self.chain(&n.children[0], and, out);
            self.chain(&n.children[1], and, out);
        } else {
            out.push(n);
        }
    }

    /// The reason for the rule's whole expression: a chain of conditions
    /// is summed up (`all of 3 conditions hold`), as a spreadsheet groups by it.
    fn of(&self, n: &Node) -> String {
        self.at(n, true)
    }

    /// The reason for `n`; `top` while no operator but `not`, `if` or
    /// `coalesce` lies above it. Below the top, a chain that decides is
    /// listed (`none of: mig_support false, not cfg.require_mig false`).
    fn at(&self, n: &Node, top: bool) -> String {
        let v = n.val();
        if v.is_missing() {
            return self.missing(n);
        }
        match &n.expr.kind {
            TKind::And(..) | TKind::Or(..) => {
                let and = matches!(n.expr.kind, TKind::And(..));
                let mut parts = Vec::new();
                self.chain(n, and, &mut parts);
                let decided = *v == TVal::Bool(!and);
                if decided {
                    // The first operand with the deciding value.
                    match parts.iter().find(|p| *p.val() == TVal::Bool(!and)) {
                        Some(p) => self.at(p, false),
                        None => self.operand(n),
                    }
                } else if top {
                    match and {
                        true => format!("all of {} conditions hold", parts.len()),
                        false => format!("none of {} conditions hold", parts.len()),
                    }
                } else {
                    let each: Vec<String> = parts.iter().map(|p| self.at(p, false)).collect();
                    let all = if and { "all of" } else { "none of" };
                    format!("{all}: {}", each.join(", "))
                }
            }
            TKind::Not(_) => match n.children.first() {
                Some(c) => self.at(c, top),
                None => self.operand(n),
            },
            TKind::Cmp { op, .. } if n.children.len() == 2 => {
                let holds = *v == TVal::Bool(true);
                let shown = if holds { *op } else { negate(*op) };
                // `power_class == high`, not `power_class high == high`.
                if shown == CmpOp::Eq {
                    let (a, b) = (&n.children[0], &n.children[1]);
                    if let Some(other) = [(a, b), (b, a)]
                        .into_iter()
                        .find(|(_, lit)| self.is_literal(lit))
                        .map(|(x, lit)| format!("{} == {}", self.name(x), self.name(lit)))
                    {
                        return other;
                    }
                }
                format!(
                    "{} {} {}",
                    self.operand(&n.children[0]),
                    cmp_symbol(shown),
                    self.operand(&n.children[1])
                )
            }
            TKind::In { negated, .. } if !n.children.is_empty() => {
                let found = (*v == TVal::Bool(true)) != *negated;
                let list = &n.expr.span;
                let text = self.source(*list);
                let list_text = text
                    .find('[')
                    .map_or(text.as_str(), |i| &text[i..])
                    .to_string();
                format!(
                    "{} {} {}",
                    self.operand(&n.children[0]),
                    if found { "in" } else { "not in" },
                    shorten(&list_text)
                )
            }
            TKind::If { .. } => match n.children.iter().skip(1).find(|c| c.value.is_some()) {
                Some(branch) => self.at(branch, top),
                None => self.operand(n),
            },
            TKind::Call {
                func: Builtin::Coalesce,
                ..
            } => match n.children.iter().rev().find(|c| c.value.is_some()) {
                Some(c) => self.at(c, top),
                None => self.operand(n),
            },
            TKind::Call {
                func: Builtin::IsMissing,
                ..
            } => match n.children.first() {
                Some(c) if c.val().is_missing() => self.missing(c),
                Some(c) => format!("{} present", self.operand(c)),
                None => self.operand(n),
            },
            TKind::Const(_) if !self.is_literal(n) => self.operand(n),
            TKind::Const(_) => format!("always {}", v.show(self.program)),
            _ => self.operand(n),
        }
    }

    /// Why `n` is missing: the first missing operand, down to a field.
    fn missing(&self, n: &Node) -> String {
        match &n.expr.kind {
            TKind::Field(_) | TKind::Item(_) => format!("{} missing", self.name(n)),
            _ => match n
                .children
                .iter()
                .find(|c| c.value.as_ref().is_some_and(TVal::is_missing))
            {
                Some(c) => self.missing(c),
                None => format!("{} missing", shorten(&self.source(n.expr.span))),
            },
        }
    }

    /// A literal as written (not a `cfg.` value, whose value is shown).
    fn is_literal(&self, n: &Node) -> bool {
        let inner = match (&n.expr.kind, n.children.first()) {
            (TKind::ToFloat(_), Some(c)) => c,
            _ => n,
        };
        matches!(inner.expr.kind, TKind::Const(_)) && !self.name(inner).contains("cfg.")
    }

    /// A field, item or `cfg.` name as written, else the source text.
    fn name(&self, n: &Node) -> String {
        shorten(&self.source(n.expr.span))
    }

    /// An operand with its value: `tdp_watts 350`, `cfg.max_tdp_watts 300`;
    /// a literal as written.
    fn operand(&self, n: &Node) -> String {
        let inner = match (&n.expr.kind, n.children.first()) {
            (TKind::ToFloat(_), Some(c)) => c,
            _ => n,
        };
        let mut text = self.name(inner);
        match &inner.expr.kind {
            TKind::Const(_) if !text.contains("cfg.") => text,
            _ => {
                text.push(' ');
                n.val().show_into(self.program, &mut text);
                text
            }
        }
    }

    /// The source text of `span` on one line (runs of whitespace made one space).
    fn source(&self, span: crate::source::Span) -> String {
        let text = self.sources.get(span.file).slice(span);
        // Most operands (`tdp_watts`, `cfg.max_tdp_watts`) are one token.
        let plain = !text.contains(['\n', '\r', '\t']) && !text.contains("  ");
        if plain {
            return text.trim().to_string();
        }
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_SHOWN {
        return text.to_string();
    }
    let head: String = text.chars().take(MAX_SHOWN - 1).collect();
    format!("{head}…")
}

fn negate(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Le => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Ge => CmpOp::Lt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QuantizationConfig;
    use crate::eval::Listing;
    use crate::rules::RuleSet;
    use crate::schema::Schema;

    fn why_of(text: &str, listing: &Listing) -> String {
        let set = RuleSet::build(
            &[("t.rule".to_string(), text.to_string())],
            &Schema::listing(),
            &QuantizationConfig::default().to_config(),
        );
        let compiled = set.compiled.clone().expect("compiles");
        let id = set.program.outputs[0];
        let w = WhyHeuristic::new(
            set.program.clone(),
            compiled,
            Arc::new(set.sources.clone()),
            id,
        );
        match w.evaluate(&Row::from_listing(listing)) {
            Ok(Value::Str(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    /// Each shape of rule gets the reason that names what decided it.
    #[test]
    fn why_names_the_deciding_comparison_with_its_values() {
        let card = Listing {
            vram_gb: Some(24.0),
            tdp_watts: Some(350.0),
            mig_support: Some(false),
            condition: Some("New".into()),
            ..Listing::default()
        };
        let cases = [
            // A failed comparison, written the way it reads true.
            (
                "rule r: bool = tdp_watts <= cfg.max_tdp_watts",
                "tdp_watts 350 > cfg.max_tdp_watts 300",
            ),
            (
                "rule r: bool = vram_gb >= 16 and tdp_watts < 400",
                "all of 2 conditions hold",
            ),
            (
                "rule r: bool = vram_gb > 40 or tdp_watts > 400",
                "none of 2 conditions hold",
            ),
            // `or` that holds: its first true operand.
            (
                "rule r: bool = vram_gb > 40 or tdp_watts > 300",
                "tdp_watts 350 > 300",
            ),
            // A nested chain that decides is listed.
            (
                "rule r: bool = vram_gb >= 16 and (mig_support or vram_gb > 40)",
                "none of: mig_support false, vram_gb 24 <= 40",
            ),
            ("rule r: bool = not mig_support", "mig_support false"),
            (
                "rule r: bool = condition == \"new\"",
                "condition \"New\" != \"new\"",
            ),
            ("rule r: bool = is_missing(price)", "price missing"),
            (
                "rule r: bool default false = price > 100",
                "price missing (default false)",
            ),
            (
                "rule r: bool = price > 100 or vram_gb > 8",
                "vram_gb 24 > 8",
            ),
            (
                "rule r: bool = if mig_support then vram_gb > 8 else tdp_watts < 100",
                "tdp_watts 350 >= 100",
            ),
            (
                "rule r: bool = lower(condition) in [\"used\", \"refurbished\"]",
                "lower(condition) \"new\" not in [\"used\", \"refurbished\"]",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(why_of(text, &card), want, "{text}");
        }
    }
}

//! Explain: why a rule has its value on a row. A tracing evaluator over
//! the typed program keeps every subexpression's value ([`traced_value`] is
//! its result, equal to the VM's).

// The explain command and why-columns read the whole trace (next commits).
#[allow(dead_code)]
mod trace;

use trace::Tracer;

use crate::check::{ItemId, Program};
use crate::eval::{EvalError, Row, Value};
use crate::rules::RuleSet;

/// The rule named `rule` evaluated on `row` by the tracing evaluator
/// `explain` uses: the same value (or error) as
/// [`Heuristic::evaluate`](crate::heuristic::Heuristic::evaluate).
/// `None` when the set has errors or no rule of that name.
pub fn traced_value(set: &RuleSet, rule: &str, row: &Row) -> Option<Result<Value, EvalError>> {
    set.compiled.as_ref()?;
    let id = rule_id(&set.program, rule)?;
    let mut tracer = Tracer::new(&set.program, row);
    Some(
        tracer
            .item(id)
            .map(|v| v.to_value(&set.program))
            .map_err(|f| f.into_error(&set.program, id)),
    )
}

/// A rule (not a let) by name.
fn rule_id(program: &Program, name: &str) -> Option<ItemId> {
    program
        .outputs
        .iter()
        .copied()
        .find(|id| program.items[id.0 as usize].name == name)
}

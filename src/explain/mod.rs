//! Explain: why a rule has its value on a row, and what would change it.
//! A tracing evaluator over the typed program keeps every subexpression's
//! value ([`traced_value`] is its result, equal to the VM's); flips find,
//! for each field a rule reads, the nearest value that changes the rule's
//! value ([`record_flips`]); why-columns give a short reason beside a bool
//! rule (`eval --why`). The `explain` command renders all of it.

mod flips;
mod record;
mod render;
mod trace;
mod why;

pub use flips::Flip;
pub(crate) use flips::flips;
pub(crate) use record::{Reads, Record};
pub(crate) use render::{CfgOrigin, Drawing, Explained, MAX_DRAWN_LINE, human, json, json_value};
pub(crate) use trace::{Node, TVal, Tracer, compare as compare_values};
pub use why::WhyHeuristic;

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

/// The flips of rule `rule` for one CSV record of a file with `header`
/// (its fields read as the rule set's schema says):
/// for each field the rule reads, the cell texts that change its value
/// (nearest first), each verified by evaluating the row again with that
/// cell changed. `Err` names what is wrong: no such rule, a field without
/// a column, a record of the wrong width.
pub fn record_flips(
    set: &RuleSet,
    rule: &str,
    header: &[&str],
    record: &[&str],
) -> Result<Vec<Flip>, String> {
    let compiled = set
        .compiled
        .as_ref()
        .ok_or_else(|| "the rules have errors".to_string())?;
    let id = rule_id(&set.program, rule).ok_or_else(|| format!("no rule named `{rule}`"))?;
    if header.len() != record.len() {
        return Err(format!(
            "the record has {} cells, the header {}",
            record.len(),
            header.len()
        ));
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let slots = compiled.fields_read_by([id.0]);
    let reads = Reads::new(&set.schema, &header, &slots)
        .map_err(|(field, wanted)| format!("no column for field `{field}` (wanted {wanted})"))?;
    let record = Record {
        cells: record.iter().map(|c| c.as_bytes().to_vec()).collect(),
        row: 1,
        line: 2,
    };
    Ok(flips(&set.program, compiled, &reads, &record, id)
        .into_iter()
        .flat_map(|f| f.flips)
        .collect())
}

/// A constant as the trace shows a value: `24`, `true`, `"New"`, `mid`.
pub(crate) fn show_const(c: &crate::check::Const, program: &Program) -> String {
    TVal::of_const(c).show(program)
}

/// A rule (not a let) by name.
pub(crate) fn rule_id(program: &Program, name: &str) -> Option<ItemId> {
    program
        .outputs
        .iter()
        .copied()
        .find(|id| program.items[id.0 as usize].name == name)
}

//! Evaluation: typed rows, values, and the register machine that runs
//! compiled rules with SQL missing-value semantics.

mod row;
pub mod value;
mod vm;

pub use row::{Listing, Row, RowError};
pub use value::{Value, write_float};
pub use vm::{EvalError, ItemKind, eval_item, write_item};

/// Constant arithmetic at check time, with the evaluator's own rules.
pub(crate) fn arith(
    op: crate::compile::Arith,
    a: value::Val,
    b: value::Val,
) -> Result<value::Val, ()> {
    vm::arith(op, a, b, 0).map_err(|_| ())
}

/// Constant negation at check time, with the evaluator's own rule.
pub(crate) fn neg(a: value::Val) -> Result<value::Val, ()> {
    vm::neg(a, 0).map_err(|_| ())
}

/// A numeric builtin on constants at check time, with the evaluator's own
/// code; every overflow of these is an integer overflow.
pub(crate) fn numeric(func: crate::compile::Func, args: &[value::Val]) -> Result<value::Val, ()> {
    vm::numeric(func, args, 0).map_err(|_| ())
}

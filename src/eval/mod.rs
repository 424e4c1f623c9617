//! Evaluation: typed rows, values, and the register machine that runs
//! compiled rules with SQL missing-value semantics.

pub(crate) mod batch;
mod row;
pub(crate) mod value;
mod vm;

pub use row::{Listing, Row, RowError};
pub use value::{Value, Written};
pub use vm::{EvalError, EvalErrorKind, ItemKind};
pub(crate) use vm::{eval_item, write_item};

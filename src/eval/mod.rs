//! Evaluation: typed rows, values, and the register machine that runs
//! compiled rules with SQL missing-value semantics.

mod row;
pub mod value;
mod vm;

pub use row::{Listing, Row, RowError};
pub use value::{Value, Written, write_float};
pub use vm::{EvalError, EvalErrorKind, ItemKind, eval_item, write_item};

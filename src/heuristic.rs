//! The strategy: a heuristic takes a typed row and gives its output column's
//! name and value. Every compiled rule is wrapped in one; a heuristic written
//! in Rust implements the same trait.

use crate::compile::Compiled;
use crate::eval::{EvalError, Row, Value, eval_item};
use crate::types::Type;
use std::sync::Arc;

/// What a heuristic's values are, for writing and summaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputType {
    Bool,
    Int,
    Float,
    String,
    /// An enum, with its variant names.
    Enum(Vec<String>),
}

pub trait Heuristic: Send + Sync {
    /// The output column's name.
    fn name(&self) -> &str;
    fn output_type(&self) -> OutputType;
    /// This heuristic's value for one row.
    fn evaluate(&self, row: &Row) -> Result<Value, EvalError>;
}

/// A compiled rule as a heuristic. Rules of one program share their lets and
/// each other's results through the row's memo, so each is computed once
/// per row whichever heuristic asks first.
pub struct RuleHeuristic {
    program: Arc<Compiled>,
    item: u32,
    output: OutputType,
}

impl RuleHeuristic {
    /// One heuristic per rule of `program`, in output order.
    pub fn all(program: &Arc<Compiled>, enums: &[crate::check::EnumInfo]) -> Vec<RuleHeuristic> {
        program
            .outputs
            .iter()
            .map(|&item| {
                let output = match program.items[item as usize].ty {
                    Type::Bool => OutputType::Bool,
                    Type::Int => OutputType::Int,
                    Type::Float => OutputType::Float,
                    Type::Enum(id) => OutputType::Enum(enums[id.0 as usize].variants.clone()),
                    Type::Str | Type::Error => OutputType::String,
                };
                RuleHeuristic {
                    program: program.clone(),
                    item,
                    output,
                }
            })
            .collect()
    }

    pub fn doc(&self) -> &str {
        ""
    }
}

impl Heuristic for RuleHeuristic {
    fn name(&self) -> &str {
        &self.program.items[self.item as usize].name
    }

    fn output_type(&self) -> OutputType {
        self.output.clone()
    }

    fn evaluate(&self, row: &Row) -> Result<Value, EvalError> {
        eval_item(&self.program, row, self.item)
    }
}

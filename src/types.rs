//! The static types of the rule language and of row fields.

use serde::{Deserialize, Serialize};
use std::fmt;

/// 2^63 as a float: the first float past every `i64` (`i64::MAX as f64`
/// rounds up to it), so a float `f` fits an int exactly when
/// `-I64_LIMIT <= f < I64_LIMIT`.
pub const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;

/// The type of a row field, as the row schema declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Bool,
    Int,
    Float,
    #[serde(alias = "str")]
    String,
}

impl FieldType {
    pub(crate) fn ty(self) -> Type {
        match self {
            FieldType::Bool => Type::Bool,
            FieldType::Int => Type::Int,
            FieldType::Float => Type::Float,
            FieldType::String => Type::Str,
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.ty().fmt(f)
    }
}

/// Index of an enum declared in the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnumId(pub u32);

/// The type of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Int,
    Float,
    Str,
    Enum(EnumId),
    /// The type of an expression that already has a diagnostic.
    Error,
}

impl Type {
    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Int | Type::Float)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Bool => "bool",
            Type::Int => "int",
            Type::Float => "float",
            Type::Str => "string",
            Type::Enum(_) => "enum",
            Type::Error => "{error}",
        })
    }
}

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

//! The fixed library of pure functions: names, arity and typing.

use super::ir::Builtin;
use crate::ops::Func;
use crate::types::Type;

impl Builtin {
    pub const ALL: [Builtin; 15] = [
        Builtin::Min,
        Builtin::Max,
        Builtin::Abs,
        Builtin::Floor,
        Builtin::Ceil,
        Builtin::Round,
        Builtin::Clamp,
        Builtin::Coalesce,
        Builtin::IsMissing,
        Builtin::Lower,
        Builtin::Upper,
        Builtin::Contains,
        Builtin::StartsWith,
        Builtin::EndsWith,
        Builtin::Matches { regex: 0 },
    ];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::Min => "min",
            Builtin::Max => "max",
            Builtin::Abs => "abs",
            Builtin::Floor => "floor",
            Builtin::Ceil => "ceil",
            Builtin::Round => "round",
            Builtin::Clamp => "clamp",
            Builtin::Coalesce => "coalesce",
            Builtin::IsMissing => "is_missing",
            Builtin::Lower => "lower",
            Builtin::Upper => "upper",
            Builtin::Contains => "contains",
            Builtin::StartsWith => "starts_with",
            Builtin::EndsWith => "ends_with",
            Builtin::Matches { .. } => "matches",
        }
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Least and most arguments (`None`: no upper bound).
    pub fn arity(self) -> (usize, Option<usize>) {
        match self {
            Builtin::Min | Builtin::Max => (2, None),
            Builtin::Coalesce => (1, None),
            Builtin::Abs
            | Builtin::Floor
            | Builtin::Ceil
            | Builtin::Round
            | Builtin::IsMissing
            | Builtin::Lower
            | Builtin::Upper => (1, Some(1)),
            Builtin::Clamp => (3, Some(3)),
            Builtin::Contains
            | Builtin::StartsWith
            | Builtin::EndsWith
            | Builtin::Matches { .. } => (2, Some(2)),
        }
    }

    /// A signature for messages, e.g. `clamp(x, lo, hi)`.
    pub fn signature(self) -> &'static str {
        match self {
            Builtin::Min => "min(a, b, ...)",
            Builtin::Max => "max(a, b, ...)",
            Builtin::Abs => "abs(x)",
            Builtin::Floor => "floor(x)",
            Builtin::Ceil => "ceil(x)",
            Builtin::Round => "round(x)",
            Builtin::Clamp => "clamp(x, lo, hi)",
            Builtin::Coalesce => "coalesce(a, b, ...)",
            Builtin::IsMissing => "is_missing(x)",
            Builtin::Lower => "lower(s)",
            Builtin::Upper => "upper(s)",
            Builtin::Contains => "contains(s, part)",
            Builtin::StartsWith => "starts_with(s, prefix)",
            Builtin::EndsWith => "ends_with(s, suffix)",
            Builtin::Matches { .. } => "matches(s, \"regex\")",
        }
    }

    /// What kind of arguments it takes.
    pub fn params(self) -> Params {
        match self {
            Builtin::Min | Builtin::Max | Builtin::Abs | Builtin::Clamp => Params::Numeric,
            Builtin::Floor | Builtin::Ceil | Builtin::Round => Params::Numeric,
            Builtin::Coalesce => Params::Same,
            Builtin::IsMissing => Params::Any,
            Builtin::Lower
            | Builtin::Upper
            | Builtin::Contains
            | Builtin::StartsWith
            | Builtin::EndsWith
            | Builtin::Matches { .. } => Params::Strings,
        }
    }

    /// The result type, given the unified argument type.
    pub fn result(self, arg: Type) -> Type {
        match self {
            Builtin::Floor | Builtin::Ceil | Builtin::Round => Type::Int,
            Builtin::IsMissing
            | Builtin::Contains
            | Builtin::StartsWith
            | Builtin::EndsWith
            | Builtin::Matches { .. } => Type::Bool,
            Builtin::Lower | Builtin::Upper => Type::Str,
            Builtin::Min | Builtin::Max | Builtin::Abs | Builtin::Clamp | Builtin::Coalesce => arg,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Params {
    /// Ints and floats; all widen to float if any is a float.
    Numeric,
    /// Strings.
    Strings,
    /// All of one type (ints widen to float).
    Same,
    /// Anything.
    Any,
}

impl Builtin {
    /// The numeric function a call of this builtin runs, given whether its arguments
    /// are floats. `None` for the other builtins, and for `floor`, `ceil`
    /// and `round` of an int, which is the int itself. The compiler and
    /// the checker's constant folding both take it from here.
    pub fn numeric(self, float: bool) -> Option<Func> {
        Some(match self {
            Builtin::Min if float => Func::MinFloat,
            Builtin::Min => Func::MinInt,
            Builtin::Max if float => Func::MaxFloat,
            Builtin::Max => Func::MaxInt,
            Builtin::Abs if float => Func::AbsFloat,
            Builtin::Abs => Func::AbsInt,
            Builtin::Floor if float => Func::Floor,
            Builtin::Ceil if float => Func::Ceil,
            Builtin::Round if float => Func::Round,
            Builtin::Clamp if float => Func::ClampFloat,
            Builtin::Clamp => Func::ClampInt,
            _ => return None,
        })
    }
}

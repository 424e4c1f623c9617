//! The fixed library of pure functions: one table row per builtin (name,
//! signature, arity, argument kinds, result, missing-argument behaviour,
//! documentation), indexed by [`Builtin`].

use super::ir::Builtin;
use crate::ops::Func;
use crate::types::Type;

/// One builtin function, as the checker and the docs see it. Adding a
/// function is one row here, a [`Builtin`] variant (whose [`Builtin::row`]
/// match will not compile without its index) and its evaluation.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinDef {
    pub builtin: Builtin,
    pub name: &'static str,
    /// For messages, e.g. `clamp(x, lo, hi)`.
    pub signature: &'static str,
    pub min_args: usize,
    /// `None`: no upper bound.
    pub max_args: Option<usize>,
    pub params: Params,
    pub result: Returns,
    // `missing` and `doc` are the table's documentation, held to
    // docs/language.md by this module's tests; no other code reads them.
    #[allow(dead_code)]
    pub missing: OnMissing,
    /// The *Semantics* cell of its row in docs/language.md, *Functions*.
    #[allow(dead_code)]
    pub doc: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Params {
    /// Ints and floats; all widen to float if any is a float.
    Numeric,
    /// Strings.
    Strings,
    /// All of one type (ints widen to float).
    Same,
    /// A number (widened to float), then an int (`round(x, digits)`).
    NumberDigits,
    /// Anything.
    Any,
}

/// The result type of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// The unified argument type.
    Args,
    Int,
    Float,
    Bool,
    Str,
}

/// What a call does with a missing argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMissing {
    /// Missing when any argument is missing.
    Missing,
    /// The first present argument; missing when all are.
    FirstPresent,
    /// Reads the missingness itself; never missing.
    Observes,
}

const fn row(
    builtin: Builtin,
    name: &'static str,
    signature: &'static str,
    (min_args, max_args): (usize, Option<usize>),
    params: Params,
    result: Returns,
    doc: &'static str,
) -> BuiltinDef {
    BuiltinDef {
        builtin,
        name,
        signature,
        min_args,
        max_args,
        params,
        result,
        missing: OnMissing::Missing,
        doc,
    }
}

const fn with_missing(def: BuiltinDef, missing: OnMissing) -> BuiltinDef {
    BuiltinDef { missing, ..def }
}

use Params::{Any, Numeric, Same, Strings};

/// Every builtin, in [`Builtin`] order (a test holds the order). Rows of
/// one name are overloads, adjacent, told apart by their number of
/// arguments, which must not overlap; the first row of a name is its form
/// for lookups.
pub const BUILTINS: [BuiltinDef; 16] = [
    row(
        Builtin::Min,
        "min",
        "min(a, b, ...)",
        (2, None),
        Numeric,
        Returns::Args,
        "the smallest",
    ),
    row(
        Builtin::Max,
        "max",
        "max(a, b, ...)",
        (2, None),
        Numeric,
        Returns::Args,
        "the largest",
    ),
    row(
        Builtin::Abs,
        "abs",
        "abs(x)",
        (1, Some(1)),
        Numeric,
        Returns::Args,
        "absolute value",
    ),
    row(
        Builtin::Floor,
        "floor",
        "floor(x)",
        (1, Some(1)),
        Numeric,
        Returns::Int,
        "round down",
    ),
    row(
        Builtin::Ceil,
        "ceil",
        "ceil(x)",
        (1, Some(1)),
        Numeric,
        Returns::Int,
        "round up",
    ),
    row(
        Builtin::Round,
        "round",
        "round(x)",
        (1, Some(1)),
        Numeric,
        Returns::Int,
        "nearest, half away from zero",
    ),
    row(
        Builtin::RoundTo,
        "round",
        "round(x, digits)",
        (2, Some(2)),
        Params::NumberDigits,
        Returns::Float,
        "a float: `x` to `digits` decimal places (`digits` an int, negative for tens, hundreds, ...), half away from zero on the exact value of `x`",
    ),
    row(
        Builtin::Clamp,
        "clamp",
        "clamp(x, lo, hi)",
        (3, Some(3)),
        Numeric,
        Returns::Args,
        "`min(max(x, lo), hi)`, so `hi` wins when `lo > hi`",
    ),
    with_missing(
        row(
            Builtin::Coalesce,
            "coalesce",
            "coalesce(a, b, ...)",
            (1, None),
            Same,
            Returns::Args,
            "the first argument that is present; the rest are not evaluated",
        ),
        OnMissing::FirstPresent,
    ),
    with_missing(
        row(
            Builtin::IsMissing,
            "is_missing",
            "is_missing(x)",
            (1, Some(1)),
            Any,
            Returns::Bool,
            "whether `x` is missing; never missing",
        ),
        OnMissing::Observes,
    ),
    row(
        Builtin::Lower,
        "lower",
        "lower(s)",
        (1, Some(1)),
        Strings,
        Returns::Str,
        "Unicode lowercase",
    ),
    row(
        Builtin::Upper,
        "upper",
        "upper(s)",
        (1, Some(1)),
        Strings,
        Returns::Str,
        "Unicode uppercase",
    ),
    row(
        Builtin::Contains,
        "contains",
        "contains(s, part)",
        (2, Some(2)),
        Strings,
        Returns::Bool,
        "whether `part` occurs in `s` (bytes; `\"\"` always does)",
    ),
    row(
        Builtin::StartsWith,
        "starts_with",
        "starts_with(s, prefix)",
        (2, Some(2)),
        Strings,
        Returns::Bool,
        "whether `s` begins with `prefix`",
    ),
    row(
        Builtin::EndsWith,
        "ends_with",
        "ends_with(s, suffix)",
        (2, Some(2)),
        Strings,
        Returns::Bool,
        "whether `s` ends with `suffix`",
    ),
    // The regex id is set when a call's pattern compiles; 0 here is only
    // the row's key.
    row(
        Builtin::Matches { regex: 0 },
        "matches",
        "matches(s, \"regex\")",
        (2, Some(2)),
        Strings,
        Returns::Bool,
        "whether the regex matches anywhere in `s`",
    ),
];

impl Builtin {
    /// This builtin's row in [`BUILTINS`]. Exhaustive: a new variant does
    /// not compile until it has a row.
    pub fn row(self) -> usize {
        match self {
            Builtin::Min => 0,
            Builtin::Max => 1,
            Builtin::Abs => 2,
            Builtin::Floor => 3,
            Builtin::Ceil => 4,
            Builtin::Round => 5,
            Builtin::RoundTo => 6,
            Builtin::Clamp => 7,
            Builtin::Coalesce => 8,
            Builtin::IsMissing => 9,
            Builtin::Lower => 10,
            Builtin::Upper => 11,
            Builtin::Contains => 12,
            Builtin::StartsWith => 13,
            Builtin::EndsWith => 14,
            Builtin::Matches { .. } => 15,
        }
    }

    pub fn def(self) -> &'static BuiltinDef {
        &BUILTINS[self.row()]
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        BUILTINS.iter().find(|b| b.name == name).map(|b| b.builtin)
    }

    /// Every row of this builtin's name: its overloads (`round(x)` and
    /// `round(x, digits)`), in table order.
    pub fn forms(self) -> impl Iterator<Item = &'static BuiltinDef> {
        let name = self.name();
        BUILTINS.iter().filter(move |b| b.name == name)
    }

    /// The form of this builtin's name that takes `count` arguments.
    pub fn by_arity(self, count: usize) -> Option<Builtin> {
        self.forms()
            .find(|b| count >= b.min_args && b.max_args.is_none_or(|m| count <= m))
            .map(|b| b.builtin)
    }

    /// A signature for messages, e.g. `clamp(x, lo, hi)`.
    pub fn signature(self) -> &'static str {
        self.def().signature
    }

    /// What kind of arguments it takes.
    pub fn params(self) -> Params {
        self.def().params
    }

    /// The result type, given the unified argument type.
    pub fn result(self, arg: Type) -> Type {
        match self.def().result {
            Returns::Args => arg,
            Returns::Int => Type::Int,
            Returns::Float => Type::Float,
            Returns::Bool => Type::Bool,
            Returns::Str => Type::Str,
        }
    }

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
            Builtin::RoundTo => Func::RoundTo,
            Builtin::Clamp if float => Func::ClampFloat,
            Builtin::Clamp => Func::ClampInt,
            Builtin::Floor
            | Builtin::Ceil
            | Builtin::Round
            | Builtin::Coalesce
            | Builtin::IsMissing
            | Builtin::Lower
            | Builtin::Upper
            | Builtin::Contains
            | Builtin::StartsWith
            | Builtin::EndsWith
            | Builtin::Matches { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_has_one_row_per_variant_in_order() {
        for (i, def) in BUILTINS.iter().enumerate() {
            assert_eq!(def.builtin.row(), i, "row {i} is `{}`", def.name);
            let first = Builtin::from_name(def.name).expect("found by name");
            assert_eq!(first.by_arity(def.min_args), Some(def.builtin));
            assert!(def.signature.starts_with(&format!("{}(", def.name)));
            assert!(def.max_args.is_none_or(|m| m >= def.min_args));
            // Overloads of one name are adjacent and take disjoint counts.
            if i > 0 && BUILTINS[i - 1].name != def.name {
                assert!(BUILTINS[..i].iter().all(|b| b.name != def.name));
            }
            for other in def.builtin.forms().filter(|o| o.builtin != def.builtin) {
                let (lo, hi) = (other.min_args, other.max_args.unwrap_or(usize::MAX));
                assert!(def.min_args > hi || def.max_args.is_some_and(|m| m < lo));
            }
        }
    }

    #[test]
    fn every_builtin_row_is_in_the_functions_table_of_the_docs() {
        let docs = include_str!("../../docs/language.md");
        for def in &BUILTINS {
            // The docs escape `|` inside table cells.
            let row = format!("| `{}` |", def.signature);
            let line = docs
                .lines()
                .find(|l| l.starts_with(&row))
                .unwrap_or_else(|| panic!("docs/language.md has no row for `{}`", def.signature));
            assert!(
                line.contains(&format!("| {} |", def.doc)),
                "`{}`: the docs' row does not say {:?}",
                def.name,
                def.doc
            );
        }
        let missing: Vec<&str> = BUILTINS
            .iter()
            .filter(|d| d.missing != OnMissing::Missing)
            .map(|d| d.name)
            .collect();
        assert_eq!(missing, ["coalesce", "is_missing"]);
        assert!(docs.contains(
            "every function except `coalesce` and `is_missing`\nreturns missing when any argument is missing"
        ));
    }
}

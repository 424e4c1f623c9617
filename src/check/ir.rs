//! The typed program: what the checker produces and the compiler consumes.
//! Names are resolved (fields to schema slots, `cfg.` to constants, items to
//! ids), types are settled and int-to-float widening is explicit.

use crate::ops::{Arith, CmpOp};
use crate::source::Span;
use crate::syntax::ast::ArithOp;
use crate::types::{EnumId, Type};

/// Index of a `let` or `rule` in [`Program::items`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(pub u32);

#[derive(Debug, Clone)]
pub struct Program {
    pub enums: Vec<EnumInfo>,
    /// Lets and rules in declaration order, addressed by [`ItemId`].
    pub items: Vec<CheckedItem>,
    /// The rules, in output order: files in the order given (folders
    /// sorted by path), items in source order.
    pub outputs: Vec<ItemId>,
    /// Regexes of `matches(..)` calls, compiled at check time.
    pub regexes: Vec<regex_automata::meta::Regex>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumInfo {
    pub name: String,
    pub variants: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CheckedItem {
    pub name: String,
    pub span: Span,
    pub ty: Type,
    /// `Some` for a rule (an output column), `None` for a `let`.
    pub rule: Option<RuleInfo>,
    pub body: TExpr,
    /// Items this one reads directly.
    pub deps: Vec<ItemId>,
}

#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub default: Option<Const>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Enum(EnumId, u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TExpr {
    pub kind: TKind,
    pub ty: Type,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Min,
    Max,
    Abs,
    Floor,
    Ceil,
    Round,
    /// `round(x, digits)`: shares its name with [`Builtin::Round`]; the
    /// number of arguments picks one (see `Builtin::by_arity`).
    RoundTo,
    Clamp,
    Coalesce,
    IsMissing,
    Lower,
    Upper,
    Contains,
    StartsWith,
    EndsWith,
    /// `matches(s, "regex")`: `regex` indexes [`Program::regexes`]. The
    /// pattern is compiled when the call is checked, and the call is built
    /// with its id; [`BUILTINS`](super::BUILTINS) holds it as 0, a name to look up only.
    Matches {
        regex: u32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum TKind {
    Const(Const),
    Field(usize),
    Item(ItemId),
    ToFloat(Box<TExpr>),
    Neg(Box<TExpr>),
    Not(Box<TExpr>),
    And(Box<TExpr>, Box<TExpr>),
    Or(Box<TExpr>, Box<TExpr>),
    /// Arithmetic, typed: both operands are of the type `op` works on.
    Arith {
        op: Arith,
        lhs: Box<TExpr>,
        rhs: Box<TExpr>,
    },
    /// A comparison of one type, or of an int and a float, by value.
    Cmp {
        op: CmpOp,
        lhs: Box<TExpr>,
        rhs: Box<TExpr>,
    },
    /// Lists are boxed slices, not vectors: that keeps a node (one
    /// allocation each) at 56 bytes.
    In {
        negated: bool,
        value: Box<TExpr>,
        list: Box<[TExpr]>,
    },
    If {
        cond: Box<TExpr>,
        then: Box<TExpr>,
        otherwise: Box<TExpr>,
    },
    Call {
        func: Builtin,
        args: Box<[TExpr]>,
    },
    /// Stands for an expression that has a diagnostic; never compiled.
    Error,
}

impl TExpr {
    pub fn error(span: Span) -> TExpr {
        TExpr {
            kind: TKind::Error,
            ty: Type::Error,
            span,
        }
    }

    /// The node's operands, in source order (`in`: the value, then the
    /// list; `if`: condition, then, else). Exhaustive, so a new node kind
    /// does not compile until it says what its operands are.
    pub fn children(&self) -> Vec<&TExpr> {
        match &self.kind {
            TKind::Const(_) | TKind::Field(_) | TKind::Item(_) | TKind::Error => Vec::new(),
            TKind::ToFloat(x) | TKind::Neg(x) | TKind::Not(x) => vec![x],
            TKind::And(a, b) | TKind::Or(a, b) => vec![a, b],
            TKind::Arith { lhs, rhs, .. } | TKind::Cmp { lhs, rhs, .. } => vec![lhs, rhs],
            TKind::In { value, list, .. } => std::iter::once(&**value).chain(list).collect(),
            TKind::If {
                cond,
                then,
                otherwise,
            } => vec![cond, then, otherwise],
            TKind::Call { args, .. } => args.iter().collect(),
        }
    }
}

/// The typed operation for an arithmetic operator (`/` is always float).
pub fn arith_of(op: ArithOp, float: bool) -> Arith {
    match (op, float) {
        (ArithOp::Add, false) => Arith::AddInt,
        (ArithOp::Sub, false) => Arith::SubInt,
        (ArithOp::Mul, false) => Arith::MulInt,
        (ArithOp::Rem, false) => Arith::RemInt,
        (ArithOp::Add, true) => Arith::AddFloat,
        (ArithOp::Sub, true) => Arith::SubFloat,
        (ArithOp::Mul, true) => Arith::MulFloat,
        (ArithOp::Rem, true) => Arith::RemFloat,
        (ArithOp::Div, _) => Arith::DivFloat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14: like the syntax tree's, each typed node is an allocation
    /// of its own; at 64 bytes it took an 80-byte block, at 56 a 64-byte one.
    #[test]
    fn typed_node_fits_a_64_byte_allocation() {
        assert!(
            size_of::<TExpr>() <= 56,
            "TExpr is {} bytes",
            size_of::<TExpr>()
        );
    }
}

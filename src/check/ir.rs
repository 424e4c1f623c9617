//! The typed program: what the checker produces and the compiler consumes.
//! Names are resolved (fields to schema slots, `cfg.` to constants, items to
//! ids), types are settled and int-to-float widening is explicit.

use crate::ops::Arith;
use crate::source::Span;
use crate::syntax::ast::BinaryOp;
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
    Clamp,
    Coalesce,
    IsMissing,
    Lower,
    Upper,
    Contains,
    StartsWith,
    EndsWith,
    Matches,
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
    /// Arithmetic (both operands of one type) or comparison (one type, or
    /// an int and a float, compared by value).
    Binary {
        op: BinaryOp,
        lhs: Box<TExpr>,
        rhs: Box<TExpr>,
    },
    In {
        negated: bool,
        value: Box<TExpr>,
        list: Vec<TExpr>,
    },
    If {
        cond: Box<TExpr>,
        then: Box<TExpr>,
        otherwise: Box<TExpr>,
    },
    Call {
        func: Builtin,
        args: Vec<TExpr>,
        /// Index into [`Program::regexes`] for `matches`.
        regex: Option<usize>,
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
}

/// The typed operation for an arithmetic operator (`/` is always float).
pub fn arith_of(op: BinaryOp, float: bool) -> Arith {
    match (op, float) {
        (BinaryOp::Add, false) => Arith::AddInt,
        (BinaryOp::Sub, false) => Arith::SubInt,
        (BinaryOp::Mul, false) => Arith::MulInt,
        (BinaryOp::Rem, false) => Arith::RemInt,
        (BinaryOp::Add, true) => Arith::AddFloat,
        (BinaryOp::Sub, true) => Arith::SubFloat,
        (BinaryOp::Mul, true) => Arith::MulFloat,
        (BinaryOp::Rem, true) => Arith::RemFloat,
        _ => Arith::DivFloat,
    }
}

//! The abstract syntax tree. Every node carries the span of its source text.

use crate::source::Span;

/// One parsed `.rule` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    pub items: Vec<Item>,
    /// Names of items whose text failed to parse: the checker stays quiet
    /// about references to them, so one typo gives one diagnostic.
    pub broken_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The `##` doc comment lines above the item, without the `##`.
    pub doc: Vec<String>,
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    Rule(RuleDef),
    Let(LetDef),
    Enum(EnumDef),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// `rule NAME: TYPE [default LITERAL] = EXPR`
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDef {
    pub name: Ident,
    pub ty: Ident,
    pub default: Option<Expr>,
    pub body: Expr,
}

/// `let NAME = EXPR`
#[derive(Debug, Clone, PartialEq)]
pub struct LetDef {
    pub name: Ident,
    pub body: Expr,
}

/// `enum NAME { a, b, c }`
#[derive(Debug, Clone, PartialEq)]
pub struct EnumDef {
    pub name: Ident,
    pub variants: Vec<Ident>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    /// A bare name: a field, a rule, a let, or an enum variant.
    Name(String),
    /// `cfg.a.b`: the segments after `cfg`.
    Cfg(Vec<Ident>),
    Unary {
        op: UnaryOp,
        op_span: Span,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `value in [..]`, or `value not in [..]` when `negated`.
    In {
        negated: bool,
        value: Box<Expr>,
        list: Vec<Expr>,
    },
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Call {
        func: Ident,
        args: Vec<Expr>,
    },
    /// Stands where a diagnostic was already given, so later stages stay quiet.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }

    pub fn is_arithmetic(self) -> bool {
        matches!(
            self,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem
        )
    }
}

//! The abstract syntax tree. Every node carries the span of its source text.

pub use crate::ops::CmpOp;
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
    Field(FieldDecl),
    Test(TestDef),
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

/// `field NAME: TYPE from COLUMN, ... [nulls ["NA", ...]]`: a field read
/// from the CSV beyond the schema's. Each column's and marker's `name` is
/// its text (a string's, unescaped).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: Ident,
    pub columns: Vec<Ident>,
    /// `None`: the default null markers.
    pub nulls: Option<Vec<Ident>>,
}

/// `test "NAME" { FIELD = LITERAL, ... } [with cfg.KEY = LITERAL, ...]
/// expect EXPR [expect EXPR ...]`: an example row (fields not given are
/// missing), config overrides, and bool expressions that must be true on it.
#[derive(Debug, Clone, PartialEq)]
pub struct TestDef {
    /// The test's name: the string's unescaped text, its span the string's.
    pub name: Ident,
    pub fields: Vec<TestField>,
    pub overrides: Vec<CfgOverride>,
    pub expects: Vec<Expr>,
}

/// `FIELD = LITERAL` in a test's braces.
#[derive(Debug, Clone, PartialEq)]
pub struct TestField {
    pub name: Ident,
    /// A literal: `Int`, `Float`, `Str` or `Bool` (a negative number folded in).
    pub value: Expr,
}

/// `cfg.KEY = LITERAL` after a test's `with`.
#[derive(Debug, Clone, PartialEq)]
pub struct CfgOverride {
    /// The segments after `cfg`.
    pub key: Vec<Ident>,
    /// The span of the whole `cfg.a.b` path.
    pub span: Span,
    pub value: Expr,
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
        list: Box<[Expr]>,
    },
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// The function's name is boxed (and the lists are boxed slices, not
    /// vectors) to keep every node at 48 bytes: a node is one allocation,
    /// and a large rule file has millions of them.
    Call {
        func: Box<Ident>,
        args: Box<[Expr]>,
    },
    /// Stands where a diagnostic was already given, so later stages stay quiet.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

/// A binary operator, grouped by what it does, so each stage handles the
/// groups exhaustively: `and`/`or` short-circuit, arithmetic has a typed
/// form per operand type, a comparison is an [`CmpOp`] as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Arith(ArithOp),
    Cmp(CmpOp),
}

/// An arithmetic operator before its operand type is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithOp {
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
            BinaryOp::Arith(op) => op.symbol(),
            BinaryOp::Cmp(op) => cmp_symbol(op),
        }
    }
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Rem => "%",
        }
    }
}

/// How a comparison operator is written.
pub fn cmp_symbol(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

impl Expr {
    /// The expressions directly inside this one, in source order. Every
    /// walk over the tree (item references, structural equality) goes
    /// through here, so a new node kind is a compile error in one place
    /// instead of a silently skipped `_ => {}` in each walk.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Name(_)
            | ExprKind::Cfg(_)
            | ExprKind::Error => Vec::new(),
            ExprKind::Unary { operand, .. } => vec![operand],
            ExprKind::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            ExprKind::In { value, list, .. } => {
                std::iter::once(&**value).chain(list.iter()).collect()
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => vec![cond, then, otherwise],
            ExprKind::Call { args, .. } => args.iter().collect(),
        }
    }

    /// Whether two nodes are the same apart from their children and spans
    /// (same literal, name, operator or function).
    pub fn same_node(&self, other: &Expr) -> bool {
        use ExprKind::*;
        match (&self.kind, &other.kind) {
            (Int(x), Int(y)) => x == y,
            (Float(x), Float(y)) => x == y,
            (Str(x), Str(y)) => x == y,
            (Bool(x), Bool(y)) => x == y,
            (Name(x), Name(y)) => x == y,
            (Cfg(x), Cfg(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.name == q.name)
            }
            (Unary { op: a, .. }, Unary { op: b, .. }) => a == b,
            (Binary { op: a, .. }, Binary { op: b, .. }) => a == b,
            (In { negated: a, .. }, In { negated: b, .. }) => a == b,
            (If { .. }, If { .. }) => true,
            (Call { func: f, .. }, Call { func: g, .. }) => f.name == g.name,
            // An error node is never the same as anything; kinds that
            // differ are different. Listed one by one so that a new kind
            // must be placed here.
            (Int(_) | Float(_) | Str(_) | Bool(_) | Name(_) | Cfg(_), _)
            | (Unary { .. } | Binary { .. } | In { .. } | If { .. } | Call { .. }, _)
            | (Error, _) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14: every node is an allocation of its own, and a 50,000-rule
    /// file has half a million; at 80 bytes a node took a 96-byte block
    /// (the front end's peak was mostly these). 48 bytes fits a 64-byte one.
    #[test]
    fn syntax_node_fits_a_64_byte_allocation() {
        assert!(
            size_of::<Expr>() <= 48,
            "Expr is {} bytes",
            size_of::<Expr>()
        );
    }
}

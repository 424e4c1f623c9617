//! The value representation the checker folds, the compiler emits and the
//! evaluator computes with: `Val` (`Copy`, no heap) and where a string's
//! bytes live. A leaf: it imports nothing from the crate.

/// Where the bytes of a string value live.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// The row's field text.
    Row,
    /// Strings the evaluator made for this row (`lower`, `upper`).
    Scratch,
    /// The program's string constants.
    Const,
}

#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrRef {
    pub pool: Pool,
    pub start: u32,
    pub len: u32,
}

/// A value during evaluation (internal to the evaluator): `Copy`, no heap. Enum variants are global
/// variant ids, in declaration order within each enum.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val {
    Missing,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(StrRef),
    Enum(u32),
}

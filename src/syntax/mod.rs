//! Syntax: `.rule` text to AST. The only code that touches pest's pairs.

pub mod ast;
mod parser;
mod prescan;

pub use parser::{MAX_DEPTH, parse, parse_expr};
pub use prescan::{MAX_ITEM_BYTES, MAX_NESTING};

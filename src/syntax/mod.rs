//! Syntax: `.rule` text to AST, and the AST back to canonical text. The only code that touches pest's pairs.

pub mod ast;
pub mod format;
mod parser;
mod prescan;

pub use format::format_file;
pub use parser::{MAX_DEPTH, parse, parse_expr};
pub use prescan::{MAX_ITEM_BYTES, MAX_NESTING};

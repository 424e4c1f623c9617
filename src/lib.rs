//! glyphsieve: typed, checked heuristic rules over CSV files of GPU listings.
//!
//! The README (included below) is the manual; its Rust example runs as a doctest.
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

// The public API is what a Rust user needs to load rules, config and
// schemas, evaluate rows, run heuristics (compiled or native) over CSV, and
// render diagnostics. The stages between (checker, compiler, operator
// semantics, value representation) are the crate's own and may change.
pub(crate) mod cell;
pub(crate) mod check;
pub(crate) mod cli;
pub(crate) mod compile;
pub mod config;
pub mod data;
pub mod diagnostic;
pub mod eval;
pub mod explain;
pub mod heuristic;
pub(crate) mod ops;
pub mod rules;
pub mod schema;
pub mod source;
pub mod syntax;
pub(crate) mod types;
pub(crate) mod value;

/// The `glyphsieve` command line, as the binary runs it: parses
/// `std::env::args`, runs the command, prints to stdout and stderr, and
/// returns the exit code (0 ok, 1 problems in the input or rules, 2 could
/// not run).
pub fn run_cli() -> i32 {
    cli::main()
}

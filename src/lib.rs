//! glyphsieve: typed, checked heuristic rules over CSV files of GPU listings.
//!
//! The README (included below) is the manual; its Rust example runs as a doctest.
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod cell;
pub mod check;
/// The command line (used by the `glyphsieve` binary; not a library API).
#[doc(hidden)]
pub mod cli;
pub mod compile;
pub mod config;
pub mod data;
pub mod diagnostic;
pub mod eval;
pub mod heuristic;
pub mod ops;
pub mod rules;
pub mod schema;
pub mod source;
pub mod syntax;
pub mod types;
pub mod value;

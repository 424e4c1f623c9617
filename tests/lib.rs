//! Integration tests: one binary, a module per feature.

mod support;

mod cli;
mod diagnostics;
mod evaluate;
mod properties;

//! Integration tests: one binary, a module per feature.

mod support;

mod api;
mod architecture;
mod batch;
mod cli;
mod config;
mod conventions;
mod csv_input;
mod csv_reader;
mod datalint;
mod diagnostics;
mod diff;
mod evaluate;
mod explain;
mod fmt;
mod habits;
mod layers;
mod lsp;
mod output;
mod properties;
mod ruletest;
mod semantics;
mod shape;
mod sql;
mod summary;

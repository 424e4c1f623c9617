//! Data: CSV in, typed rows, CSV out with the heuristics' columns.

pub mod cell;
pub mod pipeline;
pub mod reader;

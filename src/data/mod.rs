//! Data: CSV in, typed rows, CSV out with the heuristics' columns.

mod chunk;
mod layout;
pub mod pipeline;
pub mod profile;
pub mod reader;

//! Data: CSV in, typed rows, CSV out with the heuristics' columns.

/// Cell reading lives in the leaf [`crate::cell`]; this path is kept.
pub use crate::cell;
mod layout;
pub mod pipeline;
pub mod reader;

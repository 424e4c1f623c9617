//! Command-line arguments, as close to what the user typed as possible.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "glyphsieve",
    version,
    about = "Tag CSV files of GPU listings with typed, checked heuristic rules"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to colour output.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check rule files and report every problem.
    Lint(LintArgs),
    /// Evaluate rules over a CSV file, adding one column per rule.
    Eval(EvalArgs),
    /// Add the built-in `quantization_capable` column to a CSV file.
    TagQuantization(TagArgs),
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Config YAML read as `cfg` (default: the built-in resources/quantization_heuristic.yaml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override a config key: `--set min_vram_gb=32`, dotted for nesting (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Rule files, or folders of .rule files.
    #[arg(required = true, value_name = "RULES")]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Row schema YAML (default: the built-in listing schema).
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Treat warnings as errors: `--deny warnings`.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub deny: Option<Deny>,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write here instead of stdout (atomically: a temporary file beside it, renamed on success).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite input columns that have an output column's name.
    #[arg(long)]
    pub replace: bool,
    /// Count cells that do not parse as missing instead of stopping.
    #[arg(long)]
    pub lenient: bool,
    /// Threads evaluating rows (default: one per core); output order is kept.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Rule files, or folders of .rule files.
    #[arg(required = true, num_args = 1.., value_name = "RULES")]
    pub rules: Vec<PathBuf>,
    /// The CSV file (`-` for stdin).
    #[arg(required = true, value_name = "DATA")]
    pub data: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Row schema YAML (default: the built-in listing schema).
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Write only these rules' columns (comma separated).
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub only: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The CSV file (`-` for stdin).
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    Warnings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

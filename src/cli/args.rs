//! Command-line arguments, as close to what the user typed as possible.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "glyphsieve",
    version,
    about = "Tag CSV files of GPU listings with typed, checked heuristic rules",
    after_help = "Examples:
  glyphsieve eval rules/ examples/listings.csv -o tagged.csv
  glyphsieve lint rules/
  glyphsieve rule E101"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Top,
    /// When to colour output.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,
}

/// The commands: those that read rules and data, then the tools about
/// glyphsieve itself, which load nothing (`tools.rs`).
// Parsed once per run: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Top {
    #[command(flatten)]
    Run(Command),
    #[command(flatten)]
    Tool(Tool),
}

#[derive(Debug, Subcommand)]
pub enum Tool {
    /// Print a diagnostic code's documentation: `glyphsieve rule E101` (or `unknown-name`).
    #[command(after_help = "Examples:
  glyphsieve rule E101
  glyphsieve rule unknown-name
  glyphsieve rule --all")]
    Rule(RuleArgs),
    /// Print a shell completion script on stdout.
    #[command(after_help = "Examples:
  glyphsieve completions bash > ~/.local/share/bash-completion/completions/glyphsieve
  glyphsieve completions zsh > ~/.zfunc/_glyphsieve
  glyphsieve completions fish > ~/.config/fish/completions/glyphsieve.fish")]
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout: glyphsieve(1), or a command's.
    #[command(after_help = "Examples:
  glyphsieve man > ~/.local/share/man/man1/glyphsieve.1
  glyphsieve man eval > ~/.local/share/man/man1/glyphsieve-eval.1
  glyphsieve man | man -l -")]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct RuleArgs {
    /// A code (`E101`) or its name (`unknown-name`); without one, every code is listed.
    #[arg(value_name = "CODE", conflicts_with = "all")]
    pub code: Option<String>,
    /// Print every code's full entry.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A command (`eval`): its own page, glyphsieve-eval(1), with every option.
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// `diff mine.rule` gives one path, which clap takes
/// as the last one, DATA, and says `<RULES>... not provided`: the rules were
/// given, the data was not. Say which is missing, from what the one path looks like (a CSV or
/// `-` is the data; anything else is a rule file). Other errors are kept.
pub fn explain_missing_data(e: clap::Error, color: clap::ColorChoice) -> clap::Error {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::MissingRequiredArgument {
        return e;
    }
    let missing_rules_only = matches!(
        e.get(ContextKind::InvalidArg),
        Some(ContextValue::Strings(args)) if args.len() == 1 && args[0].starts_with("<RULES>")
    );
    if !missing_rules_only {
        return e;
    }
    // The new error is coloured as `--color` says, as clap's own are.
    let mut cmd = Cli::command().color(color);
    // `diff` takes `RULES... DATA` (`eval`'s positional is `paths`: it never gets here).
    let given = cmd
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(std::env::args_os())
        .ok()
        .and_then(|m| {
            let (name, sub) = m.subcommand()?;
            let data = sub.try_get_one::<PathBuf>("data").ok()??.clone();
            (name == "diff").then(|| (name.to_string(), data))
        });
    let Some((command, given)) = given else {
        return e;
    };
    let is_data = given == Path::new("-")
        || given.extension().is_some_and(|x| {
            ["csv", "tsv", "txt"]
                .iter()
                .any(|c| x.eq_ignore_ascii_case(c))
        });
    let shown = crate::diagnostic::printable(&given.to_string_lossy()).into_owned();
    let message = if is_data {
        format!(
            "no rule files given: `{command}` takes rule files (or folders of them), then the data: `glyphsieve {command} RULES... {shown}`"
        )
    } else {
        format!(
            "the DATA file is missing: `{command}` takes rule files, then the CSV file to read (`-` for stdin): `glyphsieve {command} {shown} DATA`"
        )
    };
    cmd.build();
    match cmd.find_subcommand_mut(&command) {
        Some(sub) => sub.error(ErrorKind::MissingRequiredArgument, message),
        None => e,
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check rule files and report every problem.
    #[command(after_help = "Examples:
  glyphsieve lint rules/
  glyphsieve lint rules/power.rule --format json
  glyphsieve lint rules/ --deny warnings --set min_vram_gb=32")]
    Lint(LintArgs),
    /// Run the `test` items of rule files: each test's row through the rules, its `expect`s checked.
    #[command(after_help = "Examples:
  glyphsieve test rules/
  glyphsieve test rules/ --coverage
  glyphsieve test rules/ --coverage-data examples/listings.csv --format json")]
    Test(TestArgs),
    /// Evaluate rules over a CSV file, adding one column per rule.
    #[command(after_help = "Examples:
  glyphsieve eval rules/ examples/listings.csv -o tagged.csv
  glyphsieve eval rules/ examples/listings.csv --only power_class,rack_friendly --where 'vram_gb >= 48'
  glyphsieve eval rules/ examples/listings.csv --set min_vram_gb=32 --summary-format json -o tagged.jsonl")]
    Eval(EvalArgs),
    /// Add the built-in `quantization_capable` column to a CSV file.
    #[command(after_help = "Examples:
  glyphsieve tag-quantization examples/listings.csv -o tagged.csv
  glyphsieve tag-quantization examples/listings.csv --set max_tdp_watts=350 --columns model -o tagged.csv")]
    TagQuantization(TagArgs),
    /// Compare the rules' values on a CSV file under two rule sets or configs.
    Diff(DiffArgs),
    /// Rewrite .rule files in place in the canonical layout (`-`: stdin to stdout).
    #[command(after_help = "Examples:
  glyphsieve fmt --check rules/
  glyphsieve fmt --diff rules/power.rule")]
    Fmt(FmtArgs),
    /// Print the settings in effect (config, schema, rule paths) as YAML, each value with the layer it comes from.
    #[command(after_help = "Examples:
  glyphsieve config
  glyphsieve config --set min_vram_gb=32 --set model_gb.70b=40
  glyphsieve config --no-project > glyphsieve.yaml")]
    Config(ShowConfigArgs),
    /// Show why rules have their values on chosen rows, and what would change them.
    #[command(after_help = "Examples:
  glyphsieve explain rules/ examples/listings.csv --row 2 --rule quantization_capable
  glyphsieve explain rules/ examples/listings.csv --where 'not quantization_capable and vram_gb >= 80' --limit 3
  glyphsieve explain rules/ examples/listings.csv --row 2 --row 39 --format json")]
    Explain(ExplainArgs),
    /// Compile rules to one SQL query (DuckDB, Spark, PostgreSQL) that gives eval's columns.
    #[command(after_help = "Examples:
  glyphsieve compile rules/ --to sql --dialect duckdb --table gpus
  glyphsieve compile rules/ --to sql --dialect postgres --header-from examples/listings.csv > tag.sql
  glyphsieve compile rules/ --to sql --dialect spark --only power_class,rack_friendly")]
    Compile(CompileArgs),
    /// Run the language server on stdin/stdout for editors (started by the editor; see the README).
    #[command(after_help = "Examples:
  glyphsieve lsp
  glyphsieve lsp --stdio")]
    Lsp(LspArgs),
}

#[derive(Debug, Args)]
pub struct LspArgs {
    /// Talk over stdin/stdout (the only transport; accepted because clients such as VS Code's pass it).
    #[arg(long)]
    pub stdio: bool,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// Rule files, or folders of .rule files (default: the project file's `rules:`).
    #[arg(value_name = "RULES")]
    pub rules: Vec<PathBuf>,
    /// What to compile to.
    #[arg(long, value_enum, default_value_t = Target::Sql)]
    pub to: Target,
    /// The SQL engine the query is for.
    #[arg(long, value_enum)]
    pub dialect: SqlDialect,
    /// The relation the query reads, as SQL text: a table name, or any relation expression.
    #[arg(long, value_name = "NAME", default_value = "listings")]
    pub table: String,
    /// Read the header line of this data file to pick each field's column (default: its first listed column).
    #[arg(long, value_name = "FILE")]
    pub header_from: Option<PathBuf>,
    /// Compile only these rules (comma separated), in this order.
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub only: Vec<String>,
    /// A cell that does not read as its field's type is NULL instead of an error (as eval --lenient).
    #[arg(long)]
    pub lenient: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    Sql,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqlDialect {
    Duckdb,
    Spark,
    Postgres,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Rule files or folders of .rule files, then the CSV file (`-` for stdin). Without rule
    /// paths, the project file's `rules:` are used.
    #[arg(required = true, num_args = 1.., value_name = "RULES... DATA")]
    pub paths: Vec<PathBuf>,
    /// Rule files, or folders of .rule files: `paths` but the last.
    #[arg(skip)]
    pub rules: Vec<PathBuf>,
    /// The CSV file: the last of `paths`.
    #[arg(skip)]
    pub data: PathBuf,
    /// The data row to explain, 1-based: the first row after the header is 1 (repeatable).
    #[arg(long = "row", value_name = "N", required_unless_present = "wheres")]
    pub rows: Vec<u64>,
    /// Explain the rows where this bool expression (rule language) is true, as eval's
    /// --where picks them (repeatable: all must hold), up to --limit rows.
    #[arg(long = "where", value_name = "EXPR", allow_hyphen_values = true)]
    pub wheres: Vec<String>,
    /// The most rows --where picks (the first ones, in file order).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,
    /// Explain only these rules (repeatable, or comma separated; default: every rule).
    #[arg(long = "rule", value_delimiter = ',', value_name = "NAME")]
    pub rule: Vec<String>,
    /// Output format: `human`, or `json` (a list of objects).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// `--config`, `--schema`, `--set` and the project file, as for eval.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Longest record read, e.g. `64MiB`, `1G`, `4096` (at most 1GiB); a longer one is an error.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub max_record_bytes: usize,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Before: RULES with --config and --set. After: --to-rules (default RULES) with \
--to-config (default the same config), the --sets, then each --to-set.\n\
-o FILE writes the changed rows: the input columns, then RULE.before and RULE.after for \
each compared rule. The report goes to stdout (to stderr with -o -).

Examples:
  glyphsieve diff rules/ examples/listings.csv --to-set min_vram_gb=48
  glyphsieve diff rules/ examples/listings.csv --to-set max_tdp_watts=300 --only quantization_capable -o changed.csv"
)]
pub struct DiffArgs {
    /// Rule files, or folders of .rule files: the "before" side.
    #[arg(required = true, num_args = 1.., value_name = "RULES")]
    pub rules: Vec<PathBuf>,
    /// The CSV file (`-` for stdin).
    #[arg(required = true, value_name = "DATA")]
    pub data: PathBuf,
    /// `--config`, `--schema`, `--set` and the project file apply to both sides.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The "after" side's rule files or folders (default: RULES; repeatable).
    #[arg(long = "to-rules", value_name = "PATH")]
    pub to_rules: Vec<PathBuf>,
    /// The "after" side's config YAML (default: the --config of both sides).
    #[arg(long = "to-config", value_name = "FILE")]
    pub to_config: Option<PathBuf>,
    /// Override a config key on the "after" side only, after every --set (repeatable).
    #[arg(long = "to-set", value_name = "KEY=VALUE")]
    pub to_set: Vec<String>,
    /// Compare only these rules (comma separated).
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub only: Vec<String>,
    /// The report's form on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    // `-o FILE` writes the changed rows (see `after_help`).
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Files with a syntax error are left untouched and their errors printed (exit 1). \
--check and --diff write nothing and exit 1 when a file would change."
)]
pub struct FmtArgs {
    /// Rule files, or folders of .rule files; `-` formats stdin to stdout.
    #[arg(required = true, num_args = 1.., value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    /// List the files that are not formatted (nothing is written).
    #[arg(long)]
    pub check: bool,
    /// Print a unified diff of what would change (nothing is written).
    #[arg(long)]
    pub diff: bool,
}

#[derive(Debug, Args)]
pub struct ShowConfigArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// Where settings come from, in layers: the built-in defaults, then the
/// project file (`glyphsieve.yaml`), then each `--config`/`--schema` in
/// order, then each `--set`. Every command that reads rules has them.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Config YAML read as `cfg`, laid over the built-in defaults and the project file (repeatable, later wins).
    #[arg(long, value_name = "FILE")]
    pub config: Vec<PathBuf>,
    /// Set a config key, laid over every file: `--set min_vram_gb=32`, dotted for nesting (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Schema YAML whose fields add to or replace the built-in listing schema's, field by field (repeatable).
    #[arg(long, value_name = "FILE")]
    pub schema: Vec<PathBuf>,
    /// Ignore glyphsieve.yaml (the project file found in this folder or a parent).
    #[arg(long)]
    pub no_project: bool,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Rule files, or folders of .rule files (default: the project file's `rules:`).
    #[arg(value_name = "RULES")]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Output format: human, json, sarif (SARIF 2.1.0) or github (workflow annotations).
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    pub format: LintFormat,
    /// Also evaluate the rules over this CSV file (`-` for stdin) and warn where the data disagrees with them (W501-W505).
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Print how many diagnostics each code has instead of the diagnostics (human or json).
    #[arg(long)]
    pub statistics: bool,
    /// Treat warnings as errors: `--deny warnings`.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub deny: Option<Deny>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Rule files, or folders of .rule files, with their `test` items (default: the project file's `rules:`).
    #[arg(value_name = "RULES")]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Output format: `human` (one line per test, as `cargo test`), or `json`.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also report condition coverage over the tests: per rule, which conditions were true, false and missing.
    #[arg(long)]
    pub coverage: bool,
    /// Also report condition coverage over the rows of this CSV file (`-` for stdin), streamed.
    #[arg(long, value_name = "FILE")]
    pub coverage_data: Option<PathBuf>,
    /// Longest record read from --coverage-data, e.g. `64MiB` (at most 1GiB).
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub max_record_bytes: usize,
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
    /// Longest record read, e.g. `64MiB`, `1G`, `4096` (at most 1GiB); a longer one is an error.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub max_record_bytes: usize,
    /// Write only these input columns, in this order (comma separated); the rules' columns follow.
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub columns: Option<Vec<String>>,
    /// `csv`, or `jsonl` (one JSON object per row); default: jsonl when -o ends in .jsonl or .ndjson, else csv.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub output_format: Option<OutputFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Csv,
    Jsonl,
}

/// A size in bytes: a number, optionally followed by `K`, `M` or `G` (powers
/// of 1024; `KiB`, `KB`, `k`... are the same), from 1 byte to 1 GiB (the
/// reader's offsets are 32-bit; see `MAX_RECORD_BYTES_LIMIT`).
pub fn parse_size(text: &str) -> Result<usize, String> {
    use crate::data::reader::MAX_RECORD_BYTES_LIMIT;
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let expected = "expected a size such as 64MiB, 1G, 512K or 4096";
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size: {expected}"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("`{text}`: unknown unit; {expected}")),
    };
    let bytes = number.saturating_mul(1 << shift);
    if bytes == 0 {
        return Err("the size must be at least 1 byte".to_string());
    }
    if bytes > MAX_RECORD_BYTES_LIMIT as u64 {
        return Err(format!("`{text}` is more than the most allowed, 1GiB"));
    }
    usize::try_from(bytes).map_err(|_| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn max_record_bytes_sizes_parse() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("1KiB"), Ok(1024));
        assert_eq!(parse_size("2k"), Ok(2048));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("10 MB"), Ok(10 << 20));
        for bad in [
            "",
            "0",
            "2G",
            "1T",
            "x",
            "-1",
            "1.5M",
            "99999999999999999999",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}

#[derive(Debug, Args)]
#[command(override_usage = "glyphsieve eval [OPTIONS] [RULES]... <DATA>")]
pub struct EvalArgs {
    /// Rule files or folders of .rule files, then the CSV file (`-` for stdin). Without rule
    /// paths, the project file's `rules:` are used.
    #[arg(required = true, num_args = 1.., value_name = "RULES... DATA")]
    pub paths: Vec<PathBuf>,
    /// Rule files, or folders of .rule files: `paths` but the last (see [`EvalArgs::split_paths`]).
    #[arg(skip)]
    pub rules: Vec<PathBuf>,
    /// The CSV file: the last of `paths`.
    #[arg(skip)]
    pub data: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Write only these rules' columns (comma separated).
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub only: Vec<String>,
    /// Keep only the rows where this bool expression (rule language) is true; repeatable: all must hold.
    #[arg(long = "where", value_name = "EXPR", allow_hyphen_values = true)]
    pub wheres: Vec<String>,
    /// Print the per-rule summary on stderr even when stderr is not a terminal.
    #[arg(long, conflicts_with = "quiet")]
    pub summary: bool,
    /// How errors and warnings are shown on stderr: `human`, or `json` (each report a JSON array on one line, as `lint --format json` prints them).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Print no summary.
    #[arg(long)]
    pub quiet: bool,
    /// The summary's form: `human`, or `json` (one JSON object on stderr; implies --summary); default: --format.
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with = "quiet")]
    pub summary_format: Option<Format>,
    /// Add a `<rule>_why` column beside each bool rule (`--why`) or the named ones
    /// (`--why=NAME,...`): the comparison that decided its value.
    #[arg(long, value_name = "NAME,...", num_args = 0..=1, require_equals = true,
          default_missing_value = "", value_delimiter = ',')]
    pub why: Option<Vec<String>>,
}

/// Split positional paths into RULES and DATA (the last). They are one
/// clap argument because RULES may be left out (the project file gives
/// them), and clap puts no optional list before a required one.
fn split_rules_and_data(paths: Vec<PathBuf>) -> (Vec<PathBuf>, PathBuf) {
    let mut paths = paths;
    let data = paths.pop().unwrap_or_default();
    (paths, data)
}

impl OutputArgs {
    /// `--threads`, or one per core.
    pub fn threads(&self) -> usize {
        self.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        )
    }
}

impl EvalArgs {
    /// [`split_rules_and_data`] of the positional paths.
    pub fn split_paths(&mut self) {
        (self.rules, self.data) = split_rules_and_data(std::mem::take(&mut self.paths));
    }
}

impl ExplainArgs {
    /// [`split_rules_and_data`] of the positional paths.
    pub fn split_paths(&mut self) {
        (self.rules, self.data) = split_rules_and_data(std::mem::take(&mut self.paths));
    }
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The CSV file (`-` for stdin).
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    /// How errors and warnings are shown on stderr, and the counts: `human`, or `json` (each report a JSON array on one line, as `lint --format json` prints them).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
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

/// `lint --format`: the two of every command, and the CI formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Human,
    Json,
    /// SARIF 2.1.0, one run (code scanning).
    Sarif,
    /// GitHub Actions workflow commands (`::warning file=...::...`).
    Github,
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

//! The command line: parse arguments once into settings, run a command, map
//! the outcome to an exit code (0 ok, 1 problems found, 2 could not run).

mod args;
mod lint;
mod output;
mod run;

use crate::config::{Config, QUANTIZATION_YAML, QUANTIZATION_YAML_NAME, QuantizationConfig};
use crate::schema::Schema;
pub use args::Cli;
use args::{Color, Command, ConfigArgs};
use clap::Parser;
use std::io::IsTerminal;

/// Exit codes.
pub const OK: i32 = 0;
pub const PROBLEMS: i32 = 1;
pub const FAILURE: i32 = 2;

/// Run the command line; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { FAILURE } else { OK };
        }
    };
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal(),
    };
    let result = match cli.command {
        Command::Lint(a) => lint::lint(a, color),
        Command::Eval(a) => run::eval(a, color),
        Command::TagQuantization(a) => run::tag_quantization(a, color),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if let Some(text) = e.rendered {
                eprint!("{text}");
            }
            if !e.message.is_empty() {
                eprintln!("error: {}", e.message);
            }
            e.code
        }
    }
}

/// A command that stopped: what to print and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub rendered: Option<String>,
    pub code: i32,
}

impl Failure {
    /// Could not run at all (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            rendered: None,
            code: FAILURE,
        }
    }

    /// Ran and found a problem in the input (exit 1).
    pub fn problem(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            rendered: None,
            code: PROBLEMS,
        }
    }
}

/// The config rules read: `--config FILE` (any mapping) or the built-in
/// quantization config, then each `--set`.
pub fn load_config(args: &ConfigArgs) -> Result<Config, Failure> {
    let config = match &args.config {
        Some(path) => {
            let text = read_text(path)?;
            Config::from_yaml(&path.display().to_string(), &text)
                .map_err(|e| Failure::problem(e.to_string()))?
        }
        None => QuantizationConfig::from_yaml(QUANTIZATION_YAML_NAME, QUANTIZATION_YAML)
            .map_err(|e| Failure::problem(e.to_string()))?
            .to_config(),
    };
    apply_sets(config, &args.set)
}

/// The typed quantization config: `--config FILE` must be one, then `--set`.
pub fn load_quantization_config(args: &ConfigArgs) -> Result<Config, Failure> {
    let config = match &args.config {
        Some(path) => {
            let name = path.display().to_string();
            let text = read_text(path)?;
            let mut config = QuantizationConfig::from_yaml(&name, &text)
                .map_err(|e| Failure::problem(e.to_string()))?
                .to_config();
            // Point W404 and friends at the user's file, not the built-in one.
            config.name = name;
            config.text = Some(text.into());
            config.from_user = true;
            config
        }
        None => QuantizationConfig::default().to_config(),
    };
    apply_sets(config, &args.set)
}

/// Each `--set key=value`, in order (a bad one is a bad argument: exit 2).
fn apply_sets(mut config: Config, sets: &[String]) -> Result<Config, Failure> {
    for s in sets {
        config.set(s).map_err(|e| Failure::usage(e.to_string()))?;
    }
    Ok(config)
}

pub fn load_schema(path: Option<&std::path::Path>) -> Result<std::sync::Arc<Schema>, Failure> {
    match path {
        None => Ok(Schema::listing()),
        Some(p) => {
            let text = read_text(p)?;
            Schema::from_yaml(&p.display().to_string(), &text)
                .map(std::sync::Arc::new)
                .map_err(|e| Failure::problem(e.to_string()))
        }
    }
}

/// Print to stdout; a closed pipe (`glyphsieve lint ... | head`) is not an error.
pub fn print_stdout(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::usage(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

pub fn read_text(path: &std::path::Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
}

//! The command line: parse arguments once into settings, run a command, map
//! the outcome to an exit code (0 ok, 1 problems found, 2 could not run).

mod args;
mod lint;
mod output;
mod run;

use crate::config::{
    Config, ConfigError, Place, QUANTIZATION_YAML, QUANTIZATION_YAML_NAME, QuantizationConfig,
};
use crate::diagnostic::Code;
use crate::rules::LoadError;
use crate::schema::Schema;
pub use args::Cli;
use args::{Color, Command, ConfigArgs};
use clap::Parser;
use std::io::IsTerminal;
use std::sync::Arc;

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

/// An input that could not be loaded (rule paths, config, schema, `--set`):
/// the exit code, the line printed as `error: ...`, and what
/// `lint --format json` reports, a diagnostic with a place when there is one.
#[derive(Debug)]
pub struct LoadFailure {
    pub exit: i32,
    pub code: Code,
    /// The file it is about; None for a `--set`.
    pub file: Option<String>,
    pub at: Option<Place>,
    /// A second place in the same file (where a duplicate key first is).
    pub first: Option<Place>,
    /// The message without the file's name.
    pub message: String,
    /// The whole line for people: file, place and message.
    pub text: String,
}

// Boxed where returned: it is large, and only made on the way out.
impl From<Box<LoadFailure>> for Failure {
    fn from(l: Box<LoadFailure>) -> Failure {
        Failure {
            message: l.text,
            rendered: None,
            code: l.exit,
        }
    }
}

impl LoadFailure {
    fn config(e: ConfigError, exit: i32, code: Code, file: Option<String>) -> Box<LoadFailure> {
        Box::new(LoadFailure {
            exit,
            code,
            file,
            at: e.at,
            first: e.first,
            text: e.to_string(),
            message: e.message,
        })
    }

    /// A file that cannot be read, a folder without rules (exit 2).
    fn unreadable(file: String, text: String) -> Box<LoadFailure> {
        Box::new(LoadFailure {
            exit: FAILURE,
            code: Code::UnreadableInput,
            file: Some(file),
            at: None,
            first: None,
            message: text.clone(),
            text,
        })
    }
}

impl From<LoadError> for Box<LoadFailure> {
    fn from(e: LoadError) -> Box<LoadFailure> {
        let (file, at) = match &e {
            LoadError::Io { path, .. } | LoadError::NoRules { path } => (path.clone(), None),
            LoadError::NotUtf8 {
                path, line, column, ..
            } => {
                let (line, column) = (*line as u32, *column as u32);
                let at = crate::config::Place {
                    line,
                    column,
                    end_line: line,
                    end_column: column,
                };
                (path.clone(), Some(at))
            }
        };
        let mut failure = LoadFailure::unreadable(file, e.to_string());
        failure.at = at;
        failure
    }
}

/// The config rules read: `--config FILE` (any mapping) or the built-in
/// quantization config, then each `--set`.
pub fn load_config(args: &ConfigArgs) -> Result<Config, Box<LoadFailure>> {
    let bad = |e: ConfigError| {
        let file = Some(e.file.clone());
        LoadFailure::config(e, PROBLEMS, Code::BadConfig, file)
    };
    let config = match &args.config {
        Some(path) => {
            let text = read_input(path)?;
            Config::from_yaml(&path.display().to_string(), &text).map_err(bad)?
        }
        None => QuantizationConfig::from_yaml(QUANTIZATION_YAML_NAME, QUANTIZATION_YAML)
            .map_err(bad)?
            .to_config(),
    };
    apply_sets(config, &args.set)
}

/// The typed quantization config: `--config FILE` must be one, then `--set`.
pub fn load_quantization_config(args: &ConfigArgs) -> Result<Config, Box<LoadFailure>> {
    let config = match &args.config {
        Some(path) => {
            let name = path.display().to_string();
            let text = read_input(path)?;
            let bad = |e: ConfigError| {
                LoadFailure::config(e, PROBLEMS, Code::BadConfig, Some(name.clone()))
            };
            let file = Config::from_yaml(&name, &text).map_err(bad)?;
            let mut config = QuantizationConfig::from_config(&file)
                .map_err(bad)?
                .to_config();
            // Point W404 and friends at the user's file, not the built-in one.
            config.name = file.name;
            config.text = file.text;
            config.keys = file.keys;
            config.from_user = true;
            config
        }
        None => QuantizationConfig::default().to_config(),
    };
    apply_sets(config, &args.set)
}

/// Each `--set key=value`, in order (a bad one is a bad argument: exit 2).
fn apply_sets(mut config: Config, sets: &[String]) -> Result<Config, Box<LoadFailure>> {
    for s in sets {
        config
            .set(s)
            .map_err(|e| LoadFailure::config(e, FAILURE, Code::BadArgument, None))?;
    }
    Ok(config)
}

pub fn load_schema(path: Option<&std::path::Path>) -> Result<Arc<Schema>, Box<LoadFailure>> {
    match path {
        None => Ok(Schema::listing()),
        Some(p) => {
            let text = read_input(p)?;
            let name = p.display().to_string();
            if let Some((message, at)) = crate::config::yaml_too_deep(&text) {
                return Err(Box::new(LoadFailure {
                    exit: PROBLEMS,
                    code: Code::BadSchema,
                    text: format!("{name}:{}:{}: {message}", at.line, at.column),
                    at: Some(at),
                    first: None,
                    file: Some(name),
                    message,
                }));
            }
            Schema::from_yaml(&name, &text).map(Arc::new).map_err(|e| {
                Box::new(LoadFailure {
                    exit: PROBLEMS,
                    code: Code::BadSchema,
                    text: e.to_string(),
                    at: e.at,
                    first: None,
                    file: Some(e.file),
                    message: e.message,
                })
            })
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

/// A config or schema file's text (exit 2 when it cannot be read).
fn read_input(path: &std::path::Path) -> Result<String, Box<LoadFailure>> {
    let name = path.display().to_string();
    std::fs::read_to_string(path)
        .map_err(|e| LoadFailure::unreadable(name.clone(), format!("cannot read {name}: {e}")))
}

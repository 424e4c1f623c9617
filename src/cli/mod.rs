//! The command line, in layers: raw arguments (`args`) become the inputs
//! every command shares, loaded once (`inputs`: rules, schema, config and
//! `--set`); a command runs on them and returns an outcome; one mapping
//! (`exit_code`) turns the outcome into what is printed and the exit code
//! (0 ok, 1 problems found, 2 could not run).

mod args;
mod diff;
mod fmt;
mod inputs;
mod lint;
mod output;
mod project;
mod run;
mod show;
mod summary;

pub use args::Cli;
use args::{Color, Command};
use clap::Parser;
pub use inputs::{Inputs, LoadFailure, Rules, Sources};
use std::io::IsTerminal;

/// Exit codes.
pub const OK: i32 = 0;
pub const PROBLEMS: i32 = 1;
pub const FAILURE: i32 = 2;

/// How a command ended, as its exit code says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Ran, and found nothing wrong (0).
    Ok,
    /// Ran, and found problems in the input or the rules (1).
    Problems,
    /// Could not run: unreadable file, bad argument, failed write (2).
    CouldNotRun,
}

impl Exit {
    pub fn code(self) -> i32 {
        match self {
            Exit::Ok => OK,
            Exit::Problems => PROBLEMS,
            Exit::CouldNotRun => FAILURE,
        }
    }
}

/// Run the command line; returns the exit code.
pub fn main() -> i32 {
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let e = args::explain_missing_data(e);
            let _ = e.print();
            // `--help` and `--version` print to stdout and are not errors.
            let exit = if e.use_stderr() {
                Exit::CouldNotRun
            } else {
                Exit::Ok
            };
            return exit.code();
        }
    };
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal(),
    };
    if let Command::Eval(a) = &mut cli.command {
        a.split_paths();
    }
    if let Command::Eval(a) = &cli.command
        && let Some(message) = run::missing_data(a)
    {
        return exit_code(Err(Failure::usage(message)));
    }
    // fmt reads rule text only: no config, schema or project file.
    if let Command::Fmt(a) = &cli.command {
        return exit_code(fmt::fmt(a, color));
    }
    let loaded = Inputs::load(&sources(&cli.command));
    let outcome = match cli.command {
        // lint reports a load failure itself (as JSON with `--format json`).
        Command::Lint(a) => lint::lint(&a, loaded, color),
        Command::Eval(a) => loaded
            .map_err(Failure::from)
            .and_then(|inputs| run::eval(a, inputs, color)),
        Command::TagQuantization(a) => loaded
            .map_err(Failure::from)
            .and_then(|inputs| run::tag_quantization(a, inputs, color)),
        Command::Diff(a) => loaded
            .map_err(Failure::from)
            .and_then(|inputs| diff::diff(a, inputs, color)),
        Command::Config(_) => loaded.map_err(Failure::from).and_then(show::show),
        Command::Fmt(_) => Ok(Exit::Ok),
    };
    exit_code(outcome)
}

static NO_CONFIG: args::ConfigArgs = args::ConfigArgs {
    config: Vec::new(),
    set: Vec::new(),
    schema: Vec::new(),
    no_project: true,
};

/// Where each command's inputs come from.
fn sources(command: &Command) -> Sources<'_> {
    match command {
        Command::Lint(a) => Sources {
            rules: Rules::Files(&a.rules),
            config: &a.config,
        },
        Command::Eval(a) => Sources {
            rules: Rules::Files(&a.rules),
            config: &a.config,
        },
        Command::TagQuantization(a) => Sources {
            rules: Rules::Quantization,
            config: &a.config,
        },
        // Never loaded (fmt reads rule text only): nothing to name.
        Command::Fmt(_) => Sources {
            rules: Rules::Files(&[]),
            config: &NO_CONFIG,
        },
        Command::Config(a) => Sources {
            rules: Rules::Settings,
            config: &a.config,
        },
        // The before side; `diff` loads the after side itself.
        Command::Diff(a) => Sources {
            rules: Rules::Files(&a.rules),
            config: &a.config,
        },
    }
}

/// The one mapping from a command's outcome to stderr and the exit code.
fn exit_code(outcome: Result<Exit, Failure>) -> i32 {
    match outcome {
        Ok(exit) => exit.code(),
        Err(e) => {
            if let Some(text) = e.rendered {
                eprint!("{text}");
            }
            if !e.message.is_empty() {
                eprintln!("error: {}", e.message);
            }
            e.exit.code()
        }
    }
}

/// A command that stopped: what to print and how it exits.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub rendered: Option<String>,
    pub exit: Exit,
}

impl Failure {
    /// Could not run at all (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            rendered: None,
            exit: Exit::CouldNotRun,
        }
    }

    /// Ran and found a problem in the input (exit 1).
    pub fn problem(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            rendered: None,
            exit: Exit::Problems,
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

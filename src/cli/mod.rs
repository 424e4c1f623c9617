//! The command line, in layers: raw arguments (`args`) become the inputs
//! every command shares, loaded once (`inputs`: rules, schema, config and
//! `--set`); a command runs on them and returns an outcome; one mapping
//! (`exit_code`) turns the outcome into what is printed and the exit code
//! (0 ok, 1 problems found, 2 could not run).

mod args;
mod compile;
mod coverage;
mod datalint;
mod diff;
mod explain;
mod fmt;
mod inputs;
mod lint;
mod lsp;
mod output;
mod project;
mod report;
mod ruletest;
mod run;
mod show;
mod summary;
mod tools;

pub use args::Cli;
use args::{Color, Command, Top};
use clap::{CommandFactory, FromArgMatches};
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
    // `--color` is known before clap parses, so that its own errors and
    // help follow it too.
    let choice = match color_wanted(std::env::args_os().skip(1)) {
        Color::Always => clap::ColorChoice::Always,
        Color::Never => clap::ColorChoice::Never,
        Color::Auto if no_color() => clap::ColorChoice::Never,
        Color::Auto => clap::ColorChoice::Auto,
    };
    let parsed = Cli::command()
        .color(choice)
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let e = args::explain_missing_data(e, choice);
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
        Color::Auto => !no_color() && std::io::stderr().is_terminal(),
    };
    let mut command = match cli.command {
        // Tools about glyphsieve itself load no rules, config or schema.
        Top::Tool(tool) => return exit_code(tools::run(&tool), color),
        Top::Run(command) => command,
    };
    // `eval` and `explain` take `[RULES]... DATA`: RULES may come from the
    // project file.
    let missing = match &mut command {
        Command::Eval(a) => {
            a.split_paths();
            run::missing_data("eval", &a.rules, &a.data)
        }
        Command::Explain(a) => {
            a.split_paths();
            run::missing_data("explain", &a.rules, &a.data)
        }
        _ => None,
    };
    if let Some(message) = missing {
        return exit_code(Err(Failure::usage(message)), color);
    }
    // fmt reads rule text only: no config, schema or project file.
    if let Command::Fmt(a) = &command {
        return exit_code(fmt::fmt(a, color), color);
    }
    // The language server loads the workspace's inputs itself, per folder.
    if let Command::Lsp(_) = command {
        return exit_code(lsp::lsp(), color);
    }
    // explain draws its report on stdout: coloured when stdout is a terminal.
    let stdout_color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => !no_color() && std::io::stdout().is_terminal(),
    };
    let loaded = Inputs::load(&sources(&command));
    let outcome = match command {
        // lint reports a load failure itself (as JSON with `--format json`).
        Command::Lint(a) => lint::lint(&a, loaded, color),
        Command::Eval(a) => loaded
            .map_err(|f| report::Style::new(a.format, color).load(f))
            .and_then(|inputs| run::eval(a, inputs, color)),
        Command::TagQuantization(a) => loaded
            .map_err(|f| report::Style::new(a.format, color).load(f))
            .and_then(|inputs| run::tag_quantization(a, inputs, color)),
        Command::Diff(a) => loaded
            .map_err(Failure::from)
            .and_then(|inputs| diff::diff(a, inputs, color)),
        Command::Config(_) => loaded.map_err(Failure::from).and_then(show::show),
        Command::Test(a) => loaded
            .map_err(|f| report::Style::new(a.format, color).load(f))
            .and_then(|inputs| ruletest::test(a, inputs, color, stdout_color)),
        Command::Explain(a) => loaded
            .map_err(Failure::from)
            .and_then(|inputs| explain::explain(a, inputs, color, stdout_color)),
        Command::Fmt(_) | Command::Lsp(_) => Ok(Exit::Ok),
        Command::Compile(a) => loaded
            .map_err(Failure::from)
            .and_then(|inputs| compile::compile(a, inputs, color)),
    };
    exit_code(outcome, color)
}

/// no-color.org: `NO_COLOR` turns colour off when it is set and not empty.
fn no_color() -> bool {
    disables_color(std::env::var_os("NO_COLOR").as_deref())
}

/// Whether a `NO_COLOR` value (`None`: not set) turns colour off: an empty
/// one does not.
fn disables_color(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// The last `--color WHEN` (or `--color=WHEN`) before `--`, read from the
/// raw arguments; `Auto` when there is none or it is not a choice (clap
/// reports that).
fn color_wanted(mut args: impl Iterator<Item = std::ffi::OsString>) -> Color {
    let mut wanted = Color::Auto;
    while let Some(arg) = args.next() {
        let value = match arg.to_str() {
            Some("--") => break,
            Some("--color") => args.next(),
            Some(a) => a.strip_prefix("--color=").map(Into::into),
            None => None,
        };
        match value.as_ref().and_then(|v| v.to_str()) {
            Some("always") => wanted = Color::Always,
            Some("never") => wanted = Color::Never,
            Some("auto") => wanted = Color::Auto,
            _ => {}
        }
    }
    wanted
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
        Command::Fmt(_) | Command::Lsp(_) => Sources {
            rules: Rules::Files(&[]),
            config: &NO_CONFIG,
        },
        Command::Config(a) => Sources {
            rules: Rules::Settings,
            config: &a.config,
        },
        Command::Explain(a) => Sources {
            rules: Rules::Files(&a.rules),
            config: &a.config,
        },
        Command::Test(a) => Sources {
            rules: Rules::Files(&a.rules),
            config: &a.config,
        },
        Command::Compile(a) => Sources {
            rules: Rules::Files(&a.rules),
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
/// `color`: the `error:` of a plain message is red and bold, as clap's is.
fn exit_code(outcome: Result<Exit, Failure>, color: bool) -> i32 {
    match outcome {
        Ok(exit) => exit.code(),
        Err(e) => {
            if let Some(text) = e.rendered {
                eprint!("{text}");
            }
            if !e.message.is_empty() {
                let error = match color {
                    true => "\u{1b}[1;31merror:\u{1b}[0m",
                    false => "error:",
                };
                eprintln!("{error} {}", e.message);
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

/// Run `f` on a thread named `glyphsieve-{what}` with a 64 MiB stack, for
/// work that recurses over the expression tree (explain's tracer, `test`).
fn on_big_stack(
    what: &str,
    f: impl FnOnce() -> Result<Exit, Failure> + Send,
) -> Result<Exit, Failure> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(format!("glyphsieve-{what}"))
            .stack_size(64 << 20)
            .spawn_scoped(scope, f)
            .map_err(|e| Failure::usage(format!("cannot start a thread: {e}")))?
            .join()
            .map_err(|_| Failure::usage(format!("{what} stopped unexpectedly")))?
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::{OsStr, OsString};

    #[test]
    fn empty_no_color_does_not_disable_colour() {
        assert!(!disables_color(None));
        assert!(!disables_color(Some(OsStr::new(""))));
        assert!(disables_color(Some(OsStr::new("1"))));
        assert!(disables_color(Some(OsStr::new("0"))));
    }

    #[test]
    fn color_is_read_before_clap_parses() {
        let wanted = |args: &[&str]| color_wanted(args.iter().map(OsString::from));
        assert_eq!(wanted(&["lint", "--color", "never"]), Color::Never);
        assert_eq!(wanted(&["--color=always", "lint"]), Color::Always);
        assert_eq!(wanted(&["--color=always", "--color", "auto"]), Color::Auto);
        assert_eq!(wanted(&["eval", "--", "--color=never"]), Color::Auto);
        assert_eq!(wanted(&["--color", "purple"]), Color::Auto);
        assert_eq!(wanted(&["--color"]), Color::Auto);
    }
}

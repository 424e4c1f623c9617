//! `glyphsieve fmt`: rewrite `.rule` files in the canonical layout, or check or diff them.

use super::args::FmtArgs;
use super::lint::plural;
use super::output::{OutputError, write_to};
use super::{Exit, Failure, print_stdout};
use crate::diagnostic::render_human;
use crate::rules::{LoadError, read_rule_files, rule_files};
use crate::source::SourceMap;
use std::path::{Path, PathBuf};

/// What formatting one text gave.
enum Outcome {
    Unchanged,
    Changed(String),
    /// A syntax error: the diagnostics, rendered.
    Broken(String),
}

fn format_text(name: &str, text: &str, color: bool) -> Outcome {
    let mut sources = SourceMap::new();
    let id = sources.add(name, text);
    match crate::syntax::format_file(id, text) {
        Ok(out) if out == text => Outcome::Unchanged,
        Ok(out) => Outcome::Changed(out),
        Err(diags) => Outcome::Broken(render_human(&diags, &sources, color)),
    }
}

fn unified_diff(name: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(name, name)
        .to_string()
}

pub fn fmt(args: &FmtArgs, color: bool) -> Result<Exit, Failure> {
    let stdin = Path::new("-");
    if args.paths.iter().any(|p| p == stdin) {
        if args.paths.len() > 1 {
            return Err(Failure::usage(
                "`-` (stdin) must be the only path: `glyphsieve fmt -` formats stdin to stdout",
            ));
        }
        return fmt_stdin(args, color);
    }
    let files = rule_files(&args.paths).map_err(load_failure)?;
    let (mut changed, mut unchanged, mut broken) = (0usize, 0usize, 0usize);
    let mut listed = String::new();
    for file in &files {
        let (name, text) = read_one(file)?;
        match format_text(&name, &text, color) {
            Outcome::Unchanged => unchanged += 1,
            Outcome::Broken(rendered) => {
                broken += 1;
                eprint!("{rendered}");
                eprintln!("error: {name} was not formatted: it has syntax errors");
            }
            Outcome::Changed(out) => {
                changed += 1;
                if args.check {
                    listed.push_str(&format!("{name}\n"));
                }
                if args.diff {
                    listed.push_str(&unified_diff(&name, &text, &out));
                }
                if !args.check && !args.diff {
                    write(file, &name, &out)?;
                }
            }
        }
    }
    print_stdout(&listed)?;
    let verb = if args.check || args.diff {
        "would be reformatted"
    } else {
        "reformatted"
    };
    let mut summary = format!(
        "{changed} file{} {verb}, {unchanged} file{} already formatted",
        plural(changed),
        plural(unchanged)
    );
    if broken > 0 {
        summary.push_str(&format!(
            ", {broken} file{} with syntax errors left untouched",
            plural(broken)
        ));
    }
    eprintln!("{summary}");
    let failing = broken > 0 || ((args.check || args.diff) && changed > 0);
    Ok(if failing { Exit::Problems } else { Exit::Ok })
}

fn fmt_stdin(args: &FmtArgs, color: bool) -> Result<Exit, Failure> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(format!("cannot read stdin: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Failure::problem(format!(
            "stdin is not UTF-8 text (invalid byte at offset {}); rule files must be UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let name = "<stdin>";
    match format_text(name, &text, color) {
        Outcome::Broken(rendered) => {
            eprint!("{rendered}");
            Err(Failure::problem(
                "stdin was not formatted: it has syntax errors",
            ))
        }
        Outcome::Unchanged if args.check || args.diff => Ok(Exit::Ok),
        Outcome::Changed(out) if args.check || args.diff => {
            let mut shown = String::new();
            if args.check {
                shown.push_str(&format!("{name}\n"));
            }
            if args.diff {
                shown.push_str(&unified_diff(name, &text, &out));
            }
            print_stdout(&shown)?;
            Ok(Exit::Problems)
        }
        Outcome::Unchanged => {
            print_stdout(&text)?;
            Ok(Exit::Ok)
        }
        Outcome::Changed(out) => {
            print_stdout(&out)?;
            Ok(Exit::Ok)
        }
    }
}

fn read_one(file: &PathBuf) -> Result<(String, String), Failure> {
    let mut texts = read_rule_files(std::slice::from_ref(file)).map_err(load_failure)?;
    texts
        .pop()
        .ok_or_else(|| Failure::usage(format!("cannot read {}", file.display())))
}

fn load_failure(e: LoadError) -> Failure {
    Failure::usage(e.to_string())
}

/// Replace the file atomically (a temporary file beside it, renamed over
/// it), keeping its permissions: a stopped run leaves the old text whole.
fn write(file: &Path, name: &str, text: &str) -> Result<(), Failure> {
    let result = write_to(file, None, name, |w| {
        w.write_all(text.as_bytes())
            .map_err(|error| crate::data::pipeline::DataError::Write {
                target: name.to_string(),
                error,
            })?;
        Ok(Default::default())
    });
    match result {
        Ok(_) => Ok(()),
        // The writer is -o's: its advice to choose another -o does not apply.
        Err(OutputError::Usage(m)) => Err(Failure::usage(m.replace(" or choose another -o", ""))),
        Err(OutputError::Data(e)) => Err(Failure::usage(format!("cannot write {name}: {e}"))),
    }
}

//! `glyphsieve lint`: every diagnostic of a rule set, human or JSON.

use super::args::{Deny, Format, LintArgs};
use super::{Exit, Failure, Inputs, LoadFailure, print_stdout};
use crate::config::Place;
use crate::diagnostic::{Code, Severity, render_human, to_json};
use serde::Serialize;

pub fn lint(
    args: &LintArgs,
    loaded: Result<Inputs, Box<LoadFailure>>,
    color: bool,
) -> Result<Exit, Failure> {
    let inputs = match loaded {
        Ok(inputs) => inputs,
        // A JSON reader gets a JSON document whatever happens: the failure
        // as one diagnostic, with the exit code it has in human format.
        Err(f) if args.format == Format::Json => {
            let text = serde_json::to_string_pretty(&[failure_json(&f)])
                .map_err(|e| Failure::usage(e.to_string()))?;
            print_stdout(&(text + "\n"))?;
            return Ok(f.exit);
        }
        Err(f) => return Err(f.into()),
    };
    let (files, set) = (&inputs.files, inputs.rule_set());
    let errors = set
        .diagnostics
        .iter()
        .filter(|d| d.severity() == Severity::Error)
        .count();
    let warnings = set.diagnostics.len() - errors;
    match args.format {
        Format::Human => {
            let mut text = render_human(&set.diagnostics, &set.sources, color);
            let rules = set.program.outputs.len();
            text += &format!(
                "{} file{}, {rules} rule{}: {errors} error{}, {warnings} warning{}\n",
                files.len(),
                plural(files.len()),
                plural(rules),
                plural(errors),
                plural(warnings)
            );
            print_stdout(&text)?;
        }
        Format::Json => {
            let json: Vec<_> = set
                .diagnostics
                .iter()
                .map(|d| to_json(d, &set.sources))
                .collect();
            let text =
                serde_json::to_string_pretty(&json).map_err(|e| Failure::usage(e.to_string()))?;
            print_stdout(&(text + "\n"))?;
        }
    }
    let failing = errors > 0 || (args.deny == Some(Deny::Warnings) && warnings > 0);
    Ok(if failing { Exit::Problems } else { Exit::Ok })
}

/// A failure in the JSON shape of a diagnostic (docs/language.md), keys in
/// the same order: `file` is null for a `--set`, and the place's numbers are
/// null when it has none (a file that cannot be read).
#[derive(Serialize)]
struct FailureJson<'a> {
    code: &'static str,
    name: &'static str,
    severity: Severity,
    message: &'a str,
    file: Option<&'a str>,
    #[serde(flatten)]
    place: PlaceJson,
    label: &'static str,
    help: Option<&'a str>,
    related: Vec<RelatedJson<'a>>,
}

#[derive(Serialize)]
struct PlaceJson {
    line: Option<u32>,
    column: Option<u32>,
    end_line: Option<u32>,
    end_column: Option<u32>,
}

#[derive(Serialize)]
struct RelatedJson<'a> {
    message: &'static str,
    file: Option<&'a str>,
    #[serde(flatten)]
    place: PlaceJson,
}

fn place_json(p: Option<Place>) -> PlaceJson {
    PlaceJson {
        line: p.map(|p| p.line),
        column: p.map(|p| p.column),
        end_line: p.map(|p| p.end_line),
        end_column: p.map(|p| p.end_column),
    }
}

fn failure_json(f: &LoadFailure) -> FailureJson<'_> {
    FailureJson {
        code: f.code.as_str(),
        name: f.code.name(),
        severity: Severity::Error,
        // Without a file (`--set`), the message says which argument.
        message: if f.file.is_some() {
            &f.message
        } else {
            &f.text
        },
        file: f.file.as_deref(),
        place: place_json(f.at),
        label: match f.code {
            Code::BadConfig => "invalid config",
            Code::BadSchema => "invalid schema",
            Code::BadArgument => "invalid argument",
            _ => "cannot be read",
        },
        help: None,
        related: f
            .first
            .map(|first| RelatedJson {
                message: "first written here",
                file: f.file.as_deref(),
                place: place_json(Some(first)),
            })
            .into_iter()
            .collect(),
    }
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

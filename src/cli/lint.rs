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
            let rules = count_rules(&inputs.texts);
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
pub(super) struct FailureJson<'a> {
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

pub(super) fn failure_json(f: &LoadFailure) -> FailureJson<'_> {
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

/// Rules in the rule texts, whether or not they parse: lines (ended by LF,
/// CRLF or a lone CR, as the source map reads them) whose first word is the
/// keyword `rule` (reserved, and strings cannot span lines, so
/// it starts a rule wherever it begins a line). The checked program would
/// leave out a rule with a syntax error, and the summary must count it.
fn count_rules(texts: &[(String, String)]) -> usize {
    texts
        .iter()
        .flat_map(|(_, text)| text.split(['\n', '\r']))
        .filter(|line| {
            line.trim_start()
                .strip_prefix("rule")
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
        })
        .count()
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::count_rules;

    #[test]
    fn rules_with_syntax_errors_are_counted() {
        let text = "rule a: bool = true\nrule b: int = 1 +\nlet c = 2\n  rule d: int = c\n\
                    # rule in a comment\nlet rule_x = 1\rrule\r\n"
            .to_string();
        assert_eq!(count_rules(&[("t".into(), text)]), 4);
    }
}

//! `glyphsieve lint`: every diagnostic of a rule set, human or JSON.

use super::args::{Deny, Format, LintArgs};
use super::{Failure, OK, PROBLEMS, load_config, load_schema, print_stdout};
use crate::diagnostic::{Severity, render_human, to_json};
use crate::rules::{RuleSet, read_rule_files, rule_files};

pub fn lint(args: LintArgs, color: bool) -> Result<i32, Failure> {
    let files = rule_files(&args.rules).map_err(|e| Failure::usage(e.to_string()))?;
    let texts = read_rule_files(&files).map_err(|e| Failure::usage(e.to_string()))?;
    let schema = load_schema(args.schema.as_deref())?;
    let config = load_config(&args.config)?;
    let set = RuleSet::build(&texts, &schema, &config);
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
    Ok(if failing { PROBLEMS } else { OK })
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

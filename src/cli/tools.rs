//! Commands about glyphsieve itself, which load no rules or data: `rule`
//! (a diagnostic code's documentation), `completions` and `man`.

use super::args::{Cli, CompletionsArgs, ManArgs, RuleArgs, Shell, Tool};
use super::{Exit, Failure, print_stdout};
use crate::diagnostic::{CODES, CodeDef, did_you_mean};
use clap::CommandFactory;

/// The language reference, whose *Diagnostics* section is the one text of
/// each code's entry: `rule` prints it from here, so the two cannot differ.
const LANGUAGE_DOC: &str = include_str!("../../docs/language.md");

pub fn run(tool: &Tool) -> Result<Exit, Failure> {
    match tool {
        Tool::Rule(a) => rule(a),
        Tool::Completions(a) => completions(a),
        Tool::Man(a) => man(a),
    }
}

fn rule(args: &RuleArgs) -> Result<Exit, Failure> {
    let text = match (&args.code, args.all) {
        (Some(code), _) => {
            let def = find(code)?;
            entry(def.id).ok_or_else(|| {
                Failure::usage(format!("{} has no entry in docs/language.md", def.id))
            })?
        }
        (None, true) => {
            let entries: Vec<String> = CODES.iter().filter_map(|d| entry(d.id)).collect();
            entries.join("\n")
        }
        (None, false) => list(),
    };
    print_stdout(&text)?;
    Ok(Exit::Ok)
}

/// One line per code: code, name, severity, summary.
fn list() -> String {
    let width = CODES.iter().map(|d| d.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for d in &CODES {
        let severity = d.severity.as_str();
        out += &format!("{}  {:width$}  {severity:7}  {}\n", d.id, d.name, d.summary);
    }
    out += "\n`glyphsieve rule CODE` prints a code's entry; `--all` prints them all.\n";
    out
}

/// The code a user named by its id (any case) or its name.
fn find(wanted: &str) -> Result<&'static CodeDef, Failure> {
    let w = wanted.trim();
    if let Some(d) = CODES
        .iter()
        .find(|d| d.id.eq_ignore_ascii_case(w) || d.name.eq_ignore_ascii_case(w))
    {
        return Ok(d);
    }
    let ids = CODES.iter().map(|d| d.id);
    let names = CODES.iter().map(|d| d.name);
    let hint = did_you_mean(&w.to_ascii_uppercase(), ids)
        .or_else(|| did_you_mean(w, names))
        .unwrap_or_else(|| "`glyphsieve rule` lists them".to_string());
    Err(Failure::usage(format!(
        "no diagnostic code `{}`; {hint}",
        crate::diagnostic::printable(wanted)
    )))
}

/// The entry of code `id` in the docs' *Diagnostics* section: its
/// ``#### E101 `name` (error)`` heading and everything up to the next
/// heading (a `#` line inside a fenced example is not one).
pub(super) fn entry(id: &str) -> Option<String> {
    let section = LANGUAGE_DOC.split_once("\n## Diagnostics\n")?.1;
    let head = format!("#### {id} `");
    let mut out = String::new();
    let mut fenced = false;
    for line in section.lines() {
        let heading = !fenced && line.starts_with('#');
        if line.starts_with("```") {
            fenced = !fenced;
        }
        if out.is_empty() {
            if heading && line.starts_with(&head) {
                out = format!("{line}\n");
            }
            continue;
        }
        if heading {
            break;
        }
        // `diagnostic=E101` marks the example for the docs' own test; a
        // reader needs only the language.
        out += match line.split_once(",diagnostic=") {
            Some((fence, _)) if line.starts_with("```") => fence,
            _ => line,
        };
        out.push('\n');
    }
    (!out.is_empty()).then(|| out.trim_end().to_string() + "\n")
}

fn completions(args: &CompletionsArgs) -> Result<Exit, Failure> {
    use clap_complete::Shell as S;
    let shell = match args.shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "glyphsieve", &mut out);
    print_stdout(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Ok)
}

fn man(args: &ManArgs) -> Result<Exit, Failure> {
    let cli = Cli::command();
    let page = match &args.command {
        None => cli,
        Some(name) => {
            let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
            let Some(sub) = cli.find_subcommand(name) else {
                let hint = did_you_mean(name, names.iter().copied())
                    .unwrap_or_else(|| format!("the commands are {}", names.join(", ")));
                return Err(Failure::usage(format!(
                    "man: no command `{}`; {hint}",
                    crate::diagnostic::printable(name)
                )));
            };
            // Its page is glyphsieve-eval(1), as git's are git-log(1).
            // Its synopsis is `glyphsieve eval ...`.
            let (title, bin) = (
                format!("glyphsieve-{}", sub.get_name()),
                format!("glyphsieve {}", sub.get_name()),
            );
            sub.clone().display_name(title).bin_name(bin)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| Failure::usage(format!("cannot render the man page: {e}")))?;
    print_stdout(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_an_entry_that_rule_prints() {
        for d in &CODES {
            let text = entry(d.id).unwrap_or_else(|| panic!("no entry for {}", d.id));
            assert!(text.starts_with(&format!("#### {} `{}`", d.id, d.name)));
            // The heading and at least one line of explanation.
            assert!(text.lines().count() > 2, "{text}");
            assert!(!text.contains("\n#### "), "{text}");
        }
    }

    #[test]
    fn a_hash_line_inside_an_example_does_not_end_the_entry() {
        let w405 = entry("W405").unwrap_or_default();
        assert!(w405.contains("## nothing follows"), "{w405}");
        assert!(w405.contains("dangling-doc"), "{w405}");
    }
}

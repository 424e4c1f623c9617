//! `glyphsieve lint`: every diagnostic of a rule set (and, with `--data`,
//! of the data against it), as human text, JSON, SARIF or GitHub
//! workflow commands, or counted per code (`--statistics`).

use super::args::{Deny, LintArgs, LintFormat};
use super::{Exit, Failure, Inputs, LoadFailure, print_stdout};
use crate::config::Place;
use crate::diagnostic::{CODES, Code, Diagnostic, Severity, render_human, to_json};
use crate::source::SourceMap;
use serde::Serialize;
use serde_json::{Value as Json, json};

pub fn lint(
    args: &LintArgs,
    loaded: Result<Inputs, Box<LoadFailure>>,
    color: bool,
) -> Result<Exit, Failure> {
    if args.statistics && matches!(args.format, LintFormat::Sarif | LintFormat::Github) {
        return Err(Failure::usage(
            "--statistics counts the diagnostics as human text or JSON; it cannot be given with --format sarif or github",
        ));
    }
    let inputs = match loaded {
        Ok(inputs) => inputs,
        // A JSON reader gets a JSON document whatever happens: the failure
        // as one diagnostic, with the exit code it has in human format.
        Err(f) if args.format == LintFormat::Json => {
            let text = serde_json::to_string_pretty(&[failure_json(&f)])
                .map_err(|e| Failure::usage(e.to_string()))?;
            print_stdout(&(text + "\n"))?;
            return Ok(f.exit);
        }
        Err(f) => return Err(f.into()),
    };
    let mut set = inputs.rule_set();
    let mut diags = set.diagnostics.clone();
    let mut data_line = None;
    if let Some(data) = &args.data {
        if set.has_errors() {
            data_line = Some(format!(
                "data: {} not read: the rules have errors\n",
                data.display()
            ));
        } else {
            let report = super::datalint::data_lints(&mut set, &inputs, data)?;
            diags.extend(report.diagnostics);
            // One order for all: by file, then position (stable).
            diags.sort_by_key(|d| (d.span.file, d.span.start));
            data_line = Some(format!(
                "data: {} row{} of {}\n",
                report.rows,
                plural(report.rows as usize),
                report.data_name
            ));
        }
    }
    let (files, sources) = (&inputs.files, &set.sources);
    let errors = diags
        .iter()
        .filter(|d| d.severity() == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    match args.format {
        LintFormat::Human => {
            let mut text = match args.statistics {
                true => statistics_text(&diags),
                false => render_human(&diags, sources, color),
            };
            text += data_line.as_deref().unwrap_or("");
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
        LintFormat::Json => {
            // Serialized from the structs, so the keys keep their documented order.
            let text = match args.statistics {
                true => serde_json::to_string_pretty(
                    &statistics(&diags)
                        .into_iter()
                        .map(|(code, count)| StatJson {
                            code: code.as_str(),
                            name: code.name(),
                            count,
                        })
                        .collect::<Vec<_>>(),
                ),
                false => serde_json::to_string_pretty(
                    &diags
                        .iter()
                        .map(|d| to_json(d, sources))
                        .collect::<Vec<_>>(),
                ),
            }
            .map_err(|e| Failure::usage(e.to_string()))?;
            print_stdout(&(text + "\n"))?;
        }
        LintFormat::Sarif => {
            let text = serde_json::to_string_pretty(&sarif(&diags, sources))
                .map_err(|e| Failure::usage(e.to_string()))?;
            print_stdout(&(text + "\n"))?;
        }
        LintFormat::Github => print_stdout(&github(&diags, sources))?,
    }
    let failing = errors > 0 || (args.deny == Some(Deny::Warnings) && warnings > 0);
    Ok(if failing { Exit::Problems } else { Exit::Ok })
}

/// One line of `--statistics --format json`.
#[derive(Serialize)]
struct StatJson {
    code: &'static str,
    name: &'static str,
    count: usize,
}

/// Diagnostics per code, most first (then in code order), as ruff's
/// `--statistics` counts them.
fn statistics(diags: &[Diagnostic]) -> Vec<(Code, usize)> {
    let mut counts: Vec<(Code, usize)> = Code::ALL.iter().map(|&c| (c, 0)).collect();
    for d in diags {
        counts[d.code.row()].1 += 1;
    }
    counts.retain(|(_, n)| *n > 0);
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.row().cmp(&b.0.row())));
    counts
}

/// `3  W404  unused-cfg-key`, one line per code, counts aligned.
fn statistics_text(diags: &[Diagnostic]) -> String {
    let counts = statistics(diags);
    let width = counts
        .iter()
        .map(|(_, n)| n.to_string().len())
        .max()
        .unwrap_or(1);
    counts
        .iter()
        .map(|(c, n)| format!("{n:>width$}  {}  {}\n", c.as_str(), c.name()))
        .collect()
}

/// Where the docs of every code are: the anchor of its entry in
/// docs/language.md, as GitHub renders the heading.
fn docs_anchor(id: &str, name: &str, severity: Severity) -> String {
    let severity = severity.as_str();
    format!(
        "docs/language.md#{}-{name}-{severity}",
        id.to_ascii_lowercase()
    )
}

/// A file name as a SARIF `uri` (a relative reference): `/` separators,
/// and the characters a URI cannot hold percent-encoded.
fn uri(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.replace('\\', "/").bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => out.push(b as char),
            b'-' | b'.' | b'_' | b'~' | b'/' | b':' | b'@' | b'!' | b'$' | b'&' | b'\'' => {
                out.push(b as char)
            }
            b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn region(span: crate::source::Span, sources: &SourceMap) -> (String, Json) {
    let file = sources.get(span.file);
    let (line, column) = file.line_col(span.start as usize);
    let (end_line, end_column) = file.line_col(span.end as usize);
    (
        uri(&file.name),
        json!({
            "startLine": line,
            "startColumn": column,
            "endLine": end_line,
            "endColumn": end_column,
        }),
    )
}

/// The diagnostics as one SARIF 2.1.0 log: one run, every code as a rule
/// of the driver, each diagnostic a result with its place, its secondary
/// places and its fix. Columns count characters (`unicodeCodePoints`).
fn sarif(diags: &[Diagnostic], sources: &SourceMap) -> Json {
    let rules: Vec<Json> = CODES
        .iter()
        .map(|def| {
            let docs = docs_anchor(def.id, def.name, def.severity);
            let mut rule = json!({
                "id": def.id,
                "name": def.name,
                "shortDescription": { "text": def.summary },
                "fullDescription": { "text": format!("{} ({}).", def.summary, def.name) },
                "help": {
                    "text": format!("{}: {}. Documented with an example in {docs}.", def.id, def.summary),
                    "markdown": format!("{}: {}. See [{} in the docs]({docs}).", def.id, def.summary, def.id),
                },
                "defaultConfiguration": { "level": def.severity.as_str() },
                "properties": { "documentation": docs },
            });
            // An absolute link needs the crate's `repository` (Cargo.toml);
            // without one the docs are named by their path in the repository.
            let repo = env!("CARGO_PKG_REPOSITORY").trim_end_matches('/');
            if repo.starts_with("https://") {
                rule["helpUri"] = json!(format!("{repo}/blob/HEAD/{docs}"));
            }
            rule
        })
        .collect();
    let results: Vec<Json> = diags
        .iter()
        .map(|d| {
            let (file, reg) = region(d.span, sources);
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text = format!("{text}\nhelp: {h}");
            }
            let mut result = json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": d.code.row(),
                "level": d.severity().as_str(),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": file },
                        "region": reg,
                    },
                    "message": { "text": if d.label.is_empty() { d.message.clone() } else { d.label.clone() } },
                }],
            });
            if !d.notes.is_empty() {
                result["relatedLocations"] = d
                    .notes
                    .iter()
                    .enumerate()
                    .map(|(k, (span, note))| {
                        let (file, reg) = region(*span, sources);
                        json!({
                            "id": k,
                            "physicalLocation": {
                                "artifactLocation": { "uri": file },
                                "region": reg,
                            },
                            "message": { "text": note },
                        })
                    })
                    .collect();
            }
            if let Some(fix) = &d.fix {
                let (file, reg) = region(fix.span, sources);
                result["fixes"] = json!([{
                    "description": { "text": d.help.clone().unwrap_or_default() },
                    "artifactChanges": [{
                        "artifactLocation": { "uri": file },
                        "replacements": [{
                            "deletedRegion": reg,
                            "insertedContent": { "text": fix.replacement },
                        }],
                    }],
                }]);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "glyphsieve",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// A workflow command's message: `%`, CR and LF escaped.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One GitHub Actions workflow command per diagnostic
/// (`::warning file=..,line=..,col=..,endLine=..,endColumn=..,title=CODE::CODE message`),
/// which the runner shows as an annotation on the file.
fn github(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags {
        let file = sources.get(d.span.file);
        let (line, col) = file.line_col(d.span.start as usize);
        let (end_line, end_col) = file.line_col(d.span.end as usize);
        let mut message = format!("{} {}", d.code.as_str(), d.message);
        if let Some(h) = &d.help {
            message = format!("{message}\nhelp: {h}");
        }
        out.push_str(&format!(
            "::{} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}\n",
            d.severity().as_str(),
            escape_property(&file.name),
            escape_property(d.code.as_str()),
            escape_data(&message)
        ));
    }
    out
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

//! What stops `eval` and `tag-quantization` once the rules are checked (a
//! bad cell, a ragged record, a missing column, an output that cannot be
//! written) as a diagnostic with a code: rendered like the others
//! (`error[CODE(name)]: message`, the place, help), or as the JSON of
//! `lint --format json` with `--format json`.

use super::args::Format;
use super::lint::failure_json;
use super::{Exit, Failure, LoadFailure};
use crate::data::pipeline::DataError;
use crate::diagnostic::{Code, Diagnostic, Severity, to_json};
use crate::source::SourceMap;
use serde::Serialize;

/// How a command shows its diagnostics on stderr.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub json: bool,
}

impl Style {
    pub fn new(format: Format, color: bool) -> Style {
        Style {
            color,
            json: format == Format::Json,
        }
    }

    /// Rule diagnostics: miette's report, or one JSON array on one line.
    pub fn rules(self, diags: &[Diagnostic], sources: &SourceMap) -> String {
        if !self.json {
            return crate::diagnostic::render_human(diags, sources, self.color);
        }
        let json: Vec<_> = diags.iter().map(|d| to_json(d, sources)).collect();
        serde_json::to_string(&json).unwrap_or_default() + "\n"
    }

    /// A load failure (E601 to E604), as `lint` shows it in each format.
    pub fn load(self, f: Box<LoadFailure>) -> Failure {
        if !self.json {
            return f.into();
        }
        Failure {
            message: String::new(),
            rendered: Some(serde_json::to_string(&[failure_json(&f)]).unwrap_or_default() + "\n"),
            exit: f.exit,
        }
    }

    /// A failure that is still a bare message (a bad `--only`, ...): in
    /// JSON, an E604 `bad-argument`.
    pub fn finish(self, f: Failure) -> Failure {
        if !self.json || f.rendered.is_some() || f.message.is_empty() {
            return f;
        }
        Problem {
            code: Code::BadArgument,
            text: f.message.clone(),
            message: f.message,
            file: None,
            line: None,
            label: String::new(),
            help: None,
            exit: f.exit,
        }
        .failure(self)
    }
}

/// One problem with the data or the output: its code, message (without
/// the place), place and help.
#[derive(Debug)]
pub struct Problem {
    pub code: Code,
    /// For people: the message after its place, `file:line: ...`, as an
    /// editor or grep reads it.
    pub text: String,
    /// For JSON: the message alone (the place has keys of its own).
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u64>,
    pub label: String,
    pub help: Option<String>,
    pub exit: Exit,
}

impl Problem {
    /// `DataError`'s own text says it all; its leading `file:line: ` moves
    /// to the report's place line.
    pub fn data(e: &DataError) -> Problem {
        let text = e.to_string();
        let (code, file, line, label, help, exit) = match e {
            DataError::Io { file, .. } => (
                Code::UnreadableInput,
                Some(file),
                None,
                "cannot be read",
                None,
                Exit::CouldNotRun,
            ),
            DataError::Write { target, .. } => (
                Code::CannotWrite,
                Some(target),
                None,
                "cannot be written",
                None,
                Exit::CouldNotRun,
            ),
            DataError::UnknownColumn { file, .. } => (
                Code::BadArgument,
                Some(file),
                None,
                "not in the header",
                None,
                Exit::CouldNotRun,
            ),
            DataError::Cell { file, line, .. } => (
                Code::BadCell,
                Some(file),
                Some(*line),
                "this cell",
                Some(
                    "correct the cell, or pass --lenient to count cells that do not parse as missing",
                ),
                Exit::Problems,
            ),
            DataError::Ragged { file, line, .. } => (
                Code::RaggedRecord,
                Some(file),
                Some(*line),
                "this record",
                Some("a cell that holds a comma must be quoted: \"a, b\""),
                Exit::Problems,
            ),
            DataError::MissingColumn { file, .. } => (
                Code::MissingColumn,
                Some(file),
                Some(1),
                "the header",
                Some(
                    "rename the column, or add its name to the field's `columns` in a --schema file",
                ),
                Exit::Problems,
            ),
            DataError::OutputExists { file, .. } | DataError::DuplicateColumn { file, .. } => (
                Code::ColumnConflict,
                Some(file),
                Some(1),
                "the header",
                None,
                Exit::Problems,
            ),
            DataError::NoHeader { file } => (
                Code::MalformedCsv,
                Some(file),
                None,
                "empty input",
                None,
                Exit::Problems,
            ),
            DataError::UnclosedQuote { file, line, .. } => (
                Code::MalformedCsv,
                Some(file),
                Some(*line),
                "unclosed quote",
                None,
                Exit::Problems,
            ),
            DataError::RecordTooLong { file, line, .. } => (
                Code::MalformedCsv,
                Some(file),
                Some(*line),
                "record too long",
                None,
                Exit::Problems,
            ),
            DataError::Encoding { file, .. } => (
                Code::MalformedCsv,
                Some(file),
                Some(1),
                "not UTF-8",
                None,
                Exit::Problems,
            ),
            // Shown with its rule's source by the caller when it has one.
            DataError::Eval { file, line, .. } => (
                Code::Overflow,
                Some(file),
                Some(*line),
                "overflow",
                None,
                Exit::Problems,
            ),
            // A heuristic (a library user's) reads a field the schema lacks.
            DataError::UnknownField { .. } => {
                (Code::BadSchema, None, None, "", None, Exit::Problems)
            }
        };
        let message = strip_place(&text, file.map(String::as_str), line);
        Problem {
            code,
            message,
            text,
            file: file.cloned(),
            line,
            label: label.to_string(),
            help: help.map(String::from),
            exit,
        }
    }

    /// The output cannot be written (`-o` is the input, a directory, ...).
    pub fn output(message: String) -> Problem {
        Problem {
            code: Code::CannotWrite,
            text: message.clone(),
            message,
            file: None,
            line: None,
            label: "cannot be written".to_string(),
            help: None,
            exit: Exit::CouldNotRun,
        }
    }

    /// An input file that cannot be opened.
    pub fn unreadable(file: String, message: String) -> Problem {
        Problem {
            code: Code::UnreadableInput,
            text: message.clone(),
            message,
            file: Some(file),
            line: None,
            label: "cannot be read".to_string(),
            help: None,
            exit: Exit::CouldNotRun,
        }
    }

    pub fn failure(self, style: Style) -> Failure {
        let rendered = match style.json {
            true => serde_json::to_string(&[self.json()]).unwrap_or_default() + "\n",
            false => self.human(style.color),
        };
        Failure {
            message: String::new(),
            rendered: Some(rendered),
            exit: self.exit,
        }
    }

    /// As `render_human` draws a report without source: `error[E701(bad-cell)]:
    /// file:line: message`, then `  help: ...`.
    fn human(&self, color: bool) -> String {
        let error = match color {
            true => "\u{1b}[1;31merror\u{1b}[0m",
            false => "error",
        };
        let mut out = format!(
            "{error}[{}({})]: {}\n",
            self.code.as_str(),
            self.code.name(),
            self.text
        );
        if let Some(h) = &self.help {
            out += &format!("  help: {h}\n");
        }
        out
    }

    fn json(&self) -> ProblemJson<'_> {
        ProblemJson {
            code: self.code.as_str(),
            name: self.code.name(),
            severity: Severity::Error,
            message: &self.message,
            file: self.file.as_deref(),
            line: self.line,
            column: None,
            end_line: self.line,
            end_column: None,
            label: &self.label,
            help: self.help.as_deref(),
            related: [],
        }
    }
}

/// `file:line: message` or `file: message` as `message`.
fn strip_place(text: &str, file: Option<&str>, line: Option<u64>) -> String {
    let Some(file) = file else {
        return text.to_string();
    };
    let with_line = line.map(|l| format!("{file}:{l}: "));
    with_line
        .as_deref()
        .and_then(|p| text.strip_prefix(p))
        .or_else(|| text.strip_prefix(&format!("{file}: ")))
        .unwrap_or(text)
        .to_string()
}

/// The JSON shape of a diagnostic (docs/language.md); a record has a line
/// but no column.
#[derive(Serialize)]
struct ProblemJson<'a> {
    code: &'static str,
    name: &'static str,
    severity: Severity,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<u64>,
    column: Option<u64>,
    end_line: Option<u64>,
    end_column: Option<u64>,
    label: &'a str,
    help: Option<&'a str>,
    related: [(); 0],
}

#[cfg(test)]
mod tests {
    use super::strip_place;

    #[test]
    fn the_place_moves_out_of_the_message() {
        assert_eq!(strip_place("a.csv:3: bad", Some("a.csv"), Some(3)), "bad");
        assert_eq!(strip_place("a.csv: bad", Some("a.csv"), Some(1)), "bad");
        assert_eq!(
            strip_place("cannot write x: e", Some("x"), None),
            "cannot write x: e"
        );
    }
}

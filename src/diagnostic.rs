//! Diagnostics: a stable code, a message, a labelled span and help, rendered
//! once as miette's graphical report or as JSON. Library code never prints.

use crate::source::{SourceMap, Span};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    /// `error` or `warning`, as reports and docs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Every diagnostic the checker can give. The code strings are stable:
/// editors and CI match on them. docs/language.md has an example of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    Syntax,
    TooDeep,
    LiteralOutOfRange,
    BadEscape,
    TooLarge,
    UnknownName,
    UnknownCfgKey,
    UnknownFunction,
    UnknownVariant,
    UnknownType,
    TypeMismatch,
    NumberAsBool,
    WrongArity,
    InvalidRegex,
    PatternNotLiteral,
    DuplicateName,
    Cycle,
    DivisionByZero,
    SelfComparison,
    UnusedLet,
    UnusedCfgKey,
    DanglingDoc,
    Overflow,
    // `lint --data`: what the data says about the rules.
    ConstantRule,
    LiteralNotInData,
    FieldAlwaysMissing,
    ThresholdOutOfRange,
    UnusedNullMarker,
    // lint could not check the rules: what `--format json` reports instead.
    BadConfig,
    BadSchema,
    UnreadableInput,
    BadArgument,
    CannotWrite,
    // eval and tag-quantization: the data cannot be read as the rules need it.
    BadCell,
    RaggedRecord,
    MissingColumn,
    MalformedCsv,
    ColumnConflict,
    NotInSql,
}

/// One diagnostic code: its stable text, its name, its severity and a
/// one-line summary (docs/language.md has the full entry and an example).
#[derive(Debug, Clone, Copy)]
pub struct CodeDef {
    pub code: Code,
    /// The stable code, e.g. `E101`.
    pub id: &'static str,
    /// A short kebab-case name, shown beside the code.
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
}

const fn code(code: Code, id: &'static str, name: &'static str, summary: &'static str) -> CodeDef {
    // Warnings are W-codes; the table states it once, here.
    let severity = if id.as_bytes()[0] == b'W' {
        Severity::Warning
    } else {
        Severity::Error
    };
    CodeDef {
        code,
        id,
        name,
        severity,
        summary,
    }
}

/// Every code, in [`Code`] order (a test holds the order; [`Code::row`] is
/// an exhaustive match, so a new variant does not compile without a row).
pub const CODES: [CodeDef; 39] = [
    code(
        Code::Syntax,
        "E001",
        "syntax-error",
        "the text does not follow the grammar",
    ),
    code(
        Code::TooDeep,
        "E002",
        "too-deep",
        "an expression nests past a limit",
    ),
    code(
        Code::LiteralOutOfRange,
        "E003",
        "literal-out-of-range",
        "an int literal does not fit in 64 bits, or a float literal is not finite",
    ),
    code(
        Code::BadEscape,
        "E004",
        "bad-escape",
        "a string has an unknown backslash escape",
    ),
    code(
        Code::TooLarge,
        "E006",
        "too-large",
        "an item or the run's rule text is past its size limit",
    ),
    code(
        Code::UnknownName,
        "E101",
        "unknown-name",
        "a bare name is not a rule, let, field or enum variant",
    ),
    code(
        Code::UnknownCfgKey,
        "E102",
        "unknown-cfg-key",
        "a `cfg.` path names a key the config does not have",
    ),
    code(
        Code::UnknownFunction,
        "E103",
        "unknown-function",
        "a call names no built-in function",
    ),
    code(
        Code::UnknownVariant,
        "E104",
        "unknown-variant",
        "a name is not a variant of the enum expected there",
    ),
    code(
        Code::UnknownType,
        "E105",
        "unknown-type",
        "a rule's type is not a built-in type or a declared enum",
    ),
    code(
        Code::TypeMismatch,
        "E201",
        "type-mismatch",
        "a value has the wrong type for its place",
    ),
    code(
        Code::NumberAsBool,
        "E202",
        "number-as-bool",
        "a number is used where a bool is needed",
    ),
    code(
        Code::WrongArity,
        "E203",
        "wrong-arity",
        "a function is called with the wrong number of arguments",
    ),
    code(
        Code::InvalidRegex,
        "E204",
        "invalid-regex",
        "the pattern of `matches` is not a valid regex, or too large",
    ),
    code(
        Code::PatternNotLiteral,
        "E205",
        "pattern-not-literal",
        "the pattern of `matches` is not a string literal",
    ),
    code(
        Code::DuplicateName,
        "E301",
        "duplicate-name",
        "two items, or two variants of an enum, have the same name",
    ),
    code(
        Code::Cycle,
        "E302",
        "cycle",
        "rules and lets depend on each other in a cycle",
    ),
    code(
        Code::DivisionByZero,
        "W401",
        "division-by-zero",
        "something is divided by a constant zero",
    ),
    code(
        Code::SelfComparison,
        "W402",
        "self-comparison",
        "a value is compared with an identical expression",
    ),
    code(
        Code::UnusedLet,
        "W403",
        "unused-let",
        "no rule or let uses this let",
    ),
    code(
        Code::UnusedCfgKey,
        "W404",
        "unused-cfg-key",
        "a config key no rule reads",
    ),
    code(
        Code::DanglingDoc,
        "W405",
        "dangling-doc",
        "a `##` doc comment has no item directly below it",
    ),
    code(
        Code::Overflow,
        "E501",
        "overflow",
        "arithmetic overflows, on a row or in a constant expression",
    ),
    code(
        Code::ConstantRule,
        "W501",
        "constant-rule",
        "`lint --data`: a rule has one value on every row of the data",
    ),
    code(
        Code::LiteralNotInData,
        "W502",
        "literal-not-in-data",
        "`lint --data`: a string literal never occurs in its column, a case or space variant does",
    ),
    code(
        Code::FieldAlwaysMissing,
        "W503",
        "field-always-missing",
        "`lint --data`: a field the rules read is missing on every row",
    ),
    code(
        Code::ThresholdOutOfRange,
        "W504",
        "threshold-out-of-range",
        "`lint --data`: a comparison with a constant is never true, or always true, on the data's range",
    ),
    code(
        Code::UnusedNullMarker,
        "W505",
        "unused-null-marker",
        "`lint --data`: a null marker the user declared never occurs in its column",
    ),
    code(
        Code::BadConfig,
        "E601",
        "bad-config",
        "the `--config` file is not a valid config",
    ),
    code(
        Code::BadSchema,
        "E602",
        "bad-schema",
        "the `--schema` file is not a valid schema",
    ),
    code(
        Code::UnreadableInput,
        "E603",
        "unreadable-input",
        "a rule path, config or schema file cannot be read",
    ),
    code(
        Code::BadArgument,
        "E604",
        "bad-argument",
        "a `--set` or other argument is malformed",
    ),
    code(
        Code::CannotWrite,
        "E605",
        "cannot-write",
        "the output cannot be written",
    ),
    code(
        Code::BadCell,
        "E701",
        "bad-cell",
        "a CSV cell a rule reads does not parse as its field's type",
    ),
    code(
        Code::RaggedRecord,
        "E702",
        "ragged-record",
        "a CSV record has more or fewer fields than the header",
    ),
    code(
        Code::MissingColumn,
        "E703",
        "missing-column",
        "no column of the header gives a field the rules read",
    ),
    code(
        Code::MalformedCsv,
        "E704",
        "malformed-csv",
        "the input is not CSV as glyphsieve reads it",
    ),
    code(
        Code::ColumnConflict,
        "E705",
        "column-conflict",
        "an output column is already in the input, or the header names a column twice",
    ),
    code(
        Code::NotInSql,
        "E801",
        "not-in-sql",
        "`compile --to sql` cannot give eval's values for this construct in the chosen dialect",
    ),
];

impl Code {
    /// Every code, taken from [`CODES`].
    pub const ALL: [Code; CODES.len()] = {
        let mut all = [Code::Syntax; CODES.len()];
        let mut i = 0;
        while i < CODES.len() {
            all[i] = CODES[i].code;
            i += 1;
        }
        all
    };

    /// This code's row in [`CODES`].
    pub fn row(self) -> usize {
        match self {
            Code::Syntax => 0,
            Code::TooDeep => 1,
            Code::LiteralOutOfRange => 2,
            Code::BadEscape => 3,
            Code::TooLarge => 4,
            Code::UnknownName => 5,
            Code::UnknownCfgKey => 6,
            Code::UnknownFunction => 7,
            Code::UnknownVariant => 8,
            Code::UnknownType => 9,
            Code::TypeMismatch => 10,
            Code::NumberAsBool => 11,
            Code::WrongArity => 12,
            Code::InvalidRegex => 13,
            Code::PatternNotLiteral => 14,
            Code::DuplicateName => 15,
            Code::Cycle => 16,
            Code::DivisionByZero => 17,
            Code::SelfComparison => 18,
            Code::UnusedLet => 19,
            Code::UnusedCfgKey => 20,
            Code::DanglingDoc => 21,
            Code::Overflow => 22,
            Code::ConstantRule => 23,
            Code::LiteralNotInData => 24,
            Code::FieldAlwaysMissing => 25,
            Code::ThresholdOutOfRange => 26,
            Code::UnusedNullMarker => 27,
            Code::BadConfig => 28,
            Code::BadSchema => 29,
            Code::UnreadableInput => 30,
            Code::BadArgument => 31,
            Code::CannotWrite => 32,
            Code::BadCell => 33,
            Code::RaggedRecord => 34,
            Code::MissingColumn => 35,
            Code::MalformedCsv => 36,
            Code::ColumnConflict => 37,
            Code::NotInSql => 38,
        }
    }

    pub fn def(self) -> &'static CodeDef {
        &CODES[self.row()]
    }

    /// The stable code, e.g. `E101`.
    pub fn as_str(self) -> &'static str {
        self.def().id
    }

    /// A short kebab-case name, shown beside the code.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn severity(self) -> Severity {
        self.def().severity
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_str())
    }
}

/// One problem found in a source, pointing at the exact text.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub span: Span,
    pub label: String,
    pub help: Option<String>,
    /// Secondary spans (a first definition, the rest of a cycle).
    pub notes: Vec<(Span, String)>,
    /// A replacement an editor can apply as it is (`&&` to `and`), when
    /// the help's advice is that exact edit.
    pub fix: Option<Fix>,
}

/// A machine-applicable edit: replace the text of `span` with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub span: Span,
    pub replacement: String,
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            span,
            label: String::new(),
            help: None,
            notes: Vec::new(),
            fix: None,
        }
    }

    /// The edit that applies the help: replace `span` with `replacement`.
    pub fn fix(mut self, span: Span, replacement: impl Into<String>) -> Diagnostic {
        self.fix = Some(Fix {
            span,
            replacement: replacement.into(),
        });
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn maybe_help(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    pub fn note(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.notes.push((span, text.into()));
        self
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// "did you mean" help: the nearest candidate, if one is near enough.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    nearest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// Text from a user's file made safe to print in a message: control and
/// bidirectional formatting characters written as escapes (`\u{1b}`, `\n`).
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    // Within a one-line message a line break is as unwelcome as a control.
    let risky = |c: char| crate::source::acts_on_terminal(c) || matches!(c, '\n' | '\r');
    if !text.chars().any(risky) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            // `\n`, `\u{1b}`: how Rust writes them, for controls.
            c if risky(c) && c.is_control() => out.extend(c.escape_debug()),
            c if risky(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `items` joined with commas, at most `max` of them, then how many more:
/// "a, b, c and 1,997 more". Keeps messages short whatever the input.
pub(crate) fn elide_list<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(AsRef::as_ref).collect();
    match items.len().saturating_sub(max) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// The candidate nearest to `name` by edit distance, if it is plausibly a
/// typo; a candidate that `name` begins (`min_vram` for `min_vram_gb`) counts.
pub(crate) fn nearest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let query = Query::new(name);
    candidates
        .into_iter()
        .filter_map(|c| query.distance(&c.to_lowercase()).map(|d| (d, c)))
        .filter(|(_, c)| *c != name)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

/// One "did you mean" question: the name, lowercased, and how far a typo
/// may stray from it.
struct Query {
    lower: String,
    chars: usize,
    limit: usize,
}

impl Query {
    fn new(name: &str) -> Query {
        let lower = name.to_lowercase();
        let chars = lower.chars().count();
        Query {
            limit: (name.chars().count() / 3).max(1),
            lower,
            chars,
        }
    }

    /// The distance to a lowercased candidate, if within the limit. A
    /// candidate that begins with the name counts as just within it.
    fn distance(&self, cand: &str) -> Option<usize> {
        let prefix = self.lower.len() >= 3 && cand.starts_with(&self.lower);
        if prefix {
            return Some(strsim::osa_distance(&self.lower, cand).min(self.limit));
        }
        let len = cand.chars().count();
        if len.abs_diff(self.chars) > self.limit {
            return None;
        }
        let d = strsim::osa_distance(&self.lower, cand);
        (d <= self.limit).then_some(d)
    }
}

/// Edit-distance work (characters compared) all "did you mean" searches of
/// one check may do together. Thousands of unknown names against thousands
/// of declared ones would otherwise cost seconds; past the budget, the
/// diagnostics are still reported, without suggestions.
pub(crate) const SUGGESTION_BUDGET: u64 = 10_000_000;

/// Names indexed for "did you mean": grouped by length, so a search compares
/// only names whose length is within the edit limit, and sorted, so the
/// names a query begins are found by binary search. Searches are memoised
/// and spend a budget their caller shares ([`SUGGESTION_BUDGET`]).
pub(crate) struct NameIndex {
    /// (lowercased, as written), sorted by the lowercased form.
    names: Vec<(String, String)>,
    /// Indices into `names`, by character count of the lowercased form.
    by_len: Vec<Vec<usize>>,
    memo: std::collections::HashMap<String, Option<usize>>,
}

impl NameIndex {
    pub fn new<'a>(candidates: impl IntoIterator<Item = &'a str>) -> NameIndex {
        let mut names: Vec<(String, String)> = candidates
            .into_iter()
            .map(|c| (c.to_lowercase(), c.to_string()))
            .collect();
        names.sort();
        names.dedup();
        let mut by_len: Vec<Vec<usize>> = Vec::new();
        for (i, (lower, _)) in names.iter().enumerate() {
            let n = lower.chars().count();
            if by_len.len() <= n {
                by_len.resize(n + 1, Vec::new());
            }
            by_len[n].push(i);
        }
        NameIndex {
            names,
            by_len,
            memo: std::collections::HashMap::new(),
        }
    }

    /// "did you mean `x`?" for `name`, as [`did_you_mean`] would say it.
    pub fn did_you_mean(&mut self, name: &str, budget: &mut u64) -> Option<String> {
        self.nearest(name, budget)
            .map(|c| format!("did you mean `{c}`?"))
    }

    /// The nearest name, as [`nearest`] would find it, while `budget` lasts.
    pub fn nearest(&mut self, name: &str, budget: &mut u64) -> Option<&str> {
        let found = match self.memo.get(name) {
            Some(found) => *found,
            None => {
                let found = self.search(name, budget);
                self.memo.insert(name.to_string(), found);
                found
            }
        };
        found.map(|i| self.names[i].1.as_str())
    }

    fn search(&self, name: &str, budget: &mut u64) -> Option<usize> {
        if *budget == 0 {
            return None;
        }
        let q = Query::new(name);
        let lo = q.chars.saturating_sub(q.limit);
        let hi = (q.chars + q.limit).min(self.by_len.len().saturating_sub(1));
        let near: &[Vec<usize>] = self.by_len.get(lo..=hi).unwrap_or(&[]);
        let prefixed = if q.lower.len() >= 3 {
            let from = self
                .names
                .partition_point(|(l, _)| l.as_str() < q.lower.as_str());
            from..from + self.names[from..].partition_point(|(l, _)| l.starts_with(&q.lower))
        } else {
            0..0
        };
        let picks = near.iter().flatten().copied().chain(prefixed);
        let mut best: Option<(usize, usize)> = None;
        for i in picks {
            let (lower, written) = &self.names[i];
            if written == name {
                continue;
            }
            let cost = (q.chars * lower.len()) as u64;
            if cost > *budget {
                *budget = 0;
                break;
            }
            *budget -= cost;
            let Some(d) = q.distance(lower) else { continue };
            let better = match best {
                None => true,
                Some((bd, bi)) => (d, written) < (bd, &self.names[bi].1),
            };
            if better {
                best = Some((d, i));
            }
        }
        best.map(|(_, i)| i)
    }
}

/// The JSON shape of a diagnostic: stable, documented in docs/language.md.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: &'a str,
    #[serde(flatten)]
    pub place: JsonPlace<'a>,
    pub label: &'a str,
    pub help: Option<&'a str>,
    /// Secondary places: a first definition, each step of a cycle.
    pub related: Vec<JsonRelated<'a>>,
    /// The edit that applies the help, when there is one (the key is left
    /// out otherwise, so diagnostics without one keep their shape).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<JsonFix<'a>>,
}

/// A machine-applicable edit: replace the text at the place with `replacement`.
#[derive(Debug, Serialize)]
pub struct JsonFix<'a> {
    pub replacement: &'a str,
    #[serde(flatten)]
    pub place: JsonPlace<'a>,
}

/// Where a span is: 1-based lines and columns, columns counting characters.
#[derive(Debug, Serialize)]
pub struct JsonPlace<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

#[derive(Debug, Serialize)]
pub struct JsonRelated<'a> {
    pub message: &'a str,
    #[serde(flatten)]
    pub place: JsonPlace<'a>,
}

fn place(span: Span, sources: &SourceMap) -> JsonPlace<'_> {
    let file = sources.get(span.file);
    let (line, column) = file.line_col(span.start as usize);
    let (end_line, end_column) = file.line_col(span.end as usize);
    JsonPlace {
        file: &file.name,
        line,
        column,
        end_line,
        end_column,
    }
}

pub fn to_json<'a>(d: &'a Diagnostic, sources: &'a SourceMap) -> JsonDiagnostic<'a> {
    JsonDiagnostic {
        code: d.code.as_str(),
        name: d.code.name(),
        severity: d.severity(),
        message: &d.message,
        place: place(d.span, sources),
        label: &d.label,
        help: d.help.as_deref(),
        related: d
            .notes
            .iter()
            .map(|(span, message)| JsonRelated {
                message,
                place: place(*span, sources),
            })
            .collect(),
        fix: d.fix.as_ref().map(|f| JsonFix {
            replacement: &f.replacement,
            place: place(f.span, sources),
        }),
    }
}

/// A diagnostic joined to its source, for miette's renderer.
#[derive(Debug)]
struct Rendered {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    source: crate::source::Windowed,
    labels: Vec<miette::LabeledSpan>,
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// Render diagnostics as miette's graphical report; `color` picks the theme.
pub fn render_human(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for d in diags {
        let file = sources.get(d.span.file);
        if spans_reach_far(d, sources) {
            out.push_str(&render_plain(d, sources));
            continue;
        }
        let mut labels = vec![miette::LabeledSpan::new_primary_with_span(
            Some(d.label.clone()).filter(|l| !l.is_empty()),
            (d.span.start as usize, d.span.len()),
        )];
        let mut help = d.help.clone();
        for (span, text) in &d.notes {
            if span.file == d.span.file {
                labels.push(miette::LabeledSpan::new_with_span(
                    Some(text.clone()),
                    (span.start as usize, span.len()),
                ));
            } else {
                let other = sources.get(span.file);
                let (line, col) = other.line_col(span.start as usize);
                let note = format!("{text} ({}:{line}:{col})", other.name);
                help = Some(match help {
                    Some(h) => format!("{h}\n{note}"),
                    None => note,
                });
            }
        }
        let rendered = Rendered {
            message: d.message.clone(),
            code: format!("{}({})", d.code.as_str(), d.code.name()),
            severity: match d.severity() {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            help,
            source: file.windowed(),
            labels,
        };
        let _ = handler.render_report(&mut out, &rendered);
    }
    out
}

/// Longest line miette draws. Past 65535 columns it panics, and a very long
/// line (a generated rule file on one line) would be printed whole for each
/// diagnostic on it: such reports are plain text instead.
const MAX_DRAWN_LINE: usize = 10_000;

fn spans_reach_far(d: &Diagnostic, sources: &SourceMap) -> bool {
    std::iter::once(d.span)
        .chain(d.notes.iter().map(|(s, _)| *s))
        .any(|span| sources.get(span.file).widest_line(span, 1) > MAX_DRAWN_LINE)
}

/// A report without the source drawn: `file:line:col`, message, label, help.
fn render_plain(d: &Diagnostic, sources: &SourceMap) -> String {
    let j = to_json(d, sources);
    let mut out = format!(
        "{}[{}({})]: {}\n  --> {}:{}:{}\n",
        j.severity.as_str(),
        j.code,
        j.name,
        j.message,
        j.place.file,
        j.place.line,
        j.place.column
    );
    if !j.label.is_empty() {
        out.push_str(&format!("  = {}\n", j.label));
    }
    for r in &j.related {
        out.push_str(&format!(
            "  = {} ({}:{}:{})\n",
            r.message, r.place.file, r.place.line, r.place.column
        ));
    }
    if let Some(h) = j.help {
        out.push_str(&format!("  help: {h}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_columns_get_a_plain_report_not_a_panic() {
        let mut sources = SourceMap::new();
        let text = format!("rule r: int = {}x", "1 + ".repeat(30_000));
        let file = sources.add("long.rule", text.clone());
        let at = text.len() - 1;
        let d = Diagnostic::new(
            Code::UnknownName,
            Span::new(file, at, at + 1),
            "unknown name `x`",
        )
        .label("not a field, rule or let");
        let out = render_human(&[d], &sources, false);
        assert!(
            out.starts_with("error[E101(unknown-name)]: unknown name `x`\n  --> long.rule:1:"),
            "{out}"
        );
    }

    #[test]
    fn code_table_has_one_row_per_variant_in_order() {
        for (i, def) in CODES.iter().enumerate() {
            assert_eq!(def.code.row(), i, "row {i} is {}", def.id);
            assert_eq!(Code::ALL[i], def.code);
            let warning = def.severity == Severity::Warning;
            assert_eq!(warning, def.id.starts_with('W'), "{}", def.id);
            assert!(!def.summary.is_empty() && !def.summary.contains('\n'));
        }
    }

    #[test]
    fn every_code_row_has_its_entry_in_the_docs() {
        let docs = include_str!("../docs/language.md");
        for def in &CODES {
            let severity = match def.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let heading = format!("#### {} `{}` ({severity})", def.id, def.name);
            assert!(
                docs.contains(&heading),
                "docs/language.md lacks `{heading}`"
            );
        }
    }

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {c}");
        }
    }

    #[test]
    fn name_index_agrees_with_nearest() {
        let names = [
            "vram_gb",
            "tdp_watts",
            "mig_support",
            "min_vram_gb",
            "Price",
            "price_usd",
            "a",
            "ab",
        ];
        let mut index = NameIndex::new(names);
        let mut budget = SUGGESTION_BUDGET;
        for q in [
            "vram_bg", "tdp_watt", "price", "min_vram", "PRICE", "b", "abc", "zzz", "mig", "",
        ] {
            assert_eq!(index.nearest(q, &mut budget), nearest(q, names), "{q}");
        }
    }

    /// Regression: 5,000 unknown names against 5,000 rules took 17 s, every
    /// error searched every name. The index compares only names of a near
    /// length, and a budget caps the total.
    #[test]
    fn many_suggestions_stay_within_the_budget() {
        let names: Vec<String> = (0..20_000).map(|i| format!("r{i}")).collect();
        let mut index = NameIndex::new(names.iter().map(String::as_str));
        let mut budget = SUGGESTION_BUDGET;
        for i in 0..20_000 {
            index.nearest(&format!("x{i}"), &mut budget);
        }
        assert_eq!(budget, 0, "the budget ran out and searching stopped");
        assert_eq!(
            index.nearest("r1x", &mut budget),
            None,
            "no more searches once spent"
        );
        let mut fresh = SUGGESTION_BUDGET;
        assert_eq!(index.nearest("r1x", &mut fresh), None, "memoised");
        assert_eq!(index.nearest("r12x", &mut fresh), Some("r12"));
    }

    #[test]
    fn nearest_finds_typos_only() {
        let names = ["vram_gb", "tdp_watts", "mig_support"];
        assert_eq!(nearest("vram_bg", names), Some("vram_gb"));
        assert_eq!(nearest("tdp_watt", names), Some("tdp_watts"));
        assert_eq!(nearest("price", names), None);
    }
}

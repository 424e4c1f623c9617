//! `glyphsieve diff`: the same data under two rule sets or two configs, in
//! one streaming pass: per rule, the rows that changed and a from→to table.
//!
//! "Before" is RULES with `--config`/`--set`; "after" is `--to-rules`
//! (default: RULES) with `--to-config` (default: the same config), the same
//! `--set`s, then each `--to-set`. Both programs run on each row of one
//! pipeline run ([`Job::compare`] counts the pairs; a filter keeps the rows
//! where one changed, written with `-o` as `R.before`, `R.after` columns).

use super::args::{DiffArgs, Format};
use super::inputs::{Rules, Sources};
use super::lint::plural;
use super::output::{self, OutputError};
use super::{Exit, Failure, Inputs, print_stdout};
use crate::data::pipeline::{
    Class, DataError, Job, PairTally, Summary, fields_read, run, values_differ,
};
use crate::diagnostic::{Code, Diagnostic, did_you_mean, render_human};
use crate::eval::{EvalError, Row, Value};
use crate::heuristic::{Heuristic, OutputType, RuleHeuristic, Written};
use crate::rules::RuleSet;
use crate::source::FileId as SourceId;
use serde_json::{Value as Json, json};
use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// Set in the file id of an error's span raised on the after side: the two
/// sides have source maps of their own, and the error is rendered with its
/// side's (a rule set has far fewer files than this).
const AFTER_FILE: u32 = 1 << 31;

pub fn diff(args: DiffArgs, before: Inputs, color: bool) -> Result<Exit, Failure> {
    let after = load_after(&args, &before)?;
    let before_set = build(&before, color, None, "before")?;
    let after_set = build(&after, color, Some(&before_set), "after")?;
    let (b_all, a_all) = (before_set.heuristics(), after_set.heuristics());
    let chosen = Chosen::pick(&args.only, &b_all, &a_all)?;

    fn side<'h>(h: &'h RuleHeuristic, after: bool, suffix: &str) -> Side<'h> {
        Side {
            name: format!("{}{suffix}", h.name()),
            rule: h,
            after,
        }
    }
    let common: Vec<[Side; 2]> = chosen
        .common
        .iter()
        .map(|&(b, a)| [side(b, false, ".before"), side(a, true, ".after")])
        .collect();
    // A rule on one side only is compared with itself: its table's
    // diagonal is its counts.
    let removed: Vec<Side> = chosen.removed.iter().map(|&b| side(b, false, "")).collect();
    let added: Vec<Side> = chosen.added.iter().map(|&a| side(a, true, "")).collect();
    let mut compare: Vec<[&dyn Heuristic; 2]> = Vec::new();
    compare.extend(common.iter().map(|[b, a]| [b as &dyn Heuristic, a]));
    compare.extend(removed.iter().map(|s| [s as &dyn Heuristic, s]));
    compare.extend(added.iter().map(|s| [s as &dyn Heuristic, s]));
    let changed = Changed {
        pairs: common.iter().map(|[b, a]| [b, a]).collect(),
    };
    // Without `-o` the changed rows go nowhere: no columns to make.
    let columns: Vec<&dyn Heuristic> = match args.output.output {
        Some(_) => common
            .iter()
            .flat_map(|[b, a]| [b as &dyn Heuristic, a])
            .collect(),
        None => Vec::new(),
    };

    // Each side's schema is its `--schema` plus its rule files' `field`
    // declarations; one row is read for both programs, so they must agree.
    if after_set.schema != before_set.schema {
        return Err(Failure::problem(
            "the before and after rules declare different fields (`field ...`); diff reads each row once for both sides, so both must declare the same fields",
        ));
    }
    let schema = before_set.schema.clone();
    let fields = fields_read(&columns, &schema).map_err(|e| Failure::problem(e.to_string()))?;
    let out = &args.output;
    let job = Job {
        heuristics: columns,
        filters: vec![&changed],
        compare,
        schema,
        fields,
        input_name: String::new(),
        output_name: String::new(),
        replace: out.replace,
        lenient: out.lenient,
        progress: None,
        threads: out.threads(),
        max_record_bytes: out.max_record_bytes,
        tally_values: false,
        // `--columns` and `--output-format` shape the changed rows as they
        // shape eval's.
        shape: super::run::shape(out, out.output.as_deref().filter(|p| *p != Path::new("-")))?,
        profile: Vec::new(),
        row_at_a_time: false,
    };
    let csv_to_stdout = out.output.as_deref() == Some(Path::new("-"));
    let Some(summary) = stream(&args, job, csv_to_stdout)
        .map_err(|e| failure(e, &before_set, &after_set, color))?
    else {
        // stdout was closed early (`| head`): no report of a partial run.
        return Ok(Exit::Ok);
    };
    super::run::report_lenient(&summary);
    let report = Report {
        args: &args,
        summary: &summary,
        chosen: &chosen,
    };
    let text = match args.format {
        Format::Human => report.human(),
        Format::Json => format!("{}\n", report.json()),
    };
    // The report goes to stdout, unless the changed rows do (`-o -`).
    if csv_to_stdout {
        eprint!("{text}");
    } else {
        print_stdout(&text)?;
    }
    Ok(Exit::Ok)
}

/// The after side's inputs: `--to-rules` (default: RULES), `--to-config`
/// (default: `--config`), the `--set`s, then each `--to-set`. The schema is
/// the before side's: both programs read one row.
fn load_after(args: &DiffArgs, before: &Inputs) -> Result<Inputs, Failure> {
    // `--to-config` takes the place of the `--config` layers; the built-in
    // defaults and the project file stay under it.
    let config = super::args::ConfigArgs {
        config: match &args.to_config {
            Some(c) => vec![c.clone()],
            None => args.config.config.clone(),
        },
        set: args.config.set.clone(),
        schema: args.config.schema.clone(),
        no_project: args.config.no_project,
    };
    let rules = if args.to_rules.is_empty() {
        &args.rules
    } else {
        &args.to_rules
    };
    let mut after = Inputs::load(&Sources {
        rules: Rules::Files(rules),
        config: &config,
    })
    .map_err(Failure::from)?;
    after.schema = before.schema.clone();
    for s in &args.to_set {
        after.config.set(s).map_err(|mut e| {
            // Named as the user wrote it (`--to-set`), not as `--set`.
            e.file = format!("--to-set {s}");
            Failure::usage(e.to_string())
        })?;
    }
    Ok(after)
}

/// Check and compile one side, or fail with its rendered errors (exit 1).
/// Warnings are shown once: the after side's only when they differ from
/// the before side's (with the same rules they usually are the same).
fn build(
    inputs: &Inputs,
    color: bool,
    other: Option<&RuleSet>,
    name: &str,
) -> Result<RuleSet, Failure> {
    let set = inputs.rule_set();
    let errors: Vec<Diagnostic> = set
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if errors.is_empty() {
        let text = render_human(&set.diagnostics, &set.sources, color);
        let shown = other.map(|o| render_human(&o.diagnostics, &o.sources, color));
        if !set.diagnostics.is_empty() && shown.as_ref() != Some(&text) {
            eprint!("{text}");
        }
        return Ok(set);
    }
    Err(Failure {
        message: format!(
            "{} error{} in the rules of the {name} side; nothing was compared",
            errors.len(),
            plural(errors.len())
        ),
        rendered: Some(render_human(&errors, &set.sources, color)),
        exit: Exit::Problems,
    })
}

/// The rules compared: on both sides by name (before's order), and those
/// on one side only.
struct Chosen<'a> {
    common: Vec<(&'a RuleHeuristic, &'a RuleHeuristic)>,
    removed: Vec<&'a RuleHeuristic>,
    added: Vec<&'a RuleHeuristic>,
}

impl<'a> Chosen<'a> {
    /// All rules, or those `--only` names (each a rule on some side).
    fn pick(
        only: &[String],
        before: &'a [RuleHeuristic],
        after: &'a [RuleHeuristic],
    ) -> Result<Chosen<'a>, Failure> {
        for (k, name) in only.iter().enumerate() {
            if only[..k].contains(name) {
                return Err(Failure::usage(format!("--only names `{name}` twice")));
            }
            if !before.iter().chain(after).any(|h| h.name() == name) {
                let mut names: Vec<&str> = before.iter().map(|h| h.name()).collect();
                for h in after {
                    if !names.contains(&h.name()) {
                        names.push(h.name());
                    }
                }
                let hint = did_you_mean(name, names.iter().copied())
                    .unwrap_or_else(|| format!("the rules are {}", names.join(", ")));
                return Err(Failure::usage(format!(
                    "--only: no rule named `{name}` on either side; {hint}"
                )));
            }
        }
        let wanted = |h: &RuleHeuristic| only.is_empty() || only.iter().any(|n| n == h.name());
        let find = |set: &'a [RuleHeuristic], name: &str| set.iter().find(|h| h.name() == name);
        Ok(Chosen {
            common: before
                .iter()
                .filter(|b| wanted(b))
                .filter_map(|b| find(after, b.name()).map(|a| (b, a)))
                .collect(),
            removed: before
                .iter()
                .filter(|b| wanted(b) && find(after, b.name()).is_none())
                .collect(),
            added: after
                .iter()
                .filter(|a| wanted(a) && find(before, a.name()).is_none())
                .collect(),
        })
    }
}

/// A rule of one side, named as its column (`R.before`), its errors marked
/// with its side (see [`AFTER_FILE`]).
struct Side<'a> {
    rule: &'a RuleHeuristic,
    name: String,
    after: bool,
}

impl Side<'_> {
    fn mark(&self, mut e: EvalError) -> EvalError {
        if self.after {
            e.span.file = SourceId(e.span.file.0 | AFTER_FILE);
        }
        e
    }
}

impl Heuristic for Side<'_> {
    fn name(&self) -> &str {
        &self.name
    }
    fn output_type(&self) -> OutputType {
        self.rule.output_type()
    }
    fn fields(&self) -> Option<Vec<String>> {
        self.rule.fields()
    }
    fn evaluate(&self, row: &Row) -> Result<Value, EvalError> {
        self.rule.evaluate(row).map_err(|e| self.mark(e))
    }
    fn write_cell(&self, row: &Row, out: &mut Vec<u8>) -> Result<Written, EvalError> {
        self.rule.write_cell(row, out).map_err(|e| self.mark(e))
    }
}

/// The filter of the rows written: true where a compared rule's value
/// changed. Its evaluations are the row's memo hits (the pairs were just
/// evaluated for the counts).
struct Changed<'a> {
    pairs: Vec<[&'a Side<'a>; 2]>,
}

impl Heuristic for Changed<'_> {
    fn name(&self) -> &str {
        "changed"
    }
    fn output_type(&self) -> OutputType {
        OutputType::Bool
    }
    fn fields(&self) -> Option<Vec<String>> {
        let mut all = Vec::new();
        for s in self.pairs.iter().flatten() {
            all.extend(s.fields().unwrap_or_default());
        }
        Some(all)
    }
    fn evaluate(&self, row: &Row) -> Result<Value, EvalError> {
        for [b, a] in &self.pairs {
            if values_differ(&b.evaluate(row)?, &a.evaluate(row)?) {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(false))
    }
}

/// Run the job: the changed rows to `-o FILE`, to stdout (`-o -`), or
/// nowhere. `None`: stdout was closed before the end.
fn stream(
    args: &DiffArgs,
    mut job: Job,
    csv_to_stdout: bool,
) -> Result<Option<Summary>, OutputError> {
    let output::Input {
        reader: input,
        name: input_name,
        id: input_id,
        ..
    } = output::Input::open(&args.data).map_err(OutputError::Usage)?;
    job.input_name = input_name.clone();
    let file = args.output.output.as_deref().filter(|_| !csv_to_stdout);
    job.output_name = match (file, csv_to_stdout) {
        (Some(p), _) => p.display().to_string(),
        (None, true) => "<stdout>".to_string(),
        (None, false) => "<none>".to_string(),
    };
    match file {
        Some(path) => output::write_to(path, input_id, &input_name, |mut w| {
            run(input, &mut w, &job)
        })
        .map(Some),
        None if csv_to_stdout => {
            output::check_stdout(input_id, &input_name)?;
            output::run_to_stdout(input, &job)
        }
        // Only the counts: the rows go nowhere.
        None => run(input, &mut io::sink(), &job)
            .map(Some)
            .map_err(OutputError::Data),
    }
}

fn failure(e: OutputError, before: &RuleSet, after: &RuleSet, color: bool) -> Failure {
    match e {
        OutputError::Usage(m) => Failure::usage(m),
        OutputError::Data(DataError::Eval {
            file,
            line,
            mut error,
        }) => {
            let (set, side) = if error.span.file.0 & AFTER_FILE != 0 {
                error.span.file = SourceId(error.span.file.0 & !AFTER_FILE);
                (after, "after")
            } else {
                (before, "before")
            };
            let d = Diagnostic::new(
                Code::Overflow,
                error.span,
                format!("{error} at {file}:{line} (the {side} side)"),
            )
            .label(error.what.to_string())
            .help("the row's values overflow a 64-bit integer or a float; guard the rule or use floats");
            Failure {
                message: String::new(),
                rendered: Some(render_human(&[d], &set.sources, color)),
                exit: Exit::Problems,
            }
        }
        OutputError::Data(e @ (DataError::Io { .. } | DataError::Write { .. })) => {
            Failure::usage(e.to_string())
        }
        OutputError::Data(other) => Failure::problem(other.to_string()),
    }
}

/// What a run found, in the order the compared pairs were given to the
/// job: the common rules, then the removed, then the added.
struct Report<'a> {
    args: &'a DiffArgs,
    summary: &'a Summary,
    chosen: &'a Chosen<'a>,
}

/// One compared rule, for the report.
struct Entry<'a> {
    name: &'a str,
    types: [OutputType; 2],
    tally: &'a PairTally,
}

impl Entry<'_> {
    /// A class as a word: `true`, a variant's name, `missing`, or `number`
    /// / `string` for the values a table does not tell apart.
    fn label(&self, c: Class, side: usize) -> String {
        let ty = &self.types[side];
        match c {
            Class::True => "true".into(),
            Class::False => "false".into(),
            Class::Missing => "missing".into(),
            Class::Variant(k) => match ty {
                OutputType::Enum(names) => names.get(k as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            },
            Class::Value => match ty {
                OutputType::String | OutputType::Enum(_) => "string".into(),
                _ => "number".into(),
            },
        }
    }

    /// One side's counts, in its type's order, with zeros for bools and
    /// variants so a reader sees every value.
    fn counts(&self, side: usize) -> Vec<(String, u64)> {
        let mut classes = match &self.types[side] {
            OutputType::Bool => vec![Class::True, Class::False],
            OutputType::Enum(names) => (0..names.len() as u32).map(Class::Variant).collect(),
            _ => vec![Class::Value],
        };
        classes.push(Class::Missing);
        let count = |c| match side {
            0 => self.tally.first(c),
            _ => self.tally.second(c),
        };
        classes
            .into_iter()
            .map(|c| (self.label(c, side), count(c)))
            .collect()
    }

    /// The changes, most rows first: `true → false 221`, `number up 12`.
    fn changes(&self) -> Vec<(String, String, u64)> {
        let mut out: Vec<(String, String, u64)> = self
            .tally
            .cells
            .iter()
            .filter(|(a, b, _)| a != b)
            .map(|&(a, b, n)| (self.label(a, 0), self.label(b, 1), n))
            .collect();
        let t = self.tally;
        let same_class = t.changed - out.iter().map(|c| c.2).sum::<u64>();
        let other = same_class - t.up - t.down;
        let value = self.label(Class::Value, 0);
        for (what, n) in [("higher", t.up), ("lower", t.down), ("another", other)] {
            if n > 0 {
                out.push((value.clone(), format!("{what} {value}"), n));
            }
        }
        out.sort_by_key(|c| std::cmp::Reverse(c.2));
        out
    }
}

fn type_name(ty: &OutputType) -> &'static str {
    match ty {
        OutputType::Bool => "bool",
        OutputType::Int => "int",
        OutputType::Float => "float",
        OutputType::String => "string",
        OutputType::Enum(_) => "enum",
    }
}

fn join_counts(c: &[(String, u64)]) -> String {
    let parts: Vec<String> = c.iter().map(|(l, n)| format!("{l} {n}")).collect();
    parts.join(", ")
}

impl Report<'_> {
    fn entries(&self) -> (Vec<Entry<'_>>, Vec<Entry<'_>>, Vec<Entry<'_>>) {
        let mut tallies = self.summary.pairs.iter();
        let mut take = |name, types| Entry {
            name,
            types,
            tally: tallies.next().unwrap_or(&EMPTY),
        };
        let common = (self.chosen.common.iter())
            .map(|(b, a)| take(b.name(), [b.output_type(), a.output_type()]))
            .collect();
        let removed = (self.chosen.removed.iter())
            .map(|h| take(h.name(), [h.output_type(), h.output_type()]))
            .collect();
        let added = (self.chosen.added.iter())
            .map(|h| take(h.name(), [h.output_type(), h.output_type()]))
            .collect();
        (common, removed, added)
    }

    /// What each side is, as the user gave it.
    fn sides(&self) -> (String, String) {
        let a = self.args;
        let paths = |ps: &[std::path::PathBuf]| {
            let v: Vec<String> = ps.iter().map(|p| p.display().to_string()).collect();
            v.join(" ")
        };
        let mut before = paths(&a.rules);
        for c in &a.config.config {
            let _ = write!(before, " --config {}", c.display());
        }
        for s in &a.config.set {
            let _ = write!(before, " --set {s}");
        }
        let mut after = if a.to_rules.is_empty() {
            paths(&a.rules)
        } else {
            paths(&a.to_rules)
        };
        let configs = match &a.to_config {
            Some(c) => std::slice::from_ref(c),
            None => a.config.config.as_slice(),
        };
        for c in configs {
            let _ = write!(after, " --config {}", c.display());
        }
        for s in &a.config.set {
            let _ = write!(after, " --set {s}");
        }
        for s in &a.to_set {
            let _ = write!(after, " --set {s}");
        }
        (before, after)
    }

    fn human(&self) -> String {
        let s = self.summary;
        let (before, after) = self.sides();
        let mut out = format!(
            "diff: {} rows read, {} changed\n  before: {before}\n  after:  {after}\n",
            s.rows, s.rows_written
        );
        let (common, removed, added) = self.entries();
        let mut unchanged = Vec::new();
        for e in &common {
            if e.tally.changed == 0 && e.types[0] == e.types[1] {
                unchanged.push(e.name);
                continue;
            }
            let ty = if e.types[0] == e.types[1] {
                type_name(&e.types[0]).to_string()
            } else {
                format!("{} -> {}", type_name(&e.types[0]), type_name(&e.types[1]))
            };
            let _ = writeln!(
                out,
                "\n{} ({ty}): {} row{} changed",
                e.name,
                e.tally.changed,
                plural(e.tally.changed as usize)
            );
            let _ = writeln!(out, "  before  {}", join_counts(&e.counts(0)));
            let _ = writeln!(out, "  after   {}", join_counts(&e.counts(1)));
            let changes = e.changes();
            let width = changes.iter().map(|c| c.0.len()).max().unwrap_or(0);
            let width2 = changes.iter().map(|c| c.1.len()).max().unwrap_or(0);
            for (from, to, n) in changes {
                let _ = writeln!(out, "  {from:width$} -> {to:width2$}  {n}");
            }
        }
        if !unchanged.is_empty() {
            let _ = writeln!(out, "\nunchanged: {}", unchanged.join(", "));
        }
        for (title, list) in [
            ("only before (removed)", &removed),
            ("only after (added)", &added),
        ] {
            for e in list {
                let _ = writeln!(
                    out,
                    "\n{title}: {} ({})  {}",
                    e.name,
                    type_name(&e.types[0]),
                    join_counts(&e.counts(0))
                );
            }
        }
        out
    }

    fn json(&self) -> Json {
        let s = self.summary;
        let (before, after) = self.sides();
        let (common, removed, added) = self.entries();
        let counts = |c: Vec<(String, u64)>| {
            Json::Object(c.into_iter().map(|(l, n)| (l, json!(n))).collect())
        };
        let rules: Vec<Json> = common
            .iter()
            .map(|e| {
                let table: Vec<Json> = e
                    .tally
                    .cells
                    .iter()
                    .map(
                        |&(a, b, n)| json!({"from": e.label(a, 0), "to": e.label(b, 1), "rows": n}),
                    )
                    .collect();
                json!({
                    "rule": e.name,
                    "type": {"before": type_name(&e.types[0]), "after": type_name(&e.types[1])},
                    "changed": e.tally.changed,
                    "before": counts(e.counts(0)),
                    "after": counts(e.counts(1)),
                    "table": table,
                    "higher": e.tally.up,
                    "lower": e.tally.down,
                })
            })
            .collect();
        let one_side = |list: &[Entry]| -> Vec<Json> {
            list.iter()
                .map(|e| {
                    json!({"rule": e.name, "type": type_name(&e.types[0]), "counts": counts(e.counts(0))})
                })
                .collect()
        };
        json!({
            "rows_read": s.rows,
            "rows_changed": s.rows_written,
            "before": before,
            "after": after,
            "rules": rules,
            "removed": one_side(&removed),
            "added": one_side(&added),
        })
    }
}

static EMPTY: PairTally = PairTally {
    cells: Vec::new(),
    changed: 0,
    up: 0,
    down: 0,
};

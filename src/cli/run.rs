//! `glyphsieve eval` and `glyphsieve tag-quantization`: rules over a CSV.

use super::args::{EvalArgs, Format, OutputArgs, OutputFormat as FormatArg, TagArgs};
use super::lint::plural;
use super::output::{self, OutputError};
use super::report::{Problem, Style};
use super::{Exit, Failure, Inputs};
use crate::check::fields;
use crate::data::pipeline::{DataError, Job, OutputFormat, Shape, Summary, run};
use crate::data::reader::header_from_fields;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::heuristic::{Heuristic, OutputType, RuleHeuristic};
use crate::rules::RuleSet;
use crate::schema::Schema;
use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::Path;
use std::sync::Arc;

/// `eval mine.rule` (one argument, a rule file or a folder): the data file
/// is missing, not the rules (clap takes the one argument as DATA, since
/// RULES may come from the project file).
pub fn missing_data(command: &str, rules: &[std::path::PathBuf], data: &Path) -> Option<String> {
    let rules_like = data.extension().is_some_and(|e| e == "rule") || data.is_dir();
    (rules.is_empty() && rules_like).then(|| {
        format!(
            "the DATA file is missing: `{}` is rules; give the CSV file after them: \
             `glyphsieve {command} RULES... DATA`",
            data.display()
        )
    })
}

pub fn eval(args: EvalArgs, inputs: Inputs, color: bool) -> Result<Exit, Failure> {
    let style = Style::new(args.format, color);
    eval_styled(args, inputs, style).map_err(|f| style.finish(f))
}

fn eval_styled(args: EvalArgs, inputs: Inputs, style: Style) -> Result<Exit, Failure> {
    let data = args.data;
    let set = build(&inputs, &args.wheres, Some(&data), style)?;
    let filters = set.filters();
    let all = set.heuristics();
    let mut chosen: Vec<&RuleHeuristic> = Vec::new();
    if args.only.is_empty() {
        chosen.extend(all.iter());
    } else {
        for (k, name) in args.only.iter().enumerate() {
            if args.only[..k].contains(name) {
                return Err(Failure::usage(format!("--only names `{name}` twice")));
            }
            match all.iter().find(|h| h.name() == name) {
                Some(h) => chosen.push(h),
                // A `--where` item's name is no let (nor a rule to write).
                None if !name.starts_with("--")
                    && set.program.items.iter().any(|i| i.name == *name) =>
                {
                    return Err(Failure::usage(format!(
                        "--only: `{name}` is a let, not a rule: lets are not written as columns"
                    )));
                }
                None => {
                    let names: Vec<&str> = all.iter().map(|h| h.name()).collect();
                    let hint = did_you_mean(name, names.iter().copied()).unwrap_or_else(|| {
                        match names.is_empty() {
                            true => "these rule files define no rules".to_string(),
                            false => format!("the rules are {}", names.join(", ")),
                        }
                    });
                    return Err(Failure::usage(format!(
                        "--only: no rule named `{name}`; {hint}"
                    )));
                }
            }
        }
    }
    let fields = fields_read(&set, &chosen);
    // `--why`: each why-column right after its rule (it reads the rule's fields).
    let whys = super::explain::why_columns(&set, &chosen, args.why.as_deref())?;
    let mut list: Vec<&dyn Heuristic> = Vec::with_capacity(chosen.len() + whys.len());
    for (k, h) in chosen.into_iter().enumerate() {
        list.push(h);
        list.extend(
            whys.iter()
                .filter(|(i, _)| *i == k)
                .map(|(_, w)| w as &dyn Heuristic),
        );
    }
    let chosen = list;
    let outputs: Vec<(String, OutputType)> = chosen
        .iter()
        .map(|h| (h.name().to_string(), h.output_type()))
        .collect();
    let format = match (args.quiet, args.summary, args.summary_format) {
        (true, _, _) => None,
        (_, _, Some(f)) => Some(f),
        (_, true, None) => Some(args.format),
        (_, false, None) => io::stderr().is_terminal().then_some(args.format),
    };
    if let Some(summary) = tag(
        &data,
        &args.output,
        chosen,
        filters.iter().map(|h| h as &dyn Heuristic).collect(),
        fields,
        &set.schema,
        &set,
        style,
        format.is_some(),
    )? {
        report_lenient_styled(&summary, style);
        match format {
            Some(Format::Human) => eprint!("{}", super::summary::human(&summary, &outputs)),
            Some(Format::Json) => eprintln!("{}", super::summary::json(&summary, &outputs)),
            None => {}
        }
    }
    Ok(Exit::Ok)
}

pub fn tag_quantization(args: TagArgs, inputs: Inputs, color: bool) -> Result<Exit, Failure> {
    let style = Style::new(args.format, color);
    tag_quantization_styled(args, inputs, style).map_err(|f| style.finish(f))
}

fn tag_quantization_styled(args: TagArgs, inputs: Inputs, style: Style) -> Result<Exit, Failure> {
    let set = build(&inputs, &[], None, style)?;
    let all = set.heuristics();
    let fields = fields_read(&set, &all.iter().collect::<Vec<_>>());
    let chosen: Vec<&dyn Heuristic> = all.iter().map(|h| h as &dyn Heuristic).collect();
    let Some(summary) = tag(
        &args.input,
        &args.output,
        chosen,
        Vec::new(),
        fields,
        &set.schema,
        &set,
        style,
        false,
    )?
    else {
        // stdout was closed early (`| head`): no summary of a partial run.
        return Ok(Exit::Ok);
    };
    let t = summary.tallies.first().cloned().unwrap_or_default();
    if style.json {
        let counts = serde_json::json!({
            "rows": summary.rows,
            "flagged": t.trues,
            "not_flagged": t.falses,
            "missing_data": summary.rows_missing_input,
        });
        eprintln!("{counts}");
        report_lenient_styled(&summary, style);
        return Ok(Exit::Ok);
    }
    eprintln!("rows          {}", summary.rows);
    eprintln!("flagged       {}", t.trues);
    eprintln!("not flagged   {}", t.falses);
    // Missing data is not a third outcome beside flagged and not flagged:
    // those rows are counted there too. Without VRAM or TDP the rule is
    // never true; without MIG only when `require_mig` is false.
    eprintln!(
        "missing data  {}  {MISSING_NOTE}",
        summary.rows_missing_input
    );
    report_lenient(&summary);
    Ok(Exit::Ok)
}

/// What `tag-quantization`'s "missing data" line counts, and where.
const MISSING_NOTE: &str = "(rows lacking VRAM, TDP or MIG, among those above: \
not flagged unless only MIG is missing and require_mig is false)";

/// Schema slots the chosen rules read, with what they depend on: only
/// these cells are parsed (and required in the header).
fn fields_read(set: &RuleSet, chosen: &[&RuleHeuristic]) -> Vec<usize> {
    match &set.compiled {
        Some(c) => c.fields_read_by(chosen.iter().map(|h| h.item())),
        None => Vec::new(),
    }
}

/// Check and compile, with `wheres` as hidden filter rules, or fail with
/// the rendered diagnostics (exit 1). `data`: the CSV the rules will read,
/// whose header can tell what an unknown name was meant to read.
pub(super) fn build(
    inputs: &Inputs,
    wheres: &[String],
    data: Option<&Path>,
    style: Style,
) -> Result<RuleSet, Failure> {
    let mut set = RuleSet::build_filtered(&inputs.texts, wheres, &inputs.schema, &inputs.config);
    if let Some(data) = data {
        add_header_hints(&mut set, data);
    }
    let errors: Vec<Diagnostic> = set
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if errors.is_empty() {
        // Warnings (W401 division by zero, ...) do not stop the run, but
        // they are shown once, before it, as `lint` would show them.
        let warnings = &set.diagnostics;
        if !warnings.is_empty() {
            eprint!("{}", style.rules(warnings, &set.sources));
        }
        return Ok(set);
    }
    // An error in a `--where` text is not in the rule files.
    let in_where = errors
        .iter()
        .any(|d| crate::rules::is_filter_item(&set.sources.get(d.span.file).name));
    // JSON has no closing line: the array is the whole report.
    let message = match style.json {
        true => String::new(),
        false => format!(
            "{} error{} in the rules{}; nothing was written",
            errors.len(),
            plural(errors.len()),
            if in_where { " or --where" } else { "" }
        ),
    };
    Err(Failure {
        message,
        rendered: Some(style.rules(&errors, &set.sources)),
        exit: Exit::Problems,
    })
}

/// For each unknown name (E101), what the data's header says about it: a
/// column of that name or near it, and the `field` declaration that reads
/// it. Reads only the header and the first row (to guess a type), and only
/// when there is an E101; stdin is never read here (it is read once, later).
fn add_header_hints(set: &mut RuleSet, data: &Path) {
    if data == Path::new("-") || !set.diagnostics.iter().any(|d| d.code == Code::UnknownName) {
        return;
    }
    let Some((header, sample)) = read_header(data) else {
        return;
    };
    let mut hints = fields::HeaderHints::new(header, sample);
    for d in set
        .diagnostics
        .iter_mut()
        .filter(|d| d.code == Code::UnknownName)
    {
        let text = &set.sources.get(d.span.file).text;
        let Some(name) = text.get(d.span.start as usize..d.span.end as usize) else {
            continue;
        };
        if let Some(hint) = hints.hint(name, &set.schema) {
            d.help = Some(match d.help.take() {
                // "did you mean" and other specific help stay, after the hint.
                Some(h) if !h.starts_with("fields come from") && !h.starts_with("column `") => {
                    format!("{hint}\n{h}")
                }
                _ => hint,
            });
        }
    }
}

/// The header names and the first row of a CSV file (at most its first
/// MiB is read); `None` when it cannot be read (the run reports that).
fn read_header(data: &Path) -> Option<(Vec<String>, Vec<String>)> {
    let file = File::open(data).ok()?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(file.take(1 << 20));
    let mut records = reader.byte_records();
    let text = |r: csv::ByteRecord| -> Vec<String> {
        r.iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    };
    let header = header_from_fields(&records.next()?.ok()?);
    let sample = records
        .next()
        .and_then(Result::ok)
        .map(text)
        .unwrap_or_default();
    Some((header, sample))
}

pub(super) fn report_lenient(summary: &Summary) {
    report_lenient_styled(
        summary,
        Style {
            color: false,
            json: false,
        },
    );
}

/// `--lenient`'s count of unreadable cells; in JSON one object on one
/// line: `{"lenient_bad_cells": N, "first": ["file:line: ...", ...]}`.
fn report_lenient_styled(summary: &Summary, style: Style) {
    if summary.bad_cells == 0 {
        return;
    }
    if style.json {
        let j = serde_json::json!({
            "lenient_bad_cells": summary.bad_cells,
            "first": summary.bad_examples,
        });
        eprintln!("{j}");
        return;
    }
    eprintln!(
        "--lenient: {} cell{} could not be read and counted as missing; the first:",
        summary.bad_cells,
        plural(summary.bad_cells as usize)
    );
    for e in &summary.bad_examples {
        eprintln!("  {e}");
    }
}

/// Run heuristics over `data` into stdout or `-o FILE` (see [`output`]).
/// `None`: stdout was closed before the end (a broken pipe is not an error).
// Each argument is one thing the two commands choose differently.
#[allow(clippy::too_many_arguments)]
fn tag(
    data: &Path,
    out: &OutputArgs,
    heuristics: Vec<&dyn Heuristic>,
    filters: Vec<&dyn Heuristic>,
    fields: Vec<usize>,
    schema: &Arc<Schema>,
    set: &RuleSet,
    style: Style,
    tally_values: bool,
) -> Result<Option<Summary>, Failure> {
    let output::Input {
        reader: input,
        name: input_name,
        size,
        id: input_id,
    } = output::Input::open(data).map_err(|message| {
        Problem::unreadable(data.display().to_string(), message).failure(style)
    })?;
    // `-o -` is stdout, as `-` is stdin on the input side.
    let output = out.output.as_deref().filter(|p| *p != Path::new("-"));
    if output.is_none() {
        output::check_stdout(input_id, &input_name).map_err(|e| data_failure(e, set, style))?;
    }
    let progress = size
        .filter(|&s| s > 32 << 20 && io::stderr().is_terminal())
        .map(|s| {
            let bar = indicatif::ProgressBar::new(s);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {eta}")
            {
                bar.set_style(style);
            }
            bar
        });
    let tick = |n: u64| {
        if let Some(p) = &progress {
            p.inc(n);
        }
    };
    let shape = shape(out, output)?;
    let job = Job {
        heuristics,
        filters,
        compare: Vec::new(),
        schema: schema.clone(),
        fields,
        input_name: input_name.clone(),
        output_name: output.map_or_else(|| "<stdout>".to_string(), |p| p.display().to_string()),
        replace: out.replace,
        lenient: out.lenient,
        progress: Some(&tick),
        threads: out.threads(),
        max_record_bytes: out.max_record_bytes,
        tally_values,
        shape,
        profile: Vec::new(),
        // For benchmarks comparing the two evaluation paths (see
        // docs/performance.md); the answers are the same either way.
        row_at_a_time: std::env::var_os("GLYPHSIEVE_ROW_AT_A_TIME").is_some(),
    };
    let result = match output {
        None => output::run_to_stdout(input, &job),
        Some(path) => output::write_to(path, input_id, &input_name, |mut w| {
            run(input, &mut w, &job)
        })
        .map(Some),
    };
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    result.map_err(|e| data_failure(e, set, style))
}

/// The output's shape from `--columns` and `--output-format` (or the
/// output file's extension). A column named twice is a bad argument.
pub(super) fn shape(out: &OutputArgs, output: Option<&Path>) -> Result<Shape, Failure> {
    if let Some(columns) = &out.columns {
        for (k, c) in columns.iter().enumerate() {
            if columns[..k].contains(c) {
                return Err(Failure::usage(format!(
                    "--columns names `{}` twice",
                    crate::diagnostic::printable(c)
                )));
            }
        }
    }
    let by_extension = output
        .and_then(Path::extension)
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson"));
    let format = match out.output_format {
        Some(FormatArg::Csv) => OutputFormat::Csv,
        Some(FormatArg::Jsonl) => OutputFormat::Jsonl,
        None if by_extension => OutputFormat::Jsonl,
        None => OutputFormat::Csv,
    };
    Ok(Shape {
        columns: out.columns.clone(),
        format,
    })
}

/// A run that stopped, as a diagnostic: an overflow points into the
/// rule's source; the rest are about the data or the output.
fn data_failure(e: OutputError, set: &RuleSet, style: Style) -> Failure {
    match e {
        OutputError::Usage(m) => Problem::output(m).failure(style),
        OutputError::Data(DataError::Eval { file, line, error }) => {
            let d = Diagnostic::new(Code::Overflow, error.span, format!("{} at {file}:{line}", error))
                .label(error.what.to_string())
                .help("the row's values overflow a 64-bit integer or a float; guard the rule or use floats");
            Failure {
                message: String::new(),
                rendered: Some(style.rules(&[d], &set.sources)),
                exit: Exit::Problems,
            }
        }
        // Reading or writing failed, or --columns names no column: exit 2;
        // the input's problems: exit 1 (the problem says which).
        OutputError::Data(e) => Problem::data(&e).failure(style),
    }
}

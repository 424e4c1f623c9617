//! `glyphsieve eval` and `glyphsieve tag-quantization`: rules over a CSV.

use super::args::{EvalArgs, OutputArgs, TagArgs};
use super::lint::plural;
use super::{Failure, OK, PROBLEMS, load_config, load_quantization_config, load_schema};
use crate::data::pipeline::{DataError, Job, Summary, run};
use crate::diagnostic::{Code, Diagnostic, did_you_mean, render_human};
use crate::heuristic::{Heuristic, RuleHeuristic};
use crate::rules::{
    QUANTIZATION_RULE, QUANTIZATION_RULE_NAME, RuleSet, read_rule_files, rule_files,
};
use crate::schema::Schema;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub fn eval(args: EvalArgs, color: bool) -> Result<i32, Failure> {
    let data = args.data;
    let files = rule_files(&args.rules).map_err(|e| Failure::usage(e.to_string()))?;
    let texts = read_rule_files(&files).map_err(|e| Failure::usage(e.to_string()))?;
    let schema = load_schema(args.schema.as_deref())?;
    let config = load_config(&args.config)?;
    let set = build(&texts, &schema, &config, color)?;
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
                None if set.program.items.iter().any(|i| i.name == *name) => {
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
    let chosen: Vec<&dyn Heuristic> = chosen.into_iter().map(|h| h as &dyn Heuristic).collect();
    if let Some(summary) = tag(&data, &args.output, chosen, fields, &schema, &set, color)? {
        report_lenient(&summary);
    }
    Ok(OK)
}

pub fn tag_quantization(args: TagArgs, color: bool) -> Result<i32, Failure> {
    let config = load_quantization_config(&args.config)?;
    let schema = Schema::listing();
    let texts = [(
        QUANTIZATION_RULE_NAME.to_string(),
        QUANTIZATION_RULE.to_string(),
    )];
    let set = build(&texts, &schema, &config, color)?;
    let all = set.heuristics();
    let fields = fields_read(&set, &all.iter().collect::<Vec<_>>());
    let chosen: Vec<&dyn Heuristic> = all.iter().map(|h| h as &dyn Heuristic).collect();
    let Some(summary) = tag(
        &args.input,
        &args.output,
        chosen,
        fields,
        &schema,
        &set,
        color,
    )?
    else {
        // stdout was closed early (`| head`): no summary of a partial run.
        return Ok(OK);
    };
    let t = summary.tallies.first().cloned().unwrap_or_default();
    eprintln!("rows          {}", summary.rows);
    eprintln!("flagged       {}", t.trues);
    eprintln!("not flagged   {}", t.falses);
    eprintln!(
        "missing data  {}  (rows lacking VRAM, TDP or MIG)",
        summary.rows_missing_input
    );
    report_lenient(&summary);
    Ok(OK)
}

/// Schema slots the chosen rules read, with what they depend on: only
/// these cells are parsed (and required in the header).
fn fields_read(set: &RuleSet, chosen: &[&RuleHeuristic]) -> Vec<usize> {
    match &set.compiled {
        Some(c) => c.fields_read_by(chosen.iter().map(|h| h.item())),
        None => Vec::new(),
    }
}

/// Check and compile, or fail with the rendered diagnostics (exit 1).
fn build(
    texts: &[(String, String)],
    schema: &Schema,
    config: &crate::config::Config,
    color: bool,
) -> Result<RuleSet, Failure> {
    let set = RuleSet::build(texts, schema, config);
    let errors: Vec<Diagnostic> = set
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if errors.is_empty() {
        return Ok(set);
    }
    Err(Failure {
        message: format!(
            "{} error{} in the rules; nothing was written",
            errors.len(),
            plural(errors.len())
        ),
        rendered: Some(render_human(&errors, &set.sources, color)),
        code: PROBLEMS,
    })
}

fn report_lenient(summary: &Summary) {
    if summary.bad_cells == 0 {
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

/// Run heuristics over `data` into stdout or `-o FILE` (atomically).
/// `None`: stdout was closed before the end (a broken pipe is not an error).
fn tag(
    data: &Path,
    out: &OutputArgs,
    heuristics: Vec<&dyn Heuristic>,
    fields: Vec<usize>,
    schema: &Arc<Schema>,
    set: &RuleSet,
    color: bool,
) -> Result<Option<Summary>, Failure> {
    let stdin = data == Path::new("-");
    let input_name = if stdin {
        "<stdin>".to_string()
    } else {
        data.display().to_string()
    };
    let (input, size): (Box<dyn Read + Send>, Option<u64>) = if stdin {
        (Box::new(io::stdin()), None)
    } else {
        let f = File::open(data)
            .map_err(|e| Failure::usage(format!("cannot read {input_name}: {e}")))?;
        let size = f.metadata().ok().map(|m| m.len());
        (Box::new(f), size)
    };
    // `-o -` is stdout, as `-` is stdin on the input side.
    let output = out.output.as_deref().filter(|p| *p != Path::new("-"));
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
    let job = Job {
        heuristics,
        schema: schema.clone(),
        fields,
        input_name,
        output_name: output.map_or_else(|| "<stdout>".to_string(), |p| p.display().to_string()),
        replace: out.replace,
        lenient: out.lenient,
        progress: Some(&tick),
        threads: out.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        ),
        max_record_bytes: out.max_record_bytes,
    };
    let result = match output {
        None => {
            let stdout = io::stdout();
            let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
            match run(input, &mut w, &job) {
                Err(DataError::Write { error, .. })
                    if error.kind() == io::ErrorKind::BrokenPipe =>
                {
                    Ok(None)
                }
                other => other.map(Some),
            }
            .map_err(OutputError::Data)
        }
        Some(path) => {
            let named_input = (!stdin).then_some(data);
            write_atomically(path, named_input, |w| run(input, w, &job)).map(Some)
        }
    };
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    result.map_err(|e| data_failure(e, set, color))
}

/// Write to a temporary file beside `path` and rename it over `path` only on
/// success: a failed run leaves nothing behind. Refuses to write over `input`.
fn write_atomically<F>(path: &Path, input: Option<&Path>, body: F) -> Result<Summary, OutputError>
where
    F: FnOnce(&mut BufWriter<&mut tempfile::NamedTempFile>) -> Result<Summary, DataError>,
{
    let over_input = match input {
        Some(input) => same_file(input, path),
        None => stdin_is(path),
    };
    if over_input {
        return Err(OutputError::Usage(format!(
            "refusing to write the output over the input {}; choose another -o",
            input.unwrap_or(path).display()
        )));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".glyphsieve-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| OutputError::Usage(format!("cannot write in {}: {e}", dir.display())))?;
    let summary = {
        let mut w = BufWriter::with_capacity(1 << 16, &mut tmp);
        let s = body(&mut w).map_err(OutputError::Data)?;
        w.flush()
            .map_err(|e| OutputError::Usage(format!("cannot write {}: {e}", path.display())))?;
        s
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode())
            .unwrap_or(0o644);
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode));
    }
    tmp.persist(path)
        .map_err(|e| OutputError::Usage(format!("cannot write {}: {}", path.display(), e.error)))?;
    Ok(summary)
}

/// Errors of the output step: usage problems (exit 2) or data problems.
enum OutputError {
    Usage(String),
    Data(DataError),
}

/// Whether standard input is the file at `path` (`glyphsieve ... - -o f < f`).
#[cfg(unix)]
fn stdin_is(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata("/dev/stdin"), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.is_file() && a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn stdin_is(_path: &Path) -> bool {
    false
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn data_failure(e: OutputError, set: &RuleSet, color: bool) -> Failure {
    match e {
        OutputError::Usage(m) => Failure::usage(m),
        OutputError::Data(DataError::Eval { file, line, error }) => {
            let d = Diagnostic::new(Code::Overflow, error.span, format!("{} at {file}:{line}", error))
                .label(error.message.clone())
                .help("the row's values overflow a 64-bit integer or a float; guard the rule or use floats");
            Failure {
                message: String::new(),
                rendered: Some(render_human(&[d], &set.sources, color)),
                code: PROBLEMS,
            }
        }
        // Reading or writing failed: the command could not run (exit 2).
        OutputError::Data(e @ (DataError::Io { .. } | DataError::Write { .. })) => {
            Failure::usage(e.to_string())
        }
        OutputError::Data(other) => Failure::problem(other.to_string()),
    }
}

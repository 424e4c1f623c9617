//! Explain's output: per row and rule, the value, the trace drawn under the
//! source as diagnostics are (each subexpression's value labelled under its
//! operator or name; skipped parts "not evaluated"), the cells read, the
//! `cfg.` values and where they came from, and the flips. Human (miette)
//! or JSON.

use super::flips::{FieldFlips, flips};
use super::record::{CellNote, Reads, Record};
use super::trace::{ItemTrace, Node, TVal, Tracer};
use crate::check::{ItemId, Program, TKind};
use crate::compile::{Arith, Compiled};
use crate::config::{CfgValue, Config, SET_LAYER};
use crate::eval::EvalError;
use crate::source::{SourceMap, Span};
use crate::syntax::ast::cmp_symbol;
use serde_json::{Value as Json, json};
use std::fmt;

/// Where the `cfg.` values came from, for the report.
pub(crate) struct CfgOrigin<'a> {
    pub config: &'a Config,
    /// The `--set KEY=VALUE` arguments, in order.
    pub sets: &'a [String],
}

impl CfgOrigin<'_> {
    /// Where a key's value comes from: the `--set` that set it, the config
    /// file and line, or the built-in config (the lowest layer).
    fn from(&self, key: &str) -> String {
        let built_in = || match self.config.layers.first() {
            Some(l) => format!("{} (built in)", l.name),
            None => "built in".to_string(),
        };
        let Some(o) = self.config.origins.get(key) else {
            return built_in();
        };
        match (o.set_by, self.config.origin(key)) {
            (0, _) | (_, None) => built_in(),
            (_, Some((layer, _))) if layer.name == SET_LAYER => {
                let set = self
                    .sets
                    .iter()
                    .rev()
                    .find(|s| s.split_once('=').is_some_and(|(k, _)| k.trim() == key));
                match set {
                    Some(s) => format!("--set {s}"),
                    None => SET_LAYER.to_string(),
                }
            }
            (_, Some((layer, Some(k)))) => format!("{}:{}", layer.name, k.place.line),
            (_, Some((layer, None))) => layer.name.clone(),
        }
    }
}

/// One rule explained on one record.
pub(crate) struct Explained<'p> {
    pub record: Record,
    pub item: ItemId,
    pub traces: Vec<Option<ItemTrace<'p>>>,
    /// The evaluation overflowed (eval would stop with this error).
    pub error: Option<EvalError>,
    pub cells: Vec<CellNote>,
    pub flips: Vec<FieldFlips>,
}

impl<'p> Explained<'p> {
    /// Trace rule `item` on `record`, and find its flips.
    pub(crate) fn new(
        program: &'p Program,
        compiled: &Compiled,
        reads: &Reads,
        record: &Record,
        item: ItemId,
    ) -> Explained<'p> {
        let slots = compiled.fields_read_by([item.0]);
        let (row, notes) = reads.row(record);
        let cells = notes
            .into_iter()
            .filter(|n| {
                reads
                    .fields
                    .iter()
                    .any(|f| f.column == n.column && slots.contains(&f.slot))
            })
            .collect();
        let mut tracer = Tracer::new(program, &row);
        let error = tracer.item(item).err().map(|f| f.into_error(program, item));
        let traces = tracer.into_traces();
        let flips = if error.is_none() {
            flips(program, compiled, reads, record, item)
        } else {
            Vec::new()
        };
        Explained {
            record: record.clone(),
            item,
            traces,
            error,
            cells,
            flips,
        }
    }

    fn trace(&self, id: ItemId) -> Option<&ItemTrace<'p>> {
        self.traces.get(id.0 as usize).and_then(Option::as_ref)
    }

    /// The items the rule reads (directly or through lets), in declaration
    /// order: lets are drawn, rules only valued.
    fn read_items(&self, program: &Program) -> Vec<ItemId> {
        let mut seen = vec![false; program.items.len()];
        let mut stack: Vec<ItemId> = program.items[self.item.0 as usize].deps.clone();
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut seen[id.0 as usize], true) {
                continue;
            }
            // A rule read is shown with its value; what it reads is its own
            // explanation (`--rule NAME`).
            if program.items[id.0 as usize].rule.is_none() {
                stack.extend(program.items[id.0 as usize].deps.iter().copied());
            }
        }
        (0..seen.len())
            .filter(|&i| seen[i] && i != self.item.0 as usize)
            .map(|i| ItemId(i as u32))
            .collect()
    }
}

/// A value in JSON: `true`, `12`, `3.5`, `"mid"`, `null`.
pub(crate) fn json_value(v: &TVal, program: &Program) -> Json {
    match v {
        TVal::Missing => Json::Null,
        TVal::Bool(b) => json!(b),
        TVal::Int(i) => json!(i),
        TVal::Float(f) => json!(f),
        TVal::Str(s) => json!(s),
        TVal::Enum(..) => json!(v.to_value(program).to_string()),
    }
}

fn json_public(v: &crate::eval::Value) -> Json {
    use crate::eval::Value;
    match v {
        Value::Missing => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Float(f) => json!(f),
        Value::Str(s) => json!(s),
        Value::Enum(e) => json!(e.as_ref()),
    }
}

/// `cfg.` paths written in a constant's source text (a folded constant
/// may hold several: `cfg.a * 2`).
fn cfg_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("cfg.") {
        let before = rest[..i].chars().last();
        let tail = &rest[i + 4..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(tail.len());
        let path = tail[..end].trim_end_matches('.');
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') && !path.is_empty() {
            out.push(path.to_string());
        }
        rest = &tail[end..];
    }
    out
}

fn cfg_show(v: &CfgValue) -> String {
    v.to_string()
}

/// What each traced item draws: (anchor span, label) pairs, and the cfg
/// paths its constants came from.
struct Labels<'a> {
    sources: &'a SourceMap,
    program: &'a Program,
    labels: Vec<(Span, String)>,
    cfg: Vec<String>,
}

impl Labels<'_> {
    fn text(&self, span: Span) -> &str {
        self.sources.get(span.file).slice(span)
    }

    /// The operator token between two operands (`>=`, `and`), else the
    /// whole expression.
    fn between(&self, whole: Span, a: Span, b: Span, token: &str) -> Span {
        let gap = Span::new(a.file, a.end as usize, b.start as usize);
        let text = self.text(gap);
        let word = token.chars().all(|c| c.is_ascii_alphabetic());
        let mut from = 0;
        while let Some(i) = text[from..].find(token).map(|i| i + from) {
            let before = text[..i].chars().last();
            let after = text[i + token.len()..].chars().next();
            let bounded = !word
                || (!before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_'));
            if bounded {
                let s = a.end as usize + i;
                return Span::new(a.file, s, s + token.len());
            }
            from = i + token.len();
        }
        whole
    }

    fn prefix(&self, span: Span, token: &str) -> Span {
        if self.text(span).starts_with(token) {
            Span::new(
                span.file,
                span.start as usize,
                span.start as usize + token.len(),
            )
        } else {
            span
        }
    }

    fn walk(&mut self, n: &Node) {
        let e = n.expr;
        let Some(v) = &n.value else {
            self.labels.push((e.span, "not evaluated".to_string()));
            return;
        };
        let shown = v.show(self.program);
        let kids = &n.children;
        let pair = |i: usize, j: usize| (kids.get(i), kids.get(j));
        let anchor = match &e.kind {
            TKind::Field(_) | TKind::Item(_) => Some(e.span),
            TKind::Const(_) => {
                let text = self.text(e.span).to_string();
                let paths = cfg_paths(&text);
                let any = !paths.is_empty();
                self.cfg.extend(paths);
                any.then_some(e.span)
            }
            TKind::ToFloat(_) | TKind::Error => None,
            TKind::Neg(_) => Some(self.prefix(e.span, "-")),
            TKind::Not(_) => Some(self.prefix(e.span, "not")),
            TKind::And(..) | TKind::Or(..) => {
                let token = if matches!(e.kind, TKind::And(..)) {
                    "and"
                } else {
                    "or"
                };
                match pair(0, 1) {
                    (Some(a), Some(b)) => {
                        Some(self.between(e.span, a.expr.span, b.expr.span, token))
                    }
                    _ => Some(e.span),
                }
            }
            TKind::Cmp { op, .. } => match pair(0, 1) {
                (Some(a), Some(b)) => {
                    Some(self.between(e.span, a.expr.span, b.expr.span, cmp_symbol(*op)))
                }
                _ => Some(e.span),
            },
            TKind::Arith { op, .. } => match pair(0, 1) {
                (Some(a), Some(b)) => {
                    Some(self.between(e.span, a.expr.span, b.expr.span, arith_symbol(*op)))
                }
                _ => Some(e.span),
            },
            TKind::In { .. } => match kids.first() {
                Some(a) => {
                    let end = Span::new(e.span.file, e.span.end as usize, e.span.end as usize);
                    let b = kids.get(1).map_or(end, |b| b.expr.span);
                    Some(self.between(e.span, a.expr.span, b, "in"))
                }
                None => Some(e.span),
            },
            TKind::If { .. } => Some(self.prefix(e.span, "if")),
            TKind::Call { func, .. } => Some(self.prefix(e.span, func.name())),
        };
        if let Some(a) = anchor {
            self.labels.push((a, shown));
        }
        for c in kids {
            self.walk(c);
        }
    }
}

fn arith_symbol(op: Arith) -> &'static str {
    match op {
        Arith::AddInt | Arith::AddFloat => "+",
        Arith::SubInt | Arith::SubFloat => "-",
        Arith::MulInt | Arith::MulFloat => "*",
        Arith::DivFloat => "/",
        Arith::RemInt | Arith::RemFloat => "%",
    }
}

/// Labels drawn under a source, with a message above them, as miette
/// draws a diagnostic (explain's trace, coverage's uncovered conditions).
#[derive(Debug)]
pub(crate) struct Drawing {
    message: String,
    source: crate::source::Windowed,
    labels: Vec<miette::LabeledSpan>,
}

impl Drawing {
    /// `labels` are spans of `file` with their text.
    pub(crate) fn new(
        message: String,
        file: &crate::source::SourceFile,
        labels: Vec<(Span, String)>,
    ) -> Drawing {
        Drawing {
            message,
            source: file.windowed(),
            labels: labels
                .into_iter()
                .map(|(s, text)| {
                    miette::LabeledSpan::new_with_span(Some(text), (s.start as usize, s.len()))
                })
                .collect(),
        }
    }
}

impl fmt::Display for Drawing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Drawing {}

impl miette::Diagnostic for Drawing {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// Longest line drawn (as for diagnostics: miette cannot draw very long
/// lines); an item on a longer one is listed as text.
pub(crate) const MAX_DRAWN_LINE: usize = 10_000;

struct Ctx<'a> {
    program: &'a Program,
    sources: &'a SourceMap,
    color: bool,
}

fn kind(program: &Program, id: ItemId) -> &'static str {
    match program.items[id.0 as usize].rule {
        Some(_) => "rule",
        None => "let",
    }
}

/// The item's value line: `false`, or `false (the default: the
/// expression is missing)`.
fn value_text(t: &ItemTrace, program: &Program) -> String {
    let v = t.value.show(program);
    if t.defaulted {
        format!("{v} (the default: the expression is missing)")
    } else {
        v
    }
}

/// Draw one item's trace; returns the cfg paths it read.
fn draw(ctx: &Ctx, id: ItemId, t: &ItemTrace, out: &mut String) -> Vec<String> {
    let item = &ctx.program.items[id.0 as usize];
    let mut l = Labels {
        sources: ctx.sources,
        program: ctx.program,
        labels: Vec::new(),
        cfg: Vec::new(),
    };
    l.walk(&t.body);
    let file = ctx.sources.get(t.body.expr.span.file);
    let message = format!(
        "{} `{}` = {}",
        kind(ctx.program, id),
        item.name,
        value_text(t, ctx.program)
    );
    if file.widest_line(t.body.expr.span, 1) > MAX_DRAWN_LINE {
        out.push_str(&format!("{message}\n"));
        for (span, label) in &l.labels {
            let (line, col) = file.line_col(span.start as usize);
            let text: String = file.slice(*span).chars().take(60).collect();
            out.push_str(&format!("  {}:{line}:{col} `{text}`: {label}\n", file.name));
        }
        return l.cfg;
    }
    let theme = if ctx.color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    // Labels in source order, so each line's labels read left to right.
    let mut labels = l.labels.clone();
    labels.sort_by_key(|(s, _)| (s.start, s.end));
    labels.dedup_by_key(|(s, _)| (s.start, s.end));
    let report = Drawing::new(message, file, labels);
    let _ = handler.render_report(out, &report);
    l.cfg
}

/// The human report of one explained rule.
pub(crate) fn human(
    e: &Explained,
    program: &Program,
    sources: &SourceMap,
    cfg: &CfgOrigin,
    input: &str,
    color: bool,
) -> String {
    let ctx = Ctx {
        program,
        sources,
        color,
    };
    let name = &program.items[e.item.0 as usize].name;
    let mut out = String::new();
    let head = format!(
        "row {} (line {} of {}): {name}",
        e.record.row, e.record.line, input
    );
    if let Some(err) = &e.error {
        out.push_str(&format!("{head}: {err}; eval stops on this row\n"));
        return out;
    }
    let Some(t) = e.trace(e.item) else {
        return out;
    };
    out.push_str(&format!("{head} = {}\n", value_text(t, program)));
    let mut cfg_paths = draw(&ctx, e.item, t, &mut out);
    let mut rules_read = Vec::new();
    for id in e.read_items(program) {
        let Some(dt) = e.trace(id) else { continue };
        if program.items[id.0 as usize].rule.is_some() {
            rules_read.push(format!(
                "  {} = {}   (explain it with --rule {})",
                program.items[id.0 as usize].name,
                dt.value.show(program),
                program.items[id.0 as usize].name
            ));
        } else {
            cfg_paths.extend(draw(&ctx, id, dt, &mut out));
        }
    }
    if !rules_read.is_empty() {
        out.push_str("rules read:\n");
        for r in rules_read {
            out.push_str(&format!("{r}\n"));
        }
    }
    if !e.cells.is_empty() {
        out.push_str("cells read:\n");
        let w_field = e.cells.iter().map(|c| c.field.len()).max().unwrap_or(0);
        let w_col = e
            .cells
            .iter()
            .map(|c| c.column_name.len() + 7)
            .max()
            .unwrap_or(0);
        let w_text = e
            .cells
            .iter()
            .map(|c| format!("{:?}", c.text).len())
            .max()
            .unwrap_or(0);
        for c in &e.cells {
            out.push_str(&format!(
                "  {:w_field$}  {:w_col$}  {:w_text$}  {}\n",
                c.field,
                format!("column {}", c.column_name),
                format!("{:?}", c.text),
                cell_reading(c)
            ));
        }
    }
    cfg_paths.sort();
    cfg_paths.dedup();
    if !cfg_paths.is_empty() {
        out.push_str("cfg values:\n");
        let w = cfg_paths.iter().map(|p| p.len() + 4).max().unwrap_or(0);
        let values: Vec<String> = cfg_paths
            .iter()
            .map(|p| {
                let segs: Vec<&str> = p.split('.').collect();
                cfg.config
                    .get(&segs)
                    .map_or_else(|| "?".to_string(), cfg_show)
            })
            .collect();
        let wv = values.iter().map(String::len).max().unwrap_or(0);
        for (p, v) in cfg_paths.iter().zip(&values) {
            out.push_str(&format!(
                "  {:w$} = {v:wv$}  from {}\n",
                format!("cfg.{p}"),
                cfg.from(p)
            ));
        }
    }
    out.push_str("flips:\n");
    if e.flips.is_empty() {
        out.push_str("  the rule reads no fields\n");
    }
    for f in &e.flips {
        for flip in &f.flips {
            let new = flip_value(&flip.value);
            out.push_str(&format!(
                "  {} {:?} → {:?} (column {}): {name} becomes {new}\n",
                f.field, flip.from, flip.to, f.column
            ));
        }
        if let Some(note) = &f.note {
            out.push_str(&format!("  {}: {note}\n", f.field));
        }
    }
    out
}

fn flip_value(v: &crate::eval::Value) -> String {
    match v {
        crate::eval::Value::Missing => "missing".to_string(),
        crate::eval::Value::Str(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// What a cell read as: its value, or why it is missing.
fn cell_reading(c: &CellNote) -> String {
    use crate::cell::{parse_bool_cell, parse_float, parse_int};
    use crate::types::FieldType;
    if let Some(err) = &c.error {
        return format!(
            "missing: cannot read it as {}: {err} (eval stops here; with --lenient it is missing)",
            c.ty
        );
    }
    if c.missing {
        return if c.text.trim().is_empty() {
            "missing: empty".to_string()
        } else {
            format!("missing: null marker `{}`", c.text.trim())
        };
    }
    // The value as the row holds it (the cell parser read it already).
    let bytes = c.text.as_bytes();
    match c.ty {
        FieldType::Int => parse_int(bytes).map_or_else(|_| "?".into(), |i| i.to_string()),
        FieldType::Float => parse_float(bytes)
            .map_or_else(|_| "?".into(), |f| crate::eval::Value::Float(f).to_string()),
        FieldType::Bool => parse_bool_cell(bytes).map_or_else(|_| "?".into(), |b| b.to_string()),
        FieldType::String => format!("{:?}", c.text),
    }
}

/// The JSON object of one explained rule.
pub(crate) fn json(e: &Explained, program: &Program, sources: &SourceMap, cfg: &CfgOrigin) -> Json {
    let name = &program.items[e.item.0 as usize].name;
    let mut obj = serde_json::Map::new();
    obj.insert("row".into(), json!(e.record.row));
    obj.insert("line".into(), json!(e.record.line));
    obj.insert("rule".into(), json!(name));
    let Some(t) = e.trace(e.item).filter(|_| e.error.is_none()) else {
        obj.insert("value".into(), Json::Null);
        obj.insert(
            "error".into(),
            json!(e.error.as_ref().map(ToString::to_string)),
        );
        obj.insert("trace".into(), json!([]));
        obj.insert("flips".into(), json!([]));
        return Json::Object(obj);
    };
    obj.insert("value".into(), json_value(&t.value, program));
    obj.insert("default_used".into(), json!(t.defaulted));
    let mut trace = Vec::new();
    let mut cfg_paths = Vec::new();
    let mut items = vec![e.item];
    items.extend(
        e.read_items(program)
            .into_iter()
            .filter(|id| program.items[id.0 as usize].rule.is_none()),
    );
    for id in items {
        if let Some(it) = e.trace(id) {
            let mut l = Labels {
                sources,
                program,
                labels: Vec::new(),
                cfg: Vec::new(),
            };
            l.walk(&it.body);
            cfg_paths.extend(l.cfg);
            flat(
                &it.body,
                &program.items[id.0 as usize].name,
                sources,
                program,
                &mut trace,
            );
        }
    }
    obj.insert("trace".into(), Json::Array(trace));
    let reads: Vec<Json> = e
        .read_items(program)
        .into_iter()
        .filter_map(|id| {
            let it = e.trace(id)?;
            Some(json!({
                "name": program.items[id.0 as usize].name,
                "kind": kind(program, id),
                "value": json_value(&it.value, program),
            }))
        })
        .collect();
    obj.insert("reads".into(), Json::Array(reads));
    let cells: Vec<Json> = e
        .cells
        .iter()
        .map(|c| {
            json!({
                "field": c.field,
                "column": c.column_name,
                "text": c.text,
                "missing": c.missing,
                "error": c.error.map(|x| x.to_string()),
            })
        })
        .collect();
    obj.insert("cells".into(), Json::Array(cells));
    cfg_paths.sort();
    cfg_paths.dedup();
    let cfgs: Vec<Json> = cfg_paths
        .iter()
        .map(|p| {
            let segs: Vec<&str> = p.split('.').collect();
            json!({
                "key": p,
                "value": cfg.config.get(&segs).map(cfg_show),
                "from": cfg.from(p),
            })
        })
        .collect();
    obj.insert("cfg".into(), Json::Array(cfgs));
    let flips: Vec<Json> = e
        .flips
        .iter()
        .flat_map(|f| &f.flips)
        .map(|f| {
            json!({
                "field": f.field,
                "column": f.column,
                "from": f.from,
                "to": f.to,
                "value": json_public(&f.value),
            })
        })
        .collect();
    obj.insert("flips".into(), Json::Array(flips));
    let notes: Vec<Json> = e
        .flips
        .iter()
        .filter_map(|f| {
            f.note
                .as_ref()
                .map(|n| json!({"field": f.field, "note": n}))
        })
        .collect();
    obj.insert("flip_notes".into(), Json::Array(notes));
    Json::Object(obj)
}

/// The trace in JSON: every subexpression in pre-order, with its item,
/// source text, place and value (`evaluated: false` where skipped).
fn flat(n: &Node, item: &str, sources: &SourceMap, program: &Program, out: &mut Vec<Json>) {
    let span = n.expr.span;
    let file = sources.get(span.file);
    let (line, column) = file.line_col(span.start as usize);
    out.push(json!({
        "item": item,
        "text": file.slice(span),
        "file": file.name,
        "line": line,
        "column": column,
        "evaluated": n.value.is_some(),
        "value": n.value.as_ref().map_or(Json::Null, |v| json_value(v, program)),
    }));
    for c in &n.children {
        flat(c, item, sources, program, out);
    }
}

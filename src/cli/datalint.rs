//! `lint --data FILE`: warnings that only the data can give (W501-W505),
//! found in one streaming pass of the tagging pipeline over the file.
//!
//! The rules are evaluated as `eval` would evaluate them, into a sink, with
//! their values tallied; the fields they read are profiled on the way
//! (present and missing cells, number ranges, the string literals they are
//! compared with, user null markers). Memory stays flat: every count is
//! bounded per field and per literal (`data::profile`).

use super::Failure;
use super::inputs::Inputs;
use super::output::Input;
use crate::check::ir::Builtin;
use crate::check::ir::{Const, TExpr, TKind};
use crate::data::pipeline::{Job, Summary, run};
use crate::data::profile::{FieldProfile, Literal, Match, ProfileSpec, fold};
use crate::diagnostic::{Code, Diagnostic, printable};
use crate::heuristic::{Heuristic, OutputType};
use crate::ops::CmpOp;
use crate::rules::RuleSet;
use crate::schema::default_nulls;
use crate::source::Span;
use crate::syntax::ast::{ItemKind, cmp_symbol};
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// A string field compared with a literal: `condition == "new"`.
struct StrUse {
    slot: usize,
    literal: Literal,
    span: Span,
    item: String,
}

/// A number field compared with a constant: `vram_gb >= 2000`, as
/// `field op value` (a constant on the left is turned around).
struct NumUse {
    slot: usize,
    op: CmpOp,
    value: f64,
    span: Span,
    item: String,
}

/// A user null marker: where it is written, for which field.
struct MarkerUse {
    slot: usize,
    marker: String,
    span: Span,
}

/// What the rules do with the fields, read from the typed program.
#[derive(Default)]
struct Uses {
    /// Each field read: the first place, and the item that reads it there.
    reads: BTreeMap<usize, (Span, String)>,
    strings: Vec<StrUse>,
    numbers: Vec<NumUse>,
}

/// What `lint --data` found: its warnings, and the rows it read.
pub struct DataReport {
    pub diagnostics: Vec<Diagnostic>,
    pub rows: u64,
    pub data_name: String,
}

/// Run the rules over `data` and return the data lints. `set` must have
/// compiled (no errors); the user's schema files that declare null markers
/// are added to its sources, so the warnings can point into them.
pub fn data_lints(set: &mut RuleSet, inputs: &Inputs, data: &Path) -> Result<DataReport, Failure> {
    let mut uses = collect_uses(set);
    // Only the fields the rules read, directly or through lets, are parsed
    // (as `eval` parses them): a let no rule uses may read a column the
    // data does not have.
    let read: Vec<usize> = match &set.compiled {
        Some(c) => c.fields_read_by(set.program.outputs.iter().map(|o| o.0)),
        None => Vec::new(),
    };
    uses.reads.retain(|slot, _| read.contains(slot));
    let markers = collect_markers(set, inputs, &uses);
    let heuristics = set.heuristics();
    let outputs: Vec<(String, OutputType)> = heuristics
        .iter()
        .map(|h| (h.name().to_string(), h.output_type()))
        .collect();
    let mut job = Job::new(
        heuristics.iter().map(|h| h as &dyn Heuristic).collect(),
        set.schema.clone(),
    )
    .map_err(|e| Failure::problem(e.to_string()))?;
    // One spec per field read: its literals and markers, each once.
    let mut specs: Vec<ProfileSpec> = Vec::new();
    for &slot in uses.reads.keys() {
        let mut spec = ProfileSpec {
            slot,
            ..ProfileSpec::default()
        };
        for s in uses.strings.iter().filter(|s| s.slot == slot) {
            if !spec.literals.contains(&s.literal) {
                spec.literals.push(s.literal.clone());
            }
        }
        for m in markers.iter().filter(|m| m.slot == slot) {
            if !spec.markers.contains(&m.marker) {
                spec.markers.push(m.marker.clone());
            }
        }
        specs.push(spec);
    }
    // Every field a rule reads is parsed, so each can be profiled.
    job.fields = uses.reads.keys().copied().collect();
    job.profile = specs.clone();
    job.tally_values = true;
    job.threads = std::thread::available_parallelism().map_or(1, usize::from);
    let Input {
        reader: input,
        name,
        ..
    } = Input::open(data).map_err(Failure::usage)?;
    job.input_name = name;
    job.output_name = "<none>".to_string();
    let summary = run(input, &mut io::sink(), &job).map_err(|e| match e {
        crate::data::pipeline::DataError::Io { .. } => Failure::usage(e.to_string()),
        _ => Failure::problem(e.to_string()),
    })?;
    let profile = |slot: usize| -> Option<&FieldProfile> {
        let k = specs.iter().position(|s| s.slot == slot)?;
        summary.profiles.get(k)
    };
    let mut diags = Vec::new();
    constant_rules(set, &summary, &outputs, &mut diags);
    if summary.rows > 0 {
        for (&slot, (span, item)) in &uses.reads {
            if let Some(p) = profile(slot)
                && p.present == 0
            {
                diags.push(field_always_missing(set, slot, *span, item, summary.rows));
            }
        }
        for s in &uses.strings {
            let Some(p) = profile(s.slot) else { continue };
            let Some(k) = specs
                .iter()
                .find(|x| x.slot == s.slot)
                .and_then(|x| x.literals.iter().position(|l| *l == s.literal))
            else {
                continue;
            };
            if let Some(d) = literal_variant(set, s, p, k) {
                diags.push(d);
            }
        }
        for n in &uses.numbers {
            if let Some(d) = profile(n.slot).and_then(|p| threshold(set, n, p)) {
                diags.push(d);
            }
        }
        for m in &markers {
            let Some(k) = specs
                .iter()
                .find(|x| x.slot == m.slot)
                .and_then(|x| x.markers.iter().position(|l| *l == m.marker))
            else {
                continue;
            };
            if profile(m.slot).and_then(|p| p.markers.get(k)) == Some(&0) {
                diags.push(unused_marker(set, m, summary.rows));
            }
        }
    }
    diags.sort_by_key(|d| (d.span.file, d.span.start));
    Ok(DataReport {
        diagnostics: diags,
        rows: summary.rows,
        data_name: job.input_name.clone(),
    })
}

/// The `rule x` or `let x` an item is, for messages.
fn item_label(set: &RuleSet, k: usize) -> String {
    let item = &set.program.items[k];
    match item.rule {
        Some(_) => format!("rule `{}`", item.name),
        None => format!("let `{}`", item.name),
    }
}

fn collect_uses(set: &RuleSet) -> Uses {
    let mut uses = Uses::default();
    for (k, item) in set.program.items.iter().enumerate() {
        let label = item_label(set, k);
        walk(&item.body, &label, &mut uses);
    }
    uses
}

/// The field an operand reads, seen through an int-to-float widening.
fn field_of(e: &TExpr) -> Option<usize> {
    match &e.kind {
        TKind::Field(s) => Some(*s),
        TKind::ToFloat(inner) => field_of(inner),
        _ => None,
    }
}

fn number_of(e: &TExpr) -> Option<f64> {
    match &e.kind {
        TKind::Const(Const::Int(i)) => Some(*i as f64),
        TKind::Const(Const::Float(f)) => Some(*f),
        TKind::ToFloat(inner) => number_of(inner),
        _ => None,
    }
}

fn string_of(e: &TExpr) -> Option<&str> {
    match &e.kind {
        TKind::Const(Const::Str(s)) => Some(s),
        _ => None,
    }
}

fn equal(s: &str) -> Literal {
    Literal {
        text: s.to_string(),
        how: Match::Equal,
    }
}

/// `a op b` read as `b op' a`.
fn turned(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

fn walk(e: &TExpr, item: &str, uses: &mut Uses) {
    match &e.kind {
        TKind::Field(slot) => {
            uses.reads
                .entry(*slot)
                .or_insert_with(|| (e.span, item.to_string()));
        }
        TKind::Cmp { op, lhs, rhs } => {
            let sides = [(lhs, rhs, *op), (rhs, lhs, turned(*op))];
            for (f, c, op) in sides {
                let Some(slot) = field_of(f) else { continue };
                if let Some(value) = number_of(c) {
                    uses.numbers.push(NumUse {
                        slot,
                        op,
                        value,
                        span: e.span,
                        item: item.to_string(),
                    });
                } else if let Some(s) = string_of(c)
                    && matches!(op, CmpOp::Eq | CmpOp::Ne)
                {
                    uses.strings.push(StrUse {
                        slot,
                        literal: equal(s),
                        span: c.span,
                        item: item.to_string(),
                    });
                }
            }
        }
        TKind::Call { func, args } if args.len() == 2 => {
            let how = match func {
                Builtin::Contains => Some(Match::Contains),
                Builtin::StartsWith => Some(Match::StartsWith),
                Builtin::EndsWith => Some(Match::EndsWith),
                _ => None,
            };
            // `""` is in every cell: nothing to say about it.
            if let (Some(how), Some(slot), Some(s)) = (how, field_of(&args[0]), string_of(&args[1]))
                && !s.is_empty()
            {
                uses.strings.push(StrUse {
                    slot,
                    literal: Literal {
                        text: s.to_string(),
                        how,
                    },
                    span: args[1].span,
                    item: item.to_string(),
                });
            }
        }
        TKind::In { value, list, .. } => {
            if let Some(slot) = field_of(value) {
                for c in list {
                    if let Some(s) = string_of(c) {
                        uses.strings.push(StrUse {
                            slot,
                            literal: equal(s),
                            span: c.span,
                            item: item.to_string(),
                        });
                    }
                }
            }
        }
        _ => {}
    }
    for child in e.children() {
        walk(child, item, uses);
    }
}

/// Whether a marker is one the user chose: not the empty cell and not
/// one of the default markers (`NA`, `null`...), which every field has and
/// most columns never use.
fn chosen_marker(m: &str) -> bool {
    let t = m.trim();
    !t.is_empty() && !default_nulls().iter().any(|d| d.eq_ignore_ascii_case(t))
}

/// The user's null markers of the fields the rules read: from `field`
/// declarations (found again in the rule texts) and from the schema files
/// laid over the built-in one (whose texts become sources here).
fn collect_markers(set: &mut RuleSet, inputs: &Inputs, uses: &Uses) -> Vec<MarkerUse> {
    let mut out = Vec::new();
    let files: Vec<_> = inputs
        .texts
        .iter()
        .filter_map(|(n, _)| set.sources.find(n))
        .collect();
    let mut declared = Vec::new();
    for id in files {
        let text = set.sources.get(id).text.clone();
        let (module, _) = crate::syntax::parse(id, &text);
        for item in module.items {
            let ItemKind::Field(f) = item.kind else {
                continue;
            };
            let Some(slot) = set.schema.slot(&f.name.name) else {
                continue;
            };
            declared.push(slot);
            for m in f.nulls.into_iter().flatten() {
                if uses.reads.contains_key(&slot) && chosen_marker(&m.name) {
                    out.push(MarkerUse {
                        slot,
                        marker: m.name,
                        span: m.span,
                    });
                }
            }
        }
    }
    // A field's markers come from the last schema layer that declares it.
    for &slot in uses.reads.keys() {
        if declared.contains(&slot) {
            continue;
        }
        let name = set.schema.field(slot).name.clone();
        let Some((layer, field)) = inputs
            .schema_layers
            .iter()
            .rev()
            .find_map(|l| l.fields.iter().find(|f| f.def.name == name).map(|f| (l, f)))
        else {
            continue;
        };
        let chosen: Vec<&String> = field.nulls.iter().filter(|m| chosen_marker(m)).collect();
        if chosen.is_empty() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&layer.name) else {
            continue;
        };
        let id = match set.sources.find(&layer.name) {
            Some(id) => id,
            None => set.sources.add(layer.name.clone(), text.clone()),
        };
        let text = set.sources.get(id).text.clone();
        let from = line_start(&text, field.line.unwrap_or(1));
        for m in chosen {
            let (s, e) = find_marker(&text, from, m).unwrap_or((from, from));
            out.push(MarkerUse {
                slot,
                marker: m.clone(),
                span: Span::new(id, s, e),
            });
        }
    }
    out
}

/// Byte offset where 1-based `line` starts.
fn line_start(text: &str, line: u32) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line as usize - 2)
        .map_or(0, |(i, _)| i + 1)
}

/// The marker's text (quoted or bare) after the `nulls` key that follows
/// `from` (the field's line): the span to point at.
fn find_marker(text: &str, from: usize, marker: &str) -> Option<(usize, usize)> {
    let at = from + text.get(from..)?.find("nulls")?;
    let rest = &text[at..];
    let end = rest.find(']').map_or(rest.len(), |e| e + 1);
    let list = &rest[..end];
    for quoted in [format!("\"{marker}\""), format!("'{marker}'")] {
        if let Some(i) = list.find(&quoted) {
            return Some((at + i, at + i + quoted.len()));
        }
    }
    list.find(marker).map(|i| (at + i, at + i + marker.len()))
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// W501: a rule with one value on every row.
fn constant_rules(
    set: &RuleSet,
    summary: &Summary,
    outputs: &[(String, OutputType)],
    diags: &mut Vec<Diagnostic>,
) {
    let rows = summary.rows_written;
    for (k, ((name, ty), t)) in outputs.iter().zip(&summary.tallies).enumerate() {
        let Some(note) = super::summary::note(name, t, ty, rows) else {
            continue;
        };
        let Some(&item) = set.program.outputs.get(k) else {
            continue;
        };
        let span = set.program.items[item.0 as usize].span;
        let value = note
            .strip_prefix(name.as_str())
            .unwrap_or(&note)
            .trim_start_matches(" is ")
            .trim_end_matches(" on every row");
        diags.push(
            Diagnostic::new(
                Code::ConstantRule,
                span,
                format!(
                    "rule `{name}` is {value} on every row of the data ({rows} row{})",
                    plural(rows)
                ),
            )
            .label(format!("{value} on all {rows} row{}", plural(rows))),
        );
        if let Some(d) = diags.last_mut() {
            d.help = Some(
                "a rule with one value tells the rows apart by nothing: check its thresholds and \
                 the strings it compares against the data (`eval --summary` shows each rule's values)"
                    .to_string(),
            );
        }
    }
}

/// W503: a field the rules read is missing on every row.
fn field_always_missing(
    set: &RuleSet,
    slot: usize,
    span: Span,
    item: &str,
    rows: u64,
) -> Diagnostic {
    let field = set.schema.field(slot);
    let columns: Vec<String> = field
        .columns
        .iter()
        .map(|c| format!("`{}`", printable(c)))
        .collect();
    Diagnostic::new(
        Code::FieldAlwaysMissing,
        span,
        format!(
            "field `{}` is missing on every row of the data ({rows} row{})",
            field.name,
            plural(rows)
        ),
    )
    .label(format!("read here by {item}: missing on all {rows} row{}", plural(rows)))
    .help(format!(
        "its column ({}) holds only empty cells or null markers; check the column, or the field's `nulls`",
        columns.join(" or ")
    ))
}

/// How a literal is written in the rule language.
fn literal_text(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// W502: a literal that never occurs while a near spelling does.
fn literal_variant(set: &RuleSet, s: &StrUse, p: &FieldProfile, k: usize) -> Option<Diagnostic> {
    let c = p.literals.get(k)?;
    if c.exact > 0 || c.variants.is_empty() {
        return None;
    }
    // The most frequent spelling (then the first in order).
    let (best, n) = c
        .variants
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
    let field = &set.schema.field(s.slot).name;
    let others: u64 = c.variants.iter().map(|v| v.1).sum::<u64>() + c.others - n;
    let more = match others {
        0 => String::new(),
        m => format!(", and {m} more in other spellings"),
    };
    let shown = printable(best);
    let replacement = literal_text(best);
    // A control character the language has no escape for cannot be
    // written in a literal: then there is no edit to offer.
    let writable = !replacement.chars().any(char::is_control);
    let (text, how) = (&s.literal.text, s.literal.how);
    debug_assert!(how != Match::Equal || fold(best) == fold(text));
    let place = match how {
        Match::Equal => "",
        Match::Contains => " (as a part of a value)",
        Match::StartsWith => " (at the start of a value)",
        Match::EndsWith => " (at the end of a value)",
    };
    let case = match how {
        Match::Equal => "case and spaces count",
        _ => "case counts",
    };
    let d = Diagnostic::new(
        Code::LiteralNotInData,
        s.span,
        format!(
            "{} never occurs in field `{field}`{place}, but `{shown}` does ({n} row{}{more})",
            printable(&literal_text(text)),
            plural(*n)
        ),
    )
    .label(format!("0 rows; compared in {}", s.item))
    .help(format!(
        "did you mean `{}`? Strings compare exactly: {case}",
        printable(&replacement)
    ));
    Some(match writable {
        true => d.fix(s.span, replacement),
        false => d,
    })
}

/// W504: a comparison with a constant that no row's value is on both
/// sides of: never true, or true on every row with a value.
fn threshold(set: &RuleSet, n: &NumUse, p: &FieldProfile) -> Option<Diagnostic> {
    let (lo, hi) = p.range?;
    // One value on every row: any threshold is on one side of it; W501
    // says what that does to the rule.
    if lo == hi {
        return None;
    }
    let holds = |x: f64| match n.op {
        CmpOp::Eq => x == n.value,
        CmpOp::Ne => x != n.value,
        CmpOp::Lt => x < n.value,
        CmpOp::Le => x <= n.value,
        CmpOp::Gt => x > n.value,
        CmpOp::Ge => x >= n.value,
    };
    let always = match n.op {
        // Between lo and hi there may be a value equal to it.
        CmpOp::Eq | CmpOp::Ne if (lo..=hi).contains(&n.value) => return None,
        CmpOp::Eq | CmpOp::Ne => holds(lo),
        _ if holds(lo) == holds(hi) => holds(lo),
        _ => return None,
    };
    let field = &set.schema.field(n.slot).name;
    // A comparison written over lines reads as one line in the message.
    let written = set.sources.get(n.span.file).slice(n.span);
    let written: Vec<&str> = written.split_whitespace().collect();
    let text = printable(&written.join(" ")).into_owned();
    let value = float_text(n.value);
    let range = format!(
        "`{field}` ranges from {} to {}",
        float_text(lo),
        float_text(hi)
    );
    let what = if always {
        "true on every row with a value"
    } else {
        "never true"
    };
    // `vram_gb >= cfg.min_vram_gb`: say the value the config gives.
    let shown = if text.contains(&value) {
        format!("`{text}`")
    } else {
        format!("`{text}` ({} {value})", cmp_symbol(n.op))
    };
    Some(
        Diagnostic::new(
            Code::ThresholdOutOfRange,
            n.span,
            format!(
                "{shown} is {what} on the data: {range} ({} row{} with a value)",
                p.present,
                plural(p.present)
            ),
        )
        .label(format!("{what}; compared in {}", n.item))
        .help(format!(
            "the threshold is outside the data's range ({} to {}): check its value and unit",
            float_text(lo),
            float_text(hi)
        )),
    )
}

fn float_text(f: f64) -> String {
    crate::eval::Value::Float(f).to_string()
}

/// W505: a null marker the column never holds.
fn unused_marker(set: &RuleSet, m: &MarkerUse, rows: u64) -> Diagnostic {
    let field = &set.schema.field(m.slot).name;
    Diagnostic::new(
        Code::UnusedNullMarker,
        m.span,
        format!(
            "null marker {} of field `{field}` never occurs in the data ({rows} row{})",
            printable(&literal_text(&m.marker)),
            plural(rows)
        ),
    )
    .label("no cell is this marker")
    .help("markers match after trimming spaces, ignoring ASCII case; check its spelling against the data, or remove it")
}

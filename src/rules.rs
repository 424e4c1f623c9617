//! The front end in one call: rule files to checked, compiled heuristics.
//! Reads files (or takes texts), parses, checks against a schema and a
//! config, and compiles when there are no errors.

use crate::check::{self, Program};
use crate::compile::{Compiled, compile_keeping};
use crate::config::Config;
use crate::diagnostic::{Code, Diagnostic};
use crate::heuristic::RuleHeuristic;
use crate::schema::Schema;
use crate::source::{FileId, SourceMap};
use crate::syntax;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The built-in `rules/quantization_capable.rule`, embedded in the binary.
pub const QUANTIZATION_RULE: &str = include_str!("../rules/quantization_capable.rule");
pub const QUANTIZATION_RULE_NAME: &str = "rules/quantization_capable.rule";

/// A rule file or folder that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{path} has no .rule files")]
    NoRules { path: String },
    #[error(
        "cannot read {path}: invalid UTF-8 at line {line}, column {column} (byte {byte}); rule files must be UTF-8 text"
    )]
    NotUtf8 {
        path: String,
        line: usize,
        column: usize,
        byte: usize,
    },
}

/// The `.rule` files named by `paths`: files as given, folders searched for
/// `*.rule` (recursively, sorted by path, so output order is stable). A file
/// named twice (`rules/ rules/power.rule`) is read once, where it first
/// comes. Links are followed, to files and to folders; a folder reached
/// twice (a link loop) is searched once.
pub fn rule_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    let mut folders = std::collections::HashSet::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|error| LoadError::Io {
            path: p.display().to_string(),
            error,
        })?;
        if meta.is_dir() {
            let before = out.len();
            walk(p, &mut out, &mut folders)?;
            out[before..].sort();
            if out.len() == before {
                return Err(LoadError::NoRules {
                    path: p.display().to_string(),
                });
            }
        } else {
            out.push(p.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    Ok(out)
}

fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    folders: &mut std::collections::HashSet<PathBuf>,
) -> Result<(), LoadError> {
    let io = |error| LoadError::Io {
        path: dir.display().to_string(),
        error,
    };
    // The real folder, so a link back up the tree is seen as a repeat.
    if !folders.insert(std::fs::canonicalize(dir).map_err(io)?) {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let is_rule = path.extension().is_some_and(|e| e == "rule");
        // `metadata` follows links: a linked folder is searched, a linked
        // file counts. A dangling link named `.rule` is an error, as a
        // missing file given by name would be.
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(_) if !is_rule => continue,
            Err(error) => {
                return Err(LoadError::Io {
                    path: path.display().to_string(),
                    error,
                });
            }
        };
        if meta.is_dir() {
            walk(&path, out, folders)?;
        } else if is_rule && meta.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// A module of one hidden rule `name: bool = body` (a `--where` text).
fn filter_module(name: String, body: syntax::ast::Expr) -> syntax::ast::Module {
    use syntax::ast::{Ident, Item, ItemKind, Module, RuleDef};
    let span = body.span;
    Module {
        items: vec![Item {
            doc: Vec::new(),
            kind: ItemKind::Rule(RuleDef {
                name: Ident { name, span },
                ty: Ident {
                    name: "bool".to_string(),
                    span,
                },
                default: None,
                body,
            }),
            span,
        }],
        broken_names: Vec::new(),
    }
}

/// Read rule files as (name, text) pairs.
pub fn read_rule_files(files: &[PathBuf]) -> Result<Vec<(String, String)>, LoadError> {
    files
        .iter()
        .map(|f| {
            let path = f.display().to_string();
            let bytes = std::fs::read(f).map_err(|error| LoadError::Io {
                path: path.clone(),
                error,
            })?;
            let text = String::from_utf8(bytes).map_err(|e| {
                let byte = e.utf8_error().valid_up_to();
                let valid = String::from_utf8_lossy(&e.as_bytes()[..byte]);
                let (line, column) =
                    crate::source::SourceFile::new("", valid.as_ref()).line_col(byte);
                LoadError::NotUtf8 {
                    path: path.clone(),
                    line,
                    column,
                    byte,
                }
            })?;
            Ok((path, text))
        })
        .collect()
}

/// Most rule text one run checks, all files together. The front end takes
/// about 27 bytes of memory per byte of rules (compiled code included), so
/// this bounds it near 110 MiB; a thousand rules are about 200 KiB.
pub const MAX_RULE_TEXT_BYTES: usize = 4 << 20;

/// Stack of the thread that checks rules: virtual memory, touched only as deep
/// as the input nests.
const FRONTEND_STACK: usize = 64 << 20;

/// A checked (and, when clean, compiled) rule set.
pub struct RuleSet {
    /// The schema the rules were checked against: the one given, with the
    /// rule files' `field` declarations appended. The data is read with it.
    pub schema: Arc<Schema>,
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// Shared with the compiled program (its batch form is made from it).
    pub(crate) program: Arc<Program>,
    /// `Some` when there are no errors.
    pub(crate) compiled: Option<Arc<Compiled>>,
    /// The hidden items checked from `--where` texts, in the order given:
    /// compiled with the rules (so they share the row's memo), never outputs.
    pub(crate) filter_items: Vec<u32>,
    /// The `test` items of the rule files, in file order: their `expect`s
    /// are the hidden items `check::ruletests::test_item_name` names.
    pub(crate) tests: Vec<syntax::ast::TestDef>,
}

/// The name of the `k`th (0-based) of `n` `--where` texts: its source's
/// name in diagnostics and its hidden item's name. No rule can be named so
/// (names are identifiers), so it can clash with none.
pub fn filter_name(k: usize, n: usize) -> String {
    match n {
        1 => "--where".to_string(),
        _ => format!("--where #{}", k + 1),
    }
}

/// Whether `name` is one [`filter_name`] gives: a hidden `--where` item.
pub use crate::check::is_filter_item;

impl RuleSet {
    /// Parse, check and compile rule texts against a schema and a config.
    ///
    /// Runs on a thread of its own with a large stack: every stage recurses
    /// over the expression tree, and the nesting limits are sized so that no
    /// input, however deep, can overflow it (see `syntax::MAX_NESTING`).
    pub fn build(texts: &[(String, String)], schema: &Schema, config: &Config) -> RuleSet {
        RuleSet::build_filtered(texts, &[], schema, config)
    }

    /// [`RuleSet::build`], with `wheres`, bool expressions in the rule
    /// language (`eval --where`), checked as hidden rules in sources of
    /// their own named by [`filter_name`]: the same diagnostics as a rule's
    /// body. They may read fields, `cfg.` keys, lets and rules; they are
    /// not outputs ([`RuleSet::filters`] gives them).
    pub fn build_filtered(
        texts: &[(String, String)],
        wheres: &[String],
        schema: &Schema,
        config: &Config,
    ) -> RuleSet {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("glyphsieve-check".into())
                .stack_size(FRONTEND_STACK)
                .spawn_scoped(scope, || RuleSet::build_here(texts, wheres, schema, config))
                .map(|h| h.join())
        })
        .ok()
        .and_then(Result::ok)
        // Spawning can only fail when the system is out of threads or memory:
        // check on this thread then, with its own stack.
        .unwrap_or_else(|| RuleSet::build_here(texts, wheres, schema, config))
    }

    fn build_here(
        texts: &[(String, String)],
        wheres: &[String],
        schema: &Schema,
        config: &Config,
    ) -> RuleSet {
        let mut sources = SourceMap::new();
        let mut modules = Vec::new();
        let mut diagnostics = Vec::new();
        let mut total = 0usize;
        for (name, text) in texts {
            let id = sources.add(name.clone(), text.as_str());
            total = total.saturating_add(text.len());
            if total > MAX_RULE_TEXT_BYTES {
                let cut = crate::source::head_len(text, 80);
                diagnostics.push(
                    Diagnostic::new(
                        Code::TooLarge,
                        crate::source::Span::new(id, 0, cut),
                        format!(
                            "the rule files come to more than {} MiB; this file is not checked",
                            MAX_RULE_TEXT_BYTES >> 20
                        ),
                    )
                    .label("past the limit")
                    .help("rule sets are kilobytes; is this a data file given as a rule file?"),
                );
                modules.push((
                    id,
                    syntax::ast::Module {
                        items: Vec::new(),
                        broken_names: Vec::new(),
                    },
                ));
                continue;
            }
            // Parse the text as the source map keeps it (lone CRs made LFs),
            // so positions in every output agree.
            let text = sources.get(id).text.clone();
            let (module, diags) = syntax::parse(id, &text);
            diagnostics.extend(diags);
            modules.push((id, module));
        }
        for (k, text) in wheres.iter().enumerate() {
            let name = filter_name(k, wheres.len());
            let id = sources.add(name.clone(), text.as_str());
            let text = sources.get(id).text.clone();
            let (body, diags) = syntax::parse_expr(id, &text);
            diagnostics.extend(diags.into_iter().map(|d| match d.code {
                Code::Syntax if d.help.is_none() => {
                    d.help("`--where` takes one expression, e.g. `vram_gb >= 24`")
                }
                _ => d,
            }));
            if let Some(body) = body {
                modules.push((id, filter_module(name, body)));
            }
        }
        // `field` declarations extend the schema for the whole rule set:
        // the rules are checked, and the data read, with the extended one.
        let (schema, field_diags) = check::fields::extend_schema(&modules, schema);
        diagnostics.extend(field_diags);
        let schema = Arc::new(schema);
        // The texts of the user's config layers are sources too, so W404
        // can point into them (one per layer, `None` for the others).
        let config_files: Vec<Option<FileId>> = config
            .layers
            .iter()
            .map(|l| match &l.text {
                Some(text) if l.from_user => Some(sources.add(l.name.clone(), text.clone())),
                _ => None,
            })
            .collect();
        // Taken before the checker consumes the modules (it drops each
        // syntax tree once checked).
        let tests = check::ruletests::tests_of(&modules)
            .into_iter()
            .cloned()
            .collect();
        let mut checked = check::check(modules, &schema, config, &config_files);
        diagnostics.extend(checked.diagnostics);
        diagnostics.sort_by_key(|d| (d.span.file, d.span.start));
        // The hidden `--where` rules are compiled with the rest, but are
        // not output columns.
        let program = &mut checked.program;
        let filter_items: Vec<u32> = (0..wheres.len())
            .filter_map(|k| {
                let name = filter_name(k, wheres.len());
                program.items.iter().position(|i| i.name == name)
            })
            .map(|i| i as u32)
            .collect();
        // A test's `expect`s are hidden rules too: `glyphsieve test` runs them.
        program.outputs.retain(|o| {
            !filter_items.contains(&o.0)
                && !check::ruletests::is_test_item(&program.items[o.0 as usize].name)
        });
        let has_errors = diagnostics.iter().any(Diagnostic::is_error);
        let program = Arc::new(checked.program);
        let compiled = (!has_errors).then(|| Arc::new(compile_keeping(&program, &schema)));
        RuleSet {
            schema,
            sources,
            diagnostics,
            program,
            compiled,
            filter_items,
            tests,
        }
    }

    /// One bool heuristic per `--where` text, in the order given (empty when
    /// there are errors): [`Job::filters`](crate::data::pipeline::Job::filters).
    pub fn filters(&self) -> Vec<RuleHeuristic> {
        match &self.compiled {
            Some(c) => self
                .filter_items
                .iter()
                .map(|&item| RuleHeuristic::filter(c, item))
                .collect(),
            None => Vec::new(),
        }
    }

    pub fn has_errors(&self) -> bool {
        self.compiled.is_none()
    }

    /// One heuristic per rule, in output order (empty when there are errors).
    pub fn heuristics(&self) -> Vec<RuleHeuristic> {
        match &self.compiled {
            Some(c) => RuleHeuristic::all(c),
            None => Vec::new(),
        }
    }
}

//! Check: name resolution, types and lints over parsed modules. Produces the
//! typed [`Program`] and every diagnostic at once.

mod builtins;
mod diagnostics;
mod expr;
pub mod fields;
pub mod ir;
mod lints;
pub mod pattern;
pub mod ruletests;

pub use ir::*;
// The language server shows the builtins in hover and completion.
pub(crate) use builtins::BUILTINS;

use crate::config::Config;
use crate::diagnostic::{Diagnostic, NameIndex, SUGGESTION_BUDGET};
use crate::schema::Schema;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Expr, ExprKind, ItemKind, Module};
use crate::types::{EnumId, Type};
use std::collections::{HashMap, HashSet};

/// What checking a rule set gives: the program (usable when there are no
/// errors) and the diagnostics, in source order.
pub struct Checked {
    pub program: Program,
    pub diagnostics: Vec<Diagnostic>,
}

/// Whether `name` is a hidden `--where` item's (`rules::filter_name` gives
/// them: `--where`, `--where #2`, ...; no rule can be named so).
pub fn is_filter_item(name: &str) -> bool {
    name.starts_with("--where")
}

/// Check parsed modules against a row schema and a config. `config_files`
/// is where each config layer's text sits in the source map, by layer (for
/// unused-key warnings; `None` for a layer that gets none).
///
/// Takes the modules by value: each item's syntax tree is dropped as soon
/// as its typed tree is built, so the two are never both whole in memory
/// (on a 50,000-rule file that halves the front end's peak).
pub fn check(
    modules: Vec<(FileId, Module)>,
    schema: &Schema,
    config: &Config,
    config_files: &[Option<FileId>],
) -> Checked {
    let mut c = Checker {
        schema,
        config,
        config_files,
        diags: Vec::new(),
        enums: Vec::new(),
        enum_by_name: HashMap::new(),
        variants: HashMap::new(),
        decls: Vec::new(),
        by_name: HashMap::new(),
        broken: modules
            .iter()
            .flat_map(|(_, m)| m.broken_names.iter().cloned())
            .collect(),
        types: Vec::new(),
        cfg_used: HashSet::new(),
        cfg_unknown: HashSet::new(),
        regexes: Vec::new(),
        regex_bytes: 0,
        deps: Vec::new(),
        let_used: HashSet::new(),
        suggestions: HashMap::new(),
        suggestion_budget: SUGGESTION_BUDGET,
    };
    let tests = c.declare(modules);
    let order = c.order();
    let mut bodies: Vec<Option<TExpr>> = vec![None; c.decls.len()];
    let mut deps: Vec<Vec<ItemId>> = vec![Vec::new(); c.decls.len()];
    for &id in &order {
        let (body, d) = c.check_item(id);
        bodies[id.0 as usize] = Some(body);
        deps[id.0 as usize] = d;
    }
    c.check_tests(&tests);
    c.unused_lets();
    c.unused_cfg_keys();

    let outputs = (0..c.decls.len())
        .filter(|&i| c.decls[i].rule.is_some())
        .map(|i| ItemId(i as u32))
        .collect();
    // The declarations are done with: their names move into the items.
    // (`collect` reuses the declarations' buffer, sized in `declare`.)
    let items = std::mem::take(&mut c.decls)
        .into_iter()
        .zip(bodies)
        .zip(deps)
        .enumerate()
        .map(|(i, ((d, body), deps))| CheckedItem {
            body: body.unwrap_or_else(|| TExpr::error(d.name.span)),
            name: d.name.name,
            span: d.name.span,
            ty: c.types[i].unwrap_or(Type::Error),
            rule: d.rule.map(|r| RuleInfo { default: r.default }),
            deps,
        })
        .collect();
    let mut diagnostics = std::mem::take(&mut c.diags);
    diagnostics.sort_by_key(|d| (d.span.file, d.span.start, d.code.severity()));
    Checked {
        program: Program {
            enums: c.enums,
            items,
            outputs,
            regexes: c.regexes,
        },
        diagnostics,
    }
}

/// A let or rule to check. It owns its syntax trees until they are checked
/// (then they are dropped: see [`check`]).
struct Decl {
    name: ast::Ident,
    body: Option<Expr>,
    rule: Option<RuleDecl>,
}

struct RuleDecl {
    ty: Type,
    default_expr: Option<Expr>,
    default: Option<Const>,
}

pub(crate) struct Checker<'a> {
    schema: &'a Schema,
    config: &'a Config,
    config_files: &'a [Option<FileId>],
    diags: Vec<Diagnostic>,
    enums: Vec<EnumInfo>,
    enum_by_name: HashMap<String, EnumId>,
    /// Variant name to the enums that have it.
    variants: HashMap<String, Vec<(EnumId, u32)>>,
    decls: Vec<Decl>,
    by_name: HashMap<String, ItemId>,
    broken: HashSet<String>,
    /// Known item types: rules from their declaration, lets once checked.
    types: Vec<Option<Type>>,
    cfg_used: HashSet<String>,
    /// `cfg.` paths rules read that the config lacks (E102): W404's
    /// did-you-mean looks among these and `cfg_used`.
    cfg_unknown: HashSet<String>,
    regexes: Vec<regex_automata::meta::Regex>,
    /// Heap the regexes compiled so far take (see [`pattern::MAX_ALL_REGEX_BYTES`]).
    regex_bytes: usize,
    /// Items the item being checked reads.
    deps: Vec<ItemId>,
    let_used: HashSet<ItemId>,
    /// "did you mean" indexes, built on first use, by what they search.
    suggestions: HashMap<String, NameIndex>,
    /// Shared by every search (see [`SUGGESTION_BUDGET`]).
    suggestion_budget: u64,
}

impl<'a> Checker<'a> {
    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Collect enums and items; report duplicates and unknown types. The
    /// items' syntax trees move into the declarations; the rest of the
    /// modules is dropped here, but for the tests, which are returned
    /// (their `expect`s taken out: those are declarations).
    fn declare(&mut self, modules: Vec<(FileId, Module)>) -> Vec<ast::TestDef> {
        let mut first_span: HashMap<String, Span> = HashMap::new();
        for (_, m) in &modules {
            for item in &m.items {
                let ItemKind::Enum(e) = &item.kind else {
                    continue;
                };
                if ["bool", "int", "float", "string"].contains(&e.name.name.as_str()) {
                    self.error(diagnostics::builtin_type_name(e.name.span, &e.name.name));
                    continue;
                }
                if self.enum_by_name.contains_key(&e.name.name) {
                    let prev_span = first_span.get(&e.name.name).copied().unwrap_or_default();
                    self.duplicate(&e.name, prev_span, "enum");
                    continue;
                }
                let id = EnumId(self.enums.len() as u32);
                let mut variants: Vec<String> = Vec::new();
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for v in &e.variants {
                    if let Some(&prev) = seen.get(v.name.as_str()) {
                        self.duplicate(v, prev, "variant");
                        continue;
                    }
                    seen.insert(&v.name, v.span);
                    self.variants
                        .entry(v.name.clone())
                        .or_default()
                        .push((id, variants.len() as u32));
                    variants.push(v.name.clone());
                }
                first_span.insert(e.name.name.clone(), e.name.span);
                self.enum_by_name.insert(e.name.name.clone(), id);
                self.enums.push(EnumInfo {
                    name: e.name.name.clone(),
                    variants,
                });
            }
        }
        let mut tests = Vec::new();
        // Sized once: a declaration is large, and doubling leaves up to
        // half the vector unused.
        let expects: usize = ruletests::tests_of(&modules)
            .iter()
            .map(|t| t.expects.len())
            .sum();
        let items: usize = modules.iter().map(|(_, m)| m.items.len()).sum();
        self.decls.reserve_exact(items + expects);
        self.types.reserve_exact(items + expects);
        for (_, m) in modules {
            for item in m.items {
                let (name, body, rule) = match item.kind {
                    // Fields are in the schema already (fields::extend_schema).
                    ItemKind::Enum(_) | ItemKind::Field(_) => continue,
                    // Each `expect` is a hidden bool rule (never an output);
                    // the rest of the test is checked by `check_tests`.
                    ItemKind::Test(mut t) => {
                        for (k, e) in std::mem::take(&mut t.expects).into_iter().enumerate() {
                            self.types.push(Some(Type::Bool));
                            self.decls.push(Decl {
                                name: ast::Ident {
                                    name: ruletests::test_item_name(tests.len(), k),
                                    span: e.span,
                                },
                                body: Some(e),
                                rule: Some(RuleDecl {
                                    ty: Type::Bool,
                                    default_expr: None,
                                    default: None,
                                }),
                            });
                        }
                        tests.push(t);
                        continue;
                    }
                    ItemKind::Let(l) => (l.name, l.body, None),
                    ItemKind::Rule(r) => {
                        let ty = self.declared_type(&r.ty);
                        let rule = RuleDecl {
                            ty,
                            default_expr: r.default,
                            default: None,
                        };
                        (r.name, r.body, Some(rule))
                    }
                };
                if name.name.is_empty() {
                    continue;
                }
                // Every declared item is in `by_name`, so its first
                // declaration's span is there too.
                if let Some(&prev) = self.by_name.get(&name.name) {
                    let prev = self.decls[prev.0 as usize].name.span;
                    self.duplicate(&name, prev, "item");
                    continue;
                }
                if self.schema.slot(&name.name).is_some() {
                    self.error(diagnostics::shadows_field(name.span, &name.name));
                    continue;
                }
                if let Some(owners) = self.variants.get(&name.name) {
                    let owner = self.enums[owners[0].0.0 as usize].name.clone();
                    self.error(diagnostics::shadows_variant(name.span, &name.name, &owner));
                    continue;
                }
                let id = ItemId(self.decls.len() as u32);
                self.by_name.insert(name.name.clone(), id);
                self.types.push(rule.as_ref().map(|r| r.ty));
                self.decls.push(Decl {
                    name,
                    body: Some(body),
                    rule,
                });
            }
        }
        tests
    }

    fn duplicate(&mut self, name: &ast::Ident, first: Span, what: &str) {
        self.error(diagnostics::duplicate(name.span, &name.name, first, what));
    }

    fn declared_type(&mut self, ty: &ast::Ident) -> Type {
        match ty.name.as_str() {
            "bool" => Type::Bool,
            "int" => Type::Int,
            "float" => Type::Float,
            "string" => Type::Str,
            "" => Type::Error,
            name => match self.enum_by_name.get(name) {
                Some(&id) => Type::Enum(id),
                // An enum that failed to parse: its error is reported already.
                None if self.broken.contains(name) => Type::Error,
                None => {
                    let help = self.suggest("types", name, |c| {
                        let mut types: Vec<String> = ["bool", "int", "float", "string"]
                            .map(String::from)
                            .to_vec();
                        types.extend(c.enums.iter().map(|e| e.name.clone()));
                        types
                    });
                    self.error(diagnostics::unknown_type(ty.span, name, help));
                    Type::Error
                }
            },
        }
    }

    /// Items in dependency order; cycles are reported and their items come last.
    fn order(&mut self) -> Vec<ItemId> {
        let n = self.decls.len();
        let direct: Vec<Vec<(ItemId, Span)>> = self
            .decls
            .iter()
            .map(|d| {
                let mut refs = Vec::new();
                if let Some(body) = &d.body {
                    collect_item_refs(body, &self.by_name, &mut refs);
                }
                refs
            })
            .collect();
        lints::order_or_report_cycles(self, &direct, n)
    }

    fn check_item(&mut self, id: ItemId) -> (TExpr, Vec<ItemId>) {
        self.deps.clear();
        let decl = &mut self.decls[id.0 as usize];
        // Taken out, so the trees are dropped once their typed trees are
        // built. Each item is checked once, so the body is always there.
        let span = decl.name.span;
        let body_expr = decl.body.take().unwrap_or(Expr {
            kind: ExprKind::Error,
            span,
        });
        let default_expr = decl.rule.as_mut().and_then(|r| r.default_expr.take());
        let expected = decl.rule.as_ref().map(|r| r.ty);
        let decl = &self.decls[id.0 as usize];
        // A hidden `--where` rule (named so no rule can be) is a bool the
        // user typed on the command line, not a declared type.
        let context = if is_filter_item(&decl.name.name) {
            "`--where`, which keeps the rows where it is true,"
        } else if ruletests::is_test_item(&decl.name.name) {
            "`expect`, which must be true on the test's row,"
        } else {
            "the rule's declared type"
        };
        let body = match expected {
            Some(ty) => {
                let e = self.expr(&body_expr, Some(ty));
                self.coerce(e, ty, context)
            }
            None => self.expr(&body_expr, None),
        };
        if expected.is_none() {
            self.types[id.0 as usize] = Some(body.ty);
        }
        if let (Some(ty), Some(d)) = (expected, default_expr) {
            let default = self.default_value(&d, ty);
            if let Some(r) = self.decls[id.0 as usize].rule.as_mut() {
                r.default = default;
            }
        }
        let mut deps = std::mem::take(&mut self.deps);
        deps.sort();
        deps.dedup();
        (body, deps)
    }

    fn default_value(&mut self, e: &Expr, ty: Type) -> Option<Const> {
        let checked = self.expr(e, Some(ty));
        let fits = checked.ty == ty
            || checked.ty == Type::Error
            || (checked.ty, ty) == (Type::Int, Type::Float);
        if !fits {
            let (found, want) = (self.show(checked.ty), self.show(ty));
            let example = match ty {
                Type::Bool => "default false".to_string(),
                Type::Int => "default 0".to_string(),
                Type::Float => "default 0.0".to_string(),
                Type::Str => "default \"\"".to_string(),
                Type::Enum(id) => format!(
                    "default {}",
                    self.enums[id.0 as usize]
                        .variants
                        .first()
                        .map_or("", String::as_str)
                ),
                Type::Error => String::new(),
            };
            self.error(diagnostics::default_type(e.span, &found, &want, &example));
            return None;
        }
        let checked = self.coerce(checked, ty, "the rule's declared type");
        match checked.kind {
            TKind::Const(c) => Some(c),
            TKind::ToFloat(inner) => match inner.kind {
                TKind::Const(Const::Int(i)) => Some(Const::Float(i as f64)),
                _ => None,
            },
            TKind::Error => None,
            _ => {
                self.error(diagnostics::default_not_literal(e.span));
                None
            }
        }
    }

    /// "did you mean" for `name` among the names `candidates` lists; `set`
    /// names that list, which must be the same at every call with `set`.
    pub(crate) fn suggest(
        &mut self,
        set: &str,
        name: &str,
        candidates: impl FnOnce(&Self) -> Vec<String>,
    ) -> Option<String> {
        if !self.suggestions.contains_key(set) {
            let names = candidates(self);
            let index = NameIndex::new(names.iter().map(String::as_str));
            self.suggestions.insert(set.to_string(), index);
        }
        let index = self.suggestions.get_mut(set)?;
        index.did_you_mean(name, &mut self.suggestion_budget)
    }

    /// Help for an unknown name that a schema field reads as a column.
    pub(crate) fn column_hint(&self, name: &str) -> Option<String> {
        fields::schema_column_hint(name, self.schema)
    }

    pub(crate) fn enum_name(&self, id: EnumId) -> &str {
        &self.enums[id.0 as usize].name
    }

    /// A type as users read it: `float`, or an enum's name.
    pub(crate) fn show(&self, ty: Type) -> String {
        match ty {
            Type::Enum(id) => format!("enum {}", self.enum_name(id)),
            other => other.to_string(),
        }
    }
}

/// Names in `e` that refer to items, with their spans.
fn collect_item_refs(e: &Expr, items: &HashMap<String, ItemId>, out: &mut Vec<(ItemId, Span)>) {
    if let ExprKind::Name(n) = &e.kind
        && let Some(&id) = items.get(n)
    {
        out.push((id, e.span));
    }
    for child in e.children() {
        collect_item_refs(child, items, out);
    }
}

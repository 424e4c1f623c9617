//! A checked rule set compiled to one SQL query (DuckDB, Spark SQL or
//! PostgreSQL) that gives `eval`'s values: cells parsed as `eval` parses
//! them, missing as NULL, and every place where SQL's meaning differs from
//! the language's (CASE on NULL, LEAST skipping NULLs, division by zero,
//! rounding, byte order of strings, int/float comparison) written out.
//!
//! The query reads the table `t` and adds columns through a chain of
//! `LATERAL` subqueries, one per depth: a value read more than once (a
//! `let`, a rule read by a rule, the condition of an `if`) is a column of
//! an earlier subquery, so nothing is inlined twice and the query grows
//! linearly with the rules.

mod regex;

use crate::check::{Builtin, Const, ItemId, Program, TExpr, TKind};
use crate::ops::{Arith, CmpOp};
use crate::schema::{FieldType, Schema};
use crate::source::Span;
use crate::types::Type;
use crate::value::Val;
use std::collections::HashMap;
use std::fmt::Write;

/// The SQL engine a query is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    DuckDb,
    Spark,
    Postgres,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Spark => "spark",
            Dialect::Postgres => "postgres",
        }
    }
}

/// What the query reads and how it treats a bad cell.
#[derive(Debug, Clone)]
pub struct Options {
    pub dialect: Dialect,
    /// The relation read, as SQL text (a table name, or in DuckDB
    /// `read_csv('x.csv', all_varchar = true)`).
    pub table: String,
    /// A cell that does not read as its field's type is NULL, not an error.
    pub lenient: bool,
    /// The data's header, to pick each field's column (first present wins);
    /// `None`: each field reads its first column.
    pub header: Option<Vec<String>>,
    /// Comment lines for the query's head (settings used).
    pub notes: Vec<String>,
}

/// A construct the dialect cannot compute exactly as `eval` does.
#[derive(Debug, Clone)]
pub struct Untranslatable {
    pub span: Span,
    pub what: String,
}

/// The largest finite double, for overflow checks (`eval`'s E501).
const MAX_DOUBLE: &str = "1.7976931348623157e308";

/// The bool words that read as `value`, as an SQL list: `'true', 'yes', '1'`.
fn bool_words(value: bool) -> String {
    crate::cell::BOOL_WORDS
        .iter()
        .filter(|&&(_, b)| b == value)
        .map(|(w, _)| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The query for `outputs` (rule ids, in output order).
pub fn compile(
    program: &Program,
    schema: &Schema,
    outputs: &[ItemId],
    options: &Options,
) -> Result<String, Vec<Untranslatable>> {
    let mut b = Builder {
        d: options.dialect,
        opts: options,
        program,
        schema,
        layers: Vec::new(),
        next: 0,
        fields: HashMap::new(),
        items: HashMap::new(),
        errors: Vec::new(),
        guards: Vec::new(),
    };
    let mut cols = Vec::new();
    for &id in outputs {
        let s = b.item(id);
        let item = &program.items[id.0 as usize];
        let mut sql = s.sql;
        if let Some(Some(default)) = item.rule.as_ref().map(|r| r.default.as_ref()) {
            sql = format!("COALESCE({sql}, {})", b.constant(default));
        }
        let sql = format!("CAST({sql} AS {})", b.type_name(item.ty));
        cols.push(format!("{sql} AS {}", b.ident(&item.name)));
    }
    if !b.errors.is_empty() {
        return Err(b.errors);
    }
    let mut q = String::new();
    b.header(&mut q);
    q.push_str("SELECT t.*");
    for c in &cols {
        let _ = write!(q, ",\n  {c}");
    }
    let _ = write!(q, "\nFROM {} AS t", options.table);
    for (k, layer) in b.layers.iter().enumerate() {
        if layer.is_empty() {
            continue;
        }
        let _ = write!(q, ",\nLATERAL (SELECT");
        for (n, (name, sql)) in layer.iter().enumerate() {
            let sep = if n == 0 { "" } else { "," };
            let _ = write!(q, "{sep}\n    {sql} AS {name}");
        }
        // OFFSET 0 keeps PostgreSQL from pulling the subquery up into the
        // expressions that read it: each column is computed once per row,
        // as eval computes a let, overflow included.
        let fence = if b.d == Dialect::Postgres {
            " OFFSET 0"
        } else {
            ""
        };
        let _ = write!(q, "{fence}) AS x{}", k + 1);
    }
    q.push('\n');
    Ok(q)
}

/// A translated expression: its SQL, the deepest layer it reads (0: only
/// the table), and whether it is a column or literal (cheap to repeat).
#[derive(Debug, Clone)]
struct S {
    sql: String,
    layer: usize,
    simple: bool,
}

impl S {
    fn lit(sql: impl Into<String>) -> S {
        S {
            sql: sql.into(),
            layer: 0,
            simple: true,
        }
    }
    fn expr(sql: String, parts: &[&S]) -> S {
        S {
            sql,
            layer: parts.iter().map(|p| p.layer).max().unwrap_or(0),
            simple: false,
        }
    }
}

struct Builder<'a> {
    d: Dialect,
    opts: &'a Options,
    program: &'a Program,
    schema: &'a Schema,
    /// Columns of each LATERAL subquery (`layers[k]` is `x{k+1}`).
    layers: Vec<Vec<(String, String)>>,
    next: usize,
    fields: HashMap<usize, S>,
    items: HashMap<ItemId, S>,
    errors: Vec<Untranslatable>,
    /// Conditions under which the expression being translated is evaluated
    /// at all (a branch of an `if`, the right side of `and`/`or`, a later
    /// argument of `coalesce`): a hoisted column computes only under them,
    /// so an overflow `eval` never reaches is not raised either.
    guards: Vec<S>,
}

impl Builder<'_> {
    /// `s` as a column of the layer after the ones it reads.
    fn hoist(&mut self, s: S) -> S {
        if s.simple {
            return s;
        }
        let mut s = s;
        if !self.guards.is_empty() {
            let conds: Vec<&str> = self.guards.iter().map(|g| g.sql.as_str()).collect();
            let deepest = self.guards.iter().map(|g| g.layer).max().unwrap_or(0);
            s = S {
                sql: format!(
                    "CASE WHEN {} THEN {} ELSE NULL END",
                    conds.join(" AND "),
                    s.sql
                ),
                layer: s.layer.max(deepest),
                simple: false,
            };
        }
        let layer = s.layer + 1;
        while self.layers.len() < layer {
            self.layers.push(Vec::new());
        }
        let name = format!("c{}", self.next);
        self.next += 1;
        self.layers[layer - 1].push((name.clone(), s.sql));
        S {
            sql: format!("x{layer}.{name}"),
            layer,
            simple: true,
        }
    }

    fn ident(&self, name: &str) -> String {
        match self.d {
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    fn str_lit(&self, s: &str) -> String {
        match self.d {
            // Spark reads backslash escapes in string literals.
            Dialect::Spark => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            _ => format!("'{}'", s.replace('\'', "''")),
        }
    }

    fn type_name(&self, ty: Type) -> &'static str {
        match (ty, self.d) {
            (Type::Bool, _) => "BOOLEAN",
            (Type::Int, _) => "BIGINT",
            (Type::Float, Dialect::Postgres) => "double precision",
            (Type::Float, _) => "DOUBLE",
            (_, Dialect::DuckDb) => "VARCHAR",
            (_, Dialect::Spark) => "STRING",
            (_, Dialect::Postgres) => "text",
        }
    }

    fn double(&self, f: f64) -> String {
        format!("CAST('{f:?}' AS {})", self.type_name(Type::Float))
    }

    fn constant(&self, c: &Const) -> String {
        match c {
            Const::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            Const::Int(i) => format!("CAST('{i}' AS BIGINT)"),
            Const::Float(f) => self.double(*f),
            Const::Str(s) => self.str_lit(s),
            Const::Enum(e, v) => {
                let name = &self.program.enums[e.0 as usize].variants[*v as usize];
                self.str_lit(name)
            }
        }
    }

    /// An expression that stops the query with `message` (SQL text of a
    /// string), typed `ty` where the engine needs it.
    fn fail(&self, message: &str, ty: Type) -> String {
        match self.d {
            Dialect::DuckDb => format!("error({message})"),
            Dialect::Spark => format!("raise_error({message})"),
            // No raising function without a CREATE FUNCTION: a cast of the
            // message fails with the message in the engine's error.
            Dialect::Postgres => format!("CAST({message} AS {})", self.type_name(ty)),
        }
    }

    /// The dialect's length-in-bytes function.
    fn byte_length(&self) -> &'static str {
        match self.d {
            Dialect::DuckDb => "strlen",
            Dialect::Spark | Dialect::Postgres => "octet_length",
        }
    }

    fn regex_full(&self, s: &str, pattern: &str) -> String {
        match self.d {
            Dialect::DuckDb => format!("regexp_full_match({s}, '{pattern}')"),
            Dialect::Spark => format!("({s} RLIKE '^{pattern}$')"),
            Dialect::Postgres => format!("({s} ~ '^{pattern}$')"),
        }
    }

    fn regex_find(&self, s: &str, pattern: &str) -> String {
        match self.d {
            Dialect::DuckDb => format!("regexp_matches({s}, {})", self.str_lit(pattern)),
            Dialect::Spark => format!("({s} RLIKE {})", self.str_lit(pattern)),
            Dialect::Postgres => format!("({s} ~ {})", self.str_lit(pattern)),
        }
    }

    /// The cell of schema slot `slot`, read as `eval` reads it.
    fn field(&mut self, slot: usize) -> S {
        if let Some(s) = self.fields.get(&slot) {
            return s.clone();
        }
        // Every cell a rule reads is parsed on every row, as eval parses it.
        let guards = std::mem::take(&mut self.guards);
        let v = self.parse_field(slot);
        self.guards = guards;
        self.fields.insert(slot, v.clone());
        v
    }

    fn parse_field(&mut self, slot: usize) -> S {
        let schema = self.schema;
        let def = schema.field(slot);
        let column = match &self.opts.header {
            Some(h) => def.columns.iter().find(|c| h.contains(c)),
            None => def.columns.first(),
        }
        .cloned()
        .unwrap_or_else(|| def.name.clone());
        let raw = S::lit(format!("COALESCE(t.{}, '')", self.ident(&column)));
        let ws = "' ' || chr(9) || chr(10) || chr(12) || chr(13)";
        let trimmed = match self.d {
            Dialect::DuckDb => format!("trim({}, {ws})", raw.sql),
            _ => format!("btrim({}, {ws})", raw.sql),
        };
        let t = self.hoist(S::expr(trimmed, &[&raw]));
        let markers: Vec<String> = def
            .nulls
            .text_markers()
            .iter()
            .map(|m| self.str_lit(&String::from_utf8_lossy(m)))
            .collect();
        // ASCII case is ignored: lower() must not have changed a
        // non-ASCII character into an ASCII one (the Kelvin sign).
        let is_marker = if markers.is_empty() {
            "FALSE".to_string()
        } else {
            let len = self.byte_length();
            format!(
                "(lower({t}) IN ({}) AND {len}(lower({t})) = {len}({t}))",
                markers.join(", "),
                t = t.sql
            )
        };
        let tq = &t.sql;
        let bad = |b: &Self, what: &str, ty: Type| {
            let msg = format!(
                "{} || {tq} || {}",
                b.str_lit(&format!(
                    "glyphsieve: field {} (column {column}): cannot read \"",
                    def.name
                )),
                b.str_lit(&format!("\" as {what}"))
            );
            // `--lenient`: a cell that does not read is missing, as in eval.
            match b.opts.lenient {
                true => "NULL".to_string(),
                false => b.fail(&msg, ty),
            }
        };
        let num = "[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?";
        let value = match def.ty {
            FieldType::String => format!("CASE WHEN {is_marker} THEN NULL ELSE {} END", raw.sql),
            FieldType::Float => {
                let d = self.type_name(Type::Float);
                format!(
                    "CASE WHEN {is_marker} THEN NULL WHEN {} AND abs(CAST({tq} AS {d})) <= {MAX_DOUBLE} THEN CAST({tq} AS {d}) ELSE {} END",
                    self.regex_full(tq, num),
                    bad(self, "float", Type::Float)
                )
            }
            FieldType::Int => {
                let d = self.type_name(Type::Float);
                let strip = format!("regexp_replace({tq}, '[.]0*$', '')");
                format!(
                    "CASE WHEN {is_marker} THEN NULL \
WHEN {} THEN CAST({tq} AS BIGINT) \
WHEN {} THEN CAST({strip} AS BIGINT) \
WHEN {} THEN CAST(0 AS BIGINT) \
WHEN {} AND abs(CAST({tq} AS {d})) < 9007199254740992.0 AND CAST({tq} AS {d}) = floor(CAST({tq} AS {d})) THEN CAST(CAST({tq} AS {d}) AS BIGINT) \
ELSE {} END",
                    self.regex_full(tq, "[+-]?[0-9]+"),
                    self.regex_full(tq, "[+-]?[0-9]+[.]0*"),
                    self.regex_full(tq, "[+-]?[.]0+"),
                    // An exponent with at most 15 significant digits: the
                    // double is exact, so whole or not is read right.
                    self.regex_full(tq, "[+-]?[0-9.]{1,16}[eE][+-]?[0-9]+"),
                    bad(self, "int", Type::Int)
                )
            }
            FieldType::Bool => {
                let d = self.type_name(Type::Float);
                format!(
                    "CASE WHEN {is_marker} THEN NULL \
WHEN lower({tq}) IN ({trues}) AND {len}({tq}) = {len}(lower({tq})) THEN TRUE \
WHEN lower({tq}) IN ({falses}) AND {len}({tq}) = {len}(lower({tq})) THEN FALSE \
WHEN {} AND abs(CAST({tq} AS {d})) <= {MAX_DOUBLE} THEN {} \
ELSE {} END",
                    self.regex_full(tq, num),
                    self.regex_full(tq, "[^eE]*[1-9].*"),
                    bad(self, "bool", Type::Bool),
                    trues = bool_words(true),
                    falses = bool_words(false),
                    len = self.byte_length(),
                )
            }
        };
        let mut v = self.hoist(S::expr(value, &[&t]));
        let values = def.nulls.value_markers();
        if !values.is_empty() && matches!(def.ty, FieldType::Int | FieldType::Float) {
            let list: Vec<String> = values
                .iter()
                .map(|m| match m {
                    Val::Int(i) => format!("CAST('{i}' AS BIGINT)"),
                    Val::Float(f) => self.double(*f),
                    _ => "NULL".into(),
                })
                .collect();
            let e = format!(
                "CASE WHEN {v} IN ({}) THEN NULL ELSE {v} END",
                list.join(", "),
                v = v.sql
            );
            v = self.hoist(S::expr(e, &[&v]));
        }
        v
    }

    fn item(&mut self, id: ItemId) -> S {
        if let Some(s) = self.items.get(&id) {
            return s.clone();
        }
        let program = self.program;
        let body = &program.items[id.0 as usize].body;
        // A let is computed where it is first read; eval computes it when
        // a rule reads it, whatever branch that is in.
        let guards = std::mem::take(&mut self.guards);
        let s = self.expr(body);
        let s = self.hoist(s);
        self.guards = guards;
        self.items.insert(id, s.clone());
        s
    }

    fn refuse(&mut self, span: Span, what: String) -> S {
        self.errors.push(Untranslatable { span, what });
        S::lit("NULL")
    }

    fn expr(&mut self, e: &TExpr) -> S {
        match &e.kind {
            TKind::Const(c) => S::lit(self.constant(c)),
            TKind::Field(slot) => self.field(*slot),
            TKind::Item(id) => self.item(*id),
            TKind::ToFloat(x) => {
                let x = self.expr(x);
                S::expr(
                    format!("CAST({} AS {})", x.sql, self.type_name(Type::Float)),
                    &[&x],
                )
            }
            TKind::Neg(x) => {
                let x = self.expr(x);
                S::expr(format!("(- {})", x.sql), &[&x])
            }
            TKind::Not(x) => {
                let x = self.expr(x);
                S::expr(format!("(NOT {})", x.sql), &[&x])
            }
            TKind::And(a, b) | TKind::Or(a, b) => {
                // `false and X`, `true or X`: X is not evaluated.
                let and = matches!(e.kind, TKind::And(..));
                let a = self.expr(a);
                let a = self.hoist(a);
                let guard = match and {
                    true => format!("COALESCE({}, TRUE)", a.sql),
                    false => format!("NOT COALESCE({}, FALSE)", a.sql),
                };
                self.guards.push(S::expr(guard, &[&a]));
                let b = self.expr(b);
                self.guards.pop();
                let sql = match and {
                    true => format!(
                        "CASE WHEN NOT {a} THEN FALSE ELSE ({a} AND {}) END",
                        b.sql,
                        a = a.sql
                    ),
                    false => format!(
                        "CASE WHEN {a} THEN TRUE ELSE ({a} OR {}) END",
                        b.sql,
                        a = a.sql
                    ),
                };
                S::expr(sql, &[&a, &b])
            }
            TKind::Arith { op, lhs, rhs } => self.arith(*op, lhs, rhs, e.span),
            TKind::Cmp { op, lhs, rhs } => self.cmp(*op, lhs, rhs),
            TKind::In {
                negated,
                value,
                list,
            } => {
                if list.is_empty() {
                    // Missing when the value is, else not found. The value is
                    // a column of its own: its overflow must still be raised.
                    let v = self.expr(value);
                    let v = self.hoist(v);
                    let found = if *negated { "TRUE" } else { "FALSE" };
                    return S::expr(
                        format!("CASE WHEN {} IS NULL THEN NULL ELSE {found} END", v.sql),
                        &[&v],
                    );
                }
                if list.iter().any(|x| x.ty != value.ty) {
                    // An int and a float compare by exact value: `=` each.
                    let v = self.expr(value);
                    let v = self.hoist(v);
                    let mut ors = Vec::new();
                    let mut parts = vec![v.clone()];
                    for x in list {
                        let c = self.cmp_s(CmpOp::Eq, &v, value.ty, x);
                        ors.push(c.sql.clone());
                        parts.push(c);
                    }
                    let refs: Vec<&S> = parts.iter().collect();
                    let not = if *negated { "NOT " } else { "" };
                    return S::expr(format!("({not}({}))", ors.join(" OR ")), &refs);
                }
                let v = self.expr(value);
                let items: Vec<S> = list.iter().map(|x| self.expr(x)).collect();
                let mut parts: Vec<&S> = items.iter().collect();
                parts.push(&v);
                let not = if *negated { "NOT " } else { "" };
                let texts: Vec<&str> = items.iter().map(|s| s.sql.as_str()).collect();
                S::expr(
                    format!("({} {not}IN ({}))", v.sql, texts.join(", ")),
                    &parts,
                )
            }
            TKind::If {
                cond,
                then,
                otherwise,
            } => {
                // SQL's CASE takes ELSE on a NULL condition; `if` is missing.
                let c = self.expr(cond);
                let c = self.hoist(c);
                self.guards.push(c.clone());
                let a = self.expr(then);
                self.guards.pop();
                self.guards.push(S::expr(format!("NOT {}", c.sql), &[&c]));
                let b = self.expr(otherwise);
                self.guards.pop();
                S::expr(
                    format!(
                        "CASE WHEN {c} THEN {} WHEN NOT {c} THEN {} ELSE NULL END",
                        a.sql,
                        b.sql,
                        c = c.sql
                    ),
                    &[&c, &a, &b],
                )
            }
            TKind::Call { func, args } => self.call(*func, args, e),
            TKind::Error => self.refuse(e.span, "an expression with an error".into()),
        }
    }

    fn arith(&mut self, op: Arith, lhs: &TExpr, rhs: &TExpr, span: Span) -> S {
        let (a, b) = (self.expr(lhs), self.expr(rhs));
        let (x, y) = (&a.sql, &b.sql);
        let sql = match op {
            Arith::AddInt | Arith::AddFloat => format!("({x} + {y})"),
            Arith::SubInt | Arith::SubFloat => format!("({x} - {y})"),
            Arith::MulInt | Arith::MulFloat => format!("({x} * {y})"),
            // By zero: missing, where DuckDB, Spark (ANSI) and PostgreSQL raise.
            Arith::RemInt => format!("({x} % NULLIF({y}, 0))"),
            Arith::DivFloat => format!("({x} / NULLIF({y}, 0))"),
            Arith::RemFloat => match self.d {
                Dialect::Postgres => {
                    return self.refuse(
                        span,
                        "`%` on floats (PostgreSQL has no exact remainder of double precision values)"
                            .into(),
                    );
                }
                _ => format!("({x} % NULLIF({y}, 0))"),
            },
        };
        let s = S::expr(sql, &[&a, &b]);
        let float = matches!(
            op,
            Arith::AddFloat | Arith::SubFloat | Arith::MulFloat | Arith::DivFloat | Arith::RemFloat
        );
        // PostgreSQL raises on a float overflow itself; DuckDB and Spark
        // give infinity, which `eval` reports as E501.
        if float && self.d != Dialect::Postgres {
            let r = self.hoist(s);
            let msg = self.str_lit("glyphsieve: E501 float overflow");
            return S::expr(
                format!(
                    "CASE WHEN {r} IS NULL OR abs({r}) <= {MAX_DOUBLE} THEN {r} ELSE {} END",
                    self.fail(&msg, Type::Float),
                    r = r.sql
                ),
                &[&r],
            );
        }
        s
    }

    fn cmp(&mut self, op: CmpOp, lhs: &TExpr, rhs: &TExpr) -> S {
        let a = self.expr(lhs);
        self.cmp_s(op, &a, lhs.ty, rhs)
    }

    /// `a` (translated, of type `aty`) compared with `rhs`.
    fn cmp_s(&mut self, op: CmpOp, a: &S, aty: Type, rhs: &TExpr) -> S {
        let sym = match op {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        };
        let ordering = !matches!(op, CmpOp::Eq | CmpOp::Ne);
        let b = self.expr(rhs);
        match (aty, rhs.ty) {
            (Type::Int, Type::Float) | (Type::Float, Type::Int) => {
                let swap = aty == Type::Float;
                let (a, b) = (self.hoist(a.clone()), self.hoist(b));
                let (i, f) = if swap { (&b, &a) } else { (&a, &b) };
                let ord = self.int_float(&i.sql, &f.sql);
                // `ord` orders the int against the float.
                let (l, r) = if swap {
                    ("0", ord.as_str())
                } else {
                    (ord.as_str(), "0")
                };
                S::expr(format!("({l} {sym} {r})"), &[&a, &b])
            }
            (Type::Enum(id), _) if ordering => {
                let variants = &self.program.enums[id.0 as usize].variants;
                let index = |s: &S, me: &Self| {
                    let arms: Vec<String> = variants
                        .iter()
                        .enumerate()
                        .map(|(k, v)| format!("WHEN {} THEN {k}", me.str_lit(v)))
                        .collect();
                    format!("(CASE {} {} END)", s.sql, arms.join(" "))
                };
                let sql = format!("({} {sym} {})", index(a, self), index(&b, self));
                S::expr(sql, &[a, &b])
            }
            (Type::Str, _) if ordering && self.d == Dialect::Postgres => S::expr(
                format!("(({}) COLLATE \"C\" {sym} ({}))", a.sql, b.sql),
                &[a, &b],
            ),
            _ => S::expr(format!("({} {sym} {})", a.sql, b.sql), &[a, &b]),
        }
    }

    /// -1, 0 or 1: the int `i` against the float `f` by exact value (a
    /// cast to DOUBLE would round the int), NULL when either is.
    fn int_float(&self, i: &str, f: &str) -> String {
        let lim = self.double(9_223_372_036_854_775_808.0);
        format!(
            "(CASE WHEN {i} IS NULL OR {f} IS NULL THEN NULL \
WHEN {f} >= {lim} THEN -1 WHEN {f} < -{lim} THEN 1 \
WHEN {i} < CAST(floor({f}) AS BIGINT) THEN -1 \
WHEN {i} > CAST(floor({f}) AS BIGINT) THEN 1 \
WHEN {f} > floor({f}) THEN -1 ELSE 0 END)"
        )
    }

    /// `CAST(x AS BIGINT)` of a whole float, or E501 when it is past the
    /// int range (Spark's floor would saturate).
    fn to_int(&self, x: &str, whole: String) -> String {
        let lim = self.double(9_223_372_036_854_775_808.0);
        // The value in the message keeps PostgreSQL from folding the
        // failing cast when it plans the query.
        let msg = format!(
            "{} || CAST({x} AS {})",
            self.str_lit("glyphsieve: E501 int overflow: "),
            self.type_name(Type::Str)
        );
        format!(
            "CASE WHEN {x} IS NULL THEN NULL WHEN {x} >= -{lim} AND {x} < {lim} THEN CAST({whole} AS BIGINT) ELSE {} END",
            self.fail(&msg, Type::Int)
        )
    }

    fn call(&mut self, func: Builtin, args: &[TExpr], e: &TExpr) -> S {
        let float_arg = args.first().map(|a| a.ty) == Some(Type::Float);
        match func {
            Builtin::Floor | Builtin::Ceil | Builtin::Round if !float_arg => self.expr(&args[0]),
            Builtin::Floor | Builtin::Ceil | Builtin::Round => {
                let x = self.expr(&args[0]);
                let x = self.hoist(x);
                let v = &x.sql;
                let whole = match func {
                    Builtin::Floor => format!("floor({v})"),
                    Builtin::Ceil => format!("ceil({v})"),
                    // Half away from zero, on the exact fraction (x - floor(x)
                    // is exact): floor(x + 0.5) is wrong for 0.49999999999999994
                    // and PostgreSQL's round(double precision) is half even.
                    _ => format!(
                        "(CASE WHEN {v} < 0 THEN -(floor(-{v}) + CASE WHEN -{v} - floor(-{v}) >= 0.5 THEN 1 ELSE 0 END) \
ELSE floor({v}) + CASE WHEN {v} - floor({v}) >= 0.5 THEN 1 ELSE 0 END END)"
                    ),
                };
                S::expr(self.to_int(v, whole), &[&x])
            }
            Builtin::RoundTo => self.refuse(
                e.span,
                "`round(x, digits)` (no engine rounds the exact decimal value of a double to digits as eval does)"
                    .into(),
            ),
            Builtin::Min | Builtin::Max | Builtin::Clamp | Builtin::Abs => {
                // LEAST and GREATEST skip NULLs; these functions are missing then.
                let xs: Vec<S> = args
                    .iter()
                    .map(|a| {
                        let s = self.expr(a);
                        self.hoist(s)
                    })
                    .collect();
                let texts: Vec<&str> = xs.iter().map(|s| s.sql.as_str()).collect();
                let any_null: Vec<String> = texts.iter().map(|t| format!("{t} IS NULL")).collect();
                let v = match func {
                    Builtin::Min => format!("LEAST({})", texts.join(", ")),
                    Builtin::Max => format!("GREATEST({})", texts.join(", ")),
                    Builtin::Abs => return S::expr(format!("abs({})", texts[0]), &[&xs[0]]),
                    _ => format!(
                        "LEAST(GREATEST({}, {}), {})",
                        texts[0], texts[1], texts[2]
                    ),
                };
                let parts: Vec<&S> = xs.iter().collect();
                S::expr(
                    format!(
                        "CASE WHEN {} THEN NULL ELSE {v} END",
                        any_null.join(" OR ")
                    ),
                    &parts,
                )
            }
            Builtin::Coalesce => {
                // Left to right, stopping at the first present value.
                let Some((last, firsts)) = args.split_last() else {
                    return S::lit("NULL");
                };
                let mut heads = Vec::new();
                let pushed = self.guards.len();
                for a in firsts {
                    let x = self.expr(a);
                    let x = self.hoist(x);
                    self.guards.push(S::expr(format!("{} IS NULL", x.sql), &[&x]));
                    heads.push(x);
                }
                let mut sql = self.expr(last);
                self.guards.truncate(pushed);
                for x in heads.iter().rev() {
                    sql = S::expr(
                        format!("CASE WHEN {x} IS NOT NULL THEN {x} ELSE {} END", sql.sql, x = x.sql),
                        &[x, &sql],
                    );
                }
                sql
            }
            Builtin::IsMissing => {
                let x = self.expr(&args[0]);
                S::expr(format!("({} IS NULL)", x.sql), &[&x])
            }
            Builtin::Lower | Builtin::Upper => {
                let x = self.expr(&args[0]);
                // Rust maps these two by full case mapping (to two
                // characters); DuckDB and PostgreSQL map them to one.
                let sql = if func == Builtin::Lower {
                    format!("lower(replace({}, 'İ', 'i\u{307}'))", x.sql)
                } else {
                    format!("upper(replace({}, 'ß', 'SS'))", x.sql)
                };
                S::expr(sql, &[&x])
            }
            Builtin::Contains | Builtin::StartsWith | Builtin::EndsWith => {
                let s = self.expr(&args[0]);
                let p = self.expr(&args[1]);
                let p = if self.d == Dialect::DuckDb {
                    p
                } else {
                    self.hoist(p)
                };
                let (a, b) = (&s.sql, &p.sql);
                let sql = match (func, self.d) {
                    (Builtin::Contains, Dialect::DuckDb) => format!("contains({a}, {b})"),
                    (Builtin::StartsWith, Dialect::DuckDb) => format!("starts_with({a}, {b})"),
                    (_, Dialect::DuckDb) => format!("ends_with({a}, {b})"),
                    (Builtin::Contains, Dialect::Postgres) => format!("(strpos({a}, {b}) > 0)"),
                    (Builtin::Contains, _) => format!("(instr({a}, {b}) > 0)"),
                    (Builtin::StartsWith, _) => format!("(left({a}, length({b})) = {b})"),
                    _ => format!("(right({a}, length({b})) = {b})"),
                };
                S::expr(sql, &[&s, &p])
            }
            Builtin::Matches { .. } => {
                let s = self.expr(&args[0]);
                let pattern = match args.get(1).map(|a| &a.kind) {
                    Some(TKind::Const(Const::Str(p))) => p,
                    _ => return self.refuse(e.span, "a `matches` without its pattern".into()),
                };
                match regex::translate(pattern, self.d) {
                    Ok(p) => S::expr(self.regex_find(&s.sql, &p), &[&s]),
                    Err(what) => self.refuse(
                        args[1].span,
                        format!(
                            "the pattern {pattern:?}: {what} cannot be matched exactly by {}",
                            self.d.name()
                        ),
                    ),
                }
            }
        }
    }

    fn header(&self, q: &mut String) {
        let _ = writeln!(
            q,
            "-- glyphsieve {} compile --to sql --dialect {}",
            env!("CARGO_PKG_VERSION"),
            self.d.name()
        );
        for n in &self.opts.notes {
            let _ = writeln!(q, "-- {}", n.replace('\n', " "));
        }
        let _ = writeln!(
            q,
            "-- Reads {} (every column as text); returns its columns, then one column per rule.",
            self.opts.table.replace('\n', " ")
        );
        if self.opts.lenient {
            let _ = writeln!(q, "-- --lenient: a cell that does not read is NULL.");
        } else {
            let _ = writeln!(
                q,
                "-- A cell that does not read as its field's type stops the query with an error."
            );
        }
        match self.d {
            Dialect::Spark => {
                let _ = writeln!(
                    q,
                    "-- Requires spark.sql.ansi.enabled=true: int overflow is then an error, as eval's E501."
                );
            }
            Dialect::Postgres => {
                let _ = writeln!(
                    q,
                    "-- Strings are ordered by bytes (COLLATE \"C\"); an error is raised as a failing cast of its message."
                );
            }
            Dialect::DuckDb => {}
        }
    }
}

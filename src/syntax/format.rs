//! The formatter: a `.rule` file to one canonical layout, every comment kept in its place.
//!
//! The AST has no comments (the grammar skips `#` comments) and no
//! parentheses, so the formatter reads both back from the source: a small
//! lexer finds every comment and every token, and each expression's written
//! parentheses are found around its span. Layout is decided from the AST.
//!
//! Comments are attached, as rustfmt and prettier do, to "units": the places
//! a line can start or end in the canonical layout (an item, its definition,
//! a rule's body, each operand of a broken `and`/`or` chain, each arm of an
//! `if`, each element of a list, argument of a call and variant of an enum).
//! A comment on a line of its own leads the outermost unit that starts at the
//! next token; a comment after code trails the outermost unit that ends at
//! the previous token (skipping a `,`); any other comment leads the innermost
//! unit around it. Anchors are byte positions, and a unit claims the comments
//! anchored at its ends before its children are laid out, so the outermost
//! unit always wins, on the first pass and on the formatted text alike: that
//! is what makes formatting idempotent. A unit with a comment inside it is
//! laid out broken, never flat.

use super::ast::*;
use crate::diagnostic::Diagnostic;
use crate::source::FileId;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The line width the formatter fills up to (rustfmt's default; ruff and
/// prettier use 80/88, but rule bodies are long conjunctions of names).
pub const WIDTH: usize = 100;
/// Continuation lines are indented by this many spaces.
const INDENT: usize = 4;

/// Format one `.rule` file. A file with a syntax error (any error the parser
/// reports) is not formatted: its diagnostics come back instead. CRLF line
/// endings and a byte order mark are kept.
pub fn format_file(file: FileId, text: &str) -> Result<String, Vec<Diagnostic>> {
    let (module, diags) = super::parse(file, text);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    // Spans count from the start of the text, BOM included: the whole text
    // is formatted, the BOM being whitespace to the lexer.
    let bom = if text.starts_with('\u{FEFF}') {
        "\u{FEFF}"
    } else {
        ""
    };
    let out = Formatter::new(text, &module).file();
    let crlf = text.find('\n').is_some_and(|i| text[..i].ends_with('\r'));
    let out = if crlf { out.replace('\n', "\r\n") } else { out };
    Ok(format!("{bom}{out}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Comment,
    Doc,
    /// An identifier, keyword or run of digits.
    Word,
    Open,
    Close,
    Comma,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

/// Split the text into tokens, just finely enough that every AST span
/// starts at a token's start and ends at a token's end.
fn lex(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if i == 0 && text.starts_with('\u{FEFF}') {
            i = '\u{FEFF}'.len_utf8();
            continue;
        }
        let kind = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' => {
                let doc = bytes.get(i + 1) == Some(&b'#');
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                if doc { Tok::Doc } else { Tok::Comment }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                Tok::Other
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Tok::Word
            }
            b'(' => {
                i += 1;
                Tok::Open
            }
            b')' => {
                i += 1;
                Tok::Close
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            _ => {
                // One character (a BOM or any other UTF-8 sequence whole).
                i += text
                    .get(i..)
                    .and_then(|r| r.chars().next())
                    .map_or(1, char::len_utf8);
                Tok::Other
            }
        };
        toks.push(Token {
            kind,
            start,
            end: i.min(bytes.len()),
        });
    }
    toks
}

const KEYWORDS: [&str; 15] = [
    "rule", "let", "enum", "default", "if", "then", "else", "and", "or", "not", "in", "true",
    "false", "cfg",
    // Not a keyword of the grammar, but `expect (a or b)` is no call.
    "expect",
];

#[derive(Debug, Clone)]
struct Comment {
    text: String,
    /// A blank line separates it from what comes before it.
    blank_before: bool,
    /// A blank line separates it from what comes after it.
    blank_after: bool,
}

/// What a unit can hold: comments leading it (own lines before it) and
/// comments trailing it (at the end of its last line).
#[derive(Debug, Clone, Copy)]
struct Unit {
    start: usize,
    end: usize,
    /// It starts a line when its parent is laid out broken.
    leads: bool,
    /// It ends a line when its parent is laid out broken.
    trails: bool,
}

struct Formatter<'a> {
    src: &'a str,
    module: &'a Module,
    toks: Vec<Token>,
    /// Comments leading the unit that starts at this byte.
    leading: BTreeMap<usize, Vec<Comment>>,
    /// The comment trailing the unit that ends at this byte.
    trailing: BTreeMap<usize, Vec<Comment>>,
    /// Comments and dangling docs after the last item.
    tail: Vec<Comment>,
    /// Each expression's extent with its written parentheses, and whether it has any.
    outer: HashMap<*const Expr, (usize, usize, bool)>,
}

/// How an expression sits in its parent, for parentheses.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    /// The loosest precedence that may stand here without parentheses.
    min: u8,
    /// An operand of an operator: an `if` here is parenthesized.
    operand: bool,
}

const ANY: Ctx = Ctx {
    min: 0,
    operand: false,
};

/// An operand's place: precedence at least `min`.
fn side(min: u8) -> Ctx {
    Ctx { min, operand: true }
}

/// Precedence, loosest first, as the grammar nests its levels.
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => match op {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Cmp(_) => 4,
            BinaryOp::Arith(ArithOp::Add | ArithOp::Sub) => 5,
            BinaryOp::Arith(_) => 6,
        },
        ExprKind::Unary {
            op: UnaryOp::Not, ..
        } => 3,
        ExprKind::In { .. } => 4,
        ExprKind::Unary {
            op: UnaryOp::Neg, ..
        } => 7,
        _ => 8,
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// The column after `lines` when the first of them starts at `col`.
fn end_col(col: usize, lines: &[String]) -> usize {
    match lines {
        [one] => col + width(one),
        _ => lines.last().map_or(col, |l| width(l)),
    }
}

/// Append `more` to `lines`: its first line continues their last one.
fn append(lines: &mut Vec<String>, more: Vec<String>) {
    let mut more = more.into_iter();
    if let (Some(last), Some(first)) = (lines.last_mut(), more.next()) {
        last.push_str(&first);
    }
    lines.extend(more);
}

fn pad(n: usize) -> String {
    " ".repeat(n)
}

impl<'a> Formatter<'a> {
    fn new(src: &'a str, module: &'a Module) -> Formatter<'a> {
        let mut f = Formatter {
            src,
            module,
            toks: lex(src),
            leading: BTreeMap::new(),
            trailing: BTreeMap::new(),
            tail: Vec::new(),
            outer: HashMap::new(),
        };
        f.attach_comments();
        f
    }

    fn text(&self, start: usize, end: usize) -> &'a str {
        self.src.get(start..end).unwrap_or("")
    }

    fn is_code(t: &Token) -> bool {
        !matches!(t.kind, Tok::Comment | Tok::Doc)
    }

    /// The index of the first token starting at or after `pos`.
    fn tok_from(&self, pos: usize) -> usize {
        self.toks.partition_point(|t| t.start < pos)
    }

    /// The code token ending last at or before `pos`.
    fn code_before(&self, pos: usize) -> Option<Token> {
        let i = self.toks.partition_point(|t| t.end <= pos);
        self.toks[..i]
            .iter()
            .rev()
            .find(|t| Self::is_code(t))
            .copied()
    }

    /// The code token starting first at or after `pos`.
    fn code_after(&self, pos: usize) -> Option<Token> {
        let i = self.tok_from(pos);
        self.toks[i..].iter().find(|t| Self::is_code(t)).copied()
    }

    /// The extent of `e` with its written parentheses, and whether it has any.
    fn outer(&mut self, e: &Expr) -> (usize, usize, bool) {
        let key = e as *const Expr;
        if let Some(&o) = self.outer.get(&key) {
            return o;
        }
        let (span_start, span_end) = (e.span.start as usize, e.span.end as usize);
        let (mut s, mut end) = match &e.kind {
            ExprKind::Unary {
                op_span, operand, ..
            } => (op_span.start as usize, self.outer(operand).1),
            ExprKind::Binary { lhs, rhs, .. } => (self.outer(lhs).0, self.outer(rhs).1),
            ExprKind::In { value, .. } => (self.outer(value).0, span_end),
            ExprKind::If { otherwise, .. } => (span_start, self.outer(otherwise).1),
            _ => (span_start, span_end),
        };
        let mut parens = false;
        while let (Some(open), Some(close)) = (self.code_before(s), self.code_after(end)) {
            if open.kind != Tok::Open || close.kind != Tok::Close || self.is_call_paren(open) {
                break;
            }
            (s, end, parens) = (open.start, close.end, true);
        }
        self.outer.insert(key, (s, end, parens));
        (s, end, parens)
    }

    /// Whether this `(` opens a call's arguments: a name that is not a keyword precedes it.
    fn is_call_paren(&self, open: Token) -> bool {
        self.code_before(open.start).is_some_and(|t| {
            let word = self.text(t.start, t.end);
            t.kind == Tok::Word
                && !word.starts_with(|c: char| c.is_ascii_digit())
                && !KEYWORDS.contains(&word)
        })
    }

    /// Where each item starts (its first doc line or keyword) and ends (its last code token).
    fn item_ranges(&self) -> Vec<(usize, usize)> {
        let items = &self.module.items;
        items
            .iter()
            .enumerate()
            .map(|(k, item)| {
                let start = item.span.start as usize;
                let limit = items
                    .get(k + 1)
                    .map_or(self.src.len(), |n| n.span.start as usize);
                let i = self.toks.partition_point(|t| t.start < limit);
                let end = self.toks[..i]
                    .iter()
                    .rev()
                    .find(|t| Self::is_code(t))
                    .map_or(start, |t| t.end);
                (start, end.max(start))
            })
            .collect()
    }

    // ---- units -------------------------------------------------------

    /// Every unit of the file, item by item, as the layout below places them.
    fn units(&mut self) -> Vec<Vec<Unit>> {
        let mut all = Vec::new();
        let ranges = self.item_ranges();
        let module = self.module;
        for (item, &(start, end)) in module.items.iter().zip(&ranges) {
            let mut units = Vec::new();
            let both = |start, end| Unit {
                start,
                end,
                leads: true,
                trails: true,
            };
            units.push(both(start, end));
            let kw = self.def_start(start);
            units.push(both(kw, end));
            match &item.kind {
                ItemKind::Rule(RuleDef { body, .. }) | ItemKind::Let(LetDef { body, .. }) => {
                    let (s, e, _) = self.outer(body);
                    units.push(both(s, e));
                    self.expr_units(body, &mut units);
                }
                ItemKind::Enum(def) => {
                    for v in &def.variants {
                        units.push(both(v.span.start as usize, v.span.end as usize));
                    }
                }
                ItemKind::Field(_) => {}
                ItemKind::Test(t) => {
                    for f in &t.fields {
                        let (s, e) = (f.name.span.start as usize, f.value.span.end as usize);
                        units.push(both(s, e));
                    }
                    if let Some((s, e)) = self.with_extent(t) {
                        units.push(both(s, e));
                    }
                    for body in &t.expects {
                        let (s, e, _) = self.outer(body);
                        // The clause from its `expect`, so a comment above it stays there.
                        let kw = self.code_before(s).map_or(s, |k| k.start);
                        units.push(both(kw, e));
                        units.push(both(s, e));
                        self.expr_units(body, &mut units);
                    }
                }
            }
            all.push(units);
        }
        all
    }

    /// Where an item's definition starts: its keyword, after the doc lines.
    fn def_start(&self, start: usize) -> usize {
        let i = self.tok_from(start);
        self.toks[i..]
            .iter()
            .find(|t| Self::is_code(t))
            .map_or(start, |t| t.start)
    }

    fn expr_units(&mut self, e: &Expr, units: &mut Vec<Unit>) {
        match &e.kind {
            ExprKind::Binary {
                op: op @ (BinaryOp::And | BinaryOp::Or),
                ..
            } => {
                let ops = self.chain(e, *op);
                let n = ops.len();
                for (i, o) in ops.into_iter().enumerate() {
                    let (s, end, _) = self.outer(o);
                    units.push(Unit {
                        start: s,
                        end,
                        leads: i > 0,
                        trails: i + 1 < n,
                    });
                    self.expr_units(o, units);
                }
            }
            ExprKind::If { .. } => {
                let (arms, last) = self.arms(e);
                let n = arms.len() + 1;
                for (i, (start, cond, then)) in arms.into_iter().enumerate() {
                    let end = self.outer(then).1;
                    units.push(Unit {
                        start,
                        end,
                        leads: i > 0,
                        trails: true,
                    });
                    self.expr_units(cond, units);
                    self.expr_units(then, units);
                }
                let (s, end, _) = self.outer(last);
                let start = self.code_before(s).map_or(s, |t| t.start);
                units.push(Unit {
                    start,
                    end,
                    leads: n > 1,
                    trails: false,
                });
                self.expr_units(last, units);
            }
            ExprKind::Call { args: list, .. } | ExprKind::In { list, .. } => {
                if let ExprKind::In { value, .. } = &e.kind {
                    self.expr_units(value, units);
                }
                for a in list {
                    let (start, end, _) = self.outer(a);
                    units.push(Unit {
                        start,
                        end,
                        leads: true,
                        trails: true,
                    });
                    self.expr_units(a, units);
                }
            }
            _ => {
                for c in e.children() {
                    self.expr_units(c, units);
                }
            }
        }
    }

    /// The operands of a chain of one `and`/`or`, left to right. An operand
    /// in written parentheses is one operand even if it is the same operator.
    fn chain<'e>(&mut self, e: &'e Expr, op: BinaryOp) -> Vec<&'e Expr> {
        let mut out = Vec::new();
        let mut cur = e;
        let mut rights = Vec::new();
        loop {
            match &cur.kind {
                ExprKind::Binary {
                    op: o, lhs, rhs, ..
                } if *o == op && (std::ptr::eq(cur, e) || !self.outer(cur).2) => {
                    rights.push(&**rhs);
                    cur = lhs;
                }
                _ => break,
            }
        }
        out.push(cur);
        out.extend(rights.into_iter().rev());
        out
    }

    /// The `if`/`else if` arms of an `if` (each with where it starts: its
    /// `if`, or the `else` before it) and the final `else` value.
    #[allow(clippy::type_complexity)]
    fn arms<'e>(&mut self, e: &'e Expr) -> (Vec<(usize, &'e Expr, &'e Expr)>, &'e Expr) {
        let mut arms = Vec::new();
        let mut cur = e;
        while let ExprKind::If {
            cond,
            then,
            otherwise,
        } = &cur.kind
        {
            let start = if std::ptr::eq(cur, e) {
                cur.span.start as usize
            } else {
                self.code_before(cur.span.start as usize)
                    .map_or(cur.span.start as usize, |t| t.start)
            };
            arms.push((start, &**cond, &**then));
            if matches!(otherwise.kind, ExprKind::If { .. }) && !self.outer(otherwise).2 {
                cur = otherwise;
            } else {
                return (arms, otherwise);
            }
        }
        (arms, cur)
    }

    // ---- comments ----------------------------------------------------

    fn attach_comments(&mut self) {
        let units = self.units();
        let ranges = self.item_ranges();
        let item_starts: Vec<usize> = ranges.iter().map(|r| r.0).collect();
        let starts: HashSet<usize> = units
            .iter()
            .flatten()
            .filter(|u| u.leads)
            .map(|u| u.start)
            .collect();
        let ends: HashSet<usize> = units
            .iter()
            .flatten()
            .filter(|u| u.trails)
            .map(|u| u.end)
            .collect();
        let places = Places {
            starts,
            ends,
            units,
            ranges,
        };
        let toks = self.toks.clone();
        for (i, t) in toks.iter().enumerate() {
            let item = places.item_at(t.start);
            // An item's docs are the item's; any other doc line (one the
            // parser found dangling) is kept as a comment is.
            let dangling = t.kind == Tok::Doc && item.is_none();
            if t.kind != Tok::Comment && !dangling {
                continue;
            }
            let gap_before = i.checked_sub(1).map(|p| self.text(toks[p].end, t.start));
            let gap_after = toks.get(i + 1).map(|n| self.text(t.end, n.start));
            let comment = Comment {
                text: self.text(t.start, t.end).trim_end().to_string(),
                blank_before: gap_before.is_some_and(|g| g.matches('\n').count() > 1),
                blank_after: gap_after.is_some_and(|g| g.matches('\n').count() > 1),
            };
            let prev = i.checked_sub(1).map(|p| toks[p]);
            let own_line = prev.is_none_or(|p| self.text(p.end, t.start).contains('\n'));
            let next = toks[i + 1..]
                .iter()
                .find(|n| n.kind != Tok::Comment)
                .copied();
            // A line of its own outside every item leads the next item (a
            // doc line the parser left dangling too); after the last item,
            // it is the file's tail.
            if own_line && item.is_none() {
                let k = item_starts.partition_point(|&s| s <= t.start);
                match item_starts.get(k) {
                    Some(&s) => self.leading.entry(s).or_default().push(comment),
                    None => self.tail.push(comment),
                }
                continue;
            }
            let mut anchor = self.anchor(&places, t, own_line, next);
            // One comment can end a line: a second one after the same unit
            // (`a # x` then `, # y`) leads what follows instead.
            if let Anchor::Trail(p) = anchor
                && self.trailing.contains_key(&p)
            {
                anchor = self.anchor(&places, t, true, next);
            }
            match anchor {
                Anchor::Lead(p) => self.leading.entry(p).or_default().push(comment),
                Anchor::Trail(p) => self.trailing.entry(p).or_default().push(comment),
            }
        }
    }

    fn anchor(&self, places: &Places, t: &Token, own_line: bool, next: Option<Token>) -> Anchor {
        if !own_line {
            // Skip a `,`: `a, # note` trails `a`.
            let mut prev = self.code_before(t.start);
            if let Some(p) = prev
                && p.kind == Tok::Comma
            {
                prev = self.code_before(p.start);
            }
            if let Some(p) = prev
                && places.ends.contains(&p.end)
            {
                return Anchor::Trail(p.end);
            }
        }
        // The next token, or the operand after it when it is `and`/`or`: a
        // comment above `and b` leads the operand `b`.
        let mut next = next;
        if let Some(n) = next
            && matches!(self.text(n.start, n.end), "and" | "or")
        {
            next = self.code_after(n.end);
        }
        if let Some(n) = next
            && places.starts.contains(&n.start)
        {
            return Anchor::Lead(n.start);
        }
        // The innermost unit around it that can start a line (the item's,
        // at least), searched among the units of the item it is in.
        let k = places.item_at(t.start).unwrap_or_else(|| {
            places
                .ranges
                .partition_point(|r| r.0 <= t.start)
                .saturating_sub(1)
        });
        let around = places
            .units
            .get(k)
            .into_iter()
            .flatten()
            .filter(|u| u.leads && u.start <= t.start && t.end <= u.end)
            .min_by_key(|u| u.end - u.start);
        Anchor::Lead(around.map_or_else(|| places.ranges.get(k).map_or(0, |r| r.0), |u| u.start))
    }

    fn take_leading(&mut self, pos: usize) -> Vec<Comment> {
        self.leading.remove(&pos).unwrap_or_default()
    }

    fn take_trailing(&mut self, pos: usize) -> Vec<Comment> {
        self.trailing.remove(&pos).unwrap_or_default()
    }

    /// Whether a comment is still anchored within `start..=end`.
    fn has_comments(&self, start: usize, end: usize) -> bool {
        self.leading.range(start..=end).next().is_some()
            || self.trailing.range(start..=end).next().is_some()
    }

    // ---- layout ------------------------------------------------------

    fn file(mut self) -> String {
        let module = self.module;
        let ranges = self.item_ranges();
        let mut out: Vec<String> = Vec::new();
        for (k, (item, &(start, end))) in module.items.iter().zip(&ranges).enumerate() {
            if k > 0 {
                out.push(String::new());
            }
            let lead = self.take_leading(start);
            let trail = self.take_trailing(end);
            let n = lead.len();
            for (j, c) in lead.into_iter().enumerate() {
                if j > 0 && c.blank_before {
                    out.push(String::new());
                }
                out.push(c.text.clone());
                if j + 1 == n && c.blank_after {
                    out.push(String::new());
                }
            }
            // A comment between the docs and the keyword would part them
            // (the docs would document nothing): it goes above the docs.
            let kw = self.def_start(start);
            for c in self.take_leading(kw) {
                out.push(c.text);
            }
            // Doc lines as written (the parser reads `##x` and `## x` alike).
            let from = self.tok_from(start);
            let docs: Vec<String> = self.toks[from..]
                .iter()
                .take_while(|t| t.start < kw)
                .filter(|t| t.kind == Tok::Doc)
                .map(|t| self.text(t.start, t.end).trim_end().to_string())
                .collect();
            out.extend(docs);
            let mut lines = self.item(item);
            push_trailing(&mut lines, trail);
            out.extend(lines);
        }
        let tail = std::mem::take(&mut self.tail);
        for (j, c) in tail.into_iter().enumerate() {
            if c.blank_before && (j > 0 || !out.is_empty()) {
                out.push(String::new());
            }
            out.push(c.text);
        }
        // Anything left unclaimed is kept rather than lost (a bug if it happens).
        let mut rest: Vec<(usize, Comment)> = self
            .leading
            .split_off(&0)
            .into_iter()
            .chain(self.trailing.split_off(&0))
            .flat_map(|(p, cs)| cs.into_iter().map(move |c| (p, c)))
            .collect();
        rest.sort_by_key(|(p, _)| *p);
        out.extend(rest.into_iter().map(|(_, c)| c.text));
        if out.is_empty() {
            return String::new();
        }
        let mut s = out.join("\n");
        s.push('\n');
        s
    }

    fn item(&mut self, item: &Item) -> Vec<String> {
        match &item.kind {
            ItemKind::Test(t) => self.test(t),
            ItemKind::Rule(r) => {
                // The default's tokens without what lies between them
                // (`- 5` is `-5`).
                let default = r.default.as_ref().map(|d| self.literal(d));
                let mut head = format!("rule {}: {}", r.name.name, r.ty.name);
                if let Some(d) = default {
                    head.push_str(&format!(" default {d}"));
                }
                self.body(head, &r.body)
            }
            ItemKind::Let(l) => self.body(format!("let {}", l.name.name), &l.body),
            ItemKind::Enum(def) => {
                let head = format!("enum {} ", def.name.name);
                let names: Vec<(usize, usize, String)> = def
                    .variants
                    .iter()
                    .map(|v| (v.span.start as usize, v.span.end as usize, v.name.clone()))
                    .collect();
                let first = names.first().map_or(0, |n| n.0);
                let last = names.last().map_or(0, |n| n.1);
                let flat = format!(
                    "{head}{{ {} }}",
                    names
                        .iter()
                        .map(|n| n.2.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                if !self.has_comments(first, last) && width(&flat) <= WIDTH {
                    return vec![flat];
                }
                self.comma_lines(format!("{head}{{"), names)
            }
            ItemKind::Field(f) => {
                let text = |id: &Ident| self.text(id.span.start as usize, id.span.end as usize);
                let columns: Vec<&str> = f.columns.iter().map(text).collect();
                let head = format!(
                    "field {}: {} from {}",
                    f.name.name,
                    f.ty.name,
                    columns.join(", ")
                );
                let Some(nulls) = &f.nulls else {
                    return vec![head];
                };
                let markers: Vec<&str> = nulls.iter().map(text).collect();
                let nulls = format!("nulls [{}]", markers.join(", "));
                let flat = format!("{head} {nulls}");
                if width(&flat) <= WIDTH {
                    return vec![flat];
                }
                let wrapped = format!("{}{nulls}", pad(INDENT));
                if width(&wrapped) <= WIDTH {
                    return vec![head, wrapped];
                }
                let mut lines = vec![head, format!("{}nulls [", pad(INDENT))];
                for m in markers {
                    lines.push(format!("{}{m},", pad(2 * INDENT)));
                }
                lines.push(format!("{}]", pad(INDENT)));
                lines
            }
        }
    }

    /// `test "NAME" { FIELD = VALUE, ... }`, then its `with` and `expect`
    /// clauses: after the `}` when there is one clause and it fits, else
    /// each on a line of its own, indented. The fields are on one line when
    /// they fit, else one per line with a trailing comma.
    fn test(&mut self, t: &TestDef) -> Vec<String> {
        let name = self.text(t.name.span.start as usize, t.name.span.end as usize);
        let head = format!("test {name} {{");
        let fields: Vec<(usize, usize, String)> = t
            .fields
            .iter()
            .map(|f| {
                let (s, e) = (f.name.span.start as usize, f.value.span.end as usize);
                (
                    s,
                    e,
                    format!("{} = {}", f.name.name, self.literal(&f.value)),
                )
            })
            .collect();
        let inner = |fs: &[(usize, usize, String)]| {
            fs.iter()
                .map(|f| f.2.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (first, last) = (
            fields.first().map_or(0, |f| f.0),
            fields.last().map_or(0, |f| f.1),
        );
        let flat = match fields.is_empty() {
            true => format!("test {name} {{}}"),
            false => format!("{head} {} }}", inner(&fields)),
        };
        let mut lines =
            if fields.is_empty() || (!self.has_comments(first, last) && width(&flat) <= WIDTH) {
                vec![flat]
            } else {
                self.comma_lines(head, fields)
            };
        let with = (!t.overrides.is_empty()).then(|| {
            let sets: Vec<String> = t
                .overrides
                .iter()
                .map(|o| {
                    let key = self.text(o.span.start as usize, o.span.end as usize);
                    format!("{key} = {}", self.literal(&o.value))
                })
                .collect();
            format!("with {}", sets.join(", "))
        });
        // One clause after the `}`, when it fits flat and has no comments.
        if let ([e], None) = (&t.expects[..], &with) {
            let (_, end, _) = self.outer(e);
            // A comment anywhere after the name keeps each clause on its line.
            if !self.has_comments(t.name.span.end as usize, end)
                && let Some(flat) = self.flat(e, ANY)
                && let Some(last) = lines.last_mut()
                && width(last) + 8 + width(&flat) <= WIDTH
            {
                last.push_str(&format!(" expect {flat}"));
                return lines;
            }
        }
        if let (Some(w), Some((s, e))) = (with, self.with_extent(t)) {
            self.push_leading(&mut lines, s, INDENT);
            lines.push(format!("{}{w}", pad(INDENT)));
            push_trailing(&mut lines, self.take_trailing(e));
        }
        for e in &t.expects {
            let (s, end, _) = self.outer(e);
            let kw = self.code_before(s).map_or(s, |k| k.start);
            let mut lead = self.take_leading(kw);
            lead.extend(self.take_leading(s));
            for c in lead {
                lines.push(format!("{}{}", pad(INDENT), c.text));
            }
            let sub = self.expr(e, ANY, INDENT, INDENT + 7);
            lines.push(format!("{}expect ", pad(INDENT)));
            append(&mut lines, sub);
            push_trailing(&mut lines, self.take_trailing(end));
        }
        lines
    }

    /// Where a test's `with` clause starts (its keyword) and ends (its last value).
    fn with_extent(&self, t: &TestDef) -> Option<(usize, usize)> {
        let first = t.overrides.first()?;
        let last = t.overrides.last()?;
        let s = first.span.start as usize;
        let kw = self.code_before(s).map_or(s, |k| k.start);
        Some((kw, last.value.span.end as usize))
    }

    /// `HEAD`, then each `(start, end, text)` on a line of its own,
    /// indented, with a trailing comma and its comments, then `}`.
    fn comma_lines(&mut self, head: String, items: Vec<(usize, usize, String)>) -> Vec<String> {
        let mut lines = vec![head];
        for (s, e, text) in items {
            self.push_leading(&mut lines, s, INDENT);
            let mut line = format!("{}{text},", pad(INDENT));
            for c in self.take_trailing(e) {
                line.push(' ');
                line.push_str(&c.text);
            }
            lines.push(line);
        }
        lines.push("}".to_string());
        lines
    }

    /// The comments leading at `pos`, each on a line of its own at `indent`.
    fn push_leading(&mut self, lines: &mut Vec<String>, pos: usize, indent: usize) {
        for c in self.take_leading(pos) {
            lines.push(format!("{}{}", pad(indent), c.text));
        }
    }

    /// A test's literal as written, without what lies between its tokens
    /// (`- 5` is `-5`).
    fn literal(&self, e: &Expr) -> String {
        let (s, end) = (e.span.start as usize, e.span.end as usize);
        let i = self.tok_from(s);
        self.toks[i..]
            .iter()
            .take_while(|t| t.end <= end)
            .filter(|t| Self::is_code(t))
            .map(|t| self.text(t.start, t.end))
            .collect()
    }

    /// `HEAD = BODY`: on one line when it fits; else the body on the next
    /// line, indented, and broken if it still does not fit.
    fn body(&mut self, head: String, body: &Expr) -> Vec<String> {
        let (s, e, _) = self.outer(body);
        let lead = self.take_leading(s);
        if lead.is_empty()
            && !self.has_comments(s, e)
            && let Some(flat) = self.flat(body, ANY)
        {
            let line = format!("{head} = {flat}");
            if width(&line) <= WIDTH {
                return vec![line];
            }
        }
        let mut lines = vec![format!("{head} =")];
        for c in lead {
            lines.push(format!("{}{}", pad(INDENT), c.text));
        }
        let sub = self.expr(body, ANY, INDENT, INDENT);
        lines.push(pad(INDENT));
        append(&mut lines, sub);
        lines
    }

    fn needs_parens(&mut self, e: &Expr, ctx: Ctx) -> bool {
        self.outer(e).2
            || prec(e) < ctx.min
            || (ctx.operand && matches!(e.kind, ExprKind::If { .. }))
    }

    /// `e` on one line, or `None` when it must break (a comment inside, or
    /// an `if` with an `else if`).
    fn flat(&mut self, e: &Expr, ctx: Ctx) -> Option<String> {
        let (s, end, _) = self.outer(e);
        if self.has_comments(s, end) {
            return None;
        }
        let inner = self.flat_inner(e)?;
        Some(if self.needs_parens(e, ctx) {
            format!("({inner})")
        } else {
            inner
        })
    }

    fn flat_inner(&mut self, e: &Expr) -> Option<String> {
        let (s, end) = (e.span.start as usize, e.span.end as usize);
        Some(match &e.kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Name(_)
            | ExprKind::Cfg(_)
            | ExprKind::Error => self.text(s, end).to_string(),
            ExprKind::Unary { op, operand, .. } => match op {
                UnaryOp::Not => format!("not {}", self.flat(operand, side(3))?),
                UnaryOp::Neg => {
                    let x = self.flat(operand, side(7))?;
                    // `- -x`, not `--x`, which reads as a decrement.
                    let gap = if x.starts_with('-') { " " } else { "" };
                    format!("-{gap}{x}")
                }
            },
            ExprKind::Binary { op, lhs, rhs, .. } => {
                let (l, r) = binary_ctx(*op);
                format!(
                    "{} {} {}",
                    self.flat(lhs, l)?,
                    op.symbol(),
                    self.flat(rhs, r)?
                )
            }
            ExprKind::In {
                negated,
                value,
                list,
            } => {
                let v = self.flat(value, side(5))?;
                let items = self.flat_list(list)?;
                let kw = if *negated { "not in" } else { "in" };
                format!("{v} {kw} [{items}]")
            }
            ExprKind::If { .. } => {
                let (arms, last) = self.arms(e);
                if arms.len() > 1 {
                    return None;
                }
                let (_, c, t) = arms.first()?;
                format!(
                    "if {} then {} else {}",
                    self.flat(c, ANY)?,
                    self.flat(t, ANY)?,
                    self.flat(last, ANY)?
                )
            }
            ExprKind::Call { func, args } => {
                format!("{}({})", func.name, self.flat_list(args)?)
            }
        })
    }

    fn flat_list(&mut self, list: &[Expr]) -> Option<String> {
        let mut parts = Vec::new();
        for x in list {
            parts.push(self.flat(x, ANY)?);
        }
        Some(parts.join(", "))
    }

    /// `e` laid out from column `col`, continuation lines indented by
    /// `indent`. The first line is bare (it continues the caller's line);
    /// the others carry their indentation.
    fn expr(&mut self, e: &Expr, ctx: Ctx, indent: usize, col: usize) -> Vec<String> {
        if let Some(flat) = self.flat(e, ctx)
            && col + width(&flat) <= WIDTH
        {
            return vec![flat];
        }
        if self.needs_parens(e, ctx) {
            let mut lines = vec!["(".to_string(), pad(indent + INDENT)];
            let inner = indent + INDENT;
            let (s, end) = (e.span.start as usize, e.span.end as usize);
            let flat = match self.has_comments(s, end) {
                true => None,
                false => self.flat_inner(e).filter(|f| inner + width(f) <= WIDTH),
            };
            let sub = match flat {
                Some(f) => vec![f],
                None => self.broken(e, inner, inner),
            };
            append(&mut lines, sub);
            lines.push(format!("{})", pad(indent)));
            return lines;
        }
        self.broken(e, indent, col)
    }

    /// `e` (without its parentheses) laid out over several lines.
    fn broken(&mut self, e: &Expr, indent: usize, col: usize) -> Vec<String> {
        match &e.kind {
            ExprKind::Binary {
                op: op @ (BinaryOp::And | BinaryOp::Or),
                ..
            } => {
                let ops = self.chain(e, *op);
                let (l, r) = binary_ctx(*op);
                let n = ops.len();
                let mut lines = vec![String::new()];
                for (i, o) in ops.into_iter().enumerate() {
                    let (s, end, parens) = self.outer(o);
                    let trail = if i + 1 < n {
                        self.take_trailing(end)
                    } else {
                        Vec::new()
                    };
                    let prefix = if i == 0 {
                        String::new()
                    } else {
                        self.push_leading(&mut lines, s, indent);
                        lines.push(pad(indent));
                        format!("{} ", op.symbol())
                    };
                    // A nested chain is indented one more step, so its
                    // operators do not line up with this chain's.
                    let sub_indent = if parens || !matches!(o.kind, ExprKind::Binary { .. }) {
                        indent
                    } else {
                        indent + INDENT
                    };
                    let ctx = if i == 0 { l } else { r };
                    append(&mut lines, vec![prefix]);
                    let at = end_col(col, &lines);
                    let sub = self.expr(o, ctx, sub_indent, at);
                    append(&mut lines, sub);
                    push_trailing(&mut lines, trail);
                }
                lines
            }
            ExprKind::If { .. } => {
                let (arms, last) = self.arms(e);
                let mut lines = vec![String::new()];
                for (i, (start, c, t)) in arms.into_iter().enumerate() {
                    let kw = if i == 0 {
                        "if "
                    } else {
                        self.push_leading(&mut lines, start, indent);
                        lines.push(pad(indent));
                        "else if "
                    };
                    let t_end = self.outer(t).1;
                    let trail = self.take_trailing(t_end);
                    append(&mut lines, vec![kw.to_string()]);
                    let at = end_col(col, &lines);
                    let sub = self.expr(c, ANY, indent + INDENT, at);
                    append(&mut lines, sub);
                    append(&mut lines, vec![" then ".to_string()]);
                    let c2 = end_col(col, &lines);
                    let sub = self.expr(t, ANY, indent + INDENT, c2);
                    append(&mut lines, sub);
                    push_trailing(&mut lines, trail);
                }
                let (s, _, _) = self.outer(last);
                let else_at = self.code_before(s).map_or(s, |t| t.start);
                self.push_leading(&mut lines, else_at, indent);
                lines.push(format!("{}else ", pad(indent)));
                let sub = self.expr(last, ANY, indent + INDENT, indent + 5);
                append(&mut lines, sub);
                lines
            }
            ExprKind::Call { func, args } => {
                let mut lines = vec![format!("{}(", func.name)];
                self.broken_list(&mut lines, args, indent);
                lines.push(format!("{})", pad(indent)));
                lines
            }
            ExprKind::In {
                negated,
                value,
                list,
            } => {
                let mut lines = self.expr(value, side(5), indent, col);
                let kw = if *negated { " not in [" } else { " in [" };
                append(&mut lines, vec![kw.to_string()]);
                self.broken_list(&mut lines, list, indent);
                lines.push(format!("{}]", pad(indent)));
                lines
            }
            ExprKind::Unary { op, operand, .. } => {
                let (text, ctx) = match op {
                    UnaryOp::Not => ("not ", side(3)),
                    UnaryOp::Neg => ("-", side(7)),
                };
                let mut lines = vec![text.to_string()];
                let sub = self.expr(operand, ctx, indent, col + text.len() + 1);
                if text == "-" && sub.first().is_some_and(|s| s.starts_with('-')) {
                    lines[0].push(' ');
                }
                append(&mut lines, sub);
                lines
            }
            ExprKind::Binary { op, lhs, rhs, .. } => {
                let (l, r) = binary_ctx(*op);
                let mut lines = self.expr(lhs, l, indent, col);
                append(&mut lines, vec![format!(" {} ", op.symbol())]);
                let c = end_col(col, &lines);
                let sub = self.expr(rhs, r, indent, c);
                append(&mut lines, sub);
                lines
            }
            _ => vec![self.flat_inner(e).unwrap_or_default()],
        }
    }

    /// Each element on a line of its own, indented, with a trailing comma.
    fn broken_list(&mut self, lines: &mut Vec<String>, list: &[Expr], indent: usize) {
        let inner = indent + INDENT;
        for x in list {
            let (s, e, _) = self.outer(x);
            self.push_leading(lines, s, inner);
            let trail = self.take_trailing(e);
            lines.push(pad(inner));
            let sub = self.expr(x, ANY, inner, inner);
            append(lines, sub);
            append(lines, vec![",".to_string()]);
            push_trailing(lines, trail);
        }
    }
}

/// Where comments can go: the units' line starts and line ends, and each
/// item's units and extent.
struct Places {
    starts: HashSet<usize>,
    ends: HashSet<usize>,
    units: Vec<Vec<Unit>>,
    ranges: Vec<(usize, usize)>,
}

impl Places {
    /// The item whose text (first doc line to last token) holds `pos`.
    fn item_at(&self, pos: usize) -> Option<usize> {
        let k = self.ranges.partition_point(|r| r.0 <= pos).checked_sub(1)?;
        (pos < self.ranges[k].1).then_some(k)
    }
}

enum Anchor {
    Lead(usize),
    Trail(usize),
}

fn push_trailing(lines: &mut [String], trail: Vec<Comment>) {
    if let Some(last) = lines.last_mut() {
        for c in trail {
            last.push(' ');
            last.push_str(&c.text);
        }
    }
}

/// What each side of a binary operator takes without parentheses: the
/// chains are left-associative, a comparison takes neither side bare.
fn binary_ctx(op: BinaryOp) -> (Ctx, Ctx) {
    let p = match op {
        BinaryOp::Or => 1,
        BinaryOp::And => 2,
        BinaryOp::Cmp(_) => return (side(5), side(5)),
        BinaryOp::Arith(ArithOp::Add | ArithOp::Sub) => 5,
        BinaryOp::Arith(_) => 6,
    };
    (side(p), side(p + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        match format_file(FileId(0), text) {
            Ok(out) => out,
            Err(d) => panic!("{text}: {d:#?}"),
        }
    }

    #[test]
    fn a_sum_of_parenthesized_operands_is_not_itself_parenthesized() {
        // The sum's span runs from inside the first `(` to inside the last `)`.
        assert_eq!(
            fmt("rule a: int = (1) + (2)\n"),
            "rule a: int = (1) + (2)\n"
        );
        assert_eq!(
            fmt("rule a: int = ((1) + (2)) * 3\n"),
            "rule a: int = ((1) + (2)) * 3\n"
        );
    }

    #[test]
    fn a_call_paren_is_not_a_written_paren() {
        assert_eq!(
            fmt("rule a: int = abs(x)+abs((y))\n"),
            "rule a: int = abs(x) + abs((y))\n"
        );
        // A keyword before `(` is not a call.
        assert_eq!(
            fmt("rule a: bool = not(x) and(y)\n"),
            "rule a: bool = not (x) and (y)\n"
        );
    }

    #[test]
    fn precedence_parentheses_are_added_where_the_tree_needs_them() {
        use crate::source::Span;
        let s = Span::default();
        let leaf = |n: &str| Expr {
            kind: ExprKind::Name(n.to_string()),
            span: s,
        };
        // No source text has this tree without parentheses: build it by hand.
        let sum = Expr {
            kind: ExprKind::Binary {
                op: BinaryOp::Arith(ArithOp::Add),
                op_span: s,
                lhs: Box::new(leaf("a")),
                rhs: Box::new(leaf("b")),
            },
            span: s,
        };
        let module = Module {
            items: Vec::new(),
            broken_names: Vec::new(),
        };
        let mut f = Formatter::new("", &module);
        let (l, r) = binary_ctx(BinaryOp::Arith(ArithOp::Mul));
        assert!(f.needs_parens(&sum, l));
        assert!(f.needs_parens(&sum, r));
        let (l, _) = binary_ctx(BinaryOp::Arith(ArithOp::Sub));
        assert!(!f.needs_parens(&sum, l));
    }

    #[test]
    fn lexer_tokens_start_and_end_where_spans_do() {
        let text = "rule a: float = cfg.x.y + 1.5e-3 # c\n## d\n\"s\\\"t\"";
        let toks: Vec<(Tok, &str)> = lex(text)
            .iter()
            .map(|t| (t.kind, &text[t.start..t.end]))
            .collect();
        assert!(toks.contains(&(Tok::Word, "cfg")));
        assert!(toks.contains(&(Tok::Word, "1")));
        assert!(toks.contains(&(Tok::Word, "3")));
        assert!(toks.contains(&(Tok::Comment, "# c")));
        assert!(toks.contains(&(Tok::Doc, "## d")));
        assert!(toks.contains(&(Tok::Other, "\"s\\\"t\"")));
    }

    #[test]
    fn crlf_and_a_byte_order_mark_are_kept() {
        assert_eq!(
            fmt("\u{FEFF}rule a:int=1\r\nlet b=2\r\n"),
            "\u{FEFF}rule a: int = 1\r\n\r\nlet b = 2\r\n"
        );
    }
}

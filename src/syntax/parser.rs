//! pest pairs to AST, with syntax diagnostics and the depth limit.

use super::ast::*;
use super::prescan::{
    ITEM_KEYWORDS, MAX_ITEM_BYTES, MAX_NESTING, declared_names, item_chunks, nesting_overflow,
};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};
use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/glyphsieve.pest"]
struct RuleParser;

/// Deepest expression tree the parser builds; deeper gives `E002`. A chain
/// `a + b + c ...` counts one level per operator.
pub const MAX_DEPTH: u32 = 256;

/// Parse one `.rule` file. Every item is parsed on its own, so a syntax
/// error in one item is reported and the others are still checked.
pub fn parse(file: FileId, text: &str) -> (Module, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let chunks = item_chunks(text);
    // About one item per chunk: sized once, not doubled (an item is a
    // couple of hundred bytes, and doubling leaves up to half unused).
    let mut module = Module {
        items: Vec::with_capacity(chunks.len()),
        broken_names: Vec::new(),
    };
    for (start, end) in chunks {
        let chunk = &text[start..end];
        let mut broken = |diags: &mut Vec<Diagnostic>, d: Diagnostic| {
            diags.push(d);
            module.broken_names.extend(declared_names(chunk));
        };
        if let Some(at) = nesting_overflow(chunk) {
            let span = Span::new(file, start + at, start + at + 1);
            broken(
                &mut diags,
                Diagnostic::new(
                    Code::TooDeep,
                    span,
                    format!("expression nests deeper than {MAX_NESTING} levels"),
                )
                .label("too deep here")
                .help("split the expression into `let` helpers"),
            );
            continue;
        }
        if chunk.len() > MAX_ITEM_BYTES {
            let cut = crate::source::head_len(chunk, 80);
            broken(
                &mut diags,
                Diagnostic::new(
                    Code::TooLarge,
                    Span::new(file, start, start + cut),
                    format!(
                        "this item is {} KiB; items may be at most {} KiB",
                        chunk.len() >> 10,
                        MAX_ITEM_BYTES >> 10
                    ),
                )
                .label("too large to parse")
                .help("split it into smaller rules and lets; a long `in` list may be a `matches` pattern"),
            );
            continue;
        }
        match RuleParser::parse(Rule::file, chunk) {
            Ok(mut pairs) => {
                let mut b = Builder {
                    file,
                    base: start,
                    diags: &mut diags,
                    too_deep: false,
                };
                if let Some(file_pair) = pairs.next() {
                    b.file(file_pair, &mut module.items);
                }
            }
            Err(e) => {
                let mut d = syntax_error(file, start, text, &e);
                // `eval data.csv rules/`: the CSV was read as rules.
                if start == 0 && looks_like_csv_header(chunk) {
                    d.help = Some(
                        "this looks like a CSV header, not rules: the order is `eval RULES... DATA`".into(),
                    );
                }
                broken(&mut diags, d)
            }
        }
    }
    (module, diags)
}

/// Parse `text` as one expression standing alone (an `eval --where`): the
/// same limits and syntax diagnostics as an item's body. `None` when it
/// does not parse (the diagnostic says why).
pub fn parse_expr(file: FileId, text: &str) -> (Option<Expr>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    if let Some(at) = nesting_overflow(text) {
        let span = Span::new(file, at, at + 1);
        diags.push(
            Diagnostic::new(
                Code::TooDeep,
                span,
                format!("expression nests deeper than {MAX_NESTING} levels"),
            )
            .label("too deep here"),
        );
        return (None, diags);
    }
    if text.len() > MAX_ITEM_BYTES {
        let cut = crate::source::head_len(text, 80);
        diags.push(
            Diagnostic::new(
                Code::TooLarge,
                Span::new(file, 0, cut),
                format!(
                    "this expression is {} KiB; it may be at most {} KiB",
                    text.len() >> 10,
                    MAX_ITEM_BYTES >> 10
                ),
            )
            .label("too large to parse"),
        );
        return (None, diags);
    }
    let expr = match RuleParser::parse(Rule::lone_expr, text) {
        Ok(mut pairs) => {
            let mut b = Builder {
                file,
                base: 0,
                diags: &mut diags,
                too_deep: false,
            };
            pairs
                .next()
                .and_then(|p| p.into_inner().find(|c| c.as_rule() == Rule::expr))
                .map(|e| b.expr(e).0)
        }
        Err(e) => {
            // The text is one expression, not a file.
            let mut d = syntax_error(file, 0, text, &e);
            d.message = d
                .message
                .replace("end of file", "the end of the expression");
            d.label = d.label.replace("end of file", "the end of the expression");
            diags.push(d);
            None
        }
    };
    (expr, diags)
}

/// `text` is the whole file: an error at the end of an item names the
/// token that starts the next one, not "end of file".
fn syntax_error(file: FileId, base: usize, text: &str, e: &pest::error::Error<Rule>) -> Diagnostic {
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let expected = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => describe_expected(positives),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let pos = base + pos;
    let rest = text.get(pos..).unwrap_or("");
    let found_len = match rest.chars().next() {
        None => 0,
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => word_len(rest),
        Some(c) => c.len_utf8(),
    };
    let odd = rest.chars().next().and_then(odd_char);
    // A habit from another language (`&&`, `!x`, `'text'`, `elif`...):
    // its whole token is the offending text, and the help says what to write.
    let habit = habit(rest, positives(e));
    let found_len = habit.as_ref().map_or(found_len, |h| h.len);
    let found = match &rest[..found_len] {
        "" => "end of file".to_string(),
        "\n" | "\r" => "end of line".to_string(),
        _ if odd.is_some() => odd
            .as_ref()
            .map(|(name, _)| name.clone())
            .unwrap_or_default(),
        s => format!("`{s}`"),
    };
    // When only whitespace and comments separate the error from the item's
    // end (an unfinished item, or one cut off by the next `rule`), point at
    // the last token written, where the text stopped, not at what follows.
    let before = text[..pos].trim_end();
    let unfinished = found_len == 0 || chunk_end_at(text, pos);
    let (span, label) = match before.char_indices().next_back() {
        Some((i, c)) if unfinished => (
            Span::new(file, i, i + c.len_utf8()),
            format!("expected {expected} after this"),
        ),
        _ => (
            Span::new(file, pos, pos + found_len),
            format!("expected {expected}"),
        ),
    };
    let d = Diagnostic::new(
        Code::Syntax,
        span,
        format!("expected {expected}, found {found}"),
    )
    .label(label)
    .maybe_help(odd.map(|(_, help)| help.to_string()));
    match habit {
        Some(Habit {
            len,
            help,
            fix: Some(fix),
        }) => d.help(help).fix(
            Span::new(file, pos, pos + len),
            padded(text, pos, pos + len, &fix),
        ),
        Some(h) => d.help(h.help),
        None => d,
    }
}

/// `replacement` for `text[start..end]`, with a space on a side where it
/// would otherwise run into a name (`a&&b` becomes `a and b`, not `aandb`).
fn padded(text: &str, start: usize, end: usize, replacement: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let before = word(text[..start].chars().next_back()) && word(replacement.chars().next());
    let after = word(text[end..].chars().next()) && word(replacement.chars().next_back());
    format!(
        "{}{replacement}{}",
        if before { " " } else { "" },
        if after { " " } else { "" }
    )
}

/// E004 for a string's unknown escapes, one diagnostic per string: the
/// first escape, the others as notes. Such a string is nearly always a regex
/// (`"RTX\s+\d+"`), so the help shows it with each backslash doubled.
fn bad_escape(
    span: Span,
    first: char,
    raw: &str,
    others: &[(Span, char)],
    inner: Span,
) -> Diagnostic {
    let mut fixed = String::with_capacity(raw.len() + 4);
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        fixed.push(c);
        if c != '\\' {
            continue;
        }
        match chars.next() {
            Some(e @ ('n' | 't' | 'r' | '"' | '\\')) => fixed.push(e),
            Some(e) => {
                fixed.push('\\');
                fixed.push(e);
            }
            None => {}
        }
    }
    let mut d = Diagnostic::new(
        Code::BadEscape,
        span,
        format!("unknown escape `\\{first}`"),
    )
    .label("not an escape")
    .help(format!(
        r#"for a backslash in the text (as a regex needs), double it: "{}"; the escapes are \" \\ \n \t \r"#,
        crate::diagnostic::printable(&fixed)
    ));
    for (span, c) in others {
        d = d.note(*span, format!("`\\{c}` is not an escape either"));
    }
    // The fix is the string's text between its quotes, backslashes doubled.
    d.fix(inner, fixed)
}

fn positives(e: &pest::error::Error<Rule>) -> &[Rule] {
    match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => &[],
    }
}

/// Text another language would accept where the grammar has something
/// else: how long it is and what to write instead.
struct Habit {
    len: usize,
    help: String,
    /// What replaces the habit's text, when that is the whole fix.
    fix: Option<String>,
}

/// The length of the identifier-like word `s` starts with (0 if none).
fn word_len(s: &str) -> usize {
    s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len())
}

/// The habit `rest` (the text from a syntax error on) starts with, if any;
/// `positives` are what the grammar expected there.
fn habit(rest: &str, positives: &[Rule]) -> Option<Habit> {
    let word_len = word_len(rest);
    let word = &rest[..word_len];
    let habit = |len: usize, help: String, fix: Option<String>| Some(Habit { len, help, fix });
    // The name after a prefix operator, to show the fix in place.
    let operand = |skip: usize| {
        let r = rest[skip..].trim_start();
        let n = self::word_len(r);
        if n == 0 { "x" } else { &r[..n] }.to_string()
    };
    const SYMBOLS: [(&str, &str); 6] = [
        ("&&", "and"),
        ("||", "or"),
        ("&", "and"),
        ("|", "or"),
        ("=<", "<="),
        ("=>", ">="),
    ];
    for (symbol, meant) in SYMBOLS {
        if rest.starts_with(symbol) {
            let help = format!("write `{meant}` instead of `{symbol}`");
            return habit(symbol.len(), help, Some(meant.to_string()));
        }
    }
    // A word where only a string may stand (`nulls [NA]`): quote it.
    if word_len > 0 && positives.contains(&Rule::string) && !expression_starts(positives) {
        let quoted = format!("\"{word}\"");
        return habit(
            word_len,
            format!("write it as a string: `{quoted}`"),
            Some(quoted),
        );
    }
    if rest.starts_with('!') && !rest.starts_with("!=") {
        let x = operand(1);
        let help = format!("write `not` instead of `!`: `not {x}`");
        // `!x` becomes `not x`: the space is part of the replacement.
        let fix = if rest[1..].starts_with(char::is_whitespace) {
            "not"
        } else {
            "not "
        };
        return habit(1, help, Some(fix.to_string()));
    }
    if rest.starts_with('\'') {
        // The quoted text, to its closing quote on the same line.
        let line = rest.split('\n').next().unwrap_or(rest);
        let Some(close) = line[1..].find('\'') else {
            return habit(1, "strings use double quotes: `\"...\"`".into(), None);
        };
        let inner = line[1..1 + close].replace('"', "\\\"");
        let quoted = format!("\"{inner}\"");
        let help = format!(
            "strings use double quotes: `{}`",
            crate::diagnostic::printable(&quoted)
        );
        return habit(close + 2, help, Some(quoted));
    }
    if word == "elif" || word == "elsif" || word == "elseif" {
        let help = format!("write `else if` instead of `{word}`");
        return habit(word_len, help, Some("else if".to_string()));
    }
    if rest.starts_with('=') && !rest.starts_with("==") {
        if positives.contains(&Rule::colon) {
            return habit(
                1,
                "a rule declares its type: `rule NAME: TYPE = EXPR`, where TYPE is bool, int, float, string or an enum (e.g. `rule big: bool = vram_gb >= 48`)".into(),
                None,
            );
        }
        if positives.contains(&Rule::cmp_op) {
            return habit(
                1,
                "write `==` to compare; a single `=` only defines a rule or let".into(),
                Some("==".to_string()),
            );
        }
    }
    if rest.starts_with(':')
        && positives.contains(&Rule::assign)
        && !positives.contains(&Rule::colon)
    {
        return habit(
            1,
            "a let has no declared type: `let NAME = EXPR`; a rule has one: `rule NAME: TYPE = EXPR`".into(),
            None,
        );
    }
    None
}

/// Whether the first line of `text` that is not blank or a comment looks
/// like a CSV header (separators, and not an item): the data file given
/// where rules were expected.
fn looks_like_csv_header(text: &str) -> bool {
    let Some(line) = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
    else {
        return false;
    };
    let item = super::prescan::starts_item(line);
    // Commas, or the tabs and semicolons of TSV and European CSV exports.
    !item && line.contains([',', '\t', ';'])
}

/// A character that is invisible, a control, or a look-alike of ASCII
/// punctuation: its code point and Unicode name (so the message shows what
/// is there, not a blank or a raw control byte), and what to do about it.
fn odd_char(c: char) -> Option<(String, &'static str)> {
    const SPACE: &str = "replace it with a plain space";
    const REMOVE: &str = "remove it: it is invisible";
    let (name, help) = match c {
        '\u{00A0}' => ("NO-BREAK SPACE", SPACE),
        '\u{00AD}' => ("SOFT HYPHEN", REMOVE),
        '\u{2000}'..='\u{200A}' => ("SPACE", SPACE),
        '\u{200B}' => ("ZERO WIDTH SPACE", REMOVE),
        '\u{200C}' => ("ZERO WIDTH NON-JOINER", REMOVE),
        '\u{200D}' => ("ZERO WIDTH JOINER", REMOVE),
        '\u{200E}' => ("LEFT-TO-RIGHT MARK", REMOVE),
        '\u{200F}' => ("RIGHT-TO-LEFT MARK", REMOVE),
        '\u{2028}' => ("LINE SEPARATOR", "replace it with a line break"),
        '\u{2029}' => ("PARAGRAPH SEPARATOR", "replace it with a line break"),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            ("BIDIRECTIONAL FORMATTING CHARACTER", REMOVE)
        }
        '\u{2060}' => ("WORD JOINER", REMOVE),
        '\u{3000}' => ("IDEOGRAPHIC SPACE", SPACE),
        '\u{FEFF}' => (
            "ZERO WIDTH NO-BREAK SPACE (byte order mark)",
            "remove it; a byte order mark is only allowed at the very start of a file",
        ),
        '\u{2018}' | '\u{2019}' => ("QUOTATION MARK", "strings use plain double quotes: \""),
        '\u{201C}' | '\u{201D}' => ("QUOTATION MARK", "strings use plain double quotes: \""),
        '\u{2212}' => ("MINUS SIGN", "use a plain `-`"),
        '\u{2013}' | '\u{2014}' => ("DASH", "use a plain `-`"),
        '\u{0000}' => ("NULL", "remove it: rule files are text"),
        c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {
            ("control character", "remove it: rule files are text")
        }
        _ => return None,
    };
    Some((format!("U+{:04X} {name}", c as u32), help))
}

/// Whether `pos` starts a new item (`rule`, `let`, `enum`, `field` at a
/// line start).
fn chunk_end_at(text: &str, pos: usize) -> bool {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    line_start == pos
        && ITEM_KEYWORDS.iter().any(|k| {
            text[pos..]
                .strip_prefix(k)
                .is_some_and(|r| r.starts_with(' '))
        })
}

/// The operator an operator pair stands for, read from its grammar rule
/// (`add_op` wraps `op_add` or `op_sub`, and so on). `None` only for a pair
/// that is not an operator, which the grammar never puts there.
fn binary_op(p: &Pair<Rule>) -> Option<BinaryOp> {
    let rule = match p.as_rule() {
        Rule::kw_or => return Some(BinaryOp::Or),
        Rule::kw_and => return Some(BinaryOp::And),
        Rule::add_op | Rule::mul_op | Rule::cmp_op => p.clone().into_inner().next()?.as_rule(),
        _ => return None,
    };
    Some(match rule {
        Rule::op_add => BinaryOp::Arith(ArithOp::Add),
        Rule::op_sub => BinaryOp::Arith(ArithOp::Sub),
        Rule::op_mul => BinaryOp::Arith(ArithOp::Mul),
        Rule::op_div => BinaryOp::Arith(ArithOp::Div),
        Rule::op_rem => BinaryOp::Arith(ArithOp::Rem),
        Rule::op_eq => BinaryOp::Cmp(CmpOp::Eq),
        Rule::op_ne => BinaryOp::Cmp(CmpOp::Ne),
        Rule::op_lt => BinaryOp::Cmp(CmpOp::Lt),
        Rule::op_le => BinaryOp::Cmp(CmpOp::Le),
        Rule::op_gt => BinaryOp::Cmp(CmpOp::Gt),
        Rule::op_ge => BinaryOp::Cmp(CmpOp::Ge),
        _ => return None,
    })
}

/// Turn pest's list of expected rules into words a user reads.
fn describe_expected(positives: &[Rule]) -> String {
    use Rule::*;
    let mut words: Vec<&str> = Vec::new();
    let mut add = |w: &'static str| {
        if !words.contains(&w) {
            words.push(w);
        }
    };
    let expr_start = expression_starts(positives);
    // Only a string may come (a `field`'s `nulls [...]`).
    if positives.contains(&string) && !expr_start {
        add("a string");
    }
    if expr_start {
        add("an expression");
    }
    for r in positives {
        match r {
            name if !expr_start => add("a name"),
            type_name => add("a type"),
            default_value | neg_number => add("a literal"),
            kw_or | kw_and | cmp_op | add_op | mul_op | kw_in | not_in | op_eq | op_ne | op_lt
            | op_le | op_gt | op_ge | op_add | op_sub | op_mul | op_div | op_rem => {
                add("an operator")
            }
            kw_then => add("`then`"),
            colon => add("`:`"),
            assign => add("`=`"),
            comma => add("`,`"),
            lparen => add("`(`"),
            rparen => add("`)`"),
            lbracket => add("`[`"),
            rbracket => add("`]`"),
            lbrace => add("`{`"),
            rbrace => add("`}`"),
            file => add("a new item (`rule`, `let`, `enum` or `field`)"),
            kw_from => add("`from`"),
            kw_with => add("`with`"),
            kw_expect => add("`expect`"),
            test_value => add("a literal"),
            column => add("a column name"),
            kw_else => add("`else`"),
            kw_default => add("`default`"),
            list => add("`[`"),
            cfg_key => add("a config key"),
            item | rule_def | let_def | enum_def | field_def | test_def | kw_rule | kw_let
            | kw_enum | kw_field | kw_test | doc => add("a new item"),
            EOI => add("end of file"),
            _ => {}
        }
    }
    match words.len() {
        0 => "something else".to_string(),
        1 => words[0].to_string(),
        n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
    }
}

/// Whether pest's expected rules include the start of an expression (a
/// lone `string` does not count: that is a `field`'s list of null markers).
fn expression_starts(positives: &[Rule]) -> bool {
    use Rule::*;
    // After a complete operand, `not` can only begin `not in`: an operator.
    let after_operand = positives.contains(&cmp_op);
    let starts = |r: &Rule| {
        if *r == kw_not && after_operand {
            return false;
        }
        matches!(
            r,
            expr | or_expr
                | and_expr
                | not_expr
                | cmp_expr
                | sum
                | product
                | unary
                | primary
                | paren
                | kw_not
                | neg
                | int
                | float
                | string
                | boolean
                | kw_if
                | cfg_path
                | call
                | if_expr
        )
    };
    positives.iter().any(|r| *r != string && starts(r))
}

/// An expression and the depth of its tree.
type Built = (Expr, u32);

struct Builder<'d> {
    file: FileId,
    base: usize,
    diags: &'d mut Vec<Diagnostic>,
    too_deep: bool,
}

impl Builder<'_> {
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.file, self.base + s.start(), self.base + s.end())
    }

    fn ident(&self, p: Pair<Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    fn file(&mut self, p: Pair<Rule>, items: &mut Vec<Item>) {
        for child in p.into_inner() {
            match child.as_rule() {
                Rule::item => {
                    if let Some(item) = self.item(child) {
                        items.push(item);
                    }
                }
                Rule::doc => {
                    let span = self.span(&child);
                    self.diags.push(
                        Diagnostic::new(Code::DanglingDoc, span, "doc comment documents nothing")
                            .label("no rule, let or enum follows")
                            .help("use `#` for a plain comment"),
                    );
                }
                _ => {}
            }
        }
    }

    fn item(&mut self, p: Pair<Rule>) -> Option<Item> {
        let span = self.span(&p);
        let mut doc = Vec::new();
        let mut kind = None;
        for child in p.into_inner() {
            self.too_deep = false;
            match child.as_rule() {
                Rule::doc => {
                    let text = child.as_str().trim_start_matches("##");
                    let text = text.strip_prefix(' ').unwrap_or(text);
                    doc.push(text.trim_end().to_string());
                }
                Rule::rule_def => kind = Some(ItemKind::Rule(self.rule_def(child))),
                Rule::let_def => kind = Some(ItemKind::Let(self.let_def(child))),
                Rule::enum_def => kind = Some(ItemKind::Enum(self.enum_def(child))),
                Rule::field_def => kind = Some(ItemKind::Field(self.field_def(child))),
                Rule::test_def => kind = Some(ItemKind::Test(self.test_def(child))),
                _ => {}
            }
        }
        Some(Item {
            doc,
            kind: kind?,
            span,
        })
    }

    fn rule_def(&mut self, p: Pair<Rule>) -> RuleDef {
        let mut name = None;
        let mut ty = None;
        let mut default = None;
        let mut body = None;
        for child in p.into_inner() {
            match child.as_rule() {
                Rule::name => name = Some(self.ident(child)),
                Rule::type_name => ty = child.into_inner().next().map(|n| self.ident(n)),
                Rule::default_value => {
                    default = child.into_inner().next().map(|v| self.default_value(v))
                }
                Rule::expr => body = Some(self.expr(child).0),
                _ => {}
            }
        }
        RuleDef {
            name: name.unwrap_or_else(|| self.missing_ident()),
            ty: ty.unwrap_or_else(|| self.missing_ident()),
            default,
            body: body.unwrap_or_else(|| self.error_expr()),
        }
    }

    fn default_value(&mut self, p: Pair<Rule>) -> Expr {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::neg_number => {
                let inner = p.into_inner().next();
                match inner {
                    // Parse the sign with the digits, so i64::MIN is a valid default.
                    Some(n) if n.as_rule() == Rule::int => {
                        match format!("-{}", n.as_str().replace('_', "")).parse::<i64>() {
                            Ok(i) => Expr {
                                kind: ExprKind::Int(i),
                                span,
                            },
                            Err(_) => {
                                let mut e = self.primary(n).0;
                                e.span = span;
                                e
                            }
                        }
                    }
                    Some(n) => {
                        let lit = self.primary(n).0;
                        let kind = match lit.kind {
                            ExprKind::Int(i) => ExprKind::Int(-i),
                            ExprKind::Float(f) => ExprKind::Float(-f),
                            other => other,
                        };
                        Expr { kind, span }
                    }
                    None => self.error_expr(),
                }
            }
            Rule::name => Expr {
                kind: ExprKind::Name(p.as_str().to_string()),
                span,
            },
            _ => self.primary(p).0,
        }
    }

    fn let_def(&mut self, p: Pair<Rule>) -> LetDef {
        let mut name = None;
        let mut body = None;
        for child in p.into_inner() {
            match child.as_rule() {
                Rule::name => name = Some(self.ident(child)),
                Rule::expr => body = Some(self.expr(child).0),
                _ => {}
            }
        }
        LetDef {
            name: name.unwrap_or_else(|| self.missing_ident()),
            body: body.unwrap_or_else(|| self.error_expr()),
        }
    }

    fn enum_def(&mut self, p: Pair<Rule>) -> EnumDef {
        let mut names = p
            .into_inner()
            .filter(|c| c.as_rule() == Rule::name)
            .map(|c| self.ident(c));
        let name = names.next().unwrap_or_else(|| self.missing_ident());
        EnumDef {
            name,
            variants: names.collect(),
        }
    }

    fn field_def(&mut self, p: Pair<Rule>) -> FieldDecl {
        let mut name = None;
        let mut ty = None;
        let mut columns = Vec::new();
        let mut nulls: Option<Vec<Ident>> = None;
        for child in p.into_inner() {
            match child.as_rule() {
                Rule::name => name = Some(self.ident(child)),
                Rule::type_name => ty = child.into_inner().next().map(|n| self.ident(n)),
                Rule::column => {
                    if let Some(c) = child.into_inner().next() {
                        columns.push(self.text_ident(c));
                    }
                }
                Rule::kw_nulls => nulls = Some(Vec::new()),
                Rule::string => {
                    let marker = self.text_ident(child);
                    nulls.get_or_insert_with(Vec::new).push(marker);
                }
                _ => {}
            }
        }
        FieldDecl {
            name: name.unwrap_or_else(|| self.missing_ident()),
            ty: ty.unwrap_or_else(|| self.missing_ident()),
            columns,
            nulls,
        }
    }

    fn test_def(&mut self, p: Pair<Rule>) -> TestDef {
        let mut name = None;
        let mut fields = Vec::new();
        let mut overrides = Vec::new();
        let mut expects = Vec::new();
        for child in p.into_inner() {
            match child.as_rule() {
                Rule::string => name = Some(self.text_ident(child)),
                Rule::binding => {
                    let mut inner = child.into_inner();
                    let field = inner.next().map(|n| self.ident(n));
                    let value = inner.find(|c| c.as_rule() == Rule::test_value);
                    if let (Some(name), Some(v)) = (field, value) {
                        let value = self.test_value(v);
                        fields.push(TestField { name, value });
                    }
                }
                Rule::cfg_set => {
                    let mut inner = child.into_inner();
                    let path = inner.next();
                    let value = inner.find(|c| c.as_rule() == Rule::test_value);
                    if let (Some(path), Some(v)) = (path, value) {
                        let span = self.span(&path);
                        let key = path
                            .into_inner()
                            .filter(|k| k.as_rule() == Rule::cfg_key)
                            .map(|k| self.ident(k))
                            .collect();
                        let value = self.test_value(v);
                        overrides.push(CfgOverride { key, span, value });
                    }
                }
                Rule::expr => expects.push(self.expr(child).0),
                _ => {}
            }
        }
        TestDef {
            name: name.unwrap_or_else(|| self.missing_ident()),
            fields,
            overrides,
            expects,
        }
    }

    /// A test's literal value (a negative number is one literal, as a default is).
    fn test_value(&mut self, p: Pair<Rule>) -> Expr {
        match p.into_inner().next() {
            Some(v) => self.default_value(v),
            None => self.error_expr(),
        }
    }

    /// A name, or a string's unescaped text, with its span.
    fn text_ident(&mut self, p: Pair<Rule>) -> Ident {
        let span = self.span(&p);
        let name = match p.as_rule() {
            Rule::string => match self.string(p) {
                ExprKind::Str(s) => s,
                _ => String::new(),
            },
            _ => p.as_str().to_string(),
        };
        Ident { name, span }
    }

    fn missing_ident(&self) -> Ident {
        Ident {
            name: String::new(),
            span: Span::new(self.file, self.base, self.base),
        }
    }

    fn error_expr(&self) -> Expr {
        Expr {
            kind: ExprKind::Error,
            span: Span::new(self.file, self.base, self.base),
        }
    }

    /// Build a node of depth `depth`, or an error node past [`MAX_DEPTH`].
    fn node(&mut self, kind: ExprKind, span: Span, depth: u32) -> (Expr, u32) {
        if depth > MAX_DEPTH {
            if !self.too_deep {
                self.too_deep = true;
                self.diags.push(
                    Diagnostic::new(
                        Code::TooDeep,
                        span,
                        format!("expression is more than {MAX_DEPTH} operators deep"),
                    )
                    .label("too deep")
                    .help("split the expression into `let` helpers"),
                );
            }
            return (
                Expr {
                    kind: ExprKind::Error,
                    span,
                },
                0,
            );
        }
        (Expr { kind, span }, depth)
    }

    fn expr(&mut self, p: Pair<Rule>) -> (Expr, u32) {
        match p.as_rule() {
            Rule::expr | Rule::paren | Rule::primary => match p
                .into_inner()
                .find(|c| !matches!(c.as_rule(), Rule::lparen | Rule::rparen))
            {
                Some(inner) => self.expr(inner),
                None => (self.error_expr(), 0),
            },
            Rule::or_expr | Rule::and_expr | Rule::sum | Rule::product => self.chain(p),
            Rule::not_expr => self.prefix(p),
            Rule::unary => self.prefix(p),
            Rule::cmp_expr => self.comparison(p),
            _ => self.primary(p),
        }
    }

    /// A left-associative chain of one precedence level.
    fn chain(&mut self, p: Pair<Rule>) -> (Expr, u32) {
        let mut inner = p.into_inner();
        let Some(first) = inner.next() else {
            return (self.error_expr(), 0);
        };
        let (mut acc, mut depth) = self.expr(first);
        while let (Some(op), Some(rhs)) = (inner.next(), inner.next()) {
            let op_span = self.span(&op);
            let Some(op) = binary_op(&op) else {
                return (self.error_expr(), 0);
            };
            let (rhs, rdepth) = self.expr(rhs);
            let span = acc.span.to(rhs.span);
            let kind = ExprKind::Binary {
                op,
                op_span,
                lhs: Box::new(acc),
                rhs: Box::new(rhs),
            };
            (acc, depth) = self.node(kind, span, depth.max(rdepth) + 1);
        }
        (acc, depth)
    }

    /// `not not x` or `- - x`: prefix operators applied innermost first.
    fn prefix(&mut self, p: Pair<Rule>) -> (Expr, u32) {
        let mut ops = Vec::new();
        let mut operand = None;
        for child in p.into_inner() {
            match child.as_rule() {
                Rule::kw_not => ops.push((UnaryOp::Not, self.span(&child))),
                Rule::neg => ops.push((UnaryOp::Neg, self.span(&child))),
                _ => operand = Some(self.expr(child)),
            }
        }
        let (mut acc, mut depth) = operand.unwrap_or_else(|| (self.error_expr(), 0));
        for (op, op_span) in ops.into_iter().rev() {
            let span = op_span.to(acc.span);
            let kind = ExprKind::Unary {
                op,
                op_span,
                operand: Box::new(acc),
            };
            (acc, depth) = self.node(kind, span, depth + 1);
        }
        (acc, depth)
    }

    fn comparison(&mut self, p: Pair<Rule>) -> (Expr, u32) {
        let mut inner = p.into_inner();
        let Some(first) = inner.next() else {
            return (self.error_expr(), 0);
        };
        let (lhs, ldepth) = self.expr(first);
        let (Some(op), Some(rhs)) = (inner.next(), inner.next()) else {
            return (lhs, ldepth);
        };
        let op_span = self.span(&op);
        match op.as_rule() {
            Rule::kw_in | Rule::not_in => {
                let negated = op.as_rule() == Rule::not_in;
                let list_span = self.span(&rhs);
                let mut depth = ldepth;
                let mut list = Vec::new();
                for e in rhs.into_inner().filter(|e| e.as_rule() == Rule::expr) {
                    let (e, d) = self.expr(e);
                    depth = depth.max(d);
                    list.push(e);
                }
                let span = lhs.span.to(list_span);
                let kind = ExprKind::In {
                    negated,
                    value: Box::new(lhs),
                    list: list.into(),
                };
                self.node(kind, span, depth + 1)
            }
            _ => {
                let Some(op) = binary_op(&op) else {
                    return (self.error_expr(), 0);
                };
                let (rhs, rdepth) = self.expr(rhs);
                let span = lhs.span.to(rhs.span);
                let kind = ExprKind::Binary {
                    op,
                    op_span,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                };
                self.node(kind, span, ldepth.max(rdepth) + 1)
            }
        }
    }

    fn primary(&mut self, p: Pair<Rule>) -> (Expr, u32) {
        let span = self.span(&p);
        let kind = match p.as_rule() {
            Rule::int => {
                let digits = p.as_str().replace('_', "");
                match digits.parse::<i64>() {
                    Ok(i) => ExprKind::Int(i),
                    Err(_) => {
                        self.diags.push(
                            Diagnostic::new(
                                Code::LiteralOutOfRange,
                                span,
                                format!("integer literal {digits} does not fit in 64 bits"),
                            )
                            .label("out of range")
                            .help(format!(
                                "integers range from {} to {}",
                                i64::MIN,
                                i64::MAX
                            )),
                        );
                        ExprKind::Error
                    }
                }
            }
            Rule::float => match p.as_str().replace('_', "").parse::<f64>() {
                Ok(f) if f.is_finite() => ExprKind::Float(f),
                _ => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::LiteralOutOfRange,
                            span,
                            "float literal is too large",
                        )
                        .label("out of range")
                        .help(format!("floats reach at most {:e}", f64::MAX)),
                    );
                    ExprKind::Error
                }
            },
            Rule::string => self.string(p),
            Rule::boolean => ExprKind::Bool(p.as_str() == "true"),
            Rule::name => ExprKind::Name(p.as_str().to_string()),
            Rule::cfg_path => ExprKind::Cfg(p.into_inner().map(|k| self.ident(k)).collect()),
            Rule::call => return self.call(p),
            Rule::if_expr => return self.if_expr(p),
            _ => return self.expr(p),
        };
        (Expr { kind, span }, 1)
    }

    fn string(&mut self, p: Pair<Rule>) -> ExprKind {
        let Some(inner) = p.into_inner().next() else {
            return ExprKind::Str(String::new());
        };
        let start = self.base + inner.as_span().start();
        let raw = inner.as_str();
        let mut out = String::with_capacity(raw.len());
        // Each unknown escape's span and character.
        let mut bad: Vec<(Span, char)> = Vec::new();
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, other)) => {
                    let span = Span::new(self.file, start + i, start + i + 1 + other.len_utf8());
                    bad.push((span, other));
                }
                None => {}
            }
        }
        if let Some(&(span, first)) = bad.first() {
            let inner = Span::new(self.file, start, start + raw.len());
            self.diags
                .push(bad_escape(span, first, raw, &bad[1..], inner));
        }
        ExprKind::Str(out)
    }

    fn call(&mut self, p: Pair<Rule>) -> (Expr, u32) {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        let func = match inner.next() {
            Some(n) => self.ident(n),
            None => self.missing_ident(),
        };
        let mut depth = 0;
        let mut args = Vec::new();
        for a in inner.filter(|a| a.as_rule() == Rule::expr) {
            let (a, d) = self.expr(a);
            depth = depth.max(d);
            args.push(a);
        }
        self.node(
            ExprKind::Call {
                func: Box::new(func),
                args: args.into(),
            },
            span,
            depth + 1,
        )
    }

    /// `if c1 then a1 else if c2 then a2 ... else z`, nested right to left.
    fn if_expr(&mut self, p: Pair<Rule>) -> (Expr, u32) {
        let mut arms: Vec<(Span, Built, Built)> = Vec::new();
        let mut exprs = Vec::new();
        let mut if_starts = Vec::new();
        for child in p.into_inner() {
            match child.as_rule() {
                Rule::kw_if => if_starts.push(self.span(&child)),
                Rule::expr => exprs.push(self.expr(child)),
                _ => {}
            }
        }
        let Some(otherwise) = exprs.pop() else {
            return (self.error_expr(), 0);
        };
        let mut it = exprs.into_iter();
        for start in if_starts {
            if let (Some(c), Some(t)) = (it.next(), it.next()) {
                arms.push((start, c, t));
            }
        }
        // pest's pair may run over trailing whitespace: end at the last branch.
        let end = otherwise.0.span.end;
        let (mut acc, mut depth) = otherwise;
        for (start, (cond, cd), (then, td)) in arms.into_iter().rev() {
            let span = Span { end, ..start };
            let kind = ExprKind::If {
                cond: Box::new(cond),
                then: Box::new(then),
                otherwise: Box::new(acc),
            };
            (acc, depth) = self.node(kind, span, cd.max(td).max(depth) + 1);
        }
        (acc, depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Module {
        let (m, d) = parse(FileId(0), text);
        assert!(d.is_empty(), "unexpected diagnostics: {d:?}");
        m
    }

    /// A `test` item: its name unescaped, fields with literal values (a
    /// negative number folded), `with cfg.` overrides, and every `expect`.
    #[test]
    fn test_item_parses_fields_overrides_and_expects() {
        let m = parse_ok(
            "## doc\ntest \"a \\\"b\\\"\" {\n  vram_gb = 80, price = -1.5, model = \"x\",\n} with cfg.model_gb.7b = 4, cfg.require_mig = false expect a == 1 expect not b\nrule a: int = 1\n",
        );
        assert_eq!(m.items.len(), 2);
        assert_eq!(m.items[0].doc, ["doc"]);
        let ItemKind::Test(t) = &m.items[0].kind else {
            panic!("not a test: {:?}", m.items[0].kind);
        };
        assert_eq!(t.name.name, "a \"b\"");
        let fields: Vec<(&str, &ExprKind)> = t
            .fields
            .iter()
            .map(|f| (f.name.name.as_str(), &f.value.kind))
            .collect();
        assert_eq!(
            fields,
            [
                ("vram_gb", &ExprKind::Int(80)),
                ("price", &ExprKind::Float(-1.5)),
                ("model", &ExprKind::Str("x".into()))
            ]
        );
        let keys: Vec<Vec<&str>> = t
            .overrides
            .iter()
            .map(|o| o.key.iter().map(|k| k.name.as_str()).collect())
            .collect();
        assert_eq!(keys, [vec!["model_gb", "7b"], vec!["require_mig"]]);
        assert_eq!(t.overrides[1].value.kind, ExprKind::Bool(false));
        assert_eq!(t.expects.len(), 2);
    }

    /// A test needs an `expect`: without one it is a syntax error.
    #[test]
    fn test_item_without_expect_is_a_syntax_error() {
        let (_, d) = parse(FileId(0), "test \"t\" { vram_gb = 1 }\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, Code::Syntax);
        assert!(d[0].message.contains("`expect`"), "{}", d[0].message);
    }

    fn body(text: &str) -> Expr {
        let m = parse_ok(&format!("rule r: bool = {text}"));
        match &m.items[0].kind {
            ItemKind::Rule(r) => r.body.clone(),
            _ => unreachable!(),
        }
    }

    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Int(i) => i.to_string(),
            ExprKind::Float(f) => format!("{f:?}"),
            ExprKind::Str(s) => format!("{s:?}"),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Name(n) => n.clone(),
            ExprKind::Cfg(p) => format!(
                "cfg.{}",
                p.iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(".")
            ),
            ExprKind::Unary { op, operand, .. } => format!("({op:?} {})", show(operand)),
            ExprKind::Binary { op, lhs, rhs, .. } => {
                format!("({} {} {})", show(lhs), op.symbol(), show(rhs))
            }
            ExprKind::In {
                negated,
                value,
                list,
            } => format!(
                "({} {}in [{}])",
                show(value),
                if *negated { "not " } else { "" },
                list.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                format!(
                    "(if {} then {} else {})",
                    show(cond),
                    show(then),
                    show(otherwise)
                )
            }
            ExprKind::Call { func, args } => format!(
                "{}({})",
                func.name,
                args.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
            ExprKind::Error => "<error>".into(),
        }
    }

    #[test]
    fn every_operator_maps_from_its_grammar_rule() {
        use ArithOp::*;
        let ops = [
            ("or", BinaryOp::Or),
            ("and", BinaryOp::And),
            ("+", BinaryOp::Arith(Add)),
            ("-", BinaryOp::Arith(Sub)),
            ("*", BinaryOp::Arith(Mul)),
            ("/", BinaryOp::Arith(Div)),
            ("%", BinaryOp::Arith(Rem)),
            ("==", BinaryOp::Cmp(CmpOp::Eq)),
            ("!=", BinaryOp::Cmp(CmpOp::Ne)),
            ("<", BinaryOp::Cmp(CmpOp::Lt)),
            ("<=", BinaryOp::Cmp(CmpOp::Le)),
            (">", BinaryOp::Cmp(CmpOp::Gt)),
            (">=", BinaryOp::Cmp(CmpOp::Ge)),
        ];
        for (text, want) in ops {
            let e = body(&format!("a {text} b"));
            let ExprKind::Binary { op, op_span, .. } = e.kind else {
                panic!("`a {text} b` is not a binary operation");
            };
            assert_eq!(op, want, "`{text}`");
            assert_eq!(op.symbol(), text);
            assert_eq!((op_span.end - op_span.start) as usize, text.len());
        }
    }

    #[test]
    fn precedence_loosest_first() {
        assert_eq!(
            show(&body("a or b and not c == 1 + 2 * -3")),
            "(a or (b and (Not (c == (1 + (2 * (Neg 3)))))))"
        );
        assert_eq!(show(&body("(a or b) and c")), "((a or b) and c)");
        assert_eq!(show(&body("1 - 2 - 3")), "((1 - 2) - 3)");
        assert_eq!(show(&body("x not in [1, 2,]")), "(x not in [1, 2])");
        assert_eq!(show(&body("cfg.model_gb.70b")), "cfg.model_gb.70b");
        assert_eq!(
            show(&body("if a then 1 else if b then 2 else 3")),
            "(if a then 1 else (if b then 2 else 3))"
        );
        assert_eq!(
            show(&body("max(1, 2.5e1, \"a\\\"b\")")),
            "max(1, 25.0, \"a\\\"b\")"
        );
        assert_eq!(show(&body("1_000 % 7")), "(1000 % 7)");
    }

    #[test]
    fn items_keep_docs_defaults_and_spans() {
        let text = "## Fit.\n## Second line.\nrule q: bool default false = a\nlet u = 1\nenum P { low, mid, }\n";
        let m = parse_ok(text);
        assert_eq!(m.items.len(), 3);
        assert_eq!(m.items[0].doc, ["Fit.", "Second line."]);
        let ItemKind::Rule(r) = &m.items[0].kind else {
            panic!()
        };
        assert_eq!(r.default.as_ref().map(show), Some("false".into()));
        assert_eq!(
            &text[r.name.span.start as usize..r.name.span.end as usize],
            "q"
        );
        let ItemKind::Enum(e) = &m.items[2].kind else {
            panic!()
        };
        assert_eq!(e.variants.len(), 2);
    }

    #[test]
    fn one_syntax_error_per_broken_item_and_others_survive() {
        let (m, d) = parse(FileId(0), "rule a: int = 1 +\nrule b: int = 2\nlet c = (\n");
        assert_eq!(m.items.len(), 1);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].code, Code::Syntax);
        assert_eq!(d[0].message, "expected an expression, found `rule`");
        assert_eq!(m.broken_names, ["a", "c"]);
    }

    /// Regression: a no-break space, a zero-width space or a NUL was reported
    /// as "found ` `": a blank the user cannot see.
    #[test]
    fn invisible_characters_are_named() {
        for (text, name) in [
            ("rule r: int =\u{a0}1", "U+00A0 NO-BREAK SPACE"),
            ("rule r: int = 1 +\u{200b}2", "U+200B ZERO WIDTH SPACE"),
            ("rule r: int = \u{0}1", "U+0000 NULL"),
            (
                "rule r: int = 1\nrule s: int = \u{feff}2",
                "U+FEFF ZERO WIDTH NO-BREAK SPACE (byte order mark)",
            ),
            ("rule r: int = \u{1b}[31m", "U+001B control character"),
        ] {
            let (_, d) = parse(FileId(0), text);
            assert_eq!(d.len(), 1, "{text:?}: {d:?}");
            assert!(
                d[0].message.ends_with(&format!("found {name}")),
                "{}",
                d[0].message
            );
            assert!(d[0].help.is_some());
        }
    }

    #[test]
    fn field_declarations_parse_with_columns_and_nulls() {
        let m = parse_ok(
            "field mig_instances: int from mig_count, \"MIG Count\" nulls [\"-\", \"n\\\"a\"]\n\
             field note: string from note\nrule r: bool = mig_instances > 1\n",
        );
        assert_eq!(m.items.len(), 3);
        let ItemKind::Field(f) = &m.items[0].kind else {
            panic!("not a field: {:?}", m.items[0]);
        };
        assert_eq!(f.name.name, "mig_instances");
        assert_eq!(f.ty.name, "int");
        let columns: Vec<&str> = f.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(columns, ["mig_count", "MIG Count"]);
        let nulls: Vec<&str> = f.nulls.iter().flatten().map(|c| c.name.as_str()).collect();
        assert_eq!(nulls, ["-", "n\"a"]);
        let ItemKind::Field(g) = &m.items[1].kind else {
            panic!("not a field");
        };
        assert_eq!(g.nulls, None, "no `nulls`: the default markers");
    }

    /// A broken declaration is one error, and its name counts as declared.
    #[test]
    fn a_broken_field_declaration_is_one_error_and_its_name_is_quiet() {
        let (m, d) = parse(
            FileId(0),
            "field count: int from\nrule r: bool = count > 1\n",
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].message, "expected a column name, found `rule`");
        assert_eq!(m.broken_names, ["count"]);
        let (_, d) = parse(FileId(0), "field a: int from x nulls [NA]\n");
        assert_eq!(d[0].message, "expected a string or `]`, found `NA`");
        assert_eq!(d[0].help.as_deref(), Some("write it as a string: `\"NA\"`"));
    }

    /// A fix never glues a word to a name: `a&&b` becomes `a and b`.
    #[test]
    fn fixes_keep_words_apart() {
        for (text, replacement) in [
            ("rule r: bool = a&&b", " and "),
            ("rule r: bool = a && b", "and"),
            ("rule r: bool = !a", "not "),
            ("rule r: bool = (! a)", "not"),
            ("rule r: bool = x=<1", "<="),
        ] {
            let (_, d) = parse(FileId(0), text);
            let fix = d[0].fix.as_ref().expect("a fix");
            assert_eq!(fix.replacement, replacement, "{text}");
        }
    }

    /// Regression: a CSV given as the rules (`eval data.csv rules/`) said
    /// only "expected a new item", not that the arguments are swapped.
    #[test]
    fn a_csv_header_where_rules_were_expected_says_the_order() {
        for text in ["model,vram_gb\nA100,80\n", "# export\nmodel\tvram_gb\n"] {
            let (_, d) = parse(FileId(0), text);
            assert_eq!(d.len(), 1, "{text:?}");
            assert_eq!(
                d[0].help.as_deref(),
                Some("this looks like a CSV header, not rules: the order is `eval RULES... DATA`")
            );
        }
        // A rule with commas that does not parse is not taken for a CSV.
        let (_, d) = parse(FileId(0), "rule r: int = max(1, 2) +\n");
        assert_eq!(d[0].help, None);
    }

    /// Regression: `&&`, `||`, `!x`, `'text'`, `elif`, `=<` got "expected
    /// ..." and no word on what to write instead.
    #[test]
    fn habits_of_other_languages_say_what_to_write() {
        for (text, found, help) in [
            (
                "rule r: bool = a && b",
                "`&&`",
                "write `and` instead of `&&`",
            ),
            (
                "rule r: bool = a || b",
                "`||`",
                "write `or` instead of `||`",
            ),
            ("rule r: bool = a & b", "`&`", "write `and` instead of `&`"),
            (
                "rule r: bool = !a",
                "`!`",
                "write `not` instead of `!`: `not a`",
            ),
            (
                "rule r: bool = m == 'x\"y'",
                "`'x\"y'`",
                "strings use double quotes: `\"x\\\"y\"`",
            ),
            (
                "rule r: int = if a then 1 elif b then 2 else 3",
                "`elif`",
                "write `else if` instead of `elif`",
            ),
            (
                "rule r: bool = a =< 1",
                "`=<`",
                "write `<=` instead of `=<`",
            ),
        ] {
            let (_, d) = parse(FileId(0), text);
            assert_eq!(d.len(), 1, "{text}: {d:?}");
            assert!(
                d[0].message.ends_with(&format!("found {found}")),
                "{text}: {}",
                d[0].message
            );
            assert_eq!(d[0].help.as_deref(), Some(help), "{text}");
        }
    }

    #[test]
    fn a_byte_order_mark_at_the_start_is_skipped() {
        parse_ok("\u{feff}rule r: int = 1\n");
    }

    /// Regression: `default - 1` (a space after the sign) did not parse.
    #[test]
    fn negative_defaults_may_have_a_space() {
        let m = parse_ok("rule r: int default - 1 = 2\nrule s: float default -2.5 = 1.0\n");
        let ItemKind::Rule(r) = &m.items[0].kind else {
            panic!()
        };
        assert_eq!(r.default.as_ref().map(show), Some("-1".into()));
    }

    #[test]
    fn deep_input_gives_diagnostics_not_overflow() {
        let parens = format!(
            "rule r: int = {}1{}",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        let (_, d) = parse(FileId(0), &parens);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::TooDeep);
        let long = format!("rule r: int = 1{}", " + 1".repeat(10_000));
        let (_, d) = parse(FileId(0), &long);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::TooDeep);
        let nots = format!("rule r: bool = {}true", "not ".repeat(10_000));
        let (_, d) = parse(FileId(0), &nots);
        assert_eq!(d[0].code, Code::TooDeep);
        let nested = format!(
            "rule r: int = {}1{}",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        let (_, d) = parse(FileId(0), &nested);
        assert!(d.is_empty(), "{d:?}");
    }
}

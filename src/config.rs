//! Config: the YAML mapping that rules read as `cfg.<path>`, and the typed
//! DTO of the quantization heuristic's thresholds.

use crate::diagnostic::nearest;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// The shipped `resources/quantization_heuristic.yaml`, embedded.
pub const QUANTIZATION_YAML: &str = include_str!("../resources/quantization_heuristic.yaml");
pub const QUANTIZATION_YAML_NAME: &str = "resources/quantization_heuristic.yaml";

/// A config value as rules see it.
#[derive(Debug, Clone, PartialEq)]
pub enum CfgValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Map(Vec<(String, CfgValue)>),
    /// A YAML value rules cannot read (a list, null): named by its kind.
    Unsupported(&'static str),
}

impl CfgValue {
    fn kind(&self) -> &'static str {
        match self {
            CfgValue::Bool(_) => "a bool",
            CfgValue::Int(_) => "an int",
            CfgValue::Float(_) => "a float",
            CfgValue::Str(_) => "a string",
            CfgValue::Map(_) => "a mapping",
            CfgValue::Unsupported(k) => k,
        }
    }

    fn from_yaml(v: &serde_yaml::Value) -> CfgValue {
        use serde_yaml::Value as Y;
        match v {
            Y::Bool(b) => CfgValue::Bool(*b),
            Y::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => CfgValue::Int(i),
                (None, Some(f)) if f.is_finite() => CfgValue::Float(f),
                // .nan and .inf: no rule could compare with them sensibly.
                _ => CfgValue::Unsupported("a non-finite number"),
            },
            Y::String(s) => CfgValue::Str(s.clone()),
            Y::Mapping(m) => CfgValue::Map(
                m.iter()
                    .map(|(k, v)| (key_text(k), CfgValue::from_yaml(v)))
                    .collect(),
            ),
            Y::Tagged(t) => CfgValue::from_yaml(&t.value),
            Y::Null => CfgValue::Unsupported("null"),
            Y::Sequence(_) => CfgValue::Unsupported("a list"),
        }
    }

    fn to_yaml(&self) -> serde_yaml::Value {
        use serde_yaml::Value as Y;
        match self {
            CfgValue::Bool(b) => Y::Bool(*b),
            CfgValue::Int(i) => Y::Number((*i).into()),
            CfgValue::Float(f) => Y::Number((*f).into()),
            CfgValue::Str(s) => Y::String(s.clone()),
            CfgValue::Map(m) => Y::Mapping(
                m.iter()
                    .map(|(k, v)| (Y::String(k.clone()), v.to_yaml()))
                    .collect(),
            ),
            CfgValue::Unsupported(_) => Y::Null,
        }
    }

    /// Parse `text` as a value of the same kind as `self` (for `--set`).
    fn parse_like(&self, text: &str) -> Option<CfgValue> {
        let t = text.trim();
        Some(match self {
            CfgValue::Bool(_) => CfgValue::Bool(parse_bool(t)?),
            // An int key stays an int: rules were checked with `cfg.n` an int.
            CfgValue::Int(_) => CfgValue::Int(t.parse().ok()?),
            CfgValue::Float(_) => CfgValue::Float(t.parse::<f64>().ok().filter(|f| f.is_finite())?),
            CfgValue::Str(_) => CfgValue::Str(text.to_string()),
            CfgValue::Map(_) | CfgValue::Unsupported(_) => return None,
        })
    }
}

fn key_text(k: &serde_yaml::Value) -> String {
    match k {
        serde_yaml::Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
    }
}

/// Bool text as configs and cells write it: true/false/yes/no/1/0, any
/// case (one rule with bool cells, which also take numbers).
pub use crate::cell::parse_bool;

impl fmt::Display for CfgValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CfgValue::Bool(b) => write!(f, "{b}"),
            CfgValue::Int(i) => write!(f, "{i}"),
            CfgValue::Float(x) => write!(f, "{x}"),
            CfgValue::Str(s) => write!(f, "{s:?}"),
            CfgValue::Map(_) => f.write_str("a mapping"),
            CfgValue::Unsupported(k) => f.write_str(k),
        }
    }
}

/// A config error, naming the file, the key and, when known, the place.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub file: String,
    /// What is wrong; its display is the error's message. (Boxed: the
    /// error stays small on the `Ok` path of every `Result` it is in.)
    pub what: Box<ConfigErrorKind>,
    /// Where in the file (None for `--set` and errors YAML does not place).
    pub at: Option<Place>,
    /// A second place: where a duplicate key was first written.
    pub first: Option<Place>,
}

/// What is wrong in a config file or a `--set`. Keys are dotted paths
/// (`model_gb.70b`). New kinds may be added.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// Not YAML, or not of the config's shape: YAML's own message.
    #[error("{0}")]
    Yaml(String),
    /// Flow collections nested past what the YAML reader takes.
    #[error("flow collections (`[` and `{{`) nested more than 255 levels deep")]
    TooDeep,
    /// Aliases that expand the text past `limit` values.
    #[error("aliases (`*name`) expand this config to more than {limit} values")]
    TooManyValues { limit: usize },
    /// A key written twice in one mapping; `first` is where it was first.
    #[error(
        "duplicate key `{key}` (first written at line {}, column {})",
        first.line,
        first.column
    )]
    DuplicateKey { key: String, first: Place },
    /// A number no rule could hold (`value` as written).
    #[error(
        "config key `{key}` is a number out of range: {value} \
         (ints reach ±9223372036854775807, floats about ±1.8e308)"
    )]
    OutOfRange { key: String, value: String },
    /// The file's top level is not a mapping (`found`: what it is).
    #[error("expected a mapping of keys to values, found {found}")]
    NotAMapping { found: &'static str },
    /// A key with a `.` in it, which no rule or `--set` could reach.
    #[error(
        "config key `{}` contains a `.`: rules read `cfg.a.b` as key `b` under \
         key `a`, so no rule or --set could reach it; nest it instead (`a: {{b: 1}}`)",
        crate::diagnostic::printable(.key)
    )]
    DottedKey { key: String },
    /// A `--set` without `=`.
    #[error("`{assignment}` is not of the form key=value")]
    NotAnAssignment { assignment: String },
    /// A `--set cfg.key=value`: `key` and `value` are what to write instead.
    #[error("`--set` takes the key without `cfg.`: `--set {key}={value}`")]
    CfgPrefix { key: String, value: String },
    /// A `--set` of a key the config does not have.
    #[error("unknown config key `{key}`{}", did_you_mean(.suggestion))]
    UnknownSetKey {
        key: String,
        suggestion: Option<String>,
    },
    /// A `--set` of an int key to a number that is not whole.
    #[error("config key `{key}` is an int; {value} is not a whole number")]
    NotWholeNumber { key: String, value: String },
    /// A `--set` value that does not read as the key's type.
    #[error("config key `{key}` expects {expected}, found `{value}`")]
    SetWrongType {
        key: String,
        expected: &'static str,
        value: String,
    },
    /// A `--set` path through a key that holds a value, not a mapping.
    #[error("config key `{key}` is {found}, not a mapping")]
    NotAMappingKey { key: String, found: &'static str },
    /// A `--set` of a new key to a value rules cannot read (`found`).
    #[error(
        "`--set {key}=...`: {found} is no value rules can read; give a bool, a number or a string"
    )]
    SetUnreadable { key: String, found: &'static str },
    /// A `--set` with nothing before the `=`.
    #[error("empty config key")]
    EmptyKey,
    /// A key the quantization config does not have.
    #[error(
        "unknown key `{key}`{}; known keys: {}",
        did_you_mean(.suggestion),
        known.join(", ")
    )]
    UnknownKey {
        key: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    /// A quantization config value of another kind than the key's.
    #[error("key `{key}` expects {expected}, found {found_kind} ({found})")]
    WrongType {
        key: String,
        expected: &'static str,
        found_kind: &'static str,
        found: String,
    },
}

/// ` (did you mean `x`?)`, or nothing.
fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default()
}

impl ConfigError {
    pub fn new(file: impl Into<String>, what: ConfigErrorKind) -> ConfigError {
        ConfigError {
            file: file.into(),
            what: Box::new(what),
            at: None,
            first: None,
        }
    }

    fn yaml(file: &str, e: &serde_yaml::Error) -> ConfigError {
        ConfigError {
            at: Place::of_yaml_error(e),
            ..ConfigError::new(file, ConfigErrorKind::Yaml(e.to_string()))
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            // file:line:column, as editors and compilers write a place.
            Some(p) => write!(f, "{}:{}:{}: {}", self.file, p.line, p.column, self.what),
            None => write!(f, "{}: {}", self.file, self.what),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A place in a config or schema file: 1-based lines and columns, columns
/// counting characters, the end exclusive (equal to the start for a point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

/// A line or column as `Place` keeps it (u32, so errors stay small).
fn n32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Place {
    /// A point, as serde_yaml's error locations are.
    pub fn point(line: usize, column: usize) -> Place {
        let (line, column) = (n32(line), n32(column));
        Place {
            line,
            column,
            end_line: line,
            end_column: column,
        }
    }

    /// Where a serde_yaml error is, if it says.
    pub fn of_yaml_error(e: &serde_yaml::Error) -> Option<Place> {
        e.location().map(|l| Place::point(l.line(), l.column()))
    }
}

/// Where a key token is: its byte range in the text and its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpan {
    pub start: usize,
    pub end: usize,
    pub place: Place,
}

/// What the YAML event pass learns about a config text that serde_yaml's
/// values cannot tell: where each key is, and which plain scalars are
/// numbers out of range.
#[derive(Debug, Clone, Default, PartialEq)]
struct KeyScan {
    /// Dotted path (as `Config::leaf_paths` writes it) to its key token.
    keys: HashMap<String, KeySpan>,
    /// Plain scalars that are numbers out of range: path, text, place.
    out_of_range: Vec<(String, String, Place)>,
}

/// Why the event pass rejects a text: a message, its place, and a second
/// place (where a duplicate key was first written).
#[derive(Debug, Clone, PartialEq)]
struct Rejected {
    what: ConfigErrorKind,
    at: Place,
    first: Option<Place>,
}

/// What saphyr says when flow collections nest past 255 levels. serde_yaml
/// would take minutes to reject such a text (`[[[[...` 200,000 deep), so it
/// is rejected here, before serde_yaml reads it.
const TOO_DEEP: &str = "recursion limit exceeded";

fn too_deep(e: &saphyr_parser::ScanError) -> Option<Rejected> {
    (e.info() == TOO_DEEP).then(|| {
        let m = e.marker();
        Rejected {
            what: ConfigErrorKind::TooDeep,
            at: Place::point(m.line(), m.col().saturating_add(1)),
            first: None,
        }
    })
}

/// A YAML text nested too deep to be read in reasonable time: the message
/// and where (for schema files, which serde_yaml reads directly).
pub(crate) fn yaml_too_deep(text: &str) -> Option<(String, Place)> {
    let mut parser = saphyr_parser::Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        if let Err(e) = next {
            return too_deep(&e).map(|r| (r.what.to_string(), r.at));
        }
    }
    None
}

/// Where each key of a YAML text is, by dotted path (empty when the text is
/// not YAML saphyr reads): for files that are not configs (schemas, the
/// project file) whose errors should point at a key.
pub(crate) fn key_places(text: &str) -> HashMap<String, KeySpan> {
    scan_keys(text)
        .ok()
        .flatten()
        .map(|s| s.keys)
        .unwrap_or_default()
}

/// Char index (what saphyr's markers count) to byte offset.
struct Offsets(Option<Vec<usize>>);

impl Offsets {
    fn new(text: &str) -> Offsets {
        Offsets((!text.is_ascii()).then(|| {
            text.char_indices()
                .map(|(b, _)| b)
                .chain([text.len()])
                .collect()
        }))
    }

    fn byte(&self, char_index: usize, len: usize) -> usize {
        match &self.0 {
            None => char_index.min(len),
            Some(v) => v.get(char_index).copied().unwrap_or(len),
        }
    }
}

fn place_of(span: &saphyr_parser::Span) -> Place {
    Place {
        line: n32(span.start.line()),
        column: n32(span.start.col().saturating_add(1)),
        end_line: n32(span.end.line()),
        end_column: n32(span.end.col().saturating_add(1)),
    }
}

/// A mapping or list being walked.
struct Frame {
    is_map: bool,
    /// The mapping's dotted path; None under a list or inside a complex key,
    /// where `leaf_paths` does not reach.
    path: Option<String>,
    /// The key just read, waiting for its value.
    key: Option<(String, KeySpan)>,
    /// Keys read so far, for duplicates.
    seen: HashMap<String, Place>,
    /// Anchor id of this mapping (0: none), and where its keys start in `order`.
    anchor: usize,
    first_entry: usize,
    /// A list under `<<`: its aliases are merged into the parent mapping.
    merge_list: bool,
}

impl Frame {
    fn new(is_map: bool, path: Option<String>, anchor: usize, first_entry: usize) -> Frame {
        Frame {
            is_map,
            path,
            key: None,
            seen: HashMap::new(),
            anchor,
            first_entry,
            merge_list: false,
        }
    }
}

/// The text of a key as serde_yaml's value would give it, so that positions
/// and `leaf_paths` agree (`1` and `"1"` are the same path, `? [x]` is `- x`).
fn key_text_of(raw: &str, plain: bool) -> String {
    // Most keys are words YAML reads as themselves: skip the parse.
    let word = raw.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !plain || (word && !matches!(raw.to_ascii_lowercase().as_str(), "null" | "true" | "false")) {
        return raw.to_string();
    }
    match serde_yaml::from_str::<serde_yaml::Value>(raw) {
        Ok(v) => key_text(&v),
        Err(_) => raw.to_string(),
    }
}

/// A plain scalar that YAML reads as a number, but not as one rules can
/// hold: an integer literal beyond i64 (serde_yaml would make it a float)
/// or a float literal beyond f64 (serde_yaml would make it a string).
fn is_out_of_range_number(t: &str) -> bool {
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().is_err();
    }
    let radix = |p: &str, r: u32| {
        digits
            .strip_prefix(p)
            .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_digit(r)))
            .map(|d| i64::from_str_radix(d, r).is_err())
    };
    if let Some(big) = radix("0x", 16).or_else(|| radix("0o", 8)) {
        return big;
    }
    // Rust reads `inf` and `nan` too; YAML writes those `.inf`, `.nan`.
    !digits
        .chars()
        .any(|c| c.is_ascii_alphabetic() && !matches!(c, 'e' | 'E'))
        && t.parse::<f64>().is_ok_and(f64::is_infinite)
}

/// Positions copied by `<<: *anchor` merges, at most: a big anchor merged
/// many times would otherwise cost memory quadratic in the text. Past it,
/// merged keys get their mapping's position (see `Config::locate`).
const MAX_MERGED_POSITIONS: usize = 100_000;

/// Values a config may hold once its aliases are expanded. serde_yaml
/// copies an alias's value at each use, so a few lines of anchors (`a: &a
/// [1, 1]`, `b: &b [*a, *a]`, ...) could take gigabytes and minutes.
pub const MAX_EXPANDED_VALUES: usize = 1_000_000;

/// Counts the values of a YAML document as if its aliases were expanded.
#[derive(Default)]
struct ExpandedSize {
    /// Open collections: anchor id and values so far.
    open: Vec<(usize, usize)>,
    /// Size of each anchored value.
    anchors: HashMap<usize, usize>,
    total: usize,
}

impl ExpandedSize {
    /// Count one event; returns the running total.
    fn count(&mut self, event: &saphyr_parser::Event<'_>) -> usize {
        use saphyr_parser::Event;
        let added = match event {
            Event::Scalar(_, _, anchor, _) => {
                if *anchor != 0 {
                    self.anchors.insert(*anchor, 1);
                }
                1
            }
            Event::Alias(id) => self.anchors.get(id).copied().unwrap_or(1),
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                self.open.push((*anchor, 1));
                self.total = self.total.saturating_add(1);
                return self.total;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some((anchor, n)) = self.open.pop() {
                    if anchor != 0 {
                        self.anchors.insert(anchor, n);
                    }
                    if let Some(top) = self.open.last_mut() {
                        top.1 = top.1.saturating_add(n);
                    }
                }
                return self.total;
            }
            _ => return self.total,
        };
        if let Some(top) = self.open.last_mut() {
            top.1 = top.1.saturating_add(added);
        }
        self.total = self.total.saturating_add(added);
        self.total
    }
}

/// Walk the YAML events of `text`: key positions, numbers out of range and
/// duplicate keys. `Ok(None)` when saphyr cannot parse the text (serde_yaml
/// then reports the syntax error in its own words). Iterative, so nesting
/// depth costs heap, not stack.
fn scan_keys(text: &str) -> Result<Option<KeyScan>, Rejected> {
    use saphyr_parser::{Event, Parser, ScalarStyle};
    let offsets = Offsets::new(text);
    let span_of = |s: &saphyr_parser::Span| KeySpan {
        start: offsets.byte(s.start.index(), text.len()),
        end: offsets.byte(s.end.index(), text.len()),
        place: place_of(s),
    };
    let mut scan = KeyScan::default();
    // Every explicit key, in order: a mapping's anchor keeps its slice.
    let mut order: Vec<(String, KeySpan)> = Vec::new();
    let mut anchors: HashMap<usize, Vec<(String, KeySpan)>> = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    // A complex key being read: nesting depth and where it started.
    let mut complex: Option<(usize, saphyr_parser::Span)> = None;
    let mut at_root = true;
    let mut merged = 0usize;
    let mut size = ExpandedSize::default();
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(ok) => ok,
            Err(e) => return too_deep(&e).map_or(Ok(None), Err),
        };
        if size.count(&event) > MAX_EXPANDED_VALUES {
            return Err(Rejected {
                what: ConfigErrorKind::TooManyValues {
                    limit: MAX_EXPANDED_VALUES,
                },
                at: place_of(&span),
                first: None,
            });
        }
        if let Some((depth, start)) = &mut complex {
            match event {
                Event::MappingStart(..) | Event::SequenceStart(..) => *depth += 1,
                Event::MappingEnd | Event::SequenceEnd => *depth -= 1,
                _ => {}
            }
            if *depth == 0 {
                let whole = saphyr_parser::Span::new(start.start, span.end);
                let key = span_of(&whole);
                let raw = text.get(key.start..key.end).unwrap_or_default();
                let raw = raw.trim_start_matches('?').trim();
                let name = key_text_of(raw, true);
                complex = None;
                if let Some(f) = stack.last_mut() {
                    f.key = Some((name, key));
                }
            }
            continue;
        }
        let in_key_position = stack.last().is_some_and(|f| f.is_map && f.key.is_none());
        match event {
            Event::Scalar(value, style, _, tag) if in_key_position => {
                let Some(f) = stack.last_mut() else { continue };
                let plain = style == ScalarStyle::Plain && tag.is_none();
                let name = key_text_of(&value, plain);
                let key = span_of(&span);
                f.key = Some((name, key));
            }
            Event::MappingStart(..) | Event::SequenceStart(..) if in_key_position => {
                complex = Some((1, span));
            }
            Event::Alias(_) if in_key_position => {
                // A key that is an alias: no text to point at by path.
                if let Some(f) = stack.last_mut() {
                    f.key = Some((String::new(), span_of(&span)));
                }
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                let is_map = matches!(event, Event::MappingStart(..));
                let (path, merge_list) = match stack.last() {
                    None if at_root => (Some(String::new()), false),
                    Some(f) if f.is_map => match &f.key {
                        Some((k, _)) => (f.path.as_ref().map(|p| join_key(p, k)), k == "<<"),
                        None => (None, false),
                    },
                    _ => (None, false),
                };
                at_root = false;
                let mut frame = Frame::new(is_map, path, anchor, order.len());
                frame.merge_list = !is_map && merge_list;
                stack.push(frame);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let Some(done) = stack.pop() else { continue };
                if done.anchor != 0 && done.is_map {
                    let prefix = done.path.clone().unwrap_or_default();
                    let own: Vec<(String, KeySpan)> = order[done.first_entry.min(order.len())..]
                        .iter()
                        .filter_map(|(p, s)| {
                            let rel = if prefix.is_empty() {
                                Some(p.as_str())
                            } else {
                                p.strip_prefix(prefix.as_str())?.strip_prefix('.')
                            };
                            rel.map(|r| (r.to_string(), *s))
                        })
                        .collect();
                    anchors.insert(done.anchor, own);
                }
                if let Some(parent) = stack.last_mut() {
                    value_done(parent, &mut scan, &mut order)?;
                }
            }
            Event::Alias(id) => {
                let merge = match stack.last() {
                    Some(f) if f.is_map => f.key.as_ref().is_some_and(|(k, _)| k == "<<"),
                    Some(f) => f.merge_list,
                    None => false,
                };
                if merge {
                    let target = if stack.last().is_some_and(|f| f.is_map) {
                        stack.len().checked_sub(1)
                    } else {
                        stack.len().checked_sub(2)
                    };
                    let base = target
                        .and_then(|i| stack.get(i))
                        .and_then(|f| f.path.clone());
                    let entries = anchors.get(&id).filter(|e| {
                        merged = merged.saturating_add(e.len());
                        merged <= MAX_MERGED_POSITIONS
                    });
                    if let (Some(base), Some(entries)) = (base, entries) {
                        for (rel, s) in entries {
                            // Keys written out beside `<<` win over merged ones.
                            scan.keys.entry(join_key(&base, rel)).or_insert(*s);
                        }
                    }
                }
                if let Some(parent) = stack.last_mut() {
                    value_done(parent, &mut scan, &mut order)?;
                }
            }
            Event::Scalar(value, style, _, tag) => {
                if let Some(parent) = stack.last_mut() {
                    if style == ScalarStyle::Plain
                        && tag.is_none()
                        && is_out_of_range_number(&value)
                        && let (Some(p), Some((k, _))) = (&parent.path, &parent.key)
                    {
                        let place = place_of(&span);
                        scan.out_of_range
                            .push((join_key(p, k), value.to_string(), place));
                    }
                    value_done(parent, &mut scan, &mut order)?;
                }
            }
            Event::DocumentStart(_) => at_root = true,
            _ => {}
        }
    }
    Ok(Some(scan))
}

/// A mapping's value is read: record its key, or find it a duplicate.
fn value_done(
    f: &mut Frame,
    scan: &mut KeyScan,
    order: &mut Vec<(String, KeySpan)>,
) -> Result<(), Rejected> {
    if !f.is_map {
        return Ok(());
    }
    let Some((name, key)) = f.key.take() else {
        return Ok(());
    };
    if name.is_empty() && key.start == key.end {
        return Ok(());
    }
    let shown = f
        .path
        .as_ref()
        .map_or_else(|| name.clone(), |p| join_key(p, &name));
    if let Some(first) = f.seen.get(&name) {
        return Err(Rejected {
            what: ConfigErrorKind::DuplicateKey {
                key: shown,
                first: *first,
            },
            at: key.place,
            first: Some(*first),
        });
    }
    f.seen.insert(name.clone(), key.place);
    if f.path.is_some() && name != "<<" {
        scan.keys.insert(shown.clone(), key);
        order.push((shown, key));
    }
    Ok(())
}

/// The mapping rules read as `cfg`: layers merged, lowest first (the
/// built-in defaults, the project file, each `--config`, `--set`), each
/// key remembering the layer it came from (so W404 and `glyphsieve config`
/// can point into that layer's file).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// What messages call it: the layers' names, lowest first.
    pub name: String,
    pub root: Vec<(String, CfgValue)>,
    /// The layers merged into `root`, lowest first.
    pub layers: Vec<ConfigLayer>,
    /// For each dotted path (mappings and leaves), the layers it comes from.
    pub origins: HashMap<String, Origin>,
}

/// One layer of a config: a file (or `--set`), with its text for places.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigLayer {
    /// A file's name as the user wrote it, or `--set`.
    pub name: String,
    pub text: Option<Arc<str>>,
    /// Lint warns about keys this layer adds that no rule reads. False for
    /// the built-in config (it serves the whole shipped rule set, so linting
    /// a part of it does not warn), and for a project file's config when the
    /// rules are not the project's own.
    pub from_user: bool,
    /// Where each key of `text` is, by dotted path (for W404).
    pub keys: HashMap<String, KeySpan>,
}

/// Which layers a key comes from: indexes into [`Config::layers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The layer whose value is in effect.
    pub set_by: usize,
    /// The lowest layer that has the key: its type is the key's type.
    pub declared_by: usize,
}

/// The name `--set` assignments are collected under, one per line.
pub const SET_LAYER: &str = "--set";

impl Config {
    /// An empty config: rules that read `cfg.` get "unknown cfg key".
    pub fn empty() -> Config {
        Config {
            name: "<no config>".into(),
            root: Vec::new(),
            layers: Vec::new(),
            origins: HashMap::new(),
        }
    }

    /// A config of one layer.
    pub fn from_layer(layer: ConfigLayer, root: Vec<(String, CfgValue)>) -> Config {
        let mut origins = HashMap::new();
        record_origins(&root, "", 0, &mut origins);
        Config {
            name: layer.name.clone(),
            root,
            layers: vec![layer],
            origins,
        }
    }

    /// Any YAML mapping, typed by its values (for rule sets of your own).
    /// A duplicate key, at any level, and a number beyond what rules can
    /// hold are errors with their line and column.
    pub fn from_yaml(name: &str, text: &str) -> Result<Config, ConfigError> {
        let err = |what: ConfigErrorKind| ConfigError::new(name, what);
        let scan = scan_keys(text).map_err(|r| ConfigError {
            at: Some(r.at),
            first: r.first,
            ..err(r.what)
        })?;
        if let Some((path, value, place)) = scan.as_ref().and_then(|s| s.out_of_range.first()) {
            // serde_yaml would read it as a float (ints), a string (floats) or
            // fail with "u128" (ints beyond 64 bits): checked before it.
            return Err(ConfigError {
                at: Some(*place),
                ..err(ConfigErrorKind::OutOfRange {
                    key: path.clone(),
                    value: value.clone(),
                })
            });
        }
        let mut value: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|e| ConfigError::yaml(name, &e))?;
        // `<<: *anchor` merge keys, as YAML 1.1 readers apply them.
        value
            .apply_merge()
            .map_err(|e| ConfigError::yaml(name, &e))?;
        let root = match CfgValue::from_yaml(&value) {
            CfgValue::Map(m) => m,
            CfgValue::Unsupported("null") => Vec::new(),
            other => {
                return Err(err(ConfigErrorKind::NotAMapping {
                    found: other.kind(),
                }));
            }
        };
        let keys = scan.map(|s| s.keys).unwrap_or_default();
        if let Some(path) = dotted_key(&root, "") {
            return Err(ConfigError {
                at: keys.get(&path).map(|k| k.place),
                ..err(ConfigErrorKind::DottedKey { key: path })
            });
        }
        let layer = ConfigLayer {
            name: name.to_string(),
            text: Some(text.into()),
            from_user: true,
            keys,
        };
        Ok(Config::from_layer(layer, root))
    }

    /// Lay `over` on top: its keys override this config's and may add new
    /// ones. A key keeps the type of the lowest layer that has it (an int
    /// widens to a float, bool text reads as a bool, as in `--set`): rules
    /// are checked against that type, so a layer changes values, not types.
    /// An error names the key in `over`'s file, at its place.
    pub fn overlay(&mut self, over: Config) -> Result<(), ConfigError> {
        let offset = self.layers.len();
        let ctx = Merge {
            origins: &over.origins,
            layers: &over.layers,
            offset,
        };
        ctx.merge(&mut self.root, over.root, "", &mut self.origins)?;
        self.layers.extend(over.layers);
        self.rename();
        Ok(())
    }

    /// The layer a dotted path's value comes from, and where its key is
    /// written in that layer's text (its nearest parent's place when the key
    /// itself has none).
    pub fn origin(&self, path: &str) -> Option<(&ConfigLayer, Option<KeySpan>)> {
        let layer = self.layers.get(self.origins.get(path)?.set_by)?;
        let mut p = path;
        let span = loop {
            if let Some(k) = layer.keys.get(p) {
                break Some(*k);
            }
            match p.rfind('.') {
                Some(i) => p = &p[..i],
                None => break None,
            }
        };
        Some((layer, span))
    }

    /// The place of a key in the layer its value comes from.
    fn place(&self, path: &str) -> Option<Place> {
        self.origin(path).and_then(|(_, k)| k).map(|k| k.place)
    }

    /// The value at a dotted path.
    pub fn get(&self, path: &[&str]) -> Option<&CfgValue> {
        let (first, rest) = path.split_first()?;
        let mut v = lookup(&self.root, first)?;
        for seg in rest {
            match v {
                CfgValue::Map(m) => v = lookup(m, seg)?,
                _ => return None,
            }
        }
        Some(v)
    }

    /// The keys one level under `path` (for "did you mean").
    pub fn keys_at(&self, path: &[&str]) -> Vec<&str> {
        let map = if path.is_empty() {
            Some(&self.root)
        } else {
            match self.get(path) {
                Some(CfgValue::Map(m)) => Some(m),
                _ => None,
            }
        };
        map.map(|m| m.iter().map(|(k, _)| k.as_str()).collect())
            .unwrap_or_default()
    }

    /// Every leaf key, as dotted paths, in file order.
    pub fn leaf_paths(&self) -> Vec<String> {
        fn walk(prefix: &str, m: &[(String, CfgValue)], out: &mut Vec<String>) {
            for (k, v) in m {
                let path = join_key(prefix, k);
                match v {
                    CfgValue::Map(inner) => walk(&path, inner, out),
                    _ => out.push(path),
                }
            }
        }
        let mut out = Vec::new();
        walk("", &self.root, &mut out);
        out
    }

    /// Apply `--set key=value`. A key the config has keeps its type: the
    /// value is parsed as one (`--set n=5.0` on an int key is an error, not
    /// a retyping). A new key takes the type its YAML value has (`30` an
    /// int, `30.5` a float, `true` a bool, other text a string). The
    /// assignment becomes a line of the `--set` layer, so a warning about
    /// the key can point at it.
    pub fn set(&mut self, assignment: &str) -> Result<(), ConfigError> {
        // Named by the whole assignment: `--set n=5.0: ...`.
        let err = |what: ConfigErrorKind| ConfigError::new(format!("--set {assignment}"), what);
        let (key, value) = assignment.split_once('=').ok_or_else(|| {
            err(ConfigErrorKind::NotAnAssignment {
                assignment: assignment.to_string(),
            })
        })?;
        if let Some(rest) = key.trim().strip_prefix("cfg.") {
            return Err(err(ConfigErrorKind::CfgPrefix {
                key: rest.to_string(),
                value: value.to_string(),
            }));
        }
        let key = key.trim();
        let path: Vec<&str> = key.split('.').collect();
        if path.iter().any(|s| s.trim().is_empty()) {
            return Err(err(ConfigErrorKind::EmptyKey));
        }
        // How many leading segments the config has (each but the last a mapping).
        let mut depth = 0;
        let mut map: &[(String, CfgValue)] = &self.root;
        while depth < path.len() {
            match lookup(map, path[depth]) {
                None => break,
                Some(CfgValue::Map(inner)) => map = inner,
                Some(other) if depth + 1 < path.len() => {
                    return Err(err(ConfigErrorKind::NotAMappingKey {
                        key: path[..=depth].join("."),
                        found: other.kind(),
                    }));
                }
                Some(_) => {}
            }
            depth += 1;
        }
        let layer = self.set_layer();
        if depth == path.len() {
            let Some(slot) = value_at_mut(&mut self.root, &path) else {
                return Err(err(ConfigErrorKind::EmptyKey));
            };
            let new = match &*slot {
                // A null (or list) no rule can read: typed by the new value.
                CfgValue::Unsupported(_) => Some(new_value(key, value).map_err(err)?),
                typed => typed.parse_like(value),
            };
            let new = new.ok_or_else(|| {
                let v = value.trim();
                if matches!(slot, CfgValue::Int(_)) && v.parse::<f64>().is_ok() {
                    // Not widened to a float: rules typed `cfg.n` as an int.
                    err(ConfigErrorKind::NotWholeNumber {
                        key: key.to_string(),
                        value: v.to_string(),
                    })
                } else {
                    err(ConfigErrorKind::SetWrongType {
                        key: key.to_string(),
                        expected: slot.kind(),
                        value: value.to_string(),
                    })
                }
            })?;
            *slot = new;
        } else {
            let mut v = new_value(key, value).map_err(err)?;
            for seg in path[depth + 1..].iter().rev() {
                v = CfgValue::Map(vec![(seg.to_string(), v)]);
            }
            let entry = vec![(path[depth].to_string(), v)];
            let parent = path[..depth].join(".");
            let mut origins = HashMap::new();
            record_origins(&entry, &parent, layer, &mut origins);
            let map = match value_at_mut(&mut self.root, &path[..depth]) {
                Some(CfgValue::Map(m)) => m,
                _ if depth == 0 => &mut self.root,
                _ => return Err(err(ConfigErrorKind::EmptyKey)),
            };
            map.extend(entry);
            self.origins.extend(origins);
        }
        // Every prefix of the key now comes from `--set` (a new one is
        // declared by it too).
        for end in 1..=path.len() {
            let p = path[..end].join(".");
            self.origins
                .entry(p)
                .and_modify(|o| o.set_by = layer)
                .or_insert(Origin {
                    set_by: layer,
                    declared_by: layer,
                });
        }
        self.note_set(layer, key, assignment);
        Ok(())
    }

    /// The display name: the layers' names, joined.
    fn rename(&mut self) {
        self.name = self
            .layers
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
    }

    /// The index of the `--set` layer on top, added if there is none yet.
    fn set_layer(&mut self) -> usize {
        match self.layers.last() {
            Some(l) if l.name == SET_LAYER => self.layers.len() - 1,
            _ => {
                self.layers.push(ConfigLayer {
                    name: SET_LAYER.to_string(),
                    text: Some("".into()),
                    from_user: true,
                    keys: HashMap::new(),
                });
                self.rename();
                self.layers.len() - 1
            }
        }
    }

    /// Add an assignment as a line of the `--set` layer's text, with the
    /// key's place (line n for the n-th `--set`).
    fn note_set(&mut self, layer: usize, key: &str, assignment: &str) {
        let Some(l) = self.layers.get_mut(layer) else {
            return;
        };
        let mut text = l.text.as_deref().unwrap_or_default().to_string();
        let line = text.lines().count() + 1;
        // One assignment, one line: a newline in it would shift the places.
        let shown = assignment.replace(['\n', '\r'], " ");
        let key_at = shown.find(key).unwrap_or(0);
        let column = shown[..key_at].chars().count() + 1;
        let start = text.len() + key_at;
        text.push_str(&shown);
        text.push('\n');
        l.keys.insert(
            key.to_string(),
            KeySpan {
                start,
                end: start + key.len(),
                place: Place {
                    line: n32(line),
                    column: n32(column),
                    end_line: n32(line),
                    end_column: n32(column + key.chars().count()),
                },
            },
        );
        l.text = Some(text.into());
    }

    /// Byte range of a dotted key's token in the text of the layer its
    /// value comes from, from the YAML parser's positions (block, flow,
    /// quoted and complex keys alike). A key without a position (an alias as
    /// a key) gets its nearest parent's.
    pub fn locate(&self, path: &str) -> Option<(usize, usize)> {
        self.origin(path)
            .and_then(|(_, k)| k)
            .map(|k| (k.start, k.end))
    }
}

/// The value of a `--set` of a new key, typed as YAML reads it.
fn new_value(key: &str, value: &str) -> Result<CfgValue, ConfigErrorKind> {
    let t = value.trim();
    if is_out_of_range_number(t) {
        return Err(ConfigErrorKind::OutOfRange {
            key: key.to_string(),
            value: t.to_string(),
        });
    }
    // Text YAML cannot read (`a: b: c`) is taken as it is, as a string.
    let v = match serde_yaml::from_str::<serde_yaml::Value>(t) {
        Ok(y) => CfgValue::from_yaml(&y),
        Err(_) => CfgValue::Str(value.to_string()),
    };
    match v {
        CfgValue::Unsupported(found) => Err(ConfigErrorKind::SetUnreadable {
            key: key.to_string(),
            found,
        }),
        CfgValue::Map(m) if dotted_key(&m, key).is_some() => Err(ConfigErrorKind::DottedKey {
            key: dotted_key(&m, key).unwrap_or_default(),
        }),
        v => Ok(v),
    }
}

/// Record `layer` as the origin of every path in `m` (under `prefix`).
fn record_origins(
    m: &[(String, CfgValue)],
    prefix: &str,
    layer: usize,
    out: &mut HashMap<String, Origin>,
) {
    for (k, v) in m {
        record_origin(k, v, prefix, layer, out);
    }
}

/// Record `layer` as the origin of `k: v` (under `prefix`) and of every
/// path under it.
fn record_origin(
    k: &str,
    v: &CfgValue,
    prefix: &str,
    layer: usize,
    out: &mut HashMap<String, Origin>,
) {
    let path = join_key(prefix, k);
    if let CfgValue::Map(inner) = v {
        record_origins(inner, &path, layer, out);
    }
    out.insert(
        path,
        Origin {
            set_by: layer,
            declared_by: layer,
        },
    );
}

/// Merging one config's layers over another's (see [`Config::overlay`]).
struct Merge<'a> {
    /// The upper config's origins and layers, its indexes shifted by `offset`.
    origins: &'a HashMap<String, Origin>,
    layers: &'a [ConfigLayer],
    offset: usize,
}

impl Merge<'_> {
    fn origin(&self, path: &str) -> Origin {
        let o = self.origins.get(path).copied().unwrap_or(Origin {
            set_by: 0,
            declared_by: 0,
        });
        Origin {
            set_by: o.set_by + self.offset,
            declared_by: o.declared_by + self.offset,
        }
    }

    /// The error for a key of the upper config, at its place there.
    fn error(&self, path: &str, what: ConfigErrorKind) -> ConfigError {
        let o = self.origins.get(path).map_or(0, |o| o.set_by);
        let layer = self.layers.get(o);
        ConfigError {
            at: layer.and_then(|l| l.keys.get(path)).map(|k| k.place),
            ..ConfigError::new(layer.map_or("", |l| l.name.as_str()), what)
        }
    }

    /// Record the upper config's origins for `k: v` and what is under it
    /// (`with_key`: for `k` itself too).
    fn take_origins(
        &self,
        k: &str,
        v: &CfgValue,
        prefix: &str,
        origins: &mut HashMap<String, Origin>,
        with_key: bool,
    ) {
        let mut added = HashMap::new();
        record_origin(k, v, prefix, 0, &mut added);
        let own = join_key(prefix, k);
        for p in added.into_keys() {
            if with_key || p != own {
                let o = self.origin(&p);
                origins.insert(p, o);
            }
        }
    }

    fn merge(
        &self,
        base: &mut Vec<(String, CfgValue)>,
        over: Vec<(String, CfgValue)>,
        prefix: &str,
        origins: &mut HashMap<String, Origin>,
    ) -> Result<(), ConfigError> {
        for (k, v) in over {
            let path = join_key(prefix, &k);
            let Some(pos) = base.iter().position(|(bk, _)| *bk == k) else {
                // A new key: it and everything under it are the upper layers'.
                self.take_origins(&k, &v, prefix, origins, true);
                base.push((k, v));
                continue;
            };
            let slot = &mut base[pos].1;
            let set_by = self.origin(&path).set_by;
            match (&mut *slot, v) {
                (CfgValue::Map(inner), CfgValue::Map(over_inner)) => {
                    self.merge(inner, over_inner, &path, origins)?
                }
                (slot, v) => {
                    *slot = widen(slot, v, &path).map_err(|what| self.error(&path, what))?;
                    // A mapping over a value rules cannot read (a null): the
                    // keys under it are new.
                    if let CfgValue::Map(_) = slot {
                        self.take_origins(&k, slot, prefix, origins, false);
                    }
                }
            }
            if let Some(o) = origins.get_mut(&path) {
                o.set_by = set_by;
            }
        }
        Ok(())
    }
}

/// `v` as a value of `base`'s kind: the same kind, an int for a float, bool
/// text or 0/1 for a bool, or anything over a value rules cannot read
/// (`path`: the key, for the error).
fn widen(base: &CfgValue, v: CfgValue, path: &str) -> Result<CfgValue, ConfigErrorKind> {
    Ok(match (base, v) {
        (CfgValue::Unsupported(_), v) => v,
        (CfgValue::Float(_), CfgValue::Int(i)) => CfgValue::Float(i as f64),
        (CfgValue::Bool(_), CfgValue::Str(s)) if parse_bool(&s).is_some() => {
            CfgValue::Bool(parse_bool(&s) == Some(true))
        }
        (CfgValue::Bool(_), CfgValue::Int(i @ (0 | 1))) => CfgValue::Bool(i == 1),
        (CfgValue::Int(_), CfgValue::Float(f)) => {
            return Err(ConfigErrorKind::NotWholeNumber {
                key: path.to_string(),
                value: format!("{f:?}"),
            });
        }
        (b, v) if std::mem::discriminant(b) == std::mem::discriminant(&v) => v,
        (b, v) => {
            return Err(ConfigErrorKind::WrongType {
                key: path.to_string(),
                expected: b.kind(),
                found_kind: v.kind(),
                found: v.to_string(),
            });
        }
    })
}

/// The path of the first key (depth first) that has a `.` in it: such a key
/// cannot be told apart from a nested one in a `cfg.` path.
fn dotted_key(m: &[(String, CfgValue)], prefix: &str) -> Option<String> {
    m.iter().find_map(|(k, v)| {
        let path = join_key(prefix, k);
        if k.contains('.') {
            return Some(path);
        }
        match v {
            CfgValue::Map(inner) => dotted_key(inner, &path),
            _ => None,
        }
    })
}

/// The value at a dotted path, to change it.
fn value_at_mut<'a>(m: &'a mut [(String, CfgValue)], path: &[&str]) -> Option<&'a mut CfgValue> {
    let (first, rest) = path.split_first()?;
    let v = m.iter_mut().find(|(k, _)| k == first).map(|(_, v)| v)?;
    match (rest.is_empty(), v) {
        (true, v) => Some(v),
        (false, CfgValue::Map(inner)) => value_at_mut(inner, rest),
        _ => None,
    }
}

fn lookup<'a>(m: &'a [(String, CfgValue)], key: &str) -> Option<&'a CfgValue> {
    m.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn join_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The quantization heuristic's thresholds: the typed view of
/// `resources/quantization_heuristic.yaml`. Unknown keys are rejected, a
/// missing key keeps its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuantizationConfig {
    /// Least VRAM in GB.
    pub min_vram_gb: f64,
    /// Most board power in watts.
    pub max_tdp_watts: f64,
    /// Whether MIG support is required.
    pub require_mig: bool,
    /// VRAM in GB kept back before models are counted.
    pub overhead_gb: f64,
    /// 4-bit weights of one model, in GB.
    pub model_gb: ModelSizes,
}

/// Sizes of 4-bit quantized models, in GB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSizes {
    #[serde(rename = "7b")]
    pub b7: f64,
    #[serde(rename = "13b")]
    pub b13: f64,
    #[serde(rename = "70b")]
    pub b70: f64,
}

impl Default for QuantizationConfig {
    fn default() -> Self {
        QuantizationConfig {
            min_vram_gb: 24.0,
            max_tdp_watts: 300.0,
            require_mig: true,
            overhead_gb: 2.0,
            model_gb: ModelSizes::default(),
        }
    }
}

impl Default for ModelSizes {
    fn default() -> Self {
        ModelSizes {
            b7: 3.5,
            b13: 6.5,
            b70: 35.0,
        }
    }
}

impl QuantizationConfig {
    /// Parse and validate a quantization config file: every key must be one
    /// of the DTO's, with a value of its type.
    pub fn from_yaml(name: &str, text: &str) -> Result<QuantizationConfig, ConfigError> {
        QuantizationConfig::from_config(&Config::from_yaml(name, text)?)
    }

    /// The typed view of a config read from a file: the errors point at the key.
    pub fn from_config(file: &Config) -> Result<QuantizationConfig, ConfigError> {
        let mut base = QuantizationConfig::default().to_config();
        merge_typed(&mut base.root, &file.root, "").map_err(|(path, what)| ConfigError {
            at: file.place(&path),
            ..ConfigError::new(&file.name, what)
        })?;
        base.to_dto(&file.name)
    }

    /// The config rules see; `--set` applies to it with the DTO's types.
    pub fn to_config(&self) -> Config {
        let value = serde_yaml::to_value(self).unwrap_or(serde_yaml::Value::Null);
        let root = match CfgValue::from_yaml(&value) {
            CfgValue::Map(m) => m,
            _ => Vec::new(),
        };
        let layer = ConfigLayer {
            name: QUANTIZATION_YAML_NAME.to_string(),
            text: Some(QUANTIZATION_YAML.into()),
            from_user: false,
            keys: key_places(QUANTIZATION_YAML),
        };
        Config::from_layer(layer, root)
    }
}

impl Config {
    /// Read this config back as the quantization DTO.
    pub fn to_dto(&self, name: &str) -> Result<QuantizationConfig, ConfigError> {
        serde_yaml::from_value(CfgValue::Map(self.root.clone()).to_yaml())
            .map_err(|e| ConfigError::new(name, ConfigErrorKind::Yaml(e.to_string())))
    }
}

/// Overlay `over` on `base`, rejecting keys `base` lacks and values of
/// another kind (an int is accepted where a float is expected, and bool text
/// where a bool is: the rule `--set` follows). Errors carry the key's path.
fn merge_typed(
    base: &mut [(String, CfgValue)],
    over: &[(String, CfgValue)],
    prefix: &str,
) -> Result<(), (String, ConfigErrorKind)> {
    for (k, v) in over {
        let path = join_key(prefix, k);
        let Some(pos) = base.iter().position(|(bk, _)| bk == k) else {
            let known: Vec<&str> = base.iter().map(|(k, _)| k.as_str()).collect();
            let suggestion = nearest(k, known.iter().copied()).map(|n| join_key(prefix, n));
            let what = ConfigErrorKind::UnknownKey {
                key: path.clone(),
                suggestion,
                known: known.iter().map(|k| k.to_string()).collect(),
            };
            return Err((path, what));
        };
        let slot = &mut base[pos].1;
        match (&mut *slot, v) {
            (CfgValue::Map(inner), CfgValue::Map(over_inner)) => {
                merge_typed(inner, over_inner, &path)?
            }
            (CfgValue::Float(_), CfgValue::Int(i)) => *slot = CfgValue::Float(*i as f64),
            (CfgValue::Bool(_), CfgValue::Str(s)) if parse_bool(s).is_some() => {
                *slot = CfgValue::Bool(parse_bool(s) == Some(true))
            }
            (CfgValue::Bool(_), CfgValue::Int(i @ (0 | 1))) => *slot = CfgValue::Bool(*i == 1),
            (s, v) if std::mem::discriminant(s) == std::mem::discriminant(v) => *slot = v.clone(),
            (s, v) => {
                let what = ConfigErrorKind::WrongType {
                    key: path.clone(),
                    expected: s.kind(),
                    found_kind: v.kind(),
                    found: v.to_string(),
                };
                return Err((path, what));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_yaml_equals_the_documented_defaults() {
        let c = QuantizationConfig::from_yaml("q.yaml", QUANTIZATION_YAML).unwrap();
        assert_eq!(c, QuantizationConfig::default());
        let literal = QuantizationConfig {
            min_vram_gb: 32.0,
            ..QuantizationConfig::default()
        };
        assert_eq!(
            literal.to_config().get(&["min_vram_gb"]),
            Some(&CfgValue::Float(32.0))
        );
    }

    #[test]
    fn unknown_key_names_the_near_key() {
        let e = QuantizationConfig::from_yaml("q.yaml", "min_vram: 24\n").unwrap_err();
        assert_eq!(e.file, "q.yaml");
        assert!(
            e.what
                .to_string()
                .starts_with("unknown key `min_vram` (did you mean `min_vram_gb`?)"),
            "{e}"
        );
        let e = QuantizationConfig::from_yaml("q.yaml", "model_gb:\n  7B: 3\n").unwrap_err();
        assert!(
            e.what
                .to_string()
                .contains("`model_gb.7B` (did you mean `model_gb.7b`?)"),
            "{e}"
        );
    }

    #[test]
    fn wrong_type_names_key_expected_and_found() {
        let e = QuantizationConfig::from_yaml("q.yaml", "require_mig: maybe\n").unwrap_err();
        assert_eq!(
            e.what.to_string(),
            "key `require_mig` expects a bool, found a string (\"maybe\")"
        );
        let c = QuantizationConfig::from_yaml("q.yaml", "max_tdp_watts: 250\n").unwrap();
        assert_eq!(c.max_tdp_watts, 250.0);
        assert!(c.require_mig);
    }

    #[test]
    fn set_parses_as_the_keys_type() {
        let mut c = QuantizationConfig::default().to_config();
        c.set("min_vram_gb=32").unwrap();
        c.set("model_gb.70b = 40").unwrap();
        c.set("require_mig=no").unwrap();
        let dto = c.to_dto("x").unwrap();
        assert_eq!(
            (dto.min_vram_gb, dto.model_gb.b70, dto.require_mig),
            (32.0, 40.0, false)
        );
        let e = c.set("require_mig=perhaps").unwrap_err();
        assert_eq!(
            e.what.to_string(),
            "config key `require_mig` expects a bool, found `perhaps`"
        );
        assert!(c.set("model_gb.7b.x=1").is_err());
        assert!(c.set("nothing").is_err());
        assert!(c.set(" =1").is_err());
    }

    /// `--set` of a key no layer has adds it, typed by its YAML value; lint
    /// then warns if no rule reads it (W404, with did-you-mean).
    #[test]
    fn set_of_a_new_key_takes_its_type_from_its_value() {
        let mut c = QuantizationConfig::default().to_config();
        for (set, path, want) in [
            ("max_price_per_gb=30", "max_price_per_gb", CfgValue::Int(30)),
            ("ratio=0.5", "ratio", CfgValue::Float(0.5)),
            ("strict=true", "strict", CfgValue::Bool(true)),
            ("brand=NVIDIA", "brand", CfgValue::Str("NVIDIA".into())),
            ("limits.tdp.max=250", "limits.tdp.max", CfgValue::Int(250)),
            ("model_gb.405b=200", "model_gb.405b", CfgValue::Int(200)),
        ] {
            c.set(set).unwrap_or_else(|e| panic!("{set}: {e}"));
            let segs: Vec<&str> = path.split('.').collect();
            assert_eq!(c.get(&segs), Some(&want), "{set}");
            let (layer, key) = c.origin(path).expect("an origin");
            assert_eq!(layer.name, "--set");
            let text = layer.text.clone().unwrap_or_default();
            let key = key.expect("a place");
            assert_eq!(&text[key.start..key.end], path, "{set}");
        }
        // Once there, the key keeps its type.
        let e = c.set("max_price_per_gb=30.5").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--set max_price_per_gb=30.5: config key `max_price_per_gb` is an int; 30.5 is not a whole number"
        );
        assert!(c.set("nothing=").is_err(), "null is no value rules read");
        // A null a file wrote takes the type of the value `--set` gives it.
        let mut n = Config::from_yaml("n.yaml", "later: ~\n").unwrap();
        n.set("later=2.5").unwrap();
        assert_eq!(n.get(&["later"]), Some(&CfgValue::Float(2.5)));
        assert_eq!(c.layers.len(), 2, "one --set layer");
    }

    /// Layers override keys below them and add new ones; a key keeps the
    /// type of the lowest layer that has it, and an error names the upper
    /// file and the key's line there.
    #[test]
    fn a_layer_overrides_and_adds_keys_but_keeps_their_types() {
        let mut c = QuantizationConfig::default().to_config();
        let over = Config::from_yaml("a.yaml", "min_vram_gb: 48\nextra:\n  n: 5\n").unwrap();
        c.overlay(over).unwrap();
        assert_eq!(c.get(&["min_vram_gb"]), Some(&CfgValue::Float(48.0)));
        assert_eq!(c.get(&["max_tdp_watts"]), Some(&CfgValue::Float(300.0)));
        assert_eq!(c.get(&["extra", "n"]), Some(&CfgValue::Int(5)));
        assert_eq!(c.origins["min_vram_gb"].set_by, 1);
        assert_eq!(c.origins["min_vram_gb"].declared_by, 0);
        assert_eq!(c.origins["extra.n"].declared_by, 1);
        let top = Config::from_yaml("b.yaml", "# b\nextra: {n: 6}\nmodel_gb: {7b: 4}\n").unwrap();
        c.overlay(top).unwrap();
        assert_eq!(c.get(&["extra", "n"]), Some(&CfgValue::Int(6)));
        assert_eq!(
            c.origin("extra.n").map(|(l, _)| l.name.as_str()),
            Some("b.yaml")
        );
        assert_eq!(c.get(&["model_gb", "7b"]), Some(&CfgValue::Float(4.0)));
        assert_eq!(c.get(&["model_gb", "70b"]), Some(&CfgValue::Float(35.0)));
        let bad = Config::from_yaml("c.yaml", "# c\n\nextra:\n  n: 6.5\n").unwrap();
        let e = c.overlay(bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.yaml:4:3: config key `extra.n` is an int; 6.5 is not a whole number"
        );
        let bad = Config::from_yaml("d.yaml", "require_mig: maybe\n").unwrap();
        let e = c.clone().overlay(bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "d.yaml:1:1: key `require_mig` expects a bool, found a string (\"maybe\")"
        );
        let bad = Config::from_yaml("e.yaml", "model_gb: 3\n").unwrap();
        assert!(c.clone().overlay(bad).is_err(), "a value over a mapping");
        // A mapping over a null: the keys under it are the upper layer's.
        c.overlay(Config::from_yaml("f.yaml", "later: ~\n").unwrap())
            .unwrap();
        c.overlay(Config::from_yaml("g.yaml", "later: {n: 1}\n").unwrap())
            .unwrap();
        assert_eq!(
            c.origin("later.n").map(|(l, _)| l.name.as_str()),
            Some("g.yaml")
        );
        assert_eq!(c.locate("later.n"), Some((8, 9)));
    }

    #[test]
    fn generic_config_types_come_from_values() {
        let c = Config::from_yaml("c.yaml", "a: 1\nb:\n  c: 2.5\n  d: hi\n").unwrap();
        assert_eq!(c.get(&["a"]), Some(&CfgValue::Int(1)));
        assert_eq!(c.get(&["b", "c"]), Some(&CfgValue::Float(2.5)));
        assert_eq!(c.leaf_paths(), ["a", "b.c", "b.d"]);
        assert!(Config::from_yaml("c.yaml", "- 1\n").is_err());
        let e = Config::from_yaml("c.yaml", "a: [1\n").unwrap_err();
        assert!(e.to_string().starts_with("c.yaml:2:1: "), "{e}");
        assert_eq!(e.at, Some(Place::point(2, 1)));
    }

    /// Regression (found by the `yaml` fuzz target): a key with a dot was
    /// listed among the config's keys but could not be looked up.
    #[test]
    fn a_key_with_a_dot_is_an_error_at_the_key() {
        for text in ["a:\n  b.c: 1\n", ".: x\n", "0.5: 1\n", "\"x.y\": 2\n"] {
            let e = Config::from_yaml("c.yaml", text).unwrap_err();
            assert!(e.to_string().contains("contains a `.`"), "{text:?}: {e}");
            assert!(e.at.is_some(), "{text:?}: the key's place");
        }
    }

    #[test]
    fn locate_finds_nested_keys() {
        let c = QuantizationConfig::default().to_config();
        let text = c.layers[0].text.clone().unwrap();
        let (s, e) = c.locate("model_gb.70b").unwrap();
        assert_eq!(&text[s..e], "70b");
        let (s, _) = c.locate("overhead_gb").unwrap();
        assert!(text[s..].starts_with("overhead_gb: 2"));
    }

    /// The text a key's position covers, and its line and column.
    fn key_at(yaml: &str, path: &str) -> (String, u32, u32) {
        let c = Config::from_yaml("c.yaml", yaml).unwrap();
        let (s, e) = c
            .locate(path)
            .unwrap_or_else(|| panic!("no position for {path}"));
        let k = c.layers[0].keys[path];
        (yaml[s..e].to_string(), k.place.line, k.place.column)
    }

    #[test]
    fn w404_position_of_block_keys() {
        let y = "a: 1\nb:\n  c: 2\n  d:\n    e: 3\n";
        assert_eq!(key_at(y, "a"), ("a".into(), 1, 1));
        assert_eq!(key_at(y, "b.c"), ("c".into(), 3, 3));
        assert_eq!(key_at(y, "b.d.e"), ("e".into(), 5, 5));
        assert_eq!(
            Config::from_yaml("c.yaml", y).unwrap().leaf_paths(),
            ["a", "b.c", "b.d.e"]
        );
    }

    #[test]
    fn w404_position_of_flow_keys() {
        let y = "x: {a: 1, b: {c: 2}}\n";
        assert_eq!(key_at(y, "x.a"), ("a".into(), 1, 5));
        assert_eq!(key_at(y, "x.b.c"), ("c".into(), 1, 15));
        assert_eq!(key_at("{p: 1, q: 2}\n", "q"), ("q".into(), 1, 8));
    }

    #[test]
    fn w404_position_of_quoted_keys() {
        let y = "\"a\": 1\n'b': 2\n\"7b\": {'c d': 3}\n";
        assert_eq!(key_at(y, "a"), ("\"a\"".into(), 1, 1));
        assert_eq!(key_at(y, "b"), ("'b'".into(), 2, 1));
        assert_eq!(key_at(y, "7b.c d"), ("'c d'".into(), 3, 8));
    }

    #[test]
    fn w404_position_of_complex_and_non_string_keys() {
        let y = "top: 1\n? [x, y]\n: 2\n1: 3\n";
        let c = Config::from_yaml("c.yaml", y).unwrap();
        let paths = c.leaf_paths();
        assert_eq!(paths.len(), 3, "{paths:?}");
        // Whatever text serde_yaml gives the complex key, it has a position.
        let (s, e) = c.locate(&paths[1]).unwrap();
        assert_eq!(&y[s..e], "[x, y]");
        assert_eq!(key_at(y, "1"), ("1".into(), 4, 1));
    }

    #[test]
    fn w404_position_after_non_ascii_text() {
        // Markers count characters; spans are bytes.
        let y = "# prix en €, Größe\nnom: \"café\"\nété: {größe: 1}\n";
        assert_eq!(key_at(y, "nom"), ("nom".into(), 2, 1));
        assert_eq!(key_at(y, "été"), ("été".into(), 3, 1));
        assert_eq!(key_at(y, "été.größe"), ("größe".into(), 3, 7));
    }

    #[test]
    fn w404_position_of_merged_keys_is_their_anchor() {
        let y = "base: &b\n  p: 1\n  q: 2\nuse:\n  <<: *b\n  q: 3\n";
        assert_eq!(key_at(y, "use.p"), ("p".into(), 2, 3));
        assert_eq!(key_at(y, "use.q"), ("q".into(), 6, 3));
    }

    #[test]
    fn duplicate_key_names_both_places() {
        let e = Config::from_yaml("c.yaml", "a:\n  b: 1\n  c: 2\n  b: 3\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.yaml:4:3: duplicate key `a.b` (first written at line 2, column 3)"
        );
        assert_eq!(
            e.first,
            Some(Place {
                line: 2,
                column: 3,
                end_line: 2,
                end_column: 4
            })
        );
        let e = Config::from_yaml("c.yaml", "{x: 1, \"x\": 2}\n").unwrap_err();
        assert_eq!(e.at.map(|p| (p.line, p.column)), Some((1, 8)), "{e}");
        // The same key in two mappings is no duplicate.
        assert!(Config::from_yaml("c.yaml", "a: {x: 1}\nb: {x: 1}\n").is_ok());
    }

    #[test]
    fn number_out_of_range_is_named_not_a_string() {
        for (yaml, value) in [
            ("k: 1e400\n", "1e400"),
            ("k: -1e400\n", "-1e400"),
            ("k: 99999999999999999999\n", "99999999999999999999"),
            ("k: 9223372036854775808\n", "9223372036854775808"),
            ("k: 0x8000000000000000\n", "0x8000000000000000"),
        ] {
            let e = Config::from_yaml("c.yaml", yaml).unwrap_err();
            assert!(
                e.to_string().starts_with(&format!(
                    "c.yaml:1:4: config key `k` is a number out of range: {value} "
                )),
                "{e}"
            );
        }
        // In range, quoted, or YAML's own infinity: not this error.
        let c = Config::from_yaml(
            "c.yaml",
            "a: 1e300\nb: \"1e400\"\nc: -9223372036854775808\nd: .inf\n",
        )
        .unwrap();
        assert_eq!(c.get(&["b"]), Some(&CfgValue::Str("1e400".into())));
        assert_eq!(c.get(&["c"]), Some(&CfgValue::Int(i64::MIN)));
        let e = QuantizationConfig::from_yaml("q.yaml", "model_gb:\n  70b: 1e999\n").unwrap_err();
        assert!(
            e.what
                .to_string()
                .contains("`model_gb.70b` is a number out of range: 1e999"),
            "{e}"
        );
    }

    #[test]
    fn set_of_a_decimal_on_an_int_key_is_an_error() {
        let mut c = Config::from_yaml("c.yaml", "n: 5\nf: 1.5\n").unwrap();
        let e = c.set("n=5.0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--set n=5.0: config key `n` is an int; 5.0 is not a whole number"
        );
        c.set("f=2").unwrap();
        assert_eq!(c.get(&["f"]), Some(&CfgValue::Float(2.0)));
        c.set("n=7").unwrap();
        assert_eq!(c.get(&["n"]), Some(&CfgValue::Int(7)));
    }

    #[test]
    fn bool_text_is_a_bool_in_a_file_as_in_set() {
        for (text, want) in [
            ("yes", true),
            ("No", false),
            ("'TRUE'", true),
            ("0", false),
            ("1", true),
        ] {
            let q =
                QuantizationConfig::from_yaml("q.yaml", &format!("require_mig: {text}\n")).unwrap();
            assert_eq!(q.require_mig, want, "{text}");
        }
        let e = QuantizationConfig::from_yaml("q.yaml", "max_tdp_watts: 3\nrequire_mig: 2\n")
            .unwrap_err();
        assert_eq!(e.at.map(|p| (p.line, p.column)), Some((2, 1)), "{e}");
    }

    #[test]
    fn flow_nesting_past_255_levels_is_rejected_before_serde_yaml() {
        let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let e = Config::from_yaml("c.yaml", &deep).unwrap_err();
        assert!(
            e.what.to_string().contains("nested more than 255 levels"),
            "{e}"
        );
        assert_eq!(e.at.map(|p| p.line), Some(1));
        assert!(yaml_too_deep(&deep).is_some());
        assert!(yaml_too_deep("a: [[1]]\n").is_none());
    }

    #[test]
    fn merged_positions_are_bounded() {
        let mut y = String::from("base: &b\n");
        for i in 0..400 {
            y += &format!("  k{i}: {i}\n");
        }
        for i in 0..400 {
            y += &format!("u{i}: {{<<: *b}}\n");
        }
        let scan = scan_keys(&y).unwrap().unwrap();
        assert!(
            scan.keys.len() <= 1 + 400 + 400 + MAX_MERGED_POSITIONS,
            "{}",
            scan.keys.len()
        );
        assert!(scan.keys.contains_key("u0.k0"));
    }

    #[test]
    fn alias_bomb_is_rejected_before_serde_yaml_expands_it() {
        let mut y = String::from("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n");
        for (i, prev) in ["b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g"])
        {
            y += &format!(
                "{i}: &{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            );
        }
        let e = Config::from_yaml("c.yaml", &y).unwrap_err();
        assert!(
            e.what
                .to_string()
                .contains("expand this config to more than 1000000 values"),
            "{e}"
        );
        assert_eq!(e.at.map(|p| p.line), Some(6), "{e}");
        // A few aliases are fine.
        assert!(Config::from_yaml("c.yaml", "a: &a {x: 1}\nb: *a\nc: {<<: *a}\n").is_ok());
    }
}

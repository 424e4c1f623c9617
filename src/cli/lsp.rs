//! `glyphsieve lsp`: a Language Server Protocol server over stdio that
//! checks open `.rule` files with the workspace's other rules and settings.
//!
//! Built on `lsp-server` + `lsp-types` (rust-analyzer's crates): synchronous,
//! no async runtime, and the message loop stays ours. The checker is
//! [`RuleSet::build`] itself: the open texts replace the files on disk and
//! the whole workspace is checked together, so the diagnostics are lint's.

use super::args::ConfigArgs;
use super::{Exit, Failure, Inputs, Rules, Sources};
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::RuleSet;
use crate::schema::Schema;
use crate::source::{FileId, SourceMap};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lt;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How the client counts columns: LSP's default is UTF-16 code units; a
/// client that offers UTF-8 gets byte columns (no conversion at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf16,
}

/// Run the server on stdin/stdout until `exit` or stdin closes.
pub fn lsp() -> Result<Exit, Failure> {
    let (connection, io) = Connection::stdio();
    let outcome = serve(&connection);
    // The writer thread ends once every sender is gone.
    drop(connection);
    let _ = io.join();
    outcome
}

fn serve(connection: &Connection) -> Result<Exit, Failure> {
    let protocol = |e: lsp_server::ProtocolError| Failure::usage(format!("lsp: {e}"));
    let (id, params) = match connection.initialize_start() {
        Ok(started) => started,
        // stdin closed before any request: nothing to serve.
        Err(e) if e.channel_is_disconnected() => return Ok(Exit::Ok),
        Err(e) => return Err(protocol(e)),
    };
    let params: lt::InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let encoding = negotiate(&params);
    let root = workspace_root(&params);
    let result = json!({
        "capabilities": capabilities(encoding),
        "serverInfo": { "name": "glyphsieve", "version": env!("CARGO_PKG_VERSION") },
    });
    connection.initialize_finish(id, result).map_err(protocol)?;
    let mut server = Server {
        encoding,
        root,
        docs: BTreeMap::new(),
        fixes: HashMap::new(),
        settings: None,
        parsed: Vec::new(),
        defs: Vec::new(),
        marks: Vec::new(),
    };
    let mut shutdown = false;
    loop {
        // Block for one message, then take every one already queued: a burst
        // of edits is checked once, after the last (the debounce).
        let Ok(first) = connection.receiver.recv() else {
            return Ok(Exit::Ok);
        };
        let mut batch = vec![first];
        batch.extend(connection.receiver.try_iter());
        let mut dirty = false;
        for message in batch {
            match message {
                Message::Request(req) => {
                    // A request sees the edits sent before it.
                    if dirty {
                        for n in server.diagnostics() {
                            send(connection, n.into());
                        }
                        dirty = false;
                    }
                    if shutdown {
                        let r = Response::new_err(
                            req.id,
                            ErrorCode::InvalidRequest as i32,
                            "the server is shutting down".into(),
                        );
                        send(connection, r.into());
                        continue;
                    }
                    if req.method == "shutdown" {
                        shutdown = true;
                        send(connection, Response::new_ok(req.id, Json::Null).into());
                        continue;
                    }
                    let response = server.request(req);
                    send(connection, response.into());
                }
                Message::Notification(n) if n.method == "exit" => {
                    return Ok(if shutdown { Exit::Ok } else { Exit::Problems });
                }
                Message::Notification(n) => dirty |= server.notification(n),
                Message::Response(_) => {}
            }
        }
        if dirty {
            for n in server.diagnostics() {
                send(connection, n.into());
            }
        }
    }
}

fn send(connection: &Connection, message: Message) {
    // The client has gone when this fails: the loop ends at the next recv.
    let _ = connection.sender.send(message);
}

/// UTF-8 when the client offers it (no conversion), else UTF-16.
fn negotiate(params: &lt::InitializeParams) -> Encoding {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    match offered {
        Some(list) if list.contains(&lt::PositionEncodingKind::UTF8) => Encoding::Utf8,
        _ => Encoding::Utf16,
    }
}

fn capabilities(encoding: Encoding) -> Json {
    json!({
        "positionEncoding": match encoding { Encoding::Utf8 => "utf-8", Encoding::Utf16 => "utf-16" },
        "textDocumentSync": { "openClose": true, "change": 1, "save": { "includeText": false } },
        "codeActionProvider": { "codeActionKinds": ["quickfix"] },
        "documentFormattingProvider": true,
        "hoverProvider": true,
        "definitionProvider": true,
        "referencesProvider": true,
        "renameProvider": true,
        "documentSymbolProvider": true,
        "workspaceSymbolProvider": true,
        "completionProvider": { "triggerCharacters": ["."] },
        "signatureHelpProvider": { "triggerCharacters": ["(", ","] },
    })
}

/// The workspace folder: the first one given, else the root URI.
#[allow(deprecated)] // rootUri: older clients send only it.
fn workspace_root(params: &lt::InitializeParams) -> Option<PathBuf> {
    let uri = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| f.uri.clone())
        .or_else(|| params.root_uri.clone())?;
    uri_path(uri.as_str())
}

struct Server {
    encoding: Encoding,
    root: Option<PathBuf>,
    /// Open documents: URI to text.
    docs: BTreeMap<String, String>,
    /// The quick fixes of the last check, per URI: (range, title, edit).
    fixes: HashMap<String, Vec<(lt::Range, Json, String, lt::TextEdit)>>,
    /// The workspace's rule files, schema and config, loaded once.
    settings: Option<Settings>,
    /// Every file of the last check, parsed, and the names they define.
    parsed: Vec<Parsed>,
    defs: Vec<(String, Def)>,
    /// Each diagnostic of the last check: (URI, byte start, byte end, code).
    marks: Vec<(String, usize, usize, crate::diagnostic::Code)>,
}

struct Settings {
    /// (absolute path, text) of each rule file on disk.
    files: Vec<(String, String)>,
    schema: Arc<Schema>,
    /// The schema layers over the built-in schema (project file, lowest first).
    schema_layers: Vec<crate::schema::SchemaLayer>,
    config: Config,
}

impl Server {
    /// A notification; true when the open documents changed.
    fn notification(&mut self, n: Notification) -> bool {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<lt::DidOpenTextDocumentParams>(n.params)
                else {
                    return false;
                };
                self.docs.insert(
                    p.text_document.uri.as_str().to_string(),
                    p.text_document.text,
                );
                true
            }
            "textDocument/didChange" => {
                let Ok(p) = serde_json::from_value::<lt::DidChangeTextDocumentParams>(n.params)
                else {
                    return false;
                };
                let uri = p.text_document.uri.as_str().to_string();
                // Full sync: the last change holds the whole text.
                if let Some(text) = p.content_changes.into_iter().last().map(|c| c.text) {
                    self.docs.insert(uri, text);
                }
                true
            }
            "textDocument/didClose" => {
                let Ok(p) = serde_json::from_value::<lt::DidCloseTextDocumentParams>(n.params)
                else {
                    return false;
                };
                self.docs.remove(p.text_document.uri.as_str());
                true
            }
            // Files changed on disk (saved, deleted, renamed): read them again.
            "workspace/didChangeWatchedFiles" | "textDocument/didSave" => {
                self.settings = None;
                true
            }
            _ => false,
        }
    }

    fn request(&mut self, req: Request) -> Response {
        match req.method.as_str() {
            "textDocument/codeAction" => {
                let r = serde_json::from_value::<lt::CodeActionParams>(req.params)
                    .map(|p| self.code_actions(&p));
                respond(req.id, r)
            }
            "textDocument/formatting" => {
                let r = serde_json::from_value::<lt::DocumentFormattingParams>(req.params)
                    .map(|p| self.format(p.text_document.uri.as_str()));
                respond(req.id, r)
            }
            "textDocument/hover" => {
                let r = serde_json::from_value::<lt::TextDocumentPositionParams>(req.params)
                    .map(|p| self.hover(&p));
                respond(req.id, r)
            }
            "textDocument/definition" => {
                let r = serde_json::from_value::<lt::TextDocumentPositionParams>(req.params)
                    .map(|p| self.definition(&p));
                respond(req.id, r)
            }
            "textDocument/references" => {
                let r = serde_json::from_value::<lt::ReferenceParams>(req.params)
                    .map(|p| self.references(&p));
                respond(req.id, r)
            }
            "textDocument/completion" => {
                let r = serde_json::from_value::<lt::TextDocumentPositionParams>(req.params)
                    .map(|p| self.completion(&p));
                respond(req.id, r)
            }
            "workspace/symbol" => {
                let r = serde_json::from_value::<lt::WorkspaceSymbolParams>(req.params)
                    .map(|p| self.workspace_symbols(&p.query));
                respond(req.id, r)
            }
            "textDocument/signatureHelp" => {
                let r = serde_json::from_value::<lt::TextDocumentPositionParams>(req.params)
                    .map(|p| self.signature_help(&p));
                respond(req.id, r)
            }
            "textDocument/documentSymbol" => {
                let r = serde_json::from_value::<lt::DocumentSymbolParams>(req.params)
                    .map(|p| self.symbols(p.text_document.uri.as_str()));
                respond(req.id, r)
            }
            "textDocument/rename" => match serde_json::from_value::<lt::RenameParams>(req.params) {
                Ok(p) => match self.rename(&p) {
                    Ok(v) => Response::new_ok(req.id, v),
                    Err(e) => Response::new_err(req.id, ErrorCode::InvalidParams as i32, e),
                },
                Err(e) => Response::new_err(req.id, ErrorCode::InvalidParams as i32, e.to_string()),
            },
            _ => Response::new_err(
                req.id,
                ErrorCode::MethodNotFound as i32,
                format!("glyphsieve lsp does not handle {}", req.method),
            ),
        }
    }

    /// The rule files on disk, schema and config of the workspace, as lint
    /// would load them from its folder (project file included).
    fn settings(&mut self) -> &Settings {
        let root = self.root.clone();
        self.settings
            .get_or_insert_with(|| load_settings(root.as_deref()))
    }

    /// Check the workspace with the open texts in place of the files on disk,
    /// and one publishDiagnostics per open document (empty when clean).
    fn diagnostics(&mut self) -> Vec<Notification> {
        let encoding = self.encoding;
        let docs = self.docs.clone();
        let settings = self.settings();
        let open: HashMap<String, &String> = docs
            .keys()
            .filter_map(|uri| Some((uri_path(uri)?.display().to_string(), uri)))
            .collect();
        let mut texts: Vec<(String, String)> = Vec::new();
        for (name, text) in &settings.files {
            if !open.contains_key(name) {
                texts.push((name.clone(), text.clone()));
            }
        }
        let mut uri_of: HashMap<String, String> = HashMap::new();
        for (uri, text) in &docs {
            let name = uri_path(uri)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| uri.clone());
            uri_of.insert(name.clone(), uri.clone());
            texts.push((name, text.clone()));
        }
        let set = RuleSet::build(&texts, &settings.schema, &settings.config);
        let mut per_uri: BTreeMap<String, Vec<Json>> =
            docs.keys().map(|u| (u.clone(), Vec::new())).collect();
        let mut fixes: HashMap<String, Vec<_>> = HashMap::new();
        let mut marks = Vec::new();
        for d in &set.diagnostics {
            let name = &set.sources.get(d.span.file).name;
            let Some(uri) = uri_of.get(name) else {
                continue;
            };
            marks.push((
                uri.clone(),
                d.span.start as usize,
                d.span.end as usize,
                d.code,
            ));
            let lsp = to_lsp(d, &set.sources, &uri_of, encoding);
            if let Some(fix) = d.fix.clone().or_else(|| suggested_fix(d, &set.sources)) {
                let file = set.sources.get(fix.span.file);
                let edit = lt::TextEdit {
                    range: range(
                        &file.text,
                        fix.span.start as usize,
                        fix.span.end as usize,
                        encoding,
                    ),
                    new_text: fix.replacement.clone(),
                };
                let title = match &d.help {
                    Some(h) => h.clone(),
                    None => format!("replace with `{}`", fix.replacement),
                };
                let r = range(
                    &file.text,
                    d.span.start as usize,
                    d.span.end as usize,
                    encoding,
                );
                fixes
                    .entry(uri.clone())
                    .or_default()
                    .push((r, lsp.clone(), title, edit));
            }
            if let Some(list) = per_uri.get_mut(uri) {
                list.push(lsp);
            }
        }
        self.fixes = fixes;
        self.marks = marks;
        // Parsed again for navigation, but only the files whose text changed.
        let mut before: HashMap<String, Parsed> = std::mem::take(&mut self.parsed)
            .into_iter()
            .map(|p| (p.uri.clone(), p))
            .collect();
        self.parsed = (0..texts.len())
            .map(|i| {
                let id = FileId(i as u32);
                let f = set.sources.get(id);
                let uri = uri_of
                    .get(&f.name)
                    .cloned()
                    .unwrap_or_else(|| path_uri(&f.name));
                match before.remove(&uri) {
                    Some(p) if p.text == f.text => p,
                    _ => Parsed {
                        uri,
                        text: f.text.clone(),
                        module: crate::syntax::parse(id, &f.text).0,
                    },
                }
            })
            .collect();
        self.defs = defs_of(&self.parsed);
        // A let's type is the checker's (it is not written in the source).
        let program = &set.program;
        for (n, d) in &mut self.defs {
            if d.kind != lt::SymbolKind::VARIABLE {
                continue;
            }
            if let Some(item) = program
                .items
                .iter()
                .find(|i| i.name == *n && i.rule.is_none())
            {
                let ty = match item.ty {
                    crate::types::Type::Enum(id) => program
                        .enums
                        .get(id.0 as usize)
                        .map_or_else(|| "enum".to_string(), |e| e.name.clone()),
                    t => t.to_string(),
                };
                d.detail = format!("let {n}: {ty}");
            }
        }
        per_uri
            .into_iter()
            .map(|(uri, diagnostics)| {
                Notification::new(
                    "textDocument/publishDiagnostics".into(),
                    json!({ "uri": uri, "diagnostics": diagnostics }),
                )
            })
            .collect()
    }

    fn code_actions(&self, p: &lt::CodeActionParams) -> Json {
        let uri = p.text_document.uri.as_str();
        let want = p.range;
        let actions: Vec<Json> = self
            .fixes
            .get(uri)
            .into_iter()
            .flatten()
            .filter(|(r, ..)| r.start <= want.end && want.start <= r.end)
            .map(|(_, diag, title, edit)| {
                json!({
                    "title": title,
                    "kind": "quickfix",
                    "isPreferred": true,
                    "diagnostics": [diag],
                    "edit": { "changes": { uri: [edit] } },
                })
            })
            .collect();
        Json::Array(actions)
    }

    /// The whole document replaced by its formatted text; nothing when it is
    /// already formatted or has a syntax error (its diagnostics say why).
    fn format(&self, uri: &str) -> Json {
        let Some(text) = self.docs.get(uri) else {
            return Json::Null;
        };
        match crate::syntax::format::format_file(FileId(0), text) {
            Ok(formatted) if formatted != *text => {
                let end = range(text, text.len(), text.len(), self.encoding).end;
                json!([{
                    "range": { "start": { "line": 0, "character": 0 }, "end": end },
                    "newText": formatted,
                }])
            }
            _ => json!([]),
        }
    }
}

fn respond(id: lsp_server::RequestId, r: Result<Json, serde_json::Error>) -> Response {
    match r {
        Ok(v) => Response::new_ok(id, v),
        Err(e) => Response::new_err(id, ErrorCode::InvalidParams as i32, e.to_string()),
    }
}

/// The workspace as lint loads it from the folder: the project file's
/// `rules:` (else every .rule file under the folder), schema and config.
/// When nothing loads (no folder, a broken project file), the built-in
/// schema and config, and only the open documents.
fn load_settings(root: Option<&Path>) -> Settings {
    let fallback = || Settings {
        files: Vec::new(),
        schema: Schema::listing(),
        schema_layers: Vec::new(),
        config: crate::config::QuantizationConfig::default().to_config(),
    };
    let Some(root) = root else {
        return fallback();
    };
    // The project file is found from the current folder, as on the command line.
    if std::env::set_current_dir(root).is_err() {
        return fallback();
    }
    let args = ConfigArgs {
        config: Vec::new(),
        set: Vec::new(),
        schema: Vec::new(),
        no_project: false,
    };
    let load = |paths: &[PathBuf]| {
        Inputs::load(&Sources {
            rules: Rules::Files(paths),
            config: &args,
        })
    };
    let root_list = [root.to_path_buf()];
    // No rules on disk yet (a new project): the settings alone.
    let settings_only = || {
        Inputs::load(&Sources {
            rules: Rules::Settings,
            config: &args,
        })
    };
    let loaded = load(&[])
        .or_else(|_| load(&root_list))
        .or_else(|_| settings_only());
    match loaded {
        Ok(inputs) => Settings {
            files: inputs
                .files
                .iter()
                .zip(inputs.texts)
                .map(|(path, (_, text))| {
                    let abs = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                    (abs.display().to_string(), text)
                })
                .collect(),
            schema: inputs.schema,
            schema_layers: inputs.schema_layers,
            config: inputs.config,
        },
        Err(_) => fallback(),
    }
}

/// The edit a "did you mean `x`?" help asks for, when the checker gives it
/// as advice only: the name under the span replaced by the suggestion. Only
/// for a name of as many dotted parts as the suggestion, so that the edit is
/// exactly the advice (`cfg.min_vram` to `cfg.min_vram_gb`, `vram_gbb` to
/// `vram_gb`).
fn suggested_fix(d: &Diagnostic, sources: &SourceMap) -> Option<crate::diagnostic::Fix> {
    let help = d.help.as_deref()?;
    let name = help.strip_prefix("did you mean `")?.strip_suffix("`?")?;
    let written = sources.get(d.span.file).slice(d.span);
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
    };
    let parts = |s: &str| s.split('.').count();
    (is_name(written) && is_name(name) && parts(written) == parts(name) && written != name).then(
        || crate::diagnostic::Fix {
            span: d.span,
            replacement: name.to_string(),
        },
    )
}

fn to_lsp(
    d: &Diagnostic,
    sources: &SourceMap,
    uri_of: &HashMap<String, String>,
    encoding: Encoding,
) -> Json {
    let file = sources.get(d.span.file);
    let severity = match d.severity() {
        Severity::Error => 1,
        Severity::Warning => 2,
    };
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message += &format!("\nhelp: {help}");
    }
    let related: Vec<Json> = d
        .notes
        .iter()
        .map(|(span, text)| {
            let f = sources.get(span.file);
            let uri = uri_of
                .get(&f.name)
                .cloned()
                .unwrap_or_else(|| path_uri(&f.name));
            json!({
                "location": {
                    "uri": uri,
                    "range": range(&f.text, span.start as usize, span.end as usize, encoding),
                },
                "message": text,
            })
        })
        .collect();
    json!({
        "range": range(&file.text, d.span.start as usize, d.span.end as usize, encoding),
        "severity": severity,
        "code": d.code.as_str(),
        "source": "glyphsieve",
        "message": message,
        "relatedInformation": related,
    })
}

/// A byte range as an LSP range in the negotiated encoding.
fn range(text: &str, start: usize, end: usize, encoding: Encoding) -> lt::Range {
    lt::Range {
        start: position(text, start, encoding),
        end: position(text, end, encoding),
    }
}

/// A byte offset as an LSP position: 0-based line, and column in UTF-8
/// bytes or UTF-16 code units from the line's start.
fn position(text: &str, offset: usize, encoding: Encoding) -> lt::Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = &text[line_start..offset];
    let character = match encoding {
        Encoding::Utf8 => col.len(),
        Encoding::Utf16 => col.encode_utf16().count(),
    };
    lt::Position {
        line: line as u32,
        character: character as u32,
    }
}

/// An LSP position as a byte offset (clamped to the line and the text).
fn offset(text: &str, pos: lt::Position, encoding: Encoding) -> usize {
    let mut start = 0;
    for _ in 0..pos.line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line = &text[start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let want = pos.character as usize;
    let mut units = 0;
    for (i, c) in line.char_indices() {
        if units >= want {
            return start + i;
        }
        units += match encoding {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        };
    }
    start + line.len()
}

/// A `file:` URI's path (percent-decoded); None for other schemes.
fn uri_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = rest.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(h, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok().map(PathBuf::from)
}

/// A path as a `file:` URI (characters outside the unreserved set escaped).
fn path_uri(path: &str) -> String {
    let mut uri = String::from("file://");
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                uri.push(b as char)
            }
            _ => uri += &format!("%{b:02X}"),
        }
    }
    uri
}

/// One parsed file of the last check, for hover and navigation.
struct Parsed {
    uri: String,
    text: Arc<str>,
    module: crate::syntax::ast::Module,
}

/// A name defined in the rules: where, what, and its doc comment.
struct Def {
    file: usize,
    span: crate::source::Span,
    detail: String,
    doc: String,
    kind: lt::SymbolKind,
}

/// Names as a list of code spans; the empty string as `""`.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| match n.is_empty() {
            true => "`\"\"`".to_string(),
            false => format!("`{n}`"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rule-language keywords offered by completion.
const KEYWORDS: [&str; 15] = [
    "rule", "let", "enum", "field", "test", "if", "then", "else", "and", "or", "not", "in", "true",
    "false", "cfg",
];

fn defs_of(files: &[Parsed]) -> Vec<(String, Def)> {
    use crate::syntax::ast::ItemKind;
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        for item in &f.module.items {
            let doc = item.doc.join("\n");
            let mut def = |name: &crate::syntax::ast::Ident, detail: String, kind| {
                out.push((
                    name.name.clone(),
                    Def {
                        file: i,
                        span: name.span,
                        detail,
                        doc: doc.clone(),
                        kind,
                    },
                ));
            };
            match &item.kind {
                ItemKind::Rule(r) => def(
                    &r.name,
                    format!("rule {}: {}", r.name.name, r.ty.name),
                    lt::SymbolKind::FUNCTION,
                ),
                ItemKind::Let(l) => def(
                    &l.name,
                    format!("let {}", l.name.name),
                    lt::SymbolKind::VARIABLE,
                ),
                ItemKind::Enum(e) => {
                    let names: Vec<&str> = e.variants.iter().map(|v| v.name.as_str()).collect();
                    def(
                        &e.name,
                        format!("enum {} {{ {} }}", e.name.name, names.join(", ")),
                        lt::SymbolKind::ENUM,
                    );
                    for v in &e.variants {
                        def(
                            v,
                            format!("{}: variant of enum {}", v.name, e.name.name),
                            lt::SymbolKind::ENUM_MEMBER,
                        );
                    }
                }
                ItemKind::Field(fd) => def(
                    &fd.name,
                    format!("field {}: {}", fd.name.name, fd.ty.name),
                    lt::SymbolKind::FIELD,
                ),
                ItemKind::Test(t) => def(
                    &t.name,
                    format!("test {}", t.name.name),
                    lt::SymbolKind::EVENT,
                ),
            }
        }
    }
    out
}

/// The name that ends `text`: letters, digits and `_`, and `.` too when
/// `dotted` (a `cfg.` path being typed).
fn ident_before(text: &str, dotted: bool) -> &str {
    let len = text
        .chars()
        .rev()
        .take_while(|&c| c.is_alphanumeric() || c == '_' || (dotted && c == '.'))
        .map(char::len_utf8)
        .sum::<usize>();
    &text[text.len() - len..]
}

/// Every use of a bare name (and of an enum as a rule's type) in a module.
fn uses_in(module: &crate::syntax::ast::Module, name: &str, out: &mut Vec<crate::source::Span>) {
    use crate::syntax::ast::{Expr, ExprKind, ItemKind};
    fn walk(e: &Expr, name: &str, out: &mut Vec<crate::source::Span>) {
        if matches!(&e.kind, ExprKind::Name(n) if n == name) {
            out.push(e.span);
        }
        e.children().into_iter().for_each(|x| walk(x, name, out));
    }
    for item in &module.items {
        match &item.kind {
            ItemKind::Rule(r) => {
                if r.ty.name == name {
                    out.push(r.ty.span);
                }
                if let Some(d) = &r.default {
                    walk(d, name, out);
                }
                walk(&r.body, name, out);
            }
            ItemKind::Let(l) => walk(&l.body, name, out),
            ItemKind::Test(t) => {
                for f in &t.fields {
                    if f.name.name == name {
                        out.push(f.name.span);
                    }
                    walk(&f.value, name, out);
                }
                t.expects.iter().for_each(|x| walk(x, name, out));
            }
            ItemKind::Enum(_) | ItemKind::Field(_) => {}
        }
    }
}

/// The word under a byte offset: a name, or a dotted `cfg.` path cut at
/// the end of the segment under the cursor. Returns its byte range.
fn word_at(text: &str, at: usize) -> Option<(usize, usize)> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut start = at.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = start;
    while let Some(c) = text[end..].chars().next().filter(|c| is_word(*c)) {
        end += c.len_utf8();
    }
    while let Some(c) = text[..start]
        .chars()
        .next_back()
        .filter(|c| is_word(*c) || *c == '.')
    {
        start -= c.len_utf8();
    }
    // Only a `cfg.` path keeps its dots; otherwise the name after the last one.
    let word = &text[start..end];
    if !word.starts_with("cfg.")
        && let Some(i) = word.rfind('.')
    {
        start += i + 1;
    }
    (start < end).then_some((start, end))
}

impl Server {
    /// The parsed file of a URI and the byte offset of a position in it.
    fn locate(&self, doc: &lt::TextDocumentPositionParams) -> Option<(usize, usize)> {
        let uri = doc.text_document.uri.as_str();
        let file = self.parsed.iter().position(|p| p.uri == uri)?;
        let at = offset(&self.parsed[file].text, doc.position, self.encoding);
        Some((file, at))
    }

    fn location(&self, file: usize, span: crate::source::Span) -> Json {
        let f = &self.parsed[file];
        json!({
            "uri": f.uri,
            "range": range(&f.text, span.start as usize, span.end as usize, self.encoding),
        })
    }

    fn hover(&self, p: &lt::TextDocumentPositionParams) -> Json {
        let Some((file, at)) = self.locate(p) else {
            return Json::Null;
        };
        let text = &self.parsed[file].text;
        let mut parts: Vec<String> = Vec::new();
        if let Some((start, end)) = word_at(text, at) {
            let word = &text[start..end];
            parts.extend(self.describe(word, text[end..].trim_start().starts_with('(')));
        }
        // The documentation of the codes whose spans are under the cursor.
        for (uri, s, e, code) in &self.marks {
            if *uri == self.parsed[file].uri && *s <= at && at <= *e {
                // The code's entry in docs/language.md, as `glyphsieve rule CODE`
                // prints it (the one-line summary if the docs lack it).
                let def = code.def();
                parts.push(
                    super::tools::entry(def.id).unwrap_or_else(|| {
                        format!("**{}** ({}): {}", def.id, def.name, def.summary)
                    }),
                );
            }
        }
        if parts.is_empty() {
            return Json::Null;
        }
        json!({ "contents": { "kind": "markdown", "value": parts.join("\n\n---\n\n") } })
    }

    /// What hover says about a name, a `cfg.` path or a function.
    fn describe(&self, word: &str, called: bool) -> Vec<String> {
        let mut out = Vec::new();
        let Some(settings) = &self.settings else {
            return out;
        };
        if let Some(path) = word.strip_prefix("cfg.") {
            let segs: Vec<&str> = path.split('.').collect();
            if let Some(v) = settings.config.get(&segs) {
                use crate::config::CfgValue;
                let ty = match v {
                    CfgValue::Bool(_) => "bool",
                    CfgValue::Int(_) => "int",
                    CfgValue::Float(_) => "float",
                    CfgValue::Str(_) => "string",
                    CfgValue::Map(_) => "map",
                    CfgValue::Unsupported(kind) => kind,
                };
                let mut s = format!("`cfg.{path}`: {ty} = `{v}`");
                if let Some((layer, key)) = settings.config.origin(path) {
                    s += &format!("\n\nfrom `{}`", layer.name);
                    if let Some(k) = key {
                        s += &format!(", line {}", k.place.line);
                    }
                }
                out.push(s);
            }
            return out;
        }
        if called || !self.defs.iter().any(|(n, _)| n == word) {
            if let Some(b) = crate::check::Builtin::from_name(word).map(crate::check::Builtin::def)
            {
                out.push(format!("```\n{}\n```\n{}", b.signature, b.doc));
            }
            if !out.is_empty() {
                return out;
            }
        }
        for (_, d) in self.defs.iter().filter(|(n, _)| n == word) {
            let mut s = format!("```\n{}\n```", d.detail);
            if !d.doc.is_empty() {
                s += &format!("\n{}", d.doc);
            }
            out.push(s);
        }
        if out.is_empty()
            && let Some(slot) = settings.schema.slot(word)
        {
            let f = settings.schema.field(slot);
            let nulls = f.nulls.markers();
            out.push(format!(
                "```\nfield {}: {}\n```\ncolumns: {} (the first present)\n\nnull markers (case ignored): {}",
                f.name,
                f.ty,
                quoted(&f.columns),
                if nulls.is_empty() {
                    "none".to_string()
                } else {
                    quoted(&nulls)
                }
            ));
        }
        out
    }

    fn definition(&self, p: &lt::TextDocumentPositionParams) -> Json {
        let Some((file, at)) = self.locate(p) else {
            return Json::Null;
        };
        let text = &self.parsed[file].text;
        let Some((start, end)) = word_at(text, at) else {
            return Json::Null;
        };
        let word = &text[start..end];
        if let Some(path) = word.strip_prefix("cfg.") {
            return self.cfg_location(path).unwrap_or(Json::Null);
        }
        let found: Vec<Json> = self
            .defs
            .iter()
            .filter(|(n, d)| n == word && d.kind != lt::SymbolKind::EVENT)
            .map(|(_, d)| self.location(d.file, d.span))
            .collect();
        if found.is_empty() {
            return self.field_location(word).unwrap_or(Json::Null);
        }
        Json::Array(found)
    }

    /// A field's line in the highest schema layer that declares it (the
    /// project file's `schema:` or a schema file; the built-in schema is
    /// not a file of the workspace).
    fn field_location(&self, name: &str) -> Option<Json> {
        let settings = self.settings.as_ref()?;
        let (layer, line) = settings.schema_layers.iter().rev().find_map(|l| {
            let f = l.fields.iter().find(|f| f.def.name == name)?;
            Some((l, f.line?))
        })?;
        let file = self.root.as_ref()?.join(&layer.name);
        let line = line.saturating_sub(1);
        Some(json!({
            "uri": path_uri(&file.display().to_string()),
            "range": { "start": { "line": line, "character": 0 }, "end": { "line": line, "character": 0 } },
        }))
    }

    /// The YAML line a `cfg.` key's value comes from.
    fn cfg_location(&self, path: &str) -> Option<Json> {
        let settings = self.settings.as_ref()?;
        let (layer, key) = settings.config.origin(path)?;
        let key = key?;
        let file = self.root.as_ref()?.join(&layer.name);
        if !file.is_file() {
            return None;
        }
        let line = key.place.line.saturating_sub(1);
        let col = key.place.column.saturating_sub(1);
        let end = key.place.end_column.saturating_sub(1).max(col);
        Some(json!({
            "uri": path_uri(&file.display().to_string()),
            "range": { "start": { "line": line, "character": col }, "end": { "line": line, "character": end } },
        }))
    }

    /// Every place a rule, let, enum or variant is named: (file, span).
    fn occurrences(&self, word: &str, declarations: bool) -> Vec<(usize, crate::source::Span)> {
        let mut out = Vec::new();
        if declarations {
            for (_, d) in self.defs.iter().filter(|(n, _)| n == word) {
                out.push((d.file, d.span));
            }
        }
        for (i, f) in self.parsed.iter().enumerate() {
            let mut spans = Vec::new();
            uses_in(&f.module, word, &mut spans);
            out.extend(spans.into_iter().map(|s| (i, s)));
        }
        out
    }

    fn references(&self, p: &lt::ReferenceParams) -> Json {
        let Some((file, at)) = self.locate(&p.text_document_position) else {
            return Json::Null;
        };
        let text = &self.parsed[file].text;
        let Some((start, end)) = word_at(text, at) else {
            return Json::Null;
        };
        let word = &text[start..end];
        Json::Array(
            self.occurrences(word, p.context.include_declaration)
                .into_iter()
                .map(|(f, s)| self.location(f, s))
                .collect(),
        )
    }

    /// Rename a rule, let, enum or variant everywhere in the workspace.
    fn rename(&self, p: &lt::RenameParams) -> Result<Json, String> {
        let (file, at) = self
            .locate(&p.text_document_position)
            .ok_or("the file is not open")?;
        let text = &self.parsed[file].text;
        let (start, end) = word_at(text, at).ok_or("no name here")?;
        let word = &text[start..end];
        if !self
            .defs
            .iter()
            .any(|(n, d)| n == word && d.kind != lt::SymbolKind::EVENT)
        {
            return Err(format!(
                "`{word}` is not a rule, let or enum defined in the workspace"
            ));
        }
        let new = &p.new_name;
        let ok = new
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && new.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !ok {
            return Err(format!("`{new}` is not a name"));
        }
        let mut changes: BTreeMap<String, Vec<Json>> = BTreeMap::new();
        for (f, s) in self.occurrences(word, true) {
            let pf = &self.parsed[f];
            changes.entry(pf.uri.clone()).or_default().push(json!({
                "range": range(&pf.text, s.start as usize, s.end as usize, self.encoding),
                "newText": new,
            }));
        }
        Ok(json!({ "changes": changes }))
    }

    /// Every definition in the workspace whose name contains the query
    /// (ASCII case ignored).
    fn workspace_symbols(&self, query: &str) -> Json {
        let query = query.to_ascii_lowercase();
        Json::Array(
            self.defs
                .iter()
                .filter(|(n, _)| n.to_ascii_lowercase().contains(&query))
                .map(|(n, d)| json!({ "name": n, "kind": d.kind, "location": self.location(d.file, d.span) }))
                .collect(),
        )
    }

    fn symbols(&self, uri: &str) -> Json {
        let Some(file) = self.parsed.iter().position(|p| p.uri == uri) else {
            return Json::Null;
        };
        Json::Array(
            self.defs
                .iter()
                .filter(|(_, d)| d.file == file)
                .map(|(n, d)| json!({ "name": n, "kind": d.kind, "location": self.location(file, d.span), "detail": d.detail }))
                .collect(),
        )
    }

    /// Inside a call: the function's signature and which argument the
    /// cursor is in (commas at the call's own depth, before the cursor).
    fn signature_help(&self, p: &lt::TextDocumentPositionParams) -> Json {
        let Some((file, at)) = self.locate(p) else {
            return Json::Null;
        };
        let text = &self.parsed[file].text[..];
        let (mut depth, mut commas) = (0usize, 0u32);
        let mut open = None;
        // A call is within its item: look back a bounded way only.
        let mut from = at.saturating_sub(4096);
        while !text.is_char_boundary(from) {
            from += 1;
        }
        for (i, c) in text[from..at].char_indices().rev() {
            let i = from + i;
            match c {
                ')' | ']' => depth += 1,
                '[' if depth > 0 => depth -= 1,
                '(' if depth > 0 => depth -= 1,
                '(' => {
                    open = Some(i);
                    break;
                }
                ',' if depth == 0 => commas += 1,
                _ => {}
            }
        }
        let Some(open) = open else {
            return Json::Null;
        };
        let before = text[..open].trim_end();
        let name = ident_before(before, false);
        let Some(b) = crate::check::Builtin::from_name(name).map(crate::check::Builtin::def) else {
            return Json::Null;
        };
        json!({
            "signatures": [{ "label": b.signature, "documentation": b.doc }],
            "activeSignature": 0,
            "activeParameter": commas,
        })
    }

    /// The enums a value at `at` may be a variant of: the type of the rule
    /// being written, and of a rule compared with `==`/`!=` just before.
    fn expected_enums(&self, file: usize, at: usize, before: &str) -> Vec<String> {
        let enums: Vec<&str> = self
            .defs
            .iter()
            .filter(|(_, d)| d.kind == lt::SymbolKind::ENUM)
            .map(|(n, _)| n.as_str())
            .collect();
        let mut out = Vec::new();
        for item in &self.parsed[file].module.items {
            if let crate::syntax::ast::ItemKind::Rule(r) = &item.kind
                && (item.span.start as usize) <= at
                && at <= item.span.end as usize
            {
                out.push(r.ty.name.clone());
            }
        }
        let trimmed = before.trim_end();
        if let Some(lhs) = trimmed
            .strip_suffix("==")
            .or_else(|| trimmed.strip_suffix("!="))
        {
            let lhs = lhs.trim_end();
            let name = ident_before(lhs, false);
            for (_, d) in self.defs.iter().filter(|(n, _)| n == name) {
                if let Some(ty) = d.detail.strip_prefix(&format!("rule {name}: ")) {
                    out.push(ty.to_string());
                }
            }
        }
        out.retain(|t| enums.contains(&t.as_str()));
        out
    }

    fn completion(&self, p: &lt::TextDocumentPositionParams) -> Json {
        let Some((file, at)) = self.locate(p) else {
            return Json::Null;
        };
        let text = &self.parsed[file].text;
        let Some(settings) = &self.settings else {
            return Json::Null;
        };
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let before = &text[line_start..at];
        let tail = ident_before(before, true);
        let mut items: Vec<Json> = Vec::new();
        if let Some(path) = tail.strip_prefix("cfg.") {
            // The keys under the path typed so far, with their values.
            let mut segs: Vec<&str> = path.split('.').collect();
            segs.pop();
            for k in settings.config.keys_at(&segs) {
                let mut full = segs.clone();
                full.push(k);
                let value = settings
                    .config
                    .get(&full)
                    .map(ToString::to_string)
                    .unwrap_or_default();
                items.push(json!({ "label": k, "kind": 10, "detail": value }));
            }
            return json!({ "isIncomplete": false, "items": items });
        }
        for name in settings.schema.names() {
            let ty = settings
                .schema
                .slot(name)
                .map(|s| settings.schema.field(s).ty.to_string())
                .unwrap_or_default();
            items.push(json!({ "label": name, "kind": 5, "detail": ty }));
        }
        for b in crate::check::BUILTINS.iter() {
            items.push(json!({ "label": b.name, "kind": 3, "detail": b.signature, "documentation": b.doc }));
        }
        // Where an enum is expected, its variants come first.
        let expected = self.expected_enums(file, at, &before[..before.len() - tail.len()]);
        for (n, d) in &self.defs {
            if d.kind == lt::SymbolKind::EVENT {
                continue;
            }
            let mut item = json!({ "label": n, "kind": 6, "detail": d.detail });
            let wanted = d.kind == lt::SymbolKind::ENUM_MEMBER
                && expected
                    .iter()
                    .any(|e| d.detail.ends_with(&format!("variant of enum {e}")));
            if wanted {
                item["kind"] = json!(20);
                item["sortText"] = json!(format!("0{n}"));
                item["preselect"] = json!(true);
            }
            items.push(item);
        }
        for k in KEYWORDS {
            items.push(json!({ "label": k, "kind": 14 }));
        }
        items.push(json!({
            "label": "rule",
            "kind": 15,
            "detail": "a new rule",
            "insertTextFormat": 2,
            "insertText": "## ${1:What it means.}\nrule ${2:name}: ${3:bool} = ${0}",
        }));
        json!({ "isIncomplete": false, "items": items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_or_bytes_on_cjk_and_emoji_lines() {
        let text = "# 显卡\nrule a: bool = \"😀\" == x\n";
        let x = text.rfind('x').unwrap_or(0);
        // UTF-16: 😀 is two units; UTF-8: four bytes.
        let p16 = position(text, x, Encoding::Utf16);
        assert_eq!((p16.line, p16.character), (1, 23));
        let p8 = position(text, x, Encoding::Utf8);
        assert_eq!((p8.line, p8.character), (1, 25));
        assert_eq!(offset(text, p16, Encoding::Utf16), x);
        assert_eq!(offset(text, p8, Encoding::Utf8), x);
        // The CJK line: 显卡 are one UTF-16 unit and three bytes each.
        let end = text.find('\n').unwrap_or(0);
        assert_eq!(position(text, end, Encoding::Utf16).character, 4);
        assert_eq!(position(text, end, Encoding::Utf8).character, 8);
    }

    #[test]
    fn file_uris_round_trip_with_spaces_and_non_ascii() {
        let uri = path_uri("/tmp/a b/显.rule");
        assert_eq!(uri_path(&uri), Some(PathBuf::from("/tmp/a b/显.rule")));
    }
}

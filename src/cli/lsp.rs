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
pub enum Encoding {
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
    let (id, params) = connection.initialize_start().map_err(protocol)?;
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
pub fn negotiate(params: &lt::InitializeParams) -> Encoding {
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
        "textDocumentSync": { "openClose": true, "change": 1, "save": false },
        "codeActionProvider": { "codeActionKinds": ["quickfix"] },
        "documentFormattingProvider": true,
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
}

struct Settings {
    /// (absolute path, text) of each rule file on disk.
    files: Vec<(String, String)>,
    schema: Arc<Schema>,
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
        for d in &set.diagnostics {
            let name = &set.sources.get(d.span.file).name;
            let Some(uri) = uri_of.get(name) else {
                continue;
            };
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
        #[allow(unreachable_patterns)]
        _ => 3,
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
pub fn range(text: &str, start: usize, end: usize, encoding: Encoding) -> lt::Range {
    lt::Range {
        start: position(text, start, encoding),
        end: position(text, end, encoding),
    }
}

/// A byte offset as an LSP position: 0-based line, and column in UTF-8
/// bytes or UTF-16 code units from the line's start.
pub fn position(text: &str, offset: usize, encoding: Encoding) -> lt::Position {
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
// Used by hover and navigation (next).
#[allow(dead_code)]
pub fn offset(text: &str, pos: lt::Position, encoding: Encoding) -> usize {
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

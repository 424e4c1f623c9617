//! `glyphsieve lsp`: the binary started as an editor starts it, spoken to in JSON-RPC over stdio.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// A running server: requests go to its stdin, messages come back through a
/// reader thread (so that a silent server fails the test instead of hanging it).
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Server {
    /// Start `glyphsieve lsp` in `dir` and initialize it with `dir` as the
    /// workspace folder; `encodings`: the positionEncodings offered.
    fn start(dir: &Path, encodings: &[&str]) -> (Server, Value) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_glyphsieve"))
            .arg("lsp")
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let value: Value = serde_json::from_slice(&body).expect("JSON body");
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        let mut server = Server {
            child,
            stdin,
            messages: rx,
            next_id: 0,
        };
        let uri = uri(dir);
        let init = server.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri,
                "workspaceFolders": [{ "uri": uri, "name": "w" }],
                "capabilities": { "general": { "positionEncodings": encodings } },
            }),
        );
        server.notify("initialized", json!({}));
        (server, init)
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        let stdin = self.stdin.as_mut().expect("stdin is open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Send a request and wait for its response (other messages skipped).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let m = self.recv();
            if m["id"] == json!(id) && m.get("method").is_none() {
                return m;
            }
        }
    }

    fn recv(&self) -> Value {
        // A guard against a hung server, not a timing assertion.
        self.messages
            .recv_timeout(Duration::from_secs(120))
            .expect("the server answers")
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&self, uri: &str) -> Vec<Value> {
        loop {
            let m = self.recv();
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
                return m["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "glyphsieve", "version": 1, "text": text } }),
        );
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    /// shutdown, exit, and the process's exit code.
    fn stop(mut self) -> Option<i32> {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r["result"], Value::Null);
        self.notify("exit", Value::Null);
        self.stdin.take();
        self.child.wait().expect("the server exits").code()
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A workspace folder with a project file and the given rule files.
fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("glyphsieve.yaml"), "rules: [rules/]\n").expect("write");
    std::fs::create_dir(dir.path().join("rules")).expect("mkdir");
    for (name, text) in files {
        std::fs::write(dir.path().join("rules").join(name), text).expect("write");
    }
    dir
}

/// Apply LSP text edits (UTF-16 columns, ASCII-only lines here) to a text.
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |pos: &Value| {
        let line = pos["line"].as_u64().unwrap_or(0) as usize;
        let ch = pos["character"].as_u64().unwrap_or(0) as usize;
        text.split_inclusive('\n')
            .take(line)
            .map(str::len)
            .sum::<usize>()
            + ch
    };
    let mut edits: Vec<_> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (start, end, new) in edits {
        out.replace_range(start..end, &new);
    }
    out
}

#[test]
fn typo_gets_e101_at_its_range_and_the_quick_fix_clears_it() {
    let dir = workspace(&[]);
    let (mut server, init) = Server::start(dir.path(), &["utf-16"]);
    assert_eq!(init["result"]["capabilities"]["positionEncoding"], "utf-16");
    let file = dir.path().join("rules/big.rule");
    let uri = uri(&file);
    let text = "rule big: bool = vram_gbb >= 48\n";
    server.open(&uri, text);
    let diags = server.diagnostics(&uri);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    assert_eq!(d["code"], "E101");
    assert_eq!(d["severity"], 1);
    // Hover on the diagnostic's span gives the code's entry in the docs, as
    // `glyphsieve rule E101` prints it.
    let doc = hover_text(&mut server, &uri, 0, 20);
    assert!(doc.contains("#### E101 `unknown-name` (error)"), "{doc}");
    assert!(
        d["message"]
            .as_str()
            .unwrap_or("")
            .contains("unknown name `vram_gbb`")
    );
    assert_eq!(
        d["range"],
        json!({ "start": { "line": 0, "character": 17 }, "end": { "line": 0, "character": 25 } })
    );
    let actions = server.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": d["range"], "context": { "diagnostics": [d] } }),
    );
    let action = &actions["result"][0];
    assert_eq!(action["kind"], "quickfix");
    let edits = action["edit"]["changes"][&uri]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let fixed = apply(text, &edits);
    assert_eq!(fixed, "rule big: bool = vram_gb >= 48\n");
    server.change(&uri, 2, &fixed);
    assert_eq!(server.diagnostics(&uri), Vec::<Value>::new());
    assert_eq!(server.stop(), Some(0));
}

#[test]
fn double_ampersand_quick_fix_comes_from_the_checkers_fix() {
    let dir = workspace(&[]);
    let (mut server, _) = Server::start(dir.path(), &[]);
    let uri = uri(&dir.path().join("rules/a.rule"));
    let text = "rule a: bool = vram_gb > 8 && vram_gb < 80\n";
    server.open(&uri, text);
    let diags = server.diagnostics(&uri);
    let d = diags.iter().find(|d| d["code"] == "E001").expect("E001");
    let actions = server.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": d["range"], "context": { "diagnostics": [d] } }),
    );
    let edits = actions["result"][0]["edit"]["changes"][&uri]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        apply(text, &edits),
        "rule a: bool = vram_gb > 8 and vram_gb < 80\n"
    );
}

#[test]
fn rules_in_other_workspace_files_are_known_and_their_errors_stay_there() {
    // `cheap` lives in a file on disk that is not open.
    let dir = workspace(&[("price.rule", "rule cheap: bool = price < 1000\n")]);
    let (mut server, _) = Server::start(dir.path(), &[]);
    let uri = uri(&dir.path().join("rules/use.rule"));
    server.open(&uri, "rule good: bool = cheap and vram_gb >= 24\n");
    assert_eq!(server.diagnostics(&uri), Vec::<Value>::new());
    // A duplicate of it is reported with the first definition as related information.
    server.change(&uri, 2, "rule cheap: bool = true\n");
    let diags = server.diagnostics(&uri);
    let d = diags.first().expect("a duplicate diagnostic");
    let related = d["relatedInformation"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        related.iter().any(|r| r["location"]["uri"]
            .as_str()
            .unwrap_or("")
            .ends_with("rules/price.rule")),
        "{d}"
    );
}

#[test]
fn positions_on_emoji_and_cjk_lines_follow_the_negotiated_encoding() {
    let text = "# 显卡 🎮\nrule a: bool = model == \"😀\" and vram_gbb > 1\n";
    let col16 = "rule a: bool = model == \"😀\" and ".encode_utf16().count() as u64;
    let col8 = "rule a: bool = model == \"😀\" and ".len() as u64;
    for (offered, encoding, col) in [
        (vec!["utf-16"], "utf-16", col16),
        (vec!["utf-8", "utf-16"], "utf-8", col8),
    ] {
        let dir = workspace(&[]);
        let (mut server, init) = Server::start(dir.path(), &offered);
        assert_eq!(init["result"]["capabilities"]["positionEncoding"], encoding);
        let uri = uri(&dir.path().join("rules/e.rule"));
        server.open(&uri, text);
        let diags = server.diagnostics(&uri);
        let d = diags.iter().find(|d| d["code"] == "E101").expect("E101");
        assert_eq!(
            d["range"]["start"],
            json!({ "line": 1, "character": col }),
            "{encoding}"
        );
        assert_eq!(
            d["range"]["end"],
            json!({ "line": 1, "character": col + 8 }),
            "{encoding}"
        );
    }
}

#[test]
fn formatting_returns_the_formatters_text() {
    let dir = workspace(&[]);
    let (mut server, _) = Server::start(dir.path(), &[]);
    let uri = uri(&dir.path().join("rules/f.rule"));
    let text = "rule   a :bool=vram_gb>8\n";
    server.open(&uri, text);
    let r = server.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    let edits = r["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(apply(text, &edits), "rule a: bool = vram_gb > 8\n");
}

#[test]
fn unknown_request_gets_method_not_found_and_the_server_lives_on() {
    let dir = workspace(&[]);
    let (mut server, _) = Server::start(dir.path(), &[]);
    let r = server.request("glyphsieve/nothing", json!({}));
    assert_eq!(r["error"]["code"], -32601);
    assert_eq!(server.stop(), Some(0));
}

#[test]
fn server_exits_when_stdin_closes() {
    let dir = workspace(&[]);
    let (mut server, _) = Server::start(dir.path(), &[]);
    server.stdin.take();
    let status = server.child.wait().expect("the server exits");
    assert!(status.code().is_some());
}

#[test]
fn half_typed_input_gets_diagnostics_not_a_crash() {
    let dir = workspace(&[]);
    let (mut server, _) = Server::start(dir.path(), &[]);
    let uri = uri(&dir.path().join("rules/h.rule"));
    server.open(&uri, "rule a: bool = (vram_gb > ");
    assert!(!server.diagnostics(&uri).is_empty());
    server.change(&uri, 2, "rule a: bool = (vram_gb > \"😀");
    assert!(!server.diagnostics(&uri).is_empty());
    assert_eq!(server.stop(), Some(0));
}

/// A workspace for navigation: a documented rule in a file on disk, a
/// project config key, and an open file that uses both.
fn navigation() -> (tempfile::TempDir, Server, String, String, &'static str) {
    let dir = workspace(&[(
        "base.rule",
        "## Enough memory for 70B models.\nrule big: bool = vram_gb >= cfg.min_vram_gb\n",
    )]);
    std::fs::write(
        dir.path().join("glyphsieve.yaml"),
        "rules: [rules/]\nconfig:\n  min_vram_gb: 32\n",
    )
    .expect("write");
    let (mut server, _) = Server::start(dir.path(), &[]);
    let base = uri(&dir.path().join("rules/base.rule"));
    let open = uri(&dir.path().join("rules/use.rule"));
    let text = "rule pick: bool = big and max(vram_gb, 1) > 2\nrule also: bool = not big\n";
    server.open(&open, text);
    assert_eq!(server.diagnostics(&open), Vec::<Value>::new());
    (dir, server, base, open, text)
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

fn hover_text(server: &mut Server, uri: &str, line: u32, character: u32) -> String {
    let r = server.request("textDocument/hover", at(uri, line, character));
    r["result"]["contents"]["value"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn hover_shows_rule_doc_field_type_function_signature_and_cfg_origin() {
    let (_dir, mut server, base, open, _) = navigation();
    let rule = hover_text(&mut server, &open, 0, 19);
    assert!(rule.contains("rule big: bool"), "{rule}");
    assert!(rule.contains("Enough memory for 70B models."), "{rule}");
    let field = hover_text(&mut server, &open, 0, 32);
    assert!(field.contains("field vram_gb: float"), "{field}");
    assert!(
        field.contains("columns: `vram_gb` (the first present)"),
        "{field}"
    );
    assert!(
        field.contains("null markers (case ignored): `\"\"`, `na`"),
        "{field}"
    );
    let function = hover_text(&mut server, &open, 0, 27);
    assert!(function.contains("max(a, b, ...)"), "{function}");
    assert!(function.contains("the largest"), "{function}");
    // On `min_vram_gb` in `cfg.min_vram_gb` of the file on disk.
    server.open(
        &base,
        "## Enough memory for 70B models.\nrule big: bool = vram_gb >= cfg.min_vram_gb\n",
    );
    server.diagnostics(&base);
    let cfg = hover_text(&mut server, &base, 1, 35);
    assert!(cfg.contains("`cfg.min_vram_gb`: float = `32`"), "{cfg}");
    assert!(cfg.contains("from `glyphsieve.yaml`, line 3"), "{cfg}");
}

#[test]
fn definition_references_and_rename_work_across_files() {
    let (dir, mut server, base, open, text) = navigation();
    let def = server.request("textDocument/definition", at(&open, 1, 23));
    assert_eq!(
        def["result"],
        json!([{ "uri": base, "range": { "start": { "line": 1, "character": 5 }, "end": { "line": 1, "character": 8 } } }])
    );
    let refs = server.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": open }, "position": { "line": 0, "character": 19 }, "context": { "includeDeclaration": true } }),
    );
    assert_eq!(refs["result"].as_array().map(Vec::len), Some(3), "{refs}");
    let r = server.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": open }, "position": { "line": 0, "character": 19 }, "newName": "roomy" }),
    );
    let changes = &r["result"]["changes"];
    let edits = changes[&open].as_array().cloned().unwrap_or_default();
    assert_eq!(
        apply(text, &edits),
        "rule pick: bool = roomy and max(vram_gb, 1) > 2\nrule also: bool = not roomy\n"
    );
    assert_eq!(changes[&base].as_array().map(Vec::len), Some(1));
    // A cfg key goes to its line in the project file.
    let on_disk = std::fs::read_to_string(dir.path().join("rules/base.rule")).unwrap_or_default();
    server.open(&base, &on_disk);
    server.diagnostics(&base);
    let cfg = server.request("textDocument/definition", at(&base, 1, 35));
    assert!(
        cfg["result"]["uri"]
            .as_str()
            .unwrap_or("")
            .ends_with("glyphsieve.yaml"),
        "{cfg}"
    );
    assert_eq!(cfg["result"]["range"]["start"]["line"], 2);
    let symbols = server.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": open } }),
    );
    let names: Vec<&str> = symbols["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["pick", "also"]);
    let found = server.request("workspace/symbol", json!({ "query": "BI" }));
    let names: Vec<&str> = found["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["big"]);
}

#[test]
fn completion_after_cfg_offers_config_keys_with_values() {
    let (_dir, mut server, _base, open, _) = navigation();
    server.change(&open, 2, "rule pick: bool = vram_gb > cfg.\n");
    server.diagnostics(&open);
    let r = server.request("textDocument/completion", at(&open, 0, 32));
    let items = r["result"]["items"].as_array().cloned().unwrap_or_default();
    let key = items
        .iter()
        .find(|i| i["label"] == "min_vram_gb")
        .expect("min_vram_gb");
    assert_eq!(key["detail"], "32");
    assert!(items.iter().all(|i| i["label"] != "vram_gb"));
    // Elsewhere: fields, functions, rules and keywords.
    let r = server.request("textDocument/completion", at(&open, 0, 18));
    let labels: Vec<String> = r["result"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["label"].as_str().map(String::from))
        .collect();
    for want in ["vram_gb", "max", "big", "if"] {
        assert!(labels.iter().any(|l| l == want), "{want}: {labels:?}");
    }
}

/// Headless Neovim, a real LSP client (0.7+), opens a rule file with a typo
/// and writes the diagnostics it received to a file. Skipped (with a note)
/// where `nvim` is not installed; `.ci/run` installs it.
#[test]
fn neovim_receives_the_e101_diagnostic_of_a_typo() {
    if Command::new("nvim").arg("--version").output().is_err() {
        eprintln!("nvim not installed: the Neovim end-to-end test is skipped");
        return;
    }
    let dir = workspace(&[("typo.rule", "rule big: bool = vram_gbb >= 48\n")]);
    let out = dir.path().join("diagnostics.txt");
    let script = dir.path().join("e2e.lua");
    let lua = format!(
        r#"
local out = {out:?}
local client = vim.lsp.start_client({{
  name = "glyphsieve",
  cmd = {{ {bin:?}, "lsp" }},
  root_dir = {root:?},
}})
vim.lsp.buf_attach_client(0, client)
local got = vim.wait(60000, function()
  return #vim.diagnostic.get(0) > 0
end, 50)
local lines = {{}}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(lines, string.format("%s %d:%d-%d:%d %s", d.code or "", d.lnum, d.col, d.end_lnum, d.end_col, d.message))
end
if not got then table.insert(lines, "timed out") end
vim.fn.writefile(lines, out)
vim.cmd("qall!")
"#,
        out = out.display().to_string(),
        bin = env!("CARGO_BIN_EXE_glyphsieve"),
        root = dir.path().display().to_string(),
    );
    std::fs::write(&script, lua).expect("write");
    let status = Command::new("nvim")
        .args(["--headless", "-n", "-u", "NONE", "-i", "NONE"])
        .arg(dir.path().join("rules/typo.rule"))
        .arg("-c")
        .arg(format!("luafile {}", script.display()))
        .current_dir(dir.path())
        .env("XDG_STATE_HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("nvim runs");
    let got = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(status.success(), "{got}");
    assert!(
        got.starts_with("E101 0:17-0:25 unknown name `vram_gbb`"),
        "{got}"
    );
}

#[test]
fn signature_help_inside_a_call_names_the_function_and_argument() {
    let (_dir, mut server, _base, open, _) = navigation();
    // After `max(vram_gb, ` on the first line: the second argument.
    let r = server.request("textDocument/signatureHelp", at(&open, 0, 39));
    assert_eq!(
        r["result"]["signatures"][0]["label"], "max(a, b, ...)",
        "{r}"
    );
    assert_eq!(r["result"]["activeParameter"], 1);
}

#[test]
fn definition_of_a_field_goes_to_its_line_in_the_project_schema() {
    let dir = workspace(&[]);
    std::fs::write(
        dir.path().join("glyphsieve.yaml"),
        "rules: [rules/]\nschema:\n  fields:\n    hbm_stacks: {type: int, columns: [hbm_stacks, stacks]}\n",
    )
    .expect("write");
    let (mut server, _) = Server::start(dir.path(), &[]);
    let open = uri(&dir.path().join("rules/hbm.rule"));
    server.open(&open, "rule stacked: bool = hbm_stacks >= 4\n");
    assert_eq!(server.diagnostics(&open), Vec::<Value>::new());
    let def = server.request("textDocument/definition", at(&open, 0, 23));
    assert!(
        def["result"]["uri"]
            .as_str()
            .unwrap_or("")
            .ends_with("glyphsieve.yaml"),
        "{def}"
    );
    assert_eq!(def["result"]["range"]["start"]["line"], 3, "{def}");
    let hover = hover_text(&mut server, &open, 0, 23);
    assert!(hover.contains("field hbm_stacks: int"), "{hover}");
    assert!(hover.contains("`hbm_stacks`, `stacks`"), "{hover}");
}

#[test]
fn a_rule_file_deleted_on_disk_is_forgotten_when_the_client_says_so() {
    let dir = workspace(&[("price.rule", "rule cheap: bool = price < 1000\n")]);
    let (mut server, _) = Server::start(dir.path(), &[]);
    let open = uri(&dir.path().join("rules/use.rule"));
    server.open(&open, "rule good: bool = cheap\n");
    assert_eq!(server.diagnostics(&open), Vec::<Value>::new());
    let gone = dir.path().join("rules/price.rule");
    std::fs::remove_file(&gone).expect("remove");
    server.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": uri(&gone), "type": 3 }] }),
    );
    let diags = server.diagnostics(&open);
    assert_eq!(
        diags.first().map(|d| d["code"].clone()),
        Some(json!("E101")),
        "{diags:?}"
    );
    assert_eq!(server.stop(), Some(0));
}

#[test]
fn hover_on_a_let_gives_the_type_the_checker_inferred() {
    let dir = workspace(&[]);
    let (mut server, _) = Server::start(dir.path(), &[]);
    let open = uri(&dir.path().join("rules/l.rule"));
    server.open(&open, "## Memory per watt.\nlet per_watt = vram_gb / tdp_watts\nrule efficient: bool = per_watt > 0.1\n");
    assert_eq!(server.diagnostics(&open), Vec::<Value>::new());
    let hover = hover_text(&mut server, &open, 2, 25);
    assert!(hover.contains("let per_watt: float"), "{hover}");
    assert!(hover.contains("Memory per watt."), "{hover}");
}

#[test]
fn completion_offers_the_variants_of_the_enum_a_comparison_expects_first() {
    let dir = workspace(&[(
        "power.rule",
        "enum PowerClass { low, mid, high }\nrule power_class: PowerClass = if tdp_watts <= 150 then low else high\n",
    )]);
    let (mut server, _) = Server::start(dir.path(), &[]);
    let open = uri(&dir.path().join("rules/use.rule"));
    let text = "rule cool: bool = power_class == \n";
    server.open(&open, text);
    server.diagnostics(&open);
    let r = server.request("textDocument/completion", at(&open, 0, 33));
    let items = r["result"]["items"].as_array().cloned().unwrap_or_default();
    let mut first: Vec<&str> = items
        .iter()
        .filter(|i| i["preselect"] == true)
        .filter_map(|i| i["label"].as_str())
        .collect();
    first.sort_unstable();
    assert_eq!(first, ["high", "low", "mid"]);
}

// glyphsieve for VS Code: starts `glyphsieve lsp` for .rule files.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("glyphsieve").get("path") || "glyphsieve";
  const server = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "glyphsieve",
    "glyphsieve",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "glyphsieve" }],
      synchronize: {
        // Rules, project file and schema/config YAML changed on disk: recheck.
        fileEvents: vscode.workspace.createFileSystemWatcher("**/*.{rule,yaml,yml}"),
      },
    }
  );
  client.start();
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

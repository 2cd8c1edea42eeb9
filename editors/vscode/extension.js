// The warden extension: .rule files get the grammar and language configuration from
// package.json; this starts `warden lsp` (docs/editors.md) as their language server.
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('warden').get('path') || 'warden';
  const server = { command, args: ['lsp'], transport: TransportKind.stdio };
  client = new LanguageClient(
    'warden',
    'warden',
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: 'file', language: 'warden' }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/{warden.toml,*.rule,*.txt}') },
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

//! The server's state and one handler per method: each maps the protocol's types to the
//! engine's (`warden::Analysis`) and back.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use lsp_server::{ErrorCode, Message, Notification, Request, Response};
use lsp_types::{self as lt, Uri};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use warden::{Analysis, CompletionKind, Overlays, Severity};

use crate::convert::{Lines, path_to_uri, uri_to_path};
use crate::transport::{Incoming, spawn_reader, write_json};

/// An error answer: code and message.
type Failure = (ErrorCode, String);

/// The language server: open buffers, the projects checked from them, and the output.
#[derive(Debug)]
pub struct Server<W: Write> {
    out: W,
    overlays: Overlays,
    /// The open documents (their paths).
    open: BTreeSet<PathBuf>,
    /// Checked projects by root (manifest or lone file), valid until a buffer or file changes.
    analyses: HashMap<PathBuf, Analysis>,
    /// The root of the project each document was last found in.
    roots: HashMap<PathBuf, PathBuf>,
    /// Documents whose project must be checked and published again.
    dirty: BTreeSet<PathBuf>,
    /// Open documents that start with a byte-order mark: the checker reads them without it,
    /// the editor counts it in their first line.
    boms: BTreeSet<PathBuf>,
    /// The files each project published diagnostics for (to clear those that leave it).
    published: HashMap<PathBuf, BTreeSet<PathBuf>>,
    initialized: bool,
    shut_down: bool,
}

impl<W: Write> Server<W> {
    pub fn new(out: W) -> Server<W> {
        Server {
            out,
            overlays: Overlays::caching(),
            open: BTreeSet::new(),
            analyses: HashMap::new(),
            roots: HashMap::new(),
            dirty: BTreeSet::new(),
            boms: BTreeSet::new(),
            published: HashMap::new(),
            initialized: false,
            shut_down: false,
        }
    }

    /// Serves messages read from `input` until `exit` or the end of the input; the exit code.
    pub fn serve(mut self, input: impl std::io::Read + Send + 'static) -> i32 {
        let rx = spawn_reader(input);
        while let Ok(first) = rx.recv() {
            let mut next = Some(first);
            while let Some(incoming) = next {
                if let Some(code) = self.incoming(incoming) {
                    return code;
                }
                next = rx.try_recv().ok();
            }
            self.publish_dirty();
        }
        1
    }

    /// Handles one message; the exit code when it is `exit`.
    fn incoming(&mut self, incoming: Incoming) -> Option<i32> {
        match incoming {
            Incoming::Malformed(why) => {
                let error = json!({ "code": ErrorCode::ParseError as i32, "message": why });
                self.send_json(&json!({ "jsonrpc": "2.0", "id": null, "error": error }));
            }
            Incoming::Message(Message::Request(r)) => self.request(r),
            Incoming::Message(Message::Notification(n)) => return self.notification(n),
            Incoming::Message(Message::Response(_)) => {}
        }
        None
    }

    fn send(&mut self, m: Message) {
        match serde_json::to_value(&m) {
            Ok(mut v) => {
                if let Some(o) = v.as_object_mut() {
                    o.insert("jsonrpc".into(), "2.0".into());
                }
                self.send_json(&v);
            }
            Err(_) => self.send_json(&json!({ "jsonrpc": "2.0", "id": null, "error": {
                "code": ErrorCode::InternalError as i32, "message": "an answer could not be written" } })),
        }
    }

    fn send_json(&mut self, v: &Value) {
        // A client that went away ends the input too; the loop ends there.
        let _ = write_json(&mut self.out, v);
    }

    fn request(&mut self, r: Request) {
        let id = r.id.clone();
        let answer = if self.shut_down {
            Err((ErrorCode::InvalidRequest, "the server is shutting down".to_string()))
        } else if !self.initialized && r.method != "initialize" {
            Err((ErrorCode::ServerNotInitialized, "the server is not initialized".to_string()))
        } else {
            // A bug in a handler answers an error instead of ending the server.
            let method = r.method.clone();
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.dispatch(r))).unwrap_or_else(|_| {
                Err((ErrorCode::InternalError, format!("internal error while answering `{method}`")))
            })
        };
        let response = match answer {
            Ok(v) => Response::new_ok(id, v),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        };
        self.send(Message::Response(response));
    }

    fn dispatch(&mut self, r: Request) -> Result<Value, Failure> {
        match r.method.as_str() {
            "initialize" if self.initialized => {
                Err((ErrorCode::InvalidRequest, "the server is already initialized".to_string()))
            }
            "initialize" => {
                self.initialized = true;
                Ok(initialize_result())
            }
            "shutdown" => {
                self.shut_down = true;
                Ok(Value::Null)
            }
            "textDocument/hover" => {
                let p: lt::HoverParams = params(r.params)?;
                self.hover(&p.text_document_position_params)
            }
            "textDocument/completion" => {
                let p: lt::CompletionParams = params(r.params)?;
                self.completion(&p.text_document_position)
            }
            "textDocument/definition" => {
                let p: lt::GotoDefinitionParams = params(r.params)?;
                self.definition(&p.text_document_position_params)
            }
            "textDocument/documentSymbol" => {
                let p: lt::DocumentSymbolParams = params(r.params)?;
                self.symbols(&p.text_document.uri)
            }
            "textDocument/codeAction" => {
                let p: lt::CodeActionParams = params(r.params)?;
                self.code_actions(&p)
            }
            "textDocument/formatting" => {
                let p: lt::DocumentFormattingParams = params(r.params)?;
                self.formatting(&p.text_document.uri)
            }
            other => Err((ErrorCode::MethodNotFound, format!("unknown method `{other}`"))),
        }
    }

    fn notification(&mut self, n: Notification) -> Option<i32> {
        match n.method.as_str() {
            "exit" => return Some(if self.shut_down { 0 } else { 1 }),
            "textDocument/didOpen" => {
                if let Ok(p) = params::<lt::DidOpenTextDocumentParams>(n.params)
                    && let Some(path) = uri_to_path(&p.text_document.uri)
                {
                    self.set_buffer(&path, p.text_document.text);
                    self.open.insert(path.clone());
                    self.changed(path);
                }
            }
            "textDocument/didChange" => {
                if let Ok(p) = params::<lt::DidChangeTextDocumentParams>(n.params)
                    && let Some(path) = uri_to_path(&p.text_document.uri)
                    // Full sync: the last change holds the whole text.
                    && let Some(change) = p.content_changes.into_iter().last()
                {
                    self.set_buffer(&path, change.text);
                    self.changed(path);
                }
            }
            "textDocument/didSave" => {
                if let Ok(p) = params::<lt::DidSaveTextDocumentParams>(n.params)
                    && let Some(path) = uri_to_path(&p.text_document.uri)
                {
                    if let Some(text) = p.text {
                        self.set_buffer(&path, text);
                    }
                    self.changed(path);
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) = params::<lt::DidCloseTextDocumentParams>(n.params)
                    && let Some(path) = uri_to_path(&p.text_document.uri)
                {
                    self.overlays.remove(&path);
                    self.boms.remove(&path);
                    self.open.remove(&path);
                    self.changed(path);
                }
            }
            "workspace/didChangeWatchedFiles" => {
                let open: Vec<PathBuf> = self.open.iter().cloned().collect();
                self.analyses.clear();
                self.dirty.extend(open);
            }
            _ => {}
        }
        None
    }

    /// A buffer or file changed: every project is checked again when asked, and the one of
    /// `path` is published.
    fn changed(&mut self, path: PathBuf) {
        self.analyses.clear();
        self.dirty.insert(path);
    }

    /// The analysis of the project `path` belongs to (checked now unless still valid), and
    /// the open documents that start with a byte-order mark.
    fn analysis(&mut self, path: &Path) -> (&Analysis, &BTreeSet<PathBuf>) {
        let root = match self.roots.get(path) {
            Some(root) if self.analyses.contains_key(root) => root.clone(),
            _ => {
                let a = Analysis::of_file(path, &self.overlays);
                let root = a.root().to_path_buf();
                self.roots.insert(path.to_path_buf(), root.clone());
                self.analyses.insert(root.clone(), a);
                root
            }
        };
        (&self.analyses[&root], &self.boms)
    }

    /// Sets the buffer at `path`, noting whether it starts with a byte-order mark.
    fn set_buffer(&mut self, path: &Path, text: String) {
        if text.starts_with('\u{FEFF}') {
            self.boms.insert(path.to_path_buf());
        } else {
            self.boms.remove(path);
        }
        self.overlays.set(path, text);
    }

    /// The path of a document the server can answer about: open, or a file on disk.
    fn document(&self, uri: &Uri) -> Result<PathBuf, Failure> {
        let unknown =
            || (ErrorCode::InvalidParams, format!("`{}` is not an open document or a readable file", uri.as_str()));
        let path = uri_to_path(uri).ok_or_else(unknown)?;
        if self.overlays.get(&path).is_some() || path.is_file() { Ok(path) } else { Err(unknown()) }
    }

    /// The document and byte offset of a position, with the document's analysis.
    fn at(&mut self, p: &lt::TextDocumentPositionParams) -> Result<(PathBuf, Option<usize>), Failure> {
        let path = self.document(&p.text_document.uri)?;
        let (a, boms) = self.analysis(&path);
        let offset = a.text(&path).map(|t| Lines::of(t, &path, boms).offset(p.position));
        Ok((path, offset))
    }

    fn hover(&mut self, p: &lt::TextDocumentPositionParams) -> Result<Value, Failure> {
        let (path, Some(offset)) = self.at(p)? else { return Ok(Value::Null) };
        let (a, boms) = self.analysis(&path);
        let (Some(h), Some(text)) = (a.hover(&path, offset), a.text(&path)) else { return Ok(Value::Null) };
        let hover = lt::Hover {
            contents: lt::HoverContents::Markup(lt::MarkupContent {
                kind: lt::MarkupKind::Markdown,
                value: format!("```warden\n{}\n```\n\n{}", h.code, h.doc),
            }),
            range: Some(Lines::of(text, &path, boms).range(h.span)),
        };
        to_value(hover)
    }

    fn completion(&mut self, p: &lt::TextDocumentPositionParams) -> Result<Value, Failure> {
        let (path, Some(offset)) = self.at(p)? else { return Ok(Value::Null) };
        let items: Vec<lt::CompletionItem> = self
            .analysis(&path)
            .0
            .completions(&path, offset)
            .into_iter()
            .map(|c| lt::CompletionItem {
                label: c.label,
                kind: Some(match c.kind {
                    CompletionKind::Field => lt::CompletionItemKind::FIELD,
                    CompletionKind::Function => lt::CompletionItemKind::FUNCTION,
                    CompletionKind::Keyword => lt::CompletionItemKind::KEYWORD,
                    CompletionKind::Variable => lt::CompletionItemKind::VARIABLE,
                    CompletionKind::ConfigKey => lt::CompletionItemKind::CONSTANT,
                    CompletionKind::File => lt::CompletionItemKind::FILE,
                }),
                detail: (!c.detail.is_empty()).then_some(c.detail),
                documentation: (!c.doc.is_empty()).then_some(lt::Documentation::MarkupContent(lt::MarkupContent {
                    kind: lt::MarkupKind::Markdown,
                    value: c.doc,
                })),
                ..lt::CompletionItem::default()
            })
            .collect();
        to_value(lt::CompletionResponse::Array(items))
    }

    fn definition(&mut self, p: &lt::TextDocumentPositionParams) -> Result<Value, Failure> {
        let (path, Some(offset)) = self.at(p)? else { return Ok(Value::Null) };
        let (a, boms) = self.analysis(&path);
        let Some(target) = a.definition(&path, offset) else { return Ok(Value::Null) };
        let Some(uri) = path_to_uri(&target.path) else { return Ok(Value::Null) };
        let range = match a.text(&target.path) {
            Some(text) => Lines::of(text, &target.path, boms).range(target.span),
            None => lt::Range::default(),
        };
        to_value(lt::GotoDefinitionResponse::Scalar(lt::Location { uri, range }))
    }

    /// The whole document in `warden fmt`'s layout (one edit), no edit when it is already, or
    /// `null` when it does not parse (its diagnostics say why).
    fn formatting(&mut self, uri: &Uri) -> Result<Value, Failure> {
        let path = self.document(uri)?;
        let text = match self.overlays.get(&path) {
            Some(t) => t.to_string(),
            // Read as every rule file is (at most 16 MiB, a regular file), byte-order mark kept:
            // the edit's range counts it.
            None => warden::files::read_file(&path, warden::files::MAX_FILE_BYTES)
                .and_then(|b| String::from_utf8(b).map_err(|_| warden::files::ReadError::NotUtf8))
                .map_err(|e| (ErrorCode::RequestFailed, format!("cannot read `{}`: {e}", path.display())))?,
        };
        let formatted = match warden::format_source(&text) {
            Ok(f) => f,
            Err(warden::FormatError::Syntax(_)) => return Ok(Value::Null),
            Err(e) => return Err((ErrorCode::RequestFailed, e.to_string())),
        };
        if formatted == text {
            return to_value(Vec::<lt::TextEdit>::new());
        }
        // The editor counts a byte-order mark as a character of the first line.
        let whole = lt::Range { start: lt::Position::new(0, 0), end: Lines::new(&text).position(text.len()) };
        to_value(vec![lt::TextEdit { range: whole, new_text: formatted }])
    }

    fn symbols(&mut self, uri: &Uri) -> Result<Value, Failure> {
        let path = self.document(uri)?;
        let (a, boms) = self.analysis(&path);
        let Some(text) = a.text(&path) else { return to_value(Vec::<lt::DocumentSymbol>::new()) };
        let lines = Lines::of(text, &path, boms);
        let symbols: Vec<lt::DocumentSymbol> = a
            .symbols(&path)
            .into_iter()
            .map(|s| {
                #[allow(deprecated)] // `deprecated` is a field the type still has
                lt::DocumentSymbol {
                    name: s.name,
                    detail: Some("rule".into()),
                    kind: lt::SymbolKind::FUNCTION,
                    tags: None,
                    deprecated: None,
                    range: lines.range(s.span),
                    selection_range: lines.range(s.name_span),
                    children: None,
                }
            })
            .collect();
        to_value(lt::DocumentSymbolResponse::Nested(symbols))
    }

    /// Quick fixes: each "did you mean" of the document whose range meets the one asked for.
    fn code_actions(&mut self, p: &lt::CodeActionParams) -> Result<Value, Failure> {
        let path = self.document(&p.text_document.uri)?;
        let uri = p.text_document.uri.clone();
        let (a, boms) = self.analysis(&path);
        let Some(text) = a.text(&path) else { return to_value(Vec::<lt::CodeActionOrCommand>::new()) };
        let lines = Lines::of(text, &path, boms);
        let (from, to) = (lines.offset(p.range.start) as u32, lines.offset(p.range.end) as u32);
        let mut actions = Vec::new();
        for fd in a.diagnostics().into_iter().filter(|fd| fd.path == path) {
            for d in fd.diagnostics {
                let (Some(span), Some(replacement)) = (d.span, d.suggestion.clone()) else { continue };
                if span.end < from || span.start > to {
                    continue;
                }
                let range = lines.range(span);
                let edit = lt::TextEdit { range, new_text: replacement.clone() };
                actions.push(lt::CodeActionOrCommand::CodeAction(lt::CodeAction {
                    title: format!("replace with `{replacement}`"),
                    kind: Some(lt::CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diagnostic(a, boms, &lines, &d)]),
                    edit: Some(lt::WorkspaceEdit {
                        changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                        ..lt::WorkspaceEdit::default()
                    }),
                    is_preferred: Some(true),
                    ..lt::CodeAction::default()
                }));
            }
        }
        to_value(actions)
    }

    /// Checks the projects of the changed documents and publishes their diagnostics: every
    /// file of each project, and an empty list for files that left it.
    fn publish_dirty(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        let mut done = BTreeSet::new();
        for path in dirty {
            let (a, boms) = self.analysis(&path);
            let root = a.root().to_path_buf();
            if !done.insert(root.clone()) {
                continue;
            }
            let mut notes: BTreeMap<PathBuf, Vec<lt::Diagnostic>> = BTreeMap::new();
            for fd in a.diagnostics() {
                let text = a.text(&fd.path).unwrap_or_default();
                let lines = Lines::of(text, &fd.path, boms);
                let list = fd.diagnostics.iter().map(|d| diagnostic(a, boms, &lines, d)).collect();
                notes.insert(fd.path, list);
            }
            let files: BTreeSet<PathBuf> = notes.keys().cloned().collect();
            for gone in
                self.published.get(&root).map(|p| p.difference(&files).cloned().collect::<Vec<_>>()).unwrap_or_default()
            {
                notes.insert(gone, Vec::new());
            }
            self.published.insert(root, files);
            for (file, diagnostics) in notes {
                let Some(uri) = path_to_uri(&file) else { continue };
                let params = lt::PublishDiagnosticsParams { uri, diagnostics, version: None };
                self.send(Message::Notification(Notification::new("textDocument/publishDiagnostics".into(), params)));
            }
        }
    }
}

/// A diagnostic as the protocol has it: code, severity, the help after the message, related
/// places in their files.
fn diagnostic(a: &Analysis, boms: &BTreeSet<PathBuf>, lines: &Lines<'_>, d: &warden::Diagnostic) -> lt::Diagnostic {
    let related = d
        .related
        .iter()
        .filter_map(|r| {
            let path = a.path_of(r.file)?;
            let uri = path_to_uri(path)?;
            let range = Lines::of(a.text(path)?, path, boms).range(r.span);
            Some(lt::DiagnosticRelatedInformation { location: lt::Location { uri, range }, message: r.message.clone() })
        })
        .collect::<Vec<_>>();
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    lt::Diagnostic {
        range: lines.range(d.span.unwrap_or_default()),
        severity: Some(match d.severity {
            Severity::Error => lt::DiagnosticSeverity::ERROR,
            Severity::Warning => lt::DiagnosticSeverity::WARNING,
        }),
        code: Some(lt::NumberOrString::String(d.code.to_string())),
        source: Some("warden".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        data: d.suggestion.as_ref().map(|s| json!({ "replacement": s })),
        ..lt::Diagnostic::default()
    }
}

fn initialize_result() -> Value {
    let capabilities = lt::ServerCapabilities {
        position_encoding: Some(lt::PositionEncodingKind::UTF16),
        text_document_sync: Some(lt::TextDocumentSyncCapability::Options(lt::TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(lt::TextDocumentSyncKind::FULL),
            save: Some(lt::TextDocumentSyncSaveOptions::SaveOptions(lt::SaveOptions { include_text: Some(false) })),
            ..lt::TextDocumentSyncOptions::default()
        })),
        hover_provider: Some(lt::HoverProviderCapability::Simple(true)),
        completion_provider: Some(lt::CompletionOptions {
            trigger_characters: Some(vec![".".into(), "\"".into()]),
            ..lt::CompletionOptions::default()
        }),
        definition_provider: Some(lt::OneOf::Left(true)),
        document_symbol_provider: Some(lt::OneOf::Left(true)),
        document_formatting_provider: Some(lt::OneOf::Left(true)),
        code_action_provider: Some(lt::CodeActionProviderCapability::Options(lt::CodeActionOptions {
            code_action_kinds: Some(vec![lt::CodeActionKind::QUICKFIX]),
            ..lt::CodeActionOptions::default()
        })),
        ..lt::ServerCapabilities::default()
    };
    let result = lt::InitializeResult {
        capabilities,
        server_info: Some(lt::ServerInfo { name: "warden".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
    };
    serde_json::to_value(result).unwrap_or(Value::Null)
}

fn params<P: DeserializeOwned>(v: Value) -> Result<P, Failure> {
    serde_json::from_value(v).map_err(|e| (ErrorCode::InvalidParams, format!("invalid params: {e}")))
}

fn to_value(v: impl serde::Serialize) -> Result<Value, Failure> {
    serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError, format!("cannot write the answer: {e}")))
}

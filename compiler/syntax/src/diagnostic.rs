//! Diagnostics are data: every stage returns them, only the CLI renders them.

use serde::{Deserialize, Serialize};

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// Index of a file in a [`SourceMap`].
pub type FileId = u32;

/// One source file: its path as the user wrote it and its text. The one source type of
/// warden: the checker reads it, artifacts carry it (as `{"path", "text"}`), pipelines keep it
/// for rendering diagnostics and for their JavaScript rules.
#[derive(Clone, Serialize, Deserialize)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
    /// Where lines start, built on the first `line_col` (the text must not change after).
    #[serde(skip)]
    index: std::sync::OnceLock<LineIndex>,
}

impl std::fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceFile").field("path", &self.path).field("text", &self.text).finish()
    }
}

impl PartialEq for SourceFile {
    fn eq(&self, other: &SourceFile) -> bool {
        self.path == other.path && self.text == other.text
    }
}

impl Eq for SourceFile {}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile { path: path.into(), text: text.into(), index: std::sync::OnceLock::new() }
    }

    /// 1-based line and column (in characters) of a byte offset. Logarithmic in the number
    /// of lines and bounded by [`BLOCK`] bytes of counting: the checker asks for every
    /// expression, so a scan from the start of the file would make loading quadratic.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let text = self.text.as_bytes();
        let mut offset = (offset as usize).min(text.len());
        while offset > 0 && offset < text.len() && is_continuation(text[offset]) {
            offset -= 1;
        }
        let index = self.index.get_or_init(|| LineIndex::new(text));
        let line = index.line_starts.partition_point(|&s| s as usize <= offset).max(1);
        let line_start = index.line_starts[line - 1] as usize;
        let col = index.chars_before(text, offset) - index.chars_before(text, line_start) + 1;
        (line as u32, col as u32)
    }
}

/// Bytes between two character counts kept by a [`LineIndex`].
const BLOCK: usize = 256;

/// Line starts and character counts of a text, for [`SourceFile::line_col`].
#[derive(Clone, Debug)]
struct LineIndex {
    /// Byte offset of each line's first byte (the first is 0).
    line_starts: Vec<u32>,
    /// Characters before each multiple of [`BLOCK`] bytes.
    block_chars: Vec<u32>,
}

impl LineIndex {
    fn new(text: &[u8]) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(text.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i as u32 + 1));
        let mut block_chars = Vec::with_capacity(text.len() / BLOCK + 1);
        let mut chars = 0u32;
        for block in text.chunks(BLOCK) {
            block_chars.push(chars);
            chars += block.iter().filter(|b| !is_continuation(**b)).count() as u32;
        }
        block_chars.push(chars);
        LineIndex { line_starts, block_chars }
    }

    /// The number of characters that start before byte `offset`.
    fn chars_before(&self, text: &[u8], offset: usize) -> usize {
        let block = offset / BLOCK;
        let counted = text[block * BLOCK..offset].iter().filter(|b| !is_continuation(**b)).count();
        self.block_chars[block] as usize + counted
    }
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// Every file a compilation read, so diagnostics and run-time errors can point into them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SourceMap {
    pub files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile::new(path, text));
        (self.files.len() - 1) as FileId
    }
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id as usize]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A secondary label: another place that explains the primary one.
#[derive(Clone, Debug, Serialize)]
pub struct Related {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// One finding of the compiler, with a stable code (`E0xxx` errors, `W0xxx` warnings).
#[derive(Clone, Debug, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub file: Option<FileId>,
    pub span: Option<Span>,
    /// Text shown at the span.
    pub label: String,
    pub help: Option<String>,
    pub related: Vec<Related>,
    /// The text that fixes the problem when it replaces the span (a "did you mean"), for
    /// editors to offer as a quick fix; the help says the same in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            file: None,
            span: None,
            label: String::new(),
            help: None,
            related: Vec::new(),
            suggestion: None,
        }
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }
    pub fn at(mut self, file: FileId, span: Span, label: impl Into<String>) -> Diagnostic {
        self.file = Some(file);
        self.span = Some(span);
        self.label = label.into();
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
    /// The replacement of the span that fixes the problem (see [`Diagnostic::suggestion`]).
    pub fn suggest(mut self, replacement: impl Into<String>) -> Diagnostic {
        self.suggestion = Some(replacement.into());
        self
    }
    pub fn related(mut self, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        self.related.push(Related { file, span, message: message.into() });
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

#[cfg(test)]
mod tests {
    use super::SourceFile;

    /// The definition `line_col` must agree with: count from the start of the text.
    fn naive(text: &str, offset: usize) -> (u32, u32) {
        let mut o = offset.min(text.len());
        while !text.is_char_boundary(o) {
            o -= 1;
        }
        let before = &text[..o];
        let line = before.matches('\n').count() as u32 + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[start..].chars().count() as u32 + 1)
    }

    #[test]
    fn line_col_agrees_with_counting_from_the_start() {
        let long: String = "é🙂x".repeat(200);
        let text = format!("rule \"ü\" {{\n  deny if x == \"{long}\"\n\n\t\"日本\"\n{long}\n");
        let f = SourceFile::new("f.rule", text.clone());
        for offset in 0..=text.len() + 3 {
            assert_eq!(f.line_col(offset as u32), naive(&text, offset), "offset {offset}");
        }
        assert_eq!(SourceFile::new("empty", "").line_col(5), (1, 1));
    }
}

//! Between the engine's byte offsets and paths and the protocol's positions (lines and UTF-16
//! code units, LSP's default encoding) and `file://` URIs.

use std::path::{Path, PathBuf};

use lsp_types::{Position, Range, Uri};
use warden::Span;

/// The start of each line of a text, to turn offsets into positions and back.
#[derive(Debug)]
pub struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// The editor's text starts with a byte-order mark the checked text does not have: one
    /// more UTF-16 unit on the first line.
    bom: bool,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Lines<'a> {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        Lines { text, starts, bom: false }
    }

    /// The lines of the checked text of `path`, counting a byte-order mark its buffer starts
    /// with (`boms`) when the checked text does not.
    pub fn of(text: &'a str, path: &std::path::Path, boms: &std::collections::BTreeSet<PathBuf>) -> Lines<'a> {
        Lines { bom: boms.contains(path) && !text.starts_with('\u{FEFF}'), ..Lines::new(text) }
    }

    /// The position of a byte offset (clamped to the text, moved back to a character start).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.starts[line];
        let mut character: usize = self.text[start..offset].chars().map(char::len_utf16).sum();
        if self.bom && line == 0 {
            character += 1;
        }
        Position { line: line as u32, character: character as u32 }
    }

    /// The byte offset of a position: past the end of its line is the line's end, past the
    /// last line the end of the text, inside a surrogate pair the character's start.
    pub fn offset(&self, pos: Position) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else { return self.text.len() };
        let end = self.starts.get(pos.line as usize + 1).map_or(self.text.len(), |&e| e);
        let line = &self.text[start..end];
        let line = line.strip_suffix('\n').map_or(line, |l| l.strip_suffix('\r').unwrap_or(l));
        let mut units = usize::from(self.bom && pos.line == 0);
        for (i, c) in line.char_indices() {
            let next = units + c.len_utf16();
            if next > pos.character as usize {
                return start + i;
            }
            units = next;
        }
        start + line.len()
    }

    pub fn range(&self, span: Span) -> Range {
        Range { start: self.position(span.start as usize), end: self.position(span.end as usize) }
    }
}

/// The path of a `file://` URI (percent-decoded); `None` for other schemes.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // `file:///path` or `file://localhost/path`.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = rest.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    let path = String::from_utf8(out).ok()?;
    Some(warden::files::normalize(Path::new(&path)))
}

/// The `file://` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let s = path.to_str()?;
    let mut out = String::from("file://");
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "rule \"é🙂\" {\r\n  deny if user.name == \"日本🙂\"\n}";
        let lines = Lines::new(text);
        let after_emoji = text.find("\" {").expect("quote");
        // `rule "é🙂` is 6 + 1 + 2 (the emoji is a surrogate pair) units.
        assert_eq!(lines.position(after_emoji), Position { line: 0, character: 9 });
        assert_eq!(lines.offset(Position { line: 0, character: 9 }), after_emoji);
        // Inside the pair: the emoji's start.
        assert_eq!(lines.offset(Position { line: 0, character: 8 }), text.find('🙂').expect("emoji"));
        let user = text.find("user").expect("user");
        assert_eq!(lines.position(user), Position { line: 1, character: 10 });
        assert_eq!(lines.offset(Position { line: 1, character: 10 }), user);
        // Past the end of a line: its end, before `\r\n`.
        assert_eq!(lines.offset(Position { line: 0, character: 99 }), text.find('\r').expect("cr"));
        assert_eq!(lines.offset(Position { line: 9, character: 0 }), text.len());
        for offset in 0..=text.len() {
            if text.is_char_boundary(offset) && !text[..offset].ends_with('\r') {
                assert_eq!(lines.offset(lines.position(offset)), offset, "offset {offset}");
            }
        }
    }

    #[test]
    fn a_byte_order_mark_counts_on_the_first_line() {
        let text = "rule \"r\" {\n}";
        let boms = std::collections::BTreeSet::from([PathBuf::from("/a.rule")]);
        let lines = Lines::of(text, Path::new("/a.rule"), &boms);
        assert_eq!(lines.position(5), Position { line: 0, character: 6 });
        assert_eq!(lines.offset(Position { line: 0, character: 6 }), 5);
        assert_eq!(lines.offset(Position { line: 0, character: 0 }), 0);
        assert_eq!(lines.position(text.len()), Position { line: 1, character: 1 });
        let plain = Lines::of(text, Path::new("/b.rule"), &boms);
        assert_eq!(plain.position(5), Position { line: 0, character: 5 });
    }

    #[test]
    fn uris_and_paths() {
        let uri: Uri = "file:///tmp/my%20project/r%C3%A9gles/a.rule".parse().expect("uri");
        let path = uri_to_path(&uri).expect("a file uri");
        assert_eq!(path, PathBuf::from("/tmp/my project/régles/a.rule"));
        let back = path_to_uri(&path).expect("uri");
        assert_eq!(uri_to_path(&back), Some(path));
        let other: Uri = "untitled:Untitled-1".parse().expect("uri");
        assert_eq!(uri_to_path(&other), None);
    }
}

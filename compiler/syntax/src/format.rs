//! `warden fmt`: one canonical layout for `.rule` files.
//!
//! The formatter prints the syntax tree again: four-space indentation, one statement per
//! line, one blank line between rules, at most one blank line kept between statements where
//! the author left some, and lines broken at [`WIDTH`] columns (a long condition before its
//! `and`/`or`, a long list, object or call one item per line, with a trailing comma).
//! Literals (numbers and strings, interpolations included) are printed as they were written.
//!
//! Comments are not in the syntax tree (they are whitespace to the grammar), so they are
//! found again in the text by position: a comment on its own line stays on its own line
//! before what followed it; a comment at the end of a line stays at the end of that line;
//! a comment inside a list, object or call stays with its item; a comment anywhere else
//! inside a statement moves to the line before the statement. The result is checked before
//! it is returned (it parses, with the same rules and the same comments): a file the
//! formatter cannot print faithfully is refused, never changed.

use std::fmt;

use crate::ast::*;
use crate::{Diagnostic, Span, parse_file};

/// The width lines are broken at.
pub const WIDTH: usize = 100;
const INDENT: usize = 4;

/// Why a file was not formatted.
#[derive(Clone, Debug)]
pub enum FormatError {
    /// The file does not parse: its diagnostics (nothing is formatted).
    Syntax(Vec<Diagnostic>),
    /// The formatter could not print the file faithfully (a defect of the formatter: the
    /// file is left as it is).
    Unfaithful(String),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Syntax(d) => write!(f, "the file does not parse ({} errors)", d.len()),
            FormatError::Unfaithful(why) => write!(f, "the file cannot be formatted faithfully: {why}"),
        }
    }
}

impl std::error::Error for FormatError {}

/// Formats a `.rule` file. `format(format(x)) == format(x)`; the result lowers to the same
/// program as the input.
pub fn format(text: &str) -> Result<String, FormatError> {
    let text = crate::strip_bom(text);
    let (file, diags) = parse_file(0, text);
    if !diags.is_empty() {
        return Err(FormatError::Syntax(diags));
    }
    let comments = scan_comments(text);
    let mut p = Printer { text, comments: &comments, used: vec![false; comments.len()], out: String::new() };
    p.file(&file);
    let out = p.out;
    // Never return a file that says something else.
    if p.used.iter().any(|u| !u) {
        return Err(FormatError::Unfaithful("a comment could not be placed".into()));
    }
    let (again, diags) = parse_file(0, &out);
    if !diags.is_empty() || again.rules.len() != file.rules.len() {
        return Err(FormatError::Unfaithful("the formatted text does not parse as the original".into()));
    }
    let kept: Vec<&str> = scan_comments(&out).iter().map(|c| c.text).collect();
    let had: Vec<&str> = comments.iter().map(|c| c.text).collect();
    if kept != had {
        return Err(FormatError::Unfaithful("the comments would change".into()));
    }
    Ok(out)
}

// Comments.

#[derive(Clone, Copy, Debug)]
struct Comment<'a> {
    start: usize,
    end: usize,
    text: &'a str,
    /// Nothing but whitespace before it on its line.
    own_line: bool,
}

/// The comments of a text, outside string literals (interpolations included: a comment
/// inside `${...}` belongs to its string, which is printed as written).
fn scan_comments(text: &str) -> Vec<Comment<'_>> {
    #[derive(PartialEq)]
    enum Mode {
        Code,
        Str,
    }
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    // The string and interpolation nesting; `braces` counts `{` inside an interpolation.
    let mut stack: Vec<(Mode, usize)> = vec![(Mode::Code, 0)];
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let depth = stack.len();
        let Some((mode, braces)) = stack.last_mut() else { break };
        match (&*mode, b) {
            (Mode::Code, b'#') => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                if depth == 1 {
                    let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                    let own_line = text[line_start..i].trim().is_empty();
                    out.push(Comment { start: i, end, text: text[i..end].trim_end(), own_line });
                }
                i = end;
                continue;
            }
            (Mode::Code, b'"') => stack.push((Mode::Str, 0)),
            (Mode::Code, b'{') => *braces += 1,
            (Mode::Code, b'}') => {
                if depth > 1 && *braces == 0 {
                    stack.pop();
                } else {
                    *braces = braces.saturating_sub(1);
                }
            }
            (Mode::Str, b'\\') => i += 1,
            (Mode::Str, b'"') | (Mode::Str, b'\n') => {
                stack.pop();
            }
            (Mode::Str, b'$') if bytes.get(i + 1) == Some(&b'{') => {
                stack.push((Mode::Code, 0));
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

// Documents: what a statement prints as, before lines are broken.

#[derive(Clone, Debug)]
enum Doc {
    Text(String),
    /// A space, or a line break when its group is broken.
    Line,
    /// Nothing, or a line break when its group is broken.
    Soft,
    /// Text printed only when its group is broken (a trailing comma).
    IfBreak(&'static str),
    /// Breaks every group around it, and prints nothing (after a trailing comment).
    ForceBreak,
    /// Always a line break.
    Hard,
    Nest(Box<Doc>),
    Group(Box<Doc>),
    Cat(Vec<Doc>),
}

fn text(s: impl Into<String>) -> Doc {
    Doc::Text(s.into())
}

fn cat(docs: Vec<Doc>) -> Doc {
    Doc::Cat(docs)
}

fn nest(d: Doc) -> Doc {
    Doc::Nest(Box::new(d))
}

fn group(d: Doc) -> Doc {
    Doc::Group(Box::new(d))
}

/// Lays `doc` out from column `indent` (the line's indentation already written), appending
/// to `out`.
fn render(doc: &Doc, indent: usize, out: &mut String) {
    let mut col = indent;
    let mut stack: Vec<(usize, bool, &Doc)> = vec![(indent, false, doc)];
    while let Some((ind, flat, d)) = stack.pop() {
        match d {
            Doc::Text(s) => {
                out.push_str(s);
                col += s.chars().count();
            }
            Doc::Line | Doc::Soft | Doc::Hard if !flat || matches!(d, Doc::Hard) => {
                while out.ends_with(' ') {
                    out.pop();
                }
                out.push('\n');
                out.push_str(&" ".repeat(ind));
                col = ind;
            }
            Doc::Line => {
                out.push(' ');
                col += 1;
            }
            Doc::Soft | Doc::Hard | Doc::ForceBreak => {}
            Doc::IfBreak(s) => {
                if !flat {
                    out.push_str(s);
                    col += s.len();
                }
            }
            Doc::Nest(inner) => stack.push((ind + INDENT, flat, inner)),
            Doc::Group(inner) => {
                let fits = flat || fits(WIDTH.saturating_sub(col), inner, &stack);
                stack.push((ind, fits, inner));
            }
            Doc::Cat(items) => {
                for item in items.iter().rev() {
                    stack.push((ind, flat, item));
                }
            }
        }
    }
}

/// Whether `doc` printed flat, and what follows it up to the next line break, fits in
/// `width` columns.
fn fits(width: usize, doc: &Doc, rest: &[(usize, bool, &Doc)]) -> bool {
    let mut left = width as isize;
    let mut todo: Vec<(bool, &Doc)> = vec![(true, doc)];
    let mut rest = rest.iter().rev();
    loop {
        let Some((flat, d)) = todo.pop().or_else(|| rest.next().map(|(_, f, d)| (*f, *d))) else { return true };
        match d {
            Doc::Text(s) => left -= s.chars().count() as isize,
            Doc::Line if flat => left -= 1,
            Doc::Line | Doc::Soft if !flat => return true,
            Doc::Line | Doc::Soft => {}
            Doc::IfBreak(s) => {
                if !flat {
                    left -= s.len() as isize;
                }
            }
            Doc::ForceBreak | Doc::Hard => return !flat,
            Doc::Nest(inner) | Doc::Group(inner) => todo.push((flat, inner)),
            Doc::Cat(items) => {
                for item in items.iter().rev() {
                    todo.push((flat, item));
                }
            }
        }
        if left < 0 {
            return false;
        }
    }
}

// Printing.

struct Printer<'a> {
    text: &'a str,
    comments: &'a [Comment<'a>],
    used: Vec<bool>,
    out: String,
}

/// Binding strength, as `parse.rs`'s Pratt table: higher binds tighter.
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Quant { .. } => 0,
        ExprKind::Binary(op, ..) => binary_prec(*op),
        ExprKind::Unary(UnOp::Not, _) => 3,
        ExprKind::Unary(UnOp::Neg, _) => 8,
        _ => 9,
    }
}

fn binary_prec(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In | BinOp::NotIn => 4,
        BinOp::Coalesce => 5,
        BinOp::Add | BinOp::Sub => 6,
        BinOp::Mul | BinOp::Div | BinOp::Rem => 7,
    }
}

/// A name `.name` can spell (else `["name"]`).
fn is_field_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A string literal holding `s` exactly.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn path_part(name: &str) -> String {
    if is_field_name(name) { format!(".{name}") } else { format!("[{}]", quoted(name)) }
}

impl<'a> Printer<'a> {
    fn src(&self, span: Span) -> &'a str {
        self.text.get(span.start as usize..span.end as usize).unwrap_or_default()
    }

    /// Where the code of a node ends: spans of nodes that end with an optional part reach
    /// over the whitespace and comments after them.
    fn end(&self, span: Span) -> usize {
        let start = span.start as usize;
        let mut end = (span.end as usize).min(self.text.len());
        loop {
            let trimmed = self.text[start..end].trim_end().len() + start;
            match self.comments.iter().find(|c| c.end == trimmed && c.start >= start) {
                Some(c) => end = c.start,
                None => return trimmed,
            }
        }
    }

    /// Where a statement's code ends. The parser ends a statement's span with its last part,
    /// which for `mfa ... with { ... }` is the last option: the closing brace is found here.
    fn stmt_end(&self, s: &Stmt) -> usize {
        let end = self.end(s.span);
        if !matches!(&s.kind, StmtKind::Mfa { options, .. } if !options.is_empty()) || s.modifier.is_some() {
            return end;
        }
        let mut at = end;
        let bytes = self.text.as_bytes();
        while at < bytes.len() {
            match bytes[at] {
                b'}' => return at + 1,
                b'#' => at = self.text[at..].find('\n').map_or(bytes.len(), |n| at + n),
                b',' | b' ' | b'\t' | b'\r' | b'\n' => at += 1,
                _ => return end,
            }
        }
        end
    }

    /// The unused comments in `from..to`.
    fn comments_in(&self, from: usize, to: usize) -> Vec<usize> {
        (0..self.comments.len())
            .filter(|&i| !self.used[i] && self.comments[i].start >= from && self.comments[i].start < to)
            .collect()
    }

    /// Whether the source between `from` and `to` holds a blank line.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        let gap = self.text.get(from..to).unwrap_or_default();
        let mut lines = gap.split('\n');
        lines.next();
        let mut all: Vec<&str> = lines.collect();
        all.pop();
        all.iter().any(|l| l.trim().is_empty())
    }

    fn line(&mut self, depth: usize, s: &str) {
        self.out.push_str(&" ".repeat(depth * INDENT));
        self.out.push_str(s);
        self.out.push('\n');
    }

    /// A trailing comment on the source line of `end`, printed after what was just written.
    fn trailing(&mut self, end: usize) {
        let line_end = self.text[end..].find('\n').map_or(self.text.len(), |n| end + n);
        if let Some(&i) = self.comments_in(end, line_end).first() {
            self.used[i] = true;
            if self.out.ends_with('\n') {
                self.out.pop();
            }
            self.out.push(' ');
            self.out.push_str(self.comments[i].text);
            self.out.push('\n');
        }
    }

    /// Own-line comments in `from..to`, each on its line, with blank lines kept; returns
    /// where the last one ended.
    fn leading(&mut self, depth: usize, from: usize, to: usize, mut last_end: usize, mut first: bool) -> usize {
        for i in self.comments_in(from, to) {
            let c = self.comments[i];
            if !first && self.blank_between(last_end, c.start) {
                self.out.push('\n');
            }
            self.used[i] = true;
            self.line(depth, c.text);
            last_end = c.end;
            first = false;
        }
        last_end
    }

    fn file(&mut self, file: &File) {
        let mut last_end = 0;
        for (n, rule) in file.rules.iter().enumerate() {
            let start = rule.span.start as usize;
            if n > 0 {
                self.out.push('\n');
            }
            let had = self.comments_in(last_end, start).len();
            last_end = self.leading(0, last_end, start, last_end, true);
            if had > 0 && self.blank_between(last_end, start) {
                // Comments apart from the rule after them stay apart.
                self.out.push('\n');
            }
            self.rule(rule);
            last_end = self.end(rule.span);
        }
        let end = self.text.len();
        let rest = self.comments_in(last_end, end);
        if !rest.is_empty() {
            if !self.out.is_empty() {
                self.out.push('\n');
            }
            self.leading(0, last_end, end, last_end, true);
        }
    }

    fn rule(&mut self, rule: &Rule) {
        let header = format!("rule {} {{", self.src(rule.name_span));
        let start = rule.span.start as usize;
        // Comments between `rule` and `{` go inside, before the first statement.
        self.line(0, &header);
        self.block(&rule.body, 1, start, self.end(rule.span));
        self.line(0, "}");
        self.trailing(self.end(rule.span));
    }

    /// The statements of a block, with the comments between them; `from..to` is the block's
    /// extent (its closing brace at `to - 1`).
    fn block(&mut self, body: &[Stmt], depth: usize, from: usize, to: usize) {
        let mut last_end = from;
        let mut first = true;
        for s in body {
            let start = s.span.start as usize;
            let before = self.comments_in(last_end, start);
            if !before.is_empty() {
                let c = self.comments[before[0]];
                if !first && self.blank_between(last_end, c.start) {
                    self.out.push('\n');
                }
                last_end = self.leading(depth, last_end, start, last_end, true);
                if self.blank_between(last_end, start) {
                    self.out.push('\n');
                }
            } else if !first && self.blank_between(last_end, start) {
                self.out.push('\n');
            }
            self.stmt(s, depth);
            last_end = self.stmt_end(s);
            self.trailing(last_end);
            let line_end = self.text[last_end..].find('\n').map_or(self.text.len(), |n| last_end + n);
            last_end = last_end.max(line_end.min(to));
            first = false;
        }
        let close = to.saturating_sub(1);
        let rest = self.comments_in(last_end, close);
        if !rest.is_empty() {
            let c = self.comments[rest[0]];
            if !first && self.blank_between(last_end, c.start) {
                self.out.push('\n');
            }
            self.leading(depth, last_end, close, last_end, true);
        }
    }

    fn stmt(&mut self, s: &Stmt, depth: usize) {
        if let StmtKind::If { .. } = &s.kind {
            if s.modifier.is_none() {
                self.if_chain(s, depth, "", None);
            } else {
                // Not valid (the checker says so), but printed as written.
                let doc = text(self.src(Span::new(s.span.start as usize, self.end(s.span))).to_string());
                self.emit(s.span, doc, depth);
            }
            return;
        }
        let doc = self.stmt_doc(s);
        self.emit(Span::new(s.span.start as usize, self.stmt_end(s)), doc, depth);
    }

    /// Prints a statement's document, after the comments inside it that no item took.
    fn emit(&mut self, span: Span, doc: Doc, depth: usize) {
        self.emit_hoisting_to(span, doc, depth, depth);
    }

    /// [`Self::emit`], with the comments inside the span moved to the lines before it at
    /// `comment_depth`.
    fn emit_hoisting_to(&mut self, span: Span, doc: Doc, depth: usize, comment_depth: usize) {
        let hoisted = self.comments_in(span.start as usize, self.end(span));
        for i in hoisted {
            self.used[i] = true;
            let c = self.comments[i].text;
            self.line(comment_depth, c);
        }
        let mut line = " ".repeat(depth * INDENT);
        render(&doc, depth * INDENT, &mut line);
        self.out.push_str(&line);
        self.out.push('\n');
    }

    /// `if C { ... } else if C { ... } else { ... }`, `prefix` being `} else ` after the first,
    /// and `from` the end of the `}` before it (the comments from there on are this header's).
    fn if_chain(&mut self, s: &Stmt, depth: usize, prefix: &str, from: Option<usize>) {
        let StmtKind::If { cond, then, otherwise } = &s.kind else { return };
        let cond_doc = self.expr(cond, 0);
        let head = cat(vec![text(format!("{prefix}if ")), cond_doc]);
        // The header's own span: from the statement's start to its condition's end.
        let head_end = self.end(cond.span);
        let head_start = from.unwrap_or(s.span.start as usize);
        // Comments inside an `else if` condition go before its line, which starts with the
        // `}` of the block before: inside that block, where the next run finds them again.
        let comment_depth = if prefix.is_empty() { depth } else { depth + 1 };
        self.emit_hoisting_to(Span::new(head_start, head_end), group(head), depth, comment_depth);
        // `{` ends the header's line, or has a line of its own after a broken condition.
        let last_line = self.out.trim_end_matches('\n').rsplit('\n').next().unwrap_or_default();
        let broken = !last_line.starts_with(&format!("{}{prefix}if ", " ".repeat(depth * INDENT)));
        self.out.pop();
        if broken {
            self.out.push('\n');
            self.out.push_str(&" ".repeat(depth * INDENT));
            self.out.push_str("{\n");
        } else {
            self.out.push_str(" {\n");
        }
        self.trailing_brace(head_end);
        let then_end = then.last().map_or(head_end, |t| self.end(t.span));
        let else_at = self.else_at(then_end, self.end(s.span));
        self.block(then, depth + 1, head_end, else_at.map_or(self.end(s.span), |e| self.closing_before(e)));
        match otherwise {
            None => self.line(depth, "}"),
            Some(stmts) => {
                if let [inner] = stmts.as_slice()
                    && inner.modifier.is_none()
                    && matches!(inner.kind, StmtKind::If { .. })
                {
                    self.if_chain(inner, depth, "} else ", Some(else_at.map_or(then_end, |e| self.closing_before(e))));
                } else {
                    self.line(depth, "} else {");
                    let from = else_at.map_or(then_end, |e| self.closing_before(e));
                    self.block(stmts, depth + 1, from, self.end(s.span));
                    self.line(depth, "}");
                }
            }
        }
    }

    /// A comment after a header's `{` stays there.
    fn trailing_brace(&mut self, head_end: usize) {
        let rest = self.text.get(head_end..).unwrap_or_default();
        let brace = head_end + (rest.len() - rest.trim_start().len());
        if self.text[brace..].starts_with('{') {
            self.trailing(brace + 1);
        }
    }

    /// Where the `else` after a then-block is (searching from its last statement).
    fn else_at(&self, from: usize, to: usize) -> Option<usize> {
        let gap = self.text.get(from..to)?;
        // Skip comments: an `else` in a comment is not the keyword.
        let mut at = 0;
        for line in gap.split_inclusive('\n') {
            let code = line.split('#').next().unwrap_or_default();
            if let Some(n) = code.find("else") {
                return Some(from + at + n);
            }
            at += line.len();
        }
        None
    }

    /// The offset one past the `}` before `else_at`.
    fn closing_before(&self, else_at: usize) -> usize {
        self.text[..else_at].rfind('}').map_or(else_at, |n| n + 1)
    }

    fn stmt_doc(&mut self, s: &Stmt) -> Doc {
        let head = match &s.kind {
            StmtKind::When(e) => cat(vec![text("when "), self.expr(e, 0)]),
            StmtKind::Let { name, value } => cat(vec![text(format!("let {} = ", name.name)), self.expr(value, 0)]),
            StmtKind::If { .. } => {
                // An `if` with a modifier cannot be written; the parser never builds one.
                text(self.src(s.span).to_string())
            }
            StmtKind::Deny { code, message } => {
                let mut parts = vec![text("deny")];
                if let Some((code, _)) = code {
                    parts.push(text(match code {
                        DenyCode::Unauthorized => " unauthorized",
                        DenyCode::AccessDenied => " access_denied",
                    }));
                }
                if let Some(m) = message {
                    parts.push(text(" "));
                    parts.push(self.expr(m, 0));
                }
                cat(parts)
            }
            StmtKind::Set { target, value } => {
                cat(vec![text(format!("set {} = ", self.target(target))), self.expr(value, 0)])
            }
            StmtKind::Unset { target } => text(format!("unset {}", self.target(target))),
            StmtKind::Claim { token, name, value } => {
                let token = match token {
                    TokenKind::IdToken => "id_token",
                    TokenKind::AccessToken => "access_token",
                };
                cat(vec![text(format!("claim {token} {} = ", self.src(name.span))), self.expr(value, 0)])
            }
            StmtKind::Scope { op, values } => {
                let op = match op {
                    ScopeOp::Add => "add",
                    ScopeOp::Remove => "remove",
                    ScopeOp::Set => "set",
                };
                let mut parts = vec![text(format!("scope {op} "))];
                if let [one] = values.as_slice() {
                    // One list or value: it breaks by itself, at the statement's indentation.
                    parts.push(self.expr(one, 0));
                } else {
                    let mut items = Vec::new();
                    for (i, v) in values.iter().enumerate() {
                        if i > 0 {
                            items.push(text(","));
                            items.push(Doc::Line);
                        }
                        items.push(self.expr(v, 0));
                    }
                    parts.push(group(nest(cat(items))));
                }
                cat(parts)
            }
            StmtKind::Mfa { provider, remember, options, .. } => {
                let mut parts = vec![text(format!("mfa {provider}"))];
                if let Some(r) = remember {
                    parts.push(text(" remember_browser "));
                    parts.push(self.expr(r, 0));
                }
                if !options.is_empty() {
                    parts.push(text(" with "));
                    let items: Vec<(usize, usize, Doc)> = options
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.span.start as usize,
                                self.end(v.span),
                                cat(vec![text(format!("{}: ", k.name)), self.expr(v, 0)]),
                            )
                        })
                        .collect();
                    let (from, to) = (options[0].0.span.start as usize, self.stmt_end(s));
                    parts.push(self.items("{", "}", items, from, to, true));
                }
                cat(parts)
            }
            StmtKind::Redirect(e) => cat(vec![text("redirect "), self.expr(e, 0)]),
            StmtKind::Persist { metadata, key, path, value, .. } => {
                let meta = match metadata {
                    Metadata::App => "app_metadata",
                    Metadata::User => "user_metadata",
                };
                let mut t = format!("persist {meta}{}", path_part(key));
                for p in path {
                    t.push_str(&path_part(&p.name));
                }
                cat(vec![text(format!("{t} = ")), self.expr(value, 0)])
            }
            StmtKind::Log(e) => cat(vec![text("log "), self.expr(e, 0)]),
        };
        match &s.modifier {
            None => group(head),
            Some(m) => {
                let kw = if m.unless { "unless " } else { "if " };
                group(cat(vec![head, nest(cat(vec![Doc::Line, text(kw), self.expr(&m.cond, 0)]))]))
            }
        }
    }

    fn target(&self, t: &Target) -> String {
        let mut s = t.root.name.clone();
        for p in &t.path {
            s.push_str(&path_part(&p.name));
        }
        s
    }

    /// An expression in a place that needs at least binding strength `min`.
    fn expr(&mut self, e: &Expr, min: u8) -> Doc {
        let doc = self.expr_bare(e);
        if prec(e) < min { cat(vec![text("("), doc, text(")")]) } else { doc }
    }

    /// An operand of `not` or of a binary operator other than `??`: as [`Self::expr`], and a
    /// `??` keeps parentheses even where precedence does not need them. `??` binds tighter than
    /// comparisons and `not` in `.rule` but looser in JavaScript, so `(len(x) ?? 0) == 0` reads
    /// the same to both kinds of reader only with them.
    fn operand(&mut self, e: &Expr, min: u8) -> Doc {
        let coalesce = matches!(e.kind, ExprKind::Binary(BinOp::Coalesce, ..));
        self.expr(e, if coalesce { min.max(binary_prec(BinOp::Coalesce) + 1) } else { min })
    }

    fn expr_bare(&mut self, e: &Expr) -> Doc {
        match &e.kind {
            ExprKind::Str(_) | ExprKind::Int(_) | ExprKind::Float(_) => text(self.src(e.span).to_string()),
            ExprKind::Bool(b) => text(if *b { "true" } else { "false" }),
            ExprKind::Null => text("null"),
            ExprKind::Var(v) => text(v.name.clone()),
            ExprKind::Field(base, name) => cat(vec![self.expr(base, 9), text(path_part(&name.name))]),
            ExprKind::Index(base, i) => cat(vec![self.expr(base, 9), text("["), self.expr(i, 0), text("]")]),
            ExprKind::Call(name, args) if matches!(args.as_slice(), [a] if !matches!(a.kind, ExprKind::List(_) | ExprKind::Object(_) | ExprKind::Call(..) | ExprKind::Comp { .. })) =>
            {
                // One plain argument: breaking it off would gain a few columns and read worse.
                let arg = self.expr(&args[0], 1);
                cat(vec![text(format!("{}(", name.name)), arg, text(")")])
            }
            ExprKind::Call(name, args) => {
                let items = args.iter().map(|a| (a.span.start as usize, self.end(a.span), self.expr(a, 1))).collect();
                let from = self.end(name.span);
                cat(vec![text(name.name.clone()), self.items("(", ")", items, from, self.end(e.span), false)])
            }
            ExprKind::List(items) => {
                let items = items.iter().map(|a| (a.span.start as usize, self.end(a.span), self.expr(a, 1))).collect();
                self.items("[", "]", items, e.span.start as usize, self.end(e.span), false)
            }
            ExprKind::Object(members) => {
                let items = members
                    .iter()
                    .map(|(k, v)| {
                        // `rule` at the start of a line would start a new rule for the parser.
                        let key =
                            if is_field_name(&k.name) && k.name != "rule" { k.name.clone() } else { quoted(&k.name) };
                        (k.span.start as usize, self.end(v.span), cat(vec![text(format!("{key}: ")), self.expr(v, 1)]))
                    })
                    .collect();
                self.items("{", "}", items, e.span.start as usize, self.end(e.span), true)
            }
            ExprKind::Unary(UnOp::Not, x) => cat(vec![text("not "), self.operand(x, 3)]),
            ExprKind::Unary(UnOp::Neg, x) => {
                // `- -x` keeps its space: `--x` reads as a typo.
                let inner = self.expr(x, 8);
                let space = matches!(x.kind, ExprKind::Unary(UnOp::Neg, _));
                cat(vec![text(if space { "- " } else { "-" }), inner])
            }
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), ..) => {
                // A chain of one operator, broken before each operator when too long.
                let mut operands = Vec::new();
                chain(e, *op, &mut operands);
                let p = binary_prec(*op);
                let mut parts = Vec::new();
                let mut rest = Vec::new();
                for (i, x) in operands.iter().enumerate() {
                    let d = self.operand(x, p + 1);
                    if i == 0 {
                        parts.push(d);
                    } else {
                        rest.push(Doc::Line);
                        rest.push(text(format!("{} ", op.symbol())));
                        rest.push(d);
                    }
                }
                parts.push(nest(cat(rest)));
                group(cat(parts))
            }
            ExprKind::Binary(op, l, r) => {
                let p = binary_prec(*op);
                if *op == BinOp::Coalesce {
                    cat(vec![self.expr(l, p + 1), text(" ?? "), self.expr(r, p)])
                } else {
                    cat(vec![self.operand(l, p), text(format!(" {} ", op.symbol())), self.operand(r, p + 1)])
                }
            }
            ExprKind::Quant { kind, var, list, body } => {
                let kw = match kind {
                    Quantifier::Any => "any",
                    Quantifier::All => "all",
                };
                // A body too long for the line starts on the next one, indented.
                let body = group(nest(cat(vec![Doc::Line, self.expr(body, 0)])));
                cat(vec![text(format!("{kw} {} in ", var.name)), self.expr(list, 9), text(":"), body])
            }
            ExprKind::Comp { body, var, list, filter } => {
                let mut parts = vec![
                    Doc::Soft,
                    self.expr(body, 1),
                    Doc::Line,
                    text(format!("for {} in ", var.name)),
                    self.expr(list, 1),
                ];
                if let Some(f) = filter {
                    parts.push(Doc::Line);
                    parts.push(text("if "));
                    parts.push(self.expr(f, 1));
                }
                group(cat(vec![text("["), nest(cat(parts)), Doc::Soft, text("]")]))
            }
        }
    }

    /// A bracketed, comma-separated list of items (`(start, end, doc)`), flat when it fits,
    /// else one item per line with a trailing comma; comments between items stay with them.
    /// `spaced` puts spaces inside the brackets when flat (`{ a: 1 }`).
    fn items(
        &mut self,
        open: &str,
        close: &str,
        items: Vec<(usize, usize, Doc)>,
        from: usize,
        to: usize,
        spaced: bool,
    ) -> Doc {
        if items.is_empty() {
            // Comments in an empty bracket pair move before the statement.
            return text(format!("{open}{close}"));
        }
        let mut body = Vec::new();
        let n = items.len();
        let mut prev_end = from;
        for (i, (start, end, doc)) in items.into_iter().enumerate() {
            let before = self.comments_in(prev_end, start);
            for c in before {
                let comment = self.comments[c];
                self.used[c] = true;
                if comment.own_line || i == 0 {
                    body.push(text(comment.text));
                    body.push(Doc::Hard);
                } else {
                    // A comment after the previous item's comma, on its line: it stays there.
                    if let Some(Doc::Soft | Doc::Line) = body.last() {
                        body.pop();
                    }
                    body.push(text(format!(" {}", comment.text)));
                    body.push(Doc::ForceBreak);
                    body.push(Doc::Soft);
                }
            }
            body.push(doc);
            if i + 1 < n {
                body.push(text(","));
                body.push(Doc::Line);
            } else {
                body.push(Doc::IfBreak(","));
            }
            prev_end = end;
        }
        // Comments after the last item, before the closing bracket.
        for c in self.comments_in(prev_end, to) {
            let comment = self.comments[c];
            self.used[c] = true;
            if comment.own_line {
                body.push(Doc::Hard);
                body.push(text(comment.text));
            } else {
                body.push(text(format!(" {}", comment.text)));
            }
            body.push(Doc::ForceBreak);
        }
        let edge = if spaced { Doc::Line } else { Doc::Soft };
        group(cat(vec![text(open), nest(cat(vec![edge.clone(), cat(body)])), edge, text(close)]))
    }
}

/// The operands of a chain of `op` (left-associative), left to right.
fn chain<'e>(e: &'e Expr, op: BinOp, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Binary(o, l, r) if *o == op => {
            chain(l, op, out);
            out.push(r);
        }
        _ => out.push(e),
    }
}

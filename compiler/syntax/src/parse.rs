//! Text to AST. The only module that knows pest exists.
//!
//! A file is cut into chunks at each line that starts with the keyword `rule`, and every
//! chunk is parsed on its own: a syntax error in one rule is reported, and the other rules
//! are still parsed and checked. Strings cannot span lines, so the cut never splits a token.

use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::OnceLock;

use crate::ast::*;
use crate::{Diagnostic, FileId, Span, codes, hints};

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/warden.pest"]
struct Grammar;

/// How deep expressions and blocks may nest; deeper input is refused with a diagnostic
/// rather than risking the stack of later stages.
pub const MAX_DEPTH: usize = 64;

/// The most text one rule may span (from its `rule` line to the next rule's): parsing holds
/// a rule's whole parse tree at once, about 40 bytes of memory per byte of text, so this
/// bounds what one rule costs to load (a file may hold many rules, up to its 16 MiB).
pub const MAX_RULE_BYTES: usize = 1024 * 1024;

/// Parses one `.rule` file. Returns the rules that parsed and a diagnostic per broken rule.
pub fn parse_file(file: FileId, text: &str) -> (File, Vec<Diagnostic>) {
    init_pest();
    let mut rules = Vec::new();
    let mut diags = Vec::new();
    let starts = chunk_starts(text);
    let first = starts.first().copied().unwrap_or(text.len());
    if let Err(e) = Grammar::parse(Rule::prelude, &text[..first]) {
        let d = hints::javascript(file, text, error_pos(&e), false).unwrap_or_else(|| {
            let mut d = syntax_error(file, text, 0, &e);
            let found = d.message.rsplit_once("found ").map_or(String::new(), |(_, f)| f.to_string());
            d.message = format!("expected `rule`, found {found}");
            d.help = Some("a .rule file holds rules: rule \"name\" { statements }".into());
            d
        });
        diags.push(d);
    }
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let chunk = &text[start..end];
        if chunk.len() > MAX_RULE_BYTES {
            let name_end = chunk.find('\n').unwrap_or(chunk.len()).min(200);
            let name_end = (0..=name_end).rev().find(|i| chunk.is_char_boundary(*i)).unwrap_or(0);
            diags.push(
                Diagnostic::error(codes::E0006, "the rule is too large")
                    .at(file, Span::new(start, start + name_end), format!("{} KiB of text", chunk.len() / 1024))
                    .help("a rule spans at most 1 MiB of text: split it into several rules, or move long lists into list(\"file\")"),
            );
            continue;
        }
        if let Some(at) = too_deep_at(chunk) {
            diags.push(
                Diagnostic::error(codes::E0002, "nesting is too deep")
                    .at(file, Span::new(start + at, start + at + 1), "nested more than 64 levels")
                    .help("split the condition with `let` bindings or separate rules"),
            );
            continue;
        }
        match Grammar::parse(Rule::rule_chunk, chunk) {
            Ok(pairs) => {
                let mut b = Builder { file, offset: start, diags: Vec::new() };
                if let Some(rule) = first_inner(pairs).map(|p| b.rule_decl(p)) {
                    rules.push(rule);
                }
                diags.append(&mut b.diags);
            }
            Err(e) => diags.push(syntax_error(file, text, start, &e)),
        }
    }
    (File { rules }, diags)
}

fn init_pest() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| pest::set_error_detail(true));
}

/// Byte offsets of the lines whose first word is the keyword `rule`: where the parser splits a
/// file into rules (each parsed alone), and where tools find a rule being typed.
pub fn chunk_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("rule")
            && !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        {
            starts.push(offset + (line.len() - trimmed.len()));
        }
        offset += line.len();
    }
    starts
}

/// The offset where brackets, blocks or interpolations nest deeper than [`MAX_DEPTH`] inside
/// a rule's body, found by a quick scan before pest (whose recursion must stay bounded too).
fn too_deep_at(text: &str) -> Option<usize> {
    // Each entry is the closing byte expected; `"` marks a string (not a level of its own:
    // an interpolation inside it is). The rule's own braces are not a level either.
    let mut stack: Vec<u8> = Vec::new();
    let mut depth = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if stack.last() == Some(&b'"') {
            match b {
                b'\\' => i += 1,
                b'"' | b'\n' => {
                    stack.pop();
                }
                b'$' if bytes.get(i + 1) == Some(&b'{') => {
                    stack.push(b'}');
                    depth += 1;
                    i += 1;
                }
                _ => {}
            }
        } else {
            match b {
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'"' => stack.push(b'"'),
                b'(' | b'[' | b'{' => {
                    stack.push(if b == b'(' { b')' } else { b + 2 });
                    depth += 1;
                }
                b')' | b']' | b'}' if stack.last() == Some(&b) => {
                    stack.pop();
                    depth -= 1;
                }
                _ => {}
            }
        }
        if depth > MAX_DEPTH + 1 {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn first_inner(mut pairs: Pairs<'_, Rule>) -> Option<Pair<'_, Rule>> {
    pairs.next()?.into_inner().next()
}

// ---------------------------------------------------------------------------------------------
// Syntax errors in words a user understands.

fn syntax_error(file: FileId, text: &str, offset: usize, e: &pest::error::Error<Rule>) -> Diagnostic {
    let pos = error_pos(e) + offset;
    let found = describe_found(text, pos);
    let mut expected: Vec<String> = Vec::new();
    if let ErrorVariant::ParsingError { positives, .. } = &e.variant {
        for r in positives {
            if let Some(w) = rule_words(*r)
                && !expected.contains(&w.to_string())
            {
                expected.push(w.to_string());
            }
        }
    }
    if let Some(attempts) = e.parse_attempts()
        && attempts.max_position + offset == pos
    {
        for t in attempts.expected_tokens() {
            let token = t.to_string();
            let w = format!("`{token}`");
            if ["{", "}", "=", ":", ",", ")", "]"].contains(&token.as_str()) && !expected.contains(&w) {
                expected.push(w);
            }
        }
    }
    if let Some(d) = hints::javascript(file, text, pos, expected.iter().any(|e| e == "an expression")) {
        return d;
    }
    let end = (pos + found.1).min(text.len());
    let message = if expected.is_empty() {
        format!("unexpected {}", found.0)
    } else {
        format!("expected {}, found {}", join_or(&expected), found.0)
    };
    let mut d = Diagnostic::error(codes::E0001, message).at(file, Span::new(pos, end), "unexpected here");
    d = d.help(syntax_help(text, pos, &expected));
    d
}

/// Where pest stopped, in the text it parsed.
fn error_pos(e: &pest::error::Error<Rule>) -> usize {
    match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    }
}

fn syntax_help(text: &str, pos: usize, expected: &[String]) -> String {
    let rest = &text[pos.min(text.len())..];
    if rest.starts_with("rule") && pos > 0 {
        return "is a `}` missing before this rule?".into();
    }
    if rest.starts_with('{') && expected.iter().any(|e| e == "a statement") {
        return "blocks follow `if` conditions; a rule body holds statements".into();
    }
    if rest.starts_with('=') && !rest.starts_with("==") {
        return "compare with `==`; `=` only assigns in `let`, `set`, `claim` and `persist`".into();
    }
    if expected.iter().any(|e| e == "a statement") {
        return "statements start with one of: when, let, if, deny, set, unset, claim, scope, mfa, redirect, persist, log".into();
    }
    "see docs/language.md for the syntax of each statement".into()
}

fn describe_found(text: &str, pos: usize) -> (String, usize) {
    let rest = &text[pos.min(text.len())..];
    let Some(c) = rest.chars().next() else {
        return ("end of file".into(), 0);
    };
    if c == '\n' || c == '\r' {
        return ("end of line".into(), 1);
    }
    if c.is_alphanumeric() || c == '_' {
        let word: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let len = word.len();
        return (format!("`{word}`"), len);
    }
    if invisible(c) {
        return (format!("the invisible character U+{:04X}", c as u32), c.len_utf8());
    }
    (format!("`{c}`"), c.len_utf8())
}

/// Characters that would show as nothing (or as a space) between backticks.
fn invisible(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
            | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}')
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// Grammar rules named in words; `None` for rules a user need not hear about.
fn rule_words(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::rule_decl | Rule::kw_rule => "`rule`",
        Rule::stmt => "a statement",
        Rule::expr | Rule::postfixed => "an expression",
        Rule::string => "a string",
        Rule::ident => "a name",
        Rule::field_name => "a field name",
        Rule::deny_code => "`unauthorized` or `access_denied`",
        Rule::token_kind => "`id_token` or `access_token`",
        Rule::scope_op => "`add`, `remove` or `set`",
        Rule::mfa_provider => "an MFA provider (`any`, `guardian`, `google-authenticator`, `duo`)",
        Rule::metadata => "`app_metadata` or `user_metadata`",
        Rule::modifier | Rule::kw_if | Rule::kw_unless => "`if` or `unless`",
        Rule::block => "`{`",
        Rule::kw_else => "`else`",
        Rule::kw_in | Rule::op_in => "`in`",
        Rule::kw_remember_browser => "`remember_browser`",
        Rule::kw_with => "`with`",
        Rule::mfa_option => "an option (`name: value`)",
        Rule::EOI => "end of file",
        Rule::op_or
        | Rule::op_and
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_ge
        | Rule::op_lt
        | Rule::op_gt
        | Rule::op_not_in
        | Rule::op_coalesce
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_rem => "an operator",
        Rule::escape => "an escape (`\\\"`, `\\\\`, `\\n`, `\\t`, `\\r`, `\\$`, `\\u{...}`)",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Pairs to AST.

struct Builder {
    file: FileId,
    offset: usize,
    diags: Vec<Diagnostic>,
}

fn pratt() -> &'static PrattParser<Rule> {
    static P: OnceLock<PrattParser<Rule>> = OnceLock::new();
    P.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::prefix(Rule::op_not))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left)
                | Op::infix(Rule::op_in, Assoc::Left)
                | Op::infix(Rule::op_not_in, Assoc::Left))
            .op(Op::infix(Rule::op_coalesce, Assoc::Right))
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left)
                | Op::infix(Rule::op_div, Assoc::Left)
                | Op::infix(Rule::op_rem, Assoc::Left))
            .op(Op::prefix(Rule::op_neg))
    })
}

impl Builder {
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        Span::new(p.as_span().start() + self.offset, end_of(p) + self.offset)
    }

    fn rule_decl(&mut self, p: Pair<'_, Rule>) -> Rule_ {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        inner.next(); // kw_rule
        let name_pair = inner.next().expect("grammar: rule name");
        let name_span = self.span(&name_pair);
        let name = self.plain_string(name_pair);
        let body = inner.map(|s| self.stmt(s, 0)).collect();
        Rule_ { name, name_span, span, body }
    }

    fn block(&mut self, p: Pair<'_, Rule>, depth: usize) -> Vec<Stmt> {
        p.into_inner().map(|s| self.stmt(s, depth + 1)).collect()
    }

    fn stmt(&mut self, p: Pair<'_, Rule>, depth: usize) -> Stmt {
        let span = self.span(&p);
        if depth > MAX_DEPTH {
            self.too_deep(span);
        }
        let mut inner = p.into_inner();
        let s = inner.next().expect("grammar: statement");
        let modifier = inner.next().map(|m| {
            let mspan = self.span(&m);
            let mut mi = m.into_inner();
            let unless = mi.next().expect("grammar: modifier keyword").as_rule() == Rule::kw_unless;
            let cond = self.expr(mi.next().expect("grammar: modifier condition"));
            Modifier { unless, cond, span: mspan }
        });
        let kind = self.stmt_kind(s, depth);
        Stmt { kind, modifier, span }
    }

    fn stmt_kind(&mut self, s: Pair<'_, Rule>, depth: usize) -> StmtKind {
        let rule = s.as_rule();
        let mut it = s.into_inner();
        it.next(); // the statement's keyword
        match rule {
            Rule::when_stmt => StmtKind::When(self.expr(next(&mut it))),
            Rule::let_stmt => {
                let name = self.ident(next(&mut it));
                StmtKind::Let { name, value: self.expr(next(&mut it)) }
            }
            Rule::if_stmt => self.if_stmt(it, depth),
            Rule::deny_stmt => {
                let mut code = None;
                let mut message = None;
                for p in it {
                    match p.as_rule() {
                        Rule::deny_code => {
                            let c = if p.as_str() == "unauthorized" {
                                DenyCode::Unauthorized
                            } else {
                                DenyCode::AccessDenied
                            };
                            code = Some((c, self.span(&p)));
                        }
                        _ => message = Some(self.expr(p)),
                    }
                }
                StmtKind::Deny { code, message }
            }
            Rule::set_stmt => {
                let target = self.target(next(&mut it));
                StmtKind::Set { target, value: self.expr(next(&mut it)) }
            }
            Rule::unset_stmt => StmtKind::Unset { target: self.target(next(&mut it)) },
            Rule::claim_stmt => {
                let token =
                    if next(&mut it).as_str() == "id_token" { TokenKind::IdToken } else { TokenKind::AccessToken };
                let name_pair = next(&mut it);
                let span = self.span(&name_pair);
                let parts = self.string_parts(name_pair);
                let name = StrLit { parts, span };
                StmtKind::Claim { token, name, value: self.expr(next(&mut it)) }
            }
            Rule::scope_stmt => {
                let op = match next(&mut it).as_str() {
                    "add" => ScopeOp::Add,
                    "remove" => ScopeOp::Remove,
                    _ => ScopeOp::Set,
                };
                StmtKind::Scope { op, values: it.map(|e| self.expr(e)).collect() }
            }
            Rule::mfa_stmt => {
                let pp = next(&mut it);
                let provider_span = self.span(&pp);
                let provider = pp.as_str().to_string();
                let mut remember = None;
                let mut options = Vec::new();
                while let Some(p) = it.next() {
                    match p.as_rule() {
                        Rule::kw_remember_browser => remember = Some(self.expr(next(&mut it))),
                        Rule::mfa_option => {
                            let mut o = p.into_inner();
                            let name = self.ident(next(&mut o));
                            options.push((name, self.expr(next(&mut o))));
                        }
                        _ => {} // kw_with
                    }
                }
                StmtKind::Mfa { provider, provider_span, remember, options }
            }
            Rule::redirect_stmt => StmtKind::Redirect(self.expr(next(&mut it))),
            Rule::persist_stmt => {
                let metadata = if next(&mut it).as_str() == "app_metadata" { Metadata::App } else { Metadata::User };
                let mut rest: Vec<Pair<'_, Rule>> = it.collect();
                let value = rest.pop().expect("grammar: persist has a value");
                let mut keys = rest.into_iter();
                let Ident { name: key, span: key_span } = self.key(keys.next().expect("grammar: persist has a key"));
                let path = keys.map(|k| self.key(k)).collect();
                StmtKind::Persist { metadata, key, key_span, path, value: self.expr(value) }
            }
            Rule::log_stmt => StmtKind::Log(self.expr(next(&mut it))),
            other => unreachable!("grammar: unexpected statement {other:?}"),
        }
    }

    fn if_stmt(&mut self, mut it: Pairs<'_, Rule>, depth: usize) -> StmtKind {
        let cond = self.expr(next(&mut it));
        let then = self.block(next(&mut it), depth);
        let otherwise = it.find(|p| p.as_rule() != Rule::kw_else).map(|p| match p.as_rule() {
            Rule::block => self.block(p, depth),
            _ => {
                let span = self.span(&p);
                let mut inner = p.into_inner();
                inner.next(); // kw_if
                let kind = self.if_stmt(inner, depth + 1);
                vec![Stmt { kind, modifier: None, span }]
            }
        });
        StmtKind::If { cond, then, otherwise }
    }

    fn target(&mut self, p: Pair<'_, Rule>) -> Target {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let root = self.ident(next(&mut it));
        let path = it.map(|p| self.key(p)).collect();
        Target { root, path, span }
    }

    /// A key written as a name or as a string (`user.app_metadata."plan-2"`, `{ "a-b": 1 }`).
    fn key(&mut self, p: Pair<'_, Rule>) -> Ident {
        let span = self.span(&p);
        let name = match p.as_rule() {
            Rule::string => self.plain_string(p),
            _ => p.as_str().to_string(),
        };
        Ident { name, span }
    }

    fn ident(&self, p: Pair<'_, Rule>) -> Ident {
        Ident { name: p.as_str().to_string(), span: self.span(&p) }
    }

    fn too_deep(&mut self, span: Span) {
        if !self.diags.iter().any(|d| d.code == codes::E0002) {
            self.diags.push(
                Diagnostic::error(codes::E0002, "nesting is too deep")
                    .at(self.file, span, "nested more than 64 levels")
                    .help("split the condition with `let` bindings or separate rules"),
            );
        }
    }

    fn expr(&mut self, p: Pair<'_, Rule>) -> Expr {
        let e = self.expr_at(p);
        // 64 levels of nesting around an innermost operand.
        if depth_exceeds(&e, MAX_DEPTH + 1) {
            self.too_deep(e.span);
            return Expr { kind: ExprKind::Null, span: e.span };
        }
        e
    }

    fn expr_at(&mut self, p: Pair<'_, Rule>) -> Expr {
        // pest's Pratt parser recurses on prefix and right-associative operators: bound them.
        let (mut run, mut longest_run, mut right_assoc, mut infix) = (0, 0, 0, 0);
        for pair in p.clone().into_inner() {
            match pair.as_rule() {
                Rule::op_not | Rule::op_neg => run += 1,
                Rule::postfixed => run = 0,
                Rule::op_coalesce => right_assoc += 1,
                _ => infix += 1,
            }
            longest_run = longest_run.max(run);
        }
        if longest_run > MAX_DEPTH || right_assoc > MAX_DEPTH || infix > 16 * MAX_DEPTH {
            let span = self.span(&p);
            self.too_deep(span);
            return Expr { kind: ExprKind::Null, span };
        }
        let this = std::cell::RefCell::new(self);
        pratt()
            .map_primary(|p| this.borrow_mut().postfixed(p))
            .map_prefix(|op, rhs| {
                let span = this.borrow().span(&op).to(rhs.span);
                let op = if op.as_rule() == Rule::op_not { UnOp::Not } else { UnOp::Neg };
                Expr { kind: ExprKind::Unary(op, Box::new(rhs)), span }
            })
            .map_infix(|lhs, op, rhs| {
                let span = lhs.span.to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_or => BinOp::Or,
                    Rule::op_and => BinOp::And,
                    Rule::op_eq => BinOp::Eq,
                    Rule::op_ne => BinOp::Ne,
                    Rule::op_lt => BinOp::Lt,
                    Rule::op_le => BinOp::Le,
                    Rule::op_gt => BinOp::Gt,
                    Rule::op_ge => BinOp::Ge,
                    Rule::op_in => BinOp::In,
                    Rule::op_not_in => BinOp::NotIn,
                    Rule::op_coalesce => BinOp::Coalesce,
                    Rule::op_add => BinOp::Add,
                    Rule::op_sub => BinOp::Sub,
                    Rule::op_mul => BinOp::Mul,
                    Rule::op_div => BinOp::Div,
                    _ => BinOp::Rem,
                };
                Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span }
            })
            .parse(p.into_inner())
    }

    fn postfixed(&mut self, p: Pair<'_, Rule>) -> Expr {
        let mut it = p.into_inner();
        let mut e = self.primary(next(&mut it));
        for post in it {
            let span = e.span.to(self.span(&post));
            let inner = post.clone().into_inner().next().expect("grammar: postfix operand");
            e = match post.as_rule() {
                Rule::field => Expr { kind: ExprKind::Field(Box::new(e), self.ident(inner)), span },
                _ => Expr { kind: ExprKind::Index(Box::new(e), Box::new(self.expr(inner))), span },
            };
        }
        e
    }

    fn primary(&mut self, p: Pair<'_, Rule>) -> Expr {
        let span = self.span(&p);
        let kind = match p.as_rule() {
            Rule::expr => return self.expr(p),
            Rule::int => match p.as_str().parse::<i64>() {
                Ok(n) => ExprKind::Int(n),
                Err(_) => {
                    self.diags.push(
                        Diagnostic::error(codes::E0003, "integer literal is too large")
                            .at(self.file, span, "does not fit in 64 bits")
                            .help("integers range from -9223372036854775808 to 9223372036854775807"),
                    );
                    ExprKind::Int(0)
                }
            },
            Rule::float => ExprKind::Float(p.as_str().parse::<f64>().unwrap_or(f64::NAN)),
            Rule::string => ExprKind::Str(self.string_parts(p)),
            Rule::kw_true => ExprKind::Bool(true),
            Rule::kw_false => ExprKind::Bool(false),
            Rule::kw_null => ExprKind::Null,
            Rule::ident => ExprKind::Var(self.ident(p)),
            Rule::list => {
                let mut items = Vec::new();
                let mut comp = None;
                for inner in p.into_inner() {
                    match inner.as_rule() {
                        Rule::comp_for => comp = Some(inner),
                        _ => items.push(self.expr(inner)),
                    }
                }
                match (comp, items.pop()) {
                    (Some(c), Some(body)) => {
                        let mut it = c.into_inner();
                        it.next(); // kw_for
                        let var = self.ident(next(&mut it));
                        it.next(); // kw_in
                        let list = self.expr(next(&mut it));
                        let filter = it.find(|p| p.as_rule() == Rule::expr).map(|f| Box::new(self.expr(f)));
                        ExprKind::Comp { body: Box::new(body), var, list: Box::new(list), filter }
                    }
                    (_, last) => {
                        items.extend(last);
                        ExprKind::List(items)
                    }
                }
            }
            Rule::object => ExprKind::Object(
                p.into_inner()
                    .map(|m| {
                        let mut it = m.into_inner();
                        let key = self.key(next(&mut it));
                        (key, self.expr(next(&mut it)))
                    })
                    .collect(),
            ),
            Rule::call => {
                let mut it = p.into_inner();
                let name = self.ident(next(&mut it));
                ExprKind::Call(name, it.map(|e| self.expr(e)).collect())
            }
            Rule::quantifier => {
                let mut it = p.into_inner();
                let kind = if next(&mut it).as_rule() == Rule::kw_any { Quantifier::Any } else { Quantifier::All };
                let var = self.ident(next(&mut it));
                it.next(); // kw_in
                let list = self.postfixed(next(&mut it));
                let body = self.expr(next(&mut it));
                ExprKind::Quant { kind, var, list: Box::new(list), body: Box::new(body) }
            }
            other => unreachable!("grammar: unexpected primary {other:?}"),
        };
        Expr { kind, span }
    }

    /// A string literal's text and interpolations.
    fn string_parts(&mut self, p: Pair<'_, Rule>) -> Vec<StrPart> {
        let mut parts: Vec<StrPart> = Vec::new();
        let mut text = String::new();
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::str_chars => text.push_str(part.as_str()),
                Rule::escape => match unescape(part.as_str()) {
                    Some(c) => text.push(c),
                    None => {
                        let span = self.span(&part);
                        self.diags.push(
                            Diagnostic::error(codes::E0005, format!("invalid escape `{}`", part.as_str()))
                                .at(self.file, span, "not a Unicode scalar value")
                                .help("`\\u{...}` takes a code point from 0 to 10FFFF, outside the surrogates D800 to DFFF"),
                        );
                        text.push('\u{FFFD}');
                    }
                },
                _ => {
                    if !text.is_empty() {
                        parts.push(StrPart::Text(std::mem::take(&mut text)));
                    }
                    let e = part.into_inner().next().expect("grammar: interpolated expression");
                    parts.push(StrPart::Interp(self.expr(e)));
                }
            }
        }
        if !text.is_empty() || parts.is_empty() {
            parts.push(StrPart::Text(text));
        }
        parts
    }

    /// A string that may not interpolate (rule names, keys).
    fn plain_string(&mut self, p: Pair<'_, Rule>) -> String {
        let span = self.span(&p);
        let parts = self.string_parts(p);
        let mut out = String::new();
        for part in parts {
            match part {
                StrPart::Text(t) => out.push_str(&t),
                StrPart::Interp(_) => {
                    self.diags.push(
                        Diagnostic::error(codes::E0004, "interpolation is not allowed here")
                            .at(self.file, span, "must be a plain string")
                            .help("names and keys are fixed when the rule is compiled; escape a literal `$` as `\\$`"),
                    );
                }
            }
        }
        out
    }
}

type Rule_ = crate::ast::Rule;

/// Where a pair's text really ends: rules that end in an optional part carry the white space
/// pest skipped before trying it, so their end is their last child's.
fn end_of(p: &Pair<'_, Rule>) -> usize {
    match p.as_rule() {
        Rule::stmt | Rule::deny_stmt | Rule::if_stmt | Rule::mfa_stmt => {
            p.clone().into_inner().last().map_or(p.as_span().end(), |last| end_of(&last))
        }
        _ => p.as_span().end(),
    }
}

fn next<'i>(it: &mut Pairs<'i, Rule>) -> Pair<'i, Rule> {
    it.next().expect("grammar guarantees this child")
}

/// The character an escape stands for; `None` for a `\u{...}` that is not a Unicode scalar
/// value (a surrogate, or past U+10FFFF).
fn unescape(s: &str) -> Option<char> {
    Some(match &s[1..] {
        "n" => '\n',
        "t" => '\t',
        "r" => '\r',
        "\"" => '"',
        "\\" => '\\',
        "$" => '$',
        u => u
            .strip_prefix("u{")
            .and_then(|h| h.strip_suffix('}'))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)?,
    })
}

/// Whether an expression nests deeper than `limit` (stops looking at `limit`).
fn depth_exceeds(e: &Expr, limit: usize) -> bool {
    if limit == 0 {
        return true;
    }
    let l = limit - 1;
    match &e.kind {
        ExprKind::Str(parts) => parts.iter().any(|p| matches!(p, StrPart::Interp(e) if depth_exceeds(e, l))),
        ExprKind::List(items) | ExprKind::Call(_, items) => items.iter().any(|e| depth_exceeds(e, l)),
        ExprKind::Field(e, _) | ExprKind::Unary(_, e) => depth_exceeds(e, l),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => depth_exceeds(a, l) || depth_exceeds(b, l),
        ExprKind::Quant { list, body, .. } => depth_exceeds(list, l) || depth_exceeds(body, l),
        ExprKind::Comp { body, list, filter, .. } => {
            depth_exceeds(body, l) || depth_exceeds(list, l) || filter.as_ref().is_some_and(|f| depth_exceeds(f, l))
        }
        ExprKind::Object(members) => members.iter().any(|(_, e)| depth_exceeds(e, l)),
        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) | ExprKind::Null | ExprKind::Var(_) => false,
    }
}

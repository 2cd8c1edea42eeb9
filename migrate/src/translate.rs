//! JavaScript rule to `.rule`: a syntax-directed translation of the subset of JavaScript that
//! real Auth0 rules are written in, with a model of what JavaScript does at run time (which
//! values may be missing, what is truthy, where JavaScript throws) so that the `.rule` does
//! the same. What the model cannot follow is refused with the line and the reason; what it
//! can is then proven by running both (`crate::prove`): a translation is never kept on the
//! strength of this module alone.
//!
//! The JavaScript is parsed by `oxc_parser` (ARCHITECTURE.md says why).

use std::collections::{BTreeMap, BTreeSet};

use oxc_allocator::Allocator;
use oxc_ast::ast::*;
use oxc_span::{GetSpan, SourceType, Span};
use serde_json::Value as Json;
use warden::FieldType;

/// A statement the translation could not carry over, with its line in the JavaScript file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub line: usize,
    pub why: String,
}

/// What translating one JavaScript rule gave.
#[derive(Clone, Debug)]
pub struct Translation {
    /// The rule's name in the `.rule` (the manifest's name for it, or the function's).
    pub name: String,
    /// The `.rule` text, when nothing was refused.
    pub rule: Option<String>,
    /// Why the rule stays JavaScript, line by line (empty when `rule` is `Some`).
    pub refusals: Vec<Refusal>,
    /// The input paths the rule reads (`user.email`, `context.request.ip` ...): where the
    /// proof's logins vary.
    pub reads: BTreeSet<String>,
    /// The literals the rule compares with or builds from (strings and numbers): the proof's
    /// logins are built around them and their near misses.
    pub literals: BTreeSet<String>,
    /// The literals each input path is compared with (`context.clientName` → `Payroll`):
    /// the proof's logins give the path those values most often.
    pub compared: BTreeMap<String, BTreeSet<String>>,
    /// Whether the rule reads the clock (the proof varies `now`).
    pub uses_time: bool,
    /// `configuration.X` keys the rule reads.
    pub config_keys: BTreeSet<String>,
}

/// Translates one legacy rule. `name` is the rule's name in the pipeline (the manifest's), or
/// `None` for the function's name; `source_name` goes into the header of the `.rule`.
pub fn translate(text: &str, name: Option<&str>, source_name: &str) -> Translation {
    // The parser and the translation recurse over the syntax tree: their depth is bounded by
    // the size and nesting checked here, and they run on a thread with a stack to match, so
    // that no input can overflow a stack.
    let limited = |why: String| {
        let mut t = Translator::new(text);
        t.refuse_at(0, why);
        t.finish(name.map(str::to_string).unwrap_or_else(|| "rule".into()), None, source_name)
    };
    if text.len() > MAX_SOURCE {
        return limited(format!("the file is larger than {} KiB (Auth0 allowed 100 KB per rule)", MAX_SOURCE >> 10));
    }
    if nesting(text) > MAX_NESTING {
        return limited(format!("brackets nest deeper than {MAX_NESTING} levels"));
    }
    let (text_owned, name_owned, source_owned) = (text.to_string(), name.map(str::to_string), source_name.to_string());
    let run = std::thread::Builder::new()
        .name("warden-migrate-translate".into())
        .stack_size(256 << 20)
        .spawn(move || translate_here(&text_owned, name_owned.as_deref(), &source_owned));
    match run.map(|h| h.join()) {
        Ok(Ok(t)) => t,
        _ => limited("the translation could not run (a thread could not be started)".into()),
    }
}

/// The largest rule translated (Auth0's own limit was 100 KB).
const MAX_SOURCE: usize = 128 * 1024;
/// The deepest expression translated (the `.rule` allows 64 levels of nesting).
const MAX_EXPR_DEPTH: usize = 200;
/// The deepest nesting of brackets translated.
const MAX_NESTING: usize = 256;

/// How deep `(`, `[` and `{` nest in `text` (counted everywhere, strings included: a bound,
/// not a parse).
fn nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn translate_here(text: &str, name: Option<&str>, source_name: &str) -> Translation {
    let alloc = Allocator::default();
    let mut t = Translator::new(text);
    let mut rule_name = name.map(str::to_string).unwrap_or_else(|| "rule".into());
    // A rule is a function declaration (`function name(user, context, callback) {...}`) or an
    // anonymous function expression; the latter is not a statement, so it is parsed wrapped in
    // parentheses (one byte before the text: positions shift by one).
    let parsed = oxc_parser::Parser::new(&alloc, text, SourceType::cjs()).parse();
    let mut offset = 0;
    let wrapped;
    let program = if parsed.diagnostics.is_empty() && !parsed.panicked {
        parsed.program
    } else {
        wrapped = format!("({text}\n)");
        let again = oxc_parser::Parser::new(&alloc, &wrapped, SourceType::cjs()).parse();
        if !again.diagnostics.is_empty() || again.panicked {
            let first = parsed.diagnostics.first().map(|d| d.to_string()).unwrap_or_else(|| "a syntax error".into());
            t.refuse_at(0, format!("the file does not parse as JavaScript: {first}"));
            return t.finish(rule_name, None, source_name);
        }
        offset = 1;
        again.program
    };
    t.offset = offset;
    t.comments = program.comments.iter().map(|c| (c.span.start, c.span.end)).collect();
    let function = program.body.iter().find_map(|s| match s {
        Statement::FunctionDeclaration(f) => Some(&**f),
        Statement::ExpressionStatement(e) => match e.expression.without_parentheses() {
            Expression::FunctionExpression(f) => Some(&**f),
            _ => None,
        },
        _ => None,
    });
    let Some(function) = function else {
        t.refuse_at(0, "the file holds no rule function (`function (user, context, callback) { ... }`)".into());
        return t.finish(rule_name, None, source_name);
    };
    if program.body.len() > 1 {
        t.refuse_at(
            program.body[1].span().start,
            "code outside the rule function (it runs once per runtime in Auth0, and no `.rule` has such a place)"
                .into(),
        );
    }
    if name.is_none()
        && let Some(id) = &function.id
    {
        rule_name = id.name.to_string();
    }
    let header = t.leading_comment(function.span.start);
    let out = t.function(function);
    let body = out.map(|o| (header, o));
    t.finish(rule_name, body, source_name)
}

// ---- the model of values ------------------------------------------------------------------

/// What the translation knows of a JavaScript value's type.
#[derive(Clone, Debug, PartialEq)]
enum Ty {
    Bool,
    Int,
    Num,
    Str,
    Time,
    List(Box<Ty>),
    Obj,
    Any,
}

impl Ty {
    fn of(f: FieldType) -> Ty {
        match f {
            FieldType::Bool => Ty::Bool,
            FieldType::Int => Ty::Int,
            FieldType::Float => Ty::Num,
            FieldType::Str | FieldType::OneOf(_) => Ty::Str,
            FieldType::Time => Ty::Time,
            FieldType::List(t) => Ty::List(Box::new(Ty::of(*t))),
            FieldType::Object => Ty::Obj,
            FieldType::Any => Ty::Any,
        }
    }
    fn is_num(&self) -> bool {
        matches!(self, Ty::Int | Ty::Num)
    }
}

/// Precedence of a `.rule` expression, loosest first (docs/language.md, "Expressions").
const P_QUANT: u8 = 0;
const P_OR: u8 = 1;
const P_AND: u8 = 2;
const P_NOT: u8 = 3;
const P_CMP: u8 = 4;
const P_COALESCE: u8 = 5;
const P_ADD: u8 = 6;
const P_MUL: u8 = 7;
const P_ATOM: u8 = 9;

/// A JavaScript value as the `.rule` computes it.
#[derive(Clone, Debug)]
struct V {
    code: String,
    prec: u8,
    ty: Ty,
    /// Never `undefined`/`null` in JavaScript (so never missing in the `.rule`).
    present: bool,
    /// The input path it reads, when it is one (`user.email`).
    path: Option<String>,
    /// `X || {}`: JavaScript's fallback object; reading a field of it reads `X`'s.
    or_empty: bool,
    /// A literal's JSON value (constants fold into claim names and the like).
    konst: Option<Json>,
    /// Special JavaScript objects the translation follows.
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Plain,
    /// `new Date()`: the clock.
    Now,
    /// `new Date(x)`: an instant read from data (its `.rule` code is `millis(x)`).
    Date,
    /// `require('ipaddr.js')`.
    IpAddrModule,
    /// `ipaddr.process(x)`: an address (its `.rule` code is the address text).
    IpAddr,
    /// `ipaddr.parseCIDR('10.0.0.0/8')`: a network (its code is the CIDR literal).
    Cidr,
    /// `auth0.users` or `auth0`.
    Auth0,
    /// A name whose declaration was refused: its uses say nothing more.
    Refused,
}

impl V {
    fn new(code: impl Into<String>, prec: u8, ty: Ty, present: bool) -> V {
        V { code: code.into(), prec, ty, present, path: None, or_empty: false, konst: None, kind: Kind::Plain }
    }
    fn at(&self, min: u8) -> String {
        if self.prec < min { format!("({})", self.code) } else { self.code.clone() }
    }
    fn kind(mut self, kind: Kind) -> V {
        self.kind = kind;
        self
    }
}

/// A condition: `.rule` code that is `true` or `false` exactly when JavaScript's is truthy or
/// falsy, and its negation written readably.
#[derive(Clone, Debug)]
struct Cond {
    code: String,
    prec: u8,
    neg: String,
    neg_prec: u8,
}

impl Cond {
    fn new(code: String, prec: u8, neg: String, neg_prec: u8) -> Cond {
        Cond { code, prec, neg, neg_prec }
    }
    fn plain(code: String, prec: u8) -> Cond {
        let neg = format!("not {}", wrap(&code, prec, P_NOT + 1));
        Cond { code, prec, neg, neg_prec: P_NOT }
    }
    fn not(self) -> Cond {
        Cond { code: self.neg, prec: self.neg_prec, neg: self.code, neg_prec: self.prec }
    }
    fn at(&self, min: u8) -> String {
        wrap(&self.code, self.prec, min)
    }
}

fn wrap(code: &str, prec: u8, min: u8) -> String {
    if prec < min { format!("({code})") } else { code.to_string() }
}

/// Facts that hold on a path through the rule: values known to be present (truthy).
#[derive(Clone, Debug, Default)]
struct Facts {
    present: BTreeSet<String>,
}

/// A name the rule binds.
#[derive(Clone, Debug)]
struct Binding {
    value: V,
}

/// A line of `.rule` output (rendered with indentation at the end).
#[derive(Clone, Debug)]
enum Out {
    Line(String),
    Comment(String),
    If { cond: String, then: Vec<Out>, otherwise: Option<Vec<Out>> },
}

struct Translator<'s> {
    text: &'s str,
    offset: u32,
    comments: Vec<(u32, u32)>,
    /// Comments already placed in the output.
    placed: BTreeSet<u32>,
    refusals: Vec<Refusal>,
    scopes: Vec<BTreeMap<String, Binding>>,
    /// `.rule` names in use (lets and quantifier variables), to keep them unique.
    names: BTreeSet<String>,
    user: String,
    context: String,
    callback: String,
    reads: BTreeSet<String>,
    literals: BTreeSet<String>,
    compared: BTreeMap<String, BTreeSet<String>>,
    uses_time: bool,
    config_keys: BTreeSet<String>,
    /// Whether the rule saves `user.app_metadata` / `user.user_metadata` whole
    /// (`updateAppMetadata(user.user_id, user.app_metadata)`): writes into them become
    /// `persist` statements.
    persists_app: bool,
    persists_user: bool,
    /// Names of JavaScript variables assigned after their declaration.
    reassigned: BTreeSet<String>,
    /// How deep the translation of expressions and blocks is (bounded: `MAX_EXPR_DEPTH`).
    depth: usize,
}

/// Input paths Auth0 always sends: reading a field of these never throws in JavaScript, and
/// the proof's logins always have them.
pub const ALWAYS_PRESENT: &[&str] = &[
    "user",
    "context",
    "user.user_id",
    "context.clientID",
    "context.clientName",
    "context.connection",
    "context.protocol",
    "context.request",
    "context.request.ip",
    "context.request.query",
    "context.request.body",
    "context.idToken",
    "context.accessToken",
    "context.stats",
    "context.authorization",
    "context.authorization.roles",
];

const KEYWORDS: &[&str] = &[
    "rule",
    "when",
    "let",
    "if",
    "else",
    "unless",
    "deny",
    "set",
    "unset",
    "claim",
    "scope",
    "mfa",
    "redirect",
    "persist",
    "log",
    "and",
    "or",
    "not",
    "in",
    "any",
    "all",
    "for",
    "true",
    "false",
    "null",
    "with",
    "remember_browser",
    "user",
    "context",
    "config",
];

/// JavaScript's `getUTCDay()` numbering, as a `.rule` list `index_of` reads.
const WEEKDAYS: &str = r#"["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]"#;

type R<T> = Result<T, ()>;

impl<'s> Translator<'s> {
    fn new(text: &'s str) -> Translator<'s> {
        Translator {
            text,
            offset: 0,
            comments: Vec::new(),
            placed: BTreeSet::new(),
            refusals: Vec::new(),
            scopes: vec![BTreeMap::new()],
            names: BTreeSet::new(),
            user: "user".into(),
            context: "context".into(),
            callback: "callback".into(),
            reads: BTreeSet::new(),
            literals: BTreeSet::new(),
            compared: BTreeMap::new(),
            uses_time: false,
            config_keys: BTreeSet::new(),
            persists_app: false,
            persists_user: false,
            reassigned: BTreeSet::new(),
            depth: 0,
        }
    }

    fn line_of(&self, pos: u32) -> usize {
        let pos = (pos.saturating_sub(self.offset) as usize).min(self.text.len());
        self.text.as_bytes()[..pos].iter().filter(|b| **b == b'\n').count() + 1
    }

    fn refuse_at(&mut self, pos: u32, why: String) {
        let line = self.line_of(pos);
        if !self.refusals.iter().any(|r| r.line == line && r.why == why) {
            self.refusals.push(Refusal { line, why });
        }
    }

    /// Refuses at `span` and gives up on the construct.
    fn no<T>(&mut self, span: Span, why: impl Into<String>) -> R<T> {
        self.refuse_at(span.start, why.into());
        Err(())
    }

    fn src(&self, span: Span) -> &'s str {
        let (s, e) =
            ((span.start.saturating_sub(self.offset)) as usize, (span.end.saturating_sub(self.offset)) as usize);
        self.text.get(s..e.min(self.text.len())).unwrap_or("")
    }

    /// A short quote of the JavaScript at `span`, for refusals.
    fn quote(&self, span: Span) -> String {
        let s: String = self.src(span).split_whitespace().collect::<Vec<_>>().join(" ");
        if s.chars().count() > 60 {
            format!("`{}…`", s.chars().take(57).collect::<String>())
        } else {
            format!("`{s}`")
        }
    }

    fn finish(mut self, name: String, body: Option<(Vec<String>, Vec<Out>)>, source_name: &str) -> Translation {
        self.refusals.sort_by_key(|r| r.line);
        let rule = match body {
            Some((header, out)) if self.refusals.is_empty() => {
                let mut text = format!(
                    "# Translated from {source_name} by `warden migrate translate`; proven equal to it on\n# generated logins before it was written (docs/migrating.md).\n"
                );
                if !header.is_empty() {
                    text.push_str("#\n");
                    for line in header {
                        text.push_str(&comment_line(&line));
                    }
                }
                text.push_str(&format!("rule {} {{\n", string_literal(&name)));
                render(&prune_lets(out), 1, &mut text);
                text.push_str("}\n");
                // Written in `warden fmt`'s layout, so that a translated file passes
                // `warden fmt --check`. The proof runs on the formatted text; a text the
                // formatter refuses (it would be a translation that does not parse) is kept
                // as it is, and the proof's check reports it.
                Some(warden::format_source(&text).unwrap_or(text))
            }
            _ => None,
        };
        Translation {
            name,
            rule,
            refusals: self.refusals,
            reads: self.reads,
            literals: self.literals,
            compared: self.compared,
            uses_time: self.uses_time,
            config_keys: self.config_keys,
        }
    }

    // ---- comments ----------------------------------------------------------------------------

    /// The text of a comment, without its markers, one entry per line.
    fn comment_text(&self, (s, e): (u32, u32)) -> Vec<String> {
        let raw = self.src(Span::new(s, e));
        let body = if let Some(b) = raw.strip_prefix("//") {
            b.to_string()
        } else {
            raw.trim_start_matches("/*").trim_start_matches('*').trim_end_matches("*/").to_string()
        };
        let lines: Vec<String> = body
            .lines()
            .map(|l| {
                let l = l.trim();
                let l = l.strip_prefix("* ").or_else(|| l.strip_prefix('*')).unwrap_or(l);
                l.trim_end().to_string()
            })
            .collect();
        let start = lines.iter().position(|l| !l.is_empty()).unwrap_or(lines.len());
        let end = lines.iter().rposition(|l| !l.is_empty()).map_or(start, |e| e + 1);
        lines[start..end].to_vec()
    }

    /// The comments before the function (its description), marked as placed.
    fn leading_comment(&mut self, before: u32) -> Vec<String> {
        let mut out = Vec::new();
        for c in self.comments.clone() {
            if c.1 <= before && self.placed.insert(c.0) {
                out.extend(self.comment_text(c));
            }
        }
        out
    }

    /// The comments not yet placed that end before `pos`, as `.rule` comment lines.
    fn comments_before(&mut self, pos: u32, out: &mut Vec<Out>) {
        for c in self.comments.clone() {
            if c.1 <= pos && !self.placed.contains(&c.0) {
                self.placed.insert(c.0);
                for line in self.comment_text(c) {
                    out.push(Out::Comment(line));
                }
            }
        }
    }

    // ---- names ---------------------------------------------------------------------------------

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    /// A `.rule` name for a JavaScript one: the same unless it is a keyword or taken.
    fn fresh(&mut self, js: &str) -> String {
        let mut base: String =
            js.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
        if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
            base.insert(0, 'v');
        }
        let mut name = base.clone();
        let mut n = 1;
        while KEYWORDS.contains(&name.as_str()) || self.names.contains(&name) {
            n += 1;
            name = if n == 2 && KEYWORDS.contains(&base.as_str()) { format!("{base}_") } else { format!("{base}_{n}") };
        }
        self.names.insert(name.clone());
        name
    }

    fn bind(&mut self, js: &str, b: Binding) {
        if let Some(s) = self.scopes.last_mut() {
            s.insert(js.to_string(), b);
        }
    }

    // ---- the function --------------------------------------------------------------------------

    fn function(&mut self, f: &Function) -> Option<Vec<Out>> {
        let params: Vec<Option<String>> = f
            .params
            .items
            .iter()
            .map(|p| match &p.pattern {
                BindingPattern::BindingIdentifier(id) => Some(id.name.to_string()),
                _ => None,
            })
            .collect();
        if params.len() != 3 || params.iter().any(Option::is_none) || f.params.rest.is_some() {
            self.refuse_at(f.span.start, "the rule function does not take (user, context, callback)".into());
            return None;
        }
        self.user = params[0].clone().unwrap_or_default();
        self.context = params[1].clone().unwrap_or_default();
        self.callback = params[2].clone().unwrap_or_default();
        if f.generator {
            self.refuse_at(f.span.start, "a generator function".into());
            return None;
        }
        let body = f.body.as_ref()?;
        self.prescan(self.src(body.span));
        let stmts: Vec<&Statement> = body.statements.iter().collect();
        let facts = Facts::default();
        match self.block(&stmts, &facts, true, body.span.end) {
            Ok((out, ends)) => {
                if !ends {
                    self.refuse_at(
                        body.span.end.saturating_sub(1),
                        "a path through the rule ends without calling callback (Auth0 waits for it until the login times out)".into(),
                    );
                    return None;
                }
                Some(out)
            }
            Err(()) => None,
        }
    }

    /// What a textual look at the body settles before translating: whole-metadata saves and
    /// variables assigned after their declaration.
    fn prescan(&mut self, body: &str) {
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let u = &self.user;
        self.persists_app = compact.contains(&format!("updateAppMetadata({u}.user_id,{u}.app_metadata"));
        self.persists_user = compact.contains(&format!("updateUserMetadata({u}.user_id,{u}.user_metadata"));
    }

    /// Translates statements in order; `Ok((out, ends))` where `ends` says every path through
    /// them called callback.
    fn block(&mut self, stmts: &[&Statement], facts: &Facts, top: bool, end: u32) -> R<(Vec<Out>, bool)> {
        if self.depth >= MAX_EXPR_DEPTH {
            let at = stmts.first().map_or(end, |s| s.span().start);
            self.refuse_at(at, format!("statements nested deeper than {MAX_EXPR_DEPTH} levels"));
            return Err(());
        }
        self.depth += 1;
        let r = self.block_inner(stmts, facts, top, end);
        self.depth -= 1;
        r
    }

    fn block_inner(&mut self, stmts: &[&Statement], facts: &Facts, top: bool, end: u32) -> R<(Vec<Out>, bool)> {
        let mut out = Vec::new();
        let mut facts = facts.clone();
        let mut i = 0;
        let mut failed = false;
        while i < stmts.len() {
            let s = stmts[i];
            self.comments_before(s.span().start, &mut out);
            let rest = &stmts[i + 1..];
            let rest_end = end;
            match self.statement(s, rest, &mut facts, top, rest_end, &mut out) {
                Ok(Flow::Next) => i += 1,
                Ok(Flow::Ended) => {
                    // What follows an ended path never runs (`return callback(...)`); a `return;`
                    // after a callback is fine, anything else is a second callback or dead code.
                    if let Some(next) = rest.iter().find(|n| !matches!(n, Statement::EmptyStatement(_))) {
                        let is_bare_return = matches!(next, Statement::ReturnStatement(r) if r.argument.is_none());
                        if !is_bare_return || rest.len() > 1 {
                            return self.no(
                                next.span(),
                                "code after the rule has called callback (it runs in Auth0, after the login went on)",
                            );
                        }
                    }
                    self.comments_before(end, &mut out);
                    return if failed { Err(()) } else { Ok((out, true)) };
                }
                Ok(Flow::Consumed(ends)) => {
                    self.comments_before(end, &mut out);
                    return if failed { Err(()) } else { Ok((out, ends)) };
                }
                Err(()) => {
                    // Keep going, so that every refusal in the rule is reported at once, unless
                    // the statement went on with the rest of the block itself.
                    let consumes = matches!(
                        s,
                        Statement::IfStatement(_)
                            | Statement::TryStatement(_)
                            | Statement::BlockStatement(_)
                            | Statement::ReturnStatement(_)
                    ) || matches!(s, Statement::ExpressionStatement(e) if matches!(e.expression.without_parentheses(), Expression::CallExpression(_)));
                    if consumes {
                        return Err(());
                    }
                    failed = true;
                    i += 1;
                }
            }
        }
        self.comments_before(end, &mut out);
        if failed { Err(()) } else { Ok((out, false)) }
    }

    fn statement(
        &mut self,
        s: &Statement,
        rest: &[&Statement],
        facts: &mut Facts,
        top: bool,
        end: u32,
        out: &mut Vec<Out>,
    ) -> R<Flow> {
        match s {
            Statement::EmptyStatement(_) => Ok(Flow::Next),
            Statement::BlockStatement(b) => {
                let inner: Vec<&Statement> = b.body.iter().chain(rest.iter().copied()).collect();
                self.scopes.push(BTreeMap::new());
                let r = self.block(&inner, facts, top, end);
                self.scopes.pop();
                let (o, ends) = r?;
                out.extend(o);
                Ok(Flow::Consumed(ends))
            }
            Statement::VariableDeclaration(d) => {
                self.declaration(d, facts, out)?;
                Ok(Flow::Next)
            }
            Statement::FunctionDeclaration(f) => {
                self.no(f.span, "a function declared inside the rule (.rule has no functions of its own)")
            }
            Statement::ReturnStatement(r) => match &r.argument {
                Some(e) => self.terminal(e, rest, facts, top, end, out),
                None => self.no(r.span, "`return` without calling callback (Auth0 waits for the callback until the login times out)"),
            },
            Statement::ExpressionStatement(e) => self.expression_statement(&e.expression, rest, facts, top, end, out),
            Statement::IfStatement(i) => self.if_statement(i, rest, facts, top, end, out),
            Statement::TryStatement(t) => self.try_statement(t, rest, facts, top, end, out),
            Statement::ForStatement(_)
            | Statement::ForInStatement(_)
            | Statement::ForOfStatement(_)
            | Statement::WhileStatement(_)
            | Statement::DoWhileStatement(_) => self.no(
                s.span(),
                "a loop (.rule has no loops: `any`/`all` and comprehensions cover lists; rewrite it with some/every/filter/map)",
            ),
            Statement::ThrowStatement(t) => self.no(t.span, "`throw` (the login fails with a rule error; write `return callback(new UnauthorizedError(...))` to deny)"),
            Statement::SwitchStatement(_) => self.no(s.span(), "`switch` (write it as if / else if)"),
            _ => self.no(s.span(), format!("{} is not a statement warden can translate", self.quote(s.span()))),
        }
    }

    fn declaration(&mut self, d: &VariableDeclaration, facts: &Facts, out: &mut Vec<Out>) -> R<()> {
        for decl in &d.declarations {
            let (js, init) = self.bound_once(decl)?;
            let v = match self.value(init, facts) {
                Ok(v) => v,
                Err(()) => {
                    self.bind(&js, Binding { value: V::new(js.clone(), P_ATOM, Ty::Any, false).kind(Kind::Refused) });
                    return Err(());
                }
            };
            // Aliases: modules, dates, `X || {}` and plain input paths read through the name.
            let alias = v.kind != Kind::Plain
                || v.or_empty
                || v.path.is_some() && v.prec == P_ATOM
                || v.konst.is_some() && v.ty == Ty::Str;
            if alias {
                self.bind(&js, Binding { value: v });
                continue;
            }
            let name = self.fresh(&js);
            out.push(Out::Line(format!("let {name} = {}", v.code)));
            let mut bound = V::new(name.clone(), P_ATOM, v.ty.clone(), v.present);
            bound.konst = v.konst.clone();
            if facts.present.contains(&v.code) {
                bound.present = true;
            }
            self.bind(&js, Binding { value: bound });
        }
        Ok(())
    }

    /// A declarator's name and value, when it binds one name once (as `.rule`'s `let` does).
    fn bound_once<'d>(&mut self, decl: &'d VariableDeclarator<'d>) -> R<(String, &'d Expression<'d>)> {
        let BindingPattern::BindingIdentifier(id) = &decl.id else {
            return self.no(decl.span, "a destructuring declaration");
        };
        let js = id.name.to_string();
        let Some(init) = &decl.init else {
            return self.no(decl.span, format!("`{js}` is declared without a value and assigned later"));
        };
        if self.assigned_later(&js, decl.span.end) {
            return self
                .no(decl.span, format!("`{js}` is assigned again after its declaration (.rule names are bound once)"));
        }
        Ok((js, init))
    }

    /// Whether the text after `from` assigns `name` again (`name =`, `name +=`, `name++`).
    fn assigned_later(&mut self, name: &str, from: u32) -> bool {
        if self.reassigned.contains(name) {
            return true;
        }
        let from = (from.saturating_sub(self.offset) as usize).min(self.text.len());
        let rest = &self.text[from..];
        let bytes = rest.as_bytes();
        let mut at = 0;
        while let Some(p) = rest[at..].find(name) {
            let s = at + p;
            let e = s + name.len();
            at = e;
            let before_ok = s == 0
                || !(bytes[s - 1].is_ascii_alphanumeric()
                    || bytes[s - 1] == b'_'
                    || bytes[s - 1] == b'.'
                    || bytes[s - 1] == b'$');
            if !before_ok {
                continue;
            }
            let after = rest[e..].trim_start();
            if (after.starts_with('=') && !after.starts_with("==") && !after.starts_with("=>"))
                || after.starts_with("+=")
                || after.starts_with("-=")
                || after.starts_with("++")
                || after.starts_with("--")
                || after.starts_with("||=")
                || after.starts_with("??=")
            {
                self.reassigned.insert(name.to_string());
                return true;
            }
        }
        false
    }

    fn if_statement(
        &mut self,
        i: &IfStatement,
        rest: &[&Statement],
        facts: &mut Facts,
        top: bool,
        end: u32,
        out: &mut Vec<Out>,
    ) -> R<Flow> {
        let (cond, yes, no) = self.condition(&i.test, facts)?;
        let then: Vec<&Statement> = vec![&i.consequent];
        let mut yes_facts = facts.clone();
        yes_facts.present.extend(yes);
        let mut no_facts = facts.clone();
        no_facts.present.extend(no);
        self.scopes.push(BTreeMap::new());
        let then_r = self.block(&then, &yes_facts, false, i.consequent.span().end);
        self.scopes.pop();
        let (then_out, then_ends) = then_r?;
        match &i.alternate {
            None if then_ends => {
                // `if (c) { ...; return callback(...) }` then the rest of the rule.
                let (rest_out, rest_ends) = self.block(rest, &no_facts, top, end)?;
                if let [Out::Line(l)] = then_out.as_slice()
                    && l.starts_with("deny")
                    && !l.contains(" if ")
                    && !l.contains(" unless ")
                {
                    out.push(Out::Line(format!("{l} if {}", cond.code)));
                    out.extend(rest_out);
                } else if then_out.iter().all(|o| matches!(o, Out::Comment(_))) {
                    out.extend(then_out);
                    if top {
                        out.push(Out::Line(format!("when {}", cond.neg)));
                        out.extend(rest_out);
                    } else if !rest_out.is_empty() {
                        out.push(Out::If { cond: cond.neg.clone(), then: rest_out, otherwise: None });
                    }
                } else {
                    let otherwise = if rest_out.is_empty() { None } else { Some(rest_out) };
                    out.push(Out::If { cond: cond.code.clone(), then: then_out, otherwise });
                }
                Ok(Flow::Consumed(rest_ends))
            }
            None => {
                out.push(Out::If { cond: cond.code.clone(), then: then_out, otherwise: None });
                Ok(Flow::Next)
            }
            Some(alt) => {
                let els: Vec<&Statement> = vec![alt];
                self.scopes.push(BTreeMap::new());
                let else_r = self.block(&els, &no_facts, false, alt.span().end);
                self.scopes.pop();
                let (else_out, else_ends) = else_r?;
                if then_ends && else_ends {
                    out.push(Out::If { cond: cond.code.clone(), then: then_out, otherwise: Some(else_out) });
                    return Ok(Flow::Ended);
                }
                if then_ends || else_ends {
                    // One branch ends; the rest of the rule belongs to the other.
                    let (rest_out, rest_ends) =
                        self.block(rest, if then_ends { &no_facts } else { &yes_facts }, false, end)?;
                    let (t, e) = if then_ends {
                        (then_out, [else_out, rest_out].concat())
                    } else {
                        ([then_out, rest_out].concat(), else_out)
                    };
                    out.push(Out::If { cond: cond.code.clone(), then: t, otherwise: Some(e) });
                    return Ok(Flow::Consumed(rest_ends));
                }
                out.push(Out::If { cond: cond.code.clone(), then: then_out, otherwise: Some(else_out) });
                Ok(Flow::Next)
            }
        }
    }

    fn try_statement(
        &mut self,
        t: &TryStatement,
        rest: &[&Statement],
        facts: &mut Facts,
        top: bool,
        end: u32,
        out: &mut Vec<Out>,
    ) -> R<Flow> {
        // `try { ... } catch (e) { return callback(e); }`: what the block does. The translated
        // block cannot throw where the JavaScript would (the model refuses those reads), and
        // the metadata saves it may hold do not fail in warden; the proof checks the rest.
        if t.finalizer.is_some() {
            return self.no(t.span, "`finally`");
        }
        let Some(handler) = &t.handler else { return self.no(t.span, "`try` without `catch`") };
        let catch_ok = handler.body.body.len() == 1
            && match &handler.body.body[0] {
                Statement::ReturnStatement(r) => {
                    r.argument.as_ref().is_some_and(|a| self.is_callback_with_error_param(a, handler))
                }
                Statement::ExpressionStatement(e) => self.is_callback_with_error_param(&e.expression, handler),
                _ => false,
            };
        if !catch_ok {
            return self.no(handler.span, "a `catch` that does more than `return callback(err)`");
        }
        let inner: Vec<&Statement> = t.block.body.iter().chain(rest.iter().copied()).collect();
        self.scopes.push(BTreeMap::new());
        let r = self.block(&inner, facts, top, end);
        self.scopes.pop();
        let (o, ends) = r?;
        out.extend(o);
        Ok(Flow::Consumed(ends))
    }

    fn is_callback_with_error_param(&self, e: &Expression, handler: &CatchClause) -> bool {
        let Expression::CallExpression(c) = e.without_parentheses() else { return false };
        let is_cb = matches!(&c.callee, Expression::Identifier(id) if id.name == self.callback.as_str());
        let param = handler.param.as_ref().and_then(|p| match &p.pattern {
            BindingPattern::BindingIdentifier(id) => Some(id.name.to_string()),
            _ => None,
        });
        is_cb
            && c.arguments.len() == 1
            && matches!((&c.arguments[0], param), (Argument::Identifier(a), Some(p)) if a.name == p.as_str())
    }

    /// `return EXPR;` where EXPR calls callback (directly or after a metadata save).
    fn terminal(
        &mut self,
        e: &Expression,
        rest: &[&Statement],
        facts: &mut Facts,
        top: bool,
        end: u32,
        out: &mut Vec<Out>,
    ) -> R<Flow> {
        match self.expression_statement(e, rest, facts, top, end, out)? {
            Flow::Next => self.no(
                e.span(),
                "`return` without calling callback (Auth0 waits for the callback until the login times out)",
            ),
            flow => Ok(flow),
        }
    }

    fn expression_statement(
        &mut self,
        e: &Expression,
        rest: &[&Statement],
        facts: &mut Facts,
        top: bool,
        end: u32,
        out: &mut Vec<Out>,
    ) -> R<Flow> {
        let e = e.without_parentheses();
        match e {
            Expression::CallExpression(c) => self.call_statement(c, rest, facts, top, end, out),
            Expression::AwaitExpression(a) => match a.argument.without_parentheses() {
                Expression::CallExpression(c) if self.metadata_save(c).is_some() => {
                    self.save(c, facts, out)?;
                    Ok(Flow::Next)
                }
                _ => self.no(
                    a.span,
                    format!(
                        "awaiting {} (only saving the user's metadata can be awaited)",
                        self.quote(a.argument.span())
                    ),
                ),
            },
            Expression::AssignmentExpression(a) => {
                self.assignment(a, facts, out)?;
                Ok(Flow::Next)
            }
            Expression::UnaryExpression(u) if u.operator == UnaryOperator::Delete => {
                let target = match u.argument.without_parentheses() {
                    Expression::StaticMemberExpression(m) => {
                        self.user_target_of(&m.object, Some(m.property.name.to_string()), m.span)?
                    }
                    Expression::ComputedMemberExpression(m) => {
                        let k = self.konst_string(&m.expression);
                        self.user_target_of(&m.object, k, m.span)?
                    }
                    _ => return self.no(u.span, "`delete` of something other than a field"),
                };
                out.push(Out::Line(format!("unset {target}")));
                Ok(Flow::Next)
            }
            _ => self.no(e.span(), format!("{} is not a statement warden can translate", self.quote(e.span()))),
        }
    }

    fn call_statement(
        &mut self,
        c: &CallExpression,
        rest: &[&Statement],
        facts: &mut Facts,
        top: bool,
        end: u32,
        out: &mut Vec<Out>,
    ) -> R<Flow> {
        // callback(...)
        if let Expression::Identifier(id) = &c.callee
            && id.name == self.callback.as_str()
        {
            self.callback_call(c, facts, out)?;
            return Ok(Flow::Ended);
        }
        // console.log(...)
        if let Some((obj, method)) = static_member(&c.callee)
            && matches!(obj, Expression::Identifier(id) if id.name == "console")
        {
            if !matches!(method, "log" | "info" | "warn" | "error") {
                return self.no(c.span, format!("`console.{method}`"));
            }
            if c.arguments.len() != 1 {
                return self.no(c.span, "console output of several values (JavaScript joins them its own way)");
            }
            let v = self.argument(&c.arguments[0], facts)?;
            if v.ty != Ty::Str || !v.present {
                return self.no(c.span, "console output of a value that is not a string that is always there");
            }
            out.push(Out::Line(format!("log {}", v.code)));
            return Ok(Flow::Next);
        }
        // auth0.users.updateAppMetadata(...).then(...).catch(...)
        if let Some((then_body, save)) = self.promise_chain(c) {
            self.save(save, facts, out)?;
            let (o, ends) = match then_body {
                Body::Stmts(stmts) => {
                    let stmts: Vec<&Statement> = stmts.iter().collect();
                    self.scopes.push(BTreeMap::new());
                    let r = self.block(&stmts, facts, top, end);
                    self.scopes.pop();
                    r?
                }
                Body::Expr(e) => {
                    let mut o = Vec::new();
                    let flow = self.expression_statement(e, &[], facts, top, end, &mut o)?;
                    (o, matches!(flow, Flow::Ended | Flow::Consumed(true)))
                }
            };
            out.extend(o);
            if !ends {
                return self.no(c.span, "after saving the metadata the rule does not call callback");
            }
            if let Some(next) = rest.first() {
                return self.no(next.span(), "code after a metadata save whose `.then` already called callback (it runs before the save finishes)");
            }
            return Ok(Flow::Consumed(true));
        }
        if self.metadata_save(c).is_some() {
            // A save whose promise is dropped: the rule goes on.
            self.save(c, facts, out)?;
            return Ok(Flow::Next);
        }
        self.call_value(c, facts)?;
        self.no(c.span, format!("a call whose result is not used: {}", self.quote(c.span)))
    }

    fn callback_call(&mut self, c: &CallExpression, facts: &Facts, out: &mut Vec<Out>) -> R<()> {
        let args: Vec<&Argument> = c.arguments.iter().collect();
        let is_null = |a: &Argument| matches!(a, Argument::NullLiteral(_));
        let is_name = |a: &Argument, n: &str| matches!(a, Argument::Identifier(id) if id.name == n);
        match args.as_slice() {
            [] => {
                self.no(c.span, "`callback()` without the user and context (Auth0 goes on without this rule's changes)")
            }
            [first, u, ctx]
                if is_null(first) && is_name(u, &self.user.clone()) && is_name(ctx, &self.context.clone()) =>
            {
                Ok(())
            }
            [first, ..] if is_null(first) => {
                self.no(c.span, "`callback(null, ...)` with other objects than the rule's user and context")
            }
            [err] => {
                let line = self.denial(err, facts)?;
                out.push(Out::Line(line));
                Ok(())
            }
            _ => self.no(c.span, "callback with an error and more arguments"),
        }
    }

    /// `new UnauthorizedError(msg)` / `new Error(msg)` as a `deny` statement.
    fn denial(&mut self, a: &Argument, facts: &Facts) -> R<String> {
        let Argument::NewExpression(n) = a else {
            return self
                .no(a.span(), "callback with an error that is not `new UnauthorizedError(...)` or `new Error(...)`");
        };
        let Expression::Identifier(class) = &n.callee else { return self.no(n.span, "an error of an unknown class") };
        let code = match class.name.as_str() {
            "UnauthorizedError" => "",
            "Error" => "access_denied ",
            other => return self.no(n.span, format!("an error of class `{other}`")),
        };
        match n.arguments.as_slice() {
            [m] => {
                let v = self.argument(m, facts)?;
                if v.ty != Ty::Str || !v.present {
                    return self.no(m.span(), "an error message that is not a string that is always there");
                }
                Ok(format!("deny {code}{}", v.code).replace("deny  ", "deny "))
            }
            _ => self.no(n.span, "an error without exactly one message"),
        }
    }

    /// `X.then(F).catch(G)` or `X.then(F, G)` where X saves metadata: F's body and the save.
    fn promise_chain<'a>(&self, c: &'a CallExpression<'a>) -> Option<(Body<'a>, &'a CallExpression<'a>)> {
        let (then_call, catch_ok) = match static_member(&c.callee) {
            Some((Expression::CallExpression(inner), "catch")) => (&**inner, true),
            Some((_, "then")) => (c, c.arguments.len() == 2),
            _ => return None,
        };
        if !catch_ok {
            return None;
        }
        let (Expression::CallExpression(save), "then") = static_member(&then_call.callee)? else { return None };
        self.metadata_save(save)?;
        let f = then_call.arguments.first()?;
        let body = match f {
            Argument::FunctionExpression(f) if f.params.items.is_empty() => Body::Stmts(&f.body.as_ref()?.statements),
            Argument::ArrowFunctionExpression(a) if a.params.items.is_empty() => match &a.body {
                ArrowFunctionBody::FunctionBody(b) => Body::Stmts(&b.statements),
                e => Body::Expr(e.as_expression()?),
            },
            _ => return None,
        };
        Some((body, save))
    }

    /// `auth0.users.updateAppMetadata(...)` / `updateUserMetadata(...)`: which metadata.
    fn metadata_save(&self, c: &CallExpression) -> Option<&'static str> {
        let (obj, method) = static_member(&c.callee)?;
        let (auth0, users) = static_member(obj)?;
        if users != "users" || !matches!(auth0, Expression::Identifier(id) if id.name == "auth0") {
            return None;
        }
        match method {
            "updateAppMetadata" => Some("app_metadata"),
            "updateUserMetadata" => Some("user_metadata"),
            _ => None,
        }
    }

    /// The `persist` statements of a metadata save.
    fn save(&mut self, c: &CallExpression, facts: &Facts, out: &mut Vec<Out>) -> R<()> {
        let Some(which) = self.metadata_save(c) else { return self.no(c.span, "an unknown Management API call") };
        if c.arguments.len() != 2 {
            return self.no(c.span, "a metadata save without (user.user_id, metadata)");
        }
        let first = self.argument(&c.arguments[0], facts)?;
        if first.path.as_deref() != Some("user.user_id") {
            return self.no(c.arguments[0].span(), "a metadata save for another user than the one logging in");
        }
        match &c.arguments[1] {
            Argument::ObjectExpression(o) => {
                for p in &o.properties {
                    let ObjectPropertyKind::ObjectProperty(p) = p else {
                        return self.no(p.span(), "a spread in the saved metadata");
                    };
                    let Some(key) = self.property_key(&p.key) else {
                        return self.no(p.span, "a computed key in the saved metadata");
                    };
                    let v = self.value(&p.value, facts)?;
                    out.push(Out::Line(format!("persist {which}.{} = {}", field_name(&key), v.code)));
                }
                Ok(())
            }
            other => {
                // The whole object: its writes were already `persist` statements (prescan).
                let v = self.argument(other, facts)?;
                if v.path.as_deref() == Some(&format!("user.{which}")) {
                    Ok(())
                } else {
                    self.no(other.span(), "saving metadata that is neither the user's own object nor an object literal")
                }
            }
        }
    }

    fn assignment(&mut self, a: &AssignmentExpression, facts: &mut Facts, out: &mut Vec<Out>) -> R<()> {
        if a.operator != AssignmentOperator::Assign {
            return self.no(a.span, "a compound assignment (`+=` ...)");
        }
        let Some(target) = a.left.as_member_expression() else {
            return self.no(a.span, "an assignment to a variable (.rule names are bound once)");
        };
        let (object, key) = match target {
            MemberExpression::StaticMemberExpression(m) => (&m.object, Some(m.property.name.to_string())),
            MemberExpression::ComputedMemberExpression(m) => {
                let k = self.konst_string(&m.expression);
                (&m.object, k)
            }
            MemberExpression::PrivateFieldExpression(p) => return self.no(p.span, "a private field"),
        };
        // context.idToken[K] = v, context.accessToken[K] = v
        if let Some((ctx, token)) = static_member(object)
            && self.is_name(ctx, &self.context.clone())
            && (token == "idToken" || token == "accessToken")
        {
            let Some(key) = key else {
                return self.no(a.span, "a claim whose name is computed at run time (.rule claim names are literals)");
            };
            if token == "accessToken" && key == "scope" {
                let v = self.value(&a.right, facts)?;
                if !v.present {
                    return self.no(a.right.span(), "setting the scope to a value that may be missing");
                }
                out.push(Out::Line(format!("scope set {}", v.code)));
                return Ok(());
            }
            let v = self.value(&a.right, facts)?;
            let token = if token == "idToken" { "id_token" } else { "access_token" };
            self.literals.insert(key.clone());
            out.push(Out::Line(format!("claim {token} {} = {}", string_literal(&key), v.code)));
            return Ok(());
        }
        if self.is_name(object, &self.context.clone()) {
            let Some(key) = key else { return self.no(a.span, "a computed field of context") };
            return match key.as_str() {
                "multifactor" => {
                    let line = self.mfa(&a.right, facts)?;
                    out.push(Out::Line(line));
                    Ok(())
                }
                "redirect" => {
                    let Expression::ObjectExpression(o) = a.right.without_parentheses() else {
                        return self.no(a.right.span(), "a redirect that is not `{ url: ... }`");
                    };
                    let [ObjectPropertyKind::ObjectProperty(p)] = o.properties.as_slice() else {
                        return self.no(o.span, "a redirect that is not `{ url: ... }`");
                    };
                    if self.property_key(&p.key).as_deref() != Some("url") {
                        return self.no(o.span, "a redirect that is not `{ url: ... }`");
                    }
                    let v = self.value(&p.value, facts)?;
                    if v.ty != Ty::Str || !v.present {
                        return self.no(p.value.span(), "a redirect URL that may be missing");
                    }
                    out.push(Out::Line(format!("redirect {}", v.code)));
                    Ok(())
                }
                "samlConfiguration" | "primaryUser" | "idToken" | "accessToken" => {
                    self.no(a.span, format!("writing context.{key} whole (.rule has no statement for it)"))
                }
                other => self.no(a.span, format!("writing context.{other}")),
            };
        }
        // user.F = v, user.app_metadata.k = v, alias.k = v
        let target = self.user_target_of(object, key, a.span)?;
        let v = self.value(&a.right, facts)?;
        // `user.app_metadata = user.app_metadata || {}` and `user.app_metadata = alias`.
        if (target == "user.app_metadata" || target == "user.user_metadata")
            && v.or_empty
            && v.path.as_deref() == Some(target.as_str())
        {
            // Already an object when a write into it came first on this path.
            if facts.present.contains(&target) {
                return Ok(());
            }
            out.push(Out::Line(format!("set {target} = {target} ?? {{}}")));
            facts.present.insert(target);
            return Ok(());
        }
        if (target == "user.app_metadata" && self.persists_app)
            || (target == "user.user_metadata" && self.persists_user)
        {
            if v.path.as_deref() == Some(target.as_str()) {
                return Ok(());
            }
            return self.no(a.span, "replacing the metadata object that the rule saves whole");
        }
        let persisted = (self.persists_app && target.starts_with("user.app_metadata."))
            || (self.persists_user && target.starts_with("user.user_metadata."));
        if persisted {
            let field = target.trim_start_matches("user.");
            out.push(Out::Line(format!("persist {field} = {}", v.code)));
        } else {
            out.push(Out::Line(format!("set {target} = {}", v.code)));
        }
        // A write below a field makes the field an object; the written value is what later
        // reads see.
        if let Some((parent, _)) = target.rsplit_once('.')
            && parent.contains('.')
        {
            facts.present.insert(parent.to_string());
        }
        if v.present {
            facts.present.insert(target);
        } else {
            facts.present.remove(&target);
        }
        Ok(())
    }

    /// A `user.…` path a statement writes (`object.key`, through aliases of
    /// `user.app_metadata || {}` too).
    fn user_target_of(&mut self, object: &Expression, key: Option<String>, span: Span) -> R<String> {
        let Some(key) = key else { return self.no(span, "a write to a field whose name is computed at run time") };
        let mut fields = vec![key];
        let mut at = object.without_parentheses();
        loop {
            match at {
                Expression::StaticMemberExpression(m) => {
                    fields.push(m.property.name.to_string());
                    at = m.object.without_parentheses();
                }
                Expression::ComputedMemberExpression(m) => {
                    let Some(k) = self.konst_string(&m.expression) else {
                        return self.no(m.span, "a write to a field whose name is computed at run time");
                    };
                    fields.push(k);
                    at = m.object.without_parentheses();
                }
                Expression::Identifier(id) if id.name == self.user.as_str() => break,
                Expression::Identifier(id) => {
                    let name = id.name.to_string();
                    match self.lookup(&name).map(|b| b.value.clone()) {
                        Some(v) if v.or_empty && v.path.as_deref().is_some_and(|p| p.starts_with("user.")) => {
                            let mut path = v.path.unwrap_or_default();
                            for f in fields.iter().rev() {
                                path.push('.');
                                path.push_str(&field_name(f));
                            }
                            return Ok(path);
                        }
                        _ if name == self.context => {
                            return self
                                .no(span, format!("writing {} (.rule has no statement for it)", self.quote(span)));
                        }
                        _ => {
                            return self.no(
                                span,
                                format!("a write into `{name}`: it changes an object in place (only the user object's fields can be written)"),
                            );
                        }
                    }
                }
                _ => return self.no(span, format!("a write to {}", self.quote(span))),
            }
        }
        fields.reverse();
        Ok(format!("user.{}", fields.iter().map(|f| field_name(f)).collect::<Vec<_>>().join(".")))
    }

    /// `context.multifactor = { provider: 'any', allowRememberBrowser: false }`.
    fn mfa(&mut self, e: &Expression, facts: &Facts) -> R<String> {
        let Expression::ObjectExpression(o) = e.without_parentheses() else {
            return self.no(e.span(), "context.multifactor set to something other than an object literal");
        };
        let mut provider = None;
        let mut remember = None;
        for p in &o.properties {
            let ObjectPropertyKind::ObjectProperty(p) = p else {
                return self.no(p.span(), "a spread in context.multifactor");
            };
            let key = self.property_key(&p.key).unwrap_or_default();
            match key.as_str() {
                "provider" => match self.konst_string(&p.value) {
                    Some(v) if matches!(v.as_str(), "any" | "guardian" | "google-authenticator") => provider = Some(v),
                    _ => {
                        return self.no(
                            p.span,
                            "an MFA provider other than any, guardian or google-authenticator as a literal",
                        );
                    }
                },
                "allowRememberBrowser" => {
                    let v = self.value(&p.value, facts)?;
                    if v.ty != Ty::Bool || !v.present {
                        return self.no(p.span, "allowRememberBrowser that is not a boolean that is always there");
                    }
                    remember = Some(v.code);
                }
                other => return self.no(p.span, format!("the MFA option `{other}`")),
            }
        }
        let Some(provider) = provider else { return self.no(o.span, "context.multifactor without a provider") };
        Ok(match remember {
            Some(r) => format!("mfa {provider} remember_browser {r}"),
            None => format!("mfa {provider}"),
        })
    }

    // ---- conditions ----------------------------------------------------------------------------

    /// A JavaScript test as a `.rule` condition, with the values known present when it holds
    /// and when it does not.
    fn condition(&mut self, e: &Expression, facts: &Facts) -> R<(Cond, Vec<String>, Vec<String>)> {
        let e = e.without_parentheses();
        if self.depth >= MAX_EXPR_DEPTH {
            return self.no(e.span(), format!("an expression nested deeper than {MAX_EXPR_DEPTH} levels"));
        }
        self.depth += 1;
        let c = self.condition_inner(e, facts);
        self.depth -= 1;
        c
    }

    fn condition_inner(&mut self, e: &Expression, facts: &Facts) -> R<(Cond, Vec<String>, Vec<String>)> {
        match e {
            Expression::LogicalExpression(l) if l.operator != LogicalOperator::Coalesce => {
                self.logical_condition(l, facts)
            }
            Expression::UnaryExpression(u) if u.operator == UnaryOperator::LogicalNot => {
                let (c, y, n) = self.condition(&u.argument, facts)?;
                Ok((c.not(), n, y))
            }
            Expression::BinaryExpression(b) => self.comparison(b, facts).map(|c| (c, Vec::new(), Vec::new())),
            // `list.includes(x)` keeps its readable negation (`x not in list`).
            Expression::CallExpression(c)
                if c.arguments.len() == 1 && matches!(static_member(&c.callee), Some((_, "includes"))) =>
            {
                let Some((recv, _)) = static_member(&c.callee) else { return self.no(c.span, "includes") };
                let list = self.value(recv, facts)?;
                if !matches!(list.kind, Kind::Plain) {
                    return self.no(c.span, format!("`.includes` of {}", self.describe(&list)));
                }
                let item = self.argument(&c.arguments[0], facts)?;
                let cond = self.membership(&list, &item, c.span)?;
                Ok((cond, Vec::new(), Vec::new()))
            }
            _ => {
                let v = self.value(e, facts)?;
                let known = v.path.clone().unwrap_or_else(|| v.code.clone());
                Ok((self.truthy(&v), vec![known], Vec::new()))
            }
        }
    }

    fn logical_condition(&mut self, l: &LogicalExpression, facts: &Facts) -> R<(Cond, Vec<String>, Vec<String>)> {
        if l.operator == LogicalOperator::And {
            let (a, ay, _) = self.condition(&l.left, facts)?;
            let mut inner = facts.clone();
            inner.present.extend(ay.iter().cloned());
            let (b, by, _) = self.condition(&l.right, &inner)?;
            let yes = ay.into_iter().chain(by).collect();
            // `m && m.name == "x"` where `m` is never falsy: the test alone.
            if a.code == "true" {
                return Ok((b, yes, Vec::new()));
            }
            // `x && x.y ...` where `x` is an object or dynamic data: when `x` is falsy, `x.y` is
            // undefined in JavaScript and missing in the `.rule`, so the test of `x` adds
            // nothing to the test of `x.y`.
            if matches!(l.left.without_parentheses(), Expression::StaticMemberExpression(_) | Expression::Identifier(_))
                && let Ok(left) = self.value(&l.left, facts)
                && matches!(left.ty, Ty::Obj | Ty::Any)
                && let Some(p) = left.path.as_ref().or(Some(&left.code))
                && b.code.contains(&format!("{p}."))
                && !b.code.contains(&format!("len({p})"))
            {
                return Ok((b, yes, Vec::new()));
            }
            let code = format!("{} and {}", a.at(P_AND), b.at(P_AND));
            return Ok((Cond::plain(code, P_AND), yes, Vec::new()));
        }
        let (a, _, an) = self.condition(&l.left, facts)?;
        let mut inner = facts.clone();
        inner.present.extend(an.iter().cloned());
        let (b, _, bn) = self.condition(&l.right, &inner)?;
        let code = format!("{} or {}", a.at(P_OR), b.at(P_OR));
        let no = an.into_iter().chain(bn).collect();
        Ok((Cond::plain(code, P_OR), Vec::new(), no))
    }

    /// JavaScript's truthiness of a value, as a `.rule` condition.
    fn truthy(&self, v: &V) -> Cond {
        let x = v.at(P_CMP + 1);
        let present = v.present || v.path.as_ref().is_some_and(|_| false);
        match (&v.ty, present) {
            (Ty::Bool, true) => Cond::plain(v.code.clone(), v.prec),
            (Ty::Bool, false) => Cond::new(format!("{x} == true"), P_CMP, format!("{x} != true"), P_CMP),
            (Ty::Str, true) => Cond::new(format!("{x} != \"\""), P_CMP, format!("{x} == \"\""), P_CMP),
            (Ty::Str, false) => {
                Cond::new(format!("{x} != null and {x} != \"\""), P_AND, format!("{x} == null or {x} == \"\""), P_OR)
            }
            (Ty::Int | Ty::Num, true) => Cond::new(format!("{x} != 0"), P_CMP, format!("{x} == 0"), P_CMP),
            (Ty::Int | Ty::Num, false) => {
                Cond::new(format!("{x} != null and {x} != 0"), P_AND, format!("{x} == null or {x} == 0"), P_OR)
            }
            (Ty::List(_) | Ty::Obj | Ty::Time, true) => Cond::new("true".into(), P_ATOM, "false".into(), P_ATOM),
            (Ty::List(_) | Ty::Obj | Ty::Time, false) => {
                Cond::new(format!("{x} != null"), P_CMP, format!("{x} == null"), P_CMP)
            }
            (Ty::Any, _) => Cond::new(
                format!("{x} != null and {x} != false and {x} != 0 and {x} != \"\""),
                P_AND,
                format!("{x} == null or {x} == false or {x} == 0 or {x} == \"\""),
                P_OR,
            ),
        }
    }

    fn comparison(&mut self, b: &BinaryExpression, facts: &Facts) -> R<Cond> {
        use BinaryOperator as B;
        // x.indexOf(y) !== -1 and friends: membership.
        if let Some(c) = self.index_of_test(b, facts)? {
            return Ok(c);
        }
        let (l, r) = (self.value(&b.left, facts)?, self.value(&b.right, facts)?);
        self.note_compared(&l, &r);
        self.note_compared(&r, &l);
        let is_nullish = |v: &V| v.konst.as_ref().is_some_and(Json::is_null);
        match b.operator {
            B::StrictEquality | B::Equality | B::StrictInequality | B::Inequality => {
                let eq = matches!(b.operator, B::StrictEquality | B::Equality);
                let (a, c) = (l.at(P_CMP + 1), r.at(P_CMP + 1));
                if is_nullish(&l) || is_nullish(&r) {
                    // `x == null` is `x` missing in both; `=== null`/`=== undefined` tell null
                    // from undefined, which the `.rule` does not: the proof's logins hold both.
                    return Ok(if eq {
                        Cond::new(format!("{a} == {c}"), P_CMP, format!("{a} != {c}"), P_CMP)
                    } else {
                        Cond::new(format!("{a} != {c}"), P_CMP, format!("{a} == {c}"), P_CMP)
                    });
                }
                if !(l.present || r.present || l.konst.is_some() || r.konst.is_some()) {
                    return self.no(b.span, "a comparison of two values that may both be missing (JavaScript calls two undefined values equal, .rule does not)");
                }
                let loose = matches!(b.operator, B::Equality | B::Inequality);
                if loose && l.ty != r.ty && (l.ty == Ty::Any || r.ty == Ty::Any || l.ty.is_num() != r.ty.is_num()) {
                    return self
                        .no(b.span, "`==` between values of different types (JavaScript converts them; write `===`)");
                }
                Ok(if eq {
                    Cond::new(format!("{a} == {c}"), P_CMP, format!("{a} != {c}"), P_CMP)
                } else {
                    Cond::new(format!("{a} != {c}"), P_CMP, format!("{a} == {c}"), P_CMP)
                })
            }
            B::LessThan | B::LessEqualThan | B::GreaterThan | B::GreaterEqualThan => {
                let ok = |v: &V| matches!(v.ty, Ty::Int | Ty::Num | Ty::Str | Ty::Time);
                if !ok(&l) || !ok(&r) || (l.ty == Ty::Str) != (r.ty == Ty::Str) {
                    return self.no(b.span, "an ordering of values that are not both numbers or both strings");
                }
                let op = match b.operator {
                    B::LessThan => "<",
                    B::LessEqualThan => "<=",
                    B::GreaterThan => ">",
                    _ => ">=",
                };
                let code = format!("{} {op} {}", l.at(P_CMP + 1), r.at(P_CMP + 1));
                // Not `not (a < b)`'s reverse: over a missing value both are false.
                Ok(Cond::plain(code, P_CMP))
            }
            B::In => self.no(b.span, "the `in` operator (a property test on an object)"),
            B::Instanceof => self.no(b.span, "`instanceof`"),
            _ => {
                let v = self.binary_value(b, facts)?;
                Ok(self.truthy(&v))
            }
        }
    }

    /// `x.indexOf(y) !== -1`, `> -1`, `>= 0`, `=== -1`, `< 0`: membership tests.
    fn index_of_test(&mut self, b: &BinaryExpression, facts: &Facts) -> R<Option<Cond>> {
        use BinaryOperator as B;
        let num = |e: &Expression| match e.without_parentheses() {
            Expression::NumericLiteral(n) => Some(n.value),
            Expression::UnaryExpression(u) if u.operator == UnaryOperator::UnaryNegation => match &u.argument {
                Expression::NumericLiteral(n) => Some(-n.value),
                _ => None,
            },
            _ => None,
        };
        let Expression::CallExpression(call) = b.left.without_parentheses() else { return Ok(None) };
        let Some((recv, "indexOf")) = static_member(&call.callee) else { return Ok(None) };
        let Some(k) = num(&b.right) else { return Ok(None) };
        let found = match (b.operator, k) {
            (B::StrictInequality | B::Inequality, -1.0) | (B::GreaterThan, -1.0) | (B::GreaterEqualThan, 0.0) => true,
            (B::StrictEquality | B::Equality, -1.0) | (B::LessThan, 0.0) => false,
            _ => return Ok(None),
        };
        if call.arguments.len() != 1 {
            return self.no(call.span, "indexOf with a start position");
        }
        let list = self.value(recv, facts)?;
        let item = self.argument(&call.arguments[0], facts)?;
        let c = self.membership(&list, &item, call.span)?;
        Ok(Some(if found { c } else { c.not() }))
    }

    /// Records that the input path of `v` is compared with the literal(s) of `other`.
    fn note_compared(&mut self, v: &V, other: &V) {
        let Some(path) = &v.path else { return };
        let values: Vec<String> = match &other.konst {
            Some(Json::String(s)) => vec![s.clone()],
            Some(Json::Number(n)) => vec![n.to_string()],
            Some(Json::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
            _ => return,
        };
        self.compared.entry(path.clone()).or_default().extend(values);
    }

    /// `list.includes(x)` (or a string's): JavaScript throws when `list` is missing.
    fn membership(&mut self, list: &V, item: &V, span: Span) -> R<Cond> {
        self.note_compared(item, list);
        self.note_compared(list, item);
        if !list.present {
            return self.no(span, format!("{} may be missing here, where JavaScript throws a TypeError and the .rule would go on: guard it first", self.describe(list)));
        }
        let i = item.at(P_CMP + 1);
        Ok(match &list.ty {
            Ty::List(_) => {
                let l = list.at(P_CMP + 1);
                Cond::new(format!("{i} in {l}"), P_CMP, format!("{i} not in {l}"), P_CMP)
            }
            Ty::Str | Ty::Any => {
                if list.ty == Ty::Str && item.ty != Ty::Str {
                    return self.no(span, "searching a string for something that is not a string");
                }
                Cond::plain(format!("contains({}, {})", list.code, item.code), P_ATOM)
            }
            _ => return self.no(span, "a membership test on a value that is neither a list nor a string"),
        })
    }

    fn describe(&self, v: &V) -> String {
        match &v.path {
            Some(p) => format!("`{p}`"),
            None => format!("`{}`", v.code),
        }
    }

    // ---- values --------------------------------------------------------------------------------

    fn argument(&mut self, a: &Argument, facts: &Facts) -> R<V> {
        match a {
            Argument::SpreadElement(s) => self.no(s.span, "a spread argument"),
            other => match other.as_expression() {
                Some(e) => self.value(e, facts),
                None => self.no(a.span(), "an argument warden cannot translate"),
            },
        }
    }

    fn is_name(&self, e: &Expression, name: &str) -> bool {
        matches!(e.without_parentheses(), Expression::Identifier(id) if id.name == name)
    }

    fn property_key(&self, k: &PropertyKey) -> Option<String> {
        match k {
            PropertyKey::StaticIdentifier(id) => Some(id.name.to_string()),
            PropertyKey::StringLiteral(s) => Some(s.value.to_string()),
            _ => None,
        }
    }

    /// A string known when the rule is translated: literals, constants, their concatenation.
    fn konst_string(&mut self, e: &Expression) -> Option<String> {
        match e.without_parentheses() {
            Expression::StringLiteral(s) => Some(s.value.to_string()),
            Expression::Identifier(id) => match self.lookup(id.name.as_str()).and_then(|b| b.value.konst.clone()) {
                Some(Json::String(s)) => Some(s),
                _ => None,
            },
            Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => {
                Some(self.konst_string(&b.left)? + &self.konst_string(&b.right)?)
            }
            Expression::TemplateLiteral(t) => self.konst_template(t),
            _ => None,
        }
    }

    fn konst_template(&mut self, t: &TemplateLiteral) -> Option<String> {
        let mut s = String::new();
        for (i, q) in t.quasis.iter().enumerate() {
            s.push_str(q.value.cooked.as_ref()?.as_str());
            if let Some(e) = t.expressions.get(i) {
                s.push_str(&self.konst_string(e)?);
            }
        }
        Some(s)
    }

    fn read(&mut self, path: &str) {
        self.reads.insert(path.to_string());
    }

    fn value(&mut self, e: &Expression, facts: &Facts) -> R<V> {
        let e = e.without_parentheses();
        if self.depth >= MAX_EXPR_DEPTH {
            return self.no(e.span(), format!("an expression nested deeper than {MAX_EXPR_DEPTH} levels"));
        }
        self.depth += 1;
        let v = self.value_inner(e, facts);
        self.depth -= 1;
        let mut v = v?;
        if !v.present && (facts.present.contains(&v.code) || v.path.as_ref().is_some_and(|p| facts.present.contains(p)))
        {
            v.present = true;
        }
        Ok(v)
    }

    fn value_inner(&mut self, e: &Expression, facts: &Facts) -> R<V> {
        match e {
            Expression::StringLiteral(s) => {
                let s = s.value.to_string();
                self.literals.insert(s.clone());
                let mut v = V::new(string_literal(&s), P_ATOM, Ty::Str, true);
                v.konst = Some(Json::String(s));
                Ok(v)
            }
            Expression::NumericLiteral(n) => {
                let x = n.value;
                let (code, ty) = if x.fract() == 0.0 && x.abs() < 9.0e15 {
                    (format!("{}", x as i64), Ty::Int)
                } else {
                    (format!("{x:?}"), Ty::Num)
                };
                self.literals.insert(code.clone());
                let mut v = V::new(code, P_ATOM, ty, true);
                v.konst = serde_json::Number::from_f64(x).map(Json::Number);
                Ok(v)
            }
            Expression::BooleanLiteral(b) => {
                let mut v = V::new(if b.value { "true" } else { "false" }, P_ATOM, Ty::Bool, true);
                v.konst = Some(Json::Bool(b.value));
                Ok(v)
            }
            Expression::NullLiteral(_) => {
                let mut v = V::new("null", P_ATOM, Ty::Any, false);
                v.konst = Some(Json::Null);
                Ok(v)
            }
            Expression::Identifier(id) if id.name == "undefined" => {
                let mut v = V::new("null", P_ATOM, Ty::Any, false);
                v.konst = Some(Json::Null);
                Ok(v)
            }
            Expression::TemplateLiteral(t) => self.template(t, facts),
            Expression::Identifier(id) => self.identifier(id),
            Expression::ArrayExpression(a) => {
                let mut items = Vec::new();
                let mut konsts = Vec::new();
                let mut elem: Option<Ty> = None;
                for el in &a.elements {
                    let Some(x) = el.as_expression() else { return self.no(a.span, "a spread or hole in an array") };
                    let v = self.value(x, facts)?;
                    elem = Some(match elem {
                        None => v.ty.clone(),
                        Some(t) if t == v.ty => t,
                        Some(_) => Ty::Any,
                    });
                    konsts.push(v.konst.clone());
                    items.push(v.code);
                }
                let mut v = V::new(format!("[{}]", items.join(", ")), P_ATOM, Ty::List(Box::new(elem.unwrap_or(Ty::Any))), true);
                v.konst = konsts.into_iter().collect::<Option<Vec<Json>>>().map(Json::Array);
                Ok(v)
            }
            Expression::ObjectExpression(o) => {
                let mut members = Vec::new();
                for p in &o.properties {
                    let ObjectPropertyKind::ObjectProperty(p) = p else { return self.no(p.span(), "a spread in an object") };
                    if p.method || p.computed {
                        return self.no(p.span, "a method or computed key in an object");
                    }
                    let Some(key) = self.property_key(&p.key) else { return self.no(p.span, "an object key warden cannot read") };
                    let v = self.value(&p.value, facts)?;
                    if !v.present {
                        return self.no(p.span, "an object member whose value may be missing (JavaScript keeps the key with undefined or null)");
                    }
                    members.push(format!("{}: {}", string_literal(&key), v.code));
                }
                if members.is_empty() {
                    let mut v = V::new("{}", P_ATOM, Ty::Obj, true);
                    v.or_empty = false;
                    return Ok(v);
                }
                Ok(V::new(format!("{{ {} }}", members.join(", ")), P_ATOM, Ty::Obj, true))
            }
            Expression::StaticMemberExpression(m) => {
                let obj = self.value(&m.object, facts)?;
                self.member(obj, &m.property.name, m.span, m.optional)
            }
            Expression::ComputedMemberExpression(m) => {
                let obj = self.value(&m.object, facts)?;
                if let Some(k) = self.konst_string(&m.expression) {
                    return self.member(obj, &k, m.span, m.optional);
                }
                // `xs[xs.length - 1]`: the last item of a list (missing when it is empty).
                if let (Expression::Identifier(a), Expression::BinaryExpression(b)) =
                    (m.object.without_parentheses(), m.expression.without_parentheses())
                    && b.operator == BinaryOperator::Subtraction
                    && matches!(b.right.without_parentheses(), Expression::NumericLiteral(n) if n.value == 1.0)
                    && let Expression::StaticMemberExpression(len) = b.left.without_parentheses()
                    && len.property.name == "length"
                    && matches!(len.object.without_parentheses(), Expression::Identifier(x) if x.name == a.name)
                    && let Ty::List(elem) = &obj.ty
                {
                    if !obj.present {
                        return self.no(m.span, format!("{} may be missing here, where JavaScript throws a TypeError and the .rule would go on: guard it first", self.describe(&obj)));
                    }
                    // A split list is never empty.
                    let present = obj.code.starts_with("split(");
                    return Ok(V::new(format!("last({})", obj.code), P_ATOM, (**elem).clone(), present));
                }
                let idx = self.value(&m.expression, facts)?;
                if idx.ty == Ty::Int && idx.konst.is_some() && matches!(obj.ty, Ty::List(_) | Ty::Any) {
                    if !obj.present {
                        return self.no(m.span, format!("{} may be missing here, where JavaScript throws a TypeError and the .rule would go on: guard it first", self.describe(&obj)));
                    }
                    let elem = match &obj.ty {
                        Ty::List(t) => (**t).clone(),
                        _ => Ty::Any,
                    };
                    return Ok(V::new(format!("{}[{}]", obj.at(P_ATOM), idx.code), P_ATOM, elem, false));
                }
                self.no(m.span, "a property whose name is computed at run time (a dynamic property name .rule cannot type)")
            }
            Expression::ChainExpression(c) => self.no(c.span, "optional chaining (`?.`): write `x && x.y`"),
            Expression::LogicalExpression(l) => self.logical_value(l, facts),
            Expression::UnaryExpression(u) => match u.operator {
                UnaryOperator::LogicalNot => {
                    let (c, _, _) = self.condition(e, facts)?;
                    Ok(V::new(c.code, c.prec, Ty::Bool, true))
                }
                UnaryOperator::UnaryNegation => {
                    let v = self.value(&u.argument, facts)?;
                    if !v.ty.is_num() || !v.present {
                        return self.no(u.span, "negating a value that is not a number that is always there");
                    }
                    Ok(V::new(format!("-{}", v.at(P_ATOM)), 8, v.ty, true))
                }
                UnaryOperator::Typeof => self.no(u.span, "`typeof` (.rule values are typed by the schema)"),
                _ => self.no(u.span, format!("the operator {}", self.quote(u.span))),
            },
            Expression::BinaryExpression(b) => self.binary_value(b, facts),
            Expression::CallExpression(c) => self.call_value(c, facts),
            Expression::NewExpression(n) => {
                if self.is_name(&n.callee, "Date") {
                    self.uses_time = true;
                    return match n.arguments.as_slice() {
                        [] => Ok(V::new("now()", P_ATOM, Ty::Int, true).kind(Kind::Now)),
                        [a] => {
                            let v = self.argument(a, facts)?;
                            if !matches!(v.ty, Ty::Time | Ty::Int | Ty::Str) {
                                return self.no(n.span, "`new Date(x)` of something that is not a date-time");
                            }
                            Ok(V::new(format!("millis({})", v.code), P_ATOM, Ty::Int, false).kind(Kind::Date))
                        }
                        _ => self.no(n.span, "`new Date(...)` with several arguments (a local date)"),
                    };
                }
                self.no(n.span, format!("{} (objects .rule does not have)", self.quote(n.span)))
            }
            Expression::AwaitExpression(a) => self.no(a.span, format!("awaiting {} (a call that does I/O)", self.quote(a.argument.span()))),
            Expression::ConditionalExpression(c) => {
                self.no(c.span, "a conditional expression (`c ? a : b`): .rule has none; write it as if / else")
            }
            Expression::AssignmentExpression(a) => self.no(a.span, "an assignment inside an expression"),
            Expression::FunctionExpression(f) => self.no(f.span, "a function value"),
            Expression::ArrowFunctionExpression(f) => self.no(f.span, "a function value"),
            Expression::RegExpLiteral(r) => self.no(r.span, "a JavaScript regular expression (its syntax and flags differ from .rule's; write it with matches() by hand)"),
            Expression::UpdateExpression(u) => self.no(u.span, "`++`/`--`"),
            _ => self.no(e.span(), format!("{} is an expression warden cannot translate", self.quote(e.span()))),
        }
    }

    fn identifier(&mut self, id: &IdentifierReference) -> R<V> {
        let name = id.name.as_str();
        if name == self.user {
            let mut v = V::new("user", P_ATOM, Ty::Obj, true);
            v.path = Some("user".into());
            return Ok(v);
        }
        if name == self.context {
            let mut v = V::new("context", P_ATOM, Ty::Obj, true);
            v.path = Some("context".into());
            return Ok(v);
        }
        if let Some(b) = self.lookup(name) {
            if b.value.kind == Kind::Refused {
                return Err(());
            }
            return Ok(b.value.clone());
        }
        match name {
            "configuration" => Ok(V::new("config", P_ATOM, Ty::Obj, true).kind(Kind::Plain)).map(|mut v| {
                v.path = Some("config".into());
                v
            }),
            "global" => self.no(id.span, "`global` (state kept between logins; .rule has none)"),
            "auth0" => Ok(V::new("auth0", P_ATOM, Ty::Obj, true).kind(Kind::Auth0)),
            "request" | "axios" | "fetch" | "http" | "https" => {
                self.no(id.span, format!("`{name}`: a network call (.rule does no I/O; the rule stays JavaScript)"))
            }
            "setTimeout" | "setInterval" | "setImmediate" => self.no(id.span, format!("`{name}` (timers)")),
            "Date" | "Math" | "JSON" | "Object" | "Array" | "String" | "Number" | "console" => {
                Ok(V::new(name, P_ATOM, Ty::Obj, true))
            }
            _ => self.no(id.span, format!("`{name}`, a name that is not defined in the rule")),
        }
    }

    fn member(&mut self, obj: V, name: &str, span: Span, optional: bool) -> R<V> {
        if optional {
            return self.no(span, "optional chaining (`?.`): write `x && x.y`");
        }
        match obj.kind {
            Kind::Plain => {}
            // warden's `auth0.domain` is the configuration key AUTH0_DOMAIN (docs/javascript.md).
            Kind::Auth0 if name == "domain" && obj.code == "auth0" => {
                self.config_keys.insert("AUTH0_DOMAIN".into());
                return Ok(V::new("config.AUTH0_DOMAIN ?? \"tenant.example\"", P_COALESCE, Ty::Str, true));
            }
            Kind::Auth0 if name == "users" && obj.code == "auth0" => {
                return Ok(V::new("auth0.users", P_ATOM, Ty::Obj, true).kind(Kind::Auth0));
            }
            _ => return self.no(span, format!("`.{name}` of {}", self.describe(&obj))),
        }
        if obj.path.as_deref() == Some("config") {
            self.config_keys.insert(name.to_string());
            let mut v = V::new(format!("config.{}", field_name(name)), P_ATOM, Ty::Str, true);
            v.path = Some(format!("config.{name}"));
            return Ok(v);
        }
        if name == "length" {
            if !obj.present {
                return self.no(span, format!("{} may be missing here, where JavaScript throws a TypeError and the .rule would go on: guard it first", self.describe(&obj)));
            }
            if !matches!(obj.ty, Ty::Str | Ty::List(_)) {
                return self.no(span, "`.length` of a value that is neither a string nor a list");
            }
            return Ok(V::new(format!("len({})", obj.code), P_ATOM, Ty::Int, true));
        }
        if !obj.present && !obj.or_empty {
            return self.no(span, format!("{} may be missing here, where JavaScript throws a TypeError reading `.{name}` and the .rule would go on: guard it first (`{} && ...`)", self.describe(&obj), obj.path.clone().unwrap_or(obj.code.clone())));
        }
        if !matches!(obj.ty, Ty::Obj | Ty::Any) {
            return self
                .no(span, format!("`.{name}` of a {} (a JavaScript property .rule does not have)", ty_name(&obj.ty)));
        }
        let path = obj.path.as_ref().map(|p| format!("{p}.{name}"));
        let ty = match &path {
            Some(p) => {
                let parts: Vec<&str> = p.split('.').collect();
                match warden::schema_field(&parts) {
                    Some(t) => Ty::of(t),
                    None if obj.ty == Ty::Obj
                        && (p.starts_with("user.") || p.starts_with("context."))
                        && parts.len() == 2
                        && parts[0] == "context" =>
                    {
                        return self.no(span, format!("`{p}`, which Auth0's context does not have"));
                    }
                    None => Ty::Any,
                }
            }
            None => Ty::Any,
        };
        let present = path.as_deref().is_some_and(|p| ALWAYS_PRESENT.contains(&p));
        if let Some(p) = &path {
            self.read(p);
        }
        let code = format!("{}.{}", obj.at(P_ATOM), field_name(name));
        let mut v = V::new(code, P_ATOM, ty, present);
        v.path = path;
        Ok(v)
    }

    fn logical_value(&mut self, l: &LogicalExpression, facts: &Facts) -> R<V> {
        let left = self.value(&l.left, facts)?;
        match l.operator {
            LogicalOperator::Or if left.ty == Ty::Bool && left.present => {
                let right = self.value(&l.right, facts)?;
                if right.ty != Ty::Bool || !right.present {
                    return self
                        .no(l.span, "`a || b` of a boolean and a value that is not a boolean that is always there");
                }
                let (c, _, _) = self.logical_condition(l, facts)?;
                Ok(V::new(c.code, c.prec, Ty::Bool, true))
            }
            LogicalOperator::Or => {
                // `X || {}`: fields of X, or of nothing.
                if let Expression::ObjectExpression(o) = l.right.without_parentheses()
                    && o.properties.is_empty()
                {
                    if !matches!(left.ty, Ty::Obj | Ty::Any) {
                        return self.no(l.span, "`x || {}` of a value that is not an object");
                    }
                    let mut v = left.clone();
                    v.or_empty = true;
                    v.present = false;
                    return Ok(v);
                }
                let right = self.value(&l.right, facts)?;
                // `X || fallback` is `X ?? fallback` when X is never falsy once present.
                let never_falsy = matches!(left.ty, Ty::List(_) | Ty::Obj);
                let empty_str = left.ty == Ty::Str && right.konst == Some(Json::String(String::new()));
                // Dynamic data: `??` differs from `||` only on a present falsy value (false, 0,
                // ""), which the proof's logins hold; a falsy fallback of the same kind
                // gives the same result for it.
                let dynamic =
                    left.ty == Ty::Any && (right.konst.is_some() || matches!(right.ty, Ty::List(_) | Ty::Obj));
                if !(never_falsy || empty_str || dynamic) {
                    return self.no(l.span, format!("`a || b` where `a` may be falsy but present ({}: JavaScript also replaces an empty string, 0 or false; .rule's `??` only a missing value)", ty_name(&left.ty)));
                }
                if left.present {
                    return Ok(left);
                }
                let mut v = V::new(
                    format!("{} ?? {}", left.at(P_COALESCE + 1), right.at(P_COALESCE)),
                    P_COALESCE,
                    left.ty.clone(),
                    right.present,
                );
                if v.ty == Ty::Any {
                    v.ty = right.ty.clone();
                }
                Ok(v)
            }
            LogicalOperator::And => {
                let (_, yes, _) = self.condition(&l.left, facts)?;
                let mut inner = facts.clone();
                inner.present.extend(yes);
                let right = self.value(&l.right, &inner)?;
                if left.ty == Ty::Bool && right.ty == Ty::Bool {
                    let (c, _, _) = self.logical_condition(l, facts)?;
                    return Ok(V::new(c.code, c.prec, Ty::Bool, true));
                }
                // `a && a.b` as a value: `a.b` when `a` is there (missing when it is not).
                if !matches!(left.ty, Ty::Obj | Ty::List(_) | Ty::Any) {
                    return self.no(l.span, "`a && b` as a value where `a` may be an empty string, 0 or false");
                }
                let mut v = right;
                v.present = v.present && left.present;
                Ok(v)
            }
            LogicalOperator::Coalesce => {
                let right = self.value(&l.right, facts)?;
                if left.present {
                    return Ok(left);
                }
                Ok(V::new(
                    format!("{} ?? {}", left.at(P_COALESCE + 1), right.at(P_COALESCE)),
                    P_COALESCE,
                    left.ty.clone(),
                    right.present,
                ))
            }
        }
    }

    fn binary_value(&mut self, b: &BinaryExpression, facts: &Facts) -> R<V> {
        use BinaryOperator as B;
        match b.operator {
            B::Addition => {
                let (l, r) = (self.value(&b.left, facts)?, self.value(&b.right, facts)?);
                if l.ty == Ty::Str || r.ty == Ty::Str {
                    for v in [&l, &r] {
                        if !v.present {
                            return self.no(b.span, format!("joining {} into a string while it may be missing (JavaScript writes \"undefined\")", self.describe(v)));
                        }
                        if !matches!(v.ty, Ty::Str | Ty::Int | Ty::Bool) {
                            return self.no(b.span, "joining a value that is not a string or an integer into a string");
                        }
                    }
                    let mut v = V::new(interpolate(&[&l, &r]), P_ATOM, Ty::Str, true);
                    if let (Some(Json::String(a)), Some(Json::String(c))) = (&l.konst, &r.konst) {
                        v.konst = Some(Json::String(format!("{a}{c}")));
                    }
                    return Ok(v);
                }
                self.arith(b, l, r, "+", P_ADD)
            }
            B::Subtraction | B::Multiplication | B::Division | B::Remainder => {
                let (l, r) = (self.value(&b.left, facts)?, self.value(&b.right, facts)?);
                let (op, prec) = match b.operator {
                    B::Subtraction => ("-", P_ADD),
                    B::Multiplication => ("*", P_MUL),
                    B::Division => ("/", P_MUL),
                    _ => ("%", P_MUL),
                };
                if op == "/" && !(l.ty == Ty::Num || r.ty == Ty::Num) {
                    return self
                        .no(b.span, "a division of integers (JavaScript's gives a fraction, .rule's truncates)");
                }
                self.arith(b, l, r, op, prec)
            }
            B::StrictEquality
            | B::Equality
            | B::StrictInequality
            | B::Inequality
            | B::LessThan
            | B::LessEqualThan
            | B::GreaterThan
            | B::GreaterEqualThan => {
                let c = self.comparison(b, facts)?;
                Ok(V::new(c.code, c.prec, Ty::Bool, true))
            }
            _ => self.no(b.span, format!("the operator in {}", self.quote(b.span))),
        }
    }

    fn arith(&mut self, b: &BinaryExpression, l: V, r: V, op: &str, prec: u8) -> R<V> {
        if !l.ty.is_num() || !r.ty.is_num() {
            return self.no(b.span, "arithmetic on values that are not numbers");
        }
        let ty = if l.ty == Ty::Int && r.ty == Ty::Int { Ty::Int } else { Ty::Num };
        let present = l.present && r.present;
        let code = format!("{} {op} {}", l.at(prec), r.at(prec + 1));
        let mut v = V::new(code, prec, ty, present);
        if let (Some(Json::Number(a)), Some(Json::Number(c))) = (&l.konst, &r.konst)
            && let (Some(a), Some(c)) = (a.as_f64(), c.as_f64())
        {
            let x = match op {
                "+" => a + c,
                "-" => a - c,
                "*" => a * c,
                _ => f64::NAN,
            };
            v.konst = serde_json::Number::from_f64(x).map(Json::Number);
        }
        Ok(v)
    }

    fn template(&mut self, t: &TemplateLiteral, facts: &Facts) -> R<V> {
        let mut s = String::from("\"");
        for (i, q) in t.quasis.iter().enumerate() {
            let Some(cooked) = q.value.cooked.as_ref() else {
                return self.no(t.span, "an invalid escape in a template");
            };
            self.literals.insert(cooked.to_string());
            s.push_str(&escape(cooked.as_str()));
            if let Some(e) = t.expressions.get(i) {
                let v = self.value(e, facts)?;
                if !v.present {
                    return self.no(
                        e.span(),
                        format!(
                            "{} may be missing here, where JavaScript writes \"undefined\" into the string",
                            self.describe(&v)
                        ),
                    );
                }
                if !matches!(v.ty, Ty::Str | Ty::Int | Ty::Bool) {
                    return self.no(
                        e.span(),
                        "a value in a template that is not a string or an integer (JavaScript writes it its own way)",
                    );
                }
                s.push_str(&format!("${{{}}}", v.code));
            }
        }
        s.push('"');
        let mut v = V::new(s, P_ATOM, Ty::Str, true);
        v.konst = self.konst_template(t).map(Json::String);
        Ok(v)
    }

    fn call_value(&mut self, c: &CallExpression, facts: &Facts) -> R<V> {
        if c.optional {
            return self.no(c.span, "optional chaining (`?.`)");
        }
        // require('ipaddr.js')
        if self.is_name(&c.callee, "require") {
            // Auth0 pinned versions in the name: `require('ipaddr.js@1.9.0')`.
            let module =
                c.arguments.first().and_then(|a| a.as_expression()).and_then(|e| self.konst_string(e)).map(|m| match m
                    .rfind('@')
                {
                    Some(at) if at > 0 => m[..at].to_string(),
                    _ => m,
                });
            return match module.as_deref() {
                Some("ipaddr.js") => Ok(V::new("ipaddr", P_ATOM, Ty::Obj, true).kind(Kind::IpAddrModule)),
                Some(m @ ("request" | "axios" | "node-fetch" | "got" | "superagent" | "http" | "https")) => self.no(
                    c.span,
                    format!("the module `{m}`: a network call (.rule does no I/O; the rule stays JavaScript)"),
                ),
                Some(m) => {
                    self.no(c.span, format!("the module `{m}` (its functions have no .rule equivalent warden knows)"))
                }
                None => self.no(c.span, "`require` of a computed name"),
            };
        }
        let Some((recv, method)) = static_member(&c.callee) else {
            if let Expression::Identifier(id) = &c.callee
                && matches!(id.name.as_str(), "setTimeout" | "setInterval" | "setImmediate")
            {
                return self.no(c.span, format!("`{}` (timers: .rule runs to its end at once)", id.name));
            }
            if let Expression::Identifier(id) = &c.callee
                && matches!(id.name.as_str(), "request" | "fetch")
            {
                return self.no(
                    c.span,
                    format!("`{}`: a network call (.rule does no I/O; the rule stays JavaScript)", id.name),
                );
            }
            if let Expression::Identifier(id) = &c.callee {
                return self.no(c.span, format!("a call of `{}`", id.name));
            }
            return self.no(c.span, format!("the call {}", self.quote(c.span)));
        };
        if let Expression::CallExpression(inner) = recv
            && self.metadata_save(inner).is_some()
        {
            return self.no(c.span, "a metadata save used as a value");
        }
        let recv_v = self.value(recv, facts)?;
        let args: Vec<&Argument> = c.arguments.iter().collect();
        match (&recv_v.kind, method) {
            (Kind::Auth0, _) => {
                return self.no(
                    c.span,
                    format!("the Management API call `{method}` (only saving the user's own metadata translates)"),
                );
            }
            (Kind::IpAddrModule, "process") if args.len() == 1 => {
                let a = self.argument(args[0], facts)?;
                if a.ty != Ty::Str || !a.present {
                    return self.no(c.span, "ipaddr.process of a value that may be missing");
                }
                let mut v = a.clone();
                v.kind = Kind::IpAddr;
                return Ok(v);
            }
            (Kind::IpAddrModule, "parseCIDR") if args.len() == 1 => {
                let Some(cidr) = args[0].as_expression().and_then(|e| self.konst_string(e)) else {
                    return self.no(c.span, "ipaddr.parseCIDR of a computed network");
                };
                self.literals.insert(cidr.clone());
                let mut v = V::new(string_literal(&cidr), P_ATOM, Ty::Str, true);
                v.kind = Kind::Cidr;
                return Ok(v);
            }
            (Kind::IpAddrModule, m) => {
                return self.no(c.span, format!("ipaddr.{m} (only process and parseCIDR translate)"));
            }
            (Kind::IpAddr, "kind") if args.is_empty() => {
                // After `process`, an IPv4 address or an IPv4-mapped IPv6 one is 'ipv4'.
                let mut v = V::new(format!("ip_kind({})", recv_v.code), P_ATOM, Ty::Str, true);
                v.kind = Kind::Plain;
                v.code = format!("{IPKIND_OPEN}{}{IPKIND_CLOSE}", recv_v.code);
                return Ok(v);
            }
            (Kind::IpAddr, "match") if args.len() == 1 => {
                let net = self.argument(args[0], facts)?;
                if net.kind != Kind::Cidr {
                    return self.no(c.span, "addr.match of something other than ipaddr.parseCIDR('...')");
                }
                return Ok(V::new(format!("ip_in({}, {})", recv_v.code, net.code), P_ATOM, Ty::Bool, true));
            }
            (Kind::IpAddr, m) => return self.no(c.span, format!("addr.{m}")),
            (Kind::Now, m) | (Kind::Date, m) => {
                let t = if recv_v.kind == Kind::Now { "now()".to_string() } else { recv_v.code.clone() };
                let present = recv_v.present;
                return match (m, args.len()) {
                    ("getTime" | "valueOf", 0) => Ok(V::new(t, P_ATOM, Ty::Int, present)),
                    ("getUTCDay", 0) => {
                        Ok(V::new(format!("index_of({WEEKDAYS}, weekday({t}))"), P_ATOM, Ty::Int, present))
                    }
                    ("getUTCHours", 0) => Ok(V::new(format!("hour({t})"), P_ATOM, Ty::Int, present)),
                    ("getUTCMinutes", 0) => Ok(V::new(format!("minute({t})"), P_ATOM, Ty::Int, present)),
                    ("toISOString", 0) if recv_v.kind == Kind::Now => {
                        Ok(V::new("format_time(now(), \"%Y-%m-%dT%H:%M:%S%.3fZ\")", P_ATOM, Ty::Str, true))
                    }
                    _ => self.no(
                        c.span,
                        format!("the date method `{m}` (local time or a method .rule lacks; use getUTC… methods)"),
                    ),
                };
            }
            _ => {}
        }
        if recv_v.code == "Date" && method == "now" && args.is_empty() {
            self.uses_time = true;
            return Ok(V::new("now()", P_ATOM, Ty::Int, true));
        }
        if matches!(recv_v.code.as_str(), "Math" | "JSON" | "Object" | "Array" | "String" | "Number") {
            return self.no(c.span, format!("`{}.{method}`", recv_v.code));
        }
        // Methods of strings and lists: JavaScript throws when the receiver is missing.
        if !recv_v.present {
            return self.no(
                c.span,
                format!(
                    "{} may be missing here, where JavaScript throws a TypeError calling `.{method}()` and the .rule would go on: guard it first",
                    self.describe(&recv_v)
                ),
            );
        }
        let list_like = matches!(recv_v.ty, Ty::List(_));
        let str_like = recv_v.ty == Ty::Str;
        let any = recv_v.ty == Ty::Any;
        let r = recv_v.code.clone();
        let arg = |t: &mut Self, i: usize| -> R<V> {
            match args.get(i) {
                Some(a) => t.argument(a, facts),
                None => t.no(c.span, format!("`.{method}` without its argument")),
            }
        };
        let s = |code: String, ty: Ty| Ok(V::new(code, P_ATOM, ty, true));
        match method {
            "toLowerCase" | "toUpperCase" | "trim" if args.is_empty() && (str_like || any) => {
                let f = match method {
                    "toLowerCase" => "lower",
                    "toUpperCase" => "upper",
                    _ => "trim",
                };
                s(format!("{f}({r})"), Ty::Str)
            }
            "startsWith" | "endsWith" if args.len() == 1 && str_like => {
                let a = arg(self, 0)?;
                if a.ty != Ty::Str || !a.present {
                    return self.no(c.span, format!("`.{method}` of a value that may be missing or not a string"));
                }
                let f = if method == "startsWith" { "starts_with" } else { "ends_with" };
                s(format!("{f}({r}, {})", a.code), Ty::Bool)
            }
            "includes" if args.len() == 1 && (str_like || list_like || any) => {
                let a = arg(self, 0)?;
                let cond = self.membership(&recv_v, &a, c.span)?;
                Ok(V::new(cond.code, cond.prec, Ty::Bool, true))
            }
            "indexOf" if args.len() == 1 && (str_like || list_like) => {
                let a = arg(self, 0)?;
                s(format!("index_of({r}, {})", a.code), Ty::Int)
            }
            "split" if args.len() == 1 && (str_like || any) => {
                let a = arg(self, 0)?;
                if a.ty != Ty::Str || a.konst.is_none() {
                    return self
                        .no(c.span, "`.split` on something other than a string literal (a regular expression?)");
                }
                if a.konst == Some(Json::String(String::new())) {
                    return self.no(c.span, "`.split('')` (JavaScript splits UTF-16 code units, .rule characters)");
                }
                s(format!("split({r}, {})", a.code), Ty::List(Box::new(Ty::Str)))
            }
            "join" if args.len() == 1 && list_like => {
                let a = arg(self, 0)?;
                if recv_v.ty != Ty::List(Box::new(Ty::Str)) {
                    return self.no(c.span, "`.join` of a list that may hold more than strings");
                }
                s(format!("join({r}, {})", a.code), Ty::Str)
            }
            "slice" if args.is_empty() && (str_like || list_like) => Ok(recv_v.clone()),
            "push" | "pop" | "shift" | "unshift" | "splice" | "sort" | "reverse" | "fill" | "copyWithin" if list_like && !(matches!(method, "pop" | "shift") && recv_v.code.starts_with("split(")) => self.no(
                c.span,
                format!("`.{method}()` changes the list in place (.rule values do not change: build a new list with union, sort or a comprehension)"),
            ),
            "slice" | "substring" if (1..=2).contains(&args.len()) && (str_like || list_like) => {
                let mut parts = vec![r.clone()];
                for i in 0..args.len() {
                    let a = arg(self, i)?;
                    if a.ty != Ty::Int || !a.present {
                        return self.no(c.span, format!("`.{method}` with a position that is not an integer that is always there"));
                    }
                    // `substring` swaps and clamps negative positions where `slice` counts
                    // from the end: only non-negative literals mean the same.
                    if method == "substring" && !matches!(&a.konst, Some(Json::Number(n)) if n.as_f64().is_some_and(|x| x >= 0.0)) {
                        return self.no(c.span, "`.substring` with a computed position (write `.slice`)");
                    }
                    parts.push(a.code);
                }
                s(format!("slice({})", parts.join(", ")), recv_v.ty.clone())
            }
            "pop" | "shift" if args.is_empty() && list_like && recv_v.code.starts_with("split(") => {
                // `x.split('@').pop()` on a fresh list: its last (first) item, never missing.
                let f = if method == "pop" { "last" } else { "first" };
                s(format!("{f}({r})"), Ty::Str)
            }
            "replaceAll" if args.len() == 2 && str_like => {
                let (a, b2) = (arg(self, 0)?, arg(self, 1)?);
                if a.konst.is_none()
                    || a.ty != Ty::Str
                    || b2.ty != Ty::Str
                    || a.konst == Some(Json::String(String::new()))
                {
                    return self.no(c.span, "`.replaceAll` with a pattern that is not a non-empty string literal");
                }
                s(format!("replace({r}, {}, {})", a.code, b2.code), Ty::Str)
            }
            "some" | "every" | "filter" | "map" if args.len() == 1 && list_like => {
                self.list_method(c, &recv_v, method, args[0], facts)
            }
            _ => self.no(c.span, format!("the method `.{method}()` on a {}", ty_name(&recv_v.ty))),
        }
    }

    /// The declarations before a callback's `return`, bound in its scope to their values (a
    /// `.rule` quantifier has no `let`: each use reads the value again, which is the same for
    /// values without effects, the only ones the translation produces).
    fn callback_names(&mut self, decls: &[Statement], facts: &Facts) -> R<()> {
        for d in decls {
            let Statement::VariableDeclaration(d) = d else {
                return self.no(d.span(), "a statement in a callback");
            };
            for decl in &d.declarations {
                let (js, init) = self.bound_once(decl)?;
                let v = self.value(init, facts)?;
                self.bind(&js, Binding { value: v });
            }
        }
        Ok(())
    }

    /// `list.some(x => ...)`, `every`, `filter`, `map`: quantifiers and comprehensions.
    fn list_method(&mut self, c: &CallExpression, list: &V, method: &str, f: &Argument, facts: &Facts) -> R<V> {
        let (param, body): (String, Body) = match f {
            Argument::ArrowFunctionExpression(a) if a.params.items.len() == 1 => {
                let BindingPattern::BindingIdentifier(id) = &a.params.items[0].pattern else {
                    return self.no(a.span, "a destructuring parameter");
                };
                let body = match &a.body {
                    ArrowFunctionBody::FunctionBody(b) => Body::Stmts(&b.statements),
                    e => match e.as_expression() {
                        Some(x) => Body::Expr(x),
                        None => return self.no(a.span, "an arrow function warden cannot read"),
                    },
                };
                (id.name.to_string(), body)
            }
            Argument::FunctionExpression(fx) if fx.params.items.len() == 1 => {
                let BindingPattern::BindingIdentifier(id) = &fx.params.items[0].pattern else {
                    return self.no(fx.span, "a destructuring parameter");
                };
                match &fx.body {
                    Some(b) => (id.name.to_string(), Body::Stmts(&b.statements)),
                    None => return self.no(fx.span, "a function without a body"),
                }
            }
            _ => return self.no(f.span(), format!("`.{method}` with a callback that is not a one-parameter function")),
        };
        // A body of statements translates when it is names bound once and a final `return`:
        // the names stand for their values inside the quantifier or comprehension.
        let (decls, body_expr): (&[Statement], &Expression) = match body {
            Body::Expr(e) => (&[], e),
            Body::Stmts(stmts) => match stmts.split_last() {
                Some((Statement::ReturnStatement(r), decls))
                    if decls.iter().all(|d| matches!(d, Statement::VariableDeclaration(_))) =>
                {
                    match &r.argument {
                        Some(e) => (decls, e),
                        None => return self.no(c.span, "a callback that returns nothing"),
                    }
                }
                _ => {
                    return self.no(
                        c.span,
                        format!(
                            "a `.{method}` callback with statements other than `const` declarations and a final `return EXPR`"
                        ),
                    );
                }
            },
        };
        let var = self.fresh(&param);
        let elem = match &list.ty {
            Ty::List(t) => (**t).clone(),
            _ => Ty::Any,
        };
        // Items of a typed list are never missing; of dynamic data, they may be.
        let mut item = V::new(var.clone(), P_ATOM, elem.clone(), elem != Ty::Any);
        item.path = None;
        self.scopes.push(BTreeMap::new());
        self.bind(&param, Binding { value: item });
        let result = self.callback_names(decls, facts).and_then(|()| match method {
            "map" => self.value(body_expr, facts).map(|v| (None, Some(v))),
            _ => self.condition(body_expr, facts).map(|(cnd, _, _)| (Some(cnd), None)),
        });
        self.scopes.pop();
        // The variable is visible in its own body only: the next quantifier may use the name.
        self.names.remove(&var);
        let (cond, val) = result?;
        let l = list.at(P_CMP + 1);
        match (method, cond, val) {
            ("some", Some(cnd), _) => Ok(V::new(format!("any {var} in {l}: {}", cnd.code), P_QUANT, Ty::Bool, true)),
            ("every", Some(cnd), _) => Ok(V::new(format!("all {var} in {l}: {}", cnd.code), P_QUANT, Ty::Bool, true)),
            ("filter", Some(cnd), _) => {
                Ok(V::new(format!("[{var} for {var} in {} if {}]", list.code, cnd.code), P_ATOM, list.ty.clone(), true))
            }
            ("map", _, Some(v)) => {
                if !v.present {
                    return self.no(
                        c.span,
                        "a `.map` whose result may be missing for some items (JavaScript keeps undefined)",
                    );
                }
                Ok(V::new(format!("[{} for {var} in {}]", v.code, list.code), P_ATOM, Ty::List(Box::new(v.ty)), true))
            }
            _ => self.no(c.span, format!("`.{method}`")),
        }
    }
}

const IPKIND_OPEN: &str = "\u{1}ipkind(";
const IPKIND_CLOSE: &str = ")\u{1}";

enum Flow {
    /// The statement is done; the next one follows.
    Next,
    /// The statement called callback: nothing after it runs.
    Ended,
    /// The statement translated the rest of the block too; whether every path ended.
    Consumed(bool),
}

enum Body<'a> {
    Stmts(&'a [Statement<'a>]),
    Expr(&'a Expression<'a>),
}

/// `obj.name` as (obj, name).
fn static_member<'a>(e: &'a Expression<'a>) -> Option<(&'a Expression<'a>, &'a str)> {
    match e.without_parentheses() {
        Expression::StaticMemberExpression(m) => Some((&m.object, m.property.name.as_str())),
        _ => None,
    }
}

fn ty_name(t: &Ty) -> &'static str {
    match t {
        Ty::Bool => "boolean",
        Ty::Int | Ty::Num => "number",
        Ty::Str => "string",
        Ty::Time => "date-time",
        Ty::List(_) => "list",
        Ty::Obj => "object",
        Ty::Any => "value of unknown type",
    }
}

/// A `.rule` string literal.
pub fn string_literal(s: &str) -> String {
    format!("\"{}\"", escape(s))
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' => out.push_str("\\$"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:X}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `a + b` of strings (and integers) as one interpolated string.
fn interpolate(parts: &[&V]) -> String {
    let mut s = String::from("\"");
    for p in parts {
        match &p.konst {
            Some(Json::String(k)) => s.push_str(&escape(k)),
            _ if p.code.starts_with('"') && p.code.ends_with('"') && p.prec == P_ATOM => {
                s.push_str(&p.code[1..p.code.len() - 1]);
            }
            _ => s.push_str(&format!("${{{}}}", p.code)),
        }
    }
    s.push('"');
    s
}

/// A field name after `.` in a path, or `["..."]` when it is not a name.
fn field_name(name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain { name.to_string() } else { format!("[{}]", string_literal(name)) }
}

fn comment_line(text: &str) -> String {
    if text.is_empty() { "#\n".into() } else { format!("# {text}\n") }
}

/// Replaces the placeholder of `addr.kind()` by the `.rule` test; see `ip_kind_test`.
fn finish_code(line: &str) -> String {
    let mut out = line.to_string();
    // `ipkind(X) == "ipv4"` → ip_in(X, "0.0.0.0/0"); `== "ipv6"` → not ...
    while let Some(s) = out.find(IPKIND_OPEN) {
        let Some(e) = out[s..].find(IPKIND_CLOSE).map(|e| s + e) else { break };
        let addr = out[s + IPKIND_OPEN.len()..e].to_string();
        let after = &out[e + IPKIND_CLOSE.len()..];
        let (replacement, consumed) = if let Some(r) = after.strip_prefix(" == \"ipv4\"") {
            (format!("ip_in({addr}, \"0.0.0.0/0\")"), after.len() - r.len())
        } else if let Some(r) = after.strip_prefix(" != \"ipv4\"") {
            (format!("not ip_in({addr}, \"0.0.0.0/0\")"), after.len() - r.len())
        } else if let Some(r) = after.strip_prefix(" == \"ipv6\"") {
            (format!("not ip_in({addr}, \"0.0.0.0/0\")"), after.len() - r.len())
        } else if let Some(r) = after.strip_prefix(" != \"ipv6\"") {
            (format!("ip_in({addr}, \"0.0.0.0/0\")"), after.len() - r.len())
        } else {
            // Left as is: the `.rule` will not check, and the proof says so.
            (format!("ip_kind({addr})"), 0)
        };
        out = format!("{}{replacement}{}", &out[..s], &out[e + IPKIND_CLOSE.len() + consumed..]);
    }
    out
}

fn render(out: &[Out], depth: usize, text: &mut String) {
    let pad = "    ".repeat(depth);
    for o in out {
        match o {
            Out::Line(l) => text.push_str(&format!("{pad}{}\n", finish_code(l))),
            Out::Comment(c) => text.push_str(&format!("{pad}{}", comment_line(c))),
            Out::If { cond, then, otherwise } => {
                text.push_str(&format!("{pad}if {} {{\n", finish_code(cond)));
                render(then, depth + 1, text);
                match otherwise {
                    None => text.push_str(&format!("{pad}}}\n")),
                    Some(e) => {
                        // `} else if c {` when the else branch is one `if`.
                        if let [Out::If { .. }] = e.as_slice() {
                            let mut inner = String::new();
                            render(e, depth, &mut inner);
                            text.push_str(&format!("{pad}}} else {}", inner.trim_start()));
                        } else {
                            text.push_str(&format!("{pad}}} else {{\n"));
                            render(e, depth + 1, text);
                            text.push_str(&format!("{pad}}}\n"));
                        }
                    }
                }
            }
        }
    }
}

/// Drops `let` lines whose name nothing after them uses (constants folded into claim names,
/// aliases).
fn prune_lets(out: Vec<Out>) -> Vec<Out> {
    fn uses(out: &[Out], name: &str) -> bool {
        out.iter().any(|o| match o {
            Out::Line(l) => mentions(l, name),
            Out::Comment(_) => false,
            Out::If { cond, then, otherwise } => {
                mentions(cond, name) || uses(then, name) || otherwise.as_ref().is_some_and(|e| uses(e, name))
            }
        })
    }
    fn go(out: Vec<Out>, later: &[Out]) -> Vec<Out> {
        let mut kept = Vec::new();
        for (i, o) in out.iter().enumerate() {
            match o {
                Out::Line(l) if l.starts_with("let ") => {
                    let name = l[4..].split(' ').next().unwrap_or("");
                    let rest = &out[i + 1..];
                    if uses(rest, name) || uses(later, name) {
                        kept.push(o.clone());
                    }
                }
                Out::If { cond, then, otherwise } => {
                    let mut after: Vec<Out> = out[i + 1..].to_vec();
                    after.extend(later.iter().cloned());
                    kept.push(Out::If {
                        cond: cond.clone(),
                        then: go(then.clone(), &after),
                        otherwise: otherwise.clone().map(|e| go(e, &after)),
                    });
                }
                other => kept.push(other.clone()),
            }
        }
        kept
    }
    go(out, &[])
}

/// Whether `code` uses `name` as a name (not inside a string, not as a field after `.`).
fn mentions(code: &str, name: &str) -> bool {
    let bytes = code.as_bytes();
    let mut in_str = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_str {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == b'"' {
                in_str = false;
            }
            // Interpolations inside strings use names too.
            if b == b'$' && bytes.get(i + 1) == Some(&b'{') {
                let end = code[i..].find('}').map_or(code.len(), |e| i + e);
                if mentions(&code[i + 2..end], name) {
                    return true;
                }
                i = end;
                continue;
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_str = true;
            i += 1;
            continue;
        }
        if code.is_char_boundary(i) && code[i..].starts_with(name) {
            let before = i.checked_sub(1).map(|j| bytes[j]);
            let after = bytes.get(i + name.len()).copied();
            let word = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
            if !word(before) && before != Some(b'.') && !word(after) {
                return true;
            }
        }
        i += 1;
    }
    false
}

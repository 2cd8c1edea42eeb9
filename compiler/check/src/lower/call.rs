//! Built-in function calls, `list()` files, regexes and networks.

use warden_ir::{self as ir, ExprId, ExprKind};
use warden_syntax::Span;
use warden_syntax::ast;

use super::Lowerer;
use super::expr::{a, comparable, literal_str, plural, suggest_or};
use crate::schema::{CTy, WEEKDAYS};
use crate::suggest::did_you_mean;

const FUNCTIONS: &[&str] = &[
    "lower",
    "upper",
    "trim",
    "starts_with",
    "ends_with",
    "contains",
    "split",
    "join",
    "len",
    "email_domain",
    "matches",
    "ip_in",
    "now",
    "days_since",
    "weekday",
    "list",
];

impl Lowerer<'_> {
    /// Loads `list("file")` relative to the current rule file.
    pub(super) fn list_file(&mut self, args: &[ast::Expr], span: Span) -> Option<Vec<String>> {
        let Some(name) = list_arg(args) else {
            self.err("E0116", "list() takes one string literal: the file name", span, "expected list(\"file.txt\")");
            return None;
        };
        let path = self.dir.join(&name);
        if let Some(cached) = self.lists.get(&path).cloned() {
            if cached.is_none() {
                self.err("E0113", format!("cannot read list file `{name}`"), span, "unreadable file");
            }
            return cached;
        }
        let loaded = match crate::read_text(&path) {
            Ok(text) => Some(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(String::from)
                    .collect::<Vec<_>>(),
            ),
            Err(reason) => {
                self.err("E0113", format!("cannot read list file `{name}`: {reason}"), span, "unreadable file").help =
                    Some(format!("list files are read relative to the rule file, here `{}`", path.display()));
                None
            }
        };
        self.lists.insert(path, loaded.clone());
        loaded
    }

    pub(super) fn call(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> (ExprId, CTy) {
        use ir::Builtin as B;
        let f = name.name.as_str();
        let arity = |n: usize| -> (usize, usize) { (n, n) };
        let (min, max) = match f {
            "now" => arity(0),
            "lower" | "upper" | "trim" | "len" | "email_domain" | "days_since" | "weekday" | "list" => arity(1),
            "starts_with" | "ends_with" | "contains" | "split" | "join" | "matches" => arity(2),
            "ip_in" => (2, usize::MAX),
            _ => {
                let help = suggest_or(
                    did_you_mean(f, FUNCTIONS.iter().copied()),
                    "see the built-in functions in docs/language.md",
                );
                self.err("E0102", format!("unknown function `{f}`"), name.span, "not a built-in").help = Some(help);
                for a_ in args {
                    self.expr(a_);
                }
                return self.poison(span);
            }
        };
        if args.len() < min || args.len() > max {
            let want = if max == usize::MAX { format!("at least {min}") } else { min.to_string() };
            self.err(
                "E0103",
                format!(
                    "`{f}` takes {want} argument{}, found {}",
                    if min == 1 && max == 1 { "" } else { "s" },
                    args.len()
                ),
                span,
                "wrong number of arguments",
            )
            .help = Some(signature(f).into());
            return self.poison(span);
        }
        match f {
            "list" => {
                self.err(
                    "E0112",
                    "list() can only be used after `in`/`not in` or in ip_in()",
                    span,
                    "not allowed here",
                )
                .help = Some("write `x in list(\"file.txt\")`".into());
                self.poison(span)
            }
            "matches" => {
                let s = self.arg(&args[0], &CTy::Str, f);
                let Some(pattern) = literal_str(&args[1]) else {
                    self.err(
                        "E0116",
                        "the pattern of matches() must be a string literal",
                        args[1].span,
                        "not a literal",
                    )
                    .help = Some("patterns are compiled once, when the rule is compiled".into());
                    return self.poison(span);
                };
                if let Err(e) = regex::Regex::new(&pattern) {
                    let text = e.to_string();
                    let last = text.lines().last().unwrap_or("invalid pattern").trim();
                    let reason = last.strip_prefix("error: ").unwrap_or(last).to_string();
                    self.err(
                        "E0114",
                        format!("invalid regular expression: {reason}"),
                        args[1].span,
                        "does not compile",
                    )
                    .help = Some("warden uses the Rust regex syntax (no look-around or backreferences)".into());
                    return self.poison(span);
                }
                self.prog.regexes.push(pattern);
                let id = (self.prog.regexes.len() - 1) as ir::RegexId;
                (self.push(ExprKind::Matches(s, id), &CTy::Bool, span), CTy::Bool)
            }
            "ip_in" => {
                let ip = self.arg(&args[0], &CTy::Str, f);
                let mut nets = Vec::new();
                let mut ok = true;
                for a_ in &args[1..] {
                    if let ast::ExprKind::Call(n, la) = &a_.kind
                        && n.name == "list"
                    {
                        match self.list_file(la, a_.span) {
                            Some(items) => {
                                for item in items {
                                    match parse_net(&item) {
                                        Some(n) => nets.push(n),
                                        None => {
                                            ok = false;
                                            self.err(
                                                "E0115",
                                                format!(
                                                    "invalid network `{item}` in {}",
                                                    list_arg(la).unwrap_or_default()
                                                ),
                                                a_.span,
                                                "bad entry in list file",
                                            )
                                            .help = Some(
                                                "entries are CIDRs (10.0.0.0/8, 2001:db8::/32) or addresses".into(),
                                            );
                                        }
                                    }
                                }
                            }
                            None => ok = false,
                        }
                        continue;
                    }
                    match literal_str(a_) {
                        Some(s) => match parse_net(&s) {
                            Some(n) => nets.push(n),
                            None => {
                                ok = false;
                                self.err("E0115", format!("invalid network `{s}`"), a_.span, "not a CIDR or address")
                                    .help =
                                    Some("write networks as 10.0.0.0/8 or 2001:db8::/32, or single addresses".into());
                            }
                        },
                        None => {
                            ok = false;
                            self.err(
                                "E0116",
                                "networks in ip_in() must be string literals or list(\"file\")",
                                a_.span,
                                "not a literal",
                            )
                            .help = Some("networks are parsed once, when the rule is compiled".into());
                        }
                    }
                }
                if !ok {
                    return self.poison(span);
                }
                self.prog.cidrs.push(ir::CidrSet { nets });
                let id = (self.prog.cidrs.len() - 1) as ir::CidrId;
                (self.push(ExprKind::IpIn(ip, id), &CTy::Bool, span), CTy::Bool)
            }
            _ => {
                let (builtin, ret, params): (B, CTy, Vec<CTy>) = match f {
                    "lower" => (B::Lower, CTy::Str, vec![CTy::Str]),
                    "upper" => (B::Upper, CTy::Str, vec![CTy::Str]),
                    "trim" => (B::Trim, CTy::Str, vec![CTy::Str]),
                    "starts_with" => (B::StartsWith, CTy::Bool, vec![CTy::Str, CTy::Str]),
                    "ends_with" => (B::EndsWith, CTy::Bool, vec![CTy::Str, CTy::Str]),
                    "split" => (B::Split, CTy::List(Box::new(CTy::Str)), vec![CTy::Str, CTy::Str]),
                    "join" => (B::Join, CTy::Str, vec![CTy::List(Box::new(CTy::Str)), CTy::Str]),
                    "email_domain" => (B::EmailDomain, CTy::Str, vec![CTy::Str]),
                    "now" => (B::Now, CTy::Int, vec![]),
                    "days_since" => (B::DaysSince, CTy::Float, vec![CTy::Time]),
                    "weekday" => (B::Weekday, CTy::Enum(WEEKDAYS), vec![CTy::Time]),
                    "len" => {
                        let (x, xt) = self.expr(&args[0]);
                        if !(xt.is_dyn() || xt.is_str() || matches!(xt, CTy::List(_) | CTy::Obj(_))) {
                            self.err(
                                "E0104",
                                format!("len() takes a string, list or object, found {}", a(&xt)),
                                args[0].span,
                                "no length",
                            );
                        }
                        return (self.push(ExprKind::Call(B::Len, vec![x]), &CTy::Int, span), CTy::Int);
                    }
                    _ => {
                        // contains(text, part) or contains(list, element)
                        let (x, xt) = self.expr(&args[0]);
                        let (y, yt) = self.expr(&args[1]);
                        match &xt {
                            t if t.is_str() => {
                                if !yt.fits(&CTy::Str) {
                                    self.err(
                                        "E0104",
                                        format!("contains(text, part) looks for a string, found {}", a(&yt)),
                                        args[1].span,
                                        "not a string",
                                    );
                                }
                            }
                            CTy::List(t) if !comparable(t, &yt) => {
                                self.err(
                                    "E0106",
                                    format!("cannot look for {} in a list of {}", a(&yt), plural(t)),
                                    args[1].span,
                                    "mismatched types",
                                );
                            }
                            CTy::List(_) | CTy::Dyn | CTy::Null => {}
                            other => {
                                self.err(
                                    "E0104",
                                    format!("contains() takes a string or a list, found {}", a(other)),
                                    args[0].span,
                                    "not a string or list",
                                );
                            }
                        }
                        return (self.push(ExprKind::Call(B::Contains, vec![x, y]), &CTy::Bool, span), CTy::Bool);
                    }
                };
                let ids = args.iter().zip(&params).map(|(a_, p)| self.arg(a_, p, f)).collect();
                (self.push(ExprKind::Call(builtin, ids), &ret, span), ret)
            }
        }
    }

    pub(super) fn arg(&mut self, e: &ast::Expr, want: &CTy, f: &str) -> ExprId {
        let (id, ty) = self.expr(e);
        if !ty.fits(want) {
            self.err(
                "E0104",
                format!("`{f}` expects {}, found {}", a(want), a(&ty)),
                e.span,
                format!("this is {}", a(&ty)),
            )
            .help = Some(signature(f).into());
        }
        id
    }
}

pub(super) fn signature(f: &str) -> &'static str {
    match f {
        "lower" => "lower(text) -> string",
        "upper" => "upper(text) -> string",
        "trim" => "trim(text) -> string",
        "starts_with" => "starts_with(text, prefix) -> bool",
        "ends_with" => "ends_with(text, suffix) -> bool",
        "contains" => "contains(text, part) or contains(list, element) -> bool",
        "split" => "split(text, separator) -> list<string>",
        "join" => "join(list<string>, separator) -> string",
        "len" => "len(text | list | object) -> int",
        "email_domain" => "email_domain(email) -> string",
        "matches" => "matches(text, \"regex\") -> bool",
        "ip_in" => "ip_in(address, \"cidr\", ...) or ip_in(address, list(\"file\")) -> bool",
        "now" => "now() -> int (epoch milliseconds)",
        "days_since" => "days_since(time) -> float",
        "weekday" => "weekday(time) -> string",
        _ => "list(\"file.txt\") after `in`",
    }
}

pub(super) fn list_arg(args: &[ast::Expr]) -> Option<String> {
    match args {
        [one] => literal_str(one),
        _ => None,
    }
}

pub(crate) fn parse_net(s: &str) -> Option<ipnet::IpNet> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>().ok().or_else(|| s.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
}

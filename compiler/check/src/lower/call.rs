//! Built-in function calls, `list()` files, regexes and networks. What each builtin takes and
//! gives comes from its row in [`warden_ir::BUILTINS`]; only the builtins whose checks are
//! their own (literals, files, several accepted types) have an arm here.

use warden_ir::builtins::{self, Function, Node, Param, Returns};
use warden_ir::{self as ir, Builtin, ExprId, ExprKind};
use warden_syntax::{Span, ast, codes};

use super::Lowerer;
use super::expr::{a, comparable, literal_str, plural, suggest_or};
use crate::schema::{CTy, WEEKDAYS};
use crate::suggest::did_you_mean;

impl Lowerer<'_> {
    /// Loads `list("file")` relative to the current rule file.
    pub(super) fn list_file(&mut self, args: &[ast::Expr], span: Span) -> Option<Vec<String>> {
        let Some(name) = list_arg(args) else {
            self.err(
                codes::E0116,
                "list() takes one string literal: the file name",
                span,
                "expected list(\"file.txt\")",
            );
            return None;
        };
        let path = self.dir.join(&name);
        if let Some(cached) = self.lists.get(&path).cloned() {
            if cached.is_none() {
                self.err(codes::E0113, format!("cannot read list file `{name}`"), span, "unreadable file");
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
                self.err(codes::E0113, format!("cannot read list file `{name}`: {reason}"), span, "unreadable file")
                    .help = Some(format!("list files are read relative to the rule file, here `{}`", path.display()));
                None
            }
        };
        self.lists.insert(path, loaded.clone());
        loaded
    }

    pub(super) fn call(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> (ExprId, CTy) {
        let f = name.name.as_str();
        let Some(function) = builtins::lookup(f) else {
            let help = suggest_or(
                did_you_mean(f, ir::BUILTINS.iter().map(|b| b.name)),
                "see the built-in functions in docs/language.md",
            );
            self.err(codes::E0102, format!("unknown function `{f}`"), name.span, "not a built-in").help = Some(help);
            for a_ in args {
                self.expr(a_);
            }
            return self.poison(span);
        };
        let (min, max) = function.arity();
        if args.len() < min || max.is_some_and(|max| args.len() > max) {
            let want = if max.is_none() { format!("at least {min}") } else { min.to_string() };
            self.err(
                codes::E0103,
                format!(
                    "`{f}` takes {want} argument{}, found {}",
                    if (min, max) == (1, Some(1)) { "" } else { "s" },
                    args.len()
                ),
                span,
                "wrong number of arguments",
            )
            .help = Some(function.signature.into());
            return self.poison(span);
        }
        match function.node {
            Node::List => {
                self.err(
                    codes::E0112,
                    "list() can only be used after `in`/`not in` or in ip_in()",
                    span,
                    "not allowed here",
                )
                .help = Some("write `x in list(\"file.txt\")`".into());
                self.poison(span)
            }
            Node::Matches => {
                let s = self.arg(&args[0], &param_ty(function.params[0]), function);
                if let Some(c) = self.config_ref(&args[1]) {
                    return match (c.ty, c.id) {
                        (Some(ir::ConfigType::Regex), Some(id)) => {
                            (self.push(ExprKind::MatchesConfig(s, id), &CTy::Bool, span), CTy::Bool)
                        }
                        (None, _) => self.poison(span),
                        _ => {
                            let (msg, help) = c.wrong_type(ir::ConfigType::Regex, "^[^@]+@example\\.com$");
                            self.err(codes::E0104, msg, args[1].span, "not a regex").help = Some(help);
                            self.poison(span)
                        }
                    };
                }
                let Some(pattern) = literal_str(&args[1]) else {
                    self.err(
                        codes::E0116,
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
                        codes::E0114,
                        format!("invalid regular expression: {reason}"),
                        args[1].span,
                        "does not compile",
                    )
                    .help = Some("warden uses the Rust regex syntax (no look-around or backreferences)".into());
                    return self.poison(span);
                }
                self.prog.regexes.push(pattern);
                let id = ir::RegexId::from_index(self.prog.regexes.len() - 1);
                (self.push(ExprKind::Matches(s, id), &CTy::Bool, span), CTy::Bool)
            }
            Node::IpIn => {
                let ip = self.arg(&args[0], &param_ty(function.params[0]), function);
                if let Some((at, c)) = args[1..].iter().find_map(|a_| Some((a_.span, self.config_ref(a_)?))) {
                    return match (c.ty, c.id) {
                        (Some(ir::ConfigType::CidrList), Some(id)) if args.len() == 2 => {
                            (self.push(ExprKind::IpInConfig(ip, id), &CTy::Bool, span), CTy::Bool)
                        }
                        (Some(ir::ConfigType::CidrList), Some(_)) => {
                            self.err(
                                codes::E0116,
                                format!("`config.{}` must be the only networks of ip_in()", c.key),
                                span,
                                "networks from the configuration and from the rule",
                            )
                            .help = Some(format!(
                                "test them apart: `ip_in(ip, config.{}) or ip_in(ip, \"10.0.0.0/8\")`",
                                c.key
                            ));
                            self.poison(span)
                        }
                        (None, _) => self.poison(span),
                        _ => {
                            let (msg, help) = c.wrong_type(ir::ConfigType::CidrList, "10.0.0.0/8, 192.168.1.0/24");
                            self.err(codes::E0104, msg, at, "not a cidr list").help = Some(help);
                            self.poison(span)
                        }
                    };
                }
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
                                                codes::E0115,
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
                                self.err(
                                    codes::E0115,
                                    format!("invalid network `{s}`"),
                                    a_.span,
                                    "not a CIDR or address",
                                )
                                .help =
                                    Some("write networks as 10.0.0.0/8 or 2001:db8::/32, or single addresses".into());
                            }
                        },
                        None => {
                            ok = false;
                            self.err(
                                codes::E0116,
                                "networks in ip_in() must be string literals or list(\"file\")",
                                a_.span,
                                "not a literal",
                            )
                            .help = Some(
                                "networks are parsed once, when the rule is compiled (or, from a `cidr list` configuration key, when the configuration is loaded)"
                                    .into(),
                            );
                        }
                    }
                }
                if !ok {
                    return self.poison(span);
                }
                self.prog.cidrs.push(ir::CidrSet { nets });
                let id = ir::CidrId::from_index(self.prog.cidrs.len() - 1);
                (self.push(ExprKind::IpIn(ip, id), &CTy::Bool, span), CTy::Bool)
            }
            Node::Call(Builtin::Len) => {
                let (x, xt) = self.expr(&args[0]);
                if !(xt.is_dyn() || xt.is_str() || matches!(xt, CTy::List(_) | CTy::Obj(_))) {
                    self.err(
                        codes::E0104,
                        format!("len() takes a string, list or object, found {}", a(&xt)),
                        args[0].span,
                        "no length",
                    );
                }
                (self.push(ExprKind::Call(Builtin::Len, vec![x]), &CTy::Int, span), CTy::Int)
            }
            Node::Call(Builtin::Contains) => {
                // contains(text, part) or contains(list, element)
                let (x, xt) = self.expr(&args[0]);
                let (y, yt) = self.expr(&args[1]);
                match &xt {
                    t if t.is_str() => {
                        if !yt.fits(&CTy::Str) {
                            self.err(
                                codes::E0104,
                                format!("contains(text, part) looks for a string, found {}", a(&yt)),
                                args[1].span,
                                "not a string",
                            );
                        }
                    }
                    CTy::List(t) if !comparable(t, &yt) => {
                        self.err(
                            codes::E0106,
                            format!("cannot look for {} in a list of {}", a(&yt), plural(t)),
                            args[1].span,
                            "mismatched types",
                        );
                    }
                    CTy::List(_) | CTy::Dyn | CTy::Null => {}
                    other => {
                        self.err(
                            codes::E0104,
                            format!("contains() takes a string or a list, found {}", a(other)),
                            args[0].span,
                            "not a string or list",
                        );
                    }
                }
                (self.push(ExprKind::Call(Builtin::Contains, vec![x, y]), &CTy::Bool, span), CTy::Bool)
            }
            Node::Call(builtin) => {
                let ids =
                    args.iter().zip(function.params).map(|(a_, p)| self.arg(a_, &param_ty(*p), function)).collect();
                let ret = returns_ty(function.returns);
                (self.push(ExprKind::Call(builtin, ids), &ret, span), ret)
            }
        }
    }

    /// An argument of `function` that must fit `want`.
    pub(super) fn arg(&mut self, e: &ast::Expr, want: &CTy, function: &Function) -> ExprId {
        let (id, ty) = self.expr(e);
        if !ty.fits(want) {
            self.err(
                codes::E0104,
                format!("`{}` expects {}, found {}", function.name, a(want), a(&ty)),
                e.span,
                format!("this is {}", a(&ty)),
            )
            .help = Some(function.signature.into());
        }
        id
    }
}

/// The checker's type for a parameter of a builtin without an arm of its own.
fn param_ty(p: Param) -> CTy {
    match p {
        Param::Str => CTy::Str,
        Param::Time => CTy::Time,
        Param::StrList => CTy::List(Box::new(CTy::Str)),
        // Checked by their builtins' own arms.
        Param::Sized | Param::StrOrList | Param::Any | Param::Literal | Param::Networks => CTy::Dyn,
    }
}

/// The checker's type for a builtin's result.
fn returns_ty(r: Returns) -> CTy {
    match r {
        Returns::Bool => CTy::Bool,
        Returns::Int => CTy::Int,
        Returns::Float => CTy::Float,
        Returns::Str => CTy::Str,
        Returns::StrList | Returns::Set => CTy::List(Box::new(CTy::Str)),
        Returns::Weekday => CTy::Enum(WEEKDAYS),
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

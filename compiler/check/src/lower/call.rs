//! Built-in function calls, `list()` files, regexes and networks. What each builtin takes and
//! gives comes from its row in [`warden_ir::BUILTINS`]; only the builtins whose checks are
//! their own (literals, files, several accepted types) have an arm here.

use warden_ir::builtins::{self, Function, Node, Param, Returns};
use warden_ir::{self as ir, Builtin, ExprId, ExprKind};
use warden_syntax::{Span, ast, codes};

use super::Lowerer;
use super::expr::{a, comparable, literal_str, plural, suggest_or};
use crate::facts::FactKind;
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
        if let Some(arg) = args.first() {
            let p = path.clone();
            self.fact(arg.span, || FactKind::ListFile { path: p });
        }
        if let Some(cached) = self.lists.get(&path).cloned() {
            if cached.is_none() {
                self.err(codes::E0113, format!("cannot read list file `{name}`"), span, "unreadable file");
            }
            return cached;
        }
        let loaded = match crate::read_text_in(&path, self.overlays) {
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
            let hint = super::hints::function(f);
            let suggestion = did_you_mean(f, ir::BUILTINS.iter().map(|b| b.name)).filter(|_| hint.is_none());
            let help = suggest_or(suggestion.clone(), "see the built-in functions in docs/language.md");
            let help = hint.map_or(help, String::from);
            let d = self.err(codes::E0102, format!("unknown function `{f}`"), name.span, "not a built-in");
            d.help = Some(help);
            d.suggestion = suggestion;
            for a_ in args {
                self.expr(a_);
            }
            return self.poison(span);
        };
        let builtin = function.name;
        self.fact(name.span, || FactKind::Builtin { name: builtin });
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
                if self.pattern(&pattern, args[1].span).is_none() {
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
            Node::Regex(builtin) => {
                let Some(pattern) = literal_str(&args[1]) else {
                    self.err(
                        codes::E0116,
                        format!("the pattern of {f}() must be a string literal"),
                        args[1].span,
                        "not a literal",
                    )
                    .help = Some("patterns are compiled once, when the rule is compiled".into());
                    return self.poison(span);
                };
                let Some(re) = self.pattern(&pattern, args[1].span) else {
                    return self.poison(span);
                };
                let mut ids = Vec::new();
                for (i, a_) in args.iter().enumerate().filter(|(i, _)| *i != 1) {
                    let (id, ty) = self.expr(a_);
                    self.check_param(function, i, &ty, a_.span);
                    ids.push(id);
                }
                let ret = match function.returns {
                    Returns::Captures => {
                        let fields = re
                            .capture_names()
                            .flatten()
                            .map(|n| crate::schema::Field { name: n.to_string(), ty: CTy::Str, writable: true })
                            .collect();
                        CTy::Obj(std::sync::Arc::new(crate::schema::Shape { fields }))
                    }
                    r => returns_ty(r),
                };
                self.prog.regexes.push(pattern);
                let id = ir::RegexId::from_index(self.prog.regexes.len() - 1);
                (self.push(ExprKind::Regex(builtin, ids, id), &ret, span), ret)
            }
            Node::Call(builtin) => {
                let mut ids = Vec::new();
                let mut tys = Vec::new();
                for (i, a_) in args.iter().enumerate() {
                    let (id, ty) = self.expr(a_);
                    self.check_param(function, i, &ty, a_.span);
                    ids.push(id);
                    tys.push(ty);
                }
                self.check_literals(builtin, args);
                let ret = match function.returns {
                    Returns::Arg0 => match tys.first() {
                        Some(CTy::Enum(_)) => CTy::Str,
                        Some(t) => t.clone(),
                        None => CTy::Dyn,
                    },
                    Returns::Item0 => match tys.first() {
                        Some(CTy::List(t)) => (**t).clone(),
                        _ => CTy::Dyn,
                    },
                    Returns::Union => match (tys.first(), tys.get(1)) {
                        (Some(x), Some(y)) => match super::expr::unify(x, y) {
                            Some(t @ CTy::List(_)) => t,
                            _ => CTy::List(Box::new(CTy::Dyn)),
                        },
                        _ => CTy::List(Box::new(CTy::Dyn)),
                    },
                    Returns::Sum => match tys.first() {
                        Some(CTy::List(t)) if matches!(**t, CTy::Int) => CTy::Int,
                        _ => CTy::Float,
                    },
                    r => returns_ty(r),
                };
                (self.push(ExprKind::Call(builtin, ids), &ret, span), ret)
            }
        }
    }

    /// An argument of type `ty` in position `i` of a call of `function`.
    fn check_param(&mut self, function: &Function, i: usize, ty: &CTy, span: Span) {
        let p = function.param(i);
        if p.admits(&ty.to_ir()) {
            return;
        }
        let want = match p {
            Param::Int | Param::OptInt => "an int",
            Param::List | Param::StrList => "a list",
            Param::Object => "an object",
            Param::Time => "a date-time",
            Param::StrOrList => "a string or a list",
            _ => "a string",
        };
        self.err(
            codes::E0104,
            format!("`{}` expects {want}, found {}", function.name, a(ty)),
            span,
            format!("this is {}", a(ty)),
        )
        .help = Some(function.signature.into());
    }

    /// Literal arguments a builtin reads at compile time: `format`'s template, encodings and
    /// time zones given as literals.
    fn check_literals(&mut self, f: Builtin, args: &[ast::Expr]) {
        let zone_at = match f {
            Builtin::Hour | Builtin::Minute | Builtin::Date | Builtin::Weekday => Some(1),
            Builtin::ParseTime | Builtin::FormatTime => Some(2),
            _ => None,
        };
        if let Some(z) = zone_at.and_then(|i| args.get(i))
            && let Some(name) = literal_str(z)
            && jiff::tz::TimeZone::get(&name).is_err()
        {
            let d = self.err(codes::E0125, format!("unknown time zone `{name}`"), z.span, "not an IANA time zone");
            d.help = Some("name a zone of the IANA database, such as \"Europe/Berlin\" or \"UTC\"".into());
        }
        let encoding_at = match f {
            Builtin::Sha256 => Some(1),
            Builtin::HmacSha256 => Some(2),
            _ => None,
        };
        if let Some(e) = encoding_at.and_then(|i| args.get(i))
            && let Some(name) = literal_str(e)
            && !builtins::ENCODINGS.contains(&name.as_str())
        {
            self.err(codes::E0125, format!("unknown encoding `{name}`"), e.span, "not an encoding").help =
                Some("write \"hex\", \"base64\" or \"base64url\"".into());
        }
        if f == Builtin::Format {
            let Some(template) = args.first() else { return };
            let Some(text) = literal_str(template) else {
                self.err(
                    codes::E0116,
                    "the template of format() must be a string literal",
                    template.span,
                    "not a literal",
                )
                .help = Some("write the template in the call: format(\"{} logged in\", user.email)".into());
                return;
            };
            match builtins::template(&text) {
                Err(why) => {
                    self.err(
                        codes::E0125,
                        format!("invalid format template: {why}"),
                        template.span,
                        "invalid template",
                    );
                }
                Ok(pieces) => {
                    let holes = pieces.iter().filter(|p| matches!(p, builtins::Piece::Hole)).count();
                    let given = args.len() - 1;
                    if holes != given {
                        self.err(
                            codes::E0125,
                            format!(
                                "the template has {holes} `{{}}` but {given} value{} follow{}",
                                if given == 1 { "" } else { "s" },
                                if given == 1 { "s" } else { "" }
                            ),
                            template.span,
                            "placeholders and values differ",
                        )
                        .help = Some("give one value per `{}`; write `{{` and `}}` for literal braces".into());
                    }
                }
            }
        }
    }

    /// A pattern compiled (once, to check it), or an error at `span`.
    fn pattern(&mut self, pattern: &str, span: Span) -> Option<regex::Regex> {
        match regex::Regex::new(pattern) {
            Ok(re) => Some(re),
            Err(e) => {
                let text = e.to_string();
                let last = text.lines().last().unwrap_or("invalid pattern").trim();
                let reason = last.strip_prefix("error: ").unwrap_or(last).to_string();
                self.err(codes::E0114, format!("invalid regular expression: {reason}"), span, "does not compile")
                    .help = Some("warden uses the Rust regex syntax (no look-around or backreferences)".into());
                None
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
        Param::Int | Param::OptInt => CTy::Int,
        Param::OptStr => CTy::Str,
        Param::Sized
        | Param::StrOrList
        | Param::Any
        | Param::Literal
        | Param::Networks
        | Param::List
        | Param::Object
        | Param::Rest => CTy::Dyn,
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
        Returns::DynList => CTy::List(Box::new(CTy::Dyn)),
        // Typed by `call` from the arguments.
        Returns::Arg0 | Returns::Item0 | Returns::Union | Returns::Sum | Returns::Captures => CTy::Dyn,
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

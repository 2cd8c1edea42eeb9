//! The syntax tree of a `.rule` file. Each node's doc shows its concrete syntax;
//! names follow the grammar rules in `grammar/warden.pest`.

use crate::Span;

/// `rule "name" { stmt* }`, several per file.
#[derive(Clone, Debug)]
pub struct File {
    pub rules: Vec<Rule>,
}

/// `rule "require verified email" { ... }`
#[derive(Clone, Debug)]
pub struct Rule {
    pub name: String,
    pub name_span: Span,
    pub span: Span,
    pub body: Vec<Stmt>,
}

/// A statement, with an optional trailing `if COND` / `unless COND`.
#[derive(Clone, Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub modifier: Option<Modifier>,
    pub span: Span,
}

/// `... if COND` or `... unless COND`
#[derive(Clone, Debug)]
pub struct Modifier {
    pub unless: bool,
    pub cond: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum StmtKind {
    /// `when COND`: the rest of the rule runs only if COND holds.
    When(Expr),
    /// `let name = EXPR`
    Let { name: Ident, value: Expr },
    /// `if COND { ... } else if COND { ... } else { ... }`
    If { cond: Expr, then: Vec<Stmt>, otherwise: Option<Vec<Stmt>> },
    /// `deny [unauthorized|access_denied] [MESSAGE]`
    Deny { code: Option<(DenyCode, Span)>, message: Option<Expr> },
    /// `set user.path = EXPR`
    Set { target: Target, value: Expr },
    /// `unset user.path`
    Unset { target: Target },
    /// `claim id_token|access_token "name" = EXPR`
    Claim { token: TokenKind, name: StrLit, value: Expr },
    /// `scope add|remove|set EXPR, ...`
    Scope { op: ScopeOp, values: Vec<Expr> },
    /// `mfa PROVIDER [remember_browser EXPR] [with { name: EXPR, ... }]`
    Mfa { provider: String, provider_span: Span, remember: Option<Expr>, options: Vec<(Ident, Expr)> },
    /// `redirect URL`
    Redirect(Expr),
    /// `persist app_metadata.key = EXPR` or `persist app_metadata.key.nested = EXPR`
    Persist { metadata: Metadata, key: String, key_span: Span, path: Vec<Ident>, value: Expr },
    /// `log EXPR`
    Log(Expr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenyCode {
    Unauthorized,
    AccessDenied,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    IdToken,
    AccessToken,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeOp {
    Add,
    Remove,
    Set,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metadata {
    App,
    User,
}

/// A name with its place: `domain`, `email`.
#[derive(Clone, Debug)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// `user.a.b` or `user.a["b"]`: the place `set`/`unset` write to.
#[derive(Clone, Debug)]
pub struct Target {
    pub root: Ident,
    pub path: Vec<Ident>,
    pub span: Span,
}

/// A string literal without interpolation (claim names).
#[derive(Clone, Debug)]
pub struct StrLit {
    pub parts: Vec<StrPart>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum StrPart {
    Text(String),
    /// `${expr}`
    Interp(Expr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `not x`
    Not,
    /// `-x`
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Coalesce,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Coalesce => "??",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    /// `"text ${expr}"`
    Str(Vec<StrPart>),
    /// `42`
    Int(i64),
    /// `1.5`
    Float(f64),
    /// `true`, `false`
    Bool(bool),
    /// `null`
    Null,
    /// `[a, b]`
    List(Vec<Expr>),
    /// `user`, `domain`
    Var(Ident),
    /// `x.name`
    Field(Box<Expr>, Ident),
    /// `x[i]`
    Index(Box<Expr>, Box<Expr>),
    /// `lower(x)`
    Call(Ident, Vec<Expr>),
    /// `not x`, `-x`
    Unary(UnOp, Box<Expr>),
    /// `a and b`, `a == b`, `a ?? b`
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `any x in LIST: COND`
    Quant { kind: Quantifier, var: Ident, list: Box<Expr>, body: Box<Expr> },
    /// `[EXPR for x in LIST if COND]`
    Comp { body: Box<Expr>, var: Ident, list: Box<Expr>, filter: Option<Box<Expr>> },
    /// `{ "key": EXPR, name: EXPR }`
    Object(Vec<(Ident, Expr)>),
}

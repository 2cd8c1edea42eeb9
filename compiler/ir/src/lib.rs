//! warden's IR: the one contract between the compiler and every runtime (interpreter, JIT,
//! artifacts).
//!
//! A [`Program`] is flat: expressions live in one arena ([`Program::exprs`]) and refer to each
//! other by [`ExprId`]; statements form small trees of blocks. Every read of `user`, `context`
//! or `config` is resolved at compile time to a typed [`Slot`]: the set of fields the pipeline
//! reads, each with its type, decoded once per login. Constant lists and `list()` files are
//! prebuilt [`ConstSet`]s; regular expressions and CIDR sets are stored once and compiled once
//! at load.
//!
//! Invariants the checker guarantees and runtimes rely on:
//! - every `ExprId`, `SlotId`, `SetId`, `RegexId`, `CidrId` and `LocalId` is in range;
//! - expressions form a forest, each operand before its node, at most [`MAX_IR_DEPTH`] deep;
//! - expression types are sound: a `Ty::Str` expression evaluates to a string or null, never
//!   another type, and each node's declared type holds what it can produce from its
//!   operands; only `Ty::Dyn` values need run-time type checks;
//! - builtins have their arity; a local is assigned in one place, before its readers;
//! - regexes and CIDRs parse (they were parsed at check time).
//!
//! [`Program::validate`] checks all of it but the last (`Prepared::new` compiles them): for
//! artifacts at load, and for the checker's own output.

use serde::{Deserialize, Serialize};

pub mod builtins;
pub mod claims;
mod dump;
mod input;
mod validate;
pub use builtins::{BUILTINS, Builtin, arity};
pub use dump::dump;
pub use input::{InputShapes, Shape};
pub use validate::{Invalid, MAX_BUILT_DEPTH, MAX_IR_DEPTH, MAX_PATH};

/// Bumped whenever the meaning or the serialized form of the IR changes.
/// 3: writes name their refreshed slots by index in [`Program::refreshes`].
pub const IR_VERSION: u32 = 3;

pub type ExprId = u32;
pub type SlotId = u32;
pub type SetId = u32;
pub type RegexId = u32;
pub type CidrId = u32;
pub type LocalId = u32;
pub type RuleId = u32;

/// A whole checked pipeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub ir_version: u32,
    pub options: Options,
    /// Source files, by path as given; [`Loc::file`] indexes this.
    pub files: Vec<String>,
    /// The pipeline in order.
    pub steps: Vec<Step>,
    pub rules: Vec<Rule>,
    pub js_rules: Vec<JsRule>,
    /// CommonJS modules JavaScript rules may `require`, by name.
    #[serde(default)]
    pub js_modules: Vec<JsModule>,
    pub slots: Vec<Slot>,
    pub sets: Vec<ConstSet>,
    pub regexes: Vec<String>,
    pub cidrs: Vec<CidrSet>,
    pub exprs: Vec<Expr>,
    /// The slots to decode again after a write, one list per path written (writes to the same
    /// path share it, so the program grows linearly with the rules): `refresh` in
    /// [`StmtKind::SetUser`], [`StmtKind::UnsetUser`] and [`StmtKind::Persist`] indexes this.
    pub refreshes: Vec<Vec<SlotId>>,
    /// Configuration keys the manifest declares (empty: undeclared, any key may be read).
    pub config_keys: Vec<String>,
    /// The shapes `user` and `context` must have, whatever the rules read.
    pub input: InputShapes,
}

impl Program {
    pub fn expr(&self, id: ExprId) -> &Expr {
        &self.exprs[id as usize]
    }

    /// The slots a write refreshes (empty for an index out of range, which validation refuses).
    pub fn refreshed(&self, refresh: u32) -> &[SlotId] {
        self.refreshes.get(refresh as usize).map_or(&[], Vec::as_slice)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Options {
    pub claim_mode: ClaimMode,
    /// The pipeline's time budget in milliseconds (`[pipeline] timeout_ms`; default 20,000).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// The JavaScript heap limit per runtime in MiB (`[pipeline] js_memory_mib`; default 64).
    #[serde(default)]
    pub js_memory_mib: Option<u64>,
}

/// How custom claims are filtered at the end of the pipeline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimMode {
    /// Auth0 since 2022: any claim name except the restricted ones.
    #[default]
    Modern,
    /// Auth0 before 2022: only `http://` / `https://` namespaced claims.
    Namespaced,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    Rule(RuleId),
    Js(u32),
}

/// A legacy JavaScript rule in the pipeline (run by the JS runtime).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JsRule {
    pub name: String,
    pub file: u32,
}

/// A vendored CommonJS module (`[modules]` in the manifest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JsModule {
    pub name: String,
    pub file: u32,
}

/// A source location, resolved at compile time so runtimes need no source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Loc {
    pub file: u32,
    pub line: u32,
    pub col: u32,
}

/// Where a slot's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Root {
    User,
    Context,
    Config,
}

impl Root {
    pub fn name(self) -> &'static str {
        match self {
            Root::User => "user",
            Root::Context => "context",
            Root::Config => "config",
        }
    }
}

/// One field the pipeline reads, decoded once per login from the input JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    pub root: Root,
    pub path: Vec<String>,
    pub ty: Ty,
    /// Whether the input must have this type (known Auth0 fields and declared schemas);
    /// a mismatch is an input error. Dynamic slots are checked where they are used.
    pub checked: bool,
}

impl Slot {
    /// `user.app_metadata.roles`
    pub fn display(&self) -> String {
        let mut s = self.root.name().to_string();
        for p in &self.path {
            if p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !p.is_empty() {
                s.push('.');
                s.push_str(p);
            } else {
                s.push_str(&format!("[{p:?}]"));
            }
        }
        s
    }
}

/// Static types. Any value may also be missing (null).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ty {
    Null,
    Bool,
    Int,
    Float,
    Str,
    /// A date-time: an RFC 3339 string or epoch milliseconds.
    Time,
    List(Box<Ty>),
    /// An object; the fields listed have known types (others may be present, untyped).
    Object(Vec<(String, Ty)>),
    /// Unknown until run time: checked where used.
    Dyn,
}

impl Ty {
    pub fn name(&self) -> String {
        match self {
            Ty::Null => "null".into(),
            Ty::Bool => "bool".into(),
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::Str => "string".into(),
            Ty::Time => "time".into(),
            Ty::List(t) => format!("list<{}>", t.name()),
            Ty::Object(_) => "object".into(),
            Ty::Dyn => "any".into(),
        }
    }
}

/// A prebuilt set for `x in [...]` and `x in list("file")`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConstSet {
    /// `list("guests.txt")` or `[...]`, for explanations.
    pub origin: String,
    pub items: Vec<Const>,
}

/// A set of networks for `ip_in`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CidrSet {
    pub nets: Vec<ipnet::IpNet>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Const {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Ty,
    pub loc: Loc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Rem => "%",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Part {
    Text(String),
    Expr(ExprId),
}

/// One node per construct; the interpreter has one arm per variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExprKind {
    Const(Const),
    Slot(SlotId),
    Local(LocalId),
    List(Vec<ExprId>),
    /// `"a ${x} b"`: null if any part is null.
    Interp(Vec<Part>),
    /// Field of an object value (null when the value is not an object).
    Field(ExprId, String),
    /// `list[int]` or `object[string]` (null when out of range or not a container).
    Index(ExprId, ExprId),
    Not(ExprId),
    Neg(ExprId),
    /// `x == null`: whether the value is missing. (`==` between two values that are both
    /// missing is false: only a comparison with `null` itself tests for missing.)
    IsNull(ExprId),
    And(ExprId, ExprId),
    Or(ExprId, ExprId),
    Cmp(CmpOp, ExprId, ExprId),
    Arith(ArithOp, ExprId, ExprId),
    Coalesce(ExprId, ExprId),
    /// Membership in a prebuilt set.
    InSet(ExprId, SetId),
    /// Membership in a list computed at run time.
    InList(ExprId, ExprId),
    Call(Builtin, Vec<ExprId>),
    Matches(ExprId, RegexId),
    IpIn(ExprId, CidrId),
    /// `any`/`all var in list: body`.
    Quant {
        all: bool,
        var: LocalId,
        list: ExprId,
        body: ExprId,
    },
}

impl ExprKind {
    /// The operands a node evaluates, in evaluation order (for nodes that evaluate all of
    /// them before applying the operator; `And`, `Or`, `Coalesce` and `Quant` are lazy).
    pub fn operands(&self) -> Vec<ExprId> {
        match self {
            ExprKind::Const(_) | ExprKind::Slot(_) | ExprKind::Local(_) => Vec::new(),
            ExprKind::List(items) | ExprKind::Call(_, items) => items.clone(),
            ExprKind::Interp(parts) => {
                parts.iter().filter_map(|p| if let Part::Expr(e) = p { Some(*e) } else { None }).collect()
            }
            ExprKind::Field(x, _)
            | ExprKind::Not(x)
            | ExprKind::Neg(x)
            | ExprKind::IsNull(x)
            | ExprKind::InSet(x, _)
            | ExprKind::Matches(x, _)
            | ExprKind::IpIn(x, _) => vec![*x],
            ExprKind::Index(a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Cmp(_, a, b)
            | ExprKind::Arith(_, a, b)
            | ExprKind::Coalesce(a, b)
            | ExprKind::InList(a, b) => vec![*a, *b],
            ExprKind::Quant { list, body, .. } => vec![*list, *body],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    pub loc: Loc,
    /// Number of local variables (`let` and quantifier variables).
    pub locals: u32,
    /// Each local's name as written (for explanations), by `LocalId`.
    pub local_names: Vec<String>,
    pub body: Vec<Stmt>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stmt {
    pub kind: StmtKind,
    pub loc: Loc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyCode {
    Unauthorized,
    AccessDenied,
}

impl DenyCode {
    pub fn as_str(self) -> &'static str {
        match self {
            DenyCode::Unauthorized => "unauthorized",
            DenyCode::AccessDenied => "access_denied",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Token {
    IdToken,
    AccessToken,
}

impl Token {
    pub fn as_str(self) -> &'static str {
        match self {
            Token::IdToken => "id_token",
            Token::AccessToken => "access_token",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScopeOp {
    Add,
    Remove,
    Set,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Metadata {
    App,
    User,
}

impl Metadata {
    /// The `user` field this metadata lives in.
    pub fn field(self) -> &'static str {
        match self {
            Metadata::App => "app_metadata",
            Metadata::User => "user_metadata",
        }
    }
}

impl StmtKind {
    /// The operands an effect statement evaluates, in order: deny `[message]`, set `[value]`,
    /// unset `[]`, claim `[value]`, scope `[values..]`, mfa `[remember?, options..]`,
    /// redirect `[url]`, persist `[value]`, log `[message]`. Empty for `when`, `let`, `if`.
    pub fn operands(&self) -> Vec<ExprId> {
        match self {
            StmtKind::Deny { message, .. } => message.iter().copied().collect(),
            StmtKind::SetUser { value, .. } | StmtKind::Claim { value, .. } | StmtKind::Persist { value, .. } => {
                vec![*value]
            }
            StmtKind::Scope { values, .. } => values.clone(),
            StmtKind::Mfa { remember, options, .. } => {
                remember.iter().copied().chain(options.iter().map(|(_, e)| *e)).collect()
            }
            StmtKind::Redirect(e) | StmtKind::Log(e) => vec![*e],
            StmtKind::UnsetUser { .. } | StmtKind::When(_) | StmtKind::Let(..) | StmtKind::If { .. } => Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StmtKind {
    /// Guard: the rest of the rule runs only if the condition holds.
    When(ExprId),
    Let(LocalId, ExprId),
    If {
        cond: ExprId,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
    },
    Deny {
        code: DenyCode,
        message: Option<ExprId>,
    },
    /// Write into the user object; `refresh` names the slots to decode again
    /// ([`Program::refreshed`]).
    SetUser {
        path: Vec<String>,
        value: ExprId,
        refresh: u32,
    },
    UnsetUser {
        path: Vec<String>,
        refresh: u32,
    },
    Claim {
        token: Token,
        name: String,
        value: ExprId,
    },
    Scope {
        op: ScopeOp,
        values: Vec<ExprId>,
    },
    Mfa {
        provider: String,
        remember: Option<ExprId>,
        options: Vec<(String, ExprId)>,
    },
    Redirect(ExprId),
    /// A metadata patch for the host, also applied to the user seen by later rules.
    Persist {
        metadata: Metadata,
        key: String,
        value: ExprId,
        refresh: u32,
    },
    Log(ExprId),
}

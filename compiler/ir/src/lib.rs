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

#![warn(missing_docs)]

use serde::{Deserialize, Serialize};

pub mod builtins;
pub mod claims;
mod dump;
mod input;
pub mod npm;
mod validate;
pub use builtins::{BUILTINS, Builtin, arity};
pub use dump::dump;
pub use input::{InputShapes, Shape, key_order};
pub use validate::{Invalid, MAX_BUILT_DEPTH, MAX_IR_DEPTH, MAX_PATH};

/// Bumped whenever the meaning or the serialized form of the IR changes.
/// 3: writes name their refreshed slots by index in [`Program::refreshes`].
/// 4: comprehensions, object literals, calls with a compiled pattern, nested `persist`, new
/// builtins, optional and variadic arguments; typed configuration ([`Program::config_types`],
/// [`ExprKind::IpInConfig`], [`ExprKind::MatchesConfig`], [`ExprKind::InConfig`]).
pub const IR_VERSION: u32 = 4;

/// Declares an index into one of a program's tables: serialized as its number (so artifacts
/// do not change), printed as its number, and kept apart from the other kinds of index.
macro_rules! ids {
    ($($(#[doc = $doc:literal])* $name:ident;)*) => {$(
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u32);

        impl $name {
            /// The id of the item at `index` in its table (which never holds 2^32 items).
            pub fn from_index(index: usize) -> $name {
                $name(index as u32)
            }

            /// The position of the item in its table.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl From<u32> for $name {
            fn from(raw: u32) -> $name {
                $name(raw)
            }
        }

        impl From<$name> for u32 {
            fn from(id: $name) -> u32 {
                id.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}

ids! {
    /// An expression: an index into [`Program::exprs`].
    ExprId;
    /// A slot: an index into [`Program::slots`].
    SlotId;
    /// A constant set: an index into [`Program::sets`].
    SetId;
    /// A regular expression: an index into [`Program::regexes`].
    RegexId;
    /// A set of networks: an index into [`Program::cidrs`].
    CidrId;
    /// A local variable of a rule: an index into its [`Rule::local_names`].
    LocalId;
    /// A rule: an index into [`Program::rules`].
    RuleId;
    /// A typed configuration key: an index into [`Program::config_types`].
    ConfigId;
}

/// A whole checked pipeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// The [`IR_VERSION`] the program was written with.
    pub ir_version: u32,
    /// Pipeline-wide settings from the manifest.
    pub options: Options,
    /// Source files, by path as given; [`Loc::file`] indexes this.
    pub files: Vec<String>,
    /// The pipeline in order.
    pub steps: Vec<Step>,
    /// The `.rule` rules, by [`RuleId`].
    pub rules: Vec<Rule>,
    /// The legacy JavaScript rules, by the index in [`Step::Js`].
    pub js_rules: Vec<JsRule>,
    /// CommonJS modules JavaScript rules may `require`, by name.
    #[serde(default)]
    pub js_modules: Vec<JsModule>,
    /// The fields the rules read, by [`SlotId`].
    pub slots: Vec<Slot>,
    /// Constant sets for `in`, by [`SetId`].
    pub sets: Vec<ConstSet>,
    /// The patterns of `matches()`, by [`RegexId`] (Rust `regex` syntax).
    pub regexes: Vec<String>,
    /// The networks of `ip_in()`, by [`CidrId`].
    pub cidrs: Vec<CidrSet>,
    /// Every expression of every rule, by [`ExprId`]; operands come before their node.
    pub exprs: Vec<Expr>,
    /// The slots to decode again after a write, one list per path written (writes to the same
    /// path share it, so the program grows linearly with the rules): `refresh` in
    /// [`StmtKind::SetUser`], [`StmtKind::UnsetUser`] and [`StmtKind::Persist`] indexes this.
    pub refreshes: Vec<Vec<SlotId>>,
    /// Configuration keys the manifest declares (empty: undeclared, any key may be read).
    pub config_keys: Vec<String>,
    /// The shapes `user` and `context` must have, whatever the rules read.
    pub input: InputShapes,
    /// The configuration keys the manifest declares with a type other than `string`, by
    /// [`ConfigId`], in key order; every other key is a string.
    #[serde(default)]
    pub config_types: Vec<TypedKey>,
}

impl Program {
    /// The expression `id` names.
    pub fn expr(&self, id: ExprId) -> &Expr {
        &self.exprs[id.index()]
    }

    /// The slots a write refreshes (empty for an index out of range, which validation refuses).
    pub fn refreshed(&self, refresh: u32) -> &[SlotId] {
        self.refreshes.get(refresh as usize).map_or(&[], Vec::as_slice)
    }
}

/// Pipeline-wide settings (`[pipeline]` in the manifest).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// How custom claims are filtered at the end.
    pub claim_mode: ClaimMode,
    /// The pipeline's time budget in milliseconds (`[pipeline] timeout_ms`; default 20,000).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// The JavaScript heap limit per runtime in MiB (`[pipeline] js_memory_mib`; default 64).
    #[serde(default)]
    pub js_memory_mib: Option<u64>,
    /// `[http]`: what JavaScript rules may reach over HTTP. `None`: nothing at all.
    #[serde(default)]
    pub http: Option<HttpPolicy>,
}

/// `[http]` in the manifest (docs/manifest.md): the origins JavaScript rules may call, and the
/// bounds of each login's calls. Checked when the manifest is read; enforced by the runtime.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpPolicy {
    /// Origins (`https://api.example.com`) or URL prefixes (`https://hooks.example.com/services/`).
    pub allow: Vec<String>,
    /// Requests per login.
    pub max_requests: u32,
    /// Response body bytes per login, all responses together.
    pub max_response_bytes: u64,
    /// Each request's time limit (always under the login's deadline).
    pub timeout_ms: u64,
    /// Redirects followed per request (each to an allowed origin only).
    pub max_redirects: u32,
    /// `"host:port" = "ip:port"`: where to connect for an origin instead of its DNS answer
    /// (staging and tests; the allowlist applies to the origin as written).
    pub resolve: std::collections::BTreeMap<String, String>,
    /// Extra trusted certificate authorities, PEM (`ca_file`, read when the manifest loads).
    pub ca_pem: Option<String>,
}

impl HttpPolicy {
    /// `max_requests` when the manifest does not say.
    pub const DEFAULT_MAX_REQUESTS: u32 = 10;
    /// `max_response_bytes` when the manifest does not say (1 MiB).
    pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 1024 * 1024;
    /// `timeout_ms` when the manifest does not say.
    pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;
    /// `max_redirects` when the manifest does not say.
    pub const DEFAULT_MAX_REDIRECTS: u32 = 5;
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

/// One step of the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// A `.rule` rule.
    Rule(RuleId),
    /// A JavaScript rule: an index into [`Program::js_rules`].
    Js(u32),
}

/// A legacy JavaScript rule in the pipeline (run by the JS runtime).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JsRule {
    /// The rule's name (its file name without `.js`).
    pub name: String,
    /// Its source: an index into [`Program::files`].
    pub file: u32,
}

/// A vendored CommonJS module (`[modules]` in the manifest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JsModule {
    /// The name `require` finds it by.
    pub name: String,
    /// Its source: an index into [`Program::files`].
    pub file: u32,
}

/// A source location, resolved at compile time so runtimes need no source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Loc {
    /// An index into [`Program::files`].
    pub file: u32,
    /// The line, from 1.
    pub line: u32,
    /// The column in characters, from 1.
    pub col: u32,
}

/// Where a slot's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Root {
    /// `user`: the Auth0 user.
    User,
    /// `context`: the login's context.
    Context,
    /// `config`: the pipeline's configuration values (strings, or as [`Program::config_types`]
    /// declares).
    Config,
}

impl Root {
    /// The name rules write it by.
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
    /// The object the field is in.
    pub root: Root,
    /// The keys from the root to the field.
    pub path: Vec<String>,
    /// The field's type.
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
    /// Only missing: the type of `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A 64-bit signed integer.
    Int,
    /// A 64-bit float.
    Float,
    /// A string.
    Str,
    /// A date-time: an RFC 3339 string or epoch milliseconds.
    Time,
    /// A list whose items have this type.
    List(Box<Ty>),
    /// An object; the fields listed have known types (others may be present, untyped).
    Object(Vec<(String, Ty)>),
    /// Unknown until run time: checked where used.
    Dyn,
}

impl Ty {
    /// The type as messages and dumps name it (`list<string>`, `any`).
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
    /// The members.
    pub items: Vec<Const>,
}

/// A set of networks for `ip_in`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CidrSet {
    /// The networks; a bare address is a network of one.
    pub nets: Vec<ipnet::IpNet>,
}

/// A configuration key declared with a type (`KEY = { value = "...", type = "int" }`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypedKey {
    /// The key, as `config.KEY` names it.
    pub key: String,
    /// Its type.
    pub ty: ConfigType,
}

/// The type of a configuration value, as the manifest's `type` names it. Values are given as
/// text and parsed once per configuration (`warden_runtime::Config`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConfigType {
    /// `string`: the text as given (the default).
    #[default]
    #[serde(rename = "string")]
    Str,
    /// `int`: a 64-bit integer.
    #[serde(rename = "int")]
    Int,
    /// `float`: a finite number.
    #[serde(rename = "float")]
    Float,
    /// `bool`: `true` or `false`.
    #[serde(rename = "bool")]
    Bool,
    /// `list<string>`: items separated by commas or new lines, or a JSON array of strings.
    #[serde(rename = "list<string>")]
    StrList,
    /// `cidr list`: networks or addresses, as `list<string>`; a string to other expressions,
    /// networks to `ip_in`.
    #[serde(rename = "cidr list")]
    CidrList,
    /// `regex`: a pattern (Rust `regex` syntax); a string to other expressions, a compiled
    /// pattern to `matches`.
    #[serde(rename = "regex")]
    Regex,
}

impl ConfigType {
    /// Every type, in the order the docs list them.
    pub const ALL: [ConfigType; 7] = [
        ConfigType::Str,
        ConfigType::Int,
        ConfigType::Float,
        ConfigType::Bool,
        ConfigType::StrList,
        ConfigType::CidrList,
        ConfigType::Regex,
    ];

    /// The type as the manifest writes it (`"cidr list"`).
    pub fn name(self) -> &'static str {
        match self {
            ConfigType::Str => "string",
            ConfigType::Int => "int",
            ConfigType::Float => "float",
            ConfigType::Bool => "bool",
            ConfigType::StrList => "list<string>",
            ConfigType::CidrList => "cidr list",
            ConfigType::Regex => "regex",
        }
    }

    /// The type a manifest names (exactly as [`ConfigType::name`] writes it).
    pub fn from_name(name: &str) -> Option<ConfigType> {
        ConfigType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The static type of `config.KEY`: networks and patterns are strings to expressions.
    pub fn ty(self) -> Ty {
        match self {
            ConfigType::Str | ConfigType::CidrList | ConfigType::Regex => Ty::Str,
            ConfigType::Int => Ty::Int,
            ConfigType::Float => Ty::Float,
            ConfigType::Bool => Ty::Bool,
            ConfigType::StrList => Ty::List(Box::new(Ty::Str)),
        }
    }
}

/// A literal value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Const {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A string literal without interpolation.
    Str(String),
}

/// One expression node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// The static type of its value (sound: [`Program::validate`] proves it).
    pub ty: Ty,
    /// Where it is in the source.
    pub loc: Loc,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written.
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

/// An arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArithOp {
    /// `+`: a sum, or two strings joined.
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`: integer division truncates.
    Div,
    /// `%`
    Rem,
}

impl ArithOp {
    /// The operator as written.
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

/// A part of an interpolated string.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Part {
    /// Literal text.
    Text(String),
    /// `${expr}`: the value, formatted.
    Expr(ExprId),
}

/// One node per construct; the interpreter has one arm per variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExprKind {
    /// A literal.
    Const(Const),
    /// A field the pipeline reads, decoded from the input.
    Slot(SlotId),
    /// A `let` binding or a quantifier's variable.
    Local(LocalId),
    /// `[a, b, ...]`: a list built from its items.
    List(Vec<ExprId>),
    /// `"a ${x} b"`: null if any part is null.
    Interp(Vec<Part>),
    /// Field of an object value (null when the value is not an object).
    Field(ExprId, String),
    /// `list[int]` or `object[string]` (null when out of range or not a container).
    Index(ExprId, ExprId),
    /// `not x` (a missing operand counts as false).
    Not(ExprId),
    /// `-x` (null when the operand is missing).
    Neg(ExprId),
    /// `x == null`: whether the value is missing. (`==` between two values that are both
    /// missing is false: only a comparison with `null` itself tests for missing.)
    IsNull(ExprId),
    /// `x and y`: the right operand only when the left holds (missing counts as false).
    And(ExprId, ExprId),
    /// `x or y`: the right operand only when the left does not hold.
    Or(ExprId, ExprId),
    /// A comparison: false over a missing operand, and `!=` is `not ==`.
    Cmp(CmpOp, ExprId, ExprId),
    /// Arithmetic (null when an operand is missing).
    Arith(ArithOp, ExprId, ExprId),
    /// `x ?? y`: the left operand unless it is missing, else the right.
    Coalesce(ExprId, ExprId),
    /// Membership in a prebuilt set.
    InSet(ExprId, SetId),
    /// Membership in a list computed at run time.
    InList(ExprId, ExprId),
    /// A built-in function applied to its arguments.
    Call(Builtin, Vec<ExprId>),
    /// `matches(x, "pattern")`, with a pattern compiled at load.
    Matches(ExprId, RegexId),
    /// `ip_in(x, ...)`, with networks parsed at check time.
    IpIn(ExprId, CidrId),
    /// `any`/`all var in list: body`.
    Quant {
        /// `all` (true) or `any` (false).
        all: bool,
        /// The variable bound to each item in turn.
        var: LocalId,
        /// The list (the quantifier is false when it is missing).
        list: ExprId,
        /// The condition, evaluated per item.
        body: ExprId,
    },
    /// `[body for var in list if filter]`: a list built from the items of another.
    Comp {
        /// The variable bound to each item in turn.
        var: LocalId,
        /// The list (the result is missing when it is missing).
        list: ExprId,
        /// Which items are kept (missing counts as false), evaluated first per item.
        filter: Option<ExprId>,
        /// Each kept item's value in the result.
        body: ExprId,
    },
    /// `{ "key": value, ... }`: an object; members whose value is missing are left out.
    Object(Vec<(String, ExprId)>),
    /// A built-in whose second argument is a pattern compiled at load (`capture`,
    /// `capture_named`, `replace_regex`); `args` holds the others, in order.
    Regex(Builtin, Vec<ExprId>, RegexId),
    /// `ip_in(x, config.KEY)` over a `cidr list` key: its networks, parsed once per
    /// configuration (false when the key has no value).
    IpInConfig(ExprId, ConfigId),
    /// `matches(x, config.KEY)` over a `regex` key: its pattern, compiled once per
    /// configuration (false when the key has no value).
    MatchesConfig(ExprId, ConfigId),
    /// `x in config.KEY` over a `list<string>` key: a set built once per configuration (false
    /// when the key has no value).
    InConfig(ExprId, ConfigId),
}

impl ExprKind {
    /// The operands a node evaluates, in evaluation order (for nodes that evaluate all of
    /// them before applying the operator; `And`, `Or`, `Coalesce`, `Quant` and `Comp` are
    /// lazy).
    pub fn operands(&self) -> Vec<ExprId> {
        match self {
            ExprKind::Const(_) | ExprKind::Slot(_) | ExprKind::Local(_) => Vec::new(),
            ExprKind::List(items) | ExprKind::Call(_, items) | ExprKind::Regex(_, items, _) => items.clone(),
            ExprKind::Object(members) => members.iter().map(|(_, e)| *e).collect(),
            ExprKind::Interp(parts) => {
                parts.iter().filter_map(|p| if let Part::Expr(e) = p { Some(*e) } else { None }).collect()
            }
            ExprKind::Field(x, _)
            | ExprKind::Not(x)
            | ExprKind::Neg(x)
            | ExprKind::IsNull(x)
            | ExprKind::InSet(x, _)
            | ExprKind::Matches(x, _)
            | ExprKind::IpIn(x, _)
            | ExprKind::IpInConfig(x, _)
            | ExprKind::MatchesConfig(x, _)
            | ExprKind::InConfig(x, _) => vec![*x],
            ExprKind::Index(a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Cmp(_, a, b)
            | ExprKind::Arith(_, a, b)
            | ExprKind::Coalesce(a, b)
            | ExprKind::InList(a, b) => vec![*a, *b],
            ExprKind::Quant { list, body, .. } => vec![*list, *body],
            ExprKind::Comp { list, filter, body, .. } => {
                std::iter::once(*list).chain(*filter).chain(std::iter::once(*body)).collect()
            }
        }
    }
}

/// A `.rule` rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Its name, unique in the pipeline.
    pub name: String,
    /// Where it starts.
    pub loc: Loc,
    /// Number of local variables (`let` and quantifier variables).
    pub locals: u32,
    /// Each local's name as written (for explanations), by `LocalId`.
    pub local_names: Vec<String>,
    /// Its statements, in order.
    pub body: Vec<Stmt>,
}

/// One statement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stmt {
    /// What it does.
    pub kind: StmtKind,
    /// Where it is in the source.
    pub loc: Loc,
}

/// The error code of a denial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyCode {
    /// `unauthorized`, the default.
    Unauthorized,
    /// `access_denied` (`deny access_denied ...`).
    AccessDenied,
}

impl DenyCode {
    /// The code as the outcome writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            DenyCode::Unauthorized => "unauthorized",
            DenyCode::AccessDenied => "access_denied",
        }
    }
}

/// The token a claim goes into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Token {
    /// The ID token.
    IdToken,
    /// The access token.
    AccessToken,
}

impl Token {
    /// The token's name as rules and outcomes write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Token::IdToken => "id_token",
            Token::AccessToken => "access_token",
        }
    }
}

/// What a `scope` statement does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScopeOp {
    /// `scope add`
    Add,
    /// `scope remove`
    Remove,
    /// `scope set`: replaces the scopes.
    Set,
}

/// The metadata a `persist` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Metadata {
    /// `app_metadata`
    App,
    /// `user_metadata`
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

/// One node per statement; the interpreter has one arm per variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StmtKind {
    /// Guard: the rest of the rule runs only if the condition holds.
    When(ExprId),
    /// `let name = value`: binds a local.
    Let(LocalId, ExprId),
    /// `if`/`else` blocks (and statements with an `if`/`unless` modifier).
    If {
        /// The condition (missing counts as false).
        cond: ExprId,
        /// What runs when it holds.
        then: Vec<Stmt>,
        /// What runs otherwise.
        otherwise: Vec<Stmt>,
    },
    /// `deny`: ends the pipeline with a denial.
    Deny {
        /// The error code.
        code: DenyCode,
        /// The description (a default one when absent).
        message: Option<ExprId>,
    },
    /// Write into the user object; `refresh` names the slots to decode again
    /// ([`Program::refreshed`]).
    SetUser {
        /// The keys under `user`.
        path: Vec<String>,
        /// The value written.
        value: ExprId,
        /// An index into [`Program::refreshes`].
        refresh: u32,
    },
    /// Removes a field of the user object.
    UnsetUser {
        /// The keys under `user`.
        path: Vec<String>,
        /// An index into [`Program::refreshes`].
        refresh: u32,
    },
    /// `claim`: sets (or, with a missing value, removes) a custom claim.
    Claim {
        /// The token.
        token: Token,
        /// The claim's name.
        name: String,
        /// Its value.
        value: ExprId,
    },
    /// `scope add`/`remove`/`set`.
    Scope {
        /// What it does.
        op: ScopeOp,
        /// Scopes: strings or lists of strings.
        values: Vec<ExprId>,
    },
    /// `mfa`: asks the host for multi-factor authentication.
    Mfa {
        /// The provider (`any`, `guardian`, `google-authenticator`, `duo`).
        provider: String,
        /// `remember_browser`, when given.
        remember: Option<ExprId>,
        /// `with { ... }`: the provider's options.
        options: Vec<(String, ExprId)>,
    },
    /// `redirect`: asks the host to send the user to a URL.
    Redirect(ExprId),
    /// A metadata patch for the host, also applied to the user seen by later rules.
    Persist {
        /// The metadata written.
        metadata: Metadata,
        /// The top-level key.
        key: String,
        /// Keys below it, for a nested write (`persist app_metadata.billing.plan = ...`
        /// patches `billing` with its current value changed at `plan`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        path: Vec<String>,
        /// The value (a missing value deletes the key).
        value: ExprId,
        /// An index into [`Program::refreshes`].
        refresh: u32,
    },
    /// `log`: a log entry naming the rule.
    Log(ExprId),
}

/// Whether JSON text nests more than `limit` arrays and objects (strings skipped; the text
/// need not be valid: a parser decides that). Checked before parsing text whose nesting is
/// not bounded otherwise (an artifact's body, a package.json), so that no parser recurses
/// deeper than `limit`.
pub fn json_nests_deeper_than(text: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

//! Generated pipelines and logins for the differential test (`tests/tests/differential.rs`).
//!
//! Programs are well typed by construction: every expression generator yields text of one
//! static type (`string`, `int`, `float`, `bool`, `list<string>`, a time, or dynamic data),
//! and statements put each where its type is required, so that almost every program checks.
//! They cover the whole `.rule` language (every statement, modifier and built-in, `when`
//! guards, `if`/`else if`/`else`, lets read by conditions, `list()` files, floats, escapes,
//! indexing, quantifiers), several files, both claim modes with claim names that survive them
//! and names they drop, and legacy JavaScript steps between `.rule` steps that set claims,
//! scopes, metadata and user fields. A construct added to the language joins the generator
//! here.
//!
//! Logins are mostly valid for the schema (every known field of its type, enumerated fields
//! within their sets), with missing fields, nulls and odd dynamic data; one in thirty carries
//! a deliberate input error. Everything comes from a seed ([`Gen`]), so that a program and
//! its logins can be generated again from the seed a failure prints.

use serde_json::{Value as Json, json};
use warden_ir::ClaimMode;

/// A small deterministic source of choices (SplitMix64): the same seed, the same program.
#[derive(Clone, Debug)]
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen(seed)
    }

    /// The generator of the `i`th case of a run seeded with `seed`: runs with different seeds
    /// share no cases.
    pub fn for_case(seed: u64, i: u64) -> Gen {
        Gen(Gen(Gen(seed).next() ^ i).next())
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True `num` times in `den`.
    pub fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    /// An index into `weights`, each as likely as its weight.
    pub fn weighted(&mut self, weights: &[usize]) -> usize {
        let mut at = self.below(weights.iter().sum());
        for (i, w) in weights.iter().enumerate() {
            if at < *w {
                return i;
            }
            at -= w;
        }
        weights.len() - 1
    }

    /// A fresh name with a prefix (lets and quantifier variables are unique within a rule).
    fn name(&mut self, prefix: &str) -> String {
        format!("{prefix}{}", self.below(1_000_000))
    }
}

/// A generated pipeline: its files in order (`.rule` and `.js` names, relative to the
/// directory that holds the list files of [`LIST_FILES`]), the claim mode and configuration.
#[derive(Clone, Debug)]
pub struct Program {
    pub files: Vec<(String, String)>,
    pub claim_mode: ClaimMode,
    pub config: Vec<(String, String)>,
}

impl Program {
    /// Whether a step is legacy JavaScript.
    pub fn has_js(&self) -> bool {
        self.files.iter().any(|(name, _)| name.ends_with(".js"))
    }
}

impl std::fmt::Display for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "claim mode {:?}, config {:?}", self.claim_mode, self.config)?;
        for (name, text) in &self.files {
            writeln!(f, "--- {name}\n{text}")?;
        }
        Ok(())
    }
}

/// One login: user, context and the time it runs at.
#[derive(Clone, Debug)]
pub struct Login {
    pub user: Json,
    pub context: Json,
    pub now: i64,
}

/// The list files generated programs read with `list()`, written next to their rule files:
/// comments, blank lines, surrounding white space, CRLF, a byte-order mark, Unicode, IPv4,
/// IPv6, IPv4-mapped networks and bare addresses.
pub const LIST_FILES: &[(&str, &str)] = &[
    ("emails.txt", "# blocked addresses\nblocked@example.com\n  alice@example.com  \r\n\nü@ü.de\nBob@Example.COM \n"),
    ("roles.txt", "\u{feff}admin\n# comment\nguest-1\n\tuser\t\n"),
    ("nets.txt", "# office networks\n10.0.0.0/8\n2001:db8::/32\n::ffff:192.0.2.0/120\n8.8.8.8\n"),
];

/// The times logins run at (`now()`, `days_since`, `weekday`, JavaScript's `Date`): a
/// Thursday, a Saturday, the epoch, before it; then (less often) the last supported instant,
/// past it, and the smallest clock a library caller can give.
pub const NOWS: &[i64] =
    &[1_764_158_400_000, 1_764_331_200_000, 0, -86_400_000, 253_402_300_799_000, 253_402_300_800_000, i64::MIN];

// ---------------------------------------------------------------------------------------
// Expressions, one generator per static type. `lets`: the rule declared the typed lets
// `ls`, `li`, `lf`, `lb`, `ld` and `ll`, which expressions may then read.

/// A leaf: one of `items`, or the rule's let of that type (one time in five).
fn leaf(g: &mut Gen, items: &[&str], let_name: &str, lets: bool) -> String {
    if lets && g.chance(1, 5) { let_name.to_string() } else { g.pick(items).to_string() }
}

const STRINGS: &[&str] = &[
    "user.email",
    "user.email",
    "user.name",
    "user.nickname",
    "user.given_name",
    "user.locale",
    "user.picture",
    "context.clientName",
    "context.clientID",
    "context.protocol",
    "context.request.ip",
    "context.request.geoip.country_code",
    "context.organization.id",
    "config.K",
    "config.L",
    "user.identities[0].connection",
    "context.authorization.roles[1]",
    "user.multifactor[0]",
    "\"example.com\"",
    "\"\"",
    "\"Ünïcode@Example.COM\"",
    "\"  MiXed Case  \"",
    "\"q\\\"uote\\\\ tab\\t nl\\n \\$x \\u{1F600}\"",
    "\"10.1.2.3\"",
    "\"admin\"",
];

fn string_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    if depth == 0 || g.chance(6, 15) {
        return leaf(g, STRINGS, "ls", lets);
    }
    let d = depth - 1;
    match g.weighted(&[1, 1, 1, 1, 1, 1, 1, 1, 1]) {
        0 => format!("lower({})", string_expr(g, d, lets)),
        1 => format!("upper({})", string_expr(g, d, lets)),
        2 => format!("trim({})", string_expr(g, d, lets)),
        3 => format!("email_domain({})", string_expr(g, d, lets)),
        4 => format!("weekday({})", time_arg(g, d, lets)),
        5 => format!("join({}, {})", list_expr(g, d, lets), g.pick(&["\"|\"", "\"\"", "\", \""])),
        6 => format!("\"<${{{}}}|${{{}}}>\"", any_expr(g, d, lets), any_expr(g, d, lets)),
        7 => format!("({} ?? {})", string_expr(g, d, lets), string_expr(g, d, lets)),
        _ => format!("({} + {})", string_expr(g, d, lets), string_expr(g, d, lets)),
    }
}

fn int_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    const INTS: &[&str] = &[
        "user.logins_count",
        "user.logins_count",
        "context.stats.loginsCount",
        "user.identities[0].expires_in",
        "context.authentication.methods[0].timestamp",
        "0",
        "1",
        "7",
        "-3",
        "9223372036854775807",
        "4611686018427387904",
        "now()",
    ];
    if depth == 0 || g.chance(5, 11) {
        return leaf(g, INTS, "li", lets);
    }
    let d = depth - 1;
    match g.weighted(&[2, 1, 1, 1, 1]) {
        0 => {
            let op = g.pick(&["+", "+", "-", "-", "*", "/", "%"]);
            format!("({} {op} {})", int_expr(g, d, lets), int_expr(g, d, lets))
        }
        1 => format!("len({})", string_expr(g, d, lets)),
        2 => {
            if g.chance(1, 3) {
                format!("len({})", dyn_expr(g, d, lets))
            } else {
                format!("len({})", list_expr(g, d, lets))
            }
        }
        3 => format!("({} ?? {})", int_expr(g, d, lets), int_expr(g, d, lets)),
        _ => format!("(-{})", int_expr(g, d, lets)),
    }
}

fn float_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    const FLOATS: &[&str] = &[
        "context.request.geoip.latitude",
        "context.request.geoip.longitude",
        "1.5",
        "0.1",
        "-2.0e3",
        "0.0",
        "1.0e300",
    ];
    if depth == 0 || g.chance(4, 11) {
        return leaf(g, FLOATS, "lf", lets);
    }
    let d = depth - 1;
    match g.weighted(&[2, 2, 1, 1, 1]) {
        0 => format!("days_since({})", time_arg(g, d, lets)),
        1 => {
            let op = g.pick(&["+", "-", "*", "/", "%"]);
            format!("({} {op} {})", float_expr(g, d, lets), int_expr(g, d, lets))
        }
        2 => {
            let op = g.pick(&["+", "*", "/"]);
            format!("({} {op} {})", float_expr(g, d, lets), float_expr(g, d, lets))
        }
        3 => format!("({} ?? {})", float_expr(g, d, lets), float_expr(g, d, lets)),
        _ => format!("(-{})", float_expr(g, d, lets)),
    }
}

/// An argument of `days_since` and `weekday`: a time field, epoch milliseconds, or a string
/// in the documented formats (rarely not: a rule error).
fn time_arg(g: &mut Gen, depth: u32, lets: bool) -> String {
    match g.weighted(&[12, 1, 1]) {
        0 => g
            .pick(&[
                "user.created_at",
                "user.created_at",
                "user.last_login",
                "user.last_password_reset",
                "now()",
                "now()",
                "0",
                "\"2026-01-01\"",
                "\"2026-11-26T12:00:00Z\"",
                "\"2026-11-26T13:00:00+01:00\"",
                "user.app_metadata.since",
            ])
            .to_string(),
        1 => int_expr(g, depth, lets),
        _ => "\"2026-11-26T12:00\"".to_string(),
    }
}

fn list_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    const LISTS: &[&str] = &[
        "context.authorization.roles",
        "context.authorization.roles",
        "context.authorization.groups",
        "user.multifactor",
        "context.sso.current_clients",
        "[\"admin\", \"user\"]",
    ];
    if depth == 0 || g.chance(3, 5) {
        return leaf(g, LISTS, "ll", lets);
    }
    let d = depth - 1;
    if g.chance(1, 2) {
        format!("split({}, {})", string_expr(g, d, lets), g.pick(&["\".\"", "\"@\"", "\"\""]))
    } else {
        format!("[{}, {}, \"admin\"]", string_expr(g, d, lets), string_expr(g, d, lets))
    }
}

fn dyn_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    const DYNS: &[&str] = &[
        "user.app_metadata.n",
        "user.app_metadata.flag",
        "user.app_metadata.roles",
        "user.app_metadata.name",
        "user.app_metadata[\"key-with-dash\"]",
        "user.user_metadata.k",
        "user.user_metadata",
        "context.request.query.p",
        "context.clientMetadata.tier",
        "user.identities[0].profileData",
    ];
    if depth == 0 || g.chance(5, 9) {
        return leaf(g, DYNS, "ld", lets);
    }
    let d = depth - 1;
    match g.weighted(&[2, 2, 2, 1]) {
        0 => format!("{}[0]", dyn_expr(g, d, lets)),
        1 => format!("{}[\"a\"]", dyn_expr(g, d, lets)),
        2 => format!("({} ?? {})", dyn_expr(g, d, lets), dyn_expr(g, d, lets)),
        _ => format!("({} {} {})", dyn_expr(g, d, lets), g.pick(&["+", "*", "-"]), int_expr(g, d, lets)),
    }
}

/// Dynamic data that is usually a list (sometimes not: a rule error where one is needed).
fn dyn_list(g: &mut Gen) -> String {
    g.pick(&[
        "user.app_metadata.roles",
        "user.app_metadata.roles",
        "user.app_metadata.roles",
        "user.app_metadata.roles",
        "user.app_metadata.roles",
        "user.app_metadata.tags",
        "user.app_metadata.n",
    ])
    .to_string()
}

/// An address for `ip_in`: mostly one (or missing), sometimes any string (a rule error).
fn ip_arg(g: &mut Gen, depth: u32, lets: bool) -> String {
    if g.chance(8, 9) {
        g.pick(&["context.request.ip", "\"10.1.2.3\"", "\"::ffff:192.0.2.9\"", "\"2001:db8::5\"", "\"8.8.8.8\""])
            .to_string()
    } else {
        string_expr(g, depth, lets)
    }
}

fn bool_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    const BOOLS: &[&str] = &[
        "user.email_verified",
        "user.email_verified",
        "user.blocked",
        "user.phone_verified",
        "user.identities[0].isSocial",
        "context.sso.with_auth0",
        "true",
        "false",
    ];
    if depth == 0 || g.chance(12, 44) {
        return leaf(g, BOOLS, "lb", lets);
    }
    let d = depth - 1;
    let ord = |g: &mut Gen| g.pick(&["==", "!=", "<", "<=", ">", ">="]);
    match g.weighted(&[2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]) {
        0 => format!("({} {} {})", int_expr(g, d, lets), ord(g), int_expr(g, d, lets)),
        1 => format!("({} {} {})", float_expr(g, d, lets), ord(g), int_expr(g, d, lets)),
        2 => format!("({} {} {})", string_expr(g, d, lets), ord(g), string_expr(g, d, lets)),
        3 => format!("({} {} {})", dyn_expr(g, d, lets), g.pick(&["==", "!="]), dyn_expr(g, d, lets)),
        4 => format!("({} {} {})", dyn_expr(g, d, lets), g.pick(&["==", ">", "<="]), int_expr(g, d, lets)),
        5 => format!("({} == {})", dyn_expr(g, d, lets), string_expr(g, d, lets)),
        6 => format!("({} {} null)", any_expr(g, d, lets), g.pick(&["==", "!="])),
        7 => format!(
            "({} {} [\"example.com\", \"a@b.c\", \"\", \"admin\"])",
            string_expr(g, d, lets),
            g.pick(&["in", "not in"])
        ),
        8 => format!(
            "({} {} list(\"{}\"))",
            string_expr(g, d, lets),
            g.pick(&["in", "not in"]),
            g.pick(&["emails.txt", "roles.txt"])
        ),
        9 => format!("({} {} {})", string_expr(g, d, lets), g.pick(&["in", "not in"]), list_expr(g, d, lets)),
        10 => format!("({} in {})", int_expr(g, d, lets), dyn_list(g)),
        11 => format!("(\"admin\" in {})", dyn_list(g)),
        12 => format!("(not {})", bool_expr(g, d, lets)),
        13 => format!("({} {} {})", bool_expr(g, d, lets), g.pick(&["and", "or"]), bool_expr(g, d, lets)),
        14 => {
            let f = g.pick(&["starts_with", "ends_with", "contains"]);
            format!("{f}({}, {})", string_expr(g, d, lets), string_expr(g, d, lets))
        }
        15 => format!("contains({}, {})", list_expr(g, d, lets), string_expr(g, d, lets)),
        16 => {
            let re = g.pick(&["\"^[a-z]+@\"", "\"(?i)example\\\\.com$\"", "\"\""]);
            format!("matches({}, {re})", string_expr(g, d, lets))
        }
        17 => format!("ip_in({}, \"10.0.0.0/8\", \"2001:db8::/32\", \"192.0.2.9\")", ip_arg(g, d, lets)),
        18 => format!("ip_in({}, list(\"nets.txt\"))", ip_arg(g, d, lets)),
        19 => {
            let r = g.name("q");
            format!("(any {r} in {}: {} or {r} == \"admin\")", list_expr(g, d, lets), bool_expr(g, d, lets))
        }
        20 => {
            let r = g.name("q");
            format!("(all {r} in {}: starts_with({r}, {}))", list_expr(g, d, lets), string_expr(g, d, lets))
        }
        21 => {
            let m = g.name("q");
            format!("(all {m} in context.authentication.methods: {m}.name != {})", string_expr(g, d, lets))
        }
        22 => {
            let v = g.name("q");
            format!("(any {v} in {}: {v} == 1)", dyn_list(g))
        }
        23 => {
            if g.chance(3, 4) {
                "user.app_metadata.flag".to_string()
            } else {
                dyn_expr(g, d, lets)
            }
        }
        _ => format!("({} {} {})", bool_expr(g, d, lets), g.pick(&["==", "!="]), bool_expr(g, d, lets)),
    }
}

/// An expression of any type (claims, logs, interpolation, persist).
fn any_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    match g.weighted(&[3, 2, 1, 2, 2, 1, 1, 1]) {
        0 => string_expr(g, depth, lets),
        1 => int_expr(g, depth, lets),
        2 => float_expr(g, depth, lets),
        3 => bool_expr(g, depth, lets),
        4 => dyn_expr(g, depth, lets),
        5 => list_expr(g, depth, lets),
        6 => "[1, \"two\", null, 2.5, [true]]".to_string(),
        _ => "null".to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Statements and rules.

fn modifier(g: &mut Gen, lets: bool) -> String {
    match g.weighted(&[3, 2, 2]) {
        0 => String::new(),
        1 => format!(" if {}", bool_expr(g, 1, lets)),
        _ => format!(" unless {}", bool_expr(g, 1, lets)),
    }
}

/// A claim name: mostly URLs both claim modes keep, and some names one or both drop.
fn claim_name(g: &mut Gen) -> String {
    match g.weighted(&[8, 2, 1]) {
        0 => format!("https://x.example/c{}", g.below(4)),
        1 => format!("plain{}", g.below(2)),
        _ => g.pick(&["roles", "sub", "https://tenant.auth0.com/x", "urn:auth0:x"]).to_string(),
    }
}

/// A scope for `scope` statements: usually one, sometimes missing or empty (a rule error).
fn scope_str(g: &mut Gen, lets: bool) -> String {
    match g.weighted(&[4, 2, 1]) {
        0 => g.pick(&["\"openid\"", "\"admin:read\"", "\"read write\"", "context.clientID ?? \"c0\""]).to_string(),
        1 => format!("(lower({}) ?? \"fallback\")", string_expr(g, 1, lets)),
        _ => string_expr(g, 1, lets),
    }
}

/// A statement that may be followed by others in its block.
fn statement(g: &mut Gen, depth: u32, lets: bool) -> String {
    if depth > 0 && g.chance(1, 4) {
        let c = bool_expr(g, 2, lets);
        let then = block(g, depth - 1, lets, true);
        return if g.chance(1, 2) {
            let c2 = bool_expr(g, 1, lets);
            let then2 = block(g, depth - 1, lets, true);
            let tail = if g.chance(1, 2) {
                format!(" else {{\n    {}\n    }}", block(g, depth - 1, lets, true))
            } else {
                String::new()
            };
            format!("if {c} {{\n    {then}\n    }} else if {c2} {{\n    {then2}\n    }}{tail}")
        } else if g.chance(1, 2) {
            format!("if {c} {{\n    {then}\n    }} else {{\n    {}\n    }}", block(g, depth - 1, lets, true))
        } else {
            format!("if {c} {{\n    {then}\n    }}")
        };
    }
    let weights = [3, 2, 1, 1, 1, 1, 1, 1, 1, 4, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1];
    match g.weighted(&weights) {
        0 => {
            // A denial under a condition (an unconditional one ends a block, see `block`).
            let code = g.pick(&["", "unauthorized ", "access_denied "]);
            let message = if g.chance(1, 2) { format!("{} ", string_expr(g, 1, lets)) } else { String::new() };
            let m = g.pick(&["if", "unless"]);
            format!("deny {code}{message}{m} {}", bool_expr(g, 2, lets))
        }
        1 => {
            let f = g.pick(&["name", "nickname", "given_name", "email", "locale"]);
            format!("set user.{f} = {}{}", string_expr(g, 2, lets), modifier(g, lets))
        }
        2 => {
            let f = g.pick(&["email_verified", "blocked"]);
            format!("set user.{f} = {}{}", bool_expr(g, 1, lets), modifier(g, lets))
        }
        3 => format!("set user.logins_count = {}{}", int_expr(g, 2, lets), modifier(g, lets)),
        4 => format!("set user.email_verified = {}{}", dyn_expr(g, 1, lets), modifier(g, lets)),
        5 => format!("set user.app_metadata.{} = {}", g.pick(&["n", "flag", "roles"]), any_expr(g, 1, lets)),
        6 => format!("set user.user_metadata[\"fav-color\"] = {}", string_expr(g, 1, lets)),
        7 => format!("set user.multifactor = {}{}", list_expr(g, 1, lets), modifier(g, lets)),
        8 => {
            let f = g.pick(&["nickname", "name", "app_metadata.n", "user_metadata.k"]);
            format!("unset user.{f}{}", modifier(g, lets))
        }
        9 => {
            let token = g.pick(&["id_token", "access_token"]);
            let name = claim_name(g);
            format!("claim {token} \"{name}\" = {}{}", any_expr(g, 2, lets), modifier(g, lets))
        }
        10 => {
            let (s, l) = (scope_str(g, lets), list_expr(g, 0, lets));
            format!("scope add {s}, ({l} ?? []), \"read\"{}", modifier(g, lets))
        }
        11 => format!("scope remove {}{}", scope_str(g, lets), modifier(g, lets)),
        12 => format!("scope set ({} ?? [\"openid\"]){}", list_expr(g, 1, lets), modifier(g, lets)),
        13 => format!("scope set {}{}", scope_str(g, lets), modifier(g, lets)),
        14 => format!("log {}{}", any_expr(g, 2, lets), modifier(g, lets)),
        15 => {
            let md = g.pick(&["app_metadata", "user_metadata"]);
            format!("persist {md}.p{} = {}{}", g.below(3), any_expr(g, 1, lets), modifier(g, lets))
        }
        16 => format!("persist {}.p{} = null", g.pick(&["app_metadata", "user_metadata"]), g.below(3)),
        17 => {
            let provider = g.pick(&["any", "guardian", "google-authenticator", "duo"]);
            let rb =
                if g.chance(1, 2) { format!(" remember_browser {}", bool_expr(g, 1, lets)) } else { String::new() };
            format!("mfa {provider}{rb}{}", modifier(g, lets))
        }
        18 => {
            let (h, k) = (string_expr(g, 0, lets), string_expr(g, 0, lets));
            format!("mfa duo with {{ host: {h}, ikey: {k}, skey: \"s\", username: user.email }}{}", modifier(g, lets))
        }
        19 => {
            // An interpolation of a missing value makes the URL missing: a rule error.
            let s = string_expr(g, 1, lets);
            let s = if g.chance(1, 2) { format!("{s} ?? \"none\"") } else { s };
            format!("redirect \"https://x.example/next?u=${{{s}}}\"{}", modifier(g, lets))
        }
        20 => {
            let v = g.name("v");
            format!("let {v} = {}\n    log {v}", any_expr(g, 2, lets))
        }
        _ => {
            let v = g.name("v");
            let (b, e) = (bool_expr(g, 2, lets), any_expr(g, 1, lets));
            format!("let {v} = {b}\n    claim id_token \"https://x.example/let\" = {e} if {v}")
        }
    }
}

/// A block of one or two statements, rarely ending with an unconditional `deny` when
/// `may_end` (nothing may follow one in its block).
fn block(g: &mut Gen, depth: u32, lets: bool, may_end: bool) -> String {
    let mut stmts: Vec<String> = (0..1 + g.below(2)).map(|_| statement(g, depth, lets)).collect();
    if may_end && g.chance(1, 15) {
        stmts.push(g.pick(&["deny", "deny unauthorized", "deny access_denied \"stop\""]).to_string());
    }
    stmts.join("\n    ")
}

/// One rule: an optional guard, the typed lets (half of the rules), a body, maybe a guard in
/// the middle and more statements.
fn rule(g: &mut Gen, name: &str) -> String {
    let mut out = format!("rule \"{name}\" {{\n    ");
    if g.chance(3, 10) {
        out.push_str(&format!("when {}\n    ", bool_expr(g, 2, false)));
    }
    let lets = g.chance(1, 2);
    if lets {
        out.push_str(&format!("let ls = {}\n    ", string_expr(g, 1, false)));
        out.push_str(&format!("let li = {}\n    ", int_expr(g, 1, false)));
        out.push_str(&format!("let lf = {}\n    ", float_expr(g, 1, false)));
        out.push_str(&format!("let lb = {}\n    ", bool_expr(g, 1, false)));
        out.push_str(&format!("let ld = {}\n    ", dyn_expr(g, 0, false)));
        out.push_str(&format!("let ll = {}\n    ", list_expr(g, 1, false)));
    }
    out.push_str(&block(g, 1, lets, false));
    if g.chance(3, 10) {
        out.push_str("\n    ");
        if g.chance(3, 10) {
            out.push_str(&format!("when {}\n    ", bool_expr(g, 2, lets)));
        }
        out.push_str(&block(g, 1, lets, true));
    }
    out.push_str("\n}\n");
    out
}

// ---------------------------------------------------------------------------------------
// Legacy JavaScript steps.

fn js_value(g: &mut Gen) -> &'static str {
    g.pick(&[
        "user.email",
        "user.name",
        "String(user.email || '').toLowerCase()",
        "(user.logins_count || 0) + 1",
        "user.email_verified === true",
        "context.idToken['https://x.example/c0']",
        "context.accessToken['https://x.example/c1']",
        "(context.accessToken.scope || []).join(' ')",
        "user.app_metadata && user.app_metadata.n",
        "context.clientName",
        "configuration.K",
        "1.5",
        "'js'",
        "null",
        "[1, 'a', true]",
        "{ k: 'v', n: 2 }",
        "new Date().getUTCDay()",
        "user.user_metadata",
        "context.multifactor ? context.multifactor.provider : 'none'",
    ])
}

fn js_bool(g: &mut Gen) -> &'static str {
    g.pick(&["true", "false", "!user.email_verified", "user.blocked === true", "context.clientName === 'Kiosk'"])
}

fn js_statement(g: &mut Gen) -> String {
    let weights = [4, 2, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1];
    match g.weighted(&weights) {
        0 => format!("context.idToken['https://x.example/j{}'] = {};", g.below(4), js_value(g)),
        1 => format!("context.accessToken['https://x.example/j{}'] = {};", g.below(4), js_value(g)),
        2 => format!("context.idToken.plainj = {};", js_value(g)),
        3 => {
            let v = g.pick(&[
                "['openid', 'js:read']",
                "'openid profile'",
                "(context.accessToken.scope || []).concat(['js'])",
                "[]",
            ]);
            format!("context.accessToken.scope = {v};")
        }
        4 => {
            let f = g.pick(&["name", "nickname", "given_name", "email", "locale"]);
            let v = g.pick(&[
                "'Js Name'",
                "(user.name || '') + '!'",
                "String(user.email || '').toUpperCase()",
                "configuration.K",
                "'ü@ü.de'",
                "''",
            ]);
            format!("user.{f} = {v};")
        }
        5 => format!("delete user.{};", g.pick(&["nickname", "name", "email"])),
        6 => format!("user.email_verified = {};", js_bool(g)),
        7 => {
            let v = g.pick(&[
                "7",
                "(user.logins_count || 0) + 1",
                "7",
                "(user.logins_count || 0) + 1",
                "1",
                "-1",
                "0",
                "3",
                "2.5",
                "'many'",
            ]);
            format!("user.logins_count = {v};")
        }
        8 => {
            let f = g.pick(&["n", "flag", "roles", "name"]);
            format!("(user.app_metadata = user.app_metadata || {{}}).{f} = {};", js_value(g))
        }
        9 => format!("(user.user_metadata = user.user_metadata || {{}}).k = {};", js_value(g)),
        10 => {
            let f = g.pick(&["updateAppMetadata", "updateUserMetadata"]);
            format!("auth0.users.{f}(user.user_id, {{ j{}: {} }});", g.below(4), js_value(g))
        }
        11 => format!("context.multifactor = {{ provider: 'any', allowRememberBrowser: {} }};", js_bool(g)),
        12 => "context.redirect = { url: 'https://x.example/js' };".to_string(),
        13 => format!("console.log({});", js_value(g)),
        14 => format!("if ({}) return callback(new UnauthorizedError('js says no'));", js_bool(g)),
        15 => format!("if ({}) return callback(new Error('js error'));", js_bool(g)),
        _ => format!("if ({}) throw new Error('js throws');", js_bool(g)),
    }
}

fn js_rule(g: &mut Gen, name: &str) -> String {
    let body: Vec<String> = (0..1 + g.below(5)).map(|_| js_statement(g)).collect();
    format!(
        "function {name}(user, context, callback) {{\n  {}\n  callback(null, user, context);\n}}\n",
        body.join("\n  ")
    )
}

// ---------------------------------------------------------------------------------------
// Programs.

/// A pipeline: one to three `.rule` files of one or two rules, with one or two JavaScript
/// steps before, between or after them in about a third of programs.
pub fn program(g: &mut Gen) -> Program {
    let mut files = Vec::new();
    for i in 0..1 + g.below(3) {
        let rules: Vec<String> = (0..1 + usize::from(g.chance(1, 3))).map(|r| rule(g, &format!("r{i}_{r}"))).collect();
        files.push((format!("gen{i}.rule"), rules.join("\n")));
    }
    if g.chance(35, 100) {
        let at = g.below(files.len() + 1);
        for j in 0..1 + g.below(2) {
            files.insert(at + j, (format!("step{j}.js"), js_rule(g, &format!("j{j}"))));
        }
    }
    let claim_mode = if g.chance(1, 4) { ClaimMode::Namespaced } else { ClaimMode::Modern };
    let mut config =
        vec![("K".to_string(), g.pick(&["Konfig@Example.com", "example.com", "", "10.1.2.3"]).to_string())];
    if g.chance(7, 10) {
        config.push(("L".to_string(), g.pick(&["L", "admin"]).to_string()));
    }
    Program { files, claim_mode, config }
}

// ---------------------------------------------------------------------------------------
// Logins.

/// Data of unknown shape (metadata, query parameters).
fn dynamic_value(g: &mut Gen) -> Json {
    match g.below(10) {
        0 => Json::Null,
        1 => json!(g.chance(1, 2)),
        2 => json!(g.below(10) as i64 - 5),
        3 => json!(9223372036854775807i64),
        4 => json!(2.5),
        5 => json!(-0.0),
        6 => json!(g.pick(&["admin", "x", "10.1.2.3", "2026-11-26T12:00:00Z", "2020-02-29", ""])),
        7 => json!(["admin", 1, null]),
        8 => json!([1, 2]),
        _ => json!({"a": 1}),
    }
}

fn time_value(g: &mut Gen) -> Json {
    match g.weighted(&[4, 1, 2]) {
        0 => json!(g.pick(&["2026-11-20T08:15:02.114Z", "2020-02-29", "2026-11-26T13:00:00+01:00"])),
        1 => json!(g.pick(&["2026-11-26T12:00", "not a date"])),
        _ => json!(g.pick(&[1_764_158_400_000i64, 0, -1])),
    }
}

/// Puts `value()` under `key` four times in five.
fn maybe(g: &mut Gen, m: &mut serde_json::Map<String, Json>, key: &str, value: impl FnOnce(&mut Gen) -> Json) {
    if g.chance(4, 5) {
        let v = value(g);
        m.insert(key.into(), v);
    }
}

fn strings(g: &mut Gen, items: &[&str], max: usize) -> Json {
    Json::from((0..g.below(max + 1)).map(|_| g.pick(items)).collect::<Vec<_>>())
}

fn user(g: &mut Gen) -> Json {
    let mut u = serde_json::Map::new();
    if g.chance(19, 20) {
        u.insert("user_id".into(), json!("auth0|1"));
    }
    maybe(g, &mut u, "email", |g| {
        json!(g.pick(&[
            "alice@example.com",
            "Bob@Example.COM ",
            "\"x@y\"@evil.com",
            "noat",
            "",
            "ü@ü.de",
            "blocked@example.com",
            "admin@corp.example.net",
        ]))
    });
    maybe(g, &mut u, "email_verified", |g| json!(g.chance(1, 2)));
    for key in ["name", "nickname", "given_name"] {
        maybe(g, &mut u, key, |g| json!(g.pick(&["Alice", "  ", "Ωmega", "", "nick"])));
    }
    maybe(g, &mut u, "logins_count", |g| json!(g.pick(&[-1i64, 0, 1, 3, 1000, 9223372036854775807])));
    maybe(g, &mut u, "blocked", |g| json!(g.chance(1, 4)));
    maybe(g, &mut u, "phone_verified", |g| json!(g.chance(1, 2)));
    maybe(g, &mut u, "created_at", time_value);
    maybe(g, &mut u, "last_login", time_value);
    u.insert("locale".into(), json!("en"));
    maybe(g, &mut u, "multifactor", |g| strings(g, &["guardian", "sms", "duo"], 2));
    maybe(g, &mut u, "identities", |g| {
        let identities: Vec<Json> = (0..1 + g.below(2))
            .map(|_| {
                let c = g.pick(&["google-oauth2", "Username-Password-Authentication"]);
                let mut i = json!({ "connection": c, "isSocial": c != "Username-Password-Authentication", "provider": "auth0", "profileData": dynamic_value(g) });
                if g.chance(4, 5) {
                    i["expires_in"] = json!(g.below(5000));
                }
                i
            })
            .collect();
        Json::from(identities)
    });
    let roles = if g.chance(3, 4) { strings(g, &["admin", "user", "guest-1"], 2) } else { dynamic_value(g) };
    let flag = if g.chance(7, 10) { json!(g.chance(1, 2)) } else { dynamic_value(g) };
    let md = json!({
        "n": dynamic_value(g), "flag": flag, "roles": roles, "name": dynamic_value(g),
        "since": dynamic_value(g), "key-with-dash": dynamic_value(g),
    });
    u.insert("app_metadata".into(), md);
    maybe(g, &mut u, "user_metadata", |g| json!({ "k": dynamic_value(g) }));
    Json::Object(u)
}

fn scope_value(g: &mut Gen) -> Json {
    if g.chance(3, 4) { json!(g.pick(&["openid profile", "read", ""])) } else { json!(["openid", "read write"]) }
}

fn context(g: &mut Gen) -> Json {
    let protocol = g.pick(&[
        "oidc-basic-profile",
        "oidc-basic-profile",
        "oauth2-password",
        "oauth2-refresh-token",
        "redirect-callback",
        "samlp",
    ]);
    let mut query = serde_json::Map::new();
    query.insert("p".into(), dynamic_value(g));
    maybe(g, &mut query, "scope", scope_value);
    if g.chance(1, 10) {
        query.insert("prompt".into(), json!("none"));
    }
    let mut body = serde_json::Map::new();
    maybe(g, &mut body, "scope", scope_value);
    let mut request = serde_json::Map::new();
    maybe(g, &mut request, "ip", |g| {
        if g.chance(1, 13) {
            json!("not-an-ip")
        } else {
            json!(g.pick(&["10.1.2.3", "::ffff:10.0.0.1", "::ffff:192.0.2.9", "2001:db8::1", "8.8.8.8", "192.0.2.9"]))
        }
    });
    request.insert("query".into(), Json::Object(query));
    request.insert("body".into(), Json::Object(body));
    if g.chance(4, 5) {
        let mut geoip = serde_json::Map::new();
        maybe(g, &mut geoip, "latitude", |g| json!(g.pick(&[51.5142, -0.0931, 0.0])));
        maybe(g, &mut geoip, "country_code", |g| json!(g.pick(&["GB", "GR"])));
        request.insert("geoip".into(), Json::Object(geoip));
    }
    let mut c = serde_json::Map::new();
    c.insert("protocol".into(), json!(protocol));
    maybe(g, &mut c, "clientName", |g| json!(g.pick(&["App", "Kiosk", "", "Internal Dashboard"])));
    maybe(g, &mut c, "clientID", |g| json!(g.pick(&["c1", "c2"])));
    let logins = if g.chance(4, 5) { json!(g.below(5)) } else { Json::Null };
    c.insert("stats".into(), json!({ "loginsCount": logins }));
    let mut authorization = serde_json::Map::new();
    maybe(g, &mut authorization, "roles", |g| strings(g, &["admin", "user", "guest-1"], 2));
    maybe(g, &mut authorization, "groups", |g| strings(g, &["eng", "ops"], 1));
    c.insert("authorization".into(), Json::Object(authorization));
    c.insert("authentication".into(), json!({ "methods": [{ "name": "pwd", "timestamp": 1_764_158_000_000i64 }] }));
    c.insert("request".into(), Json::Object(request));
    c.insert("sso".into(), json!({ "with_auth0": g.chance(1, 2), "current_clients": ["c1"] }));
    c.insert("clientMetadata".into(), json!({ "tier": dynamic_value(g) }));
    if g.chance(3, 10) {
        c.insert("accessToken".into(), json!({ "scope": scope_value(g) }));
    }
    if g.chance(3, 10) {
        c.insert("organization".into(), json!({ "id": "org_1", "name": "Org" }));
    }
    if g.chance(3, 10) {
        c.insert("riskAssessment".into(), json!({ "confidence": g.pick(&["low", "high"]), "version": "1" }));
    }
    Json::Object(c)
}

/// One deliberate input error: a known field of the wrong type, or out of its set.
fn break_input(g: &mut Gen, user: &mut Json, context: &mut Json) {
    match g.below(7) {
        0 => user["email_verified"] = json!("yes"),
        1 => user["logins_count"] = json!(1.5),
        2 => context["protocol"] = json!("oidc-basic-profile "),
        3 => context["request"]["query"]["scope"] = json!(5),
        4 => context["riskAssessment"] = json!({ "confidence": "HIGH" }),
        5 => context["authorization"]["roles"] = json!([1]),
        _ => user["identities"] = json!([{ "isSocial": "no" }]),
    }
}

/// A login: mostly valid, one in thirty with a deliberate input error; the edges of the
/// supported time range (where time functions are rule errors) one time in nine.
pub fn login(g: &mut Gen) -> Login {
    let (mut user, mut context) = (user(g), context(g));
    if g.chance(1, 30) {
        break_input(g, &mut user, &mut context);
    }
    let now = if g.chance(8, 9) { g.pick(&NOWS[..4]) } else { g.pick(&NOWS[4..]) };
    Login { user, context, now }
}

//! Generated pipelines and logins for the differential test (`tests/tests/differential.rs`).
//!
//! Programs are well typed by construction: every expression generator yields text of one
//! static type (`string`, `int`, `float`, `bool`, `list<string>`, `list<int>`, `list<any>`,
//! lists of objects, objects, a time, or dynamic data), and statements put each where its
//! type is required, so that almost every program checks. They cover the whole `.rule`
//! language, several files, both claim modes with claim names that survive them and names
//! they drop, and legacy JavaScript steps between `.rule` steps that set claims, scopes,
//! metadata and user fields:
//!
//! - every statement and modifier, `when` guards, `if`/`else if`/`else`, lets (typed ones,
//!   an object `lo` read by its members) read by conditions, `list()` files, floats, escapes,
//!   indexing;
//! - quantifiers and comprehensions `[e for x in L]`, `[e for x in L if c]` over string
//!   lists, dynamic data, `list<any>`, `context.authentication.methods` and lists of objects,
//!   nested (a comprehension's list, body or condition holding another, which may read the
//!   outer variable), their variables reusing a few names within a rule;
//! - object literals (name, keyword and string keys, nested, in lists) in `let`, `claim`,
//!   `set`, `persist`, `log`, interpolation and `format`; nested `persist app_metadata.a.b`;
//! - instants: `time` fields compared with `now() - days(n)`, with date-time strings (some
//!   without an offset), with each other and with dynamic data; `time - time`, `time ± n`;
//! - every built-in with its optional arguments: the collection functions (`unique` `sort`
//!   `first` `last` `count` `sum` `min` `max` `keys` `values` `union` `intersect`
//!   `difference`), the string ones (`replace`, `replace_regex` with groups, `slice`,
//!   `index_of`, `pad_start`/`pad_end` with fills, `split` with a limit, URL and base64
//!   encodings, `sha256`/`hmac_sha256` with encodings, `format` with as many values as
//!   placeholders, `capture`, `capture_named(..).group`), and the time ones (`hour` `minute`
//!   `date` `weekday` with literal IANA zones, `context.request.geoip.time_zone` and dynamic
//!   ones; `days` `hours` `minutes` `seconds` `millis` `parse_time` `format_time`).
//!
//! A construct added to the language joins the generator here.
//!
//! Logins are mostly valid for the schema (every known field of its type, enumerated fields
//! within their sets), with missing fields, nulls and odd dynamic data: Unicode strings,
//! empty lists, lists of mixed types and big numbers in metadata, malformed percent-encodings
//! and base64, date-times without offsets or past the supported range, real and junk time
//! zones in `geoip.time_zone`, metadata objects that nested `persist` patches (or that are
//! not objects); one in thirty carries a deliberate input error. Everything comes from a seed
//! ([`Gen`]), so that a program and its logins can be generated again from the seed a
//! failure prints.

use serde_json::{Value as Json, json};
use warden_ir::ClaimMode;

/// A small deterministic source of choices (SplitMix64): the same seed, the same program.
/// It also knows the variables of the quantifiers and comprehensions around the expression
/// being generated, which that expression may read.
#[derive(Clone, Debug)]
pub struct Gen {
    state: u64,
    /// The variables in scope, innermost last, and what each ranges over.
    bound: Vec<(String, Item)>,
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen { state: seed, bound: Vec::new() }
    }

    /// The generator of the `i`th case of a run seeded with `seed`: runs with different seeds
    /// share no cases.
    pub fn for_case(seed: u64, i: u64) -> Gen {
        Gen::new(Gen::new(Gen::new(seed).next() ^ i).next())
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
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

    /// A fresh name with a prefix (lets are unique within a rule).
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
// `ls`, `li`, `lf`, `lb`, `ld`, `ll` and the object `lo` (whose members `lo.s`, `lo.n`,
// `lo["key-with-dash"]` and `lo.l` are typed too), which expressions may then read. Inside a
// quantifier or a comprehension, expressions may read its variable ([`Gen::bound`]).

/// The static type a leaf must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Str,
    Int,
    Float,
    Bool,
    Dyn,
    List,
}

/// What the variable of a quantifier or a comprehension ranges over, and so what it gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    /// Strings (items of a `list<string>`).
    Str,
    /// Dynamic data (items of a list from metadata, or of a `list<any>`).
    Dyn,
    /// `context.authentication.methods`: objects with `name` (string) and `timestamp` (int).
    Method,
    /// The generated objects `{ k: string, n: int, d: any }` of [`pairs_expr`].
    Pair,
}

/// The names variables get: few, so that later quantifiers and comprehensions of a rule bind
/// the same names again (their scopes end with them).
const VARS: &[&str] = &["x", "y", "it", "e"];

/// Binds a variable ranging over `item` while `body` generates its scope: a name that no
/// enclosing quantifier or comprehension binds (that would hide it, a compile error).
fn bind(g: &mut Gen, item: Item, body: impl FnOnce(&mut Gen, &str) -> String) -> String {
    let free: Vec<&str> = VARS.iter().copied().filter(|v| g.bound.iter().all(|(b, _)| b != v)).collect();
    let name = if free.is_empty() { format!("x{}", g.bound.len()) } else { g.pick(&free).to_string() };
    g.bound.push((name.clone(), item));
    let out = body(g, &name);
    g.bound.pop();
    out
}

/// An expression of type `want` read from a variable in scope, if one gives that type.
fn bound_leaf(g: &mut Gen, want: Want) -> Option<String> {
    let found: Vec<String> = g
        .bound
        .iter()
        .filter_map(|(n, item)| match (want, item) {
            (Want::Str, Item::Str) => Some(n.clone()),
            (Want::Str, Item::Method) => Some(format!("{n}.name")),
            (Want::Str, Item::Pair) => Some(format!("{n}.k")),
            (Want::Int, Item::Method) => Some(format!("{n}.timestamp")),
            (Want::Int, Item::Pair) => Some(format!("{n}.n")),
            (Want::Dyn, Item::Dyn) => Some(n.clone()),
            (Want::Dyn, Item::Pair) => Some(format!("{n}.d")),
            _ => None,
        })
        .collect();
    if found.is_empty() { None } else { Some(g.pick(&found)) }
}

/// A leaf: a variable in scope (two times in five, when one has the type), the rule's let
/// of that type (one time in five), or one of `items`.
fn leaf(g: &mut Gen, items: &[&str], want: Want, lets: bool) -> String {
    if !g.bound.is_empty()
        && g.chance(2, 5)
        && let Some(v) = bound_leaf(g, want)
    {
        return v;
    }
    if lets && g.chance(1, 5) {
        let names: &[&str] = match want {
            Want::Str => &["ls", "ls", "lo.s"],
            Want::Int => &["li", "li", "lo.n"],
            Want::Float => &["lf"],
            Want::Bool => &["lb"],
            Want::Dyn => &["ld", "ld", "lo[\"key-with-dash\"]"],
            Want::List => &["ll", "ll", "lo.l"],
        };
        return g.pick(names).to_string();
    }
    g.pick(items).to_string()
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
    "context.request.geoip.time_zone",
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
    "\"İstanbul straße ǅ 😀\"",
    "\"a-b_c.d\"",
];

/// IANA zones (every literal zone must be one: an unknown literal is a compile error), with
/// odd offsets (Kolkata +5:30, Kathmandu +5:45, Chatham +12:45, Lord Howe's half-hour DST).
const ZONES: &[&str] = &[
    "\"UTC\"",
    "\"Europe/Berlin\"",
    "\"America/New_York\"",
    "\"Asia/Kolkata\"",
    "\"Asia/Kathmandu\"",
    "\"Australia/Lord_Howe\"",
    "\"Pacific/Chatham\"",
    "\"America/St_Johns\"",
    "\"Pacific/Kiritimati\"",
    "\"Etc/GMT+12\"",
];

/// A time zone: a literal, the login's `geoip.time_zone` (a zone, junk, or missing), or
/// rarely dynamic data or any string (an unknown zone at run time is a rule error).
fn zone_arg(g: &mut Gen) -> String {
    match g.weighted(&[6, 3, 2, 1, 1]) {
        0 => g.pick(ZONES).to_string(),
        1 => "context.request.geoip.time_zone".to_string(),
        2 => "(context.request.geoip.time_zone ?? \"UTC\")".to_string(),
        3 => "user.app_metadata.tz".to_string(),
        // Not literals (a literal that is no zone is a compile error): checked at run time.
        _ => g.pick(&["user.locale", "config.L", "trim(\"Europe/Berlin \")", "upper(\"utc\")"]).to_string(),
    }
}

/// `, ZONE` half of the time (the zone is optional).
fn opt_zone(g: &mut Gen) -> String {
    if g.chance(1, 2) { format!(", {}", zone_arg(g)) } else { String::new() }
}

/// `replace_regex` patterns (literals) and replacements with groups (`$1`, `${name}`, `$$`;
/// written `\${` in rule strings, where `${` interpolates); an empty replacement here means a
/// generated string (which may hold a `$`).
const REPLACEMENTS: &[(&str, &str)] = &[
    (r#""([a-z]+)@([a-z.]+)""#, r#""$2 at $1""#),
    (r#""(?P<user>[^@]+)@""#, r#""\${user}#""#),
    (r#""\\s+""#, r#"" ""#),
    (r#""[aeiouü]""#, r#""$$""#),
    (r#""""#, r#""-""#),
    (r#""(x)?y""#, r#""[$1]""#),
    (r#""(?i)EXAMPLE""#, ""),
    (r#"".""#, r#""\${0}\${0}""#),
    (r#""(?P<first>\\w)(?P<rest>\\w*)""#, r#""\${rest}\${first}ay""#),
];

/// `capture` patterns and how many groups they have (index `groups` is past the end).
const CAPTURES: &[(&str, usize)] =
    &[(r#""^([^@]+)@(.+)$""#, 2), (r#""([0-9]+)""#, 1), (r#""(a)|(b)""#, 2), (r#""(?i)(ü+)(x)?""#, 2), (r#""""#, 0)];

/// `capture_named` patterns and their group names (some groups may not take part).
const NAMED: &[(&str, &[&str])] = &[
    (r#""^(?P<local>[^@]+)@(?P<domain>.+)$""#, &["local", "domain"]),
    (r#""(?P<a>a)|(?P<b>[a-z])""#, &["a", "b"]),
    (r#""(?P<first>\\w+)\\s+(?P<last>\\w+)""#, &["first", "last"]),
    (r#""(?P<year>[0-9]{4})-(?P<month>[0-9]{2})""#, &["year", "month"]),
];

/// `format` templates and how many `{}` each has (the values must match: a compile error
/// otherwise).
const TEMPLATES: &[(&str, usize)] = &[
    (r#""{}""#, 1),
    (r#""{} & {}""#, 2),
    (r#""""#, 0),
    (r#""{{}} {}""#, 1),
    (r#""ü{}😀{}{}""#, 3),
    (r#""{{{}}}""#, 1),
    (r#""plain""#, 0),
];

/// `format_time` patterns: RFC 3339, strftime (some odd), rarely a string (maybe no pattern).
const TIME_PATTERNS: &[&str] = &[
    "\"rfc3339\"",
    "\"rfc3339\"",
    "\"%Y-%m-%d %H:%M\"",
    "\"%A %H:%M %Z\"",
    "\"%s\"",
    "\"%:z\"",
    "\"%Y-%m-%dT%H:%M:%S%.3f%:z\"",
    "\"%j %a %b %e %%\"",
    "\"\"",
];

/// `parse_time` arguments: text, format and zone (empty: none given). With an offset in the
/// text, with a zone (DST gaps and folds too), and without either (a rule error).
const PARSES: &[(&str, &str, &str)] = &[
    (r#""2026-11-26 10:00""#, r#""%Y-%m-%d %H:%M""#, r#""Europe/Berlin""#),
    (r#""26/11/2026 10:00 +0100""#, r#""%d/%m/%Y %H:%M %z""#, ""),
    (r#""2026-11-26 10:00""#, r#""%Y-%m-%d %H:%M""#, ""),
    (r#""2026-11-26T10:00:00+05:30""#, r#""%Y-%m-%dT%H:%M:%S%:z""#, ""),
    (r#""1764158400""#, r#""%s""#, ""),
    (r#""2026-03-29 02:30""#, r#""%Y-%m-%d %H:%M""#, r#""Europe/Berlin""#),
    (r#""2026-10-25 02:30""#, r#""%Y-%m-%d %H:%M""#, r#""Europe/Berlin""#),
    (r#""Thursday 2026-11-26 23:59:59""#, r#""%A %Y-%m-%d %H:%M:%S""#, r#""Asia/Kolkata""#),
    (r#""not a time""#, r#""%Y""#, r#""UTC""#),
];

/// A string expression: mostly valid for what reads it, sometimes not (a rule error).
fn string_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    if depth == 0 || g.chance(6, 15) {
        return leaf(g, STRINGS, Want::Str, lets);
    }
    let d = depth - 1;
    match g.weighted(&[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]) {
        0 => format!("lower({})", string_expr(g, d, lets)),
        1 => format!("upper({})", string_expr(g, d, lets)),
        2 => format!("trim({})", string_expr(g, d, lets)),
        3 => format!("email_domain({})", string_expr(g, d, lets)),
        4 => format!("weekday({}{})", time_arg(g, d, lets), opt_zone(g)),
        5 => format!("join({}, {})", list_expr(g, d, lets), g.pick(&["\"|\"", "\"\"", "\", \""])),
        6 => format!("\"<${{{}}}|${{{}}}>\"", any_expr(g, d, lets), any_expr(g, d, lets)),
        7 => format!("({} ?? {})", string_expr(g, d, lets), string_expr(g, d, lets)),
        8 => format!("({} + {})", string_expr(g, d, lets), string_expr(g, d, lets)),
        9 => {
            // An empty `from` is a rule error: only from a generated string.
            let from = if g.chance(1, 6) {
                string_expr(g, 0, lets)
            } else {
                g.pick(&["\".\"", "\"@\"", "\"a\"", "\"ü\"", "\"\\u{1F600}\"", "\"  \""]).to_string()
            };
            format!("replace({}, {from}, {})", string_expr(g, d, lets), string_expr(g, 0, lets))
        }
        10 => {
            let (pattern, replacement) = g.pick(REPLACEMENTS);
            let replacement = if replacement.is_empty() { string_expr(g, 0, lets) } else { replacement.to_string() };
            format!("replace_regex({}, {pattern}, {replacement})", string_expr(g, d, lets))
        }
        11 => {
            let end = if g.chance(1, 2) { format!(", {}", index(g, d, lets)) } else { String::new() };
            format!("slice({}, {}{end})", string_expr(g, d, lets), index(g, d, lets))
        }
        12 => {
            let f = g.pick(&["pad_start", "pad_end"]);
            let width = if g.chance(1, 12) {
                int_expr(g, d, lets)
            } else {
                g.pick(&["0", "3", "8", "-2", "20", "8", "2000000"]).to_string()
            };
            let fill = match g.weighted(&[2, 3, 1]) {
                0 => String::new(),
                1 => format!(", {}", g.pick(&["\" \"", "\"0\"", "\"ab\"", "\"\"", "\"ü\\u{1F600}\""])),
                _ => format!(", {}", string_expr(g, 0, lets)),
            };
            format!("{f}({}, {width}{fill})", string_expr(g, d, lets))
        }
        13 => match g.weighted(&[2, 2, 1, 1]) {
            0 => format!("url_encode({})", string_expr(g, d, lets)),
            1 => format!("url_decode(url_encode({}))", string_expr(g, d, lets)),
            2 => "url_decode(user.app_metadata.enc)".to_string(),
            _ => format!("url_decode({})", string_expr(g, d, lets)),
        },
        14 => {
            let (enc, dec) = g.pick(&[("base64_encode", "base64_decode"), ("base64url_encode", "base64url_decode")]);
            match g.weighted(&[2, 2, 1, 1]) {
                0 => format!("{enc}({})", string_expr(g, d, lets)),
                1 => format!("{dec}({enc}({}))", string_expr(g, d, lets)),
                2 => format!("{dec}(user.app_metadata.enc)"),
                _ => format!("{dec}({})", string_expr(g, d, lets)),
            }
        }
        15 => {
            let encoding = match g.weighted(&[3, 4, 1]) {
                0 => String::new(),
                1 => format!(", {}", g.pick(&["\"hex\"", "\"base64\"", "\"base64url\""])),
                // Not literals (a literal that is no encoding is a compile error): checked at
                // run time, a rule error unless an encoding.
                _ => format!(", {}", g.pick(&["config.L", "user.locale", "lower(\"BASE64\")", "upper(\"hex\")"])),
            };
            if g.chance(1, 2) {
                format!("sha256({}{encoding})", string_expr(g, d, lets))
            } else {
                let key = if g.chance(2, 3) { "config.K".to_string() } else { string_expr(g, 0, lets) };
                format!("hmac_sha256({key}, {}{encoding})", string_expr(g, d, lets))
            }
        }
        16 => {
            let (template, holes) = g.pick(TEMPLATES);
            let values: String = (0..holes).map(|_| format!(", {}", any_expr(g, d, lets))).collect();
            format!("format({template}{values})")
        }
        17 => {
            if g.chance(1, 2) {
                let (pattern, groups) = g.pick(CAPTURES);
                format!("capture({}, {pattern})[{}]", string_expr(g, d, lets), g.below(groups + 2))
            } else {
                let (pattern, names) = g.pick(NAMED);
                format!("capture_named({}, {pattern}).{}", string_expr(g, d, lets), g.pick(names))
            }
        }
        18 => {
            if g.chance(1, 2) {
                format!("date({}{})", time_arg(g, d, lets), opt_zone(g))
            } else {
                let pattern = if g.chance(1, 10) { string_expr(g, 0, lets) } else { g.pick(TIME_PATTERNS).to_string() };
                format!("format_time({}, {pattern}{})", time_arg(g, d, lets), opt_zone(g))
            }
        }
        _ => {
            let f = g.pick(&["first", "last", "min", "max"]);
            format!("{f}({})", list_expr(g, d, lets))
        }
    }
}

/// A position for `slice`: small, negative, past the end, the extremes; rarely any int.
fn index(g: &mut Gen, depth: u32, lets: bool) -> String {
    if g.chance(1, 10) {
        int_expr(g, depth, lets)
    } else {
        g.pick(&["0", "1", "2", "-1", "-3", "100", "-100", "9223372036854775807", "(-9223372036854775807 - 1)"])
            .to_string()
    }
}

/// A duration in milliseconds: `days(n)`, `hours(n)`, ... (rarely of any int: overflow is a
/// rule error).
fn duration(g: &mut Gen, depth: u32, lets: bool) -> String {
    let unit = g.pick(&["days", "hours", "minutes", "seconds"]);
    let n = if depth > 0 && g.chance(1, 8) {
        int_expr(g, depth - 1, lets)
    } else {
        g.pick(&["0", "1", "7", "30", "90", "-1", "365"]).to_string()
    };
    format!("{unit}({n})")
}

/// The date-time fields of the schema (type `time`).
const TIMES: &[&str] =
    &["user.created_at", "user.created_at", "user.last_login", "user.updated_at", "user.last_password_reset"];

/// An instant (epoch milliseconds, an int): `now()` shifted, a date-time field shifted (the
/// checker reads it with `millis()`), `millis()`, `parse_time()`.
fn instant_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    let d = depth.saturating_sub(1);
    match g.weighted(&[3, 3, 2, 2]) {
        0 => format!("(now() - {})", duration(g, d, lets)),
        1 => format!("({} {} {})", g.pick(TIMES), g.pick(&["+", "-"]), duration(g, d, lets)),
        2 if depth == 0 => format!("millis({})", g.pick(TIMES)),
        2 => format!("millis({})", time_arg(g, d, lets)),
        _ => {
            let (text, format, zone) = g.pick(PARSES);
            let text = if g.chance(1, 5) { "user.app_metadata.when".to_string() } else { text.to_string() };
            let zone = if zone.is_empty() { String::new() } else { format!(", {zone}") };
            format!("parse_time({text}, {format}{zone})")
        }
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
        return leaf(g, INTS, Want::Int, lets);
    }
    let d = depth - 1;
    match g.weighted(&[2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]) {
        0 => {
            let op = g.pick(&["+", "+", "-", "-", "*", "/", "%"]);
            format!("({} {op} {})", int_expr(g, d, lets), int_expr(g, d, lets))
        }
        1 => format!("len({})", string_expr(g, d, lets)),
        2 => match g.weighted(&[1, 2, 1]) {
            0 => format!("len({})", dyn_expr(g, d, lets)),
            1 => format!("len({})", list_expr(g, d, lets)),
            _ => format!("len({})", obj_expr(g, d, lets)),
        },
        3 => format!("({} ?? {})", int_expr(g, d, lets), int_expr(g, d, lets)),
        4 => format!("(-{})", int_expr(g, d, lets)),
        5 => match g.weighted(&[2, 1, 1]) {
            0 => format!("count({}, {})", list_expr(g, d, lets), string_expr(g, d, lets)),
            1 => format!("count({}, {})", any_list(g, d, lets), dyn_expr(g, d, lets)),
            _ => format!("count({}, {})", int_list(g, d, lets), int_expr(g, d, lets)),
        },
        6 => {
            if g.chance(1, 2) {
                format!("index_of({}, {})", string_expr(g, d, lets), string_expr(g, d, lets))
            } else {
                format!("index_of({}, {})", list_expr(g, d, lets), string_expr(g, d, lets))
            }
        }
        7 => {
            let f = g.pick(&["sum", "sum", "first", "last", "min", "max"]);
            format!("{f}({})", int_list(g, d, lets))
        }
        8 => {
            let f = g.pick(&["hour", "minute"]);
            format!("{f}({}{})", time_arg(g, d, lets), opt_zone(g))
        }
        9 => instant_expr(g, d, lets),
        10 => {
            let t = g.pick(TIMES);
            if g.chance(1, 2) {
                // `time - time`: a duration in milliseconds.
                format!("({t} - {})", g.pick(TIMES))
            } else {
                format!("((now() - {t}) / days(1))")
            }
        }
        _ => duration(g, d, lets),
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
        return leaf(g, FLOATS, Want::Float, lets);
    }
    let d = depth - 1;
    match g.weighted(&[2, 2, 1, 1, 1, 1]) {
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
        4 => format!("(-{})", float_expr(g, d, lets)),
        // `sum` of anything but a list of ints is a float (at run time, the sum of the items).
        _ => match g.weighted(&[3, 1, 1]) {
            0 => format!("sum([{}, {}])", float_expr(g, d, lets), float_expr(g, d, lets)),
            1 => format!("sum({})", g.pick(&["user.app_metadata.nums", "user.app_metadata.tags"])),
            _ => format!("sum({})", any_list(g, d, lets)),
        },
    }
}

/// An argument of the time functions: a time field, epoch milliseconds, or a string in the
/// documented formats (rarely not: a rule error).
fn time_arg(g: &mut Gen, depth: u32, lets: bool) -> String {
    match g.weighted(&[12, 3, 1, 1]) {
        0 => g
            .pick(&[
                "user.created_at",
                "user.created_at",
                "user.last_login",
                "user.last_password_reset",
                "user.updated_at",
                "now()",
                "now()",
                "0",
                "\"2026-01-01\"",
                "\"2026-11-26T12:00:00Z\"",
                "\"2026-11-26T13:00:00+01:00\"",
                "\"2026-03-29T01:30:00+01:00\"",
                "\"1969-12-31T23:59:59.999Z\"",
                "user.app_metadata.since",
                "user.app_metadata.when",
            ])
            .to_string(),
        1 => instant_expr(g, depth, lets),
        2 => int_expr(g, depth, lets),
        _ => "\"2026-11-26T12:00\"".to_string(),
    }
}

/// A `list<string>`.
fn list_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    const LISTS: &[&str] = &[
        "context.authorization.roles",
        "context.authorization.roles",
        "context.authorization.groups",
        "user.multifactor",
        "context.sso.current_clients",
        "[\"admin\", \"user\"]",
    ];
    if depth == 0 || g.chance(1, 2) {
        return leaf(g, LISTS, Want::List, lets);
    }
    let d = depth - 1;
    match g.weighted(&[2, 2, 4, 1, 1, 1, 1, 1]) {
        0 => {
            // With a limit, at most that many parts (a limit under 1 is a rule error).
            let limit = match g.weighted(&[4, 3, 1]) {
                0 => String::new(),
                1 => format!(", {}", g.pick(&["1", "2", "3", "2", "0", "-1"])),
                _ => format!(", {}", int_expr(g, d, lets)),
            };
            format!("split({}, {}{limit})", string_expr(g, d, lets), g.pick(&["\".\"", "\"@\"", "\"\""]))
        }
        1 => format!("[{}, {}, \"admin\"]", string_expr(g, d, lets), string_expr(g, d, lets)),
        2 => str_comp(g, d, lets),
        3 => format!("{}({})", g.pick(&["unique", "sort"]), list_expr(g, d, lets)),
        4 => {
            let f = g.pick(&["union", "intersect", "difference"]);
            // intersect and difference keep the first list's type: the second may be anything.
            let b = if f != "union" && g.chance(1, 3) { dyn_list(g) } else { list_expr(g, d, lets) };
            format!("{f}({}, {b})", list_expr(g, d, lets))
        }
        5 => {
            let end = if g.chance(1, 2) { format!(", {}", index(g, d, lets)) } else { String::new() };
            format!("slice({}, {}{end})", list_expr(g, d, lets), index(g, d, lets))
        }
        6 => {
            let o = match g.weighted(&[2, 1, 1, 2]) {
                0 => "user.app_metadata".to_string(),
                1 => "user.app_metadata.billing".to_string(),
                2 => "user.user_metadata".to_string(),
                _ => obj_expr(g, d, lets),
            };
            format!("keys({o})")
        }
        _ => {
            let (pattern, _) = g.pick(CAPTURES);
            format!("capture({}, {pattern})", string_expr(g, d, lets))
        }
    }
}

/// The list a comprehension or quantifier ranges over, and what its items are.
fn source(g: &mut Gen, depth: u32, lets: bool) -> (String, Item) {
    match g.weighted(&[5, 2, 1, 1, 1]) {
        0 => (list_expr(g, depth, lets), Item::Str),
        1 => (dyn_list(g), Item::Dyn),
        2 => (any_list(g, depth, lets), Item::Dyn),
        3 => ("context.authentication.methods".to_string(), Item::Method),
        _ => (pairs_expr(g, depth, lets), Item::Pair),
    }
}

/// A string read from the variable `x` over `item`.
fn item_str(g: &mut Gen, x: &str, item: Item) -> String {
    match item {
        Item::Str => match g.below(8) {
            0 => x.to_string(),
            1 => format!("lower({x})"),
            2 => format!("({x} + \"!\")"),
            3 => format!("slice({x}, 0, 3)"),
            4 => format!("replace({x}, \"-\", \"_\")"),
            5 => format!("pad_start({x}, 6, \"*\")"),
            6 => format!("url_encode({x})"),
            _ => format!("format(\"<{{}}>\", {x})"),
        },
        Item::Dyn => match g.below(4) {
            0 => format!("\"${{{x}}}\""),
            1 => format!("format(\"{{}}\", {x})"),
            2 => format!("lower({x})"),
            _ => format!("\"${{{x} ?? \"none\"}}\""),
        },
        Item::Method => {
            if g.chance(1, 2) {
                format!("{x}.name")
            } else {
                format!("\"${{{x}.name}}:${{{x}.timestamp}}\"")
            }
        }
        Item::Pair => {
            if g.chance(1, 2) {
                format!("{x}.k")
            } else {
                format!("format(\"{{}}={{}}\", {x}.k, {x}.n)")
            }
        }
    }
}

/// A condition on the variable `x` over `item`, or any condition (which may read it).
fn item_cond(g: &mut Gen, x: &str, item: Item, depth: u32, lets: bool) -> String {
    if g.chance(1, 3) {
        return bool_expr(g, depth, lets);
    }
    let forms: &[&str] = match item {
        Item::Str => &[
            "({x} != \"\")",
            "starts_with({x}, \"a\")",
            "(len({x}) > 3)",
            "matches({x}, \"^[a-z]+$\")",
            "({x} not in [\"admin\"])",
        ],
        Item::Dyn => &["({x} != null)", "({x} == 1)", "({x} == \"admin\")", "({x} > 0)"],
        Item::Method => &["({x}.name == \"pwd\")", "({x}.timestamp > now() - days(1))"],
        Item::Pair => &["({x}.n > 0)", "({x}.k != null)", "({x}.d == null)"],
    };
    g.pick(forms).replace("{x}", x)
}

/// A comprehension giving a `list<string>`: over strings, dynamic data, objects (nested ones
/// come from the list it ranges over and from its body), with or without a condition.
fn str_comp(g: &mut Gen, depth: u32, lets: bool) -> String {
    let (list, item) = source(g, depth, lets);
    bind(g, item, |g, x| {
        let body = if g.chance(1, 2) { item_str(g, x, item) } else { string_expr(g, depth, lets) };
        let cond = if g.chance(1, 2) { format!(" if {}", item_cond(g, x, item, depth, lets)) } else { String::new() };
        format!("[{body} for {x} in {list}{cond}]")
    })
}

/// One object `{ k: string, n: int, d: any }`.
fn pair(g: &mut Gen, depth: u32, lets: bool) -> String {
    format!(
        "{{ k: {}, n: {}, d: {} }}",
        string_expr(g, depth, lets),
        int_expr(g, depth, lets),
        dyn_expr(g, depth, lets)
    )
}

/// A list of objects `{ k: string, n: int, d: any }`: two literals, or a comprehension.
fn pairs_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    let d = depth.saturating_sub(1);
    if depth == 0 || g.chance(1, 3) {
        return format!("[{}, {}]", pair(g, d, lets), pair(g, d, lets));
    }
    let (list, item) = match g.weighted(&[3, 1, 1]) {
        0 => (list_expr(g, d, lets), Item::Str),
        1 => (dyn_list(g), Item::Dyn),
        _ => ("context.authentication.methods".to_string(), Item::Method),
    };
    bind(g, item, |g, x| {
        let cond = if g.chance(1, 3) { format!(" if {}", item_cond(g, x, item, d, lets)) } else { String::new() };
        format!("[{} for {x} in {list}{cond}]", pair(g, d, lets))
    })
}

/// A `list<int>`.
fn int_list(g: &mut Gen, depth: u32, lets: bool) -> String {
    let d = depth.saturating_sub(1);
    match g.weighted(&[2, 2, 1, 1, 1]) {
        0 => g.pick(&["[1, 7, -3]", "[3, 1, 2, 3]", "[9223372036854775807, 1]", "[0]", "slice([1, 2], 5)"]).to_string(),
        1 => {
            let list = list_expr(g, d, lets);
            bind(g, Item::Str, |g, x| {
                let body =
                    g.pick(&["len({x})", "index_of({x}, \"a\")", "count(split({x}, \"\"), \"a\")"]).replace("{x}", x);
                format!("[{body} for {x} in {list}]")
            })
        }
        2 => bind(g, Item::Method, |_, x| format!("[{x}.timestamp for {x} in context.authentication.methods]")),
        3 => format!("[{}, {}]", int_expr(g, d, lets), int_expr(g, d, lets)),
        _ => {
            let f = g.pick(&["sort", "unique", "slice"]);
            let rest = if f == "slice" { format!(", {}", index(g, d, lets)) } else { String::new() };
            format!("{f}({}{rest})", int_list(g, d, lets))
        }
    }
}

/// A `list<any>`: mixed literals, comprehensions over dynamic data, `values()`, `union()`.
fn any_list(g: &mut Gen, depth: u32, lets: bool) -> String {
    let d = depth.saturating_sub(1);
    match g.weighted(&[2, 3, 1, 1]) {
        0 => g.pick(&["[1, \"two\", null, 2.5, [true]]", "[\"b\", \"a\", \"b\", 1, 1.0, null]"]).to_string(),
        1 => {
            let list = dyn_list(g);
            bind(g, Item::Dyn, |g, x| {
                let body = if g.chance(1, 2) { x.to_string() } else { dyn_expr(g, d, lets) };
                let cond =
                    if g.chance(1, 2) { format!(" if {}", item_cond(g, x, Item::Dyn, d, lets)) } else { String::new() };
                format!("[{body} for {x} in {list}{cond}]")
            })
        }
        2 => {
            let o = if g.chance(1, 2) { obj_expr(g, d, lets) } else { "user.app_metadata.billing".to_string() };
            format!("values({o})")
        }
        _ => format!("union({}, {})", dyn_list(g), list_expr(g, d, lets)),
    }
}

/// An object: a literal (members of every type, nested objects and lists of objects, keys
/// that are names, keywords or strings), `capture_named`, an item of a list of objects.
fn obj_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    if lets && g.chance(1, 5) {
        return "lo".to_string();
    }
    let d = depth.saturating_sub(1);
    match g.weighted(&[5, 1, 1]) {
        0 => object_literal(g, depth, lets),
        1 => {
            let (pattern, _) = g.pick(NAMED);
            format!("capture_named({}, {pattern})", string_expr(g, d, lets))
        }
        _ => format!("first({})", pairs_expr(g, d, lets)),
    }
}

fn object_literal(g: &mut Gen, depth: u32, lets: bool) -> String {
    const KEYS: &[&str] = &["plan", "\"key-with-dash\"", "n", "roles", "nested", "\"ü k\"", "in", "items", "\"\""];
    let d = depth.saturating_sub(1);
    let mut keys: Vec<usize> = (0..KEYS.len()).collect();
    let mut members = Vec::new();
    for _ in 0..g.below(4) {
        let k = keys.remove(g.below(keys.len()));
        let value = match k {
            0 => string_expr(g, d, lets),
            1 => dyn_expr(g, d, lets),
            2 => int_expr(g, d, lets),
            3 => list_expr(g, d, lets),
            4 if depth > 0 => object_literal(g, d, lets),
            4 => "{}".to_string(),
            5 => bool_expr(g, d, lets),
            6 => float_expr(g, d, lets),
            7 => pairs_expr(g, d, lets),
            _ => "null".to_string(),
        };
        members.push(format!("{}: {value}", KEYS[k]));
    }
    if members.is_empty() { "{}".to_string() } else { format!("{{ {} }}", members.join(", ")) }
}

fn dyn_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    const DYNS: &[&str] = &[
        "user.app_metadata.n",
        "user.app_metadata.flag",
        "user.app_metadata.roles",
        "user.app_metadata.name",
        "user.app_metadata[\"key-with-dash\"]",
        "user.app_metadata.tags",
        "user.app_metadata.billing",
        "user.app_metadata.billing.plan",
        "user.user_metadata.k",
        "user.user_metadata",
        "context.request.query.p",
        "context.clientMetadata.tier",
        "user.identities[0].profileData",
    ];
    if depth == 0 || g.chance(5, 9) {
        return leaf(g, DYNS, Want::Dyn, lets);
    }
    let d = depth - 1;
    match g.weighted(&[2, 2, 2, 1, 1, 1, 1]) {
        0 => format!("{}[0]", dyn_expr(g, d, lets)),
        1 => format!("{}[\"a\"]", dyn_expr(g, d, lets)),
        2 => format!("({} ?? {})", dyn_expr(g, d, lets), dyn_expr(g, d, lets)),
        3 => format!("({} {} {})", dyn_expr(g, d, lets), g.pick(&["+", "*", "-"]), int_expr(g, d, lets)),
        4 => {
            let f = g.pick(&["first", "last", "min", "max"]);
            let l = if g.chance(1, 2) { dyn_list(g) } else { any_list(g, d, lets) };
            format!("{f}({l})")
        }
        5 => {
            let f = g.pick(&["sort", "unique", "slice"]);
            let rest = if f == "slice" { format!(", {}", index(g, d, lets)) } else { String::new() };
            format!("{f}({}{rest})", dyn_list(g))
        }
        _ => {
            if g.chance(1, 2) {
                format!("first({}).d", pairs_expr(g, d, lets))
            } else {
                format!("{}[{}]", any_list(g, d, lets), g.below(3))
            }
        }
    }
}

/// Dynamic data that is usually a list (sometimes not: a rule error where one is needed):
/// strings, mixed types, numbers (big ones too), empty.
fn dyn_list(g: &mut Gen) -> String {
    g.pick(&[
        "user.app_metadata.roles",
        "user.app_metadata.roles",
        "user.app_metadata.roles",
        "user.app_metadata.roles",
        "user.app_metadata.tags",
        "user.app_metadata.tags",
        "user.app_metadata.nums",
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

/// A comparison of a date-time field as an instant: with `now()` shifted, date-time strings
/// (some without an offset: a rule error), another field, dynamic data, milliseconds.
fn time_cmp(g: &mut Gen, depth: u32, lets: bool) -> String {
    let t = g.pick(TIMES);
    let ord = g.pick(&["<", "<=", ">", ">="]);
    match g.weighted(&[3, 2, 1, 1, 1, 1]) {
        0 => format!("({t} {ord} now() - {})", duration(g, depth, lets)),
        1 => {
            let s = g.pick(&[
                "\"2026-01-01\"",
                "\"2026-11-26T12:00:00Z\"",
                "\"2026-11-26T13:00:00+01:00\"",
                "\"2026-11-26T12:00\"",
            ]);
            format!("({t} {ord} {s})")
        }
        2 => format!("({t} {} {})", g.pick(&["==", "!=", "<", ">="]), g.pick(TIMES)),
        3 => format!("(({t} - {}) {ord} {})", g.pick(TIMES), duration(g, depth, lets)),
        4 => {
            let dynamic = if g.chance(2, 3) { "user.app_metadata.when".to_string() } else { dyn_expr(g, depth, lets) };
            format!("({t} {} {dynamic})", g.pick(&["<", ">=", "=="]))
        }
        _ => format!("({t} {} {})", g.pick(&["==", "!=", ">"]), int_expr(g, depth, lets)),
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
        return leaf(g, BOOLS, Want::Bool, lets);
    }
    let d = depth - 1;
    let ord = |g: &mut Gen| g.pick(&["==", "!=", "<", "<=", ">", ">="]);
    let weights = [2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1];
    match g.weighted(&weights) {
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
            let list = list_expr(g, d, lets);
            bind(g, Item::Str, |g, r| format!("(any {r} in {list}: {} or {r} == \"admin\")", bool_expr(g, d, lets)))
        }
        20 => {
            let list = list_expr(g, d, lets);
            bind(g, Item::Str, |g, r| format!("(all {r} in {list}: starts_with({r}, {}))", string_expr(g, d, lets)))
        }
        21 => bind(g, Item::Method, |g, m| {
            format!("(all {m} in context.authentication.methods: {m}.name != {})", string_expr(g, d, lets))
        }),
        22 => {
            let list = dyn_list(g);
            bind(g, Item::Dyn, |_, v| format!("(any {v} in {list}: {v} == 1)"))
        }
        23 => {
            if g.chance(3, 4) {
                "user.app_metadata.flag".to_string()
            } else {
                dyn_expr(g, d, lets)
            }
        }
        24 => format!("({} {} {})", bool_expr(g, d, lets), g.pick(&["==", "!="]), bool_expr(g, d, lets)),
        25 => time_cmp(g, d, lets),
        26 => {
            // A quantifier over any list, its condition on the variable.
            let (list, item) = source(g, d, lets);
            let q = g.pick(&["any", "all"]);
            bind(g, item, |g, x| format!("({q} {x} in {list}: {})", item_cond(g, x, item, d, lets)))
        }
        27 => {
            if g.chance(1, 2) {
                let (pattern, _) = g.pick(CAPTURES);
                format!("(capture({}, {pattern}) {} null)", string_expr(g, d, lets), g.pick(&["==", "!="]))
            } else {
                let (pattern, _) = g.pick(NAMED);
                format!("(capture_named({}, {pattern}) {} null)", string_expr(g, d, lets), g.pick(&["==", "!="]))
            }
        }
        28 => match g.weighted(&[1, 1, 1]) {
            // Lists and objects compare structurally.
            0 => format!("({} {} {})", list_expr(g, d, lets), g.pick(&["==", "!="]), list_expr(g, d, lets)),
            1 => format!("({} {} {})", obj_expr(g, d, lets), g.pick(&["==", "!="]), obj_expr(g, d, lets)),
            _ => format!("({} == {})", int_list(g, d, lets), any_list(g, d, lets)),
        },
        _ => {
            if g.chance(1, 2) {
                format!("contains({}, {})", any_list(g, d, lets), dyn_expr(g, d, lets))
            } else {
                format!("({} {} {})", dyn_expr(g, d, lets), g.pick(&["in", "not in"]), any_list(g, d, lets))
            }
        }
    }
}

/// An expression of any type (claims, logs, interpolation, persist, format).
fn any_expr(g: &mut Gen, depth: u32, lets: bool) -> String {
    match g.weighted(&[3, 2, 1, 2, 2, 1, 1, 1, 2, 1, 1, 1, 1]) {
        0 => string_expr(g, depth, lets),
        1 => int_expr(g, depth, lets),
        2 => float_expr(g, depth, lets),
        3 => bool_expr(g, depth, lets),
        4 => dyn_expr(g, depth, lets),
        5 => list_expr(g, depth, lets),
        6 => "[1, \"two\", null, 2.5, [true]]".to_string(),
        7 => "null".to_string(),
        8 => obj_expr(g, depth, lets),
        9 => pairs_expr(g, depth, lets),
        10 => int_list(g, depth, lets),
        11 => any_list(g, depth, lets),
        _ => {
            // A list of lists.
            let list = list_expr(g, depth.saturating_sub(1), lets);
            bind(g, Item::Str, |_, x| format!("[split({x}, \"-\") for {x} in {list}]"))
        }
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
        // The last branch of an `if` whose other branches all end with an unconditional
        // `deny` does not: the statements after it would be unreachable (a compile error).
        let c = bool_expr(g, 2, lets);
        let then = block(g, depth - 1, lets, true);
        return if g.chance(1, 2) {
            let c2 = bool_expr(g, 1, lets);
            let then2 = block(g, depth - 1, lets, true);
            let may_end = !(ends_with_deny(&then) && ends_with_deny(&then2));
            let tail = if g.chance(1, 2) {
                format!(" else {{\n    {}\n    }}", block(g, depth - 1, lets, may_end))
            } else {
                String::new()
            };
            format!("if {c} {{\n    {then}\n    }} else if {c2} {{\n    {then2}\n    }}{tail}")
        } else if g.chance(1, 2) {
            let may_end = !ends_with_deny(&then);
            format!("if {c} {{\n    {then}\n    }} else {{\n    {}\n    }}", block(g, depth - 1, lets, may_end))
        } else {
            format!("if {c} {{\n    {then}\n    }}")
        };
    }
    let weights = [3, 2, 1, 1, 1, 1, 1, 1, 1, 4, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1];
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
        21 => {
            let v = g.name("v");
            let (b, e) = (bool_expr(g, 2, lets), any_expr(g, 1, lets));
            format!("let {v} = {b}\n    claim id_token \"https://x.example/let\" = {e} if {v}")
        }
        22 => {
            // Nested persist: patches the top-level key with its current value (an object, or
            // `{}` when missing; anything else there is a rule error).
            let (path, value) = match g.weighted(&[3, 2, 2, 1, 1, 1]) {
                0 => ("app_metadata.billing.plan", string_expr(g, 1, lets)),
                1 => ("app_metadata.billing.limits.daily", int_expr(g, 1, lets)),
                2 => ("user_metadata.prefs[\"tz\"]", zone_arg(g)),
                3 => ("app_metadata.n.sub", any_expr(g, 1, lets)),
                4 => ("user_metadata.prefs.seen", "null".to_string()),
                _ => ("app_metadata.billing", obj_expr(g, 1, lets)),
            };
            format!("persist {path} = {value}{}", modifier(g, lets))
        }
        23 => {
            let f = g.pick(&["user_metadata.prefs", "app_metadata.billing", "app_metadata.n"]);
            format!("set user.{f} = {}{}", obj_expr(g, 1, lets), modifier(g, lets))
        }
        _ => {
            // An object in a let, read by its members.
            let v = g.name("v");
            let o = object_literal(g, 1, lets);
            let read = g.pick(&["{v}", "keys({v})", "values({v})", "len({v})", "[{v}, {v}]"]).replace("{v}", &v);
            let token = g.pick(&["id_token", "access_token"]);
            format!("let {v} = {o}\n    claim {token} \"{}\" = {read}{}", claim_name(g), modifier(g, lets))
        }
    }
}

/// The unconditional denials a block may end with.
const FINAL_DENIES: &[&str] = &["deny", "deny unauthorized", "deny access_denied \"stop\""];

/// A block of one or two statements, rarely ending with an unconditional `deny` when
/// `may_end` (nothing may follow one in its block).
fn block(g: &mut Gen, depth: u32, lets: bool, may_end: bool) -> String {
    let mut stmts: Vec<String> = (0..1 + g.below(2)).map(|_| statement(g, depth, lets)).collect();
    if may_end && g.chance(1, 15) {
        stmts.push(g.pick(FINAL_DENIES).to_string());
    }
    stmts.join("\n    ")
}

/// Whether a block from [`block`] ends with an unconditional `deny`.
fn ends_with_deny(block: &str) -> bool {
    block.lines().last().is_some_and(|l| FINAL_DENIES.contains(&l.trim()))
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
        let (s, n, d, l) =
            (string_expr(g, 1, false), int_expr(g, 1, false), dyn_expr(g, 0, false), list_expr(g, 1, false));
        out.push_str(&format!("let lo = {{ s: {s}, n: {n}, \"key-with-dash\": {d}, l: {l} }}\n    "));
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
        6 => json!(g.pick(&[
            "admin",
            "x",
            "10.1.2.3",
            "2026-11-26T12:00:00Z",
            "2020-02-29",
            "",
            "Ünï😀 ǅ",
            "%E0%A4%A",
            "aGk/",
        ])),
        7 => json!(["admin", 1, null]),
        8 => json!([1, 2]),
        _ => json!({"a": 1}),
    }
}

fn time_value(g: &mut Gen) -> Json {
    match g.weighted(&[10, 1, 4, 1]) {
        0 => json!(g.pick(&[
            "2026-11-20T08:15:02.114Z",
            "2020-02-29",
            "2026-11-26T13:00:00+01:00",
            "2026-03-29T01:30:00+01:00",
            "2026-11-26T12:00:00.5-03:30",
        ])),
        1 => json!(g.pick(&["2026-11-26T12:00", "not a date", "2026-11-26 12:00:00"])),
        2 => json!(g.pick(&[1_764_158_400_000i64, 0, -1])),
        // The last supported instant, and past it (a rule error where read as an instant).
        _ => json!(g.pick(&[253_402_300_799_000i64, 253_402_300_799_000, 1_000_000_000_000_000])),
    }
}

/// A list in metadata: strings (Unicode, repeats), numbers (big ones, floats), mixed types,
/// empty.
fn dyn_list_value(g: &mut Gen) -> Json {
    match g.below(10) {
        0 => json!([]),
        1 => json!(["b", "a", "b", "ü😀", "A"]),
        2 => json!([3, 1, 2, 1.0]),
        3 => json!([9223372036854775807i64, 1]),
        4 => json!(["a", 1, null, 2.5, true, [1], {"a": 1}]),
        5 => json!([1.5, -0.0, 1e300, 1e300]),
        6 => json!(["admin", "user", "admin"]),
        7 => json!(["%E0%A4%A", "aGk/", "2026-11-26T12:00"]),
        // Floats whose sum is not finite (a rule error).
        8 => json!([1.5, -0.0, 1.7e308, 1.7e308]),
        _ => dynamic_value(g),
    }
}

/// Text for the decoding functions: valid and malformed percent-encodings and base64
/// (standard, URL-safe, unpadded, bytes that are not UTF-8).
fn encoded_value(g: &mut Gen) -> Json {
    json!(g.pick(&[
        "a%20b%2Bc",
        "%C3%A9%F0%9F%98%80",
        "%E0%A4%A",
        "%zz",
        "%FF",
        "100%",
        "aGk/",
        "aGk_",
        "aGk",
        "8J+YgA==",
        "8J-YgA",
        "/w==",
        "!!",
        "",
        "ü",
    ]))
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
        maybe(g, &mut u, key, |g| {
            json!(g.pick(&["Alice", "  ", "Ωmega", "", "nick", "İstanbul straße 😀", "Ada Lovelace"]))
        });
    }
    maybe(g, &mut u, "logins_count", |g| json!(g.pick(&[-1i64, 0, 1, 3, 1000, 9223372036854775807])));
    maybe(g, &mut u, "blocked", |g| json!(g.chance(1, 4)));
    maybe(g, &mut u, "phone_verified", |g| json!(g.chance(1, 2)));
    maybe(g, &mut u, "created_at", time_value);
    maybe(g, &mut u, "last_login", time_value);
    if g.chance(1, 2) {
        u.insert("updated_at".into(), time_value(g));
    }
    if g.chance(1, 3) {
        u.insert("last_password_reset".into(), time_value(g));
    }
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
    let mut md = json!({
        "n": dynamic_value(g), "flag": flag, "roles": roles, "name": dynamic_value(g),
        "since": dynamic_value(g), "key-with-dash": dynamic_value(g),
    });
    // What the new built-ins read: lists, encoded text, date-times (some without an offset),
    // zones, and an object that nested `persist` patches (sometimes not an object).
    let extra = serde_json::Map::from_iter([
        ("tags".to_string(), dyn_list_value(g)),
        ("nums".to_string(), dyn_list_value(g)),
        ("enc".to_string(), encoded_value(g)),
        (
            "when".to_string(),
            json!(g.pick(&["2026-11-26T10:00:00+05:30", "2026-11-26T12:00:00Z", "2026-11-26T12:00", "2020-02-29"])),
        ),
        ("tz".to_string(), json!(g.pick(&["Europe/Berlin", "Asia/Kathmandu", "Mars/Olympus", "utc"]))),
        (
            "billing".to_string(),
            match g.below(6) {
                0 => json!({ "plan": "pro", "seats": 3 }),
                1 => json!({ "plan": "free", "limits": { "daily": 5 } }),
                2 => json!({ "limits": 7 }),
                3 => json!({}),
                4 => json!("gold"),
                _ => Json::Null,
            },
        ),
    ]);
    for (k, v) in extra {
        if g.chance(4, 5) {
            md[k.as_str()] = v;
        }
    }
    u.insert("app_metadata".into(), md);
    maybe(g, &mut u, "user_metadata", |g| {
        let mut m = json!({ "k": dynamic_value(g) });
        if g.chance(1, 2) {
            m["prefs"] = if g.chance(4, 5) { json!({ "tz": "Asia/Kolkata", "seen": true }) } else { json!(["x"]) };
        }
        m
    });
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
        // Real IANA zones (odd offsets, DST) and junk (a rule error where used as a zone).
        maybe(g, &mut geoip, "time_zone", |g| {
            if g.chance(2, 3) {
                json!(g.pick(&["Europe/London", "Asia/Kolkata", "America/Los_Angeles", "Australia/Lord_Howe", "UTC"]))
            } else {
                json!(g.pick(&["Mars/Olympus", "", "+05:30", "Europe/london", "../etc/passwd"]))
            }
        });
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

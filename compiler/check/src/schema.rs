//! The built-in schema of Auth0's `user` and `context` (reference sections 2 and 3), and the
//! checker's types. `docs/schema.md` is generated from this table by `warden schema`.

use std::collections::BTreeMap;
use std::sync::Arc;

use warden_ir::{InputShapes, Shape as InputShape, Ty};

/// The checker's view of a type: richer than [`Ty`] (objects know their fields, enums their
/// values); lowered to `Ty` in the IR.
#[derive(Clone, Debug)]
pub enum CTy {
    Null,
    Bool,
    Int,
    Float,
    Str,
    /// A string with a known set of values (`context.protocol`, `weekday()`).
    Enum(&'static [&'static str]),
    Time,
    List(Box<CTy>),
    Obj(Arc<Shape>),
    Dyn,
}

/// An object type with known fields.
#[derive(Debug)]
pub struct Shape {
    pub fields: Vec<Field>,
}

#[derive(Debug)]
pub struct Field {
    pub name: String,
    pub ty: CTy,
    pub writable: bool,
}

impl Shape {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }
    /// The fields as the IR types them.
    pub fn to_ir_fields(&self) -> Vec<(String, Ty)> {
        self.fields.iter().map(|f| (f.name.clone(), f.ty.to_ir())).collect()
    }
}

impl CTy {
    pub fn to_ir(&self) -> Ty {
        match self {
            CTy::Null => Ty::Null,
            CTy::Bool => Ty::Bool,
            CTy::Int => Ty::Int,
            CTy::Float => Ty::Float,
            CTy::Str | CTy::Enum(_) => Ty::Str,
            CTy::Time => Ty::Time,
            CTy::List(t) => Ty::List(Box::new(t.to_ir())),
            CTy::Obj(shape) => Ty::Object(shape.to_ir_fields()),
            CTy::Dyn => Ty::Dyn,
        }
    }
    /// What input of this type must look like (`docs/schema.md`).
    pub fn to_shape(&self) -> InputShape {
        match self {
            CTy::Null | CTy::Dyn => InputShape::Any,
            CTy::Bool => InputShape::Bool,
            CTy::Int => InputShape::Int,
            CTy::Float => InputShape::Float,
            CTy::Str => InputShape::Str,
            CTy::Enum(values) => InputShape::OneOf(values.iter().map(|v| v.to_string()).collect()),
            CTy::Time => InputShape::Time,
            CTy::List(t) => InputShape::List(Box::new(t.to_shape())),
            CTy::Obj(shape) => {
                InputShape::object(shape.fields.iter().map(|f| (f.name.clone(), f.ty.to_shape())).collect())
            }
        }
    }
    pub fn name(&self) -> String {
        match self {
            CTy::Obj(_) => "object".into(),
            CTy::Enum(_) => "string".into(),
            CTy::List(t) => format!("list<{}>", t.name()),
            other => other.to_ir().name(),
        }
    }
    pub fn is_dyn(&self) -> bool {
        matches!(self, CTy::Dyn | CTy::Null)
    }
    pub fn is_str(&self) -> bool {
        matches!(self, CTy::Str | CTy::Enum(_))
    }
    pub fn is_num(&self) -> bool {
        matches!(self, CTy::Int | CTy::Float)
    }
    /// Whether a value of type `self` may be used where `want` is expected.
    pub fn fits(&self, want: &CTy) -> bool {
        match (self, want) {
            (CTy::Dyn | CTy::Null, _) | (_, CTy::Dyn) => true,
            (a, b) if a.is_str() && b.is_str() => true,
            (CTy::Int, CTy::Float) => true,
            (CTy::Bool, CTy::Bool) | (CTy::Int, CTy::Int) | (CTy::Float, CTy::Float) => true,
            (CTy::Time, CTy::Time) => true,
            (CTy::Str | CTy::Int, CTy::Time) => true,
            (CTy::List(a), CTy::List(b)) => a.fits(b),
            (CTy::Obj(_), CTy::Obj(_)) => true,
            _ => false,
        }
    }
}

pub const PROTOCOLS: &[&str] = &[
    "oidc-basic-profile",
    "oidc-implicit-profile",
    "oauth2-device-code",
    "oauth2-resource-owner",
    "oauth2-resource-owner-jwt-bearer",
    "oauth2-password",
    "oauth2-refresh-token",
    "samlp",
    "wsfed",
    "wstrust-usernamemixed",
    "delegation",
    "redirect-callback",
];

pub const WEEKDAYS: &[&str] = &["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

const CONFIDENCE: &[&str] = &["low", "medium", "high", "neutral"];

/// Dynamic objects whose shape a manifest may declare.
pub const DECLARABLE: &[&str] = &[
    "user.app_metadata",
    "user.user_metadata",
    "context.clientMetadata",
    "context.connectionOptions",
    "context.connectionMetadata",
    "context.request.query",
    "context.request.body",
];

/// The `user` and `context` types, with declared shapes replacing dynamic objects.
#[derive(Debug)]
pub struct Schema {
    pub user: CTy,
    pub context: CTy,
}

fn obj(fields: Vec<(&str, CTy)>) -> CTy {
    obj_w(fields, false)
}

fn obj_w(fields: Vec<(&str, CTy)>, writable: bool) -> CTy {
    CTy::Obj(Arc::new(Shape {
        fields: fields.into_iter().map(|(n, ty)| Field { name: n.to_string(), ty, writable }).collect(),
    }))
}

fn list(t: CTy) -> CTy {
    CTy::List(Box::new(t))
}

impl Schema {
    pub fn new(declared: &BTreeMap<String, CTy>) -> Schema {
        let d = |path: &str| declared.get(path).cloned().unwrap_or(CTy::Dyn);
        use CTy::*;
        let identity = obj(vec![
            ("connection", Str),
            ("isSocial", Bool),
            ("provider", Str),
            ("user_id", Dyn),
            ("profileData", Dyn),
            ("access_token", Str),
            ("access_token_secret", Str),
            ("refresh_token", Str),
            ("expires_in", Int),
        ]);
        let mut user_fields = vec![
            ("user_id", Str),
            ("email", Str),
            ("email_verified", Bool),
            ("username", Str),
            ("name", Str),
            ("given_name", Str),
            ("family_name", Str),
            ("nickname", Str),
            ("picture", Str),
            ("phone_number", Str),
            ("phone_verified", Bool),
            ("created_at", Time),
            ("updated_at", Time),
            ("last_password_reset", Time),
            ("last_login", Time),
            ("last_ip", Str),
            ("logins_count", Int),
            ("blocked", Bool),
            ("locale", Str),
            ("multifactor", list(Str)),
            ("identities", list(identity)),
            ("app_metadata", d("user.app_metadata")),
            ("user_metadata", d("user.user_metadata")),
            ("permissions", Dyn),
            ("groups", Dyn),
            ("roles", Dyn),
        ];
        // Delegation flows merge the original JWT's claims into the user.
        for claim in ["iss", "sub", "aud", "iat", "exp", "persistent"] {
            user_fields.push((claim, Dyn));
        }
        let user = CTy::Obj(Arc::new(Shape {
            fields: user_fields
                .into_iter()
                .map(|(n, ty)| Field { name: n.to_string(), ty, writable: !matches!(n, "user_id" | "identities") })
                .collect(),
        }));
        let assessment = || obj(vec![("confidence", Enum(CONFIDENCE)), ("code", Str), ("details", Dyn)]);
        let geoip = obj(vec![
            ("country_code", Str),
            ("country_code3", Str),
            ("country_name", Str),
            ("city_name", Str),
            ("latitude", Float),
            ("longitude", Float),
            ("time_zone", Str),
            ("continent_code", Str),
            ("subdivision_code", Str),
            ("subdivision_name", Str),
            ("region", Str),
            ("city", Str),
        ]);
        let context = obj(vec![
            ("tenant", Str),
            ("clientID", Str),
            ("clientName", Str),
            ("clientMetadata", d("context.clientMetadata")),
            ("connectionID", Str),
            ("connection", Str),
            ("connectionStrategy", Str),
            ("connectionOptions", d("context.connectionOptions")),
            ("connectionMetadata", d("context.connectionMetadata")),
            ("samlConfiguration", Dyn),
            ("protocol", Enum(PROTOCOLS)),
            ("original_protocol", Enum(PROTOCOLS)),
            (
                "riskAssessment",
                obj(vec![
                    ("confidence", Enum(CONFIDENCE)),
                    ("version", Str),
                    (
                        "assessments",
                        obj(vec![
                            ("NewDevice", assessment()),
                            ("ImpossibleTravel", assessment()),
                            ("UntrustedIP", assessment()),
                        ]),
                    ),
                ]),
            ),
            ("stats", obj(vec![("loginsCount", Int)])),
            ("sso", obj(vec![("with_auth0", Bool), ("with_dbconn", Bool), ("current_clients", list(Str))])),
            ("accessToken", Dyn),
            ("idToken", Dyn),
            ("multifactor", Dyn),
            ("redirect", Dyn),
            ("sessionID", Str),
            (
                "request",
                obj(vec![
                    ("userAgent", Str),
                    ("ip", Str),
                    ("hostname", Str),
                    ("query", d("context.request.query")),
                    ("body", d("context.request.body")),
                    ("geoip", geoip),
                ]),
            ),
            ("primaryUser", Str),
            (
                "authentication",
                obj(vec![("methods", list(obj(vec![("name", Str), ("timestamp", Int), ("url", Str)])))]),
            ),
            ("authorization", obj(vec![("roles", list(Str)), ("groups", list(Str))])),
            ("organization", obj(vec![("id", Str), ("name", Str), ("display_name", Str), ("metadata", Dyn)])),
            ("jwtConfiguration", Dyn),
        ]);
        Schema { user, context }
    }

    /// The shapes the inputs must have: the schema's known fields, plus the fields warden
    /// itself reads to finish a login (the scope sources, `request.query.prompt`), checked
    /// even when no rule reads them. A manifest's declaration of `request.query` or
    /// `request.body` decides the shape of their `scope` and `prompt` when it names them.
    pub fn input_shapes(&self) -> InputShapes {
        let mut context = self.context.to_shape();
        let engine_reads: [(&[&str], InputShape); 4] = [
            (&["accessToken", "scope"], InputShape::Scopes),
            (&["request", "body", "scope"], InputShape::Scopes),
            (&["request", "query", "scope"], InputShape::Scopes),
            (&["request", "query", "prompt"], InputShape::Str),
        ];
        for (path, shape) in engine_reads {
            require(&mut context, path, shape);
        }
        InputShapes { user: self.user.to_shape(), context }
    }
}

/// Adds a known field at `path` unless the shape already knows it (or knows it is not an object).
fn require(shape: &mut InputShape, path: &[&str], leaf: InputShape) {
    let Some((first, rest)) = path.split_first() else { return };
    if matches!(shape, InputShape::Any) {
        *shape = InputShape::Object(Vec::new());
    }
    let InputShape::Object(fields) = shape else { return };
    let at = match InputShape::field_slot(fields, first) {
        Ok(_) if rest.is_empty() => return,
        Ok(i) => i,
        Err(i) => {
            let child = if rest.is_empty() { leaf.clone() } else { InputShape::Any };
            fields.insert(i, (first.to_string(), child));
            if rest.is_empty() {
                return;
            }
            i
        }
    };
    require(&mut fields[at].1, rest, leaf);
}

/// How deep a declared type may nest: each table and each `list<>` is a level, the declared
/// object itself the first (as in `.rule` files, 64).
pub const MAX_TYPE_DEPTH: usize = 64;

/// Parses a manifest schema type: `string`, `int`, `float`, `bool`, `time`, `any`, or
/// `list<T>` (tables are objects, see [`declared_object`]). `depth` is the level the type
/// sits at; `Err(None)` for text that is not a type, `Err(Some(levels))` for a type that
/// would nest deeper than [`MAX_TYPE_DEPTH`]. Iterative: the text may be very long.
pub fn parse_type(s: &str, depth: usize) -> Result<CTy, Option<usize>> {
    let mut s = s.trim();
    let mut lists = 0usize;
    while let Some(inner) = s.strip_prefix("list<").and_then(|r| r.strip_suffix('>')) {
        lists += 1;
        s = inner.trim();
    }
    let mut ty = match s {
        "string" => CTy::Str,
        "int" => CTy::Int,
        "float" => CTy::Float,
        "bool" => CTy::Bool,
        "time" => CTy::Time,
        "any" => CTy::Dyn,
        _ => return Err(None),
    };
    if depth + lists > MAX_TYPE_DEPTH {
        return Err(Some(depth + lists));
    }
    for _ in 0..lists {
        ty = CTy::List(Box::new(ty));
    }
    Ok(ty)
}

/// An object type from declared fields (declared objects are writable).
pub fn declared_object(fields: Vec<(String, CTy)>) -> CTy {
    CTy::Obj(Arc::new(Shape {
        fields: fields.into_iter().map(|(name, ty)| Field { name, ty, writable: true }).collect(),
    }))
}

/// Renders the schema as Markdown (for `docs/schema.md`).
pub fn markdown(schema: &Schema) -> String {
    let mut out = String::new();
    out.push_str("| path | type | writable with `set` |\n|---|---|---|\n");
    fn walk(out: &mut String, prefix: &str, ty: &CTy, writable: bool) {
        let shown = match ty {
            CTy::Enum(vals) => format!("string (one of {})", vals.join(", ")),
            CTy::List(inner) if matches!(**inner, CTy::Obj(_)) => "list<object>".into(),
            other => other.name(),
        };
        out.push_str(&format!("| `{prefix}` | {shown} | {} |\n", if writable { "yes" } else { "no" }));
        let shape = match ty {
            CTy::Obj(s) => Some((s, "")),
            CTy::List(inner) => match &**inner {
                CTy::Obj(s) => Some((s, "[i]")),
                _ => None,
            },
            _ => None,
        };
        if let Some((shape, idx)) = shape {
            for f in &shape.fields {
                walk(out, &format!("{prefix}{idx}.{}", f.name), &f.ty, writable && f.writable);
            }
        }
    }
    for (root, ty) in [("user", &schema.user), ("context", &schema.context)] {
        if let CTy::Obj(shape) = ty {
            for f in &shape.fields {
                walk(&mut out, &format!("{root}.{}", f.name), &f.ty, root == "user" && f.writable);
            }
        }
    }
    out
}

/// One line about each of the best-known fields of `user` and `context` (Auth0's reference),
/// shown by editors on hover; the type comes from the schema itself.
pub const FIELD_DOCS: &[(&str, &str)] = &[
    ("user.user_id", "the user's unique id, `provider|id` (`auth0|5f7c...`)"),
    ("user.email", "the user's email address"),
    ("user.email_verified", "whether the user has verified their email address"),
    ("user.username", "the username, for connections that use one"),
    ("user.name", "the user's full name"),
    ("user.given_name", "the user's first name"),
    ("user.family_name", "the user's last name"),
    ("user.nickname", "the user's nickname"),
    ("user.picture", "the URL of the user's picture"),
    ("user.phone_number", "the user's phone number"),
    ("user.phone_verified", "whether the user has verified their phone number"),
    ("user.created_at", "when the user was created"),
    ("user.updated_at", "when the profile was last updated"),
    ("user.last_password_reset", "when the password was last reset"),
    ("user.last_login", "when the user last logged in (before this login)"),
    ("user.last_ip", "the IP address of the last login"),
    ("user.logins_count", "how many times the user has logged in, this login included"),
    ("user.blocked", "whether the user is blocked"),
    ("user.locale", "the user's locale (`en-US`)"),
    ("user.multifactor", "the MFA providers the user is enrolled with"),
    ("user.identities", "the accounts linked to this user, one per connection"),
    ("user.app_metadata", "data the application owns (roles, plan): users cannot change it"),
    ("user.user_metadata", "data the user may change (preferences)"),
    ("context.tenant", "the tenant's name"),
    ("context.clientID", "the id of the application the user logs in to"),
    ("context.clientName", "the name of the application the user logs in to"),
    ("context.clientMetadata", "the application's metadata, set in its settings"),
    ("context.connectionID", "the id of the connection used to authenticate"),
    ("context.connection", "the name of the connection used to authenticate"),
    ("context.connectionStrategy", "the connection's type (`auth0`, `google-oauth2`, `samlp`, ...)"),
    ("context.connectionMetadata", "the connection's metadata"),
    ("context.protocol", "the authentication protocol of this login"),
    ("context.original_protocol", "the protocol before a redirect rule sent the user away"),
    ("context.riskAssessment", "how risky this login looks (new device, impossible travel, untrusted IP)"),
    ("context.stats", "login statistics of this user for this application"),
    ("context.stats.loginsCount", "how many times the user has logged in to this application"),
    ("context.sso", "single sign-on state of this login"),
    ("context.sessionID", "the id of the session"),
    ("context.request", "the HTTP request that started the login"),
    ("context.request.ip", "the IP address the login comes from"),
    ("context.request.userAgent", "the browser's or client's user agent"),
    ("context.request.hostname", "the host name the login was sent to"),
    ("context.request.query", "the request's query parameters"),
    ("context.request.body", "the request's body (for POST logins)"),
    ("context.request.geoip", "where the IP address is, as far as a geolocation database knows"),
    ("context.primaryUser", "the id of the primary user when accounts were linked"),
    ("context.authentication", "how the user authenticated in this session"),
    (
        "context.authentication.methods",
        "each method the user authenticated with (`pwd`, `mfa`, `federated`, ...), with when",
    ),
    ("context.authorization", "the user's roles and groups for this application (RBAC)"),
    ("context.authorization.roles", "the names of the user's roles"),
    ("context.organization", "the organization the user logs in with, when there is one"),
];

//! The claim policy: which custom claim names survive to the tokens. Shared by the checker
//! (warnings) and every runtime (the drop itself).

use crate::{ClaimMode, Token};

/// Hosts whose namespaces Auth0 reserves (and their subdomains); `urn:auth0` names too.
pub const AUTH0_NAMESPACES: &[&str] = &["auth0.com", "webtask.io", "webtask.run"];

/// Why the claim policy drops a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// A name Auth0 restricts (`sub`, `iss`, ...; `scope` in access tokens), in `modern` mode.
    Restricted,
    /// A namespace on an Auth0 domain, or under `urn:auth0`, in both modes.
    Auth0Namespace,
    /// An `http(s)://` name that is not a URL with a host, in both modes.
    BadNamespace,
    /// Not an `http(s)://` name, in `namespaced` mode.
    NotNamespaced,
}

impl Rejection {
    /// The reason, as the runtimes log it.
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::Restricted => "the name is restricted by Auth0",
            Rejection::Auth0Namespace => "Auth0 namespaces are reserved",
            Rejection::BadNamespace => "the namespace is not a URL with a host",
            Rejection::NotNamespaced => "claim_mode \"namespaced\" allows only http:// or https:// names",
        }
    }
}

/// Whether the claim mode drops a claim name from `token`, and why. A namespace's host is
/// read as a URL parser reads it (`https://tenant@auth0.com/x` is on `auth0.com`).
pub fn claim_rejection(name: &str, mode: ClaimMode, token: Token) -> Option<Rejection> {
    let starts = |prefix: &str| name.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix));
    if starts("urn:auth0") && matches!(name.as_bytes().get(9), None | Some(b':')) {
        return Some(Rejection::Auth0Namespace);
    }
    if starts("http://") || starts("https://") {
        return match namespace_host(name) {
            None => Some(Rejection::BadNamespace),
            Some(host) => {
                let host = host.trim_end_matches('.');
                let reserved = AUTH0_NAMESPACES
                    .iter()
                    .any(|ns| host == *ns || host.strip_suffix(ns).is_some_and(|rest| rest.ends_with('.')));
                reserved.then_some(Rejection::Auth0Namespace)
            }
        };
    }
    match mode {
        ClaimMode::Namespaced => Some(Rejection::NotNamespaced),
        ClaimMode::Modern => {
            let restricted = RESTRICTED_CLAIMS.contains(&name) || (token == Token::AccessToken && name == "scope");
            restricted.then_some(Rejection::Restricted)
        }
    }
}

/// The host of an `http(s)://` claim name, lower-cased. Plain hosts are read directly; anything
/// else (user info, percent-escapes, IDNA, upper case, odd characters) goes through a URL parser.
fn namespace_host(name: &str) -> Option<String> {
    let rest = &name[name.find("://")? + 3..];
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = authority.split_once(':').unwrap_or((authority, ""));
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
    if !host.is_empty() && host.chars().all(plain) && port.chars().all(|c| c.is_ascii_digit()) && !rest.contains('\\') {
        return Some(host.to_string());
    }
    let url = url::Url::parse(name).ok()?;
    url.host_str().filter(|h| !h.is_empty()).map(|h| h.to_ascii_lowercase())
}

/// Claim names Auth0 never lets rules set (reference §2.3).
pub const RESTRICTED_CLAIMS: &[&str] = &[
    "acr",
    "act",
    "active",
    "amr",
    "at_hash",
    "ath",
    "attest",
    "aud",
    "auth_time",
    "authorization_details",
    "azp",
    "c_hash",
    "client_id",
    "cnf",
    "cty",
    "dest",
    "entitlements",
    "events",
    "exp",
    "groups",
    "gty",
    "htm",
    "htu",
    "iat",
    "internalService",
    "iss",
    "jcard",
    "jku",
    "jti",
    "jwe",
    "jwk",
    "kid",
    "may_act",
    "mky",
    "nbf",
    "nonce",
    "object_id",
    "org_id",
    "org_name",
    "orig",
    "origid",
    "permissions",
    "roles",
    "rph",
    "s_hash",
    "sid",
    "sip_callid",
    "sip_cseq_num",
    "sip_date",
    "sip_from_tag",
    "sip_via_branch",
    "sub",
    "sub_jwk",
    "toe",
    "txn",
    "typ",
    "uuid",
    "vot",
    "vtm",
    "x5t#S256",
];

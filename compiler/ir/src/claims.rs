//! The claim policy: which custom claim names survive to the tokens. Shared by the checker
//! (warnings) and every runtime (the drop itself).

use crate::ClaimMode;

/// Hosts whose namespaces Auth0 reserves.
pub const AUTH0_NAMESPACES: &[&str] = &["auth0.com", "webtask.io", "webtask.run"];

/// Why the claim policy drops a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// A name Auth0 restricts (`sub`, `iss`, ...), in `modern` mode.
    Restricted,
    /// A namespace on an Auth0 domain, in both modes.
    Auth0Namespace,
    /// Not an `http(s)://` name, in `namespaced` mode.
    NotNamespaced,
}

impl Rejection {
    /// The reason, as the runtimes log it.
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::Restricted => "the name is restricted by Auth0",
            Rejection::Auth0Namespace => "Auth0 namespaces are reserved",
            Rejection::NotNamespaced => "claim_mode \"namespaced\" allows only http:// or https:// names",
        }
    }
}

/// Whether the claim mode drops a claim name, and why.
pub fn claim_rejection(name: &str, mode: ClaimMode) -> Option<Rejection> {
    let namespaced = name.starts_with("http://") || name.starts_with("https://");
    if namespaced {
        let host = name.split_once("://").map_or("", |(_, r)| r).split(['/', ':']).next().unwrap_or("");
        let host = host.to_ascii_lowercase();
        let reserved = AUTH0_NAMESPACES.iter().any(|ns| host == *ns || host.ends_with(&format!(".{ns}")));
        return reserved.then_some(Rejection::Auth0Namespace);
    }
    match mode {
        ClaimMode::Namespaced => Some(Rejection::NotNamespaced),
        ClaimMode::Modern => RESTRICTED_CLAIMS.contains(&name).then_some(Rejection::Restricted),
    }
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

//! The claim policy: which custom claim names survive to the tokens. Shared by the checker
//! (warnings) and every runtime (the drop itself).

use crate::ClaimMode;

/// Hosts whose namespaces Auth0 reserves.
pub const AUTH0_NAMESPACES: &[&str] = &["auth0.com", "webtask.io", "webtask.run"];

/// Why the claim mode drops a claim name, if it does.
pub fn claim_rejection(name: &str, mode: ClaimMode) -> Option<&'static str> {
    let namespaced = name.starts_with("http://") || name.starts_with("https://");
    if namespaced {
        let host = name.split_once("://").map_or("", |(_, r)| r).split(['/', ':']).next().unwrap_or("");
        let host = host.to_ascii_lowercase();
        let reserved = AUTH0_NAMESPACES.iter().any(|ns| host == *ns || host.ends_with(&format!(".{ns}")));
        return reserved.then_some("Auth0 namespaces are reserved");
    }
    match mode {
        ClaimMode::Namespaced => Some("claim_mode \"namespaced\" allows only http:// or https:// names"),
        ClaimMode::Modern => RESTRICTED_CLAIMS.contains(&name).then_some("the name is restricted by Auth0"),
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

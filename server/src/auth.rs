//! API keys: `Authorization: Bearer KEY`, per route group, compared in constant time.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use sha2::{Digest, Sha256};

use crate::App;
use crate::api::error;

/// The shortest key accepted: guessing one must be hopeless.
pub const MIN_KEY_LEN: usize = 16;

/// Route groups with their own keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Logins and hooks.
    Login,
    /// `/v1/admin/*`.
    Admin,
}

/// Reads keys: one per line (blank lines and `#` comments skipped) or separated by commas.
pub fn parse_keys(text: &str) -> Result<Vec<String>, String> {
    let keys: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .flat_map(|l| l.split(','))
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .collect();
    if let Some(short) = keys.iter().find(|k| k.len() < MIN_KEY_LEN) {
        return Err(format!(
            "an API key of {} characters is too short: use at least {MIN_KEY_LEN} (e.g. `openssl rand -hex 32`)",
            short.len()
        ));
    }
    if let Some(bad) = keys.iter().find(|k| !k.bytes().all(|b| b.is_ascii_graphic())) {
        return Err(format!(
            "an API key holds a character that cannot travel in a header ({} characters long)",
            bad.len()
        ));
    }
    Ok(keys)
}

/// Whether the request carries a key of `group`. Login routes need no key when none are
/// configured (loopback, or `--no-auth`); admin routes need an admin key, except on a
/// loopback server with no keys at all (a developer's machine).
// The error is the reply itself, returned at once by the handler: boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub fn check(app: &App, headers: &HeaderMap, group: Group) -> Result<(), Response> {
    let s = &app.settings;
    let keys = match group {
        Group::Login => &s.login_keys,
        Group::Admin => &s.admin_keys,
    };
    if keys.is_empty() {
        let open = match group {
            Group::Login => true,
            Group::Admin => s.listen.ip().is_loopback() && s.login_keys.is_empty(),
        };
        if open {
            return Ok(());
        }
        app.metrics.reject("forbidden");
        return Err(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "admin routes need admin keys (--admin-keys-file or WARDEN_ADMIN_KEYS)",
            None,
        ));
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let Some(given) = given else {
        app.metrics.reject("unauthorized");
        let mut r =
            error(StatusCode::UNAUTHORIZED, "unauthorized", "an API key is required: Authorization: Bearer KEY", None);
        r.headers_mut().insert(header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        return Err(r);
    };
    if keys.iter().any(|k| same(k, given)) {
        Ok(())
    } else {
        app.metrics.reject("unauthorized");
        let mut r = error(StatusCode::UNAUTHORIZED, "unauthorized", "the API key is not valid for this route", None);
        r.headers_mut().insert(header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        Err(r)
    }
}

/// Compares digests, so the time taken does not depend on where the texts differ.
fn same(a: &str, b: &str) -> bool {
    let (x, y) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    x.iter().zip(y.iter()).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_lines_or_commas_and_short_ones_refused() {
        let keys = parse_keys("# ops\n0123456789abcdef\n\n fedcba9876543210 , aaaaaaaaaaaaaaaa\n").expect("keys");
        assert_eq!(keys, vec!["0123456789abcdef", "fedcba9876543210", "aaaaaaaaaaaaaaaa"]);
        assert!(parse_keys("short").expect_err("too short").contains("too short"));
        assert!(same("0123456789abcdef", "0123456789abcdef"));
        assert!(!same("0123456789abcdef", "0123456789abcdeF"));
    }
}

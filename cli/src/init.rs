//! `warden init DIR`: a project that checks and tests clean out of the box.

use std::path::Path;

const MANIFEST: &str = r#"# The pipeline: rules run in this order. See docs/manifest.md.
[pipeline]
rules = ["rules/access.rule", "rules/tokens.rule"]
claim_mode = "modern"

[configuration]
ALLOWED_DOMAINS = "example.com,example.org"
"#;

const ACCESS: &str = r#"# Who may log in. A deny stops the pipeline.

rule "require verified email" {
    deny "Please verify your email before logging in." unless user.email_verified
}

rule "company domains only" {
    let allowed = split(config.ALLOWED_DOMAINS, ",")
    deny unauthorized "Access denied." unless email_domain(user.email) in allowed
}
"#;

const TOKENS: &str = r#"# What the tokens carry.

rule "roles claim" {
    claim id_token "https://example.com/roles" = context.authorization.roles
}

rule "admin scopes" {
    when "admin" in context.authorization.roles
    scope add "admin:read", "admin:write"
}
"#;

const TESTS: &str = r#"# Tests for warden.toml: `warden test`. See docs/testing.md.

[defaults]
now = "2026-11-26T12:00:00Z"

[defaults.user]
user_id = "auth0|1"
email = "alice@example.com"
email_verified = true

[defaults.context]
clientName = "My App"
protocol = "oidc-basic-profile"
authorization = { roles = ["editor"] }
request = { ip = "203.0.113.10", query = { scope = "openid profile" } }

[[case]]
name = "a verified company user is allowed"
[case.expect]
decision = "allow"
id_token = { "https://example.com/roles" = ["editor"] }
scope_unchanged = true

[[case]]
name = "an unverified user is denied"
user = { email_verified = false }
[case.expect]
decision = "deny"
error = { code = "unauthorized", description = "Please verify your email before logging in.", rule = "require verified email" }

[[case]]
name = "another domain is denied"
user = { email = "mallory@elsewhere.net" }
[case.expect]
decision = "deny"
error = { rule = "company domains only" }

[[case]]
name = "admins get admin scopes"
context = { authorization = { roles = ["admin"] } }
[case.expect]
decision = "allow"
scope = ["openid", "profile", "admin:read", "admin:write"]
"#;

/// Creates the project; refuses a directory that is not empty.
pub fn init(dir: &Path) -> Result<Vec<String>, String> {
    if dir.exists() && dir.read_dir().map_err(|e| e.to_string())?.next().is_some() {
        return Err(format!("`{}` exists and is not empty", dir.display()));
    }
    let files = [
        ("warden.toml", MANIFEST),
        ("rules/access.rule", ACCESS),
        ("rules/tokens.rule", TOKENS),
        ("warden.test.toml", TESTS),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

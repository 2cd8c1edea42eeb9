use warden_syntax::parse_file;

#[test]
fn taste_parses() {
    let src = r#"
# Every rule has a name
rule "require verified email" {
    deny "Please verify your email before logging in." unless user.email_verified
}

rule "company domains only" {
    when context.clientName == "Internal Dashboard"
    let domain = email_domain(user.email)
    deny unauthorized "Access denied." unless user.email_verified and domain in ["example.com", "example.org"]
    if domain == "x" {
        log "hi ${domain}!"
    } else if domain == "y" { set user.name = "y" } else {
        unset user.nickname
    }
}
rule "step-up" {
    when not any m in context.authentication.methods: m.name == "mfa"
    mfa any remember_browser false unless ip_in(context.request.ip, "10.0.0.0/8")
    mfa duo with { host: config.DUO_HOST, ikey: "x", }
    scope add "admin:read", "admin:write"
    claim id_token "https://example.com/roles" = context.authorization.roles
    persist app_metadata.login_count = (user.app_metadata.login_count ?? 0) + 1
    persist user_metadata["a-b"] = -1.5e3
    redirect "https://x/${user.user_id}"
    deny
    deny access_denied
    deny if user.x not in ["a"]
}
"#;
    let (f, d) = parse_file(0, src);
    assert!(d.is_empty(), "{:?}", d);
    assert_eq!(f.rules.len(), 3);
    assert_eq!(f.rules[2].body.len(), 11);
}

//! Any bytes as the user (and, split at the first NUL, the context) of `execute_bytes`: the
//! fast path and the reference path give the same bytes or the same input error, and neither
//! panics.
#![no_main]

use std::sync::LazyLock;

static PIPELINE: LazyLock<warden::Pipeline> = LazyLock::new(|| {
    warden::Pipeline::from_source(
        "fuzz.rule",
        r#"rule "wire" {
            deny if "admin" in user.app_metadata.roles and user.email_verified
            deny if context.protocol == "oauth2-password" and user.logins_count > 3
            claim id_token "https://x/n" = (user.app_metadata.n ?? 0) + 1
            claim access_token "https://x/ip" = context.request.ip
            set user.name = lower("${user.given_name} ${user.family_name}")
            unset user.nickname if user.blocked
            persist app_metadata.seen = days_since(user.created_at ?? 0)
            scope add "read" if any r in context.authorization.roles: r == "reader"
        }"#,
    )
    .expect("the fuzz pipeline checks")
});

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (user, context) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &br#"{"protocol":"oidc-basic-profile","request":{"ip":"10.0.0.1"}}"#[..]),
    };
    let exec = warden::Exec::at(0);
    let fast = PIPELINE.execute_bytes(user, context, &exec);
    let reference = PIPELINE.execute_bytes_reference(user, context, &exec);
    assert_eq!(fast, reference, "the fast path and the reference differ");
});

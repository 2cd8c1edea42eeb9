//! Any bytes as the user JSON of a pipeline that leans on dynamic data: an outcome or an
//! input error, never a panic.
#![no_main]

use std::sync::LazyLock;

static PIPELINE: LazyLock<warden::Pipeline> = LazyLock::new(|| {
    warden::Pipeline::from_source(
        "fuzz.rule",
        r#"rule "dynamic" {
            deny if "admin" in user.app_metadata.roles and user.email_verified
            claim id_token "https://x/n" = (user.app_metadata.n ?? 0) + 1
            deny if ip_in(user.app_metadata.ip ?? "10.0.0.1", "10.0.0.0/8", "2001:db8::/32")
            set user.name = lower("${user.given_name} ${user.family_name}")
            persist app_metadata.seen = days_since(user.created_at ?? 0)
        }"#,
    )
    .expect("the fuzz pipeline checks")
});

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(user) = serde_json::from_slice::<serde_json::Value>(data) {
        let context = serde_json::json!({ "protocol": "oidc-basic-profile" });
        let _ = PIPELINE.execute(&user, &context, &warden::Exec::at(0));
    }
});

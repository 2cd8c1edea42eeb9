//! Any text that checks as a pipeline runs on the interpreter and the JIT with the same
//! outcome, byte for byte.
#![no_main]

use warden::{Backend, Exec, Pipeline};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(pipeline) = Pipeline::from_source("fuzz.rule", &text) else { return };
    // Both backends must run: the JIT backend quietly runs the interpreter without native code.
    assert_eq!(pipeline.jit_unavailable(), None, "the JIT did not compile:\n{text}");
    let user = serde_json::json!({
        "user_id": "auth0|1", "email": "Alice@Example.com", "email_verified": true, "logins_count": 3,
        "app_metadata": { "roles": ["admin"], "n": 2, "flag": true }, "identities": [{ "connection": "x", "isSocial": false }]
    });
    let context = serde_json::json!({
        "clientName": "App", "protocol": "oidc-basic-profile", "stats": { "loginsCount": 3 },
        "authorization": { "roles": ["admin", "user"] }, "request": { "ip": "10.1.2.3", "query": { "scope": "openid" } }
    });
    let run = |b: Backend| match pipeline.execute(&user, &context, &Exec::at(0).on(b)) {
        Ok(o) => o.to_json().to_string(),
        Err(e) => e.to_string(),
    };
    assert_eq!(run(Backend::Interp), run(Backend::Jit), "backends disagree on:\n{text}");
});

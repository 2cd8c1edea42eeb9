//! Artifacts under mutation. The first byte chooses how:
//! - even: bytes of a valid artifact are overwritten and the file is cut, as a broken disk or
//!   a careless edit would: the loader must refuse every change and accept only the
//!   untouched bytes;
//! - odd: bytes of the artifact's JSON body are overwritten and the hash and seal recomputed,
//!   as anyone who can write the file can do (an unsigned artifact): the loader must refuse
//!   it, or run it on both backends with the same outcome. Never a panic or an abort.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use warden::{Backend, Exec, Pipeline};

static PIPELINE: LazyLock<Pipeline> = LazyLock::new(|| {
    Pipeline::from_source(
        "fuzz.rule",
        r#"rule "r" {
            let email = lower(trim(user.email ?? ""))
            deny "blocked" if email in ["a@x.io", "b@x.io"] or ends_with(email, ".invalid")
            claim id_token "https://x/n" = (user.logins_count ?? 0) + 1
            scope add "read" if ip_in(context.request.ip ?? "", "10.0.0.0/8")
            if any r in (user.app_metadata.roles ?? []): r == "admin" and len(split(email, "@")) == 2 {
                set user.nickname = "${email} (admin)"
            }
            persist app_metadata.seen = weekday(now())
            log "days ${days_since(user.created_at ?? 0)}"
        }"#,
    )
    .expect("the fuzz pipeline checks")
});
static GOOD: LazyLock<Vec<u8>> = LazyLock::new(|| PIPELINE.to_artifact(None));
static CONTENTS: LazyLock<warden_artifact::Contents> =
    LazyLock::new(|| warden_artifact::read(&GOOD, None).expect("reads").1);
static BODY: LazyLock<Vec<u8>> = LazyLock::new(|| serde_json::to_vec(&*CONTENTS).expect("body"));

/// Overwrites bytes (three input bytes per edit: a position and a value); a trailing pair of
/// bytes, if any, says where to cut.
fn edit(mut bytes: Vec<u8>, data: &[u8], cut: bool) -> Vec<u8> {
    let (edits, rest) = data.split_at(data.len() - data.len() % 3);
    for e in edits.chunks(3) {
        let at = (usize::from(e[0]) << 8 | usize::from(e[1])) % bytes.len();
        bytes[at] = e[2];
    }
    if let ([a, b], true) = (rest, cut) {
        bytes.truncate((usize::from(*a) << 8 | usize::from(*b)) % (bytes.len() + 1));
    }
    bytes
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((mode, data)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let bytes = edit(GOOD.clone(), data, true);
        let result = Pipeline::from_artifact(&bytes, None, &BTreeMap::new());
        assert_eq!(result.is_ok(), bytes == *GOOD, "only an unchanged artifact loads");
        // Raw input as an artifact, too.
        let _ = warden_artifact::read(data, None);
        return;
    }
    let body = edit(BODY.clone(), data, false);
    let Ok(contents) = serde_json::from_slice::<warden_artifact::Contents>(&body) else { return };
    let bytes = warden_artifact::write(&contents, None, None);
    let Ok(p) = Pipeline::from_artifact(&bytes, None, &BTreeMap::new()) else { return };
    let user = serde_json::json!({
        "user_id": "auth0|1", "email": " Admin@X.io ", "logins_count": 2, "created_at": "2026-01-01",
        "app_metadata": { "roles": ["admin"] }
    });
    let context = serde_json::json!({ "request": { "ip": "10.1.2.3" } });
    let run = |b: Backend| match p.execute(&user, &context, &Exec::at(1_790_000_000_000).on(b)) {
        Ok(o) => o.to_json().to_string(),
        Err(e) => e.to_string(),
    };
    assert_eq!(run(Backend::Interp), run(Backend::Jit), "backends disagree on an accepted artifact");
});

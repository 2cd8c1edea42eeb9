//! Artifacts under mutation: the input says how to change a valid artifact (bytes to
//! overwrite, where to cut); the loader must refuse with an error, never panic, and accept
//! only the untouched bytes.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

static GOOD: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let p = warden::Pipeline::from_source(
        "fuzz.rule",
        r#"rule "r" {
            deny "blocked" if lower(user.email ?? "") in ["a@x.io", "b@x.io"]
            claim id_token "https://x/n" = (user.logins_count ?? 0) + 1
            scope add "read" if ip_in(context.request.ip ?? "", "10.0.0.0/8")
        }"#,
    )
    .expect("the fuzz pipeline checks");
    p.to_artifact(None, true)
});

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut bytes = GOOD.clone();
    let (edits, cut) = data.split_at(data.len() - data.len() % 3);
    for e in edits.chunks(3) {
        let at = (usize::from(e[0]) << 8 | usize::from(e[1])) % bytes.len();
        bytes[at] = e[2];
    }
    if let [a, b] = cut {
        bytes.truncate((usize::from(*a) << 8 | usize::from(*b)) % (bytes.len() + 1));
    }
    let result = warden::Pipeline::from_artifact(&bytes, None, &BTreeMap::new());
    assert_eq!(result.is_ok(), bytes == *GOOD, "only an unchanged artifact loads");
    // Raw input as an artifact, too.
    let _ = warden_artifact::read(data, None);
});

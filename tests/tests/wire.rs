//! The wire path against its reference: `Pipeline::execute_bytes` reads JSON bytes straight
//! into slots and copies the untouched parts of the user to the outcome
//! (`execute_bytes_fast`); `execute_bytes_reference` parses both documents whole with
//! `serde_json` and serializes the outcome. On every input the two must give the same bytes,
//! or the same input error.
//!
//! Generated pipelines (`warden_tests::generate`, without JavaScript, which the fast path
//! declines) run on generated logins written out in many spellings: compact, pretty, extra
//! white space, escaped strings and keys (`\u00e9`, surrogate pairs, `\/`), repeated keys at
//! the top and inside, integers spelt as floats, huge and negative-zero numbers, Unicode; and
//! on broken bytes: truncated, trailing garbage, control characters, invalid UTF-8, a
//! byte-order mark, non-object documents, nesting past the limit.
//!
//! Each login is also sent as a request body (`execute_request`, `warden serve`'s native API:
//! `{"user", "context", "now"}` in any order, `now` as milliseconds, a time, `null` or absent,
//! sometimes a member the API refuses), compared with `execute_request_reference`.
//!
//! `WARDEN_WIRE_CASES` sets how many logins (default 10,000); `WARDEN_WIRE_SEED` fixes the
//! seed (else a random one, printed). The long run:
//! `WARDEN_WIRE_CASES=100000 cargo test --release -p warden-tests --test wire -- --nocapture`.

use std::path::Path;

use serde_json::Value as Json;
use warden::{Exec, Pipeline};
use warden_tests::generate::{self, Gen, LIST_FILES, Login, Program};

const LOGINS_PER_PROGRAM: usize = 10;

/// How a document is written out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Spelling {
    /// As `serde_json` writes it (the fast path copies such bytes through).
    Compact,
    /// Pretty-printed.
    Pretty,
    /// Randomly: white space, escapes, repeated keys, numbers spelt otherwise.
    Odd,
    /// Odd in ways the fast path takes: white space, escaped values, repeated keys below the
    /// top level, numbers spelt otherwise (escaped keys and repeated top-level keys it leaves
    /// to the reference).
    Mild,
    /// Odd, then broken (most of these are not JSON).
    Broken,
}

/// Writes `v` as JSON text with random variations (`Spelling::Odd`).
fn odd(g: &mut Gen, v: &Json, depth: usize, mild: bool, out: &mut String) {
    let ws = |g: &mut Gen, out: &mut String| {
        if g.chance(1, 6) {
            out.push_str(g.pick(&[" ", "\n", "\t", "\r\n  "]));
        }
    };
    ws(g, out);
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => match (n.as_i64(), if mild { 8 } else { g.below(8) }) {
            (Some(i), 0) => out.push_str(&format!("{i}.0")),
            (Some(i), 1) => out.push_str(&format!("{i}e0")),
            (Some(0), 2) => out.push_str("-0"),
            (Some(i), 3) if i > 0 => out.push_str(&format!("{i}0E-1")),
            _ => out.push_str(&n.to_string()),
        },
        Json::String(s) => string(g, s, true, out),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                odd(g, item, depth + 1, mild, out);
            }
            ws(g, out);
            out.push(']');
        }
        Json::Object(map) => {
            out.push('{');
            let mut first = true;
            let mut sep = |out: &mut String| {
                if !std::mem::replace(&mut first, false) {
                    out.push(',');
                }
            };
            for (k, item) in map {
                // A repeated key before the real one: the last value wins.
                if g.chance(1, 25) && !(mild && depth == 0) {
                    sep(out);
                    ws(g, out);
                    string(g, k, !mild, out);
                    out.push(':');
                    out.push_str(g.pick(&["\"decoy\"", "1", "null", "{\"a\":[1]}", "[]"]));
                }
                sep(out);
                ws(g, out);
                string(g, k, !mild, out);
                ws(g, out);
                out.push(':');
                odd(g, item, depth + 1, mild, out);
            }
            if g.chance(1, 40) {
                sep(out);
                out.push_str(g.pick(&[
                    "\"extra\":123456789012345678901234567890",
                    "\"extra\":18446744073709551615",
                    "\"extra\":-9223372036854775808",
                    "\"extra\":1.5e300",
                    "\"extra\":\"\\ud83d\\ude00 \\u00e9\\/\"",
                    "\"ex\\u0074ra\":1",
                    "\"extra\":\"Ωmega ✓ \u{1F600}\"",
                ]));
            }
            ws(g, out);
            out.push('}');
        }
    }
}

/// A string, some characters escaped (if `may_escape`).
fn string(g: &mut Gen, s: &str, may_escape: bool, out: &mut String) {
    let escape = may_escape && g.chance(1, 8);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if escape && g.chance(1, 3) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{:04X}", u));
                }
            }
            '/' if escape => out.push_str("\\/"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Breaks JSON text (it may, rarely, stay JSON).
fn broken(g: &mut Gen, text: String) -> Vec<u8> {
    let mut b = text.into_bytes();
    let at = g.below(b.len() + 1);
    match g.below(10) {
        0 => b.truncate(at),
        1 => b.extend_from_slice(g.pick(&[&b" x"[..], b",", b"}", b" {}"])),
        2 => b.insert(at, 0x01),
        3 => b.insert(at, 0xff),
        4 => b.splice(0..0, [0xef, 0xbb, 0xbf]).for_each(drop),
        5 => b = g.pick(&[&b"[]"[..], b"null", b"\"user\"", b"3", b""]).to_vec(),
        6 => {
            // Nesting at and past the limit of 64 levels.
            let n = g.pick(&[62usize, 63, 64, 65, 200]);
            b = format!("{{\"app_metadata\":{}1{}}}", "[".repeat(n), "]".repeat(n)).into_bytes();
        }
        7 => b.insert(at, b'"'),
        8 => b.insert(at, b'\\'),
        _ => {
            if let Some(x) = b.get_mut(at) {
                *x = g.pick(b"{}[]:,0-e.");
            }
        }
    }
    b
}

fn spell(g: &mut Gen, v: &Json, how: Spelling) -> Vec<u8> {
    match how {
        Spelling::Compact => serde_json::to_vec(v).expect("json"),
        Spelling::Pretty => serde_json::to_vec_pretty(v).expect("json"),
        Spelling::Odd | Spelling::Mild | Spelling::Broken => {
            let mut out = String::new();
            odd(g, v, 0, how == Spelling::Mild, &mut out);
            if g.chance(1, 5) {
                out.push_str(" \n");
            }
            if how == Spelling::Broken { broken(g, out) } else { out.into_bytes() }
        }
    }
}

fn load(dir: &Path, program: &Program) -> Option<Pipeline> {
    let files: Vec<(String, String)> =
        program.files.iter().map(|(name, text)| (dir.join(name).display().to_string(), text.clone())).collect();
    let options = warden_ir::Options { claim_mode: program.claim_mode, ..Default::default() };
    let mut pipeline = Pipeline::from_sources(&files, options).ok()?;
    for (k, v) in &program.config {
        pipeline.set_config(k, v).expect("keys without a declared type take any value");
    }
    Some(pipeline)
}

/// A login request body around the documents (`{"user", "context", "now"}`), in an order and
/// with a `now` drawn at random (sometimes with a member the API refuses).
fn request(g: &mut Gen, user: &[u8], context: &[u8], now: i64) -> Vec<u8> {
    let mut members: Vec<Vec<u8>> = vec![[&b"\"user\":"[..], user].concat(), [&b"\"context\":"[..], context].concat()];
    match g.below(8) {
        0 => {}
        1 => members.push(b"\"now\":null".to_vec()),
        2 => members.push(
            format!("\"now\":\"{}\"", g.pick(&["2026-11-26T12:00:00Z", "2026-11-28T09:30:00+01:00", "yesterday", ""]))
                .into_bytes(),
        ),
        3 => members.push(
            g.pick(&[&b"\"now\":1.5"[..], b"\"now\":\"2026-11-26T12:00:00\\u005a\"", b"\"contxt\":{}", b"\"user\":{}"])
                .to_vec(),
        ),
        _ => members.push(format!("\"now\":{now}").into_bytes()),
    }
    if g.chance(1, 3) {
        let other = g.below(members.len());
        members.swap(0, other);
    }
    let sep: &[u8] = if g.chance(1, 5) { b" ,\n " } else { b"," };
    let mut out = b"{".to_vec();
    out.extend(members.join(sep));
    out.push(b'}');
    out
}

/// Compares `execute_request` with its reference on one body; `Err` describes the difference.
fn compare_request(p: &Pipeline, body: &[u8], tally: &mut Tally) -> Result<(), String> {
    let exec = |now: Option<i64>| Exec::at(now.unwrap_or(1_764_158_400_000));
    let reference = p.execute_request_reference(body, &exec);
    let fast = p.execute_request_fast(body, &exec);
    tally.requests += 1;
    if let Some(w) = &fast {
        tally.requests_fast += 1;
        if reference.as_ref().ok() != Some(w) {
            return Err(format!(
                "request: the fast path wrote {}\nthe reference {:?}",
                String::from_utf8_lossy(&w.json),
                reference.as_ref().map(|r| String::from_utf8_lossy(&r.json).into_owned())
            ));
        }
    }
    let whole = p.execute_request(body, exec);
    if whole != reference {
        return Err(format!("execute_request {whole:?}\nthe reference {reference:?}"));
    }
    Ok(())
}

#[derive(Debug, Default)]
struct Tally {
    requests: usize,
    requests_fast: usize,
    cases: usize,
    /// Cases the fast path decided, by spelling of the user.
    fast: [usize; 5],
    by_spelling: [usize; 5],
    input_errors: usize,
    changed_user: usize,
}

/// Compares the two paths on one login; `Err` describes the difference.
fn compare(
    p: &Pipeline,
    user: &[u8],
    context: &[u8],
    now: i64,
    how: Spelling,
    tally: &mut Tally,
) -> Result<(), String> {
    let exec = Exec::at(now);
    let reference = p.execute_bytes_reference(user, context, &exec);
    let fast = p.execute_bytes_fast(user, context, &exec);
    let whole = p.execute_bytes(user, context, &exec);
    tally.cases += 1;
    tally.by_spelling[how as usize] += 1;
    if reference.is_err() {
        tally.input_errors += 1;
    }
    if let Some(out) = &fast {
        tally.fast[how as usize] += 1;
        let out_json: Json = serde_json::from_slice(out).map_err(|e| format!("the fast outcome is not JSON: {e}"))?;
        let input_user: Option<Json> = serde_json::from_slice(user).ok();
        if out_json.get("user").is_some() && out_json.get("user") != input_user.as_ref() {
            tally.changed_user += 1;
        }
        if reference.as_ref().ok() != Some(out) {
            return Err(format!(
                "the fast path decided {}\nthe reference {}",
                String::from_utf8_lossy(out),
                match &reference {
                    Ok(r) => String::from_utf8_lossy(r).into_owned(),
                    Err(e) => format!("input error: {e}"),
                }
            ));
        }
    }
    if whole != reference {
        return Err(format!("execute_bytes {whole:?}\nthe reference {reference:?}"));
    }
    Ok(())
}

#[test]
fn the_fast_path_writes_what_the_reference_writes() {
    let cases: usize = std::env::var("WARDEN_WIRE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let seed: u64 = std::env::var("WARDEN_WIRE_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(7)
    });
    println!("wire differential: {cases} logins, seed {seed} (WARDEN_WIRE_SEED={seed} to rerun)");
    let dir = std::env::temp_dir().join(format!("warden-wire-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    for (name, text) in LIST_FILES {
        std::fs::write(dir.join(name), text).expect("list file");
    }
    let mut tally = Tally::default();
    let mut failure = None;
    let mut i = 0u64;
    while tally.cases < cases {
        let mut g = Gen::for_case(seed, i);
        i += 1;
        let program = generate::program(&mut g);
        if program.has_js() {
            continue;
        }
        let Some(pipeline) = load(&dir, &program) else { continue };
        for _ in 0..LOGINS_PER_PROGRAM {
            let Login { user, context, now } = generate::login(&mut g);
            let how = [Spelling::Compact, Spelling::Pretty, Spelling::Odd, Spelling::Mild, Spelling::Broken]
                [g.weighted(&[4, 1, 2, 2, 1])];
            let u = spell(&mut g, &user, how);
            let context_how = if g.chance(1, 2) { how } else { Spelling::Compact };
            let c = spell(&mut g, &context, context_how);
            let body = request(&mut g, &u, &c, now);
            let compared = compare(&pipeline, &u, &c, now, how, &mut tally)
                .and_then(|()| compare_request(&pipeline, &body, &mut tally));
            if let Err(e) = compared {
                failure = Some(format!(
                    "case {} (program {} of seed {seed}, WARDEN_WIRE_SEED={seed}):\n{e}\nuser: {}\ncontext: {}\n{program}",
                    tally.cases,
                    i - 1,
                    String::from_utf8_lossy(&u),
                    String::from_utf8_lossy(&c)
                ));
                break;
            }
        }
        if failure.is_some() {
            break;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failure.is_none(), "{}", failure.unwrap_or_default());
    println!("{tally:?}");
    // The comparison means something only if the fast path decided most logins it should.
    let share = |n: usize, of: usize| n as f64 / of.max(1) as f64;
    let compact = Spelling::Compact as usize;
    assert!(
        share(tally.fast[compact], tally.by_spelling[compact]) > 0.85,
        "the fast path decided only {} of {} compact logins",
        tally.fast[compact],
        tally.by_spelling[compact]
    );
    let mild = Spelling::Mild as usize;
    assert!(
        share(tally.fast[mild], tally.by_spelling[mild]) > 0.3,
        "the fast path decided only {} of {} mildly odd logins",
        tally.fast[mild],
        tally.by_spelling[mild]
    );
    assert!(tally.changed_user > 0, "no fast outcome changed the user");
    assert!(
        share(tally.requests_fast, tally.requests) > 0.3,
        "the fast path decided only {} of {} requests",
        tally.requests_fast,
        tally.requests
    );
    assert!(tally.input_errors > cases / 50, "too few input errors: {}", tally.input_errors);
}

mod properties {
    use proptest::prelude::*;
    use std::sync::LazyLock;
    use warden::{Exec, Pipeline};

    /// Reads, writes, removes and persists, so that every part of the fast path runs.
    static PIPELINE: LazyLock<Pipeline> = LazyLock::new(|| {
        Pipeline::from_source(
            "wire.rule",
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
        .expect("checks")
    });

    const CONTEXT: &[u8] =
        br#"{"protocol":"oidc-basic-profile","request":{"ip":"10.0.0.1"},"authorization":{"roles":["reader"]}}"#;

    fn same(user: &[u8], context: &[u8]) -> Result<(), TestCaseError> {
        let exec = Exec::at(1_764_158_400_000);
        let fast = PIPELINE.execute_bytes(user, context, &exec);
        let reference = PIPELINE.execute_bytes_reference(user, context, &exec);
        prop_assert_eq!(fast, reference);
        Ok(())
    }

    /// A user document built from pieces the scanner treats specially.
    fn user_text() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "\"email\"",
            "\"email_verified\"",
            "\"name\"",
            "\"nickname\"",
            "\"blocked\"",
            "\"user_id\"",
            "\"logins_count\"",
            "\"created_at\"",
            "\"given_name\"",
            "\"app_metadata\"",
            "\"x\"",
            "\"na\\u006de\"",
        ]);
        let value = prop::sample::select(vec![
            "\"a\"",
            "\"Ω\\u00e9\\/\"",
            "\"\\ud83d\\ude00\"",
            "\"\\ud83d\"",
            "true",
            "false",
            "null",
            "0",
            "-0",
            "1.0",
            "3",
            "1e400",
            "18446744073709551616",
            "-9223372036854775809",
            "[]",
            "[1, 2]",
            "{}",
            "{\"roles\":[\"admin\"]}",
            "{\"n\":2,\"n\":3}",
            "{ \"roles\" : [ \"x\" ] }",
            "\"2026-11-26T12:00:00Z\"",
            "\"\u{1}\"",
        ]);
        prop::collection::vec((key, value, prop::sample::select(vec!["", " ", "\n"])), 0..10).prop_map(|members| {
            let body: Vec<String> = members.iter().map(|(k, v, ws)| format!("{ws}{k}{ws}:{ws}{v}")).collect();
            format!("{{{}}}", body.join(","))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_decide_as_the_reference(user in prop::collection::vec(any::<u8>(), 0..200)) {
            same(&user, CONTEXT)?;
        }

        #[test]
        fn assembled_users_decide_as_the_reference(user in user_text(), cut in any::<prop::sample::Index>()) {
            same(user.as_bytes(), CONTEXT)?;
            // And the same text cut short somewhere.
            let at = cut.index(user.len() + 1);
            same(&user.as_bytes()[..at], CONTEXT)?;
        }

        #[test]
        fn assembled_contexts_decide_as_the_reference(context in user_text()) {
            same(br#"{"user_id":"auth0|1","email_verified":false}"#, context.as_bytes())?;
        }
    }
}

//! Small JavaScript programs, built from the fuzzer's bytes out of snippets that mix built-ins
//! with adversarial lengths and sizes, run as a legacy rule in the sandbox (in process, with
//! a 100 ms budget and a 16 MiB heap): an outcome, never a panic or a crash, and never past
//! the deadline for long (libFuzzer's `-timeout` reports a run that holds the CPU).
#![no_main]

use std::sync::LazyLock;

/// One pipeline: the rule evaluates the login's `configuration.CODE`, so that every input is
/// a new program without reloading QuickJS.
static PIPELINE: LazyLock<(warden::Pipeline, std::path::PathBuf)> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("warden-fuzz-js-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("rule.js"),
        "function (user, context, callback) {\n\
           let r;\n\
           try { r = (0, eval)(configuration.CODE); } catch (e) { r = 'threw'; }\n\
           context.idToken['https://x/r'] = typeof r === 'string' ? r.slice(0, 64) : typeof r;\n\
           callback(null, user, context);\n\
         }",
    )
    .expect("write rule");
    std::fs::write(dir.join("warden.toml"), "[pipeline]\nrules = [\"rule.js\"]\ntimeout_ms = 100\njs_memory_mib = 16\n")
        .expect("write manifest");
    let p = warden::Pipeline::from_manifest(dir.join("warden.toml")).expect("the fuzz pipeline loads");
    (p, dir)
});

/// A length from one byte: small, around powers of two, or huge.
fn len(b: u8) -> String {
    match b % 8 {
        0 => (b / 8).to_string(),
        1 => format!("2 ** {}", b % 34),
        2 => "2 ** 32 - 1".into(),
        3 => "2 ** 53 - 1".into(),
        4 => format!("{}e{}", 1 + b % 9, b % 8),
        5 => "-1".into(),
        6 => "NaN".into(),
        _ => format!("{}", u32::from(b) * 997),
    }
}

const SNIPPETS: &[&str] = &[
    "'a'.repeat(N).indexOf('a'.repeat(M) + 'b')",
    "'ab'.repeat(N).split('ab'.repeat(M))",
    "'x'.repeat(N).replaceAll('x'.repeat(M), 'yy')",
    "'a'.repeat(N).lastIndexOf('a'.repeat(M) + 'b', M)",
    "Array.prototype.join.call({ length: N }, '-')",
    "(() => { let c = 0; return Array.prototype.join.call({ get length() { return c++ ? N : 1; } }); })()",
    "new Array(M).fill(N).sort()",
    "Array.from({ length: M }, (_, i) => i).reverse().flat(N)",
    "new Float64Array(M).sort()",
    "[].concat(new Array(M), new Array(N))",
    "JSON.stringify(new Array(M).fill({ a: [N] }))",
    "JSON.parse('[' + '1,'.repeat(M) + '1]').length",
    "/(a+)+$/.test('a'.repeat(M % 40) + 'b')",
    "new Proxy([], { get(t, k, r) { return k === 'length' ? N : Reflect.get(t, k, r); } }).join('')",
    "(function f(n) { return n > 0 ? f(n - 1) + 1 : 0; })(M)",
    "Object.keys(Object.fromEntries(Array.from({ length: M }, (_, i) => ['k' + i, i]))).length",
    "String.fromCharCode(...new Array(M % 65536).fill(65))",
    "new Date(N).toISOString()",
    "encodeURIComponent('\\u{1F600}'.repeat(M))",
    "Buffer.from('x'.repeat(M)).toString('base64').length",
    "require('crypto').createHash('sha256').update('x'.repeat(M)).digest('hex')",
    "new URL('https://example.com/' + 'a'.repeat(M)).pathname.length",
    "Promise.resolve(M).then((x) => { global.x = x; })",
    "setTimeout(() => { throw new Error('late'); }, M)",
    "globalThis.verified = N",
    "Object.defineProperty(globalThis, 'v' + M, { get() { return N; } })",
    "'\\uD800'.repeat(M).normalize()",
    "'x'.padEnd(M, 'ab').localeCompare('x'.padEnd(N, 'ab'))",
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut code = String::new();
    for chunk in data.chunks(3).take(6) {
        let [s, n, m] = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let snippet = SNIPPETS[s as usize % SNIPPETS.len()];
        code.push_str(&snippet.replace('N', &len(n)).replace('M', &len(m)));
        code.push_str(";\n");
    }
    let (p, _) = &*PIPELINE;
    let overrides = std::collections::BTreeMap::from([("CODE".to_string(), code)]);
    let user = std::sync::Arc::new(serde_json::json!({ "user_id": "auth0|1" }));
    let context = std::sync::Arc::new(serde_json::json!({ "protocol": "oidc-basic-profile" }));
    if let Ok(decoded) = p.decode_with(user, context, 0, &overrides) {
        let outcome = p.run_decoded(decoded, &warden::Exec::at(0));
        // Never allowed past the deadline: a timeout, a limit, a rule error, or an allow.
        let _ = outcome.to_json();
    }
});

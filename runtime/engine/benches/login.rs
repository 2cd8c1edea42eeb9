//! Per-login cost, interpreter against JIT in the same run, over `examples/bench` and 1,000
//! generated users and contexts; compile latency; list lookups by list size.
//! `cargo bench -p warden --bench login` (see BENCHMARKS.md). Each group checks what it
//! claims before it times anything: the bench pipelines decide every login as recorded in
//! `bench/expected/` on both backends (`WARDEN_BLESS=1` records them after an intended
//! change), the conditions never fire, the listed half of the logins is denied.
//! `cargo bench -p warden --bench login -- --test` runs only the checks (and each benchmark
//! once).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::json;
use warden::{Backend, Exec, Pipeline};

mod common;
use common::{NOW, generated_rules, logins, root, verify};

fn per_login(c: &mut Criterion) {
    login_group(c, "login", "examples/bench/warden.toml", "login");
    login_group(c, "login-allow-deny", "examples/bench/allow-deny.toml", "allow-deny");
    conditions(c);
    reach(c);
}

/// The language's newer constructs, one small rule each, on one login: a scope filter over 50
/// requested scopes, roles sorted without repeats, a hashed email, office hours in the user's
/// zone, an object claim, a formatted log. Each case checks its outcome before it is timed.
fn reach(c: &mut Criterion) {
    let scopes: Vec<String> = (0..50).map(|i| format!("api:{i}")).collect();
    let allowed: Vec<String> = (0..50).step_by(2).map(|i| format!("\"api:{i}\"")).collect();
    let roles: Vec<String> = (0..20).map(|i| format!("role-{}", (i * 7) % 13)).collect();
    let user = json!({"user_id": "auth0|1", "email": "  Ada.Lovelace@Example.COM ", "name": "Ada Lovelace",
        "app_metadata": {"plan": "pro", "seats": 12}});
    let context = json!({"clientName": "Payroll", "request": {"ip": "192.0.2.7", "query": {"scope": scopes.join(" ")},
        "geoip": {"time_zone": "Europe/Berlin"}}, "authorization": {"roles": roles}});
    let cases = [
        (
            "scope-filter-50",
            format!("scope set [s for s in split(context.request.query.scope, \" \") if s in [{}]]", allowed.join(", ")),
            "\"scope\":[\"api:0\",",
        ),
        ("sort-unique-20", "claim id_token \"https://x/roles\" = sort(unique(context.authorization.roles))".into(), "\"role-0\",\"role-1\","),
        ("sha256-email", "claim id_token \"https://x/h\" = sha256(lower(trim(user.email)))".into(), "\"https://x/h\":\""),
        (
            "office-hours",
            "deny \"closed\" if hour(now(), context.request.geoip.time_zone ?? \"UTC\") < 8 or weekday(now(), context.request.geoip.time_zone ?? \"UTC\") == \"sunday\"".into(),
            "\"decision\":\"allow\"",
        ),
        (
            "object-claim",
            "claim id_token \"https://x/billing\" = { \"plan\": user.app_metadata.plan, seats: user.app_metadata.seats, \"ip\": context.request.ip, \"app\": context.clientName }".into(),
            "\"seats\":12",
        ),
        ("format-log", "log format(\"{} from {} ({})\", user.email, context.request.ip, user.app_metadata.seats)".into(), "from 192.0.2.7 (12)"),
    ];
    let mut group = c.benchmark_group("reach");
    for (name, body, expect) in cases {
        let text = format!("rule \"{name}\" {{\n    {body}\n}}\n");
        let p = Pipeline::from_sources(&[("reach.rule".into(), text)], Default::default()).expect("checks");
        assert_eq!(p.jit_unavailable(), None);
        for backend in [Backend::Interp, Backend::Jit] {
            let o = p.execute(&user, &context, &Exec::at(NOW).on(backend)).expect("valid").to_json().to_string();
            assert!(o.contains(expect), "{name} on {backend:?}: {o}");
        }
        let decoded = vec![p.decode(user.clone(), context.clone(), NOW).expect("valid")];
        for (label, backend) in [("interp", Backend::Interp), ("jit", Backend::Jit)] {
            bench_decoded(&mut group, BenchmarkId::new(name, label), &p, &decoded, &Exec::at(NOW).on(backend));
        }
    }
    group.finish();
}

/// Twenty typed conditions that never fire (every login is allowed), and the same pipeline
/// with one condition: the difference is the cost of the conditions themselves.
fn conditions(c: &mut Criterion) {
    let twenty: String = (0..20)
        .map(|i| match i % 4 {
            0 => format!("    deny if context.clientName == \"Blocked App {i}\" and user.email_verified\n"),
            1 => format!("    deny if user.logins_count > {} and context.stats.loginsCount < 0\n", 1000 + i),
            2 => format!("    deny if context.protocol == \"samlp\" and context.connection == \"legacy-{i}\"\n"),
            _ => format!("    deny if user.blocked and context.request.hostname != \"login{i}.example.com\"\n"),
        })
        .collect();
    let one = "    deny if user.blocked and context.clientName == \"Never\"\n".to_string();
    let inputs = logins();
    let mut group = c.benchmark_group("conditions");
    for (label, body) in [("1", one), ("20", twenty)] {
        let text = format!("rule \"typed conditions\" {{\n{body}}}\n");
        let p = Pipeline::from_sources(&[("conditions.rule".into(), text)], Default::default()).expect("checks");
        // "Never fire": every login is allowed, with nothing else in its outcome, on both
        // backends.
        assert_eq!(p.jit_unavailable(), None);
        for (u, c) in &inputs {
            for backend in [Backend::Interp, Backend::Jit] {
                let o = p.execute(u, c, &Exec::at(NOW).on(backend)).expect("valid");
                assert!(
                    o.is_allow() && o.logs.is_empty() && o.effects.is_empty(),
                    "a condition fired: {}",
                    o.to_json()
                );
            }
        }
        let decoded: Vec<_> = inputs.iter().map(|(u, c)| p.decode(u.clone(), c.clone(), NOW).expect("valid")).collect();
        // Decoded by the fast path, the documents hold only what the runtime reads.
        let scanned: Vec<_> = inputs
            .iter()
            .map(|(u, c)| {
                let (u, c) = (serde_json::to_vec(u).expect("json"), serde_json::to_vec(c).expect("json"));
                p.decode_bytes(&u, &c, NOW).expect("the fast path takes every login")
            })
            .collect();
        for (name, backend) in [("interp", Backend::Interp), ("jit", Backend::Jit)] {
            let exec = Exec::at(NOW).on(backend);
            bench_decoded(&mut group, BenchmarkId::new(name, label), &p, &decoded, &exec);
            bench_decoded(&mut group, BenchmarkId::new(format!("{name}-scanned"), label), &p, &scanned, &exec);
        }
    }
    group.finish();
}

fn login_group(c: &mut Criterion, group_name: &str, manifest: &str, expected: &str) {
    let pipeline = Pipeline::from_manifest(root().join(manifest)).expect("bench pipeline loads");
    let inputs = logins();
    // Before timing: every login decided as recorded, the backends agreeing on whole outcomes.
    let decisions = verify(expected, &pipeline, &inputs);
    let denied = decisions.iter().filter(|d| *d != "allow").count();
    assert!(denied > 100 && denied < 900, "{group_name}: {denied} of 1,000 logins denied: both paths are timed");
    let bytes: Vec<(Vec<u8>, Vec<u8>)> = inputs
        .iter()
        .map(|(u, c)| (serde_json::to_vec(u).expect("json"), serde_json::to_vec(c).expect("json")))
        .collect();
    // The fast path decides every login, with the reference's bytes.
    for (n, (u, c)) in bytes.iter().enumerate() {
        for backend in [Backend::Interp, Backend::Jit] {
            let exec = Exec::at(NOW).on(backend);
            let fast = pipeline.execute_bytes_fast(u, c, &exec);
            let reference = pipeline.execute_bytes_reference(u, c, &exec).expect("valid input");
            assert_eq!(fast, Some(reference), "{group_name}: login {n}: the fast path differs");
        }
    }
    let decoded: Vec<warden::Decoded> =
        inputs.iter().map(|(u, c)| pipeline.decode(u.clone(), c.clone(), NOW).expect("valid input")).collect();
    let scanned: Vec<warden::Decoded> =
        bytes.iter().map(|(u, c)| pipeline.decode_bytes(u, c, NOW).expect("the fast path takes every login")).collect();
    let mut group = c.benchmark_group(group_name);
    for (name, backend) in [("interp", Backend::Interp), ("jit", Backend::Jit)] {
        let exec = Exec::at(NOW).on(backend);
        bench_decoded(&mut group, BenchmarkId::new("a-decoded", name), &pipeline, &decoded, &exec);
        bench_decoded(&mut group, BenchmarkId::new("a-scanned", name), &pipeline, &scanned, &exec);
        let mut i = 0;
        group.bench_function(BenchmarkId::new("b-value", name), |b| {
            b.iter_batched(
                || {
                    i = (i + 1) % inputs.len();
                    inputs[i].clone()
                },
                |(u, ctx)| black_box(pipeline.execute_owned(u, ctx, &exec)),
                BatchSize::SmallInput,
            )
        });
        let mut i = 0;
        group.bench_function(BenchmarkId::new("c-bytes", name), |b| {
            b.iter(|| {
                i = (i + 1) % bytes.len();
                black_box(pipeline.execute_bytes(&bytes[i].0, &bytes[i].1, &exec))
            })
        });
        let mut i = 0;
        group.bench_function(BenchmarkId::new("c-bytes-reference", name), |b| {
            b.iter(|| {
                i = (i + 1) % bytes.len();
                black_box(pipeline.execute_bytes_reference(&bytes[i].0, &bytes[i].1, &exec))
            })
        });
    }
    group.finish();
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    let bench_dir = root().join("examples/bench/warden.toml");
    let rules = Pipeline::from_manifest(&bench_dir).expect("loads").program().rules.len();
    assert_eq!(rules, 15, "the bench pipeline has 15 rules");
    group.bench_function("bench-pipeline-15-rules", |b| b.iter(|| Pipeline::from_manifest(&bench_dir).expect("loads")));
    for n in [100, 1000] {
        let text = generated_rules(n);
        let files = vec![("gen.rule".to_string(), text)];
        let p = Pipeline::from_sources(&files, Default::default()).expect("checks");
        assert_eq!((p.program().rules.len(), p.jit_unavailable()), (n, None), "{n} rules, compiled natively");
        group.bench_function(BenchmarkId::new("generated-rules", n), |b| {
            b.iter(|| Pipeline::from_sources(&files, Default::default()).expect("checks"))
        });
    }
    group.finish();
}

fn list_size(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("warden-bench-lists-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut group = c.benchmark_group("list-lookup");
    for n in [10usize, 1000, 100_000] {
        let list: String = (0..n).map(|i| format!("m{i}@x.io\n")).collect();
        std::fs::write(dir.join(format!("l{n}.txt")), list).expect("write list");
        let rule = dir.join(format!("r{n}.rule"));
        std::fs::write(&rule, format!("rule \"listed\" {{ deny if user.email in list(\"l{n}.txt\") }}\n"))
            .expect("write");
        let p = Pipeline::from_files(&[rule], Default::default()).expect("checks");
        let emails: Vec<String> = (0..64)
            .map(|i| if i % 2 == 0 { format!("m{}@x.io", (i * 7919) % n) } else { format!("nobody{i}@x.io") })
            .collect();
        // The listed half is denied, the other half allowed, on both backends.
        assert_eq!(p.jit_unavailable(), None);
        for (i, email) in emails.iter().enumerate() {
            for backend in [Backend::Interp, Backend::Jit] {
                let o =
                    p.execute(&json!({ "user_id": "auth0|1", "email": email }), &json!({}), &Exec::at(NOW).on(backend));
                assert_eq!(o.expect("valid").is_allow(), i % 2 == 1, "{email} in a list of {n} on {backend:?}");
            }
        }
        let decoded: Vec<_> = emails
            .iter()
            .map(|email| p.decode(json!({ "user_id": "auth0|1", "email": email }), json!({}), NOW).expect("valid"))
            .collect();
        for (name, backend) in [("interp", Backend::Interp), ("jit", Backend::Jit)] {
            let exec = Exec::at(NOW).on(backend);
            bench_decoded(&mut group, BenchmarkId::new(name, n), &p, &decoded, &exec);
        }
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Times `run_decoded` over inputs decoded once (copies are made outside the timing).
fn bench_decoded(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    p: &Pipeline,
    decoded: &[warden::Decoded],
    exec: &Exec,
) {
    let mut i = 0;
    group.bench_function(id, |b| {
        b.iter_batched(
            || {
                i = (i + 1) % decoded.len();
                decoded[i].clone()
            },
            |d| black_box(p.run_decoded(d, exec)),
            BatchSize::SmallInput,
        )
    });
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3))
}

criterion_group! { name = benches; config = config(); targets = per_login, compile, list_size }
criterion_main!(benches);

//! Inputs shared by the benchmarks and the soak test: deterministic, generated, no data files.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{Value as Json, json};

pub const NOW: i64 = 1_764_158_400_000; // 2026-11-26T12:00:00Z, a Thursday

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A small deterministic generator (no dependency, same inputs every run).
#[derive(Debug)]
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next_u64() % items.len() as u64) as usize]
    }
}

/// 1,000 varied logins of Auth0 size (about 2 KB of user profile each).
pub fn logins() -> Vec<(Json, Json)> {
    let mut r = Lcg(42);
    (0..1000)
        .map(|i| {
            let domain = r.pick(&["example.com", "example.org", "gmail.com", "corp.example.net", "x.io"]);
            let local = if domain == "x.io" && r.next_u64().is_multiple_of(2) { format!("b{}", r.next_u64() % 200_000) } else { format!("user{i}") };
            let email = if r.next_u64().is_multiple_of(5) { format!(" {}@{} ", local.to_uppercase(), domain) } else { format!("{local}@{domain}") };
            let roles: Vec<&str> = ["admin", "editor", "viewer", "billing"].into_iter().filter(|_| r.next_u64().is_multiple_of(3)).collect();
            let ip = match r.next_u64() % 6 {
                0 => format!("10.{}.{}.{}", r.next_u64() % 256, r.next_u64() % 256, r.next_u64() % 256),
                1 => format!("203.0.113.{}", r.next_u64() % 256),
                2 => format!("2001:db8:{:x}::{:x}", r.next_u64() % 65536, r.next_u64() % 65536),
                3 => format!("::ffff:172.16.{}.{}", r.next_u64() % 256, r.next_u64() % 256),
                _ => format!("{}.{}.{}.{}", 20 + r.next_u64() % 200, r.next_u64() % 256, r.next_u64() % 256, r.next_u64() % 256),
            };
            let methods = if r.next_u64().is_multiple_of(4) {
                json!([{ "name": "pwd", "timestamp": NOW - 5000 }, { "name": "mfa", "timestamp": NOW - 4000 }])
            } else {
                json!([{ "name": "pwd", "timestamp": NOW - 5000 }])
            };
            let user = json!({
                "user_id": format!("auth0|{:024x}", r.next_u64()),
                "email": email,
                "email_verified": !r.next_u64().is_multiple_of(10),
                "given_name": r.pick(&["Ada", "Grace", "Alan", "Edsger", "Barbara"]),
                "family_name": r.pick(&["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov"]),
                "nickname": format!("user{i}"),
                "picture": format!("https://s.gravatar.com/avatar/{:032x}?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fus.png", r.next_u64()),
                "created_at": "2021-03-04T05:06:07.000Z",
                "updated_at": "2026-11-20T10:00:00.000Z",
                "last_login": "2026-11-25T09:00:00.000Z",
                "last_ip": "188.6.125.49",
                "logins_count": r.next_u64() % 500,
                "locale": "en",
                "multifactor": if r.next_u64().is_multiple_of(3) { json!(["guardian"]) } else { json!([]) },
                "identities": [{
                    "connection": "Username-Password-Authentication",
                    "provider": "auth0",
                    "user_id": format!("{:024x}", r.next_u64()),
                    "isSocial": false
                }],
                "app_metadata": {
                    "plan": r.pick(&["free", "team", "enterprise"]),
                    "customer_id": format!("cus_{:016x}", r.next_u64()),
                    "signup_source": "web",
                    "feature_flags": ["new-dashboard", "beta-reports", "dark-mode"],
                    "seats": r.next_u64() % 50,
                    "billing": { "currency": "EUR", "country": "GR", "vat_id": "EL123456789" }
                },
                "user_metadata": {
                    "theme": "dark",
                    "language": "en-GB",
                    "timezone": "Europe/Athens",
                    "newsletter": true,
                    "address": { "street": "1 Example Street", "city": "Athens", "postcode": "10558" },
                    "bio": "Writes software and rules about software. Likes long walks through abstract syntax trees."
                }
            });
            let context = json!({
                "tenant": "example",
                "clientID": format!("cid_{:x}", r.next_u64() % 16),
                "clientName": r.pick(&["Web App", "Web App", "Web App", "Admin Console", "Payroll", "Mobile"]),
                "connection": "Username-Password-Authentication",
                "connectionStrategy": "auth0",
                "protocol": r.pick(&["oidc-basic-profile", "oidc-basic-profile", "oauth2-refresh-token", "oauth2-resource-owner"]),
                "stats": { "loginsCount": r.next_u64() % 500 },
                "sso": { "with_auth0": false, "with_dbconn": false, "current_clients": [] },
                "authentication": { "methods": methods },
                "authorization": { "roles": roles },
                "accessToken": { "scope": ["openid", "profile", "email", "read:docs", "delete:users"] },
                "idToken": {},
                "riskAssessment": { "confidence": "high", "version": "1", "assessments": {
                    "NewDevice": { "confidence": r.pick(&["low", "high", "neutral"]), "code": "match" } } },
                "request": {
                    "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
                    "ip": ip,
                    "hostname": "login.example.com",
                    "query": { "scope": "openid profile email", "response_type": "code", "state": format!("{:x}", r.next_u64()) },
                    "body": {},
                    "geoip": { "country_code": "GR", "country_name": "Greece", "city_name": "Athens", "time_zone": "Europe/Athens", "latitude": 37.98, "longitude": 23.72 }
                }
            });
            (user, context)
        })
        .collect()
}

/// A pipeline of `n` rules in the style of the bench rules, different constants each.
pub fn generated_rules(n: usize) -> String {
    (0..n)
        .map(|i| match i % 5 {
            0 => format!("rule \"r{i}\" {{\n    when context.clientName == \"App {i}\"\n    deny \"no\" unless email_domain(user.email) in [\"d{i}.example\", \"e{i}.example\"]\n}}\n"),
            1 => format!("rule \"r{i}\" {{\n    deny access_denied \"net {i}\" if ip_in(context.request.ip, \"10.{}.0.0/16\")\n}}\n", i % 256),
            2 => format!("rule \"r{i}\" {{\n    claim id_token \"https://example.com/c{i}\" = user.logins_count + {i} if user.email_verified\n}}\n"),
            3 => format!("rule \"r{i}\" {{\n    when \"role{i}\" in context.authorization.roles\n    scope add \"s{i}:read\"\n}}\n"),
            _ => format!("rule \"r{i}\" {{\n    set user.nickname = lower(\"${{user.given_name}}-{i}\") if user.nickname == null\n}}\n"),
        })
        .collect()
}

/// A login's decision in one line: `allow`, or `deny CODE by RULE`.
pub fn decision(o: &warden::Outcome) -> String {
    match &o.error {
        None => "allow".into(),
        Some(e) => format!("deny {} by {}", e.code, e.rule),
    }
}

/// Checks before timing that `pipeline` decides each login as recorded in
/// `bench/expected/NAME.txt` (one line per login, `INDEX DECISION`) on both backends, and
/// that the backends give the same outcome, whole. Panics on any difference; with
/// `WARDEN_BLESS=1` (never under `CI`) it records the decisions instead. Returns the
/// decisions.
pub fn verify(name: &str, pipeline: &warden::Pipeline, inputs: &[(Json, Json)]) -> Vec<String> {
    use warden::{Backend, Exec};
    assert_eq!(pipeline.jit_unavailable(), None, "{name}: the JIT must run natively");
    let mut lines = Vec::new();
    for (i, (u, c)) in inputs.iter().enumerate() {
        let interp = pipeline.execute(u, c, &Exec::at(NOW).on(Backend::Interp)).expect("valid input");
        let jit = pipeline.execute(u, c, &Exec::at(NOW).on(Backend::Jit)).expect("valid input");
        assert_eq!(interp, jit, "{name}: login {i}: the backends disagree");
        lines.push(decision(&interp));
    }
    let path = root().join("bench/expected").join(format!("{name}.txt"));
    let text: String = lines.iter().enumerate().map(|(i, d)| format!("{i} {d}\n")).collect();
    let bless = std::env::var("WARDEN_BLESS").as_deref() == Ok("1");
    if bless {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty());
        assert!(!ci, "WARDEN_BLESS=1 under CI: expectations are never rewritten in CI");
        std::fs::write(&path, &text).expect("write the expected decisions");
    }
    let expected =
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display())).expect("recorded decisions");
    let wrong: Vec<String> = expected
        .lines()
        .zip(text.lines())
        .filter(|(want, got)| want != got)
        .take(10)
        .map(|(want, got)| format!("expected {want:?}, decided {got:?}"))
        .collect();
    assert!(
        wrong.is_empty() && expected.lines().count() == lines.len(),
        "{name}: decisions differ from {} (after an intended change, rerun with WARDEN_BLESS=1 and review the diff):\n{}",
        path.display(),
        wrong.join("\n")
    );
    lines
}

//! The allow/deny subset of `examples/bench` written for Cedar and for CEL, timed over the
//! same 1,000 logins as warden (`bench/peers/run.sh` runs them in one go). Before timing,
//! each engine's decision on every login is compared with warden's (DECISIONS, written by
//! warden's `peer_inputs`): a difference exits with status 1.
//! Usage: warden-peers LOGINS.json BLOCKED.txt DECISIONS.json

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value as Json, json};

const NOW_WEEKDAY: &str = "thursday"; // 2026-11-26, as warden's benchmark clock

/// What a host computes from the raw login before asking either engine: the lower-cased
/// email, its domain, the address with IPv4-mapped IPv6 unwrapped, the weekday.
struct Facts {
    email: String,
    domain: String,
    ip: String,
    verified: bool,
    strategy: String,
    protocol: String,
    client: String,
}

fn facts(user: &Json, context: &Json) -> Facts {
    let email = user["email"].as_str().unwrap_or("").to_lowercase();
    let raw = user["email"].as_str().unwrap_or("");
    let domain = raw.rsplit_once('@').map(|(_, d)| d.to_lowercase()).unwrap_or_default();
    let ip = context["request"]["ip"].as_str().unwrap_or("");
    let ip = ip.strip_prefix("::ffff:").unwrap_or(ip).to_string();
    Facts {
        email,
        domain,
        ip,
        verified: user["email_verified"].as_bool().unwrap_or(false),
        strategy: context["connectionStrategy"].as_str().unwrap_or("").into(),
        protocol: context["protocol"].as_str().unwrap_or("").into(),
        client: context["clientName"].as_str().unwrap_or("").into(),
    }
}

const CEDAR: &str = r#"
permit(principal, action, resource);
forbid(principal, action, resource) when { principal in Group::"blocked" };
forbid(principal, action, resource) when {
    context.ip.isInRange(ip("203.0.113.0/24")) || context.ip.isInRange(ip("198.51.100.0/24")) ||
    context.ip.isInRange(ip("2001:db8:bad::/48")) || context.ip.isInRange(ip("192.0.2.66/32"))
};
forbid(principal, action, resource) when { context.strategy == "auth0" && !context.verified };
forbid(principal, action, resource) when { context.protocol == "oauth2-resource-owner" };
forbid(principal, action, resource) when {
    context.client == "Admin Console" && !(["example.com", "example.org", "corp.example.net"].contains(context.domain))
};
forbid(principal, action, resource) when {
    context.client == "Payroll" &&
    (!(context.ip.isInRange(ip("10.0.0.0/8")) || context.ip.isInRange(ip("172.16.0.0/12")) || context.ip.isInRange(ip("2001:db8:10::/48")))
     || ["saturday", "sunday"].contains(context.weekday))
};
"#;

const CEL: &str = r#"
email in blocked
|| ip_in(ip, "203.0.113.0/24") || ip_in(ip, "198.51.100.0/24") || ip_in(ip, "2001:db8:bad::/48") || ip_in(ip, "192.0.2.66/32")
|| (strategy == "auth0" && !verified)
|| protocol == "oauth2-resource-owner"
|| (client == "Admin Console" && !(domain in ["example.com", "example.org", "corp.example.net"]))
|| (client == "Payroll" && (!(ip_in(ip, "10.0.0.0/8") || ip_in(ip, "172.16.0.0/12") || ip_in(ip, "2001:db8:10::/48")) || weekday in ["saturday", "sunday"]))
"#;

fn ip_in(ip: Arc<String>, net: Arc<String>) -> bool {
    let (Ok(ip), Ok(net)) = (ip.parse::<std::net::IpAddr>(), net.parse::<ipnet::IpNet>()) else { return false };
    net.contains(&ip)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let logins: Vec<Json> = serde_json::from_str(&std::fs::read_to_string(&args[1]).expect("logins")).expect("json");
    let blocked: Vec<String> = std::fs::read_to_string(&args[2])
        .expect("list")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let rounds = 50;

    // Cedar: the blocklist as 100,000 users in a group, built once.
    let policies = cedar_policy::PolicySet::from_str(CEDAR).expect("policies parse");
    let mut entities: Vec<Json> = blocked
        .iter()
        .map(|e| json!({ "uid": { "type": "User", "id": e }, "attrs": {}, "parents": [{ "type": "Group", "id": "blocked" }] }))
        .collect();
    entities.push(json!({ "uid": { "type": "Group", "id": "blocked" }, "attrs": {}, "parents": [] }));
    let entities = cedar_policy::Entities::from_json_value(Json::Array(entities), None).expect("entities");
    let authorizer = cedar_policy::Authorizer::new();
    let action = cedar_policy::EntityUid::from_str(r#"Action::"login""#).expect("uid");
    let resource = cedar_policy::EntityUid::from_str(r#"App::"app""#).expect("uid");
    let cedar = |l: &Json| -> bool {
        let f = facts(&l["user"], &l["context"]);
        let principal = cedar_policy::EntityUid::from_type_name_and_id(
            cedar_policy::EntityTypeName::from_str("User").expect("type"),
            cedar_policy::EntityId::new(&f.email),
        );
        let context = cedar_policy::Context::from_json_value(
            json!({
                "ip": { "__extn": { "fn": "ip", "arg": f.ip } },
                "verified": f.verified, "strategy": f.strategy, "protocol": f.protocol,
                "client": f.client, "domain": f.domain, "weekday": NOW_WEEKDAY,
            }),
            None,
        )
        .expect("context");
        let request = cedar_policy::Request::new(principal, action.clone(), resource.clone(), context, None).expect("request");
        authorizer.is_authorized(&request, &policies, &entities).decision() == cedar_policy::Decision::Deny
    };

    // CEL: the blocklist as a map variable in a parent scope, built once.
    let program = cel::Program::compile(CEL).expect("CEL compiles");
    let mut base = cel::Context::default();
    base.add_function("ip_in", ip_in).expect("ip_in registers");
    let blocked_map: HashMap<String, bool> = blocked.iter().map(|e| (e.clone(), true)).collect();
    base.add_variable("blocked", blocked_map).expect("blocked");
    let cel = |l: &Json| -> bool {
        let f = facts(&l["user"], &l["context"]);
        let mut c = base.new_inner_scope();
        c.add_variable_from_value("email", f.email);
        c.add_variable_from_value("domain", f.domain);
        c.add_variable_from_value("ip", f.ip);
        c.add_variable_from_value("verified", f.verified);
        c.add_variable_from_value("strategy", f.strategy);
        c.add_variable_from_value("protocol", f.protocol);
        c.add_variable_from_value("client", f.client);
        c.add_variable_from_value("weekday", NOW_WEEKDAY);
        program.execute(&c).expect("CEL runs") == cel::Value::Bool(true)
    };

    // warden's decisions: `allow`, or `deny CODE by RULE` (these engines only say deny).
    let warden: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(&args[3]).expect("decisions")).expect("json");
    assert_eq!(warden.len(), logins.len(), "one decision per login");
    for (name, f) in [("cedar", &cedar as &dyn Fn(&Json) -> bool), ("cel", &cel)] {
        let wrong: Vec<String> = logins
            .iter()
            .zip(&warden)
            .enumerate()
            .filter(|(_, (l, w))| f(l) != (*w != "allow"))
            .map(|(i, (l, w))| format!("login {i}: warden {w}, {name} {}", if f(l) { "deny" } else { "allow" }))
            .collect();
        if !wrong.is_empty() {
            eprintln!(
                "{name}: {} of {} decisions differ from warden's:\n  {}",
                wrong.len(),
                logins.len(),
                wrong.iter().take(10).cloned().collect::<Vec<_>>().join("\n  ")
            );
            std::process::exit(1);
        }
        let denied = logins.iter().filter(|l| f(l)).count();
        let start = Instant::now();
        for _ in 0..rounds {
            for l in &logins {
                std::hint::black_box(f(l));
            }
        }
        let ns = start.elapsed().as_nanos() as f64 / (rounds * logins.len()) as f64;
        println!("{name:6} {:<27} {ns:8.0} ns/login ({denied} denied per round)", "(facts computed by host)");
    }
}

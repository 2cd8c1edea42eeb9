#!/usr/bin/env python3
"""Request bodies for the serve benchmark: one JSONL file per example, one login a line.

    python3 bench/serve/bodies.py OUTDIR [--count N]

writes OUTDIR/{quickstart,bench,mixed-legacy}.jsonl, each line
`{"user": {...}, "context": {...}, "now": "2026-11-26T12:00:00Z"}` (the body of
`POST /v1/login`), and OUTDIR/NAME.expected.txt, warden's recorded decision for each line
(`INDEX allow` or `INDEX deny CODE by RULE`, `?` where the record does not say), which
compare.py checks both servers against.

- bench: the 1,000 Auth0-size logins that `cargo bench -p warden --bench login` generates
  (runtime/engine/benches/common.rs, `logins()`: not stored anywhere, made by a seeded
  generator), reproduced here by the same generator, value for value; their decisions on
  the full pipeline are bench/expected/login.txt.
- quickstart, mixed-legacy: each example's samples (samples/*/user.json, context.json, with
  expected.json) and the cases of its warden.test.toml (defaults merged with each case's
  `user`, `context`, `user_json`, `context_json`, `remove` and `now`, as `warden test` does;
  a case's `config` cannot travel in a body and is left out, which changes no decision
  here). Both cover allow and deny. They are then repeated up to --count lines (default
  1,000), each repetition with another `user_id`, `logins_count` and request IP, which no
  rule of these examples decides on, so that the server does not see the same bytes again
  and again; the expected decision is the original's.

Only the Python standard library (3.11+, for tomllib).
"""

import argparse
import copy
import json
import pathlib
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOW = "2026-11-26T12:00:00Z"
NOW_MS = 1_764_158_400_000
MASK64 = (1 << 64) - 1


# --- examples/bench: runtime/engine/benches/common.rs, `logins()` ------------------------------


class Lcg:
    """common.rs's `Lcg`: the same 64-bit linear congruential generator."""

    def __init__(self, seed):
        self.state = seed

    def next_u64(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK64
        return self.state >> 33

    def pick(self, items):
        return items[self.next_u64() % len(items)]


def bench_logins():
    """The 1,000 logins, in the order and with the values of common.rs (the generator's
    calls happen in the same order: `json!` evaluates fields in the order written)."""
    r = Lcg(42)
    out = []
    for i in range(1000):
        domain = r.pick(["example.com", "example.org", "gmail.com", "corp.example.net", "x.io"])
        if domain == "x.io" and r.next_u64() % 2 == 0:
            local = f"b{r.next_u64() % 200_000}"
        else:
            local = f"user{i}"
        if r.next_u64() % 5 == 0:
            email = f" {local.upper()}@{domain} "
        else:
            email = f"{local}@{domain}"
        roles = [role for role in ["admin", "editor", "viewer", "billing"] if r.next_u64() % 3 == 0]
        kind = r.next_u64() % 6
        if kind == 0:
            ip = f"10.{r.next_u64() % 256}.{r.next_u64() % 256}.{r.next_u64() % 256}"
        elif kind == 1:
            ip = f"203.0.113.{r.next_u64() % 256}"
        elif kind == 2:
            ip = f"2001:db8:{r.next_u64() % 65536:x}::{r.next_u64() % 65536:x}"
        elif kind == 3:
            ip = f"::ffff:172.16.{r.next_u64() % 256}.{r.next_u64() % 256}"
        else:
            a = 20 + r.next_u64() % 200
            ip = f"{a}.{r.next_u64() % 256}.{r.next_u64() % 256}.{r.next_u64() % 256}"
        if r.next_u64() % 4 == 0:
            methods = [{"name": "pwd", "timestamp": NOW_MS - 5000}, {"name": "mfa", "timestamp": NOW_MS - 4000}]
        else:
            methods = [{"name": "pwd", "timestamp": NOW_MS - 5000}]
        user = {}
        user["user_id"] = f"auth0|{r.next_u64():024x}"
        user["email"] = email
        user["email_verified"] = r.next_u64() % 10 != 0
        user["given_name"] = r.pick(["Ada", "Grace", "Alan", "Edsger", "Barbara"])
        user["family_name"] = r.pick(["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov"])
        user["nickname"] = f"user{i}"
        user["picture"] = (
            f"https://s.gravatar.com/avatar/{r.next_u64():032x}"
            "?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fus.png"
        )
        user["created_at"] = "2021-03-04T05:06:07.000Z"
        user["updated_at"] = "2026-11-20T10:00:00.000Z"
        user["last_login"] = "2026-11-25T09:00:00.000Z"
        user["last_ip"] = "188.6.125.49"
        user["logins_count"] = r.next_u64() % 500
        user["locale"] = "en"
        user["multifactor"] = ["guardian"] if r.next_u64() % 3 == 0 else []
        user["identities"] = [
            {
                "connection": "Username-Password-Authentication",
                "provider": "auth0",
                "user_id": f"{r.next_u64():024x}",
                "isSocial": False,
            }
        ]
        app_metadata = {}
        app_metadata["plan"] = r.pick(["free", "team", "enterprise"])
        app_metadata["customer_id"] = f"cus_{r.next_u64():016x}"
        app_metadata["signup_source"] = "web"
        app_metadata["feature_flags"] = ["new-dashboard", "beta-reports", "dark-mode"]
        app_metadata["seats"] = r.next_u64() % 50
        app_metadata["billing"] = {"currency": "EUR", "country": "GR", "vat_id": "EL123456789"}
        user["app_metadata"] = app_metadata
        user["user_metadata"] = {
            "theme": "dark",
            "language": "en-GB",
            "timezone": "Europe/Athens",
            "newsletter": True,
            "address": {"street": "1 Example Street", "city": "Athens", "postcode": "10558"},
            "bio": "Writes software and rules about software. Likes long walks through abstract syntax trees.",
        }
        context = {}
        context["tenant"] = "example"
        context["clientID"] = f"cid_{r.next_u64() % 16:x}"
        context["clientName"] = r.pick(["Web App", "Web App", "Web App", "Admin Console", "Payroll", "Mobile"])
        context["connection"] = "Username-Password-Authentication"
        context["connectionStrategy"] = "auth0"
        context["protocol"] = r.pick(
            ["oidc-basic-profile", "oidc-basic-profile", "oauth2-refresh-token", "oauth2-resource-owner"]
        )
        context["stats"] = {"loginsCount": r.next_u64() % 500}
        context["sso"] = {"with_auth0": False, "with_dbconn": False, "current_clients": []}
        context["authentication"] = {"methods": methods}
        context["authorization"] = {"roles": roles}
        context["accessToken"] = {"scope": ["openid", "profile", "email", "read:docs", "delete:users"]}
        context["idToken"] = {}
        context["riskAssessment"] = {
            "confidence": "high",
            "version": "1",
            "assessments": {"NewDevice": {"confidence": r.pick(["low", "high", "neutral"]), "code": "match"}},
        }
        query = {"scope": "openid profile email", "response_type": "code", "state": f"{r.next_u64():x}"}
        context["request"] = {
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
            "ip": ip,
            "hostname": "login.example.com",
            "query": query,
            "body": {},
            "geoip": {
                "country_code": "GR",
                "country_name": "Greece",
                "city_name": "Athens",
                "time_zone": "Europe/Athens",
                "latitude": 37.98,
                "longitude": 23.72,
            },
        }
        out.append({"user": user, "context": context, "now": NOW})
    return out


def bench():
    bodies = bench_logins()
    expected = []
    for line in (ROOT / "bench/expected/login.txt").read_text().splitlines():
        index, decision = line.split(" ", 1)
        expected.append(decision)
    assert len(expected) == len(bodies), "bench/expected/login.txt has one line per login"
    return bodies, expected


# --- examples with samples and a warden.test.toml ----------------------------------------------


def merge(base, over):
    """Objects merge key by key, other values replace (warden test's rule)."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def remove(doc, dotted):
    root, *parts = dotted.split(".")
    cur = doc[root]
    for p in parts[:-1]:
        cur = cur.get(p) if isinstance(cur, dict) else None
        if cur is None:
            return
    if isinstance(cur, dict):
        cur.pop(parts[-1], None)


def expected_of(expect):
    """`allow`, or `deny CODE by RULE` with `?` for what a case does not state."""
    decision = expect.get("decision")
    if decision == "allow":
        return "allow"
    if decision == "deny":
        error = expect.get("error", {})
        return f"deny {error.get('code', '?')} by {error.get('rule', '?')}"
    return "?"


def example_bodies(name):
    d = ROOT / "examples" / name
    bodies, expected = [], []
    for sample in sorted((d / "samples").iterdir()):
        user = json.loads((sample / "user.json").read_text())
        context = json.loads((sample / "context.json").read_text())
        want = "?"
        if (sample / "expected.json").exists():
            outcome = json.loads((sample / "expected.json").read_text())
            want = expected_of(outcome)
        bodies.append({"user": user, "context": context, "now": NOW})
        expected.append(want)
    tests = tomllib.loads((d / "warden.test.toml").read_text())
    defaults = tests.get("defaults", {})
    for case in tests.get("case", []):
        doc = {"user": copy.deepcopy(defaults.get("user", {})), "context": copy.deepcopy(defaults.get("context", {}))}
        for key in ("user", "context"):
            if key in case:
                doc[key] = merge(doc[key], case[key])
            if f"{key}_json" in case:
                doc[key] = merge(doc[key], json.loads(case[f"{key}_json"]))
        for path in case.get("remove", []):
            remove(doc, path)
        bodies.append({"user": doc["user"], "context": doc["context"], "now": case.get("now", defaults.get("now", NOW))})
        expected.append(expected_of(case.get("expect", {})))
    return bodies, expected


def variant(body, k):
    """Repetition k of a body: another user_id (same provider), logins_count and request IP."""
    if k == 0:
        return body
    b = copy.deepcopy(body)
    user, request = b["user"], b["context"].get("request")
    if isinstance(user.get("user_id"), str) and "|" in user["user_id"]:
        user["user_id"] = f"{user['user_id'].split('|', 1)[0]}|{k:024x}"
    if isinstance(user.get("logins_count"), int):
        user["logins_count"] += k
    if isinstance(request, dict) and isinstance(request.get("ip"), str) and "." in request["ip"]:
        request["ip"] = f"81.2.{k // 256 % 256}.{k % 256}"
    return b


def repeat(bodies, expected, count):
    if count <= len(bodies):
        return bodies, expected
    out_b, out_e = [], []
    for i in range(count):
        out_b.append(variant(bodies[i % len(bodies)], i // len(bodies)))
        out_e.append(expected[i % len(bodies)])
    return out_b, out_e


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", type=pathlib.Path)
    ap.add_argument("--count", type=int, default=1000, help="lines for quickstart and mixed-legacy (default 1000)")
    args = ap.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    sets = {"bench": bench()}
    for name in ("quickstart", "mixed-legacy"):
        sets[name] = repeat(*example_bodies(name), args.count)
    for name, (bodies, expected) in sets.items():
        with open(args.outdir / f"{name}.jsonl", "w") as f:
            for b in bodies:
                f.write(json.dumps(b, separators=(",", ":"), ensure_ascii=False) + "\n")
        with open(args.outdir / f"{name}.expected.txt", "w") as f:
            for i, e in enumerate(expected):
                f.write(f"{i} {e}\n")
        allow = sum(e == "allow" for e in expected)
        deny = sum(e.startswith("deny") for e in expected)
        print(f"{name}: {len(bodies)} bodies ({allow} expected allowed, {deny} denied, {len(bodies) - allow - deny} not stated)", file=sys.stderr)


if __name__ == "__main__":
    main()

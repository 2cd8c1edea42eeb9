#!/usr/bin/env python3
"""Checks that servers decide every body alike, before anything is timed.

    python3 bench/serve/compare.py --bodies B.jsonl [--expected B.expected.txt] \\
        --server warden=http://127.0.0.1:PORT/v1/login --server node=http://127.0.0.1:PORT/v1/login \\
        [--warden-cli target/release/warden --manifest examples/X/warden.toml] [--decisions-only]

POSTs each body once to each server (one keep-alive connection each, one request at a time)
and reduces each answer to what the comparison covers:

- the decision: `allow`, or `deny CODE by RULE` (error.code and error.rule of the outcome);
- for allowed logins, unless --decisions-only: the final scope list, the ID and access token
  claims and the MFA request (`multifactor`).

Every server must give the first server's answer on every body, and each decision must
equal the recorded one in --expected where that records one (`?` parts are not compared).
`--warden-cli` adds `warden run` (one process per body) as one more party: a check of the
other servers that needs no running warden server. Anything else in the outcomes (user,
effects, logs, descriptions, `decision_id`) is not compared.

Exits 1 on the first kind of difference (listing up to 10), 0 when everything agrees;
prints a one-line summary per party on stderr and, with --json, a JSON summary on stdout.
Only the Python standard library.
"""

import argparse
import http.client
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import urllib.parse


def parse_decision(text):
    """`allow` -> ("allow", None, None); `deny CODE by RULE` -> ("deny", CODE, RULE)."""
    if text == "allow":
        return ("allow", None, None)
    parts = text.split(" ", 3)
    if len(parts) == 4 and parts[0] == "deny" and parts[2] == "by":
        return ("deny", parts[1], parts[3])
    return (text, None, None)


def matches(want, got):
    """Whether a decision is the recorded one; `?` in the record matches anything."""
    return want[0] == got[0] and all(w == "?" or w == g for w, g in zip(want[1:], got[1:]))


def reduce(outcome, decisions_only):
    """The parts of an outcome that are compared."""
    error = outcome.get("error") or {}
    decision = outcome.get("decision")
    key = {"decision": "allow" if decision == "allow" else f"deny {error.get('code')} by {error.get('rule')}"}
    if decision == "allow" and not decisions_only:
        key["scope"] = outcome.get("scope")
        key["id_token"] = outcome.get("id_token")
        key["access_token"] = outcome.get("access_token")
        key["multifactor"] = outcome.get("multifactor")
    return key


class HttpParty:
    def __init__(self, name, url):
        self.name = name
        u = urllib.parse.urlsplit(url)
        if u.scheme != "http" or not u.hostname:
            raise SystemExit(f"compare.py: --server {name}={url}: an http:// URL")
        self.host, self.port = u.hostname, u.port or 80
        self.path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        self.conn = None

    def decide(self, body_text):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request("POST", self.path, body=body_text.encode(), headers={"content-type": "application/json"})
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        if resp.status != 200:
            raise RuntimeError(f"{self.name}: HTTP {resp.status}: {data[:300]!r}")
        return json.loads(data)


class CliParty:
    """`warden run` on each body: the reference decision without a server."""

    def __init__(self, binary, manifest):
        self.name = "warden-cli"
        self.binary, self.manifest = binary, manifest
        self.tmp = tempfile.TemporaryDirectory()

    def decide(self, body_text):
        body = json.loads(body_text)
        u = os.path.join(self.tmp.name, "user.json")
        c = os.path.join(self.tmp.name, "context.json")
        with open(u, "w") as f:
            json.dump(body["user"], f)
        with open(c, "w") as f:
            json.dump(body["context"], f)
        cmd = [self.binary, "run", "--manifest", self.manifest, "--user", u, "--context", c]
        if "now" in body:
            cmd += ["--now", body["now"]]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode not in (0, 3):
            raise RuntimeError(f"warden run exited {p.returncode}: {p.stderr[:300]}")
        return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bodies", required=True, type=pathlib.Path)
    ap.add_argument("--expected", type=pathlib.Path)
    ap.add_argument("--server", action="append", default=[], metavar="NAME=URL")
    ap.add_argument("--warden-cli", metavar="BINARY")
    ap.add_argument("--manifest")
    ap.add_argument("--decisions-only", action="store_true")
    ap.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    args = ap.parse_args()

    parties = []
    for s in args.server:
        name, sep, url = s.partition("=")
        if not sep:
            raise SystemExit(f"compare.py: --server {s}: NAME=URL")
        parties.append(HttpParty(name, url))
    if args.warden_cli:
        if not args.manifest:
            raise SystemExit("compare.py: --warden-cli needs --manifest")
        parties.append(CliParty(args.warden_cli, args.manifest))
    if not parties:
        raise SystemExit("compare.py: nothing to compare: give --server or --warden-cli")

    bodies = [line for line in args.bodies.read_text().splitlines() if line.strip()]
    expected = None
    if args.expected:
        expected = [line.split(" ", 1)[1] for line in args.expected.read_text().splitlines() if line.strip()]
        if len(expected) != len(bodies):
            raise SystemExit(f"compare.py: {args.expected} has {len(expected)} lines for {len(bodies)} bodies")

    differences = []  # (kind, text)
    counts = {p.name: {"allow": 0, "deny": 0} for p in parties}
    for i, body in enumerate(bodies):
        keys = []
        for p in parties:
            try:
                key = reduce(p.decide(body), args.decisions_only)
            except Exception as e:  # noqa: BLE001 - any failure is a difference to report
                differences.append(("error", f"body {i}: {p.name}: {e}"))
                key = None
            keys.append(key)
            if key:
                counts[p.name]["allow" if key["decision"] == "allow" else "deny"] += 1
        first = keys[0]
        for p, key in zip(parties[1:], keys[1:]):
            if first is None or key is None:
                continue
            if key["decision"] != first["decision"]:
                differences.append(("decision", f"body {i}: {parties[0].name} {first['decision']!r}, {p.name} {key['decision']!r}"))
            elif key != first:
                fields = [k for k in first if first.get(k) != key.get(k)]
                detail = "; ".join(f"{k}: {first.get(k)!r} vs {key.get(k)!r}" for k in fields)
                differences.append(("effects", f"body {i}: {parties[0].name} and {p.name} differ in {detail}"))
        if expected and expected[i] != "?":
            want = parse_decision(expected[i])
            for p, key in zip(parties, keys):
                if key is not None and not matches(want, parse_decision(key["decision"])):
                    differences.append(("expected", f"body {i}: {p.name} decided {key['decision']!r}, recorded {expected[i]!r}"))

    for p in parties:
        c = counts[p.name]
        print(f"compare: {p.name}: {c['allow']} allowed, {c['deny']} denied of {len(bodies)}", file=sys.stderr)
    if args.json:
        print(json.dumps({"bodies": len(bodies), "parties": counts, "differences": len(differences)}))
    if differences:
        kinds = sorted({k for k, _ in differences})
        print(f"compare: {len(differences)} differences ({', '.join(kinds)}):", file=sys.stderr)
        for _, text in differences[:10]:
            print(f"  {text}", file=sys.stderr)
        sys.exit(1)
    what = "decisions" if args.decisions_only else "decisions, scopes, claims and MFA"
    print(f"compare: all {len(parties)} agree on the {what} of all {len(bodies)} bodies" + (" and match the recorded decisions" if expected else ""), file=sys.stderr)


if __name__ == "__main__":
    main()

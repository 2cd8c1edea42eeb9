#!/usr/bin/env python3
"""Time from process start to first decision: `warden run` from sources against
`warden run --bundle` from a built artifact, for the quickstart and a generated 100-rule
pipeline, with artifact sizes. Usage: python3 bench/startup.py [RUNS] (see BENCHMARKS.md)."""
import os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WARDEN = os.path.join(ROOT, "target", "release", "warden")
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
NOW = "2026-11-26T12:00:00Z"


def generated_rules(n):
    out = []
    for i in range(n):
        k = i % 5
        if k == 0:
            out.append(f'rule "r{i}" {{\n    when context.clientName == "App {i}"\n    deny "no" unless email_domain(user.email) in ["d{i}.example", "e{i}.example"]\n}}\n')
        elif k == 1:
            out.append(f'rule "r{i}" {{\n    deny access_denied "net {i}" if ip_in(context.request.ip, "10.{i % 256}.0.0/16")\n}}\n')
        elif k == 2:
            out.append(f'rule "r{i}" {{\n    claim id_token "https://example.com/c{i}" = user.logins_count + {i} if user.email_verified\n}}\n')
        elif k == 3:
            out.append(f'rule "r{i}" {{\n    when "role{i}" in context.authorization.roles\n    scope add "s{i}:read"\n}}\n')
        else:
            out.append(f'rule "r{i}" {{\n    set user.nickname = lower("${{user.given_name}}-{i}") if user.nickname == null\n}}\n')
    return "".join(out)


def median_ms(args):
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - start) * 1000)
        if r.returncode not in (0, 3):
            sys.exit(f"{' '.join(args)} failed: {r.stderr.decode()}")
    return statistics.median(times)


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "warden-cli"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp()
    gen = os.path.join(tmp, "gen")
    os.makedirs(gen)
    with open(os.path.join(gen, "rules.rule"), "w") as f:
        f.write(generated_rules(100))
    with open(os.path.join(gen, "warden.toml"), "w") as f:
        f.write('[pipeline]\nrules = ["rules.rule"]\n')
    def sample_args(example, sample):
        d = os.path.join(ROOT, "examples", example, "samples", sample)
        return ["--user", os.path.join(d, "user.json"), "--context", os.path.join(d, "context.json"), "--now", NOW]
    quickstart = sample_args("quickstart", "employee-login")
    print(f"{'pipeline':<24} {'from sources':>14} {'from artifact':>14} {'artifact size':>14}")
    for name, manifest, inputs in [
        ("quickstart (13 rules)", os.path.join(ROOT, "examples", "quickstart", "warden.toml"), quickstart),
        ("generated (100 rules)", os.path.join(gen, "warden.toml"), quickstart),
        ("mixed-legacy (2 JS)", os.path.join(ROOT, "examples", "mixed-legacy", "warden.toml"),
         sample_args("mixed-legacy", sorted(os.listdir(os.path.join(ROOT, "examples", "mixed-legacy", "samples")))[0])),
    ]:
        artifact = os.path.join(tmp, name.split()[0] + ".wdn")
        subprocess.run([WARDEN, "build", "--manifest", manifest, "-o", artifact], check=True,
                       stderr=subprocess.DEVNULL)
        src = median_ms([WARDEN, "run", "--manifest", manifest] + inputs)
        art = median_ms([WARDEN, "run", "--bundle", artifact] + inputs)
        print(f"{name:<24} {src:>11.1f} ms {art:>11.1f} ms {os.path.getsize(artifact):>11,} B")
    # JavaScript bytecode is used only from a signed artifact whose signature the loader
    # checks; without a key the JavaScript is compiled from the artifact's sources.
    keys = os.path.join(tmp, "release")
    subprocess.run([WARDEN, "keygen", "-o", keys], check=True, stdout=subprocess.DEVNULL)
    manifest = os.path.join(ROOT, "examples", "mixed-legacy", "warden.toml")
    signed = os.path.join(tmp, "mixed-signed.wdn")
    subprocess.run([WARDEN, "build", "--manifest", manifest, "-o", signed, "--sign-key", keys + ".key"],
                   check=True, stderr=subprocess.DEVNULL)
    sample = sample_args("mixed-legacy", sorted(os.listdir(os.path.join(ROOT, "examples", "mixed-legacy", "samples")))[0])
    art = median_ms([WARDEN, "run", "--bundle", signed, "--verify-key", keys + ".pub"] + sample)
    print(f"{'mixed-legacy, signed':<24} {'':>14} {art:>11.1f} ms {os.path.getsize(signed):>11,} B"
          "  (--verify-key: loads the bytecode)")


main()

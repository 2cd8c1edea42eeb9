#!/usr/bin/env bash
# `warden serve` against a hand-written Node 20 server (bench/serve/node/server.js: the same
# rules as Auth0-style functions in a `vm` context with a timeout), on the same examples, the
# same request bodies and the same load, in one run. See bench/serve/README.md.
#
# For each example: start every server on a free loopback port (each prints its address as
# the first line of stdout), check that all of them decide every body alike and as recorded
# (bench/serve/compare.py: a difference fails the script before anything is timed), then per
# server: a short warm-up, closed-loop runs at a few connection counts (saturation: the best
# rate), and an open-loop run at half that rate (latency from each request's due time); then
# every server again in an open loop at one common rate (half the lowest saturation).
# Prints a Markdown table; writes every raw measurement to bench/serve/results/ (gitignored).
#
# Usage: bench/serve/run.sh            (about 6 minutes after the build with the defaults)
# Settings (environment):
#   SERVE_EXAMPLES         examples to run                        (quickstart bench mixed-legacy)
#   SERVE_SERVERS          servers to measure: warden node node-cluster   (these three)
#                          (also warden-inproc: `warden serve` with WARDEN_JS_IN_PROCESS=1,
#                          JavaScript rules in the server's process instead of workers)
#   SERVE_SAT_CONNECTIONS  closed-loop connection counts          (1 8 32 64)
#   SERVE_SAT_DURATION     seconds per closed-loop run            (3)
#   SERVE_OPEN_DURATION    seconds of the open-loop run           (10)
#   SERVE_OPEN_CONNECTIONS connections of the open-loop run       (32)
#   SERVE_OPEN_FRACTION    open-loop rate as a share of saturation (0.5)
#   SERVE_WARMUP           seconds of warm-up per server          (2)
#   SERVE_LOADGEN_THREADS  the load generator's threads           (1)
#   SERVE_NODE_WORKERS     node-cluster's worker processes        (the number of CPUs)
#   SERVE_WARDEN_FLAGS     extra `warden serve` flags             (--concurrency MAX_CONNECTIONS)
#   SERVE_SLO_P99_US       find each server's highest open-loop rate whose p99 stays within
#                          this many microseconds ("throughput at the same p99"; 0: skip) (0)
#   SERVE_SLO_STEPS        bisection steps of that search, each at least SERVE_SLO_DURATION
#                          seconds and 2,000 requests (so that a p99 means something) (6, 3)
#   SERVE_SKIP_BUILD=1     use the binaries already built
# Needs: cargo, Python 3.11+ and Node.js 20 (on PATH). Installs nothing; builds into
# CARGO_TARGET_DIR (default target/). Sends traffic to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

examples=${SERVE_EXAMPLES:-quickstart bench mixed-legacy}
servers=${SERVE_SERVERS:-warden node node-cluster}
sat_connections=${SERVE_SAT_CONNECTIONS:-1 8 32 64}
sat_duration=${SERVE_SAT_DURATION:-3}
open_duration=${SERVE_OPEN_DURATION:-10}
open_connections=${SERVE_OPEN_CONNECTIONS:-32}
open_fraction=${SERVE_OPEN_FRACTION:-0.5}
warmup=${SERVE_WARMUP:-2}
slo_p99=${SERVE_SLO_P99_US:-0}
slo_steps=${SERVE_SLO_STEPS:-6}
slo_duration=${SERVE_SLO_DURATION:-3}
lg_threads=${SERVE_LOADGEN_THREADS:-1}
node_workers=${SERVE_NODE_WORKERS:-$(nproc)}
max_conn=$(printf '%s\n' $sat_connections $open_connections | sort -n | tail -1)
warden_flags=${SERVE_WARDEN_FLAGS:---concurrency $max_conn}
target_dir=${CARGO_TARGET_DIR:-$root/target}
warden=$target_dir/release/warden
loadgen=$target_dir/release/warden-loadgen

command -v node >/dev/null || { echo "run.sh: node (20) is needed on PATH" >&2; exit 1; }
command -v python3 >/dev/null || { echo "run.sh: python3 is needed on PATH" >&2; exit 1; }

if [[ ${SERVE_SKIP_BUILD:-0} != 1 ]]; then
    echo "building warden and warden-loadgen (release)..." >&2
    cargo build --release -q -p warden-cli -p warden-loadgen
fi
[[ -x $loadgen ]] || { echo "run.sh: $loadgen is missing (build it, or unset SERVE_SKIP_BUILD)" >&2; exit 1; }
if [[ " $servers " == *" warden"* ]]; then
    if ! "$warden" serve --help >/dev/null 2>&1; then
        echo "run.sh: $warden has no \`serve\` command in this checkout; run with SERVE_SERVERS='node node-cluster' to measure Node alone" >&2
        exit 1
    fi
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p bench/serve/results
results=bench/serve/results/serve-$stamp.json
runs=$tmp/runs.jsonl
: >"$runs"

python3 bench/serve/bodies.py "$tmp/bodies"

# start NAME LOGFILE COMMAND...: starts a server, waits for its first stdout line
# `listening on http://HOST:PORT` (30 s at most) and its /ready, sets $url and $pid.
start() {
    local name=$1 log=$2
    shift 2
    "$@" >"$tmp/$name.stdout" 2>"$log" &
    pid=$!
    pids+=("$pid")
    local line=""
    for _ in $(seq 300); do
        line=$(head -n 1 "$tmp/$name.stdout" 2>/dev/null || true)
        [[ $line == "listening on "* ]] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "run.sh: $name exited before listening; its log:" >&2
            tail -n 20 "$log" >&2
            exit 1
        fi
        sleep 0.1
    done
    if [[ $line != "listening on http://"* ]]; then
        echo "run.sh: $name did not print \`listening on http://...\` within 30 s (first line: ${line:-nothing})" >&2
        exit 1
    fi
    url=${line#listening on }
    for _ in $(seq 300); do
        curl -fsS -o /dev/null "$url/ready" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "run.sh: $name at $url never answered 200 on /ready" >&2
    exit 1
}

# stop NAME PID: SIGTERM, then the exit status (servers are expected to drain and exit 0).
stop() {
    local name=$1 pid=$2 status=0
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || status=$?
    [[ $status == 0 ]] || echo "run.sh: warning: $name exited with status $status after SIGTERM" >&2
}

# load EXAMPLE SERVER PHASE LOADGEN-ARGS...: one load generator run against server SERVER
# (whose pid is ${spids[SERVER]}), recorded in $runs with where the CPU went meanwhile
# (bench/serve/cpu.py); prints the load generator's report.
load() {
    local example=$1 server=$2 phase=$3
    shift 3
    local before after TIMEFORMAT='%R %U %S'
    before=$(python3 bench/serve/cpu.py snapshot "${spids[$server]}")
    { time "$loadgen" --bodies "$tmp/bodies/$example.jsonl" --threads "$lg_threads" --timeout 5 "$@" >"$tmp/report.json" 2>"$tmp/loadgen.err"; } 2>"$tmp/loadgen.time" \
        || { cat "$tmp/loadgen.err" >&2; exit 1; }
    after=$(python3 bench/serve/cpu.py snapshot "${spids[$server]}")
    python3 bench/serve/cpu.py record "$example" "$server" "$phase" "$before" "$after" "$(cat "$tmp/loadgen.time")" "$tmp/report.json" >>"$runs"
    cat "$tmp/report.json"
}

field() { python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r'"$1"')' "$2"; }

for example in $examples; do
    manifest=examples/$example/warden.toml
    declare -A urls=() spids=()
    for server in $servers; do
        case $server in
            warden) start warden "$tmp/$example-warden.log" "$warden" serve --manifest "$manifest" --listen 127.0.0.1:0 $warden_flags ;;
            warden-inproc) start warden-inproc "$tmp/$example-warden-inproc.log" env WARDEN_JS_IN_PROCESS=1 "$warden" serve --manifest "$manifest" --listen 127.0.0.1:0 $warden_flags ;;
            node) start node "$tmp/$example-node.log" node bench/serve/node/server.js --pipeline "$example" --listen 127.0.0.1:0 ;;
            node-cluster) start node-cluster "$tmp/$example-node-cluster.log" node bench/serve/node/server.js --pipeline "$example" --listen 127.0.0.1:0 --cluster "$node_workers" ;;
            *) echo "run.sh: unknown server $server (warden, warden-inproc, node, node-cluster)" >&2; exit 2 ;;
        esac
        urls[$server]=$url/v1/login
        spids[$server]=$pid
        echo "$example: $server listening at $url" >&2
    done
    compare_args=()
    for server in $servers; do compare_args+=(--server "$server=${urls[$server]}"); done
    python3 bench/serve/compare.py --bodies "$tmp/bodies/$example.jsonl" --expected "$tmp/bodies/$example.expected.txt" "${compare_args[@]}"

    declare -A sat=()
    for server in $servers; do
        u=${urls[$server]}
        load "$example" "$server" warmup --url "$u" --connections 8 --duration "$warmup" >/dev/null
        best=0
        best_c=0
        for c in $sat_connections; do
            r=$(load "$example" "$server" "closed-$c" --url "$u" --connections "$c" --duration "$sat_duration")
            rps=$(field '["ok_rps"]' "$r")
            bad=$(field '["requests"]-r["ok"]' "$r")
            echo "$example: $server closed loop, $c connections: $rps ok/s ($bad not ok), p50 $(field '["latency_us"]["p50"]' "$r") us" >&2
            if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' "$rps" "$best"; then
                best=$rps
                best_c=$c
            fi
        done
        sat[$server]=$best
        rate=$(python3 -c 'import sys; print(max(1, int(float(sys.argv[1]) * float(sys.argv[2]))))' "$best" "$open_fraction")
        r=$(load "$example" "$server" open --url "$u" --connections "$open_connections" --duration "$open_duration" --rate "$rate")
        echo "$example: $server open loop at $rate/s: p50 $(field '["latency_us"]["p50"]' "$r") us, p99 $(field '["latency_us"]["p99"]' "$r") us, p99.9 $(field '["latency_us"]["p99_9"]' "$r") us, missed $(field '["missed"]' "$r")" >&2
        printf '{"example":"%s","server":"%s","phase":"summary","saturation_rps":%s,"saturation_connections":%s,"open_rate":%s}\n' \
            "$example" "$server" "$best" "$best_c" "$rate" >>"$runs"
        # The highest rate whose p99 stays within the objective: bisection between 0 and the
        # saturation (a rate with missed requests or errors fails).
        if [[ $slo_p99 != 0 ]]; then
            lo=0
            hi=$(python3 -c 'import sys; print(int(float(sys.argv[1])))' "$best")
            for _ in $(seq "$slo_steps"); do
                mid=$(( (lo + hi + 1) / 2 ))
                [[ $mid -ge 1 ]] || break
                d=$(( slo_duration > 2000 / mid ? slo_duration : 2000 / mid + 1 ))
                r=$(load "$example" "$server" "slo-$mid" --url "$u" --connections "$open_connections" --duration "$d" --rate "$mid")
                p99=$(field '["latency_us"]["p99"]' "$r")
                bad=$(field '["requests"]-r["ok"]+r.get("missed",0)' "$r")
                if [[ $p99 -le $slo_p99 && $bad == 0 ]]; then lo=$mid; else hi=$((mid - 1)); fi
                echo "$example: $server at $mid/s: p99 $p99 us ($bad not ok or missed) -> [$lo, $hi]" >&2
            done
            printf '{"example":"%s","server":"%s","phase":"slo","slo_p99_us":%s,"rate":%s}\n' "$example" "$server" "$slo_p99" "$lo" >>"$runs"
        fi
    done
    # Every server again at one rate, the same for all: the open-loop fraction of the lowest
    # saturation, so that latencies compare at equal load.
    if [[ $(wc -w <<<"$servers") -gt 1 ]]; then
        common=$(python3 -c 'import sys; print(max(1, int(min(map(float, sys.argv[2:])) * float(sys.argv[1]))))' "$open_fraction" "${sat[@]}")
        for server in $servers; do
            r=$(load "$example" "$server" open-common --url "${urls[$server]}" --connections "$open_connections" --duration "$open_duration" --rate "$common")
            echo "$example: $server open loop at the common $common/s: p50 $(field '["latency_us"]["p50"]' "$r") us, p99 $(field '["latency_us"]["p99"]' "$r") us, p99.9 $(field '["latency_us"]["p99_9"]' "$r") us, missed $(field '["missed"]' "$r")" >&2
        done
    fi
    for server in $servers; do stop "$server" "${spids[$server]}"; done
    unset urls spids sat
done

python3 - "$runs" "$results" "$stamp" <<'PY'
import json, os, platform, subprocess, sys
runs_file, results_file, stamp = sys.argv[1:4]
runs = [json.loads(l) for l in open(runs_file) if l.strip()]
def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    except OSError:
        return None
meta = {
    "date": stamp,
    "commit": sh("git", "rev-parse", "--short", "HEAD"),
    "dirty": bool(sh("git", "status", "--porcelain", "--untracked-files=no")),
    "cpus": os.cpu_count(),
    "load_average_at_end": os.getloadavg(),
    "node": sh("node", "--version"),
    "machine": platform.machine(),
    "settings": {k: v for k, v in os.environ.items() if k.startswith("SERVE_")},
}
json.dump({"meta": meta, "runs": runs}, open(results_file, "w"), indent=1)

summaries = [r for r in runs if r["phase"] == "summary"]
opens = {(r["example"], r["server"]): r["report"] for r in runs if r["phase"] == "open"}
print()
print(f"Serve benchmark {stamp} (commit {meta['commit']}{' + local changes' if meta['dirty'] else ''}, {meta['cpus']} CPUs, node {meta['node']}); load generator and servers share the machine.")
print()
def other_cpu(example, server, phases):
    """The most CPU (cores) anything but the server and the load generator took in these runs."""
    vals = [r["cpu"]["other"] for r in runs if r["example"] == example and r["server"] == server and r["phase"] in phases and "cpu" in r]
    return f"{max(vals):.2f}" if vals else "-"
print("| example | server | saturation (ok/s) | at connections | open loop rate (/s) | p50 (µs) | p90 (µs) | p99 (µs) | p99.9 (µs) | max (µs) | not ok / missed | other CPU |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for s in summaries:
    o = opens.get((s["example"], s["server"]), {})
    lat = o.get("latency_us") or {}
    bad = o.get("requests", 0) - o.get("ok", 0)
    timed = {r["phase"] for r in runs if r["phase"].startswith("closed-")} | {"open"}
    print(f"| {s['example']} | {s['server']} | {s['saturation_rps']:,.0f} | {s['saturation_connections']} | {s['open_rate']:,} | "
          f"{lat.get('p50', '-')} | {lat.get('p90', '-')} | {lat.get('p99', '-')} | {lat.get('p99_9', '-')} | {lat.get('max', '-')} | {bad} / {o.get('missed', 0)} | {other_cpu(s['example'], s['server'], timed)} |")
commons = [r for r in runs if r["phase"] == "open-common"]
if commons:
    print()
    print("At one rate for every server (the open-loop fraction of the lowest saturation of the example):")
    print()
    print("| example | server | rate (/s) | p50 (µs) | p90 (µs) | p99 (µs) | p99.9 (µs) | max (µs) | not ok / missed | other CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in commons:
        o = r["report"]
        lat = o.get("latency_us") or {}
        bad = o.get("requests", 0) - o.get("ok", 0)
        print(f"| {r['example']} | {r['server']} | {o['rate']:,.0f} | {lat.get('p50', '-')} | {lat.get('p90', '-')} | {lat.get('p99', '-')} | {lat.get('p99_9', '-')} | {lat.get('max', '-')} | {bad} / {o.get('missed', 0)} | {r['cpu']['other']:.2f} |")
slos = [r for r in runs if r["phase"] == "slo"]
if slos:
    print()
    print(f"Throughput at the same p99: the highest open-loop rate whose p99 stayed within {slos[0]['slo_p99_us']} µs (bisection):")
    print()
    print("| example | server | rate (/s) | against the best Node server |")
    print("|---|---|---|---|")
    for r in slos:
        node = max((x["rate"] for x in slos if x["example"] == r["example"] and x["server"].startswith("node")), default=0)
        ratio = f"{r['rate'] / node:.1f}x" if node and not r["server"].startswith("node") else "-"
        print(f"| {r['example']} | {r['server']} | {r['rate']:,} | {ratio} |")
errors = [r for r in runs if r["phase"] not in ("summary", "slo") and r["report"]["requests"] != r["report"]["ok"]]
if errors:
    print()
    print("Runs with responses other than 2xx or transport errors:")
    for r in errors:
        rep = r["report"]
        print(f"- {r['example']} {r['server']} {r['phase']}: errors {rep['errors']}, transport {rep['transport_error_kinds']}")
print()
print("other CPU: the most CPU (in cores, of the machine's " + str(meta["cpus"]) + ") used on average by anything but the server and the")
print("load generator during that server's timed runs, the kernel's loopback networking included (about 0.05-0.15 on an")
print("otherwise idle machine); well above that, another program was running and the row is disturbed.")
print()
print(f"raw results: {results_file}")
PY

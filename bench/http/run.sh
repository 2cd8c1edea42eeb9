#!/usr/bin/env bash
# Logins that wait on the network (issue 18): N logins at once (default 1,000), each running a
# legacy JavaScript rule that awaits an upstream answering after 100 ms, against `warden
# serve`. Measures the wall time from the first request sent to the last answer read, in one
# run, for each way of running JavaScript:
#   workers       `warden serve`'s default: JavaScript in worker processes, each taking many
#                 logins at once (--js-runs-per-worker, default)
#   workers-1     the same with --js-runs-per-worker 1: one login per worker at a time (the
#                 design before issue 18: the baseline)
#   in-process    WARDEN_JS_IN_PROCESS=1: JavaScript on the server's blocking threads
# Every login must be answered 200 (an outcome); `allowed` counts those the server allowed
# (from its /metrics): a login that waited for a JavaScript runtime past its deadline is
# denied with `cause: timeout`. Prints a Markdown table.
#
# Usage: bench/http/run.sh
# Settings (environment): HTTP_LOGINS (1000), HTTP_DELAY_MS (100), HTTP_MODES ("workers
# workers-1 in-process"), HTTP_ROUNDS (3: the table shows each round), HTTP_SKIP_BUILD=1.
# Needs cargo, Node.js 20 and Python 3 on PATH; traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
logins=${HTTP_LOGINS:-1000}
delay=${HTTP_DELAY_MS:-100}
modes=${HTTP_MODES:-workers workers-1 in-process}
rounds=${HTTP_ROUNDS:-3}
target_dir=${CARGO_TARGET_DIR:-$root/target}
warden=$target_dir/release/warden
loadgen=$target_dir/release/warden-loadgen

if [[ ${HTTP_SKIP_BUILD:-0} != 1 ]]; then
    echo "building warden and warden-loadgen (release)..." >&2
    cargo build --release -q -p warden-cli -p warden-loadgen
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# Prints the address a server writes as its first line (`listening on http://ADDR`).
address() {
    local out=$1
    for _ in $(seq 1 200); do
        if [[ -s $out ]]; then
            head -1 "$out" | sed -n 's|^listening on http://||p'
            return
        fi
        sleep 0.05
    done
    echo "no address in $out" >&2
    exit 1
}

node bench/http/upstream.mjs "$delay" > "$tmp/upstream.out" &
pids+=($!)
upstream=$(address "$tmp/upstream.out")

mkdir -p "$tmp/project"
cat > "$tmp/project/warden.toml" <<TOML
[pipeline]
rules = ["score.js"]
timeout_ms = 10000

[http]
allow = ["http://$upstream"]
max_requests = 2
timeout_ms = 5000
TOML
cat > "$tmp/project/score.js" <<JS
async function score(user, context, callback) {
  const response = await fetch('http://$upstream/score?user=' + encodeURIComponent(user.user_id));
  const body = await response.json();
  context.accessToken['https://example.com/risk'] = body.score;
  callback(null, user, context);
}
JS
python3 - "$logins" > "$tmp/bodies.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"user": {"user_id": f"auth0|{i}", "email": f"u{i}@example.com"},
                      "context": {"clientName": "App", "protocol": "oidc-basic-profile"},
                      "now": "2026-12-01T00:00:00Z"}))
PY

# Logins the server allowed so far (its /metrics), to tell allowed logins from those that
# waited past their deadline (answered 200 too, denied with `cause: timeout`).
allowed() {
    curl -s "http://$1/metrics" | python3 -c '
import sys
n = 0
for line in sys.stdin:
    if line.startswith("warden_logins_total{") and "decision=\"allow\"" in line:
        n += int(float(line.rsplit(" ", 1)[1]))
print(n)'
}

printf '| mode | logins at once | upstream delay | round | wall time, first request to last answer | p50 | p99 | max | allowed |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for mode in $modes; do
    flags=(--concurrency $((logins + 64)))
    env=()
    case $mode in
        workers) ;;
        workers-1) flags+=(--js-runs-per-worker 1) ;;
        in-process) env=(WARDEN_JS_IN_PROCESS=1) ;;
        *) echo "unknown mode $mode" >&2; exit 1 ;;
    esac
    env "${env[@]}" WARDEN_LOG=warn "$warden" serve --manifest "$tmp/project/warden.toml" --listen 127.0.0.1:0 \
        "${flags[@]}" > "$tmp/serve-$mode.out" 2> "$tmp/serve-$mode.err" &
    pid=$!
    pids+=($pid)
    addr=$(address "$tmp/serve-$mode.out")
    # Round 0 is cold: the first burst also starts the workers' threads and a QuickJS
    # runtime for each (about 3 ms of CPU each); the rounds after it find them warm.
    for round in $(seq 0 "$rounds"); do
        before=$(allowed "$addr")
        # One request per connection, all at once: the wall time is the slowest login's.
        "$loadgen" --url "http://$addr/v1/login" --bodies "$tmp/bodies.jsonl" --connections "$logins" \
            --max-requests "$logins" --duration 60 --timeout 30 > "$tmp/load-$mode-$round.json"
        after=$(allowed "$addr")
        python3 - "$tmp/load-$mode-$round.json" "$mode" "$logins" "$delay" "$round" $((after - before)) <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
mode, logins, delay, rnd, allowed = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
lat = r.get("latency_us") or {}
def ms(k):
    v = lat.get(k)
    return "-" if v is None else f"{v / 1000:.0f} ms"
print(f"| {mode} | {logins} | {delay} ms | {rnd} | {r['elapsed_s'] * 1000:.0f} ms | {ms('p50')} | {ms('p99')} | {ms('max')} | {allowed} of {r['requests']} |")
if r["requests"] != logins or r["ok"] != logins or r["errors"] or r["transport_errors"]:
    print(f"run.sh: {mode}: not every login was answered 200: {json.dumps(r)[:2000]}", file=sys.stderr)
    sys.exit(1)
PY
    done
    # Every answer carries the upstream's score (a login that did not wait would not).
    curl -s "http://$addr/v1/login" -d "$(head -1 "$tmp/bodies.jsonl")" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["decision"] == "allow" and o["access_token"]["https://example.com/risk"] == 0.1, o' 
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
done

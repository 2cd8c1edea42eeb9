#!/usr/bin/env bash
# warden, Node's vm, Cedar and CEL on the same 1,000 logins and the same allow/deny rules, in
# one run. Before timing, warden's decisions are checked against bench/expected/allow-deny.txt
# and every other engine's decision on every login is compared with warden's: the script
# fails on the first engine that differs. Needs Node.js (20 here). Usage: bench/peers/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo run --release -q -p warden --example peer_inputs "$tmp/logins.json" "$tmp/decisions.json"
node bench/peers/node-vm.js "$tmp/logins.json" examples/bench/lists/blocked-emails.txt "$tmp/decisions.json"
# Cedar and CEL (a separate crate, so that neither is built by the workspace or CI).
cargo run --release -q --manifest-path bench/peers/rust/Cargo.toml -- \
    "$tmp/logins.json" examples/bench/lists/blocked-emails.txt "$tmp/decisions.json"
echo "peers: every engine decided every login as warden did"

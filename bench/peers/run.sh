#!/usr/bin/env bash
# warden, Node's vm, Cedar and CEL on the same 1,000 logins and the same allow/deny rules, in
# one run. Needs Node.js (20 here). Usage: bench/peers/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
cargo run --release -q -p warden --example peer_inputs "$tmp/logins.json"
node bench/peers/node-vm.js "$tmp/logins.json" examples/bench/lists/blocked-emails.txt
# Cedar and CEL (a separate crate, so that neither is built by the workspace or CI).
cargo run --release -q --manifest-path bench/peers/rust/Cargo.toml -- "$tmp/logins.json" examples/bench/lists/blocked-emails.txt
rm -rf "$tmp"

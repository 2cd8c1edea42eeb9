#!/usr/bin/env bash
# JavaScript rules in worker processes against the calling process, interleaved in one run
# (BENCHMARKS.md, "JavaScript in worker processes"). Usage: bench/js/workers.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
cp bench/js/rule.js "$tmp/rule.js"
for i in 1 2 3 4 5; do sed "s/function enrichTokens/function enrichTokens$i/" bench/js/rule.js > "$tmp/r$i.js"; done
printf '[pipeline]\nrules = ["rule.js"]\n' > "$tmp/one.toml"
printf '[pipeline]\nrules = ["r1.js", "r2.js", "r3.js", "r4.js", "r5.js"]\n' > "$tmp/five.toml"
cargo build --release -q -p warden-cli
cargo run --release -q -p warden --example js_workers -- "$tmp" bench/js/user.json bench/js/context.json "$PWD/target/release/warden"
rm -rf "$tmp"

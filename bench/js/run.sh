#!/usr/bin/env bash
# A legacy JavaScript rule in warden (QuickJS) and in Node's vm, same inputs, one run. Both
# parse the user and context from JSON text and write the result as JSON text per login;
# Node's result is checked against warden's outcome before timing (the script fails if they
# differ). The inputs are the Auth0-size sample of the reference (section 2.2).
# Usage: bench/js/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp bench/js/rule.js "$tmp/rule.js"
for i in 1 2 3 4 5; do sed "s/function enrichTokens/function enrichTokens$i/" bench/js/rule.js > "$tmp/r$i.js"; done
printf '[pipeline]\nrules = ["rule.js"]\n' > "$tmp/one.toml"
printf '[pipeline]\nrules = ["r1.js", "r2.js", "r3.js", "r4.js", "r5.js"]\n' > "$tmp/five.toml"
cargo run --release -q -p warden --example js_bench -- "$tmp" bench/js/user.json bench/js/context.json "$tmp/warden.json"
node bench/js/node-vm.js bench/js/rule.js bench/js/user.json bench/js/context.json "$tmp/warden.json"

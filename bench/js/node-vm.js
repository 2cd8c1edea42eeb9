// The same legacy rule in Node's `vm`, on the same user and context. Each login does the work
// warden's does: parse the user and context from JSON text, run the rule(s), and write as
// JSON text what a host needs from the result (the error, the user, the ID and access token
// contents). Before timing, the result is checked against warden's outcome (OUT.json from
// js_bench): a difference exits with status 1.
// Usage: node bench/js/node-vm.js RULE USER CONTEXT WARDEN_OUTCOMES
'use strict';
const fs = require('fs');
const vm = require('vm');
const [ruleSrc, userText, ctxText, wardenText] = process.argv.slice(2).map((f) => fs.readFileSync(f, 'utf8'));
const warden = JSON.parse(wardenText);
const ctx = vm.createContext({});
const rule = vm.runInContext('(' + ruleSrc + ')', ctx);
function result(err, user, context) {
  return JSON.stringify({ err, user, idToken: context.idToken, accessToken: context.accessToken });
}
function login() {
  const user = JSON.parse(userText), context = JSON.parse(ctxText);
  let out;
  rule(user, context, (err, u, c) => { out = result(err, u, c); });
  return out;
}
// The 5-rule pipeline: five copies of the rule in a row over the same objects, as warden's.
const rules = [1, 2, 3, 4, 5].map(() => vm.runInContext('(' + ruleSrc + ')', ctx));
function login5() {
  let user = JSON.parse(userText), context = JSON.parse(ctxText), err = null;
  for (const r of rules) {
    r(user, context, (e, u, c) => { err = e; user = u; context = c; });
    if (err) break;
  }
  return result(err, user, context);
}
ctx.login = login;
ctx.login5 = login5;
const script = new vm.Script('login()');
const script5 = new vm.Script('login5()');

// JSON with sorted keys, to compare values written by two engines.
function canonical(v) {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v && typeof v === 'object') return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}';
  return JSON.stringify(v);
}
// Node's result against warden's outcome: the decision, the user, the ID token's claims and
// the scopes (warden's `scope` is the access token's scope when a rule changed it).
function check(label, text, outcome) {
  const r = JSON.parse(text);
  const node = { decision: r.err ? 'deny' : 'allow', user: r.user, id_token: r.idToken, scope: r.accessToken.scope || null };
  const w = { decision: outcome.decision, user: outcome.user, id_token: outcome.id_token, scope: outcome.scope };
  if (canonical(node) !== canonical(w)) {
    console.error(`node ${label}: the result differs from warden's:\n  node:   ${canonical(node)}\n  warden: ${canonical(w)}`);
    process.exit(1);
  }
}
check('1 JS rule', login(), warden.one);
check('1 JS rule, runInContext', script.runInContext(ctx, { timeout: 20000 }), warden.one);
check('5 JS rules', login5(), warden.five);
check('5 JS rules, runInContext', script5.runInContext(ctx, { timeout: 20000 }), warden.five);

// The fastest of five rounds of `n` calls (after a warm-up), as js_bench.rs reports.
function time(label, n, f) {
  for (let i = 0; i < n / 10; i++) f();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / n / 1000);
  }
  console.log(`node   ${label.padEnd(46)} ${best.toFixed(2).padStart(9)} us/login`);
}
time('1 JS rule, direct call, no timeout', 10000, login);
time('1 JS rule, runInContext + timeout', 2000, () => script.runInContext(ctx, { timeout: 20000 }));
time('5 JS rules, direct calls, no timeout', 10000, login5);
// One time limit for the whole login, as warden's deadline.
time('5 JS rules, runInContext + timeout', 2000, () => script5.runInContext(ctx, { timeout: 20000 }));
time('1 JS rule, fresh context', 100, () => {
  const c = vm.createContext({});
  const r = vm.runInContext('(' + ruleSrc + ')', c);
  const user = JSON.parse(userText), context = JSON.parse(ctxText);
  let out;
  r(user, context, (err, u, cx) => { out = result(err, u, cx); });
  return out;
});

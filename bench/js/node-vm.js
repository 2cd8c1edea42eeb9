// The same legacy rule in Node's `vm`, on the same user and context, parsed from JSON text per
// login and written back to JSON like warden does. Usage: node bench/js/node-vm.js RULE USER CONTEXT
'use strict';
const fs = require('fs');
const vm = require('vm');
const [ruleSrc, userText, ctxText] = process.argv.slice(2).map((f) => fs.readFileSync(f, 'utf8'));
const ctx = vm.createContext({});
const rule = vm.runInContext('(' + ruleSrc + ')', ctx);
function login() {
  const user = JSON.parse(userText), context = JSON.parse(ctxText);
  let out;
  rule(user, context, (err, u, c) => { out = JSON.stringify({ err, user: u, context: c }); });
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
  return JSON.stringify({ err, user, context });
}
ctx.login = login;
ctx.login5 = login5;
const script = new vm.Script('login()');
const script5 = new vm.Script('login5()');
// The fastest of five rounds of `n` calls (after a warm-up), as js_bench.rs reports.
function time(label, n, f) {
  for (let i = 0; i < n / 10; i++) f();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / n / 1000);
  }
  console.log(`node   ${label.padEnd(34)} ${best.toFixed(2).padStart(9)} us/login`);
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
  r(user, context, () => {});
});

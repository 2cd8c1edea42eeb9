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
ctx.login = login;
const script = new vm.Script('login()');
function time(label, n, f) {
  for (let i = 0; i < n / 10; i++) f();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  const us = Number(process.hrtime.bigint() - start) / n / 1000;
  console.log(`node   ${label.padEnd(34)} ${us.toFixed(2).padStart(9)} us/login`);
}
time('1 JS rule, direct call, no timeout', 20000, login);
time('1 JS rule, runInContext + timeout', 5000, () => script.runInContext(ctx, { timeout: 20000 }));
time('1 JS rule, fresh context', 300, () => {
  const c = vm.createContext({});
  const r = vm.runInContext('(' + ruleSrc + ')', c);
  const user = JSON.parse(userText), context = JSON.parse(ctxText);
  r(user, context, () => {});
});

// The allow/deny subset of examples/bench as Auth0-style JavaScript rules, run the way
// Auth0's sandbox ran them: inside a `vm` context, one rule after the other, each finishing
// with `callback`. Measured three ways over the same 1,000 logins warden uses:
//   direct   - rule functions taken out of the context and called directly (no time limit)
//   timeout  - one `runInContext` per login with a `timeout` (how Node bounds a call)
//   fresh    - a fresh context per login (isolation between logins)
// Before timing, each way's decision on every login (allow, or deny with the OAuth code and
// the rule) is compared with warden's (DECISIONS, written by peer_inputs): a difference exits
// with status 1.
// Usage: node bench/peers/node-vm.js LOGINS.json BLOCKED.txt DECISIONS.json
'use strict';
const fs = require('fs');
const vm = require('vm');

const logins = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const blocked = fs.readFileSync(process.argv[3], 'utf8').split('\n').map(l => l.trim()).filter(l => l && !l.startsWith('#'));
const warden = JSON.parse(fs.readFileSync(process.argv[4], 'utf8'));
const NOW = 1764158400000;
// warden's rule names, for the functions below.
const NAMES = {
  blockedAddresses: 'blocked addresses',
  blockedNetworks: 'blocked networks',
  verifiedEmail: 'verified email for database users',
  noResourceOwner: 'no resource owner endpoint',
  adminDomains: 'admin console for company domains',
  payroll: 'payroll from the office on weekdays',
};

const rules = `
const blocked = new Set(BLOCKED);
function inCidr4(ip, base, bits) {
  const p = ip.split('.').map(Number), b = base.split('.').map(Number);
  if (p.length !== 4 || p.some(x => !(x >= 0 && x <= 255))) return false;
  const n = ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
  const m = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (n & mask) === (m & mask);
}
function v4(ip) { return ip.startsWith('::ffff:') ? ip.slice(7) : ip; }
const RULES = [
  function blockedAddresses(user, context, callback) {
    if (blocked.has(String(user.email || '').toLowerCase())) return callback(new UnauthorizedError('This account is blocked.'));
    callback(null, user, context);
  },
  function blockedNetworks(user, context, callback) {
    const ip = v4(context.request.ip);
    if (inCidr4(ip, '203.0.113.0', 24) || inCidr4(ip, '198.51.100.0', 24) || ip === '192.0.2.66' || context.request.ip.toLowerCase().startsWith('2001:db8:bad:'))
      return callback(new Error('Access denied from this network.'));
    callback(null, user, context);
  },
  function verifiedEmail(user, context, callback) {
    if (context.connectionStrategy === 'auth0' && !user.email_verified)
      return callback(new UnauthorizedError('Please verify your email before logging in.'));
    callback(null, user, context);
  },
  function noResourceOwner(user, context, callback) {
    if (context.protocol === 'oauth2-resource-owner') return callback(new UnauthorizedError('The resource owner endpoint cannot be used.'));
    callback(null, user, context);
  },
  function adminDomains(user, context, callback) {
    if (context.clientName === 'Admin Console') {
      const email = user.email || '';
      const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
      if (email.indexOf('@') < 0 || !['example.com', 'example.org', 'corp.example.net'].includes(domain))
        return callback(new UnauthorizedError('Access denied.'));
    }
    callback(null, user, context);
  },
  function payroll(user, context, callback) {
    if (context.clientName === 'Payroll') {
      const ip = v4(context.request.ip);
      const office = inCidr4(ip, '10.0.0.0', 8) || inCidr4(ip, '172.16.0.0', 12) || ip.toLowerCase().startsWith('2001:db8:10:');
      if (!office) return callback(new UnauthorizedError('Payroll is available from the office only.'));
      const day = new Date(NOW).getUTCDay();
      if (day === 0 || day === 6) return callback(new UnauthorizedError('Payroll is closed at weekends.'));
    }
    callback(null, user, context);
  },
];
function runPipeline(user, context) {
  let result = null;
  for (const rule of RULES) {
    let done = false;
    rule(user, context, (err, u, c) => { done = true; if (err) result = err; else { user = u || user; context = c || context; } });
    if (result) return { decision: 'deny', rule: rule.name, code: result.code || 'access_denied', description: result.message };
  }
  return { decision: 'allow', user };
}
`;

class UnauthorizedError extends Error { constructor(m) { super(m); this.code = 'unauthorized'; } }
function makeContext() {
  const ctx = vm.createContext({ BLOCKED: blocked, NOW, UnauthorizedError, Error, Set, Date, String, Number });
  vm.runInContext(rules, ctx);
  return ctx;
}

// A result in warden's words: `allow`, or `deny CODE by RULE`.
function decision(r) {
  return r.decision === 'allow' ? 'allow' : `deny ${r.code} by ${NAMES[r.rule] || r.rule}`;
}

function time(label, rounds, f) {
  // Warm up, and check every decision against warden's before timing.
  const wrong = [];
  for (let i = 0; i < logins.length; i++) {
    const d = decision(f(logins[i]));
    if (d !== warden[i]) wrong.push(`login ${i}: warden ${warden[i]}, node ${d}`);
  }
  if (wrong.length > 0) {
    console.error(`node vm ${label}: ${wrong.length} of ${logins.length} decisions differ from warden's:\n  ${wrong.slice(0, 10).join('\n  ')}`);
    process.exit(1);
  }
  const start = process.hrtime.bigint();
  let denied = 0;
  for (let r = 0; r < rounds; r++) for (let i = 0; i < logins.length; i++) if (f(logins[i]).decision === 'deny') denied++;
  const ns = Number(process.hrtime.bigint() - start) / (rounds * logins.length);
  console.log(`node   vm ${label.padEnd(22)} ${ns.toFixed(0).padStart(8)} ns/login (${denied / rounds} denied per round)`);
}

const ctx = makeContext();
const run = ctx.runPipeline;
time('direct', 200, l => run(l.user, l.context));
const script = new vm.Script('runPipeline(LOGIN.user, LOGIN.context)');
time('runInContext+timeout', 20, l => { ctx.LOGIN = l; return script.runInContext(ctx, { timeout: 1000 }); });
time('fresh context', 1, l => { const c = makeContext(); c.LOGIN = l; return script.runInContext(c); });

// The hand-written alternative to `warden serve` that bench/serve/run.sh measures it against:
// a Node 20 HTTP server (no npm dependencies: `http`, `vm`, `fs`, `cluster`) that runs a
// pipeline's rules as Auth0-style functions `function (user, context, callback)` inside a `vm`
// context, with one `runInContext` per login carrying a `timeout` (the way Node bounds code it
// runs; ../../peers/node-vm.js and BENCHMARKS.md measure what that costs per call).
//
//   node bench/serve/node/server.js --pipeline quickstart|bench|mixed-legacy \
//       [--listen 127.0.0.1:0] [--cluster N] [--timeout-ms MS]
//
// Writes `listening on http://HOST:PORT` as the first line of stdout (as `warden serve` does);
// everything else goes to stderr. One process by default (Node runs JavaScript on one
// thread); `--cluster N` forks N worker processes sharing the port (node:cluster, the
// primary hands connections round-robin), `--cluster 0` one per CPU.
//
// Endpoints: POST /v1/login and POST /v1/pipelines/{name}/login (name: `default` or the
// pipeline's) with `{"user": {...}, "context": {...}, "now": "RFC 3339" (optional)}`, answered
// 200 with an outcome shaped like warden's (docs/outcome.md: decision, error {code,
// description, rule, cause}, user, id_token, access_token, scope, multifactor, redirect,
// effects, logs) whatever the decision; 400 for a body that is not such JSON; GET /health and
// /ready. SIGTERM closes the listener, finishes the requests in flight and exits 0.
//
// The pipelines are bench/serve/node/pipelines/*.js (translations of the examples' `.rule`
// files; mixed-legacy also runs the example's own legacy `.js` rules, unmodified), with the
// configuration, list files and `[modules]` of each example's warden.toml.
'use strict';
const cluster = require('cluster');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const vm = require('vm');

const ROOT = path.resolve(__dirname, '../../..');
const MAX_BODY = 4 * 1024 * 1024;

// Each pipeline: its rules (pipelines/NAME.js), the example whose warden.toml gives the
// configuration, time limit and [modules], and the example's list files the rules read
// (as `LISTS.key` inside the context).
const PIPELINES = {
  quickstart: { example: 'examples/quickstart', lists: { suspended: 'rules/lists/suspended-emails.txt' } },
  bench: { example: 'examples/bench', lists: { blockedEmails: 'lists/blocked-emails.txt', blockedNetworks: 'lists/blocked-networks.txt' } },
  'mixed-legacy': { example: 'examples/mixed-legacy', lists: {} },
};

function usage(message) {
  process.stderr.write(`server.js: ${message}\nusage: node server.js --pipeline quickstart|bench|mixed-legacy [--listen HOST:PORT] [--cluster N] [--timeout-ms MS]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { pipeline: null, listen: '127.0.0.1:0', cluster: null, timeoutMs: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--pipeline') opts.pipeline = value();
    else if (a === '--listen') opts.listen = value();
    else if (a === '--cluster') opts.cluster = Number(value());
    else if (a === '--timeout-ms') opts.timeoutMs = Number(value());
    else usage(`unknown argument ${a}`);
  }
  if (!opts.pipeline) usage('--pipeline is required');
  if (!Object.prototype.hasOwnProperty.call(PIPELINES, opts.pipeline)) usage(`no pipeline ${opts.pipeline}: ${Object.keys(PIPELINES).join(', ')}`);
  const m = /^(.*):(\d+)$/.exec(opts.listen);
  if (!m) usage(`--listen ${opts.listen}: HOST:PORT`);
  opts.host = m[1].replace(/^\[(.*)\]$/, '$1');
  opts.port = Number(m[2]);
  if (opts.cluster !== null && !(Number.isInteger(opts.cluster) && opts.cluster >= 0)) usage('--cluster N: a whole number');
  if (opts.timeoutMs !== null && !(opts.timeoutMs > 0)) usage('--timeout-ms MS: a positive number');
  return opts;
}

// ---------------------------------------------------------------------------------------------
// The example's warden.toml: only what this server needs ([pipeline] timeout_ms,
// [configuration] and [modules], as `KEY = "value"` lines), read with a few regular expressions
// so that the configuration is the example's own.

function readManifest(file) {
  const out = { configuration: {}, modules: {}, timeoutMs: 20000 };
  let section = '';
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/^\s+|\s+$/g, '');
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1].trim();
      continue;
    }
    const kv = /^([A-Za-z0-9_."-]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) continue;
    const key = kv[1].replace(/^"(.*)"$/, '$1');
    const str = /^"((?:[^"\\]|\\.)*)"$/.exec(kv[2]);
    if (section === 'pipeline' && key === 'timeout_ms') out.timeoutMs = Number(kv[2]);
    else if (section === 'configuration' && str) out.configuration[key] = JSON.parse(`"${str[1]}"`);
    else if (section === 'modules' && str) out.modules[key] = JSON.parse(`"${str[1]}"`);
  }
  return out;
}

// A list file as warden reads one: one entry a line, trimmed; blank lines and `#` lines skipped.
function readList(file) {
  return fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

// ---------------------------------------------------------------------------------------------
// The sandbox: what Auth0's rule runtime gave rules (`configuration`, `auth0`, `console`,
// `UnauthorizedError`, `require` of vendored modules), and the loop that runs the rules in
// order, each ending with `callback`. All of it is compiled inside the context, so that the
// rules, their promises and the runner share the context's built-ins and its microtask
// queue: with `microtaskMode: 'afterEvaluate'`, promise jobs run before `runInContext`
// returns, inside its `timeout`.

const PRELUDE = String.raw`
(function (global) {
  class UnauthorizedError extends Error {
    constructor(message) {
      super(message);
      this.name = 'UnauthorizedError';
      this.code = 'unauthorized';
      this.description = message;
      this.statusCode = 401;
    }
  }
  let state = null; // the login being run
  function format(v) {
    if (typeof v === 'string') return v;
    try { return JSON.stringify(v); } catch (e) { return String(v); }
  }
  function logger(level) {
    return function () {
      if (state && state.logs.length < 256) {
        state.logs.push({ rule: state.rule, level: level, message: Array.prototype.map.call(arguments, format).join(' ') });
      }
    };
  }
  const console = { log: logger('log'), info: logger('info'), warn: logger('warn'), error: logger('error'), debug: logger('debug') };
  function metadata(kind) {
    return function (userId, patch, cb) {
      let p;
      if (typeof userId !== 'string' || userId === '') {
        p = Promise.reject(new Error('cannot update metadata of a user without user_id'));
      } else {
        if (state) state.effects.push({ kind: kind, user_id: userId, patch: JSON.parse(JSON.stringify(patch || {})) });
        p = Promise.resolve();
      }
      if (typeof cb === 'function') p.then(function () { cb(null); }, cb);
      return p;
    };
  }
  const auth0 = {
    domain: 'tenant.example', baseUrl: 'https://tenant.example/api/v2', accessToken: '',
    users: { updateAppMetadata: metadata('update_app_metadata'), updateUserMetadata: metadata('update_user_metadata') },
  };

  // The scopes the host asked for, as warden starts its scope set: context.accessToken.scope,
  // else request.body.scope, else request.query.scope; strings split on white space.
  function scopeList(s) {
    if (typeof s === 'string') return s.split(/\s+/).filter(Boolean);
    if (Array.isArray(s)) return [].concat.apply([], s.map(scopeList));
    return null;
  }
  function uniq(list) {
    const out = [];
    for (const s of list) if (out.indexOf(s) < 0) out.push(s);
    return out;
  }
  function currentScopes(context) {
    const at = context.accessToken && scopeList(context.accessToken.scope);
    const req = context.request || {};
    return uniq(at || scopeList((req.body || {}).scope) || scopeList((req.query || {}).scope) || []);
  }
  function claims(token, skipScope) {
    const out = {};
    if (token && typeof token === 'object') {
      for (const k of Object.keys(token)) if (!(skipScope && k === 'scope') && token[k] !== undefined && token[k] !== null) out[k] = token[k];
    }
    return out;
  }
  const NON_INTERACTIVE = ['oauth2-password', 'oauth2-resource-owner', 'oauth2-refresh-token'];

  function errorInfo(err, rule, cause) {
    const code = err && err.code === 'unauthorized' ? 'unauthorized' : 'access_denied';
    let description = err && typeof err === 'object' ? err.message : String(err);
    if (typeof description !== 'string' || description === '') description = 'Access denied.';
    return { code: code, description: description, rule: rule, cause: cause };
  }

  // Runs the rules over one login; the outcome is left in holder.outcome, synchronously or
  // from promise jobs (which the context runs before runInContext returns).
  function run(rules, body, now) {
    let user = body.user;
    let context = body.context;
    const holder = { outcome: null };
    state = { now: now, rule: null, logs: [], effects: [], mfaRule: null, redirectRule: null };
    const login = state;
    if (!context.idToken || typeof context.idToken !== 'object') context.idToken = {};
    if (!context.accessToken || typeof context.accessToken !== 'object') context.accessToken = {};
    const startScope = context.accessToken.scope;

    function deny(error) {
      holder.outcome = { decision: 'deny', error: error, effects: login.effects, logs: login.logs };
      state = null;
    }
    function finish() {
      const protocol = context.protocol;
      const query = (context.request || {}).query || {};
      if (protocol === 'redirect-callback') context.redirect = undefined;
      const asked = context.multifactor ? ['multi-factor authentication', login.mfaRule] : context.redirect ? ['a redirect', login.redirectRule] : null;
      const reason = NON_INTERACTIVE.indexOf(protocol) >= 0 ? 'protocol "' + protocol + '"' : query.prompt === 'none' ? 'prompt=none' : null;
      if (asked && reason) {
        return deny({ code: 'interaction_required', description: asked[0] + ' requires user interaction, which is not possible on this flow (' + reason + ')', rule: asked[1], cause: 'denied' });
      }
      const scope = context.accessToken.scope;
      holder.outcome = {
        decision: 'allow',
        error: null,
        user: user,
        id_token: claims(context.idToken, false),
        access_token: claims(context.accessToken, true),
        scope: scope === startScope ? null : uniq(scopeList(scope) || []),
        multifactor: context.multifactor || null,
        redirect: context.redirect ? { url: context.redirect.url } : null,
        effects: login.effects,
        logs: login.logs,
      };
      state = null;
    }
    function step(i) {
      if (i === rules.length) return finish();
      const rule = rules[i];
      login.rule = rule.name;
      const mfaBefore = context.multifactor;
      const redirectBefore = context.redirect;
      let called = false;
      try {
        rule.fn(user, context, function (err, u, c) {
          if (called) return;
          called = true;
          if (err) return deny(errorInfo(err, rule.name, 'denied'));
          if (u && typeof u === 'object') user = u;
          if (c && typeof c === 'object') context = c;
          if (context.multifactor !== mfaBefore) login.mfaRule = rule.name;
          if (context.redirect !== redirectBefore) login.redirectRule = rule.name;
          step(i + 1);
        });
      } catch (e) {
        if (!called) {
          called = true;
          deny(errorInfo(e, rule.name, 'rule_error'));
        }
      }
    }
    step(0);
    return holder;
  }

  global.UnauthorizedError = UnauthorizedError;
  global.console = console;
  global.auth0 = auth0;
  global.currentScopes = currentScopes;
  global.loginTime = function () { return state ? state.now : Date.now(); };
  global.__run = run;
  global.__pending = function () { return state && state.rule; };
})(this);
`;

function loadPipeline(name, timeoutOverride) {
  const spec = PIPELINES[name];
  const exampleDir = path.join(ROOT, spec.example);
  const manifest = readManifest(path.join(exampleDir, 'warden.toml'));
  const lists = {};
  for (const [key, file] of Object.entries(spec.lists || {})) lists[key] = readList(path.join(exampleDir, file));

  const sandbox = { configuration: Object.freeze({ ...manifest.configuration }), LISTS: lists };
  const ctx = vm.createContext(sandbox, { name: `pipeline ${name}`, microtaskMode: 'afterEvaluate' });
  vm.runInContext(PRELUDE, ctx, { filename: 'prelude.js' });

  // CommonJS modules of the manifest's [modules], compiled in the context, loaded on first
  // require (as Auth0's sandbox and warden do).
  const moduleCache = {};
  const requireFn = function (id) {
    const bare = String(id).replace(/@[^@/]*$/, '');
    if (Object.prototype.hasOwnProperty.call(moduleCache, bare)) return moduleCache[bare].exports;
    const file = manifest.modules[bare];
    if (!file) throw new Error(`Cannot find module '${id}'`);
    const module = { exports: {} };
    moduleCache[bare] = module;
    const wrapper = vm.runInContext(`(function (module, exports, require) {\n${fs.readFileSync(path.join(exampleDir, file), 'utf8')}\n})`, ctx, { filename: file, lineOffset: -1 });
    wrapper(module, module.exports, requireFn);
    return module.exports;
  };
  ctx.require = requireFn;

  // The pipeline file, compiled in the context as a CommonJS module that exports the rules.
  const file = path.join(__dirname, 'pipelines', `${name}.js`);
  const module = { exports: null };
  vm.runInContext(`(function (module) {\n${fs.readFileSync(file, 'utf8')}\n})`, ctx, { filename: file, lineOffset: -1 })(module);
  const rules = module.exports.map((r) => {
    if (r.legacy) {
      // A legacy rule file exactly as the Auth0 dashboard stored it: one function expression.
      const src = fs.readFileSync(path.join(exampleDir, r.legacy), 'utf8');
      const fn = vm.runInContext(`(${src}\n)`, ctx, { filename: r.legacy });
      return { name: r.name || fn.name || path.basename(r.legacy, '.js'), fn };
    }
    return r;
  });
  ctx.__rules = rules;
  const timeout = timeoutOverride || manifest.timeoutMs;
  const script = new vm.Script('__run(__rules, __body, __nowMs)', { filename: 'login.js' });
  return { name, ctx, script, timeout, rules: rules.map((r) => r.name) };
}

class BadRequest extends Error {}

function decide(pipeline, body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new BadRequest('the body must be a JSON object');
  const { user, context } = body;
  if (!user || typeof user !== 'object' || Array.isArray(user)) throw new BadRequest('`user` must be an object');
  if (!context || typeof context !== 'object' || Array.isArray(context)) throw new BadRequest('`context` must be an object');
  let now = Date.now();
  if (body.now !== undefined) {
    now = typeof body.now === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i.test(body.now) ? Date.parse(body.now) : NaN;
    if (!Number.isFinite(now)) throw new BadRequest('`now` must be an RFC 3339 date-time with an offset');
  }
  const ctx = pipeline.ctx;
  ctx.__body = body;
  ctx.__nowMs = now;
  let holder;
  try {
    holder = pipeline.script.runInContext(ctx, { timeout: pipeline.timeout });
  } catch (e) {
    // The watchdog stopped the login (ERR_SCRIPT_EXECUTION_TIMEOUT), or the runner itself
    // failed; either way the login is denied.
    const timedOut = e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
    const rule = ctx.__pending() || null;
    return { decision: 'deny', error: { code: 'access_denied', description: timedOut ? 'the pipeline took longer than its time limit' : String(e && e.message), rule, cause: timedOut ? 'timeout' : 'rule_error' }, effects: [], logs: [] };
  } finally {
    ctx.__body = null;
  }
  if (holder && holder.outcome) return holder.outcome;
  // A rule that never called back: in Auth0 the login waits for the time limit.
  return { decision: 'deny', error: { code: 'access_denied', description: 'a rule did not call back', rule: ctx.__pending() || null, cause: 'timeout' }, effects: [], logs: [] };
}

function serve(opts, onListening) {
  const pipeline = loadPipeline(opts.pipeline, opts.timeoutMs);
  const loginPaths = new Set(['/v1/login', '/v1/pipelines/default/login', `/v1/pipelines/${pipeline.name}/login`]);
  const server = http.createServer((req, res) => {
    const send = (status, obj) => {
      const text = JSON.stringify(obj);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const url = req.url.split('?')[0];
    if (req.method === 'GET' && (url === '/health' || url === '/ready')) return send(200, { status: 'ok', pipeline: pipeline.name });
    if (!loginPaths.has(url)) return send(404, { error: 'not found' });
    if (req.method !== 'POST') return send(405, { error: 'POST only' });
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        send(413, { error: 'the body is larger than 4 MiB' });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        return send(400, { error: `malformed JSON: ${e.message}` });
      }
      let outcome;
      try {
        outcome = decide(pipeline, body);
      } catch (e) {
        if (e instanceof BadRequest) return send(400, { error: e.message });
        throw e;
      }
      send(200, outcome);
    });
  });
  // Keep-alive: connections stay open between requests (load generators and identity
  // stacks reuse them); idle ones close after 65 s.
  server.keepAliveTimeout = 65000;
  server.headersTimeout = 66000;
  server.listen(opts.port, opts.host, () => onListening(server));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  return server;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const announce = (address) => {
    const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
    process.stdout.write(`listening on http://${host}:${address.port}\n`);
  };
  if (opts.cluster === null) {
    serve(opts, (server) => {
      announce(server.address());
      process.stderr.write(`node ${process.version}: pipeline ${opts.pipeline}, one process (pid ${process.pid})\n`);
    });
    return;
  }
  if (cluster.isPrimary) {
    const n = opts.cluster === 0 ? os.availableParallelism() : opts.cluster;
    let listening = 0;
    let stopping = false;
    cluster.on('listening', (worker, address) => {
      listening++;
      // Workers that listen on port 0 share one port (the primary's), so any worker's
      // address is the server's.
      if (listening === n) {
        announce({ address: address.address || opts.host, port: address.port, family: address.addressType === 6 ? 'IPv6' : 'IPv4' });
        process.stderr.write(`node ${process.version}: pipeline ${opts.pipeline}, cluster of ${n} workers\n`);
      }
    });
    cluster.on('exit', (worker, code, signal) => {
      if (!stopping) {
        process.stderr.write(`worker ${worker.process.pid} exited (${signal || code}); stopping\n`);
        process.exit(1);
      }
    });
    process.on('SIGTERM', () => {
      stopping = true;
      for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
      let left = Object.keys(cluster.workers).length;
      if (left === 0) process.exit(0);
      cluster.on('exit', () => {
        if (--left === 0) process.exit(0);
      });
    });
    for (let i = 0; i < n; i++) cluster.fork();
  } else {
    serve(opts, () => {});
  }
}

if (require.main === module) main();
module.exports = { loadPipeline, decide, readManifest, readList };

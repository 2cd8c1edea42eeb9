// The host side of a legacy Auth0 rule, written in JavaScript inside the sandbox: the
// callback contract, UnauthorizedError, console, timers on a virtual clock, `global`,
// `configuration`, `auth0.users.update*Metadata`, and `require` of built-in modules.
// Rust drives it through `__warden` (see runtime/js/src/lib.rs) and exchanges JSON only.
(function (CONFIG_JSON, AUTH0_JSON) {
  'use strict';
  const G = globalThis;
  const MAX_LOG = 4096;

  class AuthorizationError extends Error {}
  class UnauthorizedError extends AuthorizationError {
    constructor(message) {
      super(message);
      this.name = 'UnauthorizedError';
      this.code = 'unauthorized';
      this.description = message;
      this.statusCode = 401;
    }
  }

  let run = null; // the state of the current execution

  function text(v) {
    if (typeof v === 'string') return v;
    try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); }
  }

  const console = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    console[level] = function (...args) {
      if (run && run.logs.length < 256) run.logs.push({ level, message: args.map(text).join(' ').slice(0, MAX_LOG) });
    };
  }

  // Timers run on a virtual clock: waiting costs no real time, and a timer due after the
  // pipeline's budget never fires (the rule then times out).
  let clock = 0, seq = 0;
  const timers = new Map();
  function setTimeout(fn, ms, ...args) {
    const id = ++seq;
    timers.set(id, { at: clock + Math.max(0, Number(ms) || 0), fn, args, every: 0 });
    return id;
  }
  function setInterval(fn, ms, ...args) {
    const id = ++seq;
    const every = Math.max(1, Number(ms) || 0);
    timers.set(id, { at: clock + every, fn, args, every });
    return id;
  }
  function clearTimeout(id) { timers.delete(id); }
  function setImmediate(fn, ...args) { return setTimeout(fn, 0, ...args); }

  function checkPatch(md) {
    if (md === null || typeof md !== 'object' || Array.isArray(md)) return 'metadata must be an object';
    for (const k of Object.keys(md)) {
      if (k === '' || k.includes('.') || k.includes('$')) return 'metadata keys cannot be empty or contain "." or "$": ' + JSON.stringify(k);
    }
    return null;
  }
  function updater(kind) {
    return function (id, md, cb) {
      const bad = checkPatch(md);
      let result;
      if (bad) {
        result = Promise.reject(new Error(bad));
      } else {
        if (run) run.effects.push({ kind, user_id: String(id), patch: JSON.parse(JSON.stringify(md)) });
        result = Promise.resolve();
      }
      if (typeof cb === 'function') {
        result.then(() => cb(null), (e) => cb(e));
        return undefined;
      }
      return result;
    };
  }
  const auth0Info = JSON.parse(AUTH0_JSON);
  const auth0 = Object.freeze({
    domain: auth0Info.domain,
    baseUrl: 'https://' + auth0Info.domain + '/api/v2',
    accessToken: auth0Info.accessToken,
    users: Object.freeze({ updateAppMetadata: updater('update_app_metadata'), updateUserMetadata: updater('update_user_metadata') }),
  });

  const querystring = Object.freeze({
    parse(s) {
      const out = {};
      for (const part of String(s || '').split('&')) {
        if (!part) continue;
        const i = part.indexOf('=');
        const k = decodeURIComponent((i < 0 ? part : part.slice(0, i)).replace(/\+/g, ' '));
        const v = i < 0 ? '' : decodeURIComponent(part.slice(i + 1).replace(/\+/g, ' '));
        if (k in out) out[k] = [].concat(out[k], v); else out[k] = v;
      }
      return out;
    },
    stringify(o) {
      return Object.keys(o || {}).map((k) => [].concat(o[k]).map((v) => encodeURIComponent(k) + '=' + encodeURIComponent(v)).join('&')).join('&');
    },
  });
  // Vendored modules (the manifest's [modules]) come first, then the built-in ones.
  const factories = {};
  const loaded = {};
  const builtins = { querystring };
  function require(name) {
    const n = String(name);
    const at = n.lastIndexOf('@');
    const base = at > 0 ? n.slice(0, at) : n; // `lodash@4.17.19` and `@scope/pkg@1.0` name a version
    if (Object.prototype.hasOwnProperty.call(loaded, base)) return loaded[base];
    if (Object.prototype.hasOwnProperty.call(factories, base)) {
      const module = { exports: {} };
      loaded[base] = module.exports;
      factories[base](module, module.exports, require);
      loaded[base] = module.exports;
      return module.exports;
    }
    if (Object.prototype.hasOwnProperty.call(builtins, base)) return builtins[base];
    throw new Error("Cannot find module '" + name + "'");
  }

  const configuration = Object.freeze(JSON.parse(CONFIG_JSON));
  const globalObject = {};

  Object.assign(G, {
    UnauthorizedError, console, setTimeout, setInterval, clearTimeout, clearInterval: clearTimeout, setImmediate,
    require, configuration, global: globalObject, auth0,
  });

  function errorOf(e) {
    if (typeof e === 'string') return { unauthorized: false, message: e };
    if (e && typeof e === 'object') {
      const unauthorized = e instanceof UnauthorizedError || e.code === 'unauthorized';
      const message = typeof e.message === 'string' ? e.message : (typeof e.description === 'string' ? e.description : text(e));
      return { unauthorized, message };
    }
    return { unauthorized: false, message: String(e) };
  }

  // Built-ins stay as they were: a rule may change them while it runs (legacy code does),
  // but every change is undone when its execution ends, so nothing leaks into the next
  // login. `global` is the one object meant to persist (as in Auth0's containers).
  const intrinsics = [Object, Object.prototype, Array, Array.prototype, Function.prototype, String,
    String.prototype, Number, Number.prototype, Boolean.prototype, Symbol, Symbol.prototype, Date, Date.prototype,
    RegExp, RegExp.prototype, Error, Error.prototype, TypeError.prototype, RangeError.prototype, Promise,
    Promise.prototype, Map.prototype, Set.prototype, WeakMap.prototype, WeakSet.prototype, JSON, Math, Reflect,
    UnauthorizedError.prototype, AuthorizationError.prototype];
  const snapshot = intrinsics.map((o) => [o, Object.getOwnPropertyDescriptors(o), Object.getPrototypeOf(o)]);
  const sameDescriptor = (a, b) => a && b && a.value === b.value && a.get === b.get && a.set === b.set &&
    a.writable === b.writable && a.enumerable === b.enumerable && a.configurable === b.configurable;
  // Returns false when a change cannot be undone (the runtime is then replaced).
  function restoreIntrinsics() {
    let ok = true;
    for (const [o, descriptors, proto] of snapshot) {
      try {
        if (Object.getPrototypeOf(o) !== proto) Object.setPrototypeOf(o, proto);
        for (const k of Reflect.ownKeys(o)) {
          if (!Object.prototype.hasOwnProperty.call(descriptors, k)) { if (!Reflect.deleteProperty(o, k)) ok = false; }
        }
        for (const k of Reflect.ownKeys(descriptors)) {
          if (!sameDescriptor(Object.getOwnPropertyDescriptor(o, k), descriptors[k])) {
            if (!Reflect.defineProperty(o, k, descriptors[k])) ok = false;
          }
        }
        if (!Object.isExtensible(o)) ok = false;
      } catch (e) { ok = false; }
    }
    return ok;
  }

  G.__warden = {
    rules: [],
    module(name, factory) { factories[name] = factory; },
    // Starts rule `i` on the given user and context (JSON text).
    begin(i, name, userJson, contextJson) {
      const user = JSON.parse(userJson), context = JSON.parse(contextJson);
      run = { name, status: 'pending', user, context, logs: [], effects: [], warnings: [], error: null };
      const state = run;
      const callback = function (err, u, c) {
        if (state.status !== 'pending') {
          state.warnings.push('callback called more than once in rule ' + name + '; later calls are ignored');
          return;
        }
        if (err) {
          state.status = 'denied';
          state.error = errorOf(err);
        } else {
          state.status = 'ok';
          if (u !== null && typeof u === 'object') state.user = u;
          if (c !== null && typeof c === 'object') state.context = c;
        }
      };
      try {
        const r = this.rules[i](state.user, state.context, callback);
        if (r && typeof r.then === 'function') {
          r.then(undefined, (e) => { if (state.status === 'pending') { state.status = 'threw'; state.error = errorOf(e); } });
        }
      } catch (e) {
        if (state.status === 'pending') { state.status = 'threw'; state.error = errorOf(e); }
        else state.warnings.push('rule ' + name + ' threw after calling back: ' + errorOf(e).message);
      }
    },
    settled() { return run === null || run.status !== 'pending'; },
    // Runs the next timer due within `budget` ms of virtual time; false when there is none.
    tick(budget) {
      let next = null;
      for (const [id, t] of timers) if (next === null || t.at < next[1].at) next = [id, t];
      if (next === null || next[1].at > budget) return false;
      const [id, t] = next;
      clock = t.at;
      if (t.every) t.at = clock + t.every; else timers.delete(id);
      try { t.fn(...t.args); } catch (e) {
        if (run && run.status === 'pending') { run.status = 'threw'; run.error = errorOf(e); }
      }
      return true;
    },
    // The execution's result as JSON text (`undefined` values dropped, dates as ISO strings).
    finish() {
      const r = run;
      run = null;
      timers.clear();
      clock = 0;
      let out;
      try {
        out = JSON.stringify({
          status: r.status, error: r.error, user: r.user, context: r.context,
          logs: r.logs, effects: r.effects, warnings: r.warnings, clean: true,
        });
      } catch (e) {
        out = JSON.stringify({ status: 'threw', error: { unauthorized: false, message: 'the rule left objects that are not JSON: ' + errorOf(e).message }, logs: [], effects: [], warnings: [], clean: true });
      }
      if (!restoreIntrinsics()) out = out.slice(0, -'true}'.length) + 'false}';
      return out;
    },
  };
});

// The host side of a legacy Auth0 rule, written in JavaScript inside the sandbox: the
// callback contract, UnauthorizedError, console, timers on a virtual clock that `Date`
// follows from the login's time, the global object between logins, `global`,
// `configuration`, `auth0.users.update*Metadata`, and `require` of built-in modules.
// Rust drives it through `__warden` (see runtime/js/src/sandbox.rs): inputs as JSON text,
// results as plain objects Rust reads with JSON's rules (marshal.rs).
// CONFIG_JSON: the configuration while the runtime loads; each login then brings its own
// (`__warden.configure`).
(function (CONFIG_JSON, HTTP) {
  'use strict';
  const G = globalThis;
  // The originals, before the lockdown wraps them for the global object (see
  // `guardGlobalObject`): what the prelude itself calls.
  const rawFreeze = Object.freeze, rawDefine = Reflect.defineProperty;
  // Log messages are cut by Rust (`Txn::log`: at most 4096 bytes with the `…` marker, on a
  // char boundary). The prelude only bounds what it hands over, keeping one UTF-16 unit more
  // than those bytes can hold, so that a longer message always reaches Rust longer than 4096
  // bytes and is cut there, once, with the marker.
  const MAX_LOG = 4097;

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

  // The current execution, in plain variables (in QuickJS, building an object of a dozen
  // fields per rule costs more than the rest of the bookkeeping): `current` is its number,
  // 0 when no rule is running. `logs`, `effects` and `warnings` are made on first use.
  let current = 0, executions = 0;
  let runName = '', runStatus = 'pending', runUser = null, runContext = null, runError = null;
  let runLogs = null, runEffects = null, runWarnings = null, runLast = false, runEnd = false, runBefore = null;
  function warn(message) {
    (runWarnings === null ? (runWarnings = []) : runWarnings).push(message);
  }
  // Ends the current execution as failed with `e`, unless it already has a result.
  function fail(e) {
    if (current !== 0 && runStatus === 'pending') { runStatus = 'threw'; runError = errorOf(e); }
  }

  function text(v) {
    if (typeof v === 'string') return v;
    try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); }
  }

  const console = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    console[level] = function (...args) {
      if (current === 0) return;
      if (runLogs === null) runLogs = [];
      if (runLogs.length < 256) runLogs.push({ level, message: args.map(text).join(' ').slice(0, MAX_LOG) });
    };
  }

  // Timers run on a virtual clock: waiting costs no real time, and a timer due after the
  // pipeline's budget never fires (the rule then times out).
  let clock = 0, seq = 0;
  const timers = new Map();
  // Outside a login (code a previous login left running) timers are not armed: they would
  // fire inside the next one.
  function setTimeout(fn, ms, ...args) {
    if (current === 0) return 0;
    const id = ++seq;
    timers.set(id, { at: clock + Math.max(0, Number(ms) || 0), fn, args, every: 0 });
    return id;
  }
  function setInterval(fn, ms, ...args) {
    if (current === 0) return 0;
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
      // Auth0's Management API refuses an update without a user id; so does `persist`.
      const bad = (typeof id !== 'string' || id === '')
        ? 'updating metadata needs the user\'s id, a non-empty string'
        : checkPatch(md);
      let result;
      if (bad) {
        result = Promise.reject(new Error(bad));
      } else {
        if (current !== 0) {
          (runEffects === null ? (runEffects = []) : runEffects).push({ kind, user_id: id, patch: JSON.parse(JSON.stringify(md)) });
        }
        result = Promise.resolve();
      }
      if (typeof cb === 'function') {
        result.then(() => cb(null), (e) => cb(e));
        return undefined;
      }
      return result;
    };
  }
  const users = Object.freeze({ updateAppMetadata: updater('update_app_metadata'), updateUserMetadata: updater('update_user_metadata') });

  // `require('auth0')`: the Management API client legacy rules build
  // (`new ManagementClient({ token: auth0.accessToken, domain: auth0.domain })`), mapped to
  // warden's metadata effects for the user logging in. What warden cannot honour (another
  // user, another endpoint) fails with an error that says so, never pretends.
  function answer(cb, err, value) {
    if (typeof cb === 'function') {
      Promise.resolve().then(() => cb(err, value));
      return undefined;
    }
    return err ? Promise.reject(err) : Promise.resolve(value);
  }
  function loginUserId() {
    return current !== 0 && runUser !== null && typeof runUser === 'object' && typeof runUser.user_id === 'string' ? runUser.user_id : null;
  }
  function idOf(params) {
    return params !== null && typeof params === 'object' ? params.id : params;
  }
  function notSelf(what, id) {
    const self = loginUserId();
    return new Error('auth0 ManagementClient.' + what + ' in warden reaches only the user logging in (' + JSON.stringify(self) + '), not ' + JSON.stringify(id));
  }
  function selfUpdater(what, kind) {
    const update = updater(kind);
    return function (params, metadata, cb) {
      const id = idOf(params);
      if (id !== loginUserId() || id === null) return answer(cb, notSelf(what, id));
      if (typeof cb === 'function') return update(id, metadata, (e) => cb(e || null, e ? undefined : { user_id: id }));
      return update(id, metadata).then(() => ({ user_id: id }));
    };
  }
  function unsupported(what) {
    return function () {
      const cb = arguments[arguments.length - 1];
      return answer(cb, new Error('auth0 ManagementClient.' + what + ' is not available in warden: only updateAppMetadata, updateUserMetadata and getUser, for the user logging in'));
    };
  }
  function getUser(params, cb) {
    const id = idOf(params);
    if (id !== loginUserId() || id === null) return answer(cb, notSelf('getUser', id));
    return answer(cb, null, JSON.parse(JSON.stringify(runUser)));
  }
  const managementUsers = {
    updateAppMetadata: selfUpdater('users.updateAppMetadata', 'update_app_metadata'),
    updateUserMetadata: selfUpdater('users.updateUserMetadata', 'update_user_metadata'),
    get: getUser,
  };
  for (const m of ['getAll', 'getByEmail', 'update', 'delete', 'create', 'link', 'unlink', 'getRoles', 'assignRoles', 'removeRoles', 'getPermissions', 'deleteMultifactorProvider', 'getEnrollments']) {
    managementUsers[m] = unsupported('users.' + m);
  }
  class ManagementClient {
    constructor(options) {
      if (options === null || typeof options !== 'object') throw new Error('ManagementClient needs options ({ domain, token } or client credentials)');
      this.users = managementUsers;
    }
  }
  Object.assign(ManagementClient.prototype, {
    updateAppMetadata: selfUpdater('updateAppMetadata', 'update_app_metadata'),
    updateUserMetadata: selfUpdater('updateUserMetadata', 'update_user_metadata'),
    getUser,
  });
  for (const m of ['getUsers', 'getUsersByEmail', 'updateUser', 'deleteUser', 'createUser', 'linkUsers', 'unlinkUsers', 'getUserRoles', 'assignRolestoUser', 'removeRolesFromUser', 'getUserPermissions', 'getClients', 'getClient', 'getConnections', 'getRoles', 'sendEmailVerification', 'createPasswordChangeTicket', 'getUserLogs', 'getGuardianEnrollments', 'deleteUserMultifactor', 'invalidateRememberBrowser']) {
    ManagementClient.prototype[m] = unsupported(m);
  }
  class AuthenticationClient {
    constructor() {
      throw new Error('auth0 AuthenticationClient is not available in warden (it calls Auth0\'s Authentication API)');
    }
  }
  const auth0Module = { ManagementClient, AuthenticationClient };
  // `configuration` and `auth0` are the current login's: the global bindings are getters of
  // these two, which `configure` replaces when a login's configuration differs from the
  // previous one's (both frozen; `auth0.domain` is the configuration's AUTH0_DOMAIN).
  let configuration = null, auth0 = null;
  function configure(json) {
    const config = JSON.parse(json);
    const domain = typeof config.AUTH0_DOMAIN === 'string' ? config.AUTH0_DOMAIN : 'tenant.example';
    configuration = rawFreeze(config);
    auth0 = rawFreeze({ domain, baseUrl: 'https://' + domain + '/api/v2', accessToken: '', users });
  }
  configure(CONFIG_JSON);

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

  // ---- Bytes, Buffer, TextEncoder ------------------------------------------------------
  const HOST_DIGEST = G.__host_digest, HOST_RANDOM = G.__host_random, HOST_URL = G.__host_url, HOST_HTTP = G.__host_http;
  delete G.__host_digest; delete G.__host_random; delete G.__host_url; delete G.__host_http;
  function utf8(str) {
    const out = [];
    for (const ch of String(str)) {
      let c = ch.codePointAt(0);
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return out;
  }
  function fromUtf8(bytes) {
    let s = '', i = 0;
    while (i < bytes.length) {
      const b = bytes[i];
      let c, n;
      if (b < 0x80) { c = b; n = 1; } else if (b < 0xe0) { c = b & 31; n = 2; } else if (b < 0xf0) { c = b & 15; n = 3; } else { c = b & 7; n = 4; }
      for (let k = 1; k < n; k++) c = (c << 6) | ((bytes[i + k] || 0) & 63);
      s += String.fromCodePoint(c);
      i += n;
    }
    return s;
  }
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  function toBase64(bytes) {
    let s = '';
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
      s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? B64[n & 63] : '=');
    }
    return s;
  }
  function fromBase64(str) {
    const clean = String(str).replace(/[^A-Za-z0-9+/_-]/g, '').replace(/-/g, '+').replace(/_/g, '/');
    const out = [];
    let buf = 0, bits = 0;
    for (const ch of clean) {
      buf = (buf << 6) | B64.indexOf(ch);
      bits += 6;
      if (bits >= 8) { bits -= 8; out.push((buf >> bits) & 255); }
    }
    return out;
  }
  const toHex = (bytes) => Array.from(bytes, (b) => (b < 16 ? '0' : '') + b.toString(16)).join('');
  const fromHex = (h) => { const out = []; for (let i = 0; i + 1 < h.length; i += 2) out.push(parseInt(h.slice(i, i + 2), 16)); return out; };
  class Buffer extends Uint8Array {
    static from(data, encoding) {
      if (typeof data === 'string') {
        const enc = String(encoding || 'utf8').toLowerCase();
        const bytes = enc === 'base64' || enc === 'base64url' ? fromBase64(data) : enc === 'hex' ? fromHex(data) : utf8(data);
        return new Buffer(bytes);
      }
      return new Buffer(Array.from(data || []));
    }
    static isBuffer(b) { return b instanceof Buffer; }
    static concat(list) { return new Buffer(list.flatMap((b) => Array.from(b))); }
    toString(encoding) {
      const enc = String(encoding || 'utf8').toLowerCase();
      if (enc === 'base64') return toBase64(this);
      if (enc === 'base64url') return toBase64(this).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      if (enc === 'hex') return toHex(this);
      return fromUtf8(this);
    }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
  }
  class TextEncoder { get encoding() { return 'utf-8'; } encode(s) { return new Uint8Array(utf8(s === undefined ? '' : s)); } }
  class TextDecoder { decode(b) { return fromUtf8(Array.from(b || [])); } }
  const bytesOf = (d, enc) => (d instanceof Uint8Array ? Array.from(d) : Array.from(Buffer.from(String(d), enc)));

  // ---- crypto ---------------------------------------------------------------------------
  function hashObject(alg, key) {
    let data = [];
    return {
      update(d, enc) { data = data.concat(bytesOf(d, enc)); return this; },
      digest(enc) {
        const hex = HOST_DIGEST(String(alg), key ? toHex(key) : '', toHex(data));
        if (hex == null) throw new Error('Digest method not supported: ' + alg);
        const out = Buffer.from(hex, 'hex');
        return enc ? out.toString(enc) : out;
      },
    };
  }
  const crypto = Object.freeze({
    createHash(alg) { return hashObject(alg, null); },
    createHmac(alg, key) {
      const k = bytesOf(key);
      return hashObject(alg, k.length ? k : [0]);
    },
    randomBytes(n) {
      const hex = HOST_RANDOM(Number(n));
      if (hex == null) throw new RangeError('randomBytes: bad size');
      return Buffer.from(hex, 'hex');
    },
    timingSafeEqual(a, b) {
      if (a.length !== b.length) throw new RangeError('Input buffers must have the same byte length');
      let diff = 0;
      for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
      return diff === 0;
    },
  });

  // ---- URL, URLSearchParams, url --------------------------------------------------------
  class URLSearchParams {
    constructor(init) {
      this._list = [];
      if (typeof init === 'string') {
        for (const part of init.replace(/^\?/, '').split('&')) {
          if (!part) continue;
          const i = part.indexOf('=');
          const dec = (x) => decodeURIComponent(x.replace(/\+/g, ' '));
          this._list.push([dec(i < 0 ? part : part.slice(0, i)), i < 0 ? '' : dec(part.slice(i + 1))]);
        }
      } else if (init && typeof init === 'object') {
        for (const [k, v] of Array.isArray(init) ? init : Object.entries(init)) this._list.push([String(k), String(v)]);
      }
    }
    append(k, v) { this._list.push([String(k), String(v)]); this._sync(); }
    delete(k) { this._list = this._list.filter(([x]) => x !== String(k)); this._sync(); }
    get(k) { const e = this._list.find(([x]) => x === String(k)); return e ? e[1] : null; }
    getAll(k) { return this._list.filter(([x]) => x === String(k)).map(([, v]) => v); }
    has(k) { return this._list.some(([x]) => x === String(k)); }
    set(k, v) {
      const key = String(k);
      const i = this._list.findIndex(([x]) => x === key);
      if (i < 0) this._list.push([key, String(v)]);
      else { this._list[i] = [key, String(v)]; this._list = this._list.filter(([x], j) => x !== key || j === i); }
      this._sync();
    }
    forEach(f) { for (const [k, v] of this._list) f(v, k, this); }
    entries() { return this._list.map((e) => e.slice())[Symbol.iterator](); }
    keys() { return this._list.map(([k]) => k)[Symbol.iterator](); }
    values() { return this._list.map(([, v]) => v)[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    toString() {
      const enc = (x) => encodeURIComponent(x).replace(/%20/g, '+');
      return this._list.map(([k, v]) => enc(k) + '=' + enc(v)).join('&');
    }
    _sync() { if (this._url) { const s = this.toString(); this._url._parts.search = s ? '?' + s : ''; } }
  }
  class URL {
    constructor(input, base) {
      const json = HOST_URL(String(input), base === undefined ? '' : String(base));
      if (json == null) throw new TypeError('Invalid URL: ' + input);
      this._parts = JSON.parse(json);
      this.searchParams = new URLSearchParams(this._parts.search);
      this.searchParams._url = this;
    }
    get href() {
      const p = this._parts;
      const auth = p.username ? p.username + (p.password ? ':' + p.password : '') + '@' : '';
      return p.protocol + (p.host || p.protocol === 'file:' ? '//' : '') + auth + p.host + p.pathname + p.search + p.hash;
    }
    get protocol() { return this._parts.protocol; }
    get host() { return this._parts.host; }
    get hostname() { return this._parts.hostname; }
    get port() { return this._parts.port; }
    get pathname() { return this._parts.pathname; }
    get search() { return this._parts.search; }
    set search(s) { this._parts.search = s ? (String(s).startsWith('?') ? String(s) : '?' + s) : ''; this.searchParams = new URLSearchParams(this._parts.search); this.searchParams._url = this; }
    get hash() { return this._parts.hash; }
    get origin() { return this._parts.origin; }
    get username() { return this._parts.username; }
    get password() { return this._parts.password; }
    toString() { return this.href; }
    toJSON() { return this.href; }
  }
  const url = Object.freeze({
    URL, URLSearchParams,
    parse(str, parseQuery) {
      let u;
      try { u = new URL(str); } catch (e) { u = null; }
      if (!u) {
        const [pathAndQuery, hash = ''] = String(str).split('#');
        const [pathname, query = null] = pathAndQuery.split('?');
        return { protocol: null, host: null, hostname: null, port: null, pathname, search: query === null ? null : '?' + query,
          query: parseQuery ? querystring.parse(query || '') : query, hash: hash ? '#' + hash : null, href: String(str) };
      }
      const q = u.search ? u.search.slice(1) : null;
      return { protocol: u.protocol, slashes: true, auth: u.username ? u.username + (u.password ? ':' + u.password : '') : null,
        host: u.host, port: u.port || null, hostname: u.hostname, hash: u.hash || null, search: u.search || null,
        query: parseQuery ? querystring.parse(q || '') : q, pathname: u.pathname, path: u.pathname + (u.search || ''), href: u.href };
    },
    format(o) {
      if (o instanceof URL) return o.href;
      const proto = o.protocol ? (o.protocol.endsWith(':') ? o.protocol : o.protocol + ':') : '';
      const host = o.host || (o.hostname ? o.hostname + (o.port ? ':' + o.port : '') : '');
      let search = o.search || '';
      if (!search && o.query && typeof o.query === 'object') { const q = querystring.stringify(o.query); search = q ? '?' + q : ''; }
      else if (!search && typeof o.query === 'string' && o.query) search = '?' + o.query;
      return proto + (host ? '//' : '') + (o.auth ? o.auth + '@' : '') + host + (o.pathname || '') + search + (o.hash || '');
    },
  });

  // Vendored modules (the manifest's [modules]) come first, then the built-in ones.
  const factories = {};
  const loaded = {};
  // HTTP (http.js, over runtime/js/src/net.rs): `request`, `axios`, `node-fetch`, `fetch`.
  const http = HTTP({
    start: HOST_HTTP, log(level, message) { console[level](message); }, fail, querystring, Buffer, toBase64, URL, URLSearchParams,
  });
  const builtins = {
    querystring, crypto, url, buffer: Object.freeze({ Buffer }), request: http.request, axios: http.axios, 'node-fetch': http.nodeFetch,
    auth0: auth0Module,
  };
  function require(name) {
    const n = String(name);
    const at = n.lastIndexOf('@');
    const base = at > 0 ? n.slice(0, at) : n; // `lodash@4.17.19` and `@scope/pkg@1.0` name a version
    if (Object.prototype.hasOwnProperty.call(loaded, base)) return loaded[base];
    if (Object.prototype.hasOwnProperty.call(factories, base)) {
      const module = { exports: {} };
      loaded[base] = module.exports;
      Reflect.apply(factories[base], module.exports, [module, module.exports, require]);
      loaded[base] = module.exports;
      return module.exports;
    }
    if (Object.prototype.hasOwnProperty.call(builtins, base)) return builtins[base];
    throw new Error("Cannot find module '" + name + "'");
  }

  const globalObject = {};

  Object.assign(G, {
    Buffer, TextEncoder, TextDecoder, URL, URLSearchParams,
    UnauthorizedError, console, setTimeout, setInterval, clearTimeout, clearInterval: clearTimeout, setImmediate,
    require, global: globalObject, fetch: http.fetch, Headers: http.Headers, Response: http.Response, request: http.request,
  });
  Reflect.defineProperty(G, 'configuration', { get: { configuration() { return configuration; } }.configuration, enumerable: true, configurable: true });
  Reflect.defineProperty(G, 'auth0', { get: { auth0() { return auth0; } }.auth0, enumerable: true, configurable: true });

  // What the login reports for an error a rule called back with or threw. Never throws: a
  // proxy whose traps throw, or an object whose getters or `toString` throw, still denies,
  // with a description that says so.
  function errorOf(e) {
    try {
      if (typeof e === 'string') return { unauthorized: false, message: e };
      if (e && typeof e === 'object') {
        const unauthorized = e instanceof UnauthorizedError || e.code === 'unauthorized';
        const m = e.message, d = e.description, s = e.stack;
        const message = typeof m === 'string' ? m : (typeof d === 'string' ? d : text(e));
        return { unauthorized, message: String(message), stack: typeof s === 'string' ? s.slice(0, MAX_LOG) : '' };
      }
      return { unauthorized: false, message: String(e) };
    } catch (x) {
      return { unauthorized: false, message: 'the rule reported an error that cannot be read (reading it threw)' };
    }
  }

  // Lockdown: nothing one login does to the built-ins reaches the next (nor the prelude).
  // - Every intrinsic is frozen: constructors, namespaces (JSON, Math, Reflect...), their
  //   prototypes, and the hidden ones (iterator, generator and async prototypes, %TypedArray%).
  //   `Object.prototype.isAdmin = true` and `Array.prototype.map = f` are ignored (or throw in
  //   strict code).
  // - Assigning a property that a frozen prototype defines (`obj.toString = f`, `this.name =
  //   'MyError'`) would then fail too (the "override mistake"), so the properties legacy
  //   code assigns on its own objects become accessors whose setter gives the receiver its
  //   own property.
  // - The global object's bindings of built-ins and warden's globals are read-only, so that
  //   `JSON = fake` cannot change what the prelude (or a later rule) calls. New globals can
  //   still be created; like `global`, they persist in the runtime, as in Auth0's containers.
  const overridable = ['constructor', 'toString', 'toLocaleString', 'valueOf', 'toJSON', 'name', 'message',
    'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'then', 'catch', 'finally'];
  const seen = new Set([G]);
  const own = Object.hasOwn;
  // Freezes one object (taming the properties above), its prototype chain, its `prototype`
  // (a constructor's, or %GeneratorFunction.prototype%'s) and its `constructor` (which is how
  // the hidden constructors, such as GeneratorFunction, are reached). Built-in methods
  // (functions without `prototype`) have only read-only `name` and `length`: they cannot
  // change what a built-in does, and are left as they are.
  function hardenOne(o) {
    if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) return;
    seen.add(o);
    if (typeof o === 'object' || o === Function.prototype) {
      for (let i = 0; i < overridable.length; i++) {
        const k = overridable[i];
        if (!own(o, k)) continue;
        const d = Reflect.getOwnPropertyDescriptor(o, k);
        if (!('value' in d) || !d.writable || !d.configurable) continue;
        const value = d.value, home = o;
        rawDefine(o, k, {
          get() { return value; },
          set(v) {
            // Primitives and the prototype itself: ignored, like a failed sloppy assignment.
            if (this === home || Object(this) !== this) return;
            rawDefine(this, k, { value: v, writable: true, enumerable: true, configurable: true });
          },
          enumerable: d.enumerable, configurable: false,
        });
      }
    }
    rawFreeze(o);
    // Its methods are frozen too, without walking into them: a method's own prototype
    // could otherwise be swapped, changing what `method.call(...)` means in later logins.
    const all = Object.getOwnPropertyDescriptors(o);
    const keys = Reflect.ownKeys(all);
    for (let i = 0; i < keys.length; i++) {
      const d = all[keys[i]];
      freezeFunction(d.value);
      freezeFunction(d.get);
      freezeFunction(d.set);
    }
    hardenOne(Reflect.getPrototypeOf(o));
    const p = own(all, 'prototype') ? all.prototype : undefined;
    const c = own(all, 'constructor') ? all.constructor : undefined;
    if (p !== undefined && 'value' in p) hardenOne(p.value);
    if (c !== undefined && 'value' in c) hardenOne(c.value);
  }
  function freezeFunction(f) {
    if (typeof f !== 'function' || seen.has(f)) return;
    if (own(f, 'prototype') || f === Function.prototype) {
      hardenOne(f);
    } else {
      seen.add(f);
      rawFreeze(f);
    }
  }
  // Freezes a namespace-like object and every object and constructor it holds.
  function harden(o) {
    if (o === null || typeof o !== 'object' || seen.has(o)) {
      hardenOne(o);
      return;
    }
    hardenOne(o);
    const all = Object.getOwnPropertyDescriptors(o);
    const keys = Reflect.ownKeys(all);
    for (let i = 0; i < keys.length; i++) {
      const d = all[keys[i]];
      if ('value' in d) harden(d.value);
    }
  }
  // Intrinsics no global names, found through values that have them as prototypes.
  function hiddenIntrinsics() {
    const found = [
      Reflect.getPrototypeOf(function* () {}), Reflect.getPrototypeOf(async function () {}),
      Reflect.getPrototypeOf(async function* () {}), Reflect.getPrototypeOf([][Symbol.iterator]()),
      Reflect.getPrototypeOf(new Map()[Symbol.iterator]()), Reflect.getPrototypeOf(new Set()[Symbol.iterator]()),
      Reflect.getPrototypeOf(''[Symbol.iterator]()), Reflect.getPrototypeOf(/x/[Symbol.matchAll]('')),
      Reflect.getPrototypeOf(Uint8Array), Array.prototype[Symbol.unscopables],
    ];
    const it = [][Symbol.iterator]();
    if (typeof it.map === 'function') found.push(Reflect.getPrototypeOf(it.map((x) => x)));
    if (typeof G.Iterator === 'function' && typeof G.Iterator.from === 'function') {
      found.push(Reflect.getPrototypeOf(G.Iterator.from({ next() { return { done: true }; } })));
    }
    return found;
  }
  // Runs at the end of setup, before any module or rule is loaded: a rule file's top-level
  // expression runs after it too.
  // Array methods QuickJS runs in C without polling the interrupt handler: on an array-like
  // with a huge `length` (`{length: 2 ** 53 - 1}`, or a sparse array of length 2 ** 32 - 1)
  // they would run far past the deadline. They refuse lengths above ten million (a real
  // array that long does not fit the heap limit anyway).
  const MAX_ARRAY_WORK = 1e7;
  function capArrayMethods() {
    const P = Array.prototype;
    const names = ['reverse', 'join', 'toLocaleString', 'sort', 'splice', 'shift', 'unshift', 'copyWithin', 'flat',
      'flatMap', 'concat', 'fill', 'slice', 'indexOf', 'lastIndexOf', 'includes', 'toReversed', 'toSorted',
      'toSpliced', 'with'];
    const lengthOf = (o) => {
      if (o === null || (typeof o !== 'object' && typeof o !== 'function')) return 0;
      const n = Number(o.length);
      return n > 0 ? n : 0;
    };
    const mutating = ['reverse', 'sort', 'splice', 'shift', 'unshift', 'copyWithin', 'fill'];
    for (const name of names) {
      const original = P[name];
      if (typeof original !== 'function') continue;
      const writesBack = mutating.includes(name);
      const capped = {
        [name](...args) {
          const o = this;
          const length = lengthOf(o);
          let work = length;
          if (name === 'concat') for (const a of args) work += lengthOf(a);
          if (work > MAX_ARRAY_WORK) throw new RangeError('Array.prototype.' + name + ' on more than ' + MAX_ARRAY_WORK + ' elements');
          if (o === null || typeof o !== 'object' || Array.isArray(o)) return Reflect.apply(original, o, args);
          // An array-like: its `length` was read once, above; a getter could answer
          // differently when the C code reads it again. The method runs on a copy of that
          // length (made here, in JavaScript, where the deadline is checked), and what a
          // mutating method changed is written back.
          const copy = { length };
          for (let i = 0; i < length; i++) if (i in o) copy[i] = o[i];
          const result = Reflect.apply(original, copy, args);
          if (!writesBack) return result;
          const after = lengthOf(copy);
          for (let i = 0; i < Math.max(length, after); i++) {
            if (i < after && i in copy) o[i] = copy[i]; else delete o[i];
          }
          o.length = after;
          return result === copy ? o : result;
        },
      }[name];
      Reflect.defineProperty(capped, 'length', { value: original.length });
      Reflect.defineProperty(P, name, { value: capped, writable: true, enumerable: false, configurable: true });
    }
  }
  // String searches QuickJS runs in C compare the pattern at every position: O(text x
  // pattern) without polling the interrupt handler (`"a".repeat(2e5).indexOf("a".repeat(1e5)
  // + "b")` takes seconds). Past a million comparisons they search in JavaScript instead, in
  // linear time (Knuth-Morris-Pratt), where the deadline is checked. Same results.
  const MAX_SEARCH_WORK = 1e6;
  function kmpTable(p) {
    const t = new Array(p.length).fill(0);
    for (let i = 1, k = 0; i < p.length; i++) {
      while (k > 0 && p.charCodeAt(i) !== p.charCodeAt(k)) k = t[k - 1];
      if (p.charCodeAt(i) === p.charCodeAt(k)) k++;
      t[i] = k;
    }
    return t;
  }
  // The first index >= from where `p` occurs in `s`, or -1.
  function kmpFrom(s, p, from) {
    if (p.length === 0) return Math.min(from, s.length);
    const t = kmpTable(p);
    for (let i = from, k = 0; i < s.length; i++) {
      while (k > 0 && s.charCodeAt(i) !== p.charCodeAt(k)) k = t[k - 1];
      if (s.charCodeAt(i) === p.charCodeAt(k)) k++;
      if (k === p.length) return i - p.length + 1;
    }
    return -1;
  }
  const heavy = (s, p) => p.length > 16 && (s.length - p.length + 1) * p.length > MAX_SEARCH_WORK;
  function boundStringSearches() {
    const S = String.prototype;
    const { indexOf, lastIndexOf, includes, split, replaceAll, replace: strReplace } = S;
    const text = (o, name) => {
      if (o === null || o === undefined) throw new TypeError('String.prototype.' + name + ' called on ' + o);
      return String(o);
    };
    const position = (x) => { const n = Math.trunc(Number(x)); return Number.isNaN(n) ? 0 : n; };
    const replace = (name, f) => {
      Reflect.defineProperty(f, 'length', { value: S[name].length });
      Reflect.defineProperty(f, 'name', { value: name });
      Reflect.defineProperty(S, name, { value: f, writable: true, enumerable: false, configurable: true });
    };
    replace('indexOf', function (search, from) {
      const s = text(this, 'indexOf'), p = String(search);
      if (!heavy(s, p)) return Reflect.apply(indexOf, s, [p, from]);
      return kmpFrom(s, p, Math.min(Math.max(position(from), 0), s.length));
    });
    replace('includes', function (search, from) {
      if (search instanceof RegExp) return Reflect.apply(includes, this, [search, from]);
      const s = text(this, 'includes'), p = String(search);
      if (!heavy(s, p)) return Reflect.apply(includes, s, [p, from]);
      return kmpFrom(s, p, Math.min(Math.max(position(from), 0), s.length)) !== -1;
    });
    replace('lastIndexOf', function (search, from) {
      const s = text(this, 'lastIndexOf'), p = String(search);
      if (!heavy(s, p)) return Reflect.apply(lastIndexOf, s, [p, from]);
      const n = Number(from);
      const start = Number.isNaN(n) ? s.length : Math.min(Math.max(Math.trunc(n), 0), s.length);
      // The last occurrence starting at or before `start`: the first one in the reversed text.
      const rs = Array.from({ length: s.length }, (_, i) => s[s.length - 1 - i]).join('');
      const rp = Array.from({ length: p.length }, (_, i) => p[p.length - 1 - i]).join('');
      const skip = Math.max(s.length - start - p.length, 0);
      const at = kmpFrom(rs, rp, skip);
      return at === -1 ? -1 : s.length - at - p.length;
    });
    replace('split', function (separator, limit) {
      if (typeof separator !== 'string' || this === null || this === undefined) return Reflect.apply(split, this, [separator, limit]);
      const s = String(this);
      if (!heavy(s, separator)) return Reflect.apply(split, s, [separator, limit]);
      const max = limit === undefined ? 2 ** 32 - 1 : Number(limit) >>> 0;
      const out = [];
      let at = 0;
      while (out.length < max) {
        const next = kmpFrom(s, separator, at);
        if (next === -1) { out.push(s.slice(at)); break; }
        out.push(s.slice(at, next));
        at = next + separator.length;
      }
      return out.slice(0, max);
    });
    replace('replaceAll', function (pattern, replacement) {
      if (typeof pattern !== 'string' || this === null || this === undefined
        || (typeof replacement === 'string' && replacement.includes('$'))) {
        return Reflect.apply(replaceAll, this, [pattern, replacement]);
      }
      const s = String(this);
      if (!heavy(s, pattern)) return Reflect.apply(replaceAll, s, [pattern, replacement]);
      let out = '', at = 0;
      for (;;) {
        const next = kmpFrom(s, pattern, at);
        if (next === -1) break;
        const r = typeof replacement === 'function' ? String(replacement(pattern, next, s)) : String(replacement);
        out += s.slice(at, next) + r;
        at = next + pattern.length;
      }
      return out + s.slice(at);
    });
    replace('replace', function (pattern, replacement) {
      if (typeof pattern !== 'string' || this === null || this === undefined
        || (typeof replacement === 'string' && replacement.includes('$'))) {
        return Reflect.apply(strReplace, this, [pattern, replacement]);
      }
      const s = String(this);
      if (!heavy(s, pattern)) return Reflect.apply(strReplace, s, [pattern, replacement]);
      const at = kmpFrom(s, pattern, 0);
      if (at === -1) return s;
      const r = typeof replacement === 'function' ? String(replacement(pattern, at, s)) : String(replacement);
      return s.slice(0, at) + r + s.slice(at + pattern.length);
    });
  }
  // ---- The global object between logins ----------------------------------------------
  // Only `global` (and module state) carries over from one login to the next: whatever a
  // login adds to the global object (sloppy implicit globals, `var` and functions declared
  // by indirect `eval`, `Object.defineProperty(globalThis, ...)`, symbols) is removed before
  // the next login starts (`scrub`). So that it can be: a property the logins define on the
  // global object is always configurable (the define functions make it so), and the global
  // object cannot be made non-extensible or be given another prototype. Rust counts the
  // global object's keys when a login starts (cheaper than listing them here) and `begin`
  // scrubs only when there are more than it started with; if something still cannot be
  // removed, `scrub` says so and Rust replaces the runtime. These originals are what the
  // prelude itself uses on the global object.
  const rawGetOwn = Reflect.getOwnPropertyDescriptor, rawOwnKeys = Reflect.ownKeys;
  const rawDelete = Reflect.deleteProperty, rawIsExtensible = Reflect.isExtensible, rawGetProto = Reflect.getPrototypeOf;
  const globalProto = rawGetProto(G);
  // The global object's own keys once rules are loaded (all of them non-configurable).
  let globalKeys = null;
  // `[key, descriptor]` for defining `key` on `target`: on the global object, a new property
  // (or one a login added) is always configurable.
  function openDescriptor(target, key, d) {
    if (target !== G || d === null || (typeof d !== 'object' && typeof d !== 'function')) return [key, d];
    const k = rawOwnKeys({ [key]: 0 })[0]; // ToPropertyKey, once
    const current = rawGetOwn(G, k);
    if (current !== undefined && !current.configurable) return [k, d];
    const open = { configurable: true };
    if ('enumerable' in d) open.enumerable = d.enumerable;
    if ('value' in d) open.value = d.value;
    if ('writable' in d) open.writable = d.writable;
    if ('get' in d) open.get = d.get;
    if ('set' in d) open.set = d.set;
    return [k, open];
  }
  function guardGlobalObject() {
    const O = Object, R = Reflect;
    const define = O.defineProperty, defineAll = O.defineProperties, reflectDefine = R.defineProperty;
    const replace = (owner, f) => rawDefine(owner, f.name, { value: f, writable: true, enumerable: false, configurable: true });
    replace(O, { defineProperty(o, key, d) { return Reflect.apply(define, O, [o, ...openDescriptor(o, key, d)]); } }.defineProperty);
    replace(R, { defineProperty(o, key, d) { return Reflect.apply(reflectDefine, R, [o, ...openDescriptor(o, key, d)]); } }.defineProperty);
    replace(O, {
      defineProperties(o, props) {
        if (o !== G || props === null || props === undefined) return Reflect.apply(defineAll, O, [o, props]);
        const source = O(props), all = [];
        for (const k of rawOwnKeys(source)) {
          const own = rawGetOwn(source, k);
          if (own !== undefined && own.enumerable) all.push(openDescriptor(G, k, source[k]));
        }
        for (let i = 0; i < all.length; i++) Reflect.apply(define, O, [G, all[i][0], all[i][1]]);
        return o;
      },
    }.defineProperties);
    for (const name of ['freeze', 'seal', 'preventExtensions']) {
      const original = O[name];
      replace(O, { [name](o) {
        if (o === G) throw new TypeError('the global object cannot be made non-extensible');
        return Reflect.apply(original, O, [o]);
      } }[name]);
    }
    const preventExtensions = R.preventExtensions;
    replace(R, { preventExtensions(o) { return o === G ? false : Reflect.apply(preventExtensions, R, [o]); } }.preventExtensions);
    const isObject = (v) => v === null || typeof v === 'object' || typeof v === 'function';
    const setProto = O.setPrototypeOf, reflectSetProto = R.setPrototypeOf;
    replace(O, { setPrototypeOf(o, p) {
      if (o === G && p !== globalProto) throw new TypeError('the prototype of the global object cannot be changed');
      return Reflect.apply(setProto, O, [o, p]);
    } }.setPrototypeOf);
    replace(R, { setPrototypeOf(o, p) {
      return o === G && p !== globalProto ? false : Reflect.apply(reflectSetProto, R, [o, p]);
    } }.setPrototypeOf);
    const proto = rawGetOwn(O.prototype, '__proto__');
    if (proto !== undefined && typeof proto.set === 'function') {
      const set = proto.set;
      const guarded = rawGetOwn({
        set __proto__(p) {
          if (this === G && isObject(p) && p !== globalProto) throw new TypeError('the prototype of the global object cannot be changed');
          Reflect.apply(set, this, [p]);
        },
      }, '__proto__').set;
      rawDefine(O.prototype, '__proto__', { get: proto.get, set: guarded, enumerable: false, configurable: true });
    }
  }
  // Called when a login starts: removes what earlier logins added to the global object.
  // False when something cannot be removed (the runtime is then replaced).
  function scrub() {
    const keys = rawOwnKeys(G);
    if (keys.length !== globalKeys.size) {
      for (let i = 0; i < keys.length; i++) {
        if (!globalKeys.has(keys[i]) && !rawDelete(G, keys[i])) return false;
      }
    }
    return rawIsExtensible(G) && rawGetProto(G) === globalProto;
  }

  // ---- The login's clock ----------------------------------------------------------------
  // `Date.now()`, `new Date()` and `Date()` read the login's time (`Exec::now`, `--now`, a
  // test case's `now`), advanced by the virtual clock of the timers (within a login, across
  // its rules); outside a login (loading) they read the real clock. `performance` follows.
  let loginNow = null, loginElapsed = 0;
  const RealDate = Date, realNow = Date.now, realToString = Date.prototype.toString;
  function timeNow() {
    return loginNow === null ? Reflect.apply(realNow, RealDate, []) : loginNow + loginElapsed + clock;
  }
  function loginDate() {
    const D = function Date(...args) {
      if (new.target === undefined) return Reflect.apply(realToString, Reflect.construct(RealDate, [timeNow()]), []);
      return Reflect.construct(RealDate, args.length === 0 ? [timeNow()] : args, new.target);
    };
    for (const k of rawOwnKeys(RealDate)) {
      if (k !== 'prototype' && k !== 'name' && k !== 'length') rawDefine(D, k, rawGetOwn(RealDate, k));
    }
    rawDefine(D, 'now', { value: { now() { return timeNow(); } }.now, writable: true, enumerable: false, configurable: true });
    rawDefine(D, 'length', { value: RealDate.length, writable: false, enumerable: false, configurable: true });
    rawDefine(D, 'prototype', { value: RealDate.prototype, writable: false, enumerable: false, configurable: false });
    rawDefine(RealDate.prototype, 'constructor', { value: D, writable: true, enumerable: false, configurable: true });
    rawDefine(G, 'Date', { value: D, writable: true, enumerable: false, configurable: true });
    const perf = G.performance;
    if (perf !== null && typeof perf === 'object' && typeof perf.now === 'function') {
      const origin = perf.timeOrigin, realPerfNow = perf.now;
      rawDefine(G, 'performance', {
        value: {
          now() { return loginNow === null ? Reflect.apply(realPerfNow, perf, []) : loginElapsed + clock; },
          get timeOrigin() { return loginNow === null ? origin : loginNow; },
        },
        writable: true, enumerable: rawGetOwn(G, 'performance').enumerable, configurable: true,
      });
    }
  }

  function lockdown() {
    // Their callbacks run whenever the collector does, inside whichever login is current.
    delete G.FinalizationRegistry;
    delete G.WeakRef;
    capArrayMethods();
    boundStringSearches();
    loginDate();
    guardGlobalObject();
    // quickjs-ng keeps these two in the context, behind accessors on `Error`: a hook set by
    // one login would run on the next one's errors. They become fixed data properties.
    for (const k of ['prepareStackTrace', 'stackTraceLimit']) {
      const d = Reflect.getOwnPropertyDescriptor(Error, k);
      if (d === undefined) continue;
      const value = 'value' in d ? d.value : (d.get ? Reflect.apply(d.get, Error, []) : undefined);
      if (!Reflect.defineProperty(Error, k, { value, writable: false, enumerable: false, configurable: false })) {
        throw new Error('cannot fix Error.' + k);
      }
    }
    for (const h of hiddenIntrinsics()) hardenOne(h);
    harden(builtins); // what `require` answers for crypto, querystring, url, buffer
    harden(users);
    hardenOne(RealDate);
    for (const k of rawOwnKeys(G)) {
      if (k === 'global' || k === '__warden') continue;
      const d = rawGetOwn(G, k);
      if ('value' in d) {
        harden(d.value);
        rawDefine(G, k, { value: d.value, writable: false, enumerable: d.enumerable, configurable: false });
      } else {
        // `configuration` and `auth0`: getters of the current login's objects.
        freezeFunction(d.get);
        rawDefine(G, k, { get: d.get, set: undefined, enumerable: d.enumerable, configurable: false });
      }
    }
    rawDefine(G, 'global', { value: globalObject, writable: false, enumerable: false, configurable: false });
  }

  // Consecutive JavaScript rules share their objects: the first of a run of them parses
  // `user` and `context`, the last hands them back, and in between nothing is copied.
  let liveUser = null, liveContext = null;
  // During such a run, which rule changed each claim, the scope, MFA and the redirect (so
  // that outcomes name the rule that set a claim, as for `.rule` files): flat triples.
  let owners = null;
  const NOTHING = Object.freeze({});
  const objectOr = (v) => (v !== null && typeof v === 'object' ? v : NOTHING);
  // The state of the tokens, MFA, the redirect, the SAML configuration and the primary user,
  // to find what a rule changed: `[multifactor, redirect, idKeys, idValues, atKeys, atValues,
  // samlConfiguration, primaryUser]` (values compare by identity). The state after one rule
  // is the state the next one starts from, so each rule costs one of these. (Few, coarse operations: in QuickJS each builtin call costs about as
  // much as a dozen property reads.)
  function tokenState(context) {
    const c = objectOr(context), id = objectOr(c.idToken), at = objectOr(c.accessToken);
    const idKeys = Object.keys(id);
    const idValues = valuesOf(id, idKeys);
    const atKeys = Object.keys(at);
    return [c.multifactor, c.redirect, idKeys, idValues, atKeys, valuesOf(at, atKeys), c.samlConfiguration, c.primaryUser];
  }
  // `Object.values`, in step with `keys`: read by key instead when a getter added or
  // removed a key in between.
  function valuesOf(o, keys) {
    const values = Object.values(o);
    if (values.length === keys.length) return values;
    const byKey = [];
    for (let i = 0; i < keys.length; i++) byKey.push(o[keys[i]]);
    return byKey;
  }
  function outcomeParts(context) {
    const c = objectOr(context);
    return {
      idToken: c.idToken, accessToken: c.accessToken, multifactor: c.multifactor, redirect: c.redirect,
      samlConfiguration: c.samlConfiguration, primaryUser: c.primaryUser,
    };
  }
  // Appends `[what, key, rule]` to `owners` for each change from `before` to `after`.
  function recordOwners(before, after, name) {
    compareToken('id', before[2], before[3], after[2], after[3], name);
    compareToken('at', before[4], before[5], after[4], after[5], name);
    if (after[0] !== before[0]) owners.push('multifactor', '', name);
    if (after[1] !== before[1]) owners.push('redirect', '', name);
    if (after[6] !== before[6]) owners.push('samlConfiguration', '', name);
    if (after[7] !== before[7]) owners.push('primaryUser', '', name);
  }
  function compareToken(tag, oldKeys, oldValues, keys, values, name) {
    const n = oldKeys.length;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      // Keys usually keep their places.
      let j = i < n && oldKeys[i] === k ? i : 0;
      while (j < n && oldKeys[j] !== k) j++;
      if (j === n || oldValues[j] !== values[i]) owners.push(tag, k, name);
    }
    for (let j = 0; j < n; j++) {
      const k = oldKeys[j];
      let i = j < keys.length && keys[j] === k ? j : 0;
      while (i < keys.length && keys[i] !== k) i++;
      if (i === keys.length) owners.push(tag, k, name);
    }
  }
  // The state the next rule of the run starts from (set by `finish`).
  let nextBefore = null;

  let locked = false;
  G.__warden = {
    rules: [],
    // Called before any module or rule file is evaluated: the global goes away (Rust keeps
    // its own handle on this object, and registers modules and rules through it), so no
    // JavaScript can reach the functions below.
    lock() {
      delete G.__warden;
    },
    // Called once every module and rule is registered.
    seal() {
      locked = true;
      Object.freeze(this.rules);
      // Globals that rule files' top-level code created while loading are fixed like the
      // built-ins' (what they hold is the file's state, like a module's); the keys the
      // global object has now are the ones every login starts with.
      for (const k of rawOwnKeys(G)) {
        const d = rawGetOwn(G, k);
        if (d.configurable) rawDefine(G, k, 'value' in d ? { writable: false, configurable: false } : { configurable: false });
      }
      globalKeys = new Set(rawOwnKeys(G));
    },
    // How many own keys the global object starts each login with.
    globalKeys() {
      return globalKeys.size;
    },
    // The configuration of the logins that follow, as JSON text (Rust calls it when a
    // login's configuration differs from the previous one's).
    configure(json) {
      configure(json);
    },
    module(name, factory) {
      if (locked || typeof factory !== 'function') throw new Error('modules are registered when the runtime starts');
      factories[name] = factory;
    },
    // After each rule: nothing is current, no timer is armed. (The objects a run of rules
    // shares stay in `liveUser`/`liveContext` until its last rule, whose `finish` drops them.)
    reset() {
      current = 0;
      nextBefore = null;
      timers.clear();
      clock = 0;
      loginNow = null;
    },
    // Starts rule `i`. `flags` (bits): 1 `first`: the first of a run of consecutive
    // JavaScript rules, which parses `user` and `context` (JSON text); the others continue
    // with the objects the previous rule left. 2 `last`: its result hands the objects back.
    // 4 `end`: no step follows, so only the parts of `context` the outcome needs are read
    // back. 8 `start`: the first JavaScript rule of a login, which first removes what
    // earlier logins added to the global object (null when that cannot be done: nothing
    // ran); 16: Rust counted more keys on the global object than it started with; 32: `global`
    // starts empty (a login answered from canned exchanges). `now`: the
    // login's time, epoch milliseconds.
    begin(i, name, userJson, contextJson, flags, now) {
      const first = (flags & 1) !== 0, last = (flags & 2) !== 0, end = (flags & 4) !== 0;
      if ((flags & 8) !== 0) {
        const changed = (flags & 16) !== 0 || !rawIsExtensible(G) || rawGetProto(G) !== globalProto;
        if (changed && !scrub()) return null;
        if ((flags & 32) !== 0) {
          // A test's login: `global` starts empty (a frozen one cannot: the runtime is replaced).
          if (!rawIsExtensible(globalObject)) return null;
          for (const k of rawOwnKeys(globalObject)) if (!Reflect.deleteProperty(globalObject, k)) return null;
        }
        loginElapsed = 0;
      }
      loginNow = now;
      let user, context;
      if (first || liveUser === null) {
        user = JSON.parse(userJson);
        context = JSON.parse(contextJson);
        owners = [];
      } else {
        user = liveUser;
        context = liveContext;
      }
      liveUser = liveContext = null;
      // Taken before this rule is current: getters it runs (left by an earlier rule) log,
      // record and arm timers for no rule.
      const before = first && last ? null : first || nextBefore === null ? tokenState(context) : nextBefore;
      nextBefore = null;
      const id = (current = ++executions);
      http.clear();
      runName = name;
      runStatus = 'pending';
      runUser = user;
      runContext = context;
      runError = runLogs = runEffects = runWarnings = null;
      runLast = last;
      runEnd = end;
      runBefore = before;
      // Each rule gets its own callback: one kept from an earlier rule decides nothing.
      const callback = function (err, u, c) {
        if (id !== current) return;
        if (runStatus !== 'pending') {
          warn('callback called more than once in rule ' + name + '; later calls are ignored');
          return;
        }
        if (err) {
          runStatus = 'denied';
          runError = errorOf(err);
        } else {
          runStatus = 'ok';
          if (u !== null && typeof u === 'object') runUser = u;
          if (c !== null && typeof c === 'object') runContext = c;
        }
      };
      try {
        // Called as a plain function (`this` is the global object in sloppy code, as in
        // Auth0), never with a receiver of warden's.
        const rule = this.rules[i];
        const r = rule(user, context, callback);
        if (r && typeof r.then === 'function') {
          r.then(undefined, (e) => { if (id === current) fail(e); });
        }
      } catch (e) {
        if (runStatus === 'pending') fail(e);
        else warn('rule ' + name + ' threw after calling back: ' + errorOf(e).message);
      }
      return runStatus !== 'pending';
    },
    settled() { return current === 0 || runStatus !== 'pending'; },
    // The answer to request `id` of the current rule (see http.js).
    deliver(id, json) { http.deliver(id, json); },
    // Milliseconds of the virtual clock until the next timer is due; -1 when none is armed.
    nextTimer() {
      let at = -1;
      for (const t of timers.values()) if (at < 0 || t.at < at) at = t.at;
      return at < 0 ? -1 : Math.max(0, at - clock);
    },
    // Runs the next timer due within `budget` ms of virtual time; false when there is none.
    tick(budget) {
      let next = null;
      for (const [id, t] of timers) if (next === null || t.at < next[1].at) next = [id, t];
      if (next === null || next[1].at > budget) return false;
      const [id, t] = next;
      clock = t.at;
      if (t.every) t.at = clock + t.every; else timers.delete(id);
      try { Reflect.apply(t.fn, undefined, t.args); } catch (e) {
        fail(e);
      }
      return true;
    },
    // The execution's result, which Rust reads with JSON's rules (marshal.rs): logs, effects
    // and warnings (null when there are none); and, from the last rule of a run (or one that
    // stopped the login), the final objects with who changed what. The empty string: the
    // rule called back with nothing to report, and the next rule continues.
    finish() {
      if (current === 0) throw new Error('no rule is running');
      current = 0;
      timers.clear();
      loginElapsed += clock;
      clock = 0;
      const ok = runStatus === 'ok';
      if (ok && runBefore !== null) {
        const after = tokenState(runContext);
        recordOwners(runBefore, after, runName);
        if (!runLast) nextBefore = after;
      }
      runBefore = null;
      if (ok && !runLast) {
        liveUser = runUser;
        liveContext = runContext;
        // The common case between two JavaScript rules: nothing to report.
        if (runLogs === null && runEffects === null && runWarnings === null) {
          runUser = runContext = null;
          return '';
        }
      }
      const out = { status: runStatus, error: runError, logs: runLogs, effects: runEffects, warnings: runWarnings };
      if (!ok || runLast) {
        if (ok) {
          out.user = runUser;
          out.context = runEnd ? outcomeParts(runContext) : runContext;
          out.partial = runEnd;
          out.owners = owners;
        }
        liveUser = liveContext = null;
        owners = null;
      }
      runUser = runContext = runError = runLogs = runEffects = runWarnings = null;
      return out;
    },
  };
  lockdown();
});

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
  const HOST_DIGEST = G.__host_digest, HOST_RANDOM = G.__host_random, HOST_URL = G.__host_url;
  const HOST_RESOLVE = G.__host_resolve, HOST_KEY = G.__host_key, HOST_SIGN = G.__host_sign, HOST_VERIFY = G.__host_verify;
  const HOST_PBKDF2 = G.__host_pbkdf2, HOST_HTTP = G.__host_http;
  for (const k of ['digest', 'random', 'url', 'resolve', 'key', 'sign', 'verify', 'pbkdf2', 'http']) delete G['__host_' + k];
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
  // Encodings Buffer knows: utf8, hex, base64, base64url, latin1 (binary), ascii, utf16le.
  function encodingOf(e) {
    const x = String(e === undefined || e === null ? 'utf8' : e).toLowerCase();
    if (x === 'utf8' || x === 'utf-8') return 'utf8';
    if (x === 'latin1' || x === 'binary') return 'latin1';
    if (x === 'ucs2' || x === 'ucs-2' || x === 'utf16le' || x === 'utf-16le') return 'utf16le';
    if (x === 'hex' || x === 'base64' || x === 'base64url' || x === 'ascii') return x;
    return null;
  }
  function encodeText(str, e) {
    const s = String(str);
    switch (encodingOf(e)) {
      case 'base64': case 'base64url': return fromBase64(s);
      case 'hex': return fromHex(s);
      case 'latin1': case 'ascii': return Array.from({ length: s.length }, (_, i) => s.charCodeAt(i) & 255);
      case 'utf16le': {
        const out = [];
        for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); out.push(c & 255, c >> 8); }
        return out;
      }
      case 'utf8': return utf8(s);
      default: throw new TypeError('Unknown encoding: ' + e);
    }
  }
  // Buffers of at most this many bytes (Node's limit is larger; the heap limit is smaller).
  const MAX_BUFFER = 2 ** 30;
  function bufferSize(n) {
    if (typeof n !== 'number' || !(n >= 0) || n > MAX_BUFFER) throw new RangeError('The value of "size" is out of range: ' + n);
    return Math.floor(n);
  }
  function checkOffset(b, offset, n) {
    const o = offset === undefined ? 0 : offset;
    if (typeof o !== 'number' || o < 0 || o + n > b.length || Math.floor(o) !== o) throw new RangeError('The value of "offset" is out of range: ' + offset);
    return o;
  }
  class Buffer extends Uint8Array {
    static from(data, encodingOrOffset, length) {
      if (typeof data === 'string') return new Buffer(encodeText(data, encodingOrOffset));
      if (data instanceof ArrayBuffer) {
        const offset = encodingOrOffset === undefined ? 0 : Number(encodingOrOffset);
        return new Buffer(data, offset, length === undefined ? data.byteLength - offset : Number(length));
      }
      if (data !== null && typeof data === 'object' && data.type === 'Buffer' && Array.isArray(data.data)) return new Buffer(data.data);
      if (data === null || data === undefined || typeof data === 'number') {
        throw new TypeError('The first argument must be a string, Buffer, ArrayBuffer, Array, or array-like object');
      }
      return new Buffer(Array.from(data));
    }
    static alloc(size, fill, encoding) {
      const b = new Buffer(bufferSize(size));
      if (fill !== undefined && fill !== 0) b.fill(fill, 0, b.length, encoding);
      return b;
    }
    static allocUnsafe(size) { return new Buffer(bufferSize(size)); }
    static allocUnsafeSlow(size) { return new Buffer(bufferSize(size)); }
    static isBuffer(b) { return b instanceof Buffer; }
    static isEncoding(e) { return typeof e === 'string' && encodingOf(e) !== null; }
    static byteLength(s, encoding) {
      if (typeof s === 'string') return encodeText(s, encoding).length;
      if (s instanceof ArrayBuffer || ArrayBuffer.isView(s)) return s.byteLength;
      throw new TypeError('The "string" argument must be a string, Buffer, or ArrayBuffer');
    }
    static concat(list, totalLength) {
      if (!Array.isArray(list)) throw new TypeError('The "list" argument must be an Array of Buffers');
      let total = 0;
      for (const b of list) total += b.length;
      const out = Buffer.alloc(totalLength === undefined ? total : bufferSize(totalLength));
      let at = 0;
      for (const b of list) {
        if (at >= out.length) break;
        const n = Math.min(b.length, out.length - at);
        out.set(n === b.length ? b : b.subarray(0, n), at);
        at += n;
      }
      return out;
    }
    static compare(a, b) { return Buffer.prototype.compare.call(a, b); }
    toString(encoding, start, end) {
      const b = start === undefined && end === undefined ? this : this.subarray(start || 0, end === undefined ? this.length : end);
      switch (encodingOf(encoding)) {
        case 'base64': return toBase64(b);
        case 'base64url': return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
        case 'hex': return toHex(b);
        case 'latin1': { let s = ''; for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]); return s; }
        case 'ascii': { let s = ''; for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] & 127); return s; }
        case 'utf16le': { let s = ''; for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode(b[i] | (b[i + 1] << 8)); return s; }
        case 'utf8': return fromUtf8(b);
        default: throw new TypeError('Unknown encoding: ' + encoding);
      }
    }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
    // Node's `slice` shares memory, as `subarray` does.
    slice(start, end) { return this.subarray(start, end); }
    equals(other) {
      if (!(other instanceof Uint8Array)) throw new TypeError('The "otherBuffer" argument must be a Buffer or Uint8Array');
      return this.compare(other) === 0;
    }
    compare(other) {
      const n = Math.min(this.length, other.length);
      for (let i = 0; i < n; i++) if (this[i] !== other[i]) return this[i] < other[i] ? -1 : 1;
      return this.length === other.length ? 0 : (this.length < other.length ? -1 : 1);
    }
    copy(target, targetStart, sourceStart, sourceEnd) {
      const ts = targetStart || 0, ss = sourceStart || 0;
      const se = sourceEnd === undefined ? this.length : Math.min(sourceEnd, this.length);
      const n = Math.max(0, Math.min(se - ss, target.length - ts));
      if (n > 0) target.set(this.subarray(ss, ss + n), ts);
      return n;
    }
    write(string, offset, length, encoding) {
      if (typeof offset === 'string') { encoding = offset; offset = 0; length = undefined; }
      else if (typeof length === 'string') { encoding = length; length = undefined; }
      const o = offset || 0;
      const bytes = encodeText(string, encoding);
      const n = Math.max(0, Math.min(bytes.length, this.length - o, length === undefined ? Infinity : length));
      for (let i = 0; i < n; i++) this[o + i] = bytes[i];
      return n;
    }
    fill(value, offset, end, encoding) {
      if (typeof offset === 'string') { encoding = offset; offset = 0; end = this.length; }
      const from = offset || 0, to = end === undefined ? this.length : end;
      if (typeof value === 'string' || value instanceof Uint8Array) {
        const bytes = typeof value === 'string' ? encodeText(value, encoding) : Array.from(value);
        if (bytes.length === 0) return super.fill(0, from, to);
        for (let i = from, k = 0; i < to; i++, k = (k + 1) % bytes.length) this[i] = bytes[k];
        return this;
      }
      return super.fill(Number(value) & 255, from, to);
    }
    readUInt8(o) { o = checkOffset(this, o, 1); return this[o]; }
    readUInt16LE(o) { o = checkOffset(this, o, 2); return this[o] | (this[o + 1] << 8); }
    readUInt16BE(o) { o = checkOffset(this, o, 2); return (this[o] << 8) | this[o + 1]; }
    readUInt32LE(o) { o = checkOffset(this, o, 4); return (this[o] | (this[o + 1] << 8) | (this[o + 2] << 16)) + this[o + 3] * 0x1000000; }
    readUInt32BE(o) { o = checkOffset(this, o, 4); return this[o] * 0x1000000 + ((this[o + 1] << 16) | (this[o + 2] << 8) | this[o + 3]); }
    readInt8(o) { const v = this.readUInt8(o); return v > 127 ? v - 256 : v; }
    readInt16LE(o) { const v = this.readUInt16LE(o); return v > 32767 ? v - 65536 : v; }
    readInt16BE(o) { const v = this.readUInt16BE(o); return v > 32767 ? v - 65536 : v; }
    readInt32LE(o) { return this.readUInt32LE(o) | 0; }
    readInt32BE(o) { return this.readUInt32BE(o) | 0; }
    writeUInt8(v, o) { o = checkOffset(this, o, 1); this[o] = v; return o + 1; }
    writeUInt16LE(v, o) { o = checkOffset(this, o, 2); this[o] = v; this[o + 1] = v >>> 8; return o + 2; }
    writeUInt16BE(v, o) { o = checkOffset(this, o, 2); this[o] = v >>> 8; this[o + 1] = v; return o + 2; }
    writeUInt32LE(v, o) { o = checkOffset(this, o, 4); for (let i = 0; i < 4; i++) this[o + i] = v >>> (8 * i); return o + 4; }
    writeUInt32BE(v, o) { o = checkOffset(this, o, 4); for (let i = 0; i < 4; i++) this[o + i] = v >>> (24 - 8 * i); return o + 4; }
    writeInt8(v, o) { return this.writeUInt8(v & 255, o); }
    writeInt16LE(v, o) { return this.writeUInt16LE(v & 0xffff, o); }
    writeInt16BE(v, o) { return this.writeUInt16BE(v & 0xffff, o); }
    writeInt32LE(v, o) { return this.writeUInt32LE(v >>> 0, o); }
    writeInt32BE(v, o) { return this.writeUInt32BE(v >>> 0, o); }
  }
  for (const name of ['UInt8', 'UInt16LE', 'UInt16BE', 'UInt32LE', 'UInt32BE']) {
    const alias = name.replace('UInt', 'Uint');
    Buffer.prototype['read' + alias] = Buffer.prototype['read' + name];
    Buffer.prototype['write' + alias] = Buffer.prototype['write' + name];
  }
  Buffer.poolSize = 8192;
  const buffer = { Buffer, SlowBuffer: Buffer, kMaxLength: MAX_BUFFER, constants: { MAX_LENGTH: MAX_BUFFER, MAX_STRING_LENGTH: 2 ** 29 - 24 } };
  class TextEncoder { get encoding() { return 'utf-8'; } encode(s) { return new Uint8Array(utf8(s === undefined ? '' : s)); } }
  class TextDecoder {
    get encoding() { return 'utf-8'; }
    decode(b) { return fromUtf8(b instanceof ArrayBuffer ? Array.from(new Uint8Array(b)) : Array.from(b || [])); }
  }
  const bytesOf = (d, enc) => {
    if (d instanceof Uint8Array) return Array.from(d);
    if (d instanceof ArrayBuffer || ArrayBuffer.isView(d)) return Array.from(new Uint8Array(d.buffer || d, d.byteOffset || 0, d.byteLength));
    const secret = KEYS.get(d);
    if (secret !== undefined && secret.bytes) return Array.from(secret.bytes);
    return Array.from(Buffer.from(String(d), enc));
  };

  // ---- crypto ---------------------------------------------------------------------------
  // Hashes, HMACs, signatures and key parsing are Rust (host.rs, keys.rs).
  const HASHES = ['md5', 'sha1', 'sha256', 'sha512'];
  function hashObject(alg, key) {
    let data = [];
    return {
      update(d, enc) { const b = bytesOf(d, enc); for (let i = 0; i < b.length; i++) data.push(b[i]); return this; },
      digest(enc) {
        const hex = HOST_DIGEST(String(alg), key ? toHex(key) : '', toHex(data));
        if (hex == null) throw new Error('Digest method not supported: ' + alg);
        const out = Buffer.from(hex, 'hex');
        return enc ? out.toString(enc) : out;
      },
    };
  }
  // A KeyObject's material, out of reach of JavaScript: `{ bytes }` for a secret key, `{ pem }`
  // for an asymmetric one.
  const KEYS = new WeakMap();
  class KeyObject {
    constructor() { throw new TypeError('Illegal constructor: use crypto.createSecretKey, createPublicKey or createPrivateKey'); }
    export(options) {
      const k = KEYS.get(this);
      if (k === undefined) throw new TypeError('not a KeyObject');
      if (k.bytes) return Buffer.from(k.bytes);
      if (options && options.format && options.format !== 'pem') throw new Error('only PEM export is supported');
      return k.pem;
    }
    equals(other) {
      const a = KEYS.get(this), b = KEYS.get(other);
      if (a === undefined || b === undefined) return false;
      return a.bytes && b.bytes ? Buffer.from(a.bytes).equals(Buffer.from(b.bytes)) : a.pem === b.pem;
    }
  }
  function makeKey(type, material, info) {
    const k = Object.create(KeyObject.prototype);
    const props = { type: { value: type, enumerable: true } };
    if (type === 'secret') {
      props.symmetricKeySize = { value: material.bytes.length, enumerable: true };
    } else {
      props.asymmetricKeyType = { value: info.asymmetricKeyType, enumerable: true };
      const details = info.namedCurve ? { namedCurve: info.namedCurve } : { modulusLength: info.modulusLength, publicExponent: info.publicExponent };
      props.asymmetricKeyDetails = { value: rawFreeze(details), enumerable: true };
    }
    Object.defineProperties(k, props);
    KEYS.set(k, material);
    return rawFreeze(k);
  }
  // The PEM text of a key argument: a string, a Buffer, `{ key }`, or a KeyObject.
  function pemOf(key) {
    if (key !== null && typeof key === 'object' && !(key instanceof Uint8Array) && KEYS.get(key) === undefined) {
      if (key.format !== undefined && key.format !== 'pem') throw new Error('only PEM keys are supported (format: ' + key.format + ')');
      if (key.passphrase !== undefined) throw new Error('encrypted private keys are not supported');
      return pemOf(key.key);
    }
    const k = KEYS.get(key);
    if (k !== undefined) {
      if (k.bytes) throw new TypeError('a secret key cannot be used as an asymmetric key');
      return k.pem;
    }
    if (key instanceof Uint8Array) return Buffer.from(key).toString('latin1');
    if (typeof key === 'string') return key;
    throw new TypeError('The "key" argument must be a string, Buffer, KeyObject or object with a key');
  }
  function asymmetricKey(key, pub) {
    const k = KEYS.get(key);
    if (k !== undefined && !k.bytes) {
      if (key.type === 'public' || !pub) {
        if (!pub && key.type !== 'private') throw new TypeError('a private key is needed');
        return key;
      }
    }
    const info = JSON.parse(HOST_KEY(pemOf(key), pub));
    if (info.error) throw new Error(info.error);
    return makeKey(info.type, { pem: info.pem }, info);
  }
  function hashOf(alg) {
    const a = String(alg).toLowerCase().replace(/^(rsa-|ecdsa-with-)/, '').replace(/withrsaencryption$/, '').replace(/^sha-/, 'sha').replace(/^(sha\d+)with.*$/, '$1');
    if (a !== 'sha256' && a !== 'sha384' && a !== 'sha512') throw new Error('Invalid digest: ' + alg);
    return a;
  }
  function signer(alg, verifying) {
    const hash = hashOf(alg);
    const data = [];
    const o = {
      update(d, enc) { const b = bytesOf(d, enc); for (let i = 0; i < b.length; i++) data.push(b[i]); return o; },
      end() { return o; },
    };
    const options = (key) => {
      const opts = key !== null && typeof key === 'object' && KEYS.get(key) === undefined && !(key instanceof Uint8Array) ? key : {};
      if (opts.padding !== undefined && opts.padding !== 1) throw new Error('only PKCS#1 v1.5 padding is supported for RSA');
      return opts.dsaEncoding === 'ieee-p1363';
    };
    if (verifying) {
      o.verify = function (key, signature, sigEncoding) {
        const p1363 = options(key);
        const sig = typeof signature === 'string' ? Buffer.from(signature, sigEncoding) : Buffer.from(signature);
        const ok = HOST_VERIFY(pemOf(asymmetricKey(key, true)), hash, toHex(sig), toHex(data), p1363);
        if (ok === null) throw new Error('this key cannot verify ' + alg + ' signatures');
        return ok;
      };
    } else {
      o.sign = function (key, outEncoding) {
        const p1363 = options(key);
        const out = HOST_SIGN(pemOf(asymmetricKey(key, false)), hash, toHex(data), p1363);
        if (out.startsWith('!')) throw new Error(out.slice(1));
        const sig = Buffer.from(out, 'hex');
        return outEncoding ? sig.toString(outEncoding) : sig;
      };
    }
    return o;
  }
  function randomBytes(n) {
    const hex = HOST_RANDOM(Number(n));
    if (hex == null) throw new RangeError('randomBytes: bad size');
    return Buffer.from(hex, 'hex');
  }
  function pbkdf2Sync(password, salt, iterations, keylen, digest) {
    const hex = HOST_PBKDF2(String(digest || 'sha1'), toHex(bytesOf(password)), toHex(bytesOf(salt)), Number(iterations), Number(keylen));
    if (hex == null) throw new RangeError('pbkdf2: unsupported digest, or iterations (1 to 1,000,000) or key length (0 to 4096) out of range');
    return Buffer.from(hex, 'hex');
  }
  const crypto = {
    createHash(alg) {
      if (!HASHES.includes(String(alg).toLowerCase())) throw new Error('Digest method not supported: ' + alg);
      return hashObject(alg, null);
    },
    createHmac(alg, key) {
      const k = bytesOf(key);
      return hashObject(alg, k.length ? k : [0]);
    },
    createSign(alg) { return signer(alg, false); },
    createVerify(alg) { return signer(alg, true); },
    sign(alg, data, key) { return signer(alg || 'sha256', false).update(data).sign(key); },
    verify(alg, data, key, signature) { return signer(alg || 'sha256', true).update(data).verify(key, signature); },
    KeyObject,
    createSecretKey(key, encoding) {
      const bytes = typeof key === 'string' ? Buffer.from(key, encoding) : Buffer.from(bytesOf(key));
      return makeKey('secret', { bytes }, null);
    },
    createPrivateKey(key) { return asymmetricKey(key, false); },
    createPublicKey(key) { return asymmetricKey(key, true); },
    randomBytes,
    randomFillSync(buf, offset, size) {
      const from = offset || 0, n = size === undefined ? buf.length - from : size;
      const bytes = randomBytes(n);
      for (let i = 0; i < n; i++) buf[from + i] = bytes[i];
      return buf;
    },
    randomUUID() {
      const b = randomBytes(16);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = toHex(b);
      return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
    },
    randomInt(min, max) {
      if (max === undefined) { max = min; min = 0; }
      const range = max - min;
      if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || !(range > 0) || range > 2 ** 48) throw new RangeError('randomInt: bad range');
      const b = randomBytes(6);
      const n = b.readUInt32BE(0) * 65536 + b.readUInt16BE(4);
      return min + (n % range);
    },
    pbkdf2Sync,
    pbkdf2(password, salt, iterations, keylen, digest, callback) {
      let result, error = null;
      try { result = pbkdf2Sync(password, salt, iterations, keylen, digest); } catch (e) { error = e; }
      Promise.resolve().then(() => callback(error, result));
    },
    timingSafeEqual(a, b) {
      if (a.length !== b.length) throw new RangeError('Input buffers must have the same byte length');
      let diff = 0;
      for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
      return diff === 0;
    },
    getHashes() { return HASHES.slice(); },
    constants: { RSA_PKCS1_PADDING: 1, RSA_PKCS1_PSS_PADDING: 6, RSA_PSS_SALTLEN_DIGEST: -1, RSA_PSS_SALTLEN_MAX_SIGN: -2, RSA_PSS_SALTLEN_AUTO: -2 },
  };
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

  // ---- Node built-ins that do no I/O: util, events, stream, assert, string_decoder, path,
  // punycode, timers, and the `process` global -------------------------------------------
  const types = {
    isDate: (v) => v instanceof RealDate, isRegExp: (v) => v instanceof RegExp, isPromise: (v) => v instanceof Promise,
    isMap: (v) => v instanceof Map, isSet: (v) => v instanceof Set, isWeakMap: (v) => v instanceof WeakMap,
    isWeakSet: (v) => v instanceof WeakSet, isNativeError: (v) => v instanceof Error,
    isTypedArray: (v) => ArrayBuffer.isView(v) && !(v instanceof DataView), isUint8Array: (v) => v instanceof Uint8Array,
    isArrayBuffer: (v) => v instanceof ArrayBuffer, isAnyArrayBuffer: (v) => v instanceof ArrayBuffer,
    isDataView: (v) => v instanceof DataView, isArrayBufferView: (v) => ArrayBuffer.isView(v),
    isAsyncFunction: (v) => typeof v === 'function' && v[Symbol.toStringTag] === 'AsyncFunction',
    isGeneratorFunction: (v) => typeof v === 'function' && /^(Async)?GeneratorFunction$/.test(v[Symbol.toStringTag]),
    isBoxedPrimitive: (v) => v instanceof Number || v instanceof String || v instanceof Boolean,
  };
  // `util.inspect`, basic: primitives, arrays, plain objects, errors, dates, maps, sets, up
  // to `depth` (2) levels, cycles shown as [Circular].
  function inspect(value, opts) {
    const depth = opts && typeof opts === 'object' && opts.depth !== undefined ? (opts.depth === null ? Infinity : opts.depth) : 2;
    const seenObjects = [];
    const show = (v, level, top) => {
      if (typeof v === 'string') return top ? "'" + v + "'" : "'" + v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n') + "'";
      if (typeof v === 'bigint') return v + 'n';
      if (typeof v === 'symbol') return v.toString();
      if (typeof v === 'function') return '[Function: ' + (v.name || '(anonymous)') + ']';
      if (v === null || typeof v !== 'object') return String(v);
      if (seenObjects.includes(v)) return '[Circular *1]';
      if (v instanceof Error) return v.stack || String(v);
      if (v instanceof RealDate) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
      if (v instanceof RegExp) return String(v);
      if (v instanceof Buffer) return '<Buffer ' + Array.from(v.subarray(0, 50), (b) => (b < 16 ? '0' : '') + b.toString(16)).join(' ') + (v.length > 50 ? ' ... ' + (v.length - 50) + ' more bytes' : '') + '>';
      if (level > depth) return Array.isArray(v) ? '[Array]' : '[Object]';
      seenObjects.push(v);
      let out;
      if (Array.isArray(v)) {
        const items = v.slice(0, 100).map((x) => show(x, level + 1, false));
        if (v.length > 100) items.push('... ' + (v.length - 100) + ' more items');
        out = items.length ? '[ ' + items.join(', ') + ' ]' : '[]';
      } else if (v instanceof Map) {
        out = 'Map(' + v.size + ') {' + (v.size ? ' ' + Array.from(v, ([k, x]) => show(k, level + 1, false) + ' => ' + show(x, level + 1, false)).join(', ') + ' ' : '') + '}';
      } else if (v instanceof Set) {
        out = 'Set(' + v.size + ') {' + (v.size ? ' ' + Array.from(v, (x) => show(x, level + 1, false)).join(', ') + ' ' : '') + '}';
      } else {
        const keys = Object.keys(v);
        const key = (k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : show(k, level + 1, false));
        const body = keys.map((k) => key(k) + ': ' + show(v[k], level + 1, false));
        const proto = Object.getPrototypeOf(v);
        const name = proto && proto !== Object.prototype && proto.constructor && proto.constructor.name ? proto.constructor.name + ' ' : (proto === null ? '[Object: null prototype] ' : '');
        out = body.length ? name + '{ ' + body.join(', ') + ' }' : name + '{}';
      }
      seenObjects.pop();
      return out;
    };
    return show(value, 0, false);
  }
  function format(f, ...args) {
    if (typeof f !== 'string') return [f, ...args].map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ');
    let i = 0;
    let out = f.replace(/%[sdifjoOc%]/g, (m) => {
      if (m === '%%') return '%';
      if (i >= args.length) return m;
      const a = args[i++];
      switch (m) {
        case '%s': return typeof a === 'string' ? a : (typeof a === 'object' && a !== null ? inspect(a, { depth: 0 }) : String(a));
        case '%d': return typeof a === 'object' && a !== null ? 'NaN' : String(Number(a));
        case '%i': return String(parseInt(a, 10));
        case '%f': return String(parseFloat(a));
        case '%j': try { return JSON.stringify(a); } catch (e) { return '[Circular]'; }
        case '%c': return '';
        default: return inspect(a);
      }
    });
    for (; i < args.length; i++) out += ' ' + (typeof args[i] === 'string' ? args[i] : inspect(args[i]));
    return out;
  }
  const promisifyCustom = Symbol.for('nodejs.util.promisify.custom');
  const util = {
    format, inspect, types, TextEncoder, TextDecoder,
    formatWithOptions(_opts, ...args) { return format(...args); },
    inherits(ctor, superCtor) {
      if (typeof ctor !== 'function' || typeof superCtor !== 'function' || superCtor.prototype === undefined) {
        throw new TypeError('The "ctor" and "superCtor" arguments must be functions with a prototype');
      }
      Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
      Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
    },
    promisify(fn) {
      if (typeof fn !== 'function') throw new TypeError('The "original" argument must be of type function');
      if (typeof fn[promisifyCustom] === 'function') return fn[promisifyCustom];
      return function (...args) {
        return new Promise((resolve, reject) => {
          Reflect.apply(fn, this, [...args, (err, value) => (err ? reject(err) : resolve(value))]);
        });
      };
    },
    callbackify(fn) {
      return function (...args) {
        const cb = args.pop();
        Reflect.apply(fn, this, args).then((v) => cb(null, v), (e) => cb(e || new Error('Promise was rejected with a falsy value')));
      };
    },
    // No warning is printed (warden has no stderr for rules).
    deprecate(fn) { return fn; },
    isDeepStrictEqual(a, b) { return deepEqual(a, b, true); },
    isArray: Array.isArray, isBoolean: (v) => typeof v === 'boolean', isNull: (v) => v === null,
    isNullOrUndefined: (v) => v === null || v === undefined, isNumber: (v) => typeof v === 'number',
    isString: (v) => typeof v === 'string', isSymbol: (v) => typeof v === 'symbol', isUndefined: (v) => v === undefined,
    isRegExp: types.isRegExp, isObject: (v) => v !== null && typeof v === 'object', isDate: types.isDate,
    isError: (v) => v instanceof Error, isFunction: (v) => typeof v === 'function',
    isPrimitive: (v) => v === null || (typeof v !== 'object' && typeof v !== 'function'), isBuffer: (v) => v instanceof Buffer,
  };
  util.promisify.custom = promisifyCustom;

  // events: EventEmitter as a function, so that `EventEmitter.call(this)` and
  // `util.inherits` work as in old packages. State lives on the instance only (the
  // prototype is frozen).
  function EventEmitter() { EventEmitter.init.call(this); }
  EventEmitter.init = function () {
    if (!this._events || this._events === Object.getPrototypeOf(this)._events) { this._events = Object.create(null); this._eventsCount = 0; }
  };
  EventEmitter.defaultMaxListeners = 10;
  function listenersOf(self, type) {
    if (!self._events) EventEmitter.init.call(self);
    const l = self._events[type];
    return l === undefined ? [] : l;
  }
  function addListener(self, type, listener, prepend) {
    if (typeof listener !== 'function') throw new TypeError('The "listener" argument must be of type function');
    if (self._events && self._events.newListener !== undefined) self.emit('newListener', type, listener.listener || listener);
    const list = listenersOf(self, type).slice();
    if (prepend) list.unshift(listener); else list.push(listener);
    if (self._events[type] === undefined) self._eventsCount++;
    self._events[type] = list;
    return self;
  }
  function onceWrapper(self, type, listener) {
    let fired = false;
    const wrapped = function (...args) {
      if (fired) return undefined;
      fired = true;
      self.removeListener(type, wrapped);
      return Reflect.apply(listener, self, args);
    };
    wrapped.listener = listener;
    return wrapped;
  }
  Object.assign(EventEmitter.prototype, {
    on(type, listener) { return addListener(this, type, listener, false); },
    addListener(type, listener) { return addListener(this, type, listener, false); },
    prependListener(type, listener) { return addListener(this, type, listener, true); },
    once(type, listener) { return addListener(this, type, onceWrapper(this, type, listener), false); },
    prependOnceListener(type, listener) { return addListener(this, type, onceWrapper(this, type, listener), true); },
    off(type, listener) { return this.removeListener(type, listener); },
    removeListener(type, listener) {
      const list = listenersOf(this, type);
      const i = list.findIndex((l) => l === listener || l.listener === listener);
      if (i < 0) return this;
      const rest = list.slice(0, i).concat(list.slice(i + 1));
      if (rest.length) this._events[type] = rest; else { delete this._events[type]; this._eventsCount--; }
      if (this._events.removeListener !== undefined) this.emit('removeListener', type, listener);
      return this;
    },
    removeAllListeners(type) {
      if (!this._events) return this;
      if (type === undefined) { this._events = Object.create(null); this._eventsCount = 0; } else if (this._events[type] !== undefined) { delete this._events[type]; this._eventsCount--; }
      return this;
    },
    emit(type, ...args) {
      const list = listenersOf(this, type);
      if (list.length === 0) {
        if (type === 'error') {
          const e = args[0];
          throw e instanceof Error ? e : new Error('Unhandled error. (' + inspect(e) + ')');
        }
        return false;
      }
      for (const l of list.slice()) Reflect.apply(l, this, args);
      return true;
    },
    listeners(type) { return listenersOf(this, type).map((l) => l.listener || l); },
    rawListeners(type) { return listenersOf(this, type).slice(); },
    listenerCount(type) { return listenersOf(this, type).length; },
    eventNames() { return this._events ? Reflect.ownKeys(this._events) : []; },
    setMaxListeners(n) { Object.defineProperty(this, '_maxListeners', { value: n, writable: true, configurable: true }); return this; },
    getMaxListeners() { return this._maxListeners === undefined ? EventEmitter.defaultMaxListeners : this._maxListeners; },
  });
  EventEmitter.EventEmitter = EventEmitter;
  EventEmitter.once = function (emitter, type) {
    return new Promise((resolve, reject) => {
      emitter.once(type, (...args) => resolve(args));
      if (type !== 'error') emitter.once('error', reject);
    });
  };
  EventEmitter.listenerCount = (emitter, type) => emitter.listenerCount(type);

  // stream: the legacy `Stream` (an EventEmitter with `pipe`), which jws builds on. No
  // Readable/Writable machinery.
  function Stream(opts) { EventEmitter.call(this, opts); }
  util.inherits(Stream, EventEmitter);
  Stream.prototype.pipe = function (dest) {
    this.on('data', (chunk) => { if (dest.write(chunk) === false && typeof this.pause === 'function') this.pause(); });
    this.on('end', () => { if (typeof dest.end === 'function') dest.end(); });
    dest.emit('pipe', this);
    return dest;
  };
  Stream.Stream = Stream;

  // assert
  class AssertionError extends Error {
    constructor(options) {
      const o = options || {};
      super(o.message !== undefined ? String(o.message) : inspect(o.actual) + ' ' + o.operator + ' ' + inspect(o.expected));
      this.name = 'AssertionError';
      this.code = 'ERR_ASSERTION';
      this.actual = o.actual;
      this.expected = o.expected;
      this.operator = o.operator;
      this.generatedMessage = o.message === undefined;
    }
  }
  function deepEqual(a, b, strict, pairs) {
    if (strict ? Object.is(a, b) : (a == b || (a !== a && b !== b))) return true; // eslint-disable-line eqeqeq
    if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
    if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    if (a instanceof RealDate || b instanceof RealDate) return a instanceof RealDate && b instanceof RealDate && a.getTime() === b.getTime();
    if (a instanceof RegExp || b instanceof RegExp) return String(a) === String(b);
    const seenPairs = pairs || [];
    if (seenPairs.some(([x, y]) => x === a && y === b)) return true;
    if (seenPairs.length > 1000) throw new RangeError('objects nested too deep to compare');
    seenPairs.push([a, b]);
    try {
      if (a instanceof Map || a instanceof Set) {
        if (!(b instanceof Map || b instanceof Set) || a.size !== b.size) return false;
        const ea = Array.from(a), eb = Array.from(b);
        return ea.every((x, i) => deepEqual(x, eb[i], strict, seenPairs));
      }
      if (ArrayBuffer.isView(a)) {
        if (!ArrayBuffer.isView(b) || a.length !== b.length) return false;
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
        return true;
      }
      const ka = Object.keys(a), kb = Object.keys(b);
      if (ka.length !== kb.length) return false;
      for (const k of ka) if (!own(b, k) || !deepEqual(a[k], b[k], strict, seenPairs)) return false;
      return true;
    } finally {
      seenPairs.pop();
    }
  }
  function failWith(actual, expected, message, operator) {
    if (message instanceof Error) throw message;
    throw new AssertionError({ actual, expected, message, operator });
  }
  function matchesError(e, expected) {
    if (expected === undefined) return true;
    if (typeof expected === 'function') {
      if (expected.prototype !== undefined && e instanceof expected) return true;
      if (Error.isPrototypeOf(expected) || expected === Error) return false;
      return expected(e) === true;
    }
    if (expected instanceof RegExp) return expected.test(String(e));
    if (expected !== null && typeof expected === 'object') return Object.keys(expected).every((k) => (expected[k] instanceof RegExp ? expected[k].test(e[k]) : deepEqual(e[k], expected[k], true)));
    return false;
  }
  function makeAssert(strict) {
    const a = function ok(value, message) { if (!value) failWith(value, true, message === undefined ? 'The expression evaluated to a falsy value' : message, '=='); };
    Object.assign(a, {
      ok: a,
      equal(x, y, m) { if (strict ? !Object.is(x, y) : !(x == y || (x !== x && y !== y))) failWith(x, y, m, strict ? 'strictEqual' : '=='); }, // eslint-disable-line eqeqeq
      notEqual(x, y, m) { if (strict ? Object.is(x, y) : x == y) failWith(x, y, m, strict ? 'notStrictEqual' : '!='); }, // eslint-disable-line eqeqeq
      strictEqual(x, y, m) { if (!Object.is(x, y)) failWith(x, y, m, 'strictEqual'); },
      notStrictEqual(x, y, m) { if (Object.is(x, y)) failWith(x, y, m, 'notStrictEqual'); },
      deepEqual(x, y, m) { if (!deepEqual(x, y, strict)) failWith(x, y, m, strict ? 'deepStrictEqual' : 'deepEqual'); },
      notDeepEqual(x, y, m) { if (deepEqual(x, y, strict)) failWith(x, y, m, strict ? 'notDeepStrictEqual' : 'notDeepEqual'); },
      deepStrictEqual(x, y, m) { if (!deepEqual(x, y, true)) failWith(x, y, m, 'deepStrictEqual'); },
      notDeepStrictEqual(x, y, m) { if (deepEqual(x, y, true)) failWith(x, y, m, 'notDeepStrictEqual'); },
      fail(m) { failWith(undefined, undefined, m === undefined ? 'Failed' : m, 'fail'); },
      ifError(v) { if (v !== null && v !== undefined) throw v instanceof Error ? v : new AssertionError({ message: 'ifError got unwanted exception: ' + inspect(v) }); },
      match(s, re, m) { if (!re.test(s)) failWith(s, re, m, 'match'); },
      doesNotMatch(s, re, m) { if (re.test(s)) failWith(s, re, m, 'doesNotMatch'); },
      throws(fn, expected, m) {
        try { fn(); } catch (e) {
          if (!matchesError(e, expected)) throw e;
          return;
        }
        failWith(undefined, expected, typeof expected === 'string' ? expected : m === undefined ? 'Missing expected exception.' : m, 'throws');
      },
      doesNotThrow(fn, _expected, m) {
        try { fn(); } catch (e) { failWith(e, undefined, m === undefined ? 'Got unwanted exception: ' + (e && e.message) : m, 'doesNotThrow'); }
      },
      rejects(p, expected, m) {
        return Promise.resolve(typeof p === 'function' ? p() : p).then(
          () => failWith(undefined, expected, m === undefined ? 'Missing expected rejection.' : m, 'rejects'),
          (e) => { if (!matchesError(e, expected)) throw e; });
      },
      doesNotReject(p, _expected, m) {
        return Promise.resolve(typeof p === 'function' ? p() : p).then(() => undefined, (e) => failWith(e, undefined, m === undefined ? 'Got unwanted rejection.' : m, 'doesNotReject'));
      },
      AssertionError,
    });
    return a;
  }
  const assert = makeAssert(false);
  assert.strict = makeAssert(true);
  assert.strict.strict = assert.strict;

  // string_decoder: bytes in, text out, keeping an incomplete UTF-8 (or UTF-16, base64)
  // sequence for the next write.
  function StringDecoder(encoding) {
    const enc = encodingOf(encoding);
    if (enc === null) throw new TypeError('Unknown encoding: ' + encoding);
    this.encoding = enc;
    this._pending = [];
  }
  StringDecoder.prototype.write = function (buf) {
    const bytes = this._pending.concat(Array.from(typeof buf === 'string' ? Buffer.from(buf) : buf));
    let keep = 0;
    if (this.encoding === 'utf8') {
      // An incomplete sequence at the end waits for its continuation bytes.
      for (let back = 1; back <= Math.min(3, bytes.length); back++) {
        const b = bytes[bytes.length - back];
        if ((b & 0xc0) === 0x80) continue;
        const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
        if (need > back) keep = back;
        break;
      }
    } else if (this.encoding === 'utf16le') {
      keep = bytes.length % 2;
    } else if (this.encoding === 'base64' || this.encoding === 'base64url') {
      keep = bytes.length % 3;
    }
    this._pending = bytes.slice(bytes.length - keep);
    return Buffer.from(bytes.slice(0, bytes.length - keep)).toString(this.encoding);
  };
  StringDecoder.prototype.end = function (buf) {
    const head = buf === undefined ? '' : this.write(buf);
    const rest = this._pending;
    this._pending = [];
    return head + (rest.length ? (this.encoding === 'utf8' ? '\ufffd' : Buffer.from(rest).toString(this.encoding)) : '');
  };
  const string_decoder = { StringDecoder };

  // path (POSIX): the working directory is `/`.
  function normalizeParts(parts, absolute) {
    const out = [];
    for (const p of parts) {
      if (p === '' || p === '.') continue;
      if (p === '..') { if (out.length && out[out.length - 1] !== '..') out.pop(); else if (!absolute) out.push('..'); } else out.push(p);
    }
    return out;
  }
  const strArg = (p, name) => { if (typeof p !== 'string') throw new TypeError('The "' + name + '" argument must be of type string'); return p; };
  const path = {
    sep: '/', delimiter: ':',
    normalize(p) {
      strArg(p, 'path');
      if (p === '') return '.';
      const absolute = p.startsWith('/'), trailing = p.endsWith('/');
      let s = normalizeParts(p.split('/'), absolute).join('/');
      if (s === '' && !absolute) s = '.';
      if (s !== '' && trailing) s += '/';
      return (absolute ? '/' : '') + s;
    },
    join(...parts) {
      const joined = parts.map((p) => strArg(p, 'path')).filter((p) => p !== '').join('/');
      return joined === '' ? '.' : path.normalize(joined);
    },
    resolve(...parts) {
      let resolved = '';
      for (let i = parts.length - 1; i >= 0 && !resolved.startsWith('/'); i--) {
        const p = strArg(parts[i], 'path');
        if (p !== '') resolved = p + (resolved ? '/' + resolved : '');
      }
      if (!resolved.startsWith('/')) resolved = '/' + resolved;
      return '/' + normalizeParts(resolved.split('/'), true).join('/');
    },
    isAbsolute(p) { return strArg(p, 'path').startsWith('/'); },
    dirname(p) {
      strArg(p, 'path');
      if (p === '') return '.';
      const s = p.replace(/\/+$/, '');
      if (s === '') return '/';
      const i = s.lastIndexOf('/');
      if (i < 0) return '.';
      return i === 0 ? '/' : s.slice(0, i).replace(/\/+$/, '') || '/';
    },
    basename(p, ext) {
      const s = strArg(p, 'path').replace(/\/+$/, '');
      const base = s.slice(s.lastIndexOf('/') + 1);
      return typeof ext === 'string' && ext !== base && base.endsWith(ext) ? base.slice(0, base.length - ext.length) : base;
    },
    extname(p) {
      const base = path.basename(p);
      const i = base.lastIndexOf('.');
      return i <= 0 ? '' : base.slice(i);
    },
    relative(from, to) {
      const a = path.resolve(from).split('/').filter(Boolean), b = path.resolve(to).split('/').filter(Boolean);
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      return a.slice(i).map(() => '..').concat(b.slice(i)).join('/');
    },
    parse(p) {
      strArg(p, 'path');
      const root = p.startsWith('/') ? '/' : '', base = path.basename(p), ext = path.extname(p);
      const dir = p.includes('/') ? path.dirname(p) : '';
      return { root, dir, base, ext, name: ext ? base.slice(0, base.length - ext.length) : base };
    },
    format(o) {
      const dir = o.dir || o.root || '', base = o.base || (o.name || '') + (o.ext || '');
      return dir === '' ? base : dir === o.root ? dir + base : dir + '/' + base;
    },
    toNamespacedPath(p) { return p; },
  };
  path.posix = path;

  // punycode (RFC 3492), as Node's deprecated module.
  const punycode = (function () {
    const base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128, maxInt = 2147483647;
    const adapt = (delta, numPoints, first) => {
      let k = 0;
      delta = first ? Math.floor(delta / damp) : delta >> 1;
      delta += Math.floor(delta / numPoints);
      for (; delta > ((base - tMin) * tMax) >> 1; k += base) delta = Math.floor(delta / (base - tMin));
      return Math.floor(k + ((base - tMin + 1) * delta) / (delta + skew));
    };
    const digit = (d) => String.fromCharCode(d + 22 + 75 * (d < 26));
    const ucs2decode = (s) => Array.from(String(s), (c) => c.codePointAt(0));
    const ucs2encode = (a) => String.fromCodePoint(...a);
    function encode(input) {
      const cps = ucs2decode(input);
      let n = initialN, delta = 0, bias = initialBias;
      let out = cps.filter((c) => c < 0x80).map((c) => String.fromCharCode(c)).join('');
      const basic = out.length;
      let h = basic;
      if (basic) out += '-';
      while (h < cps.length) {
        let m = maxInt;
        for (const c of cps) if (c >= n && c < m) m = c;
        if (m - n > Math.floor((maxInt - delta) / (h + 1))) throw new RangeError('Overflow: input needs wider integers to process');
        delta += (m - n) * (h + 1);
        n = m;
        for (const c of cps) {
          if (c < n && ++delta > maxInt) throw new RangeError('Overflow: input needs wider integers to process');
          if (c === n) {
            let q = delta;
            for (let k = base; ; k += base) {
              const t = k <= bias ? tMin : k >= bias + tMax ? tMax : k - bias;
              if (q < t) break;
              out += digit(t + ((q - t) % (base - t)));
              q = Math.floor((q - t) / (base - t));
            }
            out += digit(q);
            bias = adapt(delta, h + 1, h === basic);
            delta = 0;
            ++h;
          }
        }
        ++delta;
        ++n;
      }
      return out;
    }
    function decode(input) {
      const s = String(input);
      const out = [];
      let basic = s.lastIndexOf('-');
      if (basic < 0) basic = 0;
      for (let j = 0; j < basic; j++) {
        if (s.charCodeAt(j) >= 0x80) throw new RangeError('Illegal input >= 0x80 (not a basic code point)');
        out.push(s.charCodeAt(j));
      }
      let i = 0, n = initialN, bias = initialBias;
      for (let index = basic > 0 ? basic + 1 : 0; index < s.length;) {
        const oldi = i;
        for (let w = 1, k = base; ; k += base) {
          if (index >= s.length) throw new RangeError('Invalid input');
          const c = s.charCodeAt(index++);
          const d = c - 48 < 10 ? c - 22 : c - 65 < 26 ? c - 65 : c - 97 < 26 ? c - 97 : base;
          if (d >= base || d > Math.floor((maxInt - i) / w)) throw new RangeError('Invalid input');
          i += d * w;
          const t = k <= bias ? tMin : k >= bias + tMax ? tMax : k - bias;
          if (d < t) break;
          if (w > Math.floor(maxInt / (base - t))) throw new RangeError('Overflow: input needs wider integers to process');
          w *= base - t;
        }
        const len = out.length + 1;
        bias = adapt(i - oldi, len, oldi === 0);
        if (Math.floor(i / len) > maxInt - n) throw new RangeError('Overflow: input needs wider integers to process');
        n += Math.floor(i / len);
        i %= len;
        out.splice(i++, 0, n);
      }
      return String.fromCodePoint(...out);
    }
    const mapLabels = (domain, f) => {
      const parts = String(domain).split('@');
      const host = parts.pop().replace(/[\u3002\uFF0E\uFF61]/g, '.');
      return (parts.length ? parts.join('@') + '@' : '') + host.split('.').map(f).join('.');
    };
    return {
      version: '2.1.0', ucs2: { decode: ucs2decode, encode: ucs2encode }, encode, decode,
      toASCII: (d) => mapLabels(d, (l) => (/[^\0-\x7F]/.test(l) ? 'xn--' + encode(l) : l)),
      toUnicode: (d) => mapLabels(d, (l) => (/^xn--/i.test(l) ? decode(l.slice(4).toLowerCase()) : l)),
    };
  })();

  function clearImmediate(id) { clearTimeout(id); }
  const timersModule = { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval: clearTimeout, clearImmediate };

  // `process`: no environment, no I/O; `nextTick` is a promise job.
  const process = {
    env: rawFreeze({}), argv: ['node'], execArgv: [], platform: 'linux', arch: 'x64', title: 'node',
    version: 'v18.20.8', versions: rawFreeze({ node: '18.20.8' }), release: rawFreeze({ name: 'node' }), browser: false,
    cwd() { return '/'; },
    nextTick(fn, ...args) {
      if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
      Promise.resolve().then(() => Reflect.apply(fn, undefined, args));
    },
    hrtime(previous) {
      const ms = performanceNow();
      let s = Math.floor(ms / 1000), ns = Math.round((ms % 1000) * 1e6);
      if (Array.isArray(previous)) { s -= previous[0]; ns -= previous[1]; if (ns < 0) { s--; ns += 1e9; } }
      return [s, ns];
    },
    emitWarning() {},
  };
  // Frozen here: the lockdown freezes methods without walking into them.
  process.hrtime.bigint = rawFreeze(() => BigInt(Math.round(performanceNow() * 1e6)));
  function performanceNow() { return loginNow === null ? 0 : loginElapsed + clock; }

  // ---- require --------------------------------------------------------------------------
  // A rule's `require(name)` (and a `[modules]` file's): first the manifest's `[modules]`,
  // then the built-in modules (also as `node:name`), then the files of `node_modules` the
  // pipeline included, resolved from the project's directory as Node would (host.rs, with
  // the algorithm the checker used to include them). A file from `node_modules` gets its own
  // `require`, which resolves from its directory: built-ins first, then `node_modules` (a
  // package never sees `[modules]`). Modules are cached per runtime; a module required
  // while it loads (a cycle) gives its exports so far, as in Node.
  const factories = {};
  const loaded = {};
  // HTTP (http.js, over runtime/js/src/net.rs): `request`, `axios`, `node-fetch`, `fetch`.
  const http = HTTP({
    start: HOST_HTTP, log(level, message) { console[level](message); }, fail, querystring, Buffer, toBase64, URL, URLSearchParams,
  });
  const fileModules = new Map();
  const builtins = {
    querystring, crypto, url, buffer, util, events: EventEmitter, stream: Stream, assert, string_decoder, path,
    punycode, timers: timersModule, request: http.request, axios: http.axios, 'node-fetch': http.nodeFetch,
    auth0: auth0Module,
  };
  const notFound = (name) => {
    const e = new Error("Cannot find module '" + name + "'");
    e.code = 'MODULE_NOT_FOUND';
    return e;
  };
  const builtinOf = (n) => {
    const b = n.startsWith('node:') ? n.slice(5) : n;
    return own(builtins, b) ? builtins[b] : undefined;
  };
  function require(name) {
    const n = String(name);
    const at = n.lastIndexOf('@');
    const base = at > 0 ? n.slice(0, at) : n; // `lodash@4.17.19` and `@scope/pkg@1.0` name a version
    if (own(loaded, base)) return loaded[base];
    if (own(factories, base) && !base.startsWith('/')) {
      const module = { exports: {}, id: base, filename: base, loaded: false };
      loaded[base] = module.exports;
      Reflect.apply(factories[base], module.exports, [module, module.exports, require, base, '/']);
      loaded[base] = module.exports;
      module.loaded = true;
      return module.exports;
    }
    const b = builtinOf(base);
    if (b !== undefined) return b;
    return requireFile('/', base, n);
  }
  require.resolve = function resolve(name) {
    const n = String(name);
    const at = n.lastIndexOf('@');
    const base = at > 0 ? n.slice(0, at) : n;
    if (own(factories, base) && !base.startsWith('/')) return base;
    if (builtinOf(base) !== undefined) return base;
    const found = HOST_RESOLVE('/', base);
    if (found == null || !own(factories, found)) throw notFound(n);
    return found;
  };
  function requireFrom(dir) {
    const r = function require(name) {
      const n = String(name);
      const b = builtinOf(n);
      return b !== undefined ? b : requireFile(dir, n, n);
    };
    r.resolve = function resolve(name) {
      const n = String(name);
      if (builtinOf(n) !== undefined) return n;
      const found = HOST_RESOLVE(dir, n);
      if (found == null || !own(factories, found)) throw notFound(n);
      return found;
    };
    return r;
  }
  function requireFile(dir, request, shown) {
    const found = HOST_RESOLVE(dir, request);
    if (found == null || !own(factories, found)) throw notFound(shown);
    const cached = fileModules.get(found);
    if (cached !== undefined) return cached.exports;
    const dirname = found.slice(0, found.lastIndexOf('/')) || '/';
    const module = { id: found, filename: found, path: dirname, loaded: false, exports: {}, children: [], paths: [] };
    fileModules.set(found, module);
    try {
      Reflect.apply(factories[found], module.exports, [module, module.exports, requireFrom(dirname), found, dirname]);
    } catch (e) {
      fileModules.delete(found); // as Node: a module that threw is not cached
      throw e;
    }
    module.loaded = true;
    return module.exports;
  }

  const globalObject = {};

  Object.assign(G, {
    Buffer, TextEncoder, TextDecoder, URL, URLSearchParams,
    UnauthorizedError, console, setTimeout, setInterval, clearTimeout, clearInterval: clearTimeout, setImmediate,
    clearImmediate, process, require, global: globalObject, fetch: http.fetch, Headers: http.Headers, Response: http.Response,
    request: http.request,
  });
  // The helpers Auth0 injected without `require`, when the project installed them:
  // `_` (lodash), `uuid`, `jwt` (jsonwebtoken). Loaded on first use.
  for (const [g, pkg] of [['_', 'lodash'], ['uuid', 'uuid'], ['jwt', 'jsonwebtoken']]) {
    if (HOST_RESOLVE('/', pkg) == null) continue;
    Reflect.defineProperty(G, g, { get: { [g]() { return require(pkg); } }[g], enumerable: false, configurable: true });
  }
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
    harden(builtins); // what `require` answers: crypto, querystring, url, buffer, util, events, ...
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

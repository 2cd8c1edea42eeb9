// HTTP for legacy rules: the `request`, `axios` and `node-fetch` modules and the global
// `fetch`, written over one host call. `host.start(specJson)` hands a request to Rust
// (runtime/js/src/net.rs), which checks the manifest's [http] policy and either refuses at
// once or answers later through `deliver(id, answerJson)`, called by the sandbox when the
// response (or the error) arrives. Everything here is the shape of the three APIs; the
// requests themselves, the policy and the limits are Rust's.
// The prelude calls this factory once and keeps what it returns (docs/javascript.md lists
// what each API supports).
(function (host) {
  'use strict';
  const { start, log, fail, querystring, Buffer, toBase64 } = host;
  // The current rule's requests waiting for their answer, by id.
  const pending = new Map();

  const REASONS = {
    200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
    303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request',
    401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout',
    409: 'Conflict', 410: 'Gone', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error',
    502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  };
  const reason = (status) => REASONS[status] || '';

  // Sends `spec` ({ method, url, headers: [[name, value]], body, timeout }); `done(answer)`
  // runs with `{ status, headers, body, url, redirected }` or `{ error: { code, message } }`.
  function send(spec, done) {
    let r;
    try {
      r = JSON.parse(start(JSON.stringify(spec)));
    } catch (e) {
      r = { error: { code: 'EINVAL', message: String((e && e.message) || e) } };
    }
    if (r.error) {
      if (r.error.code === 'EPOLICY' || r.error.code === 'ELIMIT') {
        log('warn', 'http: ' + spec.method + ' ' + String(spec.url).split('?')[0] + ' refused: ' + r.error.message);
      }
      // As a network error would: after the call returned.
      Promise.resolve().then(() => done(r));
      return;
    }
    pending.set(r.id, done);
  }

  function networkError(e, url) {
    const err = new Error(e.message);
    err.code = e.code;
    err.errno = e.code;
    err.url = url;
    return err;
  }

  function urlOf(u) {
    if (typeof u === 'string') return u;
    if (u && typeof u.href === 'string') return u.href;
    if (u && typeof u.url === 'string') return u.url;
    return String(u);
  }
  function withQuery(url, params) {
    if (!params) return url;
    const q = typeof params === 'string' ? params : params instanceof host.URLSearchParams ? params.toString() : querystring.stringify(params);
    return q ? url + (url.includes('?') ? '&' : '?') + q : url;
  }
  function join(base, path) {
    if (!base || /^[a-z][a-z0-9+.-]*:/i.test(path)) return path;
    return String(base).replace(/\/+$/, '') + '/' + String(path).replace(/^\/+/, '');
  }
  // Header entries from an object, an array of pairs or a Headers, names lowercased.
  function entries(h) {
    const out = [];
    if (!h) return out;
    if (h instanceof Headers) { h.forEach((v, k) => out.push([k, v])); return out; }
    if (Array.isArray(h)) { for (const [k, v] of h) out.push([String(k).toLowerCase(), String(v)]); return out; }
    for (const k of Object.keys(h)) {
      const v = h[k];
      if (v === undefined || v === null) continue;
      out.push([k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)]);
    }
    return out;
  }
  function setDefault(list, name, value) {
    if (!list.some(([k]) => k === name)) list.push([name, value]);
  }
  function basic(user, pass) {
    return 'Basic ' + toBase64(Buffer.from(String(user === undefined ? '' : user) + ':' + String(pass === undefined ? '' : pass)));
  }
  function bodyText(b) {
    if (b === undefined || b === null) return null;
    if (typeof b === 'string') return b;
    if (b instanceof Uint8Array) return Buffer.from(b).toString('utf8');
    if (b instanceof host.URLSearchParams) return b.toString();
    return String(b);
  }
  // Response headers as Node gives them: lowercase names, repeated ones joined (set-cookie
  // an array).
  function headerObject(list) {
    const out = {};
    for (const [k, v] of list) {
      if (k === 'set-cookie') (out[k] || (out[k] = [])).push(v);
      else out[k] = k in out ? out[k] + ', ' + v : v;
    }
    return out;
  }
  function merge(a, b) {
    const out = Object.assign({}, a, b);
    if ((a && a.headers) || (b && b.headers)) out.headers = Object.assign({}, a && a.headers, b && b.headers);
    return out;
  }

  // ---- request (callback API) ------------------------------------------------------------
  function makeRequest(defaults) {
    function request(uri, options, callback) {
      if (typeof options === 'function') { callback = options; options = undefined; }
      const opts0 = uri !== null && typeof uri === 'object' && !(uri instanceof host.URL) ? merge(uri, options) : merge(options, { uri: urlOf(uri) });
      let opts = opts0;
      opts = merge(defaults, opts);
      if (typeof callback !== 'function') callback = typeof opts.callback === 'function' ? opts.callback : function () {};
      const method = String(opts.method || 'GET').toUpperCase();
      let url = join(opts.baseUrl, urlOf(opts.uri !== undefined ? opts.uri : opts.url));
      url = withQuery(url, opts.qs);
      const headers = entries(opts.headers);
      let body = null;
      if (opts.form !== undefined) {
        body = typeof opts.form === 'string' ? opts.form : querystring.stringify(opts.form);
        setDefault(headers, 'content-type', 'application/x-www-form-urlencoded');
      } else if (opts.json !== undefined && opts.json !== null && typeof opts.json === 'object') {
        body = JSON.stringify(opts.json);
        setDefault(headers, 'content-type', 'application/json');
      } else if (opts.body !== undefined) {
        if (opts.json && typeof opts.body === 'object' && !(opts.body instanceof Uint8Array)) {
          body = JSON.stringify(opts.body);
          setDefault(headers, 'content-type', 'application/json');
        } else {
          body = bodyText(opts.body);
        }
      }
      if (opts.json) setDefault(headers, 'accept', 'application/json');
      const auth = opts.auth;
      if (auth && typeof auth === 'object') {
        if (auth.bearer !== undefined) setDefault(headers, 'authorization', 'Bearer ' + (typeof auth.bearer === 'function' ? auth.bearer() : auth.bearer));
        else setDefault(headers, 'authorization', basic(auth.user !== undefined ? auth.user : auth.username, auth.pass !== undefined ? auth.pass : auth.password));
      }
      send({ method, url, headers, body, timeout: opts.timeout }, (r) => {
        if (r.error) return callback(networkError(r.error, url));
        let data = r.body;
        if (opts.json && data !== '') { try { data = JSON.parse(data); } catch (e) { /* as request: the text */ } }
        if (opts.encoding === null) data = Buffer.from(r.body);
        const response = {
          statusCode: r.status, statusMessage: reason(r.status), headers: headerObject(r.headers), body: data,
          url: r.url, request: { uri: { href: r.url }, href: r.url, method },
        };
        callback(null, response, data);
      });
      // Not a stream: `pipe` and events are not supported.
      return { abort() {}, on() { return this; } };
    }
    for (const m of ['get', 'post', 'put', 'patch', 'head', 'delete', 'options']) {
      request[m] = function (uri, options, callback) {
        if (typeof options === 'function') { callback = options; options = undefined; }
        const o = uri !== null && typeof uri === 'object' && !(uri instanceof host.URL) ? merge(uri, options) : merge(options, { uri: urlOf(uri) });
        o.method = m.toUpperCase();
        return request(o, callback);
      };
    }
    request.del = request.delete;
    request.defaults = (d) => makeRequest(merge(defaults, d));
    return request;
  }

  // ---- axios (promise API) ---------------------------------------------------------------
  class AxiosError extends Error {
    constructor(message, code, config, response) {
      super(message);
      this.name = 'AxiosError';
      this.code = code;
      this.config = config;
      this.request = {};
      this.response = response;
      this.status = response ? response.status : undefined;
      this.isAxiosError = true;
    }
    toJSON() { return { message: this.message, name: this.name, code: this.code, status: this.status }; }
  }
  function makeAxios(defaults) {
    function call(config) {
      const c = merge(defaults, config);
      c.headers = Object.assign({}, (defaults.headers && defaults.headers.common) || {}, config.headers || {});
      const method = String(c.method || 'get').toUpperCase();
      const url = withQuery(join(c.baseURL, urlOf(c.url)), c.params);
      const headers = entries(c.headers).filter(([k]) => k !== 'common');
      setDefault(headers, 'accept', 'application/json, text/plain, */*');
      let body = null;
      if (c.data !== undefined && c.data !== null) {
        if (typeof c.data === 'string') {
          body = c.data;
          setDefault(headers, 'content-type', 'application/x-www-form-urlencoded');
        } else if (c.data instanceof host.URLSearchParams) {
          body = c.data.toString();
          setDefault(headers, 'content-type', 'application/x-www-form-urlencoded');
        } else if (c.data instanceof Uint8Array) {
          body = bodyText(c.data);
        } else {
          body = JSON.stringify(c.data);
          setDefault(headers, 'content-type', 'application/json');
        }
      }
      if (c.auth) setDefault(headers, 'authorization', basic(c.auth.username, c.auth.password));
      const config2 = Object.assign({}, c, { method: method.toLowerCase(), url });
      return new Promise((resolve, reject) => {
        send({ method, url, headers, body, timeout: c.timeout }, (r) => {
          if (r.error) {
            const timedOut = r.error.code === 'ETIMEDOUT';
            const message = timedOut && c.timeout ? 'timeout of ' + c.timeout + 'ms exceeded' : r.error.message;
            return reject(new AxiosError(message, timedOut ? 'ECONNABORTED' : r.error.code, config2, undefined));
          }
          let data = r.body;
          if (c.responseType !== 'text' && c.responseType !== 'arraybuffer' && data !== '') {
            try { data = JSON.parse(data); } catch (e) { /* as axios: the text */ }
          }
          if (c.responseType === 'arraybuffer') data = Buffer.from(r.body);
          const response = { data, status: r.status, statusText: reason(r.status), headers: headerObject(r.headers), config: config2, request: {} };
          const valid = typeof c.validateStatus === 'function' ? c.validateStatus(r.status) : c.validateStatus === null || (r.status >= 200 && r.status < 300);
          if (valid) resolve(response);
          else reject(new AxiosError('Request failed with status code ' + r.status, r.status < 500 ? 'ERR_BAD_REQUEST' : 'ERR_BAD_RESPONSE', config2, response));
        });
      });
    }
    function axios(a, b) {
      return typeof a === 'string' ? call(Object.assign({}, b, { url: a })) : call(a || {});
    }
    axios.request = (config) => call(config || {});
    for (const m of ['get', 'delete', 'head', 'options']) axios[m] = (url, config) => call(Object.assign({}, config, { url, method: m }));
    for (const m of ['post', 'put', 'patch']) axios[m] = (url, data, config) => call(Object.assign({}, config, { url, data, method: m }));
    axios.create = (d) => makeAxios(merge(defaults, d || {}));
    axios.defaults = defaults;
    axios.isAxiosError = (e) => !!(e && e.isAxiosError);
    axios.AxiosError = AxiosError;
    axios.default = axios;
    return axios;
  }

  // ---- fetch -------------------------------------------------------------------------------
  class Headers {
    constructor(init) {
      this._list = [];
      for (const [k, v] of entries(init)) this.append(k, v);
    }
    append(k, v) { this._list.push([String(k).toLowerCase(), String(v)]); }
    set(k, v) { this.delete(k); this.append(k, v); }
    delete(k) { const n = String(k).toLowerCase(); this._list = this._list.filter(([x]) => x !== n); }
    get(k) {
      const n = String(k).toLowerCase();
      const vs = this._list.filter(([x]) => x === n).map(([, v]) => v);
      return vs.length ? vs.join(', ') : null;
    }
    has(k) { const n = String(k).toLowerCase(); return this._list.some(([x]) => x === n); }
    forEach(f, thisArg) { for (const [k, v] of this.entries()) f.call(thisArg, v, k, this); }
    *entries() { const seen = new Set(); for (const [k] of this._list) { if (seen.has(k)) continue; seen.add(k); yield [k, this.get(k)]; } }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    [Symbol.iterator]() { return this.entries(); }
    raw() { const out = {}; for (const [k, v] of this._list) (out[k] || (out[k] = [])).push(v); return out; }
  }
  class Response {
    constructor(body, init) {
      const i = init || {};
      this._body = body === undefined || body === null ? '' : String(body);
      this.status = i.status === undefined ? 200 : i.status;
      this.statusText = i.statusText !== undefined ? i.statusText : reason(this.status);
      this.headers = i.headers instanceof Headers ? i.headers : new Headers(i.headers);
      this.url = i.url || '';
      this.redirected = !!i.redirected;
      this.bodyUsed = false;
    }
    get ok() { return this.status >= 200 && this.status < 300; }
    _take() {
      if (this.bodyUsed) return Promise.reject(new TypeError('Body has already been consumed.'));
      this.bodyUsed = true;
      return Promise.resolve(this._body);
    }
    text() { return this._take(); }
    json() { return this._take().then((t) => JSON.parse(t)); }
    arrayBuffer() { return this._take().then((t) => Buffer.from(t).buffer); }
    buffer() { return this._take().then((t) => Buffer.from(t)); }
    clone() { return new Response(this._body, this); }
  }
  class FetchError extends Error {
    constructor(message, type, e) {
      super(message);
      this.name = 'FetchError';
      this.type = type;
      if (e) { this.code = e.code; this.errno = e.code; }
    }
  }
  function makeFetch(errors) {
    return function fetch(input, init) {
      const i = init || {};
      const req = input !== null && typeof input === 'object' && !(input instanceof host.URL) ? input : {};
      const url = typeof input === 'string' ? input : urlOf(req.url !== undefined ? req.url : input);
      const method = String(i.method || req.method || 'GET').toUpperCase();
      const headers = entries(i.headers || req.headers);
      let body = bodyText(i.body !== undefined ? i.body : req.body);
      if ((i.body instanceof host.URLSearchParams)) setDefault(headers, 'content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
      else if (typeof (i.body) === 'string') setDefault(headers, 'content-type', 'text/plain;charset=UTF-8');
      return new Promise((resolve, reject) => {
        send({ method, url, headers, body, timeout: i.timeout }, (r) => {
          if (r.error) return reject(errors(r.error, url));
          resolve(new Response(r.body, { status: r.status, headers: r.headers, url: r.url, redirected: r.redirected }));
        });
      });
    };
  }
  // The global `fetch` fails as Node's does (a TypeError with the cause); `node-fetch` with
  // its FetchError.
  const fetch = makeFetch((e, url) => {
    const err = new TypeError('fetch failed');
    err.cause = networkError(e, url);
    return err;
  });
  const nodeFetch = makeFetch((e, url) => new FetchError('request to ' + url + ' failed, reason: ' + e.message, e.code === 'ETIMEDOUT' ? 'request-timeout' : 'system', e));
  nodeFetch.default = nodeFetch;
  nodeFetch.Headers = Headers;
  nodeFetch.Response = Response;
  nodeFetch.FetchError = FetchError;

  return {
    request: makeRequest({}),
    axios: makeAxios({ headers: { common: {} } }),
    fetch, nodeFetch, Headers, Response,
    // An answer came (see sandbox.rs). A callback that throws fails the rule, as a timer's.
    deliver(id, json) {
      const done = pending.get(id);
      if (done === undefined) return;
      pending.delete(id);
      try { done(JSON.parse(json)); } catch (e) { fail(e); }
    },
    // A rule starts: answers to requests of earlier rules are not heard.
    clear() { pending.clear(); },
  };
});

// Evaluated inside each bot's isolate before prelude.js: the web platform classes a bot may use
// (Headers, Response, URL, URLSearchParams, TextEncoder, TextDecoder, crypto, atob, btoa, and a WebSocket
// that cannot connect). URL
// parsing, UTF-8 and randomness are the worker's (node's) through `host`, which takes and returns
// copies only.
// eslint-disable-next-line @typescript-eslint/no-unused-expressions -- the script's value is what the worker runs
(function installWeb(host) {
  'use strict';
  const { url: hostUrl, uuid: hostUuid, random: hostRandom } = host;
  const { encode: hostEncode, decode: hostDecode, atob: hostAtob, btoa: hostBtoa } = host;
  const parse = JSON.parse;
  const freeze = Object.freeze;

  // ---- fetch's Headers and Response ----
  class Headers {
    #map = new Map();
    constructor(init) {
      if (init instanceof Headers) {
        init.forEach((v, k) => this.append(k, v));
      } else if (Array.isArray(init)) {
        for (const [k, v] of init) {
          this.append(k, v);
        }
      } else if (init && typeof init === 'object') {
        for (const k of Object.keys(init)) {
          this.append(k, init[k]);
        }
      }
    }
    append(name, value) {
      const key = String(name).toLowerCase();
      const old = this.#map.get(key);
      this.#map.set(key, old === undefined ? String(value) : `${old}, ${value}`);
    }
    set(name, value) {
      this.#map.set(String(name).toLowerCase(), String(value));
    }
    get(name) {
      return this.#map.get(String(name).toLowerCase()) ?? null;
    }
    has(name) {
      return this.#map.has(String(name).toLowerCase());
    }
    delete(name) {
      this.#map.delete(String(name).toLowerCase());
    }
    forEach(fn, thisArg) {
      for (const [k, v] of this.entries()) {
        fn.call(thisArg, v, k, this);
      }
    }
    *entries() {
      yield* [...this.#map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    }
    *keys() {
      for (const [k] of this.entries()) {
        yield k;
      }
    }
    *values() {
      for (const [, v] of this.entries()) {
        yield v;
      }
    }
    [Symbol.iterator]() {
      return this.entries();
    }
  }

  class Response {
    #body;
    constructor(body, init = {}) {
      this.#body = body === undefined || body === null ? '' : String(body);
      this.status = init.status ?? 200;
      this.statusText = init.statusText ?? '';
      this.headers = new Headers(init.headers);
      this.url = init.url ?? '';
      this.redirected = Boolean(init.redirected);
      this.ok = this.status >= 200 && this.status < 300;
      this.bodyUsed = false;
    }
    async text() {
      this.bodyUsed = true;
      return this.#body;
    }
    async json() {
      this.bodyUsed = true;
      return parse(this.#body);
    }
  }

  // ---- URL and URLSearchParams ----
  const URL_PARTS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname'];
  const urlParts = new WeakMap();
  const urlParams = new WeakMap();
  const paramsOwner = new WeakMap();

  function formEncode(s) {
    return encodeURIComponent(s)
      .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
      .replace(/%20/g, '+');
  }
  function formDecode(s) {
    const spaced = s.replace(/\+/g, ' ');
    try {
      return decodeURIComponent(spaced);
    } catch {
      return spaced;
    }
  }
  function parseQuery(query) {
    const list = [];
    for (const part of query.replace(/^\?/, '').split('&')) {
      if (!part) {
        continue;
      }
      const eq = part.indexOf('=');
      list.push(eq < 0 ? [formDecode(part), ''] : [formDecode(part.slice(0, eq)), formDecode(part.slice(eq + 1))]);
    }
    return list;
  }

  class URLSearchParams {
    #list = [];
    constructor(init) {
      if (typeof init === 'string') {
        this.#list = parseQuery(init);
      } else if (init instanceof URLSearchParams) {
        this.#list = [...init.entries()];
      } else if (init && typeof init[Symbol.iterator] === 'function') {
        for (const [k, v] of init) {
          this.#list.push([String(k), String(v)]);
        }
      } else if (init && typeof init === 'object') {
        for (const k of Object.keys(init)) {
          this.#list.push([k, String(init[k])]);
        }
      }
    }
    #changed() {
      const url = paramsOwner.get(this);
      if (url) {
        const query = this.toString();
        urlParts.set(url, hostUrl(url.href, undefined, 'search', query ? `?${query}` : ''));
      }
    }
    _reset(list) {
      this.#list = list;
    }
    get size() {
      return this.#list.length;
    }
    append(k, v) {
      this.#list.push([String(k), String(v)]);
      this.#changed();
    }
    delete(k, v) {
      this.#list = this.#list.filter(([a, b]) => a !== String(k) || (v !== undefined && b !== String(v)));
      this.#changed();
    }
    get(k) {
      return this.#list.find(([a]) => a === String(k))?.[1] ?? null;
    }
    getAll(k) {
      return this.#list.filter(([a]) => a === String(k)).map(([, b]) => b);
    }
    has(k, v) {
      return this.#list.some(([a, b]) => a === String(k) && (v === undefined || b === String(v)));
    }
    set(k, v) {
      const key = String(k);
      const at = this.#list.findIndex(([a]) => a === key);
      if (at < 0) {
        this.#list.push([key, String(v)]);
      } else {
        this.#list[at] = [key, String(v)];
        this.#list = this.#list.filter(([a], i) => a !== key || i <= at);
      }
      this.#changed();
    }
    sort() {
      this.#list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      this.#changed();
    }
    forEach(fn, thisArg) {
      for (const [k, v] of this.#list) {
        fn.call(thisArg, v, k, this);
      }
    }
    *entries() {
      yield* this.#list.map(([k, v]) => [k, v]);
    }
    *keys() {
      for (const [k] of this.#list) {
        yield k;
      }
    }
    *values() {
      for (const [, v] of this.#list) {
        yield v;
      }
    }
    [Symbol.iterator]() {
      return this.entries();
    }
    toString() {
      return this.#list.map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`).join('&');
    }
  }

  class URL {
    constructor(url, base) {
      urlParts.set(this, hostUrl(String(url), base === undefined ? undefined : String(base)));
    }
    static canParse(url, base) {
      try {
        new URL(url, base);
        return true;
      } catch {
        return false;
      }
    }
    get search() {
      return urlParts.get(this).search;
    }
    set search(value) {
      urlParts.set(this, hostUrl(this.href, undefined, 'search', String(value)));
      urlParams.get(this)?._reset(parseQuery(urlParts.get(this).search));
    }
    get hash() {
      return urlParts.get(this).hash;
    }
    set hash(value) {
      urlParts.set(this, hostUrl(this.href, undefined, 'hash', String(value)));
    }
    get searchParams() {
      let params = urlParams.get(this);
      if (!params) {
        params = new URLSearchParams(this.search);
        urlParams.set(this, params);
        paramsOwner.set(params, this);
      }
      return params;
    }
    toString() {
      return this.href;
    }
    toJSON() {
      return this.href;
    }
  }
  for (const part of URL_PARTS) {
    Object.defineProperty(URL.prototype, part, {
      get() {
        return urlParts.get(this)[part];
      },
      set:
        part === 'origin'
          ? undefined
          : function (value) {
              urlParts.set(this, hostUrl(this.href, undefined, part, String(value)));
              urlParams.get(this)?._reset(parseQuery(urlParts.get(this).search));
            },
    });
  }

  // ---- text, base64, crypto ----
  function bytesOf(input) {
    if (input === undefined) {
      return new Uint8Array(0);
    }
    if (input instanceof ArrayBuffer) {
      return new Uint8Array(input.slice(0));
    }
    if (ArrayBuffer.isView(input)) {
      return new Uint8Array(input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength));
    }
    throw new TypeError('expected an ArrayBuffer or a typed array');
  }
  class TextEncoder {
    get encoding() {
      return 'utf-8';
    }
    encode(input = '') {
      return hostEncode(String(input));
    }
  }
  class TextDecoder {
    #fatal;
    #ignoreBOM;
    constructor(label = 'utf-8', options = {}) {
      if (!/^utf-?8$/i.test(String(label))) {
        throw new RangeError(`only utf-8 is available in the bot sandbox, not ${label}`);
      }
      this.#fatal = Boolean(options.fatal);
      this.#ignoreBOM = Boolean(options.ignoreBOM);
    }
    get encoding() {
      return 'utf-8';
    }
    decode(input) {
      return hostDecode(bytesOf(input), this.#fatal, this.#ignoreBOM);
    }
  }
  const crypto = freeze({
    randomUUID: () => hostUuid(),
    getRandomValues(array) {
      if (!ArrayBuffer.isView(array) || array.byteLength > 65536) {
        throw new TypeError('getRandomValues takes an integer typed array of at most 65536 bytes');
      }
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(hostRandom(array.byteLength));
      return array;
    },
  });

  // @medplum/core reads WebSocket's state constants when it loads (its subscription client); a bot
  // has no sockets, so the class is there to be read, and constructing one says why it fails.
  class WebSocket {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;
    constructor() {
      throw new TypeError('WebSocket is not available to bots');
    }
  }

  const globals = {
    WebSocket,
    Headers,
    Response,
    URL,
    URLSearchParams,
    TextEncoder,
    TextDecoder,
    atob: (s) => hostAtob(String(s)),
    btoa: (s) => hostBtoa(String(s)),
    crypto,
  };
  for (const name of Object.keys(globals)) {
    Object.defineProperty(globalThis, name, { value: globals[name], writable: true, configurable: true });
  }
});

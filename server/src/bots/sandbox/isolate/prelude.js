// Evaluated inside each bot's isolate after web.js and before the bot's code: it builds the
// console, timers, fetch, the medplum argument and the bot's module on the host functions in `host`.
// Every host function takes and returns copies; none hands the isolate a reference to anything in
// the worker process. Whatever the bot later does to these globals or to built-in prototypes can
// only change what the bot itself sees: the host checks every argument again.
// eslint-disable-next-line @typescript-eslint/no-unused-expressions -- the script's value is what the worker runs
(function install(host) {
  'use strict';
  const g = globalThis;
  const { log: hostLog, send: hostSend } = host;
  // web.js's classes, taken before the bot can replace the globals.
  const { Headers, Response, URLSearchParams } = g;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const race = Promise.race.bind(Promise);
  const freeze = Object.freeze;

  let lineMax = 65536;
  let nextId = 0;
  let failRun = () => {};
  const pending = new Map();
  const timers = new Map();

  // ---- host requests (medplum calls, fetch): answered later through dispatch('settle', …) ----
  function request(kind, payload) {
    return new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      try {
        hostSend(kind, id, stringify(payload));
      } catch (err) {
        pending.delete(id);
        reject(err);
      }
    });
  }

  function dispatch(kind, id, payload) {
    if (kind === 'settle') {
      const waiter = pending.get(id);
      if (waiter) {
        pending.delete(id);
        waiter.resolve(parse(payload));
      }
      return;
    }
    if (kind === 'timer') {
      const timer = timers.get(id);
      if (!timer) {
        return;
      }
      if (timer.repeat === undefined) {
        timers.delete(id);
      } else {
        hostSend('timer', id, String(timer.repeat));
      }
      try {
        timer.fn();
      } catch (err) {
        failRun(err);
      }
    }
  }

  // ---- console ----
  function format(value) {
    if (typeof value === 'string') {
      return value;
    }
    if (value instanceof Error) {
      return typeof value.stack === 'string' ? value.stack : String(value);
    }
    if (typeof value === 'function') {
      return `[Function ${value.name || '(anonymous)'}]`;
    }
    if (typeof value === 'bigint') {
      return `${value}n`;
    }
    if (value === null || typeof value !== 'object') {
      return String(value);
    }
    try {
      return stringify(value) ?? String(value);
    } catch {
      return '[object that cannot be shown as JSON]';
    }
  }
  function emit(level, args) {
    let text = '';
    for (let i = 0; i < args.length; i++) {
      text += (i ? ' ' : '') + format(args[i]);
    }
    hostLog(level, text.length > lineMax ? text.slice(0, lineMax) : text, text.length);
  }
  const consoleObject = {};
  for (const [name, level] of [
    ['log', 'log'],
    ['info', 'info'],
    ['warn', 'warn'],
    ['error', 'error'],
    ['debug', 'debug'],
    ['trace', 'debug'],
    ['dir', 'log'],
  ]) {
    consoleObject[name] = (...args) => emit(level, args);
  }

  // ---- timers (the host keeps the clock; the callbacks run here) ----
  function addTimer(fn, ms, args, repeat) {
    if (typeof fn !== 'function') {
      throw new TypeError('the callback must be a function');
    }
    const delay = Math.max(0, Number(ms) || 0);
    const id = ++nextId;
    timers.set(id, { fn: () => fn(...args), repeat: repeat ? delay : undefined });
    try {
      hostSend('timer', id, String(delay));
    } catch (err) {
      timers.delete(id);
      throw err;
    }
    return id;
  }
  function clearTimer(id) {
    if (timers.delete(id)) {
      hostSend('clear', id, '');
    }
  }

  // ---- fetch ----
  async function fetch(input, init = {}) {
    const url =
      typeof input === 'string' ? input : input && typeof input.href === 'string' ? input.href : (input?.url ?? '');
    const headers = new Headers(init.headers ?? input?.headers);
    let body = init.body ?? undefined;
    if (body instanceof URLSearchParams) {
      if (!headers.has('content-type')) {
        headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
      }
      body = body.toString();
    } else if (body !== undefined && body !== null && typeof body !== 'string') {
      throw new TypeError('fetch in the bot sandbox sends text bodies only (a string or URLSearchParams)');
    }
    const answer = await request('fetch', {
      url: String(url),
      method: String(init.method ?? input?.method ?? 'GET'),
      headers: [...headers.entries()],
      body: body ?? undefined,
      redirect: init.redirect ?? 'follow',
    });
    if (answer.error) {
      throw new TypeError(answer.error.message);
    }
    const res = answer.ok;
    return new Response(res.body, res);
  }

  // ---- the medplum argument: every method call goes to a MedplumClient in the worker process ----
  const medplum = new Proxy(Object.create(null), {
    get(_target, name) {
      // 'then' must stay undefined or `await medplum` would call the server.
      if (typeof name !== 'string' || name === 'then' || name === 'toJSON') {
        return undefined;
      }
      return async (...args) => {
        const answer = await request('medplum', [name, args]);
        if (answer.error) {
          const err = new Error(answer.error.message);
          err.name = answer.error.name || 'Error';
          if (answer.error.outcome) {
            err.outcome = answer.error.outcome;
          }
          throw err;
        }
        const value = answer.ok;
        if (answer.bundle && Array.isArray(value)) {
          Object.defineProperty(value, 'bundle', { value: answer.bundle });
        }
        return value;
      };
    },
  });

  // ---- the bot's module and its run ----
  function describe(err) {
    if (err instanceof Error) {
      const stack = typeof err.stack === 'string' && err.stack.includes(err.message) ? err.stack : '';
      // The prelude's own frames say nothing about the bot.
      const frames = stack.split('\n').filter((line) => !/hale-(prelude|web)\.js/.test(line));
      return (stack ? frames.join('\n') : `${err.name}: ${err.message}`).slice(0, 4000);
    }
    if (typeof err === 'string') {
      return err.slice(0, 4000);
    }
    try {
      return String(stringify(err)).slice(0, 4000);
    } catch {
      return String(err).slice(0, 4000);
    }
  }
  function noModules(name) {
    throw new Error(`require('${name}'): modules are not available in the sandbox; bundle them`);
  }

  // Resolves to "status\npayload" (one string is the one thing copied out exactly): ok, error,
  // invalid-code or not-json.
  async function start(define, eventJson, maxLine) {
    lineMax = maxLine;
    const module = { exports: {} };
    try {
      define.call(module.exports, module.exports, noModules, module, '/bot.js', '/');
    } catch (err) {
      return `invalid-code\nthe bot's code failed to load: ${describe(err)}`;
    }
    const handler = module.exports?.handler;
    if (typeof handler !== 'function') {
      return 'invalid-code\nthe bot does not export a handler function (exports.handler)';
    }
    const uncaught = new Promise((_resolve, reject) => {
      failRun = reject;
    });
    let value;
    try {
      value = await race([(async () => handler(medplum, parse(eventJson)))(), uncaught]);
    } catch (err) {
      return `error\n${describe(err)}`;
    }
    if (value === undefined) {
      return 'ok\n';
    }
    let json;
    try {
      json = stringify(value);
    } catch {
      json = undefined;
    }
    return typeof json === 'string' ? `ok\n${json}` : 'not-json\n';
  }

  const globals = {
    console: freeze(consoleObject),
    setTimeout: (fn, ms, ...args) => addTimer(fn, ms, args, false),
    setInterval: (fn, ms, ...args) => addTimer(fn, ms, args, true),
    clearTimeout: clearTimer,
    clearInterval: clearTimer,
    queueMicrotask: (fn) => void Promise.resolve().then(fn),
    fetch,
    __hale_start: start,
    __hale_dispatch: dispatch,
  };
  for (const name of Object.keys(globals)) {
    Object.defineProperty(g, name, { value: globals[name], writable: true, configurable: true });
  }
});

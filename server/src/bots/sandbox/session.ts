import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ivm from 'isolated-vm';
import { HostCalls } from './host-calls';
import { RunLog } from './run-log';
import type { SandboxResult, SandboxRun } from './types';

/** The isolate-side scripts, in order: the web classes, then the globals and the bot's module built on them. */
const PRELUDE = ['web.js', 'prelude.js'].map((name) => ({
  filename: `file:///hale-${name}`,
  source: readFileSync(join(__dirname, 'isolate', name), 'utf8'),
}));
/** Largest return value (characters of JSON) copied out of a bot; the server holds it in memory. */
const MAX_RETURN_CHARS = 16 * 1024 * 1024;
const WATCH_EVERY_MS = 10;
const LOG_FLUSH_TICKS = 5;
const SETTABLE_URL_PARTS = new Set([
  'href',
  'protocol',
  'username',
  'password',
  'host',
  'hostname',
  'port',
  'pathname',
  'search',
  'hash',
]);

export type RunResult = Omit<SandboxResult, 'logs' | 'durationMs'>;

interface RunState {
  log: RunLog;
  calls: HostCalls;
  cpuLeftMs(): number;
}

/**
 * One isolate with the prelude installed, ready for exactly one bot run: a fresh isolate per run
 * means nothing (secrets, globals, leaked timers) survives from one bot to the next. Worker
 * processes build the next session while idle, so a run does not wait for the isolate to start.
 */
export class Session {
  private state: RunState | undefined;

  private constructor(
    readonly memoryMb: number,
    private readonly isolate: ivm.Isolate,
    private readonly context: ivm.Context,
    private startRef?: ivm.Reference,
    private dispatchRef?: ivm.Reference
  ) {}

  static async create(memoryMb: number): Promise<Session> {
    const isolate = new ivm.Isolate({
      memoryLimit: memoryMb,
      // isolated-vm's advice: the process can no longer be trusted; the pool replaces it.
      onCatastrophicError: (message) => {
        process.stderr.write(`isolated-vm catastrophic error: ${message}\n`);
        process.abort();
      },
    });
    const context = await isolate.createContext();
    const session = new Session(memoryMb, isolate, context);
    const host = session.hostFunctions();
    for (const { filename, source } of PRELUDE) {
      const install = await context.eval(source, { filename, reference: true });
      await install.apply(undefined, [host], { arguments: { copy: true } });
      install.release();
    }
    // Taken out of the global object before any bot code runs: only the worker can start or answer it.
    session.startRef = await context.global.get('__hale_start', { reference: true });
    session.dispatchRef = await context.global.get('__hale_dispatch', { reference: true });
    await context.global.delete('__hale_start');
    await context.global.delete('__hale_dispatch');
    return session;
  }

  dispose(): void {
    if (!this.isolate.isDisposed) {
      this.isolate.dispose();
    }
  }

  /** Runs the bot; resolves with its result and the log lines not yet handed to `onLogs`. Never rejects. */
  async run(run: SandboxRun, onLogs: (lines: string[]) => void): Promise<{ result: RunResult; logs: string[] }> {
    const { cpuMs, wallMs, logBytes } = run.limits;
    const log = new RunLog(logBytes);
    const cpuStart = this.isolate.cpuTime;
    const cpuUsedMs = (): number => (this.isolate.isDisposed ? 0 : Number(this.isolate.cpuTime - cpuStart) / 1e6);
    let end!: (result: RunResult) => void;
    const ended = new Promise<RunResult>((resolve) => {
      end = (result) => {
        resolve(result);
        this.dispose();
      };
    });
    const calls = new HostCalls({
      client: run.client,
      fetchAllowHosts: run.fetchAllowHosts,
      maxTimerMs: wallMs,
      deliver: (kind, id, payload) => {
        this.dispatchRef
          ?.apply(undefined, [kind, id, payload], { timeout: this.state?.cpuLeftMs() ?? 1 })
          .catch((err: unknown) => end(this.classify(err, cpuMs)));
      },
    });
    this.state = { log, calls, cpuLeftMs: () => Math.max(1, Math.floor(cpuMs - cpuUsedMs())) };
    const wall = setTimeout(() => end(fail('timeout', `the bot did not finish within ${wallMs} ms`)), wallMs);
    let ticks = 0;
    const watch = setInterval(() => {
      if (cpuUsedMs() > cpuMs) {
        end(fail('timeout', `the bot used more than its ${cpuMs} ms of CPU time`));
      }
      if (++ticks % LOG_FLUSH_TICKS === 0) {
        const lines = log.take();
        if (lines.length > 0) {
          onLogs(lines);
        }
      }
    }, WATCH_EVERY_MS);
    try {
      const result = await Promise.race([this.execute(run), ended]);
      return { result, logs: finalLines(log) };
    } finally {
      clearTimeout(wall);
      clearInterval(watch);
      calls.close();
      this.dispose();
    }
  }

  private async execute(run: SandboxRun): Promise<RunResult> {
    const state = this.state as RunState;
    if (typeof run.code !== 'string') {
      return fail('invalid-code', 'the bot has no code');
    }
    let define: ivm.Reference;
    try {
      // The bundle's first line shares the wrapper's line, so stack traces keep the bundle's line numbers.
      const script = await this.isolate.compileScript(
        `(function (exports, require, module, __filename, __dirname) {${run.code}\n})`,
        { filename: 'file:///bot.js' }
      );
      define = await script.run(this.context, { reference: true, release: true, timeout: state.cpuLeftMs() });
    } catch (err) {
      if (this.isolate.isDisposed) {
        return this.classify(err, run.limits.cpuMs);
      }
      return fail('invalid-code', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    }
    let answer: unknown;
    try {
      answer = await (this.startRef as ivm.Reference).apply(
        undefined,
        [define.derefInto(), JSON.stringify(run.event ?? {}), run.limits.logBytes + 1],
        { timeout: state.cpuLeftMs(), result: { promise: true, copy: true } }
      );
    } catch (err) {
      // A memory breach in a timer's entry may be reported a moment after the handler's promise failed.
      await new Promise((resolve) => setImmediate(resolve));
      return this.classify(err, run.limits.cpuMs);
    }
    return interpret(answer);
  }

  /** Why an entry into the isolate failed. A disposal we did not make is isolated-vm's memory limit. */
  private classify(err: unknown, cpuMs: number): RunResult {
    const message = errorText(err);
    if (/memory limit/i.test(message) || this.isolate.isDisposed) {
      return fail('memory', 'the bot used more than its memory limit and was stopped');
    }
    if (/Script execution timed out/i.test(message)) {
      return fail('timeout', `the bot used more than its ${cpuMs} ms of CPU time`);
    }
    return fail('crashed', `the sandbox could not run the bot: ${message}`);
  }

  /** The functions the prelude builds the bot's globals on; each checks its arguments (they come from the bot). */
  private hostFunctions(): Record<string, ivm.Callback> {
    const fns: Record<string, (...args: any[]) => unknown> = {
      log: (level: unknown, text: unknown, fullLength: unknown) => {
        if (typeof level === 'string' && typeof text === 'string' && typeof fullLength === 'number') {
          this.state?.log.add(level, text, fullLength);
        }
      },
      send: (kind: unknown, id: unknown, payload: unknown) => {
        if (!this.state) {
          throw new TypeError('no run in progress');
        }
        this.state.calls.send(kind, id, payload);
      },
      url: (input: unknown, base: unknown, part: unknown, value: unknown) => {
        const url = new URL(String(input), typeof base === 'string' ? base : undefined);
        if (typeof part === 'string' && SETTABLE_URL_PARTS.has(part)) {
          (url as unknown as Record<string, string>)[part] = String(value);
        }
        const { href, origin, protocol, username, password, host, hostname, port, pathname, search, hash } = url;
        return { href, origin, protocol, username, password, host, hostname, port, pathname, search, hash };
      },
      uuid: () => randomUUID(),
      random: (n: unknown) => {
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65536) {
          throw new RangeError('getRandomValues takes at most 65536 bytes');
        }
        return new Uint8Array(randomBytes(n));
      },
      encode: (text: unknown) => new TextEncoder().encode(String(text)),
      decode: (bytes: unknown, fatal: unknown, ignoreBOM: unknown) => {
        if (!(bytes instanceof Uint8Array)) {
          throw new TypeError('expected bytes');
        }
        return new TextDecoder('utf-8', { fatal: fatal === true, ignoreBOM: ignoreBOM === true }).decode(bytes);
      },
      atob: (text: unknown) => atob(String(text)),
      btoa: (text: unknown) => btoa(String(text)),
    };
    return Object.fromEntries(Object.entries(fns).map(([name, fn]) => [name, new ivm.Callback(fn)]));
  }
}

function fail(kind: NonNullable<RunResult['error']>['kind'], message: string): RunResult {
  return { ok: false, error: { kind, message } };
}

/** The prelude's answer is "status\npayload"; anything else means the bot tampered with it. */
function interpret(answer: unknown): RunResult {
  if (typeof answer !== 'string') {
    return fail('error', 'the bot returned a value the sandbox cannot read');
  }
  const cut = answer.indexOf('\n');
  const status = answer.slice(0, cut);
  const payload = answer.slice(cut + 1);
  switch (status) {
    case 'ok':
      if (payload === '') {
        return { ok: true };
      }
      if (payload.length > MAX_RETURN_CHARS) {
        return fail('error', `the bot returned more than ${MAX_RETURN_CHARS} characters of JSON`);
      }
      try {
        return { ok: true, returnValue: JSON.parse(payload) };
      } catch {
        return fail('error', 'the bot returned a value that is not JSON');
      }
    case 'not-json':
      return fail('error', 'the bot returned a value that is not JSON');
    case 'invalid-code':
      return fail('invalid-code', payload);
    case 'error':
      // An ArrayBuffer the isolate could not allocate is the memory limit speaking, even if the bot saw it first.
      return fail(/^RangeError: Array buffer allocation failed/.test(payload) ? 'memory' : 'error', payload);
    default:
      return fail('error', 'the bot returned a value the sandbox cannot read');
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function finalLines(log: RunLog): string[] {
  const summary = log.summary();
  return summary ? [...log.take(), summary] : log.take();
}

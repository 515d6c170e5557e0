import { MedplumClient, isOperationOutcome, normalizeErrorString } from '@medplum/core';
import type { EgressRequest } from './egress';
import { egressFetch } from './egress';

/** How one run's asynchronous host work is bounded (a bot can start calls far faster than they finish). */
const MAX_CONCURRENT = 8;
const MAX_QUEUED = 1000;
const MAX_PAYLOAD_CHARS = 16 * 1024 * 1024;
const MAX_TIMERS = 1000;
const MAX_FETCH_BODY_BYTES = 8 * 1024 * 1024;
/** Names every object has; calling them on the client is never what a bot means, and some reach its internals. */
const NOT_CLIENT_METHODS = new Set(Object.getOwnPropertyNames(Object.prototype));

export interface HostCallsOptions {
  client: { baseUrl: string; accessToken: string };
  fetchAllowHosts: readonly string[];
  /** Longest a timer may be set for (the run's wall limit: later would never fire anyway). */
  maxTimerMs: number;
  /** Hands an answer or a timer to the isolate. */
  deliver(kind: 'settle' | 'timer', id: number, payload: string): void;
}

/** Raised to the bot as the message of the Error its call throws. */
class BotCallError extends Error {}

/**
 * MedplumClient refuses to talk anywhere but Hale: its get/post accept absolute URLs and would carry
 * the bot's token to them. Named AbortError so MedplumClient gives up at once instead of retrying.
 */
class OffOriginError extends Error {
  override name = 'AbortError';
}

/**
 * The worker-process side of one run's host requests: medplum method calls (to a real MedplumClient),
 * fetch (through the egress checks) and timers. Every request arrives as a JSON string from the
 * isolate and is checked here; answers go back as JSON strings through `deliver`.
 */
export class HostCalls {
  private readonly abort = new AbortController();
  private readonly allowHosts: ReadonlySet<string>;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly queue: (() => Promise<void>)[] = [];
  private active = 0;
  private medplumClient: MedplumClient | undefined;
  private closed = false;

  constructor(private readonly options: HostCallsOptions) {
    this.allowHosts = new Set(options.fetchAllowHosts.map((h) => h.trim().replace(/\.$/, '').toLowerCase()));
  }

  /** The isolate's `send` host function. Throws (into the bot) when a limit is reached. */
  send(kind: unknown, id: unknown, payload: unknown): void {
    if (typeof id !== 'number' || typeof payload !== 'string' || this.closed) {
      throw new TypeError('bad host request');
    }
    switch (kind) {
      case 'timer':
        return this.setTimer(id, Number(payload));
      case 'clear':
        clearTimeout(this.timers.get(id));
        this.timers.delete(id);
        return;
      case 'medplum':
        return this.enqueue(id, payload, (p) => this.callMedplum(p));
      case 'fetch':
        return this.enqueue(id, payload, (p) => this.fetch(p));
      default:
        throw new TypeError('bad host request');
    }
  }

  /** Ends the run's host work: timers are cleared, requests in flight aborted, queued ones dropped. */
  close(): void {
    this.closed = true;
    this.abort.abort();
    for (const timer of this.timers.values()) {
      clearTimeout(timer);
    }
    this.timers.clear();
    this.queue.length = 0;
  }

  private setTimer(id: number, ms: number): void {
    if (this.timers.size >= MAX_TIMERS && !this.timers.has(id)) {
      throw new RangeError(`a bot may have at most ${MAX_TIMERS} timers pending`);
    }
    clearTimeout(this.timers.get(id));
    const delay = Math.min(Math.max(0, Number.isFinite(ms) ? ms : 0), this.options.maxTimerMs);
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        this.options.deliver('timer', id, '');
      }, delay)
    );
  }

  private enqueue(id: number, payload: string, work: (payload: string) => Promise<unknown>): void {
    if (payload.length > MAX_PAYLOAD_CHARS) {
      throw new RangeError(`a request from a bot may be at most ${MAX_PAYLOAD_CHARS} characters of JSON`);
    }
    if (this.queue.length >= MAX_QUEUED) {
      throw new RangeError(`a bot may have at most ${MAX_QUEUED} medplum or fetch calls waiting`);
    }
    this.queue.push(async () => {
      let answer: string;
      try {
        answer = JSON.stringify(await work(payload));
      } catch (err) {
        answer = JSON.stringify({ error: describeError(err) });
      }
      if (!this.closed) {
        this.options.deliver('settle', id, answer);
      }
    });
    this.pump();
  }

  private pump(): void {
    while (this.active < MAX_CONCURRENT && this.queue.length > 0) {
      const job = this.queue.shift() as () => Promise<void>;
      this.active++;
      void job().finally(() => {
        this.active--;
        this.pump();
      });
    }
  }

  private async callMedplum(payload: string): Promise<{ ok: unknown; bundle?: unknown }> {
    const [method, args] = JSON.parse(payload) as [unknown, unknown];
    if (typeof method !== 'string' || !Array.isArray(args) || NOT_CLIENT_METHODS.has(method)) {
      throw new BotCallError(`medplum.${String(method)} is not available in the bot sandbox`);
    }
    const client = this.client();
    const fn = (client as unknown as Record<string, unknown>)[method];
    if (typeof fn !== 'function') {
      throw new BotCallError(`medplum.${method} is not a function`);
    }
    const value: unknown = await fn.apply(client, args);
    // searchResources answers an array carrying its Bundle; JSON would drop the Bundle.
    const bundle = Array.isArray(value) ? (value as { bundle?: unknown }).bundle : undefined;
    return bundle === undefined ? { ok: value } : { ok: value, bundle };
  }

  private client(): MedplumClient {
    if (!this.medplumClient) {
      const origin = new URL(this.options.client.baseUrl).origin;
      const signal = this.abort.signal;
      const fetchHale = (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
        const target = new URL(typeof url === 'string' ? url : url instanceof URL ? url.href : url.url);
        if (target.origin !== origin) {
          return Promise.reject(new OffOriginError(`the medplum client talks only to ${origin}; use fetch()`));
        }
        return globalThis.fetch(target, {
          ...init,
          redirect: 'manual',
          signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal,
        });
      };
      this.medplumClient = new MedplumClient({ baseUrl: this.options.client.baseUrl, fetch: fetchHale, cacheTime: 0 });
      this.medplumClient.setAccessToken(this.options.client.accessToken);
    }
    return this.medplumClient;
  }

  private async fetch(payload: string): Promise<{ ok: unknown }> {
    const req = JSON.parse(payload) as Partial<EgressRequest>;
    const headers = Array.isArray(req.headers)
      ? req.headers.map(([k, v]) => [String(k), String(v)] as [string, string])
      : [];
    const redirect = req.redirect === 'manual' || req.redirect === 'error' ? req.redirect : 'follow';
    const res = await egressFetch(
      {
        url: String(req.url),
        method: typeof req.method === 'string' ? req.method : 'GET',
        headers,
        body: typeof req.body === 'string' ? req.body : undefined,
        redirect,
      },
      { allowHosts: this.allowHosts, maxBodyBytes: MAX_FETCH_BODY_BYTES, signal: this.abort.signal }
    );
    return { ok: res };
  }
}

/** What the bot's Error gets: the message (an OperationOutcome's text for MedplumClient errors) and the outcome. */
function describeError(err: unknown): { name: string; message: string; outcome?: unknown } {
  const outcome = (err as { outcome?: unknown } | undefined)?.outcome;
  const name = err instanceof Error && err.name !== 'AbortError' ? err.name : 'Error';
  return {
    name,
    message: err instanceof Error ? err.message : normalizeErrorString(err),
    ...(isOperationOutcome(outcome) ? { outcome } : {}),
  };
}

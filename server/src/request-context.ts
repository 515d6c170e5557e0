import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request being served, for code far from express (repository, notifier, router) whose log lines must name it.
 * The logger reads it (logger.ts), so no call site has to pass the request id along.
 */
const current = new AsyncLocalStorage<{ reqId: string }>();

/** Runs `fn` (and everything it starts, awaited or not) as part of the request `reqId`. */
export function runInRequest<T>(reqId: string, fn: () => T): T {
  return current.run({ reqId }, fn);
}

export function currentRequestId(): string | undefined {
  return current.getStore()?.reqId;
}

import type { Request } from 'express';
import type { AuthDeps } from '../deps';
import { emailKey } from './store';

/** The client address as express sees it (behind a proxy, set express's `trust proxy`). */
export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * Counts one request against the endpoint's limit for this client address, and for this email
 * when the request names one: one address cannot hammer many accounts, and one account cannot
 * be hammered from many addresses. Throws 429 past the limit.
 */
export async function limitRequest(deps: AuthDeps, req: Request, endpoint: string, email?: string): Promise<void> {
  await deps.rateLimits.consume(endpoint, `ip:${clientIp(req)}`);
  if (email !== undefined) {
    await limitEmail(deps, endpoint, email);
  }
}

/** The per-email half only: used inside functions the sign-in pages call, which limit by address themselves. */
export async function limitEmail(deps: AuthDeps, endpoint: string, email: string): Promise<void> {
  await deps.rateLimits.consume(endpoint, `email:${emailKey(email)}`);
}

import type { Request } from 'express';
import { OAuthError } from './errors';

/**
 * OAuth request parameters. RFC 6749 §3.1/§3.2: parameters sent without a value are treated
 * as omitted, and a parameter must not appear more than once — a repeated one is refused
 * rather than guessed at.
 */
export type Params = Map<string, string>;

/** The form body of a POST (app.ts parses application/x-www-form-urlencoded into URLSearchParams). */
export function formBody(req: Request): URLSearchParams {
  if (!(req.body instanceof URLSearchParams)) {
    throw new OAuthError('invalid_request', 'The request body must be application/x-www-form-urlencoded');
  }
  return req.body;
}

/** Single-valued parameters from a form body or a query string. */
export function singleParams(source: URLSearchParams | Request['query']): Params {
  const out: Params = new Map();
  const entries: [string, unknown][] =
    source instanceof URLSearchParams ? [...source] : Object.entries(source as Record<string, unknown>);
  for (const [key, value] of entries) {
    const values = Array.isArray(value) ? value : [value];
    if (values.length > 1 || out.has(key)) {
      throw new OAuthError('invalid_request', `The parameter ${key} was sent more than once`);
    }
    if (typeof values[0] === 'string' && values[0] !== '') {
      out.set(key, values[0]);
    }
  }
  return out;
}

/** The OAuth parameters of a POST form body. */
export function formParams(req: Request): Params {
  return singleParams(formBody(req));
}

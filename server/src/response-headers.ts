import type { NextFunction, Request, Response } from 'express';
import type { HaleConfig } from './config';

/*
 * CORS and the headers every response carries. Which origins may read what:
 *
 * - open: the FHIR API, discovery, the token/revocation/introspection endpoints, JWKS and the SMART
 *   style. They take no cookies (a bearer token or client credentials in the request itself), so
 *   any origin may call them: `Access-Control-Allow-Origin: *`, never with credentials (SMART apps
 *   run on any origin).
 * - portal: the account API (/auth) and the portal's OAuth helpers (EHR launch handles, approvals,
 *   client registry). Only the configured origins (CORS_ORIGINS, by default BASE_URL's).
 * - none: the sign-in and consent pages, which carry the login-session cookie and are for the
 *   browser's top-level window only, and anything else (/healthcheck, unknown paths).
 *
 * A configured origin gets its own origin back with `Access-Control-Allow-Credentials: true` on
 * open and portal paths. The answer depends on the Origin header, so those paths always say
 * `Vary: Origin` (a cache must not hand one origin's answer to another).
 */

type Audience = 'open' | 'portal' | 'none';

const OPEN = ['/fhir/R4', '/.well-known', '/oauth2/token', '/oauth2/revoke', '/oauth2/introspect', '/oauth2/jwks'];
const OPEN_EXACT = ['/oauth2/smart-style.json'];
const PORTAL = ['/auth', '/oauth2/launch', '/oauth2/approvals', '/oauth2/clients'];

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

function audienceOf(path: string): Audience {
  if (OPEN.some((p) => under(path, p)) || OPEN_EXACT.includes(path)) {
    return 'open';
  }
  return PORTAL.some((p) => under(path, p)) ? 'portal' : 'none';
}

const EXPOSED =
  'ETag, Location, Last-Modified, Content-Location, Content-Disposition, X-Request-Id, WWW-Authenticate, Retry-After';
const ALLOWED_HEADERS =
  'Authorization, Content-Type, Accept, If-Match, If-None-Exist, If-None-Match, If-Modified-Since, Prefer, X-Request-Id, X-Security-Context';

/** CORS answers (and preflights) per the audience of the path; OPTIONS is always 204, with CORS headers only when allowed. */
export function cors(config: HaleConfig): (req: Request, res: Response, next: NextFunction) => void {
  const trusted = new Set(config.corsOrigins ?? [new URL(config.serverUrl).origin]);
  return (req, res, next) => {
    const audience = audienceOf(req.path);
    const origin = req.header('origin');
    if (audience !== 'none') {
      res.vary('Origin');
    }
    const allowed = origin !== undefined && audience !== 'none' && (audience === 'open' || trusted.has(origin));
    if (allowed) {
      if (trusted.has(origin)) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Access-Control-Allow-Credentials', 'true');
      } else {
        res.setHeader('Access-Control-Allow-Origin', '*');
      }
      res.setHeader('Access-Control-Expose-Headers', EXPOSED);
    }
    if (req.method === 'OPTIONS') {
      if (allowed) {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
        res.setHeader('Access-Control-Max-Age', '600');
      }
      res.status(204).end();
      return;
    }
    next();
  };
}

/**
 * Defaults for every response: never cached (most answers carry health data or tokens; the few
 * public documents — /metadata, discovery, JWKS, styles — set their own Cache-Control), never
 * sniffed as another type, never framed, no Referer sent on. HTML pages set a fuller CSP.
 */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'Referrer-Policy': 'no-referrer',
  });
  next();
}

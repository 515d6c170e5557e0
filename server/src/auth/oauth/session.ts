import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { JWTPayload } from 'jose';
import { SignJWT } from 'jose';
import type { OAuthContext } from './context';
import { PageError } from './errors';
import { TOKEN_ALG } from './keys';
import { verifyOwnJwt } from './verify';

/**
 * The browser's login session with the authorization server: a short-lived JWT in an
 * HttpOnly, SameSite=Lax cookie, signed with the server's key (so every replica can read
 * it and nothing is stored server-side). It carries the per-session CSRF token that every
 * form echoes. Signing in starts a new session id (no session fixation).
 */
export interface LoginSession {
  sid: string;
  csrf: string;
  /** The signed-in account; absent before sign-in. */
  sub?: string;
  /** Sign-in time (epoch seconds). */
  authTime?: number;
  /** Epoch seconds. */
  exp: number;
}

export const COOKIE = 'hale_oauth_session';
/** How long a sign-in lasts; online_access refresh tokens end with it. */
export const SESSION_TTL_S = 8 * 3600;
/** A session that has not signed in yet (just carrying the CSRF token). */
const ANONYMOUS_TTL_S = 3600;
/** An authorization request has this long to be approved. */
const FLOW_TTL_S = 15 * 60;
const SESSION_TYP = 'hale-session+jwt';
const FLOW_TYP = 'hale-authorize+jwt';

const nowS = (): number => Math.floor(Date.now() / 1000);
const random = (): string => randomBytes(24).toString('base64url');

export function newSession(account?: { id: string }): LoginSession {
  const now = nowS();
  return account
    ? { sid: random(), csrf: random(), sub: account.id, authTime: now, exp: now + SESSION_TTL_S }
    : { sid: random(), csrf: random(), exp: now + ANONYMOUS_TTL_S };
}

async function sign(
  ctx: OAuthContext,
  payload: JWTPayload,
  typ: string,
  audience: string,
  exp: number
): Promise<string> {
  const { kid, key } = await ctx.keys.signingKey(TOKEN_ALG);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: TOKEN_ALG, kid, typ })
    .setIssuer(ctx.urls.issuer)
    .setAudience(audience)
    .setExpirationTime(exp)
    .sign(key);
}

export async function readSession(ctx: OAuthContext, req: Request): Promise<LoginSession | undefined> {
  const raw = cookieValue(req.header('cookie'), COOKIE);
  if (!raw) {
    return undefined;
  }
  try {
    const p = await verifyOwnJwt(ctx, raw, { typ: SESSION_TYP, audience: `${ctx.urls.issuer}/oauth2/session` });
    if (typeof p.sid !== 'string' || typeof p.csrf !== 'string') {
      return undefined;
    }
    return {
      sid: p.sid,
      csrf: p.csrf,
      sub: typeof p.sub === 'string' ? p.sub : undefined,
      authTime: typeof p.auth_time === 'number' ? p.auth_time : undefined,
      exp: p.exp as number,
    };
  } catch {
    return undefined; // expired or forged: treated as no session
  }
}

export async function writeSession(ctx: OAuthContext, res: Response, s: LoginSession): Promise<void> {
  const payload: JWTPayload = { sid: s.sid, csrf: s.csrf, sub: s.sub, auth_time: s.authTime };
  const jwt = await sign(ctx, payload, SESSION_TYP, `${ctx.urls.issuer}/oauth2/session`, s.exp);
  res.append('Set-Cookie', cookie(ctx, jwt, s.exp - nowS()));
}

export function clearSession(ctx: OAuthContext, res: Response): void {
  res.append('Set-Cookie', cookie(ctx, '', 0));
}

function cookie(ctx: OAuthContext, value: string, maxAge: number): string {
  const secure = ctx.urls.issuer.startsWith('https:') ? '; Secure' : '';
  return `${COOKIE}=${value}; Path=/oauth2; HttpOnly; SameSite=Lax; Max-Age=${Math.max(0, maxAge)}${secure}`;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

/** Refuses a form post whose CSRF token is not the session's. */
export function checkCsrf(session: LoginSession | undefined, presented: string | undefined): LoginSession {
  const a = Buffer.from(session?.csrf ?? '');
  const b = Buffer.from(presented ?? '');
  if (!session || a.length === 0 || a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new PageError('Your session expired', 'Please go back to the app and start again.', 403);
  }
  return session;
}

/** Signs an authorization request (already validated) so it can travel through the sign-in and consent pages. */
export async function signFlow<T extends object>(ctx: OAuthContext, sid: string, flow: T): Promise<string> {
  return sign(ctx, { ...flow, sid }, FLOW_TYP, `${ctx.urls.issuer}/oauth2/authorize`, nowS() + FLOW_TTL_S);
}

/** Reads a flow handle; it must belong to this browser session. */
export async function readFlow<T>(ctx: OAuthContext, handle: string | undefined, session: LoginSession): Promise<T> {
  let p: JWTPayload;
  try {
    p = await verifyOwnJwt(ctx, handle ?? '', { typ: FLOW_TYP, audience: `${ctx.urls.issuer}/oauth2/authorize` });
  } catch {
    throw new PageError('This sign-in page expired', 'Please go back to the app and start again.');
  }
  if (p.sid !== session.sid) {
    throw new PageError('This sign-in page expired', 'Please go back to the app and start again.');
  }
  const { iss: _iss, aud: _aud, exp: _exp, sid: _sid, ...flow } = p;
  return flow as T;
}

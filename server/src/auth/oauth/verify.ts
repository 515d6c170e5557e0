import {
  OperationOutcomeError,
  unauthorized,
  unauthorizedTokenAudience,
  unauthorizedTokenExpired,
} from '@medplum/core';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { errors, jwtVerify } from 'jose';
import { sql } from '../../db/sql';
import type { AuthDeps } from '../deps';
import type { AccessTokenClaims } from '../types';
import type { OAuthContext } from './context';
import { oauthContext } from './context';
import { ACCESS_TOKEN_TYP } from './tokens';

/**
 * Hale verifies only its own signatures, and only with these algorithms: a token claiming
 * `alg: none`, or HS256 keyed with a published public key, never reaches a key.
 */
const ACCEPTED_ALGS = ['RS384', 'ES384'];
/**
 * Tokens whose signature and claims already checked out, until they expire: the RSA/ECDSA verify
 * is the largest CPU cost of a small request. Only the signature work is saved; revocation is
 * still read from the database on every request.
 */
const verified = new Map<string, { claims: AccessTokenClaims; kid: string }>();
const MAX_VERIFIED = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Resolves the `kid` of a JWT Hale signed to its published key (and refuses a key used with another alg). */
function ownKeys(ctx: OAuthContext): JWTVerifyGetKey {
  return async (header) => {
    const found = header.kid ? await ctx.keys.verificationKey(header.kid) : undefined;
    if (!found || found.alg !== header.alg) {
      throw new errors.JWKSNoMatchingKey();
    }
    return found.key;
  };
}

/** Verifies a JWT Hale signed itself for another purpose (login sessions, flow handles). */
export async function verifyOwnJwt(
  ctx: OAuthContext,
  token: string,
  opts: { typ: string; audience: string }
): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, ownKeys(ctx), {
    algorithms: ACCEPTED_ALGS,
    issuer: ctx.urls.issuer,
    audience: opts.audience,
    typ: opts.typ,
    requiredClaims: ['exp'],
  });
  return payload;
}

/**
 * Verifies a Bearer access token for the resource server: signature by a published Hale key
 * (RS384/ES384 only), typ at+jwt, iss, aud = this FHIR base, exp — then one indexed query
 * that the token and its grant are not revoked. Throws OperationOutcomeError 401.
 */
export async function verifyAccessToken(deps: AuthDeps, token: string): Promise<AccessTokenClaims> {
  const ctx = oauthContext(deps);
  const cacheKey = `${ctx.urls.fhirBase} ${token}`;
  const hit = verified.get(cacheKey);
  // A hit still needs its signing key published: retiring a key ends its tokens at once.
  let claims =
    hit && hit.claims.exp * 1000 > Date.now() && (await ctx.keys.verificationKey(hit.kid)) ? hit.claims : undefined;
  if (!claims) {
    verified.delete(cacheKey);
    let payload: JWTPayload;
    let kid = '';
    try {
      let header: { kid?: string };
      ({ payload, protectedHeader: header } = await jwtVerify(token, ownKeys(ctx), {
        algorithms: ACCEPTED_ALGS,
        issuer: ctx.urls.issuer,
        audience: ctx.urls.fhirBase,
        typ: ACCESS_TOKEN_TYP,
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id', 'scope', 'grant_id'],
      }));
      kid = header.kid ?? '';
    } catch (err) {
      throw new OperationOutcomeError(outcomeFor(err));
    }
    claims = payload as unknown as AccessTokenClaims;
    if (!UUID.test(claims.jti)) {
      throw new OperationOutcomeError(unauthorized);
    }
    if (verified.size >= MAX_VERIFIED) {
      verified.clear();
    }
    verified.set(cacheKey, { claims, kid });
  }
  // Every request runs this one statement: prepared once per connection, not parsed and planned
  // each time (~0.3 ms of PostgreSQL per request).
  const [row] = await deps.db.query<{ active: boolean }>(
    sql`SELECT (t.revoked_at IS NULL AND g.revoked_at IS NULL) AS active
          FROM oauth_access_token t JOIN oauth_grant g ON g.id = t.grant_id
         WHERE t.jti = ${claims.jti}`,
    'hale_token_active'
  );
  if (!row?.active) {
    throw new OperationOutcomeError(unauthorized);
  }
  return claims;
}

function outcomeFor(err: unknown): typeof unauthorized {
  if (err instanceof errors.JWTExpired) {
    return unauthorizedTokenExpired;
  }
  if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'aud') {
    return unauthorizedTokenAudience;
  }
  return unauthorized;
}

/** The claims of the request's `Authorization: Bearer` access token (401 when missing or invalid). */
export async function bearerClaims(deps: AuthDeps, authorization: string | undefined): Promise<AccessTokenClaims> {
  const m = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  if (!m?.[1]) {
    throw new OperationOutcomeError(unauthorized);
  }
  return verifyAccessToken(deps, m[1]);
}

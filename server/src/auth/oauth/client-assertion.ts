import type { JWK, JWTPayload } from 'jose';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { sql } from '../../db/sql';
import type { ClientRow } from './clients';
import { getActiveClient } from './clients';
import type { OAuthContext } from './context';
import { OAuthError } from './errors';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** SMART client-confidential-asymmetric: RS384 or ES384, nothing else (no `none`, no HMAC). */
const ASSERTION_ALGS = ['RS384', 'ES384'] as const;
/** An assertion may not claim to live longer than this (SMART: five minutes). */
const MAX_LIFETIME_S = 300;
const CLOCK_SKEW_S = 10;

const fail = (description: string): OAuthError => new OAuthError('invalid_client', description, 401);

/**
 * Authenticates a client by its signed assertion (private_key_jwt, RFC 7523 §3 as profiled
 * by SMART): algorithm allow-list; iss = sub = a known asymmetric client (and = client_id
 * when sent); key chosen by kid (and kty) from the registered JWKS or JWKS URL, a `jku`
 * only when it is that registered URL; aud = the token endpoint; exp at most 5 minutes
 * ahead; each jti accepted once.
 */
export async function verifyClientAssertion(
  ctx: OAuthContext,
  assertion: string,
  clientIdParam: string | undefined
): Promise<ClientRow> {
  const { header, claims } = decode(assertion);
  const alg = header.alg;
  if (!ASSERTION_ALGS.includes(alg as (typeof ASSERTION_ALGS)[number])) {
    throw fail(`Client assertions must be signed with RS384 or ES384, not ${String(alg)}`);
  }
  const clientId = claims.iss;
  if (!clientId || claims.sub !== clientId || (clientIdParam !== undefined && clientIdParam !== clientId)) {
    throw fail('The client assertion must have iss = sub = client_id');
  }
  const client = await getActiveClient(ctx.deps.db, clientId);
  if (!client || client.kind !== 'confidential-asymmetric') {
    throw fail('Unknown client, or not registered for private_key_jwt');
  }
  const jwk = await findKey(ctx, client, header);
  const key = await importJWK(jwk, alg as string).catch(() => {
    throw fail('The registered key cannot verify this algorithm');
  });
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, key, {
      algorithms: [alg as string],
      issuer: clientId,
      subject: clientId,
      audience: ctx.urls.token,
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_SKEW_S,
    }));
  } catch (err) {
    throw fail(`The client assertion is not valid: ${(err as Error).message}`);
  }
  const exp = payload.exp as number;
  if (exp > Date.now() / 1000 + MAX_LIFETIME_S + CLOCK_SKEW_S) {
    throw fail('The client assertion expires more than 5 minutes from now');
  }
  await rememberJti(ctx, clientId, payload.jti as string, exp);
  return client;
}

function decode(assertion: string): { header: ReturnType<typeof decodeProtectedHeader>; claims: JWTPayload } {
  try {
    return { header: decodeProtectedHeader(assertion), claims: decodeJwt(assertion) };
  } catch {
    throw fail('The client assertion is not a JWT');
  }
}

/** SMART's key resolution: jku only if it is the registered URL; then exactly one key with this kid and kty. */
async function findKey(
  ctx: OAuthContext,
  client: ClientRow,
  header: { kid?: string; jku?: string; alg?: string }
): Promise<JWK> {
  if (!header.kid) {
    throw fail('The client assertion header needs a kid');
  }
  if (header.jku !== undefined && header.jku !== client.jwks_uri) {
    throw fail('The jku header is not the JWKS URL registered for this client');
  }
  const kty = header.alg?.startsWith('ES') ? 'EC' : 'RSA';
  const pick = (keys: JWK[]): JWK[] => keys.filter((k) => k.kid === header.kid && k.kty === kty);
  if (client.jwks) {
    const found = pick(client.jwks.keys);
    if (found.length !== 1) {
      throw fail('No single registered key matches the kid of the client assertion');
    }
    return found[0] as JWK;
  }
  const url = client.jwks_uri as string;
  try {
    let found = pick(await ctx.clientJwks.get(url));
    if (found.length !== 1) {
      found = pick(await ctx.clientJwks.get(url, true));
    }
    if (found.length === 1) {
      return found[0] as JWK;
    }
  } catch (err) {
    ctx.deps.logger.warn({ clientId: client.client_id, reason: (err as Error).message }, 'client JWKS fetch failed');
    throw fail("The client's JWKS URL could not be read");
  }
  throw fail('No single key at the JWKS URL matches the kid of the client assertion');
}

async function rememberJti(ctx: OAuthContext, clientId: string, jti: string, exp: number): Promise<void> {
  const expiresAt = new Date((exp + CLOCK_SKEW_S) * 1000).toISOString();
  const inserted = await ctx.deps.db.transaction(async (tx) => {
    await tx.query(sql`DELETE FROM oauth_jti WHERE client_id = ${clientId} AND expires_at < now()`);
    return tx.query(
      sql`INSERT INTO oauth_jti (client_id, jti, expires_at) VALUES (${clientId}, ${jti}, ${expiresAt})
          ON CONFLICT DO NOTHING RETURNING jti`
    );
  });
  if (inserted.length === 0) {
    throw fail('This client assertion (jti) has been used before');
  }
}

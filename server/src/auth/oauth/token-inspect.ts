import type { JWTPayload } from 'jose';
import { OperationOutcomeError } from '@medplum/core';
import { sql } from '../../db/sql';
import type { AccessTokenClaims } from '../types';
import type { ClientRow } from './clients';
import type { OAuthContext } from './context';
import type { GrantRow } from './grants';
import { findRefreshToken, getGrant, revokeGrant } from './grants';
import { verifyAccessToken } from './verify';

const looksLikeJwt = (token: string): boolean => token.split('.').length === 3;

/**
 * RFC 7009: revokes an access token (its jti) or a refresh token (its whole grant, so the
 * access tokens issued with it too) — only the caller's own tokens. Unknown, foreign or
 * already-invalid tokens are answered the same way (200), as the RFC asks.
 */
export async function revoke(ctx: OAuthContext, client: ClientRow, token: string): Promise<void> {
  if (looksLikeJwt(token)) {
    const claims = await ownAccessToken(ctx, token);
    if (claims && claims.client_id === client.client_id) {
      await ctx.deps.db.query(
        sql`UPDATE oauth_access_token SET revoked_at = now() WHERE jti = ${claims.jti} AND revoked_at IS NULL`
      );
    }
    return;
  }
  const found = await findRefreshToken(ctx.deps.db, token);
  const grant = found ? await getGrant(ctx.deps.db, found.grant_id) : undefined;
  if (grant && grant.client_id === client.client_id) {
    await revokeGrant(ctx.deps.db, grant.id);
  }
}

/** The claims of a valid Hale access token; undefined for anything else (revoking those changes nothing). */
async function ownAccessToken(ctx: OAuthContext, token: string): Promise<AccessTokenClaims | undefined> {
  try {
    return await verifyAccessToken(ctx.deps, token);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return undefined;
    }
    throw err;
  }
}

/**
 * RFC 7662 as profiled by SMART: active, scope, client_id, sub, exp, and the launch context
 * and fhirUser the token response carried. Anything not active is just `{ active: false }`.
 */
export async function introspect(ctx: OAuthContext, token: string): Promise<Record<string, unknown>> {
  if (looksLikeJwt(token)) {
    const claims = await ownAccessToken(ctx, token);
    const grant = claims ? await getGrant(ctx.deps.db, claims.grant_id) : undefined;
    if (!claims || !grant) {
      return { active: false };
    }
    return {
      active: true,
      token_type: 'Bearer',
      ...contextFields(ctx, grant),
      scope: claims.scope,
      client_id: claims.client_id,
      sub: claims.sub,
      iss: claims.iss,
      aud: claims.aud,
      exp: claims.exp,
      iat: claims.iat,
    };
  }
  const found = await findRefreshToken(ctx.deps.db, token);
  const grant = found?.active ? await getGrant(ctx.deps.db, found.grant_id) : undefined;
  if (!found || !grant) {
    return { active: false };
  }
  const exp = found.expires_at ? Math.floor(Date.parse(found.expires_at) / 1000) : undefined;
  return {
    active: true,
    token_type: 'refresh_token',
    ...contextFields(ctx, grant),
    scope: found.scopes.join(' '),
    client_id: grant.client_id,
    sub: grant.account_id ?? grant.client_id,
    iss: ctx.urls.issuer,
    exp,
  };
}

/** Launch context as in the token response; fhirUser as in the id_token (absolute). */
function contextFields(ctx: OAuthContext, grant: GrantRow): JWTPayload {
  const c = grant.context;
  return Object.fromEntries(
    Object.entries({
      patient: c.patient,
      encounter: c.encounter,
      fhirUser: c.fhirUser ? `${ctx.urls.fhirBase}/${c.fhirUser}` : undefined,
      need_patient_banner: c.need_patient_banner,
      smart_style_url: c.smart_style_url,
      intent: c.intent,
      fhirContext: c.fhirContext,
    }).filter(([, v]) => v !== undefined)
  );
}

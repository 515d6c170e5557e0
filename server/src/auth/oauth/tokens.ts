import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { sql } from '../../db/sql';
import type { Account, AccessTokenClaims, Role } from '../types';
import type { OAuthContext } from './context';
import type { GrantRow } from './grants';
import { createRefreshToken } from './grants';
import { ID_TOKEN_ALG, TOKEN_ALG } from './keys';
import { parseScopes } from './scopes';

/** RFC 9068's media type for JWT access tokens: a Hale session or id_token can never pass as one. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
const DAY_S = 86_400;

/** The token endpoint's JSON answer (RFC 6749 §5.1 plus SMART launch context). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
  patient?: string;
  encounter?: string;
  need_patient_banner?: boolean;
  smart_style_url?: string;
  intent?: string;
  fhirContext?: unknown[];
}

/** Signs an access token for a grant and records its jti (so it can be revoked and introspected). */
export async function signAccessToken(
  ctx: OAuthContext,
  grant: GrantRow,
  scopes: string[],
  roles: Role[] | undefined
): Promise<{ token: string; expiresIn: number }> {
  const ttl = ctx.deps.config.accessTokenTtlSeconds;
  const iat = Math.floor(Date.now() / 1000);
  const claims: AccessTokenClaims = {
    iss: ctx.urls.issuer,
    aud: ctx.urls.fhirBase,
    sub: grant.account_id ?? grant.client_id,
    client_id: grant.client_id,
    scope: scopes.join(' '),
    jti: randomUUID(),
    grant_id: grant.id,
    patient: grant.context.patient,
    encounter: grant.context.encounter,
    fhirUser: grant.context.fhirUser,
    roles: roles && roles.length > 0 ? roles : undefined,
    iat,
    exp: iat + ttl,
  };
  const { kid, key } = await ctx.keys.signingKey(TOKEN_ALG);
  const token = await new SignJWT(withoutUndefined({ ...claims }))
    .setProtectedHeader({ alg: TOKEN_ALG, kid, typ: ACCESS_TOKEN_TYP })
    .sign(key);
  await ctx.deps.db.query(
    sql`INSERT INTO oauth_access_token (jti, grant_id, expires_at)
        VALUES (${claims.jti}, ${grant.id}, ${new Date(claims.exp * 1000).toISOString()})`
  );
  return { token, expiresIn: ttl };
}

/** An OpenID Connect id_token (RS256, as SMART's sso-openid-connect requires), with SMART's fhirUser claim. */
export async function signIdToken(
  ctx: OAuthContext,
  grant: GrantRow,
  scopes: string[],
  account: Account,
  nonce: string | undefined
): Promise<string> {
  const granted = parseScopes(scopes).context;
  const identity = granted.has('fhirUser') || granted.has('profile');
  const claims = withoutUndefined({
    fhirUser: identity && grant.context.fhirUser ? `${ctx.urls.fhirBase}/${grant.context.fhirUser}` : undefined,
    name: granted.has('profile') ? (account.name ?? undefined) : undefined,
    auth_time: grant.context.auth_time,
    nonce,
  });
  const { kid, key } = await ctx.keys.signingKey(ID_TOKEN_ALG);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ID_TOKEN_ALG, kid, typ: 'JWT' })
    .setIssuer(ctx.urls.issuer)
    .setSubject(account.id)
    .setAudience(grant.client_id)
    .setIssuedAt()
    .setExpirationTime(`${ctx.deps.config.accessTokenTtlSeconds}s`)
    .sign(key);
}

/**
 * The full token response for a grant: access token, refresh token when the grant allows
 * one (`refreshScopes` is what the new refresh token carries), id_token when `openid` was
 * granted to a person, and the launch context.
 */
export async function buildTokenResponse(
  ctx: OAuthContext,
  grant: GrantRow,
  scopes: string[],
  opts: { account?: Account; nonce?: string; refreshScopes?: string[] }
): Promise<TokenResponse> {
  const { token, expiresIn } = await signAccessToken(ctx, grant, scopes, opts.account?.roles);
  const response: TokenResponse = {
    access_token: token,
    token_type: 'Bearer',
    expires_in: expiresIn,
    scope: scopes.join(' '),
  };
  const refreshExpiry = opts.refreshScopes ? refreshExpiresAt(ctx, grant) : undefined;
  if (opts.refreshScopes && refreshExpiry !== undefined) {
    response.refresh_token = await createRefreshToken(ctx.deps.db, grant.id, opts.refreshScopes, refreshExpiry);
  }
  if (opts.account && parseScopes(scopes).context.has('openid')) {
    response.id_token = await signIdToken(ctx, grant, scopes, opts.account, opts.nonce);
  }
  const c = grant.context;
  return withoutUndefined({
    ...response,
    patient: c.patient,
    encounter: c.encounter,
    need_patient_banner: c.need_patient_banner,
    smart_style_url: c.smart_style_url,
    intent: c.intent,
    fhirContext: c.fhirContext,
  });
}

/**
 * When a new refresh token for this grant expires; undefined when none may be issued.
 * offline_access: REFRESH_TOKEN_TTL_DAYS from now. online_access: when the login session
 * that approved the grant ends (and sign-out revokes the grant sooner).
 */
function refreshExpiresAt(ctx: OAuthContext, grant: GrantRow): Date | undefined {
  const c = grant.context;
  if (c.refresh === 'offline') {
    return new Date(Date.now() + ctx.deps.config.refreshTokenTtlDays * DAY_S * 1000);
  }
  if (c.refresh === 'online' && c.session_expires_at && c.session_expires_at * 1000 > Date.now()) {
    return new Date(c.session_expires_at * 1000);
  }
  return undefined;
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

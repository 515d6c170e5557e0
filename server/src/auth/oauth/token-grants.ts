import { createHash, timingSafeEqual } from 'node:crypto';
import { getAccount } from '../accounts';
import type { Account } from '../types';
import type { ClientRow } from './clients';
import type { OAuthContext } from './context';
import { OAuthError } from './errors';
import type { Params } from './form';
import type { GrantRow } from './grants';
import { consumeCode, consumeRefreshToken, createGrant, findRefreshToken, getGrant, revokeGrant } from './grants';
import { allowedSubset, parseScopes, scopeCovered } from './scopes';
import type { TokenResponse } from './tokens';
import { buildTokenResponse } from './tokens';

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

const invalidGrant = (description: string): OAuthError => new OAuthError('invalid_grant', description);

function required(params: Params, name: string): string {
  const v = params.get(name);
  if (v === undefined) {
    throw new OAuthError('invalid_request', `${name} is required`);
  }
  return v;
}

/**
 * authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5): the code is used up on first
 * presentation whatever happens next — before any other parameter is looked at, so that a
 * request without code_verifier or redirect_uri uses it up too (an intercepted code cannot be
 * tried first without PKCE and then left for the app). A second presentation means it leaked, so
 * the whole grant — every token issued from it — is revoked (RFC 6749 §4.1.2, §10.5).
 */
export async function exchangeCode(ctx: OAuthContext, client: ClientRow, params: Params): Promise<TokenResponse> {
  const used = await consumeCode(ctx.deps.db, required(params, 'code'));
  if (!used) {
    throw invalidGrant('Unknown authorization code');
  }
  if ('reused' in used) {
    await revokeGrant(ctx.deps.db, used.reused);
    throw invalidGrant('The authorization code was already used: every token issued from it is revoked');
  }
  const redirectUri = required(params, 'redirect_uri');
  const verifier = params.get('code_verifier');
  if (verifier === undefined) {
    throw new OAuthError('invalid_request', 'code_verifier is required (PKCE)');
  }
  if (!VERIFIER.test(verifier)) {
    throw new OAuthError('invalid_request', 'code_verifier must be 43-128 unreserved characters');
  }
  const c = used.code;
  if (c.client_id !== client.client_id || c.expired || c.redirect_uri !== redirectUri) {
    throw invalidGrant('The authorization code is expired, or was issued to another client or redirect_uri');
  }
  if (!pkceMatches(verifier, c.code_challenge)) {
    throw invalidGrant('The code_verifier does not match the code_challenge');
  }
  const { grant, account } = await liveGrant(ctx, c.grant_id);
  return buildTokenResponse(ctx, grant, grant.scopes, {
    account,
    nonce: c.nonce ?? undefined,
    refreshScopes: grant.scopes,
  });
}

function pkceMatches(verifier: string, challenge: string): boolean {
  const a = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const b = Buffer.from(challenge);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * refresh_token (RFC 6749 §6): rotation on every use; presenting a used refresh token again
 * revokes the grant. The scope may only narrow (never beyond the refresh token's); a missing
 * scope means the same scopes. Client and scope are checked before the token is used up, so
 * a mistaken request does not cost the client its refresh token.
 */
export async function refresh(ctx: OAuthContext, client: ClientRow, params: Params): Promise<TokenResponse> {
  const token = required(params, 'refresh_token');
  const peek = await findRefreshToken(ctx.deps.db, token);
  const owner = peek ? await getGrant(ctx.deps.db, peek.grant_id) : undefined;
  if (!peek || !owner || owner.client_id !== client.client_id) {
    throw invalidGrant('Unknown refresh token, or issued to another client');
  }
  const scopes = narrowedScopes(params.get('scope'), peek.scopes);
  const used = await consumeRefreshToken(ctx.deps.db, token);
  if (!used) {
    throw invalidGrant('Unknown refresh token');
  }
  if ('reused' in used) {
    await revokeGrant(ctx.deps.db, used.reused);
    throw invalidGrant('The refresh token was already used: the whole grant is revoked');
  }
  if (used.refresh.expired) {
    throw invalidGrant('The refresh token has expired');
  }
  const { grant, account } = await liveGrant(ctx, used.refresh.grant_id);
  return buildTokenResponse(ctx, grant, scopes, { account, refreshScopes: used.refresh.scopes });
}

function narrowedScopes(requested: string | undefined, granted: string[]): string[] {
  if (requested === undefined) {
    return granted;
  }
  const scopes = parseScopes(requested).scopes;
  const beyond = scopes.filter((s) => !scopeCovered(s, granted));
  if (beyond.length > 0) {
    throw new OAuthError('invalid_scope', `Scopes beyond the original grant: ${beyond.join(' ')}`);
  }
  if (scopes.length === 0) {
    throw new OAuthError('invalid_scope', 'None of the requested scopes is known');
  }
  return scopes;
}

/** A grant that is not revoked, with its person still allowed to use apps. */
async function liveGrant(ctx: OAuthContext, grantId: string): Promise<{ grant: GrantRow; account?: Account }> {
  const grant = await getGrant(ctx.deps.db, grantId);
  if (!grant || grant.revoked_at) {
    throw invalidGrant('The authorization has been revoked');
  }
  if (!grant.account_id) {
    return { grant };
  }
  const account = await getAccount(ctx.deps, grant.account_id);
  if (!account || account.status !== 'active' || !account.emailVerified) {
    throw invalidGrant('The account that granted access can no longer use apps');
  }
  return { grant, account };
}

/**
 * client_credentials for SMART Backend Services: the client is already authenticated by
 * its signed assertion; it gets the system/ scopes it asked for that its registration
 * allows, and never a refresh token.
 */
export async function clientCredentials(ctx: OAuthContext, client: ClientRow, params: Params): Promise<TokenResponse> {
  const requested = required(params, 'scope');
  const systemScopes = parseScopes(requested).scopes.filter((s) => s.startsWith('system/'));
  const scopes = allowedSubset(systemScopes, client.allowed_scopes);
  if (scopes.length === 0) {
    throw new OAuthError('invalid_scope', 'None of the requested system scopes is allowed for this client');
  }
  const grant = await createGrant(ctx.deps.db, { clientId: client.client_id, accountId: null, scopes, context: {} });
  return buildTokenResponse(ctx, grant, scopes, {});
}

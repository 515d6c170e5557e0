import { OperationOutcomeError } from '@medplum/core';
import type { Request, Response } from 'express';
import type express from 'express';
import { clientIp, getAccount } from '../accounts';
import { RateLimitedError } from '../rate-limit';
import type { AuthenticatedClient } from './client-auth';
import { authenticateClient } from './client-auth';
import type { OAuthContext } from './context';
import { OAuthError } from './errors';
import type { Params } from './form';
import { formParams } from './form';
import { introspect, revoke } from './token-inspect';
import { clientCredentials, exchangeCode, refresh } from './token-grants';
import { verifyAccessToken } from './verify';

const GRANTS = {
  authorization_code: exchangeCode,
  refresh_token: refresh,
  client_credentials: clientCredentials,
} as const;

/** RFC 6749 §5.1: token responses (and their errors) must never be cached. */
export function noStore(res: Response): void {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
}

/** The token, revocation (RFC 7009) and introspection (RFC 7662) endpoints. */
export function mountTokenRoutes(router: express.Router, ctx: OAuthContext): void {
  router.post('/token', async (req, res) => {
    noStore(res);
    const params = formParams(req);
    await limit(ctx, req, res, 'oauth-token');
    const grantType = params.get('grant_type');
    if (!grantType) {
      throw new OAuthError('invalid_request', 'grant_type is required');
    }
    const handler = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType as keyof typeof GRANTS] : undefined;
    if (!handler) {
      throw new OAuthError('unsupported_grant_type', `Unsupported grant_type ${grantType}`);
    }
    const { client } = await authenticateClient(ctx, req, params);
    if (!client.grant_types.includes(grantType)) {
      throw new OAuthError('unauthorized_client', `This client may not use the ${grantType} grant`);
    }
    res.json(await handler(ctx, client, params));
  });

  router.post('/revoke', async (req, res) => {
    noStore(res);
    const params = formParams(req);
    await limit(ctx, req, res, 'oauth-revoke');
    const { client } = await authenticateClient(ctx, req, params);
    await revoke(ctx, client, tokenParam(params));
    res.status(200).end();
  });

  router.post('/introspect', async (req, res) => {
    noStore(res);
    const params = formParams(req);
    await limit(ctx, req, res, 'oauth-introspect');
    await authorizeIntrospection(ctx, req, params);
    res.json(await introspect(ctx, tokenParam(params)));
  });
}

function tokenParam(params: Params): string {
  const token = params.get('token');
  if (!token) {
    throw new OAuthError('invalid_request', 'token is required');
  }
  return token;
}

/**
 * Who may introspect: an authenticated confidential client, or (SMART token-introspection)
 * the holder of a valid Hale access token of a user or backend service. A public client's
 * bare client_id proves nothing, so it is not enough.
 */
async function authorizeIntrospection(ctx: OAuthContext, req: Request, params: Params): Promise<void> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.header('authorization') ?? '')?.[1];
  if (bearer) {
    try {
      const claims = await verifyAccessToken(ctx.deps, bearer);
      if (claims.sub !== claims.client_id && (await getAccount(ctx.deps, claims.sub))?.status !== 'active') {
        throw new OAuthError('invalid_client', 'The bearer token is not valid', 401);
      }
      return;
    } catch (err) {
      if (err instanceof OperationOutcomeError) {
        throw new OAuthError('invalid_client', 'The bearer token is not valid', 401);
      }
      throw err;
    }
  }
  const caller: AuthenticatedClient = await authenticateClient(ctx, req, params);
  if (caller.method === 'none') {
    throw new OAuthError('invalid_client', 'Introspection needs client authentication or a bearer token', 401);
  }
}

/** Rate limit per client address; answered as an OAuth error (429, with Retry-After) rather than an OperationOutcome. */
async function limit(ctx: OAuthContext, req: Request, res: Response, name: string): Promise<void> {
  try {
    await ctx.deps.rateLimits.consume(name, `ip:${clientIp(req)}`, ctx.deps.config.authRateLimitPerMinute * 5);
  } catch (err) {
    if (err instanceof RateLimitedError) {
      res.set('Retry-After', String(err.retryAfterSeconds));
      throw new OAuthError('temporarily_unavailable', 'Too many requests: retry in a minute', 429);
    }
    throw err;
  }
}

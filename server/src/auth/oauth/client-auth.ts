import type { Request } from 'express';
import { JWT_BEARER, verifyClientAssertion } from './client-assertion';
import type { ClientRow } from './clients';
import { getActiveClient, secretMatches } from './clients';
import type { OAuthContext } from './context';
import { OAuthError } from './errors';
import type { Params } from './form';

export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

export interface AuthenticatedClient {
  client: ClientRow;
  method: ClientAuthMethod;
}

/**
 * Authenticates the client of a token, revocation or introspection request (RFC 6749 §2.3,
 * RFC 7523, SMART client profiles): exactly one method per request, and the method must be
 * the one the client's kind implies — a confidential client can never fall back to
 * "public" by leaving its credentials out.
 */
export async function authenticateClient(
  ctx: OAuthContext,
  req: Request,
  params: Params
): Promise<AuthenticatedClient> {
  const basic = parseBasic(req.header('authorization'));
  const assertion = params.get('client_assertion');
  const postSecret = params.get('client_secret');
  const used = [basic, assertion, postSecret].filter((m) => m !== undefined).length;
  if (used > 1) {
    throw new OAuthError('invalid_request', 'Use exactly one client authentication method');
  }
  const clientIdParam = params.get('client_id');
  if (assertion !== undefined) {
    if (params.get('client_assertion_type') !== JWT_BEARER) {
      throw new OAuthError('invalid_client', `client_assertion_type must be ${JWT_BEARER}`, 401);
    }
    return { client: await verifyClientAssertion(ctx, assertion, clientIdParam), method: 'private_key_jwt' };
  }
  if (basic) {
    if (clientIdParam !== undefined && clientIdParam !== basic.id) {
      throw new OAuthError('invalid_request', 'client_id does not match the Authorization header');
    }
    return { client: await bySecret(ctx, basic.id, basic.secret, true), method: 'client_secret_basic' };
  }
  if (!clientIdParam) {
    throw new OAuthError('invalid_client', 'Client authentication is required (or client_id for a public client)', 401);
  }
  if (postSecret !== undefined) {
    return { client: await bySecret(ctx, clientIdParam, postSecret, false), method: 'client_secret_post' };
  }
  const client = await getActiveClient(ctx.deps.db, clientIdParam);
  if (!client || client.kind !== 'public') {
    throw new OAuthError('invalid_client', 'Unknown client, or this client must authenticate', 401);
  }
  return { client, method: 'none' };
}

async function bySecret(ctx: OAuthContext, clientId: string, secret: string, basic: boolean): Promise<ClientRow> {
  const client = await getActiveClient(ctx.deps.db, clientId);
  if (!client || client.kind !== 'confidential-symmetric' || !secretMatches(client, secret)) {
    throw new OAuthError('invalid_client', 'Client authentication failed', 401, basic);
  }
  return client;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined with ':' and base64-encoded. */
function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!m?.[1]) {
    return undefined;
  }
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    throw new OAuthError('invalid_client', 'Malformed Basic credentials', 401, true);
  }
  return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
}

function formDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s; // some clients send the raw value; it is then compared as is
  }
}

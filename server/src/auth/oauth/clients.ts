import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { JWK } from 'jose';
import { z } from 'zod';
import type { Queryable } from '../../db/database';
import { sql } from '../../db/sql';
import { parseJwks } from './client-jwks';
import { parseScope } from './scopes';

export const CLIENT_KINDS = ['public', 'confidential-symmetric', 'confidential-asymmetric'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

/** A row of `oauth_client`. */
export interface ClientRow {
  client_id: string;
  name: string;
  kind: ClientKind;
  secret_hash: string | null;
  jwks: { keys: JWK[] } | null;
  jwks_uri: string | null;
  redirect_uris: string[];
  allowed_scopes: string[];
  grant_types: string[];
  launch_url: string | null;
  created_at: string;
  disabled_at: string | null;
}

/** What registration accepts (admin API body and CLI flags). */
export const clientInputSchema = z.object({
  name: z.string().trim().min(1).max(200),
  type: z.enum(CLIENT_KINDS),
  redirect_uris: z.array(z.string()).default([]),
  scope: z.string().trim().min(1),
  jwks: z.unknown().optional(),
  jwks_uri: z.string().optional(),
  launch_url: z.string().optional(),
});
export type ClientInput = z.input<typeof clientInputSchema>;

export class ClientInputError extends Error {}

const GRANT_TYPES: Record<ClientKind, string[]> = {
  public: ['authorization_code', 'refresh_token'],
  'confidential-symmetric': ['authorization_code', 'refresh_token'],
  // Backend services (client_credentials) authenticate with keys only: SMART keeps secrets out of them.
  'confidential-asymmetric': ['authorization_code', 'refresh_token', 'client_credentials'],
};

/** Registers a client; the secret (confidential-symmetric) is returned here once and stored only hashed. */
export async function registerClient(
  q: Queryable,
  raw: ClientInput,
  clientId: string = randomUUID()
): Promise<{ client: ClientRow; clientSecret?: string }> {
  const parsed = clientInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ClientInputError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const input = parsed.data;
  const scopes = input.scope.split(/\s+/).filter(Boolean);
  const unknown = scopes.filter((s) => !parseScope(s));
  if (unknown.length > 0) {
    throw new ClientInputError(`unknown scopes: ${unknown.join(' ')}`);
  }
  for (const uri of input.redirect_uris) {
    checkRedirectUri(uri);
  }
  const keys = checkKeys(input.type, input.jwks, input.jwks_uri);
  if (input.launch_url !== undefined) {
    checkWebUrl(input.launch_url, 'launch_url');
  }
  const secret = input.type === 'confidential-symmetric' ? randomBytes(32).toString('base64url') : undefined;
  const [client] = await q.query<ClientRow>(
    sql`INSERT INTO oauth_client
          (client_id, name, kind, secret_hash, jwks, jwks_uri, redirect_uris, allowed_scopes, grant_types, launch_url)
        VALUES (${clientId}, ${input.name}, ${input.type}, ${secret ? hashSecret(secret) : null},
                ${keys.jwks ? JSON.stringify(keys.jwks) : null}, ${keys.jwksUri ?? null}, ${input.redirect_uris},
                ${scopes}, ${GRANT_TYPES[input.type]}, ${input.launch_url ?? null})
        RETURNING *`
  );
  return { client: client as ClientRow, clientSecret: secret };
}

/** A client by id, or undefined (disabled clients are returned: callers refuse them). */
export async function getClient(q: Queryable, clientId: string): Promise<ClientRow | undefined> {
  const [row] = await q.query<ClientRow>(sql`SELECT * FROM oauth_client WHERE client_id = ${clientId}`);
  return row;
}

/** An enabled client by id, or undefined. */
export async function getActiveClient(q: Queryable, clientId: string): Promise<ClientRow | undefined> {
  const client = await getClient(q, clientId);
  return client && !client.disabled_at ? client : undefined;
}

export async function listClients(q: Queryable): Promise<ClientRow[]> {
  return q.query<ClientRow>(sql`SELECT * FROM oauth_client WHERE disabled_at IS NULL ORDER BY created_at`);
}

/** Disables a client and revokes everything issued to it. Returns false when there was no such client. */
export async function disableClient(q: Queryable, clientId: string): Promise<boolean> {
  const rows = await q.query(
    sql`WITH c AS (UPDATE oauth_client SET disabled_at = now() WHERE client_id = ${clientId} AND disabled_at IS NULL
                   RETURNING client_id),
             g AS (UPDATE oauth_grant SET revoked_at = now() WHERE client_id IN (SELECT client_id FROM c)
                   AND revoked_at IS NULL RETURNING id)
        SELECT (SELECT count(*) FROM c) AS clients, (SELECT count(*) FROM g) AS grants`
  );
  return Number((rows[0] as { clients: string } | undefined)?.clients ?? 0) > 0;
}

/** What the admin API shows of a client (never the secret hash). */
export function clientView(c: ClientRow): Record<string, unknown> {
  return {
    client_id: c.client_id,
    client_name: c.name,
    type: c.kind,
    redirect_uris: c.redirect_uris,
    scope: c.allowed_scopes.join(' '),
    grant_types: c.grant_types,
    jwks_uri: c.jwks_uri ?? undefined,
    jwks: c.jwks ?? undefined,
    launch_url: c.launch_url ?? undefined,
    created_at: c.created_at,
  };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function secretMatches(client: ClientRow, secret: string): boolean {
  if (!client.secret_hash) {
    return false;
  }
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(client.secret_hash);
  return a.length === b.length && timingSafeEqual(a, b);
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Redirect URIs: absolute, no fragment; https, or http on a loopback host (RFC 8252 §7.3),
 * or a private-use scheme with a dot in it for native apps (RFC 8252 §7.1).
 */
function checkRedirectUri(uri: string): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ClientInputError(`redirect_uri is not an absolute URI: ${uri}`);
  }
  if (url.hash || uri.includes('#')) {
    throw new ClientInputError(`redirect_uri must not have a fragment: ${uri}`);
  }
  const scheme = url.protocol.slice(0, -1);
  const ok =
    scheme === 'https' ||
    (scheme === 'http' && LOOPBACK.has(url.hostname)) ||
    /^[a-z][a-z0-9+-]*\.[a-z0-9.+-]+$/.test(scheme);
  if (!ok) {
    throw new ClientInputError(`redirect_uri must be https (http only on localhost): ${uri}`);
  }
}

function checkWebUrl(uri: string, what: string): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ClientInputError(`${what} is not an absolute URL: ${uri}`);
  }
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)))) {
    throw new ClientInputError(`${what} must be https (http only on localhost): ${uri}`);
  }
}

function checkKeys(
  kind: ClientKind,
  jwks: unknown,
  jwksUri: string | undefined
): { jwks?: { keys: JWK[] }; jwksUri?: string } {
  if (kind !== 'confidential-asymmetric') {
    if (jwks !== undefined || jwksUri !== undefined) {
      throw new ClientInputError('only confidential-asymmetric clients register keys');
    }
    return {};
  }
  if ((jwks === undefined) === (jwksUri === undefined)) {
    throw new ClientInputError('a confidential-asymmetric client needs exactly one of jwks or jwks_uri');
  }
  if (jwksUri !== undefined) {
    checkWebUrl(jwksUri, 'jwks_uri');
    return { jwksUri };
  }
  try {
    return { jwks: { keys: parseJwks(jwks) } };
  } catch (err) {
    throw new ClientInputError((err as Error).message);
  }
}

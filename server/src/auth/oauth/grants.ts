import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/database';
import { sql } from '../../db/sql';

/** Launch context and refresh policy of a grant (`oauth_grant.context`). */
export interface GrantContext {
  patient?: string;
  encounter?: string;
  /** Relative, e.g. "Patient/123". */
  fhirUser?: string;
  need_patient_banner?: boolean;
  smart_style_url?: string;
  intent?: string;
  fhirContext?: unknown[];
  /** offline: refresh tokens last REFRESH_TOKEN_TTL_DAYS; online: they end with the login session. */
  refresh?: 'offline' | 'online';
  /** The login session that approved the grant (sign-out revokes its online grants). */
  sid?: string;
  /** When that login session ends (epoch seconds). */
  session_expires_at?: number;
  auth_time?: number;
}

export interface GrantRow {
  id: string;
  client_id: string;
  account_id: string | null;
  scopes: string[];
  context: GrantContext;
  revoked_at: string | null;
}

interface CodeRow {
  grant_id: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  nonce: string | null;
  expired: boolean;
}

interface RefreshRow {
  grant_id: string;
  scopes: string[];
  expired: boolean;
}

/** Codes and refresh tokens are 256-bit random strings; only their SHA-256 is stored. */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

export async function createGrant(
  q: Queryable,
  g: { clientId: string; accountId: string | null; scopes: string[]; context: GrantContext }
): Promise<GrantRow> {
  const [row] = await q.query<GrantRow>(
    sql`INSERT INTO oauth_grant (id, client_id, account_id, scopes, context)
        VALUES (${randomUUID()}, ${g.clientId}, ${g.accountId}, ${g.scopes}, ${JSON.stringify(g.context)})
        RETURNING id, client_id, account_id, scopes, context, revoked_at`
  );
  return row as GrantRow;
}

export async function getGrant(q: Queryable, id: string): Promise<GrantRow | undefined> {
  const [row] = await q.query<GrantRow>(
    sql`SELECT id, client_id, account_id, scopes, context, revoked_at FROM oauth_grant WHERE id = ${id}`
  );
  return row;
}

/** Revokes a grant and so every code, access token and refresh token issued from it. */
export async function revokeGrant(q: Queryable, grantId: string): Promise<void> {
  await q.query(
    sql`WITH g AS (UPDATE oauth_grant SET revoked_at = now() WHERE id = ${grantId} AND revoked_at IS NULL RETURNING id)
        UPDATE oauth_access_token SET revoked_at = now()
         WHERE grant_id IN (SELECT id FROM g) AND revoked_at IS NULL`
  );
}

/** Revokes every grant a person gave a client (the person withdrew the app's approval). */
export async function revokeGrantsOf(q: Queryable, accountId: string, clientId: string): Promise<number> {
  const rows = await q.query(
    sql`WITH g AS (UPDATE oauth_grant SET revoked_at = now()
                    WHERE account_id = ${accountId} AND client_id = ${clientId} AND revoked_at IS NULL RETURNING id),
             t AS (UPDATE oauth_access_token SET revoked_at = now()
                    WHERE grant_id IN (SELECT id FROM g) AND revoked_at IS NULL RETURNING jti)
        SELECT id FROM g`
  );
  return rows.length;
}

export async function createCode(
  q: Queryable,
  c: {
    grantId: string;
    clientId: string;
    redirectUri: string;
    codeChallenge: string;
    nonce?: string;
    ttlSeconds: number;
  }
): Promise<string> {
  const code = newSecretToken();
  const expires = new Date(Date.now() + c.ttlSeconds * 1000).toISOString();
  await q.query(
    sql`INSERT INTO oauth_code (code_hash, grant_id, client_id, redirect_uri, code_challenge, nonce, expires_at)
        VALUES (${hashToken(code)}, ${c.grantId}, ${c.clientId}, ${c.redirectUri}, ${c.codeChallenge},
                ${c.nonce ?? null}, ${expires})`
  );
  return code;
}

/**
 * Marks a code used and returns it — exactly once. A code that exists but was used before
 * comes back as `reused` (its grant must then be revoked); an unknown code as undefined.
 */
export async function consumeCode(
  q: Queryable,
  code: string
): Promise<{ code: CodeRow } | { reused: string } | undefined> {
  const hash = hashToken(code);
  const [row] = await q.query<CodeRow>(
    sql`UPDATE oauth_code SET used_at = now() WHERE code_hash = ${hash} AND used_at IS NULL
        RETURNING grant_id, client_id, redirect_uri, code_challenge, nonce, expires_at < now() AS expired`
  );
  if (row) {
    return { code: row };
  }
  const [used] = await q.query<{ grant_id: string }>(sql`SELECT grant_id FROM oauth_code WHERE code_hash = ${hash}`);
  return used ? { reused: used.grant_id } : undefined;
}

export async function createRefreshToken(
  q: Queryable,
  grantId: string,
  scopes: string[],
  expiresAt: Date | null
): Promise<string> {
  const token = newSecretToken();
  await q.query(
    sql`INSERT INTO oauth_refresh_token (token_hash, grant_id, scopes, expires_at)
        VALUES (${hashToken(token)}, ${grantId}, ${scopes}, ${expiresAt?.toISOString() ?? null})`
  );
  return token;
}

/** Like consumeCode, for refresh tokens (each is single use: rotation). */
export async function consumeRefreshToken(
  q: Queryable,
  token: string
): Promise<{ refresh: RefreshRow } | { reused: string } | undefined> {
  const hash = hashToken(token);
  const [row] = await q.query<RefreshRow>(
    sql`UPDATE oauth_refresh_token SET used_at = now() WHERE token_hash = ${hash} AND used_at IS NULL
        RETURNING grant_id, scopes, coalesce(expires_at < now(), false) AS expired`
  );
  if (row) {
    return { refresh: row };
  }
  const [used] = await q.query<{ grant_id: string }>(
    sql`SELECT grant_id FROM oauth_refresh_token WHERE token_hash = ${hash}`
  );
  return used ? { reused: used.grant_id } : undefined;
}

/** A refresh token's grant and state without using it up (introspection and revocation). */
export async function findRefreshToken(
  q: Queryable,
  token: string
): Promise<{ grant_id: string; scopes: string[]; active: boolean; expires_at: string | null } | undefined> {
  const [row] = await q.query<{ grant_id: string; scopes: string[]; active: boolean; expires_at: string | null }>(
    sql`SELECT r.grant_id, r.scopes, r.expires_at,
               (r.used_at IS NULL AND (r.expires_at IS NULL OR r.expires_at > now()) AND g.revoked_at IS NULL) AS active
          FROM oauth_refresh_token r JOIN oauth_grant g ON g.id = r.grant_id
         WHERE r.token_hash = ${hashToken(token)}`
  );
  return row;
}

/**
 * Deletes state that can no longer matter: expired codes, jtis, access-token rows, refresh
 * tokens and launches, and backend-service grants (one per client_credentials token, never
 * refreshable) once their token has expired. People's grants stay, revoked or not.
 */
export async function pruneExpired(q: Queryable): Promise<void> {
  await q.query(
    sql`DELETE FROM oauth_grant g WHERE g.account_id IS NULL AND g.created_at < now() - interval '1 day'
          AND NOT EXISTS (SELECT 1 FROM oauth_access_token t WHERE t.grant_id = g.id AND t.expires_at > now())`
  );
  await q.query(sql`DELETE FROM oauth_code WHERE expires_at < now() - interval '1 day'`);
  await q.query(sql`DELETE FROM oauth_jti WHERE expires_at < now()`);
  await q.query(sql`DELETE FROM oauth_access_token WHERE expires_at < now() - interval '1 day'`);
  await q.query(sql`DELETE FROM oauth_refresh_token WHERE expires_at < now() - interval '1 day'`);
  await q.query(sql`DELETE FROM smart_launch WHERE expires_at < now() - interval '1 day'`);
}

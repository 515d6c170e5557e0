import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/database';
import { sql } from '../../db/sql';

/** Purposes of `account_token` rows (the table's CHECK constraint). */
export type TokenPurpose = 'verify-email' | 'reset-password' | 'login-code';

export const VERIFY_EMAIL_TTL_SECONDS = 24 * 3600;
export const RESET_PASSWORD_TTL_SECONDS = 3600;

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Issues a single-use link token: 32 random bytes (256 bits, so a hash lookup needs no salt and
 * no constant-time compare: finding a row by sha256 reveals nothing about other tokens). Only
 * the hash is stored; the token itself goes into the email and nowhere else.
 */
export async function issueLinkToken(
  db: Queryable,
  accountId: string,
  purpose: 'verify-email' | 'reset-password',
  ttlSeconds: number
): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.query(sql`
    INSERT INTO account_token (id, account_id, purpose, token_hash, expires_at)
    VALUES (${randomUUID()}, ${accountId}, ${purpose}, ${sha256(token)},
            now() + make_interval(secs => ${ttlSeconds}))`);
  return token;
}

/**
 * Marks a link token used and returns its account, or undefined when the token is unknown,
 * used, expired or for another purpose. One UPDATE, so two concurrent uses cannot both win.
 */
export async function consumeLinkToken(
  db: Queryable,
  purpose: 'verify-email' | 'reset-password',
  token: string
): Promise<string | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) {
    return undefined;
  }
  const rows = await db.query<{ account_id: string }>(sql`
    UPDATE account_token SET used_at = now()
    WHERE token_hash = ${sha256(token)} AND purpose = ${purpose} AND used_at IS NULL AND expires_at > now()
    RETURNING account_id`);
  return rows[0]?.account_id;
}

/** Retires every outstanding token of a purpose (a reset retires the other reset links). */
export async function retireTokens(db: Queryable, accountId: string, purpose: TokenPurpose): Promise<void> {
  await db.query(sql`
    UPDATE account_token SET used_at = now()
    WHERE account_id = ${accountId} AND purpose = ${purpose} AND used_at IS NULL`);
}

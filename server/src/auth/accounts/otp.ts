import { randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../../db/database';
import { sql } from '../../db/sql';
import { loginCodeMail, loginCodeSms } from '../../notify/templates';
import type { AuthDeps } from '../deps';
import type { Account } from '../types';
import { limitEmail } from './limits';
import { signInAccount } from './login';
import { notifier } from './mailing';
import { badCredentials, unavailable } from './outcomes';
import type { AccountRow } from './store';
import { selectAccountByEmail, selectAccountById } from './store';
import { retireTokens, sha256 } from './tokens';

export const LOGIN_CODE_TTL_SECONDS = 600;
export const MAX_CODE_ATTEMPTS = 5;
/** Wrong codes per account per 24 h after which no new codes are sent (each code allows 5 tries). */
export const MAX_FAILED_CODES_PER_DAY = 20;

/*
 * Six-digit codes have only 10^6 values, so each code allows MAX_CODE_ATTEMPTS tries and is then
 * locked, and an account stops receiving codes after MAX_FAILED_CODES_PER_DAY wrong tries in a
 * day. The counters are `account_token.attempts` in PostgreSQL: they survive a Redis outage.
 * The stored hash mixes in the row id, so equal codes of two accounts never collide in the
 * unique token_hash index.
 */
function codeHash(tokenId: string, code: string): string {
  return sha256(`login-code:${tokenId}:${code}`);
}

/**
 * Sends a one-time sign-in code by email or SMS when the address has an account that may sign
 * in (and, for SMS, has a phone number); otherwise does nothing, in the same time: the caller
 * answers the same either way. Only the newest code works. 503 when the channel is not configured.
 */
export async function requestLoginCode(deps: AuthDeps, email: string, channel: 'email' | 'sms'): Promise<void> {
  await limitEmail(deps, 'login-code', email);
  const n = notifier(deps);
  if (channel === 'email' ? !n.mailAvailable : !n.smsAvailable) {
    throw unavailable(`Sign-in codes by ${channel} are not configured on this server`);
  }
  const row = await selectAccountByEmail(deps.db, email);
  if (!row || row.status === 'suspended' || (channel === 'sms' && !row.phone)) {
    return;
  }
  const code = await deps.db.transaction((tx) => issueCode(tx, row, channel));
  if (code === undefined) {
    deps.logger.warn({ accountId: row.id }, 'sign-in codes paused for this account: too many wrong codes today');
  } else if (channel === 'email') {
    n.mail(loginCodeMail(row.email, code));
  } else {
    n.text(row.phone as string, loginCodeSms(code, deps.config.serverUrl));
  }
}

async function issueCode(tx: Queryable, row: AccountRow, channel: 'email' | 'sms'): Promise<string | undefined> {
  // Serialises concurrent requests for one account, so exactly one code stays live.
  await tx.query(sql`SELECT id FROM account WHERE id = ${row.id} FOR UPDATE`);
  const [failed] = await tx.query<{ n: number }>(sql`
    SELECT coalesce(sum(attempts), 0)::int AS n FROM account_token
    WHERE account_id = ${row.id} AND purpose = 'login-code' AND created_at > now() - interval '24 hours'`);
  if ((failed?.n ?? 0) >= MAX_FAILED_CODES_PER_DAY) {
    return undefined;
  }
  await retireTokens(tx, row.id, 'login-code');
  const id = randomUUID();
  const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
  await tx.query(sql`
    INSERT INTO account_token (id, account_id, purpose, token_hash, channel, expires_at)
    VALUES (${id}, ${row.id}, 'login-code', ${codeHash(id, code)}, ${channel},
            now() + make_interval(secs => ${LOGIN_CODE_TTL_SECONDS}))`);
  return code;
}

/**
 * Signs in with the newest live code. Wrong, expired, locked or missing codes and unknown
 * emails are one 401. A right code sent by email also proves the address, so it marks it
 * verified; a code by SMS does not (403 'Email not verified' as for passwords).
 */
export async function authenticateLoginCode(deps: AuthDeps, email: string, code: string): Promise<Account> {
  await limitEmail(deps, 'login', email);
  const row = await selectAccountByEmail(deps.db, email);
  if (!row) {
    throw badCredentials('code');
  }
  const ok = await deps.db.transaction((tx) => checkCode(tx, row.id, code.trim()));
  if (!ok) {
    throw badCredentials('code');
  }
  const fresh = await selectAccountById(deps.db, row.id);
  return signInAccount(fresh ?? row);
}

async function checkCode(tx: Queryable, accountId: string, code: string): Promise<boolean> {
  const [live] = await tx.query<{ id: string; token_hash: string; channel: string; attempts: number }>(sql`
    SELECT id, token_hash, channel, attempts FROM account_token
    WHERE account_id = ${accountId} AND purpose = 'login-code' AND used_at IS NULL AND expires_at > now()
    ORDER BY created_at DESC LIMIT 1
    FOR UPDATE`);
  if (!live || live.attempts >= MAX_CODE_ATTEMPTS) {
    return false;
  }
  const expected = Buffer.from(live.token_hash, 'hex');
  const given = Buffer.from(codeHash(live.id, code), 'hex');
  if (!timingSafeEqual(expected, given)) {
    await tx.query(sql`UPDATE account_token SET attempts = attempts + 1 WHERE id = ${live.id}`);
    return false;
  }
  await tx.query(sql`UPDATE account_token SET used_at = now() WHERE id = ${live.id}`);
  if (live.channel === 'email') {
    await tx.query(sql`UPDATE account SET email_verified = true, updated_at = now() WHERE id = ${accountId}`);
  }
  return true;
}

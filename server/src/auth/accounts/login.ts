import type { AuthDeps } from '../deps';
import type { Account } from '../types';
import { PasswordThrottle, throttleKey } from './login-throttle';
import { badCredentials, refused } from './outcomes';
import { verifyPassword } from './passwords';
import type { AccountRow } from './store';
import { selectAccountByEmail, selectAccountById, toAccount } from './store';

/**
 * Checks an email and password. Unknown email and wrong password are one 401 with one message,
 * and take as long (a dummy hash is verified for unknown emails). Only once the password was
 * right: 403 'Email not verified', or 403 for a suspended account. Pending and rejected
 * applicants get their Account (status 'pending' / 'rejected'): the caller decides what they
 * may do (see their application status, nothing else).
 * Throttled per account and per (account, client address) here (login-throttle.ts: 429 with a
 * retry time); the caller limits per client address over all accounts.
 */
export async function authenticatePassword(
  deps: AuthDeps,
  email: string,
  password: string,
  address: string
): Promise<Account> {
  const throttle = new PasswordThrottle(deps.rateLimits);
  const row = await selectAccountByEmail(deps.db, email);
  const key = throttleKey(email, row);
  await throttle.admit(key, address);
  const ok = await verifyPassword(row?.password_hash, password);
  if (!row || !ok) {
    await throttle.failed(key);
    throw badCredentials('password');
  }
  await throttle.succeeded(key, address);
  return signInAccount(row);
}

/** The checks after the credentials were right, shared by password and code sign-in. */
export function signInAccount(row: AccountRow): Account {
  if (!row.email_verified) {
    throw refused('Email not verified');
  }
  if (row.status === 'suspended') {
    throw refused('Account suspended');
  }
  return toAccount(row);
}

export async function getAccount(deps: AuthDeps, id: string): Promise<Account | undefined> {
  const row = await selectAccountById(deps.db, id);
  return row && toAccount(row);
}

export async function findAccountByEmail(deps: AuthDeps, email: string): Promise<Account | undefined> {
  const row = await selectAccountByEmail(deps.db, email);
  return row && toAccount(row);
}

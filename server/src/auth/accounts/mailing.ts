import type { Queryable } from '../../db/database';
import type { Notifier } from '../../notify/notifier';
import { notifierFor } from '../../notify/notifier';
import { alreadyRegisteredMail, resetPasswordMail, verifyEmailMail } from '../../notify/templates';
import type { AuthDeps } from '../deps';
import { unavailable } from './outcomes';
import { RESET_PASSWORD_TTL_SECONDS, VERIFY_EMAIL_TTL_SECONDS, issueLinkToken } from './tokens';

export function notifier(deps: AuthDeps): Notifier {
  return notifierFor(deps.config, deps.logger);
}

/** Throws 503 when mail cannot be delivered (production without SMTP_URL): the flow could not finish. */
export function requireMail(deps: AuthDeps): Notifier {
  const n = notifier(deps);
  if (!n.mailAvailable) {
    throw unavailable('Email is not configured on this server (SMTP_URL); this action needs it');
  }
  return n;
}

/*
 * Links in emails lead to small pages of ours (GET) whose button POSTs the token: mail scanners
 * that open every link must not use up a single-use token. The token is in the query string,
 * which Hale's request log never records.
 */
export function verifyEmailLink(deps: AuthDeps, token: string): string {
  return `${deps.config.serverUrl}/auth/verify-email?token=${token}`;
}

export function resetPasswordLink(deps: AuthDeps, token: string): string {
  return `${deps.config.serverUrl}/auth/reset-password?token=${token}`;
}

/** Issues a verification token in `db` (a transaction, typically) and returns the mail to send after commit. */
export async function prepareVerification(
  deps: AuthDeps,
  db: Queryable,
  account: { id: string; email: string },
  forApplication: boolean
): Promise<() => void> {
  const token = await issueLinkToken(db, account.id, 'verify-email', VERIFY_EMAIL_TTL_SECONDS);
  return () => notifier(deps).mail(verifyEmailMail(account.email, verifyEmailLink(deps, token), forApplication));
}

export async function sendPasswordReset(deps: AuthDeps, account: { id: string; email: string }): Promise<void> {
  const token = await issueLinkToken(deps.db, account.id, 'reset-password', RESET_PASSWORD_TTL_SECONDS);
  notifier(deps).mail(resetPasswordMail(account.email, resetPasswordLink(deps, token)));
}

/**
 * A sign-up or application with an email that already has an account: the answer is the same
 * as for a new address, and the owner of the address gets this mail (with a reset link, which
 * also lets the owner take over an account someone else started with their address).
 */
export async function sendAlreadyRegistered(deps: AuthDeps, account: { id: string; email: string }): Promise<void> {
  const token = await issueLinkToken(deps.db, account.id, 'reset-password', RESET_PASSWORD_TTL_SECONDS);
  notifier(deps).mail(alreadyRegisteredMail(account.email, resetPasswordLink(deps, token)));
}

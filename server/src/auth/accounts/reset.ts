import { sql } from '../../db/sql';
import { passwordChangedMail } from '../../notify/templates';
import type { AuthDeps } from '../deps';
import { notifier, requireMail, sendPasswordReset } from './mailing';
import { invalidLink } from './outcomes';
import { assertAcceptablePassword, hashPassword } from './passwords';
import { selectAccountByEmail, selectAccountById } from './store';
import { consumeLinkToken, retireTokens } from './tokens';

/** Mails a reset link (1 h, single use) when the address has an account; otherwise does nothing. */
export async function requestPasswordReset(deps: AuthDeps, email: string): Promise<void> {
  requireMail(deps);
  const row = await selectAccountByEmail(deps.db, email);
  if (row) {
    await sendPasswordReset(deps, row);
  }
}

/**
 * Sets a new password with a reset link. The link proves control of the mailbox, so the address
 * counts as verified from now on. Every other reset link and sign-in code of the account stops
 * working and its OAuth grants are revoked: whoever held the old password is signed out.
 * A refused password leaves the link usable (the transaction rolls back).
 */
export async function resetPassword(deps: AuthDeps, token: string, password: string): Promise<void> {
  assertAcceptablePassword(password, []);
  const passwordHash = await hashPassword(password);
  const email = await deps.db.transaction(async (tx) => {
    const accountId = await consumeLinkToken(tx, 'reset-password', token);
    const row = accountId ? await selectAccountById(tx, accountId) : undefined;
    if (!row) {
      throw invalidLink();
    }
    assertAcceptablePassword(password, [row.email, row.name]);
    await tx.query(sql`
      UPDATE account SET password_hash = ${passwordHash}, email_verified = true, updated_at = now()
      WHERE id = ${row.id}`);
    await retireTokens(tx, row.id, 'reset-password');
    await retireTokens(tx, row.id, 'login-code');
    await tx.query(sql`UPDATE oauth_grant SET revoked_at = now() WHERE account_id = ${row.id} AND revoked_at IS NULL`);
    return row.email;
  });
  notifier(deps).mail(passwordChangedMail(email));
}

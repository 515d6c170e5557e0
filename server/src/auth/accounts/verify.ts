import { sql } from '../../db/sql';
import type { AuthDeps } from '../deps';
import { prepareVerification, requireMail } from './mailing';
import { invalidLink } from './outcomes';
import { selectAccountByEmail } from './store';
import { consumeLinkToken, retireTokens } from './tokens';

/** Confirms the email address of the link's account. Throws 400 for any link that is not live. */
export async function verifyEmail(deps: AuthDeps, token: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const accountId = await consumeLinkToken(tx, 'verify-email', token);
    if (!accountId) {
      throw invalidLink();
    }
    await tx.query(sql`UPDATE account SET email_verified = true, updated_at = now() WHERE id = ${accountId}`);
  });
}

/**
 * Sends a new verification link (the older ones stop working) when the address has an
 * unverified account; otherwise does nothing. The caller answers the same either way.
 */
export async function resendVerification(deps: AuthDeps, email: string): Promise<void> {
  requireMail(deps);
  const row = await selectAccountByEmail(deps.db, email);
  if (!row || row.email_verified || row.status === 'suspended') {
    return;
  }
  const send = await deps.db.transaction(async (tx) => {
    await retireTokens(tx, row.id, 'verify-email');
    return prepareVerification(deps, tx, row, row.roles.includes('provider') || row.roles.includes('partner'));
  });
  send();
}

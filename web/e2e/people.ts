import type { AccountsHarness } from '../../server/src/auth/accounts/test-support';
import { createAccount, createResource } from '../../server/src/auth/oauth/test-support';
import { sql } from '../../server/src/db/sql';

/** A provider who signs in with PASSWORD: an account with the provider role whose profile is a Practitioner. */
export async function providerAccount(
  h: AccountsHarness,
  given: string,
  family: string
): Promise<{ email: string; accountId: string; practitionerId: string; ref: string }> {
  const practitioner = await createResource(h.s, {
    resourceType: 'Practitioner',
    name: [{ prefix: ['Dr'], given: [given], family }],
  });
  const account = await createAccount(h.s, { roles: ['provider'], patient: false, name: `Dr ${given} ${family}` });
  await h.s.hale.db.query(
    sql`UPDATE account SET profile_type = 'Practitioner', profile_id = ${practitioner.id} WHERE id = ${account.id}`
  );
  return {
    email: account.email,
    accountId: account.id,
    practitionerId: practitioner.id,
    ref: `Practitioner/${practitioner.id}`,
  };
}

/** A user token for the account, as the portal's own would be (user/*.cruds). */
export function tokenFor(h: AccountsHarness, accountId: string): Promise<string> {
  return h.s.token({ scopes: ['user/*.cruds'], accountId });
}

import { getAccount } from '../accounts';
import type { AuthDeps } from '../deps';
import type { Account } from '../types';
import { getActiveClient } from './clients';
import { oauthContext } from './context';
import { createGrant } from './grants';
import { allowedSubset, hasPatientScopes } from './scopes';
import { signAccessToken } from './tokens';

export interface IssueAccessTokenInput {
  /** The person the token acts for; omitted: the client itself (a backend service). */
  accountId?: string;
  clientId: string;
  scopes: string[];
  patient?: string;
  encounter?: string;
  /** Relative, e.g. "Practitioner/123"; defaults to the account's profile. */
  fhirUser?: string;
}

export class IssueError extends Error {}

/**
 * Issues an access token exactly as the token endpoint would — a grant, a recorded jti, the
 * scopes cut down to known ones the client may have — without the interactive flow: for the
 * `token` CLI command and for tests. Throws IssueError when the request cannot be met.
 */
export async function issueAccessToken(
  deps: AuthDeps,
  input: IssueAccessTokenInput
): Promise<{ access_token: string; expires_in: number; scope: string }> {
  const ctx = oauthContext(deps);
  const client = await getActiveClient(deps.db, input.clientId);
  if (!client) {
    throw new IssueError(`unknown client ${input.clientId}`);
  }
  const account = input.accountId ? await activeAccount(deps, input.accountId) : undefined;
  // As at the token endpoint: a person's token never has system/ scopes, a client's only has those.
  const scopes = allowedSubset(
    input.scopes.filter((s) => s.startsWith('system/') === !account),
    client.allowed_scopes
  );
  if (scopes.length === 0) {
    throw new IssueError('none of the scopes is known and allowed for this client');
  }
  const patient = input.patient ?? (account?.profile?.type === 'Patient' ? account.profile.id : undefined);
  if (hasPatientScopes(scopes) && !patient) {
    throw new IssueError('patient/ scopes need a patient (--patient)');
  }
  const profile = account?.profile ? `${account.profile.type}/${account.profile.id}` : undefined;
  const grant = await createGrant(deps.db, {
    clientId: client.client_id,
    accountId: account?.id ?? null,
    scopes,
    context: { patient, encounter: input.encounter, fhirUser: input.fhirUser ?? profile },
  });
  const { token, expiresIn } = await signAccessToken(ctx, grant, scopes, account?.roles);
  return { access_token: token, expires_in: expiresIn, scope: scopes.join(' ') };
}

async function activeAccount(deps: AuthDeps, id: string): Promise<Account> {
  const account = await getAccount(deps, id);
  if (!account) {
    throw new IssueError('unknown account');
  }
  if (account.status !== 'active' || !account.emailVerified) {
    throw new IssueError(`the account is ${account.emailVerified ? account.status : 'not verified'}: no tokens`);
  }
  return account;
}

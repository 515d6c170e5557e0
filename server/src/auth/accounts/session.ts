import { OperationOutcomeError, unauthorized } from '@medplum/core';
import type { Request } from 'express';
import type { AuthDeps } from '../deps';
import type { Account, AccessTokenClaims, AccountStatus, Role } from '../types';
import { refused } from './outcomes';
import { selectAccountById, toAccount } from './store';

declare module 'express-serve-static-core' {
  interface Request {
    /** The verified access token of the request, set by the authentication middleware. */
    auth?: AccessTokenClaims;
  }
}

export interface AccountRequirement {
  /** The account needs at least one of these roles; omitted: any role. */
  roles?: readonly Role[];
  /** Account statuses allowed; default: active only. */
  statuses?: readonly AccountStatus[];
}

/**
 * The account behind the request's access token (`req.auth`, set by the authentication
 * middleware), checked against the database rather than the token's claims: a suspended or
 * demoted admin loses access at once, not when the token expires. 401 without a token; 403 for a
 * token that is not a user's (a backend service), a status not allowed, or a missing role.
 */
export async function requireAccount(deps: AuthDeps, req: Request, need: AccountRequirement = {}): Promise<Account> {
  const claims = req.auth;
  if (!claims) {
    throw new OperationOutcomeError(unauthorized);
  }
  const row = await selectAccountById(deps.db, claims.sub);
  if (!row) {
    throw refused('This endpoint needs a user account');
  }
  const statuses = need.statuses ?? ['active'];
  if (!row.email_verified) {
    throw refused('Email not verified');
  }
  if (!statuses.includes(row.status)) {
    throw refused(`Not available to an account with status ${row.status}`);
  }
  if (need.roles && !need.roles.some((r) => row.roles.includes(r))) {
    throw refused(`Needs the role ${need.roles.join(' or ')}`);
  }
  return toAccount(row);
}

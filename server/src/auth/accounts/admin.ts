import { OperationOutcomeError, badRequest, conflict } from '@medplum/core';
import type { Queryable } from '../../db/database';
import { sql } from '../../db/sql';
import type { Account, AccountStatus, Role } from '../types';
import { assertAcceptablePassword, hashPassword } from './passwords';
import { email as emailSchema } from './schemas';
import { insertAccount, toAccount } from './store';

/**
 * Creates an active admin with a verified email: how the first admin comes to exist (there
 * are no default credentials). The password policy applies in every environment, so a
 * production server cannot get an admin with a common password. 409 when the email is taken.
 */
export async function createAdminAccount(db: Queryable, email: string, password: string): Promise<Account> {
  const parsed = emailSchema.safeParse(email);
  if (!parsed.success) {
    throw new OperationOutcomeError(badRequest('Not a valid email address'));
  }
  assertAcceptablePassword(password, [parsed.data]);
  const row = await insertAccount(db, {
    email: parsed.data,
    passwordHash: await hashPassword(password),
    emailVerified: true,
    status: 'active',
    roles: ['admin'],
    name: null,
    phone: null,
  });
  if (!row) {
    throw new OperationOutcomeError(conflict('An account with this email already exists'));
  }
  return toAccount(row);
}

/** One line of `user list`: no password hash, no tokens. */
export interface AccountListing {
  id: string;
  email: string;
  roles: Role[];
  status: AccountStatus;
  verified: boolean;
  createdAt: string;
}

export async function listAccounts(db: Queryable): Promise<AccountListing[]> {
  const rows = await db.query<{
    id: string;
    email: string;
    roles: Role[];
    status: AccountStatus;
    email_verified: boolean;
    created_at: string;
  }>(sql`SELECT id, email, roles, status, email_verified,
                to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
         FROM account ORDER BY created_at, id`);
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    roles: r.roles,
    status: r.status,
    verified: r.email_verified,
    createdAt: r.created_at,
  }));
}

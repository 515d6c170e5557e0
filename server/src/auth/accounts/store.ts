import { createHash, randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/database';
import { sql } from '../../db/sql';
import type { Account, AccountStatus, Role } from '../types';

/** A row of `account` as stored (the password hash never leaves this folder). */
export interface AccountRow {
  id: string;
  email: string;
  password_hash: string | null;
  email_verified: boolean;
  status: AccountStatus;
  roles: Role[];
  name: string | null;
  phone: string | null;
  profile_type: string | null;
  profile_id: string | null;
  organization_id: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

/** Emails compare case-insensitively (the unique index is on lower(email)); spaces around are typos. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The rate-limit key of an email: hashed, so limiter keys in Redis do not hold addresses. */
export function emailKey(email: string): string {
  return createHash('sha256').update(normalizeEmail(email)).digest('hex');
}

export function toAccount(row: AccountRow): Account {
  const profileType = row.profile_type;
  return {
    id: row.id,
    email: row.email,
    emailVerified: row.email_verified,
    status: row.status,
    roles: row.roles,
    name: row.name,
    phone: row.phone,
    profile:
      row.profile_id && (profileType === 'Patient' || profileType === 'Practitioner' || profileType === 'RelatedPerson')
        ? { type: profileType, id: row.profile_id }
        : null,
    organizationId: row.organization_id,
  };
}

export async function selectAccountByEmail(db: Queryable, email: string): Promise<AccountRow | undefined> {
  const rows = await db.query<AccountRow>(sql`SELECT * FROM account WHERE lower(email) = ${normalizeEmail(email)}`);
  return rows[0];
}

export async function selectAccountById(db: Queryable, id: string): Promise<AccountRow | undefined> {
  if (!isUuid(id)) {
    return undefined;
  }
  const rows = await db.query<AccountRow>(sql`SELECT * FROM account WHERE id = ${id}`);
  return rows[0];
}

export interface NewAccount {
  email: string;
  passwordHash: string;
  emailVerified: boolean;
  status: AccountStatus;
  roles: Role[];
  name: string | null;
  phone: string | null;
  profile?: { type: 'Patient' | 'Practitioner' | 'RelatedPerson'; id: string };
  organizationId?: string;
}

/**
 * Inserts an account; undefined when the email is taken (the unique index decides, so two
 * concurrent sign-ups with one address cannot both succeed).
 */
export async function insertAccount(db: Queryable, a: NewAccount): Promise<AccountRow | undefined> {
  const rows = await db.query<AccountRow>(sql`
    INSERT INTO account (id, email, password_hash, email_verified, status, roles, name, phone,
                         profile_type, profile_id, organization_id)
    VALUES (${randomUUID()}, ${a.email.trim()}, ${a.passwordHash}, ${a.emailVerified}, ${a.status}, ${a.roles},
            ${a.name}, ${a.phone}, ${a.profile?.type ?? null}, ${a.profile?.id ?? null}, ${a.organizationId ?? null})
    ON CONFLICT DO NOTHING
    RETURNING *`);
  return rows[0];
}

export async function setAccountStatus(db: Queryable, id: string, status: AccountStatus): Promise<void> {
  await db.query(sql`UPDATE account SET status = ${status}, updated_at = now() WHERE id = ${id}`);
}

import { OperationOutcomeError } from '@medplum/core';
import type { Queryable } from '../db/database';
import { sql } from '../db/sql';
import type { AccessPolicy } from './access';
import { accessClause } from './read';

/** The stored row an update, patch or delete starts from. */
export interface StoredRow {
  rid: string;
  deleted: boolean;
  content: string | null;
  compartments: string[];
}

/**
 * May the caller change the stored version? `hidden` when it may neither change nor read it:
 * the write must then answer as it would for an id that does not exist (404 for patch and delete,
 * the ordinary refusal for update), so a write cannot tell whether another patient's resource
 * exists. A refusal of a version the caller can read stays the 403 it always was.
 */
export type StoredAccess = { ok: true } | { ok: false; hidden: boolean; refusal: OperationOutcomeError };

/**
 * The check of the version a write replaces, shared by update, patch and delete (their new
 * versions are checked by prepareVersion): together they require the caller to be allowed to
 * write in every patient record the old and the new version belong to.
 */
export async function storedAccess(
  db: Queryable,
  access: AccessPolicy,
  resourceType: string,
  stored: StoredRow,
  interaction: 'update' | 'delete'
): Promise<StoredAccess> {
  try {
    access.checkWrite(
      resourceType,
      { compartments: stored.compartments, content: stored.content ?? undefined },
      interaction
    );
    return { ok: true };
  } catch (err) {
    if (!(err instanceof OperationOutcomeError) || err.outcome.issue?.[0]?.code !== 'forbidden') {
      throw err;
    }
    // Only a refusal needs the read filter: allowed writes, the common case, cost no query.
    return { ok: false, hidden: !(await readable(db, access, resourceType, stored.rid)), refusal: err };
  }
}

async function readable(db: Queryable, access: AccessPolicy, resourceType: string, rid: string): Promise<boolean> {
  const rows = await db.query(
    sql`SELECT 1 FROM resource r WHERE r.rid = ${rid} AND ${accessClause(access, 'r', resourceType)}`
  );
  return rows.length > 0;
}

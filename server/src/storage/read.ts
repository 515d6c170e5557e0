import { OperationOutcomeError, gone, notFound } from '@medplum/core';
import type { WithId } from '@medplum/core';
import type { Reference, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database';
import type { Sql } from '../db/sql';
import { sql } from '../db/sql';
import type { AccessPolicy, ReadHint } from './access';

/** The caller's read filter over a row alias, or TRUE. */
export function accessClause(
  access: AccessPolicy,
  alias: string,
  resourceType: string | undefined,
  history = false,
  hint?: ReadHint
): Sql {
  return access.readFilter(alias, resourceType, history, hint) ?? sql`TRUE`;
}

/**
 * Reads the current version. A resource the caller may not see answers 404 exactly like one
 * that does not exist, so its existence does not leak; a deleted one answers 410.
 */
export async function readCurrent<T extends Resource>(
  db: Queryable,
  access: AccessPolicy,
  type: string,
  id: string
): Promise<WithId<T>> {
  const rows = await db.query<{ content: string | null; deleted: boolean }>(
    sql`SELECT r.content, r.deleted FROM resource r
        WHERE r.type = ${type} AND r.id = ${id} AND ${accessClause(access, 'r', type)}`
  );
  return fromRow<T>(rows[0]);
}

/** 404 for no row (absent or hidden alike), 410 for a deleted version, else the resource. */
function fromRow<T extends Resource>(row: { content: string | null; deleted: boolean } | undefined): WithId<T> {
  if (!row) {
    throw new OperationOutcomeError(notFound);
  }
  if (row.deleted || row.content === null) {
    throw new OperationOutcomeError(gone);
  }
  return JSON.parse(row.content) as WithId<T>;
}

export async function readVersionRow<T extends Resource>(
  db: Queryable,
  access: AccessPolicy,
  type: string,
  id: string,
  vid: string
): Promise<WithId<T>> {
  if (!/^\d{1,9}$/.test(vid)) {
    throw new OperationOutcomeError(notFound);
  }
  // The current version is in resource, older ones in resource_history (found by the current row's rid).
  const rows = await db.query<{ content: string | null; deleted: boolean }>(
    sql`SELECT r.content, r.deleted FROM (
          SELECT rid, type, id, version_id, last_updated, deleted, compartments, content FROM resource
          WHERE type = ${type} AND id = ${id} AND version_id = ${Number(vid)}
          UNION ALL
          SELECT h.rid, h.type, h.id, h.version_id, h.last_updated, h.deleted, h.compartments, h.content
          FROM resource c JOIN resource_history h ON h.rid = c.rid AND h.version_id = ${Number(vid)}
          WHERE c.type = ${type} AND c.id = ${id}) r
        WHERE ${accessClause(access, 'r', type, true)}`
  );
  return fromRow<T>(rows[0]);
}

/** Reads many references in one query; each missing or hidden one comes back as an Error in its place. */
export async function readManyByReference<T extends Resource>(
  db: Queryable,
  access: AccessPolicy,
  references: readonly Reference<T>[]
): Promise<(T | Error)[]> {
  const keys = references.map((r) => (r.reference ?? '').split('/'));
  const types = keys.map((k) => k[0] ?? '');
  const ids = keys.map((k) => k[1] ?? '');
  const rows = await db.query<{ type: string; id: string; content: string }>(
    sql`SELECT r.type, r.id, r.content FROM resource r
        JOIN unnest(${types}::text[], ${ids}::text[]) AS q(type, id) ON r.type = q.type AND r.id = q.id
        WHERE NOT r.deleted AND ${accessClause(access, 'r', undefined)}`
  );
  const found = new Map(rows.map((r) => [`${r.type}/${r.id}`, JSON.parse(r.content) as T]));
  return references.map((r) => found.get(r.reference ?? '') ?? new OperationOutcomeError(notFound));
}

/** A version to read: type, id and version number. */
export interface VersionKey {
  type: string;
  id: string;
  version: number;
}

/**
 * Reads many versions in one query (a bot's batch of events reads the version each is about), each from resource
 * when it is current or resource_history when it is not. In each one's place: the resource, or the Error that
 * readVersionRow would have thrown (404 absent or hidden, 410 a deleted version).
 */
export async function readVersionRows<T extends Resource>(
  db: Queryable,
  access: AccessPolicy,
  keys: readonly VersionKey[]
): Promise<(WithId<T> | Error)[]> {
  if (keys.length === 0) {
    return [];
  }
  const rows = await db.query<{
    type: string;
    id: string;
    version_id: number;
    content: string | null;
    deleted: boolean;
  }>(
    sql`WITH q AS (SELECT * FROM unnest(${keys.map((k) => k.type)}::text[], ${keys.map((k) => k.id)}::text[],
          ${keys.map((k) => k.version)}::int[]) AS q(type, id, version_id))
        SELECT r.type, r.id, r.version_id, r.content, r.deleted FROM (
          SELECT c.rid, c.type, c.id, c.version_id, c.last_updated, c.deleted, c.compartments, c.content
          FROM q JOIN resource c ON c.type = q.type AND c.id = q.id AND c.version_id = q.version_id
          UNION ALL
          SELECT h.rid, h.type, h.id, h.version_id, h.last_updated, h.deleted, h.compartments, h.content
          FROM q JOIN resource c ON c.type = q.type AND c.id = q.id
          JOIN resource_history h ON h.rid = c.rid AND h.version_id = q.version_id) r
        WHERE ${accessClause(access, 'r', undefined, true)}`
  );
  const found = new Map(rows.map((r) => [`${r.type}/${r.id}/${r.version_id}`, r]));
  return keys.map((k) => {
    try {
      return fromRow<T>(found.get(`${k.type}/${k.id}/${k.version}`));
    } catch (err) {
      return err as Error;
    }
  });
}

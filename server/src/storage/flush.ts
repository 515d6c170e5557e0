import { OperationOutcomeError, conflict } from '@medplum/core';
import type { Queryable } from '../db/database';
import type { Sql } from '../db/sql';
import { join, raw, sql } from '../db/sql';
import { boolArray, int4Array, int8Array, textArray } from './binary-arrays';
import type { IndexRows } from './indexer/rows';

/** One resource version waiting to be written. */
export interface PendingWrite {
  type: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  deleted: boolean;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** JSON text of the version; null for a delete tombstone. */
  content: string | null;
  compartments: readonly string[];
  rows: IndexRows | undefined;
  /** True when the resource row exists already, so its old index rows must go. */
  replaces: boolean;
}

type IndexTable = keyof Omit<IndexRows, 'compartments'>;
type Row<T extends IndexTable> = IndexRows[T][number];
/**
 * A column of an idx_* table: its name, its PostgreSQL type and how to read it from an index row
 * (a getter per column keeps each property read monomorphic, which matters at ~4,000 rows a bundle).
 */
type IndexColumn<T extends IndexTable> = [
  name: string,
  pgType: 'text' | 'timestamptz' | 'numeric',
  get: (row: Row<T>) => string | null,
];

type IndexTableSpec<T extends IndexTable = IndexTable> = { table: T; columns: IndexColumn<T>[] };

const spec = <T extends IndexTable>(table: T, columns: IndexColumn<T>[]): IndexTableSpec => ({ table, columns });

export const INDEX_TABLES: IndexTableSpec[] = [
  spec('token', [
    ['system', 'text', (r) => r.system],
    ['code', 'text', (r) => r.code],
    ['display', 'text', (r) => r.display],
    ['of_type', 'text', (r) => r.ofType],
  ]),
  spec('string', [
    ['norm', 'text', (r) => r.norm],
    ['exact', 'text', (r) => r.exact],
  ]),
  spec('date', [
    ['low', 'timestamptz', (r) => r.low],
    ['high', 'timestamptz', (r) => r.high],
  ]),
  spec('number', [['value', 'numeric', (r) => r.value]]),
  spec('quantity', [
    ['value', 'numeric', (r) => r.value],
    ['system', 'text', (r) => r.system],
    ['code', 'text', (r) => r.code],
    ['unit', 'text', (r) => r.unit],
  ]),
  spec('reference', [
    ['target_type', 'text', (r) => r.targetType],
    ['target_id', 'text', (r) => r.targetId],
    ['url', 'text', (r) => r.url],
  ]),
  spec('uri', [['value', 'text', (r) => r.value]]),
];

/**
 * Writes every pending version in ONE statement: the resource rows (upsert), the versions they
 * replace moved to history, the removal of replaced index rows and the new index rows, as
 * data-modifying CTEs.
 * Sibling CTEs share one snapshot, so the DELETEs cannot see the rows inserted beside them.
 * One round trip per chunk of a bundle is what lets transaction ingest approach raw INSERT
 * speed. The arrays travel in binary (binary-arrays.ts): no escaping of the JSON content.
 */
export async function flushWrites(tx: Queryable, writes: readonly PendingWrite[]): Promise<Map<string, string>> {
  return writes.length === 0 ? new Map() : runFlush(tx, flushStatement(tx, writes));
}

/** The flush statement of some writes, built but not run (write-buffer.ts builds one while the last runs). */
export interface FlushStatement {
  readonly writes: readonly PendingWrite[];
  readonly sql: Sql;
  /** Prepared-statement name, for create-only statements. */
  readonly name: string | undefined;
}

export function flushStatement(tx: Queryable, writes: readonly PendingWrite[]): FlushStatement {
  for (const w of writes) {
    tx.touch?.(w.type);
  }
  const anyReplaces = writes.some((w) => w.replaces);
  const parts = [
    sql`WITH k AS (SELECT * FROM unnest(${textArray(writes.map((w) => w.type))}::text[],
        ${textArray(writes.map((w) => w.id))}::text[], ${int4Array(writes.map((w) => w.versionId))}::int[],
        ${textArray(writes.map((w) => w.lastUpdated))}::text[]::timestamptz[],
        ${boolArray(writes.map((w) => w.deleted))}::bool[], ${textArray(writes.map((w) => w.method))}::text[],
        ${textArray(writes.map((w) => w.compartments.join(',')))}::text[], ${textArray(writes.map((w) => w.content))}::text[])
        WITH ORDINALITY AS k(type, id, version_id, last_updated, deleted, method, compartments, content, ord)),
      ins AS (INSERT INTO resource (type, id, version_id, last_updated, deleted, method, compartments, content)
        SELECT type, id, version_id, last_updated, deleted, method,
          CASE WHEN compartments = '' THEN '{}'::text[] ELSE string_to_array(compartments, ',') END, content
        FROM k ORDER BY ord
        ON CONFLICT (type, id) DO UPDATE SET version_id = EXCLUDED.version_id, last_updated = EXCLUDED.last_updated,
          deleted = EXCLUDED.deleted, method = EXCLUDED.method, hid = EXCLUDED.hid,
          compartments = EXCLUDED.compartments, content = EXCLUDED.content
          WHERE resource.version_id = EXCLUDED.version_id - 1
        RETURNING rid, type, id),
      keys AS (SELECT ins.rid, k.* FROM ins JOIN k ON k.type = ins.type AND k.id = ins.id)`,
  ];
  if (anyReplaces) {
    // The version being replaced moves to history with its hid. This reads the statement's
    // snapshot, so it sees the row as it was before ins changed it (the caller holds its lock).
    parts.push(sql`, hist AS (INSERT INTO resource_history
        (hid, rid, type, id, version_id, last_updated, deleted, method, compartments, content) OVERRIDING SYSTEM VALUE
        SELECT r.hid, r.rid, r.type, r.id, r.version_id, r.last_updated, r.deleted, r.method, r.compartments, r.content
        FROM resource r JOIN k ON r.type = k.type AND r.id = k.id
        WHERE k.ord = ANY(${int8Array(replacedOrds(writes))}::bigint[]))`);
  }
  // Create-only statements depend in text only on which index tables get rows, so each variant is a
  // named prepared statement: PostgreSQL parses this large CTE once per connection, not per write
  // (~0.6 ms of every audit write). Statements that replace versions stay unnamed: their DELETE
  // ... = ANY($n) could get a generic plan that scans whole index tables.
  let variant = 'hale_flush_';
  for (const tableSpec of INDEX_TABLES) {
    const { table, columns } = tableSpec;
    if (anyReplaces) {
      parts.push(
        sql`, ${raw(`del_${table}`)} AS (DELETE FROM ${raw(`idx_${table}`)} WHERE rid IN (SELECT rid FROM keys WHERE ord = ANY(${int8Array(replacedOrds(writes))}::bigint[])))`
      );
    }
    const arrays = indexArrays(writes, tableSpec);
    if (!arrays) {
      continue;
    }
    variant += table.slice(0, 2);
    const names = ['ord', 'sp', 'grp', ...columns.map(([name]) => name)];
    parts.push(sql`, ${raw(`ins_${table}`)} AS (INSERT INTO ${raw(`idx_${table}`)} (rid, ${raw(names.slice(1).join(', '))})
      SELECT keys.rid, ${raw(
        names
          .slice(1)
          .map((n) => `x.${n}`)
          .join(', ')
      )}
      FROM unnest(${join(arrays, ', ')}) AS x(${raw(names.join(', '))}) JOIN keys ON keys.ord = x.ord)`);
  }
  parts.push(sql` SELECT rid, type, id FROM keys`);
  return { writes, sql: join(parts, ''), name: anyReplaces ? undefined : variant };
}

/** Runs a flush statement; the rid of each written resource by `Type/id`. */
export async function runFlush(
  tx: Queryable,
  { writes, sql: statement, name }: FlushStatement
): Promise<Map<string, string>> {
  const rids = new Map<string, string>();
  const rows = await tx.query<{ rid: string; type: string; id: string }>(statement, name);
  for (const r of rows) {
    rids.set(`${r.type}/${r.id}`, r.rid);
  }
  if (rows.length !== writes.length) {
    // A row that is not the version before ours appeared since we looked: another writer created
    // the resource concurrently (an update-as-create race). Nothing of ours is kept for it; the
    // transaction is retried and then sees that version.
    throw new VersionConflictError(
      writes.filter((w) => !rids.has(`${w.type}/${w.id}`)).map((w) => `${w.type}/${w.id}`)
    );
  }
  return rids;
}

/** Carries PostgreSQL's serialization_failure code, so Database.transaction retries it; 409 if retries run out. */
export class VersionConflictError extends OperationOutcomeError {
  readonly code = '40001';

  constructor(keys: readonly string[]) {
    super(conflict(`${keys.join(', ')} was written concurrently; retry`));
  }
}

function replacedOrds(writes: readonly PendingWrite[]): number[] {
  const ords: number[] = [];
  writes.forEach((w, i) => {
    if (w.replaces) {
      ords.push(i + 1);
    }
  });
  return ords;
}

/** The unnest() arguments of one idx_* table's rows (ord, sp, grp, then its own columns), or undefined if none. */
export function indexArrays(writes: readonly PendingWrite[], { table, columns }: IndexTableSpec): Sql[] | undefined {
  const ords: number[] = [];
  const sps: number[] = [];
  const grps: number[] = [];
  const values: (string | null)[][] = columns.map(() => []);
  for (let i = 0; i < writes.length; i++) {
    const rows: readonly Row<IndexTable>[] = (writes[i] as PendingWrite).rows?.[table] ?? [];
    for (const row of rows) {
      ords.push(i + 1);
      sps.push(row.sp);
      grps.push(row.grp);
    }
  }
  if (ords.length === 0) {
    return undefined;
  }
  columns.forEach(([, , get], c) => {
    const out = values[c] as (string | null)[];
    for (const w of writes) {
      for (const row of w.rows?.[table] ?? []) {
        out.push(get(row) ?? null);
      }
    }
  });
  return [
    sql`${int8Array(ords)}::bigint[]`,
    sql`${int4Array(sps)}::int[]`,
    sql`${int4Array(grps)}::int[]`,
    ...columns.map(([, pgType], c) =>
      pgType === 'text'
        ? sql`${textArray(values[c] as (string | null)[])}::text[]`
        : sql`${textArray(values[c] as (string | null)[])}::text[]::${raw(`${pgType}[]`)}`
    ),
  ];
}

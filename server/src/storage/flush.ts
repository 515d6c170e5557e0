import type { Queryable } from '../db/database';
import type { Sql } from '../db/sql';
import { join, raw, sql } from '../db/sql';
import { int8Array } from './binary-arrays';
import { concurrentCreate, createStatement } from './flush-creates';
import { INDEX_TABLES, RESOURCE_COLUMNS, indexArrays, resourceArrays, unnestColumns } from './index-arrays';
import type { IndexRows } from './indexer/rows';
import type { SeriesPoint } from './series/points';
import { seriesDelete, seriesInsert } from './series/write';
import { VersionConflictError } from './version-conflict';

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
  /** An Observation's measurement_series rows (series/points.ts); none for other types and deletes. */
  series?: readonly SeriesPoint[];
  /** True when the resource row exists already, so its old index rows must go. */
  replaces: boolean;
}

/**
 * Writes every pending version in ONE statement: the resource rows, the versions they replace
 * moved to history, the removal of replaced index rows and the new index rows, as data-modifying
 * CTEs. One round trip per chunk of a bundle is what lets transaction ingest approach raw INSERT
 * speed. The arrays travel in binary (binary-arrays.ts): no escaping of the JSON content.
 */
export async function flushWrites(tx: Queryable, writes: readonly PendingWrite[]): Promise<void> {
  if (writes.length > 0) {
    await runFlush(tx, flushStatement(tx, writes));
  }
}

/** The flush statement of some writes, built but not run (write-buffer.ts builds one while the last runs). */
export interface FlushStatement {
  readonly writes: readonly PendingWrite[];
  readonly sql: Sql;
  /** Prepared-statement name, for statements that replace no version. */
  readonly name: string | undefined;
  /** A plain INSERT of new resources with reserved rids (flush-creates.ts), rather than the upsert. */
  readonly creates: boolean;
}

/**
 * New resources whose rids the connection has in hand go in as plain INSERTs (flush-creates.ts);
 * anything else takes the upsert below.
 */
export function flushStatement(tx: Queryable, writes: readonly PendingWrite[]): FlushStatement {
  tx.noteWritten?.(writes);
  const anyReplaces = writes.some((w) => w.replaces);
  const rids = anyReplaces ? undefined : tx.takeRids?.(writes.length);
  return rids ? createStatement(writes, rids) : upsertStatement(writes, anyReplaces);
}

/**
 * The upsert: an existing row is replaced only by the version after it, so a concurrent creation
 * of the same id shows as a missing row (runFlush). Sibling CTEs share one snapshot, so the
 * DELETEs cannot see the rows inserted beside them.
 */
function upsertStatement(writes: readonly PendingWrite[], anyReplaces: boolean): FlushStatement {
  const parts = [
    sql`WITH k AS (SELECT * FROM unnest(${join(resourceArrays(writes), ', ')})
        WITH ORDINALITY AS k(${raw(RESOURCE_COLUMNS.join(', '))}, ord)),
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
      FROM (${unnestColumns(arrays, names)}) AS x JOIN keys ON keys.ord = x.ord)`);
  }
  const replacedObservations = replacedOrds(writes).filter((ord) => writes[ord - 1]?.type === 'Observation');
  if (replacedObservations.length > 0) {
    parts.push(seriesDelete(sql`SELECT rid FROM keys WHERE ord = ANY(${int8Array(replacedObservations)}::bigint[])`));
  }
  const series = seriesInsert(writes, { ord: true });
  if (series) {
    variant += 'ms';
    parts.push(series);
  }
  parts.push(sql` SELECT type, id FROM keys`);
  return { writes, sql: join(parts, ''), name: anyReplaces ? undefined : variant, creates: false };
}

/** Runs a flush statement. */
export async function runFlush(
  tx: Queryable,
  { writes, sql: statement, name, creates }: FlushStatement
): Promise<void> {
  if (creates) {
    try {
      await tx.query(statement, name);
    } catch (err) {
      throw concurrentCreate(err) ?? err;
    }
    return;
  }
  const rows = await tx.query<{ type: string; id: string }>(statement, name);
  if (rows.length !== writes.length) {
    const rids = new Set(rows.map((r) => `${r.type}/${r.id}`));
    // A row that is not the version before ours appeared since we looked: another writer created
    // the resource concurrently (an update-as-create race). Nothing of ours is kept for it; the
    // transaction is retried and then sees that version.
    throw new VersionConflictError(
      writes.filter((w) => !rids.has(`${w.type}/${w.id}`)).map((w) => `${w.type}/${w.id}`)
    );
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

import type { Sql } from '../db/sql';
import { join, raw, sql } from '../db/sql';
import { int8Array } from './binary-arrays';
import type { FlushStatement, PendingWrite } from './flush';
import { INDEX_TABLES, RESOURCE_COLUMNS, indexArrays, resourceArrays, unnestColumns } from './index-arrays';
import { seriesInsert } from './series/write';
import { VersionConflictError } from './version-conflict';

/**
 * New resources whose rids are already reserved (db/rid-pool.ts): the resource rows and every
 * index row go in as plain INSERTs, each index row carrying its resource's rid, in one statement.
 * Against the general upsert (flush.ts) this skips ON CONFLICT's speculative insertion, the
 * RETURNING and a join per index table: ~17% less statement time for 100 Observations, measured
 * on PostgreSQL 15 with the statements prepared.
 *
 * A row that already has the (type, id) of one of ours is a unique violation: that resource was
 * created concurrently (an update-as-create with a client id); concurrentCreate turns it into
 * a serialization failure, so the transaction is retried and then sees that version.
 */
export function createStatement(writes: readonly PendingWrite[], rids: readonly number[]): FlushStatement {
  const parts: Sql[] = [
    sql`WITH ins AS (INSERT INTO resource (rid, type, id, version_id, last_updated, deleted, method, compartments, content)
      OVERRIDING SYSTEM VALUE
      SELECT rid, type, id, version_id, last_updated, deleted, method,
        CASE WHEN compartments = '' THEN '{}'::text[] ELSE string_to_array(compartments, ',') END, content
      FROM (${unnestColumns([sql`${int8Array(rids)}::bigint[]`, ...resourceArrays(writes)], ['rid', ...RESOURCE_COLUMNS])}) AS k)`,
  ];
  // Named per set of index tables with rows, like the general statement's variants.
  let variant = 'hale_create_';
  for (const tableSpec of INDEX_TABLES) {
    const { table, columns } = tableSpec;
    const arrays = indexArrays(writes, tableSpec, (i) => rids[i] as number);
    if (!arrays) {
      continue;
    }
    variant += table.slice(0, 2);
    const names = ['rid', 'sp', 'grp', ...columns.map(([name]) => name)];
    parts.push(
      sql`, ${raw(`ins_${table}`)} AS (INSERT INTO ${raw(`idx_${table}`)} (${raw(names.join(', '))}) ${unnestColumns(arrays, names)})`
    );
  }
  const series = seriesInsert(writes, { rids });
  if (series) {
    variant += 'ms';
    parts.push(series);
  }
  parts.push(sql` SELECT 1`);
  return { writes, sql: join(parts, ''), name: variant, creates: true };
}

/**
 * A unique violation of `resource (type, id)` by a create statement, as the retryable conflict it
 * is (the key PostgreSQL names: the statement's other rows are gone with the transaction anyway).
 */
export function concurrentCreate(err: unknown): VersionConflictError | undefined {
  const e = err as { code?: string; constraint?: string; detail?: string } | undefined;
  if (e?.code !== '23505' || e.constraint !== 'resource_type_id_key') {
    return undefined;
  }
  const m = /^Key \(type, id\)=\((.+), (.+)\) already exists/.exec(e.detail ?? '');
  return new VersionConflictError([m ? `${m[1]}/${m[2]}` : 'A resource']);
}

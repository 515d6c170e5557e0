import type { Queryable } from '../db/database';
import { join, raw, sql } from '../db/sql';
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

type Columns = Record<string, { pgType: string; values: unknown[] }>;

const INDEX_TABLES: { table: keyof Omit<IndexRows, 'compartments'>; columns: [string, string, string][] }[] = [
  {
    table: 'token',
    columns: [
      ['system', 'text', 'system'],
      ['code', 'text', 'code'],
      ['display', 'text', 'display'],
      ['of_type', 'text', 'ofType'],
    ],
  },
  {
    table: 'string',
    columns: [
      ['norm', 'text', 'norm'],
      ['exact', 'text', 'exact'],
    ],
  },
  {
    table: 'date',
    columns: [
      ['low', 'timestamptz', 'low'],
      ['high', 'timestamptz', 'high'],
    ],
  },
  { table: 'number', columns: [['value', 'numeric', 'value']] },
  {
    table: 'quantity',
    columns: [
      ['value', 'numeric', 'value'],
      ['system', 'text', 'system'],
      ['code', 'text', 'code'],
      ['unit', 'text', 'unit'],
    ],
  },
  {
    table: 'reference',
    columns: [
      ['target_type', 'text', 'targetType'],
      ['target_id', 'text', 'targetId'],
      ['url', 'text', 'url'],
    ],
  },
  { table: 'uri', columns: [['value', 'text', 'value']] },
];

/**
 * Writes every pending version in ONE statement: the resource rows (upsert), their history
 * rows, the removal of replaced index rows and the new index rows, as data-modifying CTEs.
 * Sibling CTEs share one snapshot, so the DELETEs cannot see the rows inserted beside them.
 * One round trip per bundle is what lets transaction ingest approach raw INSERT speed.
 */
export async function flushWrites(tx: Queryable, writes: readonly PendingWrite[]): Promise<Map<string, string>> {
  const rids = new Map<string, string>();
  if (writes.length === 0) {
    return rids;
  }
  const anyReplaces = writes.some((w) => w.replaces);
  const parts = [
    sql`WITH k AS (SELECT * FROM unnest(${writes.map((w) => w.type)}::text[], ${writes.map((w) => w.id)}::text[],
        ${writes.map((w) => w.versionId)}::int[], ${writes.map((w) => w.lastUpdated)}::timestamptz[],
        ${writes.map((w) => w.deleted)}::bool[], ${writes.map((w) => w.method)}::text[],
        ${writes.map((w) => w.compartments.join(','))}::text[], ${writes.map((w) => w.content)}::text[])
        WITH ORDINALITY AS k(type, id, version_id, last_updated, deleted, method, compartments, content, ord)),
      ins AS (INSERT INTO resource (type, id, version_id, last_updated, deleted, compartments, content)
        SELECT type, id, version_id, last_updated, deleted,
          CASE WHEN compartments = '' THEN '{}'::text[] ELSE string_to_array(compartments, ',') END, content
        FROM k ORDER BY ord
        ON CONFLICT (type, id) DO UPDATE SET version_id = EXCLUDED.version_id, last_updated = EXCLUDED.last_updated,
          deleted = EXCLUDED.deleted, compartments = EXCLUDED.compartments, content = EXCLUDED.content
        RETURNING rid, type, id, compartments),
      keys AS (SELECT ins.rid, ins.compartments AS comp, k.* FROM ins JOIN k ON k.type = ins.type AND k.id = ins.id),
      hist AS (INSERT INTO resource_history (rid, type, id, version_id, last_updated, deleted, method, compartments, content)
        SELECT rid, type, id, version_id, last_updated, deleted, method, comp, content FROM keys ORDER BY ord)`,
  ];
  for (const { table, columns } of INDEX_TABLES) {
    if (anyReplaces) {
      parts.push(
        sql`, ${raw(`del_${table}`)} AS (DELETE FROM ${raw(`idx_${table}`)} WHERE rid IN (SELECT rid FROM keys WHERE ord = ANY(${replacedOrds(writes)}::bigint[])))`
      );
    }
    const cols = indexColumns(writes, table, columns);
    if (!cols) {
      continue;
    }
    const names = Object.keys(cols);
    const arrays = names.map((n) => sql`${cols[n]?.values}::${raw(`${cols[n]?.pgType}[]`)}`);
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
  const rows = await tx.query<{ rid: string; type: string; id: string }>(join(parts, ''));
  for (const r of rows) {
    rids.set(`${r.type}/${r.id}`, r.rid);
  }
  return rids;
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

function indexColumns(
  writes: readonly PendingWrite[],
  table: keyof Omit<IndexRows, 'compartments'>,
  columns: [string, string, string][]
): Columns | undefined {
  const cols: Columns = {
    ord: { pgType: 'bigint', values: [] },
    sp: { pgType: 'int', values: [] },
    grp: { pgType: 'int', values: [] },
  };
  for (const [name, pgType] of columns) {
    cols[name] = { pgType, values: [] };
  }
  let count = 0;
  writes.forEach((w, i) => {
    const rows = (w.rows?.[table] ?? []) as unknown as Record<string, unknown>[];
    for (const row of rows) {
      cols.ord?.values.push(i + 1);
      cols.sp?.values.push(row.sp);
      cols.grp?.values.push(row.grp);
      for (const [name, , key] of columns) {
        cols[name]?.values.push(row[key] ?? null);
      }
      count++;
    }
  });
  return count > 0 ? cols : undefined;
}

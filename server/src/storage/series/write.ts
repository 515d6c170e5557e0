import type { Sql } from '../../db/sql';
import { raw, sql } from '../../db/sql';
import { int4Array, int8Array } from '../binary-arrays';
import type { PendingWrite } from '../flush';
import { typedArray, unnestColumns } from '../index-arrays';

/*
 * The measurement_series CTEs of the flush statements (flush.ts, flush-creates.ts, jobs/reindex-batch.ts): the
 * rows of a replaced or deleted version go, the new version's points go in, in the statement that writes its
 * index rows — so a rolled-back transaction leaves none, and the series always matches the search index.
 */

/** Arrays travel as text; a list column is joined with the unit separator, which no code or id holds. */
const SEP = '\u001f';

type SeriesWrite = Pick<PendingWrite, 'series' | 'type' | 'id' | 'versionId' | 'lastUpdated' | 'compartments'>;

/**
 * `, ins_series AS (INSERT …)` for these writes' points, or undefined when they have none. `key` is how a point
 * finds its rid: `ord` joins the statement's `keys` CTE on the write's ordinal (1-based), `rid` gives it directly.
 */
export function seriesInsert(
  writes: readonly SeriesWrite[],
  key: { ord: true } | { rids: readonly number[] }
): Sql | undefined {
  const keys: number[] = [];
  const cols: (string | null)[][] = Array.from({ length: TEXT_COLUMNS.length }, () => []);
  const grps: number[] = [];
  const versions: number[] = [];
  writes.forEach((w, i) => {
    for (const p of w.series ?? []) {
      keys.push('ord' in key ? i + 1 : (key.rids[i] as number));
      grps.push(p.grp);
      versions.push(w.versionId);
      const values = [
        p.patient,
        p.system,
        p.code,
        p.at,
        p.atHigh,
        p.compSystem,
        p.compCode,
        p.value,
        p.unit,
        p.status,
        p.categories.join(SEP),
        w.type,
        w.id,
        w.lastUpdated,
        w.compartments.join(SEP),
      ];
      values.forEach((v, c) => (cols[c] as (string | null)[]).push(v));
    }
  });
  if (keys.length === 0) {
    return undefined;
  }
  const arrays = [
    sql`${int8Array(keys)}::bigint[]`,
    sql`${int4Array(grps)}::int[]`,
    sql`${int4Array(versions)}::int[]`,
    ...TEXT_COLUMNS.map(([, pgType], c) => typedArray(cols[c] as (string | null)[], pgType)),
  ];
  const keyName = 'ord' in key ? 'ord' : 'rid';
  const names = [keyName, 'grp', 'version_id', ...TEXT_COLUMNS.map(([name]) => name)];
  const rid = 'ord' in key ? sql`keys.rid` : sql`x.rid`;
  const from = 'ord' in key ? sql`JOIN keys ON keys.ord = x.ord` : sql``;
  return sql`, ins_series AS (INSERT INTO measurement_series (rid, patient, system, code, at, at_high, comp_system,
      comp_code, grp, value, unit, status, categories, type, id, version_id, last_updated, compartments)
    SELECT ${rid}, x.patient, x.system, x.code, x.at, x.at_high, x.comp_system, x.comp_code, x.grp, x.value, x.unit,
      x.status, ${list('x.categories')}, x.type, x.id, x.version_id, x.last_updated, ${list('x.compartments')}
    FROM (${unnestColumns(arrays, names)}) AS x ${from})`;
}

const TEXT_COLUMNS: [name: string, pgType: 'text' | 'timestamptz' | 'numeric'][] = [
  ['patient', 'text'],
  ['system', 'text'],
  ['code', 'text'],
  ['at', 'timestamptz'],
  ['at_high', 'timestamptz'],
  ['comp_system', 'text'],
  ['comp_code', 'text'],
  ['value', 'numeric'],
  ['unit', 'text'],
  ['status', 'text'],
  ['categories', 'text'],
  ['type', 'text'],
  ['id', 'text'],
  ['last_updated', 'timestamptz'],
  ['compartments', 'text'],
];

function list(column: string): Sql {
  return sql`CASE WHEN ${raw(column)} = '' THEN '{}'::text[] ELSE string_to_array(${raw(column)}, ${SEP}) END`;
}

/** `, del_series AS (DELETE …)` of the rows of the resources with these rids (a SQL bigint[] or a subquery). */
export function seriesDelete(rids: Sql): Sql {
  return sql`, del_series AS (DELETE FROM measurement_series WHERE rid IN (${rids}))`;
}

import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database';
import type { Sql } from '../db/sql';
import { empty, join, raw, sql } from '../db/sql';
import { int8Array, textArray } from '../storage/binary-arrays';
import { INDEX_TABLES, indexArrays, unnestColumns } from '../storage/index-arrays';
import type { IndexRows } from '../storage/indexer';
import { buildIndexRows, compartmentsOf } from '../storage/indexer';
import { seriesPointsOf } from '../storage/series/points';
import { seriesDelete, seriesInsert } from '../storage/series/write';

export interface LockedResource {
  rid: string;
  id: string;
  deleted: boolean;
  content: string | null;
}

/**
 * The next `size` resources of a type after `afterId` in id order (the (type, id) unique index),
 * locked as writers lock them (`SELECT … FOR UPDATE`, repository.ts): a write of one of them waits
 * for this batch's commit and then replaces the rows written here, and this batch reads a version
 * only once its writer has committed. Deleted ones are returned too: filtering them in SQL would
 * drop a row deleted while we waited for its lock, and a short batch must mean "no more".
 */
export async function lockBatch(
  tx: Queryable,
  type: string,
  afterId: string | null,
  size: number
): Promise<LockedResource[]> {
  const after = afterId === null ? empty : sql`AND id > ${afterId}`;
  return tx.query<LockedResource>(sql`SELECT rid, id, deleted, content FROM resource
    WHERE type = ${type} ${after} ORDER BY id LIMIT ${size} FOR UPDATE`);
}

/**
 * Rebuilds the index rows and compartments of the locked resources, in one statement: the old rows
 * of all seven idx_* tables are deleted and the new ones inserted as sibling CTEs (which share one
 * snapshot, so a DELETE cannot see the rows inserted beside it), with flush.ts's binary arrays.
 * Returns how many resources were rebuilt.
 */
export async function rebuildRows(
  tx: Queryable,
  locked: readonly LockedResource[],
  lookupSp: (resourceType: string, code: string) => number | undefined,
  baseUrl: string
): Promise<number> {
  const live = locked.filter((r): r is LockedResource & { content: string } => !r.deleted && r.content !== null);
  if (live.length === 0) {
    return 0;
  }
  const resources = live.map((r) => JSON.parse(r.content) as Resource);
  const rebuilt = resources.map((resource) => buildIndexRows(resource, lookupSp, { baseUrl }));
  const rids = sql`${int8Array(live.map((r) => Number(r.rid)))}::bigint[]`;
  const parts: Sql[] = [
    sql`WITH k AS (SELECT * FROM unnest(${rids}, ${textArray(rebuilt.map((r) => r.compartments.join(',')))}::text[])
      WITH ORDINALITY AS k(rid, comps, ord))`,
  ];
  const writes = rebuilt.map((rows) => ({ rows }));
  for (const tableSpec of INDEX_TABLES) {
    const table = tableSpec.table;
    parts.push(sql`, ${raw(`del_${table}`)} AS (DELETE FROM ${raw(`idx_${table}`)} WHERE rid = ANY(${rids}))`);
    const arrays = indexArrays(writes, tableSpec);
    if (arrays) {
      parts.push(insertRows(table, ['sp', 'grp', ...tableSpec.columns.map(([name]) => name)], arrays));
    }
  }
  // The measurement series follows the index rows it is derived from (storage/series/write.ts).
  const series = resources.map((resource, i) => ({
    type: resource.resourceType,
    id: resource.id ?? '',
    versionId: Number(resource.meta?.versionId ?? 0),
    lastUpdated: resource.meta?.lastUpdated ?? new Date(0).toISOString(),
    compartments: (rebuilt[i] as IndexRows).compartments,
    series: seriesPointsOf(resource, rebuilt[i] as IndexRows, lookupSp),
  }));
  if (resources.some((r) => r.resourceType === 'Observation')) {
    parts.push(seriesDelete(sql`SELECT unnest(${rids})`));
    parts.push(seriesInsert(series, { rids: live.map((r) => Number(r.rid)) }) ?? empty);
  }
  parts.push(sql`, comp AS (UPDATE resource r SET compartments = c.comps FROM (
      SELECT rid, CASE WHEN comps = '' THEN '{}'::text[] ELSE string_to_array(comps, ',') END AS comps FROM k) c
    WHERE r.rid = c.rid AND r.compartments IS DISTINCT FROM c.comps)
    SELECT 1`);
  await tx.query(join(parts, ''));
  return live.length;
}

/**
 * The compartments of the locked resources' older versions, rebuilt from each version's own JSON:
 * access to a version follows the first (whom it is about, docs/consent.md), so they must be in the
 * running code's order too. A deletion keeps the compartments of the version it deleted, as a
 * delete writes them (storage/repository.ts) — in history and for a deleted resource's current row.
 */
export async function rebuildVersionCompartments(
  tx: Queryable,
  locked: readonly LockedResource[],
  baseUrl: string
): Promise<void> {
  if (locked.length === 0) {
    return;
  }
  const versions = await tx.query<{ hid: string; rid: string; deleted: boolean; content: string | null }>(
    sql`SELECT hid, rid, deleted, content FROM resource_history
      WHERE rid = ANY(${int8Array(locked.map((r) => Number(r.rid)))}::bigint[]) ORDER BY rid, version_id`
  );
  const latest = new Map<string, string[]>();
  const hids: number[] = [];
  const comps: string[] = [];
  for (const v of versions) {
    const live = !v.deleted && v.content !== null;
    const of = live ? compartmentsOf(JSON.parse(v.content as string) as Resource, { baseUrl }) : latest.get(v.rid);
    if (of) {
      latest.set(v.rid, of);
      hids.push(Number(v.hid));
      comps.push(of.join(','));
    }
  }
  const tombstones = locked.filter((r) => r.deleted && latest.has(r.rid));
  if (hids.length === 0) {
    return;
  }
  const split = sql`CASE WHEN comps = '' THEN '{}'::text[] ELSE string_to_array(comps, ',') END`;
  await tx.query(sql`WITH h AS (UPDATE resource_history x SET compartments = c.comps FROM (
      SELECT hid, ${split} AS comps
      FROM unnest(${int8Array(hids)}::bigint[], ${textArray(comps)}::text[]) AS k(hid, comps)) c
    WHERE x.hid = c.hid AND x.compartments IS DISTINCT FROM c.comps)
    UPDATE resource r SET compartments = c.comps FROM (
      SELECT rid, ${split} AS comps FROM unnest(${int8Array(tombstones.map((t) => Number(t.rid)))}::bigint[],
        ${textArray(tombstones.map((t) => (latest.get(t.rid) ?? []).join(',')))}::text[]) AS k(rid, comps)) c
    WHERE r.rid = c.rid AND r.compartments IS DISTINCT FROM c.comps`);
}

function insertRows(table: keyof Omit<IndexRows, 'compartments'>, columns: string[], arrays: Sql[]): Sql {
  return sql`, ${raw(`ins_${table}`)} AS (INSERT INTO ${raw(`idx_${table}`)} (rid, ${raw(columns.join(', '))})
    SELECT k.rid, ${raw(columns.map((c) => `x.${c}`).join(', '))}
    FROM (${unnestColumns(arrays, ['ord', ...columns])}) AS x JOIN k ON k.ord = x.ord)`;
}

import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database';
import type { Sql } from '../db/sql';
import { and, sql } from '../db/sql';
import type { RepoContext } from './context';
import { accessClause } from './read';

export interface HistoryQuery {
  resourceType?: string;
  id?: string;
  /** Only versions at or after this instant (_since). */
  since?: string;
  /** Only versions current at this instant (_at): those last updated at or before it. */
  at?: string;
  count?: number;
  offset?: number;
  /** Opaque continuation from a previous page (hid boundary). */
  cursor?: string;
}

interface HistoryRow {
  hid: string;
  type: string;
  id: string;
  version_id: number;
  last_updated: string;
  deleted: boolean;
  method: string;
  content: string | null;
}

const MAX_COUNT = 1000;

/**
 * Every version: the current ones (resource) and the superseded ones (resource_history), with the
 * same columns. PostgreSQL pushes the WHERE into both branches and merges them in hid order.
 */
const ALL_VERSIONS: Sql = sql`(
  SELECT hid, rid, type, id, version_id, last_updated, deleted, method, compartments, content FROM resource
  UNION ALL
  SELECT hid, rid, type, id, version_id, last_updated, deleted, method, compartments, content FROM resource_history)`;

function parseInstant(value: string, name: string): string {
  if (
    !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(value) ||
    Number.isNaN(Date.parse(value))
  ) {
    throw new OperationOutcomeError(badRequest(`Invalid ${name}: ${value}`));
  }
  return value;
}

/**
 * Instance, type and system history, newest first. Paging walks down the version sequence
 * (hid), so pages stay consistent while new versions are written: a version keeps its hid when
 * a newer one moves it from resource to resource_history.
 */
export async function readHistoryBundle(db: Queryable, ctx: RepoContext, q: HistoryQuery): Promise<Bundle> {
  const count = Math.min(Math.max(q.count ?? 50, 0), MAX_COUNT);
  const where: Sql[] = [accessClause(ctx.access, 'h', q.resourceType, true)];
  if (q.resourceType) {
    where.push(sql`h.type = ${q.resourceType}`);
  }
  if (q.id) {
    where.push(sql`h.id = ${q.id}`);
    if (q.resourceType) {
      // resource_history is keyed by rid: find it once rather than scan the type's history by id.
      where.push(sql`h.rid = (SELECT rid FROM resource WHERE type = ${q.resourceType} AND id = ${q.id})`);
    }
  }
  if (q.since) {
    where.push(sql`h.last_updated >= ${parseInstant(q.since, '_since')}::timestamptz`);
  }
  if (q.at) {
    where.push(sql`h.last_updated <= ${parseInstant(q.at, '_at')}::timestamptz`);
  }
  if (q.cursor) {
    if (!/^\d{1,19}$/.test(q.cursor)) {
      throw new OperationOutcomeError(badRequest('Invalid _cursor'));
    }
    where.push(sql`h.hid < ${q.cursor}::bigint`);
  }
  const offset = q.cursor ? 0 : Math.max(q.offset ?? 0, 0);
  const rows = await db.query<HistoryRow>(
    sql`SELECT h.hid, h.type, h.id, h.version_id, h.last_updated, h.deleted, h.method, h.content
        FROM ${ALL_VERSIONS} h WHERE ${and(where)} ORDER BY h.hid DESC LIMIT ${count + 1} OFFSET ${offset}`
  );
  const page = rows.slice(0, count);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'history',
    entry: page.map((r) => historyEntry(ctx.baseUrl, r)),
    link: [{ relation: 'self', url: historyUrl(ctx.baseUrl, q, count, q.cursor) }],
  };
  const last = page[page.length - 1];
  if (rows.length > count && last) {
    bundle.link?.push({ relation: 'next', url: historyUrl(ctx.baseUrl, q, count, last.hid) });
  }
  return bundle;
}

function historyEntry(baseUrl: string, r: HistoryRow): BundleEntry {
  const lastModified = new Date(r.last_updated).toISOString();
  const entry: BundleEntry = {
    fullUrl: `${baseUrl}/${r.type}/${r.id}`,
    request: { method: r.method as 'POST', url: r.method === 'POST' ? r.type : `${r.type}/${r.id}` },
    response: {
      status: r.deleted ? '204' : r.version_id === 1 ? '201' : '200',
      etag: `W/"${r.version_id}"`,
      lastModified,
    },
  };
  if (!r.deleted && r.content) {
    entry.resource = JSON.parse(r.content) as Resource;
  }
  return entry;
}

function historyUrl(baseUrl: string, q: HistoryQuery, count: number, cursor: string | undefined): string {
  const path = [q.resourceType, q.id].filter(Boolean).join('/');
  const params = new URLSearchParams({ _count: String(count) });
  if (q.since) {
    params.set('_since', q.since);
  }
  if (q.at) {
    params.set('_at', q.at);
  }
  if (cursor) {
    params.set('_cursor', cursor);
  }
  return `${baseUrl}/${path ? path + '/' : ''}_history?${params.toString()}`;
}

import type { IncludeTarget } from '@medplum/core';
import type { Queryable } from '../../db/database';
import { sql } from '../../db/sql';
import { accessClause } from '../read';
import type { CompileScope } from './compile';
import { referenceRows } from './compile';
import { referenceRowTest } from './reference';
import { canMatch } from './values';

export interface ResultRow {
  rid: string;
  type: string;
  id: string;
  content: string;
}

const MAX_INCLUDED = 1000;
const MAX_ITERATIONS = 5;

/**
 * _include and _revinclude (with :iterate), each one SQL query over the reference index that
 * applies the caller's access filter to the included rows, so an include cannot leak.
 */
export async function loadIncludes(
  db: Queryable,
  scope: CompileScope,
  matches: readonly ResultRow[],
  include: readonly IncludeTarget[],
  revInclude: readonly IncludeTarget[]
): Promise<ResultRow[]> {
  const seen = new Set(matches.map((m) => m.rid));
  const included: ResultRow[] = [];
  let frontier: readonly ResultRow[] = matches;
  for (let pass = 0; pass < MAX_ITERATIONS && frontier.length > 0 && included.length < MAX_INCLUDED; pass++) {
    const next: ResultRow[] = [];
    const takeAll = pass === 0;
    for (const target of include) {
      if (takeAll || target.modifier === 'iterate') {
        next.push(...(await forward(db, scope, frontier, target)));
      }
    }
    for (const target of revInclude) {
      if (takeAll || target.modifier === 'iterate') {
        next.push(...(await reverse(db, scope, frontier, target)));
      }
    }
    frontier = next.filter((r) => {
      if (seen.has(r.rid)) {
        return false;
      }
      seen.add(r.rid);
      return true;
    });
    included.push(...frontier);
  }
  return included.slice(0, MAX_INCLUDED);
}

async function forward(
  db: Queryable,
  scope: CompileScope,
  rows: readonly ResultRow[],
  target: IncludeTarget
): Promise<ResultRow[]> {
  const rids = rows.filter((r) => r.type === target.resourceType).map((r) => r.rid);
  if (rids.length === 0 || !canMatch(target.targetType ?? '')) {
    return [];
  }
  const refs = referenceRows(scope, target.resourceType, target.searchParam);
  const typeFilter = target.targetType ? sql`AND t.type = ${target.targetType}` : sql``;
  return db.query<ResultRow>(sql`SELECT DISTINCT t.rid, t.type, t.id, t.content
    FROM idx_reference x JOIN resource t ON t.type = x.target_type AND t.id = x.target_id
    WHERE x.rid = ANY(${rids}::bigint[]) AND ${referenceRowTest('x', refs)} AND NOT t.deleted ${typeFilter}
    AND ${accessClause(scope.ctx.access, 't', target.targetType)} LIMIT ${MAX_INCLUDED}`);
}

async function reverse(
  db: Queryable,
  scope: CompileScope,
  rows: readonly ResultRow[],
  target: IncludeTarget
): Promise<ResultRow[]> {
  const candidates = target.targetType ? rows.filter((r) => r.type === target.targetType) : rows;
  if (candidates.length === 0) {
    return [];
  }
  const refs = referenceRows(scope, target.resourceType, target.searchParam);
  return db.query<ResultRow>(sql`SELECT DISTINCT s.rid, s.type, s.id, s.content
    FROM idx_reference x JOIN resource s ON s.rid = x.rid
    JOIN unnest(${candidates.map((c) => c.type)}::text[], ${candidates.map((c) => c.id)}::text[]) AS q(type, id)
      ON x.target_type = q.type AND x.target_id = q.id
    WHERE ${referenceRowTest('x', refs)} AND s.type = ${target.resourceType} AND NOT s.deleted
    AND ${accessClause(scope.ctx.access, 's', target.resourceType)} LIMIT ${MAX_INCLUDED}`);
}

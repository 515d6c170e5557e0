import type { Filter } from '@medplum/core';
import { Operator } from '@medplum/core';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database';
import type { Sql } from '../db/sql';
import { sql } from '../db/sql';
import type { RepoContext } from '../storage/context';
import { compileSearchWhere } from '../storage/search';
import { sortKeys } from '../storage/search/sort';
import type { LastnRow } from './lastn-rows';
import { pickedRows } from './lastn-rows';
import { seriesLastN } from './series-lastn';

export interface LastnQuery {
  /** The search filters besides the grouping code (patient/subject, category, date, status, …). */
  filters: Filter[];
  /** The code tokens to group by (`system|code` or `code`); undefined: every code the matches carry. */
  codes: string[] | undefined;
  max: number;
}

/** Codes a lastn without `code` groups at most (one statement holds a branch per code). */
export const MAX_GROUPS = 200;

/**
 * Observation/$lastn as SQL: per code, the `max` most recent matches by effective time (ties at the last place
 * included, as the operation asks), each branch the ordinary search WHERE for that code — so access (SMART scopes,
 * Consent with its categories and data periods) is the caller's, as in any search. A resource in several groups
 * (several codings) is returned once. One statement for the groups; one more to find them when `code` is absent.
 */
export async function lastN(db: Queryable, ctx: RepoContext, q: LastnQuery): Promise<Bundle> {
  const rows = (await seriesLastN(db, ctx, q, MAX_GROUPS)) ?? (await searchLastN(db, ctx, q));
  const seen = new Set<string>();
  const entry: BundleEntry[] = [];
  for (const row of rows) {
    if (!seen.has(row.rid)) {
      seen.add(row.rid);
      entry.push({
        fullUrl: `${ctx.baseUrl}/${row.type}/${row.id}`,
        resource: JSON.parse(row.content) as Resource,
        search: { mode: 'match' },
      });
    }
  }
  return { resourceType: 'Bundle', type: 'searchset', total: entry.length, entry };
}

/** The search path: each group's branch is the ordinary search WHERE, for filters the series cannot answer. */
async function searchLastN(db: Queryable, ctx: RepoContext, q: LastnQuery): Promise<LastnRow[]> {
  const codes = q.codes ?? (await codesOf(db, ctx, q.filters));
  return codes.length === 0
    ? []
    : pickedRows(
        db,
        codes.map((code, g) => branch(ctx, q, code, g))
      );
}

function branch(ctx: RepoContext, q: LastnQuery, code: string, g: number): Sql {
  const { scope, where } = compileSearchWhere(ctx, {
    resourceType: 'Observation',
    filters: [...q.filters, { code: 'code', operator: Operator.EQUALS, value: code }],
  });
  const [latest] = sortKeys(scope, 'Observation', [{ code: 'date', descending: true }]);
  // Parenthesised so that each branch keeps its own ORDER BY and FETCH.
  return sql`(SELECT ${g}::int AS g, r.rid, ${latest?.expr ?? sql`r.last_updated`} AS at
    FROM resource r WHERE ${where}
    ORDER BY at DESC FETCH FIRST (${q.max}::int) ROWS WITH TIES)`;
}

/** The distinct codings (system|code) of the matching Observations' codes, for a lastn without `code`. */
async function codesOf(db: Queryable, ctx: RepoContext, filters: Filter[]): Promise<string[]> {
  const { scope, where } = compileSearchWhere(ctx, { resourceType: 'Observation', filters });
  const sp = scope.ctx.searchParams.id('Observation', 'code');
  if (sp === undefined) {
    return [];
  }
  const rows = await db.query<{ system: string | null; code: string }>(
    sql`SELECT DISTINCT t.system, t.code FROM resource r JOIN idx_token t ON t.rid = r.rid AND t.sp = ${sp}
        WHERE ${where} AND t.code IS NOT NULL ORDER BY t.system, t.code LIMIT ${MAX_GROUPS + 1}`
  );
  // More codes than fit in one statement: the first ones, in a stable order (the caller narrows with code=).
  return rows.slice(0, MAX_GROUPS).map((r) => `${escapeToken(r.system ?? '')}|${escapeToken(r.code)}`);
}

/** A token part as a search value ('|', ',', '$' and '\' escaped). */
function escapeToken(part: string): string {
  return part.replace(/[\\|,$]/g, (c) => `\\${c}`);
}

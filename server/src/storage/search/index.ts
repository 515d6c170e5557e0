import type { SearchRequest } from '@medplum/core';
import { Operator, formatSearchQuery } from '@medplum/core';
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/database';
import type { Sql } from '../../db/sql';
import { and, or, raw, sql } from '../../db/sql';
import type { ReadHint } from '../access';
import { isAboutParam } from '../indexer/compartments';
import type { RepoContext } from '../context';
import { assertResourceType } from '../prepare';
import { accessClause } from '../read';
import type { CompileScope } from './compile';
import { compileFilters } from './compile';
import type { ResultRow } from './include';
import { loadIncludes } from './include';
import { project } from './projection';
import { afterCursor, decodeCursor, encodeCursor, orderBy, sortKeys } from './sort';
import { invalid } from './values';

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

interface MatchRow extends ResultRow {
  [key: `k${number}`]: string;
}

export interface CompiledSearch {
  scope: CompileScope;
  where: Sql;
}

/** Compiles the WHERE clause (type, filters, not deleted, access) of a search over alias `r`. */
export function compileSearchWhere(ctx: RepoContext, req: SearchRequest): CompiledSearch {
  const scope: CompileScope = { ctx, ignored: [], strict: Boolean(ctx.strictSearch), aliasCount: 0 };
  const types = req.types && req.types.length > 0 ? req.types : [req.resourceType];
  const perType = types.map((type) => {
    assertResourceType(type);
    ctx.access.checkInteraction(type, 'search');
    return and([sql`r.type = ${type}`, ...compileFilters(scope, type, 'r', req.filters ?? [])]);
  });
  const where = and([
    or(perType),
    sql`NOT r.deleted`,
    accessClause(ctx.access, 'r', types.length === 1 ? types[0] : undefined, false, patientHint(req)),
  ]);
  return { scope, where };
}

/**
 * `patient=X`, or the compartment parameter that says whom a resource is about (`subject=Patient/X`),
 * on a one-type search: the access policy need only consider what X shares. Not `performer=Patient/X`:
 * what X performed may be about someone else, shared or not by their grants. A hint only ever
 * narrows what the policy allows, so a row that matched through some other path would at worst be
 * hidden, never leak.
 */
function patientHint(req: SearchRequest): ReadHint | undefined {
  if (req.types && req.types.length > 1) {
    return undefined;
  }
  for (const f of req.filters ?? []) {
    if (f.operator !== Operator.EQUALS || f.value.includes(',')) {
      continue;
    }
    const m = /^(Patient\/)?([A-Za-z0-9\-.]{1,64})$/.exec(f.value);
    const id = m?.[2];
    if (id && (f.code === 'patient' || (isAboutParam(req.resourceType, f.code) && m?.[1]))) {
      return { patientIds: [id] };
    }
  }
  return undefined;
}

export async function searchBundle(db: Queryable, ctx: RepoContext, req: SearchRequest): Promise<Bundle> {
  const count = req.count ?? DEFAULT_COUNT;
  if (!Number.isInteger(count) || count < 0 || count > MAX_COUNT) {
    throw invalid(`_count must be an integer from 0 to ${MAX_COUNT}`);
  }
  const offset = req.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) {
    throw invalid('_offset must be a non-negative integer');
  }
  const { scope, where } = compileSearchWhere(ctx, req);
  const multiType = (req.types?.length ?? 0) > 1;
  const keys = sortKeys(scope, multiType ? 'Resource' : req.resourceType, req.sortRules, req.filters);
  const conditions = [where];
  if (req.cursor) {
    const c = decodeCursor(req.cursor, keys.length);
    conditions.push(afterCursor(keys, c.values, c.rid));
  }
  let rows: MatchRow[] = [];
  if (count > 0) {
    // Selected exactly as ordered (no cast), so PostgreSQL computes each sort key once per row;
    // the driver returns timestamps and numerics as text for the cursor.
    const keyCols = keys.map((k, i) => sql`, ${k.expr} AS ${raw(`k${i}`)}`);
    rows =
      await db.query<MatchRow>(sql`SELECT r.rid, r.type, r.id, r.content${keyCols.length ? keyCols.reduce((a, b) => sql`${a}${b}`) : sql``}
      FROM resource r WHERE ${and(conditions)} ORDER BY ${orderBy(keys)} LIMIT ${count + 1} OFFSET ${offset}`);
  }
  const page = rows.slice(0, count);
  const hasMore = rows.length > count;
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset' };
  const total = await computeTotal(db, req, where, page.length, hasMore, offset);
  if (total !== undefined) {
    bundle.total = total;
  }
  const links: BundleLink[] = [{ relation: 'self', url: searchUrl(ctx.baseUrl, req, req.cursor) }];
  const last = page[page.length - 1];
  if (hasMore && last) {
    links.push({
      relation: 'next',
      url: req.offset
        ? searchUrl(ctx.baseUrl, { ...req, offset: offset + count }, undefined)
        : searchUrl(
            ctx.baseUrl,
            { ...req, offset: undefined },
            encodeCursor(
              keys.map((_, i) => last[`k${i}`] ?? ''),
              last.rid
            )
          ),
    });
  }
  bundle.link = links;
  const included = await loadIncludes(db, scope, page, req.include ?? [], req.revInclude ?? []);
  bundle.entry = [
    ...page.map((r) => entry(ctx.baseUrl, r, 'match', req)),
    ...included.map((r) => entry(ctx.baseUrl, r, 'include', req)),
    ...ignoredOutcome(scope.ignored),
  ];
  return bundle;
}

async function computeTotal(
  db: Queryable,
  req: SearchRequest,
  where: Sql,
  pageSize: number,
  hasMore: boolean,
  offset: number
): Promise<number | undefined> {
  if (req.total === 'accurate' || req.total === 'estimate') {
    const rows = await db.query<{ n: string }>(sql`SELECT count(*) AS n FROM resource r WHERE ${where}`);
    return Number(rows[0]?.n ?? 0);
  }
  if (req.total === 'none') {
    return undefined;
  }
  // Without _total, report it when it costs nothing: everything fit on the first page.
  return !hasMore && !req.cursor && offset === 0 && (req.count ?? DEFAULT_COUNT) > 0 ? pageSize : undefined;
}

function entry(baseUrl: string, row: ResultRow, mode: 'match' | 'include', req: SearchRequest): BundleEntry {
  const resource = JSON.parse(row.content) as Resource;
  return {
    fullUrl: `${baseUrl}/${row.type}/${row.id}`,
    resource: mode === 'match' ? project(resource, req.summary, req.fields) : resource,
    search: { mode },
  };
}

function ignoredOutcome(ignored: readonly string[]): BundleEntry[] {
  if (ignored.length === 0) {
    return [];
  }
  return [
    {
      resource: {
        resourceType: 'OperationOutcome',
        issue: ignored.map((code) => ({
          severity: 'warning',
          code: 'not-supported',
          details: { text: `Unknown search parameter '${code}' was ignored` },
        })),
      },
      search: { mode: 'outcome' },
    },
  ];
}

function searchUrl(baseUrl: string, req: SearchRequest, cursor: string | undefined): string {
  const query = formatSearchQuery({ ...req, cursor });
  const path = req.types && req.types.length > 0 ? '' : req.resourceType;
  const summary = req.summary ? `${query ? '&' : '?'}_summary=${req.summary}` : '';
  return `${baseUrl}/${path}${query}${summary}`;
}

/** For GraphQL reverse lookups: the resources whose `referenceField` points at each reference. */
export async function searchByReferenceImpl(
  db: Queryable,
  ctx: RepoContext,
  req: SearchRequest,
  referenceField: string,
  references: string[]
): Promise<Record<string, Resource[]>> {
  const result: Record<string, Resource[]> = {};
  for (const ref of references) {
    const bundle = await searchBundle(db, ctx, {
      ...req,
      filters: [...(req.filters ?? []), { code: referenceField, operator: 'eq', value: ref }],
    });
    result[ref] = (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as Resource);
  }
  return result;
}

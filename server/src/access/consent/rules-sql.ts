import type { Sql } from '../../db/sql';
import { and, or, raw, sql } from '../../db/sql';
import type { SearchParamRegistry } from '../../storage/search-params';
import { CLINICAL_DATE_PARAMS } from './categories';
import type { Expr } from './expr';
import type { Window } from './model';
import { DATA_SHARING_REQUEST, TASK_CODE_SYSTEM } from './vocabulary';

export interface RenderTarget {
  /** The row alias: a `resource` row, or a `resource_history` row (`history`). */
  alias: string;
  history: boolean;
  rowType: string | undefined;
  searchParams: SearchParamRegistry;
  /**
   * The alias is a measurement_series row (an Observation's current version): its categories and effective
   * period are its own columns, so the rule tests those rather than probing idx_token and idx_date per row.
   */
  series?: boolean;
}

/**
 * Renders a Consent expression as a predicate over one row. Current rows are tested through the
 * index tables (the same indexes searches use); history rows are tested on their own stored JSON
 * for categories and security labels, so an old version is judged by what it said then.
 */
export function renderExpr(e: Expr, t: RenderTarget): Sql {
  const a = raw(t.alias);
  switch (e.k) {
    case 'const':
      return e.value ? sql`TRUE` : sql`FALSE`;
    case 'and':
      return and(e.xs.map((x) => renderExpr(x, t)));
    case 'or':
      return or(e.xs.map((x) => renderExpr(x, t)));
    case 'not':
      return sql`NOT (${renderExpr(e.x, t)})`;
    case 'type':
      return sql`${a}.type = ANY(${e.types}::text[])`;
    case 'instance':
      return sql`(${a}.type || '/' || ${a}.id = ANY(${e.keys}::text[])
        OR ${a}.type || '/' || ${a}.id || '/_history/' || ${a}.version_id = ANY(${e.keys}::text[]))`;
    case 'obs-category':
      if (t.series) {
        return sql`${a}.categories && ${e.codings.map((c) => `${c.system}|${c.code}`)}::text[]`;
      }
      return t.history
        ? jsonContains(
            t.alias,
            ['category'],
            e.codings.map((c) => ({ coding: [c] }))
          )
        : tokenExists(t.alias, [t.searchParams.id('Observation', 'category') ?? -1], e.codings);
    case 'sharing-request':
      return t.history
        ? jsonContains(t.alias, ['code', 'coding'], [{ system: TASK_CODE_SYSTEM, code: DATA_SHARING_REQUEST }])
        : tokenExists(
            t.alias,
            [t.searchParams.id('Task', 'code') ?? -1],
            [{ system: TASK_CODE_SYSTEM, code: DATA_SHARING_REQUEST }]
          );
    case 'security':
      return t.history
        ? jsonContains(t.alias, ['meta', 'security'], e.labels)
        : tokenExists(
            t.alias,
            t.rowType ? [t.searchParams.id(t.rowType, '_security') ?? -1] : t.searchParams.idsOfCode('_security'),
            e.labels
          );
    case 'date':
      return dateIn(t, e.window);
  }
}

/**
 * A test on the row's own token rows. Codes are compared per system as plain columns, so that
 * PostgreSQL can estimate them: with a concatenated system|code test it underestimated the matches
 * and could start a one-patient search from every row of that category in the database.
 */
function tokenExists(alias: string, sps: number[], codings: readonly { system?: string; code: string }[]): Sql {
  const bySystem = new Map<string | undefined, string[]>();
  for (const c of codings) {
    bySystem.set(c.system, [...(bySystem.get(c.system) ?? []), c.code]);
  }
  const matches = [...bySystem].map(([system, codes]) =>
    system === undefined
      ? sql`ct.code = ANY(${codes}::text[])`
      : sql`(ct.system = ${system} AND ct.code = ANY(${codes}::text[]))`
  );
  return sql`EXISTS (SELECT 1 FROM idx_token ct WHERE ct.rid = ${raw(alias)}.rid AND ct.sp = ANY(${sps}::int[])
    AND ${or(matches)})`;
}

function jsonContains(alias: string, path: string[], elements: readonly object[]): Sql {
  const probes = elements.map((el) => JSON.stringify([el]));
  return sql`COALESCE((${raw(alias)}.content::jsonb #> ${path}::text[]) @> ANY(${probes}::jsonb[]), FALSE)`;
}

const INF_LOW = '-infinity';
const INF_HIGH = 'infinity';

function dateIn(t: RenderTarget, w: Window): Sql {
  const a = raw(t.alias);
  const start = w.start === undefined ? INF_LOW : new Date(w.start).toISOString();
  const end = w.end === undefined ? INF_HIGH : new Date(w.end).toISOString();
  const clinical = (sps: number[]): Sql =>
    sql`EXISTS (SELECT 1 FROM idx_date cd WHERE cd.rid = ${a}.rid AND cd.sp = ANY(${sps}::int[])
      AND cd.low <= ${end}::timestamptz AND cd.high >= ${start}::timestamptz)`;
  const written = sql`(${a}.last_updated <= ${end}::timestamptz AND ${a}.last_updated >= ${start}::timestamptz)`;
  if (t.series) {
    // The Observation's `date` period, as the clinical() test below reads it from idx_date.
    return sql`(${a}.at <= ${end}::timestamptz AND ${a}.at_high >= ${start}::timestamptz)`;
  }
  if (t.rowType) {
    const code = CLINICAL_DATE_PARAMS[t.rowType];
    return code ? clinical([t.searchParams.id(t.rowType, code) ?? -1]) : written;
  }
  const dated = Object.keys(CLINICAL_DATE_PARAMS);
  const sps = dated.map((type) => t.searchParams.id(type, CLINICAL_DATE_PARAMS[type] as string) ?? -1);
  return or([
    and([sql`${a}.type = ANY(${dated}::text[])`, clinical(sps)]),
    and([sql`NOT ${a}.type = ANY(${dated}::text[])`, written]),
  ]);
}

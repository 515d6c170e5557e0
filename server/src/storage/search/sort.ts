import type { Filter, SortRule } from '@medplum/core';
import type { Sql } from '../../db/sql';
import { and, or, raw, sql } from '../../db/sql';
import { getSearchParams } from '../../fhir/definitions';
import type { CompileScope } from './compile';
import { referenceRows, spIds, spTest } from './compile';
import { nearPoint, nearestKm, supportsNear } from './near';
import { referenceRowTest } from './reference';
import { canMatch, invalid } from './values';

export interface SortKey {
  /** Expression with no NULLs (a sentinel sorts missing values last in either direction). */
  expr: Sql;
  descending: boolean;
  /** The SQL type the cursor value is cast back to. */
  pgType: 'text' | 'timestamptz' | 'numeric';
}

const COLUMN: Record<string, { column: string; pgType: SortKey['pgType'] }> = {
  string: { column: 'norm', pgType: 'text' },
  token: { column: 'code', pgType: 'text' },
  uri: { column: 'value', pgType: 'text' },
  reference: { column: 'target_id', pgType: 'text' },
  number: { column: 'value', pgType: 'numeric' },
  quantity: { column: 'value', pgType: 'numeric' },
  date: { column: 'low', pgType: 'timestamptz' },
};

const SENTINEL: Record<SortKey['pgType'], [string, string]> = {
  // [ascending (sorts last), descending (sorts last)]
  text: ['\u{10FFFF}', ''],
  timestamptz: ['infinity', '-infinity'],
  numeric: ['Infinity', '-Infinity'],
};

export function sortKeys(
  scope: CompileScope,
  resourceType: string,
  rules: readonly SortRule[] | undefined,
  filters?: readonly Filter[]
): SortKey[] {
  const keys: SortKey[] = [];
  for (const rule of rules ?? []) {
    const descending = Boolean(rule.descending);
    if (rule.code === 'near' && supportsNear(resourceType)) {
      keys.push(distanceKey(scope, resourceType, descending, filters));
      continue;
    }
    if (rule.code === '_id') {
      keys.push({ expr: sql`r.id`, descending, pgType: 'text' });
      continue;
    }
    if (rule.code === '_lastUpdated') {
      keys.push({ expr: sql`r.last_updated`, descending, pgType: 'timestamptz' });
      continue;
    }
    const param = getSearchParams(resourceType)[rule.code];
    const col = param?.type ? COLUMN[param.type] : undefined;
    if (!param || !col) {
      throw invalid(`Cannot sort ${resourceType} by ${rule.code}`);
    }
    const rowTest =
      param.type === 'reference'
        ? referenceRowTest('i', referenceRows(scope, resourceType, rule.code))
        : spTest(spIds(scope, resourceType, rule.code));
    // Descending date sorts use the end of the period, ascending the start (what users expect of "latest").
    const column = param.type === 'date' && descending ? 'high' : col.column;
    const agg = descending ? 'max' : 'min';
    const [ascSentinel, descSentinel] = SENTINEL[col.pgType];
    keys.push({
      expr: sql`COALESCE((SELECT ${raw(`${agg}(i.${column})`)} FROM ${raw(`idx_${param.type}`)} i
        WHERE i.rid = r.rid AND ${rowTest}), ${descending ? descSentinel : ascSentinel}::${raw(col.pgType)})`,
      descending,
      pgType: col.pgType,
    });
  }
  return keys;
}

/** `_sort=near` (as HAPI FHIR): by the distance from the search's `near` point, rows without a position last. */
function distanceKey(
  scope: CompileScope,
  resourceType: string,
  descending: boolean,
  filters: readonly Filter[] | undefined
): SortKey {
  const point = nearPoint(filters);
  if (!point) {
    throw invalid('_sort=near needs a near search parameter, the point distances are measured from');
  }
  const [ascSentinel, descSentinel] = SENTINEL.numeric;
  return {
    expr: sql`COALESCE(${nearestKm(scope, resourceType, 'r', point)}, ${descending ? descSentinel : ascSentinel}::float8)`,
    descending,
    pgType: 'numeric',
  };
}

export function orderBy(keys: readonly SortKey[]): Sql {
  const parts = keys.map((k) => sql`${k.expr} ${raw(k.descending ? 'DESC' : 'ASC')}`);
  const last = keys[keys.length - 1];
  // rid breaks ties (in the direction of the last key) so the order is total and pages never overlap.
  parts.push(sql`r.rid ${raw(last?.descending ? 'DESC' : 'ASC')}`);
  return parts.reduce((a, b) => sql`${a}, ${b}`);
}

/** Keyset continuation: rows strictly after the cursor position in the sort order. */
export function afterCursor(keys: readonly SortKey[], values: readonly string[], rid: string): Sql {
  const all = [...keys.map((k, i) => ({ ...k, value: values[i] as string }))];
  const ridDesc = Boolean(keys[keys.length - 1]?.descending);
  const branches: Sql[] = [];
  for (let i = 0; i <= all.length; i++) {
    const equal = all.slice(0, i).map((k) => sql`${k.expr} = ${k.value}::${raw(k.pgType)}`);
    const k = all[i];
    const beyond = k
      ? sql`${k.expr} ${raw(k.descending ? '<' : '>')} ${k.value}::${raw(k.pgType)}`
      : sql`r.rid ${raw(ridDesc ? '<' : '>')} ${rid}::bigint`;
    branches.push(and([...equal, beyond]));
  }
  return or(branches);
}

export function encodeCursor(values: readonly string[], rid: string): string {
  return Buffer.from(JSON.stringify([values, rid])).toString('base64url');
}

export function decodeCursor(cursor: string, keyCount: number): { values: string[]; rid: string } {
  try {
    const [values, rid] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (
      Array.isArray(values) &&
      values.length === keyCount &&
      values.every((v) => typeof v === 'string' && canMatch(v)) &&
      typeof rid === 'string' &&
      /^\d{1,19}$/.test(rid)
    ) {
      return { values: values, rid };
    }
  } catch {
    // fall through to the error below
  }
  throw invalid('Invalid _cursor (it belongs to another search, or was altered)');
}

import type { Filter } from '@medplum/core';
import { Operator, parseParameter } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import type { Sql } from '../../db/sql';
import { and, join, or, raw, sql } from '../../db/sql';
import { getSearchParams } from '../../fhir/definitions';
import type { RepoContext } from '../context';
import { accessClause } from '../read';
import { compositeFilter, compositePresent } from './composite';
import { dateMatch, numberMatch, ORDERED_OPERATORS, quantityMatch, withPrefix } from './ordered';
import { nearFilter } from './near';
import { referenceMatch, referenceRowTest } from './reference';
import { STRING_OPERATORS, stringAlternatives } from './string';
import { TOKEN_OPERATORS, tokenAlternatives } from './token';
import { URI_OPERATORS, uriAlternatives } from './uri';
import { alternatives, anyOf, canMatch, invalid, splitEscaped, unescape } from './values';

/** Compilation state: the repository context and a counter for unique nested aliases. */
export interface CompileScope {
  ctx: RepoContext;
  /** Under lenient handling, unknown parameters are skipped and reported here instead of failing. */
  ignored: string[];
  strict: boolean;
  aliasCount: number;
}

export function nextAlias(scope: CompileScope, prefix: string): string {
  scope.aliasCount++;
  return `${prefix}${scope.aliasCount}`;
}

export const TABLES: Record<string, string> = {
  token: 'idx_token',
  string: 'idx_string',
  date: 'idx_date',
  number: 'idx_number',
  quantity: 'idx_quantity',
  reference: 'idx_reference',
  uri: 'idx_uri',
};

export function spId(scope: CompileScope, resourceType: string, code: string): number {
  const id = scope.ctx.searchParams.id(resourceType, code);
  if (id === undefined) {
    throw invalid(`Search parameter ${code} is not indexed for ${resourceType}`);
  }
  return id;
}

/** The ids whose rows answer a non-composite parameter: its own, or those of the parts of a derived union. */
export function spIds(scope: CompileScope, resourceType: string, code: string): number[] {
  const derivation = scope.ctx.searchParams.derivation(resourceType, code);
  if (derivation?.kind === 'union') {
    return derivation.codes.map((part) => spId(scope, resourceType, part));
  }
  return [spId(scope, resourceType, code)];
}

/** Where a reference parameter's idx_reference rows are (registry.referenceRows), or a 400 if nowhere. */
export function referenceRows(
  scope: CompileScope,
  resourceType: string,
  code: string
): { sp: number; targetType?: string } {
  const rows = scope.ctx.searchParams.referenceRows(resourceType, code);
  if (!rows) {
    throw invalid(`Search parameter ${code} is not indexed for ${resourceType}`);
  }
  return rows;
}

/** `i.sp = …` for one id, `i.sp IN (…)` for a derived union's several. */
export function spTest(sps: number | readonly number[], column = 'i.sp'): Sql {
  const list = typeof sps === 'number' ? [sps] : sps;
  return list.length === 1
    ? sql`${raw(column)} = ${list[0]}`
    : sql`${raw(column)} IN (${join(
        list.map((sp) => sql`${sp}`),
        ', '
      )})`;
}

/** EXISTS over the lookup rows of one parameter of the resource row `alias`. */
export function existsRow(table: string, alias: string, sps: number | readonly number[], match: Sql | undefined): Sql {
  return existsWhere(table, alias, spTest(sps), match);
}

/** EXISTS over the rows `i` of a lookup table for the resource row `alias` that pass `rows` (and `match`). */
function existsWhere(table: string, alias: string, rows: Sql, match: Sql | undefined): Sql {
  const m = match ? sql` AND ${match}` : sql``;
  return sql`EXISTS (SELECT 1 FROM ${raw(table)} i WHERE i.rid = ${raw(alias)}.rid AND ${rows}${m})`;
}

/** All filters of a search, AND-ed, over the resource row `alias` of `resourceType`. */
export function compileFilters(
  scope: CompileScope,
  resourceType: string,
  alias: string,
  filters: readonly Filter[]
): Sql[] {
  const out: Sql[] = [];
  for (const f of filters) {
    const compiled = compileFilter(scope, resourceType, alias, f);
    if (compiled) {
      out.push(compiled);
    }
  }
  return out;
}

export function compileFilter(scope: CompileScope, resourceType: string, alias: string, f: Filter): Sql | undefined {
  if (f.code.startsWith('_has:')) {
    return compileHas(scope, resourceType, alias, f.code.slice(5).split(':'), f.value);
  }
  if (f.code.includes('.')) {
    return compileChain(scope, resourceType, alias, f.code.split('.'), f.value);
  }
  if (f.code === '_id') {
    return compileId(alias, f);
  }
  if (f.code === '_lastUpdated') {
    return compileLastUpdated(alias, f);
  }
  const param = getSearchParams(resourceType)[f.code];
  if (!param || f.code === '_compartment' || f.code === '_project') {
    return unknownParam(scope, resourceType, f.code);
  }
  return compileParam(scope, resourceType, alias, param, f);
}

function unknownParam(scope: CompileScope, resourceType: string, code: string): undefined {
  if (scope.strict) {
    throw invalid(`Unknown search parameter '${code}' for resource type ${resourceType}`);
  }
  scope.ignored.push(code);
  return undefined;
}

function compileId(alias: string, f: Filter): Sql {
  const ids = alternatives(f.value).map(unescape).filter(canMatch);
  if (f.operator === Operator.MISSING) {
    return sql`${f.value === 'true' ? sql`FALSE` : sql`TRUE`}`;
  }
  const match = sql`${raw(alias)}.id = ANY(${ids}::text[])`;
  if (f.operator === Operator.NOT || f.operator === Operator.NOT_EQUALS) {
    return sql`NOT ${match}`;
  }
  if (f.operator !== Operator.EQUALS) {
    throw invalid(`Modifier ${f.operator} is not supported on _id`);
  }
  return match;
}

function compileLastUpdated(alias: string, f: Filter): Sql {
  const col = sql`${raw(alias)}.last_updated`;
  return anyOf(alternatives(f.value), (v, i) => {
    const { op, value } = withPrefix(f.operator, v, i === 0);
    return dateMatch(op, value, col, col);
  });
}

function compileParam(
  scope: CompileScope,
  resourceType: string,
  alias: string,
  param: SearchParameter,
  f: Filter
): Sql {
  const type = param.type as string;
  if (type === 'special' && param.code === 'near') {
    return nearFilter(scope, resourceType, alias, f);
  }
  if (type === 'composite' && f.operator !== Operator.MISSING && f.operator !== Operator.PRESENT) {
    return compositeFilter(scope, resourceType, alias, param, alternatives(f.value));
  }
  const sp = type === 'composite' ? [] : spIds(scope, resourceType, param.code);
  if (f.operator === Operator.MISSING || f.operator === Operator.PRESENT) {
    if (f.value !== 'true' && f.value !== 'false') {
      throw invalid(`:missing takes true or false, got ${f.value}`);
    }
    const present =
      type === 'composite'
        ? compositePresent(scope, resourceType, alias, param)
        : type === 'reference'
          ? referenceExists(scope, resourceType, alias, param.code, undefined)
          : existsRow(TABLES[type] as string, alias, sp, undefined);
    const missing = (f.operator === Operator.MISSING) === (f.value === 'true');
    return missing ? sql`NOT ${present}` : present;
  }
  const values = alternatives(f.value);
  switch (type) {
    case 'token':
      if (!TOKEN_OPERATORS.has(f.operator)) {
        throw unsupported(f, param);
      }
      return f.operator === Operator.NOT
        ? sql`NOT ${existsRow('idx_token', alias, sp, tokenAlternatives(f.operator, values))}`
        : existsRow('idx_token', alias, sp, tokenAlternatives(f.operator, values));
    case 'string':
      if (!STRING_OPERATORS.has(f.operator)) {
        throw unsupported(f, param);
      }
      return existsRow('idx_string', alias, sp, stringAlternatives(f.operator, values));
    case 'uri':
      if (!URI_OPERATORS.has(f.operator)) {
        throw unsupported(f, param);
      }
      return existsRow('idx_uri', alias, sp, uriAlternatives(f.operator, values));
    case 'date':
      return existsRow(
        'idx_date',
        alias,
        sp,
        orderedAlternatives(f, param, values, (op, v) => dateMatch(op, v, sql`i.low`, sql`i.high`))
      );
    case 'number':
      return existsRow(
        'idx_number',
        alias,
        sp,
        orderedAlternatives(f, param, values, (op, v) => numberMatch(op, v, sql`i.value`))
      );
    case 'quantity':
      return existsRow(
        'idx_quantity',
        alias,
        sp,
        orderedAlternatives(f, param, values, (op, v) => quantityMatch(op, v, splitEscaped(v, '|').map(unescape)))
      );
    case 'reference':
      if (f.operator === Operator.IDENTIFIER) {
        return existsRow('idx_token', alias, sp, tokenAlternatives(Operator.EQUALS, values));
      }
      if (f.operator !== Operator.EQUALS) {
        throw unsupported(f, param);
      }
      return referenceExists(
        scope,
        resourceType,
        alias,
        param.code,
        anyOf(values, (v) => referenceMatch(scope.ctx.baseUrl, unescape(v)))
      );
    default:
      throw invalid(`Search parameter ${param.code} of type ${type} is not supported`);
  }
}

/** EXISTS over the idx_reference rows of a reference parameter (its own, or the narrowed-from parameter's). */
function referenceExists(
  scope: CompileScope,
  resourceType: string,
  alias: string,
  code: string,
  match: Sql | undefined
): Sql {
  return existsWhere('idx_reference', alias, referenceRowTest('i', referenceRows(scope, resourceType, code)), match);
}

function orderedAlternatives(
  f: Filter,
  param: SearchParameter,
  values: string[],
  match: (op: Operator, value: string) => Sql
): Sql {
  if (!ORDERED_OPERATORS.has(f.operator)) {
    throw unsupported(f, param);
  }
  return anyOf(values, (v, i) => {
    const { op, value } = withPrefix(f.operator, v, i === 0);
    return match(op, value);
  });
}

function unsupported(f: Filter, param: SearchParameter): Error {
  return invalid(`Modifier or prefix '${f.operator}' is not supported for ${param.type} parameter ${param.code}`);
}

/** Re-parses "code[:modifier]" + raw value the way a top-level parameter would be parsed. */
function parseFinal(resourceType: string, key: string, value: string): Filter | undefined {
  const [code, modifier] = key.split(':') as [string, string | undefined];
  if (code === '_id' || code === '_lastUpdated') {
    return { code, operator: modifier === 'not' ? Operator.NOT : Operator.EQUALS, value };
  }
  const param = getSearchParams(resourceType)[code];
  if (!param) {
    return undefined;
  }
  if (param.type === 'special') {
    // @medplum/core does not parse special parameters (Location near): compileParam does.
    return { code, operator: modifier ? (modifier as Operator) : Operator.EQUALS, value };
  }
  return parseParameter(param, Operator.EQUALS, modifier ?? '', value);
}

/**
 * Forward chain `subject:Patient.organization.name=x`: each link follows a reference into
 * the target resource row, which the caller's access filter also guards, so a chain can
 * only test data the caller may see.
 */
function compileChain(scope: CompileScope, resourceType: string, alias: string, links: string[], value: string): Sql {
  const [link, ...rest] = links;
  if (!link || rest.length === 0) {
    throw invalid(`Invalid chained parameter ${links.join('.')}`);
  }
  const [code, typeModifier] = link.split(':') as [string, string | undefined];
  const param = getSearchParams(resourceType)[code];
  if (param?.type !== 'reference') {
    throw invalid(`Chained parameter ${code} of ${resourceType} must be a reference parameter`);
  }
  const nextCode = (rest[0] as string).split(':')[0] as string;
  const targets = (typeModifier ? [typeModifier] : (param.target ?? [])).filter(
    (t) => nextCode === '_id' || nextCode === '_lastUpdated' || Boolean(getSearchParams(t)[nextCode])
  );
  if (targets.length === 0) {
    throw invalid(`No target of ${resourceType}.${code} has a search parameter ${nextCode}`);
  }
  const rows = referenceRows(scope, resourceType, code);
  return or(
    targets.map((target) => {
      const t = nextAlias(scope, 't');
      const inner =
        rest.length > 1
          ? compileChain(scope, target, t, rest, value)
          : compileFilter(scope, target, t, chainedFinal(target, rest[0] as string, value));
      return sql`EXISTS (SELECT 1 FROM idx_reference x JOIN resource ${raw(t)} ON ${raw(t)}.type = x.target_type AND ${raw(t)}.id = x.target_id
        WHERE x.rid = ${raw(alias)}.rid AND ${referenceRowTest('x', rows)} AND ${raw(t)}.type = ${target} AND NOT ${raw(t)}.deleted
        AND ${accessClause(scope.ctx.access, t, target)} AND ${inner ?? sql`TRUE`})`;
    })
  );
}

function chainedFinal(resourceType: string, key: string, value: string): Filter {
  const f = parseFinal(resourceType, key, value);
  if (!f) {
    throw invalid(`Unknown search parameter ${key} for ${resourceType}`);
  }
  return f;
}

/** Reverse chain `_has:Observation:patient:code=x` (nestable): resources referenced by matching ones. */
function compileHas(scope: CompileScope, resourceType: string, alias: string, parts: string[], value: string): Sql {
  const [hasType, refCode, ...rest] = parts;
  if (!hasType || !refCode || rest.length === 0) {
    throw invalid(`Invalid _has parameter _has:${parts.join(':')}`);
  }
  const refParam = getSearchParams(hasType)[refCode];
  if (refParam?.type !== 'reference') {
    throw invalid(`_has: ${refCode} is not a reference parameter of ${hasType}`);
  }
  const rows = referenceRows(scope, hasType, refCode);
  const h = nextAlias(scope, 'h');
  const inner =
    rest[0] === '_has'
      ? compileHas(scope, hasType, h, rest.slice(1), value)
      : compileFilter(scope, hasType, h, chainedFinal(hasType, rest.join(':'), value));
  return sql`EXISTS (SELECT 1 FROM idx_reference x JOIN resource ${raw(h)} ON ${raw(h)}.rid = x.rid
    WHERE ${referenceRowTest('x', rows)} AND x.target_type = ${resourceType} AND x.target_id = ${raw(alias)}.id
    AND ${raw(h)}.type = ${hasType} AND NOT ${raw(h)}.deleted AND ${accessClause(scope.ctx.access, h, hasType)}
    AND ${inner ?? sql`TRUE`})`;
}

export { and };

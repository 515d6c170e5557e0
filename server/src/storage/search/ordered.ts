import { Operator } from '@medplum/core';
import type { Sql } from '../../db/sql';
import { sql } from '../../db/sql';
import { dateRange } from '../indexer';
import { invalid } from './values';

const PREFIXES: Record<string, Operator> = {
  eq: Operator.EQUALS,
  ne: Operator.NOT_EQUALS,
  gt: Operator.GREATER_THAN,
  lt: Operator.LESS_THAN,
  ge: Operator.GREATER_THAN_OR_EQUALS,
  le: Operator.LESS_THAN_OR_EQUALS,
  sa: Operator.STARTS_AFTER,
  eb: Operator.ENDS_BEFORE,
  ap: Operator.APPROXIMATELY,
};

export const ORDERED_OPERATORS = new Set<Operator>(Object.values(PREFIXES));

/** Splits an alternative's own prefix off (`ge2020`); the first alternative's was parsed by the caller. */
export function withPrefix(operator: Operator, value: string, first: boolean): { op: Operator; value: string } {
  if (!first) {
    const p = PREFIXES[value.slice(0, 2)];
    if (p && /^[0-9-]/.test(value.slice(2))) {
      return { op: p, value: value.slice(2) };
    }
    return { op: Operator.EQUALS, value };
  }
  return { op: operator, value };
}

const DATE_VALUE =
  /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * Date semantics of FHIR R4 search (search.html#prefix): the stored value is a range
 * [low, high] and so is the search value [ql, qh] by its precision.
 */
export function dateMatch(op: Operator, value: string, low: Sql, high: Sql): Sql {
  if (!DATE_VALUE.test(value)) {
    throw invalid(`Invalid date search value: ${value}`);
  }
  const { low: ql, high: qh } = dateRange(value);
  const qlo = sql`${ql}::timestamptz`;
  const qhi = sql`${qh}::timestamptz`;
  switch (op) {
    case Operator.EQUALS:
      return sql`(${low} >= ${qlo} AND ${high} <= ${qhi})`;
    case Operator.NOT_EQUALS:
      return sql`NOT (${low} >= ${qlo} AND ${high} <= ${qhi})`;
    case Operator.GREATER_THAN:
      return sql`${high} > ${qhi}`;
    case Operator.LESS_THAN:
      return sql`${low} < ${qlo}`;
    case Operator.GREATER_THAN_OR_EQUALS:
      return sql`${high} >= ${qlo}`;
    case Operator.LESS_THAN_OR_EQUALS:
      return sql`${low} <= ${qhi}`;
    case Operator.STARTS_AFTER:
      return sql`${low} > ${qhi}`;
    case Operator.ENDS_BEFORE:
      return sql`${high} < ${qlo}`;
    case Operator.APPROXIMATELY: {
      // ±10% of the distance from now, at least a day (search.html#prefix "ap")
      const slack = Math.max(Math.abs(Date.now() - Date.parse(ql)) * 0.1, 86_400_000);
      const apLow = new Date(Date.parse(ql) - slack).toISOString();
      const apHigh = new Date(Date.parse(qh) + slack).toISOString();
      return sql`(${high} >= ${apLow}::timestamptz AND ${low} <= ${apHigh}::timestamptz)`;
    }
    default:
      throw invalid(`Operator ${op} is not valid for date parameters`);
  }
}

const NUMBER_VALUE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Number semantics: a value's precision is implied by its significant figures ("100" is [99.5, 100.5)). */
export function numberMatch(op: Operator, value: string, column: Sql): Sql {
  if (!NUMBER_VALUE.test(value)) {
    throw invalid(`Invalid number search value: ${value}`);
  }
  const mantissa = value.split(/[eE]/)[0] ?? value;
  const exponent = Number(value.split(/[eE]/)[1] ?? 0);
  const decimals = (mantissa.split('.')[1] ?? '').length - exponent;
  const half = `5e${-(decimals + 1)}`;
  const v = sql`${value}::numeric`;
  switch (op) {
    case Operator.EQUALS:
      return sql`(${column} >= ${v} - ${half}::numeric AND ${column} < ${v} + ${half}::numeric)`;
    case Operator.NOT_EQUALS:
      return sql`NOT (${column} >= ${v} - ${half}::numeric AND ${column} < ${v} + ${half}::numeric)`;
    case Operator.GREATER_THAN:
    case Operator.STARTS_AFTER:
      return sql`${column} > ${v}`;
    case Operator.LESS_THAN:
    case Operator.ENDS_BEFORE:
      return sql`${column} < ${v}`;
    case Operator.GREATER_THAN_OR_EQUALS:
      return sql`${column} >= ${v}`;
    case Operator.LESS_THAN_OR_EQUALS:
      return sql`${column} <= ${v}`;
    case Operator.APPROXIMATELY:
      return sql`(${column} >= ${v} * 0.9 AND ${column} <= ${v} * 1.1)`;
    default:
      throw invalid(`Operator ${op} is not valid for number parameters`);
  }
}

/** quantity = [prefix]number|system|code, or number||code (code or unit), or a bare number. */
export function quantityMatch(op: Operator, value: string, parts: string[]): Sql {
  const [num, system, code] = parts;
  if (num === undefined) {
    throw invalid(`Invalid quantity search value: ${value}`);
  }
  const conditions = [numberMatch(op, num, sql`i.value`)];
  if (system) {
    conditions.push(sql`i.system = ${system}`);
  }
  if (code) {
    conditions.push(system ? sql`i.code = ${code}` : sql`(i.code = ${code} OR i.unit = ${code})`);
  }
  return sql`(${conditions.reduce((a, b) => sql`${a} AND ${b}`)})`;
}

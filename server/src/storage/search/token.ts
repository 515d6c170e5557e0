import { Operator } from '@medplum/core';
import type { Sql } from '../../db/sql';
import { sql } from '../../db/sql';
import { normalizeSearchString } from '../indexer';
import { anyOf, invalid, likeEscape, splitEscaped, unescape } from './values';

/** Predicate over an idx_token row alias `i` for one alternative value. */
export function tokenMatch(operator: Operator, value: string): Sql {
  if (operator === Operator.TEXT) {
    return sql`i.display LIKE ${'%' + likeEscape(normalizeSearchString(unescape(value))) + '%'}`;
  }
  if (operator === Operator.OF_TYPE) {
    const [system, code, ident] = splitEscaped(value, '|').map(unescape);
    if (!system || !code || ident === undefined) {
      throw invalid(`:of-type needs system|code|value, got ${value}`);
    }
    return sql`(i.of_type = ${system + '|' + code} AND i.code = ${ident})`;
  }
  const parts = splitEscaped(value, '|').map(unescape);
  if (parts.length === 1) {
    return sql`i.code = ${parts[0]}`;
  }
  if (parts.length !== 2) {
    throw invalid(`Invalid token value: ${value}`);
  }
  const [system, code] = parts as [string, string];
  if (system === '') {
    return sql`(i.system IS NULL AND i.code = ${code})`;
  }
  if (code === '') {
    return sql`i.system = ${system}`;
  }
  return sql`(i.system = ${system} AND i.code = ${code})`;
}

export const TOKEN_OPERATORS = new Set<Operator>([Operator.EQUALS, Operator.NOT, Operator.TEXT, Operator.OF_TYPE]);

export function tokenAlternatives(operator: Operator, values: string[]): Sql {
  return anyOf(values, (v) => tokenMatch(operator === Operator.NOT ? Operator.EQUALS : operator, v));
}

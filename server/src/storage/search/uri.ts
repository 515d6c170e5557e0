import { Operator } from '@medplum/core';
import type { Sql } from '../../db/sql';
import { sql } from '../../db/sql';
import { anyOf, likeEscape, unescape } from './values';

export const URI_OPERATORS = new Set<Operator>([Operator.EQUALS, Operator.ABOVE, Operator.BELOW]);

/** uri: exact match; :below matches URLs under the given one, :above the ones the value is under. */
export function uriAlternatives(operator: Operator, values: string[]): Sql {
  return anyOf(values, (raw) => {
    const v = unescape(raw);
    if (operator === Operator.BELOW) {
      return sql`i.value LIKE ${likeEscape(v) + '%'}`;
    }
    if (operator === Operator.ABOVE) {
      return sql`${v} LIKE replace(replace(replace(i.value, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'`;
    }
    return sql`i.value = ${v}`;
  });
}

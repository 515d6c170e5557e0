import { Operator } from '@medplum/core';
import type { Sql } from '../../db/sql';
import { sql } from '../../db/sql';
import { normalizeSearchString } from '../indexer';
import { anyOf, likeEscape, unescape } from './values';

export const STRING_OPERATORS = new Set<Operator>([Operator.EQUALS, Operator.EXACT, Operator.CONTAINS]);

/**
 * Default string search is a case- and accent-insensitive prefix match on the normalized
 * value (indexed with text_pattern_ops); :exact compares the stored text; :contains is a
 * substring match. `%` and `_` in values are literals.
 */
export function stringAlternatives(operator: Operator, values: string[]): Sql {
  return anyOf(values, (raw) => {
    const v = unescape(raw);
    if (operator === Operator.EXACT) {
      return sql`i.exact = ${v}`;
    }
    const norm = likeEscape(normalizeSearchString(v));
    return operator === Operator.CONTAINS ? sql`i.norm LIKE ${'%' + norm + '%'}` : sql`i.norm LIKE ${norm + '%'}`;
  });
}

import { Operator } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import type { Sql } from '../../db/sql';
import { join, or, raw, sql } from '../../db/sql';
import { getSearchParamByUrl } from '../../fhir/definitions';
import type { CompileScope } from './compile';
import { TABLES } from './compile';
import { dateMatch, numberMatch, quantityMatch, withPrefix } from './ordered';
import { referenceMatch } from './reference';
import { stringAlternatives } from './string';
import { tokenMatch } from './token';
import { uriAlternatives } from './uri';
import { invalid, splitEscaped, unescape } from './values';

/**
 * Composite parameters (e.g. code-value-quantity=http://loinc.org|8480-6$gt140). The indexer
 * writes each component in its own table under the composite's sp id, with `grp` numbering
 * the element the components came from; the components must match within one grp.
 */
export function compositeFilter(
  scope: CompileScope,
  _resourceType: string,
  alias: string,
  param: SearchParameter,
  sp: number,
  values: string[]
): Sql {
  const components = (param.component ?? []).map((c) => {
    const def = c.definition ? getSearchParamByUrl(c.definition) : undefined;
    if (!def?.type) {
      throw invalid(`Composite parameter ${param.code} has an unknown component ${c.definition}`);
    }
    return def.type;
  });
  return or(
    values.map((value) => {
      const parts = splitEscaped(value, '$');
      if (parts.length !== components.length) {
        throw invalid(`${param.code} needs ${components.length} values separated by $, got ${value}`);
      }
      const subqueries = parts.map((part, k) => {
        const type = components[k] as string;
        const table = TABLES[type];
        if (!table) {
          throw invalid(`Composite component type ${type} is not supported`);
        }
        return sql`(SELECT i.grp FROM ${raw(table)} i WHERE i.rid = ${raw(alias)}.rid AND i.sp = ${sp} AND i.grp > 0
          AND ${componentMatch(scope, type, part)}) ${raw(`c${k}`)}`;
      });
      const [first, ...others] = subqueries;
      const joined =
        others.length > 0 ? sql`${first} JOIN ${join(others, ' USING (grp) JOIN ')} USING (grp)` : (first as Sql);
      return sql`EXISTS (SELECT 1 FROM ${joined})`;
    })
  );
}

function componentMatch(scope: CompileScope, type: string, value: string): Sql {
  switch (type) {
    case 'token':
      return tokenMatch(Operator.EQUALS, value);
    case 'string':
      return stringAlternatives(Operator.EQUALS, [value]);
    case 'uri':
      return uriAlternatives(Operator.EQUALS, [value]);
    case 'reference':
      return referenceMatch(scope.ctx.baseUrl, unescape(value));
    case 'date': {
      const { op, value: v } = withPrefix(Operator.EQUALS, value, false);
      return dateMatch(op, v, sql`i.low`, sql`i.high`);
    }
    case 'number': {
      const { op, value: v } = withPrefix(Operator.EQUALS, value, false);
      return numberMatch(op, v, sql`i.value`);
    }
    case 'quantity': {
      const { op, value: v } = withPrefix(Operator.EQUALS, value, false);
      return quantityMatch(op, v, splitEscaped(v, '|').map(unescape));
    }
    default:
      throw invalid(`Composite component type ${type} is not supported`);
  }
}

import { Operator } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import type { Sql } from '../../db/sql';
import { and, join, or, raw, sql } from '../../db/sql';
import { getSearchParamByUrl } from '../../fhir/definitions';
import type { CompileScope } from './compile';
import { existsRow, spId, TABLES } from './compile';
import { dateMatch, numberMatch, quantityMatch, withPrefix } from './ordered';
import { referenceMatch } from './reference';
import { stringAlternatives } from './string';
import { tokenMatch } from './token';
import { uriAlternatives } from './uri';
import { anyOf, invalid, splitEscaped, unescape } from './values';

/**
 * Composite parameters (e.g. code-value-quantity=http://loinc.org|8480-6$gt140). A stored composite
 * has each component in its own table under the composite's sp id, with `grp` numbering the element
 * the components came from, and the components must match within one grp. A derived one
 * (indexer/derived.ts) is answered from other parameters' rows: over the resource itself, each
 * component from its own parameter's rows; over repeating elements, from a stored composite.
 */
export function compositeFilter(
  scope: CompileScope,
  resourceType: string,
  alias: string,
  param: SearchParameter,
  values: string[]
): Sql {
  const kinds = componentKinds(param);
  const terms = compositeTerms(scope, resourceType, param);
  return anyOf(values, (value) => {
    const parts = splitEscaped(value, '$');
    if (parts.length !== kinds.length) {
      throw invalid(`${param.code} needs ${kinds.length} values separated by $, got ${value}`);
    }
    const matches = parts.map((part, k) => componentMatch(scope, kinds[k] as string, part));
    return or(
      terms.map((term) =>
        term.kind === 'grouped'
          ? groupedMatch(alias, term.sp, kinds, matches)
          : and(term.sps.map((sp, k) => existsRow(tableOf(kinds[k] as string), alias, sp, matches[k])))
      )
    );
  });
}

/** `:missing=false`: some element has every component (a stored composite writes only whole groups). */
export function compositePresent(
  scope: CompileScope,
  resourceType: string,
  alias: string,
  param: SearchParameter
): Sql {
  const kinds = componentKinds(param);
  return or(
    compositeTerms(scope, resourceType, param).map((term) =>
      term.kind === 'grouped'
        ? existsRow(tableOf(kinds[0] as string), alias, term.sp, sql`i.grp > 0`)
        : and(term.sps.map((sp, k) => existsRow(tableOf(kinds[k] as string), alias, sp, undefined)))
    )
  );
}

type Term = { kind: 'grouped'; sp: number } | { kind: 'conjunction'; sps: number[] };

function compositeTerms(scope: CompileScope, resourceType: string, param: SearchParameter): Term[] {
  const derivation = scope.ctx.searchParams.derivation(resourceType, param.code);
  if (derivation?.kind !== 'composite') {
    return [{ kind: 'grouped', sp: spId(scope, resourceType, param.code) }];
  }
  return derivation.terms.map((term) =>
    term.kind === 'grouped'
      ? { kind: 'grouped', sp: spId(scope, resourceType, term.code) }
      : { kind: 'conjunction', sps: term.components.map((c) => spId(scope, resourceType, c.code)) }
  );
}

function componentKinds(param: SearchParameter): string[] {
  return (param.component ?? []).map((c) => {
    const def = c.definition ? getSearchParamByUrl(c.definition) : undefined;
    if (!def?.type) {
      throw invalid(`Composite parameter ${param.code} has an unknown component ${c.definition}`);
    }
    return def.type;
  });
}

function tableOf(kind: string): string {
  const table = TABLES[kind];
  if (!table) {
    throw invalid(`Composite component type ${kind} is not supported`);
  }
  return table;
}

/** Every component matching within one element (grp) of a stored composite. */
function groupedMatch(alias: string, sp: number, kinds: readonly string[], matches: readonly Sql[]): Sql {
  const subqueries = matches.map(
    (match, k) => sql`(SELECT i.grp FROM ${raw(tableOf(kinds[k] as string))} i WHERE i.rid = ${raw(alias)}.rid
      AND i.sp = ${sp} AND i.grp > 0 AND ${match}) ${raw(`c${k}`)}`
  );
  const [first, ...others] = subqueries;
  const joined =
    others.length > 0 ? sql`${first} JOIN ${join(others, ' USING (grp) JOIN ')} USING (grp)` : (first as Sql);
  return sql`EXISTS (SELECT 1 FROM ${joined})`;
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

import type { Filter, SearchRequest } from '@medplum/core';
import { Operator, parseSearchRequest } from '@medplum/core';
import { getSearchParams, isResourceType } from './definitions';

type Query = Record<string, string | string[] | undefined>;

/**
 * @medplum/core's search parser, except for composite and special parameters (Location `near`), which it rejects
 * with a plain Error: those are taken out first and added back as filters for Hale's compiler.
 */
export function parseHaleSearch(resourceType: string, query: Query): SearchRequest {
  const params = isResourceType(resourceType) ? getSearchParams(resourceType) : {};
  const rest: Query = {};
  const composite: Filter[] = [];
  for (const [key, value] of Object.entries(query)) {
    const [code, modifier] = key.split(':') as [string, string | undefined];
    const type = params[code]?.type;
    if ((type === 'composite' || type === 'special') && value !== undefined) {
      for (const v of Array.isArray(value) ? value : [value]) {
        composite.push({ code, operator: ownOperator(type, modifier), value: v });
      }
    } else {
      rest[key] = value;
    }
  }
  const req = parseSearchRequest(resourceType, rest);
  if (composite.length > 0) {
    req.filters = [...(req.filters ?? []), ...composite];
  }
  return req;
}

/** A special parameter keeps an unknown modifier, for the compiler to refuse (a composite's is ignored, as it was). */
function ownOperator(type: string, modifier: string | undefined): Operator {
  if (modifier === 'missing') {
    return Operator.MISSING;
  }
  return type === 'special' && modifier ? (modifier as Operator) : Operator.EQUALS;
}

import type { Filter, SearchRequest } from '@medplum/core';
import { Operator, parseSearchRequest } from '@medplum/core';
import { getSearchParams, isResourceType } from './definitions';

type Query = Record<string, string | string[] | undefined>;

/**
 * @medplum/core's search parser, except for composite parameters, which it rejects with a
 * plain Error: those are taken out first and added back as filters for Hale's compiler.
 */
export function parseHaleSearch(resourceType: string, query: Query): SearchRequest {
  const params = isResourceType(resourceType) ? getSearchParams(resourceType) : {};
  const rest: Query = {};
  const composite: Filter[] = [];
  for (const [key, value] of Object.entries(query)) {
    const [code, modifier] = key.split(':') as [string, string | undefined];
    if (params[code]?.type === 'composite' && value !== undefined) {
      for (const v of Array.isArray(value) ? value : [value]) {
        composite.push({ code, operator: modifier === 'missing' ? Operator.MISSING : Operator.EQUALS, value: v });
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

import { OperationOutcomeError, Operator, allOk, badRequest } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import type { HaleRepository } from '../../storage/repository';
import { lastN } from '../../wellness/lastn';
import { parseHaleSearch } from '../search-request';

export const lastnOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Observation-lastn',
  url: 'http://hl7.org/fhir/OperationDefinition/Observation-lastn',
  name: 'LastN',
  title: 'Last N Observations Query',
  status: 'active',
  kind: 'query',
  code: 'lastn',
  affectsState: false,
  description:
    'The most recent `max` Observations (default 1) per code for one patient (`patient` or `subject`), among those ' +
    'matching the other Observation search parameters (`category`, `date`, `status`, …). `code` lists the codes ' +
    '(comma-separated, one group each); without it every code the matches carry is a group. Ties at the last ' +
    'place are all returned. What the caller may not see is left out, exactly as in a search. See docs/wellness.md.',
  resource: ['Observation'],
  system: false,
  type: true,
  instance: false,
  parameter: [
    { name: 'max', use: 'in', min: 0, max: '1', type: 'positiveInt' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
};

/** Most readings per code a $lastn returns (a chart's worth). */
const MAX_MAX = 1000;

/** Search result parameters that mean nothing to a lastn: its shape is fixed. */
const RESULT_PARAMS = ['_sort', '_count', '_offset', '_cursor', '_include', '_revinclude', '_total', '_summary'];

/** GET Observation/$lastn?patient=…&category=…&code=…&max=… (docs/wellness.md). */
export async function lastnHandler(req: FhirRequest, repo: HaleRepository): Promise<FhirResponse> {
  const { max: maxParam, ...query } = req.query;
  const refused = Object.keys(query).find((k) => RESULT_PARAMS.includes(k.split(':')[0] ?? k));
  if (refused) {
    throw invalid(`$lastn does not take ${refused}`);
  }
  const max = maxOf(maxParam);
  const search = parseHaleSearch('Observation', query);
  const filters = search.filters ?? [];
  if (!filters.some((f) => f.code === 'patient' || f.code === 'subject')) {
    throw invalid('$lastn needs patient or subject');
  }
  const codeFilters = filters.filter((f) => f.code === 'code');
  if (codeFilters.length > 1 || codeFilters.some((f) => f.operator !== Operator.EQUALS)) {
    throw invalid('$lastn takes one code parameter (a comma-separated list of codes) without modifiers');
  }
  const codeFilter = codeFilters[0];
  if (!codeFilter && !filters.some((f) => f.code === 'category')) {
    throw invalid('$lastn needs category or code');
  }
  const bundle = await lastN(repo.queryable, repo.ctx, {
    filters: filters.filter((f) => f !== codeFilter),
    codes: codeFilter ? splitList(codeFilter.value) : undefined,
    max,
  });
  bundle.link = [{ relation: 'self', url: `${repo.ctx.baseUrl}/Observation/$lastn${queryString(req.query)}` }];
  return [allOk, bundle];
}

function maxOf(value: string | string[] | undefined): number {
  if (value === undefined) {
    return 1;
  }
  const text = Array.isArray(value) ? value[value.length - 1] : value;
  const n = Number(text);
  if (!/^\d{1,7}$/.test(text ?? '') || n < 1 || n > MAX_MAX) {
    throw invalid(`max must be an integer from 1 to ${MAX_MAX}`);
  }
  return n;
}

/** The values of a comma-separated list (an escaped comma, `\,`, stays in its value). */
export function splitList(value: string): string[] {
  return value.split(/(?<!\\),/).filter((v) => v.length > 0);
}

function queryString(query: FhirRequest['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const v of [value].flat()) {
      if (typeof v === 'string') {
        params.append(key, v);
      }
    }
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function invalid(text: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest(text));
}

import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { FhirRouteHandler, FhirRouter, RestInteraction } from '@medplum/fhir-router';
import type { BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';

/** One bundle entry, parsed: its route, and the identity it resolves to. */
export interface ParsedEntry {
  index: number;
  entry: BundleEntry;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  /** The request URL relative to the FHIR base, without query. */
  path: string;
  query: string;
  interaction: RestInteraction;
  handler: FhirRouteHandler;
  params: Record<string, string>;
  resourceType: string | undefined;
  /** Set during identity resolution: the resource this entry creates, changes or reuses. */
  target?: { type: string; id: string };
  /** A conditional create that matched an existing resource, which is returned instead. */
  existing?: Resource;
  /** A conditional delete that matched nothing: nothing to do. */
  noop?: boolean;
  /** The matches of its ifNoneExist, when looked up with the bundle's others (identifier-matches.ts). */
  prefetched?: Resource[];
  /**
   * Set when `prefetched` was read again under the criteria's advisory lock (lockUnmatched): an empty answer is
   * then final, and singleMatch need not lock and search again.
   */
  criteriaLocked?: boolean;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']);

/** Processing order of FHIR R4 http.html#trules: DELETE, POST, PUT/PATCH, then reads. */
export const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

export class EntryError extends OperationOutcomeError {
  constructor(
    readonly index: number,
    outcome: OperationOutcome
  ) {
    super(outcome);
  }
}

export function entryError(index: number, outcome: OperationOutcome): EntryError {
  return new EntryError(index, {
    ...outcome,
    issue: (outcome.issue ?? []).map((issue) => ({
      ...issue,
      details: { text: `Bundle.entry[${index}]: ${issue.details?.text ?? issue.diagnostics ?? 'failed'}` },
      expression: issue.expression?.length
        ? issue.expression.map((e) =>
            e.startsWith('Bundle.')
              ? e
              : `Bundle.entry[${index}].resource.${e.replace(/^[A-Z][A-Za-z]+\.?/, '')}`.replace(/\.$/, '')
          )
        : [`Bundle.entry[${index}]`],
    })),
  });
}

export function parseEntry(router: FhirRouter, baseUrl: string, entry: BundleEntry, index: number): ParsedEntry {
  const method = entry?.request?.method;
  const url = entry?.request?.url;
  if (!method || !METHODS.has(method)) {
    throw entryError(index, badRequest('request.method is missing or not an HTTP method'));
  }
  if (!url) {
    throw entryError(index, badRequest('request.url is missing'));
  }
  const relative = url.startsWith(baseUrl + '/') ? url.slice(baseUrl.length + 1) : url.replace(/^\//, '');
  const route = router.find(method, relative);
  if (!route?.data) {
    throw entryError(index, badRequest(`No such interaction: ${method} ${url}`));
  }
  const q = relative.indexOf('?');
  const interaction = route.data.interaction;
  if ((interaction === 'create' || interaction === 'update') && !entry.resource) {
    throw entryError(index, badRequest(`${method} needs a resource`));
  }
  if (interaction === 'batch') {
    throw entryError(index, badRequest('Bundles cannot be nested'));
  }
  return {
    index,
    entry,
    method: method,
    path: q >= 0 ? relative.slice(0, q) : relative,
    query: q >= 0 ? relative.slice(q + 1) : '',
    interaction,
    handler: route.handler,
    params: route.params,
    resourceType: route.params.resourceType,
  };
}

import { allOk, created } from '@medplum/core';
import type { BundleEntry } from '@medplum/fhirtypes';
import type { ParsedEntry } from './entries';

/** What a client asked for with `Prefer: return=…` (RFC 7240); anything else keeps the default. */
export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome' | undefined;

export function returnPreference(value: string | undefined): ReturnPreference {
  return value === 'minimal' || value === 'representation' || value === 'OperationOutcome' ? value : undefined;
}

/**
 * Shapes the answer of one write entry (create, update, patch) of a batch or transaction by the
 * request's `Prefer: return=…`, which applies to each entry as it does to a single write: minimal
 * keeps `response` (status, location, etag, lastModified) and drops the resource; OperationOutcome
 * puts an outcome in `response.outcome` instead of the resource. By default the resource is
 * returned, as for a single write. A bulk loader that only needs the locations asks for minimal:
 * for a 300-entry bundle the answer is ~40 KB instead of ~0.5 MB.
 */
export function shapeEntry(answer: BundleEntry, e: ParsedEntry, prefer: ReturnPreference): BundleEntry {
  const isWrite = e.interaction === 'create' || e.interaction === 'update' || e.interaction === 'patch';
  if (!isWrite || !answer.resource || (prefer !== 'minimal' && prefer !== 'OperationOutcome')) {
    return answer;
  }
  const { resource: _resource, response, ...rest } = answer;
  if (prefer === 'minimal' || !response) {
    return { ...rest, response };
  }
  return { ...rest, response: { ...response, outcome: response.status === '201' ? created : allOk } };
}

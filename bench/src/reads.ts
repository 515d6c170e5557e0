/** Read by id: GET [type]/[id] for random resources the transactions created, one request at a time. */
import type { Resource } from '@medplum/fhirtypes';
import { getJson } from './http';
import type { StoredRef } from './ingest';
import { measure, type CheckedLatency } from './measure';
import { pick, warmedUp } from './stats';

const WARM_UP = 20;

export async function readById(
  fhirBase: string,
  created: readonly StoredRef[],
  count: number,
  seed: number
): Promise<CheckedLatency> {
  const refs = warmedUp(pick(created, count, seed), WARM_UP);
  return measure(refs, WARM_UP, async (ref) => {
    const url = `${fhirBase}/${ref.type}/${ref.id}`;
    const { ms, body } = await getJson<Resource>(url);
    const right = body.resourceType === ref.type && body.id === ref.id;
    return { ms, problem: right ? undefined : `GET ${url} returned ${body.resourceType}/${body.id}` };
  });
}

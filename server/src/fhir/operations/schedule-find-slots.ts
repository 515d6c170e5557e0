import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { schedulingContext } from '../../scheduling/caller';
import { findSlots } from '../../scheduling/find-slots';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { invalid } from './parameters';

export const scheduleFindSlotsOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Schedule-find-slots',
  url: `${HALE_FHIR}/OperationDefinition/Schedule-find-slots`,
  name: 'FindSlots',
  title: 'Bookable slots of a schedule',
  status: 'active',
  kind: 'operation',
  code: 'find-slots',
  description:
    'The slots of the schedule a patient can take between start and end (at most 31 days, 1000 slots), in start ' +
    'order: free ones and those whose hold has lapsed (shown free, as the expiry bot will leave them). None for a ' +
    'closed schedule or for slots already started.',
  resource: ['Schedule'],
  system: false,
  type: false,
  instance: true,
  affectsState: false,
  parameter: [
    { name: 'start', use: 'in', min: 1, max: '1', type: 'dateTime' },
    { name: 'end', use: 'in', min: 1, max: '1', type: 'dateTime' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
};

const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** GET Schedule/{id}/$find-slots?start=…&end=… */
export async function scheduleFindSlotsHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const start = single(req.query.start);
  const end = single(req.query.end);
  if (!start || !end) {
    throw invalid("$find-slots needs 'start' and 'end'");
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  return [allOk, await findSlots(ctx, { scheduleId: req.params.id as string, start, end })];
}

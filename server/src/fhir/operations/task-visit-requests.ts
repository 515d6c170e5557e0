import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { schedulingContext } from '../../scheduling/caller';
import { visitRequests } from '../../scheduling/triage';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { invalid } from './parameters';

export const taskVisitRequestsOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Task-visit-requests',
  url: `${HALE_FHIR}/OperationDefinition/Task-visit-requests`,
  name: 'VisitRequests',
  title: 'Visit requests to triage',
  status: 'active',
  kind: 'operation',
  code: 'visit-requests',
  description:
    "A provider's visit requests addressed to them (their Practitioner or any of their active roles), or a " +
    "patient's own: waiting ones, most severe first then oldest first; all=true adds answered ones.",
  resource: ['Task'],
  system: false,
  type: true,
  instance: false,
  affectsState: false,
  parameter: [
    { name: 'all', use: 'in', min: 0, max: '1', type: 'boolean', documentation: 'Include answered requests' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
};

/** GET Task/$visit-requests[?all=true] */
export async function taskVisitRequestsHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const unknown = Object.keys(req.query).filter((k) => k !== 'all');
  const all = req.query.all;
  if (unknown.length > 0 || (all !== undefined && all !== 'true' && all !== 'false')) {
    throw invalid("$visit-requests takes only 'all' (true or false)");
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  return [allOk, await visitRequests(ctx, all === 'true')];
}

import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { unblockWindow } from '../../scheduling/block';
import { schedulingContext } from '../../scheduling/caller';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput } from './parameters';
import { WINDOW_PARAMETERS } from './schedule-block';

export const scheduleUnblockOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Schedule-unblock',
  url: `${HALE_FHIR}/OperationDefinition/Schedule-unblock`,
  name: 'Unblock',
  title: 'Unblock time on a schedule',
  status: 'active',
  kind: 'operation',
  code: 'unblock',
  description:
    'The provider of the schedule gives [start, end) back: slots a $block made busy-unavailable are free again, ' +
    'and booked or held ones lose the mark that would make them unavailable once freed.',
  resource: ['Schedule'],
  system: false,
  type: false,
  instance: true,
  parameter: [...(WINDOW_PARAMETERS ?? []), { name: 'unblocked', use: 'out', min: 1, max: '1', type: 'integer' }],
};

/** POST Schedule/{id}/$unblock */
export async function scheduleUnblockHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(scheduleUnblockOperation, req.body);
  const ctx = await schedulingContext(repo, deps.systemRepository());
  const unblocked = await unblockWindow(ctx, {
    scheduleId: req.params.id as string,
    start: input.one('start', 'dateTime') ?? '',
    end: input.one('end', 'dateTime') ?? '',
  });
  return [allOk, { resourceType: 'Parameters', parameter: [{ name: 'unblocked', valueInteger: unblocked }] }];
}

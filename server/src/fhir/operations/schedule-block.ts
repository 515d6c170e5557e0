import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition, Parameters } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { MAX_BLOCK_DAYS, blockWindow } from '../../scheduling/block';
import { schedulingContext } from '../../scheduling/caller';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput } from './parameters';

/** The window of $block and $unblock. */
export const WINDOW_PARAMETERS: OperationDefinition['parameter'] = [
  { name: 'start', use: 'in', min: 1, max: '1', type: 'dateTime' },
  { name: 'end', use: 'in', min: 1, max: '1', type: 'dateTime', documentation: `At most ${MAX_BLOCK_DAYS} days on` },
];

export const scheduleBlockOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Schedule-block',
  url: `${HALE_FHIR}/OperationDefinition/Schedule-block`,
  name: 'Block',
  title: 'Block time on a schedule',
  status: 'active',
  kind: 'operation',
  code: 'block',
  description:
    'The provider of the schedule takes [start, end) out of their availability: free slots overlapping it become ' +
    'busy-unavailable. Booked and held slots are not cancelled: they are reported as conflicts (with their ' +
    'appointments) and become unavailable once freed. $unblock undoes it.',
  resource: ['Schedule'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    ...(WINDOW_PARAMETERS ?? []),
    { name: 'blocked', use: 'out', min: 1, max: '1', type: 'integer' },
    { name: 'alreadyBlocked', use: 'out', min: 1, max: '1', type: 'integer' },
    {
      name: 'conflict',
      use: 'out',
      min: 0,
      max: '*',
      part: [
        { name: 'slot', use: 'out', min: 1, max: '1', type: 'Slot' },
        { name: 'appointment', use: 'out', min: 0, max: '*', type: 'Appointment' },
      ],
    },
  ],
};

/** POST Schedule/{id}/$block */
export async function scheduleBlockHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(scheduleBlockOperation, req.body);
  const ctx = await schedulingContext(repo, deps.systemRepository());
  const result = await blockWindow(ctx, {
    scheduleId: req.params.id as string,
    start: input.one('start', 'dateTime') ?? '',
    end: input.one('end', 'dateTime') ?? '',
  });
  const out: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'blocked', valueInteger: result.blocked },
      { name: 'alreadyBlocked', valueInteger: result.alreadyBlocked },
      ...result.conflicts.map((c) => ({
        name: 'conflict',
        part: [
          { name: 'slot', resource: c.slot },
          ...c.appointments.map((resource) => ({ name: 'appointment', resource })),
        ],
      })),
    ],
  };
  return [allOk, out];
}

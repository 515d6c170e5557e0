import { created } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { schedulingContext } from '../../scheduling/caller';
import { joinWaitlist } from '../../scheduling/waitlist';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput } from './parameters';

export const scheduleWaitlistOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Schedule-waitlist',
  url: `${HALE_FHIR}/OperationDefinition/Schedule-waitlist`,
  name: 'Waitlist',
  title: 'Join the waitlist of a schedule',
  status: 'active',
  kind: 'operation',
  code: 'waitlist',
  description:
    'The patient joins the waitlist of the schedule for `period` (any time when absent): an Appointment in ' +
    'status waitlist. When a slot in that period is freed, the first waiting patient gets it held for 60 ' +
    'minutes (the entry becomes the proposed appointment of the hold) and a notification. $cancel leaves the waitlist.',
  resource: ['Schedule'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    {
      name: 'patient',
      use: 'in',
      min: 0,
      max: '1',
      type: 'Reference',
      documentation: "Who waits (a patient's own token: themself; required for providers and system clients)",
    },
    { name: 'period', use: 'in', min: 0, max: '1', type: 'Period', documentation: 'The times wanted' },
    { name: 'reason', use: 'in', min: 0, max: '1', type: 'string', documentation: 'Why' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Appointment' },
  ],
};

/** POST Schedule/{id}/$waitlist: 201 with the waitlist Appointment. */
export async function scheduleWaitlistHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(scheduleWaitlistOperation, req.body);
  const ctx = await schedulingContext(repo, deps.systemRepository());
  const entry = await joinWaitlist(ctx, {
    scheduleId: req.params.id as string,
    patient: input.one('patient', 'Reference'),
    period: input.one('period', 'Period'),
    reason: input.one('reason', 'string'),
  });
  return [created, entry];
}

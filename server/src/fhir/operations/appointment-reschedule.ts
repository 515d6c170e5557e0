import { created } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { schedulingContext } from '../../scheduling/caller';
import { requestReschedule } from '../../scheduling/reschedule';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput, invalid } from './parameters';

export const appointmentRescheduleOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Appointment-reschedule',
  url: `${HALE_FHIR}/OperationDefinition/Appointment-reschedule`,
  name: 'Reschedule',
  title: 'Ask to move an appointment',
  status: 'active',
  kind: 'operation',
  code: 'reschedule',
  description:
    'The patient or the provider asks to move a pending or booked appointment to another free slot with the same ' +
    'provider. The new slot is held for `minutes` and a Task (code task-code#change, focus the Appointment, ' +
    'owner the other side) waits for $reschedule-decision; the appointment keeps its time until then.',
  resource: ['Appointment'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'slot', use: 'in', min: 1, max: '1', type: 'Reference', documentation: 'The new Slot (Slot/<id>)' },
    { name: 'reason', use: 'in', min: 0, max: '1', type: 'string', documentation: 'Why' },
    {
      name: 'minutes',
      use: 'in',
      min: 0,
      max: '1',
      type: 'integer',
      documentation: 'How long the new slot is held for an answer: 1 to 10080 (a week), default 1440 (a day)',
    },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Task' },
  ],
};

/** POST Appointment/{id}/$reschedule: 201 with the request Task. */
export async function appointmentRescheduleHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(appointmentRescheduleOperation, req.body);
  const slot = input.one('slot', 'Reference') as { reference: string };
  if (!/^Slot\/[A-Za-z0-9\-.]{1,64}$/.test(slot.reference)) {
    throw invalid("'slot' must be a Slot reference (Slot/<id>)");
  }
  const minutes = input.one('minutes', 'integer') ?? 1440;
  if (minutes < 1 || minutes > 10080) {
    throw invalid("'minutes' must be from 1 to 10080");
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  const task = await requestReschedule(ctx, {
    id: req.params.id as string,
    slot,
    reason: input.one('reason', 'string'),
    minutes,
  });
  return [created, task];
}

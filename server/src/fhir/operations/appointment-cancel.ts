import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { schedulingContext } from '../../scheduling/caller';
import { cancelAppointment } from '../../scheduling/workflow';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput, invalid } from './parameters';

export const appointmentCancelOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Appointment-cancel',
  url: `${HALE_FHIR}/OperationDefinition/Appointment-cancel`,
  name: 'Cancel',
  title: 'Cancel an appointment',
  status: 'active',
  kind: 'operation',
  code: 'cancel',
  description:
    'The patient or the provider cancels a proposed (held), pending, booked or waitlisted appointment, with a ' +
    'reason (cancelationReason). Its slot is freed and offered to the first waiting patient; a waiting ' +
    'reschedule request is withdrawn.',
  resource: ['Appointment'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'reason', use: 'in', min: 1, max: '1', type: 'string', documentation: 'Why (1 to 1000 characters)' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Appointment' },
  ],
};

/** POST Appointment/{id}/$cancel */
export async function appointmentCancelHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(appointmentCancelOperation, req.body);
  const reason = input.one('reason', 'string')?.trim() ?? '';
  if (reason.length > 1000) {
    throw invalid("'reason' must be at most 1000 characters");
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  return [allOk, await cancelAppointment(ctx, { id: req.params.id as string, reason })];
}

import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { schedulingContext } from '../../scheduling/caller';
import { confirmAppointment } from '../../scheduling/workflow';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput } from './parameters';

export const appointmentConfirmOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Appointment-confirm',
  url: `${HALE_FHIR}/OperationDefinition/Appointment-confirm`,
  name: 'Confirm',
  title: 'Confirm a booking',
  status: 'active',
  kind: 'operation',
  code: 'confirm',
  description:
    'The provider of the schedule accepts a pending booking: the Appointment becomes booked and its ' +
    'practitioner participants accepted. Confirming a booked appointment changes nothing.',
  resource: ['Appointment'],
  system: false,
  type: false,
  instance: true,
  parameter: [{ name: 'return', use: 'out', min: 1, max: '1', type: 'Appointment' }],
};

/** POST Appointment/{id}/$confirm */
export async function appointmentConfirmHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  OperationInput.parse(appointmentConfirmOperation, req.body);
  const ctx = await schedulingContext(repo, deps.systemRepository());
  return [allOk, await confirmAppointment(ctx, req.params.id as string)];
}

import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { schedulingContext } from '../../scheduling/caller';
import { noShowAppointment } from '../../scheduling/workflow';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput } from './parameters';

export const appointmentNoShowOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Appointment-no-show',
  url: `${HALE_FHIR}/OperationDefinition/Appointment-no-show`,
  name: 'NoShow',
  title: 'Record a no-show',
  status: 'active',
  kind: 'operation',
  code: 'no-show',
  description:
    'The provider of the schedule records that the patient did not come: a pending or booked Appointment whose ' +
    'start has passed becomes noshow. The slot stays busy.',
  resource: ['Appointment'],
  system: false,
  type: false,
  instance: true,
  parameter: [{ name: 'return', use: 'out', min: 1, max: '1', type: 'Appointment' }],
};

/** POST Appointment/{id}/$no-show */
export async function appointmentNoShowHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  OperationInput.parse(appointmentNoShowOperation, req.body);
  const ctx = await schedulingContext(repo, deps.systemRepository());
  return [allOk, await noShowAppointment(ctx, req.params.id as string)];
}

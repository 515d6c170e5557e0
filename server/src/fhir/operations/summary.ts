import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import type { HaleRepository } from '../../storage/repository';
import { patientSummary } from '../../wellness/summary';

export const summaryOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Patient-summary',
  url: 'https://hale.health/fhir/OperationDefinition/Patient-summary',
  name: 'PatientSummary',
  title: "A patient's dashboard in one request",
  status: 'active',
  kind: 'operation',
  code: 'summary',
  affectsState: false,
  description:
    'The latest reading of each vital and wellness code (a $lastn Bundle), active goals with the latest reading ' +
    'of what they measure and whether it meets the target, active care plans with their phase, open alerts ' +
    '(Flags), upcoming appointments, the number of unread messages, and the sharing categories the caller is ' +
    'given none of (`withheld`). Every part is limited as a search is. See docs/wellness.md.',
  resource: ['Patient'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'vitals', use: 'out', min: 1, max: '1', type: 'Bundle' },
    { name: 'goal', use: 'out', min: 0, max: '*' },
    { name: 'carePlan', use: 'out', min: 0, max: '*' },
    { name: 'alert', use: 'out', min: 0, max: '*', type: 'Flag' },
    { name: 'appointment', use: 'out', min: 0, max: '*', type: 'Appointment' },
    { name: 'unreadMessages', use: 'out', min: 1, max: '1', type: 'integer' },
    { name: 'withheld', use: 'out', min: 0, max: '*', type: 'Coding' },
  ],
};

/** GET Patient/{id}/$summary (docs/wellness.md). */
export async function summaryHandler(req: FhirRequest, repo: HaleRepository): Promise<FhirResponse> {
  const id = req.params.id as string;
  await repo.readResource('Patient', id); // 404/410 for an unknown or hidden patient, as $everything
  return [allOk, await patientSummary(repo, id, new Date())];
}

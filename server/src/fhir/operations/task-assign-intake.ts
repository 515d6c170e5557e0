import { created } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { assignIntake } from '../../intake/intake';
import { schedulingContext } from '../../scheduling/caller';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput, invalid } from './parameters';

export const taskAssignIntakeOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Task-assign-intake',
  url: `${HALE_FHIR}/OperationDefinition/Task-assign-intake`,
  name: 'AssignIntake',
  title: 'Assign a patient a form to fill in',
  status: 'active',
  kind: 'operation',
  code: 'assign-intake',
  description:
    'A provider with an active relationship (a Consent sharing the record) assigns a patient a Questionnaire to ' +
    'fill in, optionally by a due date: an intake Task owned by the patient, who is notified (PHI-free).',
  resource: ['Task'],
  system: false,
  type: true,
  instance: false,
  parameter: [
    { name: 'patient', use: 'in', min: 1, max: '1', type: 'Reference', documentation: 'Patient/<id>' },
    { name: 'questionnaire', use: 'in', min: 1, max: '1', type: 'Reference', documentation: 'Questionnaire/<id>' },
    { name: 'due', use: 'in', min: 0, max: '1', type: 'dateTime', documentation: 'Task.restriction.period.end' },
    { name: 'description', use: 'in', min: 0, max: '1', type: 'string', documentation: 'At most 500 characters' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Task' },
  ],
};

/** POST Task/$assign-intake: 201 with the intake Task. */
export async function taskAssignIntakeHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(taskAssignIntakeOperation, req.body);
  const description = input.one('description', 'string')?.trim();
  if (description && description.length > 500) {
    throw invalid("'description' must be at most 500 characters");
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  const task = await assignIntake(ctx, {
    patient: input.one('patient', 'Reference') ?? {},
    questionnaire: input.one('questionnaire', 'Reference') ?? {},
    due: input.one('due', 'dateTime'),
    description,
  });
  return [created, task];
}

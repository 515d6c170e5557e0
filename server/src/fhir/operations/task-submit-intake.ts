import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { submitIntake } from '../../intake/intake';
import { schedulingContext } from '../../scheduling/caller';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput } from './parameters';

export const taskSubmitIntakeOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Task-submit-intake',
  url: `${HALE_FHIR}/OperationDefinition/Task-submit-intake`,
  name: 'SubmitIntake',
  title: 'Hand in an assigned form',
  status: 'active',
  kind: 'operation',
  code: 'submit-intake',
  description:
    'The patient hands in their completed QuestionnaireResponse for the form an intake Task assigned. It is ' +
    'checked against the Questionnaire (items, required, enableWhen, answer types and options): 422 ' +
    'answers-invalid with one issue per problem, 422 not-assigned for another questionnaire, 409 intake-closed ' +
    'when already handed in. The Task is completed with the response as output; the provider is notified.',
  resource: ['Task'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'response', use: 'in', min: 1, max: '1', type: 'Reference', documentation: 'QuestionnaireResponse/<id>' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Task' },
  ],
};

/** POST Task/{id}/$submit-intake */
export async function taskSubmitIntakeHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const response = OperationInput.parse(taskSubmitIntakeOperation, req.body).one('response', 'Reference') ?? {};
  const ctx = await schedulingContext(repo, deps.systemRepository());
  return [allOk, await submitIntake(ctx, req.params.id as string, response)];
}

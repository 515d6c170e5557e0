import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition, Parameters } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { assertResponse, submitFeedback } from '../../marketplace/feedback';
import { schedulingContext } from '../../scheduling/caller';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { invalid } from './parameters';

export const appointmentSubmitFeedbackOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Appointment-submit-feedback',
  url: `${HALE_FHIR}/OperationDefinition/Appointment-submit-feedback`,
  name: 'SubmitFeedback',
  title: 'Give feedback on a completed visit',
  status: 'active',
  kind: 'operation',
  code: 'submit-feedback',
  description:
    "The visit's patient answers the visit-feedback form (Questionnaire/hale-visit-feedback: score 0-10, " +
    'satisfaction 1-5, comment) once the visit is over (Appointment fulfilled, or its Encounter finished). The ' +
    "response is stored and its score added to the read-only rating of the visit's listings. 422 " +
    'visit-not-completed, not-visit-participant, feedback-invalid or visit-not-listed; 409 feedback-given for a ' +
    'second response to the same visit.',
  resource: ['Appointment'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'response', use: 'in', min: 1, max: '1', type: 'QuestionnaireResponse', documentation: 'The answers' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'QuestionnaireResponse' },
  ],
};

/** POST Appointment/{id}/$submit-feedback */
export async function appointmentSubmitFeedbackHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const body = req.body as Parameters | undefined;
  if (body?.resourceType !== 'Parameters') {
    throw invalid('The body must be a Parameters resource');
  }
  const parts = (body.parameter ?? []).filter((p) => p.name === 'response');
  if (parts.length !== 1) {
    throw invalid("Give exactly one 'response' parameter carrying a QuestionnaireResponse");
  }
  const response = assertResponse(parts[0]?.resource);
  const ctx = await schedulingContext(repo, deps.systemRepository());
  return [allOk, await submitFeedback(ctx, req.params.id as string, response)];
}

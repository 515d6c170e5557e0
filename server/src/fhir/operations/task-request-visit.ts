import { created } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { schedulingContext } from '../../scheduling/caller';
import { DEFAULT_TRIAGE } from '../../scheduling/triage-config';
import { requestVisit } from '../../scheduling/visit-request';
import type { TriageSeverity } from '../../scheduling/vocabulary';
import { TRIAGE_SEVERITIES } from '../../scheduling/vocabulary';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput, invalid } from './parameters';

export const taskRequestVisitOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Task-request-visit',
  url: `${HALE_FHIR}/OperationDefinition/Task-request-visit`,
  name: 'RequestVisit',
  title: 'Ask a provider for a visit',
  status: 'active',
  kind: 'operation',
  code: 'request-visit',
  description:
    'A patient asks a provider listed in the marketplace for a visit, with a reason, a triage severity (given, or ' +
    'from their triage answers; the most severe counts) and preferred times. At or above the configured emergency ' +
    'severity the request is refused (422 emergency-call-services) with the advice to call emergency services. ' +
    'Else a visit-request Task is created for the provider to triage, and the provider is notified (PHI-free).',
  resource: ['Task'],
  system: false,
  type: true,
  instance: false,
  parameter: [
    { name: 'provider', use: 'in', min: 1, max: '1', type: 'Reference', documentation: 'PractitionerRole/<id>' },
    { name: 'reason', use: 'in', min: 1, max: '1', type: 'string', documentation: 'At most 1000 characters' },
    { name: 'severity', use: 'in', min: 0, max: '1', type: 'code', documentation: TRIAGE_SEVERITIES.join(' | ') },
    { name: 'preferred', use: 'in', min: 0, max: '5', type: 'Period', documentation: 'Times that suit the patient' },
    {
      name: 'answers',
      use: 'in',
      min: 0,
      max: '1',
      type: 'Reference',
      documentation: "The patient's completed triage QuestionnaireResponse (copied into the request)",
    },
    { name: 'patient', use: 'in', min: 0, max: '1', type: 'Reference', documentation: 'For system clients only' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Task' },
  ],
};

/** POST Task/$request-visit: 201 with the visit-request Task. */
export async function taskRequestVisitHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(taskRequestVisitOperation, req.body);
  const reason = input.one('reason', 'string')?.trim() ?? '';
  if (reason.length > 1000) {
    throw invalid("'reason' must be at most 1000 characters");
  }
  const severity = input.one('severity', 'code');
  if (severity !== undefined && !(TRIAGE_SEVERITIES as readonly string[]).includes(severity)) {
    throw invalid(`'severity' must be one of ${TRIAGE_SEVERITIES.join(', ')}`);
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  const task = await requestVisit(ctx, deps.triage ?? DEFAULT_TRIAGE, {
    provider: input.one('provider', 'Reference')?.reference ?? '',
    patient: input.one('patient', 'Reference'),
    reason,
    severity: severity as TriageSeverity | undefined,
    preferred: input.all('preferred', 'Period'),
    answers: input.one('answers', 'Reference'),
  });
  return [created, task];
}

import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { schedulingContext } from '../../scheduling/caller';
import { withdrawRequest } from '../../scheduling/triage';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput, invalid } from './parameters';

export const taskWithdrawOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Task-withdraw',
  url: `${HALE_FHIR}/OperationDefinition/Task-withdraw`,
  name: 'Withdraw',
  title: 'Withdraw a visit request',
  status: 'active',
  kind: 'operation',
  code: 'withdraw',
  description:
    'The patient takes back a visit request that still waits for triage (Task cancelled). 409 ' +
    'visit-request-closed once it was answered.',
  resource: ['Task'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'reason', use: 'in', min: 0, max: '1', type: 'string', documentation: 'Why (optional)' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Task' },
  ],
};

/** POST Task/{id}/$withdraw */
export async function taskWithdrawHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const reason = OperationInput.parse(taskWithdrawOperation, req.body).one('reason', 'string')?.trim();
  if (reason && reason.length > 1000) {
    throw invalid("'reason' must be at most 1000 characters");
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  return [allOk, await withdrawRequest(ctx, req.params.id as string, reason)];
}

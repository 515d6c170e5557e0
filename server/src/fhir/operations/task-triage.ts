import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition, Parameters } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { schedulingContext } from '../../scheduling/caller';
import { idOf } from '../../scheduling/store';
import type { TriageDecision } from '../../scheduling/triage';
import { triageRequest } from '../../scheduling/triage';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput, invalid } from './parameters';

export const taskTriageOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Task-triage',
  url: `${HALE_FHIR}/OperationDefinition/Task-triage`,
  name: 'Triage',
  title: 'Answer a visit request',
  status: 'active',
  kind: 'operation',
  code: 'triage',
  description:
    'The provider a visit request is addressed to answers it: accept books `slot` (one of their own) for the ' +
    'patient (Appointment booked, Task completed with the Appointment as output); decline closes it with `reason` ' +
    '(Task rejected); redirect hands it to `provider`, another listed provider, with `reason`. Exactly one of ' +
    'concurrent answers takes effect; the others get 409 visit-request-closed. The patient is notified (PHI-free).',
  resource: ['Task'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'decision', use: 'in', min: 1, max: '1', type: 'code', documentation: 'accept | decline | redirect' },
    { name: 'slot', use: 'in', min: 0, max: '1', type: 'Reference', documentation: 'accept: Slot/<id>' },
    { name: 'reason', use: 'in', min: 0, max: '1', type: 'string', documentation: 'decline, redirect: why' },
    { name: 'provider', use: 'in', min: 0, max: '1', type: 'Reference', documentation: 'redirect: to whom' },
    { name: 'task', use: 'out', min: 1, max: '1', type: 'Task' },
    { name: 'appointment', use: 'out', min: 0, max: '1', type: 'Appointment' },
  ],
};

function decisionOf(input: OperationInput): TriageDecision {
  const decision = input.one('decision', 'code');
  const slot = input.one('slot', 'Reference')?.reference;
  const reason = input.one('reason', 'string')?.trim();
  const to = input.one('provider', 'Reference')?.reference;
  if (reason && reason.length > 1000) {
    throw invalid("'reason' must be at most 1000 characters");
  }
  if (decision === 'accept') {
    if (!slot || !/^Slot\/[A-Za-z0-9\-.]{1,64}$/.test(slot) || to !== undefined) {
      throw invalid("accept takes a 'slot' (Slot/<id>) and no 'provider'");
    }
    return { decision, slotId: idOf(slot) };
  }
  if (decision === 'decline' && reason && slot === undefined && to === undefined) {
    return { decision, reason };
  }
  if (decision === 'redirect' && reason && to && slot === undefined) {
    return { decision, reason, to };
  }
  throw invalid(
    "'decision' must be accept (with 'slot'), decline (with 'reason') or redirect (with 'provider' and 'reason')"
  );
}

/** POST Task/{id}/$triage */
export async function taskTriageHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const decision = decisionOf(OperationInput.parse(taskTriageOperation, req.body));
  const ctx = await schedulingContext(repo, deps.systemRepository());
  const { task, appointment } = await triageRequest(ctx, req.params.id as string, decision);
  const out: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'task', resource: task },
      ...(appointment ? [{ name: 'appointment', resource: appointment }] : []),
    ],
  };
  return [allOk, out];
}

import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { schedulingContext } from '../../scheduling/caller';
import { decideReschedule } from '../../scheduling/reschedule';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput, invalid } from './parameters';

export const appointmentRescheduleDecisionOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Appointment-reschedule-decision',
  url: `${HALE_FHIR}/OperationDefinition/Appointment-reschedule-decision`,
  name: 'RescheduleDecision',
  title: 'Answer a reschedule request',
  status: 'active',
  kind: 'operation',
  code: 'reschedule-decision',
  description:
    "The other side answers the appointment's reschedule request (the provider a patient's, the patient a " +
    "provider's). approve: the appointment moves to the held slot (busy) and the old slot is freed and offered " +
    'to the waitlist; the Task is completed. decline: the held slot is freed; the Task is rejected.',
  resource: ['Appointment'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'decision', use: 'in', min: 1, max: '1', type: 'code', documentation: 'approve | decline' },
    { name: 'reason', use: 'in', min: 0, max: '1', type: 'string', documentation: 'Why (when declining)' },
    { name: 'appointment', use: 'out', min: 1, max: '1', type: 'Appointment' },
    { name: 'task', use: 'out', min: 1, max: '1', type: 'Task' },
  ],
};

/** POST Appointment/{id}/$reschedule-decision */
export async function appointmentRescheduleDecisionHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(appointmentRescheduleDecisionOperation, req.body);
  const decision = input.one('decision', 'code');
  if (decision !== 'approve' && decision !== 'decline') {
    throw invalid("'decision' must be approve or decline");
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  const { appointment, task } = await decideReschedule(ctx, {
    id: req.params.id as string,
    approve: decision === 'approve',
    reason: input.one('reason', 'string'),
  });
  return [
    allOk,
    {
      resourceType: 'Parameters',
      parameter: [
        { name: 'appointment', resource: appointment },
        { name: 'task', resource: task },
      ],
    },
  ];
}

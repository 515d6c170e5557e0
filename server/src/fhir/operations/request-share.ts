import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition, Period, Task, TaskInput } from '@medplum/fhirtypes';
import { DATA_SHARING_REQUEST, HALE_FHIR, TASK_CODE_SYSTEM } from '../../access/consent/vocabulary';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { callerOf, providerOf } from './context';
import { OperationInput, invalid } from './parameters';
import { categories, relationshipType, sharingPeriod } from './share-resources';

export const requestShareOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Patient-request-share',
  url: `${HALE_FHIR}/OperationDefinition/Patient-request-share`,
  name: 'RequestShare',
  title: 'Ask a patient to share data',
  status: 'active',
  kind: 'operation',
  code: 'request-share',
  description:
    'A provider asks the patient for access: creates a Task (code data-sharing-request, status requested, ' +
    "intent proposal) in the patient's record, owned by the patient, with the request as inputs (Task.input.type.text " +
    'is the $share parameter name). The patient answers with $share (parameter `request`) or by updating the Task ' +
    'to rejected. No grant is needed; the requester can read their own requests.',
  resource: ['Patient'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    {
      name: 'category',
      use: 'in',
      min: 0,
      max: '*',
      type: 'code',
      binding: { strength: 'required', valueSet: `${HALE_FHIR}/ValueSet/data-category` },
    },
    {
      name: 'type',
      use: 'in',
      min: 0,
      max: '1',
      type: 'code',
      binding: { strength: 'required', valueSet: `${HALE_FHIR}/ValueSet/relationship-type` },
    },
    { name: 'period', use: 'in', min: 0, max: '1', type: 'Period' },
    { name: 'duration', use: 'in', min: 0, max: '1', type: 'integer', documentation: 'Days' },
    { name: 'reason', use: 'in', min: 0, max: '1', type: 'string' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Task' },
  ],
};

const MAX_REASON = 1000;

/** POST Patient/{id}/$request-share */
export async function requestShareHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const requester = providerOf(callerOf(repo));
  const patientId = req.params.id as string;
  const input = OperationInput.parse(requestShareOperation, req.body);
  const type = input.has('type') ? relationshipType(input.one('type', 'code')) : undefined;
  const period = input.one('period', 'Period');
  const duration = input.one('duration', 'integer');
  sharingPeriod(type, period, duration, Date.now()); // the same checks $share will apply
  const reason = input.one('reason', 'string')?.trim();
  if (reason && reason.length > MAX_REASON) {
    throw invalid(`'reason' is limited to ${MAX_REASON} characters`);
  }
  const inputs: TaskInput[] = [
    ...categories(input.all('category', 'code')).map((code) => ({ type: { text: 'category' }, valueCode: code })),
    ...(type ? [{ type: { text: 'type' }, valueCode: type }] : []),
    ...(period ? [{ type: { text: 'period' }, valuePeriod: period }] : []),
    ...(duration !== undefined ? [{ type: { text: 'duration' }, valueInteger: duration }] : []),
    ...(reason ? [{ type: { text: 'reason' }, valueString: reason }] : []),
  ];
  // The provider cannot write into a record that is not shared with them: the system repository
  // creates the Task, after checking the patient exists (404 otherwise).
  const system = deps.systemRepository();
  await system.readResource('Patient', patientId);
  const now = new Date().toISOString();
  const task = await system.createResource<Task>({
    resourceType: 'Task',
    status: 'requested',
    intent: 'proposal',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: DATA_SHARING_REQUEST }] },
    for: { reference: `Patient/${patientId}` },
    owner: { reference: `Patient/${patientId}` },
    requester: { reference: requester },
    authoredOn: now,
    lastModified: now,
    ...(inputs.length ? { input: inputs } : {}),
  });
  return [allOk, task];
}

/** What a data-sharing request Task asks for; undefined when the Task is not one. */
export function requestedShare(
  task: Task
): { categories: string[]; type?: string; period?: Period; duration?: number; reason?: string } | undefined {
  const isRequest = (task.code?.coding ?? []).some(
    (c) => c.system === TASK_CODE_SYSTEM && c.code === DATA_SHARING_REQUEST
  );
  if (!isRequest) {
    return undefined;
  }
  const named = (name: string): TaskInput[] => (task.input ?? []).filter((i) => i.type.text === name);
  return {
    categories: named('category')
      .map((i) => i.valueCode)
      .filter((c): c is string => c !== undefined),
    type: named('type')[0]?.valueCode,
    period: named('period')[0]?.valuePeriod,
    duration: named('duration')[0]?.valueInteger,
    reason: named('reason')[0]?.valueString,
  };
}

import type { Communication, Patient, Task } from '@medplum/fhirtypes';
import type { MockClient } from '@medplum/mock';
import { botEvent, createPatient, cronEvent, newMedplum } from './lib/test-support';
import { SYSTEM } from './lib/vocabulary';
import { handler } from './sharing-requests';

let medplum: MockClient;
let patient: Patient & { id: string };

beforeEach(async () => {
  medplum = newMedplum();
  patient = await createPatient(medplum);
});

const request = (status: Task['status'] = 'requested'): Task => ({
  resourceType: 'Task',
  status,
  intent: 'order',
  code: { coding: [{ system: SYSTEM.taskCode, code: 'data-sharing-request' }] },
  for: { reference: `Patient/${patient.id}` },
  requester: { reference: 'Practitioner/p1' },
  authoredOn: '2025-03-10T09:00:00Z',
});

test('a new data-sharing request is announced to the patient once, by trigger or by cron', async () => {
  const task = await medplum.createResource(request());
  const first = await handler(medplum, botEvent(task));
  await handler(medplum, botEvent(task));
  await handler(medplum, cronEvent('2025-03-10T10:00:00Z'));
  const sent: Communication[] = await medplum.searchResources('Communication', { _count: 100 });
  expect(sent.map((c) => `Communication/${c.id}`)).toEqual(first.notified);
  expect(sent[0]).toMatchObject({
    status: 'preparation',
    recipient: [{ reference: `Patient/${patient.id}` }],
    about: [{ reference: `Task/${task.id}` }],
    category: [{ coding: [{ code: 'notification' }] }, { coding: [{ code: 'data-sharing-request' }] }],
  });
});

test('answered requests and other Tasks are not announced', async () => {
  const answered = await medplum.createResource(request('completed'));
  const other = await medplum.createResource({ ...request(), code: { text: 'something else' } });
  expect((await handler(medplum, botEvent(answered))).notified).toEqual([]);
  expect((await handler(medplum, botEvent(other))).notified).toEqual([]);
});

import type { Communication, DocumentReference, Patient } from '@medplum/fhirtypes';
import type { MockClient } from '@medplum/mock';
import { bloodPressure, createPatient, cronEvent, newMedplum, vital } from './lib/test-support';
import { handler, isoWeek } from './weekly-summary';

const NOW = '2025-03-10T06:00:00Z';

let medplum: MockClient;
let patient: Patient & { id: string };

beforeEach(async () => {
  medplum = newMedplum();
  patient = await createPatient(medplum);
});

const decode = (doc: DocumentReference): string =>
  Buffer.from(doc.content[0]?.attachment.data ?? '', 'base64').toString('utf8');

test('writes a markdown summary of the week as a DocumentReference and tells the patient, once a week', async () => {
  for (const [day, sys, dia] of [
    [4, 150, 95],
    [6, 140, 90],
    [8, 130, 85],
  ] as const) {
    await medplum.createResource(bloodPressure(patient, `2025-03-0${day}T08:00:00Z`, sys, dia));
  }
  await medplum.createResource(vital(patient, '29463-7', '2025-03-04T07:00:00Z', [82, 'kg']));
  await medplum.createResource(vital(patient, '29463-7', '2025-03-09T07:00:00Z', [81, 'kg']));
  await medplum.createResource(vital(patient, '2339-0', '2025-03-05T07:00:00Z', [6.1, 'mmol/L']));
  await medplum.createResource(vital(patient, '41950-7', '2025-03-05T23:00:00Z', [8000, '/d']));
  await medplum.createResource(vital(patient, '41950-7', '2025-03-06T23:00:00Z', [10000, '/d']));
  await medplum.createResource(vital(patient, '93832-4', '2025-03-06T07:00:00Z', [7.5, 'h']));
  await medplum.createResource(vital(patient, '29463-7', '2025-02-01T07:00:00Z', [95, 'kg'])); // last month
  for (const status of ['completed', 'completed', 'requested', 'cancelled'] as const) {
    await medplum.createResource({
      resourceType: 'Task',
      status,
      intent: 'order',
      for: { reference: `Patient/${patient.id}` },
      authoredOn: '2025-03-05T00:00:00Z',
    });
  }
  await createPatient(medplum, { name: [{ family: 'Quiet' }] }); // nothing to report

  const result = await handler(medplum, cronEvent(NOW));
  expect(result.week).toBe('2025-W11');
  expect(result.documents).toHaveLength(1);
  const [doc] = (await medplum.searchResources('DocumentReference', {})) as DocumentReference[];
  expect(doc).toMatchObject({
    status: 'current',
    subject: { reference: `Patient/${patient.id}` },
    content: [{ attachment: { contentType: 'text/markdown', title: 'weekly-summary-2025-W11.md' } }],
  });
  expect(decode(doc as DocumentReference)).toBe(
    [
      '# Weekly summary',
      '',
      '2025-03-03 to 2025-03-10',
      '',
      '- **Blood pressure:** 3 readings, average 140/90 mmHg (systolic 130–150, diastolic 85–95); trend -5 mmHg systolic a day',
      '- **Glucose:** 1 reading, 6.1 mmol/L',
      '- **Weight:** 2 readings, 82 to 81 kg (lowest 81, highest 82)',
      '- **Steps:** 2 days recorded, 9,000 a day on average (total 18,000)',
      '- **Sleep:** 1 night, 7 h 30 min',
      '- **Tasks:** 2 of 3 completed (67%)',
      '',
    ].join('\n')
  );
  const [note] = (await medplum.searchResources('Communication', {})) as Communication[];
  expect(note).toMatchObject({
    recipient: [{ reference: `Patient/${patient.id}` }],
    about: [{ reference: `DocumentReference/${doc?.id}` }],
    payload: [{ contentString: 'Your weekly summary is ready.' }],
  });

  await handler(medplum, cronEvent('2025-03-12T06:00:00Z'));
  expect(await medplum.searchResources('DocumentReference', {})).toHaveLength(1);
  expect(await medplum.searchResources('Communication', {})).toHaveLength(1);
});

test('isoWeek follows ISO 8601 at year ends', () => {
  expect(isoWeek(new Date('2024-12-30T12:00:00Z'))).toBe('2025-W01');
  expect(isoWeek(new Date('2021-01-03T12:00:00Z'))).toBe('2020-W53');
  expect(isoWeek(new Date('2025-03-10T00:00:00Z'))).toBe('2025-W11');
});

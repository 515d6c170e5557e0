import type { Appointment, Communication, Patient } from '@medplum/fhirtypes';
import type { MockClient } from '@medplum/mock';
import { createPatient, cronEvent, newMedplum } from './lib/test-support';
import { dueReminder, handler } from './reminders';

let medplum: MockClient;
let patient: Patient & { id: string };

beforeEach(async () => {
  medplum = newMedplum();
  patient = await createPatient(medplum);
});

function appointment(start: string, status: Appointment['status'] = 'booked'): Appointment {
  return {
    resourceType: 'Appointment',
    status,
    start,
    end: new Date(Date.parse(start) + 30 * 60_000).toISOString(),
    participant: [
      { status: 'accepted', actor: { reference: `Patient/${patient.id}` } },
      { status: 'accepted', actor: { reference: 'Practitioner/p1' } },
    ],
  };
}

const reminders = async (): Promise<Communication[]> => medplum.searchResources('Communication', { _count: 100 });

describe('appointment reminders', () => {
  test('24 hours and 2 hours before the start, to the patient, each once', async () => {
    const booked = await medplum.createResource(appointment('2025-03-11T09:00:00Z'));
    expect((await handler(medplum, cronEvent('2025-03-10T08:00:00Z'))).queued).toEqual([]);
    expect((await handler(medplum, cronEvent('2025-03-10T09:05:00Z'))).queued).toHaveLength(1);
    expect((await handler(medplum, cronEvent('2025-03-10T12:00:00Z'))).queued).toHaveLength(1); // the same one
    expect(await reminders()).toHaveLength(1);
    await handler(medplum, cronEvent('2025-03-11T07:10:00Z'));
    await handler(medplum, cronEvent('2025-03-11T08:30:00Z'));
    const sent = await reminders();
    expect(sent).toHaveLength(2);
    expect(sent.map((c) => c.payload?.[0]?.contentString).sort()).toEqual([
      'You have an appointment within the next day.',
      'Your appointment starts in about 2 hours.',
    ]);
    expect(sent[0]).toMatchObject({
      status: 'preparation',
      recipient: [{ reference: `Patient/${patient.id}` }],
      about: [{ reference: `Appointment/${booked.id}` }],
      category: [{ coding: [{ code: 'notification' }] }, { coding: [{ code: 'appointment-reminder' }] }],
    });
  });

  test('booked less than 2 hours ahead: only the 2-hour reminder; cancelled or past appointments: none', async () => {
    await medplum.createResource(appointment('2025-03-10T10:00:00Z'));
    await medplum.createResource(appointment('2025-03-10T10:30:00Z', 'cancelled'));
    await medplum.createResource(appointment('2025-03-10T08:30:00Z'));
    await handler(medplum, cronEvent('2025-03-10T09:00:00Z'));
    expect((await reminders()).map((c) => c.payload?.[0]?.contentString)).toEqual([
      'Your appointment starts in about 2 hours.',
    ]);
  });

  test('a rescheduled appointment is reminded of again', async () => {
    const booked = await medplum.createResource(appointment('2025-03-11T09:00:00Z'));
    await handler(medplum, cronEvent('2025-03-10T10:00:00Z'));
    await medplum.updateResource({ ...booked, start: '2025-03-11T11:00:00Z', end: '2025-03-11T11:30:00Z' });
    await handler(medplum, cronEvent('2025-03-10T12:00:00Z'));
    expect(await reminders()).toHaveLength(2);
  });

  test('dueReminder picks the nearest offset that has come', () => {
    const start = Date.parse('2025-03-11T09:00:00Z');
    expect(dueReminder(start, Date.parse('2025-03-10T08:59:00Z'))).toBeUndefined();
    expect(dueReminder(start, Date.parse('2025-03-10T09:00:00Z'))).toBe(24);
    expect(dueReminder(start, Date.parse('2025-03-11T07:00:00Z'))).toBe(2);
    expect(dueReminder(start, start)).toBeUndefined();
  });
});

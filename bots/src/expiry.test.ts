import type {
  Appointment,
  CareTeam,
  Communication,
  Consent,
  Patient,
  Practitioner,
  Slot,
  Task,
} from '@medplum/fhirtypes';
import type { MockClient } from '@medplum/mock';
import { handler } from './expiry';
import { createPatient, cronEvent, newMedplum } from './lib/test-support';
import { EXT, SYSTEM } from './lib/vocabulary';

const NOW = '2025-03-10T12:00:00Z';

let medplum: MockClient;
let patient: Patient & { id: string };
let practitioner: Practitioner & { id: string };

beforeEach(async () => {
  medplum = newMedplum();
  patient = await createPatient(medplum);
  practitioner = await medplum.createResource<Practitioner>({
    resourceType: 'Practitioner',
    telecom: [{ system: 'email', value: 'dr.ruru@example.org' }],
  });
});

const run = (now = NOW) => handler(medplum, cronEvent(now));

async function notes(): Promise<Communication[]> {
  return medplum.searchResources('Communication', { _count: 100 });
}

function recipientsOf(communications: Communication[], about: string): string[] {
  return communications
    .filter((c) => c.about?.some((a) => a.reference === about))
    .map((c) => c.recipient?.[0]?.reference ?? '')
    .sort();
}

function consent(end: string): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    patient: { reference: `Patient/${patient.id}` },
    provision: {
      period: { start: '2025-01-01', end },
      actor: [{ role: { text: 'recipient' }, reference: { reference: `Practitioner/${practitioner.id}` } }],
    },
  };
}

function relationship(type: string, period: CareTeam['period'], encounter?: string): CareTeam {
  return {
    resourceType: 'CareTeam',
    status: 'active',
    category: [{ coding: [{ system: SYSTEM.relationshipType, code: type }] }],
    subject: { reference: `Patient/${patient.id}` },
    period,
    participant: [{ member: { reference: `Practitioner/${practitioner.id}` } }],
    ...(encounter ? { encounter: { reference: encounter } } : {}),
  };
}

describe('consents', () => {
  test('an active Consent past its provision.period.end becomes inactive and both sides are notified', async () => {
    const ended = await medplum.createResource(consent('2025-03-09'));
    const current = await medplum.createResource(consent('2025-03-10'));
    const result = await run();
    expect(result.consents).toEqual([`Consent/${ended.id}`]);
    expect((await medplum.readResource('Consent', ended.id)).status).toBe('inactive');
    expect((await medplum.readResource('Consent', current.id)).status).toBe('active');
    const queued = await notes();
    expect(recipientsOf(queued, `Consent/${ended.id}`)).toEqual(
      [`Patient/${patient.id}`, `Practitioner/${practitioner.id}`].sort()
    );
    expect(queued[0]).toMatchObject({
      status: 'preparation',
      category: [
        { coding: [{ code: 'notification' }] },
        { coding: [{ system: SYSTEM.notificationCategory, code: 'access-ended' }] },
      ],
      payload: [{ contentString: 'A data-sharing permission has ended.' }],
    });
  });

  test('running again changes and queues nothing more', async () => {
    await medplum.createResource(consent('2025-03-01'));
    await run();
    const again = await run();
    expect(again.consents).toEqual([]);
    expect(await notes()).toHaveLength(2);
  });
});

describe('relationships', () => {
  test('a temporary relationship ends at its period.end; a permanent one does not', async () => {
    const temporary = await medplum.createResource(
      relationship('temporary', { start: '2025-01-01', end: '2025-03-01' })
    );
    await medplum.createResource(relationship('permanent', { start: '2024-01-01', end: '2025-03-01' }));
    const result = await run();
    expect(result.relationships).toEqual([`CareTeam/${temporary.id}`]);
    expect((await medplum.readResource('CareTeam', temporary.id)).status).toBe('inactive');
    expect(recipientsOf(await notes(), `CareTeam/${temporary.id}`)).toHaveLength(2);
  });

  test('a one-off relationship ends when its visit is finished, with period.end set to then', async () => {
    const visit = await medplum.createResource({
      resourceType: 'Encounter',
      status: 'in-progress',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    });
    const oneOff = await medplum.createResource(
      relationship('one-off', { start: '2025-03-10' }, `Encounter/${visit.id}`)
    );
    expect((await run()).relationships).toEqual([]);
    await medplum.updateResource({ ...visit, status: 'finished' });
    expect((await run()).relationships).toEqual([`CareTeam/${oneOff.id}`]);
    const ended = await medplum.readResource('CareTeam', oneOff.id);
    expect([ended.status, ended.period?.end]).toEqual(['inactive', new Date(NOW).toISOString()]);
  });
});

describe('data-sharing requests', () => {
  function request(authoredOn: string, end?: string): Task {
    return {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      code: { coding: [{ system: SYSTEM.taskCode, code: 'data-sharing-request' }] },
      for: { reference: `Patient/${patient.id}` },
      requester: { reference: `Practitioner/${practitioner.id}` },
      authoredOn,
      ...(end ? { restriction: { period: { end } } } : {}),
    };
  }

  test('a pending request past restriction.period.end, or 30 days old, is cancelled (expired) and both sides told', async () => {
    const pastEnd = await medplum.createResource(request('2025-03-01T00:00:00Z', '2025-03-08'));
    const old = await medplum.createResource(request('2025-02-01T00:00:00Z'));
    const fresh = await medplum.createResource(request('2025-03-01T00:00:00Z'));
    const result = await run();
    expect([...result.requests].sort()).toEqual([`Task/${pastEnd.id}`, `Task/${old.id}`].sort());
    const cancelled = await medplum.readResource('Task', old.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', statusReason: { coding: [{ code: 'expired' }] } });
    expect((await medplum.readResource('Task', fresh.id)).status).toBe('requested');
    expect(recipientsOf(await notes(), `Task/${old.id}`)).toEqual(
      [`Patient/${patient.id}`, `Practitioner/${practitioner.id}`].sort()
    );
  });

  test('the age limit comes from the DATA_SHARING_REQUEST_DAYS secret', async () => {
    await medplum.createResource(request('2025-03-01T00:00:00Z'));
    const result = await handler(
      medplum,
      cronEvent(NOW, { DATA_SHARING_REQUEST_DAYS: { name: 'x', valueInteger: 7 } })
    );
    expect(result.requests).toHaveLength(1);
  });
});

describe('slot holds', () => {
  async function held(expires: string): Promise<{ slot: Slot; appointment: Appointment }> {
    const slot = await medplum.createResource<Slot>({
      resourceType: 'Slot',
      status: 'busy-tentative',
      schedule: { reference: 'Schedule/s1' },
      start: '2025-03-12T09:00:00Z',
      end: '2025-03-12T09:30:00Z',
      extension: [{ url: EXT.slotHoldExpires, valueDateTime: expires }],
    });
    const appointment = await medplum.createResource<Appointment>({
      resourceType: 'Appointment',
      status: 'pending',
      start: '2025-03-12T09:00:00Z',
      end: '2025-03-12T09:30:00Z',
      slot: [{ reference: `Slot/${slot.id}` }],
      participant: [
        { status: 'tentative', actor: { reference: `Patient/${patient.id}` } },
        { status: 'accepted', actor: { reference: `Practitioner/${practitioner.id}` } },
      ],
    });
    return { slot, appointment };
  }

  test('an expired hold frees the slot, removes the extension, cancels the pending Appointment and tells both', async () => {
    const { slot, appointment } = await held('2025-03-10T11:45:00Z');
    const live = await held('2025-03-10T12:15:00Z');
    const result = await run();
    expect([[...result.slots], [...result.appointments]]).toEqual([
      [`Slot/${slot.id}`],
      [`Appointment/${appointment.id}`],
    ]);
    const freed = await medplum.readResource('Slot', slot.id as string);
    expect([freed.status, freed.extension]).toEqual(['free', undefined]);
    expect((await medplum.readResource('Appointment', appointment.id as string)).status).toBe('cancelled');
    expect((await medplum.readResource('Slot', live.slot.id as string)).status).toBe('busy-tentative');
    const queued = await notes();
    expect(recipientsOf(queued, `Appointment/${appointment.id}`)).toEqual(
      [`Patient/${patient.id}`, `Practitioner/${practitioner.id}`].sort()
    );
    expect(queued[0]?.category?.[1]?.coding?.[0]?.code).toBe('slot-hold-expired');
    await run();
    expect(await notes()).toHaveLength(2);
  });
});

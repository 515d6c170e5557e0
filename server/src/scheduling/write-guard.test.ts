import type { Appointment, Bundle, OperationOutcome, Schedule, Slot, Task } from '@medplum/fhirtypes';
import { sharingConsent } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import type { Person } from './test-fixtures';
import { as, book, daysFromNow, generate, params, patient, provider, schedule, slotsOf } from './test-fixtures';

let s: TestServer;
let dr: Person;
let other: Person;
let alice: Person;
let slots: (Slot & { id: string })[];
let next = 0;
const freeSlot = (): Slot & { id: string } => slots[next++] as Slot & { id: string };

beforeAll(async () => {
  s = await startTestServer();
  dr = await provider(s, 'Guard');
  other = await provider(s, 'Other');
  alice = await patient(s, 'Alice');
  const sched = await schedule(s, dr);
  await generate(s, dr.token, sched.id, { start: daysFromNow(2), end: daysFromNow(9) });
  slots = await slotsOf(s, sched.id);
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

const JSON_PATCH = { 'content-type': 'application/json-patch+json' };
const reason = (body: unknown): string => (body as OperationOutcome).issue?.[0]?.details?.text ?? '';

async function alicesBooking(): Promise<Appointment & { id: string }> {
  const res = await book(s, alice.token, freeSlot().id);
  expect(res.status).toBe(201);
  return res.body as Appointment & { id: string };
}

describe('a patient writes an Appointment only through the operations', () => {
  it('refuses a PUT that books their pending appointment around $confirm', async () => {
    const appt = await alicesBooking();
    const res = await s.put(`Appointment/${appt.id}`, { ...appt, status: 'booked' }, as(alice.token));
    expect(res.status).toBe(403);
    expect(reason(res.body)).toMatch(/scheduling operations/);
    expect((await s.get<Appointment>(`Appointment/${appt.id}`)).body.status).toBe('pending');
  });

  it('refuses a JSON Patch of the participants, and a conditional update', async () => {
    const appt = await alicesBooking();
    const patch = [{ op: 'replace', path: '/participant/1/status', value: 'accepted' }];
    const patched = await s.request('PATCH', `Appointment/${appt.id}`, patch, { ...as(alice.token), ...JSON_PATCH });
    expect(patched.status).toBe(403);
    const conditional = await s.put(`Appointment?_id=${appt.id}`, { ...appt, status: 'booked' }, as(alice.token));
    expect(conditional.status).toBe(403);
    expect((await s.get<Appointment>(`Appointment/${appt.id}`)).body).toMatchObject({
      status: 'pending',
      meta: { versionId: appt.meta?.versionId },
    });
  });

  it('refuses a create (no slot lock) and a delete (the slot would stay busy)', async () => {
    const appt = await alicesBooking();
    const { id: _id, meta: _meta, ...copy } = appt;
    expect((await s.post('Appointment', copy, as(alice.token))).status).toBe(403);
    expect((await s.del(`Appointment/${appt.id}`, as(alice.token))).status).toBe(403);
    expect((await s.get<Appointment>(`Appointment/${appt.id}`)).status).toBe(200);
  });

  it('refuses the write as a transaction entry (rolling back the whole bundle) and as a batch entry', async () => {
    const appt = await alicesBooking();
    const entries = [
      {
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'note' },
          subject: { reference: alice.ref },
        },
        request: { method: 'POST', url: 'Observation' },
      },
      { resource: { ...appt, status: 'booked' }, request: { method: 'PUT', url: `Appointment/${appt.id}` } },
    ];
    const tx = await s.post('', { resourceType: 'Bundle', type: 'transaction', entry: entries }, as(alice.token));
    expect(tx.status).toBe(403);
    const batch = await s.post<Bundle>('', { resourceType: 'Bundle', type: 'batch', entry: entries }, as(alice.token));
    expect(batch.status).toBe(200);
    expect(batch.body.entry?.map((e) => e.response?.status.slice(0, 3))).toEqual(['201', '403']);
    expect((await s.get<Appointment>(`Appointment/${appt.id}`)).body.status).toBe('pending');
  });

  it('still runs the operations for the patient: $cancel frees the slot', async () => {
    const appt = await alicesBooking();
    const res = await s.post<Appointment>(
      `Appointment/${appt.id}/$cancel`,
      params([{ name: 'reason', valueString: 'Cannot come' }]),
      as(alice.token)
    );
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
  });

  it('refuses a hand-made reschedule request Task', async () => {
    const appt = await alicesBooking();
    const task: Task = {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'change' }] },
      focus: { reference: `Appointment/${appt.id}` },
      for: { reference: alice.ref },
    };
    expect((await s.post('Task', task, as(alice.token))).status).toBe(403);
  });

  it('leaves a provider with a write grant to the operations too, and a system client free', async () => {
    const appt = await alicesBooking();
    await s.create(sharingConsent({ patient: alice.id, actor: { reference: dr.ref }, actions: ['access', 'correct'] }));
    const res = await s.put(`Appointment/${appt.id}`, { ...appt, status: 'booked' }, as(dr.token));
    expect(res.status).toBe(403);
    const system = await s.put<Appointment>(`Appointment/${appt.id}`, { ...appt, comment: 'front desk note' });
    expect(system.status).toBe(200);
  });
});

describe('a provider writes their own Schedule, not another provider’s', () => {
  const mine = (): Schedule => ({ resourceType: 'Schedule', active: true, actor: [{ reference: dr.ref }] });

  it('creates, updates and deletes a Schedule that names them', async () => {
    const created = await s.post<Schedule & { id: string }>('Schedule', mine(), as(dr.token));
    expect(created.status).toBe(201);
    const closed = await s.put<Schedule>(
      `Schedule/${created.body.id}`,
      { ...created.body, active: false },
      as(dr.token)
    );
    expect(closed.status).toBe(200);
    expect(closed.body.active).toBe(false);
    expect((await s.del(`Schedule/${created.body.id}`, as(dr.token))).status).toBe(200);
  });

  it('refuses a Schedule naming another provider, and handing their own to one', async () => {
    const theirs = { resourceType: 'Schedule', active: true, actor: [{ reference: other.ref }] };
    expect((await s.post('Schedule', theirs, as(dr.token))).status).toBe(403);
    const shared = { ...mine(), actor: [{ reference: dr.ref }, { reference: other.ref }] };
    expect((await s.post('Schedule', shared, as(dr.token))).status).toBe(403);
    const own = await s.post<Schedule & { id: string }>('Schedule', mine(), as(dr.token));
    const handed = await s.put(
      `Schedule/${own.body.id}`,
      { ...own.body, actor: [{ reference: other.ref }] },
      as(dr.token)
    );
    expect(handed.status).toBe(403);
  });

  it('refuses changing another provider’s Schedule (update, patch, delete)', async () => {
    const theirs = await schedule(s, other);
    const put = await s.put(`Schedule/${theirs.id}`, { ...theirs, actor: [{ reference: dr.ref }] }, as(dr.token));
    expect(put.status).toBe(403);
    const patch = [{ op: 'replace', path: '/active', value: false }];
    expect((await s.request('PATCH', `Schedule/${theirs.id}`, patch, { ...as(dr.token), ...JSON_PATCH })).status).toBe(
      403
    );
    expect((await s.del(`Schedule/${theirs.id}`, as(dr.token))).status).toBe(403);
    expect((await s.get<Schedule>(`Schedule/${theirs.id}`)).body.active).toBe(true);
  });

  it('counts an active PractitionerRole of theirs as them', async () => {
    const role = await s.create({
      resourceType: 'PractitionerRole',
      active: true,
      practitioner: { reference: dr.ref },
    });
    const res = await s.post(
      'Schedule',
      { ...mine(), actor: [{ reference: `PractitionerRole/${role.id}` }] },
      as(dr.token)
    );
    expect(res.status).toBe(201);
  });

  it('refuses a patient writing a provider’s Schedule', async () => {
    expect((await s.post('Schedule', mine(), as(alice.token))).status).toBe(403);
  });
});

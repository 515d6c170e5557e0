import type { Appointment, Bundle, Communication, Parameters, Slot, Task } from '@medplum/fhirtypes';
import { sharingConsent } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import type { Person } from './test-fixtures';
import { as, book, daysFromNow, generate, params, patient, provider, ruleOf, schedule, slotsOf } from './test-fixtures';
import { NOTIFICATION_CATEGORY_SYSTEM, SLOT_OFFERED } from './vocabulary';

let s: TestServer;
let dr: Person;
let alice: Person;
let bob: Person;
let scheduleId: string;
let slots: (Slot & { id: string })[];
let next = 0;
const freeSlot = (): Slot & { id: string } => slots[next++] as Slot & { id: string };

beforeAll(async () => {
  s = await startTestServer();
  dr = await provider(s, 'Flow');
  alice = await patient(s, 'Alice');
  bob = await patient(s, 'Bob');
  scheduleId = (await schedule(s, dr)).id;
  await generate(s, dr.token, scheduleId, { start: daysFromNow(2), end: daysFromNow(12) });
  slots = await slotsOf(s, scheduleId);
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

const step = (token: string, id: string, op: string, body = params([])) =>
  s.post<Appointment>(`Appointment/${id}/$${op}`, body, as(token));
const cancel = (token: string, id: string, reason = 'Cannot come') =>
  step(token, id, 'cancel', params([{ name: 'reason', valueString: reason }]));
const slotStatus = async (id: string): Promise<string> => (await s.get<Slot>(`Slot/${id}`)).body.status;

async function booked(
  who: Person = alice
): Promise<{ appt: Appointment & { id: string }; slot: Slot & { id: string } }> {
  const slot = freeSlot();
  const res = await book(s, who.token, slot.id);
  expect(res.status).toBe(201);
  return { appt: res.body as Appointment & { id: string }, slot };
}

/** An appointment whose time has passed (booking refuses past slots, so it is stored directly). */
async function pastAppointment(status: Appointment['status']): Promise<Appointment & { id: string }> {
  const start = new Date(Date.now() - 7_200_000).toISOString();
  const end = new Date(Date.now() - 5_400_000).toISOString();
  const slot = await s.create<Slot>({
    resourceType: 'Slot',
    schedule: { reference: `Schedule/${scheduleId}` },
    status: 'busy',
    start,
    end,
  });
  return s.create<Appointment>({
    resourceType: 'Appointment',
    status,
    start,
    end,
    slot: [{ reference: `Slot/${slot.id}` }],
    supportingInformation: [{ reference: `Schedule/${scheduleId}` }],
    participant: [
      { actor: { reference: alice.ref }, status: 'accepted' },
      { actor: { reference: dr.ref }, status: 'accepted' },
    ],
  });
}

describe('confirm', () => {
  test('the provider confirms a pending booking (→ booked); the patient may not', async () => {
    const { appt } = await booked();
    expect((await step(alice.token, appt.id, 'confirm')).status).toBe(403);
    const res = await step(dr.token, appt.id, 'confirm');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('booked');
    expect(res.body.participant.find((p) => p.actor?.reference === dr.ref)?.status).toBe('accepted');
  });

  test('another provider gets 404 (the appointment is not theirs to know of)', async () => {
    const { appt } = await booked();
    const other = await provider(s, 'Stranger');
    expect((await step(other.token, appt.id, 'confirm')).status).toBe(404);
  });
});

describe('cancel', () => {
  test('the patient cancels with a reason; the slot is free again and bookable by someone else', async () => {
    const { appt, slot } = await booked();
    const res = await cancel(alice.token, appt.id, 'Feeling better');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    expect(res.body.cancelationReason?.text).toBe('Feeling better');
    expect(await slotStatus(slot.id)).toBe('free');
    expect((await book(s, bob.token, slot.id)).status).toBe(201);
  });

  test('the provider may cancel too; a reason is required', async () => {
    const { appt } = await booked();
    expect((await step(dr.token, appt.id, 'cancel')).status).toBe(400);
    expect((await cancel(dr.token, appt.id, 'Clinic closed')).status).toBe(200);
  });

  test('cancelling a completed or cancelled appointment answers 409 appointment-transition', async () => {
    const done = await pastAppointment('fulfilled');
    const res = await cancel(alice.token, done.id);
    expect([res.status, ruleOf(res.body)]).toEqual([409, 'appointment-transition']);
    const { appt } = await booked();
    expect((await cancel(alice.token, appt.id)).status).toBe(200);
    expect(ruleOf((await cancel(alice.token, appt.id)).body)).toBe('appointment-transition');
  });

  test('a patient cannot cancel someone else’s appointment', async () => {
    const { appt } = await booked(alice);
    expect((await cancel(bob.token, appt.id)).status).toBe(404);
  });
});

describe('no-show', () => {
  test('is refused before the start (422 no-show-before-start) and recorded after it', async () => {
    const { appt } = await booked();
    const early = await step(dr.token, appt.id, 'no-show');
    expect([early.status, ruleOf(early.body)]).toEqual([422, 'no-show-before-start']);
    const past = await pastAppointment('booked');
    const res = await step(dr.token, past.id, 'no-show');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('noshow');
    expect((await step(alice.token, past.id, 'no-show')).status).toBe(403);
  });
});

describe('reschedule', () => {
  const ask = (token: string, id: string, slotId: string) =>
    s.post<Task>(
      `Appointment/${id}/$reschedule`,
      params([
        { name: 'slot', valueReference: { reference: `Slot/${slotId}` } },
        { name: 'reason', valueString: 'Work trip' },
      ]),
      as(token)
    );
  const decide = (token: string, id: string, decision: string) =>
    s.post<Parameters>(
      `Appointment/${id}/$reschedule-decision`,
      params([{ name: 'decision', valueCode: decision }]),
      as(token)
    );

  test('patient asks, provider approves: the new slot is held, then booked; the old one is freed', async () => {
    const { appt, slot: old } = await booked();
    const target = freeSlot();
    const req = await ask(alice.token, appt.id, target.id);
    expect(req.status).toBe(201);
    expect(req.body).toMatchObject({ status: 'requested', focus: { reference: `Appointment/${appt.id}` } });
    expect(req.body.owner?.reference).toBe(dr.ref);
    expect(await slotStatus(target.id)).toBe('busy-tentative');
    expect((await book(s, bob.token, target.id)).status).toBe(409);
    // A second request waits for the first.
    expect(ruleOf((await ask(alice.token, appt.id, freeSlot().id)).body)).toBe('reschedule-pending');
    // The requester does not answer their own request.
    expect((await decide(alice.token, appt.id, 'approve')).status).toBe(403);

    const res = await decide(dr.token, appt.id, 'approve');
    expect(res.status).toBe(200);
    const moved = res.body.parameter?.find((p) => p.name === 'appointment')?.resource as Appointment;
    expect(moved.slot).toEqual([{ reference: `Slot/${target.id}` }]);
    expect(moved.start).toBe(target.start);
    expect((res.body.parameter?.find((p) => p.name === 'task')?.resource as Task).status).toBe('completed');
    expect([await slotStatus(target.id), await slotStatus(old.id)]).toEqual(['busy', 'free']);
  });

  test('declining frees the held slot and keeps the appointment where it was', async () => {
    const { appt, slot: old } = await booked();
    const target = freeSlot();
    expect((await ask(dr.token, appt.id, target.id)).status).toBe(201);
    const res = await decide(alice.token, appt.id, 'decline');
    expect(res.status).toBe(200);
    expect((res.body.parameter?.find((p) => p.name === 'task')?.resource as Task).status).toBe('rejected');
    expect([await slotStatus(target.id), await slotStatus(old.id)]).toEqual(['free', 'busy']);
    expect(ruleOf((await decide(alice.token, appt.id, 'approve')).body)).toBe('no-reschedule-request');
  });

  test('a busy target slot answers 409 slot-not-free; a cancelled appointment cannot be rescheduled', async () => {
    const { appt } = await booked();
    const { slot: taken } = await booked(bob);
    expect(ruleOf((await ask(alice.token, appt.id, taken.id)).body)).toBe('slot-not-free');
    await cancel(alice.token, appt.id);
    expect(ruleOf((await ask(alice.token, appt.id, freeSlot().id)).body)).toBe('appointment-transition');
  });
});

describe('waitlist', () => {
  const join = (who: Person, period?: { start: string; end: string }) =>
    s.post<Appointment>(
      `Schedule/${scheduleId}/$waitlist`,
      params(period ? [{ name: 'period', valuePeriod: period }] : []),
      as(who.token)
    );

  test('a freed slot is offered to the first waiting patient: a hold for them and a notification', async () => {
    const carol = await patient(s, 'Carol');
    const dave = await patient(s, 'Dave');
    const first = await join(carol);
    expect(first.status).toBe(201);
    expect(first.body.status).toBe('waitlist');
    expect(ruleOf((await join(carol)).body)).toBe('already-waiting');
    expect((await join(dave)).status).toBe(201);

    const { appt, slot } = await booked(bob);
    expect((await cancel(bob.token, appt.id)).status).toBe(200);
    expect(await slotStatus(slot.id)).toBe('busy-tentative');
    const offered = (await s.get<Appointment>(`Appointment/${first.body.id}`)).body;
    expect(offered.status).toBe('proposed');
    expect(offered.slot).toEqual([{ reference: `Slot/${slot.id}` }]);
    const notes = await s.search(`Communication?recipient=${carol.ref}&status=preparation`);
    const note = notes.entry?.[0]?.resource as Communication;
    expect(note.about).toEqual([{ reference: `Appointment/${first.body.id}` }]);
    expect(note.category?.[1]?.coding?.[0]).toEqual({ system: NOTIFICATION_CATEGORY_SYSTEM, code: SLOT_OFFERED });
    expect(JSON.stringify(note.payload)).not.toMatch(/Flow|Bob/); // PHI-free

    // Dave still waits; Bob cannot take the slot back; Carol books it.
    expect((await book(s, bob.token, slot.id)).status).toBe(409);
    const mine = await book(s, carol.token, slot.id);
    expect(mine.status).toBe(200);
    expect((mine.body as Appointment).id).toBe(first.body.id);
    expect((await s.get<Bundle>(`Appointment?status=waitlist&patient=${dave.ref}`)).body.entry).toHaveLength(1);
  });

  test('an entry for a period is offered only a slot inside it', async () => {
    const erin = await patient(s, 'Erin');
    const { appt, slot } = await booked(bob);
    const far = { start: `${daysFromNow(60)}T00:00:00Z`, end: `${daysFromNow(61)}T00:00:00Z` };
    const entry = await join(erin, far);
    expect(entry.status).toBe(201);
    // Anyone waiting without a period (Dave, from the last test) goes first: cancel his entry.
    for (const e of (await s.search(`Appointment?status=waitlist&supporting-info=Schedule/${scheduleId}`)).entry ??
      []) {
      if (e.resource?.id !== entry.body.id) {
        expect((await cancel(s.systemToken, e.resource?.id as string)).status).toBe(200);
      }
    }
    await cancel(bob.token, appt.id);
    expect(await slotStatus(slot.id)).toBe('free');
    expect((await s.get<Appointment>(`Appointment/${entry.body.id}`)).body.status).toBe('waitlist');
  });
});

describe('waitlist promotion under concurrency', () => {
  test('slots freed at once go to distinct waiting patients, one offer each, in order of joining', async () => {
    const own = (await schedule(s, dr)).id;
    await generate(s, dr.token, own, { start: daysFromNow(3), end: daysFromNow(5) });
    const mine = (await slotsOf(s, own)).slice(0, 6);
    const bookings = await Promise.all(
      mine.map(async (slot) => (await book(s, bob.token, slot.id)).body as Appointment & { id: string })
    );
    const waiters: Person[] = [];
    for (let i = 0; i < 4; i++) {
      const w = await patient(s, `Waiter${i}`);
      const res = await s.post(`Schedule/${own}/$waitlist`, params([]), as(w.token));
      expect(res.status).toBe(201);
      waiters.push(w);
    }
    const results = await Promise.all(bookings.map((b) => cancel(bob.token, b.id)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const offers = await s.search(`Appointment?supporting-info=Schedule/${own}&status=proposed&_count=100`);
    const offered = (offers.entry ?? []).map((e) => (e.resource as Appointment).participant[0]?.actor?.reference);
    expect(offered.sort()).toEqual(waiters.map((w) => w.ref).sort());
    const statuses = await Promise.all(mine.map((slot) => slotStatus(slot.id)));
    expect(statuses.filter((x) => x === 'busy-tentative')).toHaveLength(4);
    expect(statuses.filter((x) => x === 'free')).toHaveLength(2);
  }, 60_000);
});

describe('access to appointments follows Consent', () => {
  test('the provider sees the appointment only once the patient shares; booking for a patient needs a write grant', async () => {
    const zoe = await patient(s, 'Zoe');
    const { appt } = await booked(zoe);
    expect((await s.get(`Appointment/${appt.id}`, as(dr.token))).status).toBe(404);
    await s.create(sharingConsent({ patient: zoe.id, actor: { reference: dr.ref } }));
    expect((await s.get(`Appointment/${appt.id}`, as(dr.token))).status).toBe(200);
    // A read-only share does not let the provider write in Zoe's record.
    const res = await book(s, dr.token, freeSlot().id, [{ name: 'patient', valueReference: { reference: zoe.ref } }]);
    expect(res.status).toBe(403);
  });
});

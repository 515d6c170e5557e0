import type { Appointment, Bundle, Parameters, Slot } from '@medplum/fhirtypes';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import type { Person } from './test-fixtures';
import { as, book, daysFromNow, generate, params, patient, provider, ruleOf, schedule, slotsOf } from './test-fixtures';
import { HOLD_EXPIRES_EXT } from './vocabulary';

let s: TestServer;
let dr: Person;
let alice: Person;
let bob: Person;
let slots: (Slot & { id: string })[];
let next = 0;
/** A fresh free slot for each test. */
const freeSlot = (): Slot & { id: string } => slots[next++] as Slot & { id: string };

beforeAll(async () => {
  s = await startTestServer();
  dr = await provider(s, 'Booker');
  alice = await patient(s, 'Alice');
  bob = await patient(s, 'Bob');
  const sched = await schedule(s, dr);
  // Two weeks of 15-minute slots, 08:00-18:00: enough for every test, the 100-slot race included.
  await generate(s, dr.token, sched.id, { start: daysFromNow(2), end: daysFromNow(15), slotMinutes: 15 }, [
    {
      name: 'availability',
      part: [
        ...['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => ({ name: 'day', valueCode: d })),
        { name: 'start', valueTime: '08:00' },
        { name: 'end', valueTime: '18:00' },
      ],
    },
  ]);
  slots = await slotsOf(s, sched.id);
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

const hold = (token: string, slotId: string, minutes?: number) =>
  s.post<Parameters>(
    `Slot/${slotId}/$hold`,
    params(minutes ? [{ name: 'minutes', valueInteger: minutes }] : []),
    as(token)
  );

const slotNow = async (id: string): Promise<Slot> => (await s.get<Slot>(`Slot/${id}`)).body;

describe('$book', () => {
  test('a patient books a free slot: a pending Appointment with both participants, the slot busy', async () => {
    const slot = freeSlot();
    const res = await book(s, alice.token, slot.id, [{ name: 'reason', valueString: 'Check-up' }]);
    expect(res.status).toBe(201);
    const appt = res.body as Appointment;
    expect(appt.status).toBe('pending');
    expect(appt.slot).toEqual([{ reference: `Slot/${slot.id}` }]);
    expect([appt.start, appt.end]).toEqual([slot.start, slot.end]);
    expect(appt.reasonCode?.[0]?.text).toBe('Check-up');
    expect(appt.participant.map((p) => [p.actor?.reference, p.status])).toEqual([
      [alice.ref, 'accepted'],
      [dr.ref, 'needs-action'],
    ]);
    expect((await slotNow(slot.id)).status).toBe('busy');
    // The Appointment is in Alice's compartment: hers to read, not Bob's nor (without a Consent) the provider's.
    expect((await s.get(`Appointment/${appt.id}`, as(alice.token))).status).toBe(200);
    expect((await s.get(`Appointment/${appt.id}`, as(bob.token))).status).toBe(404);
    expect((await s.get(`Appointment/${appt.id}`, as(dr.token))).status).toBe(404);
  });

  test('a patient books only for themself', async () => {
    const res = await book(s, alice.token, freeSlot().id, [
      { name: 'patient', valueReference: { reference: bob.ref } },
    ]);
    expect(res.status).toBe(403);
  });

  test('a busy slot answers 409 slot-not-free', async () => {
    const slot = freeSlot();
    expect((await book(s, alice.token, slot.id)).status).toBe(201);
    const res = await book(s, bob.token, slot.id);
    expect(res.status).toBe(409);
    expect(ruleOf(res.body)).toBe('slot-not-free');
  });

  test('a slot in the past answers 422 slot-in-past', async () => {
    const sched = await schedule(s, dr);
    const past = await s.create<Slot>({
      resourceType: 'Slot',
      schedule: { reference: `Schedule/${sched.id}` },
      status: 'free',
      start: new Date(Date.now() - 3_600_000).toISOString(),
      end: new Date(Date.now() - 1_800_000).toISOString(),
    });
    const res = await book(s, alice.token, past.id);
    expect(res.status).toBe(422);
    expect(ruleOf(res.body)).toBe('slot-in-past');
  });

  test('a slot of a schedule the provider closed answers 422 schedule-closed', async () => {
    const sched = await schedule(s, dr);
    await generate(s, dr.token, sched.id, { start: daysFromNow(3), end: daysFromNow(9) });
    const [slot] = await slotsOf(s, sched.id);
    expect((await s.put(`Schedule/${sched.id}`, { ...sched, active: false })).status).toBe(200);
    for (const res of [await book(s, alice.token, slot?.id as string), await hold(alice.token, slot?.id as string)]) {
      expect(res.status).toBe(422);
      expect(ruleOf(res.body)).toBe('schedule-closed');
    }
  });

  test('an unknown slot answers 404, a malformed body 400', async () => {
    expect((await book(s, alice.token, 'nope')).status).toBe(404);
    expect((await s.post('Appointment/$book', params([]), as(alice.token))).status).toBe(400);
    expect(
      (
        await s.post(
          'Appointment/$book',
          params([{ name: 'slot', valueReference: { reference: 'Patient/x' } }]),
          as(alice.token)
        )
      ).status
    ).toBe(400);
  });
});

describe('$hold', () => {
  test('holds a slot for N minutes; others cannot hold or book it; the holder books it', async () => {
    const slot = freeSlot();
    const res = await hold(alice.token, slot.id, 5);
    expect(res.status).toBe(200);
    const held = res.body.parameter?.find((p) => p.name === 'slot')?.resource as Slot;
    const expires = held.extension?.find((e) => e.url === HOLD_EXPIRES_EXT)?.valueDateTime as string;
    expect(held.status).toBe('busy-tentative');
    expect(Date.parse(expires) - Date.now()).toBeGreaterThan(4 * 60_000);
    expect(Date.parse(expires) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    // The public Slot says nothing of who holds it.
    expect(JSON.stringify(await slotNow(slot.id))).not.toContain(alice.id);
    const proposed = res.body.parameter?.find((p) => p.name === 'appointment')?.resource as Appointment;
    expect(proposed.status).toBe('proposed');

    const byBob = await hold(bob.token, slot.id);
    expect([byBob.status, ruleOf(byBob.body)]).toEqual([409, 'slot-not-free']);
    const bookedByBob = await book(s, bob.token, slot.id);
    expect([bookedByBob.status, ruleOf(bookedByBob.body)]).toEqual([409, 'slot-not-free']);

    const booked = await book(s, alice.token, slot.id);
    expect(booked.status).toBe(200); // the hold's own Appointment, now booked
    expect((booked.body as Appointment).id).toBe(proposed.id);
    expect((booked.body as Appointment).status).toBe('pending');
    expect(await slotNow(slot.id)).toMatchObject({ status: 'busy' });
    expect((await slotNow(slot.id)).extension).toBeUndefined();
  });

  test('holding a busy slot answers 409 slot-not-free', async () => {
    const slot = freeSlot();
    await book(s, alice.token, slot.id);
    const res = await hold(bob.token, slot.id);
    expect([res.status, ruleOf(res.body)]).toEqual([409, 'slot-not-free']);
  });

  test('an expired hold is ignored before the expiry bot runs: at $find-slots and at booking', async () => {
    const slot = freeSlot();
    const res = await hold(alice.token, slot.id, 1);
    const proposed = res.body.parameter?.find((p) => p.name === 'appointment')?.resource as Appointment;
    // Let the hold lapse as time would (the bot has not run): the stored slot still says busy-tentative.
    const stored = await slotNow(slot.id);
    const lapsed = {
      ...stored,
      extension: [{ url: HOLD_EXPIRES_EXT, valueDateTime: new Date(Date.now() - 1000).toISOString() }],
    };
    expect((await s.put(`Slot/${slot.id}`, lapsed)).status).toBe(200);

    const window = `start=${slot.start.slice(0, 10)}T00:00:00Z&end=${daysFromNow(20)}T00:00:00Z`;
    const sched = slot.schedule.reference as string;
    const found = await s.get<Bundle<Slot>>(`${sched}/$find-slots?${window}`, as(bob.token));
    const shown = found.body.entry?.find((e) => e.resource?.id === slot.id)?.resource;
    expect(shown?.status).toBe('free');
    expect(shown?.extension).toBeUndefined();

    const booked = await book(s, bob.token, slot.id);
    expect(booked.status).toBe(201);
    // Alice's lapsed hold is cancelled, as the bot would have done.
    const old = (await s.get<Appointment>(`Appointment/${proposed.id}`)).body;
    expect(old.status).toBe('cancelled');
    expect(old.cancelationReason?.text).toMatch(/lapsed/);
  });
});

describe('no double booking under concurrency', () => {
  test('50 parallel bookings of one slot: exactly one succeeds, 49 get 409 slot-not-free', async () => {
    const slot = freeSlot();
    const people = await Promise.all(Array.from({ length: 50 }, (_, i) => patient(s, `Racer${i}`)));
    const results = await Promise.all(people.map((p) => book(s, p.token, slot.id)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((x) => x === 201)).toHaveLength(1);
    expect(statuses.filter((x) => x === 409)).toHaveLength(49);
    expect(results.filter((r) => r.status === 409).every((r) => ruleOf(r.body) === 'slot-not-free')).toBe(true);
    const appts = await s.search(`Appointment?slot=Slot/${slot.id}&status=pending,booked,proposed`);
    expect(appts.entry).toHaveLength(1);
  }, 60_000);

  test('200 concurrent bookings over 100 slots: exactly 100 succeed, one per slot', async () => {
    const targets = Array.from({ length: 100 }, () => freeSlot());
    const people = await Promise.all(Array.from({ length: 20 }, (_, i) => patient(s, `Crowd${i}`)));
    const calls = Array.from({ length: 200 }, (_, i) => {
      const slot = targets[Math.floor(i / 2)] as Slot & { id: string }; // the two calls for a slot go out together
      return book(s, s.systemToken, slot.id, [
        { name: 'patient', valueReference: { reference: (people[i % 20] as Person).ref } },
      ]).then((r) => ({ slot: slot.id, status: r.status }));
    });
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.status === 201)).toHaveLength(100);
    expect(results.filter((r) => r.status === 409)).toHaveLength(100);
    expect(new Set(results.filter((r) => r.status === 201).map((r) => r.slot)).size).toBe(100);
    for (const slot of targets.slice(0, 10)) {
      expect((await slotNow(slot.id)).status).toBe('busy');
    }
  }, 120_000);
});

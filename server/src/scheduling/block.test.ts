import type { Appointment, Bundle, OperationOutcome, Parameters, Slot } from '@medplum/fhirtypes';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import type { Person } from './test-fixtures';
import { as, book, daysFromNow, generate, params, patient, provider, ruleOf, schedule, slotsOf } from './test-fixtures';
import { HOLD_EXPIRES_EXT } from './vocabulary';

let s: TestServer;
let dr: Person;
let other: Person;
let alice: Person;
let bob: Person;
let scheduleId: string;
let slots: (Slot & { id: string })[];
let next = 0;

/** The next `n` slots in start order, and the window that holds exactly them. */
function nextWindow(n: number): { slots: (Slot & { id: string })[]; start: string; end: string } {
  const taken = slots.slice(next, next + n);
  next += n;
  return { slots: taken, start: taken[0]?.start as string, end: taken[n - 1]?.end as string };
}

beforeAll(async () => {
  s = await startTestServer();
  dr = await provider(s, 'Blocker');
  other = await provider(s, 'Other');
  alice = await patient(s, 'Alice');
  bob = await patient(s, 'Bob');
  scheduleId = (await schedule(s, dr)).id;
  await generate(s, dr.token, scheduleId, { start: daysFromNow(2), end: daysFromNow(16) });
  slots = await slotsOf(s, scheduleId);
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

const windowParams = (w: { start: string; end: string }): Parameters =>
  params([
    { name: 'start', valueDateTime: w.start },
    { name: 'end', valueDateTime: w.end },
  ]);
const block = (who: Person, w: { start: string; end: string }, id = scheduleId) =>
  s.post<Parameters | OperationOutcome>(`Schedule/${id}/$block`, windowParams(w), as(who.token));
const unblock = (who: Person, w: { start: string; end: string }) =>
  s.post<Parameters | OperationOutcome>(`Schedule/${scheduleId}/$unblock`, windowParams(w), as(who.token));
const num = (body: unknown, name: string): number | undefined =>
  (body as Parameters).parameter?.find((p) => p.name === name)?.valueInteger;
const conflicts = (body: unknown) => ((body as Parameters).parameter ?? []).filter((p) => p.name === 'conflict');
const statusOf = async (id: string): Promise<string> => (await s.get<Slot>(`Slot/${id}`)).body.status;
const findable = async (w: { start: string; end: string }): Promise<string[]> => {
  const res = await s.get<Bundle>(`Schedule/${scheduleId}/$find-slots?start=${w.start}&end=${w.end}`, as(alice.token));
  return (res.body.entry ?? []).map((e) => e.resource?.id as string);
};

describe('a provider blocks time', () => {
  test('free slots become busy-unavailable: not listed, not bookable, not holdable', async () => {
    const w = nextWindow(4);
    const res = await block(dr, w);
    expect(res.status).toBe(200);
    expect(num(res.body, 'blocked')).toBe(4);
    expect(conflicts(res.body)).toHaveLength(0);
    for (const slot of w.slots) {
      expect(await statusOf(slot.id)).toBe('busy-unavailable');
    }
    expect(await findable(w)).toEqual([]);
    const booking = await book(s, alice.token, w.slots[0]?.id as string);
    expect(booking.status).toBe(409);
    expect(ruleOf(booking.body)).toBe('slot-not-free');
    expect((await s.post(`Slot/${w.slots[1]?.id}/$hold`, params([]), as(alice.token))).status).toBe(409);
    // Blocking again changes nothing; unblocking gives the time back.
    expect(num((await block(dr, w)).body, 'alreadyBlocked')).toBe(4);
    expect(num((await unblock(dr, w)).body, 'unblocked')).toBe(4);
    expect((await findable(w)).sort()).toEqual(w.slots.map((x) => x.id).sort());
  });

  test('booked and held slots are reported, not cancelled, and become unavailable once freed', async () => {
    const w = nextWindow(3);
    const [bookedSlot, heldSlot, freeSlot] = w.slots as [Slot & { id: string }, Slot & { id: string }, Slot];
    const booking = (await book(s, alice.token, bookedSlot.id)).body as Appointment & { id: string };
    const hold = await s.post<Parameters>(`Slot/${heldSlot.id}/$hold`, params([]), as(bob.token));
    expect(hold.status).toBe(200);
    const waiting = await s.post<Appointment>(`Schedule/${scheduleId}/$waitlist`, params([]), as(bob.token));
    expect(waiting.status).toBe(201);

    const res = await block(dr, w);
    expect(num(res.body, 'blocked')).toBe(1);
    const reported = conflicts(res.body).map((c) => ({
      slot: c.part?.find((p) => p.name === 'slot')?.resource?.id,
      appointments: (c.part ?? []).filter((p) => p.name === 'appointment').map((p) => p.resource?.id),
    }));
    expect(reported).toEqual(
      expect.arrayContaining([
        { slot: bookedSlot.id, appointments: [booking.id] },
        { slot: heldSlot.id, appointments: [expect.any(String)] },
      ])
    );
    expect(await statusOf(bookedSlot.id)).toBe('busy');
    expect(await statusOf(heldSlot.id)).toBe('busy-tentative');
    expect(await statusOf(freeSlot.id as string)).toBe('busy-unavailable');
    expect((await s.get<Appointment>(`Appointment/${booking.id}`)).body.status).toBe('pending');

    // The provider cancels the booking: the slot is not freed, nor offered to Bob on the waitlist.
    const cancel = params([{ name: 'reason', valueString: 'Away that day' }]);
    expect((await s.post(`Appointment/${booking.id}/$cancel`, cancel, as(dr.token))).status).toBe(200);
    expect(await statusOf(bookedSlot.id)).toBe('busy-unavailable');
    expect((await s.get<Appointment>(`Appointment/${waiting.body.id}`)).body.status).toBe('waitlist');
    await s.post(`Appointment/${waiting.body.id}/$cancel`, cancel, as(bob.token));
  });

  test('a lapsed hold in the window is blocked too, and one the expiry bot frees stays unavailable', async () => {
    const w = nextWindow(2);
    const [lapsed, freedByBot] = w.slots as [Slot & { id: string }, Slot & { id: string }];
    const past = new Date(Date.now() - 60_000).toISOString();
    await s.put(`Slot/${lapsed.id}`, {
      ...lapsed,
      status: 'busy-tentative',
      extension: [{ url: HOLD_EXPIRES_EXT, valueDateTime: past }],
    });
    expect(num((await block(dr, w)).body, 'blocked')).toBe(2);
    expect(await statusOf(lapsed.id)).toBe('busy-unavailable');
    // What the expiry bot writes for a lapsed hold (status free, its extension removed) keeps the block's mark.
    const stored = (await s.get<Slot>(`Slot/${freedByBot.id}`)).body;
    await s.put(`Slot/${freedByBot.id}`, { ...stored, status: 'free' });
    expect(await findable(w)).toEqual([]);
    expect((await book(s, alice.token, freedByBot.id)).status).toBe(409);
  });

  test('only the provider of the schedule blocks it', async () => {
    const w = nextWindow(1);
    expect((await block(other, w)).status).toBe(403);
    expect((await block(alice, w)).status).toBe(403);
    expect((await unblock(other, w)).status).toBe(403);
    expect((await block(dr, w, 'no-such-schedule')).status).toBe(404);
    expect(await statusOf(w.slots[0]?.id as string)).toBe('free');
  });

  test('refuses a bad window with 400', async () => {
    const start = `${daysFromNow(3)}T09:00:00Z`;
    expect((await block(dr, { start, end: start })).status).toBe(400);
    expect((await block(dr, { start, end: `${daysFromNow(40)}T09:00:00Z` })).status).toBe(400);
    const missing = await s.post(`Schedule/${scheduleId}/$block`, params([]), as(dr.token));
    expect(missing.status).toBe(400);
    expect((await block(dr, { start: 'tomorrow', end: start })).status).toBe(400);
  });

  test('a block racing bookings: each slot ends booked once or blocked, and every booking is reported', async () => {
    const w = nextWindow(6);
    const patients = await Promise.all(w.slots.map((_, i) => patient(s, `Racer${i}`)));
    const [blocked, ...bookings] = await Promise.all([
      block(dr, w),
      ...w.slots.map((slot, i) => book(s, (patients[i] as Person).token, slot.id)),
    ]);
    expect(blocked?.status).toBe(200);
    const won = bookings.filter((b) => b?.status === 201).map((b) => (b?.body as Appointment).slot?.[0]?.reference);
    expect(bookings.every((b) => b?.status === 201 || (b?.status === 409 && ruleOf(b.body) === 'slot-not-free'))).toBe(
      true
    );
    const reported = conflicts(blocked?.body).map((c) => `Slot/${c.part?.[0]?.resource?.id}`);
    expect(reported.sort()).toEqual([...won].sort());
    expect(num(blocked?.body, 'blocked')).toBe(w.slots.length - won.length);
    for (const slot of w.slots) {
      expect(await statusOf(slot.id)).toBe(won.includes(`Slot/${slot.id}`) ? 'busy' : 'busy-unavailable');
    }
  });
});

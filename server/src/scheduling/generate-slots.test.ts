import type { Bundle, CapabilityStatement, Parameters, Schedule, Slot } from '@medplum/fhirtypes';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import type { Person } from './test-fixtures';
import { as, daysFromNow, generate, hours, patient, provider, ruleOf, schedule, slotsOf, value } from './test-fixtures';
import { SLOT_ID_SYSTEM } from './vocabulary';

let s: TestServer;
let dr: Person;
let alice: Person;

beforeAll(async () => {
  s = await startTestServer();
  dr = await provider(s, 'Slotmaker');
  alice = await patient(s, 'Looker');
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

const count = (p: unknown, name: string): number => value(p as Parameters, name)?.valueInteger;

describe('$generate-slots', () => {
  test('a week spanning the New York DST change keeps 09:00 local on both sides', async () => {
    const sched = await schedule(s, dr);
    // 2027-03-14 is the spring change in New York: Wed 10 to Tue 16 holds five weekdays.
    const res = await generate(s, dr.token, sched.id, { start: '2027-03-10', end: '2027-03-16' });
    expect(res.status).toBe(200);
    expect(count(res.body, 'created')).toBe(30);
    const slots = await slotsOf(s, sched.id);
    expect(slots).toHaveLength(30);
    const nines = slots.filter((x) => x.start.slice(11, 16) === '09:00').map((x) => x.start);
    expect(nines).toEqual([
      '2027-03-10T09:00:00-05:00',
      '2027-03-11T09:00:00-05:00',
      '2027-03-12T09:00:00-05:00',
      '2027-03-15T09:00:00-04:00',
      '2027-03-16T09:00:00-04:00',
    ]);
    expect(new Date(nines[0] as string).toISOString()).toBe('2027-03-10T14:00:00.000Z');
    expect(new Date(nines[3] as string).toISOString()).toBe('2027-03-15T13:00:00.000Z');
    expect(slots.every((x) => x.status === 'free' && x.schedule.reference === `Schedule/${sched.id}`)).toBe(true);
    expect(slots[0]?.identifier).toEqual([{ system: SLOT_ID_SYSTEM, value: `${sched.id}/2027-03-10T14:00:00.000Z` }]);
  });

  test('a week spanning the Auckland change keeps 09:00 local', async () => {
    const sched = await schedule(s, dr);
    const res = await generate(
      s,
      dr.token,
      sched.id,
      { start: '2027-04-01', end: '2027-04-06', timezone: 'Pacific/Auckland', slotMinutes: 60 },
      [hours(['mon', 'tue', 'wed', 'thu', 'fri'], '09:00', '10:00')]
    );
    expect(count(res.body, 'created')).toBe(4);
    expect((await slotsOf(s, sched.id)).map((x) => x.start)).toEqual([
      '2027-04-01T09:00:00+13:00',
      '2027-04-02T09:00:00+13:00',
      '2027-04-05T09:00:00+12:00',
      '2027-04-06T09:00:00+12:00',
    ]);
  });

  test('is idempotent: the same range again creates nothing, a wider one only what is new', async () => {
    const sched = await schedule(s, dr);
    const range = { start: daysFromNow(10), end: daysFromNow(16) };
    const first = await generate(s, dr.token, sched.id, range);
    const n = count(first.body, 'created');
    expect(n).toBeGreaterThan(0);
    const again = await generate(s, dr.token, sched.id, range);
    expect([count(again.body, 'created'), count(again.body, 'existing')]).toEqual([0, n]);
    const wider = await generate(s, dr.token, sched.id, { start: range.start, end: daysFromNow(23) });
    expect(count(wider.body, 'existing')).toBe(n);
    const all = await slotsOf(s, sched.id);
    expect(all).toHaveLength(n + count(wider.body, 'created'));
    expect(new Set(all.map((x) => x.identifier?.[0]?.value)).size).toBe(all.length);
  });

  test('two concurrent runs for one range create each slot once', async () => {
    const sched = await schedule(s, dr);
    const range = { start: daysFromNow(30), end: daysFromNow(36) };
    const runs = await Promise.all([1, 2, 3].map(() => generate(s, dr.token, sched.id, range)));
    expect(runs.map((r) => r.status)).toEqual([200, 200, 200]);
    const created = runs.reduce((sum, r) => sum + count(r.body, 'created'), 0);
    expect((await slotsOf(s, sched.id)).length).toBe(created);
  });

  test('breaks, days off and extra hours shape the slots', async () => {
    const sched = await schedule(s, dr);
    const res = await generate(s, dr.token, sched.id, { start: '2027-06-07', end: '2027-06-13', slotMinutes: 60 }, [
      hours(['mon', 'tue', 'wed', 'thu', 'fri'], '09:00', '17:00'),
      hours([], '12:00', '13:00', 'break'),
      { name: 'exception', part: [{ name: 'date', valueDate: '2027-06-08' }] },
      {
        name: 'exception',
        part: [
          { name: 'date', valueDate: '2027-06-12' },
          { name: 'start', valueTime: '10:00' },
          { name: 'end', valueTime: '12:00' },
          { name: 'available', valueBoolean: true },
        ],
      },
    ]);
    expect(res.status).toBe(200);
    const slots = await slotsOf(s, sched.id);
    expect(slots.filter((x) => x.start.startsWith('2027-06-07')).map((x) => x.start.slice(11, 16))).toEqual([
      '09:00',
      '10:00',
      '11:00',
      '13:00',
      '14:00',
      '15:00',
      '16:00',
    ]);
    expect(slots.filter((x) => x.start.startsWith('2027-06-08'))).toHaveLength(0);
    expect(slots.filter((x) => x.start.startsWith('2027-06-12')).map((x) => x.start.slice(11, 16))).toEqual([
      '10:00',
      '11:00',
    ]);
    expect(count(res.body, 'created')).toBe(4 * 7 + 2);
  });

  test('only the provider of the schedule may generate; a patient or another provider gets 403', async () => {
    const sched = await schedule(s, dr);
    const other = await provider(s, 'Other');
    const range = { start: daysFromNow(5), end: daysFromNow(6) };
    expect((await generate(s, other.token, sched.id, range)).status).toBe(403);
    expect((await generate(s, alice.token, sched.id, range)).status).toBe(403);
    expect((await generate(s, s.systemToken, sched.id, range)).status).toBe(200);
  });

  test('a closed schedule answers 422 schedule-closed; bad rules answer 400', async () => {
    const closed = await schedule(s, dr, { active: false });
    const range = { start: daysFromNow(5), end: daysFromNow(6) };
    const res = await generate(s, dr.token, closed.id, range);
    expect(res.status).toBe(422);
    expect(ruleOf(res.body)).toBe('schedule-closed');
    const open = await schedule(s, dr);
    expect((await generate(s, dr.token, open.id, { ...range, timezone: 'Mars/Olympus' })).status).toBe(400);
    expect((await generate(s, dr.token, open.id, { ...range, slotMinutes: 2 })).status).toBe(400);
    expect((await generate(s, dr.token, open.id, range, [hours(['mon'], '12:00', '09:00')])).status).toBe(400);
    expect((await generate(s, dr.token, open.id, range, [hours(['someday'], '09:00', '12:00')])).status).toBe(400);
    expect((await generate(s, dr.token, open.id, { start: range.end, end: range.start })).status).toBe(400);
  });
});

describe('Schedule and Slot are directory data', () => {
  test('a patient reads any provider schedule and its slots, and $find-slots lists the bookable ones', async () => {
    const sched = await schedule(s, dr);
    await generate(s, dr.token, sched.id, { start: daysFromNow(3), end: daysFromNow(9) });
    expect((await s.get(`Schedule/${sched.id}`, as(alice.token))).status).toBe(200);
    const listed = await s.get<Bundle>(`Slot?schedule=Schedule/${sched.id}&_count=100`, as(alice.token));
    expect(listed.status).toBe(200);
    expect(listed.body.entry?.length).toBe((await slotsOf(s, sched.id)).length);
    const found = await s.get<Bundle<Slot>>(
      `Schedule/${sched.id}/$find-slots?start=${daysFromNow(0)}T00:00:00Z&end=${daysFromNow(10)}T00:00:00Z`,
      as(alice.token)
    );
    expect(found.status).toBe(200);
    expect(found.body.entry?.length).toBe(listed.body.entry?.length);
  });

  test('$find-slots lists nothing for a closed schedule; the CapabilityStatement names the operations', async () => {
    const sched = await schedule(s, dr);
    await generate(s, dr.token, sched.id, { start: daysFromNow(3), end: daysFromNow(9) });
    await s.put(`Schedule/${sched.id}`, { ...sched, active: false });
    const window = `start=${daysFromNow(0)}T00:00:00Z&end=${daysFromNow(10)}T00:00:00Z`;
    const found = await s.get<Bundle>(`Schedule/${sched.id}/$find-slots?${window}`, as(alice.token));
    expect([found.status, found.body.entry]).toEqual([200, []]);
    expect((await s.get(`Schedule/${sched.id}/$find-slots?start=${daysFromNow(0)}`, as(alice.token))).status).toBe(400);
    const meta = (await s.get<CapabilityStatement>('metadata')).body;
    const ops = (type: string): string[] =>
      meta.rest?.[0]?.resource?.find((r) => r.type === type)?.operation?.map((o) => o.name) ?? [];
    expect(ops('Schedule')).toEqual(expect.arrayContaining(['generate-slots', 'find-slots', 'waitlist']));
    expect(ops('Slot')).toContain('hold');
    expect(ops('Appointment')).toEqual(expect.arrayContaining(['book', 'confirm', 'cancel', 'no-show', 'reschedule']));
  });

  test('a Schedule naming a patient stays in that patient’s compartment', async () => {
    const bob = await patient(s, 'Private');
    const own = await s.create<Schedule>({ resourceType: 'Schedule', actor: [{ reference: bob.ref }] });
    expect((await s.get(`Schedule/${own.id}`, as(alice.token))).status).toBe(404);
    expect((await s.get(`Schedule/${own.id}`, as(bob.token))).status).toBe(200);
  });

  test('directory data stays read-only to providers and patients', async () => {
    const sched = await schedule(s, dr);
    const slot: Slot = {
      resourceType: 'Slot',
      schedule: { reference: `Schedule/${sched.id}` },
      status: 'free',
      start: '2027-01-05T09:00:00Z',
      end: '2027-01-05T09:30:00Z',
    };
    expect((await s.post('Slot', slot, as(dr.token))).status).toBe(403);
    expect((await s.post('Slot', slot, as(alice.token))).status).toBe(403);
  });
});

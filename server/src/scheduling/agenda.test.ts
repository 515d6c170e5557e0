import type { Appointment, AuditEvent, Bundle, OperationOutcome, Slot } from '@medplum/fhirtypes';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import type { Person } from './test-fixtures';
import { as, book, daysFromNow, generate, params, patient, provider, schedule, slotsOf } from './test-fixtures';

let s: TestServer;
let dr: Person;
let other: Person;
let alice: Person;
let slots: (Slot & { id: string })[];

beforeAll(async () => {
  s = await startTestServer();
  dr = await provider(s, 'Agenda');
  other = await provider(s, 'Elsewhere');
  alice = await patient(s, 'Ruru');
  const mine = (await schedule(s, dr)).id;
  const theirs = (await schedule(s, other)).id;
  await generate(s, dr.token, mine, { start: daysFromNow(2), end: daysFromNow(4) });
  await generate(s, other.token, theirs, { start: daysFromNow(2), end: daysFromNow(4) });
  slots = await slotsOf(s, mine);
  const elsewhere = await slotsOf(s, theirs);
  for (const slot of [slots[0], slots[1], elsewhere[0]]) {
    expect((await book(s, alice.token, (slot as Slot & { id: string }).id)).status).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

const agenda = (token: string, query: string) => s.get<Bundle<Appointment>>(`Appointment/$agenda?${query}`, as(token));
const window = (fromDays: number, toDays: number) =>
  `start=${daysFromNow(fromDays)}T00:00:00Z&end=${daysFromNow(toDays)}T00:00:00Z`;

describe('Appointment/$agenda', () => {
  it("lists the provider's own appointments in the window in start order, each patient by name", async () => {
    const res = await agenda(dr.token, window(0, 7));
    expect(res.status).toBe(200);
    const entries = (res.body.entry ?? []).map((e) => e.resource as Appointment);
    expect(entries.map((a) => a.slot?.[0]?.reference)).toEqual([`Slot/${slots[0]?.id}`, `Slot/${slots[1]?.id}`]);
    expect(entries.every((a) => a.status === 'pending')).toBe(true);
    const person = entries[0]?.participant?.find((p) => p.actor?.reference === alice.ref);
    expect(person?.actor?.display).toBe('Ruru');
  });

  it("is in each listed patient's own access log", async () => {
    expect((await agenda(dr.token, window(0, 7))).status).toBe(200);
    const log = await s.search(`AuditEvent?patient=${alice.ref}&_sort=-date&_count=200`);
    // The provider's listing, not her own booking: an event whose agent is the provider.
    const listed = (log.entry ?? [])
      .map((e) => e.resource as AuditEvent)
      .filter((e) => e.action === 'E' && (e.agent ?? []).some((a) => a.who?.reference === dr.ref));
    expect(listed.length).toBeGreaterThan(0);
    expect(listed[0]?.entity?.some((x) => x.what?.reference === alice.ref)).toBe(true);
  });

  it('leaves out appointments outside the window and those of other providers', async () => {
    const later = await agenda(dr.token, window(5, 30));
    expect(later.body.entry ?? []).toHaveLength(0);
    const theirs = await agenda(other.token, window(0, 7));
    expect((theirs.body.entry ?? []).map((e) => e.resource?.slot?.[0]?.reference)).not.toContain(
      `Slot/${slots[0]?.id}`
    );
    expect(theirs.body.entry).toHaveLength(1);
  });

  it('shows a cancellation with its status', async () => {
    const first = (await agenda(dr.token, window(0, 7))).body.entry?.[0]?.resource as Appointment & { id: string };
    const cancelled = await s.post(
      `Appointment/${first.id}/$cancel`,
      params([{ name: 'reason', valueString: 'Away' }]),
      as(alice.token)
    );
    expect(cancelled.status).toBe(200);
    const after = (await agenda(dr.token, window(0, 7))).body.entry?.map((e) => e.resource?.status);
    expect(after).toEqual(['cancelled', 'pending']);
  });

  it('refuses a patient (403), a window over 31 days or a missing bound (400), and unknown parameters (400)', async () => {
    expect((await agenda(alice.token, window(0, 7))).status).toBe(403);
    const wide = await agenda(dr.token, window(0, 40));
    expect(wide.status).toBe(400);
    expect((wide.body as unknown as OperationOutcome).issue?.[0]?.details?.text).toMatch(/31 days/);
    expect((await agenda(dr.token, `start=${daysFromNow(0)}`)).status).toBe(400);
    expect((await agenda(dr.token, `${window(0, 7)}&patient=${alice.ref}`)).status).toBe(400);
    expect((await agenda(dr.token, 'start=yesterday&end=tomorrow')).status).toBe(400);
  });
});

import type { Appointment, Bundle, CareTeam, Communication, Encounter, Parameters, Slot } from '@medplum/fhirtypes';
import { ConfigError, loadConfig } from '../config';
import type { Person } from '../scheduling/test-fixtures';
import {
  as,
  book,
  daysFromNow,
  generate,
  params,
  patient,
  provider,
  ruleOf,
  schedule,
  slotsOf,
} from '../scheduling/test-fixtures';
import { observation, relationship, sharingConsent } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { ACT_CODE_SYSTEM, VIRTUAL_SERVICE_EXT } from './join-link';

const TEMPLATE = 'https://video.example.org/hale/{room}?visit={appointment}';
const VIRTUAL = [{ coding: [{ system: ACT_CODE_SYSTEM, code: 'VR', display: 'virtual' }] }];

let s: TestServer;
let dr: Person;
let other: Person;
let alice: Person;
let bob: Person;
let virtualSlots: (Slot & { id: string })[];
let clinicSlots: (Slot & { id: string })[];

beforeAll(async () => {
  s = await startTestServer({
    TELEHEALTH_URL_TEMPLATE: TEMPLATE,
    TELEHEALTH_ROOM_SECRET: 'telehealth-test-secret-0123456789abcdef',
  });
  dr = await provider(s, 'Video');
  other = await provider(s, 'Elsewhere');
  alice = await patient(s, 'Alice');
  bob = await patient(s, 'Bob');
  const video = await schedule(s, dr, { serviceType: VIRTUAL });
  const clinic = await schedule(s, dr);
  await generate(s, dr.token, video.id, { start: daysFromNow(2), end: daysFromNow(9) });
  await generate(s, dr.token, clinic.id, { start: daysFromNow(2), end: daysFromNow(9) });
  virtualSlots = await slotsOf(s, video.id);
  clinicSlots = await slotsOf(s, clinic.id);
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

type Appt = Appointment & { id: string };
const op = <T = Parameters>(token: string, id: string, name: string) =>
  s.post<T>(`Appointment/${id}/$${name}`, params([]), as(token));
const part = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);
const addressOf = (a: Appointment): string | undefined =>
  a.extension?.find((e) => e.url === VIRTUAL_SERVICE_EXT)?.extension?.find((e) => e.url === 'address')?.valueUrl;

/** A booked appointment of `who` (default Alice), confirmed by the provider. */
async function booked(slots: (Slot & { id: string })[], who: Person = alice): Promise<Appt> {
  const slot = slots.shift() as Slot & { id: string };
  const res = await book(s, who.token, slot.id);
  expect(res.status).toBe(201);
  const confirmed = await op<Appt>(dr.token, (res.body as Appt).id, 'confirm');
  expect(confirmed.body.status).toBe('booked');
  return confirmed.body;
}

describe('join link', () => {
  test('a virtual appointment gets a join link from the template, the same for each participant and never stored', async () => {
    const appt = await booked(virtualSlots);
    const mine = await s.get<Appt>(`Appointment/${appt.id}/$join`, as(alice.token));
    expect(mine.status).toBe(200);
    const link = addressOf(mine.body) ?? '';
    expect(link).toMatch(/^https:\/\/video\.example\.org\/hale\/[A-Za-z0-9_-]{43}\?visit=/);
    expect(link.endsWith(`?visit=${appt.id}`)).toBe(true);
    expect(addressOf((await op<Appt>(dr.token, appt.id, 'join')).body)).toBe(link);
    // The stored Appointment, read by its own patient, carries no link: only $join shows it.
    const stored = await s.get(`Appointment/${appt.id}`, as(alice.token));
    expect(JSON.stringify(stored.body)).not.toContain(new URL(link).pathname);
    // Another appointment gets another room.
    const second = await booked(virtualSlots);
    expect(addressOf((await op<Appt>(alice.token, second.id, 'join')).body)).not.toBe(link);
  });

  test('another patient and another provider get 404; a provider shown it by a Consent gets 403 not-a-participant', async () => {
    const appt = await booked(virtualSlots);
    expect((await op(bob.token, appt.id, 'join')).status).toBe(404);
    expect((await op(other.token, appt.id, 'join')).status).toBe(404);
    await s.create(sharingConsent({ patient: alice.id, actor: { reference: other.ref } }));
    const res = await op(other.token, appt.id, 'join');
    expect(res.status).toBe(403);
    expect(ruleOf(res.body)).toBe('not-a-participant');
    expect(JSON.stringify(res.body)).not.toContain('video.example.org');
  });

  test('an in-person appointment has no link (422 not-virtual); a cancelled one none either (409)', async () => {
    const clinic = await booked(clinicSlots);
    const res = await op(alice.token, clinic.id, 'join');
    expect([res.status, ruleOf(res.body)]).toEqual([422, 'not-virtual']);
    const appt = await booked(virtualSlots);
    await s.post(`Appointment/${appt.id}/$cancel`, params([{ name: 'reason', valueString: 'Ill' }]), as(alice.token));
    const gone = await op(alice.token, appt.id, 'join');
    expect([gone.status, ruleOf(gone.body)]).toEqual([409, 'appointment-transition']);
  });

  test('a server without a template answers 422 telehealth-off; a template without a secret does not start', async () => {
    expect(() => loadConfig({ TELEHEALTH_URL_TEMPLATE: TEMPLATE })).toThrow(ConfigError);
    expect(() => loadConfig({ TELEHEALTH_URL_TEMPLATE: 'https://video.example.org/no-room' })).toThrow(ConfigError);
    const off = await startTestServer();
    try {
      const p = await off.create({ resourceType: 'Patient' });
      const a = await off.create<Appointment>({
        resourceType: 'Appointment',
        status: 'booked',
        start: '2030-01-01T09:00:00Z',
        end: '2030-01-01T09:30:00Z',
        serviceType: VIRTUAL,
        participant: [{ actor: { reference: `Patient/${p.id}` }, status: 'accepted' }],
      });
      const res = await off.post(`Appointment/${a.id}/$join`, params([]));
      expect([res.status, ruleOf(res.body)]).toEqual([422, 'telehealth-off']);
    } finally {
      await off.stop();
    }
  });
});

describe('start and finish', () => {
  test('the visit opens a VR Encounter and closing it ends the one-off relationship and its access', async () => {
    const appt = await booked(virtualSlots);
    const team = await s.create<CareTeam>(relationship(alice.id, dr.ref, 'one-off'));
    await s.create(sharingConsent({ patient: alice.id, actor: { reference: `CareTeam/${team.id}` } }));
    const obs = await s.create(observation(alice.id, 'vital-signs', '2026-01-02T00:00:00Z'));
    expect((await s.get(`Observation/${obs.id}`, as(dr.token))).status).toBe(200);

    expect((await op(alice.token, appt.id, 'start-visit')).status).toBe(403);
    const started = await op(dr.token, appt.id, 'start-visit');
    expect(started.status).toBe(200);
    const encounter = part(started.body, 'encounter')?.resource as Encounter & { id: string };
    expect(encounter).toMatchObject({ status: 'in-progress', class: { system: ACT_CODE_SYSTEM, code: 'VR' } });
    expect(encounter.appointment).toEqual([{ reference: `Appointment/${appt.id}` }]);
    expect(encounter.participant?.[0]?.individual?.reference).toBe(dr.ref);
    const shown = part(started.body, 'appointment')?.resource as Appt;
    expect(shown.status).toBe('arrived');
    expect(addressOf(shown)).toContain('video.example.org');
    expect(part(started.body, 'relationship')?.valueReference?.reference).toBe(`CareTeam/${team.id}`);
    expect((await s.get<CareTeam>(`CareTeam/${team.id}`)).body.encounter?.reference).toBe(`Encounter/${encounter.id}`);
    expect((await s.get(`Observation/${obs.id}`, as(dr.token))).status).toBe(200); // still inside the window

    const finished = await op(dr.token, appt.id, 'finish-visit');
    expect(finished.status).toBe(200);
    expect((part(finished.body, 'encounter')?.resource as Encounter).status).toBe('finished');
    expect((part(finished.body, 'appointment')?.resource as Appointment).status).toBe('fulfilled');
    const ended = (await s.get<CareTeam>(`CareTeam/${team.id}`)).body;
    expect(ended.status).toBe('inactive');
    expect(ended.period?.end).toBeDefined();
    // The window closed with the visit, on the very next request.
    expect((await s.get(`Observation/${obs.id}`, as(dr.token))).status).toBe(404);
    const notices = await s.search(`Communication?about=CareTeam/${team.id}`);
    expect((notices.entry ?? []).map((e) => (e.resource as Communication).recipient?.[0]?.reference).sort()).toEqual(
      [alice.ref, dr.ref].sort()
    );
  });

  test('an in-person visit opens an AMB Encounter and ends no permanent relationship', async () => {
    const appt = await booked(clinicSlots, bob);
    const team = await s.create<CareTeam>(relationship(bob.id, dr.ref, 'permanent'));
    const started = await op(dr.token, appt.id, 'start-visit');
    expect((part(started.body, 'encounter')?.resource as Encounter).class.code).toBe('AMB');
    expect(part(started.body, 'relationship')).toBeUndefined();
    expect((await op(dr.token, appt.id, 'finish-visit')).status).toBe(200);
    expect((await s.get<CareTeam>(`CareTeam/${team.id}`)).body.status).toBe('active');
  });

  test('illegal steps name their rule: start a cancelled or unconfirmed one, finish one not started, start twice', async () => {
    const cancelled = await booked(virtualSlots);
    await s.post(
      `Appointment/${cancelled.id}/$cancel`,
      params([{ name: 'reason', valueString: 'No' }]),
      as(alice.token)
    );
    const a = await op(dr.token, cancelled.id, 'start-visit');
    expect([a.status, ruleOf(a.body)]).toEqual([409, 'appointment-transition']);

    const slot = virtualSlots.shift() as Slot & { id: string };
    const pending = (await book(s, alice.token, slot.id)).body as Appt;
    expect(ruleOf((await op(dr.token, pending.id, 'start-visit')).body)).toBe('appointment-transition');

    const appt = await booked(virtualSlots);
    const b = await op(dr.token, appt.id, 'finish-visit');
    expect([b.status, ruleOf(b.body)]).toEqual([409, 'visit-not-started']);
    expect((await op(dr.token, appt.id, 'start-visit')).status).toBe(200);
    const c = await op(dr.token, appt.id, 'start-visit');
    expect([c.status, ruleOf(c.body)]).toEqual([409, 'appointment-transition']);
    // A started visit can no longer be cancelled or marked a no-show.
    const d = await s.post(
      `Appointment/${appt.id}/$cancel`,
      params([{ name: 'reason', valueString: 'x' }]),
      as(alice.token)
    );
    expect(ruleOf(d.body)).toBe('appointment-transition');
    expect((await s.search(`Encounter?appointment=Appointment/${appt.id}`)).entry).toHaveLength(1);
  });

  test('only its providers run the visit: another provider 404, or 403 not-a-participant under a Consent', async () => {
    const appt = await booked(virtualSlots, bob);
    expect((await op(other.token, appt.id, 'start-visit')).status).toBe(404);
    await s.create(sharingConsent({ patient: bob.id, actor: { reference: other.ref } }));
    const res = await op(other.token, appt.id, 'start-visit');
    expect([res.status, ruleOf(res.body)]).toEqual([403, 'not-a-participant']);
    expect((await s.search(`Encounter?appointment=Appointment/${appt.id}`)).entry ?? []).toHaveLength(0);
  });

  test('five simultaneous finishes: one finishes the Encounter, once; the others get 409', async () => {
    const appt = await booked(virtualSlots);
    const encounter = part((await op(dr.token, appt.id, 'start-visit')).body, 'encounter')?.resource as Encounter;
    const answers = await Promise.all(Array.from({ length: 5 }, () => op(dr.token, appt.id, 'finish-visit')));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409]);
    const history = await s.get<Bundle>(`Encounter/${encounter.id}/_history`);
    const statuses = (history.body.entry ?? []).map((e) => (e.resource as Encounter).status);
    expect(statuses.filter((x) => x === 'finished')).toHaveLength(1);
    expect(statuses).toHaveLength(2);
  });

  test("REST writes of a visit's Encounter are refused to providers (the operations own it)", async () => {
    const appt = await booked(virtualSlots);
    const encounter = part((await op(dr.token, appt.id, 'start-visit')).body, 'encounter')?.resource as Encounter;
    const res = await s.put(`Encounter/${encounter.id}`, { ...encounter, status: 'finished' }, as(dr.token));
    expect(res.status).toBe(403);
    const forged = await s.post(
      'Encounter',
      {
        resourceType: 'Encounter',
        status: 'finished',
        class: encounter.class,
        subject: { reference: alice.ref },
        appointment: [{ reference: `Appointment/${appt.id}` }],
      },
      as(dr.token)
    );
    expect(forged.status).toBe(403);
  });
});

import type { Bundle, Consent, OperationOutcome } from '@medplum/fhirtypes';
import { account, observation, sharingConsent, userToken } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { ASYNC, call, exportAll, finished, idsOf, kickoff, startBulkServer } from './test-support';

/**
 * What an export holds is exactly what its caller could search: a patient's own record, a
 * research partner's consented patients and categories (revocations included), a Group's visible
 * members. The worker of this server is off (BULK_WORKERS=0) where a test drives the run itself.
 */
let s: TestServer;
const ids: Record<string, string> = {};
const tokens: Record<string, string> = {};
const consents: Record<string, Consent & { id: string }> = {};

/** An Observation with an id chosen by the test (update-as-create), so keyset order is known. */
async function obsWithId(id: string, patient: string, category: string): Promise<string> {
  const res = await s.put(`Observation/${id}`, { ...observation(patient, category, '2026-03-01'), id });
  expect(res.status).toBe(201);
  return id;
}

async function revoke(name: string): Promise<void> {
  const consent = consents[name] as Consent & { id: string };
  expect((await s.put(`Consent/${consent.id}`, { ...consent, status: 'inactive' })).status).toBe(200);
}

beforeAll(async () => {
  s = await startBulkServer();
  for (const name of ['all', 'labsOnly', 'none', 'revoked', 'revokedMid']) {
    ids[name] = (await s.create({ resourceType: 'Patient', name: [{ family: name }] })).id;
  }
  // Keyset pages go by id: revokedMid's observations come first.
  ids.midLab1 = await obsWithId('a-mid-1', ids.revokedMid as string, 'laboratory');
  ids.midLab2 = await obsWithId('a-mid-2', ids.revokedMid as string, 'laboratory');
  ids.allLab = await obsWithId('b-all-lab', ids.all as string, 'laboratory');
  ids.allVitals = await obsWithId('b-all-vitals', ids.all as string, 'vital-signs');
  ids.labsLab = await obsWithId('c-labs-lab', ids.labsOnly as string, 'laboratory');
  ids.labsVitals = await obsWithId('c-labs-vitals', ids.labsOnly as string, 'vital-signs');
  ids.noneLab = await obsWithId('d-none-lab', ids.none as string, 'laboratory');
  ids.revokedLab = await obsWithId('e-revoked-lab', ids.revoked as string, 'laboratory');
  const research = (patient: string, categories?: string[]) =>
    s.create(sharingConsent({ patient, actor: undefined, scope: 'research', categories }));
  consents.all = await research(ids.all as string);
  consents.labsOnly = await research(ids.labsOnly as string, ['labs']);
  consents.revoked = await research(ids.revoked as string);
  consents.revokedMid = await research(ids.revokedMid as string);
  await revoke('revoked');
  tokens.research = await userToken(s, await account(s, ['research-partner']), ['user/*.rs']);
  const allAccount = await account(s, ['patient'], { type: 'Patient', id: ids.all as string });
  tokens.patientApp = await s.token({ scopes: ['patient/*.rs'], accountId: allAccount });
  tokens.patientUser = await userToken(s, allAccount, ['user/*.rs']);
  ids.group = (
    await s.create({
      resourceType: 'Group',
      type: 'person',
      actual: true,
      member: [{ entity: { reference: `Patient/${ids.all}` } }, { entity: { reference: `Patient/${ids.none}` } }],
    })
  ).id;
  ids.hiddenGroup = (
    await s.create({
      resourceType: 'Group',
      type: 'person',
      actual: true,
      member: [{ entity: { reference: `Patient/${ids.none}` } }, { entity: { reference: `Patient/${ids.all}` } }],
    })
  ).id;
}, 60_000);
afterAll(async () => {
  await s.stop();
});

async function searchIds(type: string, token: string): Promise<string[]> {
  const res = await s.get<Bundle>(`${type}?_count=1000`, { authorization: `Bearer ${token}` });
  expect(res.status).toBe(200);
  return (res.body.entry ?? []).map((e) => e.resource?.id as string).sort();
}

describe('a patient downloading their own record', () => {
  test.each(['patientApp', 'patientUser'])('%s: Patient/$export is exactly their compartment', async (who) => {
    const token = tokens[who] as string;
    const e = await exportAll(s, 'Patient/$export', { token });
    expect(idsOf(e, 'Patient')).toEqual([ids.all]);
    expect(idsOf(e, 'Observation')).toEqual([ids.allLab, ids.allVitals].sort());
    expect(idsOf(e, 'Observation')).toEqual(await searchIds('Observation', token));
    expect(idsOf(e, 'Consent')).toEqual([consents.all?.id]); // their own decisions are theirs to take home
  });

  test('asking for another patient is 400, as for one that does not exist', async () => {
    const res = await call(s, 'GET', `Patient/$export?patient=Patient/${ids.none}`, {
      token: tokens.patientApp,
      headers: ASYNC,
    });
    expect(res.status).toBe(400);
    expect((res.json as OperationOutcome).issue[0]?.details?.text).toMatch(/not found/);
  });
});

describe('a research partner', () => {
  test('exports consented patients only, within the consented categories — exactly what it could search', async () => {
    const token = tokens.research as string;
    const e = await exportAll(s, 'Patient/$export?_type=Patient,Observation', { token });
    expect(idsOf(e, 'Patient')).toEqual([ids.all, ids.labsOnly, ids.revokedMid].sort());
    expect(idsOf(e, 'Observation')).toEqual([ids.allLab, ids.allVitals, ids.labsLab, ids.midLab1, ids.midLab2].sort());
    expect(idsOf(e, 'Observation')).toEqual(await searchIds('Observation', token));
    expect(idsOf(e, 'Patient')).toEqual(await searchIds('Patient', token));
    const system = await exportAll(s, 'Patient/$export?_type=Observation');
    expect(idsOf(system, 'Observation')).toHaveLength(8);
  });

  test('a Consent revoked while the export runs stops that patient from the next page on', async () => {
    const paused = await startBulkServer({ BULK_WORKERS: '0', BULK_PAGE_SIZE: '1' });
    try {
      const patient = (await paused.create({ resourceType: 'Patient' })).id;
      const other = (await paused.create({ resourceType: 'Patient' })).id;
      for (const [id, who] of [
        ['a-1', patient],
        ['a-2', patient],
        ['b-1', other],
      ] as const) {
        await paused.put(`Observation/${id}`, { ...observation(who, 'laboratory', '2026-03-01'), id });
      }
      const consent = await paused.create(sharingConsent({ patient, actor: undefined, scope: 'research' }));
      await paused.create(sharingConsent({ patient: other, actor: undefined, scope: 'research' }));
      const token = await userToken(paused, await account(paused, ['research-partner']), ['user/*.rs']);
      const statusUrl = await kickoff(paused, 'Patient/$export?_type=Observation,Patient', { token });
      await paused.hale.bulk.runNext(async (type, page) => {
        if (type === 'Observation' && page === 1) {
          expect((await paused.put(`Consent/${consent.id}`, { ...consent, status: 'inactive' })).status).toBe(200);
        }
      });
      const e = await finished(paused, statusUrl, token);
      expect(idsOf(e, 'Observation')).toEqual(['a-1', 'b-1']); // a-1 was written before the revocation
      expect(idsOf(e, 'Patient')).toEqual([other]);
      const next = await kickoff(paused, 'Patient/$export?_type=Observation', { token });
      await paused.hale.bulk.runNext();
      expect(idsOf(await finished(paused, next, token), 'Observation')).toEqual(['b-1']);
    } finally {
      await paused.stop();
    }
  });

  test('a Consent revoked before the kick-off: nothing of that patient', async () => {
    const e = await exportAll(s, `Patient/$export?_type=Observation`, { token: tokens.research });
    expect(idsOf(e, 'Observation')).not.toContain(ids.revokedLab);
    expect(idsOf(e, 'Observation')).not.toContain(ids.noneLab);
  });

  test('a Group export covers only the members it may see, and says how many it left out', async () => {
    const e = await exportAll(s, `Group/${ids.group}/$export?_type=Patient,Observation`, { token: tokens.research });
    expect(idsOf(e, 'Patient')).toEqual([ids.all]);
    expect(idsOf(e, 'Observation')).toEqual([ids.allLab, ids.allVitals].sort());
    expect(JSON.stringify(e.errors)).toMatch(/1 of 2 members/);
  });

  test('a Group it cannot see is 404', async () => {
    const res = await call(s, 'GET', `Group/${ids.hiddenGroup}/$export`, { token: tokens.research, headers: ASYNC });
    expect(res.status).toBe(404);
  });

  test('a type the token does not cover is 403', async () => {
    const token = await userToken(s, await account(s, ['research-partner']), ['user/Observation.rs']);
    const res = await call(s, 'GET', 'Patient/$export?_type=Condition', { token, headers: ASYNC });
    expect(res.status).toBe(403);
    const e = await exportAll(s, 'Patient/$export', { token });
    expect(Object.keys(e.byType)).toEqual(['Observation']);
  });
});

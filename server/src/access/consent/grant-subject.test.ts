import type { Bundle, Observation } from '@medplum/fhirtypes';
import { account, observation, observationCategory, sharingConsent, userToken } from '../../test/consent-fixtures';
import type { TestServer } from '../../test/test-server';
import { startTestServer } from '../../test/test-server';

/**
 * Whom a grant releases (docs/consent.md, "Whom a resource is about" and "Older versions"): a
 * Consent shares what is about its patient, not all that merely names them; and an older version
 * is shown to a grantee only while the current version is shared with them too.
 */
let s: TestServer;
const ids: Record<string, string> = {};
const tokens: Record<string, string> = {};
const as = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });
const started = new Date().toISOString();

/** `Type/id` (or `Type/id/_history/n` for history entries) of a bundle's resources, by fixture name. */
function names(bundle: Bundle, versions = false): string[] {
  const byRef = new Map(Object.entries(ids).map(([name, id]) => [id, name]));
  return (bundle.entry ?? [])
    .flatMap((e) => {
      const name = byRef.get(e.resource?.id ?? '');
      return name ? [versions ? `${name}/${e.resource?.meta?.versionId}` : name] : [];
    })
    .sort();
}

/** A history's versions, or 404 (an instance history of a resource the caller may not see). */
async function history(path: string, who: string): Promise<string[] | 404> {
  const res = await s.get<Bundle>(path, as(who));
  if (res.status === 404) {
    return 404;
  }
  expect(res.status).toBe(200);
  return names(res.body, true);
}

/** The versions of one fixture a type or system history shows. */
async function historyOf(name: string, path: string, who: string): Promise<string[]> {
  const shown = await history(path, who);
  return shown === 404 ? ['404'] : shown.filter((n) => n.startsWith(`${name}/`));
}

/** Alice's own token puts her Observation in another category (a new version). */
async function recategorise(name: string, category: string): Promise<void> {
  const current = (await s.get<Observation>(`Observation/${ids[name]}`, as('alice'))).body;
  const res = await s.put(
    `Observation/${ids[name]}`,
    { ...current, category: observationCategory(category) },
    as('alice')
  );
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  s = await startTestServer();
  for (const [name, family] of [
    ['alice', 'Avery'],
    ['bob', 'Bishop'],
  ] as const) {
    ids[name] = (await s.create({ resourceType: 'Patient', name: [{ family }] })).id;
    const patientAccount = await account(s, ['patient'], { type: 'Patient', id: ids[name] });
    tokens[name] = await userToken(s, patientAccount);
    tokens[`${name}App`] = await s.token({ scopes: ['patient/*.rs'], accountId: patientAccount, patient: ids[name] });
  }
  const alice = ids.alice as string;
  const bob = ids.bob as string;
  for (const name of ['carol', 'dan']) {
    ids[name] = (await s.create({ resourceType: 'Practitioner', name: [{ family: name }] })).id;
    const providerAccount = await account(s, ['provider'], { type: 'Practitioner', id: ids[name] });
    tokens[name] = await userToken(s, providerAccount, ['user/*.rs']);
  }
  const performedByAlice = { performer: [{ reference: `Patient/${alice}` }] };
  ids.bobsOwn = (await s.create(observation(bob, 'vital-signs', '2026-10-10', performedByAlice))).id;
  ids.aliceVitals = (
    await s.create(
      observation(alice, 'vital-signs', '2026-10-11', {
        performer: [{ reference: `Patient/${bob}` }],
        hasMember: [{ reference: `Observation/${ids.bobsOwn}` }],
      })
    )
  ).id;
  // Recategorised below: a code no measurement profile claims (a heart rate must stay vital-signs).
  const painScore = { code: { coding: [{ system: 'http://loinc.org', code: '72514-3' }] } };
  ids.moving = (await s.create(observation(alice, 'vital-signs', '2026-10-12', painScore))).id;
  ids.snapshot = (await s.create(observation(alice, 'vital-signs', '2026-10-13', painScore))).id;
  ids.deleted = (await s.create(observation(alice, 'vital-signs', '2026-10-14'))).id;
  await s.create(
    sharingConsent({ patient: alice, actor: { reference: `Practitioner/${ids.carol}` }, categories: ['vitals'] })
  );
  await s.create(
    sharingConsent({
      patient: alice,
      actor: { reference: `Practitioner/${ids.dan}` },
      instances: [`Observation/${ids.snapshot}/_history/1`],
    })
  );
});

afterAll(async () => {
  await s?.stop();
});

describe("a grant releases what is about its patient, not another patient's resource that names them", () => {
  test("Carol, with Alice's vitals grant, cannot read Bob's Observation that Alice performed", async () => {
    expect((await s.get(`Observation/${ids.bobsOwn}`, as('carol'))).status).toBe(404);
    expect((await s.get(`Observation/${ids.aliceVitals}`, as('carol'))).status).toBe(200);
  });

  test('nor find it by performer or subject', async () => {
    const byPerformer = await s.get<Bundle>(`Observation?performer=Patient/${ids.alice}`, as('carol'));
    expect(names(byPerformer.body)).toEqual([]);
    const bySubject = await s.get<Bundle>(`Observation?subject=Patient/${ids.bob}&_total=accurate`, as('carol'));
    expect([names(bySubject.body), bySubject.body.total]).toEqual([[], 0]);
    const unfiltered = await s.get<Bundle>('Observation?_count=100', as('carol'));
    expect(names(unfiltered.body)).toEqual(['aliceVitals', 'deleted', 'moving', 'snapshot']);
  });

  test('nor reach it through _include, _revinclude or history', async () => {
    const included = await s.get<Bundle>(
      `Observation?_id=${ids.aliceVitals}&_include=Observation:has-member&_include=Observation:performer`,
      as('carol')
    );
    expect(names(included.body)).toEqual(['aliceVitals']);
    const revincluded = await s.get<Bundle>(
      `Patient?_id=${ids.alice}&_revinclude=Observation:performer&_revinclude=Observation:subject`,
      as('carol')
    );
    expect(names(revincluded.body)).toEqual(['alice', 'aliceVitals', 'deleted', 'moving', 'snapshot']);
    expect(await history(`Observation/${ids.bobsOwn}/_history`, 'carol')).toBe(404);
    expect((await s.get(`Observation/${ids.bobsOwn}/_history/1`, as('carol'))).status).toBe(404);
    expect(await historyOf('bobsOwn', 'Observation/_history?_count=1000', 'carol')).toEqual([]);
    expect(await historyOf('bobsOwn', `_history?_count=1000&_since=${started}`, 'carol')).toEqual([]);
  });

  test("nor in Alice's $everything", async () => {
    const everything = await s.get<Bundle>(`Patient/${ids.alice}/$everything?_count=100`, as('carol'));
    expect(names(everything.body)).toEqual(['alice', 'aliceVitals', 'deleted', 'moving', 'snapshot']);
  });

  test("Alice's own Observation is shared though it names Bob as performer", async () => {
    const byPerformer = await s.get<Bundle>(`Observation?performer=Patient/${ids.bob}`, as('carol'));
    expect(names(byPerformer.body)).toEqual(['aliceVitals']);
  });

  test('Bob reads his own Observation', async () => {
    expect((await s.get(`Observation/${ids.bobsOwn}`, as('bob'))).status).toBe(200);
    expect((await s.get(`Observation/${ids.bobsOwn}`, as('bobApp'))).status).toBe(200);
  });

  test("Alice's own tokens still find it in her compartment, where Observation.performer puts it", async () => {
    for (const who of ['alice', 'aliceApp']) {
      expect((await s.get(`Observation/${ids.bobsOwn}`, as(who))).status).toBe(200);
      const byPerformer = await s.get<Bundle>(`Observation?performer=Patient/${ids.alice}`, as(who));
      expect(names(byPerformer.body)).toEqual(['bobsOwn']);
      const everything = await s.get<Bundle>(`Patient/${ids.alice}/$everything?_count=100`, as(who));
      expect(names(everything.body)).toContain('bobsOwn');
    }
  });
});

describe("a grantee sees a resource's older versions only while its current version is shared", () => {
  // The instance history answers 404 while the current version is hidden, as the read does.
  const everyLevel = async (who: string) => ({
    instance: await history(`Observation/${ids.moving}/_history`, who),
    type: await historyOf('moving', 'Observation/_history?_count=1000', who),
    system: await historyOf('moving', `_history?_count=1000&_since=${started}`, who),
  });
  const vread = async (version: number): Promise<number> =>
    (await s.get(`Observation/${ids.moving}/_history/${version}`, as('carol'))).status;

  test('moved out of vitals: the read, vread and history at every level hide every version', async () => {
    expect(await everyLevel('carol')).toEqual({ instance: ['moving/1'], type: ['moving/1'], system: ['moving/1'] });
    await recategorise('moving', 'laboratory');
    expect((await s.get(`Observation/${ids.moving}`, as('carol'))).status).toBe(404);
    expect([await vread(1), await vread(2)]).toEqual([404, 404]);
    expect(await everyLevel('carol')).toEqual({ instance: 404, type: [], system: [] });
  });

  test('moved back: the versions that were vitals show again, the laboratory one does not', async () => {
    await recategorise('moving', 'vital-signs');
    expect((await s.get(`Observation/${ids.moving}`, as('carol'))).status).toBe(200);
    expect([await vread(1), await vread(2), await vread(3)]).toEqual([200, 404, 200]);
    const shown = ['moving/1', 'moving/3'];
    expect(await everyLevel('carol')).toEqual({ instance: shown, type: shown, system: shown });
  });

  test('Alice herself sees every version throughout', async () => {
    const all = ['moving/1', 'moving/2', 'moving/3'];
    expect(await everyLevel('alice')).toEqual({ instance: all, type: all, system: all });
  });

  test('a deleted resource shows a category grantee none of its versions', async () => {
    expect(await historyOf('deleted', 'Observation/_history?_count=1000', 'carol')).toEqual(['deleted/1']);
    expect((await s.del(`Observation/${ids.deleted}`, as('alice'))).status).toBe(200);
    expect((await s.get(`Observation/${ids.deleted}/_history/1`, as('carol'))).status).toBe(404);
    expect(await historyOf('deleted', 'Observation/_history?_count=1000', 'carol')).toEqual([]);
    expect((await s.get(`Observation/${ids.deleted}/_history/1`, as('alice'))).status).toBe(200);
  });

  test('a version shared by name stays visible after the resource moves on', async () => {
    await recategorise('snapshot', 'laboratory');
    expect((await s.get(`Observation/${ids.snapshot}`, as('dan'))).status).toBe(404);
    expect((await s.get(`Observation/${ids.snapshot}/_history/1`, as('dan'))).status).toBe(200);
    expect((await s.get(`Observation/${ids.snapshot}/_history/2`, as('dan'))).status).toBe(404);
    expect(await historyOf('snapshot', 'Observation/_history?_count=1000', 'dan')).toEqual(['snapshot/1']);
    expect(await history(`Observation/${ids.snapshot}/_history`, 'dan')).toBe(404); // the resource itself is not shared
  });
});

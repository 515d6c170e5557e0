import type { AuditEvent, Bundle, Consent, Observation, Resource } from '@medplum/fhirtypes';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DATA_SHARING_REQUEST, TASK_CODE_SYSTEM } from './vocabulary';
import { account, observation, relationship, sharingConsent, userToken } from '../../test/consent-fixtures';
import type { TestServer } from '../../test/test-server';
import { startTestServer } from '../../test/test-server';

/**
 * The leak matrix: every kind of caller × every read path, asserting exactly which of Alice's
 * resources each one sees (and that hidden ones answer 404, and counts match).
 */
let s: TestServer;
const ids: Record<string, string> = {};
const tokens: Record<string, string> = {};
const as = (actor: string) => ({ authorization: `Bearer ${tokens[actor]}` });
const REDIS = process.env.TEST_REDIS_URL;

/** The resources of Alice's record each actor must see (Patient included), by fixture name. */
const EXPECTED: Record<string, string[]> = {
  patient: [
    'alice',
    'vitalsRecent',
    'vitalsOld',
    'lab',
    'labRestricted',
    'report',
    'condition',
    'med',
    'plan',
    'doc',
    'binary',
    'consentVitals',
    'audit',
    'request',
  ],
  vitalsProvider: ['alice', 'vitalsRecent', 'vitalsOld'],
  labsOctober: ['alice', 'lab', 'labRestricted', 'report'],
  snapshot: ['alice', 'vitalsOld'],
  expired: [],
  tempEnded: [],
  temporary: ['alice', 'condition', 'med'], // an active 30-day relationship sharing medical history and medications
  unrelated: ['request'], // their own data-sharing request, nothing else
  orgStaff: ['alice', 'med'],
  allButRestricted: [
    'alice',
    'vitalsRecent',
    'vitalsOld',
    'lab',
    'report',
    'condition',
    'med',
    'plan',
    'doc',
    'binary',
  ],
  research: ['alice', 'lab', 'labRestricted', 'report'],
  admin: [],
  otherPatientApp: [],
  documents: ['alice', 'doc', 'binary'],
};
/** Every page of a search or history (each request's AuditEvent makes system history long). */
async function allPages(path: string, actor: string): Promise<string[]> {
  const seen: string[] = [];
  let next: string | undefined = path;
  while (next) {
    const page: Bundle = (await s.get<Bundle>(next, as(actor))).body;
    seen.push(...names(page));
    next = page.link?.find((l) => l.relation === 'next')?.url;
  }
  return seen.sort();
}
/** Alice's clinical resources: her whole record but the Patient itself and what only she sees. */
const ALICE_RESOURCES = (EXPECTED.patient ?? []).filter((n) => !['alice', 'consentVitals', 'audit'].includes(n));
const typeOf: Record<string, string> = {
  alice: 'Patient',
  vitalsRecent: 'Observation',
  vitalsOld: 'Observation',
  lab: 'Observation',
  labRestricted: 'Observation',
  report: 'DiagnosticReport',
  condition: 'Condition',
  med: 'MedicationRequest',
  plan: 'CarePlan',
  doc: 'DocumentReference',
  binary: 'Binary',
  consentVitals: 'Consent',
  request: 'Task',
  audit: 'AuditEvent',
};
const ref = (name: string): string => `${typeOf[name]}/${ids[name]}`;
const names = (bundle: Bundle): string[] => {
  const byId = new Map(Object.entries(ids).map(([k, v]) => [`${typeOf[k] ?? ''}/${v}`, k]));
  return (bundle.entry ?? [])
    .map((e) => byId.get(`${e.resource?.resourceType}/${e.resource?.id}`))
    .filter((n): n is string => n !== undefined)
    .sort();
};
/** Bob's app sees Bob's own vitals in searches that are not limited to Alice. */
const withOwnElsewhere = (actor: string, expected: string[]): string[] =>
  actor === 'otherPatientApp' ? [...expected, 'bobVitals'].sort() : expected;
const expectedOf = (actor: string, type?: string): string[] =>
  (EXPECTED[actor] ?? []).filter((n) => !type || typeOf[n] === type).sort();

async function create<T extends Resource>(name: string, resource: T): Promise<void> {
  ids[name] = (await s.create(resource)).id;
  typeOf[name] ??= resource.resourceType;
}

async function provider(name: string): Promise<string> {
  const practitioner = await s.create({ resourceType: 'Practitioner', name: [{ family: name }] });
  ids[name] = practitioner.id;
  tokens[name] = await userToken(s, await account(s, ['provider'], { type: 'Practitioner', id: practitioner.id }));
  return `Practitioner/${practitioner.id}`;
}

beforeAll(async () => {
  s = await startTestServer(REDIS ? { REDIS_URL: REDIS } : {});
  await create('alice', { resourceType: 'Patient', name: [{ family: 'Avery', given: ['Alice'] }] });
  await create('bob', { resourceType: 'Patient', name: [{ family: 'Bishop', given: ['Bob'] }] });
  const alice = ids.alice as string;
  const subject = { reference: `Patient/${alice}` };
  await create('vitalsRecent', observation(alice, 'vital-signs', '2026-10-10'));
  await create('vitalsOld', observation(alice, 'vital-signs', '2025-01-10'));
  await create('lab', observation(alice, 'laboratory', '2026-10-12'));
  await create(
    'labRestricted',
    observation(alice, 'laboratory', '2026-10-13', {
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] },
    })
  );
  await create('report', {
    resourceType: 'DiagnosticReport',
    status: 'final',
    code: { text: 'Metabolic panel' },
    subject,
    effectiveDateTime: '2026-10-12',
  });
  await create('condition', {
    resourceType: 'Condition',
    subject,
    code: { text: 'Asthma' },
    onsetDateTime: '2019-05-01',
  });
  await create('med', {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    subject,
    medicationCodeableConcept: { text: 'Salbutamol' },
    authoredOn: '2026-09-01',
  });
  await create('plan', { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject });
  await create('binary', {
    resourceType: 'Binary',
    contentType: 'text/plain',
    data: 'bm90ZXM=',
    securityContext: subject,
  });
  await create('doc', {
    resourceType: 'DocumentReference',
    status: 'current',
    subject,
    content: [{ attachment: { url: `Binary/${ids.binary}`, contentType: 'text/plain' } }],
  });
  await create('bobVitals', observation(ids.bob as string, 'vital-signs', '2026-10-10'));
  await create('audit', {
    resourceType: 'AuditEvent',
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110' },
    recorded: '2026-10-10T00:00:00Z',
    agent: [{ requestor: true, who: { display: 'someone' } }],
    source: { observer: { display: 'Hale' } },
    entity: [{ what: { reference: `Patient/${alice}` } }],
  });

  // The patient and another patient's app.
  tokens.patient = await userToken(s, await account(s, ['patient'], { type: 'Patient', id: alice }));
  const bobAccount = await account(s, ['patient'], { type: 'Patient', id: ids.bob as string });
  tokens.otherPatientApp = await s.token({ scopes: ['patient/*.rs'], accountId: bobAccount });

  // A permanent relationship sharing vitals through its CareTeam.
  const vitals = await provider('vitalsProvider');
  const team = await s.create(relationship(alice, vitals, 'permanent'));
  await create(
    'consentVitals',
    sharingConsent({ patient: alice, actor: { reference: `CareTeam/${team.id}` }, categories: ['vitals'] })
  );
  // Labs whose clinical date is in October 2026, shared directly with the practitioner (policyRule form).
  await s.create(
    sharingConsent({
      patient: alice,
      actor: { reference: await provider('labsOctober') },
      categories: ['labs'],
      dataPeriod: { start: '2026-10-01', end: '2026-10-31' },
      form: 'policy-rule',
    })
  );
  // A one-off consultation that shares exactly one resource.
  const snapshot = await provider('snapshot');
  const oneOff = await s.create(relationship(alice, snapshot, 'one-off'));
  await s.create(
    sharingConsent({ patient: alice, actor: { reference: `CareTeam/${oneOff.id}` }, instances: [ref('vitalsOld')] })
  );
  // Expired grant; temporary relationship that ended; nothing at all.
  await s.create(
    sharingConsent({
      patient: alice,
      actor: { reference: await provider('expired') },
      categories: ['all'],
      period: { start: '2025-01-01', end: '2026-01-01' },
    })
  );
  const temp = await provider('tempEnded');
  const ended = await s.create(relationship(alice, temp, 'temporary', { start: '2026-08-01', end: '2026-10-30' }));
  const current = await provider('temporary');
  const now = Date.now();
  const day = 86_400_000;
  const window = {
    start: new Date(now - day).toISOString().slice(0, 10),
    end: new Date(now + 29 * day).toISOString().slice(0, 10),
  };
  const thirtyDays = await s.create(relationship(alice, current, 'temporary', window));
  await s.create(
    sharingConsent({
      patient: alice,
      actor: { reference: `CareTeam/${thirtyDays.id}` },
      categories: ['medical-history', 'medications'],
      period: window,
    })
  );
  await s.create(sharingConsent({ patient: alice, actor: { reference: `CareTeam/${ended.id}` }, categories: ['all'] }));
  const unrelated = await provider('unrelated');
  // A provider's request for access: the patient's and the requester's alone, whatever else is shared.
  await create('request', {
    resourceType: 'Task',
    status: 'requested',
    intent: 'proposal',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: DATA_SHARING_REQUEST }] },
    for: subject,
    owner: subject,
    requester: { reference: unrelated },
    authoredOn: '2026-11-01',
  });
  // Organization-level grant: its active staff (through an active PractitionerRole) see medications.
  const org = await s.create({ resourceType: 'Organization', name: 'Riverside Pharmacy' });
  const staff = await provider('orgStaff');
  await s.create({
    resourceType: 'PractitionerRole',
    active: true,
    practitioner: { reference: staff },
    organization: { reference: `Organization/${org.id}` },
  });
  await s.create(
    sharingConsent({ patient: alice, actor: { reference: `Organization/${org.id}` }, categories: ['medications'] })
  );
  // Everything except what carries the "restricted" confidentiality label.
  await s.create(
    sharingConsent({ patient: alice, actor: { reference: await provider('allButRestricted') }, denySecurity: ['R'] })
  );
  // Documents category (DocumentReference and its Binary).
  await s.create(
    sharingConsent({ patient: alice, actor: { reference: await provider('documents') }, categories: ['documents'] })
  );
  // Research opt-in for labs; Bob did not opt in.
  await s.create(sharingConsent({ patient: alice, actor: undefined, scope: 'research', categories: ['labs'] }));
  tokens.research = await userToken(s, await account(s, ['research-partner']));
  tokens.admin = await userToken(s, await account(s, ['admin']));
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

const ACTORS = Object.keys(EXPECTED);

describe.each(ACTORS)('%s', (actor) => {
  test('read answers 200 for exactly the visible resources and 404 for the rest', async () => {
    for (const name of ['alice', ...ALICE_RESOURCES]) {
      const res = await s.get(ref(name), as(actor));
      expect([name, res.status]).toEqual([name, expectedOf(actor).includes(name) ? 200 : 404]);
    }
  });

  test('search by patient, with _total, counts only what is visible', async () => {
    for (const type of [
      'Observation',
      'DiagnosticReport',
      'Condition',
      'MedicationRequest',
      'CarePlan',
      'DocumentReference',
    ]) {
      const res = await s.get<Bundle>(`${type}?patient=${ids.alice}&_total=accurate`, as(actor));
      expect(res.status).toBe(200);
      expect(names(res.body)).toEqual(expectedOf(actor, type));
      expect(res.body.total).toBe(expectedOf(actor, type).length);
    }
  });

  test('search across patients sees no other patient and no hidden row', async () => {
    const res = await s.get<Bundle>('Observation?_count=100&_total=accurate', as(actor));
    expect(names(res.body)).toEqual(withOwnElsewhere(actor, expectedOf(actor, 'Observation')));
    expect(res.body.total).toBe(withOwnElsewhere(actor, expectedOf(actor, 'Observation')).length);
  });

  test('paging counts only visible rows', async () => {
    const res = await s.get<Bundle>(`Observation?patient=${ids.alice}&_count=1&_total=accurate`, as(actor));
    const seen: string[] = [...names(res.body)];
    let next = res.body.link?.find((l) => l.relation === 'next')?.url;
    while (next) {
      const page = await s.get<Bundle>(next, as(actor));
      seen.push(...names(page.body));
      next = page.body.link?.find((l) => l.relation === 'next')?.url;
    }
    expect(seen.sort()).toEqual(expectedOf(actor, 'Observation'));
  });

  test('_revinclude and _include return only visible resources', async () => {
    const rev = await s.get<Bundle>(`Patient?_id=${ids.alice}&_revinclude=Observation:subject`, as(actor));
    expect(names(rev.body)).toEqual([...expectedOf(actor, 'Patient'), ...expectedOf(actor, 'Observation')].sort());
    const inc = await s.get<Bundle>(
      `DocumentReference?patient=${ids.alice}&_include=DocumentReference:subject`,
      as(actor)
    );
    expect(names(inc.body)).toEqual(
      expectedOf(actor, 'DocumentReference').length ? [...expectedOf(actor, 'DocumentReference'), 'alice'].sort() : []
    );
    // :iterate — from the documents to their patient, then from the patient to every Observation.
    const iterated = await s.get<Bundle>(
      `DocumentReference?patient=${ids.alice}&_include=DocumentReference:subject&_revinclude:iterate=Observation:subject`,
      as(actor)
    );
    expect(names(iterated.body)).toEqual(
      expectedOf(actor, 'DocumentReference').length
        ? [...expectedOf(actor, 'DocumentReference'), 'alice', ...expectedOf(actor, 'Observation')].sort()
        : []
    );
  });

  test('chains and _has cannot test hidden data', async () => {
    const chained = await s.get<Bundle>('Observation?subject:Patient.name=Avery', as(actor));
    expect(names(chained.body)).toEqual(
      expectedOf(actor, 'Observation').filter(() => expectedOf(actor).includes('alice'))
    );
    const has = await s.get<Bundle>('Patient?_has:Observation:subject:category=laboratory', as(actor));
    const seesLab = expectedOf(actor).includes('lab') || expectedOf(actor).includes('labRestricted');
    expect(names(has.body)).toEqual(seesLab ? ['alice'] : []);
  });

  test('history at every level and vread show only visible versions', async () => {
    for (const name of ['vitalsRecent', 'lab', 'labRestricted', 'med']) {
      const visible = expectedOf(actor).includes(name);
      const hist = await s.get<Bundle>(`${ref(name)}/_history`, as(actor));
      expect([name, hist.body.entry?.length ?? 0]).toEqual([name, visible ? 1 : 0]);
      expect([name, (await s.get(`${ref(name)}/_history/1`, as(actor))).status]).toEqual([name, visible ? 200 : 404]);
    }
    const typeHistory = await s.get<Bundle>('Observation/_history?_count=100', as(actor));
    expect(names(typeHistory.body)).toEqual(withOwnElsewhere(actor, expectedOf(actor, 'Observation')));
    const system = await allPages('_history?_count=500', actor);
    expect(system.filter((n) => ALICE_RESOURCES.includes(n))).toEqual(
      expectedOf(actor).filter((n) => ALICE_RESOURCES.includes(n))
    );
  });

  test('Patient/$everything returns exactly the visible record', async () => {
    const res = await s.get<Bundle>(`Patient/${ids.alice}/$everything?_count=100`, as(actor));
    if (!expectedOf(actor).includes('alice')) {
      expect(res.status).toBe(404);
      return;
    }
    // The access log is not part of $everything unless _type asks for it (docs/audit.md).
    expect(await allPages(`Patient/${ids.alice}/$everything?_count=500`, actor)).toEqual(
      expectedOf(actor).filter((n) => n !== 'audit')
    );
  });

  test('batch GET entries answer like single reads', async () => {
    const entries = ALICE_RESOURCES.map((name) => ({ request: { method: 'GET', url: ref(name) } }));
    const res = await s.post<Bundle>('', { resourceType: 'Bundle', type: 'batch', entry: entries }, as(actor));
    expect(res.status).toBe(200);
    const statuses = (res.body.entry ?? []).map((e) => e.response?.status?.slice(0, 3));
    expect(statuses).toEqual(ALICE_RESOURCES.map((n) => (expectedOf(actor).includes(n) ? '200' : '404')));
  });

  test('GraphQL lists only visible resources', async () => {
    const res = await s.post<{ data: { ObservationList: { id: string }[] } }>(
      '$graphql',
      { query: `{ ObservationList(subject: "Patient/${ids.alice}") { id } }` },
      { ...as(actor), 'content-type': 'application/json' }
    );
    const seen = (res.body.data?.ObservationList ?? []).map((o) => o.id).sort();
    expect(seen).toEqual(
      expectedOf(actor, 'Observation')
        .map((n) => ids[n])
        .sort()
    );
  });
});

describe('writes', () => {
  let writer: string;
  beforeAll(async () => {
    writer = await provider('writer');
    const team = await s.create(relationship(ids.alice as string, writer, 'permanent'));
    await s.create(
      sharingConsent({
        patient: ids.alice as string,
        actor: { reference: `CareTeam/${team.id}` },
        categories: ['labs', 'care-plans'],
        actions: ['access', 'correct'],
      })
    );
  });

  test('a provider with a correct grant through a permanent relationship adds data, stamped as performer', async () => {
    const res = await s.post<Observation>(
      'Observation',
      observation(ids.alice as string, 'laboratory', '2026-11-01'),
      as('writer')
    );
    expect(res.status).toBe(201);
    expect(res.body.performer).toEqual([{ reference: writer }]);
    // The patient sees it in their record.
    expect((await s.get(`Observation/${res.body.id}`, as('patient'))).status).toBe(200);
  });

  test('writes outside the granted categories, Consents and deletes are refused', async () => {
    const vitals = await s.post(
      'Observation',
      observation(ids.alice as string, 'vital-signs', '2026-11-01'),
      as('writer')
    );
    expect(vitals.status).toBe(403);
    const consent = await s.post(
      'Consent',
      sharingConsent({ patient: ids.alice as string, actor: { reference: writer } }),
      as('writer')
    );
    expect(consent.status).toBe(403);
    expect((await s.del(ref('lab'), as('writer'))).status).toBe(403);
  });

  test('access without the correct action, or an unrelated provider, cannot write', async () => {
    for (const actor of ['vitalsProvider', 'unrelated', 'admin']) {
      const res = await s.post('Observation', observation(ids.alice as string, 'vital-signs', '2026-11-01'), as(actor));
      expect([actor, res.status]).toEqual([actor, 403]);
    }
  });
});

describe('revocation', () => {
  let consent: Consent & { id: string };
  let replica: Replica | undefined;

  beforeAll(async () => {
    await provider('revoked');
    consent = await s.create(
      sharingConsent({
        patient: ids.alice as string,
        actor: { reference: `Practitioner/${ids.revoked}` },
        categories: ['all'],
      })
    );
  });
  afterAll(async () => {
    await replica?.stop();
  });

  test('the very next request after a revocation no longer returns the data, on this server and on a second process', async () => {
    if (REDIS) {
      replica = await startReplica();
    }
    const servers = [s.base, ...(replica ? [replica.fhirBaseUrl] : [])];
    const read = async (base: string): Promise<number> =>
      (await fetch(`${base}/${ref('lab')}`, { headers: as('revoked') })).status;
    for (const base of servers) {
      expect(await read(base)).toBe(200); // warms each server's cache
    }
    const revoked = await s.put(`Consent/${consent.id}`, { ...consent, status: 'inactive' });
    expect(revoked.status).toBe(200);
    for (const base of servers) {
      expect(await read(base)).toBe(404);
    }
  });
});

/**
 * A second Hale **process** on the same database and Redis, answering for the same base URL (a
 * replica behind a balancer): its grant cache lives in another process and only Redis links them.
 */
async function startReplica(): Promise<Replica> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../../main.ts')], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      BASE_URL: s.hale.url,
      DATABASE_URL: s.databaseUrl,
      REDIS_URL: REDIS as string,
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
      GRAPHQL_WARMUP: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica did not start in 60 s:\n${output}`)), 60_000);
    const onData = (d: Buffer): void => {
      output += d.toString();
      if (output.includes('Hale FHIR server ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`replica exited with ${code}:\n${output}`)));
  });
  return {
    fhirBaseUrl: `http://127.0.0.1:${port}/fhir/R4`,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Replica {
  fhirBaseUrl: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('guardian', () => {
  let child: string;
  let childObs: string;
  let parentAccount: string;
  beforeAll(async () => {
    child = (await s.create({ resourceType: 'Patient', name: [{ family: 'Avery', given: ['Casey'] }] })).id;
    childObs = (await s.create(observation(child, 'vital-signs', '2026-10-01'))).id;
    const parent = (await s.create({ resourceType: 'Patient', name: [{ family: 'Avery', given: ['Dana'] }] })).id;
    parentAccount = await account(s, ['patient'], { type: 'Patient', id: parent });
    tokens.guardian = await userToken(s, parentAccount);
    await s.create(
      sharingConsent({
        patient: child,
        actor: { reference: `Patient/${parent}` },
        guardian: true,
        actions: ['access', 'correct'],
      })
    );
  });

  test("a guardian reads and writes everything in the dependent's record, including its log and Consents", async () => {
    expect((await s.get(`Observation/${childObs}`, as('guardian'))).status).toBe(200);
    const consents = await s.get<Bundle>(`Consent?patient=${child}`, as('guardian'));
    expect(consents.body.entry?.length).toBe(1);
    const audit = await s.get<Bundle>(`AuditEvent?patient=${child}`, as('guardian'));
    expect(audit.status).toBe(200);
    const created = await s.post('Observation', observation(child, 'vital-signs', '2026-11-02'), as('guardian'));
    expect(created.status).toBe(201);
  });

  test("a guardian's patient/ app launched for the dependent is confined to the dependent", async () => {
    const app = await s.token({ scopes: ['patient/*.rs'], accountId: parentAccount, patient: child });
    const headers = { authorization: `Bearer ${app}` };
    expect((await s.get(`Observation/${childObs}`, headers)).status).toBe(200);
    expect((await s.get(ref('lab'), headers)).status).toBe(404);
  });

  test('the guardian sees nothing of unrelated patients', async () => {
    for (const name of ['alice', ...ALICE_RESOURCES]) {
      expect([name, (await s.get(ref(name), as('guardian'))).status]).toEqual([name, 404]);
    }
  });
});

describe('SMART scopes and Consent intersect', () => {
  test("a provider's token for Observations only sees no shared Condition, and no unshared Observation", async () => {
    const account = await account_(`Practitioner/${ids.allButRestricted}`);
    const narrow = await s.token({ scopes: ['user/Observation.rs'], accountId: account });
    const headers = { authorization: `Bearer ${narrow}` };
    expect((await s.get(ref('vitalsRecent'), headers)).status).toBe(200);
    expect((await s.get(ref('labRestricted'), headers)).status).toBe(404);
    expect((await s.get(ref('condition'), headers)).status).toBe(403);
  });

  test("a provider's patient/ launch is confined to that patient and to what the patient shares", async () => {
    const account = await account_(`Practitioner/${ids.vitalsProvider}`);
    const launched = await s.token({ scopes: ['patient/*.rs'], accountId: account, patient: ids.alice });
    const headers = { authorization: `Bearer ${launched}` };
    expect((await s.get(ref('vitalsRecent'), headers)).status).toBe(200);
    expect((await s.get(ref('lab'), headers)).status).toBe(404);
    const other = await s.token({ scopes: ['patient/*.rs'], accountId: account, patient: ids.bob });
    expect((await s.get(`Patient/${ids.bob}`, { authorization: `Bearer ${other}` })).status).toBe(404);
  });
});

describe('audit', () => {
  test("a provider's read is audited with the Consent version that allowed it, in the patient's log", async () => {
    await s.get(ref('vitalsOld'), as('snapshot'));
    const log = await s.get<Bundle>(`AuditEvent?patient=${ids.alice}&_sort=-date&_count=50`, as('patient'));
    const event = (log.body.entry ?? [])
      .map((e) => e.resource as AuditEvent)
      .find((e) => e.agent?.[0]?.who?.reference === `Practitioner/${ids.snapshot}`);
    expect(event?.entity?.some((x) => x.what?.reference?.startsWith(ref('vitalsOld')))).toBe(true);
    expect(event?.agent?.[0]?.policy?.some((p) => /^Consent\/[^/]+\/_history\/1$/.test(p))).toBe(true);
  });
});

/** A second account for an existing provider (its own token, same identity). */
async function account_(practitioner: string): Promise<string> {
  return account(s, ['provider'], { type: 'Practitioner', id: practitioner.split('/')[1] as string });
}

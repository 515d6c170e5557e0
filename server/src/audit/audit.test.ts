import type { AuditEvent, Bundle, Observation, Patient } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { CLIENT_ID_SYSTEM } from '../access/consent/vocabulary';
import { sql } from '../db/sql';
import { ACCOUNT_ID_SYSTEM } from './build-event';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';

let s: TestServer;
let ana: Patient & { id: string };
let ben: Patient & { id: string };
let anaObs: Observation & { id: string };
let benObs: Observation & { id: string };

const obs = (patient: string, value: number): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  subject: { reference: `Patient/${patient}` },
  valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
});

const as = (token: string) => ({ authorization: `Bearer ${token}` });

/** A verified patient account whose profile is the given Patient (as the accounts flow leaves it). */
async function patientAccount(patientId: string): Promise<string> {
  const id = randomUUID();
  await s.hale.db.query(sql`INSERT INTO account (id, email, email_verified, status, roles, profile_type, profile_id)
    VALUES (${id}, ${`${id}@example.org`}, true, 'active', '{patient}', 'Patient', ${patientId})`);
  return id;
}

/** Sends a request with a fresh X-Request-Id and returns the response with the AuditEvents it produced. */
async function audited(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const reqId = `audit-test-${randomUUID()}`;
  const res = await s.request(method, path, body, { 'x-request-id': reqId, ...headers });
  const rows = await s.hale.db.query<{ content: string }>(
    sql`SELECT content FROM resource WHERE type = 'AuditEvent' AND content LIKE ${`%${reqId}%`}`
  );
  return { res, events: rows.map((r) => JSON.parse(r.content) as AuditEvent) };
}

const refs = (e: AuditEvent | undefined): string[] => (e?.entity ?? []).map((x) => x.what?.reference ?? '');
const single = (events: AuditEvent[]): AuditEvent => {
  expect(events).toHaveLength(1);
  return events[0] as AuditEvent;
};

beforeAll(async () => {
  s = await startTestServer();
  ana = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Avery', given: ['Ana'] }] });
  ben = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Bishop', given: ['Ben'] }] });
  anaObs = await s.create(obs(ana.id, 70));
  benObs = await s.create(obs(ben.id, 80));
});
afterAll(async () => {
  await s?.stop();
});

describe('every FHIR request is audited once, before it is answered', () => {
  test('a read records who, which app, which patient and which version, with success outcome', async () => {
    const { res, events } = await audited('GET', `Patient/${ana.id}`);
    expect(res.status).toBe(200);
    const e = single(events);
    expect(e.type?.code).toBe('rest');
    expect(e.subtype).toEqual([{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }]);
    expect(e.action).toBe('R');
    expect(e.outcome).toBe('0');
    expect(e.agent[0]).toMatchObject({ requestor: true, who: { identifier: { value: 'hale-tests' } } });
    expect(e.agent[1]).toMatchObject({
      requestor: false,
      who: { identifier: { system: CLIENT_ID_SYSTEM, value: 'hale-tests' } },
    });
    expect(e.agent[0]?.policy).toBeUndefined(); // a system caller needs no basis
    expect(e.source.observer.display).toBe('Hale');
    expect(e.entity?.[0]).toMatchObject({
      what: { reference: `Patient/${ana.id}` },
      role: { code: '1' },
      type: { code: '1' },
    });
    expect(refs(e)).toContain(`Patient/${ana.id}/_history/1`);
  });

  test('a search records the query and the resources returned', async () => {
    const { res, events } = await audited('GET', `Observation?patient=${ana.id}&_count=5`);
    expect(res.status).toBe(200);
    const e = single(events);
    expect(e.subtype?.[0]?.code).toBe('search-type');
    expect(e.action).toBe('E');
    expect(refs(e)).toEqual(expect.arrayContaining([`Patient/${ana.id}`, `Observation/${anaObs.id}/_history/1`]));
    const query = e.entity?.find((x) => x.role?.code === '24');
    expect(Buffer.from(query?.query ?? '', 'base64').toString()).toBe(
      `/fhir/R4/Observation?patient=${ana.id}&_count=5`
    );
    expect(query?.detail).toEqual([{ type: 'resource-count', valueString: '1' }]);
  });

  test('a create records the new version and the patient it is about', async () => {
    const { res, events } = await audited('POST', 'Observation', obs(ana.id, 75));
    expect(res.status).toBe(201);
    const e = single(events);
    expect(e.subtype?.[0]?.code).toBe('create');
    expect(e.action).toBe('C');
    expect(refs(e)).toEqual(
      expect.arrayContaining([`Patient/${ana.id}`, `Observation/${(res.body as Observation).id}/_history/1`])
    );
  });

  test('a read of a missing resource is audited with a failure outcome', async () => {
    const { res, events } = await audited('GET', 'Patient/does-not-exist');
    expect(res.status).toBe(404);
    const e = single(events);
    expect(e.outcome).toBe('4');
    expect(e.outcomeDesc).toBeTruthy();
    expect(refs(e)).toContain('Patient/does-not-exist');
  });

  test("a refused read of another patient's data lands in that patient's log", async () => {
    const accountId = await patientAccount(ana.id);
    const token = await s.token({ scopes: ['patient/*.rs'], accountId, patient: ana.id });
    const { res, events } = await audited('GET', `Observation/${benObs.id}`, undefined, as(token));
    expect(res.status).toBeGreaterThanOrEqual(400);
    const e = single(events);
    expect(e.outcome).toBe('4');
    expect(refs(e)).toEqual(expect.arrayContaining([`Patient/${ben.id}`, `Observation/${benObs.id}`]));
    // Named by account, not by reference: the event is Ben's, not also Ana's (it would tell her whose it is).
    expect(e.agent[0]?.who).toEqual({
      identifier: { system: ACCOUNT_ID_SYSTEM, value: accountId },
      display: `Patient/${ana.id}`,
    });
  });

  test('a delete is audited with the patient of the deleted resource', async () => {
    const doomed = await s.create(obs(ana.id, 60));
    const { res, events } = await audited('DELETE', `Observation/${doomed.id}`);
    expect(res.status).toBeLessThan(300);
    const e = single(events);
    expect(e.action).toBe('D');
    expect(refs(e)).toEqual(expect.arrayContaining([`Patient/${ana.id}`, `Observation/${doomed.id}`]));
  });

  test('requests refused before the router (unknown route) are audited too; /metadata is not', async () => {
    const { res, events } = await audited('GET', 'Patient/x/y/z/w');
    expect(res.status).toBe(404);
    expect(single(events).outcome).toBe('4');
    expect((await audited('GET', 'metadata')).events).toHaveLength(0);
  });

  test('a search over two patients gives each an event naming only them, plus a summary', async () => {
    const { events } = await audited('GET', `Observation?patient=${ana.id},${ben.id}`);
    expect(events).toHaveLength(3);
    const anaEvent = events.find((e) => refs(e).includes(`Patient/${ana.id}`));
    expect(refs(anaEvent)).toContain(`Observation/${anaObs.id}/_history/1`);
    expect(JSON.stringify(anaEvent)).not.toContain(ben.id);
    const summary = events.find((e) => !refs(e).some((r) => /^Patient\/[^/]+$/.test(r)));
    expect(summary?.entity?.some((x) => x.query)).toBe(true);
  });
});

describe('transaction Bundles', () => {
  const bundle = (observations: Observation[]): Bundle => ({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: observations.map((resource) => ({ resource, request: { method: 'POST', url: 'Observation' } })),
  });

  test('commit their AuditEvent with the data, in the same transaction (no batch of its own)', async () => {
    const before = { ...s.hale.audit.stats };
    const { res, events } = await audited('POST', '', bundle([obs(ana.id, 61), obs(ana.id, 62)]));
    expect(res.status).toBe(200);
    const created = ((res.body as Bundle).entry ?? []).map((e) =>
      e.response?.location?.replace(/^.*?Observation/, 'Observation')
    );
    const event = events.find((e) => refs(e).includes(`Patient/${ana.id}`));
    expect(event?.outcome).toBe('0');
    expect(refs(event)).toEqual(expect.arrayContaining(created as string[]));
    expect(s.hale.audit.stats.batches).toBe(before.batches);
    expect(s.hale.audit.stats.events - before.events).toBe(events.length);
  });

  test('answered with return=minimal, each patient still sees what was written about them', async () => {
    const { res, events } = await audited('POST', '', bundle([obs(ana.id, 65), obs(ben.id, 66)]), {
      prefer: 'return=minimal',
    });
    expect(res.status).toBe(200);
    const [anaWritten, benWritten] = ((res.body as Bundle).entry ?? []).map((e) => {
      expect(e.resource).toBeUndefined();
      return e.response?.location?.replace(/^.*?Observation/, 'Observation') ?? '';
    });
    const anaEvent = events.find((e) => refs(e).includes(`Patient/${ana.id}`));
    expect(refs(anaEvent)).toContain(anaWritten);
    expect(refs(anaEvent)).not.toContain(benWritten);
    const benEvent = events.find((e) => refs(e).includes(`Patient/${ben.id}`));
    expect(refs(benEvent)).toContain(benWritten);
  });

  test('a transaction that fails is audited as a failure, and its data and audit rows roll back', async () => {
    const bad = { ...obs(ana.id, 63), status: 'not-a-status' } as unknown as Observation;
    const { res, events } = await audited('POST', '', bundle([obs(ana.id, 64), bad]));
    expect(res.status).toBe(400);
    expect(single(events).outcome).not.toBe('0');
    const kept = await s.hale.db.query(
      sql`SELECT 1 FROM resource WHERE type = 'Observation' AND content LIKE '%"value":64,%'`
    );
    expect(kept).toHaveLength(0);
  });
});

/** Ana's event names her Observation and nobody else; Ben's names his Patient version and none of Ana's data. */
function expectOwnLogs(events: AuditEvent[]): void {
  const anaEvent = events.find((e) => refs(e).includes(`Patient/${ana.id}`));
  expect(refs(anaEvent)).toContain(`Observation/${anaObs.id}/_history/1`);
  expect(JSON.stringify(anaEvent)).not.toContain(ben.id);
  const benEvent = events.find((e) => refs(e).includes(`Patient/${ben.id}`));
  expect(refs(benEvent)).toContain(`Patient/${ben.id}/_history/1`);
  expect(JSON.stringify(benEvent)).not.toContain(anaObs.id);
}

describe('batch Bundles', () => {
  const reads = (...urls: string[]): Bundle => ({
    resourceType: 'Bundle',
    type: 'batch',
    entry: urls.map((url) => ({ request: { method: 'GET', url } })),
  });

  test("each entry's search lands in its patient's own log, naming what it released", async () => {
    const { res, events } = await audited('POST', '', reads(`Observation?patient=${ana.id}`, `Patient/${ben.id}`));
    expect(res.status).toBe(200);
    expectOwnLogs(events);
  });

  test('an entry that names a patient counts even when it finds nothing or is refused', async () => {
    const accountId = await patientAccount(ana.id);
    const token = await s.token({ scopes: ['patient/*.rs'], accountId, patient: ana.id });
    const { res, events } = await audited(
      'POST',
      '',
      reads(`Observation?subject=Patient/${ben.id}&code=none|none`, `Condition?patient=${ben.id}`),
      as(token)
    );
    expect(res.status).toBe(200);
    const benEvent = events.find((e) => refs(e).includes(`Patient/${ben.id}`));
    expect(benEvent).toBeDefined();
    expect(refs(benEvent)).not.toContain(`Observation/${benObs.id}/_history/1`);
  });
});

describe('$graphql', () => {
  test("what a query read lands in each patient's own log", async () => {
    const query = `{ ObservationList(subject: "Patient/${ana.id}") { id } Patient(id: "${ben.id}") { id } }`;
    const { res, events } = await audited('POST', '$graphql', { query });
    expect(res.status).toBe(200);
    expectOwnLogs(events);
  });
});

describe('group commit', () => {
  test('20 concurrent requests write 20 AuditEvents in fewer batches', async () => {
    const before = { ...s.hale.audit.stats };
    const results = await Promise.all(Array.from({ length: 20 }, () => s.get(`Observation/${anaObs.id}`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const after = s.hale.audit.stats;
    expect(after.events - before.events).toBe(20);
    expect(after.batches - before.batches).toBeLessThan(20);
    expect(after.largestBatch).toBeGreaterThan(1);
  });
});

describe("a patient reads who accessed their data, and nobody else's", () => {
  const logOf = async (token: string, query = ''): Promise<AuditEvent[]> => {
    const res = await s.get<Bundle<AuditEvent>>(`AuditEvent?_count=1000${query}`, as(token));
    expect(res.status).toBe(200);
    return (res.body.entry ?? []).map((e) => e.resource as AuditEvent);
  };
  const assertOnlyAna = (log: AuditEvent[]): void => {
    expect(log.length).toBeGreaterThan(0);
    expect(log.some((e) => e.agent[0]?.who?.identifier?.value === 'hale-tests')).toBe(true); // the system's reads
    for (const e of log) {
      expect(JSON.stringify(e)).not.toContain(ben.id);
    }
  };

  test('with a patient/ token', async () => {
    const token = await s.token({
      scopes: ['patient/*.rs'],
      accountId: await patientAccount(ana.id),
      patient: ana.id,
      fhirUser: `Patient/${ana.id}`,
    });
    assertOnlyAna(await logOf(token));
    expect(await logOf(token, `&patient=${ben.id}`)).toHaveLength(0);
  });

  test("the access basis is recorded: a patient's own record", async () => {
    const token = await s.token({ scopes: ['patient/*.rs'], accountId: await patientAccount(ana.id), patient: ana.id });
    const { res, events } = await audited('GET', `Observation/${anaObs.id}`, undefined, as(token));
    expect(res.status).toBe(200);
    expect(single(events).agent[0]).toMatchObject({ who: { reference: `Patient/${ana.id}` }, policy: ['own-record'] });
  });

  test('with a user/ token of a patient user', async () => {
    const token = await s.token({ scopes: ['user/*.rs'], accountId: await patientAccount(ana.id) });
    const log = await logOf(token);
    assertOnlyAna(log);
    // Reading the log is itself audited, with the patient as the agent.
    const own = await audited('GET', 'AuditEvent?_count=1', undefined, as(token));
    expect(single(own.events).agent[0]?.who?.reference).toBe(`Patient/${ana.id}`);
  });
});

describe('AuditEvents cannot be changed through the API', () => {
  let eventId: string;
  beforeAll(async () => {
    const [row] = await s.hale.db.query<{ id: string }>(sql`SELECT id FROM resource WHERE type = 'AuditEvent' LIMIT 1`);
    eventId = row?.id as string;
  });

  test('update, patch and delete answer 403 even for a system token', async () => {
    const current = (await s.get<AuditEvent>(`AuditEvent/${eventId}`)).body;
    expect((await s.put(`AuditEvent/${eventId}`, { ...current, outcome: '8' })).status).toBe(403);
    const patch = [{ op: 'replace', path: '/outcome', value: '8' }];
    const patched = await s.request('PATCH', `AuditEvent/${eventId}`, patch, {
      'content-type': 'application/json-patch+json',
    });
    expect(patched.status).toBe(403);
    expect((await s.del(`AuditEvent/${eventId}`)).status).toBe(403);
    expect((await s.del(`AuditEvent?_id=${eventId}`)).status).toBe(403);
    expect((await s.get<AuditEvent>(`AuditEvent/${eventId}`)).body.outcome).toBe(current.outcome);
  });

  test('a transaction cannot delete one either', async () => {
    const res = await s.post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ request: { method: 'DELETE', url: `AuditEvent/${eventId}` } }],
    });
    expect(res.status).toBe(403);
    expect((await s.get(`AuditEvent/${eventId}`)).status).toBe(200);
  });

  test('only backend services may create one', async () => {
    const event = (await s.get<AuditEvent>(`AuditEvent/${eventId}`)).body;
    const { id: _id, meta: _meta, ...fresh } = event;
    const patientToken = await s.token({ scopes: ['patient/*.cruds'], accountId: await patientAccount(ana.id) });
    expect((await s.post('AuditEvent', fresh, as(patientToken))).status).toBe(403);
    expect((await s.post('AuditEvent', fresh)).status).toBe(201);
  });
});

// The embedded database's socket sometimes drops the connection after the trigger's exceptions
// (PGlite, one session); these run against a PostgreSQL server, as in CI.
const describeWithServerDatabase = process.env.TEST_DATABASE_URL ? describe : describe.skip;

describeWithServerDatabase('when the audit trail cannot be written', () => {
  beforeAll(async () => {
    await s.hale.db.query(sql`CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'audit storage broken (test)'; END $$`);
    await s.hale.db.query(sql`CREATE TRIGGER refuse_audit BEFORE INSERT ON resource FOR EACH ROW
      WHEN (NEW.type = 'AuditEvent') EXECUTE FUNCTION refuse_audit()`);
  });
  afterAll(async () => {
    await s.hale.db.query(sql`DROP TRIGGER IF EXISTS refuse_audit ON resource`);
  });

  test('a read answers 500 and releases no data', async () => {
    const res = await s.get(`Patient/${ana.id}`);
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ resourceType: 'OperationOutcome' });
    expect(JSON.stringify(res.body)).not.toContain('Avery');
    expect(JSON.stringify(res.body)).toContain('Audit trail unavailable');
  });

  test('a create answers 500, though the write itself has committed (docs/audit.md)', async () => {
    const marker = randomUUID();
    const res = await s.post('Observation', { ...obs(ana.id, 61), identifier: [{ value: marker }] });
    expect(res.status).toBe(500);
    const rows = await s.hale.db.query(
      sql`SELECT 1 FROM resource WHERE type = 'Observation' AND content LIKE ${`%${marker}%`}`
    );
    expect(rows).toHaveLength(1);
  });

  test('a search answers 500 too, and reads work again once the trail is back', async () => {
    expect((await s.get(`Observation?patient=${ana.id}`)).status).toBe(500);
    await s.hale.db.query(sql`DROP TRIGGER refuse_audit ON resource`);
    expect((await s.get(`Patient/${ana.id}`)).status).toBe(200);
  });
});

import type { Bundle, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { sql } from '../db/sql';
import type { TestServer } from '../test/test-server';
import { matchIds, startTestServer } from '../test/test-server';

let s: TestServer;
let ana: Patient & { id: string };
let ben: Patient & { id: string };
const anaObs: string[] = [];
let benObs: string;
let anaLab: string;
let practitioner: string;
let binary: string;

const VITALS = 'http://terminology.hl7.org/CodeSystem/observation-category|vital-signs';
const cat = (code: string): Observation['category'] => [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code }] },
];
const obs = (patient: string, category: string, value: number): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  category: cat(category),
  code: { coding: [{ system: 'http://loinc.org', code: category === 'laboratory' ? '2339-0' : '8867-4' }] },
  subject: { reference: `Patient/${patient}` },
  effectiveDateTime: '2026-01-01T08:00:00Z',
  valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
});

/** A verified patient account whose profile is the given Patient (inserted as the accounts flow would leave it). */
async function patientAccount(patientId: string): Promise<string> {
  const id = randomUUID();
  await s.hale.db.query(sql`INSERT INTO account (id, email, email_verified, status, roles, profile_type, profile_id)
    VALUES (${id}, ${`${id}@example.org`}, true, 'active', '{patient}', 'Patient', ${patientId})`);
  return id;
}

const as = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  s = await startTestServer();
  ana = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Avery', given: ['Ana'] }] });
  ben = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Bishop', given: ['Ben'] }] });
  anaObs.push((await s.create(obs(ana.id, 'vital-signs', 70))).id, (await s.create(obs(ana.id, 'vital-signs', 72))).id);
  anaLab = (await s.create(obs(ana.id, 'laboratory', 5))).id;
  benObs = (await s.create(obs(ben.id, 'vital-signs', 80))).id;
  practitioner = (await s.create({ resourceType: 'Practitioner', name: [{ family: 'Carter' }] })).id;
  binary = (await s.create({ resourceType: 'Binary', contentType: 'text/plain', data: 'aGVsbG8=' })).id;
  await s.create({ resourceType: 'Condition', subject: { reference: `Patient/${ana.id}` }, code: { text: 'Asthma' } });
});
afterAll(async () => {
  await s?.stop();
});

describe('authentication', () => {
  test('no token answers 401 with WWW-Authenticate; /metadata stays public', async () => {
    const res = await s.get<OperationOutcome>('Patient', { authorization: '' });
    expect(res.status).toBe(401);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    expect((await s.get('metadata', { authorization: '' })).status).toBe(200);
  });
  test('a malformed or forged token answers 401', async () => {
    expect((await s.get('Patient', { authorization: 'Bearer not-a-jwt' })).status).toBe(401);
    const [h, p] = s.systemToken.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p as string, 'base64url').toString()), scope: 'system/*.cruds patient/*.cruds' })).toString('base64url')}.sig`;
    expect((await s.get('Patient', { authorization: `Bearer ${forged}` })).status).toBe(401);
  });
  test('a revoked grant stops working on the very next request', async () => {
    const token = await s.token({ scopes: ['system/Patient.rs'] });
    expect((await s.get(`Patient/${ana.id}`, as(token))).status).toBe(200);
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
    await s.hale.db.query(sql`UPDATE oauth_grant SET revoked_at = now() WHERE id = ${claims.grant_id}`);
    expect((await s.get(`Patient/${ana.id}`, as(token))).status).toBe(401);
  });
});

describe('patient/ scopes confine every read path to the launch patient', () => {
  let token: string;
  beforeAll(async () => {
    token = await s.token({ scopes: ['patient/*.rs'], accountId: await patientAccount(ana.id), patient: ana.id });
  });
  test('read: own data 200, another patient 404 (existence does not leak)', async () => {
    expect((await s.get(`Patient/${ana.id}`, as(token))).status).toBe(200);
    expect((await s.get(`Patient/${ben.id}`, as(token))).status).toBe(404);
    expect((await s.get(`Observation/${benObs}`, as(token))).status).toBe(404);
    expect((await s.get(`Observation/${benObs}/_history/1`, as(token))).status).toBe(404);
  });
  test('search, _total and paging count only what the token may see', async () => {
    const b = (await s.get<Bundle>('Observation?_total=accurate&_count=1', as(token))).body;
    expect(b.total).toBe(3);
    expect(matchIds((await s.get<Bundle>('Observation?_count=100', as(token))).body)).toEqual(
      [...anaObs, anaLab].sort()
    );
  });
  test('_include, _revinclude, chains and _has cannot reach the other patient', async () => {
    const inc = (await s.get<Bundle>(`Observation?_id=${benObs},${anaObs[0]}&_include=Observation:subject`, as(token)))
      .body;
    expect(inc.entry?.map((e) => e.resource?.id).sort()).toEqual([anaObs[0], ana.id].sort());
    const rev = (await s.get<Bundle>(`Patient?_revinclude=Observation:subject`, as(token))).body;
    expect(rev.entry?.every((e) => e.resource?.id !== benObs && e.resource?.id !== ben.id)).toBe(true);
    expect(matchIds((await s.get<Bundle>('Observation?subject:Patient.name=bishop', as(token))).body)).toEqual([]);
    expect(
      matchIds((await s.get<Bundle>('Patient?_has:Observation:subject:value-quantity=80', as(token))).body)
    ).toEqual([]);
  });
  test('history and $everything', async () => {
    const hist = (await s.get<Bundle>('Observation/_history?_count=100', as(token))).body;
    expect(hist.entry?.every((e) => e.resource?.id !== benObs)).toBe(true);
    expect((await s.get(`Patient/${ben.id}/$everything`, as(token))).status).toBe(404);
    const all = (await s.get<Bundle>(`Patient/${ana.id}/$everything`, as(token))).body;
    expect(all.entry?.length).toBe(5); // Patient, 3 Observations, 1 Condition
  });
  test('GraphQL sees only the patient', async () => {
    const res = await s.post<any>(
      '$graphql',
      { query: '{ PatientList { id } }' },
      { ...as(token), 'content-type': 'application/json' }
    );
    expect(res.body.data.PatientList.map((p: Patient) => p.id)).toEqual([ana.id]);
  });
  test('directory data is readable, PHI outside the compartment is not', async () => {
    expect((await s.get(`Practitioner/${practitioner}`, as(token))).status).toBe(200);
    // Binary joins a patient's compartment only through its securityContext; this one names no patient.
    expect((await s.get<OperationOutcome>(`Binary/${binary}`, as(token))).status).toBe(404);
    expect((await s.get<OperationOutcome>('Bundle', as(token))).status).toBe(403);
  });
  test('writes need a write scope', async () => {
    const res = await s.post<OperationOutcome>('Observation', obs(ana.id, 'vital-signs', 60), as(token));
    expect(res.status).toBe(403);
  });
});

describe('resource types and granular scopes', () => {
  test('a type the token was not granted answers 403, not an empty 200', async () => {
    const token = await s.token({
      scopes: ['patient/Observation.rs'],
      accountId: await patientAccount(ana.id),
      patient: ana.id,
    });
    const res = await s.get<OperationOutcome>('Condition', as(token));
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect((await s.get('Observation', as(token))).status).toBe(200);
  });
  test('patient/Observation.rs?category=vital-signs sees vitals, not labs', async () => {
    const token = await s.token({
      scopes: [`patient/Observation.rs?category=${VITALS}`],
      accountId: await patientAccount(ana.id),
      patient: ana.id,
    });
    expect(matchIds((await s.get<Bundle>('Observation', as(token))).body)).toEqual([...anaObs].sort());
    expect((await s.get(`Observation/${anaLab}`, as(token))).status).toBe(404);
  });
  test('patient/ write scopes write only into that patient', async () => {
    const token = await s.token({
      scopes: ['patient/Observation.crus'],
      accountId: await patientAccount(ana.id),
      patient: ana.id,
    });
    expect((await s.post('Observation', obs(ana.id, 'vital-signs', 61), as(token))).status).toBe(201);
    expect((await s.post('Observation', obs(ben.id, 'vital-signs', 61), as(token))).status).toBe(403);
    expect(
      (await s.put(`Observation/${benObs}`, { ...obs(ben.id, 'vital-signs', 1), id: benObs }, as(token))).status
    ).toBe(403);
  });
  test('a transaction is checked entry by entry', async () => {
    const token = await s.token({
      scopes: ['patient/Observation.crus'],
      accountId: await patientAccount(ana.id),
      patient: ana.id,
    });
    const res = await s.post<OperationOutcome>(
      '',
      {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: obs(ana.id, 'vital-signs', 1), request: { method: 'POST', url: 'Observation' } },
          { resource: obs(ben.id, 'vital-signs', 1), request: { method: 'POST', url: 'Observation' } },
        ],
      },
      as(token)
    );
    expect(res.status).toBe(403);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[1]');
  });
});

describe('user/ scopes', () => {
  test('a patient user sees their own compartment and the directory', async () => {
    const token = await s.token({ scopes: ['user/*.rs'], accountId: await patientAccount(ben.id) });
    expect(matchIds((await s.get<Bundle>('Observation', as(token))).body)).toEqual([benObs]);
    expect((await s.get(`Practitioner/${practitioner}`, as(token))).status).toBe(200);
    expect((await s.get(`Patient/${ana.id}`, as(token))).status).toBe(404);
  });
});

describe('system/ scopes', () => {
  test('a backend service sees every resource of its granted types', async () => {
    const token = await s.token({ scopes: ['system/Observation.rs'] });
    expect((await s.get<Bundle>('Observation?_total=accurate', as(token))).body.total).toBeGreaterThanOrEqual(4);
    expect((await s.get('Patient', as(token))).status).toBe(403);
  });
});

import type { Bundle, CapabilityStatement, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { TestServer } from '../../test/test-server';
import { startTestServer } from '../../test/test-server';

let s: TestServer;
let patient: Patient & { id: string };
beforeAll(async () => {
  s = await startTestServer();
  patient = await s.create<Patient>({
    resourceType: 'Patient',
    name: [{ family: 'Ops', given: ['Olive'] }],
    birthDate: '1990-01-01',
  });
  for (let i = 0; i < 12; i++) {
    await s.create({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${patient.id}` },
      valueQuantity: { value: 60 + i, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    });
  }
  await s.create({
    resourceType: 'Condition',
    subject: { reference: `Patient/${patient.id}` },
    code: { text: 'Asthma' },
  });
  // someone else's data must not appear in Olive's $everything
  const other = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Other' }] });
  await s.create({ resourceType: 'Condition', subject: { reference: `Patient/${other.id}` }, code: { text: 'Flu' } });
});
afterAll(async () => {
  await s?.stop();
});

describe('/metadata', () => {
  test('is a truthful R4 CapabilityStatement', async () => {
    const res = await s.get<CapabilityStatement>('metadata');
    expect(res.status).toBe(200);
    expect(res.body.fhirVersion).toBe('4.0.1');
    const rest = res.body.rest?.[0];
    // Every R4 resource type (147) and Medplum's Bot, with the profile that defines it.
    expect(rest?.resource).toHaveLength(148);
    expect(rest?.resource?.find((r) => r.type === 'Bot')?.profile).toBe(
      'https://medplum.com/fhir/StructureDefinition/Bot'
    );
    const obs = rest?.resource?.find((r) => r.type === 'Observation');
    expect(obs?.interaction?.map((i) => i.code)).toEqual(
      expect.arrayContaining(['read', 'vread', 'create', 'update', 'patch', 'delete', 'search-type'])
    );
    expect(obs?.searchParam?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['code', 'patient', 'date', 'code-value-quantity', '_id', '_lastUpdated'])
    );
    expect(obs?.searchParam?.map((p) => p.name)).not.toContain('_project');
    expect(rest?.resource?.find((r) => r.type === 'Patient')?.operation?.map((o) => o.name)).toContain('everything');
    expect(rest?.interaction?.map((i) => i.code)).toEqual(
      expect.arrayContaining(['transaction', 'batch', 'history-system'])
    );
  });
});

describe('$everything', () => {
  test('returns the patient compartment only, paged with next links', async () => {
    const seen: string[] = [];
    let url: string | undefined = `Patient/${patient.id}/$everything?_count=5`;
    let pages = 0;
    while (url) {
      const b: Bundle = await s.search(url);
      seen.push(...(b.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`));
      url = b.link?.find((l) => l.relation === 'next')?.url;
      pages++;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(14);
    expect(seen).toContain(`Patient/${patient.id}`);
    expect(seen.filter((r) => r.startsWith('Condition/'))).toHaveLength(1);
  });
  test('answers 404 for an unknown patient', async () => {
    expect((await s.get('Patient/nobody/$everything')).status).toBe(404);
  });
});

describe('$validate', () => {
  test('valid resources get an informational outcome and nothing is stored', async () => {
    const res = await s.post<OperationOutcome>('Patient/$validate', {
      resourceType: 'Patient',
      name: [{ family: 'NotStored' }],
    });
    expect(res.status).toBe(200);
    expect(res.body.issue?.[0]?.severity).toBe('information');
    expect((await s.search('Patient?family=notstored')).entry ?? []).toHaveLength(0);
  });
  test('invalid resources get their errors, also inside Parameters', async () => {
    const res = await s.post<OperationOutcome>('Observation/$validate', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'resource', resource: { resourceType: 'Observation', status: 'bogus', code: { text: 'x' } } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.issue?.some((i) => i.severity === 'error' && i.expression?.includes('Observation.status'))).toBe(
      true
    );
  });
  test('instance level', async () => {
    const res = await s.post<OperationOutcome>(`Patient/${patient.id}/$validate`, { ...patient, gender: 'x' });
    expect(res.body.issue?.some((i) => i.severity === 'error')).toBe(true);
  });
});

describe('history', () => {
  test('type and system history, newest first, paged', async () => {
    const p = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Hist' }] });
    await s.put(`Patient/${p.id}`, { ...p, gender: 'female' });
    const type = await s.search('Patient/_history?_count=2');
    expect(type.type).toBe('history');
    expect(type.entry?.[0]?.resource?.id).toBe(p.id);
    expect(type.entry?.[0]?.response?.etag).toBe('W/"2"');
    expect(type.entry?.[0]?.request?.method).toBe('PUT');
    const next = type.link?.find((l) => l.relation === 'next')?.url as string;
    const page2 = await s.search(next);
    expect(page2.entry?.[0]?.resource?.id).not.toBe(type.entry?.[1]?.resource?.id);
    const system = await s.search('_history?_count=3');
    expect(system.entry).toHaveLength(3);
    const since = await s.search(
      `Patient/_history?_since=${encodeURIComponent(type.entry?.[0]?.response?.lastModified as string)}`
    );
    expect(since.entry?.map((e) => e.resource?.id)).toContain(p.id);
  });
  test('every version stays readable as newer ones move it from resource to resource_history', async () => {
    const p = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Versions' }] });
    await s.put(`Patient/${p.id}`, { ...p, gender: 'female' });
    await s.put(`Patient/${p.id}`, { ...p, gender: 'male' });
    expect((await s.del(`Patient/${p.id}`)).status).toBe(200);
    await s.put(`Patient/${p.id}`, { ...p, gender: 'other' });
    const genders = await Promise.all(
      [1, 2, 3, 5].map(async (v) => (await s.get<Patient>(`Patient/${p.id}/_history/${v}`)).body.gender)
    );
    expect(genders).toEqual([undefined, 'female', 'male', 'other']);
    expect((await s.get(`Patient/${p.id}/_history/4`)).status).toBe(410);
    expect((await s.get(`Patient/${p.id}/_history/6`)).status).toBe(404);
    // Paged instance history stays consistent while a new version is written between pages.
    const first = await s.search(`Patient/${p.id}/_history?_count=2`);
    await s.put(`Patient/${p.id}`, { ...p, gender: 'unknown' });
    const seen = [...(first.entry ?? [])];
    let next = first.link?.find((l) => l.relation === 'next')?.url;
    while (next) {
      const page = await s.search(next);
      seen.push(...(page.entry ?? []));
      next = page.link?.find((l) => l.relation === 'next')?.url;
    }
    expect(seen.map((e) => [e.response?.etag, e.request?.method])).toEqual([
      ['W/"5"', 'PUT'],
      ['W/"4"', 'DELETE'],
      ['W/"3"', 'PUT'],
      ['W/"2"', 'PUT'],
      ['W/"1"', 'POST'],
    ]);
    expect((await s.search(`Patient/${p.id}/_history`)).entry?.[0]?.response?.etag).toBe('W/"6"');
  });
  test('instance history of an unknown id answers 404', async () => {
    expect((await s.get('Patient/unknown/_history')).status).toBe(404);
  });
});

describe('$graphql', () => {
  test('reads and searches through GraphQL over the repository', async () => {
    const res = await s.post<any>(
      '$graphql',
      {
        query: `{ Patient(id: "${patient.id}") { name { family } ObservationList(_reference: patient) { valueQuantity { value } } } }`,
      },
      { 'content-type': 'application/json' }
    );
    expect(res.status).toBe(200);
    expect(res.body.data.Patient.name[0].family).toBe('Ops');
    expect(res.body.data.Patient.ObservationList).toHaveLength(12);
    const list = await s.post<any>(
      '$graphql',
      { query: '{ PatientList(family: "ops") { id } }' },
      { 'content-type': 'application/json' }
    );
    expect(list.body.data.PatientList.map((p: Patient) => p.id)).toEqual([patient.id]);
  });
});

describe('HTTP plumbing', () => {
  test('/healthcheck reports the database', async () => {
    const res = await s.request<any>('GET', `${s.hale.url}/healthcheck`);
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(res.body.postgres).toMatch(/PostgreSQL/);
  });
  test('CORS preflight and exposed headers', async () => {
    const pre = await s.request('OPTIONS', 'Patient', undefined, {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    const get = await s.get(`Patient/${patient.id}`, { origin: 'https://app.example' });
    expect(get.headers.get('access-control-expose-headers')).toContain('ETag');
  });
  test('every response carries a request id', async () => {
    const res = await s.get('metadata');
    expect(res.headers.get('x-request-id')).toMatch(/.+/);
  });
});

import type { Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { TestServer } from '../../test/test-server';
import { startTestServer } from '../../test/test-server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.stop();
});

const patient: Patient = {
  resourceType: 'Patient',
  name: [{ family: 'Ngata', given: ['Aroha'] }],
  gender: 'female',
  birthDate: '1988-04-12',
};

describe('create, read, vread', () => {
  test('create answers 201 with Location, ETag, Last-Modified and a server-assigned id', async () => {
    const res = await s.post<Patient>('Patient', { ...patient, id: 'client-chosen' });
    expect(res.status).toBe(201);
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.meta?.versionId).toBe('1');
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(res.headers.get('location')).toBe(`${s.base}/Patient/${res.body.id}/_history/1`);
    expect(res.headers.get('last-modified')).toBe(new Date(res.body.meta?.lastUpdated as string).toUTCString());
    expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
  });

  test('read returns the stored resource; vread returns a version', async () => {
    const created = await s.create(patient);
    const read = await s.get<Patient>(`Patient/${created.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created);
    expect(read.headers.get('etag')).toBe('W/"1"');
    const vread = await s.get<Patient>(`Patient/${created.id}/_history/1`);
    expect(vread.status).toBe(200);
    expect(vread.body).toEqual(created);
  });

  test('read of an unknown id answers 404 with an OperationOutcome', async () => {
    const res = await s.get<OperationOutcome>('Patient/does-not-exist');
    expect(res.status).toBe(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('an unknown resource type answers 400 OperationOutcome', async () => {
    const res = await s.get<OperationOutcome>('Patientx/123');
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});

describe('update', () => {
  test('update creates a new version and keeps the old one readable', async () => {
    const created = await s.create(patient);
    const res = await s.put<Patient>(`Patient/${created.id}`, { ...created, gender: 'other' });
    expect(res.status).toBe(200);
    expect(res.body.meta?.versionId).toBe('2');
    expect(res.headers.get('etag')).toBe('W/"2"');
    expect((await s.get<Patient>(`Patient/${created.id}/_history/1`)).body.gender).toBe('female');
    expect((await s.get<Patient>(`Patient/${created.id}`)).body.gender).toBe('other');
  });

  test('update-as-create with a client id answers 201', async () => {
    const res = await s.put<Patient>('Patient/my-own-id-1', { ...patient, id: 'my-own-id-1' });
    expect(res.status).toBe(201);
    expect(res.body.id).toBe('my-own-id-1');
    expect(res.body.meta?.versionId).toBe('1');
  });

  test('an update that changes nothing keeps the version', async () => {
    const created = await s.create(patient);
    const res = await s.put<Patient>(`Patient/${created.id}`, created);
    expect(res.status).toBe(200);
    expect(res.body.meta?.versionId).toBe('1');
  });

  test('If-Match with a stale version answers 412 and changes nothing', async () => {
    const created = await s.create(patient);
    await s.put(`Patient/${created.id}`, { ...created, gender: 'male' });
    const res = await s.put<OperationOutcome>(
      `Patient/${created.id}`,
      { ...created, gender: 'other' },
      { 'if-match': 'W/"1"' }
    );
    expect(res.status).toBe(412);
    expect((await s.get<Patient>(`Patient/${created.id}`)).body.gender).toBe('male');
  });

  test('8 parallel updates with the same If-Match: exactly one wins, seven get 412', async () => {
    const created = await s.create(patient);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        s.put(`Patient/${created.id}`, { ...created, name: [{ family: `Writer${i}` }] }, { 'if-match': 'W/"1"' })
      )
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 412, 412, 412, 412, 412, 412, 412]);
    const history = await s.get(`Patient/${created.id}/_history`);
    expect(history.body.entry).toHaveLength(2);
  });

  test('8 parallel update-as-creates of one new id: one creates, the others update in turn', async () => {
    const id = `race-${Date.now()}`;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        s.put(`Patient/${id}`, { resourceType: 'Patient', id, name: [{ family: `Racer${i}` }] })
      )
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    const versions = results.map((r) => (r.body as Patient).meta?.versionId).sort();
    expect(versions).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    const history = await s.get(`Patient/${id}/_history`);
    expect(history.body.entry).toHaveLength(8);
  });

  test('a body id different from the URL id answers 400', async () => {
    const created = await s.create(patient);
    const res = await s.put(`Patient/${created.id}`, { ...created, id: 'other' });
    expect(res.status).toBe(400);
  });
});

describe('patch', () => {
  test('JSON Patch changes the resource and makes a version', async () => {
    const created = await s.create(patient);
    const res = await s.request<Patient>(
      'PATCH',
      `Patient/${created.id}`,
      [{ op: 'replace', path: '/gender', value: 'male' }],
      {
        'content-type': 'application/json-patch+json',
      }
    );
    expect(res.status).toBe(200);
    expect(res.body.gender).toBe('male');
    expect(res.body.meta?.versionId).toBe('2');
  });

  test('a patch may not change the id', async () => {
    const created = await s.create(patient);
    const res = await s.request('PATCH', `Patient/${created.id}`, [{ op: 'replace', path: '/id', value: 'x' }], {
      'content-type': 'application/json-patch+json',
    });
    expect(res.status).toBe(400);
    expect((await s.get<Patient>(`Patient/${created.id}`)).body.meta?.versionId).toBe('1');
  });

  test('a patch that makes the resource invalid answers 400 and stores nothing', async () => {
    const created = await s.create(patient);
    const res = await s.request(
      'PATCH',
      `Patient/${created.id}`,
      [{ op: 'replace', path: '/gender', value: 'robot' }],
      {
        'content-type': 'application/json-patch+json',
      }
    );
    expect(res.status).toBe(400);
    expect((await s.get<Patient>(`Patient/${created.id}`)).body.gender).toBe('female');
  });
});

describe('delete', () => {
  test('returns 410 Gone after delete, and history keeps the tombstone', async () => {
    const created = await s.create(patient);
    const del = await s.del(`Patient/${created.id}`);
    expect(del.status).toBe(200);
    const read = await s.get<OperationOutcome>(`Patient/${created.id}`);
    expect(read.status).toBe(410);
    expect(read.body.resourceType).toBe('OperationOutcome');
    const history = await s.get(`Patient/${created.id}/_history`);
    expect(history.body.entry.map((e: any) => e.request.method)).toEqual(['DELETE', 'POST']);
    expect((await s.get(`Patient/${created.id}/_history/1`)).status).toBe(200);
  });

  test('a deleted resource no longer matches searches', async () => {
    const created = await s.create({ ...patient, name: [{ family: 'Deletable' }] });
    expect((await s.search('Patient?family=Deletable')).entry).toHaveLength(1);
    await s.del(`Patient/${created.id}`);
    expect((await s.search('Patient?family=Deletable')).entry ?? []).toHaveLength(0);
  });

  test('update after delete brings the resource back as a new version', async () => {
    const created = await s.create(patient);
    await s.del(`Patient/${created.id}`);
    const res = await s.put<Patient>(`Patient/${created.id}`, created);
    expect(res.status).toBe(200);
    expect(res.body.meta?.versionId).toBe('3');
  });
});

describe('Prefer', () => {
  test('return=minimal gives an empty body with headers', async () => {
    const res = await s.post('Patient', patient, { prefer: 'return=minimal' });
    expect(res.status).toBe(201);
    expect(res.body).toBeUndefined();
    expect(res.headers.get('location')).toContain('/Patient/');
  });

  test('return=OperationOutcome gives an OperationOutcome', async () => {
    const res = await s.post<OperationOutcome>('Patient', patient, { prefer: 'return=OperationOutcome' });
    expect(res.status).toBe(201);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});

describe('conditional interactions', () => {
  const identified = (value: string): Patient => ({ ...patient, identifier: [{ system: 'urn:test:mrn', value }] });

  test('If-None-Exist creates once, then answers 200 with the existing resource', async () => {
    const first = await s.post<Patient>('Patient', identified('c-1'), {
      'if-none-exist': 'identifier=urn:test:mrn|c-1',
    });
    expect(first.status).toBe(201);
    const second = await s.post<Patient>('Patient', identified('c-1'), {
      'if-none-exist': 'identifier=urn:test:mrn|c-1',
    });
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
  });

  test('conditional update updates the single match, or creates', async () => {
    const created = await s.create(identified('c-2'));
    const res = await s.put<Patient>('Patient?identifier=urn:test:mrn|c-2', { ...identified('c-2'), gender: 'male' });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(created.id);
    const made = await s.put<Patient>('Patient?identifier=urn:test:mrn|c-3', identified('c-3'));
    expect(made.status).toBe(201);
  });

  test('conditional update with several matches answers 412', async () => {
    await s.create(identified('c-4'));
    await s.create(identified('c-4'));
    const res = await s.put('Patient?identifier=urn:test:mrn|c-4', identified('c-4'));
    expect(res.status).toBe(412);
  });

  test('conditional delete removes the match', async () => {
    const created = await s.create(identified('c-5'));
    const res = await s.del('Patient?identifier=urn:test:mrn|c-5');
    expect(res.status).toBe(200);
    expect((await s.get(`Patient/${created.id}`)).status).toBe(410);
  });

  test('conditional patch patches the single match', async () => {
    const created = await s.create(identified('c-6'));
    const res = await s.request<Patient>(
      'PATCH',
      'Patient?identifier=urn:test:mrn|c-6',
      [{ op: 'add', path: '/active', value: true }],
      {
        'content-type': 'application/json-patch+json',
      }
    );
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(created.id);
    expect(res.body.active).toBe(true);
  });
});

describe('references', () => {
  test('a reference to a resource that does not exist answers 400 and stores nothing', async () => {
    const obs: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: 'Patient/nobody-here' },
    };
    const res = await s.post<OperationOutcome>('Observation', obs);
    expect(res.status).toBe(400);
    expect(res.body.issue?.[0]?.details?.text).toContain('Patient/nobody-here');
    expect((await s.search('Observation?subject=Patient/nobody-here')).entry ?? []).toHaveLength(0);
  });
});

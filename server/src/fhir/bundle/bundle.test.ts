import type { Bundle, BundleEntry, OperationOutcome, Organization, Patient } from '@medplum/fhirtypes';
import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SYNTHEA_DIR } from '../../test/fixtures';
import type { TestServer } from '../../test/test-server';
import { matchIds, startTestServer } from '../../test/test-server';

let s: TestServer;
// fullUrls must be real UUIDs: that is what urn:uuid means, and what the rewriter recognises.
const u: Record<string, string> = {};
const urn = (name: string): string => (u[name] ??= `urn:uuid:${randomUUID()}`);
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.stop();
});

const tx = (entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry });
const post = (fullUrl: string, resource: any, ifNoneExist?: string): BundleEntry => ({
  fullUrl,
  resource,
  request: { method: 'POST', url: resource.resourceType, ...(ifNoneExist ? { ifNoneExist } : {}) },
});
const obsFor = (subject: string, family = 'x'): any => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }], text: family },
  subject: { reference: subject },
  valueQuantity: { value: 70, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
});

describe('transaction', () => {
  test('creates every entry and rewrites urn:uuid references', async () => {
    const res = await s.post<Bundle>(
      '',
      tx([
        post(urn('obs-1'), obsFor(urn('pat-1'))),
        post(urn('pat-1'), { resourceType: 'Patient', name: [{ family: 'Tx' }] }),
      ])
    );
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    expect(res.body.entry?.map((e) => e.response?.status)).toEqual(['201', '201']);
    const patientId = res.body.entry?.[1]?.resource?.id;
    const obs = res.body.entry?.[0]?.resource as any;
    expect(obs.subject.reference).toBe(`Patient/${patientId}`);
    expect(res.body.entry?.[1]?.response?.location).toMatch(/^Patient\//);
  });

  test('is all-or-nothing: an invalid 3rd entry of 5 leaves nothing behind and names the entry', async () => {
    const entries = [0, 1, 2, 3, 4].map((i) =>
      post(urn(`p-${i}`), { resourceType: 'Patient', name: [{ family: `Atomic${i}` }] })
    );
    (entries[2] as BundleEntry).resource = { resourceType: 'Patient', gender: 'robot' } as any;
    const res = await s.post<OperationOutcome>('', tx(entries));
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[2]');
    expect(matchIds(await s.search('Patient?family=atomic'))).toEqual([]);
  });

  test('an unresolvable urn:uuid reference rolls everything back', async () => {
    const res = await s.post<OperationOutcome>(
      '',
      tx([
        post(urn('a'), { resourceType: 'Patient', name: [{ family: 'Dangling' }] }),
        post(urn('b'), obsFor('urn:uuid:nowhere')),
      ])
    );
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[1]');
    expect(matchIds(await s.search('Patient?family=dangling'))).toEqual([]);
  });

  test('a version conflict in one entry rolls back the others', async () => {
    const p = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Conflict' }] });
    await s.put(`Patient/${p.id}`, { ...p, gender: 'male' });
    const res = await s.post(
      '',
      tx([
        post(urn('c1'), { resourceType: 'Patient', name: [{ family: 'ConflictNew' }] }),
        {
          fullUrl: `Patient/${p.id}`,
          resource: { ...p, gender: 'female' },
          request: { method: 'PUT', url: `Patient/${p.id}`, ifMatch: 'W/"1"' },
        },
      ])
    );
    expect(res.status).toBe(412);
    expect(matchIds(await s.search('Patient?family:exact=ConflictNew'))).toEqual([]);
  });

  test('conditional references are resolved, and must match exactly one resource', async () => {
    const p = await s.create<Patient>({
      resourceType: 'Patient',
      name: [{ family: 'Cond' }],
      identifier: [{ system: 'urn:ehr', value: 'E-1' }],
    });
    const ok = await s.post<Bundle>('', tx([post(urn('o'), obsFor('Patient?identifier=urn:ehr|E-1'))]));
    expect(ok.status).toBe(200);
    expect((ok.body.entry?.[0]?.resource as any).subject.reference).toBe(`Patient/${p.id}`);
    const none = await s.post<OperationOutcome>('', tx([post(urn('o'), obsFor('Patient?identifier=urn:ehr|nope'))]));
    expect(none.status).toBe(400);
    await s.create<Patient>({ resourceType: 'Patient', identifier: [{ system: 'urn:ehr', value: 'E-1' }] });
    const many = await s.post<OperationOutcome>('', tx([post(urn('o'), obsFor('Patient?identifier=urn:ehr|E-1'))]));
    expect(many.status).toBe(412);
  });

  test('ifNoneExist reuses an existing resource and rewrites references to it', async () => {
    const org = {
      resourceType: 'Organization',
      name: 'Dedup Clinic',
      identifier: [{ system: 'urn:npi', value: '999' }],
    };
    const first = await s.post<Bundle>('', tx([post(urn('org'), org, 'identifier=urn:npi|999')]));
    const orgId = first.body.entry?.[0]?.resource?.id;
    const second = await s.post<Bundle>(
      '',
      tx([
        post(urn('org'), org, 'identifier=urn:npi|999'),
        post(urn('pat'), { resourceType: 'Patient', managingOrganization: { reference: urn('org') } }),
      ])
    );
    expect(second.status).toBe(200);
    expect(second.body.entry?.[0]?.response?.status).toBe('200');
    expect((second.body.entry?.[1]?.resource as Patient).managingOrganization?.reference).toBe(`Organization/${orgId}`);
    expect(matchIds(await s.search('Organization?identifier=urn:npi|999'))).toHaveLength(1);
  });

  test('several identifier ifNoneExist are matched together, as their searches would match them', async () => {
    const org = (value: string, name: string): Organization => ({
      resourceType: 'Organization',
      name,
      identifier: [{ system: 'urn:npi-batch', value }],
    });
    const kept = await s.create<Organization>(org('kept', 'Kept'));
    const gone = await s.create<Organization>(org('gone', 'Gone'));
    expect((await s.del(`Organization/${gone.id}`)).status).toBe(200);
    const res = await s.post<Bundle>(
      '',
      tx([
        post(urn('a'), org('kept', 'Kept again'), 'identifier=urn:npi-batch|kept'),
        post(urn('b'), org('new', 'New'), 'identifier=urn:npi-batch|new'),
        post(urn('c'), org('gone', 'Gone again'), 'identifier=urn:npi-batch|gone'),
        post(urn('d'), { resourceType: 'Patient', managingOrganization: { reference: urn('a') } }),
      ])
    );
    expect(res.status).toBe(200);
    expect(res.body.entry?.map((e) => e.response?.status)).toEqual(['200', '201', '201', '201']);
    expect(res.body.entry?.[0]?.resource?.id).toBe(kept.id);
    expect((res.body.entry?.[3]?.resource as Patient).managingOrganization?.reference).toBe(`Organization/${kept.id}`);
    await s.create<Organization>(org('kept', 'Kept twice'));
    const ambiguous = await s.post<OperationOutcome>(
      '',
      tx([
        post(urn('e'), org('new', 'New'), 'identifier=urn:npi-batch|new'),
        post(urn('f'), org('kept', 'Kept'), 'identifier=urn:npi-batch|kept'),
      ])
    );
    expect(ambiguous.status).toBe(412);
    expect(JSON.stringify(ambiguous.body)).toContain('Bundle.entry[1]');
  });

  test('processes DELETE, POST, PUT, GET in that order', async () => {
    const victim = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'OrderVictim' }] });
    const res = await s.post<Bundle>(
      '',
      tx([
        { request: { method: 'GET', url: 'Patient?family=ordernew' } },
        {
          fullUrl: 'Patient/order-put',
          resource: { resourceType: 'Patient', id: 'order-put', name: [{ family: 'OrderNewPut' }] },
          request: { method: 'PUT', url: 'Patient/order-put' },
        },
        post(urn('n'), { resourceType: 'Patient', name: [{ family: 'OrderNew' }] }),
        { request: { method: 'DELETE', url: `Patient/${victim.id}` } },
      ])
    );
    expect(res.status).toBe(200);
    const search = res.body.entry?.[0]?.resource as Bundle;
    // the GET ran last, so it sees both new patients
    expect(search.entry).toHaveLength(2);
    expect((await s.get(`Patient/${victim.id}`)).status).toBe(410);
  });

  test('a reference to a resource the same bundle deletes fails, however it was resolved', async () => {
    const doomed = await s.create<Patient>({
      resourceType: 'Patient',
      identifier: [{ system: 'urn:ehr', value: 'DOOMED-1' }],
    });
    const remove = { request: { method: 'DELETE' as const, url: `Patient/${doomed.id}` } };
    for (const subject of ['Patient?identifier=urn:ehr|DOOMED-1', `Patient/${doomed.id}`]) {
      const res = await s.post<OperationOutcome>('', tx([remove, post(urn(`obs-${subject}`), obsFor(subject))]));
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('does not resolve');
      expect((await s.get(`Patient/${doomed.id}`)).status).toBe(200);
    }
  });
});

describe('large transactions', () => {
  test('300 entries with ifNoneExist and conditional updates are accepted (no library caps)', async () => {
    // Conditional references resolve against what existed before the bundle.
    await s.create<Patient>({ resourceType: 'Patient', identifier: [{ system: 'urn:big-pre', value: 'x' }] });
    const org = {
      resourceType: 'Organization',
      name: 'Big Clinic',
      identifier: [{ system: 'urn:npi', value: 'big-1' }],
    };
    const entries: BundleEntry[] = [post(urn('big-org'), org, 'identifier=urn:npi|big-1')];
    for (let i = 0; i < 120; i++) {
      entries.push({
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: 'urn:big', value: `p${i}` }],
          managingOrganization: { reference: urn('big-org') },
        } as any,
        request: { method: 'PUT', url: `Patient?identifier=urn:big|p${i}` },
      });
    }
    for (let i = 0; i < 180; i++) {
      entries.push(post(urn(`big-obs-${i}`), obsFor('Patient?identifier=urn:big-pre|x')));
    }
    const res = await s.post<Bundle>('', tx(entries));
    expect({ status: res.status, body: res.status === 200 ? 'ok' : res.body }).toEqual({ status: 200, body: 'ok' });
    expect(res.body.entry).toHaveLength(301);
    expect(res.body.entry?.slice(1, 121).every((e) => e.response?.status === '201')).toBe(true);
    // The same bundle again: the organization is reused and the 120 patients updated in place (no change, same version).
    const again = await s.post<Bundle>(
      '',
      tx(entries.map((e) => ({ ...e, resource: e.resource && JSON.parse(JSON.stringify(e.resource)) })))
    );
    expect(again.status).toBe(200);
    expect(again.body.entry?.[0]?.response?.status).toBe('200');
    expect(again.body.entry?.slice(1, 121).every((e) => e.response?.status === '200')).toBe(true);
    expect((await s.search('Patient?identifier=urn:big|&_summary=count')).total).toBe(120);
    expect((await s.search('Organization?identifier=urn:npi|big-1&_summary=count')).total).toBe(1);
  });

  // Creates are written in chunks (12, 24, 48, then 50) while later entries are still being prepared (storage/write-buffer.ts).
  test('an entry of the first chunk may refer to one of the last', async () => {
    const entries = Array.from({ length: 250 }, (_, i) => post(urn(`chunk-obs-${i}`), obsFor(urn('chunk-pat'))));
    entries.push(post(urn('chunk-pat'), { resourceType: 'Patient', name: [{ family: 'Chunked' }] }));
    const res = await s.post<Bundle>('', tx(entries));
    expect(res.status).toBe(200);
    const [patient] = matchIds(await s.search('Patient?family=chunked'));
    expect((await s.search(`Observation?subject=Patient/${patient}&_summary=count`)).total).toBe(250);
  });

  test('a dangling reference in the last chunk rolls back the chunks already written', async () => {
    const entries = [post(urn('late-pat'), { resourceType: 'Patient', name: [{ family: 'Latedangling' }] })];
    for (let i = 0; i < 240; i++) {
      entries.push(post(urn(`late-obs-${i}`), obsFor(i === 230 ? 'Patient/nobody-here' : urn('late-pat'))));
    }
    const res = await s.post<OperationOutcome>('', tx(entries));
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[231]');
    expect(matchIds(await s.search('Patient?family=latedangling'))).toEqual([]);
  });

  test('an invalid entry after two chunks were sent rolls everything back', async () => {
    const entries = [post(urn('late-inv-pat'), { resourceType: 'Patient', name: [{ family: 'Lateinvalid' }] })];
    for (let i = 0; i < 240; i++) {
      entries.push(post(urn(`late-inv-obs-${i}`), obsFor(urn('late-inv-pat'))));
    }
    (entries[235] as BundleEntry).resource = { ...obsFor(urn('late-inv-pat')), status: 'robot' };
    const res = await s.post<OperationOutcome>('', tx(entries));
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[235]');
    expect(matchIds(await s.search('Patient?family=lateinvalid'))).toEqual([]);
    // The connection went back to the pool in a usable state.
    expect((await s.search('Patient?family=chunked&_summary=count')).total).toBe(1);
  });

  test('concurrent transactions with the same ifNoneExist create the resource once', async () => {
    const org = {
      resourceType: 'Organization',
      name: 'Race Clinic',
      identifier: [{ system: 'urn:npi', value: 'race-1' }],
    };
    const other = { ...org, name: 'Race Lab', identifier: [{ system: 'urn:npi', value: 'race-2' }] };
    const bundles = Array.from({ length: 6 }, (_, i) =>
      tx([
        post(`urn:uuid:${randomUUID()}`, org, 'identifier=urn:npi|race-1'),
        // Half the bundles name a second one too: their criteria are looked up together.
        ...(i % 2 === 0 ? [post(`urn:uuid:${randomUUID()}`, other, 'identifier=urn:npi|race-2')] : []),
        post(`urn:uuid:${randomUUID()}`, { resourceType: 'Patient', name: [{ family: 'Racer' }] }),
      ])
    );
    const results = await Promise.all(bundles.map((b) => s.post('', b)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await s.search('Organization?identifier=urn:npi|race-1&_summary=count')).total).toBe(1);
    expect((await s.search('Organization?identifier=urn:npi|race-2&_summary=count')).total).toBe(1);
  });

  test('concurrent transactions naming the same new identifiers in different orders create each once, no deadlock', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `swarm-${i}`);
    const bundles = Array.from({ length: 8 }, (_, b) =>
      tx(
        // Each bundle names the keys in its own order: the locks are still taken in one order.
        [...keys]
          .sort(
            (x, y) => ((x.length * 7 + b * 13 + x.charCodeAt(6)) % 5) - ((y.length * 7 + b * 13 + y.charCodeAt(6)) % 5)
          )
          .map((k) =>
            post(
              `urn:uuid:${randomUUID()}`,
              { resourceType: 'Basic', code: { text: k }, identifier: [{ system: 'urn:swarm', value: k }] },
              `identifier=urn:swarm|${k}`
            )
          )
      )
    );
    const results = await Promise.all(bundles.map((b) => s.post('', b)));
    expect(results.map((r) => r.status)).toEqual(bundles.map(() => 200));
    expect((await s.search('Basic?identifier=urn:swarm|swarm-0,urn:swarm|swarm-19&_summary=count')).total).toBe(2);
    expect((await s.search('Basic?code:text=swarm&_summary=count&_count=100')).total).toBe(20);
  });

  test('concurrent transactions that update-as-create one new id all commit, one version each', async () => {
    const id = `tx-race-${Date.now()}`;
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        s.post<Bundle>(
          '',
          tx([
            {
              resource: { resourceType: 'Patient', id, name: [{ family: `TxRacer${i}` }] },
              request: { method: 'PUT', url: `Patient/${id}` },
            },
          ])
        )
      )
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const statuses = results.map((r) => r.body.entry?.[0]?.response?.status).sort();
    expect(statuses).toEqual(['200', '200', '200', '201']);
    expect((await s.get(`Patient/${id}/_history`)).body.entry).toHaveLength(4);
  });

  test('a resource may be the target of only one entry', async () => {
    const res = await s.post<OperationOutcome>(
      '',
      tx([
        { resource: { resourceType: 'Patient', id: 'twice' }, request: { method: 'PUT', url: 'Patient/twice' } },
        {
          resource: { resourceType: 'Patient', id: 'twice', gender: 'male' },
          request: { method: 'PUT', url: 'Patient/twice' },
        },
      ])
    );
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[1]');
  });

  test('PATCH entries carry a Binary JSON Patch', async () => {
    const p = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Patchy' }] });
    const data = Buffer.from(JSON.stringify([{ op: 'add', path: '/active', value: true }])).toString('base64');
    const res = await s.post<Bundle>(
      '',
      tx([
        {
          resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data } as any,
          request: { method: 'PATCH', url: `Patient/${p.id}` },
        },
      ])
    );
    expect(res.status).toBe(200);
    expect((res.body.entry?.[0]?.resource as Patient).active).toBe(true);
  });
});

describe('batch', () => {
  test('entries succeed or fail independently', async () => {
    const res = await s.post<Bundle>('', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        {
          resource: { resourceType: 'Patient', name: [{ family: 'BatchOk' }] },
          request: { method: 'POST', url: 'Patient' },
        },
        { resource: { resourceType: 'Patient', gender: 'robot' } as any, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient/does-not-exist' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
    expect(res.body.entry?.map((e) => e.response?.status)).toEqual(['201', '400', '404']);
    expect(matchIds(await s.search('Patient?family=batchok'))).toHaveLength(1);
  });

  test('a bundle of another type answers 400', async () => {
    const res = await s.post('', { resourceType: 'Bundle', type: 'collection', entry: [] });
    expect(res.status).toBe(400);
  });
});

describe('Synthea fixtures', () => {
  const dir = SYNTHEA_DIR;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();

  test('all twelve real Synthea bundles load, and every resource is searchable', async () => {
    let expected = 0;
    for (const f of files) {
      const bundle = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Bundle;
      const res = await s.post<Bundle>('', bundle);
      expect({ file: f, status: res.status }).toEqual({ file: f, status: 200 });
      expect(res.body.entry?.every((e) => e.response?.status === '201')).toBe(true);
      expected += bundle.entry?.length ?? 0;
    }
    expect(expected).toBe(3409);
    const total = (type: string): Promise<number | undefined> =>
      s.search(`${type}?_tag=https://smarthealthit.org/tags|synthea-5-2019&_summary=count`).then((b) => b.total);
    expect(await total('Observation')).toBe(1639);
    expect(await total('Patient')).toBe(12);
    expect(await total('ExplanationOfBenefit')).toBe(363);
    const patients = await s.search('Patient?_tag=https://smarthealthit.org/tags|synthea-5-2019&_count=20');
    const first = patients.entry?.[0]?.resource as Patient;
    const everything = await s.search(`Patient/${first.id}/$everything`);
    expect(everything.entry?.length).toBeGreaterThan(50);
    expect(everything.entry?.every((e) => e.resource?.resourceType)).toBe(true);
  });
});

import { request as httpRequest } from 'node:http';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { ConfigError, loadConfig } from '../config';
import type { FhirResponse, TestServer } from '../test/test-server';
import { matchIds, startTestServer } from '../test/test-server';

/** Faults found by outside testers (issue 13): each answered through the real HTTP API. */
let s: TestServer;
const ids: Record<string, string> = {};
beforeAll(async () => {
  s = await startTestServer({ BODY_LIMIT: '64kb', BUNDLE_MAX_ENTRIES: '5' });
  const gp = await s.create({ resourceType: 'Practitioner', name: [{ family: 'Gp' }] });
  const patient = await s.create({
    resourceType: 'Patient',
    name: [{ family: 'Probe', given: ['Nul'] }],
    identifier: [{ system: 'urn:test', value: 'p-1' }],
    gender: 'female',
    birthDate: '1980-02-03',
    generalPractitioner: [{ reference: `Practitioner/${gp.id}` }],
    meta: { profile: ['http://example.org/StructureDefinition/probe'] },
  });
  const obs = await s.create({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: `Patient/${patient.id}` },
    effectiveDateTime: '2024-01-01',
    valueQuantity: { value: 70, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  });
  Object.assign(ids, { gp: gp.id, patient: patient.id, obs: obs.id });
});
afterAll(async () => {
  await s?.stop();
});

function expectOutcome(res: FhirResponse, status: number, text?: RegExp): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
  expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
  if (text) {
    expect(JSON.stringify(res.body)).toMatch(text);
  }
}

describe('$graphql with a body that is not {"query": "…"} answers 400, not 500', () => {
  const json = { 'content-type': 'application/json' };
  test.each([
    ['an empty body', ''],
    ['a null body', 'null'],
    ['an empty object', '{}'],
    ['an array', '[]'],
    ['a number as the query', '{"query": 5}'],
    ['a blank query', '{"query": "  "}'],
    ['a string as the variables', '{"query": "{ PatientList { id } }", "variables": "x"}'],
    ['a number as the operationName', '{"query": "{ PatientList { id } }", "operationName": 1}'],
  ])('%s', async (_label, body) => {
    expectOutcome(await s.request('POST', '$graphql', body, json), 400, /query|variables|operationName/);
  });

  test('no body at all', async () => {
    expectOutcome(await s.request('POST', '$graphql'), 400, /POST with a JSON body/);
  });

  test('GET $graphql, with or without a query, says to POST', async () => {
    expectOutcome(await s.get('$graphql'), 400, /POST with a JSON body/);
    expectOutcome(await s.get('$graphql?query=%7B%20PatientList%20%7B%20id%20%7D%20%7D'), 400, /POST/);
  });
});

describe('a search without parameters invents none', () => {
  const noInventedParameter = (bundle: Bundle, self: string): void => {
    expect(bundle.link?.find((l) => l.relation === 'self')?.url).toBe(`${s.base}/${self}`);
    expect(bundle.entry?.some((e) => e.search?.mode === 'outcome')).toBe(false);
  };

  test('GET Observation with no query string', async () => {
    const bundle = await s.search('Observation');
    noInventedParameter(bundle, 'Observation');
    expect(matchIds(bundle)).toEqual([ids.obs]);
  });

  test('POST Patient/_search with a form body, and with an empty one', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const found = await s.request<Bundle>('POST', 'Patient/_search', 'family=probe', form);
    expect(found.status).toBe(200);
    noInventedParameter(found.body, 'Patient?family=probe');
    expect(matchIds(found.body)).toEqual([ids.patient]);
    const all = await s.request<Bundle>('POST', 'Patient/_search', '', form);
    expect(all.status).toBe(200);
    noInventedParameter(all.body, 'Patient');
  });
});

describe('a U+0000 in a search value matches nothing (200), on PostgreSQL and the embedded database alike', () => {
  const nothing = [
    'Patient?name=%00',
    'Patient?family=Pro%00',
    'Patient?name:exact=%00',
    'Patient?name:contains=a%00',
    'Patient?identifier=%00',
    'Patient?identifier=urn:test|%00',
    'Patient?identifier=%00|p-1',
    'Patient?identifier:of-type=a|b|%00',
    'Patient?_id=%00',
    'Patient?general-practitioner=%00',
    'Patient?general-practitioner=Practitioner/%00',
    'Patient?_profile=%00',
    'Observation?code:text=%00',
    'Observation?subject=Patient/%00',
    'Observation?subject:identifier=%00',
    'Observation?value-quantity=%00',
    'Observation?value-quantity=70|%00|/min',
    'Observation?code-value-quantity=http://loinc.org|8867-4$%00',
    'Observation?subject.name=%00',
    'Patient?_has:Observation:patient:code=%00',
  ];
  test.each(nothing)('%s', async (path) => {
    expect(matchIds(await s.search(path))).toEqual([]);
  });

  test('a date holding it is no date: 400, as any malformed date', async () => {
    expectOutcome(await s.get('Patient?birthdate=%00'), 400, /date/);
    expectOutcome(await s.get('Patient?_lastUpdated=%00'), 400, /date/);
  });

  test('under :not it excludes nothing', async () => {
    expect(matchIds(await s.search('Patient?identifier:not=%00'))).toEqual([ids.patient]);
    expect(matchIds(await s.search('Patient?_id:not=%00'))).toEqual([ids.patient]);
  });

  test('the other alternatives of the value still match', async () => {
    expect(matchIds(await s.search('Patient?name=%00,probe'))).toEqual([ids.patient]);
    expect(matchIds(await s.search(`Patient?_id=%00,${ids.patient}`))).toEqual([ids.patient]);
  });

  test('in an _include target type it includes nothing; in a _cursor it is an invalid cursor', async () => {
    const bundle = await s.search('Observation?_include=Observation:subject:%00');
    expect(bundle.entry?.map((e) => e.search?.mode)).toEqual(['match']);
    const cursor = Buffer.from(JSON.stringify([['\u0000'], '1'])).toString('base64url');
    expectOutcome(await s.get(`Patient?_sort=family&_cursor=${cursor}`), 400, /_cursor/);
  });

  test('the database connection survives it', async () => {
    await s.search('Patient?name=%00');
    expect(matchIds(await s.search('Patient?name=probe'))).toEqual([ids.patient]);
  });
});

describe('request size bounds', () => {
  const entries = (n: number) =>
    Array.from({ length: n }, () => ({ request: { method: 'GET' as const, url: `Patient/${ids.patient}` } }));

  test('a batch or transaction of more than BUNDLE_MAX_ENTRIES entries answers 413 and runs none', async () => {
    for (const type of ['batch', 'transaction']) {
      const create = {
        resource: { resourceType: 'Patient', name: [{ family: 'Overflow' }] },
        request: { method: 'POST', url: 'Patient' },
      };
      const res = await s.post('', { resourceType: 'Bundle', type, entry: [create, ...entries(5)] });
      expectOutcome(res, 413, new RegExp(`${type} Bundle may hold at most 5 entries; this one has 6`));
    }
    expect(matchIds(await s.search('Patient?family=overflow'))).toEqual([]);
    const fits = await s.post<Bundle>('', { resourceType: 'Bundle', type: 'batch', entry: entries(5) });
    expect(fits.status).toBe(200);
    expect(fits.body.entry?.map((e) => e.response?.status)).toEqual(['200', '200', '200', '200', '200']);
  });

  test('BUNDLE_MAX_ENTRIES defaults to 10,000 and must be positive', () => {
    expect(loadConfig({}).bundleMaxEntries).toBe(10000);
    expect(() => loadConfig({ BUNDLE_MAX_ENTRIES: '0' })).toThrow(ConfigError);
  });

  test('a Content-Length over BODY_LIMIT answers 413 at once, without the body being sent', async () => {
    const url = new URL(`${s.base}/Patient/_search`);
    const answer = await new Promise<{
      status: number;
      connection: string | undefined;
      body: string;
      closed: Promise<void>;
    }>((resolve, reject) => {
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(100 * 1024 * 1024),
          authorization: `Bearer ${s.systemToken}`,
        },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        const closed = new Promise<void>((done) => req.socket?.once('close', () => done()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body, closed }));
      });
      // A few bytes of the announced 100 MB, and then nothing: only an early answer can arrive.
      req.write('family=');
    });
    expect(answer.status).toBe(413);
    expect(answer.connection).toBe('close');
    expect(JSON.parse(answer.body)).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ code: 'too-long', details: { text: 'Request body exceeds the limit of 65536 bytes' } }],
    });
    // The server closes the connection instead of reading the rest of the body.
    await answer.closed;
  });
});

import type { CapabilityStatement, OperationOutcome } from '@medplum/fhirtypes';
import { issueAccessToken } from '../auth/oauth';
import { sql } from '../db/sql';
import { account, observation } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import type { Manifest } from './manifest';
import { ASYNC, call, download, exportAll, idsOf, kickoff, poll, startBulkServer } from './test-support';

/** The Bulk Data flow as a client sees it: kick-off, status, manifest, files, cancel, errors. */
let s: TestServer;
const ids: Record<string, string> = {};

beforeAll(async () => {
  s = await startBulkServer();
  ids.alice = (await s.create({ resourceType: 'Patient', name: [{ family: 'Avery' }] })).id;
  ids.bob = (await s.create({ resourceType: 'Patient', name: [{ family: 'Bishop' }] })).id;
  ids.obs = (await s.create(observation(ids.alice, 'vital-signs', '2026-01-02'))).id;
  ids.practitioner = (await s.create({ resourceType: 'Practitioner', name: [{ family: 'Carter' }] })).id;
});
afterAll(async () => {
  await s.stop();
});

describe('kick-off', () => {
  test('answers 202 with an absolute Content-Location, and the status URL 202 with Retry-After and X-Progress', async () => {
    const res = await call(s, 'GET', '$export?_type=Patient', { headers: ASYNC });
    expect(res.status).toBe(202);
    const location = res.headers.get('content-location') as string;
    expect(location).toMatch(new RegExp(`^${s.base}/bulkdata/export/[0-9a-f-]{36}$`));
    expect((res.json as OperationOutcome).resourceType).toBe('OperationOutcome');
    const status = await call(s, 'GET', location);
    expect(status.status).toBe(202); // the export waits ≥ 1 s after its transactionTime before reading
    expect(Number(status.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((status.headers.get('x-progress') ?? '').length).toBeGreaterThan(0);
    expect((status.headers.get('x-progress') ?? '').length).toBeLessThan(100);
    expect((await poll(s, location)).status).toBe(200);
  });

  test('without Prefer: respond-async is 400 with an OperationOutcome', async () => {
    const res = await call(s, 'GET', '$export', { headers: { accept: 'application/fhir+json' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect((res.json as OperationOutcome).issue[0]?.details?.text).toMatch(/respond-async/);
  });

  test('an Accept other than FHIR JSON is 400; no Accept is taken as application/fhir+json', async () => {
    expect(
      (await call(s, 'GET', '$export', { headers: { prefer: 'respond-async', accept: 'application/xml' } })).status
    ).toBe(400);
    expect((await call(s, 'GET', '$export?_type=Patient', { headers: { prefer: 'respond-async' } })).status).toBe(202);
  });

  test.each(['application/fhir+ndjson', 'application/ndjson', 'ndjson'])('_outputFormat=%s is accepted', async (f) => {
    const res = await call(s, 'GET', `$export?_type=Patient&_outputFormat=${encodeURIComponent(f)}`, {
      headers: ASYNC,
    });
    expect(res.status).toBe(202);
  });

  test('any other _outputFormat is 400', async () => {
    const res = await call(s, 'GET', '$export?_outputFormat=text%2Fcsv', { headers: ASYNC });
    expect(res.status).toBe(400);
    expect((res.json as OperationOutcome).resourceType).toBe('OperationOutcome');
  });

  test('an unknown parameter is 400 under handling=strict, else ignored with a warning in the error file', async () => {
    const strict = await call(s, 'GET', '$export?_type=Patient&_colour=blue', {
      headers: { ...ASYNC, prefer: 'respond-async, handling=strict' },
    });
    expect(strict.status).toBe(400);
    expect((strict.json as OperationOutcome).issue[0]?.details?.text).toMatch(/_colour/);
    const e = await exportAll(s, '$export?_type=Patient&_colour=blue');
    expect(e.manifest.error).toHaveLength(1);
    expect(e.manifest.error[0]?.type).toBe('OperationOutcome');
    expect(JSON.stringify(e.errors)).toMatch(/_colour/);
    expect(idsOf(e, 'Patient')).toEqual([ids.alice, ids.bob].sort());
  });

  test('an unsupported value is 400, and under handling=lenient left out with a warning', async () => {
    expect((await call(s, 'GET', '$export?_type=Nonsense', { headers: ASYNC })).status).toBe(400);
    expect((await call(s, 'GET', '$export?includeAssociatedData=_custom', { headers: ASYNC })).status).toBe(400);
    const lenient = { ...ASYNC, prefer: 'respond-async; handling=lenient' };
    const e = await exportAll(s, '$export?_type=Patient,Nonsense&includeAssociatedData=_custom', { headers: lenient });
    expect(Object.keys(e.byType)).toEqual(['Patient']);
    expect(e.errors.map((o) => (o as OperationOutcome).issue[0]?.details?.text).join('\n')).toMatch(
      /Nonsense[\s\S]*_custom/
    );
  });

  test('organizeOutputBy is refused clearly', async () => {
    const res = await call(s, 'GET', '$export?organizeOutputBy=Patient', { headers: ASYNC });
    expect(res.status).toBe(400);
    expect((res.json as OperationOutcome).issue[0]?.details?.text).toMatch(/organizeOutputBy is not supported/);
  });
});

describe('manifest and files', () => {
  test('a GET export: transactionTime, the request URL, requiresAccessToken, and one file per type with counts', async () => {
    const before = new Date().toISOString();
    const statusUrl = await kickoff(s, '$export?_type=Patient,Observation,Practitioner');
    const done = await poll(s, statusUrl);
    expect(done.status).toBe(200);
    expect(done.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Date.parse(done.headers.get('expires') ?? '')).toBeGreaterThan(Date.now() + 23 * 3600_000);
    const manifest = done.json as Manifest;
    expect(manifest.transactionTime >= before).toBe(true);
    expect(manifest.transactionTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(manifest.request).toBe(`${s.base}/$export?_type=Patient,Observation,Practitioner`);
    expect(manifest.requiresAccessToken).toBe(true);
    expect(manifest.error).toEqual([]);
    expect(manifest.deleted).toBeUndefined();
    expect(manifest.output.map((o) => [o.type, o.count]).sort()).toEqual([
      ['Observation', 1],
      ['Patient', 2],
      ['Practitioner', 1],
    ]);
    for (const item of manifest.output) {
      expect(item.url.startsWith(`${s.base}/bulkdata/export/`)).toBe(true);
      const res = await call(s, 'GET', item.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+ndjson/);
      const lines = await download(s, item.url);
      expect(lines).toHaveLength(item.count);
      expect(new Set(lines.map((r) => r.resourceType))).toEqual(new Set([item.type]));
    }
  });

  test('a POST with Parameters: the request URL has no parameters, and the values are used', async () => {
    const e = await exportAll(s, '$export', {
      body: {
        resourceType: 'Parameters',
        parameter: [
          { name: '_type', valueString: 'Observation' },
          { name: '_outputFormat', valueString: 'application/fhir+ndjson' },
        ],
      },
    });
    expect(e.manifest.request).toBe(`${s.base}/$export`);
    expect(idsOf(e, 'Observation')).toEqual([ids.obs]);
  });

  test('repeated parameters count as one comma-separated list', async () => {
    const e = await exportAll(s, '$export?_type=Patient&_type=Practitioner');
    expect(Object.keys(e.byType).sort()).toEqual(['Patient', 'Practitioner']);
  });

  test('nothing found: output is an empty array', async () => {
    const e = await exportAll(s, '$export?_type=Immunization');
    expect(e.manifest.output).toEqual([]);
  });

  test('a type is split into files of at most BULK_FILE_MAX_RESOURCES', async () => {
    const small = await startBulkServer({ BULK_FILE_MAX_RESOURCES: '2', BULK_PAGE_SIZE: '3' });
    try {
      for (let i = 0; i < 5; i++) {
        await small.create({ resourceType: 'Patient', name: [{ family: `P${i}` }] });
      }
      const e = await exportAll(small, '$export?_type=Patient');
      expect(e.manifest.output.map((o) => o.count)).toEqual([2, 2, 1]);
      expect(new Set(idsOf(e, 'Patient')).size).toBe(5);
    } finally {
      await small.stop();
    }
  });

  test('on a resource table PostgreSQL has never analyzed, the export analyzes it before reading (keyset pages need row counts)', async () => {
    const fresh = await startBulkServer({ BULK_PAGE_SIZE: '2' });
    try {
      const reltuples = async (): Promise<number> => {
        const [row] = await fresh.hale.db.query<{ n: number }>(
          sql`SELECT reltuples AS n FROM pg_class WHERE oid = to_regclass('resource')`
        );
        return Number(row?.n);
      };
      for (let i = 0; i < 3; i++) {
        await fresh.create({ resourceType: 'Patient', name: [{ family: `F${i}` }] });
      }
      expect(await reltuples()).toBe(-1);
      const e = await exportAll(fresh, '$export?_type=Patient');
      expect(idsOf(e, 'Patient')).toHaveLength(3);
      expect(await reltuples()).toBeGreaterThanOrEqual(3);
    } finally {
      await fresh.stop();
    }
  });
});

describe('cancel and ownership', () => {
  test('DELETE answers 202, then the status URL and the files answer 404 with an OperationOutcome', async () => {
    const statusUrl = await kickoff(s, '$export?_type=Patient');
    const manifest = (await poll(s, statusUrl)).json as Manifest;
    const del = await call(s, 'DELETE', statusUrl);
    expect(del.status).toBe(202);
    const after = await call(s, 'GET', statusUrl);
    expect(after.status).toBe(404);
    expect(after.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect((after.json as OperationOutcome).resourceType).toBe('OperationOutcome');
    expect((await call(s, 'GET', manifest.output[0]?.url as string)).status).toBe(404);
    const again = await call(s, 'DELETE', statusUrl);
    expect(again.status).toBe(404);
    expect((again.json as OperationOutcome).resourceType).toBe('OperationOutcome');
  });

  test('a running export is cancelled by DELETE', async () => {
    const statusUrl = await kickoff(s, '$export');
    expect((await call(s, 'DELETE', statusUrl)).status).toBe(202);
    expect((await call(s, 'GET', statusUrl)).status).toBe(404);
  });

  test('another user or another client cannot poll, download or cancel (404)', async () => {
    const statusUrl = await kickoff(s, '$export?_type=Patient');
    const manifest = (await poll(s, statusUrl)).json as Manifest;
    const file = manifest.output[0]?.url as string;
    const otherUser = await s.token({ scopes: ['user/*.rs'], accountId: await account(s, ['developer']) });
    await s.hale.db.query(sql`INSERT INTO oauth_client (client_id, name, kind, allowed_scopes, grant_types)
        VALUES ('other-client', 'Other', 'confidential-asymmetric', '{system/*.rs}', '{}')`);
    const otherClient = (await issueAccessToken(s.hale.authDeps, { clientId: 'other-client', scopes: ['system/*.rs'] }))
      .access_token;
    for (const token of [otherUser, otherClient]) {
      expect((await call(s, 'GET', statusUrl, { token })).status).toBe(404);
      expect((await call(s, 'GET', file, { token })).status).toBe(404);
      expect((await call(s, 'DELETE', statusUrl, { token })).status).toBe(404);
    }
    expect((await call(s, 'GET', file)).status).toBe(200);
  });

  test('the status URL and the files need a bearer token', async () => {
    const statusUrl = await kickoff(s, '$export?_type=Patient');
    const res = await fetch(statusUrl);
    expect(res.status).toBe(401);
  });
});

test('the CapabilityStatement instantiates the Bulk Data IG and lists the three $export operations', async () => {
  const cs = (await s.get<CapabilityStatement>('metadata')).body;
  expect(cs.instantiates).toContain('http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data');
  const rest = cs.rest?.[0];
  expect(rest?.operation?.map((o) => o.definition)).toContain(
    'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export'
  );
  const of = (type: string) => rest?.resource?.find((r) => r.type === type)?.operation?.map((o) => o.definition);
  expect(of('Patient')).toContain('http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export');
  expect(of('Group')).toContain('http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export');
});

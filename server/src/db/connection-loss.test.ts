import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import pg from 'pg';
import { newUrn, transaction, useTestServer } from '../test/bundles';
import type { FhirResponse } from '../test/test-server';

// Terminating backends needs a PostgreSQL server of its own: the embedded database is one
// in-process session (its connection loss is covered by the same Database code path).
const adminUrl = process.env.TEST_DATABASE_URL;
const onServer = adminUrl ? describe : describe.skip;

const TAG = 'http://hale.test/connection-loss';

/** A transaction of one Patient and `n` Observations, all tagged with `batch` so its completeness can be counted. */
function ingestBundle(batch: string, n: number): Bundle {
  const patientUrl = newUrn();
  const meta = { tag: [{ system: TAG, code: batch }] };
  const entry: BundleEntry[] = [
    {
      fullUrl: patientUrl,
      resource: { resourceType: 'Patient', meta, name: [{ family: batch }] },
      request: { method: 'POST', url: 'Patient' },
    },
  ];
  for (let i = 0; i < n; i++) {
    entry.push({
      fullUrl: newUrn(),
      resource: {
        resourceType: 'Observation',
        meta,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject: { reference: patientUrl },
        effectiveDateTime: '2026-01-01T00:00:00Z',
        valueQuantity: { value: 60 + i, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      },
      request: { method: 'POST', url: 'Observation' },
    });
  }
  return transaction(entry);
}

async function terminateBackends(databaseUrl: string, onlyIdle: boolean): Promise<number> {
  const dbName = new URL(databaseUrl).pathname.slice(1);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: string }>(
      `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND ($2::boolean IS FALSE OR state = 'idle')`,
      [dbName, onlyIdle]
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await admin.end();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

onServer('losing database connections', () => {
  const server = useTestServer();

  test('terminated idle backends are replaced: the next requests answer as usual', async () => {
    const srv = server();
    // Open several pool connections, then leave them idle.
    await Promise.all(Array.from({ length: 6 }, () => srv.get('Patient?_count=1')));
    expect(await terminateBackends(srv.databaseUrl, true)).toBeGreaterThan(0);
    await sleep(50);
    for (let i = 0; i < 10; i++) {
      const res = await srv.post('', ingestBundle(`idle-${i}`, 3));
      expect(res.status).toBe(200);
    }
    const read = await srv.get('Patient?_count=1');
    expect(read.status).toBe(200);
  });

  test('under concurrent transaction ingest, killed backends fail requests with 503 + Retry-After, never a partial bundle, and the server goes on', async () => {
    const srv = server();
    const clients = 4;
    const perClient = 12;
    const size = 40;
    const answers: { batch: string; res: FhirResponse }[] = [];
    let ingesting = true;
    const loads = Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < perClient; i++) {
        const batch = `load-${c}-${i}`;
        answers.push({ batch, res: await srv.post('', ingestBundle(batch, size)) });
      }
    });
    const killer = (async () => {
      let killed = 0;
      for (let round = 0; round < 8 && ingesting; round++) {
        await sleep(150);
        killed += await terminateBackends(srv.databaseUrl, false);
      }
      return killed;
    })();
    await Promise.all(loads);
    ingesting = false;
    expect(await killer).toBeGreaterThan(0);

    expect(answers).toHaveLength(clients * perClient);
    for (const { res } of answers) {
      expect([200, 503]).toContain(res.status);
      if (res.status === 503) {
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(res.body.resourceType).toBe('OperationOutcome');
        expect(res.body.issue[0].code).toBe('transient');
      }
    }
    // Every acknowledged bundle is whole; every refused one is wholly absent, or wholly there when
    // the connection was lost during its COMMIT (the client cannot know, and must check or retry).
    for (const { batch, res } of answers) {
      const count = await srv.get<Bundle>(`Observation?_tag=${TAG}|${batch}&_summary=count`);
      expect(count.status).toBe(200);
      if (res.status === 200) {
        expect(count.body.total).toBe(size);
      } else {
        expect([0, size]).toContain(count.body.total);
      }
    }
    // The server is still up and writing.
    const after = await srv.post('', ingestBundle('after', 5));
    expect(after.status).toBe(200);
    const health = await fetch(`${srv.hale.url}/healthcheck`);
    expect(health.status).toBe(200);
  });

  test('a batch reports the entry that lost its connection as 503 and keeps the entries committed before it', async () => {
    const srv = server();
    const entries = Array.from({ length: 30 }, (_, i) => ({
      resource: {
        resourceType: 'Patient',
        meta: { tag: [{ system: TAG, code: 'batch-loss' }] },
        name: [{ family: `b${i}` }],
      },
      request: { method: 'POST', url: 'Patient' },
    })) as BundleEntry[];
    const killer = (async () => {
      for (let i = 0; i < 5; i++) {
        await sleep(20);
        await terminateBackends(srv.databaseUrl, false);
      }
    })();
    const res = await srv.post<Bundle>('', { resourceType: 'Bundle', type: 'batch', entry: entries });
    await killer;
    expect([200, 503]).toContain(res.status);
    if (res.status === 200) {
      const statuses = (res.body.entry ?? []).map((e) => e.response?.status);
      expect(statuses).toHaveLength(30);
      for (const s of statuses) {
        expect(['201', '503']).toContain(s);
      }
      const created = statuses.filter((s) => s === '201').length;
      const stored = await srv.get<Bundle>(`Patient?_tag=${TAG}|batch-loss&_summary=count`);
      // An entry that lost its connection during COMMIT may be stored although it reports 503.
      expect(stored.body.total).toBeGreaterThanOrEqual(created);
    }
  });
});

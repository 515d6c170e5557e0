import { randomUUID } from 'node:crypto';
import { sql } from '../db/sql';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';

const METRICS_TOKEN = `metrics-${randomUUID()}-${randomUUID()}`;

async function scrape(s: TestServer, authorization?: string): Promise<Response> {
  return fetch(`${s.hale.url}/metrics`, { headers: authorization ? { authorization } : {} });
}

describe('/metrics with METRICS_TOKEN set', () => {
  let s: TestServer;
  beforeAll(async () => {
    // Bots off: the queued job below must stay queued.
    s = await startTestServer({ METRICS_TOKEN, BOTS_ENABLED: 'false' });
  });
  afterAll(async () => {
    await s.stop();
  });

  test.each([
    ['no credentials', undefined],
    ['a wrong token', `Bearer ${METRICS_TOKEN.slice(0, -1)}x`],
    ['the token with a suffix', `Bearer ${METRICS_TOKEN}x`],
    ['basic auth', `Basic ${Buffer.from(`metrics:${METRICS_TOKEN}`).toString('base64')}`],
  ])('refuses %s with 401 and an OperationOutcome', async (_name, authorization) => {
    const res = await scrape(s, authorization);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect(await res.json()).toMatchObject({ resourceType: 'OperationOutcome' });
  });

  test('refuses a FHIR access token, even a system one: only the metrics token opens it', async () => {
    expect((await scrape(s, `Bearer ${s.systemToken}`)).status).toBe(401);
  });

  test('answers the Prometheus text format with process, pool, job and request figures', async () => {
    await s.hale.db.query(
      sql`INSERT INTO bot_job (key, kind, bot_id) VALUES (${`metrics-${randomUUID()}`}, 'cron', 'b')`
    );
    expect((await s.get('Patient?_count=1')).status).toBe(200);
    const res = await scrape(s, `Bearer ${METRICS_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).toMatch(/^hale_db_pool_connections\{state="total"\} [1-9]/m);
    expect(text).toMatch(/^hale_db_pool_connections\{state="waiting"\} \d/m);
    expect(text).toMatch(/^hale_db_pool_max 10$/m);
    expect(text).toMatch(/^hale_database_up 1$/m);
    expect(text).toMatch(/^hale_jobs\{queue="bot_job",state="pending"\} 1$/m);
    expect(text).toMatch(/^hale_jobs\{queue="bulk_export",state="running"\} 0$/m);
    expect(text).toMatch(/^hale_http_requests_total\{method="GET",route="\/fhir\/R4\/Patient",status="200"\} 1$/m);
    expect(text).toMatch(/^hale_http_request_duration_seconds_count\{method="GET",route="\/fhir\/R4\/Patient"\} 1$/m);
  });

  test('labels name route templates: no ids, search values, unknown types or operations, or emails', async () => {
    const family = `Zebedee${randomUUID().slice(0, 8)}`;
    const patient = await s.create({ resourceType: 'Patient', name: [{ family }] });
    expect((await s.get(`Patient/${patient.id}`)).status).toBe(200);
    expect((await s.get(`Patient/${patient.id}/_history/1`)).status).toBe(200);
    expect((await s.get(`Patient?family=${family}`)).status).toBe(200);
    expect((await s.get(`Patient/${patient.id}/$made-up-${family}`)).status).toBeGreaterThanOrEqual(400);
    expect((await s.get(`NotAType${family}`)).status).toBeGreaterThanOrEqual(400);
    expect((await fetch(`${s.hale.url}/auth/verify/${family}@example.org`)).status).toBeGreaterThanOrEqual(400);
    expect((await fetch(`${s.hale.url}/${family}/x`)).status).toBe(404);
    const text = await (await scrape(s, `Bearer ${METRICS_TOKEN}`)).text();
    expect(text).not.toContain(patient.id);
    expect(text).not.toContain(family);
    for (const route of [
      'route="/fhir/R4/Patient",status="201"',
      'route="/fhir/R4/Patient/:id",status="200"',
      'route="/fhir/R4/Patient/:id/_history/:vid",status="200"',
      'route="/fhir/R4/Patient/:id/$:operation"',
      'route="/fhir/R4/:type"',
      'route="other",status="404"',
    ]) {
      expect(text).toContain(route);
    }
  });
});

describe('/metrics without METRICS_TOKEN', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  test('is off: 404 like any unknown path, whatever the credentials', async () => {
    for (const authorization of [undefined, `Bearer ${s.systemToken}`]) {
      const res = await scrape(s, authorization);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ resourceType: 'OperationOutcome' });
    }
  });
});

import type { Bundle, Consent } from '@medplum/fhirtypes';
import { insertAccounts, mintUserToken } from '../../../bench/src/consent-load';
import { vitalsConsent } from '../../../bench/src/wellness-provider';
import type { HaleProcess } from '../../../bench/src/server-process';
import { startHale } from '../../../bench/src/server-process';
import { PgCluster, postgresBin } from './pg-cluster';
import { RedisServer, hasRedisServer } from './redis-server';

const withServices = postgresBin() && hasRedisServer() ? describe : describe.skip;
const TIMEOUT_MS = 20_000;

interface Answer {
  status: number;
  ms: number;
  body: unknown;
}

async function call(hale: HaleProcess, token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const start = performance.now();
  const res = await fetch(`${hale.fhirBase}/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/fhir+json',
      ...(body ? { 'content-type': 'application/fhir+json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - start, body: text ? (JSON.parse(text) as unknown) : undefined };
}

const entries = (a: Answer): number => ((a.body as Bundle | undefined)?.entry ?? []).length;

withServices('Redis killed and restarted under two replicas', () => {
  let cluster: PgCluster;
  let redis: RedisServer;
  let a: HaleProcess;
  let b: HaleProcess;

  beforeAll(async () => {
    cluster = await PgCluster.create();
    redis = await RedisServer.create();
    const env = { GRAPHQL_WARMUP: 'false', REDIS_URL: redis.url };
    a = await startHale(cluster.url(), { env });
    b = await startHale(cluster.url(), { env });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a.stop(2_000), b.stop(2_000)]);
    await redis.kill();
    cluster.destroy();
  });

  test('while Redis is down a revocation on one replica holds on the next request to the other; afterwards too', async () => {
    const patient = ((await call(a, a.token, 'POST', 'Patient', { resourceType: 'Patient' })).body as { id: string })
      .id;
    const practitioner = (
      (await call(a, a.token, 'POST', 'Practitioner', { resourceType: 'Practitioner' })).body as { id: string }
    ).id;
    await call(a, a.token, 'POST', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      category: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
      ],
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${patient}` },
      effectiveDateTime: new Date().toISOString(),
      valueQuantity: { value: 61, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    });
    const consent = (await call(a, a.token, 'POST', 'Consent', vitalsConsent(patient, practitioner))).body as Consent;
    const [email] = await insertAccounts(cluster.url(), [practitioner]);
    const onB = await mintUserToken(cluster.url(), b.fhirBase, email as string);
    const search = `Observation?subject=Patient/${patient}`;
    // B has the provider's grants cached.
    expect(entries(await call(b, onB, 'GET', search))).toBe(1);

    await redis.kill();
    // The revocation is written on A while Redis is gone: it commits, whatever Redis says.
    const revoked = await call(a, a.token, 'PUT', `Consent/${consent.id}`, { ...consent, status: 'inactive' });
    expect(revoked.status).toBe(200);
    // B's next answer must not come from the grants it cached: the revocation holds (or B refuses with 503).
    const during = await call(b, onB, 'GET', search);
    expect([200, 503]).toContain(during.status);
    expect(entries(during)).toBe(0);
    // Reads that need no grants go on without Redis, and nothing hangs.
    const plain = await call(b, b.token, 'GET', `Patient/${patient}`);
    expect(plain.status).toBe(200);
    expect(plain.ms).toBeLessThan(TIMEOUT_MS);
    // Rate-limited endpoints fall back to per-replica limits: an unknown client is refused as such, not with a 500.
    const token = await fetch(`${b.fhirBase.replace(/\/fhir\/R4$/, '')}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=nobody&client_secret=wrong',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    expect([400, 401]).toContain(token.status);

    await redis.start();
    await new Promise((r) => setTimeout(r, 1_000)); // ioredis reconnects with its backoff
    expect(entries(await call(b, onB, 'GET', search))).toBe(0);
    // Shared again on A with Redis back: B sees it on the next request, and a new revocation holds too.
    const again = (await call(a, a.token, 'POST', 'Consent', vitalsConsent(patient, practitioner))).body as Consent;
    expect(entries(await call(b, onB, 'GET', search))).toBe(1);
    await call(a, a.token, 'DELETE', `Consent/${again.id}`);
    expect(entries(await call(b, onB, 'GET', search))).toBe(0);
  }, 180_000);
});

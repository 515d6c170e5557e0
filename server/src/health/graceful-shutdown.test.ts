import type { ClientRequest, IncomingMessage } from 'node:http';
import { request } from 'node:http';
import pg from 'pg';
import type { HaleProcess } from '../../../bench/src/server-process';
import { startHale } from '../../../bench/src/server-process';
import type { TestDatabase } from '../test/test-db';
import { createTestDatabase } from '../test/test-db';

// The real server process (`node --import tsx server/src/main.ts`), signalled as an orchestrator would. Minting its
// token runs the CLI beside it, a second connection the single-session embedded database does not allow.
const onServer = process.env.TEST_DATABASE_URL ? describe : describe.skip;
const redisEnv: Record<string, string> = process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

function answerOf(req: ClientRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
  });
}

/** A GET on a new connection; the error code (ECONNREFUSED …) when there is none to be had. */
async function probe(url: string): Promise<Answer | string> {
  const req = request(url, { agent: false });
  req.end();
  return answerOf(req).catch((err: NodeJS.ErrnoException) => err.code ?? String(err));
}

/**
 * A Patient create whose headers have reached the server (it answered `100 Continue`) and whose body is held back
 * until `finish()`: a request in flight for as long as the test wants.
 */
async function heldCreate(hale: HaleProcess, family: string): Promise<{ finish(): void; answer: Promise<Answer> }> {
  const body = JSON.stringify({ resourceType: 'Patient', name: [{ family }] });
  const req = request(`${hale.fhirBase}/Patient`, {
    method: 'POST',
    agent: false,
    headers: {
      authorization: `Bearer ${hale.token}`,
      'content-type': 'application/fhir+json',
      'content-length': Buffer.byteLength(body),
      expect: '100-continue',
    },
  });
  const answer = answerOf(req);
  req.flushHeaders();
  await new Promise<void>((resolve, reject) => {
    req.once('continue', resolve);
    answer.catch(reject);
  });
  return { finish: () => req.end(body), answer };
}

async function patientsNamed(db: TestDatabase, family: string): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM resource WHERE type = 'Patient' AND NOT deleted AND content::jsonb -> 'name' -> 0 ->> 'family' = $1`,
      [family]
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

onServer('graceful shutdown of the server process', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  test('on SIGTERM it reports not ready, finishes the request in flight, refuses new connections, and exits 0', async () => {
    // The delay stands for a load balancer's probe period: accepting, but /readyz says 503.
    const hale = await startHale(db.url, {
      env: { ...redisEnv, SHUTDOWN_DELAY_MS: '4000', SHUTDOWN_GRACE_MS: '60000' },
    });
    const base = hale.fhirBase.replace(/\/fhir\/R4$/, '');
    try {
      expect(await probe(`${base}/livez`)).toMatchObject({ status: 200, body: 'ok' });
      expect(await probe(`${base}/readyz`)).toMatchObject({ status: 200, body: 'ok' });
      const held = await heldCreate(hale, 'Inflight');

      hale.kill('SIGTERM');
      let ready = await probe(`${base}/readyz`);
      while (typeof ready !== 'string' && ready.status === 200) {
        await sleep(20);
        ready = await probe(`${base}/readyz`);
      }
      expect(ready).toMatchObject({ status: 503, body: 'draining', headers: { connection: 'close' } });

      // Once the delay is over the listener closes: a new connection is refused, the held request is still served.
      let refused = await probe(`${base}/readyz`);
      while (typeof refused !== 'string') {
        await sleep(50);
        refused = await probe(`${base}/readyz`);
      }
      expect(refused).toBe('ECONNREFUSED');

      held.finish();
      const answer = await held.answer;
      expect(answer.status).toBe(201);
      expect(JSON.parse(answer.body)).toMatchObject({ resourceType: 'Patient', name: [{ family: 'Inflight' }] });
      expect(answer.headers.connection).toBe('close');

      expect(await hale.exit).toEqual({ code: 0, signal: null });
      expect(await patientsNamed(db, 'Inflight')).toBe(1);
    } finally {
      await hale.stop(2_000);
    }
  });

  test('a request still open after the grace period is cut off, and the process still exits 0', async () => {
    const hale = await startHale(db.url, { env: { ...redisEnv, SHUTDOWN_GRACE_MS: '1000' } });
    try {
      const held = await heldCreate(hale, 'Abandoned');
      hale.kill('SIGTERM');
      // Its body never comes: the server closes the socket once the grace period is over.
      await expect(held.answer).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect(await hale.exit).toEqual({ code: 0, signal: null });
      expect(await patientsNamed(db, 'Abandoned')).toBe(0);
    } finally {
      await hale.stop(2_000);
    }
  });
});

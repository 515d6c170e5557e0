import pg from 'pg';
import { expectIntact, faultRig } from './fault-hale';
import { IngestLoad } from './ingest-load';
import { postgresBin } from './pg-cluster';

const withPostgres = postgresBin() ? describe : describe.skip;
const STATEMENT_TIMEOUT_MS = 1_500;

withPostgres('a table locked under load: statements time out (DATABASE_STATEMENT_TIMEOUT_MS)', () => {
  const rig = faultRig({ DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) });

  test('requests blocked behind the lock answer 503 within the timeout instead of hanging, then all is well', async () => {
    const { cluster, hale } = rig;
    const target = { fhirBase: hale.fhirBase, token: hale.token };
    const load = new IngestLoad(() => target, { clients: 4, requestTimeoutMs: 20_000, name: 'locked' });
    load.start();
    expect(await load.acknowledged(10, 60_000)).toBe(true);
    const admin = new pg.Client({ connectionString: cluster.url(), application_name: 'hale-faults' });
    await admin.connect();
    const before = load.answers.length;
    const read = (): Promise<Response> =>
      fetch(`${hale.fhirBase}/Observation?_count=1`, { headers: { authorization: `Bearer ${hale.token}` } });
    let blockedRead: Response;
    try {
      // An operator's migration gone wrong, or a long-running report: the resource table is locked for 5 s.
      await admin.query('BEGIN');
      await admin.query('LOCK TABLE resource IN ACCESS EXCLUSIVE MODE');
      const started = performance.now();
      blockedRead = await read();
      // No bound on how long it took (no timing asserts): had it waited for the lock, it would answer 200, not 503.
      const blockedMs = performance.now() - started;
      await new Promise((r) => setTimeout(r, 5_000 - blockedMs));
    } finally {
      await admin.query('ROLLBACK');
      await admin.end();
    }
    expect(blockedRead.status).toBe(503);
    expect(blockedRead.headers.get('retry-after')).not.toBeNull();
    expect(((await blockedRead.json()) as { issue: { code: string }[] }).issue[0]?.code).toBe('timeout');
    const during = load.answers.slice(before);
    expect(during.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    expect(during.some((a) => a.status === 503)).toBe(true);
    expect(await load.acknowledged(10, 60_000)).toBe(true);
    await load.stop();
    expect((await read()).status).toBe(200);
    await expectIntact(cluster, load);
  }, 240_000);
});

import pg from 'pg';
import { expectIntact, faultRig } from './fault-hale';
import { IngestLoad } from './ingest-load';
import { postgresBin } from './pg-cluster';

const withPostgres = postgresBin() ? describe : describe.skip;

withPostgres("Hale's PostgreSQL backends terminated under load (pg_terminate_backend)", () => {
  const rig = faultRig();

  test('every answer is a commit or a 503, nothing is half-written, and the pool recovers', async () => {
    const { cluster, hale } = rig;
    const target = { fhirBase: hale.fhirBase, token: hale.token };
    const load = new IngestLoad(() => target, { clients: 4, requestTimeoutMs: 20_000, name: 'term' });
    load.start();
    expect(await load.acknowledged(10, 60_000)).toBe(true);
    const admin = new pg.Client({ connectionString: cluster.url(), application_name: 'hale-faults' });
    await admin.connect();
    let terminated = 0;
    try {
      // Every 200 ms for 4 s, as a DBA, a pooler recycling connections or a failover would.
      for (let i = 0; i < 20; i++) {
        const { rows } = await admin.query<{ n: string }>(
          `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'hale'`
        );
        terminated += Number(rows[0]?.n ?? 0);
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await admin.end();
    }
    expect(terminated).toBeGreaterThan(0);
    expect(await load.acknowledged(10, 60_000)).toBe(true);
    await load.stop();
    const statuses = new Set(load.answers.map((a) => a.status));
    expect([...statuses].filter((s) => s !== 200 && s !== 503)).toEqual([]);
    await expectIntact(cluster, load);
    // The server itself is fine: a read answers.
    const res = await fetch(`${hale.fhirBase}/Organization?_summary=count`, {
      headers: { authorization: `Bearer ${hale.token}` },
    });
    expect(res.status).toBe(200);
    console.info(
      `backend-terminate: ${terminated} backends terminated, ${load.answers.length} answers ` +
        `(${load.answers.filter((a) => a.status === 503).length} × 503), ${load.acked.size} bundles checked`
    );
  }, 240_000);
});

import type { HaleProcess } from '../../../bench/src/server-process';
import { startHale } from '../../../bench/src/server-process';
import { expectIntact } from './fault-hale';
import { IngestLoad, stopLoads } from './ingest-load';
import { PgCluster, postgresBin } from './pg-cluster';

// The suite's own PostgreSQL cluster (pg-cluster.ts): nothing here touches the machine's shared server.
const withPostgres = postgresBin() ? describe : describe.skip;

withPostgres('kill -9 of Hale under concurrent transaction ingest', () => {
  let cluster: PgCluster;
  let hale: HaleProcess | undefined;

  beforeAll(async () => {
    cluster = await PgCluster.create();
  }, 60_000);

  afterAll(async () => {
    await stopLoads();
    await hale?.stop(2_000);
    cluster.destroy();
  });

  test('after a restart every acknowledged bundle is whole, none is partial and no retry created twice', async () => {
    hale = await startHale(cluster.url(), { env: { GRAPHQL_WARMUP: 'false' } });
    let target = { fhirBase: hale.fhirBase, token: hale.token };
    const load = new IngestLoad(() => target, { clients: 6, requestTimeoutMs: 15_000, name: 'kill' });
    load.start();
    for (const round of [1, 2]) {
      expect(await load.acknowledged(10 * round, 60_000)).toBe(true);
      // Killed mid-flight: some bundles are committing, some half-read, some waiting for a connection.
      hale.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      hale = await startHale(cluster.url(), { env: { GRAPHQL_WARMUP: 'false' } });
      target = { fhirBase: hale.fhirBase, token: hale.token };
    }
    expect(await load.acknowledged(10, 60_000)).toBe(true);
    await load.stop();
    await expectIntact(cluster, load);
    // Answers were acknowledgements or no answer at all (the process was gone): never a 5xx from a live server.
    expect(load.answers.filter((a) => a.status >= 500)).toEqual([]);
  }, 240_000);
});

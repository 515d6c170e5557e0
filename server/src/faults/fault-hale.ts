/** The set-up most scenarios share: their own cluster, one Hale on it, and the checks every scenario ends with. */
import type { HaleProcess } from '../../../bench/src/server-process';
import { startHale } from '../../../bench/src/server-process';
import type { IngestLoad } from './ingest-load';
import { checkIntegrity, stopLoads } from './ingest-load';
import type { PgClusterOptions } from './pg-cluster';
import { PgCluster } from './pg-cluster';

export interface FaultRig {
  readonly cluster: PgCluster;
  readonly hale: HaleProcess;
}

/** Registers beforeAll/afterAll for a cluster and a Hale started with `env`; the rig is ready inside tests. */
export function faultRig(env: Record<string, string> = {}, clusterOptions: PgClusterOptions = {}): FaultRig {
  const rig = {} as { cluster: PgCluster; hale: HaleProcess };
  beforeAll(async () => {
    rig.cluster = await PgCluster.create(clusterOptions);
    rig.hale = await startHale(rig.cluster.url(), { env: { GRAPHQL_WARMUP: 'false', ...env } });
  }, 90_000);
  afterAll(async () => {
    await stopLoads();
    await rig.hale?.stop(2_000);
    rig.cluster?.destroy();
  });
  return rig;
}

/** Nothing acknowledged lost, nothing partial or twice, one shared Organization, every bundle acknowledged. */
export async function expectIntact(cluster: PgCluster, load: IngestLoad): Promise<void> {
  const integrity = await checkIntegrity(cluster.url(), load);
  expect(integrity).toEqual({ lost: [], partial: [], duplicated: [], organizations: 1, checked: load.acked.size });
  expect(load.acked.size).toBe(load.sent.size);
}

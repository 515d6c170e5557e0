/**
 * The clinical rules engine's throughput on its own (bots-load.ts ruleThroughput), on a fresh database: Hale
 * started as `npm start` would, the engine deployed with its Subscription (batching RULES_BATCH events a run),
 * then N new Observations of N/100 patients. The whole bench (`npm run bench`) runs the same measurement in its
 * bots phase; this is for working on the engine.
 *
 *   npx tsx bench/src/rules-main.ts [--observations=10000] [--cpu-prof=<dir>] [--request-log=<file>] [--keep-db]
 *
 * --cpu-prof writes the server's V8 CPU profile to <dir>; --request-log writes its log at level info, a line per
 * request with its time, to <file>: together they show where a run's time goes. --keep-db leaves the
 * database behind (its name is printed) to look at what the run wrote.
 */
import { loadavg } from 'node:os';
import { connect } from './bots-client';
import { CpuMeter } from './cpu';
import { RULES_BATCH, ruleThroughput } from './bots-load';
import { createDatabase, databaseUrl, dropDatabase } from './postgres';
import { startHale } from './server-process';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const option = (name: string): string | undefined =>
    process.argv
      .slice(2)
      .find((a) => a.startsWith(`--${name}=`))
      ?.slice(name.length + 3);
  const profileDir = option('cpu-prof');
  const requestLog = option('request-log');
  const observations = Number(option('observations') ?? 10_000);
  const pgUrl = (process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
  const name = `hale_rules_${process.pid}`;
  await createDatabase(pgUrl, name);
  try {
    const url = databaseUrl(pgUrl, name);
    const hale = await startHale(url, {
      env: { GRAPHQL_WARMUP: 'false', ...(requestLog ? { LOG_LEVEL: 'info' } : {}) },
      ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
      ...(requestLog ? { logFile: requestLog } : {}),
    });
    const db = await connect(url);
    try {
      log(`rules engine: ${observations} Observations, batches of ${RULES_BATCH}; load ${load()}`);
      // CPU as well as wall time: on a shared machine the wall time says little, the cores used say what it costs.
      const cpu = new CpuMeter(`${pgUrl}/postgres`, name, hale.pid);
      await cpu.start();
      const r = await ruleThroughput({ fhirBase: hale.fhirBase, token: hale.token, databaseUrl: url }, db, {
        observations,
        patients: Math.max(1, Math.round(observations / 100)),
        perBundle: 100,
        seed: 1,
        log,
        timeoutMs: 600_000,
      });
      const seconds = r.totalMs / 1000;
      log(
        `${r.evaluations} evaluations and ${r.actions} actions from ${r.jobs.done} jobs (${r.jobs.dead} dead) in ` +
          `${seconds.toFixed(1)} s (ingest ${(r.ingestMs / 1000).toFixed(1)} s): ` +
          `${Math.round(r.evaluations / seconds)} evaluations/s; runs p50 ${r.runs.p50} ms, p99 ${r.runs.p99} ms, ` +
          `${r.runs.count} runs, workers busy ${(r.workerBusy * 100).toFixed(0)}%; load ${load()}`
      );
      const used = await cpu.stop();
      const cores = (pct: number): string => (pct / 100).toFixed(2);
      log(
        `CPU in cores over the run: Hale ${cores(used.halePct)}, bot workers ${cores(used.workersPct)}, ` +
          `PostgreSQL ${cores(used.postgresPct)}, bench ${cores(used.benchPct)}; ` +
          `${(((used.halePct + used.workersPct + used.postgresPct) / 100) * (seconds / r.evaluations) * 1000).toFixed(2)} ` +
          `ms of server-side CPU per evaluation (ingest included)`
      );
    } finally {
      await db.end();
      await hale.stop();
    }
  } finally {
    if (process.argv.includes('--keep-db')) {
      log(`database kept: ${name}`);
    } else {
      await dropDatabase(pgUrl, name);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

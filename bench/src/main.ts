/**
 * `npm run bench`: Hale's performance against a raw PostgreSQL floor, in one run on one machine.
 * Starts Hale on a fresh database, generates the workload, measures the floor in a scratch
 * database, then ingests, reads and searches through Hale, runs the bots phase (bots.ts, unless
 * --skip-bots), prints the table and writes it into docs/benchmarks.md. Exit code 0 when it ran
 * (missed targets included), 1 when something failed or answered wrongly, 2 on bad options.
 */
import { useBearerToken } from './http';
import { botsPhase } from './bots';
import { bulkLines, bulkPhase } from './bulk';
import { loadavg } from 'node:os';
import { consentSearches } from './consent';
import { buildDataset, type Dataset } from './dataset';
import { DOCS_PATH, writeResults } from './docs';
import { patientEverything } from './everything';
import { measureFloor, type FloorResult } from './floor';
import { ingest, probeInlineTransactions } from './ingest';
import { deviceImportLines, deviceImportPhase } from './device-import';
import { describeMachine } from './machine';
import { parseOptions, UsageError, type BenchOptions } from './options';
import { CpuMeter } from './cpu';
import { WaitSampler } from './waits';
import { analyzeDatabase, createDatabase, databaseUrl, dropDatabase, storedResources } from './postgres';
import { readById } from './reads';
import { errorCount, renderReport, type BenchResults } from './report';
import { patientAppSearches } from './searches';
import { startHale } from './server-process';
import { startupErrors, startupPhase, startupSection, type StartupResult } from './startup';
import { wellnessPhase } from './wellness';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Scratch databases and the server, released on success, failure and Ctrl-C alike (last in, first out). */
class Cleanup {
  private readonly steps: (() => Promise<void>)[] = [];
  add(step: () => Promise<void>): void {
    this.steps.unshift(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0)) {
      await step().catch((err: unknown) => log(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`));
    }
  }
}

async function floorPhase(options: BenchOptions, data: Dataset, cleanup: Cleanup, name: string): Promise<FloorResult> {
  log(`Raw PostgreSQL floor in database ${name}…`);
  await createDatabase(options.pgUrl, name);
  cleanup.add(() => dropDatabase(options.pgUrl, name));
  const floor = await measureFloor(databaseUrl(options.pgUrl, name), data, {
    batch: options.floorBatch,
    lookups: options.reads,
    searches: options.searchPatients,
  });
  await dropDatabase(options.pgUrl, name); // frees its cache and disk before Hale's ingest
  log(`  ${Math.round(floor.rowsPerSecond)} rows/s; id lookup p50 ${floor.idLookup.p50.toFixed(2)} ms`);
  return floor;
}

function startup(options: BenchOptions): Promise<StartupResult> {
  log(`Start-up: one start on a fresh database, then ${options.startupRuns} restarts…`);
  return startupPhase({ pgUrl: options.pgUrl, starts: options.startupRuns, idleMs: 5_000, log });
}

async function run(options: BenchOptions, cleanup: Cleanup): Promise<BenchResults> {
  const startedAt = new Date();
  const machine = await describeMachine(options.pgUrl);
  // First, while nothing else of the bench's runs: the figures are the server's own.
  const startupResult = options.skipStartup ? undefined : await startup(options);
  const name = `hale_bench_${process.pid}`;
  await createDatabase(options.pgUrl, name);
  if (!options.keepDb) {
    cleanup.add(() => dropDatabase(options.pgUrl, name));
  }
  const url = databaseUrl(options.pgUrl, name);
  // BULK_MIN_POLL_MS=0: the bulk phase polls its exports every 50 ms (bulk.ts).
  const hale = await startHale(url, { env: { GRAPHQL_WARMUP: String(options.graphqlWarm), BULK_MIN_POLL_MS: '0' } });
  useBearerToken(hale.token);
  cleanup.add(() => hale.stop());
  log(`Hale ${hale.fhirBase} (pid ${hale.pid}) on database ${name}`);

  const probe = await probeInlineTransactions(hale.fhirBase, options.seed);
  if (probe.rejection) {
    log(`  Hale rejects the seed's inline-directory transactions (${probe.rejection}); using directory 'reference'`);
  }
  log(`Generating ${options.patients} patients (seed ${options.seed}, directory '${probe.directory}')…`);
  const data = buildDataset(options.seed, options.patients, probe.directory);
  log(
    `  ${data.resources} resources, ${(data.bytes / 1024 ** 2).toFixed(0)} MB, ${(data.generateMs / 1000).toFixed(1)} s`
  );
  const floor = await floorPhase(options, data, cleanup, `${name}_floor`);

  log(`Ingesting ${data.patients.length} bundles…`);
  const adminUrl = databaseUrl(options.pgUrl, 'postgres');
  const meter = new CpuMeter(adminUrl, name, hale.pid);
  const waits = new WaitSampler(adminUrl, name);
  const ingested = await ingest(hale.fhirBase, hale.pid, data, probe, { ...options, meter, waits, log });
  for (const p of ingested.phases) {
    log(`  ${p.warmup ? 'warm-up' : `concurrency ${p.concurrency}`}: ${Math.round(p.resourcesPerSecond)} resources/s`);
  }
  const stored = await storedResources(url);
  // Hale does not ANALYZE, and autovacuum may be off or not have run yet: search once as ingested, once with statistics.
  log(`Patient-app searches for ${options.searchPatients} patients, before ANALYZE…`);
  const searchesBeforeAnalyze = await patientAppSearches(
    hale.fhirBase,
    data,
    ingested.patientIds,
    options.searchPatients
  );
  const analyzeMs = await analyzeDatabase(url);
  log(`Reading ${options.reads} resources by id…`);
  const reads = await readById(hale.fhirBase, ingested.created, options.reads, data.seed);
  log(`Patient-app searches for ${options.searchPatients} patients…`);
  const searches = await patientAppSearches(hale.fhirBase, data, ingested.patientIds, options.searchPatients);
  log(`$everything for ${options.everythingPatients} patients…`);
  const everything = await patientEverything(hale.fhirBase, data, ingested.patientIds, options.everythingPatients);
  log(`Consent-filtered searches (${options.consent.patients} patients, ${options.consent.providers} providers)…`);
  const consent = await consentSearches({
    fhirBase: hale.fhirBase,
    databaseUrl: url,
    systemToken: hale.token,
    data,
    patientIds: ingested.patientIds,
    options: options.consent,
    log,
  });
  const bots = options.skipBots
    ? undefined
    : await botsPhase({
        main: hale,
        databaseUrl: url,
        pgUrl: options.pgUrl,
        redisDatabase: `${name}_redis`,
        seed: options.seed,
        options: options.bots,
        addCleanup: (step) => cleanup.add(step),
        log,
      });
  await wellnessPhase({ fhirBase: hale.fhirBase, databaseUrl: url, log }); // $stats and $lastn (logged; docs/wellness.md#cost)
  // $import of the same patients again (new ids), a system $export of everything and a consent-filtered Group
  // export (logged; docs/benchmarks.md#bulk-data-2026-12-07)
  const bulk = await bulkPhase({
    target: { fhirBase: hale.fhirBase, token: hale.token },
    halePid: hale.pid,
    databaseUrl: url,
    data,
    insertFloor: floor.rowsPerSecond,
    log,
  });
  bulkLines(bulk).forEach((line) => log(`  ${line}`));
  // A year of minute-level heart rate through $import-device, against its own floor (logged; docs/benchmarks.md)
  if (options.deviceReadings > 0) {
    await createDatabase(options.pgUrl, `${name}_device_floor`);
    cleanup.add(() => dropDatabase(options.pgUrl, `${name}_device_floor`));
    const device = await deviceImportPhase({
      target: { fhirBase: hale.fhirBase, token: hale.token },
      floorDatabaseUrl: databaseUrl(options.pgUrl, `${name}_device_floor`),
      readings: options.deviceReadings,
      log,
    });
    deviceImportLines(device).forEach((line) => log(`  ${line}`));
  }
  await hale.stop();
  if (options.keepDb) {
    log(`Kept database ${name} (--keep-db): psql ${url}`);
  }
  const durationMs = Date.now() - startedAt.getTime();
  const loadAtEnd = loadavg()[0] ?? Number.NaN;
  const haleStderr = hale.stderrTail();
  return {
    options,
    startedAt,
    durationMs,
    machine,
    dataset: data,
    floor,
    probe,
    ingest: ingested,
    stored,
    searchesBeforeAnalyze,
    analyzeMs,
    reads,
    searches,
    everything,
    consent,
    ...(bots ? { bots } : {}),
    ...(startupResult ? { startup: startupResult } : {}),
    loadAtEnd,
    haleStderr,
  };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const cleanup = new Cleanup();
  const onSignal = (): void => {
    log('Interrupted: cleaning up…');
    void cleanup.run().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (options.startupOnly) {
      const result = await startup(options);
      process.stdout.write(
        `\nLoad average (1 min) ${(loadavg()[0] ?? Number.NaN).toFixed(1)}.\n\n${startupSection(result)}\n`
      );
      return startupErrors(result).length > 0 ? 1 : 0;
    }
    const results = await run(options, cleanup);
    const report = renderReport(results);
    process.stdout.write(`\n${report}\n`);
    if (options.writeDocs) {
      writeResults(report);
      log(`\nWrote the results into ${DOCS_PATH}`);
    }
    const errors = errorCount(results);
    if (errors > 0) {
      log(`${errors} requests failed or answered wrongly: see the notes under the table.`);
    }
    return errors > 0 ? 1 : 0;
  } finally {
    await cleanup.run();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(err instanceof UsageError ? err.message : `Bench failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
);

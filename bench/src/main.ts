/**
 * `npm run bench`: Hale's performance against a raw PostgreSQL floor, in one run on one machine.
 * Generates the workload, measures the floor in a scratch database, starts Hale on a fresh
 * database, ingests, reads, searches, prints the table and writes it into docs/benchmarks.md.
 * Exit code 0 when it ran (missed targets included), 1 when something failed or answered wrongly.
 */
import { buildDataset } from './dataset';
import { DOCS_PATH, writeResults } from './docs';
import { patientEverything } from './everything';
import { measureFloor } from './floor';
import { ingest } from './ingest';
import { describeMachine } from './machine';
import { parseOptions, UsageError, type BenchOptions } from './options';
import { createDatabase, databaseUrl, dropDatabase, storedResources } from './postgres';
import { readById } from './reads';
import { errorCount, renderReport, type BenchResults } from './report';
import { patientAppSearches } from './searches';
import { startHale, type HaleProcess } from './server-process';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Scratch databases and the server, released on success, failure and Ctrl-C alike. */
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

async function floorPhase(
  options: BenchOptions,
  data: ReturnType<typeof buildDataset>,
  cleanup: Cleanup,
  name: string
) {
  log(`Raw PostgreSQL floor in database ${name}…`);
  await createDatabase(options.pgUrl, name);
  cleanup.add(() => dropDatabase(options.pgUrl, name));
  const floor = await measureFloor(databaseUrl(options.pgUrl, name), data, {
    batch: options.floorBatch,
    lookups: options.reads,
    searches: options.searchPatients,
  });
  await dropDatabase(options.pgUrl, name); // free its cache and disk before Hale runs
  log(`  ${Math.round(floor.rowsPerSecond)} rows/s; id lookup p50 ${floor.idLookup.p50.toFixed(2)} ms`);
  return floor;
}

async function halePhase(options: BenchOptions, data: ReturnType<typeof buildDataset>, cleanup: Cleanup, name: string) {
  await createDatabase(options.pgUrl, name);
  if (!options.keepDb) {
    cleanup.add(() => dropDatabase(options.pgUrl, name));
  }
  const url = databaseUrl(options.pgUrl, name);
  const hale: HaleProcess = await startHale(url);
  cleanup.add(() => hale.stop());
  log(`Hale ${hale.fhirBase} (pid ${hale.pid}) on database ${name}; ingesting ${data.patients.length} bundles…`);
  const ingested = await ingest(hale.fhirBase, hale.pid, data.patients, {
    serialShare: options.serialShare,
    concurrency: options.concurrency,
    log,
  });
  for (const p of ingested.phases) {
    log(`  concurrency ${p.concurrency}: ${Math.round(p.resourcesPerSecond)} resources/s`);
  }
  const stored = await storedResources(url);
  log(`Reading ${options.reads} resources by id…`);
  const reads = await readById(hale.fhirBase, ingested.created, options.reads, data.seed);
  log(`Patient-app searches for ${options.searchPatients} patients…`);
  const searches = await patientAppSearches(hale.fhirBase, data, ingested.patientIds, options.searchPatients);
  log(`$everything for ${options.everythingPatients} patients…`);
  const everything = await patientEverything(hale.fhirBase, data, ingested.patientIds, options.everythingPatients);
  await hale.stop();
  if (options.keepDb) {
    log(`Kept database ${name} (--keep-db): psql ${url}`);
  }
  return { ingest: ingested, stored, reads, searches, everything, haleStderr: hale.stderrTail() };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const startedAt = new Date();
  const cleanup = new Cleanup();
  const onSignal = (): void => {
    log('Interrupted: cleaning up…');
    void cleanup.run().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const machine = await describeMachine(options.pgUrl);
    log(`Generating ${options.patients} patients (seed ${options.seed})…`);
    const data = buildDataset(options.seed, options.patients);
    log(
      `  ${data.resources} resources, ${(data.bytes / 1024 ** 2).toFixed(0)} MB, ${(data.generateMs / 1000).toFixed(1)} s`
    );
    const name = `hale_bench_${process.pid}`;
    const floor = await floorPhase(options, data, cleanup, `${name}_floor`);
    const hale = await halePhase(options, data, cleanup, name);
    const results: BenchResults = {
      options,
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
      machine,
      dataset: data,
      floor,
      ...hale,
    };
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

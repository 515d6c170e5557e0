import type { BotsOptions } from './bots';
import type { ConsentOptions } from './consent-load';

/** Bench options, from flags (`--patients=400`) or environment variables (`BENCH_PATIENTS=400`). */
export interface BenchOptions {
  readonly quick: boolean;
  /** Patients generated and ingested (~300 resources each). */
  readonly patients: number;
  readonly seed: number;
  /** Share of the patients ingested one bundle at a time; the rest go `concurrency` at a time. */
  readonly serialShare: number;
  /**
   * Bundles ingested right after Hale starts, one at a time, before the timed phases: V8 compiles
   * the hot paths over the first ~30 bundles (they take 60–110 ms, later ones ~45). Reported apart.
   */
  readonly warmupBundles: number;
  readonly concurrency: number;
  /** Random resources read by id. */
  readonly reads: number;
  /** Random patients each patient-app search runs for. */
  readonly searchPatients: number;
  readonly everythingPatients: number;
  /** The Consent-filtered searches' workload (after the other phases). */
  readonly consent: ConsentOptions;
  /** Rows per statement in the raw multi-row INSERT floor. */
  readonly floorBatch: number;
  /** PostgreSQL server, without a database name; the bench creates and drops its own databases. */
  readonly pgUrl: string;
  /** Overwrite the results section of docs/benchmarks.md (default: full runs only). */
  readonly writeDocs: boolean;
  /** Leave Hale's database in place afterwards, to look at plans with psql. */
  readonly keepDb: boolean;
  /** Start Hale with GRAPHQL_WARMUP=true: the GraphQL schema resident, as after a first $graphql request. */
  readonly graphqlWarm: boolean;
  /** Leave out the bots phase (sandbox, trigger latency, rules engine, Subscription overhead). */
  readonly skipBots: boolean;
  readonly bots: BotsOptions;
  /** Run only the start-up phase (bench/src/startup.ts), or leave it out of a full run. */
  readonly startupOnly: boolean;
  readonly skipStartup: boolean;
  /** Restarts measured on a migrated database. */
  readonly startupRuns: number;
  /** Minute-level heart rates in the device-import phase's export.xml (device-import.ts); 0 leaves it out. */
  readonly deviceReadings: number;
}

const USAGE = `Usage: npm run bench -- [--quick] [--patients=N] [--seed=N] [--concurrency=N] [--docs|--no-docs] [--keep-db] [--graphql-warm]
         [--skip-bots] [--bot-observations=N] [--startup-only|--skip-startup] [--device-readings=N]
Environment: BENCH_PATIENTS, BENCH_SEED, BENCH_CONCURRENCY, BENCH_BOT_OBSERVATIONS, BENCH_DEVICE_READINGS,
  BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432), BENCH_REDIS_URL (default redis://127.0.0.1:6379)`;

export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
  }
}

function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m?.[1]) {
      throw new UsageError(`Unknown argument: ${arg}`);
    }
    flags.set(m[1], m[2] ?? 'true');
  }
  return flags;
}

function integer(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${name} must be an integer >= ${min}, got ${raw}`);
  }
  return value;
}

/**
 * The root script runs `npm run -w bench bench` without a `--` separator, so npm takes
 * `npm run bench -- --quick --patients=50` as its own config and hands it over as
 * npm_config_quick / npm_config_patients; those count as flags too.
 */
function npmConfigFlags(env: NodeJS.ProcessEnv, names: readonly string[]): string[] {
  return names.flatMap((name) => {
    const value = env[`npm_config_${name.replace(/-/g, '_')}`];
    if (value === undefined || value === '') {
      return [];
    }
    if (value === 'false') {
      return name === 'docs' ? ['--no-docs'] : []; // npm reads `--no-docs` as docs=false
    }
    return [value === 'true' ? `--${name}` : `--${name}=${value}`];
  });
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const known = [
    'quick',
    'patients',
    'seed',
    'concurrency',
    'docs',
    'no-docs',
    'keep-db',
    'graphql-warm',
    'skip-bots',
    'bot-observations',
    'startup-only',
    'skip-startup',
    'device-readings',
    'help',
  ];
  const flags = parseFlags([
    ...npmConfigFlags(env, [
      'quick',
      'patients',
      'seed',
      'concurrency',
      'docs',
      'keep-db',
      'skip-bots',
      'bot-observations',
      'startup-only',
      'skip-startup',
      'device-readings',
    ]),
    ...argv,
  ]);
  for (const name of flags.keys()) {
    if (!known.includes(name)) {
      throw new UsageError(`Unknown flag --${name}`);
    }
  }
  if (flags.has('help')) {
    throw new UsageError('Help');
  }
  const quick = flags.has('quick');
  const patients = integer('patients', flags.get('patients') ?? env.BENCH_PATIENTS, quick ? 10 : 400, 2);
  return {
    quick,
    patients,
    seed: integer('seed', flags.get('seed') ?? env.BENCH_SEED, 1, 0),
    serialShare: 0.25,
    warmupBundles: quick ? 1 : 20,
    concurrency: integer('concurrency', flags.get('concurrency') ?? env.BENCH_CONCURRENCY, 4, 1),
    reads: quick ? 300 : 3000,
    searchPatients: Math.min(patients, quick ? 10 : 200),
    everythingPatients: Math.min(patients, quick ? 5 : 50),
    // The workload: 1,000 patients, 100 providers, ~5 Consents per patient. Minting a token
    // with the CLI takes a few seconds, so 25 of the providers sign in, 4 measured patients each.
    consent: {
      patients: Math.max(patients, quick ? 200 : 1000),
      providers: quick ? 20 : 100,
      perPatient: 5,
      signedIn: quick ? 5 : 25,
      pairsPerProvider: 4,
    },
    floorBatch: 500,
    pgUrl: (env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, ''),
    writeDocs: flags.has('docs') || (!quick && !flags.has('no-docs')),
    keepDb: flags.has('keep-db'),
    graphqlWarm: flags.has('graphql-warm'),
    skipBots: flags.has('skip-bots'),
    startupOnly: flags.has('startup-only'),
    skipStartup: flags.has('skip-startup'),
    startupRuns: quick ? 2 : 5,
    deviceReadings: integer(
      'device-readings',
      flags.get('device-readings') ?? env.BENCH_DEVICE_READINGS,
      quick ? 5_000 : 500_000,
      0
    ),
    bots: {
      observations: integer(
        'bot-observations',
        flags.get('bot-observations') ?? env.BENCH_BOT_OBSERVATIONS,
        quick ? 1_000 : 10_000,
        100
      ),
      executeCalls: quick ? 50 : 200,
      executeWarmup: 20,
      triggerEvents: quick ? 50 : 200,
      triggerWarmup: 10,
      triggerSpacingMs: 20,
      perBundle: 100,
      rulesTimeoutMs: 20 * 60_000,
      redisUrl: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    },
  };
}

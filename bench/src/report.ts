/** The results table, judged against Hale's targets, as Markdown for the console and docs/benchmarks.md. */
import { botErrors, type BotsResult } from './bots';
import { botsSection } from './bots-report';
import type { ConsentResult } from './consent';
import type { Dataset } from './dataset';
import type { EverythingResult } from './everything';
import type { FloorResult } from './floor';
import type { IngestResult, Probe } from './ingest';
import type { Machine } from './machine';
import type { CheckedLatency } from './measure';
import type { BenchOptions } from './options';
import type { SearchResult } from './searches';
import { startupErrors, startupSection, type StartupResult } from './startup';
import type { LatencySummary } from './stats';
import type { WaitShare } from './waits';

export interface BenchResults {
  readonly options: BenchOptions;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly machine: Machine;
  readonly dataset: Dataset;
  readonly floor: FloorResult;
  readonly probe: Probe;
  readonly ingest: IngestResult;
  readonly stored: { readonly resources: number; readonly databaseMb: number };
  /** The same searches right after the ingest, before the bench ran ANALYZE. */
  readonly searchesBeforeAnalyze: readonly SearchResult[];
  readonly analyzeMs: number;
  readonly reads: CheckedLatency;
  readonly searches: readonly SearchResult[];
  readonly everything: EverythingResult;
  readonly consent: ConsentResult;
  /** The bots phase; absent with --skip-bots. */
  readonly bots?: BotsResult;
  /** The start-up phase; absent with --skip-startup. */
  readonly startup?: StartupResult;
  /** 1-minute load average when the measurements ended. */
  readonly loadAtEnd: number;
  /** What Hale wrote to stderr at LOG_LEVEL=warn. */
  readonly haleStderr: string;
}

export const TARGETS = {
  ingestShareOfFloor: 0.15,
  ingestMinimum: 1_500,
  readP50Ms: 3,
  searchP50Ms: 10,
  searchMinimumResources: 100_000,
  everythingP50Ms: 100,
  memoryGrowthPct: 10,
  /** A provider's search, Consent-filtered, against the same search with the system token. */
  consentRatio: 1.3,
} as const;

interface Row {
  readonly metric: string;
  readonly value: string;
  readonly floor: string;
  readonly ratio: string;
  readonly target: string;
  readonly result: string;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (Number.isNaN(n) ? 'n/a' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const latency = (l: LatencySummary): string => `p50 ${ms(l.p50)} / p99 ${ms(l.p99)} ms`;
const signed = (n: number): string => `${n >= 0 ? '+' : ''}${n.toFixed(1)}`;
const verdict = (ok: boolean): string => (ok ? 'pass' : '**FAIL**');

function judged(checked: CheckedLatency, limitMs: number): string {
  return checked.errors > 0 ? `**ERROR** (${checked.errors})` : verdict(checked.latency.p50 <= limitMs);
}

function waitSummary(waits: readonly WaitShare[]): string {
  const shown = waits.filter((w) => w.backends >= 0.05).slice(0, 4);
  return shown.length > 0 ? shown.map((w) => `${w.backends.toFixed(1)} ${w.state}`).join(', ') : 'none busy';
}

function ingestRows(r: BenchResults): Row[] {
  const floor = r.floor.rowsPerSecond;
  const needed = Math.max(TARGETS.ingestShareOfFloor * floor, TARGETS.ingestMinimum);
  return r.ingest.phases.map((p) => ({
    metric: p.warmup
      ? `Ingest warm-up right after start, 1 bundle at a time (${p.bundles} bundles, ${int(p.resources)} resources)`
      : `Ingest, ${p.concurrency === 1 ? '1 bundle at a time' : `${p.concurrency} bundles at a time`} (${p.bundles} bundles, ${int(p.resources)} resources)`,
    value:
      `${int(p.resourcesPerSecond)} resources/s (bundle ${latency(p.bundleLatency)}; CPU of one core: Hale ` +
      `${p.cpu.halePct.toFixed(0)}%, PostgreSQL ${p.cpu.postgresPct.toFixed(0)}%, bench ${p.cpu.benchPct.toFixed(0)}%; ` +
      `Hale's backends on average: ${waitSummary(p.waits)})`,
    floor: `${int(floor)} rows/s`,
    ratio: `${((p.resourcesPerSecond / floor) * 100).toFixed(1)}%`,
    target: p.warmup
      ? 'none: V8 is still compiling the hot paths'
      : `≥ ${TARGETS.ingestShareOfFloor * 100}% of floor and ≥ ${int(TARGETS.ingestMinimum)}/s (here ≥ ${int(needed)}/s)`,
    result: p.warmup ? 'informational' : verdict(p.resourcesPerSecond >= needed),
  }));
}

function memoryRow(r: BenchResults): Row {
  const m = r.ingest.memory;
  const growth = m.concurrent.growthPct;
  return {
    metric: 'Hale RSS while ingesting',
    value:
      `start ${int(m.startMb)} MB, peak ${int(m.peakMb)} MB, end ${int(m.endMb)} MB; concurrent phase: first 10% ` +
      `${int(m.concurrent.first10Mb)} MB → last 10% ${int(m.concurrent.last10Mb)} MB (${signed(growth)}%); whole ingest: ` +
      `${int(m.whole.first10Mb)} MB → ${int(m.whole.last10Mb)} MB (${signed(m.whole.growthPct)}%)`,
    floor: '',
    ratio: '',
    target: `flat: ≤ +${TARGETS.memoryGrowthPct}% over the concurrent phase`,
    result: Number.isNaN(growth) ? 'n/a' : verdict(growth <= TARGETS.memoryGrowthPct),
  };
}

function rows(r: BenchResults): Row[] {
  const f = r.floor;
  const ratio = (value: number, floor: number): string => `${(value / floor).toFixed(1)}×`;
  return [
    ...ingestRows(r),
    memoryRow(r),
    {
      metric: `Read by id (${r.reads.latency.count} random resources)`,
      value: latency(r.reads.latency),
      floor: `p50 ${ms(f.idLookup.p50)} ms`,
      ratio: ratio(r.reads.latency.p50, f.idLookup.p50),
      target: `p50 ≤ ${TARGETS.readP50Ms} ms`,
      result: judged(r.reads, TARGETS.readP50Ms),
    },
    ...r.searches.map((s, i) => ({
      metric: `\`${s.label}\` (${s.latency.count} patients, ${s.meanMatches.toFixed(1)} matches/page)`,
      value: latency(s.latency),
      floor: i === 0 ? `p50 ${ms(f.patientCodeDate.p50)} ms` : '',
      ratio: i === 0 ? ratio(s.latency.p50, f.patientCodeDate.p50) : '',
      target: `p50 ≤ ${TARGETS.searchP50Ms} ms`,
      result: judged(s, TARGETS.searchP50Ms),
    })),
    {
      metric: `Patient/X/$everything (${r.everything.latency.count} patients, ${r.everything.meanResources.toFixed(0)} resources, ${r.everything.meanPages.toFixed(1)} pages each)`,
      value: latency(r.everything.latency),
      floor: '',
      ratio: '',
      target: `p50 ≤ ${TARGETS.everythingP50Ms} ms`,
      result: judged(r.everything, TARGETS.everythingP50Ms),
    },
  ];
}

const HEADERS = ['Metric', 'Hale', 'Raw PostgreSQL floor', 'Hale / floor', 'Target', 'Result'];

function table(all: readonly Row[], headers: readonly string[] = HEADERS): string {
  // GitHub splits cells at a `|` even inside code spans unless it is escaped.
  const line = (cells: readonly string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [
    line(headers),
    line(['---', '---', '---', '---', '---', '---']),
    ...all.map((row) => line([row.metric, row.value, row.floor, row.ratio, row.target, row.result])),
  ].join('\n');
}

function checked(r: BenchResults): CheckedLatency[] {
  return [
    r.reads,
    r.everything,
    ...r.searches,
    ...r.searchesBeforeAnalyze,
    r.consent.cold,
    ...r.consent.searches.flatMap((s) => [s.provider, s.system]),
  ];
}

export function errorCount(r: BenchResults): number {
  return (
    checked(r).reduce((n, c) => n + c.errors, 0) +
    (r.bots ? botErrors(r.bots).length : 0) +
    (r.startup ? startupErrors(r.startup).length : 0)
  );
}

function beforeAnalyzeTable(r: BenchResults): string {
  const after = new Map(r.searches.map((s) => [s.label, s.latency.p50]));
  return table(
    r.searchesBeforeAnalyze.map((s) => ({
      metric: `\`${s.label}\``,
      value: latency(s.latency),
      floor: `p50 ${ms(after.get(s.label) ?? Number.NaN)} ms`,
      ratio: '',
      target: `p50 ≤ ${TARGETS.searchP50Ms} ms`,
      result: judged(s, TARGETS.searchP50Ms),
    })),
    ['Search, right after the ingest', 'Hale before ANALYZE', 'Hale after ANALYZE', '', 'Target', 'Result']
  );
}

function consentTable(r: BenchResults): string {
  const c = r.consent;
  const firstSystem = c.searches[0]?.system.latency.p50 ?? Number.NaN;
  const ratio = (provider: number, system: number): string => `${(provider / system).toFixed(2)}×`;
  return table(
    [
      ...c.searches.map((s) => ({
        metric: `\`${s.label}\` (${s.provider.latency.count} ${s.informational ? 'providers' : '(provider, patient) pairs'}, ${s.meanMatches.toFixed(1)} matches/page)`,
        value: latency(s.provider.latency),
        floor: latency(s.system.latency),
        ratio: ratio(s.provider.latency.p50, s.system.latency.p50),
        target: s.informational
          ? 'none: the system token searches every patient'
          : `provider p50 ≤ ${TARGETS.consentRatio}× system p50`,
        result:
          s.provider.errors + s.system.errors > 0
            ? `**ERROR** (${s.provider.errors + s.system.errors})`
            : s.informational
              ? 'informational'
              : verdict(s.provider.latency.p50 <= TARGETS.consentRatio * s.system.latency.p50),
      })),
      {
        metric: `First request of each provider, which loads and caches its grants (${c.cold.latency.count} providers; \`${c.coldLabel}\`)`,
        value: latency(c.cold.latency),
        floor: `p50 ${ms(firstSystem)} ms`,
        ratio: ratio(c.cold.latency.p50, firstSystem),
        target: 'none',
        result: c.cold.errors > 0 ? `**ERROR** (${c.cold.errors})` : 'informational',
      },
    ],
    [
      'Consent-filtered search',
      'Provider token',
      'System token (no Consent filtering)',
      'Provider / system',
      'Target',
      'Result',
    ]
  );
}

function consentWorkload(r: BenchResults): string {
  const w = r.consent.workload;
  return (
    `Consent-filtered searches: ${int(w.patients)} patients (the ${r.dataset.patients.length} above and ${int(w.lightPatients)} light ones), ` +
    `${w.providers} providers, ${int(w.consents)} sharing Consents (${int(w.viaCareTeam)} through a relationship CareTeam, ` +
    `${int(w.withDataPeriod)} with a dataPeriod), loaded in ${(w.loadMs / 1000).toFixed(1)} s; ${w.signedIn} of the providers signed in ` +
    `(${(w.tokensMs / 1000).toFixed(1)} s to mint their tokens with the CLI). Each search runs with the provider's token and, ` +
    `interleaved, the same URL with the system token:`
  );
}

function notes(r: BenchResults): string[] {
  const out: string[] = [];
  if (r.probe.rejection) {
    out.push(
      `**Hale rejects the seed's default bundles** (provider directory inline as conditional creates): ${r.probe.rejection}. ` +
        `The run therefore used the seed's \`directory: 'reference'\` mode (directory loaded first as one batch, bundles refer to it by conditional reference).`
    );
  }
  if (r.stored.resources < TARGETS.searchMinimumResources) {
    out.push(
      `Only ${int(r.stored.resources)} resources were stored: the search targets are defined on ≥ ${int(TARGETS.searchMinimumResources)}, so this run only smoke-tests them.`
    );
  }
  const failing = checked(r).filter((c) => c.errors > 0);
  for (const c of failing) {
    out.push(
      `Errors (${c.errors}): ${c.errorExamples.map((e) => `\`${e.replace(/`/g, "'").slice(0, 400)}\``).join('; ')}`
    );
  }
  for (const e of r.bots ? botErrors(r.bots) : []) {
    out.push(`Bots error: \`${e.replace(/`/g, "'")}\``);
  }
  const warnings = r.haleStderr.trim();
  if (warnings) {
    out.push(
      `Hale wrote to stderr (LOG_LEVEL=warn), last lines:\n\n\`\`\`\n${warnings.split('\n').slice(-10).join('\n')}\n\`\`\``
    );
  }
  return out;
}

export function renderReport(r: BenchResults): string {
  const m = r.machine;
  const pg = Object.entries(m.postgresSettings)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const d = r.dataset;
  const f = r.floor;
  return [
    `Measured ${r.startedAt.toISOString()} by \`npm run bench${r.options.quick ? ' -- --quick' : ''}\` in ${(r.durationMs / 60_000).toFixed(1)} min; Hale ${m.commit}.`,
    '',
    `- Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGb.toFixed(1)} GB RAM; PostgreSQL ${m.postgres} on the same machine (${pg}); ` +
      `Node ${m.node}. Load average (1 min) ${m.loadAtStart.toFixed(1)} at the start, ${r.loadAtEnd.toFixed(1)} at the end: ` +
      `the bench, Hale and PostgreSQL keep about 1 of it busy, the rest is other work sharing the ${m.cpus} cores.`,
    `- Dataset: ${d.patients.length} patients, seed ${d.seed}, reference date ${d.referenceDate}, directory '${d.directory}': ${int(d.resources)} resources in ` +
      `${(d.bytes / 1024 ** 2).toFixed(0)} MB of transaction JSON (generated in ${(d.generateMs / 1000).toFixed(1)} s, before any timing). ` +
      `Hale stored ${int(r.stored.resources)} resources; its database is ${int(r.stored.databaseMb)} MB. ` +
      (r.options.graphqlWarm
        ? 'Hale ran with `GRAPHQL_WARMUP=true`: the GraphQL schema (~340 MB) was resident throughout.'
        : 'Hale ran with the default configuration: no `$graphql` request, so the GraphQL schema was never built.'),
    `- Raw floor: ${int(f.rows)} rows in ${(f.insertMs / 1000).toFixed(1)} s = ${int(f.rowsPerSecond)} rows/s (INSERT of ${r.options.floorBatch} rows ` +
      `per statement into \`(id text primary key, type text, content jsonb)\`); primary-key lookup ${latency(f.idLookup)}; ` +
      `patient+code+date query on an expression index ${latency(f.patientCodeDate)} (${f.patientCodeDateRowsPerQuery.toFixed(1)} rows each).`,
    '',
    table(rows(r)),
    '',
    `Statistics matter to the searches. Hale refreshes them itself after bulk writes (server/src/jobs/analyze.ts: after 50% growth, ` +
      `taking at most a tenth of a core), and this server has autovacuum=${m.postgresSettings.autovacuum ?? '?'}. ` +
      `The table above is measured after the bench ran ANALYZE (${(r.analyzeMs / 1000).toFixed(1)} s) once the ingest ended, as autovacuum would after a bulk load; ` +
      `these are the same searches, for the same patients, right after the ingest, with only the statistics Hale gathered during it:`,
    '',
    beforeAnalyzeTable(r),
    '',
    consentWorkload(r),
    '',
    consentTable(r),
    '',
    ...(r.bots ? [botsSection(r.bots), ''] : []),
    ...(r.startup ? [startupSection(r.startup), ''] : []),
    ...notes(r).map((n) => `- ${n}`),
  ]
    .join('\n')
    .trimEnd();
}

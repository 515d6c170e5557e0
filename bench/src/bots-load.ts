/**
 * Bots under load: the clinical rules engine (bots/src/clinical-rules.ts) over a batch of new
 * Observations, and what an active Subscription costs the ingest that triggers it.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { join } from 'node:path';
import type pg from 'pg';
import { ONE_THIRD_CRITERIA, observationBundles, patientsBundle } from './bots-data';
import {
  botRuns,
  countResources,
  deployBot,
  post,
  request,
  runDetail,
  subscribe,
  unsubscribe,
  waitForJobs,
} from './bots-client';
import type { HaleTarget, JobCounts } from './bots-client';
import { TRIVIAL_BOT } from './bots-latency';
import { REPO_ROOT } from './server-process';
import { summarize, type LatencySummary } from './stats';

export interface LoadOptions {
  readonly observations: number;
  readonly patients: number;
  readonly perBundle: number;
  readonly seed: number;
  readonly log: (line: string) => void;
}

/** Events per engine run (the Subscription's backport-max-count; BENCH_RULES_BATCH). */
export const RULES_BATCH = Number(process.env.BENCH_RULES_BATCH ?? 100);

/** What the engine's own token may do: read the rules and the patient's data, write its results. */
const ENGINE_SCOPES = [
  'system/PlanDefinition.rs',
  'system/Observation.rs',
  'system/Condition.rs',
  'system/Patient.rs',
  'system/GuidanceResponse.crus',
  'system/Flag.crus',
  'system/DetectedIssue.crus',
  'system/Task.crus',
  'system/Communication.crus',
  'system/Basic.crus',
].join(' ');

/** Bundled as `npm run hale -- bot deploy` does (server/src/bots/cli.ts). */
async function bundle(file: string): Promise<string> {
  const { bundleBot } = await import('../../server/src/bots/cli');
  return bundleBot(join(REPO_ROOT, file));
}

/** Creates `count` fresh patients in one transaction; returns their ids. */
export async function createPatients(hale: HaleTarget, run: string, count: number): Promise<string[]> {
  const { body } = await post<Bundle>(hale, '', patientsBundle(run, count));
  return (body.entry ?? []).map((e) => /Patient\/([^/]+)/.exec(e.response?.location ?? '')?.[1] ?? '');
}

async function postAll(hale: HaleTarget, bundles: readonly string[]): Promise<void> {
  for (const json of bundles) {
    await request(hale, 'POST', '', json);
  }
}

export interface RulesResult {
  readonly rules: number;
  readonly observations: number;
  readonly patients: number;
  readonly ingestMs: number;
  /** From the first bundle sent until every job was seen finished. */
  readonly totalMs: number;
  readonly jobs: JobCounts;
  /** GuidanceResponses the engine wrote: one per (rule, reading) it evaluated. */
  readonly evaluations: number;
  /** Flags, DetectedIssues and Tasks written by fired rules. */
  readonly actions: number;
  readonly timedOut: boolean;
  readonly bundleBytes: number;
  /** The engine's runs' duration-ms (AuditEvents): reaching a sandbox worker to the handler's result. */
  readonly runs: LatencySummary;
  /** Those durations summed over (workers × totalMs): how busy the sandbox workers were. */
  readonly workerBusy: number;
}

const ACTION_TYPES = ['Flag', 'DetectedIssue', 'Task', 'Communication'];

async function countAll(db: pg.Client, types: readonly string[]): Promise<number> {
  let n = 0;
  for (const type of types) {
    n += await countResources(db, type);
  }
  return n;
}

export async function ruleThroughput(
  hale: HaleTarget,
  db: pg.Client,
  o: LoadOptions & { timeoutMs: number }
): Promise<RulesResult> {
  const installer = await deployBot(
    hale,
    'install-rules',
    await bundle('bots/src/install-rules.ts'),
    'system/PlanDefinition.crs'
  );
  const installed = await request<{ rules: unknown[] }>(
    hale,
    'POST',
    `Bot/${installer}/$execute`,
    '{}',
    'application/json'
  );
  const engineCode = await bundle('bots/src/clinical-rules.ts');
  const engine = await deployBot(hale, 'clinical-rules', engineCode, ENGINE_SCOPES);
  const patients = await createPatients(hale, 'rules', o.patients);
  const bundles = observationBundles(patients, o.observations, o.perBundle, { seed: o.seed, now: Date.now() });
  const before = {
    evaluations: await countResources(db, 'GuidanceResponse'),
    actions: await countAll(db, ACTION_TYPES),
  };
  // The engine's Subscription batches (backport-max-count): a run evaluates up to RULES_BATCH readings.
  const subscription = await subscribe(hale, 'Observation', engine, RULES_BATCH);
  const start = performance.now();
  const measured = await (async () => {
    try {
      await postAll(hale, bundles);
      const ingestMs = performance.now() - start;
      o.log(`  ${o.observations} Observations ingested in ${(ingestMs / 1000).toFixed(1)} s; waiting for the engine…`);
      const drained = await waitForJobs(db, subscription, o.observations, {
        timeoutMs: o.timeoutMs,
        onProgress: (c) => o.log(`  ${c.done + c.dead}/${c.total} jobs finished`),
      });
      return { ingestMs, drained };
    } finally {
      await unsubscribe(hale, subscription);
    }
  })();
  const { ingestMs, drained } = measured;
  const durations = (await botRuns(hale, engine))
    .filter((r) => r.subtype?.[0]?.code === 'subscription')
    .map((r) => Number(runDetail(r, 'duration-ms')))
    .filter((d) => Number.isFinite(d));
  const workers = Number(process.env.BOT_WORKERS ?? 2); // what the bench's Hale inherits
  return {
    rules: installed.body.rules.length,
    observations: o.observations,
    patients: o.patients,
    ingestMs,
    totalMs: drained.at - start,
    jobs: drained.counts,
    evaluations: (await countResources(db, 'GuidanceResponse')) - before.evaluations,
    actions: (await countAll(db, ACTION_TYPES)) - before.actions,
    timedOut: drained.timedOut,
    bundleBytes: engineCode.length,
    runs: summarize(durations),
    workerBusy: durations.reduce((a, b) => a + b, 0) / (workers * (drained.at - start)),
  };
}

export interface IngestRun {
  readonly subscribed: boolean;
  readonly ms: number;
  readonly observationsPerSecond: number;
  /** Jobs the Subscription added (0 without one). */
  readonly jobs: number;
  readonly dead: number;
  /** After the last bundle's answer, until the last of those jobs finished. */
  readonly drainMs: number;
}

export interface OverheadResult {
  readonly observations: number;
  readonly patients: number;
  /** A, B, A, B: without, with the Subscription. */
  readonly runs: IngestRun[];
  /** 1 − B/A of each pair. */
  readonly costs: number[];
}

/** Every job of the server finished (the engine's last ones dropped), so one run's bots never slow the next. */
async function quiet(db: pg.Client): Promise<void> {
  await waitForJobs(db, undefined, 0, { timeoutMs: 300_000 });
}

export async function ingestOverhead(hale: HaleTarget, db: pg.Client, o: LoadOptions): Promise<OverheadResult> {
  const noop = await deployBot(hale, 'bench-noop', TRIVIAL_BOT, '');
  const runs: IngestRun[] = [];
  for (const [i, subscribed] of [false, true, false, true].entries()) {
    const patients = await createPatients(hale, `ingest${i}`, o.patients);
    const bundles = observationBundles(patients, o.observations, o.perBundle, { seed: o.seed + i, now: Date.now() });
    await quiet(db);
    const subscription = subscribed ? await subscribe(hale, ONE_THIRD_CRITERIA, noop) : undefined;
    try {
      const start = performance.now();
      await postAll(hale, bundles);
      const ms = performance.now() - start;
      const drained = subscription ? await waitForJobs(db, subscription, 0, { timeoutMs: 300_000 }) : undefined;
      runs.push({
        subscribed,
        ms,
        observationsPerSecond: (o.observations / ms) * 1000,
        jobs: drained?.counts.total ?? 0,
        dead: drained?.counts.dead ?? 0,
        drainMs: drained ? Math.max(0, drained.at - start - ms) : 0,
      });
      o.log(
        `  ${subscribed ? 'with' : 'without'} the Subscription: ${Math.round((o.observations / ms) * 1000)} Observations/s`
      );
    } finally {
      if (subscription) {
        await unsubscribe(hale, subscription);
      }
    }
  }
  const rate = (i: number): number => runs[i]?.observationsPerSecond ?? Number.NaN;
  return {
    observations: o.observations,
    patients: o.patients,
    runs,
    costs: [1 - rate(1) / rate(0), 1 - rate(3) / rate(2)],
  };
}

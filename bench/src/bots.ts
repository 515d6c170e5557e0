/**
 * The bots phase (after the others, on the same Hale): a trivial bot's `$execute`, trigger latency
 * with the in-process queue, the clinical rules engine over a batch of Observations, and the cost of
 * an active Subscription to the ingest; then trigger latency again on a second Hale with
 * REDIS_URL (BullMQ), on a fresh database of its own.
 */
import { connect as tcpConnect } from 'node:net';
import { connect, type HaleTarget } from './bots-client';
import { executeOverhead, triggerLatency, type ExecuteResult, type TriggerResult } from './bots-latency';
import { ingestOverhead, ruleThroughput, type OverheadResult, type RulesResult } from './bots-load';
import { createDatabase, databaseUrl, dropDatabase } from './postgres';
import { startHale, type HaleProcess } from './server-process';

export interface BotsOptions {
  /** New Observations for the rules engine, and for each of the four ingest-overhead runs. */
  readonly observations: number;
  readonly executeCalls: number;
  readonly executeWarmup: number;
  readonly triggerEvents: number;
  readonly triggerWarmup: number;
  readonly triggerSpacingMs: number;
  readonly perBundle: number;
  /** How long the rules engine may take before the run reports what it finished. */
  readonly rulesTimeoutMs: number;
  readonly redisUrl: string;
}

export interface BotsResult {
  readonly options: BotsOptions;
  readonly execute: ExecuteResult;
  readonly triggerInProcess: TriggerResult;
  /** Undefined when Redis was not reachable (`redisSkipped` says why). */
  readonly triggerRedis?: TriggerResult;
  readonly redisSkipped?: string;
  readonly rules: RulesResult;
  readonly overhead: OverheadResult;
  /** Whether the bench's own Hale had REDIS_URL from the environment (then "in-process" is not). */
  readonly mainUsedRedis: boolean;
  /** BOT_WORKERS of both Hales (sandbox worker processes, jobs run at once). */
  readonly workers: number;
  readonly redisHaleStderr: string;
}

export interface BotsContext {
  readonly main: HaleProcess;
  readonly databaseUrl: string;
  readonly pgUrl: string;
  /** Name of the Redis-backed Hale's database. */
  readonly redisDatabase: string;
  readonly seed: number;
  readonly options: BotsOptions;
  readonly addCleanup: (step: () => Promise<void>) => void;
  readonly log: (line: string) => void;
}

function reachable(url: string): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((done) => {
    const socket = tcpConnect({ host: hostname, port: Number(port || 6379), timeout: 2_000 });
    const fail = (why: string): void => {
      socket.destroy();
      done(why);
    };
    socket.once('connect', () => {
      socket.end();
      done(undefined);
    });
    socket.once('timeout', () => fail(`${url} did not answer within 2 s`));
    socket.once('error', (err) => fail(`${url}: ${err.message}`));
  });
}

async function onMainHale(
  ctx: BotsContext
): Promise<Pick<BotsResult, 'execute' | 'triggerInProcess' | 'rules' | 'overhead'>> {
  const o = ctx.options;
  const hale: HaleTarget = { fhirBase: ctx.main.fhirBase, token: ctx.main.token, databaseUrl: ctx.databaseUrl };
  const db = await connect(ctx.databaseUrl);
  try {
    ctx.log(`Bots: ${o.executeCalls} sequential $execute of a trivial bot…`);
    const execute = await executeOverhead(hale, { calls: o.executeCalls, warmup: o.executeWarmup });
    ctx.log(`  p50 ${execute.latency.p50.toFixed(1)} ms`);
    ctx.log(`Bots: trigger latency, in-process queue (${o.triggerEvents} Observations)…`);
    const triggerInProcess = await triggerLatency(hale, db, {
      events: o.triggerEvents,
      warmup: o.triggerWarmup,
      spacingMs: o.triggerSpacingMs,
    });
    ctx.log(`  p50 ${triggerInProcess.latency.p50} ms, p99 ${triggerInProcess.latency.p99} ms`);
    const patients = Math.max(1, Math.round(o.observations / 100));
    const load = { observations: o.observations, patients, perBundle: o.perBundle, seed: ctx.seed, log: ctx.log };
    ctx.log(`Bots: clinical rules engine over ${o.observations} new Observations of ${patients} patients…`);
    const rules = await ruleThroughput(hale, db, { ...load, timeoutMs: o.rulesTimeoutMs });
    ctx.log(`  ${Math.round(rules.evaluations / (rules.totalMs / 1000))} evaluations/s`);
    ctx.log(`Bots: ingest without and with an active Subscription (A B A B)…`);
    const overhead = await ingestOverhead(hale, db, load);
    return { execute, triggerInProcess, rules, overhead };
  } finally {
    await db.end();
  }
}

async function withRedis(ctx: BotsContext): Promise<TriggerResult & { stderr: string }> {
  const o = ctx.options;
  await createDatabase(ctx.pgUrl, ctx.redisDatabase);
  ctx.addCleanup(() => dropDatabase(ctx.pgUrl, ctx.redisDatabase));
  const url = databaseUrl(ctx.pgUrl, ctx.redisDatabase);
  const hale = await startHale(url, { env: { REDIS_URL: o.redisUrl } });
  ctx.addCleanup(() => hale.stop());
  const db = await connect(url);
  try {
    ctx.log(`Bots: trigger latency, BullMQ on ${o.redisUrl} (Hale pid ${hale.pid}, database ${ctx.redisDatabase})…`);
    const target: HaleTarget = { fhirBase: hale.fhirBase, token: hale.token, databaseUrl: url };
    const result = await triggerLatency(target, db, {
      events: o.triggerEvents,
      warmup: o.triggerWarmup,
      spacingMs: o.triggerSpacingMs,
    });
    ctx.log(`  p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`);
    return { ...result, stderr: hale.stderrTail() };
  } finally {
    await db.end();
    await hale.stop();
    await dropDatabase(ctx.pgUrl, ctx.redisDatabase);
  }
}

/** Runs the bots measurements; stops the main Hale once done with it, before the Redis-backed one starts. */
export async function botsPhase(ctx: BotsContext): Promise<BotsResult> {
  const onMain = await onMainHale(ctx);
  await ctx.main.stop();
  const unreachable = await reachable(ctx.options.redisUrl);
  const redis = unreachable ? undefined : await withRedis(ctx);
  if (unreachable) {
    ctx.log(`Bots: Redis not reachable (${unreachable}); no BullMQ measurement`);
  }
  const { stderr, ...triggerRedis } = redis ?? { stderr: '' };
  return {
    options: ctx.options,
    ...onMain,
    ...(redis ? { triggerRedis: triggerRedis as TriggerResult } : { redisSkipped: unreachable }),
    mainUsedRedis: Boolean(process.env.REDIS_URL),
    workers: Number(process.env.BOT_WORKERS ?? 2),
    redisHaleStderr: stderr,
  };
}

/** Requests that failed or answered wrongly, and jobs that went dead: a benchmark that times errors is worthless. */
export function botErrors(r: BotsResult): string[] {
  const dead = (what: string, n: number, errors: readonly string[]): string[] =>
    n > 0 ? [`${what}: ${n} jobs dead${errors[0] ? ` (${errors[0].slice(0, 300)})` : ''}`] : [];
  return [
    ...r.execute.errors.map((e) => `$execute: ${e}`),
    ...r.triggerInProcess.errors.map((e) => `trigger latency, in-process: ${e}`),
    ...(r.triggerRedis?.errors ?? []).map((e) => `trigger latency, Redis: ${e}`),
    ...dead('clinical rules engine', r.rules.jobs.dead, r.rules.jobs.deadErrors),
    ...(r.rules.timedOut
      ? [`clinical rules engine: ${r.rules.jobs.open} jobs unfinished when the bench stopped waiting`]
      : []),
    ...r.overhead.runs.flatMap((run, i) => dead(`ingest-overhead run ${i + 1}`, run.dead, [])),
  ];
}

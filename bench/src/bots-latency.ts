/**
 * Bot latencies: a trivial bot's `$execute` (the sandbox's overhead as a caller sees it), and the
 * time from a committed write to the first line of the bot its Subscription runs.
 */
import type { Observation, Patient } from '@medplum/fhirtypes';
import type pg from 'pg';
import { HEART_RATE, vitalSign } from './bots-data';
import { botRuns, deployBot, post, request, runDetail, subscribe, unsubscribe, waitForJobs } from './bots-client';
import type { HaleTarget } from './bots-client';
import { FhirHttpError } from './http';
import { summarize, type LatencySummary } from './stats';

export const TRIVIAL_BOT = `exports.handler = async () => 'ok';`;

/**
 * The handler's first statement reads the clock; the log line carries it, with the Observation's id,
 * into the run's AuditEvent, which the runtime writes anyway: the bot itself writes nothing that
 * could slow the next event down.
 */
const FIRST_LINE_BOT = `exports.handler = async (medplum, event) => {
  const firstLine = Date.now();
  console.log('first-line ' + firstLine + ' ' + event.input.id);
  return 'ok';
};`;

export interface ExecuteResult {
  readonly calls: number;
  readonly warmup: number;
  /** Wall time of `POST Bot/{id}/$execute`, request sent to answer read. */
  readonly latency: LatencySummary;
  /** The same runs' `duration-ms` from their AuditEvents: reaching a sandbox worker to the handler's result. */
  readonly sandbox: LatencySummary;
  readonly errors: string[];
}

export async function executeOverhead(hale: HaleTarget, o: { calls: number; warmup: number }): Promise<ExecuteResult> {
  const bot = await deployBot(hale, 'bench-trivial', TRIVIAL_BOT, '');
  const samples: number[] = [];
  const errors: string[] = [];
  for (let i = 0; i < o.warmup + o.calls; i++) {
    try {
      const answer = await request<string>(hale, 'POST', `Bot/${bot}/$execute`, '{}', 'application/json');
      if (answer.body !== 'ok') {
        errors.push(`$execute answered ${JSON.stringify(answer.body).slice(0, 200)}`);
      } else if (i >= o.warmup) {
        samples.push(answer.ms);
      }
    } catch (err) {
      if (!(err instanceof FhirHttpError)) {
        throw err;
      }
      errors.push(err.message);
    }
  }
  // The bot's other AuditEvents (its create, its $deploy) carry no duration.
  const runs = (await botRuns(hale, bot))
    .filter((r) => r.subtype?.[0]?.code === 'execute')
    .sort((a, b) => (a.recorded ?? '').localeCompare(b.recorded ?? ''));
  const durations = runs.slice(o.warmup).map((r) => Number(runDetail(r, 'duration-ms')));
  return {
    calls: o.calls,
    warmup: o.warmup,
    latency: summarize(samples),
    sandbox: summarize(durations.filter((d) => Number.isFinite(d))),
    errors,
  };
}

export interface TriggerResult {
  readonly events: number;
  readonly warmup: number;
  readonly spacingMs: number;
  /** Bot's first line − the client's clock when the 201 arrived. */
  readonly latency: LatencySummary;
  /** Events whose bot started before the 201 reached the client (the queue is woken at commit). */
  readonly beforeAnswer: number;
  readonly errors: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Writes heart-rate Observations one at a time, `spacingMs` apart, each its own transaction; a bot
 * subscribed to that code logs its first line's time. The first `warmup` events are not timed (the
 * first run starts the sandbox's worker processes).
 */
export async function triggerLatency(
  hale: HaleTarget,
  db: pg.Client,
  o: { events: number; warmup: number; spacingMs: number }
): Promise<TriggerResult> {
  const bot = await deployBot(hale, 'bench-first-line', FIRST_LINE_BOT, '');
  const { body: patient } = await post<Patient>(hale, 'Patient', {
    resourceType: 'Patient',
    name: [{ family: 'Trigger' }],
  });
  const subscription = await subscribe(hale, `Observation?code=${HEART_RATE}`, bot);
  const answered = new Map<string, number>();
  const errors: string[] = [];
  try {
    for (let i = 0; i < o.warmup + o.events; i++) {
      const obs = vitalSign('8867-4', patient.id ?? '', new Date(), 60 + (i % 40));
      const { body, receivedAt } = await post<Observation>(hale, 'Observation', obs);
      if (i >= o.warmup) {
        answered.set(body.id ?? '', receivedAt);
      }
      await sleep(o.spacingMs);
    }
    const drained = await waitForJobs(db, subscription, o.warmup + o.events, { timeoutMs: 120_000 });
    if (drained.timedOut || drained.counts.dead > 0) {
      errors.push(
        `${drained.counts.open} jobs still open, ${drained.counts.dead} dead after the last write` +
          (drained.counts.deadErrors[0] ? `: ${drained.counts.deadErrors[0]}` : '')
      );
    }
  } finally {
    await unsubscribe(hale, subscription);
  }
  const samples: number[] = [];
  for (const run of await botRuns(hale, bot)) {
    const m = /first-line (\d+) (\S+)/.exec(runDetail(run, 'log') ?? '');
    const at = m?.[2] ? answered.get(m[2]) : undefined;
    if (m?.[2] && at !== undefined) {
      samples.push(Number(m[1]) - at);
      answered.delete(m[2]); // a second delivery of the same event is not a second sample
    }
  }
  if (answered.size > 0) {
    errors.push(`${answered.size} of ${o.events} Observations never reached the bot's first line`);
  }
  return {
    events: o.events,
    warmup: o.warmup,
    spacingMs: o.spacingMs,
    latency: summarize(samples),
    beforeAnswer: samples.filter((s) => s < 0).length,
    errors,
  };
}

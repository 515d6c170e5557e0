/** The bots phase's table, judged against the bots issue's targets; a missed target says "miss", it fails nothing. */
import type { BotsResult } from './bots';
import type { TriggerResult } from './bots-latency';
import type { LatencySummary } from './stats';

export const BOT_TARGETS = {
  executeP50Ms: 20,
  triggerP50Ms: 50,
  triggerP99Ms: 250,
  evaluationsPerSecond: 500,
  /** Ingest with an active Subscription against ingest without: at most this much slower. */
  ingestCost: 0.1,
} as const;

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (Number.isNaN(n) ? 'n/a' : Math.abs(n) < 10 ? n.toFixed(2) : n.toFixed(1));
const latency = (l: LatencySummary): string => `p50 ${ms(l.p50)} / p99 ${ms(l.p99)} ms`;
const seconds = (n: number): string => `${(n / 1000).toFixed(1)} s`;
const verdict = (ok: boolean): string => (ok ? 'pass' : '**miss**');
const pct = (n: number): string => `${(n * 100).toFixed(1)}%`;

type Row = readonly [metric: string, value: string, target: string, result: string];

function triggerRow(label: string, t: TriggerResult): Row {
  const ok = t.latency.p50 <= BOT_TARGETS.triggerP50Ms && t.latency.p99 <= BOT_TARGETS.triggerP99Ms;
  return [
    `Trigger latency, ${label} (${t.latency.count} Observations, ${t.spacingMs} ms apart, after ${t.warmup} untimed)`,
    `${latency(t.latency)} (max ${ms(t.latency.max)}; ${t.beforeAnswer} started before the 201 reached the client)`,
    `p50 ≤ ${BOT_TARGETS.triggerP50Ms} ms, p99 ≤ ${BOT_TARGETS.triggerP99Ms} ms`,
    t.errors.length > 0 ? `**ERROR** (${t.errors.length})` : verdict(ok),
  ];
}

function rows(r: BotsResult): Row[] {
  const e = r.execute;
  const rules = r.rules;
  const evalRate = rules.evaluations / (rules.totalMs / 1000);
  const finished = rules.jobs.done + rules.jobs.dead;
  const out: Row[] = [
    [
      `Trivial bot \`$execute\` (${e.latency.count} sequential calls after ${e.warmup} untimed)`,
      `${latency(e.latency)}; of which in the sandbox (the runs' duration-ms) ${latency(e.sandbox)}`,
      `p50 ≤ ${BOT_TARGETS.executeP50Ms} ms`,
      e.errors.length > 0 ? `**ERROR** (${e.errors.length})` : verdict(e.latency.p50 <= BOT_TARGETS.executeP50Ms),
    ],
    triggerRow(
      r.mainUsedRedis ? 'the bench Hale (REDIS_URL was set!)' : 'in-process queue (no REDIS_URL)',
      r.triggerInProcess
    ),
  ];
  if (r.triggerRedis) {
    out.push(triggerRow('BullMQ on Redis (a second Hale, fresh database)', r.triggerRedis));
  }
  out.push([
    `Clinical rules engine over ${int(rules.observations)} new Observations (${rules.patients} patients, ${rules.rules} rules installed, transactions of ${r.options.perBundle})`,
    `${int(evalRate)} evaluations/s: ${int(rules.evaluations)} GuidanceResponses in ${seconds(rules.totalMs)} from the first bundle ` +
      `to the last job finished; ${int(finished / (rules.totalMs / 1000))} jobs/s (${int(finished)} jobs, ${rules.jobs.dead} dead); ` +
      `ingest alone ${seconds(rules.ingestMs)}; ${int(rules.actions)} Flags/DetectedIssues/Tasks/Communications written; ` +
      `a run in the sandbox ${latency(rules.runs)} (mean ${ms(rules.runs.mean)}), the ${r.workers} workers busy ${pct(rules.workerBusy)} of the time; ` +
      `bundle ${int(rules.bundleBytes / 1024)} KB`,
    `≥ ${BOT_TARGETS.evaluationsPerSecond} evaluations/s`,
    rules.timedOut || rules.jobs.dead > 0 ? '**ERROR**' : verdict(evalRate >= BOT_TARGETS.evaluationsPerSecond),
  ]);
  const o = r.overhead;
  o.costs.forEach((cost, pair) => {
    const [a, b] = [o.runs[pair * 2], o.runs[pair * 2 + 1]];
    if (!a || !b) {
      return;
    }
    out.push([
      `Ingest with an active Subscription, pair ${pair + 1} of 2 (${int(o.observations)} Observations of ${o.patients} fresh patients each, one transaction at a time)`,
      `without ${int(a.observationsPerSecond)}, with ${int(b.observationsPerSecond)} Observations/s: ${pct(cost)} slower ` +
        `(${int(b.jobs)} jobs for the no-op bot; the last finished ${seconds(b.drainMs)} after the last answer)`,
      `≤ ${pct(BOT_TARGETS.ingestCost)} slower`,
      b.dead > 0 ? '**ERROR**' : verdict(cost <= BOT_TARGETS.ingestCost),
    ]);
  });
  return out;
}

export function botsSection(r: BotsResult): string {
  const line = (cells: readonly string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  const notes = [
    ...(r.redisSkipped ? [`No BullMQ measurement: ${r.redisSkipped}.`] : []),
    ...(r.redisHaleStderr.trim()
      ? [
          `The Redis-backed Hale wrote to stderr, last lines:\n\n\`\`\`\n${r.redisHaleStderr.trim().split('\n').slice(-6).join('\n')}\n\`\`\``,
        ]
      : []),
  ];
  return [
    `Bots, on the same Hale after the phases above (BOT_WORKERS=${r.workers}); trigger latency is the bot's first line ` +
      `(\`Date.now()\` in the isolate) minus the client's clock when the Observation's 201 arrived, which slightly understates it ` +
      `(the commit came before the answer):`,
    '',
    line(['Bots', 'Hale', 'Target', 'Result']),
    line(['---', '---', '---', '---']),
    ...rows(r).map(line),
    '',
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
}

import type { Bot, Timing } from '@medplum/fhirtypes';
import { CronExpressionParser } from 'cron-parser';
import type { Database } from '../db/database';
import { sql } from '../db/sql';
import type { Logger } from '../logger';
import type { JobStore } from './job-store';

const MINUTE = 60_000;
/** How often the scheduler looks at the clock: a tick is added within this of its minute. */
const LOOK_MS = 2_000;

/** Finished (done) jobs are deleted after this; dead ones stay until retried. */
const DONE_KEPT_DAYS = 7;

const DAYS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

/**
 * A Bot's schedule as a five-field cron expression (UTC): `cronString` as it is, or the subset of
 * `cronTiming` Medplum users write — every N minutes, hours, days (at timeOfDay) or weeks (on dayOfWeek).
 */
export function cronOf(bot: Bot): string | undefined {
  if (typeof bot.cronString === 'string' && bot.cronString.trim()) {
    return bot.cronString.trim();
  }
  return bot.cronTiming ? timingToCron(bot.cronTiming) : undefined;
}

export function timingToCron(timing: Timing): string | undefined {
  const r = timing.repeat;
  const n = Math.max(1, Math.floor(r?.period ?? 1));
  const [hh = '0', mm = '0'] = (r?.timeOfDay?.[0] ?? '00:00').split(':');
  const at = `${Number(mm)} ${Number(hh)}`;
  switch (r?.periodUnit) {
    case 'min':
      return `*/${n} * * * *`;
    case 'h':
      return `0 */${n} * * *`;
    case 'd':
      return n === 1 ? `${at} * * *` : `${at} */${n} * *`;
    case 'wk': {
      const days = (r.dayOfWeek ?? ['mon']).map((d) => DAYS[d]).filter((d) => d !== undefined);
      return `${at} * * ${days.join(',') || '1'}`;
    }
    default:
      return undefined;
  }
}

/** True when the expression fires at this minute (a Date on a minute boundary). */
export function firesAt(expression: string, minute: Date): boolean {
  const next = CronExpressionParser.parse(expression, { currentDate: new Date(minute.getTime() - 1), tz: 'UTC' })
    .next()
    .toDate();
  return next.getTime() === minute.getTime();
}

/**
 * Adds a `cron` job for every Bot whose schedule fires at the current minute. Each tick is keyed
 * `cron:<bot>:<minute>`, so several replicas add it once; a minute in which no replica ran is not
 * made up later (a missed tick is skipped, as cron does).
 */
export class CronScheduler {
  private timer: NodeJS.Timeout | undefined;
  private lastMinute = Math.floor(Date.now() / MINUTE) * MINUTE;
  private ticking: Promise<void> | undefined;

  constructor(private readonly deps: { db: Database; store: JobStore; logger: Logger; onAdded: () => void }) {}

  start(): void {
    this.timer = setInterval(() => {
      this.ticking ??= this.look()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'bot cron tick failed'))
        .finally(() => {
          this.ticking = undefined;
        });
    }, LOOK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
  }

  private async look(): Promise<void> {
    const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
    if (minute <= this.lastMinute) {
      return;
    }
    this.lastMinute = minute;
    await this.tick(new Date(minute));
    if (minute % (60 * MINUTE) === 0) {
      await this.deps.store.purgeDone(DONE_KEPT_DAYS); // hourly: finished jobs are kept a week for $bot-runs
    }
  }

  /** Adds the jobs of one minute (exposed for tests, which cannot wait for the clock). */
  async tick(minute: Date): Promise<number> {
    const rows = await this.deps.db.query<{ content: string }>(sql`SELECT content FROM resource
      WHERE type = 'Bot' AND NOT deleted AND (content::jsonb ? 'cronString' OR content::jsonb ? 'cronTiming')`);
    let added = 0;
    for (const { content } of rows) {
      const bot = JSON.parse(content) as Bot & { id: string };
      const expression = cronOf(bot);
      try {
        if (
          expression &&
          firesAt(expression, minute) &&
          (await this.deps.store.addCron(bot.id, minute.toISOString()))
        ) {
          added++;
        }
      } catch (err) {
        this.deps.logger.warn({ bot: bot.id, err: (err as Error).message }, 'invalid bot schedule ignored');
      }
    }
    if (added > 0) {
      this.deps.onAdded();
    }
    return added;
  }
}

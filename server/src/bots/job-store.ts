import type { Queryable } from '../db/database';
import { sql } from '../db/sql';

/** A row of bot_job: one event to deliver (a subscription match or a cron tick). */
export interface Job {
  id: string;
  key: string;
  kind: 'subscription' | 'cron';
  subscription_id: string | null;
  bot_id: string | null;
  endpoint: string | null;
  resource_type: string | null;
  resource_id: string | null;
  version_id: number | null;
  interaction: 'create' | 'update' | 'delete' | null;
  state: 'pending' | 'queued' | 'running' | 'done' | 'dead';
  attempts: number;
  last_error: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface RetryPolicy {
  /** Attempts in all before a job is dead. */
  maxAttempts: number;
  /** The first retry's delay; each further one doubles it (exponential backoff). */
  baseDelayMs: number;
  /** How long a claimed job may run before another worker may take it again (a crashed process). */
  leaseMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1_000, leaseMs: 5 * 60_000 };

export function backoffMs(policy: RetryPolicy, attempts: number): number {
  return policy.baseDelayMs * 2 ** Math.max(0, attempts - 1);
}

/** The bot_job ledger: claims with SKIP LOCKED, so any number of replicas share it and each job runs once at a time. */
export class JobStore {
  constructor(
    private readonly db: Queryable,
    readonly policy: RetryPolicy = DEFAULT_RETRY
  ) {}

  /** Due pending jobs, moved to `state` (running for a local worker, queued when handed to BullMQ). */
  async claim(limit: number, state: 'running' | 'queued'): Promise<Job[]> {
    const lease = `${this.policy.leaseMs} milliseconds`;
    return this.db.query<Job>(sql`UPDATE bot_job SET state = ${state}, locked_until = now() + ${lease}::interval,
        attempts = attempts + CASE WHEN ${state} = 'running' THEN 1 ELSE 0 END
      WHERE id IN (SELECT id FROM bot_job WHERE state = 'pending' AND run_after <= now()
        ORDER BY run_after, id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING *`);
  }

  /**
   * A queued job a BullMQ worker is about to run: counts the attempt. Undefined when it is no longer
   * queued: done, or already running in a batch another worker claimed (a worker that died mid-run
   * hands its jobs back when their lease ends, and the relay queues them again as a new attempt).
   */
  async start(id: string): Promise<Job | undefined> {
    const lease = `${this.policy.leaseMs} milliseconds`;
    const [job] = await this.db.query<Job>(sql`UPDATE bot_job SET state = 'running', attempts = attempts + 1,
        locked_until = now() + ${lease}::interval
      WHERE id = ${id} AND state = 'queued' RETURNING *`);
    return job;
  }

  /**
   * Up to `limit` more due events of the same Subscription as `job`, in event order, claimed for the run
   * that delivers them together (pending ones, and ones the relay has queued but no worker started).
   */
  async claimBatch(job: Pick<Job, 'id' | 'subscription_id'>, limit: number): Promise<Job[]> {
    if (limit <= 0 || !job.subscription_id) {
      return [];
    }
    const lease = `${this.policy.leaseMs} milliseconds`;
    return this.db.query<Job>(sql`UPDATE bot_job SET state = 'running', attempts = attempts + 1,
        locked_until = now() + ${lease}::interval
      WHERE id IN (SELECT id FROM bot_job WHERE subscription_id = ${job.subscription_id}
        AND state IN ('pending', 'queued') AND run_after <= now() AND id <> ${job.id}
        ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING *`);
  }

  async done(...ids: string[]): Promise<void> {
    await this.db.query(sql`UPDATE bot_job SET state = 'done', finished_at = now(), locked_until = NULL,
      last_error = NULL WHERE id = ANY(${ids}::bigint[])`);
  }

  /** A failed attempt: retried after the backoff, or dead once the attempts are used up. Returns the new state. */
  async failed(job: Pick<Job, 'id' | 'attempts'>, error: string, retryable = true): Promise<'pending' | 'dead'> {
    const dead = !retryable || job.attempts >= this.policy.maxAttempts;
    const delay = `${backoffMs(this.policy, job.attempts)} milliseconds`;
    await this.db
      .query(sql`UPDATE bot_job SET state = ${dead ? 'dead' : 'pending'}, last_error = ${error.slice(0, 4000)},
        locked_until = NULL, run_after = now() + ${delay}::interval,
        finished_at = CASE WHEN ${dead} THEN now() ELSE NULL END
      WHERE id = ${job.id}`);
    return dead ? 'dead' : 'pending';
  }

  /** Jobs whose worker died mid-run (lease over) go back to pending. */
  async reclaimExpired(): Promise<number> {
    const rows = await this.db.query(sql`UPDATE bot_job SET state = 'pending', locked_until = NULL
      WHERE state IN ('running', 'queued') AND locked_until < now() RETURNING id`);
    return rows.length;
  }

  async get(id: string): Promise<Job | undefined> {
    const [job] = await this.db.query<Job>(sql`SELECT * FROM bot_job WHERE id = ${id}`);
    return job;
  }

  /** Jobs of one bot (or all), newest first, optionally in one state: the admin view of runs and dead letters. */
  async list(filter: { botId?: string; state?: Job['state']; limit: number }): Promise<Job[]> {
    return this.db.query<Job>(sql`SELECT * FROM bot_job
      WHERE (${filter.botId ?? null}::text IS NULL OR bot_id = ${filter.botId ?? null})
        AND (${filter.state ?? null}::text IS NULL OR state = ${filter.state ?? null})
      ORDER BY id DESC LIMIT ${filter.limit}`);
  }

  /** A dead job runs again (its attempts start over). False when it is not dead. */
  async retry(id: string): Promise<boolean> {
    const rows = await this.db.query(sql`UPDATE bot_job SET state = 'pending', attempts = 0, run_after = now(),
      finished_at = NULL WHERE id = ${id} AND state = 'dead' RETURNING id`);
    return rows.length > 0;
  }

  /** Adds a cron tick; false when another replica added it first. */
  async addCron(botId: string, tick: string): Promise<boolean> {
    const rows = await this.db.query(sql`INSERT INTO bot_job (key, kind, bot_id)
      VALUES (${`cron:${botId}:${tick}`}, 'cron', ${botId}) ON CONFLICT (key) DO NOTHING RETURNING id`);
    return rows.length > 0;
  }

  /** Deletes finished jobs older than `days` (dead ones stay until retried or purged by an admin). */
  async purgeDone(days: number): Promise<void> {
    await this.db.query(
      sql`DELETE FROM bot_job WHERE state = 'done' AND finished_at < now() - ${`${days} days`}::interval`
    );
  }
}

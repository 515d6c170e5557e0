import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../logger';
import type { Job, JobStore } from './job-store';

/** How one job of a batch ended: delivered, or failed with this error. */
export interface JobOutcome {
  readonly job: Job;
  readonly error?: unknown;
}

/**
 * Runs one job; throws to fail the attempt (a `PermanentError` is not retried). A handler that
 * delivered more jobs with it (a batching Subscription claims its other due events) returns the
 * outcome of each, the job it was given among them.
 */
export type JobHandler = (job: Job) => Promise<void | readonly JobOutcome[]>;

/** A failure that retrying cannot mend (the bot or Subscription is gone, the code is missing). */
export class PermanentError extends Error {}

export interface Dispatcher {
  start(): void;
  /** Something was just enqueued on this replica: look now instead of at the next poll. */
  kick(): void;
  stop(): Promise<void>;
}

export interface DispatchOptions {
  store: JobStore;
  handler: JobHandler;
  logger: Logger;
  /** Jobs run at once on this replica. */
  concurrency: number;
  /** How often to look for due jobs (retries, other replicas' events) when nothing kicked. */
  pollMs: number;
}

/** Runs a claimed job (and any it batched) and records each outcome in the ledger. */
async function runJob(o: DispatchOptions, job: Job): Promise<void> {
  let outcomes: readonly JobOutcome[];
  try {
    outcomes = (await o.handler(job)) ?? [{ job }];
  } catch (err) {
    outcomes = [{ job, error: err }];
  }
  const delivered = outcomes.filter((r) => r.error === undefined).map((r) => r.job.id);
  if (delivered.length > 0) {
    await o.store.done(...delivered);
  }
  for (const { job: failed, error } of outcomes) {
    if (error === undefined) {
      continue;
    }
    const message = error instanceof Error ? error.message : JSON.stringify(error);
    const state = await o.store.failed(failed, message, !(error instanceof PermanentError));
    o.logger.warn(
      { job: failed.id, key: failed.key, attempts: failed.attempts, state, err: message },
      'bot job failed'
    );
  }
}

/**
 * Calls `look` when kicked or every `pollMs`, never two at once; a kick during a look runs one more
 * look after it (so nothing enqueued meanwhile waits for the next poll).
 */
class Poller {
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly look: () => Promise<void>,
    private readonly pollMs: number,
    private readonly logger: Logger
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.timer.unref();
    this.kick();
  }

  kick(): void {
    if (this.stopped) {
      return;
    }
    if (this.looking) {
      this.again = true;
      return;
    }
    this.looking = this.look()
      .catch((err: unknown) => this.logger.warn({ err }, 'claiming bot jobs failed'))
      .finally(() => {
        this.looking = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.looking;
  }
}

/**
 * The in-process queue on the outbox (no Redis): workers claim due rows of bot_job with SKIP
 * LOCKED, so replicas sharing one PostgreSQL still run each job once.
 */
export class LocalDispatcher implements Dispatcher {
  private active = 0;
  private readonly running = new Set<Promise<void>>();
  private readonly poller: Poller;

  constructor(private readonly o: DispatchOptions) {
    this.poller = new Poller(() => this.look(), o.pollMs, o.logger);
  }

  start(): void {
    this.poller.start();
  }

  kick(): void {
    this.poller.kick();
  }

  private async look(): Promise<void> {
    await this.o.store.reclaimExpired();
    const free = this.o.concurrency - this.active;
    if (free <= 0) {
      return;
    }
    for (const job of await this.o.store.claim(free, 'running')) {
      this.active++;
      const run = runJob(this.o, job).finally(() => {
        this.active--;
        this.running.delete(run);
        this.kick(); // a slot is free: there may be more waiting
      });
      this.running.add(run);
    }
  }

  async stop(): Promise<void> {
    await this.poller.stop();
    await Promise.all(this.running);
  }
}

const QUEUE = 'hale-bot-jobs';

/**
 * BullMQ on Redis (several replicas share it): a relay moves due rows of bot_job into the queue
 * (state `queued`; the BullMQ job id is the row's id and attempt, so a row is queued once per
 * attempt), and BullMQ's workers, on any replica, run them. The ledger in PostgreSQL stays the
 * record of state, retries with backoff and dead letters, so both modes behave the same.
 */
export class BullDispatcher implements Dispatcher {
  private readonly connections: Redis[] = [];
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly poller: Poller;

  constructor(
    private readonly o: DispatchOptions,
    private readonly redisUrl: string,
    /** BullMQ's key prefix: one per database, so deployments sharing a Redis never take each other's jobs. */
    private readonly prefix: string
  ) {
    this.queue = new Queue(QUEUE, { connection: this.connect(), prefix });
    this.poller = new Poller(() => this.relay(), o.pollMs, o.logger);
  }

  private connect(): Redis {
    // BullMQ's workers block on Redis: they need ioredis to retry without limit.
    const r = new Redis(this.redisUrl, { maxRetriesPerRequest: null });
    r.on('error', () => undefined); // it reconnects by itself; the server's own client logs the outage
    this.connections.push(r);
    return r;
  }

  private async relay(): Promise<void> {
    await this.o.store.reclaimExpired();
    const jobs = await this.o.store.claim(100, 'queued');
    if (jobs.length > 0) {
      await this.queue.addBulk(
        jobs.map((j) => ({
          name: j.kind,
          data: { id: j.id },
          opts: { jobId: `j${j.id}a${j.attempts}`, removeOnComplete: true, removeOnFail: 1_000 },
        }))
      );
    }
  }

  start(): void {
    this.worker = new Worker(
      QUEUE,
      async (bull) => {
        const job = await this.o.store.start(String((bull.data as { id: string }).id));
        if (job) {
          await runJob(this.o, job);
        }
      },
      { connection: this.connect(), concurrency: this.o.concurrency, prefix: this.prefix }
    );
    this.worker.on('error', (err) => this.o.logger.warn({ err: err.message }, 'BullMQ worker error'));
    this.poller.start();
  }

  kick(): void {
    this.poller.kick();
  }

  async stop(): Promise<void> {
    await this.poller.stop();
    await this.worker?.close();
    await this.queue.close();
    for (const r of this.connections) {
      r.disconnect();
    }
  }
}

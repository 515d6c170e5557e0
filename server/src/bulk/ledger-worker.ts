import type { Logger } from '../logger';

/** What a ledger worker needs of its store: give expired leases back, claim the next pending job. */
export interface ClaimingStore<J> {
  reclaimExpired(): Promise<unknown>;
  claim(): Promise<J | undefined>;
}

/**
 * Runs the jobs of a PostgreSQL ledger on this replica (exports, imports): claims pending ones
 * (SKIP LOCKED, so replicas sharing the database never run one twice at once) when kicked or every
 * `pollMs`, at most `concurrency` at a time; a kick during a look runs one more look after it.
 * stop() stops claiming and aborts the running jobs, which hand themselves back for the next start.
 */
export abstract class LedgerWorker<J extends { id: string }> {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  protected constructor(
    private readonly ledger: { store: ClaimingStore<J>; logger: Logger; what: string },
    private readonly concurrency: number,
    private readonly pollMs: number
  ) {}

  /** Runs one claimed job to its end (success, failure or hand-back), recording the outcome in the ledger. */
  protected abstract execute(job: J, signal: AbortSignal): Promise<void>;

  start(): void {
    if (this.concurrency === 0) {
      return;
    }
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.timer.unref();
    this.kick();
  }

  kick(): void {
    if (this.stopped || this.concurrency === 0) {
      return;
    }
    if (this.looking) {
      this.again = true;
      return;
    }
    this.looking = this.look()
      .catch((err: unknown) => this.ledger.logger.warn({ err }, `claiming bulk ${this.ledger.what} failed`))
      .finally(() => {
        this.looking = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async look(): Promise<void> {
    await this.ledger.store.reclaimExpired();
    while (!this.stopped && this.running.size < this.concurrency) {
      const job = await this.ledger.store.claim();
      if (!job) {
        return;
      }
      const controller = new AbortController();
      const done = this.execute(job, controller.signal).finally(() => {
        this.running.delete(job.id);
        this.kick();
      });
      this.running.set(job.id, { controller, done });
    }
  }

  /** Claims one pending job and runs it here and now (tests, with BULK_WORKERS=0). */
  protected async claimAndRun(run: (job: J) => Promise<void>): Promise<string | undefined> {
    await this.ledger.store.reclaimExpired();
    const job = await this.ledger.store.claim();
    if (job) {
      await run(job);
    }
    return job?.id;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.looking;
    for (const { controller } of this.running.values()) {
      controller.abort();
    }
    await Promise.all([...this.running.values()].map((r) => r.done));
  }
}

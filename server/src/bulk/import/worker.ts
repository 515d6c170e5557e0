import { isConnectionError } from '../../db/connection-errors';
import { MAX_ATTEMPTS } from '../store';
import type { ImportRunDeps } from './run-import';
import { ImportLost, ImportStopped, runImport } from './run-import';
import type { ImportJob } from './store';

/**
 * Runs imports on this replica the way ExportWorker runs exports: claims pending ones from the
 * ledger (SKIP LOCKED) when kicked or every `pollMs`, at most `concurrency` at a time; stop()
 * hands running ones back (their current file rolls back) for the next start.
 */
export class ImportWorker {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly deps: ImportRunDeps,
    private readonly concurrency: number,
    private readonly pollMs = 1000
  ) {}

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
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'claiming bulk imports failed'))
      .finally(() => {
        this.looking = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async look(): Promise<void> {
    await this.deps.store.reclaimExpired();
    while (!this.stopped && this.running.size < this.concurrency) {
      const job = await this.deps.store.claim();
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

  /** Claims and runs one pending import here and now (tests, with BULK_WORKERS=0). */
  async runNext(signal = new AbortController().signal): Promise<string | undefined> {
    await this.deps.store.reclaimExpired();
    const job = await this.deps.store.claim();
    if (job) {
      await this.execute(job, signal);
    }
    return job?.id;
  }

  private async execute(job: ImportJob, signal: AbortSignal): Promise<void> {
    const { store, logger } = this.deps;
    if (job.attempts > MAX_ATTEMPTS) {
      await store.finish(job, 'failed', `The import was interrupted ${MAX_ATTEMPTS} times`);
      return;
    }
    try {
      await runImport(job, this.deps, signal);
      await store.finish(job, 'done');
    } catch (err) {
      if (err instanceof ImportStopped) {
        await store.release(job, false);
      } else if (err instanceof ImportLost) {
        // Another worker has it now.
      } else if (isConnectionError(err) && job.attempts < MAX_ATTEMPTS) {
        logger.warn({ import: job.id, err }, 'bulk import lost its database connection: the file starts over');
        await store.release(job, true);
      } else {
        logger.error({ import: job.id, err }, 'bulk import failed');
        await store.finish(job, 'failed', 'The import failed because of an internal error');
      }
    }
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

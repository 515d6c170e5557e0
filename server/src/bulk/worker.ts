import { OperationOutcomeError } from '@medplum/core';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditWriter } from '../audit/audit-writer';
import { isConnectionError } from '../db/connection-errors';
import { auditStep } from './audit';
import { policyOfClaims } from './caller';
import type { AfterPage, RunDeps } from './run-export';
import { ExportLost, ExportRun, ExportStopped } from './run-export';
import type { ExportJob } from './store';
import { MAX_ATTEMPTS } from './store';

export interface WorkerDeps extends RunDeps {
  audit: Pick<AuditWriter, 'recordAll'>;
}

/**
 * Runs exports on this replica: claims pending ones from the ledger (SKIP LOCKED, so replicas
 * sharing the database never run one twice at once) when kicked or every `pollMs`, at most
 * `concurrency` at a time. Like the bot outbox's in-process dispatcher, without BullMQ: an export
 * runs for minutes and its state, lease and files are all in PostgreSQL and on disk already, so a
 * queue would only carry its id.
 */
export class ExportWorker {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly deps: WorkerDeps,
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
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'claiming bulk exports failed'))
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

  /** Claims and runs one pending export here and now (tests, with BULK_WORKERS=0). */
  async runNext(afterPage?: AfterPage): Promise<string | undefined> {
    await this.deps.store.reclaimExpired();
    const job = await this.deps.store.claim();
    if (job) {
      await this.execute(job, new AbortController().signal, afterPage);
    }
    return job?.id;
  }

  private async execute(job: ExportJob, signal: AbortSignal, afterPage?: AfterPage): Promise<void> {
    const { store, logger } = this.deps;
    if (job.attempts > MAX_ATTEMPTS) {
      await store.fail(job, `The export was interrupted ${MAX_ATTEMPTS} times (the server stopped while running it)`);
      return;
    }
    const run = new ExportRun(job, this.deps, signal, afterPage);
    try {
      await run.run();
      if (await store.finish(job, this.deps.config.expiryHours)) {
        await this.auditCompleted(job);
      } else {
        await this.dropIfCancelled(job);
      }
    } catch (err) {
      await run.abandon();
      if (err instanceof ExportStopped) {
        await store.release(job);
      } else if (err instanceof ExportLost) {
        await this.dropIfCancelled(job);
      } else if (isConnectionError(err) && job.attempts < MAX_ATTEMPTS) {
        logger.warn({ export: job.id, err }, 'bulk export lost its database connection: it will start over');
        await store.retry(job);
      } else {
        const text =
          err instanceof OperationOutcomeError
            ? (err.outcome.issue?.[0]?.details?.text ?? 'The export failed')
            : 'The export failed because of an internal error';
        logger.error({ export: job.id, err }, 'bulk export failed');
        await store.fail(job, text);
      }
    }
  }

  /** A cancelled export is deleted by the worker that notices (another that took it over owns it otherwise). */
  private async dropIfCancelled(job: ExportJob): Promise<void> {
    const now = await this.deps.store.get(job.id);
    if (now?.state === 'cancelled') {
      await this.deps.store.delete(job.id);
      await rm(join(this.deps.config.dir, job.id), { recursive: true, force: true });
    }
  }

  private async auditCompleted(job: ExportJob): Promise<void> {
    try {
      const files = await this.deps.store.files(job.id);
      await auditStep(
        { audit: this.deps.audit, store: this.deps.store, baseUrl: this.deps.baseUrl },
        job,
        await policyOfClaims(job.claims, this.deps),
        {
          step: 'export-completed',
          url: job.request_url,
          resources: files.filter((f) => f.kind === 'output').reduce((n, f) => n + f.count, 0),
        }
      );
    } catch (err) {
      // The data is released only by downloads, each audited before it is sent.
      this.deps.logger.warn({ export: job.id, err }, 'bulk export: the completion AuditEvent could not be written');
    }
  }

  /** Stops claiming; running exports stop at their next page and go back to pending for the next start. */
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

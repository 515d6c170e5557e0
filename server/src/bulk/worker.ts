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
import { LedgerWorker } from './ledger-worker';
import { MAX_ATTEMPTS } from './store';

export interface WorkerDeps extends RunDeps {
  audit: Pick<AuditWriter, 'recordAll'>;
}

/**
 * Runs exports on this replica from the export ledger (LedgerWorker: SKIP LOCKED claims, kicks and
 * polls, a bounded number at a time). Like the bot outbox's in-process dispatcher, without BullMQ: an export
 * runs for minutes and its state, lease and files are all in PostgreSQL and on disk already, so a
 * queue would only carry its id.
 */
export class ExportWorker extends LedgerWorker<ExportJob> {
  constructor(
    private readonly deps: WorkerDeps,
    concurrency: number,
    pollMs = 1000
  ) {
    super({ store: deps.store, logger: deps.logger, what: 'exports' }, concurrency, pollMs);
  }

  /** Claims and runs one pending export here and now (tests, with BULK_WORKERS=0). */
  runNext(afterPage?: AfterPage): Promise<string | undefined> {
    return this.claimAndRun((job) => this.run(job, new AbortController().signal, afterPage));
  }

  protected execute(job: ExportJob, signal: AbortSignal): Promise<void> {
    return this.run(job, signal);
  }

  private async run(job: ExportJob, signal: AbortSignal, afterPage?: AfterPage): Promise<void> {
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
}

import { isConnectionError } from '../../db/connection-errors';
import { LedgerWorker } from '../ledger-worker';
import { MAX_ATTEMPTS } from '../store';
import { auditImport } from './audit';
import type { ImportRunDeps } from './run-import';
import { ImportLost, ImportStopped, runImport } from './run-import';
import type { ImportJob } from './store';

/**
 * Runs imports on this replica from the import ledger (LedgerWorker); stop() hands running ones
 * back (their current file rolls back) for the next start.
 */
export class ImportWorker extends LedgerWorker<ImportJob> {
  constructor(
    private readonly deps: ImportRunDeps,
    concurrency: number,
    pollMs = 1000
  ) {
    super({ store: deps.store, logger: deps.logger, what: 'imports' }, concurrency, pollMs);
  }

  /** Claims and runs one pending import here and now (tests, with BULK_WORKERS=0). */
  runNext(signal = new AbortController().signal): Promise<string | undefined> {
    return this.claimAndRun((job) => this.execute(job, signal));
  }

  /** The import's AuditEvent; it is done either way, so a failure to record it is logged, not raised. */
  private async audit(job: ImportJob): Promise<void> {
    const { store, audit, baseUrl, logger } = this.deps;
    try {
      const files = await store.files(job.id);
      await auditImport(audit, baseUrl, job, {
        step: 'import-completed',
        files,
        url: `${baseUrl}/bulkdata/import/${job.id}`,
        status: 200,
      });
    } catch (err) {
      logger.error({ import: job.id, err }, 'bulk import: its AuditEvent could not be recorded');
    }
  }

  protected async execute(job: ImportJob, signal: AbortSignal): Promise<void> {
    const { store, logger } = this.deps;
    if (job.attempts > MAX_ATTEMPTS) {
      await store.finish(job, 'failed', `The import was interrupted ${MAX_ATTEMPTS} times`);
      return;
    }
    try {
      await runImport(job, this.deps, signal);
      if (await store.finish(job, 'done')) {
        await this.audit(job);
      }
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
}

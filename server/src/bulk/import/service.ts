import type { AuditWriter } from '../../audit/audit-writer';
import type { Database } from '../../db/database';
import type { Logger } from '../../logger';
import type { PolicyDeps } from '../caller';
import type { BulkConfig } from '../config';
import { ImportStore } from './store';
import { ImportWorker } from './worker';

export interface ImportDeps extends PolicyDeps {
  config: BulkConfig;
  audit: Pick<AuditWriter, 'recordAll'>;
  db: Database;
  logger: Logger;
}

const SWEEP_MS = 10 * 60_000;

/** Bulk Data $import: the ledger and this replica's worker, started and stopped with the exports (BulkExports). */
export class BulkImports {
  readonly store: ImportStore;
  private readonly worker: ImportWorker;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(readonly deps: ImportDeps) {
    this.store = new ImportStore(deps.db);
    this.worker = new ImportWorker({ ...deps, store: this.store }, deps.config.workers);
  }

  get limits(): { maxRunning: number; maxPerClient: number; expiryHours: number } {
    return this.deps.config;
  }

  statusUrl(id: string): string {
    return `${this.deps.baseUrl}/bulkdata/import/${id}`;
  }

  kick(): void {
    this.worker.kick();
  }

  /** Test seam: with BULK_WORKERS=0 nothing runs by itself; this runs the next pending import now. */
  runNext(signal?: AbortSignal): Promise<string | undefined> {
    return this.worker.runNext(signal);
  }

  start(): void {
    this.worker.start();
    this.sweeper = setInterval(() => {
      this.store.deleteExpired().catch((err: unknown) => this.deps.logger.warn({ err }, 'bulk import expiry failed'));
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    await this.worker.stop();
  }
}

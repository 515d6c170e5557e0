import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccessCache } from '../access/consent/access-cache';
import type { AuditWriter } from '../audit/audit-writer';
import type { Database } from '../db/database';
import type { Logger } from '../logger';
import type { SearchParamRegistry } from '../storage/search-params';
import type { BulkConfig } from './config';
import type { AfterPage } from './run-export';
import { attemptDir } from './run-export';
import type { ExportJob } from './store';
import { ExportStore } from './store';
import { ExportWorker } from './worker';
import { BulkImports } from './import/service';

export interface BulkDeps {
  config: BulkConfig;
  db: Database;
  searchParams: SearchParamRegistry;
  /** The public FHIR base URL: status and file URLs hang under it, so the bearer middleware guards them. */
  baseUrl: string;
  accessCache: AccessCache;
  audit: AuditWriter;
  logger: Logger;
}

const SWEEP_MS = 10 * 60_000;
/** A directory with no export row is removed once this old (another replica deleted the row). */
const ORPHAN_MS = 60 * 60_000;

/** Bulk Data $export: the ledger, the worker of this replica and the expiry sweeper. Started and stopped with the server. */
export class BulkExports {
  readonly store: ExportStore;
  /** $import (import/): its own ledger and worker, on the same configuration. */
  readonly imports: BulkImports;
  private readonly worker: ExportWorker;
  private readonly downloads = new Map<string, number>();
  private readonly polls = new Map<string, number>();
  private sweeper: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(readonly deps: BulkDeps) {
    this.store = new ExportStore(deps.db);
    this.worker = new ExportWorker({ ...deps, store: this.store }, deps.config.workers);
    this.imports = new BulkImports(deps);
  }

  get config(): BulkConfig {
    return this.deps.config;
  }

  statusUrl(id: string): string {
    return `${this.deps.baseUrl}/bulkdata/export/${id}`;
  }

  fileUrl(id: string, name: string): string {
    return `${this.statusUrl(id)}/${name}`;
  }

  filePath(job: ExportJob, name: string): string {
    return join(attemptDir(this.deps.config, job), name);
  }

  /** Deletes an export's directory (all its attempts). */
  async removeFiles(id: string): Promise<void> {
    await rm(join(this.deps.config.dir, id), { recursive: true, force: true });
  }

  /** An export was just accepted here: look for work now rather than at the next poll. */
  kick(): void {
    this.worker.kick();
  }

  start(): void {
    this.worker.start();
    this.imports.start();
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
    void this.sweep();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    await this.sweeping;
    await this.worker.stop();
    await this.imports.stop();
  }

  /** Test seam: with BULK_WORKERS=0 nothing runs by itself; this runs the next pending export now. */
  runNext(afterPage?: AfterPage): Promise<string | undefined> {
    return this.worker.runNext(afterPage);
  }

  /** Marks a download in progress on this replica until the returned function is called. */
  downloading(id: string): () => void {
    this.downloads.set(id, (this.downloads.get(id) ?? 0) + 1);
    return () => {
      const n = (this.downloads.get(id) ?? 1) - 1;
      if (n > 0) {
        this.downloads.set(id, n);
      } else {
        this.downloads.delete(id);
      }
    };
  }

  /** False when this export was polled less than BULK_MIN_POLL_MS ago (the caller answers 429). */
  notePoll(id: string): boolean {
    const now = Date.now();
    const last = this.polls.get(id);
    if (last !== undefined && now - last < this.deps.config.minPollMs) {
      return false;
    }
    if (this.polls.size > 10_000) {
      this.polls.clear();
    }
    this.polls.set(id, now);
    return true;
  }

  /**
   * Deletes expired exports (their rows and files) and cancelled ones whose worker is gone. An
   * export being downloaded from this replica waits for the next sweep; a download elsewhere keeps
   * its open file (deleting a file does not cut off a reader that has it open).
   */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        for (;;) {
          const ids = await this.store.takeExpired(100, [...this.downloads.keys()]);
          for (const id of ids) {
            await this.removeFiles(id);
          }
          if (ids.length < 100) {
            break;
          }
        }
        await this.removeOrphans();
      } catch (err) {
        this.deps.logger.warn({ err }, 'bulk export expiry sweep failed');
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  private async removeOrphans(): Promise<void> {
    const entries = await readdir(this.deps.config.dir).catch(() => [] as string[]);
    for (const name of entries.filter((e) => /^[0-9a-f-]{36}$/.test(e))) {
      const path = join(this.deps.config.dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > ORPHAN_MS && !(await this.store.get(name))) {
        await rm(path, { recursive: true, force: true });
      }
    }
  }
}

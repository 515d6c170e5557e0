import type { AuditEvent } from '@medplum/fhirtypes';
import { newResourceId } from '../storage/ids';
import type { Database } from '../db/database';
import { systemAccess } from '../storage/access';
import type { RepoContext } from '../storage/context';
import type { PendingWrite } from '../storage/flush';
import { flushWrites } from '../storage/flush';
import { prepareVersion } from '../storage/prepare';
import type { SearchParamRegistry } from '../storage/search-params';

export interface AuditWriterDeps {
  db: Database;
  searchParams: SearchParamRegistry;
  baseUrl: string;
  /** Statistics upkeep: the number of versions just written (AuditEvents grow with every request). */
  afterWrite?: (versions: number) => void;
  /** Most events per batch (default 500); a request's own events are never split. */
  maxBatch?: number;
}

/** How the group commit is doing; tests read it to see that concurrent requests share batches. */
export interface AuditWriterStats {
  batches: number;
  events: number;
  failedBatches: number;
  largestBatch: number;
}

interface Waiting {
  events: readonly AuditEvent[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Writes AuditEvents with group commit. `record` resolves only once the batch holding the event
 * has committed, so a request can await it before releasing data. With no batch in flight a batch
 * starts at once; while one is in flight, events queue and all go in the next one, so under load
 * a commit serves many requests and at rest an event costs one round trip.
 *
 * Each batch is ONE statement (storage/flush.ts: resource, history and index rows as
 * data-modifying CTEs), which PostgreSQL commits atomically on its own, without BEGIN/COMMIT.
 * The repository's create path is not used because it checks that every reference resolves:
 * an AuditEvent records what was asked for (Patient/unknown on a 404, a version since deleted),
 * and one such event must not fail the batch of everybody else. Validation is off: the builder
 * produces the events. Writing them is internal, so it is not itself audited.
 */
export class AuditWriter {
  readonly stats: AuditWriterStats = { batches: 0, events: 0, failedBatches: 0, largestBatch: 0 };
  private readonly ctx: RepoContext;
  private queue: Waiting[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly deps: AuditWriterDeps) {
    this.ctx = {
      db: deps.db,
      access: systemAccess,
      searchParams: deps.searchParams,
      baseUrl: deps.baseUrl,
      validate: false,
    };
  }

  record(event: AuditEvent): Promise<void> {
    return this.recordAll([event]);
  }

  /** Records a request's events together: they commit in the same batch, or fail together. */
  recordAll(events: readonly AuditEvent[]): Promise<void> {
    if (this.closed) {
      return Promise.reject(new Error('The audit writer is shut down'));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.kick();
    });
  }

  /**
   * A request's events as writes for the caller's transaction (a transaction Bundle's pre-commit
   * hook): they go into its last statement and commit or roll back with it.
   */
  prepareIn(events: readonly AuditEvent[]): PendingWrite[] {
    const writes = this.prepare(events, new Date().toISOString());
    this.stats.events += writes.length;
    return writes;
  }

  /** The events as new resources (server ids, version 1), ready for flushWrites. */
  private prepare(events: readonly AuditEvent[], lastUpdated: string): PendingWrite[] {
    return events.map((e) => prepareVersion(this.ctx, e, newResourceId(), 1, lastUpdated, 'POST', false).write);
  }

  /** Waits for every queued event to be written; later records are refused (shutdown). */
  async drain(): Promise<void> {
    this.closed = true;
    while (this.flushing) {
      await this.flushing;
    }
  }

  private kick(): void {
    if (this.flushing) {
      return;
    }
    this.flushing = this.flushAll().finally(() => {
      this.flushing = undefined;
      // Events queued between the loop's last look and here start the next batch.
      if (this.queue.length > 0) {
        this.kick();
      }
    });
  }

  private async flushAll(): Promise<void> {
    while (this.queue.length > 0) {
      await this.writeBatch(this.takeBatch());
    }
  }

  private takeBatch(): Waiting[] {
    const max = this.deps.maxBatch ?? 500;
    let events = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || events + (this.queue[n]?.events.length ?? 0) <= max)) {
      events += this.queue[n]?.events.length ?? 0;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async writeBatch(batch: Waiting[]): Promise<void> {
    const lastUpdated = new Date().toISOString();
    const ready: Waiting[] = [];
    const writes: PendingWrite[] = [];
    for (const waiting of batch) {
      try {
        // An event that cannot even be prepared fails its own request only.
        writes.push(...this.prepare(waiting.events, lastUpdated));
        ready.push(waiting);
      } catch (err) {
        waiting.reject(err);
      }
    }
    if (ready.length === 0) {
      return;
    }
    try {
      await flushWrites(this.deps.db, writes);
    } catch (err) {
      this.stats.failedBatches++;
      ready.forEach((w) => w.reject(err));
      return;
    }
    this.stats.batches++;
    this.stats.events += writes.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, writes.length);
    this.deps.afterWrite?.(writes.length);
    ready.forEach((w) => w.resolve());
  }
}

import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Database, Queryable } from '../db/database';
import { sql } from '../db/sql';
import { getResourceTypes } from '../fhir/definitions';
import type { Logger } from '../logger';
import { indexFingerprint } from '../storage/indexer/fingerprint';
import type { SearchParamRegistry } from '../storage/search-params';
import { lockBatch, rebuildRows, rebuildVersionCompartments } from './reindex-batch';
import {
  lockReindex,
  markDone,
  readState,
  readStates,
  recordFingerprints,
  restart,
  saveProgress,
  typesWithResources,
} from './reindex-state';

export interface ReindexOptions {
  /** Only these resource types (default: all). */
  types?: readonly string[];
  /** Rebuild them even when their stored fingerprint is current. */
  force?: boolean;
  /** Wait for the lock while another replica works (the CLI), instead of leaving the work to it. */
  wait?: boolean;
  /** Resources per transaction (default 500). */
  batchSize?: number;
  /** For tests: runs inside each batch's transaction once its resources are locked. */
  duringBatch?: (ids: readonly string[]) => Promise<void>;
}

export interface TypeReindexed {
  type: string;
  resources: number;
  ms: number;
  /** False when the run stopped before the type's end (shutdown, or another replica took over). */
  complete: boolean;
}

export interface ReindexSummary {
  reindexed: TypeReindexed[];
  /** Types whose fingerprint was recorded with nothing to rebuild (no stored resources). */
  recorded: number;
  /** Another replica held the reindex lock, so this run left the work to it. */
  busy: boolean;
  ms: number;
}

export interface ReindexerDeps {
  db: Database;
  searchParams: SearchParamRegistry;
  /** The FHIR base URL: absolute references under it are indexed as relative ones. */
  baseUrl: string;
  logger: Logger;
}

/**
 * On a database without resources, records every type's fingerprint before the first write (the
 * conformance resources published at start): those types would otherwise have rows and no state,
 * like a database from before index_state, and be reindexed for nothing.
 */
export async function recordFreshIndexState(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx.query<{ used: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM resource) AS used`);
    if (!row?.used) {
      const types = getResourceTypes();
      await recordFingerprints(tx, types, types.map(indexFingerprint));
    }
  });
}

/**
 * The current fingerprints of the types, computed between turns of the event loop: compiling every
 * type's plan takes ~170 ms of CPU, which requests should not wait behind.
 */
async function fingerprintsOf(types: readonly string[]): Promise<Map<string, string>> {
  const fingerprints = new Map<string, string>();
  for (const type of types) {
    fingerprints.set(type, indexFingerprint(type));
    await nextTurn();
  }
  return fingerprints;
}

const LOCK_NOT_AVAILABLE = '55P03';
const PROGRESS_LOG_MS = 10_000;

type Step = { resources: number; done: boolean } | 'busy';

/**
 * Rebuilds the index rows of the resource types whose stored fingerprint (index_state) is not the
 * indexer's current one, in batches of resources locked as writers lock them, so a concurrent write
 * keeps its own rows. Each batch commits its rows with its resume position; a restart carries on
 * there. Every batch takes a transaction-level advisory lock, so one replica works at a time and no
 * connection is held between batches (the embedded database has only one).
 */
export class Reindexer {
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private inBackground = false;

  constructor(private readonly deps: ReindexerDeps) {}

  /**
   * Runs now, in the background, and then every `intervalMs`: a change of the indexer comes with a
   * restart, but a replica that was reindexing may die while the others had left the work to it.
   */
  start(intervalMs = 10 * 60_000): void {
    const tick = (): void => {
      if (this.inBackground || this.stopped) {
        return;
      }
      this.inBackground = true;
      this.run()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'reindex failed; it is retried later'))
        .finally(() => {
          this.inBackground = false;
        });
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  /** Runs after any run under way (runs of one process never overlap). */
  run(options: ReindexOptions = {}): Promise<ReindexSummary> {
    const result = this.queue.then(() => this.runOnce(options));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Stops at the end of the batch under way and waits for it. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.queue;
  }

  private async runOnce(options: ReindexOptions): Promise<ReindexSummary> {
    const started = Date.now();
    const summary: ReindexSummary = { reindexed: [], recorded: 0, busy: false, ms: 0 };
    const fingerprints = await fingerprintsOf(options.types ?? getResourceTypes());
    const work = this.stopped
      ? undefined
      : await this.deps.db.transaction((tx) => this.findWork(tx, fingerprints, options));
    summary.busy = work === 'busy';
    if (work && work !== 'busy') {
      summary.recorded = work.recorded;
      for (const type of work.types) {
        const { busy, ...done } = await this.reindexType(type, options);
        summary.reindexed.push(done);
        summary.busy = busy;
        if (!done.complete) {
          break;
        }
      }
    }
    summary.ms = Date.now() - started;
    if (summary.busy) {
      this.deps.logger.info('another replica is reindexing; left to it');
    }
    return summary;
  }

  /** Records the fingerprints of stale types with no resources; answers the stale types with resources. */
  private async findWork(
    tx: Queryable,
    fingerprints: ReadonlyMap<string, string>,
    options: ReindexOptions
  ): Promise<{ types: string[]; recorded: number } | 'busy'> {
    if (!(await lockReindex(tx, options.wait ?? false))) {
      return 'busy';
    }
    const states = await readStates(tx);
    const stored = await typesWithResources(tx);
    const types: string[] = [];
    const empty: string[] = [];
    for (const [type, fingerprint] of fingerprints) {
      const current = states.get(type)?.fingerprint === fingerprint;
      if (!stored.has(type)) {
        if (!current) {
          empty.push(type);
        }
      } else if (options.force) {
        await restart(tx, type, fingerprint);
        types.push(type);
      } else if (!current) {
        types.push(type);
      }
    }
    await recordFingerprints(tx, empty, empty.map(indexFingerprint));
    return { types, recorded: empty.length };
  }

  private async reindexType(type: string, options: ReindexOptions): Promise<TypeReindexed & { busy: boolean }> {
    const target = indexFingerprint(type);
    const started = Date.now();
    let resources = 0;
    let logged = started;
    this.deps.logger.info({ type, fingerprint: target }, 'reindex started');
    for (;;) {
      const step = this.stopped ? undefined : await this.batchWithRetry(type, target, options);
      if (step === undefined || step === 'busy') {
        const ms = Date.now() - started;
        this.deps.logger.info({ type, resources, ms }, 'reindex paused; it resumes at the next run');
        return { type, resources, ms, complete: false, busy: step === 'busy' };
      }
      resources += step.resources;
      if (step.done) {
        break;
      }
      if (Date.now() - logged >= PROGRESS_LOG_MS) {
        logged = Date.now();
        this.deps.logger.info({ type, resources, ms: logged - started }, 'reindex progress');
      }
    }
    const ms = Date.now() - started;
    this.deps.logger.info({ type, resources, ms }, 'reindexed');
    return { type, resources, ms, complete: true, busy: false };
  }

  /** A batch that timed out waiting for a writer's row lock is tried again after a pause. */
  private async batchWithRetry(type: string, target: string, options: ReindexOptions): Promise<Step | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.batch(type, target, options);
      } catch (err) {
        if ((err as { code?: string }).code !== LOCK_NOT_AVAILABLE || attempt >= 20) {
          throw err;
        }
        if (this.stopped) {
          return undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * attempt, 1_000)));
      }
    }
  }

  private batch(type: string, target: string, options: ReindexOptions): Promise<Step> {
    return this.deps.db.transaction(async (tx) => {
      if (!(await lockReindex(tx, options.wait ?? false))) {
        return 'busy';
      }
      // Give way to writers: waiting long on one row while holding the batch's other row locks would
      // stall them, or deadlock with a transaction Bundle locking in another order. Shorter than
      // deadlock_timeout (1 s), so this batch gives up before PostgreSQL picks a victim.
      await tx.query(sql`SET LOCAL lock_timeout = '200ms'`);
      const state = await readState(tx, type);
      if (state?.fingerprint === target) {
        return { resources: 0, done: true }; // another replica finished it meanwhile
      }
      const size = options.batchSize ?? 500;
      const locked = await lockBatch(tx, type, state?.target === target ? state.resumeAfterId : null, size);
      await options.duringBatch?.(locked.map((r) => r.id));
      const resources = await rebuildRows(tx, locked, this.deps.searchParams.lookup, this.deps.baseUrl);
      await rebuildVersionCompartments(tx, locked, this.deps.baseUrl);
      const last = locked[locked.length - 1];
      const done = !last || locked.length < size;
      await (done ? markDone(tx, type, target) : saveProgress(tx, type, target, last.id));
      return { resources, done };
    });
  }
}

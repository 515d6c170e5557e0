import type { Database } from '../db/database';
import { raw, sql } from '../db/sql';
import type { Logger } from '../logger';

/** Advisory lock key of this job (hale-profiles.ts publishes under 7220432, reindex.ts uses 7220433). */
const ANALYZE_LOCK = 7220434;

/** Share of the versions written so far that triggers the next round. */
const GROWTH = 0.5;

/**
 * After a round, the next may start only once this many times the round's ANALYZE time has passed:
 * the job then takes at most a tenth of one core. In a fast load from a small start, 50% growth
 * comes every second or so (6,000 to 35,000 resources in 3 s: four rounds), and the rounds took
 * ~13% of a core away from the load (one bundle at a time ~7% slower). Writes that reach the
 * threshold during the wait start the round when it ends, even if no write follows.
 */
const IDLE_FACTOR = 9;

/** One round of ANALYZE: when it ran, and how long its statements took (pauses left out). */
export interface AnalyzeRound {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly busyMs: number;
}

const TABLES = [
  'resource',
  'resource_history',
  'idx_token',
  'idx_string',
  'idx_date',
  'idx_number',
  'idx_quantity',
  'idx_reference',
  'idx_uri',
];

/**
 * Keeps the planner's statistics fresh after bulk writes. The searches rely on them to drive
 * from the selective condition (the patient) rather than the common one (a frequent code):
 * with stale statistics a patient's heart-rate search took 90 ms instead of 4. Autovacuum
 * does this too where it is on and keeps up; this covers fresh databases and big ingests.
 * Runs in the background, never on a request; one replica at a time (advisory lock).
 */
export class StatisticsMaintainer {
  private sinceLast = 0;
  private total = 0;
  private running: Promise<void> | undefined;
  private stopped = false;
  private nextAllowedAt = 0;
  private waiting: NodeJS.Timeout | undefined;
  /** The last rounds, oldest first (a few, for logs and tests). */
  readonly rounds: AnalyzeRound[] = [];

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    /** Versions written before the first ANALYZE, and the floor of the threshold after that. */
    private readonly minimum = 5_000,
    /** Pause between two tables of a round. */
    private readonly pauseMs = 100
  ) {}

  /** Called after every committed write with the number of resource versions written. */
  readonly recordWrites = (versions: number): void => {
    this.sinceLast += versions;
    this.total += versions;
    // Re-analyze after 50% growth. Autovacuum's default is 10%, per table, in its own worker; here
    // every round samples all nine tables from a Hale backend (~0.25 s of CPU at 120k resources),
    // and 10% meant ~19 rounds in a 120k-resource load, a tenth of a 2-core machine. The planner
    // scales row counts to the current table size itself; what drifts is the value distribution,
    // which a 50% growth of the same kind of data changes little.
    this.startWhenDue();
  };

  private startWhenDue(): void {
    if (this.running || this.stopped || this.waiting || this.sinceLast < Math.max(this.minimum, this.total * GROWTH)) {
      return;
    }
    const wait = this.nextAllowedAt - Date.now();
    if (wait > 0) {
      this.waiting = setTimeout(() => {
        this.waiting = undefined;
        this.startWhenDue();
      }, wait);
      this.waiting.unref();
      return;
    }
    this.sinceLast = 0;
    this.running = this.analyze().finally(() => {
      this.running = undefined;
    });
  }

  private async analyze(): Promise<void> {
    const started = Date.now();
    let busyMs = 0;
    try {
      for (const table of TABLES) {
        const t0 = Date.now();
        const done = !this.stopped && (await this.analyzeTable(table));
        busyMs += Date.now() - t0;
        if (!done) {
          return;
        }
        // One table at a time, with a pause: a round of all nine is ~0.3 s of CPU, which in one
        // burst stalls the requests sharing the machine; spread out it fills idle time instead.
        await new Promise((resolve) => setTimeout(resolve, this.pauseMs));
      }
      this.logger.info({ ms: Date.now() - started, busyMs }, 'planner statistics refreshed');
    } catch (err) {
      this.logger.warn({ err }, 'ANALYZE failed; statistics may be stale');
    } finally {
      const endedAt = Date.now();
      this.nextAllowedAt = endedAt + IDLE_FACTOR * busyMs;
      this.rounds.push({ startedAt: started, endedAt, busyMs });
      this.rounds.splice(0, this.rounds.length - 10);
    }
  }

  /**
   * ANALYZE of one table under a transaction-scoped lock (a session lock taken and released through
   * the pool could be released on another connection and stay held forever); false when another
   * replica holds it.
   */
  private analyzeTable(table: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [got] = await tx.query<{ ok: boolean }>(sql`SELECT pg_try_advisory_xact_lock(${ANALYZE_LOCK}) AS ok`);
      if (got?.ok) {
        await tx.query(sql`ANALYZE ${raw(table)}`);
      }
      return got?.ok === true;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.waiting);
    await this.running;
  }
}

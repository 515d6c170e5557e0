import type { Database } from '../db/database';
import { sql } from '../db/sql';
import type { Logger } from '../logger';

/** Rows changed since the last ANALYZE, as a share of the rows then, past which an export refreshes the statistics. */
const STALE_SHARE = 0.5;
/** Below this many changed rows statistics are left as they are (a small database plans well either way). */
const STALE_MIN_ROWS = 5_000;

/**
 * Before an export reads: when the planner does not know how many rows `resource` holds (never
 * analyzed, or grown by half since — an export straight after a bulk load, or autovacuum off), one
 * ANALYZE of it. With such statistics PostgreSQL takes a type for ~1,000 rows and plans each keyset
 * page as a scan of the whole type plus a sort, not as a walk of the (type, id) index: 140 ms a
 * page at 88k Observations, 14.5 s for the bench's 118k-resource export instead of ~1 s. It runs
 * while the export waits for its transactionTime to settle, so it costs nothing when that wait is
 * longer. The statistics job (jobs/analyze.ts) does this after writes through the repository; this
 * covers whatever it has not seen. Any failure leaves the statistics as they are.
 */
export async function freshenResourceStatistics(db: Database, logger: Logger): Promise<void> {
  try {
    const [row] = await db.query<{ tuples: number; changed: string | null }>(
      sql`SELECT c.reltuples AS tuples, s.n_mod_since_analyze AS changed
          FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
          WHERE c.oid = to_regclass('resource')`
    );
    if (!row) {
      return;
    }
    const changed = Number(row.changed ?? 0);
    // reltuples -1: never analyzed (nor vacuumed), whatever the change counters say (they restart with the server).
    const stale = row.tuples < 0 || (changed >= STALE_MIN_ROWS && changed > row.tuples * STALE_SHARE);
    if (stale) {
      const started = Date.now();
      await db.query(sql`ANALYZE resource`);
      logger.info({ ms: Date.now() - started, changed }, 'bulk export: refreshed the statistics of resource');
    }
  } catch (err) {
    logger.warn({ err }, 'bulk export: could not check the statistics of resource');
  }
}

import type { Queryable } from '../db/database';
import { sql } from '../db/sql';

/** A resource type's row of index_state (db/migrations/0006_index_state.sql). */
export interface IndexState {
  /** Every current resource has this fingerprint's rows; null while a reindex is due or under way. */
  fingerprint: string | null;
  /** The fingerprint a reindex under way builds, and the last id it finished. */
  target: string | null;
  resumeAfterId: string | null;
}

/** Key of the transaction-level advisory lock every reindex step takes: one replica works at a time. */
const REINDEX_LOCK = 7220433;

/** Takes the reindex lock for this transaction: waits for it, or (try) answers false when another holds it. */
export async function lockReindex(tx: Queryable, wait: boolean): Promise<boolean> {
  if (wait) {
    await tx.query(sql`SELECT pg_advisory_xact_lock(${REINDEX_LOCK})`);
    return true;
  }
  const [row] = await tx.query<{ ok: boolean }>(sql`SELECT pg_try_advisory_xact_lock(${REINDEX_LOCK}) AS ok`);
  return row?.ok === true;
}

export async function readStates(q: Queryable): Promise<Map<string, IndexState>> {
  const rows = await q.query<{
    resource_type: string;
    fingerprint: string | null;
    target: string | null;
    resume_after_id: string | null;
  }>(sql`SELECT resource_type, fingerprint, target, resume_after_id FROM index_state`);
  return new Map(
    rows.map((r) => [
      r.resource_type,
      { fingerprint: r.fingerprint, target: r.target, resumeAfterId: r.resume_after_id },
    ])
  );
}

export async function readState(q: Queryable, type: string): Promise<IndexState | undefined> {
  const [row] = await q.query<{ fingerprint: string | null; target: string | null; resume_after_id: string | null }>(
    sql`SELECT fingerprint, target, resume_after_id FROM index_state WHERE resource_type = ${type}`
  );
  return row && { fingerprint: row.fingerprint, target: row.target, resumeAfterId: row.resume_after_id };
}

/**
 * The types that have rows in `resource`, by a skip scan of the (type, id) index: one index probe
 * per type, not a read of the table.
 */
export async function typesWithResources(q: Queryable): Promise<Set<string>> {
  const rows = await q.query<{ type: string }>(sql`WITH RECURSIVE t(type) AS (
      SELECT min(type) FROM resource
      UNION ALL
      SELECT (SELECT min(type) FROM resource WHERE type > t.type) FROM t WHERE t.type IS NOT NULL)
    SELECT type FROM t WHERE type IS NOT NULL`);
  return new Set(rows.map((r) => r.type));
}

/** Records fingerprints of types whose rows need no work (they have no resources). */
export async function recordFingerprints(
  q: Queryable,
  types: readonly string[],
  fingerprints: readonly string[]
): Promise<void> {
  if (types.length === 0) {
    return;
  }
  await q.query(sql`INSERT INTO index_state (resource_type, fingerprint)
    SELECT * FROM unnest(${types}::text[], ${fingerprints}::text[])
    ON CONFLICT (resource_type) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, target = NULL, resume_after_id = NULL`);
}

/** Starts a reindex of a type from its first resource: its rows are no longer known to match anything. */
export async function restart(q: Queryable, type: string, target: string): Promise<void> {
  await saveProgress(q, type, target, null);
}

/** Notes how far a reindex of a type has come, in the batch's transaction. */
export async function saveProgress(q: Queryable, type: string, target: string, lastId: string | null): Promise<void> {
  await q.query(sql`INSERT INTO index_state (resource_type, fingerprint, target, resume_after_id)
    VALUES (${type}, NULL, ${target}, ${lastId})
    ON CONFLICT (resource_type) DO UPDATE SET fingerprint = NULL, target = EXCLUDED.target,
      resume_after_id = EXCLUDED.resume_after_id`);
}

/** Every resource of the type now has the target's rows. */
export async function markDone(q: Queryable, type: string, fingerprint: string): Promise<void> {
  await q.query(sql`INSERT INTO index_state (resource_type, fingerprint, reindexed_at) VALUES (${type}, ${fingerprint}, now())
    ON CONFLICT (resource_type) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, reindexed_at = now(),
      target = NULL, resume_after_id = NULL`);
}

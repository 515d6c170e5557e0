import type { OperationOutcome } from '@medplum/fhirtypes';
import type { AccessTokenClaims } from '../../auth/types';
import type { Database, Queryable } from '../../db/database';
import { sql } from '../../db/sql';
import { LEASE_MS, isoTime } from '../store';

export type ImportState = 'pending' | 'running' | 'done' | 'failed';

/** A row of bulk_import. */
export interface ImportJob {
  id: string;
  client_id: string;
  subject: string;
  claims: AccessTokenClaims;
  request_url: string;
  state: ImportState;
  attempts: number;
  progress: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
  expires_at: string;
}

/** An input file of an import (bulk_import_file), without its body. */
export interface ImportFile {
  seq: number;
  type: string | null;
  source: string;
  state: 'pending' | 'done' | 'failed';
  counts: Record<string, number>;
  outcome: OperationOutcome | null;
}

export interface NewImportFile {
  type?: string;
  /** 'body' (then `body` holds the NDJSON) or 'Binary/<id>'. */
  source: string;
  body?: string;
}

const interval = (ms: number): string => `${Math.round(ms)} milliseconds`;
const FILE_COLUMNS = sql`seq, type, source, state, counts, outcome`;

function withIsoTimes(job: ImportJob): ImportJob {
  return { ...job, created_at: isoTime(job.created_at), expires_at: isoTime(job.expires_at) };
}

/**
 * The import ledger, shaped as the export's (store.ts): SKIP LOCKED claims, a lease renewed by a
 * heartbeat, every worker write guarded by its attempt number. What is new is per file: a file's
 * resources and its 'done' mark commit in one transaction (markDone takes that transaction).
 */
export class ImportStore {
  constructor(private readonly db: Database) {}

  /**
   * Inserts the import and its files unless too many imports are active (pending or running), all
   * clients together or for this client and user: the same limits as exports, counted apart. The
   * count and the insert run under one advisory lock.
   */
  async create(
    job: Pick<ImportJob, 'id' | 'client_id' | 'subject' | 'claims' | 'request_url'>,
    files: readonly NewImportFile[],
    limits: { maxRunning: number; maxPerClient: number; expiryHours: number }
  ): Promise<'created' | 'busy'> {
    return this.db.transaction(async (tx) => {
      await tx.query(sql`SELECT pg_advisory_xact_lock(7220433)`);
      const [counts] = await tx.query<{ total: string; mine: string }>(
        sql`SELECT count(*) AS total, count(*) FILTER (WHERE client_id = ${job.client_id} AND subject = ${job.subject}) AS mine
            FROM bulk_import WHERE state IN ('pending', 'running')`
      );
      if (Number(counts?.total ?? 0) >= limits.maxRunning || Number(counts?.mine ?? 0) >= limits.maxPerClient) {
        return 'busy';
      }
      await tx.query(sql`INSERT INTO bulk_import (id, client_id, subject, claims, request_url, expires_at)
        VALUES (${job.id}, ${job.client_id}, ${job.subject}, ${JSON.stringify(job.claims)}::jsonb, ${job.request_url},
          now() + ${interval(limits.expiryHours * 3_600_000)}::interval)`);
      for (const [i, f] of files.entries()) {
        await tx.query(sql`INSERT INTO bulk_import_file (import_id, seq, type, source, body)
          VALUES (${job.id}::uuid, ${i + 1}, ${f.type ?? null}, ${f.source}, ${f.body ?? null})`);
      }
      return 'created';
    });
  }

  /**
   * DELETE on the status URL: the import and its files' rows go, and with them the lease of a
   * running attempt, whose next heartbeat or done mark then fails, so the file in progress rolls
   * back. Files already imported stay. Returns the state it was in, or undefined when not found.
   */
  async cancel(id: string): Promise<ImportState | undefined> {
    const [row] = await this.db.query<{ state: ImportState }>(
      sql`DELETE FROM bulk_import WHERE id = ${id}::uuid RETURNING state`
    );
    return row?.state;
  }

  async get(id: string): Promise<ImportJob | undefined> {
    const [job] = await this.db.query<ImportJob>(sql`SELECT * FROM bulk_import WHERE id = ${id}::uuid`);
    return job && withIsoTimes(job);
  }

  async files(id: string): Promise<ImportFile[]> {
    return this.db.query<ImportFile>(
      sql`SELECT ${FILE_COLUMNS} FROM bulk_import_file WHERE import_id = ${id}::uuid ORDER BY seq`
    );
  }

  async body(id: string, seq: number): Promise<string | null> {
    const [row] = await this.db.query<{ body: string | null }>(
      sql`SELECT body FROM bulk_import_file WHERE import_id = ${id}::uuid AND seq = ${seq}`
    );
    return row?.body ?? null;
  }

  async reclaimExpired(): Promise<void> {
    await this.db.query(sql`UPDATE bulk_import SET state = 'pending', locked_until = NULL
      WHERE state = 'running' AND locked_until < now()`);
  }

  async claim(): Promise<ImportJob | undefined> {
    const [job] = await this.db.query<ImportJob>(sql`UPDATE bulk_import SET state = 'running',
        attempts = attempts + 1, locked_until = now() + ${interval(LEASE_MS)}::interval
      WHERE id = (SELECT id FROM bulk_import WHERE state = 'pending' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING *`);
    return job && withIsoTimes(job);
  }

  /** Renews the lease and records progress; false when the import was taken over. */
  async heartbeat(job: Pick<ImportJob, 'id' | 'attempts'>, progress: string): Promise<boolean> {
    const rows = await this.db.query(sql`UPDATE bulk_import SET locked_until = now() + ${interval(LEASE_MS)}::interval,
        progress = ${progress.slice(0, 99)}
      WHERE id = ${job.id}::uuid AND state = 'running' AND attempts = ${job.attempts} RETURNING id`);
    return rows.length > 0;
  }

  /**
   * Inside the file's own transaction: the file is done (its body dropped) only if this attempt
   * still holds the import; false otherwise, and the caller rolls the file back.
   */
  async markDone(
    tx: Queryable,
    job: Pick<ImportJob, 'id' | 'attempts'>,
    seq: number,
    counts: Record<string, number>
  ): Promise<boolean> {
    const rows = await tx.query(sql`UPDATE bulk_import_file f SET state = 'done', body = NULL,
        counts = ${JSON.stringify(counts)}::jsonb
      FROM bulk_import j WHERE f.import_id = j.id AND j.id = ${job.id}::uuid AND f.seq = ${seq}
        AND j.state = 'running' AND j.attempts = ${job.attempts} RETURNING f.seq`);
    return rows.length > 0;
  }

  async markFailed(job: Pick<ImportJob, 'id' | 'attempts'>, seq: number, outcome: OperationOutcome): Promise<void> {
    await this.db.query(sql`UPDATE bulk_import_file f SET state = 'failed', body = NULL,
        outcome = ${JSON.stringify(outcome)}::jsonb
      FROM bulk_import j WHERE f.import_id = j.id AND j.id = ${job.id}::uuid AND f.seq = ${seq}
        AND j.state = 'running' AND j.attempts = ${job.attempts}`);
  }

  /** False when this attempt no longer holds the import (cancelled, or taken over). */
  async finish(job: Pick<ImportJob, 'id' | 'attempts'>, state: 'done' | 'failed', error?: string): Promise<boolean> {
    const rows = await this.db.query(sql`UPDATE bulk_import SET state = ${state}, finished_at = now(),
        locked_until = NULL, progress = NULL, error = ${error?.slice(0, 2000) ?? null}
      WHERE id = ${job.id}::uuid AND state = 'running' AND attempts = ${job.attempts} RETURNING id`);
    return rows.length > 0;
  }

  /** Back to pending: after a lost connection (attempt counted) or at shutdown (not counted). */
  async release(job: Pick<ImportJob, 'id' | 'attempts'>, countAttempt: boolean): Promise<void> {
    await this.db.query(sql`UPDATE bulk_import SET state = 'pending', locked_until = NULL,
        attempts = attempts - ${countAttempt ? 0 : 1}
      WHERE id = ${job.id}::uuid AND state = 'running' AND attempts = ${job.attempts}`);
  }

  /** Deletes finished imports past their expiry. */
  async deleteExpired(): Promise<void> {
    await this.db.query(sql`DELETE FROM bulk_import WHERE expires_at < now() AND state <> 'running'`);
  }
}

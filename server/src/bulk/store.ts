import type { AccessTokenClaims } from '../auth/types';
import type { Database, Queryable } from '../db/database';
import { sql } from '../db/sql';
import type { ExportLevel, ExportParams } from './parameters';

export type ExportState = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

/** A row of bulk_export. */
export interface ExportJob {
  id: string;
  client_id: string;
  subject: string;
  claims: AccessTokenClaims;
  level: ExportLevel;
  group_id: string | null;
  request_url: string;
  params: ExportParams;
  warnings: string[];
  transaction_time: string;
  state: ExportState;
  attempts: number;
  locked_until: string | null;
  progress: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
  expires_at: string;
}

export type FileKind = 'output' | 'deleted' | 'error';

/** A finished file of an export (bulk_export_file). */
export interface ExportFile {
  name: string;
  kind: FileKind;
  type: string;
  count: number;
  bytes: string;
  seq: number;
}

export type NewExport = Pick<
  ExportJob,
  'id' | 'client_id' | 'subject' | 'claims' | 'level' | 'group_id' | 'request_url' | 'params' | 'warnings'
> & { transaction_time: string };

/** How long a running export's worker holds it without a heartbeat before another may take it over. */
export const LEASE_MS = 120_000;
/** Attempts (the first run and restarts after a lost worker) before an export fails. */
export const MAX_ATTEMPTS = 3;

const interval = (ms: number): string => `${Math.round(ms)} milliseconds`;

/** PostgreSQL's text form of a timestamptz ("2026-01-02 03:04:05.678+00") as an ISO instant. */
export function isoTime(value: string): string {
  const iso = value.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00');
  return new Date(iso).toISOString();
}

function withIsoTimes(job: ExportJob): ExportJob {
  return { ...job, transaction_time: isoTime(job.transaction_time), expires_at: isoTime(job.expires_at) };
}

/**
 * The export ledger in PostgreSQL: claims with SKIP LOCKED (any number of replicas share it and
 * each export runs in one place at a time), a lease renewed by the worker's heartbeat, and every
 * write of a worker guarded by its attempt number, so a worker that lost its lease changes nothing.
 */
export class ExportStore {
  constructor(private readonly db: Database) {}

  /**
   * Inserts the export unless too many are active (pending or running), all clients together or
   * for this client and user; the count and the insert run under one advisory lock.
   */
  async create(
    job: NewExport,
    limits: { maxRunning: number; maxPerClient: number; expiryHours: number }
  ): Promise<'created' | 'busy'> {
    return this.db.transaction(async (tx) => {
      await tx.query(sql`SELECT pg_advisory_xact_lock(7220432)`);
      const [counts] = await tx.query<{ total: string; mine: string }>(
        sql`SELECT count(*) AS total, count(*) FILTER (WHERE client_id = ${job.client_id} AND subject = ${job.subject}) AS mine
            FROM bulk_export WHERE state IN ('pending', 'running')`
      );
      if (Number(counts?.total ?? 0) >= limits.maxRunning || Number(counts?.mine ?? 0) >= limits.maxPerClient) {
        return 'busy';
      }
      await tx.query(sql`INSERT INTO bulk_export (id, client_id, subject, claims, level, group_id, request_url, params,
          warnings, transaction_time, expires_at)
        VALUES (${job.id}, ${job.client_id}, ${job.subject}, ${JSON.stringify(job.claims)}::jsonb, ${job.level},
          ${job.group_id}, ${job.request_url}, ${JSON.stringify(job.params)}::jsonb, ${JSON.stringify(job.warnings)}::jsonb,
          ${job.transaction_time}::timestamptz, now() + ${interval(limits.expiryHours * 3_600_000)}::interval)`);
      return 'created';
    });
  }

  async get(id: string): Promise<ExportJob | undefined> {
    const [job] = await this.db.query<ExportJob>(sql`SELECT * FROM bulk_export WHERE id = ${id}::uuid`);
    return job && withIsoTimes(job);
  }

  async files(id: string): Promise<ExportFile[]> {
    return this.db.query<ExportFile>(
      sql`SELECT name, kind, type, count, bytes, seq FROM bulk_export_file WHERE export_id = ${id}::uuid
          ORDER BY kind, type, seq`
    );
  }

  async file(id: string, name: string): Promise<ExportFile | undefined> {
    const [file] = await this.db.query<ExportFile>(
      sql`SELECT name, kind, type, count, bytes, seq FROM bulk_export_file WHERE export_id = ${id}::uuid AND name = ${name}`
    );
    return file;
  }

  /** Running exports whose worker stopped renewing its lease (a killed process) become pending again. */
  async reclaimExpired(): Promise<number> {
    const rows = await this.db.query(sql`UPDATE bulk_export SET state = 'pending', locked_until = NULL
      WHERE state = 'running' AND locked_until < now() RETURNING id`);
    return rows.length;
  }

  /** The oldest pending export, now running on this worker (its attempt counted), or undefined. */
  async claim(): Promise<ExportJob | undefined> {
    const [job] = await this.db.query<ExportJob>(sql`UPDATE bulk_export SET state = 'running',
        attempts = attempts + 1, locked_until = now() + ${interval(LEASE_MS)}::interval, progress = NULL
      WHERE id = (SELECT id FROM bulk_export WHERE state = 'pending' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING *`);
    return job && withIsoTimes(job);
  }

  /** Renews the lease and records progress; false when the export was cancelled or taken over. */
  async heartbeat(job: Pick<ExportJob, 'id' | 'attempts'>, progress: string): Promise<boolean> {
    const rows = await this.db.query(sql`UPDATE bulk_export SET locked_until = now() + ${interval(LEASE_MS)}::interval,
        progress = ${progress.slice(0, 99)}
      WHERE id = ${job.id}::uuid AND state = 'running' AND attempts = ${job.attempts} RETURNING id`);
    return rows.length > 0;
  }

  /** An attempt starts over: what an earlier attempt recorded goes (its files are deleted from disk too). */
  async resetOutput(job: Pick<ExportJob, 'id'>): Promise<void> {
    await this.db.query(sql`DELETE FROM bulk_export_file WHERE export_id = ${job.id}::uuid`);
    await this.db.query(sql`DELETE FROM bulk_export_patient WHERE export_id = ${job.id}::uuid`);
  }

  /** Records a finished (synced and renamed) file, unless the attempt lost the export. */
  async addFile(job: Pick<ExportJob, 'id' | 'attempts'>, file: ExportFile): Promise<boolean> {
    const rows = await this.db.query(sql`INSERT INTO bulk_export_file (export_id, name, kind, type, count, bytes, seq)
      SELECT id, ${file.name}, ${file.kind}, ${file.type}, ${file.count}, ${file.bytes}::bigint, ${file.seq}
      FROM bulk_export WHERE id = ${job.id}::uuid AND state = 'running' AND attempts = ${job.attempts}
      RETURNING name`);
    return rows.length > 0;
  }

  /** The patients (whom each row is about) of a file being written, for the audit of its download. */
  async addPatients(tx: Queryable, exportId: string, fileName: string, patientIds: readonly string[]): Promise<void> {
    if (patientIds.length > 0) {
      await tx.query(sql`INSERT INTO bulk_export_patient (export_id, file_name, patient_id)
        SELECT ${exportId}::uuid, ${fileName}, p FROM unnest(${patientIds}::text[]) AS p ON CONFLICT DO NOTHING`);
    }
  }

  /** How many distinct patients a file (or, without a name, the whole export) covers, and the first `cap` of them. */
  async patients(
    exportId: string,
    fileName: string | undefined,
    cap: number
  ): Promise<{ count: number; ids: string[] }> {
    const [row] = await this.db.query<{ count: string; ids: string[] | null }>(
      sql`SELECT count(*) AS count, (array_agg(patient_id ORDER BY patient_id))[1:${cap}] AS ids FROM (
            SELECT DISTINCT patient_id FROM bulk_export_patient WHERE export_id = ${exportId}::uuid
              AND (${fileName ?? null}::text IS NULL OR file_name = ${fileName ?? null})) p`
    );
    return { count: Number(row?.count ?? 0), ids: row?.ids ?? [] };
  }

  async finish(job: Pick<ExportJob, 'id' | 'attempts'>, expiryHours: number): Promise<boolean> {
    const rows = await this.db
      .query(sql`UPDATE bulk_export SET state = 'done', finished_at = now(), locked_until = NULL,
        progress = NULL, expires_at = now() + ${interval(expiryHours * 3_600_000)}::interval
      WHERE id = ${job.id}::uuid AND state = 'running' AND attempts = ${job.attempts} RETURNING id`);
    return rows.length > 0;
  }

  async fail(job: Pick<ExportJob, 'id' | 'attempts'>, error: string): Promise<void> {
    await this.db.query(sql`UPDATE bulk_export SET state = 'failed', finished_at = now(), locked_until = NULL,
        error = ${error.slice(0, 2000)}
      WHERE id = ${job.id}::uuid AND state = 'running' AND attempts = ${job.attempts}`);
  }

  /** A failed attempt that may succeed when run again (a lost database connection): pending, its attempt counted. */
  async retry(job: Pick<ExportJob, 'id' | 'attempts'>): Promise<void> {
    await this.db.query(sql`UPDATE bulk_export SET state = 'pending', locked_until = NULL
      WHERE id = ${job.id}::uuid AND state = 'running' AND attempts = ${job.attempts}`);
  }

  /** Hands a running export back (shutdown): the next worker anywhere starts it over at once. */
  async release(job: Pick<ExportJob, 'id' | 'attempts'>): Promise<void> {
    await this.db.query(sql`UPDATE bulk_export SET state = 'pending', locked_until = NULL, attempts = attempts - 1
      WHERE id = ${job.id}::uuid AND state = 'running' AND attempts = ${job.attempts}`);
  }

  /**
   * DELETE on the status URL. A running export is marked cancelled (its worker stops at its next
   * heartbeat and deletes it); any other is deleted at once. Returns the state it had.
   */
  async cancel(id: string): Promise<ExportState | undefined> {
    const [marked] = await this.db.query<{ state: ExportState }>(sql`UPDATE bulk_export SET state = 'cancelled'
      WHERE id = ${id}::uuid AND state = 'running' RETURNING 'running' AS state`);
    if (marked) {
      return marked.state;
    }
    const [deleted] = await this.db.query<{ state: ExportState }>(
      sql`DELETE FROM bulk_export WHERE id = ${id}::uuid AND state <> 'cancelled' RETURNING state`
    );
    return deleted?.state;
  }

  async delete(id: string): Promise<void> {
    await this.db.query(sql`DELETE FROM bulk_export WHERE id = ${id}::uuid`);
  }

  /**
   * Exports to delete now: past their expiry (unless running), and cancelled ones whose worker is
   * gone. The rows are deleted here; the caller deletes their directories.
   */
  async takeExpired(limit: number, keep: readonly string[]): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(sql`DELETE FROM bulk_export WHERE id IN (
        SELECT id FROM bulk_export
        WHERE ((expires_at < now() AND state <> 'running')
           OR (state = 'cancelled' AND (locked_until IS NULL OR locked_until < now())))
          AND NOT (id = ANY(${keep}::uuid[]))
        LIMIT ${limit}) RETURNING id`);
    return rows.map((r) => r.id);
  }
}

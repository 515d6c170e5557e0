import type { Queryable } from '../../../db/database';
import { sql } from '../../../db/sql';

export type ApplicationKind = 'provider' | 'pharmacy' | 'lab';
export type ApplicationStatus = 'pending' | 'approved' | 'rejected';

/** An application as the admin API and the applicant see it. */
export interface ApplicationSummary {
  taskId: string;
  kind: ApplicationKind;
  status: ApplicationStatus;
  /** The licence (provider) or registration (pharmacy, lab) number. */
  number: string;
  accountId: string;
  email: string;
  name: string | null;
  submittedAt: string;
  decidedAt: string | null;
  reason: string | null;
}

interface SummaryRow {
  task_id: string;
  kind: ApplicationKind;
  status: ApplicationStatus;
  number: string;
  account_id: string;
  email: string;
  name: string | null;
  created_at: string;
  decided_at: string | null;
  reason: string | null;
}

function toSummary(r: SummaryRow): ApplicationSummary {
  return {
    taskId: r.task_id,
    kind: r.kind,
    status: r.status,
    number: r.number,
    accountId: r.account_id,
    email: r.email,
    name: r.name,
    submittedAt: r.created_at,
    decidedAt: r.decided_at,
    reason: r.reason,
  };
}

const SUMMARY = sql`SELECT a.task_id, a.kind, a.status, a.number, a.account_id, c.email, c.name,
                           to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
                           to_char(a.decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS decided_at,
                           a.reason
                    FROM account_application a JOIN account c ON c.id = a.account_id`;

/** "MD-12 345" and "md12345" are one licence: case, spaces and separators do not count. */
export function numberKey(n: string): string {
  return n.toUpperCase().replace(/[\s\-./]/g, '');
}

export async function numberInUse(db: Queryable, kind: ApplicationKind, number: string): Promise<boolean> {
  const rows = await db.query(sql`
    SELECT 1 FROM account_application WHERE kind = ${kind} AND number_key = ${numberKey(number)} AND status <> 'rejected'`);
  return rows.length > 0;
}

/** false when a concurrent application took the number first (the partial unique index decides). */
export async function insertApplication(
  db: Queryable,
  a: { taskId: string; accountId: string; kind: ApplicationKind; number: string }
): Promise<boolean> {
  const rows = await db.query(sql`
    INSERT INTO account_application (task_id, account_id, kind, number, number_key, status)
    VALUES (${a.taskId}, ${a.accountId}, ${a.kind}, ${a.number}, ${numberKey(a.number)}, 'pending')
    ON CONFLICT DO NOTHING RETURNING task_id`);
  return rows.length > 0;
}

export async function lockApplication(
  db: Queryable,
  taskId: string
): Promise<{ account_id: string; kind: ApplicationKind; status: ApplicationStatus } | undefined> {
  const rows = await db.query<{ account_id: string; kind: ApplicationKind; status: ApplicationStatus }>(sql`
    SELECT account_id, kind, status FROM account_application WHERE task_id = ${taskId} FOR UPDATE`);
  return rows[0];
}

export async function recordDecision(
  db: Queryable,
  d: { taskId: string; status: 'approved' | 'rejected'; adminId: string; reason: string | null }
): Promise<ApplicationSummary> {
  await db.query(sql`
    UPDATE account_application SET status = ${d.status}, reason = ${d.reason}, decided_by = ${d.adminId},
                                   decided_at = now()
    WHERE task_id = ${d.taskId}`);
  const rows = await db.query<SummaryRow>(sql`${SUMMARY} WHERE a.task_id = ${d.taskId}`);
  return toSummary(rows[0] as SummaryRow);
}

export async function pendingApplications(db: Queryable, limit = 500): Promise<ApplicationSummary[]> {
  const rows = await db.query<SummaryRow>(
    sql`${SUMMARY} WHERE a.status = 'pending' ORDER BY a.created_at LIMIT ${limit}`
  );
  return rows.map(toSummary);
}

export async function latestApplicationOf(db: Queryable, accountId: string): Promise<ApplicationSummary | undefined> {
  const rows = await db.query<SummaryRow>(
    sql`${SUMMARY} WHERE a.account_id = ${accountId} ORDER BY a.created_at DESC LIMIT 1`
  );
  return rows[0] && toSummary(rows[0]);
}

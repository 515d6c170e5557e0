import type { WithId } from '@medplum/core';
import { OperationOutcomeError, conflict, notFound, parseSearchRequest } from '@medplum/core';
import type { Appointment, Resource, ServiceRequest, Slot, Task } from '@medplum/fhirtypes';
import { sql } from '../db/sql';
import { accessClause } from '../storage/read';
import type { HaleRepository } from '../storage/repository';
import { rememberJson } from '../storage/stored-json';

/**
 * Serialisation of the scheduling workflows. Every change to a Slot's status happens in a
 * transaction that first locks the Slot's row (SELECT … FOR UPDATE, as the repository's own
 * updates do), so two bookings of one slot run one after the other and the second sees the
 * first's result. Locks are taken in one order — slots (by id), then the appointment, then the
 * schedule's waitlist — so workflows that touch several never deadlock each other.
 */

/** Locks a current resource's row for the rest of the transaction and returns it, or 404. */
async function lockRow<T extends Resource>(
  tx: HaleRepository,
  type: T['resourceType'],
  id: string
): Promise<WithId<T>> {
  await tx.flush(); // a version this transaction buffered must be in the row we lock
  const rows = await tx.queryable.query<{ content: string }>(
    sql`SELECT content FROM resource WHERE type = ${type} AND id = ${id} AND NOT deleted FOR UPDATE`
  );
  const content = rows[0]?.content;
  if (!content) {
    throw new OperationOutcomeError(notFound);
  }
  return JSON.parse(content) as WithId<T>;
}

export const lockSlot = (tx: HaleRepository, id: string): Promise<WithId<Slot>> => lockRow<Slot>(tx, 'Slot', id);

export const lockAppointment = (tx: HaleRepository, id: string): Promise<WithId<Appointment>> =>
  lockRow<Appointment>(tx, 'Appointment', id);

/** Locks a workflow Task (a visit request) after any slots, in the lock order above. */
export const lockTask = (tx: HaleRepository, id: string): Promise<WithId<Task>> => lockRow<Task>(tx, 'Task', id);

/** Locks an order (server/src/orders) for a status step. */
export const lockServiceRequest = (tx: HaleRepository, id: string): Promise<WithId<ServiceRequest>> =>
  lockRow<ServiceRequest>(tx, 'ServiceRequest', id);

/** Locks several slots in id order (the lock order every workflow keeps). */
export async function lockSlots(tx: HaleRepository, ids: readonly string[]): Promise<Map<string, WithId<Slot>>> {
  const out = new Map<string, WithId<Slot>>();
  for (const id of [...new Set(ids)].sort()) {
    out.set(id, await lockSlot(tx, id));
  }
  return out;
}

/**
 * A transaction-scoped advisory lock named by `key` (a schedule's waitlist, its slot generation):
 * for work on sets of rows where there is no one row to lock.
 */
export async function lockKey(tx: HaleRepository, key: string): Promise<void> {
  await tx.queryable.query(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`hale:${key}`}, 0))`);
}

/** Every match of a search (paged by the repository's largest page). */
export async function searchAll<T extends Resource>(repo: HaleRepository, query: string): Promise<WithId<T>[]> {
  const request = parseSearchRequest<T>(query);
  const out: WithId<T>[] = [];
  for (let offset = 0; ; offset += 1000) {
    const bundle = await repo.search<T>({ ...request, count: 1000, offset });
    const page = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
    out.push(...page);
    if (page.length < 1000) {
      return out;
    }
  }
}

/** Appointments that keep a slot taken: anything not ended, cancelled or waiting. */
export const ACTIVE_STATUSES = ['proposed', 'pending', 'booked', 'arrived', 'checked-in'] as const;

export function activeAppointmentsOn(tx: HaleRepository, slotId: string): Promise<WithId<Appointment>[]> {
  return searchAll<Appointment>(tx, `Appointment?slot=Slot/${slotId}&status=${ACTIVE_STATUSES.join(',')}`);
}

export const idOf = (reference: string | undefined): string => (reference ?? '').split('/')[1] ?? '';

/**
 * A workflow reads an appointment, then locks the slots it names and the appointment itself: if
 * it changed in between (another step moved it), the slots locked may not be its slots any more.
 */
export function assertUnchanged<T extends Resource>(before: T, locked: WithId<T>): WithId<T> {
  if (before.meta?.versionId !== locked.meta?.versionId) {
    throw new OperationOutcomeError(conflict('The appointment changed while this request ran; retry'));
  }
  return locked;
}

/**
 * The slots of one schedule starting in [from, to), in start order, read with the repository's
 * access filter. Slot.start is an instant, so its idx_date row has low = the start and the range
 * is one index range scan on (sp, low) — where the generic search (Slot?schedule=&start=ge&start=lt)
 * compiles each bound into its own one-sided test and scans every slot (docs/scheduling.md has figures).
 * The schedule test is a scalar subquery, probed per slot of the window on idx_reference_target:
 * as an EXISTS, PostgreSQL hashes every slot of the schedule (10,000 rows) to test a few hundred.
 */
export async function slotsStarting(
  repo: HaleRepository,
  scheduleId: string,
  from: Date,
  to: Date,
  limit: number
): Promise<WithId<Slot>[]> {
  const startSp = repo.ctx.searchParams.id('Slot', 'start');
  const scheduleSp = repo.ctx.searchParams.referenceRows('Slot', 'schedule')?.sp;
  if (startSp === undefined || scheduleSp === undefined) {
    throw new Error('Slot search parameters are not registered');
  }
  repo.ctx.access.checkInteraction('Slot', 'search');
  const rows = await repo.queryable.query<{ content: string }>(
    sql`SELECT r.content FROM idx_date d JOIN resource r ON r.rid = d.rid
      WHERE d.sp = ${startSp} AND d.low >= ${from.toISOString()}::timestamptz AND d.low < ${to.toISOString()}::timestamptz
        AND r.type = 'Slot' AND NOT r.deleted
        AND (SELECT TRUE FROM idx_reference i WHERE i.sp = ${scheduleSp} AND i.target_id = ${scheduleId}
          AND i.rid = d.rid AND i.target_type = 'Schedule' LIMIT 1)
        AND ${accessClause(repo.ctx.access, 'r', 'Slot')}
      ORDER BY d.low, r.rid LIMIT ${limit}`
  );
  return rows.map((r) => {
    const slot = JSON.parse(r.content) as WithId<Slot>;
    rememberJson(slot, r.content); // answered as stored, not serialized again (nothing changes it after)
    return slot;
  });
}

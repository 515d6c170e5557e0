import type { WithId } from '@medplum/core';
import type { Bundle, Schedule, Slot } from '@medplum/fhirtypes';
import { invalid } from '../fhir/operations/parameters';
import type { SchedulingContext } from './caller';
import { effectiveStatus, freeSlot } from './slot-state';
import { slotsStarting } from './store';

/** The widest window one call lists (a month), and the most slots it returns. */
export const MAX_WINDOW_DAYS = 31;
export const MAX_RESULTS = 1000;

/** A listing window: two dateTimes, end after start, at most MAX_WINDOW_DAYS apart (else 400). */
export function checkWindow(start: string, end: string): { from: number; to: number } {
  const from = Date.parse(start);
  const to = Date.parse(end);
  if (Number.isNaN(from) || Number.isNaN(to) || to <= from) {
    throw invalid("'start' and 'end' must be dateTimes with 'end' after 'start'");
  }
  if (to - from > MAX_WINDOW_DAYS * 86_400_000) {
    throw invalid(`The window may span at most ${MAX_WINDOW_DAYS} days`);
  }
  return { from, to };
}

/**
 * Schedule/{id}/$find-slots: the slots a patient can take between `start` and `end` — free ones,
 * and held ones whose hold has lapsed, shown as free (without the hold extension) as they will be
 * once the expiry bot has run. A closed schedule, and slots already started, give none. Read with
 * the caller's own access (Schedule and Slot are directory data).
 */
export async function findSlots(
  ctx: SchedulingContext,
  input: { scheduleId: string; start: string; end: string }
): Promise<Bundle<WithId<Slot>>> {
  const window = checkWindow(input.start, input.end);
  const from = Math.max(window.from, ctx.now.getTime());
  const to = window.to;
  const schedule = await ctx.repo.readResource<Schedule>('Schedule', input.scheduleId);
  const entries: Slot[] = [];
  if (schedule.active !== false && from < to) {
    const listed = await slotsStarting(ctx.repo, schedule.id, new Date(from), new Date(to), MAX_RESULTS);
    for (const slot of listed) {
      if (effectiveStatus(slot, ctx.now) === 'free') {
        entries.push(slot.status === 'free' ? slot : freeSlot(slot));
      }
    }
  }
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: entries.length,
    entry: entries.map((resource) => ({ resource, search: { mode: 'match' } })),
  } as Bundle<WithId<Slot>>;
}

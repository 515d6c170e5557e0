import type { WithId } from '@medplum/core';
import type { Appointment, Schedule, Slot } from '@medplum/fhirtypes';
import { invalid } from '../fhir/operations/parameters';
import type { HaleRepository } from '../storage/repository';
import { cancelLapsedHolds } from './appointments';
import type { SchedulingContext } from './caller';
import { assertManages } from './caller';
import { blockedSlot, effectiveStatus, isBlocked, unblockedSlot } from './slot-state';
import { activeAppointmentsOn, lockKey, lockSlots, slotsStarting } from './store';

/** The widest window one call blocks (as $find-slots lists), and the longest slot $generate-slots makes. */
export const MAX_BLOCK_DAYS = 31;
const LONGEST_SLOT_MS = 480 * 60_000;
const MAX_SLOTS = 5000;

export interface BlockConflict {
  slot: WithId<Slot>;
  /** The live appointments on it (a booking, or a hold's proposed one); none for a reschedule's hold. */
  appointments: WithId<Appointment>[];
}

export interface BlockResult {
  /** Slots the block made busy-unavailable. */
  blocked: number;
  /** Slots in the window that were blocked already. */
  alreadyBlocked: number;
  /** Booked or held slots: left as they are, marked to become unavailable once freed. */
  conflicts: BlockConflict[];
}

function windowOf(start: string, end: string): { from: Date; to: Date } {
  const from = Date.parse(start);
  const to = Date.parse(end);
  if (Number.isNaN(from) || Number.isNaN(to) || to <= from) {
    throw invalid("'start' and 'end' must be dateTimes with 'end' after 'start'");
  }
  if (to - from > MAX_BLOCK_DAYS * 86_400_000) {
    throw invalid(`A block may span at most ${MAX_BLOCK_DAYS} days`);
  }
  return { from: new Date(from), to: new Date(to) };
}

/**
 * Runs `fn` on the schedule's slots that overlap [start, end), locked in id order, under the
 * schedule's generation lock so no slot is generated into the window meanwhile. (A slot that
 * overlaps the window starts at most LONGEST_SLOT_MS before it.)
 */
async function inWindow<T>(
  ctx: SchedulingContext,
  input: { scheduleId: string; start: string; end: string },
  fn: (tx: HaleRepository, slots: WithId<Slot>[]) => Promise<T>
): Promise<T> {
  const { from, to } = windowOf(input.start, input.end);
  const schedule = await ctx.system.readResource<Schedule>('Schedule', input.scheduleId);
  assertManages(ctx.caller, schedule);
  return ctx.system.withTransaction(async (tx) => {
    await lockKey(tx, `generate:Schedule/${schedule.id}`);
    const near = await slotsStarting(tx, schedule.id, new Date(from.getTime() - LONGEST_SLOT_MS), to, MAX_SLOTS + 1);
    const overlapping = near.filter((s) => Date.parse(s.end) > from.getTime());
    if (overlapping.length > MAX_SLOTS) {
      throw invalid(`The window holds more than ${MAX_SLOTS} slots; block a shorter one`);
    }
    const locked = await lockSlots(
      tx,
      overlapping.map((s) => s.id)
    );
    return fn(
      tx,
      overlapping.map((s) => locked.get(s.id) as WithId<Slot>)
    );
  });
}

/**
 * Schedule/{id}/$block: the provider takes a window out of their availability. Free slots (and
 * lapsed holds) in it become busy-unavailable, so nobody can hold, book or be offered them; booked
 * and held ones are not cancelled behind anyone's back but reported, and marked so that they become
 * unavailable once the provider cancels or moves them (docs/scheduling.md "Blocking time").
 */
export async function blockWindow(
  ctx: SchedulingContext,
  input: { scheduleId: string; start: string; end: string }
): Promise<BlockResult> {
  return inWindow(ctx, input, async (tx, slots) => {
    const result: BlockResult = { blocked: 0, alreadyBlocked: 0, conflicts: [] };
    for (const slot of slots) {
      await cancelLapsedHolds(tx, slot, ctx.now);
      const status = effectiveStatus(slot, ctx.now);
      if (status === 'busy-unavailable') {
        result.alreadyBlocked += 1;
        if (!isBlocked(slot)) {
          await tx.updateResource(blockedSlot(slot, ctx.now)); // unavailable already: now also the block's
        }
        continue;
      }
      if (status === 'free') {
        result.blocked += 1;
      } else {
        result.conflicts.push({ slot, appointments: await activeAppointmentsOn(tx, slot.id) });
      }
      await tx.updateResource(blockedSlot(slot, ctx.now));
    }
    return result;
  });
}

/** Schedule/{id}/$unblock: the window's blocked slots are free again (booked ones keep their booking). */
export async function unblockWindow(
  ctx: SchedulingContext,
  input: { scheduleId: string; start: string; end: string }
): Promise<number> {
  return inWindow(ctx, input, async (tx, slots) => {
    let unblocked = 0;
    for (const slot of slots.filter(isBlocked)) {
      const next = unblockedSlot(slot);
      unblocked += slot.status === 'busy-unavailable' ? 1 : 0;
      await tx.updateResource(next);
    }
    return unblocked;
  });
}

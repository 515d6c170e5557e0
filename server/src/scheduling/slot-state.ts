import type { Extension, Schedule, Slot } from '@medplum/fhirtypes';
import { RULES, refused } from './rules';
import { HOLD_EXPIRES_EXT, SLOT_BLOCKED_EXT } from './vocabulary';

/** When the hold on a slot lapses (slot-hold-expires), in ms; undefined when it has none. */
export function holdExpiry(slot: Slot): number | undefined {
  const value = slot.extension?.find((e) => e.url === HOLD_EXPIRES_EXT)?.valueDateTime;
  const ms = value ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * A slot's status as the workflows see it. A hold that has lapsed counts as free even before the
 * expiry bot (bots/src/expiry.ts) has freed it, so a lapsed hold never blocks anyone.
 */
export function effectiveStatus(slot: Slot, now: Date): Slot['status'] {
  let status = slot.status;
  if (status === 'busy-tentative') {
    const expires = holdExpiry(slot);
    if (expires !== undefined && expires <= now.getTime()) {
      status = 'free';
    }
  }
  // A blocked slot that would be free is unavailable, however it was freed (a cancel, or the expiry bot).
  return status === 'free' && isBlocked(slot) ? 'busy-unavailable' : status;
}

/** True when the slot lies in a window its provider blocked (Schedule/$block). */
export function isBlocked(slot: Slot): boolean {
  return (slot.extension ?? []).some((e) => e.url === SLOT_BLOCKED_EXT && e.valueBoolean === true);
}

/** True when the slot has an unlapsed hold. */
export function isHeld(slot: Slot, now: Date): boolean {
  return slot.status === 'busy-tentative' && effectiveStatus(slot, now) === 'busy-tentative';
}

function withoutHold(slot: Slot): Extension[] | undefined {
  const rest = (slot.extension ?? []).filter((e) => e.url !== HOLD_EXPIRES_EXT);
  return rest.length ? rest : undefined;
}

export function heldSlot<T extends Slot>(slot: T, expires: Date): T {
  return {
    ...slot,
    status: 'busy-tentative',
    extension: [...(withoutHold(slot) ?? []), { url: HOLD_EXPIRES_EXT, valueDateTime: expires.toISOString() }],
  };
}

/** The slot released: free, or busy-unavailable when it lies in a blocked window. */
export function freeSlot<T extends Slot>(slot: T): T {
  return { ...slot, status: isBlocked(slot) ? 'busy-unavailable' : 'free', extension: withoutHold(slot) };
}

/**
 * The slot in a blocked window: a free one (or a lapsed hold) becomes busy-unavailable; a booked or
 * held one keeps its status and carries the mark, so it becomes unavailable once it is freed.
 */
export function blockedSlot<T extends Slot>(slot: T, now: Date): T {
  const marked = [...(withoutHold(slot) ?? []).filter((e) => e.url !== SLOT_BLOCKED_EXT)];
  const block = { url: SLOT_BLOCKED_EXT, valueBoolean: true };
  if (effectiveStatus(slot, now) === 'free' || slot.status === 'free') {
    return { ...slot, status: 'busy-unavailable', extension: [...marked, block] };
  }
  return { ...slot, extension: [...(slot.extension ?? []).filter((e) => e.url !== SLOT_BLOCKED_EXT), block] };
}

/** The mark removed; a slot the block made unavailable is free again. */
export function unblockedSlot<T extends Slot>(slot: T): T {
  const rest = (slot.extension ?? []).filter((e) => e.url !== SLOT_BLOCKED_EXT);
  return {
    ...slot,
    status: slot.status === 'busy-unavailable' ? 'free' : slot.status,
    extension: rest.length ? rest : undefined,
  };
}

export function busySlot<T extends Slot>(slot: T): T {
  return { ...slot, status: 'busy', extension: withoutHold(slot) };
}

/** What any booking, hold or offer of a slot needs: an open schedule and a start still ahead. */
export function assertBookable(slot: Slot, schedule: Schedule, now: Date): void {
  if (schedule.active === false) {
    throw refused(RULES.scheduleClosed, 'The schedule of this slot is closed: it takes no bookings');
  }
  if (Date.parse(slot.start) <= now.getTime()) {
    throw refused(RULES.slotInPast, 'The slot has already started: only future slots can be booked');
  }
}

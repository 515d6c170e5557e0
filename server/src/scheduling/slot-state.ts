import type { Extension, Schedule, Slot } from '@medplum/fhirtypes';
import { RULES, refused } from './rules';
import { HOLD_EXPIRES_EXT } from './vocabulary';

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
  if (slot.status === 'busy-tentative') {
    const expires = holdExpiry(slot);
    if (expires !== undefined && expires <= now.getTime()) {
      return 'free';
    }
  }
  return slot.status;
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

export function freeSlot<T extends Slot>(slot: T): T {
  return { ...slot, status: 'free', extension: withoutHold(slot) };
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

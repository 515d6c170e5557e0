import type { WithId } from '@medplum/core';
import type { Appointment, Reference, Schedule, Slot } from '@medplum/fhirtypes';
import type { HaleRepository } from '../storage/repository';
import { asCaller, cancelLapsedHolds, holdOf, newAppointment } from './appointments';
import type { SchedulingContext } from './caller';
import { bookingPatient } from './caller';
import { RULES, refused } from './rules';
import { assertBookable, busySlot, effectiveStatus, heldSlot } from './slot-state';
import { lockSlot } from './store';

export interface HoldResult {
  slot: WithId<Slot>;
  appointment: WithId<Appointment>;
  expires: Date;
}

/**
 * The patient the caller may book for, checked before any lock is taken. A patient books for
 * themself, so only a provider's or system client's booking needs the slot's schedule here.
 */
async function patientFor(ctx: SchedulingContext, slotId: string, patient: Reference | undefined): Promise<string> {
  ctx.repo.ctx.access.checkInteraction('Slot', 'read');
  if (ctx.caller.patientId) {
    return bookingPatient(ctx.caller, undefined, patient);
  }
  const slot = await ctx.repo.readResource<Slot>('Slot', slotId);
  const schedule = await ctx.system.readReference<Schedule>(slot.schedule);
  return bookingPatient(ctx.caller, schedule, patient);
}

/** The locked slot and its schedule, refused unless it can be taken now. */
async function lockBookable(
  ctx: SchedulingContext,
  tx: HaleRepository,
  slotId: string
): Promise<{ slot: WithId<Slot>; schedule: WithId<Schedule> }> {
  const slot = await lockSlot(tx, slotId);
  const schedule = await tx.readReference<Schedule>(slot.schedule);
  assertBookable(slot, schedule, ctx.now);
  return { slot, schedule };
}

const notFree = (): Error => refused(RULES.slotNotFree, 'The slot is not free: it is booked or held by someone else');

/**
 * Slot/{id}/$hold: reserves a free slot for `minutes` — the Slot becomes busy-tentative with a
 * slot-hold-expires time, and a proposed Appointment records whose hold it is (the Slot, which is
 * public, never says). Holding a slot one already holds renews the hold.
 */
export async function holdSlot(
  ctx: SchedulingContext,
  input: { slotId: string; patient?: Reference; minutes: number }
): Promise<HoldResult> {
  const patientId = await patientFor(ctx, input.slotId, input.patient);
  const expires = new Date(ctx.now.getTime() + input.minutes * 60_000);
  return ctx.system.withTransaction(async (tx) => {
    const { slot, schedule } = await lockBookable(ctx, tx, input.slotId);
    const status = effectiveStatus(slot, ctx.now);
    let appointment: WithId<Appointment> | undefined;
    if (status === 'busy-tentative') {
      appointment = await holdOf(tx, slot, patientId); // renewing one's own hold
    } else if (status === 'free') {
      await cancelLapsedHolds(tx, slot, ctx.now);
      const proposed = newAppointment({ slot, schedule, patientId, status: 'proposed', now: ctx.now });
      appointment = await asCaller(ctx, tx, (callerTx) => callerTx.createResource(proposed));
    }
    if (!appointment) {
      throw notFree();
    }
    const held = await tx.updateResource(heldSlot(slot, expires));
    return { slot: held, appointment, expires };
  });
}

/**
 * Appointment/$book: books a free slot, or one the patient holds, in one transaction under the
 * slot's row lock: the Appointment (pending until the provider confirms) is written and the Slot
 * becomes busy. Of any number of concurrent bookings of one slot exactly one succeeds; the others
 * find the slot busy and get 409 slot-not-free.
 */
export async function bookSlot(
  ctx: SchedulingContext,
  input: { slotId: string; patient?: Reference; reason?: string }
): Promise<{ appointment: WithId<Appointment>; created: boolean }> {
  const patientId = await patientFor(ctx, input.slotId, input.patient);
  return ctx.system.withTransaction(async (tx) => {
    const { slot, schedule } = await lockBookable(ctx, tx, input.slotId);
    const status = effectiveStatus(slot, ctx.now);
    const mine = status === 'busy-tentative' ? await holdOf(tx, slot, patientId) : undefined;
    if (status !== 'free' && !mine) {
      throw notFree();
    }
    if (!mine) {
      await cancelLapsedHolds(tx, slot, ctx.now);
    }
    const appointment = await asCaller(ctx, tx, (callerTx) =>
      mine
        ? callerTx.updateResource<Appointment>({
            ...mine,
            status: 'pending',
            ...(input.reason ? { reasonCode: [{ text: input.reason }] } : {}),
          })
        : callerTx.createResource(
            newAppointment({ slot, schedule, patientId, status: 'pending', reason: input.reason, now: ctx.now })
          )
    );
    await tx.updateResource(busySlot(slot));
    return { appointment, created: !mine };
  });
}

import type { WithId } from '@medplum/core';
import type { Appointment } from '@medplum/fhirtypes';
import { forbiddenBecause } from '../fhir/errors';
import type { HaleRepository } from '../storage/repository';
import type { Party, SchedulingContext } from './caller';
import { appointmentParty } from './caller';
import { openRescheduleRequest, withdrawReschedule } from './reschedule';
import { RULES, refused } from './rules';
import { assertUnchanged, idOf, lockAppointment, lockSlots } from './store';
import { releaseSlot } from './waitlist';

type Status = Appointment['status'];

/** From which statuses each step may be taken (FHIR R4 appointment status flow). */
const ALLOWED_FROM: Record<'confirm' | 'cancel' | 'no-show', readonly Status[]> = {
  confirm: ['pending', 'booked'],
  cancel: ['proposed', 'pending', 'booked', 'waitlist'],
  'no-show': ['pending', 'booked'],
};

function assertFrom(step: keyof typeof ALLOWED_FROM, appointment: Appointment): void {
  if (!ALLOWED_FROM[step].includes(appointment.status)) {
    throw refused(
      RULES.illegalTransition,
      `An appointment in status '${appointment.status}' cannot be ${step === 'cancel' ? 'cancelled' : step === 'confirm' ? 'confirmed' : 'marked a no-show'} (allowed from: ${ALLOWED_FROM[step].join(', ')})`
    );
  }
}

function assertParty(party: Party, allowed: readonly Party[], what: string): void {
  if (!allowed.includes(party)) {
    throw forbiddenBecause(`Only ${what} may do this`);
  }
}

/**
 * Locks what a step changes, in the one lock order (store.ts): the appointment's slots, then the
 * appointment itself, re-read under its lock so the status checked is the one being changed.
 */
async function lockForStep(tx: HaleRepository, appointment: WithId<Appointment>): Promise<WithId<Appointment>> {
  await lockSlots(
    tx,
    (appointment.slot ?? []).map((s) => idOf(s.reference))
  );
  return assertUnchanged(appointment, await lockAppointment(tx, appointment.id));
}

/** Appointment/{id}/$confirm: the provider accepts a pending booking (→ booked). Confirming a booked one changes nothing. */
export async function confirmAppointment(ctx: SchedulingContext, id: string): Promise<WithId<Appointment>> {
  const { appointment, party } = await appointmentParty(ctx, id);
  assertParty(party, ['provider', 'system'], 'the provider of the schedule');
  return ctx.system.withTransaction(async (tx) => {
    const current = await lockForStep(tx, appointment);
    assertFrom('confirm', current);
    if (current.status === 'booked') {
      return current;
    }
    return tx.updateResource<Appointment>({
      ...current,
      status: 'booked',
      participant: current.participant.map((p) =>
        p.status === 'needs-action' && !p.actor?.reference?.startsWith('Patient/') ? { ...p, status: 'accepted' } : p
      ),
    });
  });
}

/**
 * Appointment/{id}/$cancel: the patient or the provider cancels, giving a reason. The slot is
 * freed (and offered to the waitlist); a waiting reschedule request is withdrawn with it.
 */
export async function cancelAppointment(
  ctx: SchedulingContext,
  input: { id: string; reason: string }
): Promise<WithId<Appointment>> {
  const { appointment } = await appointmentParty(ctx, input.id);
  const request = await openRescheduleRequest(ctx.system, appointment.id);
  return ctx.system.withTransaction(async (tx) => {
    const newSlotId = request ? idOf(request.input?.[0]?.valueReference?.reference) : undefined;
    const slotIds = [...(appointment.slot ?? []).map((s) => idOf(s.reference)), ...(newSlotId ? [newSlotId] : [])];
    const slots = await lockSlots(tx, slotIds);
    const current = assertUnchanged(appointment, await lockAppointment(tx, appointment.id));
    assertFrom('cancel', current);
    const cancelled = await tx.updateResource<Appointment>({
      ...current,
      status: 'cancelled',
      cancelationReason: { text: input.reason },
    });
    for (const s of current.slot ?? []) {
      const slot = slots.get(idOf(s.reference));
      if (slot) {
        await releaseSlot(ctx, tx, slot, `Appointment/${current.id}`);
      }
    }
    if (request) {
      await withdrawReschedule(ctx, tx, request, slots, 'The appointment was cancelled');
    }
    return cancelled;
  });
}

/** Appointment/{id}/$no-show: the provider records that the patient did not come (only once the start has passed). */
export async function noShowAppointment(ctx: SchedulingContext, id: string): Promise<WithId<Appointment>> {
  const { appointment, party } = await appointmentParty(ctx, id);
  assertParty(party, ['provider', 'system'], 'the provider of the schedule');
  return ctx.system.withTransaction(async (tx) => {
    const current = await lockForStep(tx, appointment);
    assertFrom('no-show', current);
    if (!current.start || Date.parse(current.start) > ctx.now.getTime()) {
      throw refused(RULES.noShowBeforeStart, 'A no-show can be recorded only once the appointment has started');
    }
    // The slot stays busy: its time has passed, and the record keeps what was booked.
    return tx.updateResource<Appointment>({ ...current, status: 'noshow' });
  });
}

import type { WithId } from '@medplum/core';
import type { Appointment, AppointmentParticipant, Reference, Schedule, Slot } from '@medplum/fhirtypes';
import { HaleRepository } from '../storage/repository';
import type { SchedulingContext } from './caller';
import { patientOf } from './caller';
import { isHeld } from './slot-state';
import { activeAppointmentsOn } from './store';

/** The participants of an appointment on a schedule: the patient, and the schedule's actors. */
function participants(schedule: Schedule, patientId: string): AppointmentParticipant[] {
  return [
    { actor: { reference: `Patient/${patientId}` }, required: 'required', status: 'accepted' },
    ...(schedule.actor ?? []).map((actor): AppointmentParticipant => {
      const person = /^(Practitioner|PractitionerRole)\//.test(actor.reference ?? '');
      // A person confirms the booking ($confirm); a place or service simply has the time.
      return { actor, required: 'required', status: person ? 'needs-action' : 'accepted' };
    }),
  ];
}

/** A new Appointment for `patientId` on `slot`, in `status` (proposed for a hold, pending when booked). */
export function newAppointment(input: {
  slot: WithId<Slot>;
  schedule: WithId<Schedule>;
  patientId: string;
  status: 'proposed' | 'pending';
  reason?: string;
  now: Date;
}): Appointment {
  const { slot, schedule } = input;
  return {
    resourceType: 'Appointment',
    status: input.status,
    created: input.now.toISOString(),
    serviceType: slot.serviceType ?? schedule.serviceType,
    specialty: slot.specialty ?? schedule.specialty,
    ...(slot.appointmentType ? { appointmentType: slot.appointmentType } : {}),
    ...(input.reason ? { reasonCode: [{ text: input.reason }] } : {}),
    start: slot.start,
    end: slot.end,
    slot: [{ reference: `Slot/${slot.id}` }],
    supportingInformation: [{ reference: `Schedule/${schedule.id}` }],
    participant: participants(schedule, input.patientId),
  };
}

/** An appointment placed on `slot`: its time, the slot, and (when given) a new status. */
export function placedOn<T extends Appointment>(appointment: T, slot: WithId<Slot>, status?: T['status']): T {
  return {
    ...appointment,
    ...(status ? { status } : {}),
    start: slot.start,
    end: slot.end,
    slot: [{ reference: `Slot/${slot.id}` }],
  };
}

/**
 * Runs writes of the patient's record in the workflow's transaction but under the caller's own
 * access policy: a patient writes their own Appointment, a provider needs the patient's Consent.
 */
export async function asCaller<T>(
  ctx: SchedulingContext,
  tx: HaleRepository,
  fn: (callerTx: HaleRepository) => Promise<T>
): Promise<T> {
  const callerTx = new HaleRepository({ ...ctx.repo.ctx, tx: tx.queryable });
  const result = await fn(callerTx);
  await callerTx.finishWrites(); // its buffered creates go out now, not with the system repository's
  return result;
}

/**
 * Before a free slot is taken: proposed appointments of holds that lapsed before the expiry bot
 * ran are cancelled, as the bot would, so a slot never has two live appointments.
 */
export async function cancelLapsedHolds(tx: HaleRepository, slot: WithId<Slot>, now: Date): Promise<void> {
  if (slot.status !== 'busy-tentative' || isHeld(slot, now)) {
    return; // only a lapsed hold the bot has not freed leaves a proposed appointment behind
  }
  for (const stale of await activeAppointmentsOn(tx, slot.id)) {
    if (stale.status === 'proposed') {
      await tx.updateResource<Appointment>({
        ...stale,
        status: 'cancelled',
        cancelationReason: { text: 'The hold on the slot lapsed' },
      });
    }
  }
}

/** The live appointment on a held slot that is this patient's hold, if any. */
export async function holdOf(
  tx: HaleRepository,
  slot: WithId<Slot>,
  patientId: string
): Promise<WithId<Appointment> | undefined> {
  const held = await activeAppointmentsOn(tx, slot.id);
  return held.find((a) => a.status === 'proposed' && patientOf(a) === patientId);
}

export const reference = (r: { resourceType: string; id: string }): Reference => ({
  reference: `${r.resourceType}/${r.id}`,
});
